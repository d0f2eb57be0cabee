//! The results log, `runs.jsonl`: JSON Lines, the [`SweepMeta`] on the
//! first line, then one [`RunRecord`] per finished run, appended (one
//! `write` of a whole line) as soon as the run ends. A process killed
//! mid-write leaves at most a torn last line without its newline; reading
//! ignores it and [`truncate_to`] cuts it off before appending resumes.
//!
//! Appended lines reach the operating system at once (a killed process
//! loses none) and the disk in batches ([`SYNC_EVERY`] lines or
//! [`SYNC_INTERVAL`], whichever comes first, and at the end): a machine
//! that crashes loses at most the last unsynced batch. The log is created
//! new and opened without following a symbolic link.

use super::{RunRecord, SweepError, SweepMeta, LOG_FORMAT, MAX_POINTS, MAX_RUNS};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Appended lines are synced to disk at least every this many lines…
pub const SYNC_EVERY: usize = 64;
/// … and at least this often.
pub const SYNC_INTERVAL: Duration = Duration::from_secs(1);

/// The log's file name inside a sweep's output directory.
pub const LOG_FILE: &str = "runs.jsonl";

/// A log as read back.
#[derive(Debug)]
pub struct ReadLog {
    /// The log's first line: the sweep it belongs to.
    pub meta: SweepMeta,
    /// Complete records, in file order.
    pub records: Vec<RunRecord>,
    /// Bytes up to the end of the last complete line.
    pub valid_len: u64,
    /// A torn last line was found (and is not in `records`).
    pub torn: bool,
}

fn bad(path: &Path, message: impl Into<String>) -> SweepError {
    SweepError::Log {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

/// A name read back from a log: the scenario's rule (names become file
/// names under `--out`, so never `..` or a `/`).
fn check_name(field: &str, name: &str) -> Result<(), String> {
    if crate::scenario::is_valid_name(name) {
        Ok(())
    } else {
        Err(format!(
            "field `{field}`: expected {}, found {}",
            crate::scenario::NAME_RULE,
            crate::text::quoted(name)
        ))
    }
}

/// The sweep's description read back, checked like a scenario: names,
/// sizes (the grid is expanded from it) and references.
fn check_meta(meta: &SweepMeta) -> Result<(), String> {
    check_name("scenario", &meta.scenario)?;
    if meta.strategies.is_empty() {
        return Err("field `strategies`: expected at least one strategy, found none".into());
    }
    for (i, s) in meta.strategies.iter().enumerate() {
        check_name(&format!("strategies[{i}]"), s)?;
        if meta.strategies[..i].contains(s) {
            return Err(format!(
                "field `strategies[{i}]`: expected unique names, found `{s}` again"
            ));
        }
    }
    for (i, s) in meta.shared.iter().enumerate() {
        if !meta.strategies.contains(s) {
            return Err(format!(
                "field `shared[{i}]`: expected one of `strategies`, found {}",
                crate::text::quoted(s)
            ));
        }
    }
    if !(1..=super::spec::MAX_REPLICATIONS).contains(&meta.replications) {
        return Err(format!(
            "field `replications`: expected 1 to {}, found {}",
            super::spec::MAX_REPLICATIONS,
            meta.replications
        ));
    }
    let points = meta.points();
    if points > MAX_POINTS {
        return Err(format!(
            "field `params`: expected at most {MAX_POINTS} grid points, found {}",
            if points == usize::MAX {
                "more than 2^64".to_string()
            } else {
                points.to_string()
            }
        ));
    }
    let runs = points
        .checked_mul(meta.strategies.len())
        .and_then(|n| n.checked_mul(meta.replications as usize))
        .filter(|&n| n <= MAX_RUNS);
    if runs.is_none() {
        return Err(format!(
            "field `params`: expected at most {MAX_RUNS} runs (grid points × strategies × \
             replications), found {points} × {} × {}",
            meta.strategies.len(),
            meta.replications
        ));
    }
    if meta.runs_total > MAX_RUNS {
        return Err(format!(
            "field `runs_total`: expected at most {MAX_RUNS}, found {}",
            meta.runs_total
        ));
    }
    Ok(())
}

/// One run record read back: its strategy, point and replication exist.
fn check_record(meta: &SweepMeta, rec: &RunRecord) -> Result<(), String> {
    if !meta.strategies.contains(&rec.strategy) {
        return Err(format!(
            "field `strategy`: expected one of the sweep's strategies ({}), found {}",
            meta.strategies.join(", "),
            crate::text::quoted(&rec.strategy)
        ));
    }
    if crate::routing::StrategyKind::from_name(&rec.summary.kind).is_none() {
        return Err(format!(
            "field `summary.kind`: expected a strategy kind ({}), found {}",
            crate::routing::StrategyKind::names().join(", "),
            crate::text::quoted(&rec.summary.kind)
        ));
    }
    if rec.point >= meta.points() {
        return Err(format!(
            "field `point`: expected below {}, found {}",
            meta.points(),
            rec.point
        ));
    }
    if rec.replication >= meta.replications {
        return Err(format!(
            "field `replication`: expected below {}, found {}",
            meta.replications, rec.replication
        ));
    }
    Ok(())
}

/// Reads a log, ignoring a torn (unterminated) last line.
pub fn read(path: &Path) -> Result<ReadLog, SweepError> {
    let bytes = std::fs::read(path).map_err(|e| SweepError::io(path, e))?;
    let mut lines = Vec::new();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'\n' {
            lines.push(&bytes[start..i]);
            start = i + 1;
        }
    }
    let valid_len = start as u64;
    let torn = start < bytes.len();
    let Some((head, rest)) = lines.split_first() else {
        return Err(bad(
            path,
            "has no complete first line (the sweep's description); it is not a sweep \
             results log, or was cut off as it was created: remove it and start again",
        ));
    };
    let meta: SweepMeta = serde_json::from_slice(head).map_err(|e| {
        bad(
            path,
            format!("line 1: expected the sweep's description ({LOG_FORMAT}), found something else: {e}"),
        )
    })?;
    if meta.format != LOG_FORMAT {
        return Err(bad(
            path,
            format!(
                "line 1: expected format `{LOG_FORMAT}`, found `{}` (written by another stickysim version?)",
                meta.format
            ),
        ));
    }
    check_meta(&meta).map_err(|m| bad(path, format!("line 1: {m}")))?;
    let mut records = Vec::with_capacity(rest.len());
    for (n, line) in rest.iter().enumerate() {
        let rec: RunRecord = serde_json::from_slice(line).map_err(|e| {
            bad(
                path,
                format!(
                    "line {}: expected a run record, found something else: {}",
                    n + 2,
                    crate::text::cut(&crate::text::terminal(&e.to_string()))
                ),
            )
        })?;
        check_record(&meta, &rec).map_err(|m| bad(path, format!("line {}: {m}", n + 2)))?;
        records.push(rec);
    }
    Ok(ReadLog {
        meta,
        records,
        valid_len,
        torn,
    })
}

/// Cuts the file to `len` bytes (dropping a torn last line).
pub fn truncate_to(path: &Path, len: u64) -> Result<(), SweepError> {
    let f = OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
        .map_err(|e| SweepError::io(path, e))?;
    if f.metadata().map_err(|e| SweepError::io(path, e))?.len() != len {
        f.set_len(len)
            .and_then(|_| f.sync_all())
            .map_err(|e| SweepError::io(path, e))?;
    }
    Ok(())
}

fn line<T: serde::Serialize>(v: &T) -> String {
    let mut s = serde_json::to_string(v).expect("sweep records serialise");
    s.push('\n');
    s
}

/// Starts a new log holding only the sweep's description (the file must
/// not exist: nothing is written through a link), synced with its
/// directory.
pub fn create(path: &Path, meta: &SweepMeta) -> Result<(), SweepError> {
    crate::outdir::failpoint("log-create");
    let io = |e| SweepError::io(path, e);
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(io)?;
    f.write_all(line(meta).as_bytes())
        .and_then(|_| f.sync_all())
        .map_err(io)?;
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty());
    File::open(dir.unwrap_or(Path::new(".")))
        .and_then(|d| d.sync_all())
        .map_err(io)
}

/// Appends records to a log, one whole line per write, synced in batches.
pub struct Appender {
    path: PathBuf,
    file: File,
    unsynced: usize,
    last_sync: Instant,
}

impl Appender {
    /// Opens the log at `path` for appending.
    pub fn open(path: &Path) -> Result<Self, SweepError> {
        let file = OpenOptions::new()
            .append(true)
            .custom_flags(libc::O_NOFOLLOW)
            .open(path)
            .map_err(|e| SweepError::io(path, e))?;
        Ok(Appender {
            path: path.to_path_buf(),
            file,
            unsynced: 0,
            last_sync: Instant::now(),
        })
    }

    /// Syncs what is not yet on disk and closes the log.
    pub fn finish(mut self) -> Result<(), SweepError> {
        self.sync()
    }

    fn sync(&mut self) -> Result<(), SweepError> {
        if self.unsynced > 0 {
            self.file
                .sync_data()
                .map_err(|e| SweepError::io(&self.path, e))?;
            self.unsynced = 0;
        }
        self.last_sync = Instant::now();
        Ok(())
    }

    /// Writes the record's line and hands it to the operating system (to
    /// disk with its batch, see [`SYNC_EVERY`]).
    /// A record that would not read back (a metric that is not a finite
    /// number is written as `null`) is refused rather than logged.
    pub fn append(&mut self, rec: &RunRecord) -> Result<(), SweepError> {
        let text = line(rec);
        if serde_json::from_str::<RunRecord>(&text).ok().as_ref() != Some(rec) {
            return Err(bad(
                &self.path,
                format!(
                    "run `{}` has a metric that is not a finite number; it cannot be                      logged (please report this as a bug)",
                    rec.key
                ),
            ));
        }
        crate::outdir::failpoint("append");
        if crate::outdir::failpoint_fires("torn").is_some() {
            let _ = self.file.write_all(&text.as_bytes()[..text.len() / 2]);
            std::process::abort();
        }
        self.file
            .write_all(text.as_bytes())
            .and_then(|_| self.file.flush())
            .map_err(|e| SweepError::io(&self.path, e))?;
        self.unsynced += 1;
        if self.unsynced >= SYNC_EVERY || self.last_sync.elapsed() >= SYNC_INTERVAL {
            self.sync()?;
        }
        Ok(())
    }
}

/// A complete log: the description, then the records in the order given.
pub fn render(meta: &SweepMeta, records: &[RunRecord]) -> Vec<u8> {
    let mut s = line(meta);
    for r in records {
        s.push_str(&line(r));
    }
    s.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::{Shard, LOG_FORMAT};

    fn meta() -> SweepMeta {
        SweepMeta {
            format: LOG_FORMAT.into(),
            scenario: "s".into(),
            scenario_hash: "h".into(),
            seed: 1,
            replications: 1,
            params: Vec::new(),
            strategies: vec!["a".into()],
            stickysim_version: "0".into(),
            fingerprint: "f".into(),
            runs_total: 1,
            shard: Shard::ALL,
            shared: Vec::new(),
            decision: None,
            rho: Vec::new(),
        }
    }

    fn record(x: f64) -> RunRecord {
        let sc = crate::scenario::from_str(
            include_str!("../../tests/data/tiny.toml"),
            "tiny.toml",
            "tiny",
            &["simulation.duration=120".into(), "faults=[]".into()],
        )
        .unwrap();
        let mut summary = crate::engine::run_strategy(&sc, 0).summary;
        summary.latency_mean_ms = x;
        // As `run_one` logs it: without the latency curve.
        summary.latency_curve_ms = Vec::new();
        RunRecord {
            key: "-/r0/a".into(),
            point: 0,
            params: Vec::new(),
            strategy: "a".into(),
            replication: 0,
            seed: 1,
            summary,
            shared: false,
        }
    }

    #[test]
    fn records_read_back_exactly_and_a_torn_line_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(LOG_FILE);
        create(&path, &meta()).unwrap();
        let mut w = Appender::open(&path).unwrap();
        // A float that needs all 17 digits to read back.
        let rec = record(0.1 + 0.2);
        w.append(&rec).unwrap();
        let good = std::fs::metadata(&path).unwrap().len();
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(b"{\"key\":\"-/r1")
            .unwrap();
        let read = read(&path).unwrap();
        assert_eq!((read.meta, read.records), (meta(), vec![rec]));
        assert!(read.torn);
        assert_eq!(read.valid_len, good);
        truncate_to(&path, read.valid_len).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().len(), good);
    }

    #[test]
    fn a_record_that_would_not_read_back_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(LOG_FILE);
        create(&path, &meta()).unwrap();
        let e = Appender::open(&path)
            .unwrap()
            .append(&record(f64::NAN))
            .unwrap_err()
            .to_string();
        assert!(e.contains("not a finite number"), "{e}");
        assert_eq!(read(&path).unwrap().records.len(), 0);
    }
}
