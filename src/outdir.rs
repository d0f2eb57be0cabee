//! Output directories written all or nothing, by one writer at a time.
//!
//! A command that writes a result set (`run`, `report`, `sweep`, `merge`)
//! first takes an [`OutDir`]: the directory is created if missing and
//! locked with an advisory lock (`flock`) for as long as the command runs,
//! so a second stickysim writing into the same directory fails at once
//! with a message naming it (it does not wait: its results would silently
//! replace the first's).
//!
//! [`OutDir::publish`] then makes a new result set visible as a whole: the
//! files are written into a fresh sibling directory whose name is
//! unpredictable and created exclusively (`.DIR.stickysim-new-XXXXXX`),
//! each file created new (`O_EXCL`, so no symbolic link is ever followed)
//! and synced to disk with the directory; the entries of the previous
//! directory that the new set does not replace are carried over (hard
//! links, or copies where links are not possible; symbolic links are
//! recreated, never followed); then the two directories trade names in one
//! step (`renameat2(RENAME_EXCHANGE)`), and the previous set is removed.
//! Whatever the moment a process is killed, `DIR` holds either the whole
//! previous set or the whole new one.
//!
//! Where the exchange is not available (not Linux, or a file system
//! without it), the fallback renames the previous directory away to an
//! exclusive `.DIR.stickysim-old-XXXXXX` and the new one in: a kill between
//! the two leaves no `DIR` for a moment, and the next writer puts the
//! previous set back. Where neither works (`DIR` is a mount point), and when
//! `DIR` holds the working directory (`--out .`: a shell there would be
//! left in the removed directory), the files are replaced in `DIR` one by
//! one: each file is replaced whole, but a kill can leave a mixed set.
//!
//! Leftovers of a killed writer — a half-written new set, a previous set
//! not yet removed — are recognised by their prefix and by holding no lock
//! (every writer locks its sibling directory as soon as it creates it),
//! and removed (or put back) by the next writer, with a notice on stderr.
//!
//! Single files written next to a result set (`--junit`, `compare`'s
//! Markdown) are replaced with [`replace_file`]: a fresh file with an
//! unpredictable name, synced, then renamed over the target (which
//! replaces a symbolic link there rather than writing through it).
//!
//! Every write and rename is a *failpoint* (see [`failpoint`]) so that the
//! tests can kill the process at each one.

use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Name fragment of every sibling directory stickysim creates next to `DIR`.
const SIBLING_TAG: &str = "stickysim-";

/// The test-only failpoint: `STICKYSIM_FAILPOINT=<name>:<n>[:stop]` makes
/// the process abort (as `kill -9` would: no cleanup runs) at the `n`-th
/// time (1-based) it reaches the point `name` — or, with `:stop`, stop
/// itself with `SIGSTOP` there (a test resumes it with `SIGCONT`). The name
/// `any` counts every point. Unset, a point costs one load of a cached
/// value.
///
/// Points: `write` (a file of a new set, before it is written), `carry`
/// (an entry carried over from the previous set), `sync` (before the new
/// set's directory is synced), `swap` (before the exchange), `swapped`
/// (after it, before the previous set is removed), `aside` (fallback:
/// between renaming the previous set away and the new one in), `replace`
/// (a single file, before its rename), `log-create` (a sweep's results log,
/// before it is created), `append` (a sweep's run record, before it is
/// appended) and `torn` (the same, but half the line is written first).
pub fn failpoint(name: &str) {
    if let Some(stop) = failpoint_fires(name) {
        if stop {
            // SAFETY: raise has no memory-safety preconditions.
            unsafe {
                libc::raise(libc::SIGSTOP);
            }
        } else {
            std::process::abort();
        }
    }
}

/// Counts a pass through the point `name`; `Some(stop)` when the failpoint
/// fires now (see [`failpoint`]). For a caller that does part of its work
/// before aborting (a torn write).
pub(crate) fn failpoint_fires(name: &str) -> Option<bool> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::OnceLock;
    static SPEC: OnceLock<Option<(String, usize, bool)>> = OnceLock::new();
    static HITS: AtomicUsize = AtomicUsize::new(0);
    let spec = SPEC.get_or_init(|| {
        let v = std::env::var("STICKYSIM_FAILPOINT").ok()?;
        let mut parts = v.split(':');
        let point = parts.next()?.to_string();
        let n = parts.next()?.parse().ok()?;
        let stop = parts.next() == Some("stop");
        Some((point, n, stop))
    });
    let (point, n, stop) = spec.as_ref()?;
    if point != name && point != "any" {
        return None;
    }
    (HITS.fetch_add(1, Ordering::SeqCst) + 1 == *n).then_some(*stop)
}

/// An output directory locked for writing by this process.
#[derive(Debug)]
pub struct OutDir {
    /// The directory, absolute (symbolic links in the path the user gave
    /// resolved once, here).
    path: PathBuf,
    /// The open directory holding the lock.
    lock: File,
}

/// The error when another process holds the directory.
fn busy(dir: &Path) -> io::Error {
    io::Error::new(
        io::ErrorKind::WouldBlock,
        format!(
            "{} is being written by another stickysim process (it holds the directory's \
             lock); wait for it to finish, or write elsewhere with --out DIR",
            dir.display()
        ),
    )
}

/// Opens a directory (without following a symbolic link at its last
/// component) and takes its exclusive lock without waiting: `Ok(None)` when
/// another process holds it.
fn lock_dir(path: &Path) -> io::Result<Option<File>> {
    use std::os::unix::fs::OpenOptionsExt;
    let f = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)?;
    use std::os::fd::AsRawFd;
    // SAFETY: flock on a file descriptor we own.
    let r = unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if r == 0 {
        return Ok(Some(f));
    }
    let e = io::Error::last_os_error();
    if e.kind() == io::ErrorKind::WouldBlock {
        Ok(None)
    } else {
        Err(e)
    }
}

/// Whether the open `f` is the directory now at `path`.
fn same_inode(f: &File, path: &Path) -> io::Result<bool> {
    use std::os::unix::fs::MetadataExt;
    let (a, b) = (f.metadata()?, fs::symlink_metadata(path)?);
    Ok(a.dev() == b.dev() && a.ino() == b.ino())
}

fn parent_and_name(path: &Path) -> io::Result<(PathBuf, OsString)> {
    match (path.parent(), path.file_name()) {
        (Some(p), Some(n)) => Ok((p.to_path_buf(), n.to_os_string())),
        _ => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "{}: expected a directory with a name (not the root)",
                path.display()
            ),
        )),
    }
}

/// `.NAME.stickysim-KIND-`: the prefix of DIR's sibling directories.
fn sibling_prefix(name: &OsString, kind: &str) -> String {
    format!(".{}.{SIBLING_TAG}{kind}-", name.to_string_lossy())
}

fn sync_dir(path: &Path) -> io::Result<()> {
    File::open(path)?.sync_all()
}

impl OutDir {
    /// Creates `dir` (and its parents) if missing, puts back or removes
    /// what an interrupted writer left next to it, and locks it. Fails at
    /// once, naming the directory, when another process holds it.
    pub fn lock(dir: &Path) -> io::Result<OutDir> {
        let given = dir;
        if given.as_os_str().is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "the output directory's name is empty",
            ));
        }
        match fs::symlink_metadata(given) {
            Ok(m) if !(m.is_dir() || (m.is_symlink() && given.is_dir())) => {
                return Err(io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    // The caller names the path; the flag is always `--out`.
                    "is a file, not a directory; give --out a directory".to_string(),
                ));
            }
            _ => {}
        }
        // Resolve the path once: a symbolic link the user named as the
        // output directory is theirs to choose; its target is what is
        // written and swapped.
        let base = if given.is_absolute() {
            given.to_path_buf()
        } else {
            std::env::current_dir()?.join(given)
        };
        let (parent, name) = parent_and_name(&base)?;
        fs::create_dir_all(&parent)?;
        let parent = fs::canonicalize(&parent)?;
        let mut path = parent.join(&name);
        if fs::symlink_metadata(&path).is_ok_and(|m| m.is_symlink()) {
            path = fs::canonicalize(&path)?;
        }
        for _ in 0..8 {
            recover(&path)?;
            match fs::create_dir(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(e),
            }
            let Some(lock) = lock_dir(&path)? else {
                return Err(busy(&path));
            };
            // The directory may have been swapped between opening and
            // locking: the lock counts only on the directory now at `path`.
            if same_inode(&lock, &path).unwrap_or(false) {
                return Ok(OutDir { path, lock });
            }
        }
        Err(busy(&path))
    }

    /// The directory (absolute).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Replaces the directory's result set by `files` (name, contents), all
    /// or nothing (see the module's documentation). Entries of the previous
    /// directory not in `files` are kept, except those `stale` says belong
    /// to stickysim's previous set (they would contradict the new one).
    /// Names must be plain file names.
    pub fn publish<C: AsRef<[u8]>>(
        &mut self,
        files: &[(&str, C)],
        stale: &dyn Fn(&str) -> bool,
    ) -> io::Result<()> {
        for (name, _) in files {
            check_name(name)?;
        }
        if std::env::current_dir().is_ok_and(|cwd| cwd.starts_with(&self.path)) {
            return self.publish_in_place(files, stale);
        }
        let (parent, dir_name) = parent_and_name(&self.path)?;
        let new = tempfile::Builder::new()
            .prefix(&sibling_prefix(&dir_name, "new"))
            .tempdir_in(&parent)?;
        let new_lock = lock_dir(new.path())?.ok_or_else(|| busy(new.path()))?;
        let mode = fs::metadata(&self.path)?.permissions();
        for (name, contents) in files {
            failpoint("write");
            write_new(&new.path().join(name), contents.as_ref())?;
        }
        for entry in fs::read_dir(&self.path)? {
            let entry = entry?;
            let name = entry.file_name();
            let keep = match name.to_str() {
                Some(n) => !files.iter().any(|(f, _)| *f == n) && !stale(n) && !old_litter(n),
                None => true,
            };
            if keep {
                failpoint("carry");
                carry(&entry.path(), &new.path().join(&name))?;
            }
        }
        fs::set_permissions(new.path(), mode)?;
        failpoint("sync");
        sync_dir(new.path())?;
        failpoint("swap");
        match exchange(new.path(), &self.path) {
            Ok(()) => {
                sync_dir(&parent)?;
                failpoint("swapped");
                // The previous set is now at the sibling's name: removed
                // while still locked, then the lock is the new set's.
                let old_lock = std::mem::replace(&mut self.lock, new_lock);
                new.close()?;
                drop(old_lock);
                Ok(())
            }
            Err(e) if exchange_unsupported(&e) => {
                self.publish_fallback(new, new_lock, &parent, files, stale)
            }
            Err(e) => Err(e),
        }
    }

    /// Replaces the set's files in `DIR` one by one (each whole, the set
    /// not), then removes the previous set's files the new one lacks: for a
    /// directory that cannot be renamed (a mount point) or that holds the
    /// working directory (swapping it would leave a shell there in the
    /// removed directory, and carry all its contents).
    fn publish_in_place<C: AsRef<[u8]>>(
        &mut self,
        files: &[(&str, C)],
        stale: &dyn Fn(&str) -> bool,
    ) -> io::Result<()> {
        for (name, contents) in files {
            failpoint("write");
            replace_file(&self.path.join(name), contents.as_ref())?;
        }
        for entry in fs::read_dir(&self.path)? {
            let entry = entry?;
            if let Some(n) = entry.file_name().to_str() {
                if !files.iter().any(|(f, _)| *f == n)
                    && (stale(n) || old_litter(n))
                    && !entry.file_type()?.is_dir()
                {
                    fs::remove_file(entry.path())?;
                }
            }
        }
        sync_dir(&self.path)
    }

    /// The fallback of [`OutDir::publish`] without an atomic exchange.
    fn publish_fallback<C: AsRef<[u8]>>(
        &mut self,
        new: tempfile::TempDir,
        new_lock: File,
        parent: &Path,
        files: &[(&str, C)],
        stale: &dyn Fn(&str) -> bool,
    ) -> io::Result<()> {
        let (_, dir_name) = parent_and_name(&self.path)?;
        // An empty directory with an unpredictable name, which the previous
        // set replaces (renaming a directory over an empty one is allowed).
        let old = tempfile::Builder::new()
            .prefix(&sibling_prefix(&dir_name, "old"))
            .tempdir_in(parent)?;
        match fs::rename(&self.path, old.path()) {
            Ok(()) => {
                failpoint("aside");
                if let Err(e) = fs::rename(new.path(), &self.path) {
                    let _ = fs::rename(old.path(), &self.path);
                    return Err(e);
                }
                sync_dir(parent)?;
                let old_lock = std::mem::replace(&mut self.lock, new_lock);
                old.close()?;
                drop(old_lock);
                // `new` is now `self.path`: keep it.
                let _ = new.keep();
                Ok(())
            }
            Err(e) if e.raw_os_error() == Some(libc::EBUSY) => {
                // A mount point: replace the set's files one by one.
                drop(old);
                drop(new);
                self.publish_in_place(files, stale)
            }
            Err(e) => Err(e),
        }
    }
}

/// Files an interrupted stickysim left inside a directory: an earlier
/// version's `.NAME.tmp-PID` and `.NAME.old-PID`, and [`replace_file`]'s
/// `.NAME.stickysim-XXXXXX`.
fn old_litter(name: &str) -> bool {
    let Some(rest) = name.strip_prefix('.') else {
        return false;
    };
    if rest
        .rsplit_once(&format!(".{SIBLING_TAG}"))
        .is_some_and(|(_, tail)| tail.len() >= 6 && tail.bytes().all(|b| b.is_ascii_alphanumeric()))
    {
        return true;
    }
    [".tmp-", ".old-"].iter().any(|tag| {
        rest.rsplit_once(tag)
            .is_some_and(|(_, pid)| !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()))
    })
}

fn check_name(name: &str) -> io::Result<()> {
    if name.is_empty() || name == "." || name == ".." || name.contains(['/', '\0']) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("`{name}` is not a plain file name"),
        ));
    }
    Ok(())
}

/// Creates `path` (which must not exist: no link is followed), writes
/// `contents` and syncs it.
fn write_new(path: &Path, contents: &[u8]) -> io::Result<()> {
    let mut f = OpenOptions::new().write(true).create_new(true).open(path)?;
    f.write_all(contents)?;
    f.sync_all()
}

/// Carries the entry `from` of the previous set into the new one at `to`:
/// a file by a hard link (a copy where links fail), a symbolic link as a
/// new link with the same target, a directory entry by entry.
fn carry(from: &Path, to: &Path) -> io::Result<()> {
    let meta = fs::symlink_metadata(from)?;
    let kind = meta.file_type();
    if kind.is_symlink() {
        std::os::unix::fs::symlink(fs::read_link(from)?, to)
    } else if kind.is_dir() {
        fs::create_dir(to)?;
        for entry in fs::read_dir(from)? {
            let entry = entry?;
            carry(&entry.path(), &to.join(entry.file_name()))?;
        }
        fs::set_permissions(to, meta.permissions())
    } else if kind.is_file() {
        if fs::hard_link(from, to).is_ok() {
            return Ok(());
        }
        let mut src = File::open(from)?;
        let mut dst = OpenOptions::new().write(true).create_new(true).open(to)?;
        io::copy(&mut src, &mut dst)?;
        dst.sync_all()?;
        fs::set_permissions(to, meta.permissions())
    } else {
        Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "{} is neither a file, a directory nor a symbolic link; stickysim cannot keep \
                 it when it replaces the directory's results: move it elsewhere",
                from.display()
            ),
        ))
    }
}

/// Atomically trades the names of `a` and `b`.
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let c = |p: &Path| {
        CString::new(p.as_os_str().as_bytes())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a path holds a NUL byte"))
    };
    let (a, b) = (c(a)?, c(b)?);
    // SAFETY: both are valid NUL-terminated paths for the call's duration.
    let r = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(not(target_os = "linux"))]
fn exchange(_a: &Path, _b: &Path) -> io::Result<()> {
    Err(io::Error::from_raw_os_error(libc::ENOSYS))
}

/// Whether the exchange failed for want of support (so the fallback runs).
fn exchange_unsupported(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EINVAL) | Some(libc::ENOSYS) | Some(libc::EBUSY) | Some(libc::EXDEV)
    ) || e.kind() == io::ErrorKind::Unsupported
}

/// Puts back or removes what a killed writer left next to `dir`: a
/// sibling with stickysim's prefix that no live process locks. A previous
/// set renamed away (`-old-`) while `dir` is missing is put back; any
/// other leftover is removed.
fn recover(dir: &Path) -> io::Result<()> {
    let (parent, name) = parent_and_name(dir)?;
    let (new_prefix, old_prefix) = (sibling_prefix(&name, "new"), sibling_prefix(&name, "old"));
    let Ok(entries) = fs::read_dir(&parent) else {
        return Ok(());
    };
    let mut leftovers: Vec<(PathBuf, bool)> = Vec::new();
    for entry in entries.flatten() {
        let n = entry.file_name();
        let Some(n) = n.to_str() else { continue };
        let old = n.starts_with(&old_prefix);
        if (old || n.starts_with(&new_prefix)) && entry.file_type().is_ok_and(|t| t.is_dir()) {
            leftovers.push((entry.path(), old));
        }
    }
    leftovers.sort();
    for (path, old) in leftovers {
        // Held by a live writer: not a leftover.
        let Ok(Some(_held)) = lock_dir(&path) else {
            continue;
        };
        let is_empty = fs::read_dir(&path).is_ok_and(|mut d| d.next().is_none());
        if old && !is_empty && fs::symlink_metadata(dir).is_err() {
            fs::rename(&path, dir)?;
            eprintln!(
                "stickysim: put back {}'s previous results, which an interrupted write had \
                 moved to {}",
                dir.display(),
                path.display()
            );
            continue;
        }
        match fs::remove_dir_all(&path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        if !is_empty {
            eprintln!(
                "stickysim: removed {}, left by an interrupted write into {}",
                path.display(),
                dir.display()
            );
        }
    }
    Ok(())
}

/// Replaces the file `path` with `contents` in one step: written to a
/// fresh file with an unpredictable name in the same directory, synced,
/// then renamed over `path` (a symbolic link at `path` is replaced, not
/// followed). The directory is created if missing.
pub fn replace_file(path: &Path, contents: &[u8]) -> io::Result<()> {
    let mut r = Replacement::new(path)?;
    r.file().write_all(contents)?;
    r.commit()
}

/// A file being written in full before it replaces `path`
/// ([`replace_file`] for contents written a piece at a time: a long log).
/// Dropped without [`Replacement::commit`], it is removed and `path` is
/// untouched.
#[derive(Debug)]
pub struct Replacement {
    tmp: tempfile::NamedTempFile,
    path: PathBuf,
    dir: PathBuf,
}

impl Replacement {
    /// A fresh file next to `path` (the directory created if missing).
    pub fn new(path: &Path) -> io::Result<Replacement> {
        let name = path.file_name().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{}: expected a file name", path.display()),
            )
        })?;
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        fs::create_dir_all(dir)?;
        if fs::symlink_metadata(path).is_ok_and(|m| m.is_dir()) {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!("{} is a directory; expected a file name", path.display()),
            ));
        }
        let tmp = tempfile::Builder::new()
            .prefix(&format!(".{}.{SIBLING_TAG}", name.to_string_lossy()))
            .tempfile_in(dir)?;
        Ok(Replacement {
            tmp,
            path: path.to_path_buf(),
            dir: dir.to_path_buf(),
        })
    }

    /// The fresh file, to write to.
    pub fn file(&mut self) -> &mut File {
        self.tmp.as_file_mut()
    }

    /// Syncs the file and renames it over `path`.
    pub fn commit(self) -> io::Result<()> {
        self.tmp.as_file().sync_all()?;
        // The temporary file is private (0600); the result gets the usual mode.
        let umask_mode = default_file_mode();
        fs::set_permissions(self.tmp.path(), umask_mode)?;
        failpoint("replace");
        self.tmp.persist(&self.path).map_err(|e| e.error)?;
        sync_dir(&self.dir)
    }
}

/// The mode a plainly created file gets (0666 less the umask).
fn default_file_mode() -> fs::Permissions {
    use std::os::unix::fs::PermissionsExt;
    // SAFETY: umask has no memory-safety preconditions; it is set back at once.
    let mask = unsafe {
        let m = libc::umask(0o022);
        libc::umask(m);
        m
    };
    fs::Permissions::from_mode(0o666 & !(mask as u32))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn a_set_replaces_the_previous_one_and_keeps_foreign_entries() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("out");
        let mut out = OutDir::lock(&dir).unwrap();
        out.publish(&[("a.csv", "old a"), ("b.csv", "old b")], &|_| false)
            .unwrap();
        fs::write(dir.join("notes.txt"), "mine").unwrap();
        fs::create_dir(dir.join("sub")).unwrap();
        fs::write(dir.join("sub/x"), "x").unwrap();
        fs::write(dir.join(".a.csv.tmp-123"), "litter").unwrap();
        out.publish(&[("a.csv", "new a")], &|n| n == "b.csv")
            .unwrap();
        assert_eq!(names(&dir), ["a.csv", "notes.txt", "sub"]);
        assert_eq!(fs::read_to_string(dir.join("a.csv")).unwrap(), "new a");
        assert_eq!(fs::read_to_string(dir.join("notes.txt")).unwrap(), "mine");
        assert_eq!(fs::read_to_string(dir.join("sub/x")).unwrap(), "x");
        assert_eq!(names(root.path()), ["out"], "nothing left next to it");
    }

    #[test]
    fn a_second_writer_fails_at_once_naming_the_directory() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("out");
        let mut first = OutDir::lock(&dir).unwrap();
        let e = OutDir::lock(&dir).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::WouldBlock);
        assert!(e.to_string().contains("another stickysim process"), "{e}");
        // Still held after the swap (the lock moves to the new directory).
        first.publish(&[("a", "1")], &|_| false).unwrap();
        assert!(OutDir::lock(&dir).is_err());
        drop(first);
        OutDir::lock(&dir).unwrap();
    }

    #[test]
    fn leftovers_are_removed_and_a_set_moved_aside_is_put_back() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("out");
        let new = root.path().join(".out.stickysim-new-abc");
        fs::create_dir(&new).unwrap();
        fs::write(new.join("half"), "x").unwrap();
        let old = root.path().join(".out.stickysim-old-abc");
        fs::create_dir(&old).unwrap();
        fs::write(old.join("a.csv"), "previous").unwrap();
        let _out = OutDir::lock(&dir).unwrap();
        assert_eq!(names(root.path()), ["out"]);
        assert_eq!(fs::read_to_string(dir.join("a.csv")).unwrap(), "previous");
    }

    #[test]
    fn replacing_a_file_replaces_a_link_there_instead_of_following_it() {
        let root = tempfile::tempdir().unwrap();
        let target = root.path().join("target");
        fs::write(&target, "untouched").unwrap();
        let link = root.path().join("slo.xml");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        replace_file(&link, b"<xml/>").unwrap();
        assert_eq!(fs::read_to_string(&target).unwrap(), "untouched");
        assert!(!fs::symlink_metadata(&link).unwrap().is_symlink());
        assert_eq!(fs::read_to_string(&link).unwrap(), "<xml/>");
        assert_eq!(names(root.path()), ["slo.xml", "target"]);
    }

    #[test]
    fn old_versions_litter_is_recognised() {
        assert!(old_litter(".backends.csv.old-1234"));
        assert!(old_litter(".summary.csv.tmp-9"));
        assert!(!old_litter("summary.csv"));
        assert!(!old_litter(".x.tmp-"));
        assert!(!old_litter(".x.tmp-12a"));
        assert!(old_litter(".slo.xml.stickysim-AbC123"));
        assert!(!old_litter(".slo.xml.stickysim-"));
    }
}
