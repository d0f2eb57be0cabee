//! A run's data files rendered in memory: `summary.csv`, `summary.json`,
//! `backends.csv`, `events.csv`, `instances.csv` (and, replicated,
//! `replications.csv` through [`super::replicated`]).

use super::{replicated, CsvOut, RunMeta, StrategyResult};
use crate::metrics::RunSummary;
use crate::routing::StrategyKind;
use serde::Serialize;

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
    ("sessions_lost_finished_pct", |s| {
        f(s.sessions_lost_finished_pct, 4)
    }),
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
    ("retry_delay_mean_ms", |s| f(s.retry_delay_mean_ms, 3)),
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

/// Columns `summary.csv` has after the [`SUMMARY_COLUMNS`], each only
/// when some strategy's value is not 0 (users who retried or gave up,
/// `[[clients]] retry`; retries a budget refused, `[[strategies]] retry`),
/// so runs without them keep their columns.
pub(super) const RETRY_COLUMNS: &[(&str, Count)] = &[
    ("client_retries", |s| s.client_retries),
    ("abandoned", |s| s.abandoned),
    ("retries_over_budget", |s| s.retries_over_budget),
    ("timed_out", |s| s.timed_out),
];

/// A count a [`RETRY_COLUMNS`] column reads.
type Count = fn(&RunSummary) -> u64;

/// The [`RETRY_COLUMNS`] some strategy of `results` has a count in.
fn retry_columns(results: &[StrategyResult]) -> Vec<(&'static str, Count)> {
    RETRY_COLUMNS
        .iter()
        .filter(|(_, get)| results.iter().any(|r| get(r.summary) > 0))
        .copied()
        .collect()
}

/// Whether the summary's strategy kind has affinity, by routing's registry.
fn is_sticky(s: &RunSummary) -> bool {
    StrategyKind::from_name(&s.kind).is_some_and(StrategyKind::is_sticky)
}

/// The run's identity columns, last in every CSV file of a run
/// (`summary.csv`, `backends.csv`, `events.csv`, `instances.csv`), so a file
/// copied in from another run is caught when the report is drawn.
pub const IDENTITY_COLUMNS: [&str; 3] = ["scenario", "seed", "scenario_hash"];

/// A CSV file of a run: `columns`, then the [`IDENTITY_COLUMNS`].
pub(super) fn run_csv(columns: &[&str]) -> CsvOut {
    CsvOut::with_header(columns.iter().chain(&IDENTITY_COLUMNS))
}

/// The identity cells that end every row of a run's CSV files.
pub(super) fn identity_cells(meta: &RunMeta) -> [String; 3] {
    [
        meta.scenario.clone(),
        meta.seed.to_string(),
        meta.scenario_hash.clone(),
    ]
}

/// The names of the [`SUMMARY_COLUMNS`].
pub(super) fn summary_column_names() -> Vec<&'static str> {
    SUMMARY_COLUMNS.iter().map(|(n, _)| *n).collect()
}

/// `summary.csv`: one row per strategy, then the run's identity columns.
pub fn summary_csv(meta: &RunMeta, results: &[StrategyResult]) -> String {
    let extra = retry_columns(results);
    let mut names = summary_column_names();
    names.extend(extra.iter().map(|(n, _)| *n));
    let mut out = run_csv(&names);
    let id = identity_cells(meta);
    for r in results {
        out.row(
            SUMMARY_COLUMNS
                .iter()
                .map(|(_, get)| get(r.summary))
                .chain(extra.iter().map(|(_, get)| get(r.summary).to_string()))
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
pub(super) fn single(results: &[StrategyResult]) -> Vec<Vec<RunSummary>> {
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

/// `columns` with `backend_name` after `backend` when the backends are
/// named (`[backends] names`).
fn with_names<'a>(columns: &[&'a str], named: bool) -> Vec<&'a str> {
    let mut c = columns.to_vec();
    if named {
        let at = c
            .iter()
            .position(|&x| x == "backend")
            .map_or(c.len(), |i| i + 1);
        c.insert(at, "backend_name");
    }
    c
}

/// `backends.csv`: per strategy, backend and time bucket, then the run's
/// identity columns.
pub fn backends_csv(meta: &RunMeta, results: &[StrategyResult]) -> String {
    let named = !meta.backend_names.is_empty();
    let mut out = run_csv(&with_names(BACKEND_COLUMNS, named));
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
                meta.backend_name(row.backend),
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
            out.row(
                cells
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| named || *i != 2)
                    .map(|(_, c)| c)
                    .chain(&id),
            );
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
    let named = !meta.backend_names.is_empty();
    let mut out = run_csv(&with_names(EVENT_COLUMNS, named));
    let id = identity_cells(meta);
    for r in results {
        for e in r.events {
            let cells = [
                r.summary.strategy.clone(),
                format!("{:.3}", e.t_ns as f64 / 1e9),
                e.kind.name().to_string(),
                e.backend.map_or(String::new(), |b| format!("b{b}")),
                e.backend.map_or(String::new(), |b| meta.backend_name(b)),
            ];
            out.row(cells.iter().take(if named { 5 } else { 4 }).chain(&id));
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

/// The columns of `latency_percentiles.csv` (documented in
/// `docs/output.md`), before the [`IDENTITY_COLUMNS`].
pub const LATENCY_PERCENTILE_COLUMNS: &[&str] =
    &["strategy", "replication", "percentile", "latency_ms"];

/// `latency_percentiles.csv`: per strategy and replication, the latency at
/// each of [`crate::metrics::LATENCY_PERCENTILES`] from the recorded
/// histogram, then the run's identity columns. `reps[s]` are strategy
/// `s`'s summaries in replication order.
pub fn latency_percentiles_csv(meta: &RunMeta, reps: &[Vec<RunSummary>]) -> String {
    let mut out = run_csv(LATENCY_PERCENTILE_COLUMNS);
    let id = identity_cells(meta);
    for runs in reps {
        for (r, run) in runs.iter().enumerate() {
            for (p, ms) in crate::metrics::LATENCY_PERCENTILES
                .iter()
                .zip(&run.latency_curve_ms)
            {
                let cells = [
                    run.strategy.clone(),
                    r.to_string(),
                    format!("{p}"),
                    format!("{ms:.3}"),
                ];
                out.row(cells.iter().chain(&id));
            }
        }
    }
    out.finish()
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
    files.push((
        "latency_percentiles.csv",
        latency_percentiles_csv(meta, reps),
    ));
    files
}
