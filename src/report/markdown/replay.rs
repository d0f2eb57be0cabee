//! `## The scenario` of a replayed run: the log, how its sessions were
//! told apart, and what reading it found.

use super::text::{count, duration, num};
use crate::report::data::{ReplayFacts, ScenarioFacts};
use crate::text::{code, markdown};
use std::fmt::Write as _;

/// The replay's lines of `## The scenario`.
pub(super) fn replay_lines(o: &mut String, f: &ScenarioFacts, r: &ReplayFacts) {
    let mut how = Vec::new();
    if r.speed != 1.0 {
        how.push(format!("{}× faster", num(r.speed)));
    }
    if r.scale > 1 {
        how.push(format!(
            "each session {} times from distinct addresses",
            r.scale
        ));
    }
    let _ = writeln!(
        o,
        "- Replayed from the access log {} ({} format){}: {} simulated, the first {} a warm-up that is not measured; {} requests in {} sessions, told apart by {}; service times {}.",
        code(&r.log),
        code(&r.format),
        if how.is_empty() {
            String::new()
        } else {
            format!(", {}", how.join(", "))
        },
        duration(f.duration_s),
        duration(f.warmup_s),
        count(r.replayed as f64 * f64::from(r.scale)),
        count(r.sessions as f64),
        markdown(&r.identity),
        if r.service_from_log == 0 {
            format!(
                "drawn from `service_time` (mean {} ms)",
                num(f.service_time_mean_s * 1000.0)
            )
        } else if r.service_from_log == r.replayed {
            "from the log".to_string()
        } else {
            format!(
                "from the log for {} requests, else drawn from `service_time`",
                count(r.service_from_log as f64)
            )
        },
    );
    let _ = writeln!(
        o,
        "- Log lines: {} read, {} replayed, {} bad and skipped, {} reordered within the window, {} too far out of order and skipped, {} excluded, {} outside the window or the run; {} address changes within a session.",
        count(r.lines as f64),
        count(r.replayed as f64),
        count(r.skipped as f64),
        count(r.reordered as f64),
        count(r.late as f64),
        count(r.excluded as f64),
        count(r.outside as f64),
        count(r.address_changes as f64),
    );
    if !r.first_bad.is_empty() {
        let bad: Vec<String> = r.first_bad.iter().map(|b| code(b)).collect();
        let _ = writeln!(o, "- First bad lines: {}.", bad.join("; "));
    }
}
