//! What a run costs, predicted before it runs (`stickysim run --dry-run`):
//! requests and engine events from the scenario's own arithmetic, CPU and
//! wall time from a per-request cost calibrated on measured runs, and peak
//! memory from the active sessions and the per-backend time series.
//!
//! The calibration (release build, x86-64, one strategy per process,
//! `/usr/bin/time`; `benches/README.md` has the runs) is in the constants
//! below; an estimate is a guide to within a factor of about 1.5, not a
//! promise: a slower machine, a busy one or an unusual mix (heavy
//! retries, many fleet changes) moves it.

use crate::scenario::sanity::offered_load;
use crate::scenario::Scenario;

/// Engine events per simulated request (arrival, dispatch, completion,
/// think, plus the session's own events spread over its requests):
/// 3.47 M events for 1.8 M requests on `checkout.toml`, 1.6 per request on
/// `scale.toml` (fewer health-check and bucket events per request).
pub const EVENTS_PER_REQUEST: f64 = 1.8;
/// CPU seconds per request while everything fits in cache (~0.2 µs:
/// `checkout.toml`, one simulated hour, ~8 k active sessions).
pub const CPU_S_PER_REQUEST: f64 = 2.0e-7;
/// CPU seconds per request added as the active sessions outgrow the caches:
/// `CPU_S_PER_REQUEST_MEMORY · a / (a + ACTIVE_HALF)` for `a` active
/// sessions (~1.7 µs per request in all at ~300 k: `scale.toml`, 20.8 s
/// CPU for 2.07 × 10⁷ events over 1,200 simulated seconds).
pub const CPU_S_PER_REQUEST_MEMORY: f64 = 2.0e-6;
/// Active sessions at which the memory term is half its worst.
pub const ACTIVE_HALF: f64 = 1.0e5;
/// Bytes of memory per active session (session, client and request state,
/// queue entries): (85.5 − 5) MB over ~297 k on `scale.toml` after
/// 1,200 simulated seconds.
pub const BYTES_PER_ACTIVE_SESSION: f64 = 285.0;
/// Bytes per backend per time bucket kept for `backends.csv` (replication
/// 0 of each strategy only).
pub const BYTES_PER_BACKEND_BUCKET: f64 = 64.0;
/// Resident memory of the process before it simulates anything.
pub const BASE_BYTES: f64 = 5.0 * 1024.0 * 1024.0;

/// The predicted cost of running some strategies of a scenario.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    /// Simulations: strategies × replications.
    pub runs: usize,
    /// Threads the runs share.
    pub threads: usize,
    /// Sessions one run starts (mean session rate × duration).
    pub sessions_per_run: f64,
    /// Requests one run simulates (the sessions cut short by the end of
    /// the run count for half).
    pub requests_per_run: f64,
    /// Engine events one run processes.
    pub events_per_run: f64,
    /// Sessions open at once in steady state (Little's law: rate × mean
    /// session length).
    pub active_sessions: f64,
    /// CPU seconds of one run.
    pub cpu_s_per_run: f64,
    /// CPU seconds of every run.
    pub cpu_s_total: f64,
    /// Wall seconds on `threads` threads (the runs are one parallel task
    /// set, so the longer of the total over the threads and one run).
    pub wall_s: f64,
    /// Peak resident bytes: base, plus every concurrently running
    /// simulation's active sessions and time series (users cost nothing
    /// until they start a session, or while they keep a cookie jar between
    /// sessions with `cookie_jar = "user"`).
    pub peak_bytes: f64,
}

/// Predicts the cost of `strategies` strategies × the scenario's
/// replications on `threads` threads.
pub fn estimate(sc: &Scenario, strategies: usize, threads: usize) -> Estimate {
    let load = offered_load(sc);
    let duration_s = sc.simulation.duration_ns as f64 / 1e9;
    let sessions = load.session_rate * duration_s;
    // Sessions that start in the last session length are cut short by the
    // end of the run: on average half their requests are simulated.
    let complete_s = (duration_s - load.session_s / 2.0).max(duration_s / 2.0);
    let requests = load.session_rate * complete_s * sc.workload.requests_per_session.mean();
    let backends = (sc.backends.count().max(1) as f64)
        .max(sc.autoscaling.as_ref().map(|a| a.max as f64).unwrap_or(0.0));
    let active_sessions = load.session_rate * load.session_s;
    let per_request = CPU_S_PER_REQUEST
        + CPU_S_PER_REQUEST_MEMORY * active_sessions / (active_sessions + ACTIVE_HALF);
    let cpu_s_per_run = requests * per_request;
    let runs = strategies * sc.simulation.replications as usize;
    let threads = threads.max(1);
    let cpu_s_total = cpu_s_per_run * runs as f64;
    let concurrent = threads.min(runs.max(1));
    let wall_s = (cpu_s_total / concurrent as f64).max(cpu_s_per_run);
    let buckets = (duration_s / (sc.output.bucket_ns as f64 / 1e9)).ceil();
    // Returning users' cookie jars: at most one per user with a live cookie.
    let jars = crate::scenario::limits::most_jars(sc) * crate::scenario::limits::BYTES_PER_JAR;
    let per_run = active_sessions * BYTES_PER_ACTIVE_SESSION
        + backends * buckets * BYTES_PER_BACKEND_BUCKET
        + jars;
    Estimate {
        runs,
        threads,
        sessions_per_run: sessions,
        requests_per_run: requests,
        events_per_run: requests * EVENTS_PER_REQUEST,
        active_sessions,
        cpu_s_per_run,
        cpu_s_total,
        wall_s,
        peak_bytes: BASE_BYTES + per_run * concurrent as f64,
    }
}

impl Estimate {
    /// The estimate as `run --dry-run` prints it.
    pub fn text(&self, scenario: &str) -> String {
        format!(
            "dry run of `{scenario}`: {} run{} on {} thread{}; nothing simulated, nothing written\n\
             per run: {:.3e} sessions, {:.3e} requests, {:.3e} engine events, {:.3e} active sessions\n\
             CPU: about {} per run, {} in all\n\
             wall: about {}\n\
             peak memory: about {}\n\
             (calibrated on measured release runs, x86-64; expect within ~1.5×: see `benches/README.md`)\n",
            self.runs,
            if self.runs == 1 { "" } else { "s" },
            self.threads,
            if self.threads == 1 { "" } else { "s" },
            self.sessions_per_run,
            self.requests_per_run,
            self.events_per_run,
            self.active_sessions,
            duration(self.cpu_s_per_run),
            duration(self.cpu_s_total),
            duration(self.wall_s),
            bytes(self.peak_bytes),
        )
    }
}

/// `0.4 s`, `3m05s`, `1h02m`.
fn duration(secs: f64) -> String {
    if secs < 59.95 {
        return format!("{secs:.1} s");
    }
    let s = secs.round() as u64;
    match s {
        0..=3599 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
    }
}

/// `12 MiB`, `1.4 GiB`.
fn bytes(b: f64) -> String {
    const MIB: f64 = 1024.0 * 1024.0;
    if b < 1024.0 * MIB {
        format!("{:.0} MiB", b / MIB)
    } else {
        format!("{:.1} GiB", b / (1024.0 * MIB))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_sizes_read_naturally() {
        assert_eq!(duration(0.42), "0.4 s");
        assert_eq!(duration(185.0), "3m05s");
        assert_eq!(duration(3720.0), "1h02m");
        assert_eq!(bytes(12.0 * 1024.0 * 1024.0), "12 MiB");
        assert_eq!(bytes(1.5 * 1024.0 * 1024.0 * 1024.0), "1.5 GiB");
    }
}
