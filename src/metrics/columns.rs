//! The numeric quantities of a [`RunSummary`] a decision may name: every
//! numeric column of `summary.csv` under its column name, plus two shares
//! derived from counts (`rejected_pct`, `failed_pct`). Objectives,
//! constraints and SLO assertions are written in these names.

use super::RunSummary;

/// Columns computed from others rather than written in `summary.csv`.
pub const DERIVED_COLUMNS: &[&str] = &["rejected_pct", "failed_pct"];

/// Reads one column's value from a summary.
type Getter = fn(&RunSummary) -> f64;

/// Which way a column is better, for a column that has one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Better {
    /// Less is better: losses, failures, rejections, latency, imbalance.
    Lower,
    /// More is better: completions, losses avoided.
    Higher,
}

const LOWER: Option<Better> = Some(Better::Lower);
const HIGHER: Option<Better> = Some(Better::Higher);
/// Counts that measure the workload or the fleet, not the strategy's quality.
const NEITHER: Option<Better> = None;

/// Every column a decision may name with which way it is better and how
/// to read it from a [`RunSummary`]: one row per column, in `summary.csv` order, then the
/// [`DERIVED_COLUMNS`].
const TABLE: &[(&str, Option<Better>, Getter)] = &[
    ("requests", NEITHER, |s| s.requests as f64),
    ("completed", HIGHER, |s| s.completed as f64),
    ("failed", LOWER, |s| s.failed as f64),
    ("retried", LOWER, |s| s.retried as f64),
    ("rejected", LOWER, |s| s.rejected as f64),
    ("in_flight_end", NEITHER, |s| s.in_flight_end as f64),
    ("sessions", NEITHER, |s| s.sessions as f64),
    ("sessions_completed", HIGHER, |s| {
        s.sessions_completed as f64
    }),
    ("sessions_active_end", NEITHER, |s| {
        s.sessions_active_end as f64
    }),
    ("sessions_lost", LOWER, |s| s.sessions_lost as f64),
    ("sessions_lost_pct", LOWER, |s| s.sessions_lost_pct),
    ("sessions_lost_finished_pct", LOWER, |s| {
        s.sessions_lost_finished_pct
    }),
    ("lost_failure", LOWER, |s| s.lost_failure as f64),
    ("lost_ip_change", LOWER, |s| s.lost_ip_change as f64),
    ("lost_cookie_blocked", LOWER, |s| {
        s.lost_cookie_blocked as f64
    }),
    ("lost_ttl_expired", LOWER, |s| s.lost_ttl_expired as f64),
    ("lost_rebalanced", LOWER, |s| s.lost_rebalanced as f64),
    ("lost_token_rotation", LOWER, |s| {
        s.lost_token_rotation as f64
    }),
    ("lost_deploy", LOWER, |s| s.lost_deploy as f64),
    ("lost_scale_in", LOWER, |s| s.lost_scale_in as f64),
    ("loss_events", LOWER, |s| s.loss_events as f64),
    ("losses_avoided", HIGHER, |s| s.losses_avoided as f64),
    ("latency_mean_ms", LOWER, |s| s.latency_mean_ms),
    ("retry_delay_mean_ms", LOWER, |s| s.retry_delay_mean_ms),
    ("state_latency_mean_ms", LOWER, |s| s.state_latency_mean_ms),
    ("latency_p50_ms", LOWER, |s| s.latency_p50_ms),
    ("latency_p95_ms", LOWER, |s| s.latency_p95_ms),
    ("latency_p99_ms", LOWER, |s| s.latency_p99_ms),
    ("latency_p999_ms", LOWER, |s| s.latency_p999_ms),
    ("latency_max_ms", LOWER, |s| s.latency_max_ms),
    ("util_mean", NEITHER, |s| s.util_mean),
    ("util_max", LOWER, |s| s.util_max),
    ("imbalance_util_max_over_mean", LOWER, |s| {
        s.imbalance_util_max_over_mean
    }),
    ("requests_cv", LOWER, |s| s.requests_cv),
    ("max_backend_request_share", LOWER, |s| {
        s.max_backend_request_share
    }),
    ("measured_s", NEITHER, |s| s.measured_s),
    ("rejected_pct", LOWER, |s| pct(s.rejected, s.requests)),
    ("failed_pct", LOWER, |s| pct(s.failed, s.requests)),
];

/// The names of [`TABLE`], in order.
const NAMES: [&str; TABLE.len()] = {
    let mut out = [""; TABLE.len()];
    let mut i = 0;
    while i < TABLE.len() {
        out[i] = TABLE[i].0;
        i += 1;
    }
    out
};

/// Every column a decision, constraint or assertion may name, in
/// `summary.csv` order, then the [`DERIVED_COLUMNS`].
pub const DECISION_COLUMNS: &[&str] = &NAMES;

/// `part / whole` in percent, 0 when `whole` is 0.
fn pct(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 * 100.0 / whole as f64
    }
}

/// The value of column `name` in `s`; `None` for a name not in
/// [`DECISION_COLUMNS`].
pub fn value(s: &RunSummary, name: &str) -> Option<f64> {
    row(name).map(|(_, _, get)| get(s))
}

/// The [`TABLE`] row of column `name`.
fn row(name: &str) -> Option<&'static (&'static str, Option<Better>, Getter)> {
    TABLE.iter().find(|(n, _, _)| *n == name)
}

/// Which way column `name` is better; `None` for a column that measures
/// the workload rather than the strategy, or a name not in
/// [`DECISION_COLUMNS`].
pub fn better(name: &str) -> Option<Better> {
    row(name).and_then(|&(_, b, _)| b)
}

/// Every column's value in `s`, in [`DECISION_COLUMNS`] order.
pub fn values(s: &RunSummary) -> Vec<(&'static str, f64)> {
    TABLE.iter().map(|&(n, _, get)| (n, get(s))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::SUMMARY_COLUMNS;

    #[test]
    fn decision_columns_are_the_numeric_summary_columns_plus_the_derived() {
        // Text columns, and `sticky` (a 0/1 flag of the strategy, not a result).
        let text = ["strategy", "kind", "sticky", "placement"];
        let from_summary: Vec<&str> = SUMMARY_COLUMNS
            .iter()
            .map(|(n, _)| *n)
            .filter(|n| !text.contains(n))
            .chain(DERIVED_COLUMNS.iter().copied())
            .collect();
        assert_eq!(from_summary, DECISION_COLUMNS);
    }

    #[test]
    fn every_column_reads_its_own_field() {
        let s = RunSummary {
            requests: 2000,
            rejected: 3,
            failed: 10,
            sessions_lost_pct: 1.25,
            latency_p99_ms: 420.0,
            util_max: 0.8,
            ..RunSummary::default()
        };
        // Each value read back matches what `summary.csv` writes for it.
        for (name, get) in SUMMARY_COLUMNS {
            if let Some(v) = value(&s, name) {
                assert_eq!(get(&s).parse::<f64>().unwrap(), v, "{name}");
            }
        }
        assert_eq!(value(&s, "rejected_pct"), Some(0.15));
        assert_eq!(value(&s, "failed_pct"), Some(0.5));
        assert_eq!(value(&s, "nope"), None);
        assert_eq!(values(&s).len(), DECISION_COLUMNS.len());
        assert_eq!(value(&RunSummary::default(), "rejected_pct"), Some(0.0));
    }
}
