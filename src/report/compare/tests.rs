//! Tests of the compare module.

use super::*;

#[test]
fn directions_follow_the_column_and_the_objective() {
    assert_eq!(direction("sessions_lost_pct", None), Some(Goal::Minimize));
    assert_eq!(direction("lost_failure", None), Some(Goal::Minimize));
    assert_eq!(direction("latency_p99_ms", None), Some(Goal::Minimize));
    assert_eq!(direction("losses_avoided", None), Some(Goal::Maximize));
    assert_eq!(direction("requests", None), None);
    let o = Objective {
        goal: Goal::Maximize,
        column: "util_mean",
    };
    assert_eq!(direction("util_mean", Some(&o)), Some(Goal::Maximize));
}

#[test]
fn a_paired_change_is_tested_on_the_per_replication_differences() {
    // B − A per replication: 1, 0.5, 1, 1, 1.5 → 1.0 ± 0.439 (the
    // decision module's hand computation): worse on a loss column.
    let a = [10.0, 12.0, 11.0, 13.0, 14.0];
    let b = [11.0, 12.5, 12.0, 14.0, 15.5];
    let c = change(
        "sessions_lost_pct",
        &a,
        &b,
        Method::Paired,
        &DEFAULT_OBJECTIVE,
    );
    assert!((c.diff - 1.0).abs() < 1e-12);
    assert!((c.diff_hw.unwrap() - 0.438_995).abs() < 1e-6);
    assert_eq!(c.judgement, Judgement::Worse);
    // The same numbers as independent samples cannot tell.
    let c = change(
        "sessions_lost_pct",
        &a,
        &b,
        Method::Welch,
        &DEFAULT_OBJECTIVE,
    );
    assert_eq!(c.judgement, Judgement::Indistinguishable);
    // Without an interval a strict difference is judged on its sign.
    let c = change(
        "latency_p99_ms",
        &[5.0],
        &[4.0],
        Method::None,
        &DEFAULT_OBJECTIVE,
    );
    assert_eq!((c.judgement, c.diff_hw), (Judgement::Better, None));
    let c = change("requests", &[5.0], &[4.0], Method::None, &DEFAULT_OBJECTIVE);
    assert_eq!(c.judgement, Judgement::Changed);
    let c = change(
        "requests",
        &[5.0, 6.0],
        &[5.0, 6.0],
        Method::Paired,
        &DEFAULT_OBJECTIVE,
    );
    assert_eq!(c.judgement, Judgement::Same);
}
