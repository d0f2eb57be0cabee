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

#![allow(missing_docs)]
// Some public items here still lack doc comments; remove this as they get them.

// Errors carry file, line, column, expected and found for the user; they
// are returned once per report, so their size does not matter.
#![allow(clippy::result_large_err)]

use super::RunMeta;
use crate::metrics::{ControlKind, LossCause};
use crate::routing::StrategyKind;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

/// The scenario in a few facts, recorded in `summary.json` (key
/// `scenario_facts`) so the report can describe the run from the files alone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScenarioFacts {
    pub duration_s: f64,
    pub warmup_s: f64,
    /// Mean new sessions per second (before any rate profile).
    pub session_rate: f64,
    /// Whether a rate profile varies the arrival rate over time.
    pub rate_profile: bool,
    pub requests_per_session_mean: f64,
    pub think_time_mean_s: f64,
    pub service_time_mean_s: f64,
    pub clients: Vec<ClientFacts>,
    pub backends: u32,
    pub workers: u32,
    pub queue_limit: Option<u32>,
    pub health_check_interval_s: f64,
    pub unhealthy_threshold: u32,
    pub healthy_threshold: u32,
    /// `local` (state in backend memory) or `shared` (external store).
    pub session_state: String,
    /// One plain sentence per injected fault ("b3 crashes at 120 min, back after 15 min").
    pub faults: Vec<String>,
}

/// One client segment of [`ScenarioFacts`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClientFacts {
    pub name: String,
    pub share: f64,
    pub users: u32,
    /// `direct`, `nat` or `cgnat`.
    pub network: String,
    pub users_per_ip: u32,
    /// Address changes per second per session.
    pub ip_change_rate: f64,
    /// Fraction of sessions that return no cookies.
    pub cookie_block: f64,
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
    pub file: String,
    /// 1-based line, when known.
    pub line: Option<u64>,
    /// 1-based column (CSV field or JSON character), when known.
    pub column: Option<u64>,
    /// The CSV column's name, when known.
    pub column_name: Option<String>,
    pub expected: String,
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
    pub header: Vec<String>,
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
    pub backend: u32,
    pub t_start_s: f64,
    pub t_end_s: f64,
    pub requests: f64,
    pub utilisation: f64,
    pub alive: bool,
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
    pub strategy: usize,
    pub t_start_s: f64,
    pub t_end_s: f64,
    pub in_service: f64,
    pub provisioned: f64,
}

/// Everything the report is drawn from.
#[derive(Debug, Clone, PartialEq)]
pub struct RunData {
    pub meta: RunMeta,
    pub summary: SummaryTable,
    /// Strategy names, in `summary.csv` order.
    pub strategies: Vec<String>,
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
}

/// The files a report is read from, by name: required ones first.
pub const INPUT_FILES: &[&str] = &[
    "summary.csv",
    "summary.json",
    "backends.csv",
    "events.csv",
    "instances.csv",
    "replications.csv",
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
        Ok(RunData {
            meta,
            summary,
            strategies,
            backends,
            backend_count,
            events,
            instances,
            replications,
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

    /// The run's end, seconds (the last bucket's end).
    pub fn end_s(&self) -> f64 {
        self.backends.iter().map(|r| r.t_end_s).fold(0.0, f64::max)
    }
}

/// A CSV file's header and records, with each record's line number.
struct Csv<'a> {
    file: &'a str,
    header: Vec<String>,
    records: Vec<(u64, csv::StringRecord)>,
}

impl<'a> Csv<'a> {
    fn parse(file: &'a str, bytes: &[u8]) -> Result<Self, InputError> {
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(true)
            .from_reader(bytes);
        let csv_err = |e: csv::Error| {
            let line = e.position().map(|p| p.line());
            let mut ie = err(
                file,
                "well-formed CSV with one field per header column",
                e.to_string(),
            );
            ie.line = line;
            ie
        };
        let header: Vec<String> = rdr
            .headers()
            .map_err(csv_err)?
            .iter()
            .map(String::from)
            .collect();
        if header.iter().all(|h| h.is_empty()) {
            let mut e = err(file, "a header line", "an empty file");
            e.line = Some(1);
            return Err(e);
        }
        let mut records = Vec::new();
        for rec in rdr.records() {
            let rec = rec.map_err(csv_err)?;
            let line = rec.position().map_or(0, |p| p.line());
            records.push((line, rec));
        }
        Ok(Csv {
            file,
            header,
            records,
        })
    }

    fn col(&self, name: &str) -> Result<usize, InputError> {
        self.header.iter().position(|h| h == name).ok_or_else(|| {
            let mut e = err(
                self.file,
                format!("a column named `{name}` in the header"),
                format!("`{}`", self.header.join(",")),
            );
            e.line = Some(1);
            e
        })
    }

    fn cell_err(&self, line: u64, col: usize, expected: &str, found: &str) -> InputError {
        InputError {
            file: self.file.to_string(),
            line: Some(line),
            column: Some(col as u64 + 1),
            column_name: Some(self.header[col].clone()),
            expected: expected.to_string(),
            found: format!("`{found}`"),
        }
    }

    fn f64_at(&self, line: u64, rec: &csv::StringRecord, col: usize) -> Result<f64, InputError> {
        let s = rec.get(col).unwrap_or("");
        match s.parse::<f64>() {
            Ok(v) if v.is_finite() => Ok(v),
            _ => Err(self.cell_err(line, col, "a finite number", s)),
        }
    }

    fn kind_at(
        &self,
        line: u64,
        rec: &csv::StringRecord,
        col: usize,
    ) -> Result<StrategyKind, InputError> {
        let s = rec.get(col).unwrap_or("");
        StrategyKind::from_name(s).ok_or_else(|| {
            let names = StrategyKind::names().map(|n| format!("`{n}`")).join(", ");
            self.cell_err(line, col, &format!("a strategy kind ({names})"), s)
        })
    }

    fn bool_at(&self, line: u64, rec: &csv::StringRecord, col: usize) -> Result<bool, InputError> {
        match rec.get(col).unwrap_or("") {
            "1" => Ok(true),
            "0" => Ok(false),
            s => Err(self.cell_err(line, col, "0 or 1", s)),
        }
    }

    /// The positions of the identity columns (`scenario`, `seed`,
    /// `scenario_hash`): `None` when the file has none of them (an older
    /// run's file, accepted unchecked), an error when it has only some.
    fn identity_cols(&self) -> Result<Option<[usize; 3]>, InputError> {
        let found = super::IDENTITY_COLUMNS.map(|n| self.header.iter().position(|h| h == n));
        match found {
            [Some(a), Some(b), Some(c)] => Ok(Some([a, b, c])),
            [None, None, None] => Ok(None),
            _ => {
                let mut e = err(
                    self.file,
                    "all of the run's identity columns `scenario`, `seed`, `scenario_hash` \
                     or none of them (a file from before they were recorded)",
                    format!("`{}`", self.header.join(",")),
                );
                e.line = Some(1);
                Err(e)
            }
        }
    }

    /// Checks a row's identity cells against `summary.json`'s: a mismatch
    /// means the file was written by another run.
    fn check_identity(
        &self,
        line: u64,
        rec: &csv::StringRecord,
        cols: Option<[usize; 3]>,
        meta: &RunMeta,
    ) -> Result<(), InputError> {
        let Some([cn, cs, ch]) = cols else {
            return Ok(());
        };
        const OTHER_RUN: &str = "this file comes from another run";
        let mismatch = |col: usize, expected: String, found: String| InputError {
            file: self.file.to_string(),
            line: Some(line),
            column: Some(col as u64 + 1),
            column_name: Some(self.header[col].clone()),
            expected,
            found,
        };
        let name = rec.get(cn).unwrap_or("");
        if name != meta.scenario {
            return Err(mismatch(
                cn,
                format!("`{}` (the run's scenario in summary.json)", meta.scenario),
                format!("`{name}`: {OTHER_RUN}"),
            ));
        }
        let seed = rec.get(cs).unwrap_or("");
        match seed.parse::<u64>() {
            Ok(v) if v == meta.seed => {}
            Ok(v) => {
                return Err(mismatch(
                    cs,
                    format!("{} (the run's seed in summary.json)", meta.seed),
                    format!("{v}: {OTHER_RUN}"),
                ))
            }
            Err(_) => {
                return Err(mismatch(
                    cs,
                    format!("{} (the run's seed in summary.json)", meta.seed),
                    format!("`{seed}`"),
                ))
            }
        }
        let hash = rec.get(ch).unwrap_or("");
        if hash != meta.scenario_hash {
            return Err(mismatch(
                ch,
                format!(
                    "{} (the run's scenario_hash in summary.json)",
                    meta.scenario_hash
                ),
                format!("`{hash}`: {OTHER_RUN}"),
            ));
        }
        Ok(())
    }

    fn strategy_at(
        &self,
        line: u64,
        rec: &csv::StringRecord,
        col: usize,
        strategies: &[String],
    ) -> Result<usize, InputError> {
        let s = rec.get(col).unwrap_or("");
        strategies.iter().position(|n| n == s).ok_or_else(|| {
            self.cell_err(
                line,
                col,
                &format!("a strategy of summary.csv ({})", strategies.join(", ")),
                s,
            )
        })
    }
}

fn read_summary(bytes: &[u8], meta: &RunMeta) -> Result<SummaryTable, InputError> {
    let csv = Csv::parse("summary.csv", bytes)?;
    csv.col("strategy")?;
    let kind_col = csv.col("kind")?;
    let sticky_col = csv.col("sticky").ok();
    let id = csv.identity_cols()?;
    let mut numeric: Vec<usize> = Vec::new();
    for name in REQUIRED_NUMERIC {
        numeric.push(csv.col(name)?);
    }
    numeric.extend(
        csv.header
            .iter()
            .enumerate()
            .filter(|(_, h)| h.starts_with("lost_"))
            .map(|(i, _)| i),
    );
    let loss_columns = loss_columns(&csv)?;
    let mut rows = Vec::new();
    let mut kinds = Vec::new();
    let mut sticky = Vec::new();
    for (line, rec) in &csv.records {
        csv.check_identity(*line, rec, id, meta)?;
        for &c in &numeric {
            csv.f64_at(*line, rec, c)?;
        }
        let kind = csv.kind_at(*line, rec, kind_col)?;
        sticky.push(match sticky_col {
            Some(c) => csv.bool_at(*line, rec, c)?,
            None => kind.is_sticky(),
        });
        kinds.push(kind);
        rows.push(rec.iter().map(String::from).collect());
    }
    if rows.is_empty() {
        return Err(err("summary.csv", "one row per strategy", "no rows"));
    }
    Ok(SummaryTable {
        header: csv.header,
        rows,
        kinds,
        sticky,
        loss_columns,
    })
}

/// `summary.csv`'s `lost_<cause>` columns (not their `_hw95` half-widths),
/// each cause parsed: an unknown cause is an error naming the column.
fn loss_columns(csv: &Csv) -> Result<Vec<(usize, LossCause)>, InputError> {
    let mut out = Vec::new();
    for (i, h) in csv.header.iter().enumerate() {
        if h.ends_with(super::replicated::HW_SUFFIX) {
            continue;
        }
        let Some(name) = h.strip_prefix("lost_") else {
            continue;
        };
        let cause = LossCause::from_name(name).ok_or_else(|| {
            let names = LossCause::ALL
                .map(|c| format!("`lost_{}`", c.name()))
                .join(", ");
            csv.cell_err(1, i, &format!("a loss-cause column ({names})"), h)
        })?;
        out.push((i, cause));
    }
    Ok(out)
}

/// `replications.csv`: every row's identity and strategy checked, the
/// numeric columns the verdict reads checked as numbers.
fn read_replications(
    bytes: &[u8],
    meta: &RunMeta,
    strategies: &[String],
) -> Result<(Vec<String>, Vec<Vec<String>>), InputError> {
    let csv = Csv::parse("replications.csv", bytes)?;
    let strat = csv.col("strategy")?;
    let id = csv.identity_cols()?;
    let numeric: Vec<usize> = crate::metrics::columns::DECISION_COLUMNS
        .iter()
        .filter_map(|c| csv.header.iter().position(|h| h == c))
        .collect();
    let mut rows = Vec::new();
    for (line, rec) in &csv.records {
        csv.check_identity(*line, rec, id, meta)?;
        csv.strategy_at(*line, rec, strat, strategies)?;
        for &c in &numeric {
            csv.f64_at(*line, rec, c)?;
        }
        rows.push(rec.iter().map(String::from).collect());
    }
    Ok((csv.header, rows))
}

fn read_meta(bytes: &[u8]) -> Result<RunMeta, InputError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    let m: RunMeta = serde_path_to_error::deserialize(de).map_err(|e| {
        let inner = e.inner();
        InputError {
            file: "summary.json".to_string(),
            line: Some(inner.line() as u64),
            column: Some(inner.column() as u64),
            column_name: Some(e.path().to_string()).filter(|p| p != "."),
            expected: "the run's JSON summary as `stickysim run` writes it".to_string(),
            found: inner.to_string(),
        }
    })?;
    Ok(m)
}

fn read_backends(
    bytes: &[u8],
    meta: &RunMeta,
    strategies: &[String],
) -> Result<Vec<BackendRow>, InputError> {
    let csv = Csv::parse("backends.csv", bytes)?;
    let id = csv.identity_cols()?;
    let [cs, cb, ct0, ct1, creq, cu, ca, cl] = [
        "strategy",
        "backend",
        "t_start_s",
        "t_end_s",
        "requests",
        "utilisation",
        "alive",
        "lb_up",
    ]
    .map(|n| csv.col(n));
    let (cs, cb, ct0, ct1, creq, cu, ca, cl) = (cs?, cb?, ct0?, ct1?, creq?, cu?, ca?, cl?);
    let mut out = Vec::with_capacity(csv.records.len());
    for (line, rec) in &csv.records {
        let line = *line;
        csv.check_identity(line, rec, id, meta)?;
        let b = rec.get(cb).unwrap_or("");
        let backend = b
            .strip_prefix('b')
            .and_then(|n| n.parse::<u32>().ok())
            .ok_or_else(|| csv.cell_err(line, cb, "a backend name b0, b1, …", b))?;
        out.push(BackendRow {
            strategy: csv.strategy_at(line, rec, cs, strategies)?,
            backend,
            t_start_s: csv.f64_at(line, rec, ct0)?,
            t_end_s: csv.f64_at(line, rec, ct1)?,
            requests: csv.f64_at(line, rec, creq)?,
            utilisation: csv.f64_at(line, rec, cu)?,
            alive: csv.bool_at(line, rec, ca)?,
            lb_up: csv.bool_at(line, rec, cl)?,
        });
    }
    Ok(out)
}

fn read_events(
    bytes: &[u8],
    meta: &RunMeta,
    strategies: &[String],
) -> Result<Vec<EventRow>, InputError> {
    let csv = Csv::parse("events.csv", bytes)?;
    let id = csv.identity_cols()?;
    let (cs, ct, ce, cb) = (
        csv.col("strategy")?,
        csv.col("time_s")?,
        csv.col("event")?,
        csv.col("backend")?,
    );
    let mut out = Vec::with_capacity(csv.records.len());
    for (line, rec) in &csv.records {
        let line = *line;
        csv.check_identity(line, rec, id, meta)?;
        let name = rec.get(ce).unwrap_or("");
        let event = ControlKind::from_name(name).ok_or_else(|| {
            let names = ControlKind::ALL
                .map(|k| format!("`{}`", k.name()))
                .join(", ");
            csv.cell_err(line, ce, &format!("an event name ({names})"), name)
        })?;
        out.push(EventRow {
            strategy: csv.strategy_at(line, rec, cs, strategies)?,
            time_s: csv.f64_at(line, rec, ct)?,
            event,
            backend: rec.get(cb).unwrap_or("").to_string(),
        });
    }
    Ok(out)
}

fn read_instances(
    bytes: &[u8],
    meta: &RunMeta,
    strategies: &[String],
) -> Result<Vec<InstanceCsvRow>, InputError> {
    let csv = Csv::parse("instances.csv", bytes)?;
    let id = csv.identity_cols()?;
    let (cs, c0, c1, ci, cp) = (
        csv.col("strategy")?,
        csv.col("t_start_s")?,
        csv.col("t_end_s")?,
        csv.col("in_service")?,
        csv.col("provisioned")?,
    );
    let mut out = Vec::with_capacity(csv.records.len());
    for (line, rec) in &csv.records {
        let line = *line;
        csv.check_identity(line, rec, id, meta)?;
        out.push(InstanceCsvRow {
            strategy: csv.strategy_at(line, rec, cs, strategies)?,
            t_start_s: csv.f64_at(line, rec, c0)?,
            t_end_s: csv.f64_at(line, rec, c1)?,
            in_service: csv.f64_at(line, rec, ci)?,
            provisioned: csv.f64_at(line, rec, cp)?,
        });
    }
    Ok(out)
}

/// Loss causes by column, for callers that want a map.
pub fn loss_by_cause(summary: &SummaryTable, row: usize) -> BTreeMap<String, f64> {
    summary
        .loss_causes()
        .into_iter()
        .map(|(col, cause)| (cause.name().to_string(), summary.num(row, col)))
        .collect()
}

/// One instance's uninterrupted time in service (taking new traffic) in a
/// backend slot, read off `events.csv`: slots are reused, so an instance is
/// told apart by its `boot_start`.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceSpan {
    pub backend: u32,
    /// When it started taking traffic (`in_service`, `marked_up`, or 0 for
    /// an instance present from the start).
    pub from_s: f64,
    /// When it stopped (`drain_start`, `stopped`, `crash`, `marked_down`),
    /// or infinity.
    pub to_s: f64,
    /// Launched during the run (a `boot_start` after t = 0), as opposed to
    /// present from the start.
    pub launched: bool,
    /// When this instance first went into service (its `in_service` event,
    /// or 0 for one present from the start).
    pub first_in_service_s: f64,
}

impl RunData {
    /// The rows of `events.csv` for strategy `s` (none without the file).
    pub fn events_of(&self, s: usize) -> impl Iterator<Item = &EventRow> {
        self.events
            .iter()
            .flatten()
            .filter(move |e| e.strategy == s)
    }

    /// Whether `events.csv` has an `event` for strategy `s`.
    pub fn has_event(&self, s: usize, event: ControlKind) -> bool {
        self.events_of(s).any(|e| e.event == event)
    }

    /// Strategy `s`'s instances' spans in service, from `events.csv` (empty
    /// without it). A slot with a `backends.csv` row starting at t = 0 holds
    /// an instance present from the start.
    pub fn service_spans(&self, s: usize) -> Vec<ServiceSpan> {
        let mut out = Vec::new();
        if self.events.is_none() {
            return out;
        }
        let start = self
            .backend_rows(s)
            .map(|r| r.t_start_s)
            .fold(f64::INFINITY, f64::min);
        for b in 0..self.backend_count {
            let name = format!("b{b}");
            // A slot launched into during the first bucket has a row there
            // too; an instance present from the start has no `boot_start`
            // before its slot is freed (`stopped`).
            let first_change = self.events_of(s).find(|e| {
                e.backend == name
                    && matches!(e.event, ControlKind::BootStart | ControlKind::Stopped)
            });
            let initial = self
                .backend_rows(s)
                .any(|r| r.backend == b && r.t_start_s == start)
                && first_change
                    .is_none_or(|e| e.event != ControlKind::BootStart || e.time_s <= 0.0);
            // (in service since, launched, first in service)
            let mut up: Option<f64> = initial.then_some(0.0);
            let mut launched = false;
            let mut first = 0.0;
            for e in self.events_of(s).filter(|e| e.backend == name) {
                match e.event {
                    ControlKind::BootStart => {
                        if let Some(from_s) = up.take() {
                            out.push(ServiceSpan {
                                backend: b,
                                from_s,
                                to_s: e.time_s,
                                launched,
                                first_in_service_s: first,
                            });
                        }
                        launched = e.time_s > 0.0;
                        first = f64::INFINITY;
                    }
                    ControlKind::InService | ControlKind::MarkedUp => {
                        if up.is_none() {
                            up = Some(e.time_s);
                        }
                        if e.event == ControlKind::InService && first.is_infinite() {
                            first = e.time_s;
                        }
                    }
                    ControlKind::DrainStart
                    | ControlKind::Stopped
                    | ControlKind::Crash
                    | ControlKind::MarkedDown => {
                        if let Some(from_s) = up.take() {
                            out.push(ServiceSpan {
                                backend: b,
                                from_s,
                                to_s: e.time_s,
                                launched,
                                first_in_service_s: first,
                            });
                        }
                    }
                    _ => {}
                }
            }
            if let Some(from_s) = up {
                out.push(ServiceSpan {
                    backend: b,
                    from_s,
                    to_s: f64::INFINITY,
                    launched,
                    first_in_service_s: first,
                });
            }
        }
        out
    }
}
