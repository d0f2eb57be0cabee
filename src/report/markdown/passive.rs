//! The passive-health finding: what a strategy whose passive health checks
//! ejected a crashed backend sent there, against a strategy of the same
//! kind that relied on its active checks alone.

use super::text::{count, num};
use crate::metrics::ControlKind;
use crate::report::data::RunData;

/// Per strategy with `ejected` events: the requests that reached a dead
/// backend (`hits`, from the findings' `dead_hits`), failed and retried,
/// against the first strategy of the same kind with no ejection, and how
/// soon after the first crash each took the backend out (its first
/// ejection; the other's first `marked_down`). Needs `events.csv`.
pub(super) fn passive_health_findings(data: &RunData, hits: &[f64]) -> Vec<String> {
    let mut out = Vec::new();
    let Some(events) = &data.events else {
        return out;
    };
    let sm = &data.summary;
    let n = data.strategies.len();
    let name = |s: usize| format!("`{}`", data.strategies[s]);
    let v = |s: usize, c: &str| sm.num(s, c);
    let ejects = |s: usize| data.has_event(s, ControlKind::Ejected);
    // The first crash of a backend, and the first `kind` event of that
    // backend after it, for strategy `s`.
    let after_crash = |s: usize, kind: ControlKind| -> Option<f64> {
        let crash = events
            .iter()
            .find(|e| e.strategy == s && e.event == ControlKind::Crash)?;
        events
            .iter()
            .find(|e| {
                e.strategy == s
                    && e.event == kind
                    && e.backend == crash.backend
                    && e.time_s >= crash.time_s
            })
            .map(|e| e.time_s - crash.time_s)
    };
    for s in (0..n).filter(|&s| ejects(s)) {
        let Some(base) = (0..n).find(|&o| o != s && sm.kind(o) == sm.kind(s) && !ejects(o)) else {
            continue;
        };
        if hits[base] <= 0.0 {
            continue;
        }
        let mut line = format!(
            "Passive health checks: {} sent {} requests to a crashed backend ({} retried, {} failed) against {} for {} ({} retried, {} failed), which relies on its active health checks alone",
            name(s),
            count(hits[s]),
            count(v(s, "retried")),
            count(v(s, "failed")),
            count(hits[base]),
            name(base),
            count(v(base, "retried")),
            count(v(base, "failed")),
        );
        if data.replications.is_some() {
            line.push_str(" (means over the replications)");
        }
        let (fewer, more) = (hits[base] / hits[s], hits[s] / hits[base]);
        let times = |r: f64| {
            let digits = if r >= 100.0 { 0 } else { 1 };
            format!("{r:.digits$}×")
        };
        if hits[s] <= 0.0 {
            line.push_str(": none at all");
        } else if fewer > 1.0 {
            line.push_str(&format!(": {} fewer", times(fewer)));
        } else if more > 1.0 {
            // A backend that holds connections (`blackhole`, `hang`) already
            // keeps least-connections away; the checks' own failures add up.
            line.push_str(&format!(": {} as many", times(more)));
        } else {
            line.push_str(": as many");
        }
        let secs = |t: f64| {
            if t < 1.0 {
                format!("{} ms", num(t * 1e3))
            } else {
                format!("{} s", num(t))
            }
        };
        if let (Some(e), Some(d)) = (
            after_crash(s, ControlKind::Ejected),
            after_crash(base, ControlKind::MarkedDown),
        ) {
            line.push_str(&format!(
                "; it ejected the backend {} after its first crash, where the active checks of {} marked it down after {}",
                secs(e),
                name(base),
                secs(d)
            ));
        }
        line.push('.');
        out.push(line);
    }
    out
}
