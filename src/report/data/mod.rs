//! A run's output files read back: what the charts and `report.md` are drawn
//! from. `stickysim run` renders its CSV/JSON, reads them back through here
//! and draws from what it read, exactly as `stickysim report DIR` does from
//! the files on disk, so both give the same bytes.
//!
//! Malformed input is an [`InputError`] naming the file, line, column,
//! what was expected and what was found; never a panic.
//!
//! Every CSV file of a run ends with the run's identity columns
//! (`scenario`, `seed`, `scenario_hash`); each row's are checked against
//! `summary.json`, so a file copied in from another run is refused rather
//! than drawn beside data it does not belong with. A file with none of the
//! three columns (written before `backends.csv`, `events.csv` and
//! `instances.csv` carried them, or made by hand) is read without that
//! check; one with only some of them is refused.

// Errors carry file, line, column, expected and found for the user; they
// are returned once per report, so their size does not matter.
#![allow(clippy::result_large_err)]

mod read;
mod reader;
mod spans;

use super::RunMeta;
use crate::metrics::{ControlKind, LossCause};
use crate::routing::StrategyKind;
use read::{
    read_backends, read_events, read_instances, read_meta, read_percentiles, read_replications,
    read_summary,
};
use serde::{Deserialize, Serialize};
pub use spans::ServiceSpan;
use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

/// The scenario in a few facts, recorded in `summary.json` (key
/// `scenario_facts`) so the report can describe the run from the files alone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScenarioFacts {
    /// Simulated time, seconds.
    pub duration_s: f64,
    /// Warm-up (not measured), seconds.
    pub warmup_s: f64,
    /// Mean new sessions per second (before any rate profile).
    pub session_rate: f64,
    /// Whether a rate profile varies the arrival rate over time.
    pub rate_profile: bool,
    /// Mean requests per session.
    pub requests_per_session_mean: f64,
    /// Mean think time between a session's requests, seconds.
    pub think_time_mean_s: f64,
    /// Mean service time per request, seconds.
    pub service_time_mean_s: f64,
    /// The client segments.
    pub clients: Vec<ClientFacts>,
    /// Backends at the start.
    pub backends: u32,
    /// Workers per backend.
    pub workers: u32,
    /// Requests each backend may queue (`None`: unbounded).
    pub queue_limit: Option<u32>,
    /// Seconds between health checks.
    pub health_check_interval_s: f64,
    /// Failed checks before a backend is marked down.
    pub unhealthy_threshold: u32,
    /// Good checks before a backend is marked up again.
    pub healthy_threshold: u32,
    /// `local` (state in backend memory) or `shared` (external store).
    pub session_state: String,
    /// One plain sentence per injected fault ("b3 crashes at 120 min, back after 15 min").
    pub faults: Vec<String>,
    /// The access log the arrivals were replayed from, if they were
    /// (`workload.replay`; left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replay: Option<ReplayFacts>,
}

/// A replayed workload in [`ScenarioFacts`]: the log and what reading it
/// found (replication 0, first strategy: every run reads the same lines).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplayFacts {
    /// The log, as the scenario names it.
    pub log: String,
    /// Its format.
    pub format: String,
    /// How sessions were told apart, in words.
    pub identity: String,
    /// Time compression.
    pub speed: f64,
    /// Copies of each session.
    pub scale: u32,
    /// Non-blank lines read.
    pub lines: u64,
    /// Lines replayed.
    pub replayed: u64,
    /// Bad lines skipped.
    pub skipped: u64,
    /// The first bad lines, `line N: what`.
    pub first_bad: Vec<String>,
    /// Lines put back in time order.
    pub reordered: u64,
    /// Lines further out of order than the window, skipped.
    pub late: u64,
    /// Lines left out by `exclude`.
    pub excluded: u64,
    /// Lines outside `from`/`to` or the run.
    pub outside: u64,
    /// Sessions replayed (copies counted).
    pub sessions: u64,
    /// Address changes within a session.
    pub address_changes: u64,
    /// Requests whose service time came from the log.
    pub service_from_log: u64,
}

/// One client segment of [`ScenarioFacts`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClientFacts {
    /// The segment's name in the scenario.
    pub name: String,
    /// Its share of new sessions, 0–1.
    pub share: f64,
    /// Users in the segment.
    pub users: u32,
    /// `direct`, `nat` or `cgnat`.
    pub network: String,
    /// Users behind each shared address (NAT, CGNAT).
    pub users_per_ip: u32,
    /// Address changes per second per session.
    pub ip_change_rate: f64,
    /// Fraction of sessions that return no cookies.
    pub cookie_block: f64,
    /// Users keep their cookies between sessions (`cookie_jar = "user"`;
    /// left out when they don't).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub returning: bool,
}

impl ClientFacts {
    /// Public addresses the segment's users share.
    pub fn addresses(&self) -> u32 {
        if self.network == "direct" {
            self.users
        } else {
            self.users.div_ceil(self.users_per_ip.max(1)).max(1)
        }
    }
}

/// A bad input file: where, what was expected, what was found.
#[derive(Debug, Clone, PartialEq)]
pub struct InputError {
    /// The file, as the user named it (or its name in the run directory).
    pub file: String,
    /// 1-based line, when known.
    pub line: Option<u64>,
    /// 1-based column (CSV field or JSON character), when known.
    pub column: Option<u64>,
    /// The CSV column's name, when known.
    pub column_name: Option<String>,
    /// What the reader wanted there.
    pub expected: String,
    /// What it found.
    pub found: String,
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(l) = self.line {
            write!(f, ": line {l}")?;
        }
        if let Some(c) = self.column {
            write!(f, ", column {c}")?;
        }
        if let Some(n) = &self.column_name {
            write!(f, " (`{n}`)")?;
        }
        write!(f, ": expected {}, found {}", self.expected, self.found)
    }
}

impl std::error::Error for InputError {}

fn err(file: &str, expected: impl Into<String>, found: impl Into<String>) -> InputError {
    InputError {
        file: file.to_string(),
        line: None,
        column: None,
        column_name: None,
        expected: expected.into(),
        found: found.into(),
    }
}

/// `summary.csv` as written: the header and every cell as text (so the
/// report's table can repeat it exactly), plus the numbers the report uses.
#[derive(Debug, Clone, PartialEq)]
pub struct SummaryTable {
    /// The header's column names, in file order.
    pub header: Vec<String>,
    /// Every row's cells, as written.
    pub rows: Vec<Vec<String>>,
    /// Each row's `kind`, parsed into routing's vocabulary.
    pub kinds: Vec<StrategyKind>,
    /// Each row's `sticky` column (from the kind, for files written before
    /// the column was).
    pub sticky: Vec<bool>,
    /// The loss-cause columns (`lost_failure`, …, not their half-widths):
    /// each one's position in `header` and its cause, in file order.
    pub loss_columns: Vec<(usize, LossCause)>,
}

/// Columns of `summary.csv` the report reads as numbers (with every
/// `lost_*` column, whichever exist).
pub const REQUIRED_NUMERIC: &[&str] = &[
    "requests",
    "failed",
    "rejected",
    "sessions",
    "sessions_lost",
    "sessions_lost_pct",
    "latency_p50_ms",
    "latency_p95_ms",
    "latency_p99_ms",
    "latency_p999_ms",
    "util_mean",
    "util_max",
    "imbalance_util_max_over_mean",
    "max_backend_request_share",
];

impl SummaryTable {
    fn col(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|h| h == name)
    }

    /// The strategies, in file order.
    pub fn strategies(&self) -> Vec<&str> {
        let c = self.col("strategy").unwrap_or(0);
        self.rows.iter().map(|r| r[c].as_str()).collect()
    }

    /// Row `row`'s strategy kind.
    pub fn kind(&self, row: usize) -> StrategyKind {
        self.kinds[row]
    }

    /// Whether row `row`'s strategy has affinity (its `sticky` column).
    pub fn sticky(&self, row: usize) -> bool {
        self.sticky[row]
    }

    /// Row `row`'s cell in column `name` as text ("" if there is no such column).
    pub fn text(&self, row: usize, name: &str) -> &str {
        self.col(name).map_or("", |c| self.rows[row][c].as_str())
    }

    /// Row `row`'s value in numeric column `name` (validated on reading for
    /// [`REQUIRED_NUMERIC`] and `lost_*`; 0 if absent).
    pub fn num(&self, row: usize, name: &str) -> f64 {
        self.text(row, name).parse().unwrap_or(0.0)
    }

    /// The loss-cause columns present (`lost_failure`, …), in file order, with
    /// their cause.
    pub fn loss_causes(&self) -> Vec<(&str, LossCause)> {
        self.loss_columns
            .iter()
            .map(|&(c, cause)| (self.header[c].as_str(), cause))
            .collect()
    }
}

/// One row of `backends.csv` (the columns the charts use).
#[derive(Debug, Clone, PartialEq)]
pub struct BackendRow {
    /// Index into [`RunData::strategies`].
    pub strategy: usize,
    /// The backend's number (`b3` → 3).
    pub backend: u32,
    /// The bucket's start, seconds.
    pub t_start_s: f64,
    /// The bucket's end, seconds.
    pub t_end_s: f64,
    /// Requests that arrived in the bucket.
    pub requests: f64,
    /// Busy worker time over the bucket's worker time, 0–1.
    pub utilisation: f64,
    /// Running at the bucket's end.
    pub alive: bool,
    /// Marked up by the load balancer at the bucket's end.
    pub lb_up: bool,
}

/// One row of `events.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct EventRow {
    /// Index into [`RunData::strategies`].
    pub strategy: usize,
    /// When it happened, seconds from the start.
    pub time_s: f64,
    /// What happened.
    pub event: ControlKind,
    /// `b3`, or empty for run-wide events.
    pub backend: String,
}

/// One row of `instances.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct InstanceCsvRow {
    /// Index into [`RunData::strategies`].
    pub strategy: usize,
    /// The bucket's start, seconds.
    pub t_start_s: f64,
    /// The bucket's end, seconds.
    pub t_end_s: f64,
    /// Instances taking traffic at the bucket's end.
    pub in_service: f64,
    /// Instances running or starting at the bucket's end.
    pub provisioned: f64,
}

/// Everything the report is drawn from.
#[derive(Debug, Clone, PartialEq)]
pub struct RunData {
    /// The run's identity, from `summary.json`.
    pub meta: RunMeta,
    /// `summary.csv`.
    pub summary: SummaryTable,
    /// Strategy names, in `summary.csv` order.
    pub strategies: Vec<String>,
    /// `backends.csv`, in file order.
    pub backends: Vec<BackendRow>,
    /// Number of backends (highest `bN` seen + 1).
    pub backend_count: u32,
    /// `events.csv`, when the run wrote one.
    pub events: Option<Vec<EventRow>>,
    /// `instances.csv`, when the run wrote one.
    pub instances: Option<Vec<InstanceCsvRow>>,
    /// `replications.csv` (header, rows), when the run had two or more
    /// replications.
    pub replications: Option<(Vec<String>, Vec<Vec<String>>)>,
    /// `latency_percentiles.csv`, when the run wrote one.
    pub latency_percentiles: Option<Vec<PercentileRow>>,
}

/// One row of `latency_percentiles.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct PercentileRow {
    /// Index into [`RunData::strategies`].
    pub strategy: usize,
    /// The replication (0-based).
    pub replication: u32,
    /// The percentile, 0–100.
    pub percentile: f64,
    /// The latency at that percentile, ms.
    pub latency_ms: f64,
}

/// The files a report is read from, by name: required ones first.
pub const INPUT_FILES: &[&str] = &[
    "summary.csv",
    "summary.json",
    "backends.csv",
    "events.csv",
    "instances.csv",
    "replications.csv",
    "latency_percentiles.csv",
];

impl RunData {
    /// Reads a run directory's files.
    pub fn read_dir(dir: &Path) -> Result<RunData, InputError> {
        let mut files: Vec<(String, Vec<u8>)> = Vec::new();
        for name in INPUT_FILES {
            let path = dir.join(name);
            match std::fs::read(&path) {
                Ok(bytes) => files.push((name.to_string(), bytes)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(err(
                        &path.display().to_string(),
                        "a readable file",
                        e.to_string(),
                    ))
                }
            }
        }
        Self::from_files(&files).map_err(|mut e| {
            e.file = dir.join(&e.file).display().to_string();
            e
        })
    }

    /// Reads the run from `(file name, contents)` pairs; `summary.csv`,
    /// `summary.json` and `backends.csv` are required, `events.csv` and
    /// `instances.csv` optional. Other files are ignored.
    pub fn from_files<C: AsRef<[u8]>>(
        files: &[(impl AsRef<str>, C)],
    ) -> Result<RunData, InputError> {
        let get = |name: &str| {
            files
                .iter()
                .find(|(n, _)| n.as_ref() == name)
                .map(|(_, c)| c.as_ref())
        };
        let need = |name: &str| {
            get(name).ok_or_else(|| {
                err(
                    name,
                    "the file",
                    "none (the run directory has no such file)",
                )
            })
        };
        // summary.json first: it is the run's identity every CSV file is
        // checked against.
        let meta = read_meta(need("summary.json")?)?;
        let summary = read_summary(need("summary.csv")?, &meta)?;
        let strategies: Vec<String> = summary.strategies().iter().map(|s| s.to_string()).collect();
        let backends = read_backends(need("backends.csv")?, &meta, &strategies)?;
        let backend_count = backends.iter().map(|b| b.backend + 1).max().unwrap_or(0);
        let events = get("events.csv")
            .map(|c| read_events(c, &meta, &strategies))
            .transpose()?;
        let instances = get("instances.csv")
            .map(|c| read_instances(c, &meta, &strategies))
            .transpose()?;
        let replications = get("replications.csv")
            .map(|c| read_replications(c, &meta, &strategies))
            .transpose()?;
        let latency_percentiles = get("latency_percentiles.csv")
            .map(|c| read_percentiles(c, &meta, &strategies))
            .transpose()?;
        Ok(RunData {
            meta,
            summary,
            strategies,
            backends,
            backend_count,
            events,
            instances,
            replications,
            latency_percentiles,
        })
    }

    /// Every strategy's decision columns, one map per replication: from
    /// `replications.csv` when the run has one, else `summary.csv`'s single
    /// replication.
    pub fn replicated(&self) -> Vec<crate::decision::Replicated> {
        match &self.replications {
            Some((header, rows)) => {
                super::replicated::replicated_from_rows(header, rows, &self.strategies)
            }
            None => super::replicated::replicated_from_rows(
                &self.summary.header,
                &self.summary.rows,
                &self.strategies,
            ),
        }
    }

    /// The rows of `backends.csv` for strategy `s`.
    pub fn backend_rows(&self, s: usize) -> impl Iterator<Item = &BackendRow> {
        self.backends.iter().filter(move |r| r.strategy == s)
    }

    /// The warm-up, seconds (0 when the run recorded no scenario facts).
    pub fn warmup_s(&self) -> f64 {
        self.meta
            .scenario_facts
            .as_ref()
            .map_or(0.0, |f| f.warmup_s)
    }

    /// The run's end, seconds (the last bucket's end).
    pub fn end_s(&self) -> f64 {
        self.backends.iter().map(|r| r.t_end_s).fold(0.0, f64::max)
    }
}

/// Loss causes by column, for callers that want a map.
pub fn loss_by_cause(summary: &SummaryTable, row: usize) -> BTreeMap<String, f64> {
    summary
        .loss_causes()
        .into_iter()
        .map(|(col, cause)| (cause.name().to_string(), summary.num(row, col)))
        .collect()
}
