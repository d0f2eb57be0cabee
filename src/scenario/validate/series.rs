//! Repeating `[[deploys]]` and `[[faults]]` entries: `every` with `from`,
//! and `until` and/or `count`, expanded at validation into the start times
//! of the entries they stand for.

use super::{problem, secs, KeyPath, Simulation, R};

/// The most entries one repeating entry may stand for.
pub(crate) const MAX_SERIES: u64 = 10_000;

/// The repeating keys of one entry, as the file gives them (seconds).
pub(super) struct Repeat {
    pub every: Option<f64>,
    pub from: Option<f64>,
    pub until: Option<f64>,
    pub count: Option<u32>,
}

/// The start times (ns) a repeating entry stands for, or `None` for an
/// entry without `every` (which must then have none of the other keys).
/// `at` is the entry's own `at`, which `every` excludes. The series stops
/// at `until` (inclusive), after `count` entries, or before the end of the
/// run, whichever comes first.
pub(super) fn times(
    key: &KeyPath,
    r: &Repeat,
    at: Option<f64>,
    sim: &Simulation,
) -> R<Option<Vec<u64>>> {
    let Some(every) = r.every else {
        for (name, set) in [
            ("from", r.from.is_some()),
            ("until", r.until.is_some()),
            ("count", r.count.is_some()),
        ] {
            if set {
                return problem(
                    &key.k(name),
                    format!("`{name}` belongs to a repeating entry: add `every` (e.g. `every = \"1h\"`), or remove `{name}`"),
                );
            }
        }
        return Ok(None);
    };
    if at.is_some() {
        return problem(
            &key.k("at"),
            "expected `at` (once) or `every` with `from` (repeating), found both; a repeating entry starts at `from`",
        );
    }
    let every_ns = secs(&key.k("every"), every, false)?;
    let Some(from) = r.from else {
        return problem(
            &key.k("from"),
            "required key `from` is missing: a repeating entry (`every`) starts at `from`",
        );
    };
    let from_ns = super::faults::start_time(&key.k("from"), from, sim)?;
    let mut last_ns = sim.duration_ns - 1;
    if let Some(until) = r.until {
        let until_ns = secs(&key.k("until"), until, true)?;
        if until_ns < from_ns {
            return problem(
                &key.k("until"),
                format!("expected a time at or after `from` ({from} s), found {until} s"),
            );
        }
        last_ns = last_ns.min(until_ns);
    }
    let by_time = (last_ns - from_ns) / every_ns + 1;
    let n = match r.count {
        Some(0) => return problem(&key.k("count"), "expected at least 1, found 0"),
        Some(c) => by_time.min(u64::from(c)),
        None => by_time,
    };
    if n > MAX_SERIES {
        return problem(
            &key.k("every"),
            format!(
                "expected a series of at most {MAX_SERIES} entries, found {n} (every {every} s from {from} s); \
                 set a longer `every`, an `until` or a `count`"
            ),
        );
    }
    Ok(Some((0..n).map(|k| from_ns + k * every_ns).collect()))
}
