//! A shared-store outage as a run's files show it, for the findings.

use super::text::median;
use crate::metrics::ControlKind;
use crate::report::data::RunData;

/// A shared-store outage as the files show it.
pub(super) struct StoreOutage {
    /// Measured seconds the store was down, and how many outages.
    pub(super) down_s: f64,
    pub(super) outages: usize,
    pub(super) first_s: f64,
    /// Measured buckets overlapping an outage; requests the strategy's
    /// backends received in them; the median of the local-state strategies'
    /// (the same workload, untouched by the store).
    pub(super) buckets: usize,
    pub(super) received: f64,
    pub(super) baseline: f64,
    /// `baseline − received`: requests the outage failed, about (0 without
    /// a local-state strategy to compare with).
    pub(super) failed_est: f64,
}

/// Strategy `s`'s shared-store outages (`store_down`/`store_up` in
/// `events.csv`), within the measured window; `None` if there were none.
pub(super) fn store_outage(data: &RunData, s: usize) -> Option<StoreOutage> {
    let warm = data.warmup_s();
    let end = data.end_s();
    let mut windows: Vec<(f64, f64)> = Vec::new();
    let mut down: Option<f64> = None;
    for e in data.events_of(s) {
        match e.event {
            ControlKind::StoreDown => down = down.or(Some(e.time_s)),
            ControlKind::StoreUp => {
                if let Some(t) = down.take() {
                    windows.push((t, e.time_s));
                }
            }
            _ => {}
        }
    }
    if let Some(t) = down {
        windows.push((t, end));
    }
    let windows: Vec<(f64, f64)> = windows
        .into_iter()
        .map(|(a, b)| (a.max(warm), b))
        .filter(|(a, b)| b > a)
        .collect();
    if windows.is_empty() {
        return None;
    }
    let overlaps = |t0: f64, t1: f64| windows.iter().any(|&(a, b)| a < t1 && t0 < b);
    let per_bucket = |x: usize| {
        let mut m: std::collections::BTreeMap<i64, f64> = Default::default();
        for r in data.backend_rows(x) {
            if r.t_start_s >= warm && overlaps(r.t_start_s, r.t_end_s) {
                *m.entry((r.t_start_s * 1000.0).round() as i64).or_default() += r.requests;
            }
        }
        m
    };
    let mine = per_bucket(s);
    let others: Vec<_> = (0..data.strategies.len())
        .filter(|&x| data.summary.text(x, "placement") == "local")
        .map(per_bucket)
        .collect();
    let (mut received, mut baseline, mut buckets) = (0.0, 0.0, 0);
    if !others.is_empty() {
        let keys: std::collections::BTreeSet<i64> =
            others.iter().flat_map(|m| m.keys().copied()).collect();
        for k in keys {
            let base: Vec<f64> = others
                .iter()
                .map(|m| m.get(&k).copied().unwrap_or(0.0))
                .collect();
            received += mine.get(&k).copied().unwrap_or(0.0);
            baseline += median(&base);
            buckets += 1;
        }
    }
    Some(StoreOutage {
        down_s: windows.iter().map(|(a, b)| b - a).sum(),
        outages: windows.len(),
        first_s: windows[0].0,
        buckets,
        received,
        baseline,
        failed_est: (baseline - received).max(0.0),
    })
}
