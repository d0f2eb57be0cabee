//! A replayed run's log, judged after the runs and before anything is
//! written: a log that could not be read, held no line of its format or
//! none in the window, or broke `strict`, is an error (exit 2); skipped
//! lines are a warning. And the facts the report tells about it.

use crate::replay::{Format, ReplayStats};
use crate::report::data::ReplayFacts;
use crate::scenario::replay::Replay;
use crate::scenario::Scenario;
use anyhow::{bail, Result};

/// `line N: what` for each of the first bad lines.
fn first_bad(stats: &ReplayStats) -> Vec<String> {
    stats
        .first_bad
        .iter()
        .map(|(n, what)| format!("line {n}: {}", crate::text::terminal(what)))
        .collect()
}

/// The error a replay's `stats` make, if any; else the warnings.
pub(super) fn check(r: &Replay, stats: &ReplayStats) -> Result<Vec<String>> {
    let log = r.path.display();
    if let Some(e) = &stats.error {
        bail!("workload.replay: {log}: {}", crate::text::terminal(e));
    }
    let format = r.format;
    let hint = if format == Format::Jsonl {
        " (see `workload.replay.fields` for the field names)"
    } else {
        ""
    };
    if stats.lines == 0 {
        bail!("workload.replay: {log}: the log has no lines (format `{format}`)");
    }
    if stats.valid == 0 {
        let first = first_bad(stats);
        bail!(
            "workload.replay: {log}: no line parsed as format `{format}`{hint}: {} line{} read, \
             the first: {}",
            stats.lines,
            if stats.lines == 1 { "" } else { "s" },
            first.first().map_or("", String::as_str)
        );
    }
    if stats.replayed == 0 {
        bail!(
            "workload.replay: {log}: none of the {} parsed lines falls in the replay window \
             ({} excluded by `exclude`, {} before `from`, at or after `to` or past the run, {} \
             too far out of order)",
            stats.valid,
            stats.excluded,
            stats.outside,
            stats.late
        );
    }
    let mut warnings = Vec::new();
    if stats.skipped > 0 {
        warnings.push(format!(
            "{log}: {} bad line{} skipped (of {}); {}",
            stats.skipped,
            if stats.skipped == 1 { "" } else { "s" },
            stats.lines,
            first_bad(stats).join("; ")
        ));
    }
    if stats.late > 0 {
        warnings.push(format!(
            "{log}: {} line{} further out of order than `reorder_window` skipped",
            stats.late,
            if stats.late == 1 { "" } else { "s" }
        ));
    }
    Ok(warnings)
}

/// What the report says about the replay.
pub(super) fn facts(r: &Replay, stats: &ReplayStats) -> ReplayFacts {
    ReplayFacts {
        log: r.log.clone(),
        format: r.format.name().to_string(),
        identity: r.identity(),
        speed: r.speed,
        scale: r.scale,
        lines: stats.lines,
        replayed: stats.replayed,
        skipped: stats.skipped,
        first_bad: first_bad(stats),
        reordered: stats.reordered,
        late: stats.late,
        excluded: stats.excluded,
        outside: stats.outside,
        sessions: stats.sessions,
        address_changes: stats.address_changes,
        service_from_log: stats.service_from_log,
    }
}

/// Reads a replayed scenario's log once as a run would (without
/// simulating) and checks it: for commands whose runs don't report back
/// (`sweep`).
pub(super) fn preflight(sc: &Scenario) -> Result<()> {
    if let Some(r) = &sc.workload.replay {
        let mut src = crate::replay::ReplaySource::new(r, sc.simulation.duration_ns);
        while src.next_due(u64::MAX).is_some() {}
        for w in check(r, &src.stats)? {
            eprintln!("warning: {w}");
        }
    }
    Ok(())
}

/// Checks every run's replay (they read the same log; the first that
/// failed is reported) and returns the facts and warnings of the first.
pub(super) fn judge<'a>(
    sc: &Scenario,
    runs: impl IntoIterator<Item = Option<&'a ReplayStats>>,
) -> Result<Option<(ReplayFacts, Vec<String>)>> {
    let Some(r) = &sc.workload.replay else {
        return Ok(None);
    };
    let mut first = None;
    for stats in runs.into_iter().flatten() {
        let warnings = check(r, stats)?;
        if first.is_none() {
            first = Some((facts(r, stats), warnings));
        }
    }
    Ok(first)
}
