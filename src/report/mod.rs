//! Writing results: `summary.csv`, `summary.json`, `backends.csv`,
//! `events.csv`, `instances.csv` and the stdout table. Everything is rendered in memory first, then written to
//! temporary files and renamed into place, so a run's outputs appear whole
//! or not at all.

pub mod charts;
mod csv_out;
pub mod data;
pub mod junit;
pub mod markdown;
pub mod replicated;
pub mod verdict;
pub mod whatif;

use crate::metrics::{BucketRow, ControlEvent, InstanceRow, LossCause, RunSummary};
use crate::routing::StrategyKind;
pub(crate) use csv_out::CsvOut;
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// What identifies a run's outputs: recorded in every file, and read back
/// from `summary.json` (its other keys ignored) by [`data::RunData`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunMeta {
    /// The scenario's name.
    pub scenario: String,
    /// The master seed.
    pub seed: u64,
    /// Hash of the validated scenario (after `--set` overrides), hex.
    pub scenario_hash: String,
    /// The version of stickysim that wrote the run.
    pub stickysim_version: String,
    /// Width of the time buckets in `backends.csv`, seconds.
    pub bucket_s: f64,
    /// Backends' workers (to turn busy time into utilisation).
    pub workers: u32,
    /// The scenario in a few facts, for `report.md` (`summary.json` key
    /// `scenario_facts`; left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scenario_facts: Option<data::ScenarioFacts>,
    /// The command line's changes to the scenario file, in order:
    /// every `--set KEY=VALUE`, then `simulation.seed=N` for `--seed N`
    /// (`summary.json` key `overrides`; left out when there are none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub overrides: Vec<String>,
    /// Replications per strategy (`summary.json` key `replications`; 1
    /// for files written before it was recorded).
    #[serde(default = "one")]
    pub replications: u32,
    /// The decision the results are judged by (`summary.json` key
    /// `decision`; the default decision when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<replicated::DecisionRecord>,
    /// The scenario's sanity warnings and the run's (`summary.json` key
    /// `warnings`; left out when there are none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<replicated::WarningRecord>,
}

fn one() -> u32 {
    1
}

/// One strategy's results as the report needs them.
pub struct StrategyResult<'a> {
    /// The strategy's figures.
    pub summary: &'a RunSummary,
    /// Per backend and time bucket.
    pub buckets: &'a [BucketRow],
    /// Control events (faults, health marks, deploys, scaling), in time order.
    pub events: &'a [ControlEvent],
    /// Instance counts per output bucket.
    pub instances: &'a [InstanceRow],
}

type Col = (&'static str, fn(&RunSummary) -> String);

fn f(x: f64, decimals: usize) -> String {
    format!("{x:.decimals$}")
}

/// The columns of `summary.csv`, in order (documented in `docs/output.md`),
/// before the [`IDENTITY_COLUMNS`].
pub const SUMMARY_COLUMNS: &[Col] = &[
    ("strategy", |s| s.strategy.clone()),
    ("kind", |s| s.kind.clone()),
    ("sticky", |s| u8::from(is_sticky(s)).to_string()),
    ("requests", |s| s.requests.to_string()),
    ("completed", |s| s.completed.to_string()),
    ("failed", |s| s.failed.to_string()),
    ("retried", |s| s.retried.to_string()),
    ("rejected", |s| s.rejected.to_string()),
    ("in_flight_end", |s| s.in_flight_end.to_string()),
    ("sessions", |s| s.sessions.to_string()),
    ("sessions_completed", |s| s.sessions_completed.to_string()),
    ("sessions_active_end", |s| s.sessions_active_end.to_string()),
    ("sessions_lost", |s| s.sessions_lost.to_string()),
    ("sessions_lost_pct", |s| f(s.sessions_lost_pct, 4)),
    ("lost_failure", |s| s.lost_failure.to_string()),
    ("lost_ip_change", |s| s.lost_ip_change.to_string()),
    ("lost_cookie_blocked", |s| s.lost_cookie_blocked.to_string()),
    ("lost_ttl_expired", |s| s.lost_ttl_expired.to_string()),
    ("lost_rebalanced", |s| s.lost_rebalanced.to_string()),
    ("lost_token_rotation", |s| s.lost_token_rotation.to_string()),
    ("lost_deploy", |s| s.lost_deploy.to_string()),
    ("lost_scale_in", |s| s.lost_scale_in.to_string()),
    ("loss_events", |s| s.loss_events.to_string()),
    ("losses_avoided", |s| s.losses_avoided.to_string()),
    ("latency_mean_ms", |s| f(s.latency_mean_ms, 3)),
    ("state_latency_mean_ms", |s| f(s.state_latency_mean_ms, 3)),
    ("latency_p50_ms", |s| f(s.latency_p50_ms, 3)),
    ("latency_p95_ms", |s| f(s.latency_p95_ms, 3)),
    ("latency_p99_ms", |s| f(s.latency_p99_ms, 3)),
    ("latency_p999_ms", |s| f(s.latency_p999_ms, 3)),
    ("latency_max_ms", |s| f(s.latency_max_ms, 3)),
    ("util_mean", |s| f(s.util_mean, 4)),
    ("util_max", |s| f(s.util_max, 4)),
    ("imbalance_util_max_over_mean", |s| {
        f(s.imbalance_util_max_over_mean, 4)
    }),
    ("requests_cv", |s| f(s.requests_cv, 4)),
    ("max_backend_request_share", |s| {
        f(s.max_backend_request_share, 4)
    }),
    ("measured_s", |s| f(s.measured_s, 3)),
    ("placement", |s| s.placement.clone()),
];

/// Whether the summary's strategy kind has affinity, by routing's registry.
fn is_sticky(s: &RunSummary) -> bool {
    StrategyKind::from_name(&s.kind).is_some_and(StrategyKind::is_sticky)
}

/// The run's identity columns, last in every CSV file of a run
/// (`summary.csv`, `backends.csv`, `events.csv`, `instances.csv`), so a file
/// copied in from another run is caught when the report is drawn.
pub const IDENTITY_COLUMNS: [&str; 3] = ["scenario", "seed", "scenario_hash"];

/// A CSV file of a run: `columns`, then the [`IDENTITY_COLUMNS`].
fn run_csv(columns: &[&str]) -> CsvOut {
    CsvOut::with_header(columns.iter().chain(&IDENTITY_COLUMNS))
}

/// The identity cells that end every row of a run's CSV files.
fn identity_cells(meta: &RunMeta) -> [String; 3] {
    [
        meta.scenario.clone(),
        meta.seed.to_string(),
        meta.scenario_hash.clone(),
    ]
}

/// The names of the [`SUMMARY_COLUMNS`].
fn summary_column_names() -> Vec<&'static str> {
    SUMMARY_COLUMNS.iter().map(|(n, _)| *n).collect()
}

/// `summary.csv`: one row per strategy, then the run's identity columns.
pub fn summary_csv(meta: &RunMeta, results: &[StrategyResult]) -> String {
    let mut out = run_csv(&summary_column_names());
    let id = identity_cells(meta);
    for r in results {
        out.row(
            SUMMARY_COLUMNS
                .iter()
                .map(|(_, get)| get(r.summary))
                .chain(id.iter().cloned()),
        );
    }
    out.finish()
}

#[derive(Serialize)]
struct SummaryJson<'a> {
    #[serde(flatten)]
    meta: &'a RunMeta,
    strategies: Vec<StrategyJson<'a>>,
}

/// One strategy in `summary.json`: its summary (replication 0's) and
/// whether it is sticky; with replications, every decision column's mean
/// and 95 % half-width.
#[derive(Serialize)]
struct StrategyJson<'a> {
    #[serde(flatten)]
    summary: &'a RunSummary,
    sticky: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    mean: Option<std::collections::BTreeMap<&'static str, f64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    hw95: Option<std::collections::BTreeMap<&'static str, f64>>,
}

/// `summary.json`: the run's identity and every strategy's full summary.
pub fn summary_json(meta: &RunMeta, results: &[StrategyResult]) -> String {
    summary_json_replicated(meta, results, &single(results))
}

/// Each strategy's one replication, for the one-replication callers.
fn single(results: &[StrategyResult]) -> Vec<Vec<RunSummary>> {
    results.iter().map(|r| vec![r.summary.clone()]).collect()
}

/// [`summary_json`] with every strategy's replications (`reps[s]`, in
/// replication order; `results` are replication 0's).
pub fn summary_json_replicated(
    meta: &RunMeta,
    results: &[StrategyResult],
    reps: &[Vec<RunSummary>],
) -> String {
    let doc = SummaryJson {
        meta,
        strategies: results
            .iter()
            .zip(reps)
            .map(|(r, runs)| {
                let (mean, hw95) = if runs.len() > 1 {
                    let est = replicated::estimates(runs);
                    (
                        Some(est.iter().map(|(k, e)| (*k, e.mean)).collect()),
                        Some(
                            est.iter()
                                .map(|(k, e)| (*k, e.half_width.unwrap_or(0.0)))
                                .collect(),
                        ),
                    )
                } else {
                    (None, None)
                };
                StrategyJson {
                    summary: r.summary,
                    sticky: is_sticky(r.summary),
                    mean,
                    hw95,
                }
            })
            .collect(),
    };
    let mut s = serde_json::to_string_pretty(&doc).expect("summary serialises");
    s.push('\n');
    s
}

/// The columns of `backends.csv` (documented in `docs/output.md`), before
/// the [`IDENTITY_COLUMNS`].
pub const BACKEND_COLUMNS: &[&str] = &[
    "strategy",
    "backend",
    "t_start_s",
    "t_end_s",
    "requests",
    "busy_s",
    "utilisation",
    "queue_mean",
    "pinned_sessions",
    "alive",
    "lb_up",
];

/// `backends.csv`: per strategy, backend and time bucket, then the run's
/// identity columns.
pub fn backends_csv(meta: &RunMeta, results: &[StrategyResult]) -> String {
    let mut out = run_csv(BACKEND_COLUMNS);
    let id = identity_cells(meta);
    for r in results {
        let name = &r.summary.strategy;
        for row in r.buckets {
            let width = (row.t_end_ns - row.t_start_ns) as f64;
            let busy_s = row.busy_ns as f64 / 1e9;
            let (util, queue) = if width > 0.0 {
                (
                    row.busy_ns as f64 / (width * meta.workers as f64),
                    row.queue_ns as f64 / width,
                )
            } else {
                (0.0, 0.0)
            };
            let cells = [
                name.clone(),
                format!("b{}", row.backend),
                format!("{:.3}", row.t_start_ns as f64 / 1e9),
                format!("{:.3}", row.t_end_ns as f64 / 1e9),
                row.requests.to_string(),
                format!("{busy_s:.6}"),
                format!("{util:.6}"),
                format!("{queue:.4}"),
                row.pinned_sessions.to_string(),
                u8::from(row.alive).to_string(),
                u8::from(row.lb_up).to_string(),
            ];
            out.row(cells.iter().chain(&id));
        }
    }
    out.finish()
}

/// The columns of `events.csv` (documented in `docs/output.md`), before
/// the [`IDENTITY_COLUMNS`].
pub const EVENT_COLUMNS: &[&str] = &["strategy", "time_s", "event", "backend"];

/// `events.csv`: one row per control event, per strategy in time order,
/// then the run's identity columns.
pub fn events_csv(meta: &RunMeta, results: &[StrategyResult]) -> String {
    let mut out = run_csv(EVENT_COLUMNS);
    let id = identity_cells(meta);
    for r in results {
        for e in r.events {
            let cells = [
                r.summary.strategy.clone(),
                format!("{:.3}", e.t_ns as f64 / 1e9),
                e.kind.name().to_string(),
                e.backend.map_or(String::new(), |b| format!("b{b}")),
            ];
            out.row(cells.iter().chain(&id));
        }
    }
    out.finish()
}

/// The columns of `instances.csv` (documented in `docs/output.md`),
/// before the [`IDENTITY_COLUMNS`].
pub const INSTANCE_COLUMNS: &[&str] = &[
    "strategy",
    "t_start_s",
    "t_end_s",
    "in_service",
    "provisioned",
];

/// `instances.csv`: instance counts per strategy and output bucket, then
/// the run's identity columns.
pub fn instances_csv(meta: &RunMeta, results: &[StrategyResult]) -> String {
    let mut out = run_csv(INSTANCE_COLUMNS);
    let id = identity_cells(meta);
    for r in results {
        for row in r.instances {
            let cells = [
                r.summary.strategy.clone(),
                format!("{:.3}", row.t_start_ns as f64 / 1e9),
                format!("{:.3}", row.t_end_ns as f64 / 1e9),
                row.in_service.to_string(),
                row.provisioned.to_string(),
            ];
            out.row(cells.iter().chain(&id));
        }
    }
    out.finish()
}

/// The short table printed on stdout.
pub fn text_table(meta: &RunMeta, results: &[StrategyResult]) -> String {
    text_table_replicated(meta, &single(results))
}

/// The short table printed on stdout, `mean ± half-width` with two or
/// more replications (`reps[s]`: strategy `s`'s summaries).
pub fn text_table_replicated(meta: &RunMeta, reps: &[Vec<RunSummary>]) -> String {
    if reps.first().is_some_and(|r| r.len() > 1) {
        return replicated_table(meta, reps);
    }
    let results: Vec<&RunSummary> = reps.iter().map(|r| &r[0]).collect();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "scenario {} (seed {}, hash {})",
        meta.scenario, meta.seed, meta.scenario_hash
    );
    let header = [
        "strategy",
        "lost%",
        "main cause",
        "failed",
        "rejected",
        "p50 ms",
        "p99 ms",
        "util max",
        "max/mean",
        "top share",
    ];
    let mut rows: Vec<Vec<String>> = vec![header.iter().map(|s| s.to_string()).collect()];
    for s in results {
        let main = LossCause::ALL
            .into_iter()
            .filter(|&c| s.lost(c) > 0)
            .max_by_key(|&c| s.lost(c))
            .map_or("-", LossCause::name);
        rows.push(vec![
            s.strategy.clone(),
            format!("{:.2}", s.sessions_lost_pct),
            main.to_string(),
            s.failed.to_string(),
            s.rejected.to_string(),
            format!("{:.1}", s.latency_p50_ms),
            format!("{:.1}", s.latency_p99_ms),
            format!("{:.2}", s.util_max),
            format!("{:.2}", s.imbalance_util_max_over_mean),
            format!("{:.1}%", 100.0 * s.max_backend_request_share),
        ]);
    }
    align(&mut out, rows);
    out
}

/// The replicated table: means ± 95 % half-widths.
fn replicated_table(meta: &RunMeta, reps: &[Vec<RunSummary>]) -> String {
    let mut out = String::new();
    let n = reps[0].len();
    let _ = writeln!(
        out,
        "scenario {} (seed {}, hash {}), {n} replications: mean ± 95 % half-width",
        meta.scenario, meta.seed, meta.scenario_hash
    );
    let header = [
        "strategy",
        "lost%",
        "failed%",
        "rejected%",
        "p50 ms",
        "p99 ms",
        "util max",
        "max/mean",
        "top share%",
    ];
    let mut rows: Vec<Vec<String>> = vec![header.iter().map(|s| s.to_string()).collect()];
    for runs in reps {
        let e = replicated::estimates(runs);
        let pm = |c: &str, d: usize, scale: f64| {
            let x = e[c];
            format!(
                "{:.d$} ± {:.d$}",
                x.mean * scale,
                x.half_width.unwrap_or(0.0) * scale
            )
        };
        rows.push(vec![
            runs[0].strategy.clone(),
            pm("sessions_lost_pct", 2, 1.0),
            pm("failed_pct", 2, 1.0),
            pm("rejected_pct", 2, 1.0),
            pm("latency_p50_ms", 1, 1.0),
            pm("latency_p99_ms", 1, 1.0),
            pm("util_max", 2, 1.0),
            pm("imbalance_util_max_over_mean", 2, 1.0),
            pm("max_backend_request_share", 1, 100.0),
        ]);
    }
    align(&mut out, rows);
    out
}

/// Writes `rows` as aligned columns: the first left-aligned, the others right.
fn align(out: &mut String, rows: Vec<Vec<String>>) {
    let cols = rows.first().map_or(0, Vec::len);
    let widths: Vec<usize> = (0..cols)
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    for row in rows {
        let line: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let pad = " ".repeat(widths[i] - c.chars().count());
                if i == 0 {
                    format!("{c}{pad}")
                } else {
                    format!("{pad}{c}")
                }
            })
            .collect();
        let _ = writeln!(out, "{}", line.join("  ").trim_end());
    }
}

/// Writes `files` (name, contents) into `dir`, all or nothing. Each is
/// written to a temporary file first; only when all are written are they
/// renamed into place, each previous version being moved aside first. If
/// any step fails, the new files are removed and the previous ones put
/// back, so the directory holds either the whole new run or the old one.
/// Contents are text or bytes (`String`, `Vec<u8>`, `&[u8]`).
pub fn write_all_or_nothing<C: AsRef<[u8]>>(dir: &Path, files: &[(&str, C)]) -> io::Result<()> {
    fs::create_dir_all(dir)?;
    let pid = std::process::id();
    let plan: Vec<(PathBuf, PathBuf, PathBuf)> = files
        .iter()
        .map(|(name, _)| {
            (
                dir.join(format!(".{name}.tmp-{pid}")),
                dir.join(name),
                dir.join(format!(".{name}.old-{pid}")),
            )
        })
        .collect();
    // For each file: written to tmp, previous moved to old, tmp moved in.
    let mut written = 0;
    let mut backed_up: Vec<bool> = vec![false; plan.len()];
    let mut placed = 0;
    let result = (|| {
        for ((tmp, _, _), (_, contents)) in plan.iter().zip(files) {
            fs::write(tmp, contents.as_ref())?;
            written += 1;
        }
        for (i, (tmp, dst, old)) in plan.iter().enumerate() {
            if dst.exists() {
                fs::rename(dst, old)?;
                backed_up[i] = true;
            }
            fs::rename(tmp, dst)?;
            placed += 1;
        }
        Ok(())
    })();
    match result {
        Ok(()) => {
            for (i, (_, _, old)) in plan.iter().enumerate() {
                if backed_up[i] {
                    let _ = fs::remove_file(old);
                }
            }
        }
        Err(_) => {
            for (i, (tmp, dst, old)) in plan.iter().enumerate() {
                if i < placed {
                    let _ = fs::remove_file(dst);
                } else if i < written {
                    let _ = fs::remove_file(tmp);
                }
                if backed_up[i] {
                    let _ = fs::rename(old, dst);
                }
            }
        }
    }
    result
}

/// A run's data files (CSV and JSON), rendered in memory: `(file name, contents)`.
pub fn data_files(meta: &RunMeta, results: &[StrategyResult]) -> Vec<(&'static str, String)> {
    data_files_replicated(meta, results, &single(results))
}

/// [`data_files`] of a replicated run: `results` are replication 0's (the
/// time series, events and instances come from it), `reps[s]` strategy
/// `s`'s summaries in replication order. With two or more replications,
/// `summary.csv` holds means and half-widths and `replications.csv` every
/// replication's row.
pub fn data_files_replicated(
    meta: &RunMeta,
    results: &[StrategyResult],
    reps: &[Vec<RunSummary>],
) -> Vec<(&'static str, String)> {
    let many = reps.first().is_some_and(|r| r.len() > 1);
    let mut files = vec![
        (
            "summary.csv",
            if many {
                replicated::summary_csv_replicated(meta, reps)
            } else {
                summary_csv(meta, results)
            },
        ),
        ("summary.json", summary_json_replicated(meta, results, reps)),
        ("backends.csv", backends_csv(meta, results)),
        ("events.csv", events_csv(meta, results)),
        ("instances.csv", instances_csv(meta, results)),
    ];
    if many {
        files.push(("replications.csv", replicated::replications_csv(meta, reps)));
    }
    files
}

/// Renders and writes a run's data files into `dir` (no charts, no
/// report); returns the paths written.
pub fn write_run(
    dir: &Path,
    meta: &RunMeta,
    results: &[StrategyResult],
) -> io::Result<Vec<PathBuf>> {
    let files = data_files(meta, results);
    write_all_or_nothing(dir, &files)?;
    Ok(files.iter().map(|(n, _)| dir.join(n)).collect())
}

/// Why a report could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A run directory's file is missing or malformed.
    #[error("{0}")]
    Input(Box<data::InputError>),
    /// A chart could not be drawn.
    #[error("{0}")]
    Chart(#[from] charts::ChartError),
    #[error("writing to {dir}")]
    /// An output file could not be written.
    Io {
        /// The output directory.
        dir: String,
        /// The system's error.
        source: io::Error,
    },
}

impl From<data::InputError> for ReportError {
    fn from(e: data::InputError) -> Self {
        ReportError::Input(Box::new(e))
    }
}

/// A file to write: name and contents.
pub type NamedFile = (String, Vec<u8>);

/// The report's files drawn from `data`: `report.md`, then the charts
/// (unless `!charts`), each `(file name, contents)`. Also returns how long
/// drawing the charts took.
pub fn report_files(
    data: &data::RunData,
    charts: bool,
) -> Result<(Vec<NamedFile>, std::time::Duration), ReportError> {
    let t0 = std::time::Instant::now();
    let pngs = if charts {
        charts::render_run_charts(data)?
    } else {
        Vec::new()
    };
    let took = t0.elapsed();
    let shown: Vec<(&str, &str)> = charts::run_chart_names(data)
        .into_iter()
        .filter(|(n, _)| pngs.iter().any(|(p, _)| p == n))
        .collect();
    let mut files = vec![(
        "report.md".to_string(),
        markdown::report_md(data, &shown).into_bytes(),
    )];
    files.extend(pngs.into_iter().map(|(n, b)| (n.to_string(), b)));
    Ok((files, took))
}

/// What [`write_run_report`] and [`write_report`] wrote.
#[derive(Debug)]
pub struct Written {
    /// The files written, in writing order.
    pub paths: Vec<PathBuf>,
    /// Time spent drawing and encoding the charts.
    pub chart_time: std::time::Duration,
}

/// Writes a run's data files, its charts (unless `!charts`) and
/// `report.md` into `dir`, all or nothing. The report is drawn from the data
/// files as rendered (read back through [`data::RunData`]), exactly as
/// `stickysim report DIR` would draw it from disk.
pub fn write_run_report(
    dir: &Path,
    meta: &RunMeta,
    results: &[StrategyResult],
    charts: bool,
) -> Result<Written, ReportError> {
    write_run_report_replicated(dir, meta, results, &single(results), charts)
}

/// [`write_run_report`] of a replicated run (see [`data_files_replicated`]).
/// A `replications.csv` left by an earlier run with more replications is
/// removed when this run has one.
pub fn write_run_report_replicated(
    dir: &Path,
    meta: &RunMeta,
    results: &[StrategyResult],
    reps: &[Vec<RunSummary>],
    charts: bool,
) -> Result<Written, ReportError> {
    let mut files: Vec<(String, Vec<u8>)> = data_files_replicated(meta, results, reps)
        .into_iter()
        .map(|(n, c)| (n.to_string(), c.into_bytes()))
        .collect();
    let data = data::RunData::from_files(&files)?;
    let (report, chart_time) = report_files(&data, charts)?;
    files.extend(report);
    let written = write_files(dir, &files, chart_time)?;
    if !files.iter().any(|(n, _)| n == "replications.csv") {
        let _ = fs::remove_file(dir.join("replications.csv"));
    }
    Ok(written)
}

/// Redraws the charts (unless `!charts`) and `report.md` of the run in
/// `dir` from its files, without touching them.
pub fn write_report(dir: &Path, charts: bool) -> Result<Written, ReportError> {
    let data = data::RunData::read_dir(dir)?;
    let (files, chart_time) = report_files(&data, charts)?;
    write_files(dir, &files, chart_time)
}

fn write_files(
    dir: &Path,
    files: &[(String, Vec<u8>)],
    chart_time: std::time::Duration,
) -> Result<Written, ReportError> {
    let named: Vec<(&str, &[u8])> = files.iter().map(|(n, c)| (n.as_str(), &c[..])).collect();
    write_all_or_nothing(dir, &named).map_err(|source| ReportError::Io {
        dir: dir.display().to_string(),
        source,
    })?;
    // Charts of an earlier report that this one does not have would
    // contradict it: remove them.
    for (name, _, _) in charts::RUN_CHARTS {
        if !files.iter().any(|(n, _)| n == name) {
            let _ = fs::remove_file(dir.join(name));
        }
    }
    Ok(Written {
        paths: files.iter().map(|(n, _)| dir.join(n)).collect(),
        chart_time,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_write_leaves_the_previous_run_whole() {
        let dir = std::env::temp_dir().join(format!("stickysim-aon-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let old: [(&str, String); 3] = [
            ("a.csv", "old a".into()),
            ("b.csv", "old b".into()),
            ("c.csv", "old c".into()),
        ];
        write_all_or_nothing(&dir, &old).unwrap();
        // Block the third file's backup path with a non-empty directory, so
        // moving the old c.csv aside fails after a.csv and b.csv were replaced.
        let blocker = dir.join(format!(".c.csv.old-{}", std::process::id()));
        fs::create_dir_all(blocker.join("x")).unwrap();
        let r = write_all_or_nothing(
            &dir,
            &[
                ("a.csv", "new a".to_string()),
                ("b.csv", "new b".to_string()),
                ("c.csv", "new c".to_string()),
            ],
        );
        assert!(r.is_err());
        assert_eq!(fs::read_to_string(dir.join("a.csv")).unwrap(), "old a");
        assert_eq!(fs::read_to_string(dir.join("b.csv")).unwrap(), "old b");
        assert_eq!(fs::read_to_string(dir.join("c.csv")).unwrap(), "old c");
        fs::remove_dir_all(&blocker).unwrap();
        let mut left: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        assert_eq!(
            left,
            ["a.csv", "b.csv", "c.csv"],
            "no temporary files left behind"
        );
        // And a successful write replaces everything.
        write_all_or_nothing(
            &dir,
            &[
                ("a.csv", "new a".to_string()),
                ("c.csv", "new c".to_string()),
            ],
        )
        .unwrap();
        assert_eq!(fs::read_to_string(dir.join("a.csv")).unwrap(), "new a");
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 3);
        fs::remove_dir_all(&dir).unwrap();
    }
}
