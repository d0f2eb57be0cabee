//! The synthetic scenario `stickysim fit --out` writes: the log's session
//! rate and hourly profile, requests-per-session, think-time and service-
//! time laws, and a NAT and a direct client segment sized from the
//! address concentration — each number commented with the statistic it
//! came from — on a fleet sized for the busiest hour, with the bundled
//! checkout scenario's strategies.

use super::families::{self, fmt_sig, Fitted};
use super::{population, Fit, NAT_USERS};
use std::fmt::Write as _;

/// The busiest hour's utilisation the written fleet is sized for.
pub const TARGET_UTILISATION: f64 = 0.6;
/// Workers per backend in the written fleet.
pub const WORKERS: u32 = 4;
/// The service time written when the log has none (as `stickysim init`).
pub const DEFAULT_SERVICE: &str = "{ dist = \"lognormal\", mean = 0.05, cv = 1.0 }";
/// A last hour shorter than this is merged into the one before in the
/// profile (too short to give a rate).
pub const MIN_LAST_HOUR_S: f64 = 600.0;

/// Where the log came from, for the comments.
#[derive(Debug, Clone)]
pub struct Source {
    /// The log as named on the command line.
    pub log: String,
    /// Its format.
    pub format: String,
    /// How sessions were told apart, in words.
    pub identity: String,
    /// What was left out (`exclude`, `from`/`to`), in words; empty if nothing.
    pub filters: String,
}

/// The chosen fit of `fits`, or a constant when there is no variation
/// (`None`: nothing to fit).
fn chosen(fits: &[Fitted]) -> Option<&Fitted> {
    families::best(fits)
}

fn families_line(fits: &[Fitted]) -> String {
    fits.iter()
        .map(|f| match &f.unusable {
            None => format!("{} {}", f.family, fmt_sig(f.aic)),
            Some(_) => format!("{} (unusable)", f.family),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The scenario's profile steps `(from_s, sessions, length_s)`, the last
/// hour merged into the one before when shorter than [`MIN_LAST_HOUR_S`].
pub fn profile_steps(fit: &Fit) -> Vec<(f64, u64, f64)> {
    let mut steps: Vec<(f64, u64, f64)> = fit
        .hours
        .iter()
        .enumerate()
        .map(|(i, h)| (i as f64 * 3600.0, h.sessions, fit.hour_len_s(i)))
        .collect();
    if steps.len() >= 2 && steps[steps.len() - 1].2 < MIN_LAST_HOUR_S {
        let (_, s, l) = steps.pop().unwrap_or_default();
        if let Some(last) = steps.last_mut() {
            last.1 += s;
            last.2 += l;
        }
    }
    steps
}

/// The scenario text. `name` is the scenario's name.
pub fn write(fit: &Fit, src: &Source, name: &str) -> String {
    let log = &src.log;
    let span = fit.span_s().max(1.0);
    let duration = span.ceil().max(60.0);
    let sessions = fit.sessions.max(1);
    let rate = sessions as f64 / span;
    let mut t = String::new();
    let first = fit
        .first_ns
        .map(crate::replay::time::format_iso)
        .unwrap_or_default();
    let last = fit
        .last_ns
        .map(crate::replay::time::format_iso)
        .unwrap_or_default();
    let _ = writeln!(
        t,
        "# Fitted by `stickysim fit` from {log} (format `{}`): {} requests in {} sessions,\n\
         # {first} to {last}. Sessions: {}.{}",
        src.format,
        fit.counts.requests,
        fit.sessions,
        src.identity,
        if src.filters.is_empty() {
            String::new()
        } else {
            format!("\n# Left out: {}.", src.filters)
        }
    );
    let _ = writeln!(
        t,
        "# Each number says which statistic of the log it is; what the fit\n\
         # simplifies is in docs/scenario.md (\"Fitting a scenario to a log\").\n\
         # Then sweep beyond the log: more traffic (`--set workload.session_rate=…`),\n\
         # more NAT (the `nat` segment's `share`), other cookie TTLs."
    );
    // Requests per session and think time.
    let req_fits = fit.requests_fits();
    let (req_toml, req_note) = match chosen(&req_fits) {
        Some(f) => (
            f.toml(),
            format!(
                "lowest AIC of the rounded fits over {} sessions ({}); the log's mean {}",
                fit.sessions,
                families_line(&req_fits),
                fmt_sig(fit.requests_mean())
            ),
        ),
        None => (
            format!(
                "{{ dist = \"constant\", value = {} }}",
                fmt_sig(fit.requests_mean().max(1.0))
            ),
            format!(
                "every one of the {} sessions had the same number of requests",
                fit.sessions
            ),
        ),
    };
    let req_mean = fit.requests_mean().max(1.0);
    let think_fits = fit.think_fits();
    let zero = if fit.think.zeros > 0 {
        format!(
            "; {} gaps of 0 counted as {} s, half the log's time resolution",
            fit.think.zeros,
            fmt_sig(fit.zero_gap_s())
        )
    } else {
        String::new()
    };
    let (think_toml, think_note, think_mean) = match chosen(&think_fits) {
        Some(f) => (
            f.toml(),
            format!(
                "gaps between a session's requests (n = {}), lowest AIC ({}){zero}",
                fit.think.n(),
                families_line(&think_fits)
            ),
            f.mean,
        ),
        None => {
            let m = if fit.think.n() > 0 {
                fit.think.with_zeros(0.0).mean()
            } else {
                0.0
            };
            (
                format!("{{ dist = \"constant\", value = {} }}", fmt_sig(m)),
                if fit.think.n() == 0 {
                    "no session had two requests".to_string()
                } else {
                    format!("all {} gaps between requests were equal", fit.think.n())
                },
                m,
            )
        }
    };
    let service_fits = fit.service_fits();
    let (service_toml, service_note, service_mean) = match chosen(&service_fits) {
        Some(f) if fit.service.n() > 0 => (
            f.toml(),
            format!(
                "the log's service times (n = {}), lowest AIC ({})",
                fit.service.n(),
                families_line(&service_fits)
            ),
            f.mean,
        ),
        _ if fit.service.n() > 0 => {
            let m = fit.service.with_zeros(super::ZERO_SERVICE_S).mean();
            (
                format!("{{ dist = \"constant\", value = {} }}", fmt_sig(m)),
                format!("the log's {} service times, all equal", fit.service.n()),
                m,
            )
        }
        _ => (
            DEFAULT_SERVICE.to_string(),
            format!(
                "{log}: the log has no service times (format `{}`): stickysim's default, as `stickysim init`; set yours",
                src.format
            ),
            0.05,
        ),
    };
    // Warm-up: about three mean sessions, at most a quarter of the run.
    let session_s = (req_mean - 1.0) * think_mean + req_mean * service_mean;
    let warmup = (crate::scenario::sanity::WARMUP_SESSIONS * session_s * 1.05)
        .max(60.0)
        .ceil()
        .min((duration / 4.0).floor());
    let _ = writeln!(t, "\n[simulation]\nname = \"{name}\"");
    let _ = writeln!(
        t,
        "duration = {duration}   # s: the log's span, first request to last ({})",
        fmt_sig(span)
    );
    let _ = writeln!(
        t,
        "warmup = {warmup}       # s: about 3 mean sessions ({} s each), at most a quarter of the run; not measured",
        fmt_sig(session_s)
    );
    let _ = writeln!(t, "seed = 1");
    let _ = writeln!(t, "\n[workload]");
    let _ = writeln!(
        t,
        "# {log}: {} sessions started in {} s.\nsession_rate = {}",
        fit.sessions,
        fmt_sig(span),
        fmt_sig(rate)
    );
    let steps = profile_steps(fit);
    let mut peak = 1.0f64;
    if steps.len() >= 2 {
        let _ = writeln!(
            t,
            "# {log}: sessions started each hour (from {first}) over the mean rate:"
        );
        let parts: Vec<String> = steps
            .iter()
            .map(|&(from, s, len)| {
                let m = s as f64 / len.max(1.0) / rate;
                peak = peak.max(m);
                format!(
                    "{{ from = {from}, multiplier = {} }}",
                    fmt_sig(m).trim_start_matches('-')
                )
            })
            .collect();
        let _ = writeln!(
            t,
            "# {}",
            steps
                .iter()
                .map(|s| s.1.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
        let _ = writeln!(t, "profile = [\n  {},\n]", parts.join(",\n  "));
    }
    let _ = writeln!(
        t,
        "# {log}: requests per session, {req_note}.\nrequests_per_session = {req_toml}"
    );
    let _ = writeln!(t, "# {log}: {think_note}.\nthink_time = {think_toml}");
    let _ = writeln!(t, "# {service_note}.\nservice_time = {service_toml}");
    // Clients.
    let direct_sessions = fit.sessions - fit.nat.sessions;
    let nat_share = fit.nat.sessions as f64 / sessions as f64;
    let nat_share_s = format!("{nat_share:.4}");
    let nat_share_r: f64 = nat_share_s.parse().unwrap_or(0.0);
    let with_nat = fit.nat.sessions > 0 && nat_share_r > 0.0;
    let with_direct = direct_sessions > 0 && nat_share_r < 1.0 || !with_nat;
    // Users: with a session field, the population that shows the users
    // seen; without one, a user's sessions closer than the idle gap are
    // one, so sessions per user are undercounted and that estimate would
    // run high: the users seen (a lower bound).
    let users_of = |seen: u64, sessions: u64| {
        if fit.by_field {
            population(seen, sessions)
        } else {
            seen.max(1)
        }
    };
    let users_note = |seen: u64, sessions: u64| {
        if fit.by_field {
            format!("the population that shows {seen} distinct users in {sessions} sessions drawn at random")
        } else {
            format!("the distinct users seen (address + user agent) in {sessions} sessions: a lower bound")
        }
    };
    if with_nat {
        let users = users_of(fit.nat.users, fit.nat.sessions);
        let per_ip = (users as f64 / fit.nat.addresses.max(1) as f64)
            .round()
            .clamp(1.0, users as f64) as u64;
        let _ = writeln!(
            t,
            "\n# {log}: the NAT estimate — {} address{} with >= {NAT_USERS} users (address + user agent)\n\
             # each: {} users seen in {} of the {} sessions ({} of the requests).",
            fit.nat.addresses,
            if fit.nat.addresses == 1 { "" } else { "es" },
            fit.nat.users,
            fit.nat.sessions,
            fit.sessions,
            pct(fit.nat.requests, fit.counts.requests),
        );
        let _ = writeln!(t, "[[clients]]\nname = \"nat\"");
        let _ = writeln!(
            t,
            "share = {}   # their share of the sessions",
            if with_direct {
                nat_share_s.as_str()
            } else {
                "1.0"
            }
        );
        let _ = writeln!(
            t,
            "users = {users}   # {}",
            users_note(fit.nat.users, fit.nat.sessions)
        );
        let _ = writeln!(t, "network = \"nat\"");
        let _ = writeln!(
            t,
            "users_per_ip = {per_ip}   # users / {} address{}",
            fit.nat.addresses,
            if fit.nat.addresses == 1 { "" } else { "es" }
        );
    }
    if with_direct {
        let seen = fit.users - fit.nat.users;
        let users = users_of(seen, direct_sessions);
        let share = if with_nat {
            format!("{:.4}", 1.0 - nat_share_r)
        } else {
            "1.0".to_string()
        };
        let _ = writeln!(
            t,
            "\n# {log}: every other address (fewer than {NAT_USERS} users each): {} addresses,\n\
             # {seen} users seen in {direct_sessions} sessions; each user has an address of their own here.",
            fit.addresses - fit.nat.addresses,
        );
        let _ = writeln!(
            t,
            "[[clients]]\nname = \"direct\"\nshare = {share}   # their share of the sessions"
        );
        let _ = writeln!(
            t,
            "users = {users}   # {}",
            users_note(seen, direct_sessions)
        );
        let _ = writeln!(t, "network = \"direct\"");
    }
    // Fleet.
    let busy = rate * peak * req_mean * service_mean;
    let count = ((busy / (TARGET_UTILISATION * f64::from(WORKERS))).ceil() as u64).max(2);
    let _ = writeln!(
        t,
        "\n# Not in the log: a fleet sized for ~{:.0} % utilisation in the busiest hour\n\
         # ({} sessions/s x {} requests x {} s = {} busy workers). Set yours.",
        TARGET_UTILISATION * 100.0,
        fmt_sig(rate * peak),
        fmt_sig(req_mean),
        fmt_sig(service_mean),
        fmt_sig(busy)
    );
    let _ = writeln!(
        t,
        "[backends]\ncount = {count}\nworkers = {WORKERS}\nqueue_limit = 100"
    );
    let _ = writeln!(
        t,
        "\n# Session state in the backend's memory: what stickiness protects.\n\
         [session_state]\nplacement = \"local\""
    );
    t.push_str(STRATEGIES);
    t
}

fn pct(a: u64, b: u64) -> String {
    format!("{:.1} %", a as f64 * 100.0 / b.max(1) as f64)
}

/// The strategies written: the bundled checkout scenario's set.
const STRATEGIES: &str = r#"
# The bundled checkout scenario's strategies: two non-sticky baselines, a
# short and a long LB cookie, and source-address affinity.
[[strategies]]
name = "round-robin"
kind = "round_robin"

[[strategies]]
name = "least-conn"
kind = "least_conn"

[[strategies]]
name = "cookie-1m"
kind = "lb_cookie"
ttl = 60

[[strategies]]
name = "cookie-1d"
kind = "lb_cookie"

[[strategies]]
name = "source-ip"
kind = "source_ip"

[decision]
question = "With this traffic, which stickiness strategy keeps sessions without overloading a backend?"
minimize = "sessions_lost_pct"
constraints = ["util_max <= 0.8", "latency_p99_ms <= 500", "rejected_pct <= 0.1"]
"#;
