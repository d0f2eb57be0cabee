//! Crash-safe, concurrency-safe outputs: a process killed at any write or
//! rename leaves the complete previous or the complete new result set;
//! two writers into one directory never mix; no symbolic link is ever
//! followed for a file stickysim writes. Kills come from the test-only
//! failpoint `STICKYSIM_FAILPOINT=<point>:<n>` (abort at the n-th pass).

use crate::common::{bin, data, files};
use std::fs;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// Every entry of `dir` by name, hidden ones included.
fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    v.sort();
    v
}

fn stickysim() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_stickysim"));
    for v in [
        "STICKYSIM_FAILPOINT",
        "SLURM_ARRAY_TASK_ID",
        "SLURM_ARRAY_TASK_COUNT",
        "SLURM_ARRAY_TASK_MIN",
        "SLURM_ARRAY_TASK_STEP",
        "JOB_COMPLETION_INDEX",
        "STICKYSIM_SHARD_COUNT",
    ] {
        c.env_remove(v);
    }
    c
}

/// The two result sets of the tests (one scenario hash, so either may
/// replace the other): `stickysim run tests/data/tiny.toml` with its first
/// strategy only (`ONE`) or all three (`ALL`).
const ONE: u64 = 1;
const ALL: u64 = 3;

fn strategy_args(which: u64) -> Vec<&'static str> {
    if which == ONE {
        vec!["--strategy", "rr"]
    } else {
        Vec::new()
    }
}

/// `stickysim run tests/data/tiny.toml -q --out OUT` with the strategies
/// of `which` ([`ONE`] or [`ALL`]), killed at `failpoint` when given.
fn run_tiny(out: &Path, which: u64, failpoint: Option<&str>) -> Output {
    let mut c = stickysim();
    c.arg("run")
        .arg(data("tiny.toml"))
        .args(strategy_args(which))
        .args(["-q", "--out"])
        .arg(out);
    if let Some(f) = failpoint {
        c.env("STICKYSIM_FAILPOINT", f);
    }
    c.output().unwrap()
}

fn killed(o: &Output) -> bool {
    o.status.signal() == Some(libc::SIGABRT)
}

fn text(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `stickysim report DIR` accepts the directory.
fn report_accepts(dir: &Path) {
    let o = stickysim()
        .arg("report")
        .arg(dir)
        .arg("-q")
        .output()
        .unwrap();
    assert!(o.status.success(), "report {dir:?}: {}", text(&o));
}

#[test]
fn a_run_killed_at_any_write_or_rename_leaves_the_old_or_the_new_set_whole() {
    // Guards F01: a run into an existing results directory killed during
    // its renames left backends.csv missing and the other files mixed.
    let root = tempfile::tempdir().unwrap();
    let (old, new) = (root.path().join("old"), root.path().join("new"));
    assert!(run_tiny(&old, ONE, None).status.success());
    assert!(run_tiny(&new, ALL, None).status.success());
    let mut old_set = files(&old);
    let mut new_set = files(&new);
    assert_ne!(old_set, new_set);
    // A file of the user's, kept through every replacement.
    for set in [&mut old_set, &mut new_set] {
        set.insert("notes.txt".into(), b"mine".to_vec());
    }
    let place = root.path().join("place");
    fs::create_dir(&place).unwrap();
    let victim = place.join("victim");
    let mut points = 0;
    for n in 1.. {
        assert!(n < 100, "the failpoint never stopped firing");
        assert!(run_tiny(&victim, ONE, None).status.success());
        fs::write(victim.join("notes.txt"), "mine").unwrap();
        let o = run_tiny(&victim, ALL, Some(&format!("any:{n}")));
        if o.status.success() {
            break;
        }
        assert!(killed(&o), "point {n}: {:?} {}", o.status, text(&o));
        points = n;
        let now = files(&victim);
        assert!(
            now == old_set || now == new_set,
            "killed at point {n}: the directory holds a mix: {:?}",
            now.keys().collect::<Vec<_>>()
        );
        // Nothing else visible next to it (an interrupted swap's leftovers
        // are hidden), and the next command cleans them up.
        let visible: Vec<String> = entries(&place)
            .into_iter()
            .filter(|e| !e.starts_with('.'))
            .collect();
        assert_eq!(visible, ["victim"], "point {n}");
        report_accepts(&victim);
        assert_eq!(entries(&place), ["victim"], "point {n}: leftovers cleaned");
    }
    assert!(points >= 12, "only {points} write/rename points were hit");
    assert_eq!(files(&victim), new_set);
}

#[test]
fn a_second_run_into_a_directory_being_written_fails_at_once_and_the_first_is_whole() {
    // Guards F02: two runs into one --out both exited 0 and could leave
    // summary.csv of one and the rest of the other.
    let root = tempfile::tempdir().unwrap();
    let reference = root.path().join("ref");
    assert!(run_tiny(&reference, ONE, None).status.success());
    let dir = root.path().join("shared");
    // The first stops itself just before swapping its set in, holding the
    // directory's lock.
    let first = stickysim()
        .arg("run")
        .arg(data("tiny.toml"))
        .args(strategy_args(ONE))
        .args(["-q", "--out"])
        .arg(&dir)
        .env("STICKYSIM_FAILPOINT", "swap:1:stop")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = first.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: waits for our own child to stop (WUNTRACED), without reaping it.
    let r = unsafe { libc::waitpid(pid, &mut status, libc::WUNTRACED) };
    assert_eq!(r, pid);
    assert!(
        libc::WIFSTOPPED(status),
        "the first run stopped at the failpoint"
    );

    let second = run_tiny(&dir, ALL, None);
    assert_eq!(second.status.code(), Some(2), "{}", text(&second));
    let e = text(&second);
    assert!(
        e.contains("being written by another stickysim process") && e.contains("shared"),
        "{e}"
    );

    // SAFETY: resumes our own stopped child.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGCONT) }, 0);
    let out = first.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(files(&dir), files(&reference));
    report_accepts(&dir);
}

#[test]
fn concurrent_runs_into_one_directory_never_mix() {
    // Guards F02, without choreography: pairs started together.
    let root = tempfile::tempdir().unwrap();
    let (one, two) = (root.path().join("one"), root.path().join("two"));
    assert!(run_tiny(&one, ONE, None).status.success());
    assert!(run_tiny(&two, ALL, None).status.success());
    let (one, two) = (files(&one), files(&two));
    let dir = root.path().join("shared");
    let spawn = |which: u64| {
        stickysim()
            .arg("run")
            .arg(data("tiny.toml"))
            .args(strategy_args(which))
            .args(["-q", "--out"])
            .arg(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    for round in 0..6 {
        let (a, b) = (spawn(ONE), spawn(ALL));
        let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
        for o in [&a, &b] {
            assert!(
                o.status.success()
                    || String::from_utf8_lossy(&o.stderr).contains("another stickysim process"),
                "round {round}: {:?} {}",
                o.status,
                String::from_utf8_lossy(&o.stderr)
            );
        }
        assert!(a.status.success() || b.status.success(), "round {round}");
        let now = files(&dir);
        assert!(now == one || now == two, "round {round}: a mixed set");
    }
    report_accepts(&dir);
    assert_eq!(entries(root.path()), ["one", "shared", "two"]);
}

/// A two-point sweep of tiny.toml, one thread (so the kill points come in
/// one order): 2 TTLs × 3 strategies × 2 replications.
fn sweep_tiny(out: &Path, resume: bool, failpoint: Option<&str>) -> Output {
    let mut c = stickysim();
    c.arg("sweep")
        .arg(data("tiny.toml"))
        .args([
            "--param",
            "strategies.cookie.ttl=60,600",
            "--replications",
            "2",
            "--jobs",
            "1",
            "--out",
        ])
        .arg(out);
    if resume {
        c.arg("--resume");
    }
    if let Some(f) = failpoint {
        c.env("STICKYSIM_FAILPOINT", f);
    }
    c.output().unwrap()
}

/// Complete records in a sweep's log (lines after the description).
fn logged(dir: &Path) -> usize {
    let text = fs::read(dir.join("runs.jsonl")).unwrap();
    text.iter()
        .filter(|&&b| b == b'\n')
        .count()
        .saturating_sub(1)
}

/// From a resumed sweep's stderr: (runs found in the log, runs done now).
fn reused_and_ran(o: &Output) -> (usize, usize) {
    let e = text(o);
    match e.lines().find(|l| l.contains("runs were already in")) {
        Some(l) => {
            let reused = l.split_whitespace().next().unwrap().parse().unwrap();
            let ran = l.rsplit("ran ").next().unwrap().trim().parse().unwrap();
            (reused, ran)
        }
        None => (0, usize::MAX),
    }
}

#[test]
fn a_sweep_killed_at_any_write_or_rename_keeps_its_log_and_resumes_without_redoing_work() {
    // Guards F04: a sweep killed during its final write lost runs.jsonl,
    // and --resume silently ran everything again.
    let root = tempfile::tempdir().unwrap();
    let reference = root.path().join("ref");
    let o = sweep_tiny(&reference, false, None);
    assert!(o.status.success(), "{}", text(&o));
    let whole = files(&reference);
    let total = logged(&reference);
    let place = root.path().join("place");
    fs::create_dir(&place).unwrap();
    let dir = place.join("sweep");
    let mut points = 0;
    for n in 1.. {
        assert!(n < 200, "the failpoint never stopped firing");
        let _ = fs::remove_dir_all(&dir);
        let o = sweep_tiny(&dir, false, Some(&format!("any:{n}")));
        if o.status.success() {
            break;
        }
        assert!(killed(&o), "point {n}: {:?} {}", o.status, text(&o));
        points = n;
        let now = files(&dir);
        let names: Vec<&String> = now.keys().collect();
        if now.contains_key("sweep.csv") {
            assert_eq!(now, whole, "point {n}: the complete new set, or nothing");
        } else if n > 1 {
            assert_eq!(names, ["runs.jsonl"], "point {n}: only the log");
        }
        let before = if now.contains_key("runs.jsonl") {
            logged(&dir)
        } else {
            0
        };
        let o = sweep_tiny(&dir, true, None);
        assert!(o.status.success(), "point {n}: {}", text(&o));
        if before > 0 {
            assert_eq!(
                reused_and_ran(&o),
                (before, total - before),
                "point {n}: every logged run reused, none done twice"
            );
        }
        assert_eq!(files(&dir), whole, "point {n}: resumed = uninterrupted");
        assert_eq!(entries(&place), ["sweep"], "point {n}: leftovers cleaned");
    }
    assert!(points > total, "only {points} points for {total} runs");
}

#[test]
fn a_torn_last_log_line_is_dropped_with_a_notice_and_only_its_run_is_done_again() {
    let root = tempfile::tempdir().unwrap();
    let reference = root.path().join("ref");
    assert!(sweep_tiny(&reference, false, None).status.success());
    let total = logged(&reference);
    let dir = root.path().join("sweep");
    let o = sweep_tiny(&dir, false, Some("torn:4"));
    assert!(killed(&o), "{}", text(&o));
    assert_eq!(logged(&dir), 3);
    let o = sweep_tiny(&dir, true, None);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("was cut off by an interruption"),
        "{}",
        text(&o)
    );
    assert_eq!(reused_and_ran(&o), (3, total - 3));
    assert_eq!(files(&dir), files(&reference));
}

/// A file outside the output directory that a link points at.
fn outside(root: &Path, name: &str) -> std::path::PathBuf {
    let p = root.join("outside").join(name);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(&p, "untouched").unwrap();
    p
}

#[test]
fn a_link_at_any_name_a_run_writes_is_replaced_never_followed() {
    // Guards F08: a symbolic link at a name `run` writes (or at its old,
    // predictable temporary name) made it overwrite the link's target.
    let root = tempfile::tempdir().unwrap();
    let reference = root.path().join("ref");
    assert!(run_tiny(&reference, ALL, None).status.success());
    let names: Vec<String> = files(&reference).into_keys().collect();
    let dir = root.path().join("out");
    fs::create_dir(&dir).unwrap();
    let mut targets = Vec::new();
    for name in &names {
        let t = outside(root.path(), name);
        if name == "summary.json" {
            // Read (not written) by the guard against another scenario's
            // results: the same run's, so the run goes ahead.
            fs::copy(reference.join(name), &t).unwrap();
        }
        std::os::unix::fs::symlink(&t, dir.join(name)).unwrap();
        targets.push((t.clone(), fs::read(&t).unwrap()));
    }
    let dangling = root.path().join("outside/never");
    std::os::unix::fs::symlink(&dangling, dir.join(".summary.csv.tmp-1")).unwrap();
    let junit_target = outside(root.path(), "slo.xml");
    let junit = root.path().join("slo.xml");
    std::os::unix::fs::symlink(&junit_target, &junit).unwrap();
    let o = stickysim()
        .arg("run")
        .arg(data("tiny.toml"))
        .args(["-q", "--out"])
        .arg(&dir)
        .arg("--junit")
        .arg(&junit)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    targets.push((junit_target.clone(), b"untouched".to_vec()));
    for (t, before) in &targets {
        assert_eq!(&fs::read(t).unwrap(), before, "{t:?} was written through");
    }
    assert!(!dangling.exists());
    assert_eq!(files(&dir), files(&reference));
    assert!(!fs::symlink_metadata(&junit).unwrap().is_symlink());
    assert_eq!(entries(&dir), names, "links replaced, old litter dropped");
}

#[test]
fn a_link_at_runs_jsonl_is_never_followed() {
    // Guards F08: a dangling runs.jsonl link made `sweep` create and fill
    // its target.
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("sweep");
    fs::create_dir(&dir).unwrap();
    let target = root.path().join("elsewhere.jsonl");
    std::os::unix::fs::symlink(&target, dir.join("runs.jsonl")).unwrap();
    for resume in [false, true] {
        let o = sweep_tiny(&dir, resume, None);
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
        assert!(text(&o).contains("symbolic link"), "{}", text(&o));
        assert!(!target.exists(), "the link's target was created");
    }
    // Pointing at an existing log, it is not written through either.
    fs::write(&target, "precious").unwrap();
    let o = sweep_tiny(&dir, true, None);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert_eq!(fs::read_to_string(&target).unwrap(), "precious");
}

#[test]
fn an_out_directory_named_by_a_link_is_written_where_the_link_points() {
    let root = tempfile::tempdir().unwrap();
    let real = root.path().join("real");
    fs::create_dir(&real).unwrap();
    let link = root.path().join("link");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    assert!(run_tiny(&link, ALL, None).status.success());
    assert!(fs::symlink_metadata(&link).unwrap().is_symlink());
    assert!(real.join("summary.csv").is_file());
    assert!(run_tiny(&link, ALL, None).status.success());
    assert_eq!(entries(root.path()), ["link", "real"]);
}

#[test]
fn every_writer_fails_at_once_on_a_directory_another_process_holds() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("busy");
    let _held = stickysim::outdir::OutDir::lock(&dir).unwrap();
    let o = run_tiny(&dir, ALL, None);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o).contains("another stickysim process"),
        "{}",
        text(&o)
    );
    let o = bin().arg("report").arg(&dir).output().unwrap();
    assert!(!o.status.success());
    let o = sweep_tiny(&dir, false, None);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o).contains("another stickysim process"),
        "{}",
        text(&o)
    );
}

#[test]
fn a_run_into_the_working_directory_replaces_its_files_in_place() {
    use std::os::unix::fs::MetadataExt;
    let root = tempfile::tempdir().unwrap();
    let reference = root.path().join("ref");
    assert!(run_tiny(&reference, ALL, None).status.success());
    let here = root.path().join("here");
    fs::create_dir(&here).unwrap();
    fs::write(here.join("notes.txt"), "mine").unwrap();
    let inode = fs::metadata(&here).unwrap().ino();
    for which in [ONE, ALL] {
        let o = stickysim()
            .current_dir(&here)
            .arg("run")
            .arg(data("tiny.toml"))
            .args(strategy_args(which))
            .args(["-q", "--out", "."])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", text(&o));
    }
    assert_eq!(fs::metadata(&here).unwrap().ino(), inode, "not swapped");
    let mut expected = files(&reference);
    expected.insert("notes.txt".into(), b"mine".to_vec());
    assert_eq!(files(&here), expected);
    assert_eq!(entries(&here).len(), expected.len(), "no litter");
}
