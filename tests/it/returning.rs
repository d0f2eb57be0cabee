//! Users who come back (`[[clients]] cookie_jar = "user"`): their cookies
//! outlive their sessions, so a 1-day cookie pins them to the backend of
//! their last visit — a backend that recovers stays cold, and the report
//! says so — and an absolute TTL set on an earlier visit expires sooner.

use crate::common::{assert_conserved, bin};
use stickysim::engine::{run_strategy, RunOutput};
use stickysim::scenario::{self, Scenario};

/// 1,500 users come back every ~500 s on average; b1 is away from 60 to
/// 90 min (marked up again a few health checks later).
const RECOVERY: &str = r#"
[simulation]
name = "returning"
duration = 10800
warmup = 300
seed = 5

[workload]
session_rate = 3
requests_per_session = { dist = "geometric", mean = 4 }
think_time = { dist = "exponential", mean = 10 }
service_time = { dist = "exponential", mean = 0.05 }

[[clients]]
name = "web"
share = 1
users = 1500
cookie_jar = "user"

[backends]
count = 4
workers = 8

[output]
bucket = 60

[[strategies]]
name = "rr"
kind = "round_robin"

[[strategies]]
name = "cookie-1d"
kind = "lb_cookie"
ttl = 86400

[[faults]]
kind = "crash"
backend = "b1"
at = 3600
recover_after = 1800
"#;

fn load(text: &str) -> Scenario {
    scenario::from_str(text, "returning.toml", "returning", &[]).unwrap_or_else(|e| panic!("{e}"))
}

fn session_jars(text: &str) -> String {
    text.replace("cookie_jar = \"user\"", "cookie_jar = \"session\"")
}

/// Backend `b`'s share of requests from `from_s` for `len_s` seconds.
fn share(o: &RunOutput, b: u32, from_s: f64, len_s: f64) -> f64 {
    let (from, to) = ((from_s * 1e9) as u64, ((from_s + len_s) * 1e9) as u64);
    let (mut mine, mut all) = (0u64, 0u64);
    for r in o
        .buckets
        .iter()
        .filter(|r| r.t_start_ns >= from && r.t_end_ns <= to)
    {
        all += r.requests;
        if r.backend == b {
            mine += r.requests;
        }
    }
    assert!(all > 1000, "{all} requests in the window");
    mine as f64 / all as f64
}

#[test]
fn returning_users_with_a_one_day_cookie_leave_a_recovered_backend_cold() {
    let user = load(RECOVERY);
    let session = load(&session_jars(RECOVERY));
    let cookie = user
        .strategies
        .iter()
        .position(|s| s.name == "cookie-1d")
        .unwrap();
    let (u, s) = (run_strategy(&user, cookie), run_strategy(&session, cookie));
    let rr = run_strategy(&user, 0);
    for o in [&u, &s, &rr] {
        assert_conserved(&o.summary);
    }
    // b1 is in service again by 95 min; measure the next 30 min.
    let (from, len) = (95.0 * 60.0, 1800.0);
    let (cold, fresh, plain) = (
        share(&u, 1, from, len),
        share(&s, 1, from, len),
        share(&rr, 1, from, len),
    );
    eprintln!("b1's share after recovery: returning {cold:.4}, empty jars {fresh:.4}, round robin {plain:.4}");
    // Round robin gives it its quarter at once, whatever the jars.
    assert!((plain - 0.25).abs() < 0.03, "{plain}");
    // Without returning users new sessions spread over all four at once.
    assert!(fresh > 0.15, "{fresh}");
    // With them, users come back pinned where their last visit went.
    assert!(cold < fresh / 3.0, "returning {cold} vs {fresh}");
    // Before the crash both spread evenly.
    let (bu, bs) = (share(&u, 1, 1200.0, 1800.0), share(&s, 1, 1200.0, 1800.0));
    assert!(bu > 0.18 && bs > 0.18, "{bu} {bs}");
}

#[test]
fn the_report_says_a_recovered_backend_stays_cold_under_returning_users() {
    let dir = tempfile::tempdir().unwrap();
    let report = |text: &str, name: &str| {
        let file = dir.path().join(format!("{name}.toml"));
        std::fs::write(&file, text).unwrap();
        let out = dir.path().join(name);
        bin()
            .arg("run")
            .arg(&file)
            .arg("--out")
            .arg(&out)
            .args(["--quiet", "--no-charts"])
            .assert()
            .success();
        std::fs::read_to_string(out.join("report.md")).unwrap()
    };
    let md = report(RECOVERY, "user");
    let line = md
        .lines()
        .find(|l| l.contains("Returning users keep `cookie-1d` off b1"))
        .unwrap_or_else(|| panic!("no finding in:\n{md}"));
    assert!(line.contains("fair share of 25"), "{line}");
    assert!(line.contains("`rr`"), "{line}");
    let md = report(&session_jars(RECOVERY), "session");
    assert!(!md.contains("Returning users keep"), "{md}");
}

/// An absolute TTL runs from when the cookie was first set: a user who
/// comes back brings a cookie set on an earlier visit, which expires
/// sooner into this one, so more sessions lose their state.
#[test]
fn an_absolute_ttl_set_on_an_earlier_visit_loses_more_sessions() {
    let text = r#"
[simulation]
duration = 7200
warmup = 600
seed = 3

[workload]
session_rate = 2
requests_per_session = { dist = "geometric", mean = 12 }
think_time = { dist = "exponential", mean = 30 }
service_time = { dist = "exponential", mean = 0.05 }

[[clients]]
share = 1
users = 300
cookie_jar = "user"

[backends]
count = 4
workers = 8

[[strategies]]
name = "abs-300"
kind = "lb_cookie"
ttl = 300
ttl_mode = "absolute"

[[strategies]]
name = "sliding-300"
kind = "lb_cookie"
ttl = 300
"#;
    let user = load(text);
    let session = load(&session_jars(text));
    let pct = |sc: &Scenario, i: usize| {
        let s = run_strategy(sc, i).summary;
        assert_conserved(&s);
        100.0 * s.sessions_lost as f64 / s.sessions as f64
    };
    let (abs_user, abs_session) = (pct(&user, 0), pct(&session, 0));
    eprintln!("absolute 300 s: {abs_session:.1} % lost with empty jars, {abs_user:.1} % with returning users");
    assert!(abs_user > abs_session + 3.0, "{abs_user} vs {abs_session}");
    // A sliding cookie is renewed on every request: a returning user's
    // cookie is as good as a new one (no more loss than with empty jars,
    // up to noise).
    let (sl_user, sl_session) = (pct(&user, 1), pct(&session, 1));
    eprintln!("sliding 300 s: {sl_session:.1} % / {sl_user:.1} %");
    assert!(sl_user < abs_user, "{sl_user} vs {abs_user}");
}

#[test]
fn returning_users_keep_runs_deterministic_and_the_default_unchanged() {
    let user = load(RECOVERY);
    let a = run_strategy(&user, 1);
    let b = run_strategy(&user, 1);
    assert_eq!(a.summary, b.summary);
    assert_eq!(a.buckets, b.buckets);
    // Spelling out the default changes nothing.
    let session = load(&session_jars(RECOVERY));
    let implicit = load(&RECOVERY.replace("cookie_jar = \"user\"\n", ""));
    assert_eq!(
        scenario::scenario_hash(&session),
        scenario::scenario_hash(&implicit)
    );
    assert_eq!(
        run_strategy(&session, 1).summary,
        run_strategy(&implicit, 1).summary
    );
}
