//! What a run can afford: caps on counts and periods, and the *products*
//! of sizes that drive memory and time, checked before anything runs. Each
//! error gives an estimate and the keys to change (docs/scenario.md,
//! "Limits", lists every limit with its reason).

use super::*;
use crate::routing::MAX_RING_POINTS;

/// Most workers (concurrent requests) per backend: a worker is a slot the
/// engine tracks; 4096 is more than any real server's thread pool.
pub const MAX_WORKERS: u32 = 4096;
/// Most backends one deploy batch replaces at once (the surge instances
/// exist alongside the fleet): the fleet itself is at most 10,000.
pub const MAX_BATCH_SIZE: u32 = 10_000;
/// Most `backends.zones` (real regions have a handful of zones).
pub const MAX_ZONES: usize = 64;
/// Most `workload.profile` steps (one a minute for a week is 10,080).
pub const MAX_PROFILE_STEPS: usize = 10_000;
/// Shortest period of anything that repeats for the whole run
/// (`workload.profile_period`, `autoscaling.evaluation_period`), seconds:
/// shorter would cost work per simulated second without bound.
pub const MIN_PERIOD_S: f64 = 1.0;
/// Most simulated events (requests, health checks, address changes) per
/// simulated second, summed over the strategies of one run.
pub const MAX_EVENTS_PER_S: f64 = 1e6;
/// Most memory a run may need by the estimate below, bytes.
pub const MAX_MEMORY_BYTES: f64 = 4e9;
/// Bytes per backend, time bucket and strategy at peak: the row in memory,
/// its `backends.csv` line and the charts' copy. Measured: 3 M rows (20
/// backends × 50,000 buckets × 3 strategies) peak at 1.61 GB RSS, 537 B a
/// row; 600 leaves a margin.
pub const BYTES_PER_BUCKET_ROW: f64 = 600.0;
/// Bytes per active session per strategy (session, client state, affinity
/// entries). Measured ~240 B (180,000 more active sessions: +43 MB RSS);
/// doubled for affinity tables and queues.
pub const BYTES_PER_SESSION: f64 = 512.0;

/// Bytes per returning user's stored cookie jar (`cookie_jar = "user"`):
/// key, two cookies with expiries and the hash map's overhead (`model::jar`).
pub const BYTES_PER_JAR: f64 = 96.0;

/// The most cookie jars of returning users one run can hold at once: per
/// segment with `cookie_jar = "user"`, its users or the sessions it can
/// start in the run (at the peak rate), whichever is fewer. Only users
/// holding a live cookie are stored, so this is a bound, not the usual.
pub fn most_jars(sc: &Scenario) -> f64 {
    let w = &sc.workload;
    let peak = w
        .profile
        .steps
        .iter()
        .map(|&(_, m)| m)
        .fold(if w.profile.steps.is_empty() { 1.0 } else { 0.0 }, f64::max);
    let sessions = w.session_rate * peak * sc.simulation.duration_ns as f64 / NS_PER_S;
    sc.clients
        .iter()
        .filter(|c| c.cookie_jar == CookieJar::User)
        .map(|c| f64::from(c.users).min(sessions * c.share))
        .sum()
}

/// A period of something that repeats through the run: a time of at least
/// [`MIN_PERIOD_S`].
pub(super) fn period(key: &KeyPath, v: f64) -> R<u64> {
    if v.is_finite() && v < MIN_PERIOD_S {
        return problem(
            key,
            format!(
                "expected a period of at least {MIN_PERIOD_S} s (shorter costs unbounded work \
                 per simulated second), found {} s",
                crate::text::number(v)
            ),
        );
    }
    secs(key, v, false)
}

/// Bytes in a human unit: `6.2 GB`, `310 MB`.
fn human(bytes: f64) -> String {
    if bytes >= 1e9 {
        format!("~{:.1} GB", bytes / 1e9)
    } else {
        format!("~{:.0} MB", (bytes / 1e6).max(1.0))
    }
}

/// Mean requests per second and active sessions at the rate profile's
/// peak (Little's law: a session lasts its requests × (think + service)).
fn load(sc: &Scenario) -> (f64, f64) {
    let w = &sc.workload;
    let peak = w
        .profile
        .steps
        .iter()
        .map(|&(_, m)| m)
        .fold(if w.profile.steps.is_empty() { 1.0 } else { 0.0 }, f64::max);
    let sessions_per_s = w.session_rate * peak;
    let requests = w.requests_per_session.mean();
    let session_s = requests * (w.think_time.mean().max(0.0) + w.service_time.mean());
    (sessions_per_s * requests, sessions_per_s * session_s)
}

/// The most backend slots a run can hold at once (fleet, deploy surge,
/// autoscaling maximum).
pub(super) fn most_slots(sc: &Scenario) -> u64 {
    let surge = sc
        .deploys
        .iter()
        .map(|d| u64::from(d.batch_size))
        .max()
        .unwrap_or(0);
    (sc.backends.count() as u64 + surge)
        .max(sc.autoscaling.as_ref().map_or(0, |a| u64::from(a.max)))
}

/// The products: events per simulated second, memory, ring points.
pub(super) fn check(sc: &Scenario) -> R<()> {
    let strategies = sc.strategies.len() as f64;
    let slots = most_slots(sc);
    let (requests_per_s, active) = load(sc);
    let checks_per_s = slots as f64 / (sc.health_check.interval_ns as f64 / NS_PER_S);
    let changes_per_s = active
        * sc.clients
            .iter()
            .map(|c| c.ip_change_rate)
            .fold(0.0, f64::max);
    let events = (requests_per_s + checks_per_s + changes_per_s) * strategies;
    if events.is_nan() || events > MAX_EVENTS_PER_S {
        return problem(
            &KeyPath::from("workload").k("session_rate"),
            format!(
                "expected at most {MAX_EVENTS_PER_S:e} simulated events per simulated second \
                 over all strategies, found ~{:.3e} ({} requests/s at the peak rate × {} \
                 strateg{}, plus health checks and address changes); lower \
                 `workload.session_rate` or `requests_per_session`, or list fewer strategies",
                events,
                crate::text::number(requests_per_s),
                sc.strategies.len(),
                if sc.strategies.len() == 1 { "y" } else { "ies" }
            ),
        );
    }
    let buckets = sc
        .simulation
        .duration_ns
        .div_ceil(sc.output.bucket_ns.max(1)) as f64;
    let bucket_bytes = slots as f64 * buckets * strategies * BYTES_PER_BUCKET_ROW;
    if bucket_bytes > MAX_MEMORY_BYTES {
        return problem(
            &KeyPath::from("output").k("bucket"),
            format!(
                "this run would need {} for per-backend buckets ({slots} backends × {buckets} \
                 buckets × {} strateg{}), expected at most {}; raise `output.bucket` or lower \
                 `backends.count`",
                human(bucket_bytes),
                sc.strategies.len(),
                if sc.strategies.len() == 1 { "y" } else { "ies" },
                human(MAX_MEMORY_BYTES)
            ),
        );
    }
    let session_bytes = active * strategies * BYTES_PER_SESSION;
    let jar_bytes = most_jars(sc) * strategies * BYTES_PER_JAR;
    if let Some(i) = sc
        .clients
        .iter()
        .position(|c| c.cookie_jar == CookieJar::User)
    {
        if jar_bytes + session_bytes + bucket_bytes > MAX_MEMORY_BYTES {
            return problem(
                &KeyPath::from("clients").i(i).k("cookie_jar"),
                format!(
                    "this run would need {} for returning users' cookie jars (~{:.3e} users \
                     × {} strateg{}), expected at most {} in all; lower the segments' `users` \
                     or list fewer strategies",
                    human(jar_bytes),
                    most_jars(sc),
                    sc.strategies.len(),
                    if sc.strategies.len() == 1 { "y" } else { "ies" },
                    human(MAX_MEMORY_BYTES)
                ),
            );
        }
    }
    let total = session_bytes + bucket_bytes;
    if total.is_nan() || total > MAX_MEMORY_BYTES {
        return problem(
            &KeyPath::from("workload").k("think_time"),
            format!(
                "this run would need {} for ~{:.3e} active sessions per strategy (rate × \
                 requests × (think + service time)), expected at most {}; lower \
                 `workload.session_rate`, `requests_per_session` or `think_time`",
                human(session_bytes + bucket_bytes),
                active,
                human(MAX_MEMORY_BYTES)
            ),
        );
    }
    let weight: u64 = if sc.strategies.is_empty() {
        1
    } else {
        // Slow start ramps weights up to 100 (`engine::world`).
        let slow_start = sc.deploys.iter().any(|d| d.slow_start_ns > 0)
            || sc.autoscaling.as_ref().is_some_and(|a| a.slow_start_ns > 0);
        let heaviest = sc.backends.fleet.weights.iter().copied().max().unwrap_or(1);
        u64::from(heaviest) * if slow_start { 100 } else { 1 }
    };
    for (i, st) in sc.strategies.iter().enumerate() {
        let hash = match &st.spec {
            StrategySpec::SourceIp { hash, .. }
            | StrategySpec::Header { hash, .. }
            | StrategySpec::BoundedLoad { hash, .. } => *hash,
            _ => continue,
        };
        let points = crate::routing::ring_points(hash, slots.saturating_mul(weight));
        if points > MAX_RING_POINTS {
            return problem(
                &KeyPath::from("strategies").i(i).k("hash"),
                format!(
                    "expected a ring of at most {MAX_RING_POINTS} points, found {points} \
                     ({slots} backends × weight {weight} with `{}`; ~{} of ring); lower \
                     `backends.count` or choose another hash",
                    hash.name(),
                    human(points as f64 * 12.0)
                ),
            );
        }
    }
    Ok(())
}
