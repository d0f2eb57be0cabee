//! The numeric quantities of a [`RunSummary`] a decision may name: every
//! numeric column of `summary.csv` under its column name, plus two shares
//! derived from counts (`rejected_pct`, `failed_pct`). Objectives,
//! constraints and SLO assertions are written in these names.

use super::RunSummary;

/// Columns computed from others rather than written in `summary.csv`.
pub const DERIVED_COLUMNS: &[&str] = &["rejected_pct", "failed_pct"];

/// Reads one column's value from a summary.
type Getter = fn(&RunSummary) -> f64;

/// Every column a decision may name with how to read it from a
/// [`RunSummary`]: one row per column, in `summary.csv` order, then the
/// [`DERIVED_COLUMNS`].
const TABLE: &[(&str, Getter)] = &[
    ("requests", |s| s.requests as f64),
    ("completed", |s| s.completed as f64),
    ("failed", |s| s.failed as f64),
    ("retried", |s| s.retried as f64),
    ("rejected", |s| s.rejected as f64),
    ("in_flight_end", |s| s.in_flight_end as f64),
    ("sessions", |s| s.sessions as f64),
    ("sessions_completed", |s| s.sessions_completed as f64),
    ("sessions_active_end", |s| s.sessions_active_end as f64),
    ("sessions_lost", |s| s.sessions_lost as f64),
    ("sessions_lost_pct", |s| s.sessions_lost_pct),
    ("sessions_lost_finished_pct", |s| {
        s.sessions_lost_finished_pct
    }),
    ("lost_failure", |s| s.lost_failure as f64),
    ("lost_ip_change", |s| s.lost_ip_change as f64),
    ("lost_cookie_blocked", |s| s.lost_cookie_blocked as f64),
    ("lost_ttl_expired", |s| s.lost_ttl_expired as f64),
    ("lost_rebalanced", |s| s.lost_rebalanced as f64),
    ("lost_token_rotation", |s| s.lost_token_rotation as f64),
    ("lost_deploy", |s| s.lost_deploy as f64),
    ("lost_scale_in", |s| s.lost_scale_in as f64),
    ("loss_events", |s| s.loss_events as f64),
    ("losses_avoided", |s| s.losses_avoided as f64),
    ("latency_mean_ms", |s| s.latency_mean_ms),
    ("retry_delay_mean_ms", |s| s.retry_delay_mean_ms),
    ("state_latency_mean_ms", |s| s.state_latency_mean_ms),
    ("latency_p50_ms", |s| s.latency_p50_ms),
    ("latency_p95_ms", |s| s.latency_p95_ms),
    ("latency_p99_ms", |s| s.latency_p99_ms),
    ("latency_p999_ms", |s| s.latency_p999_ms),
    ("latency_max_ms", |s| s.latency_max_ms),
    ("util_mean", |s| s.util_mean),
    ("util_max", |s| s.util_max),
    ("imbalance_util_max_over_mean", |s| {
        s.imbalance_util_max_over_mean
    }),
    ("requests_cv", |s| s.requests_cv),
    ("max_backend_request_share", |s| s.max_backend_request_share),
    ("measured_s", |s| s.measured_s),
    ("rejected_pct", |s| pct(s.rejected, s.requests)),
    ("failed_pct", |s| pct(s.failed, s.requests)),
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
    TABLE
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, get)| get(s))
}

/// Every column's value in `s`, in [`DECISION_COLUMNS`] order.
pub fn values(s: &RunSummary) -> Vec<(&'static str, f64)> {
    TABLE.iter().map(|&(n, get)| (n, get(s))).collect()
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
