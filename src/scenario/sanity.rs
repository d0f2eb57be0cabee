//! Arithmetic on a scenario's own numbers before anything runs: the load
//! it offers each worker (ρ), and warnings for numbers that make the
//! results mean something other than the author thinks — an overloaded
//! fleet (often a service time typed in milliseconds), a warm-up shorter
//! than a few sessions, a run too short for the sessions it measures.
//!
//! ρ = session rate × mean rate multiplier × mean requests per session ×
//! mean service time ÷ (Σ backend speeds × workers), the utilisation an
//! M/G/c fleet would have. It counts service demand only: time on a shared
//! store or on replication does not hold a worker here, and queueing,
//! retries and failures are the simulation's business.

use super::raw::RawScenario;
use super::types::{CookieJar, RateProfile, Scenario, NS_PER_S};
use std::fmt;

/// What a [`Warning`] is about; one name per kind, for `summary.json` and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum WarningCode {
    /// ρ ≥ 0.9: queues and tail latency grow steeply.
    HighLoad,
    /// ρ ≥ 1: the fleet cannot keep up.
    Overload,
    /// The peak of the rate profile overloads the largest fleet the run can have.
    PeakOverload,
    /// Warm-up shorter than about three mean session lengths.
    ShortWarmup,
    /// A mean session is long next to the measured time.
    ShortRun,
    /// A fault, deploy or store outage starts after the end of a run an
    /// override shortened, and was dropped.
    DroppedPastEnd,
    /// A strategy rejected more than 1 % of requests.
    Rejections,
    /// Returning users come back, on average, before their last session
    /// would have ended: one user often has two sessions at once.
    FrequentReturns,
}

impl WarningCode {
    /// Every code.
    pub const ALL: [WarningCode; 8] = [
        WarningCode::HighLoad,
        WarningCode::Overload,
        WarningCode::PeakOverload,
        WarningCode::ShortWarmup,
        WarningCode::ShortRun,
        WarningCode::DroppedPastEnd,
        WarningCode::Rejections,
        WarningCode::FrequentReturns,
    ];

    /// The code's name in outputs.
    pub fn name(self) -> &'static str {
        match self {
            WarningCode::HighLoad => "high_load",
            WarningCode::Overload => "overload",
            WarningCode::PeakOverload => "peak_overload",
            WarningCode::ShortWarmup => "short_warmup",
            WarningCode::ShortRun => "short_run",
            WarningCode::DroppedPastEnd => "dropped_past_end",
            WarningCode::Rejections => "rejections",
            WarningCode::FrequentReturns => "frequent_returns",
        }
    }
}

/// One warning: a code and a sentence for a person.
#[derive(Debug, Clone, PartialEq)]
pub struct Warning {
    /// What it is about.
    pub code: WarningCode,
    /// What is wrong and what to do, in one paragraph.
    pub message: String,
}

impl Warning {
    /// A warning of `code` saying `message`.
    pub fn new(code: WarningCode, message: impl Into<String>) -> Self {
        Warning {
            code,
            message: message.into(),
        }
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.code.name())
    }
}

/// ρ at or above which a [`WarningCode::HighLoad`] warning is given.
pub const HIGH_LOAD: f64 = 0.9;
/// Warm-up wanted, in mean session lengths.
pub const WARMUP_SESSIONS: f64 = 3.0;
/// Largest mean session length, as a share of the measured time, before
/// a [`WarningCode::ShortRun`] warning.
pub const SHORT_RUN_SHARE: f64 = 0.1;
/// Rejected share of requests (percent) above which a strategy is warned about.
pub const REJECTIONS_PCT: f64 = 1.0;

/// The scenario's own arithmetic.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OfferedLoad {
    /// Offered load per worker over the measured time, on the initial fleet.
    pub rho: f64,
    /// At the profile's peak multiplier, on the largest fleet the run can
    /// have (autoscaling's `max`, else the initial fleet).
    pub rho_peak: f64,
    /// Mean session arrivals per second over the measured time.
    pub session_rate: f64,
    /// Service seconds demanded per second over the measured time.
    pub demand: f64,
    /// Service seconds the initial fleet supplies per second (Σ speed × workers).
    pub capacity: f64,
    /// Mean session length, seconds: its requests' service plus the think
    /// times between them (no queueing).
    pub session_s: f64,
}

/// The offered load and the warnings of a scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct Sanity {
    /// The arithmetic.
    pub load: OfferedLoad,
    /// Warnings, the loader's (dropped faults and deploys) first.
    pub warnings: Vec<Warning>,
}

/// The time-average of a rate profile's multiplier over `[from, to)` ns,
/// and its largest value there.
fn profile_mean_and_peak(p: &RateProfile, from: u64, to: u64) -> (f64, f64) {
    if to <= from {
        let m = p.at(from).0;
        return (m, m);
    }
    let (mut t, mut area, mut peak) = (from, 0.0, 0.0f64);
    // Each step of the loop consumes one profile step; a periodic profile
    // over a long run has at most (run / period) × steps of them.
    while t < to {
        let (m, next) = p.at(t);
        let end = next.min(to).max(t + 1);
        area += m * (end - t) as f64;
        peak = peak.max(m);
        t = end;
    }
    (area / (to - from) as f64, peak)
}

/// Drops the faults, deploys and store outages that start at or after the
/// end of a run that `--set {flag}` shortened, and says which.
pub(crate) fn drop_past_end(raw: &mut RawScenario, flag: &str) -> Vec<Warning> {
    let end = raw.simulation.duration;
    if !(end.is_finite() && end > 0.0) {
        return Vec::new(); // validation reports the duration itself
    }
    let mut out = Vec::new();
    let mut note = |what: String, at: f64| {
        out.push(Warning::new(
            WarningCode::DroppedPastEnd,
            format!(
                "dropped {what}: it starts at {at} s, at or after the end of the run ({end} s, \
                 set by `--set {flag}`)"
            ),
        ))
    };
    if let Some(faults) = &mut raw.faults {
        let mut i = 0;
        faults.retain(|f| {
            let start = f.at.or(f.from);
            let keep = start.is_none_or(|at| at < end);
            if !keep {
                note(format!("faults[{i}] ({})", f.kind), start.unwrap_or(0.0));
            }
            i += 1;
            keep
        });
    }
    if let Some(deploys) = &mut raw.deploys {
        let mut i = 0;
        deploys.retain(|d| {
            let start = d.at.or(d.from).unwrap_or(0.0);
            let keep = start < end;
            if !keep {
                note(format!("deploys[{i}]"), start);
            }
            i += 1;
            keep
        });
    }
    if let Some(outages) = raw
        .session_state
        .as_mut()
        .and_then(|s| s.store_outages.as_mut())
    {
        let mut i = 0;
        outages.retain(|w| {
            let keep = w.at < end;
            if !keep {
                note(format!("session_state.store_outages[{i}]"), w.at);
            }
            i += 1;
            keep
        });
    }
    out
}

/// The offered load of `sc` (see the module docs).
pub fn offered_load(sc: &Scenario) -> OfferedLoad {
    let sim = &sc.simulation;
    let (mult, peak_mult) =
        profile_mean_and_peak(&sc.workload.profile, sim.warmup_ns, sim.duration_ns);
    let (_, run_peak) = profile_mean_and_peak(&sc.workload.profile, 0, sim.duration_ns);
    let reqs = sc.workload.requests_per_session.mean();
    let service = sc.workload.service_time.mean();
    let think = sc.workload.think_time.mean();
    let workers = sc.backends.workers as f64;
    let speeds: f64 = sc.backends.speeds.iter().sum();
    let capacity = speeds * workers;
    let session_rate = sc.workload.session_rate * mult;
    let demand = session_rate * reqs * service;
    let most = match &sc.autoscaling {
        Some(a) => {
            let mean_speed = speeds / sc.backends.count().max(1) as f64;
            (a.max as f64 * mean_speed * workers).max(capacity)
        }
        None => capacity,
    };
    let peak_demand = sc.workload.session_rate * peak_mult.max(run_peak) * reqs * service;
    OfferedLoad {
        rho: demand / capacity,
        rho_peak: peak_demand / most,
        session_rate,
        demand,
        capacity,
        session_s: reqs * service + (reqs - 1.0).max(0.0) * think,
    }
}

/// `0.200` for 200 (a service time that looks like milliseconds).
fn as_if_ms(v: f64) -> String {
    format!("{:.3}", v / 1000.0)
}

/// The offered load of `sc` and every warning it deserves before a run.
pub fn check(sc: &Scenario) -> Sanity {
    let load = offered_load(sc);
    let mut warnings = sc.load_warnings.clone();
    let service = sc.workload.service_time.mean();
    if load.rho >= 1.0 {
        let mut msg = format!(
            "overload: the offered load per worker is ρ = {:.2} (≥ 1): {:.1} s of service per second \
             against {:.1} available, so queues grow until requests are rejected",
            load.rho, load.demand, load.capacity
        );
        if service >= 1.0 && load.rho / 1000.0 < 1.0 {
            msg.push_str(&format!(
                "; did you mean {} s? service times are seconds (`workload.service_time` mean is {service})",
                as_if_ms(service)
            ));
        }
        warnings.push(Warning::new(WarningCode::Overload, msg));
    } else if load.rho >= HIGH_LOAD {
        warnings.push(Warning::new(
            WarningCode::HighLoad,
            format!(
                "high load: the offered load per worker is ρ = {:.2} (≥ {HIGH_LOAD}); queueing and \
                 tail latency grow steeply near 1",
                load.rho
            ),
        ));
    }
    if load.rho < 1.0 && load.rho_peak >= 1.0 {
        warnings.push(Warning::new(
            WarningCode::PeakOverload,
            format!(
                "peak overload: at the rate profile's peak the offered load per worker is ρ = {:.2} \
                 (≥ 1) even on the largest fleet this run can have",
                load.rho_peak
            ),
        ));
    }
    let warmup = sc.simulation.warmup_ns as f64 / NS_PER_S;
    let measured = (sc.simulation.duration_ns - sc.simulation.warmup_ns) as f64 / NS_PER_S;
    if warmup < WARMUP_SESSIONS * load.session_s {
        warnings.push(Warning::new(
            WarningCode::ShortWarmup,
            format!(
                "short warm-up: `simulation.warmup` is {warmup} s but a mean session lasts {:.1} s; \
                 about {:.0} s ({WARMUP_SESSIONS} sessions) lets the system fill before measuring",
                load.session_s,
                (WARMUP_SESSIONS * load.session_s).ceil()
            ),
        ));
    }
    if load.session_s > SHORT_RUN_SHARE * measured {
        warnings.push(Warning::new(
            WarningCode::ShortRun,
            format!(
                "short run: a mean session lasts {:.1} s, {:.0} % of the {measured} s measured; \
                 sessions still active at the end (whose later losses are never seen) are a large \
                 share — run at least {:.0} s after the warm-up",
                load.session_s,
                100.0 * load.session_s / measured,
                (load.session_s / SHORT_RUN_SHARE).ceil()
            ),
        ));
    }
    warnings.extend(frequent_returns(sc, load.session_s));
    Sanity { load, warnings }
}

/// The warning for segments whose users keep their cookies
/// (`cookie_jar = "user"`) and come back, on average, sooner than a mean
/// session lasts (`session_s`): a user then often has two sessions open at
/// once, which share no cookies until one ends.
fn frequent_returns(sc: &Scenario, session_s: f64) -> Option<Warning> {
    let w = &sc.workload;
    let (c, gap_s) = sc
        .clients
        .iter()
        .filter(|c| c.cookie_jar == CookieJar::User)
        .map(|c| (c, f64::from(c.users) / (c.share * w.session_rate)))
        .min_by(|a, b| a.1.total_cmp(&b.1))?;
    (gap_s < session_s).then(|| {
        Warning::new(
            WarningCode::FrequentReturns,
            format!(
                "frequent returns: the {} users of `{}` come back every {gap_s:.1} s on average \
                 (users ÷ (share × session rate)), sooner than a session lasts ({session_s:.1} s), \
                 so a user often has two sessions at once; raise `users` for realistic returns",
                c.users, c.name
            ),
        )
    })
}

/// The warning for a strategy that rejected `rejected_pct` % of its
/// requests, when that is above [`REJECTIONS_PCT`].
pub fn rejections(strategy: &str, rejected_pct: f64) -> Option<Warning> {
    (rejected_pct > REJECTIONS_PCT).then(|| {
        Warning::new(
            WarningCode::Rejections,
            format!(
                "rejections: `{strategy}` rejected {rejected_pct:.2} % of requests (> {REJECTIONS_PCT} %): \
                 queues were full or pins could not be honoured"
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = r#"[simulation]
duration = 3600
warmup = 300

[workload]
session_rate = 5
requests_per_session = { dist = "geometric", mean = 4 }
think_time = { dist = "exponential", mean = 10 }
service_time = { dist = "lognormal", mean = 0.2, cv = 1.5 }

[backends]
count = 2
workers = 4

[[strategies]]
name = "rr"
kind = "round_robin"
"#;

    fn sc(text: &str, set: &[&str]) -> Scenario {
        let set: Vec<String> = set.iter().map(|s| s.to_string()).collect();
        crate::scenario::from_str(text, "t.toml", "t", &set).unwrap_or_else(|e| panic!("{e}"))
    }

    fn codes(s: &Sanity) -> Vec<WarningCode> {
        s.warnings.iter().map(|w| w.code).collect()
    }

    #[test]
    fn offered_load_is_the_scenarios_own_arithmetic() {
        // 5 sessions/s × 4 requests × 0.2 s = 4 s of service per second,
        // on 2 backends × 4 workers × speed 1 = 8: ρ = 0.5.
        let s = check(&sc(BASE, &[]));
        assert!((s.load.rho - 0.5).abs() < 1e-12, "{:?}", s.load);
        assert_eq!(s.load.rho_peak, s.load.rho);
        assert!((s.load.capacity - 8.0).abs() < 1e-12);
        // 4 × 0.2 s of service + 3 × 10 s of think time = 30.8 s.
        assert!((s.load.session_s - 30.8).abs() < 1e-12);
        assert!(s.warnings.is_empty(), "{:?}", s.warnings);
        // Speeds count: one backend at half speed leaves 1.5 × 4 = 6.
        let slow = check(&sc(BASE, &["backends.speed=[1, 0.5]"]));
        assert!((slow.load.rho - 4.0 / 6.0).abs() < 1e-12);
    }

    #[test]
    fn a_profile_weights_the_rate_by_time_over_the_measured_window() {
        // Multiplier 1 until 1950 s, then 3: over the measured 300..3600 s,
        // (1650 × 1 + 1650 × 3) / 3300 = 2, so ρ = 1.0; the peak is 3 → 1.5.
        let text = BASE.replace(
            "session_rate = 5\n",
            "session_rate = 5\nprofile = [{ from = 0, multiplier = 1 }, { from = 1950, multiplier = 3 }]\n",
        );
        let s = check(&sc(&text, &[]));
        assert!((s.load.rho - 1.0).abs() < 1e-9, "{:?}", s.load);
        assert!((s.load.rho_peak - 1.5).abs() < 1e-9, "{:?}", s.load);
        assert_eq!(codes(&s), [WarningCode::Overload]);
    }

    #[test]
    fn milliseconds_typed_as_seconds_get_a_hint() {
        let s = check(&sc(BASE, &["workload.service_time.mean=200"]));
        assert!(s.load.rho > 400.0);
        let w = &s.warnings[0];
        assert_eq!(w.code, WarningCode::Overload);
        assert!(
            w.message
                .contains("did you mean 0.200 s? service times are seconds"),
            "{w}"
        );
        // Overloaded by a real demand, not a unit slip: no hint.
        let s = check(&sc(BASE, &["workload.session_rate=15"]));
        assert_eq!(s.warnings[0].code, WarningCode::Overload);
        assert!(
            !s.warnings[0].message.contains("did you mean"),
            "{}",
            s.warnings[0]
        );
        let s = check(&sc(BASE, &["workload.session_rate=9.5"]));
        assert_eq!(codes(&s), [WarningCode::HighLoad]);
    }

    #[test]
    fn returning_users_who_overlap_themselves_are_flagged() {
        // A session lasts ~30.8 s; 100 users at 5 sessions/s return every 20 s.
        let clients = |users: u32, jar: &str| {
            BASE.replace(
                "[backends]",
                &format!("[[clients]]\nname = \"web\"\nshare = 1\nusers = {users}\ncookie_jar = \"{jar}\"\n\n[backends]"),
            )
        };
        let s = check(&sc(&clients(100, "user"), &[]));
        assert_eq!(codes(&s), [WarningCode::FrequentReturns]);
        assert!(
            s.warnings[0].message.contains("every 20.0 s"),
            "{}",
            s.warnings[0]
        );
        assert!(codes(&check(&sc(&clients(1000, "user"), &[]))).is_empty());
        // Without kept cookies, how often users return changes nothing.
        assert!(codes(&check(&sc(&clients(100, "session"), &[]))).is_empty());
    }

    #[test]
    fn autoscaling_headroom_decides_the_peak_warning() {
        let text = BASE.replace(
            "session_rate = 5\n",
            "session_rate = 5\nprofile = [{ from = 0, multiplier = 1 }, { from = 3000, multiplier = 4 }]\n",
        );
        let s = check(&sc(&text, &[]));
        assert!(
            codes(&s).contains(&WarningCode::PeakOverload),
            "{:?}",
            s.warnings
        );
        let scaled = format!("{text}\n[autoscaling]\nmin = 2\nmax = 8\n");
        let s = check(&sc(&scaled, &[]));
        assert!(
            !codes(&s).contains(&WarningCode::PeakOverload),
            "{:?}",
            s.warnings
        );
    }

    #[test]
    fn short_warmups_and_short_runs_are_flagged() {
        let s = check(&sc(BASE, &["simulation.warmup=60"]));
        assert_eq!(codes(&s), [WarningCode::ShortWarmup]);
        assert!(
            s.warnings[0].message.contains("about 93 s"),
            "{}",
            s.warnings[0]
        );
        let s = check(&sc(BASE, &["simulation.duration=500"]));
        assert_eq!(codes(&s), [WarningCode::ShortRun]);
        assert!(
            s.warnings[0].message.contains("15 % of the 200 s"),
            "{}",
            s.warnings[0]
        );
    }

    #[test]
    fn rejections_above_one_percent_warn() {
        assert!(rejections("rr", 0.5).is_none());
        let w = rejections("rr", 96.7).unwrap();
        assert_eq!(w.code, WarningCode::Rejections);
        assert!(w.message.contains("`rr` rejected 96.70 %"), "{w}");
    }

    #[test]
    fn a_set_that_shortens_the_run_drops_what_starts_after_it() {
        let text = format!(
            "{BASE}\n[[faults]]\nkind = \"crash\"\nbackend = \"b0\"\nat = 600\n\
             [[faults]]\nkind = \"slow\"\nbackend = \"b1\"\nat = \"50m\"\nduration = 60\nfactor = 2\n\
             [[faults]]\nkind = \"random\"\nmtbf = \"1d\"\nmttr = 60\n\
             [[deploys]]\nat = 3000\n"
        );
        let full = sc(&text, &[]);
        assert_eq!((full.faults.len(), full.deploys.len()), (3, 1));
        assert!(full.load_warnings.is_empty());
        let short = sc(&text, &["simulation.duration=40m"]);
        assert_eq!((short.faults.len(), short.deploys.len()), (2, 0));
        let w: Vec<&str> = short
            .load_warnings
            .iter()
            .map(|w| w.message.as_str())
            .collect();
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(
            w[0].starts_with("dropped faults[1] (slow): it starts at 3000 s"),
            "{}",
            w[0]
        );
        assert!(
            w[0].contains("set by `--set simulation.duration=40m`"),
            "{}",
            w[0]
        );
        assert!(w[1].starts_with("dropped deploys[0]"), "{}", w[1]);
        assert_eq!(check(&short).warnings[0].code, WarningCode::DroppedPastEnd);
        // Written in the file itself, a fault past the end is still an error.
        let e = crate::scenario::from_str(
            &text.replace("duration = 3600", "duration = 2400"),
            "t.toml",
            "t",
            &[],
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("faults[1].at") && e.contains("before the end of the run"),
            "{e}"
        );
    }

    #[test]
    fn warning_codes_have_distinct_names() {
        let mut names: Vec<&str> = WarningCode::ALL.iter().map(|c| c.name()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), WarningCode::ALL.len());
    }
}
