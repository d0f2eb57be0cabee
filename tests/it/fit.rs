//! `stickysim fit`: the numbers it finds in the bundled shop log against
//! the log's known construction (exactly, under the session rule; and the
//! laws it was drawn from, within their sampling error), the scenario it
//! writes (validates, runs, overwrite only with --force), a round trip
//! through `stickysim traffic` that recovers a scenario's distributions,
//! and bad input.

use crate::common::bin;
use crate::replay_example::{
    construct, shop_log, BOT_UA, HEALTH_PATH, NAT_ADDR, NAT_SHARE, NAT_USERS, REQUESTS_MEAN,
    SESSION_RATE, SPAN_S, START, THINK_MEAN_S,
};
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use stickysim::fit::families::best;
use stickysim::fit::{population, Fit, Fitter};
use stickysim::replay::{time, Format, JsonFields, LineReader};
use stickysim::scenario::replay::Replay;

const S: i64 = 1_000_000_000;

/// The spec `stickysim fit` builds from its flags, for the library API.
fn spec(format: Format, session_field: Option<&str>, idle_s: u64, exclude: bool) -> Replay {
    Replay {
        log: String::new(),
        path: PathBuf::new(),
        format,
        fields: JsonFields::default(),
        session_field: session_field.map(String::from),
        idle_ns: idle_s * S as u64,
        reorder_window_ns: 10 * S as u64,
        speed: 1.0,
        scale: 1,
        from_ns: None,
        to_ns: None,
        exclude_path: if exclude {
            vec![format!("^{HEALTH_PATH}")]
        } else {
            vec![]
        },
        exclude_user_agent: if exclude {
            vec!["(?i)bot".into()]
        } else {
            vec![]
        },
        strict: false,
    }
}

fn fit_shop(idle_s: u64) -> Fit {
    let sp = spec(Format::Combined, None, idle_s, true);
    Fitter::new(&sp, LineReader::open(&shop_log()).unwrap())
        .unwrap()
        .run(10)
}

/// What a reader grouping the construction's requests by user (address +
/// user agent: one per user here), in log time (whole seconds), into
/// sessions ended by `idle_s` without a request should find.
struct Expected {
    sessions: u64,
    requests: u64,
    per_session: BTreeMap<u64, u64>,
    gaps: u64,
    gap_zeros: u64,
    gap_sum: f64,
    nat_users: u64,
    nat_sessions: u64,
    nat_requests: u64,
    returning_sessions: u64,
    returning_users: u64,
    users: u64,
}

fn expected(idle_s: i64) -> Expected {
    let (_, truth) = construct();
    let mut by_user: BTreeMap<u32, (bool, Vec<i64>)> = BTreeMap::new();
    for s in &truth {
        let e = by_user.entry(s.user).or_insert((s.nat, Vec::new()));
        // The log writes whole seconds.
        e.1.extend(s.times.iter().map(|t| t.floor() as i64));
    }
    let mut x = Expected {
        sessions: 0,
        requests: 0,
        per_session: BTreeMap::new(),
        gaps: 0,
        gap_zeros: 0,
        gap_sum: 0.0,
        nat_users: 0,
        nat_sessions: 0,
        nat_requests: 0,
        returning_sessions: 0,
        returning_users: 0,
        users: by_user.len() as u64,
    };
    for (nat, times) in by_user.values_mut() {
        times.sort_unstable();
        let mut n_sessions = 0;
        let mut n = 0u64;
        for (i, &t) in times.iter().enumerate() {
            if i > 0 && t - times[i - 1] < idle_s {
                let g = t - times[i - 1];
                x.gaps += 1;
                x.gap_zeros += u64::from(g == 0);
                x.gap_sum += g as f64;
                n += 1;
            } else {
                if n > 0 {
                    *x.per_session.entry(n).or_insert(0) += 1;
                }
                n = 1;
                n_sessions += 1;
            }
        }
        *x.per_session.entry(n).or_insert(0) += 1;
        x.sessions += n_sessions;
        x.requests += times.len() as u64;
        x.returning_sessions += n_sessions - 1;
        x.returning_users += u64::from(n_sessions > 1);
        if *nat {
            x.nat_users += 1;
            x.nat_sessions += n_sessions;
            x.nat_requests += times.len() as u64;
        }
    }
    x
}

/// Under the session rule (address + user agent, 30 min idle), `fit`
/// finds exactly what the construction implies: every session, request
/// count, gap, the NAT address's users, returning users.
#[test]
fn fit_finds_the_shop_logs_construction_exactly_under_the_session_rule() {
    for idle in [1800, 120] {
        let fit = fit_shop(idle as u64);
        let x = expected(idle);
        let text = fs::read_to_string(shop_log()).unwrap();
        let c = &fit.counts;
        assert_eq!(c.lines, text.lines().count() as u64);
        assert_eq!((c.skipped, c.first_bad[0].0), (1, 1001));
        let bot = text.lines().filter(|l| l.contains(BOT_UA)).count() as u64;
        let health = text.lines().filter(|l| l.contains(HEALTH_PATH)).count() as u64;
        assert_eq!(c.excluded, bot + health);
        assert!(c.reordered > 20, "{c:?}");
        assert_eq!(c.late, 0);
        assert_eq!(c.requests, x.requests);
        assert_eq!(fit.sessions, x.sessions, "idle {idle}");
        assert_eq!(fit.requests_per_session, x.per_session, "idle {idle}");
        assert_eq!(fit.think.n(), x.gaps);
        assert_eq!(fit.think.zeros, x.gap_zeros);
        // Whole seconds: sums of integers are exact in f64.
        assert_eq!(fit.think.moments.sum, x.gap_sum);
        assert_eq!(fit.resolution_ns, S);
        assert_eq!(fit.service.n(), 0);
        assert_eq!(fit.users, x.users);
        assert_eq!(fit.identities, x.users);
        assert_eq!(fit.returning_sessions, x.returning_sessions);
        assert_eq!(fit.returning_identities, x.returning_users);
        // The NAT address is the one address with >= 10 users, and the
        // busiest.
        assert_eq!(fit.nat.addresses, 1);
        assert_eq!(fit.top[0].addr.to_string(), NAT_ADDR);
        assert_eq!(
            (fit.nat.users, fit.nat.sessions, fit.nat.requests),
            (x.nat_users, x.nat_sessions, x.nat_requests)
        );
        assert_eq!(fit.bands[2].addresses + fit.bands[3].addresses, 1);
        // Everyone else is alone at their address.
        assert_eq!(fit.bands[0].addresses, fit.addresses - 1);
        assert_eq!(fit.address_changes, 0);
        let first = time::iso(START).unwrap();
        assert!(fit.first_ns.unwrap() >= first && fit.last_ns.unwrap() < first + 3600 * S);
    }
}

/// Against the laws the log was drawn from: with a 2-minute idle gap (a
/// think time of the construction exceeds it with probability e^-8, and a
/// user's next session starts within it for a few % of sessions), the
/// fitted families are the construction's and their parameters are
/// within sampling error of its constants.
#[test]
fn fit_recovers_the_shop_logs_laws_within_their_sampling_error() {
    let fit = fit_shop(120);
    let (_, truth) = construct();
    let generated = truth.len() as f64;
    // Sessions: Poisson(0.12 × 3600 = 432), σ ≈ 21; the rule merges a few %
    // more (a user's next session inside the gap), so 4σ below and 2σ above.
    let law = SESSION_RATE * SPAN_S;
    let s = fit.sessions as f64;
    assert!(
        s > law - 4.0 * law.sqrt() && s < law + 2.0 * law.sqrt(),
        "{s} vs {law}"
    );
    assert!(s <= generated);
    // Requests per session: geometric, mean 7 (sd √42 ≈ 6.5, se ≈ 0.31 over
    // ~430 sessions); merged sessions and sessions cut at the end of the
    // hour move it by a few %, inside 4 se.
    let rf = fit.requests_fits();
    let b = best(&rf).unwrap();
    assert_eq!(b.family, "geometric", "{rf:#?}");
    let se = (REQUESTS_MEAN * (REQUESTS_MEAN - 1.0) / s).sqrt();
    assert!((b.mean - REQUESTS_MEAN).abs() < 4.0 * se, "{b:?}, se {se}");
    // Think time: exponential, mean 15 s (se 15/√n ≈ 0.3 s over ~2,600
    // gaps); whole-second stamps add no bias to the mean (a difference of
    // two floors), merged sessions add a few gaps of up to 120 s.
    let tf = fit.think_fits();
    let b = best(&tf).unwrap();
    let m = fit.think.with_zeros(fit.zero_gap_s());
    let se = THINK_MEAN_S / (m.n as f64).sqrt();
    assert!(
        b.family == "exponential" || (b.family == "gamma" && (b.cv.unwrap() - 1.0).abs() < 0.1),
        "{tf:#?}"
    );
    assert!((b.mean - THINK_MEAN_S).abs() < 4.0 * se, "{b:?}, se {se}");
    // The NAT share of sessions: binomial around 0.4, se ≈ 0.024.
    let share = fit.nat.sessions as f64 / s;
    let se = (NAT_SHARE * (1.0 - NAT_SHARE) / s).sqrt();
    assert!((share - NAT_SHARE).abs() < 4.0 * se, "{share}");
    // Users behind it: the population estimate from the users seen. Each of
    // the 80 is seen with probability 1 − e^(−S/80) ≈ 0.88, so the count seen
    // has sd ≈ √(80·0.88·0.12) ≈ 2.9 and the estimate ≈ 80 within ~±15.
    let u = population(fit.nat.users, fit.nat.sessions) as f64;
    assert!(
        (u - f64::from(NAT_USERS)).abs() < 16.0,
        "{u} users behind the NAT address"
    );
}

fn fit_cli(args: &[&str]) -> (i32, String, String) {
    let o = bin().arg("fit").args(args).output().unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn value(text: &str, key: &str) -> f64 {
    let v: toml::Value = toml::from_str(text).unwrap();
    let mut at = &v;
    for k in key.split('.') {
        at = match k.parse::<usize>() {
            Ok(i) => &at[i],
            Err(_) => &at[k],
        };
    }
    at.as_float()
        .or_else(|| at.as_integer().map(|i| i as f64))
        .unwrap_or_else(|| panic!("{key}: {at:?}"))
}

/// `fit --out` writes a scenario that validates and runs, with the fitted
/// numbers in it, and refuses to overwrite it without --force.
#[test]
fn the_fitted_scenario_validates_runs_and_holds_the_fitted_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("my.toml");
    let log = shop_log();
    let log = log.to_str().unwrap();
    let args = [
        log,
        "--exclude-path",
        "^/healthz",
        "--exclude-user-agent",
        "(?i)bot",
        "--out",
        out.to_str().unwrap(),
    ];
    let (code, stdout, stderr) = fit_cli(&args);
    assert_eq!(code, 0, "{stderr}");
    for want in [
        "Requests per session:",
        "<- lowest AIC",
        "NAT estimate:",
        NAT_ADDR,
        "Returning users:",
        "Service time: not in this log",
    ] {
        assert!(stdout.contains(want), "{want} not in\n{stdout}");
    }
    assert!(stderr.contains("1 bad line skipped"), "{stderr}");
    let text = fs::read_to_string(&out).unwrap();
    let fit = fit_shop(1800);
    // The numbers are the fit's, commented with where they came from.
    let rate = value(&text, "workload.session_rate");
    assert!(
        (rate / (fit.sessions as f64 / fit.span_s()) - 1.0).abs() < 1e-3,
        "{text}"
    );
    assert!(text.contains("# shop.log: "), "{text}");
    assert!(text.contains("the log has no service times"), "{text}");
    let nat = value(&text, "clients.0.share");
    assert!((nat - fit.nat.sessions as f64 / fit.sessions as f64).abs() < 1e-4);
    // Sessions by address + user agent: the users seen (a lower bound).
    assert_eq!(value(&text, "clients.0.users") as u64, fit.nat.users);
    assert_eq!(
        value(&text, "clients.0.users_per_ip"),
        value(&text, "clients.0.users")
    );
    let sc = stickysim::scenario::load(&out, &[]).unwrap();
    assert_eq!(sc.clients.len(), 2);
    assert_eq!(sc.strategies.len(), 5);
    bin().arg("validate").arg(&out).assert().success();
    let res = dir.path().join("res");
    bin()
        .arg("run")
        .arg(&out)
        .args([
            "--set",
            "simulation.duration=600",
            "--set",
            "simulation.warmup=60",
            "--quiet",
            "--no-charts",
            "--out",
        ])
        .arg(&res)
        .assert()
        .success();
    assert!(res.join("summary.csv").exists());
    // An existing file is kept without --force.
    let (code, _, stderr) = fit_cli(&args);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("exists; pass --force to overwrite it"),
        "{stderr}"
    );
    assert_eq!(fs::read_to_string(&out).unwrap(), text);
    let mut forced = args.to_vec();
    forced.push("--force");
    assert_eq!(fit_cli(&forced).0, 0);
    // Deterministic: the same log gives the same file and report.
    assert_eq!(fs::read_to_string(&out).unwrap(), text);
    assert_eq!(fit_cli(&args[..5]).1, stdout);
}

/// The round trip: a scenario's own traffic (`stickysim traffic`, JSON
/// lines with a session field and service times) fitted back gives the
/// scenario's families and parameters within sampling error.
#[test]
fn fitting_a_runs_own_traffic_recovers_its_distributions() {
    let dir = tempfile::tempdir().unwrap();
    let sc = dir.path().join("known.toml");
    fs::write(
        &sc,
        r#"[simulation]
duration = 3600
seed = 5
[workload]
session_rate = 2.0
requests_per_session = { dist = "geometric", mean = 6 }
think_time = { dist = "lognormal", mean = 8, cv = 1.5 }
service_time = { dist = "gamma", mean = 0.02, cv = 0.5 }
[[clients]]
name = "home"
share = 0.7
users = 50000
[[clients]]
name = "office"
share = 0.3
users = 400
network = "nat"
users_per_ip = 100
[backends]
count = 4
workers = 4
[[strategies]]
name = "rr"
kind = "round_robin"
"#,
    )
    .unwrap();
    let log = dir.path().join("own.jsonl");
    bin()
        .arg("traffic")
        .arg(&sc)
        .arg("--out")
        .arg(&log)
        .assert()
        .success();
    let sp = spec(Format::Jsonl, Some("session"), 1800, false);
    let fit = Fitter::new(&sp, LineReader::open(&log).unwrap())
        .unwrap()
        .run(10);
    assert_eq!(fit.counts.skipped, 0);
    assert!(fit.by_field);
    // ~7,200 sessions: rate within 4 Poisson σ (≈ 1.2 %).
    let s = fit.sessions as f64;
    let rate = s / 3600.0;
    assert!(
        (rate - 2.0).abs() < 4.0 * (7200f64).sqrt() / 3600.0,
        "{rate}"
    );
    // Every session key is new: no returns, no address changes (the NAT
    // and direct users keep their address).
    assert_eq!(fit.returning_sessions, 0);
    assert_eq!(fit.address_changes, 0);
    let b = best(&fit.requests_fits()).unwrap().clone();
    assert_eq!(b.family, "geometric");
    let se = (6.0 * 5.0 / s).sqrt();
    // Sessions still open at the end are cut short (~1 % of them).
    assert!((b.mean - 6.0).abs() < 4.0 * se + 0.05, "{b:?}");
    // Think time: the gap between two requests is the think time plus the
    // response time (~0.02 s here, 0.25 % of the mean).
    let tf = fit.think_fits();
    let b = best(&tf).unwrap();
    assert_eq!(b.family, "lognormal", "{tf:#?}");
    let n = fit.think.n() as f64;
    assert!(
        (b.mean / 8.0 - 1.0).abs() < 4.0 * 1.5 / n.sqrt() + 0.005,
        "{b:?}"
    );
    assert!((b.cv.unwrap() - 1.5).abs() < 0.1, "{b:?}");
    // Service times are written exactly (µs): gamma, mean 0.02, cv 0.5.
    let sf = fit.service_fits();
    let b = best(&sf).unwrap();
    assert_eq!(b.family, "gamma", "{sf:#?}");
    assert!((b.mean / 0.02 - 1.0).abs() < 0.02, "{b:?}");
    assert!((b.cv.unwrap() - 0.5).abs() < 0.02, "{b:?}");
    assert_eq!(fit.resolution_ns, 1000);
    // The NAT estimate: the office's 4 addresses (100 users each), 30 % of
    // the sessions (binomial se ≈ 0.54 %).
    assert_eq!(fit.nat.addresses, 4);
    let share = fit.nat.sessions as f64 / s;
    assert!((share - 0.3).abs() < 0.025, "{share}");
    // Written back, the scenario carries those laws.
    let out = dir.path().join("back.toml");
    let (code, _, err) = fit_cli(&[
        log.to_str().unwrap(),
        "--format",
        "jsonl",
        "--session-field",
        "session",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let text = fs::read_to_string(&out).unwrap();
    assert!(text.contains("service_time = { dist = \"gamma\""), "{text}");
    assert!(
        text.contains("think_time = { dist = \"lognormal\""),
        "{text}"
    );
    assert!(
        text.contains("requests_per_session = { dist = \"geometric\""),
        "{text}"
    );
    // The office's 400 users (each seen with probability 1 − e^(−5.4)) on
    // 4 addresses; the home segment's 50,000 from ~4,760 seen in ~5,040
    // sessions (the estimate's sd is ~9 % there: U(1 − e^(−S/U)) is flat).
    let per_ip = value(&text, "clients.0.users_per_ip");
    assert!((per_ip - 100.0).abs() <= 10.0, "{per_ip}");
    let home = value(&text, "clients.1.users");
    assert!((home / 50_000.0 - 1.0).abs() < 0.3, "{home}");
    bin().arg("validate").arg(&out).assert().success();
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    fs::write(&p, text).unwrap();
    p.to_str().unwrap().to_string()
}

/// Bad input: exit 2 with what was tried, nothing written.
#[test]
fn bad_logs_and_flags_are_exit_2_with_the_format_tried() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.toml");
    let o = out.to_str().unwrap();
    let empty = write(dir.path(), "empty.log", "");
    let (code, _, err) = fit_cli(&[&empty, "--out", o]);
    assert_eq!(code, 2);
    assert!(
        err.contains("empty.log: the log has no lines (format `combined`)"),
        "{err}"
    );
    let line = r#"192.0.2.1 - - [02/Mar/2026:10:00:01 +0100] "GET / HTTP/1.1" 200 5 "-" "ua""#;
    let one = write(dir.path(), "one.log", &format!("{line}\n"));
    let (code, _, err) = fit_cli(&[&one, "--format", "alb", "--out", o]);
    assert_eq!(code, 2);
    assert!(err.contains("no line parsed as format `alb`"), "{err}");
    assert!(
        err.contains("the first: line 1: line: expected at least 14 ALB fields"),
        "{err}"
    );
    let (code, _, err) = fit_cli(&[&one, "--format", "jsonl"]);
    assert_eq!(code, 2);
    assert!(err.contains("format `jsonl` (see --field"), "{err}");
    let (code, _, err) = fit_cli(&[&one, "--format", "apache"]);
    assert_eq!(code, 2);
    assert!(err.contains("--format: expected one of"), "{err}");
    let (code, _, err) = fit_cli(&[&one, "--field", "tme=ts", "--format", "jsonl"]);
    assert_eq!(code, 2);
    assert!(err.contains("--field: expected a key among"), "{err}");
    assert!(err.contains("did you mean `time`"), "{err}");
    let (code, _, err) = fit_cli(&[&one, "--session-field", "sid"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("--session-field: expected a session field only with format `jsonl`"),
        "{err}"
    );
    let (code, _, err) = fit_cli(&[&one, "--exclude-path", "(unclosed"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("--exclude-path: expected a regular expression"),
        "{err}"
    );
    let (code, _, err) = fit_cli(&[&one, "--idle", "soon"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("--idle: expected a number of seconds"),
        "{err}"
    );
    let (code, _, err) = fit_cli(&[&one, "--from", "yesterday"]);
    assert_eq!(code, 2);
    assert!(err.contains("--from: expected a date-time"), "{err}");
    let (code, _, err) = fit_cli(&[&one, "--from", "2027-01-01T00:00:00Z"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("none of the 1 parsed lines is left to fit"),
        "{err}"
    );
    let (code, _, err) = fit_cli(&[&format!("{}/missing.log", dir.path().display())]);
    assert_eq!(code, 2);
    assert!(err.contains("missing.log"), "{err}");
    assert!(!out.exists());
    // One good line fits (constant laws) and its scenario validates.
    let (code, stdout, err) = fit_cli(&[&one, "--out", o]);
    assert_eq!(code, 0, "{err}");
    assert!(stdout.contains("1 requests fitted"), "{stdout}");
    bin().arg("validate").arg(&out).assert().success();
}
