//! The numeric quantities of a [`RunSummary`] a decision may name: every
//! numeric column of `summary.csv` under its column name, plus two shares
//! derived from counts (`rejected_pct`, `failed_pct`). Objectives,
//! constraints and SLO assertions are written in these names.

use super::RunSummary;

/// Columns computed from others rather than written in `summary.csv`.
pub const DERIVED_COLUMNS: &[&str] = &["rejected_pct", "failed_pct"];

/// Every column a decision, constraint or assertion may name, in
/// `summary.csv` order, then the [`DERIVED_COLUMNS`].
pub const DECISION_COLUMNS: &[&str] = &[
    "requests",
    "completed",
    "failed",
    "retried",
    "rejected",
    "in_flight_end",
    "sessions",
    "sessions_completed",
    "sessions_active_end",
    "sessions_lost",
    "sessions_lost_pct",
    "sessions_lost_finished_pct",
    "lost_failure",
    "lost_ip_change",
    "lost_cookie_blocked",
    "lost_ttl_expired",
    "lost_rebalanced",
    "lost_token_rotation",
    "lost_deploy",
    "lost_scale_in",
    "loss_events",
    "losses_avoided",
    "latency_mean_ms",
    "retry_delay_mean_ms",
    "state_latency_mean_ms",
    "latency_p50_ms",
    "latency_p95_ms",
    "latency_p99_ms",
    "latency_p999_ms",
    "latency_max_ms",
    "util_mean",
    "util_max",
    "imbalance_util_max_over_mean",
    "requests_cv",
    "max_backend_request_share",
    "measured_s",
    "rejected_pct",
    "failed_pct",
];

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
    let v = match name {
        "requests" => s.requests as f64,
        "completed" => s.completed as f64,
        "failed" => s.failed as f64,
        "retried" => s.retried as f64,
        "rejected" => s.rejected as f64,
        "in_flight_end" => s.in_flight_end as f64,
        "sessions" => s.sessions as f64,
        "sessions_completed" => s.sessions_completed as f64,
        "sessions_active_end" => s.sessions_active_end as f64,
        "sessions_lost" => s.sessions_lost as f64,
        "sessions_lost_pct" => s.sessions_lost_pct,
        "sessions_lost_finished_pct" => s.sessions_lost_finished_pct,
        "lost_failure" => s.lost_failure as f64,
        "lost_ip_change" => s.lost_ip_change as f64,
        "lost_cookie_blocked" => s.lost_cookie_blocked as f64,
        "lost_ttl_expired" => s.lost_ttl_expired as f64,
        "lost_rebalanced" => s.lost_rebalanced as f64,
        "lost_token_rotation" => s.lost_token_rotation as f64,
        "lost_deploy" => s.lost_deploy as f64,
        "lost_scale_in" => s.lost_scale_in as f64,
        "loss_events" => s.loss_events as f64,
        "losses_avoided" => s.losses_avoided as f64,
        "latency_mean_ms" => s.latency_mean_ms,
        "retry_delay_mean_ms" => s.retry_delay_mean_ms,
        "state_latency_mean_ms" => s.state_latency_mean_ms,
        "latency_p50_ms" => s.latency_p50_ms,
        "latency_p95_ms" => s.latency_p95_ms,
        "latency_p99_ms" => s.latency_p99_ms,
        "latency_p999_ms" => s.latency_p999_ms,
        "latency_max_ms" => s.latency_max_ms,
        "util_mean" => s.util_mean,
        "util_max" => s.util_max,
        "imbalance_util_max_over_mean" => s.imbalance_util_max_over_mean,
        "requests_cv" => s.requests_cv,
        "max_backend_request_share" => s.max_backend_request_share,
        "measured_s" => s.measured_s,
        "rejected_pct" => pct(s.rejected, s.requests),
        "failed_pct" => pct(s.failed, s.requests),
        _ => return None,
    };
    Some(v)
}

/// Every column's value in `s`, in [`DECISION_COLUMNS`] order.
pub fn values(s: &RunSummary) -> Vec<(&'static str, f64)> {
    DECISION_COLUMNS
        .iter()
        .map(|&n| (n, value(s, n).expect("every decision column has a value")))
        .collect()
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
