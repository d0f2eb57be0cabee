use super::raw::DIST_PARAMS;
use super::*;
use crate::routing::{
    Balance, CookieAttrs, HashAlgo, HashTuning, OnDraining, OnUnavailable, SameSite, StrategyKind,
    StrategySpec, TtlMode,
};
use std::path::PathBuf;

/// A minimal valid scenario; cases perturb it with `with`.
const BASE: &str = r#"[simulation]
duration = 600

[workload]
session_rate = 5
requests_per_session = { dist = "geometric", mean = 4 }
think_time = { dist = "exponential", mean = 10 }
service_time = { dist = "lognormal", mean = 0.05, cv = 1.5 }

[backends]
count = 2

[[strategies]]
name = "rr"
kind = "round_robin"
"#;

fn with(old: &str, new: &str) -> String {
    assert!(BASE.contains(old), "{old:?} not in BASE");
    BASE.replacen(old, new, 1)
}

fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(rel)
}

fn flags(f: &[&str]) -> Vec<String> {
    f.iter().map(|s| s.to_string()).collect()
}

fn ok(text: &str) -> Scenario {
    from_str(text, "t.toml", "t", &[]).unwrap_or_else(|e| panic!("{e}"))
}

/// The error message for `text`, asserting it contains every `needle`.
fn err_has(text: &str, overrides: &[&str], needles: &[&str]) -> String {
    let e = from_str(text, "t.toml", "t", &flags(overrides))
        .map(|_| ())
        .expect_err("expected an error");
    let msg = e.to_string();
    for n in needles {
        assert!(msg.contains(n), "{msg:?} lacks {n:?}");
    }
    assert!(!msg.contains('\n'), "one paragraph: {msg:?}");
    msg
}

const S: u64 = 1_000_000_000;

const FULL: &str = r#"
[simulation]
name = "full-1"
duration = 7200
warmup = 300.5
seed = 99

[workload]
session_rate = 20.0
profile = [ { from = 0, multiplier = 0.5 }, { from = 3600, multiplier = 1.5 } ]
profile_period = 86400
requests_per_session = { dist = "geometric", mean = 8 }
think_time = { dist = "constant", value = 0 }
service_time = { dist = "gamma", mean = 0.05, cv = 0.5 }

[[clients]]
name = "office"
share = 0.3
users = 5000
network = "nat"
users_per_ip = 500
ipv6 = true
ip_change_rate = 0.01
cookie_block = 0.25
token_header = true

[[clients]]
share = 0.7

[backends]
workers = 4
queue_limit = 0
speed = [1, 1, 0.5]

[health_check]
interval = 10
timeout = 2.5
unhealthy_threshold = 3
healthy_threshold = 1

[session_state]
placement = "shared"
store_latency = { dist = "uniform", min = 0.001, max = 0.003 }

[output]
bucket = 0.5

[[strategies]]
name = "cookie-1d"
kind = "lb_cookie"

[[strategies]]
name = "cookie.custom"
kind = "lb_cookie"
ttl = 1800.25
ttl_mode = "absolute"
cookie_name = "SRV_ID"
cookie_path = "/shop"
secure = true
http_only = true
same_site = "lax"
balance = "p2c"
on_unavailable = "reject"

[[strategies]]
name = "ip"
kind = "source_ip"
hash = "modulo"
on_unavailable = "reject"

[[strategies]]
name = "p2c"
kind = "p2c"

[[faults]]
kind = "crash"
backend = "b2"
at = 0
recover_after = 600

[[faults]]
kind = "crash"
backend = "b2"
at = 3600
"#;

#[test]
fn full_scenario_resolves_units_and_keeps_every_value() {
    let s = ok(FULL);
    assert_eq!(s.name, "full-1");
    assert_eq!(s.simulation.duration_ns, 7200 * S);
    assert_eq!(s.simulation.warmup_ns, 300_500_000_000);
    assert_eq!(s.simulation.seed, 99);

    let w = &s.workload;
    assert_eq!(w.session_rate, 20.0);
    assert_eq!(w.profile.steps, vec![(0, 0.5), (3600 * S, 1.5)]);
    assert_eq!(w.profile.period_ns, Some(86_400 * S));
    assert!(matches!(w.requests_per_session, dist::Dist::Geometric { mean, .. } if mean == 8.0));
    assert!(matches!(w.think_time, dist::Dist::Constant(v) if v == 0.0));
    assert!(
        matches!(w.service_time, dist::Dist::Gamma { mean, cv, .. } if mean == 0.05 && cv == 0.5)
    );

    assert_eq!(s.clients.len(), 2);
    let c = &s.clients[0];
    assert_eq!(
        (c.name.as_str(), c.share, c.users, c.network, c.users_per_ip),
        ("office", 0.3, 5000, Network::Nat, 500)
    );
    assert!(c.ipv6 && c.token_header);
    assert_eq!((c.ip_change_rate, c.cookie_block), (0.01, 0.25));
    let d = &s.clients[1];
    assert_eq!(
        (d.name.as_str(), d.share, d.users, d.network, d.users_per_ip),
        ("segment1", 0.7, 10_000, Network::Direct, 1)
    );
    assert!(!d.ipv6 && !d.token_header);
    assert_eq!((d.ip_change_rate, d.cookie_block), (0.0, 0.0));

    assert_eq!(s.backends.speeds, vec![1.0, 1.0, 0.5]);
    assert_eq!(s.backends.count(), 3);
    assert_eq!((s.backends.workers, s.backends.queue_limit), (4, Some(0)));

    let h = &s.health_check;
    assert_eq!((h.interval_ns, h.timeout_ns), (10 * S, 2_500_000_000));
    assert_eq!((h.unhealthy_threshold, h.healthy_threshold), (3, 1));
    assert!(matches!(
        s.session_state,
        SessionState::Shared { store_latency: dist::Dist::Uniform { min, max, .. }, .. }
            if min == 0.001 && max == 0.003
    ));
    assert_eq!(s.output.bucket_ns, 500_000_000);

    let names: Vec<&str> = s.strategies.iter().map(|x| x.name.as_str()).collect();
    assert_eq!(names, ["cookie-1d", "cookie.custom", "ip", "p2c"]);
    assert_eq!(
        s.strategies[0].spec,
        StrategySpec::LbCookie {
            ttl_ns: 86_400 * S,
            ttl_mode: TtlMode::Sliding,
            cookie: CookieAttrs::default(),
            balance: Balance::RoundRobin,
            on_unavailable: OnUnavailable::Redispatch,
            on_draining: OnDraining::Reroute,
        }
    );
    assert_eq!(
        s.strategies[1].spec,
        StrategySpec::LbCookie {
            ttl_ns: 1_800_250_000_000,
            ttl_mode: TtlMode::Absolute,
            cookie: CookieAttrs {
                name: "SRV_ID".into(),
                path: "/shop".into(),
                secure: true,
                http_only: true,
                same_site: Some(SameSite::Lax),
            },
            balance: Balance::P2c,
            on_unavailable: OnUnavailable::Reject,
            on_draining: OnDraining::Reroute,
        }
    );
    assert_eq!(
        s.strategies[2].spec,
        StrategySpec::SourceIp {
            hash: HashAlgo::Modulo,
            tuning: HashTuning::default(),
            on_unavailable: OnUnavailable::Reject,
            on_draining: OnDraining::Reroute,
        }
    );
    assert_eq!(s.strategies[3].spec, StrategySpec::Balance(Balance::P2c));

    assert_eq!(s.faults.len(), 2);
    assert!(matches!(
        s.faults[0],
        Fault::Crash { backend: 2, at_ns: 0, recover_after_ns: Some(r), .. } if r == 600 * S
    ));
    assert!(matches!(
        s.faults[1],
        Fault::Crash { backend: 2, at_ns, recover_after_ns: None, .. } if at_ns == 3600 * S
    ));
}

#[test]
fn minimal_scenario_gets_documented_defaults() {
    let s = from_str(BASE, "dir/my-run.toml", "my-run", &[]).unwrap();
    assert_eq!(s.name, "my-run");
    assert_eq!((s.simulation.warmup_ns, s.simulation.seed), (0, 1));
    assert!(s.workload.profile.steps.is_empty());
    assert_eq!(s.workload.profile.at(123), (1.0, u64::MAX));
    assert_eq!(s.clients.len(), 1);
    let c = &s.clients[0];
    assert_eq!(
        (c.name.as_str(), c.share, c.users, c.network, c.users_per_ip),
        ("all", 1.0, 10_000, Network::Direct, 1)
    );
    assert_eq!(s.backends.speeds, vec![1.0, 1.0]);
    assert_eq!((s.backends.workers, s.backends.queue_limit), (1, None));
    let h = &s.health_check;
    assert_eq!((h.interval_ns, h.timeout_ns), (30 * S, 5 * S));
    assert_eq!((h.unhealthy_threshold, h.healthy_threshold), (2, 5));
    assert!(matches!(s.session_state, SessionState::Local));
    assert_eq!(s.output.bucket_ns, 60 * S);
    assert!(s.faults.is_empty());
    assert_eq!(
        s.strategies[0].spec,
        StrategySpec::Balance(Balance::RoundRobin)
    );
}

#[test]
fn nat_users_per_ip_defaults_to_100_capped_at_users() {
    let seg = |extra: &str| {
        ok(&with(
            "[backends]",
            &format!("[[clients]]\nshare = 1\n{extra}\n[backends]"),
        ))
        .clients[0]
            .users_per_ip
    };
    assert_eq!(seg("network = \"nat\""), 100);
    assert_eq!(seg("network = \"cgnat\"\nusers = 40"), 40);
    assert_eq!(seg("network = \"direct\"\nusers_per_ip = 1"), 1);
}

/// Every bad-input fixture in `tests/data/bad/`: the message names the
/// file, the key and position, and says what was expected and found.
#[test]
fn bad_fixtures_name_file_key_position_and_expectation() {
    let cases: &[(&str, &[&str])] = &[
        (
            "syntax_error",
            &["syntax_error.toml:4:10:", "TOML syntax error", "expected"],
        ),
        (
            "unknown_key",
            &[
                "unknown_key.toml:5:1:",
                "`workload.sesion_rate`",
                "unknown key `sesion_rate`",
                "did you mean `session_rate`?",
                "expected one of",
            ],
        ),
        (
            "wrong_type",
            &[
                "wrong_type.toml:5:16:",
                "`workload.session_rate`",
                "expected a number, found string \"fast\"",
            ],
        ),
        (
            "negative_rate",
            &[
                "negative_rate.toml:5:16:",
                "`workload.session_rate`",
                "expected a rate in sessions per second > 0, found -5",
            ],
        ),
        (
            "zero_duration",
            &[
                "zero_duration.toml:2:12:",
                "`simulation.duration`",
                "expected a time in seconds > 0, found 0",
            ],
        ),
        (
            "shares_not_one",
            &[
                "shares_not_one.toml:10:",
                "`clients`",
                "expected `share`s summing to 1, found 0.9",
                "home 0.6 + office 0.3",
            ],
        ),
        (
            "warmup_ge_duration",
            &[
                "warmup_ge_duration.toml:3:10:",
                "`simulation.warmup`",
                "expected a warmup shorter than `simulation.duration` (600 s), found 600 s",
            ],
        ),
        (
            "unknown_kind",
            &[
                "unknown_kind.toml:15:8:",
                "`strategies[0].kind`",
                "expected one of `round_robin`, `random`, `least_conn`, `p2c`, `lb_cookie`, `source_ip`",
                "found `round_robbin`",
                "did you mean `round_robin`?",
            ],
        ),
        (
            "duplicate_names",
            &[
                "duplicate_names.toml:22:8:",
                "`strategies[2].name`",
                "expected unique strategy names, found `rr` again (first at strategies[0])",
            ],
        ),
        (
            "fault_unknown_backend",
            &[
                "fault_unknown_backend.toml:19:11:",
                "`faults[0].backend`",
                "`b0`, `b1`",
                "found `b2`",
            ],
        ),
        (
            "bad_dist",
            &[
                "bad_dist.toml:7:",
                "`workload.think_time.cv`",
                "`cv` does not apply to the `exponential` distribution; expected only `mean`",
            ],
        ),
        (
            "key_not_for_kind",
            &[
                "key_not_for_kind.toml:16:7:",
                "`strategies[0].ttl`",
                "`ttl` does not apply to kind `round_robin`",
            ],
        ),
        (
            "fault_unknown_zone",
            &[
                "fault_unknown_zone.toml:20:8:",
                "`faults[0].zone`",
                "expected one of the zones in `backends.zones` (`a`, `b`), found `c`",
            ],
        ),
        (
            "fault_key_not_for_kind",
            &[
                "fault_key_not_for_kind.toml:21:11:",
                "`faults[0].backend`",
                "`backend` does not apply to fault kind `random`; its keys are `mtbf`, `mttr`",
            ],
        ),
        (
            "slow_factor_below_one",
            &[
                "slow_factor_below_one.toml:22:10:",
                "`faults[0].factor`",
                "expected a slow-down factor from 1 to 1000, found 0.5",
            ],
        ),
        (
            "deploy_delay_too_long",
            &[
                "deploy_delay_too_long.toml:19:24:",
                "`deploys[0].deregistration_delay`",
                "expected a delay from 0 to 3600 s (ALB's range), found 4000 s",
            ],
        ),
        (
            "autoscaling_max_below_min",
            &[
                "autoscaling_max_below_min.toml:19:7:",
                "`autoscaling.max`",
                "expected `max` >= `min` (4), found 2",
            ],
        ),
        (
            "autoscaling_bad_victim",
            &[
                "autoscaling_bad_victim.toml:20:10:",
                "`autoscaling.victim`",
                "expected one of `newest`, `oldest`, `least_sessions`, found `random`",
            ],
        ),
        (
            "replicated_zero_copies",
            &[
                "replicated_zero_copies.toml:15:10:",
                "`session_state.copies`",
                "expected a number of copies from 1 to 8, found 0",
            ],
        ),
        (
            "store_outage_on_local",
            &[
                "store_outage_on_local.toml:15:17:",
                "`session_state.store_outages`",
                "`store_outages` does not apply to `placement = \"local\"`",
            ],
        ),
        (
            "on_draining_not_for_kind",
            &[
                "on_draining_not_for_kind.toml:16:15:",
                "`strategies[0].on_draining`",
                "`on_draining` does not apply to kind `round_robin`",
            ],
        ),
    ];
    let mut on_disk: Vec<String> = std::fs::read_dir(data("bad"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = cases.iter().map(|(n, _)| format!("{n}.toml")).collect();
    listed.sort();
    assert_eq!(on_disk, listed, "every fixture has a case and vice versa");

    for (name, needles) in cases {
        let path = data(&format!("bad/{name}.toml"));
        let msg = load(&path, &[]).map(|_| ()).unwrap_err().to_string();
        for n in *needles {
            assert!(msg.contains(n), "{name}: {msg:?} lacks {n:?}");
        }
        assert!(msg.contains(&path.display().to_string()), "{msg}");
        assert!(!msg.contains('\n'), "{name}: one paragraph: {msg:?}");
    }
}

#[test]
fn missing_file_names_the_path() {
    let path = data("no_such_file.toml");
    let e = load(&path, &[]).unwrap_err();
    assert!(matches!(e, ScenarioError::Read { .. }));
    let msg = e.to_string();
    assert!(msg.contains("cannot read scenario file"), "{msg}");
    assert!(msg.contains("no_such_file.toml"), "{msg}");
}

#[test]
fn shipped_scenarios_are_valid() {
    let tiny = load(&data("tiny.toml"), &[]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(tiny.simulation.duration_ns, 600 * S);
    assert_eq!(tiny.simulation.warmup_ns, 60 * S);
    assert_eq!((tiny.backends.count(), tiny.clients.len()), (2, 2));
    let kinds: Vec<&str> = tiny
        .strategies
        .iter()
        .map(|s| s.spec.kind().name())
        .collect();
    assert_eq!(kinds, ["round_robin", "lb_cookie", "source_ip"]);
    assert!(matches!(
        tiny.faults[..],
        [Fault::Crash {
            recover_after_ns: Some(_),
            ..
        }]
    ));

    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/checkout.toml");
    let c = load(&path, &[]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c.name, "checkout");
    assert_eq!(c.simulation.duration_ns, 4 * 3600 * S);
    assert_eq!(c.simulation.warmup_ns, 600 * S);
    assert_eq!((c.backends.count(), c.backends.workers), (8, 4));
    let names: Vec<&str> = c.strategies.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "round-robin",
            "least-conn",
            "cookie-1m",
            "cookie-1d",
            "source-ip"
        ]
    );
    assert!(matches!(
        c.strategies[2].spec,
        StrategySpec::LbCookie { ttl_ns, .. } if ttl_ns == 60 * S
    ));
    assert!(matches!(
        c.faults[..],
        [Fault::Crash { backend: 3, recover_after_ns: Some(r), .. }] if r == 900 * S
    ));
    let shares: f64 = c.clients.iter().map(|s| s.share).sum();
    assert!((shares - 1.0).abs() < 1e-9);

    // The examples in docs/scenario.md work on it.
    let c = load(
        &path,
        &flags(&[
            "workload.session_rate=80",
            "simulation.seed=7",
            "strategies.cookie-1m.ttl=600",
            "strategies.0.kind=least_conn",
            "workload.think_time={dist=\"exponential\",mean=5}",
            "backends.count=3",
            "backends.speed=[1,1,0.5]",
            "faults.0.backend=b1",
        ]),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((c.workload.session_rate, c.simulation.seed), (80.0, 7));
    assert_eq!(c.backends.speeds, vec![1.0, 1.0, 0.5]);
}

#[test]
fn more_validation_errors() {
    let cases: &[(&str, &str, &[&str])] = &[
        ("[simulation]", "[simulaton]", &["t.toml:1:2:", "did you mean `simulation`?"]),
        (
            "duration = 600",
            "",
            &["t.toml:1:1:", "`simulation.duration`", "required key `duration` is missing"],
        ),
        (
            "duration = 600",
            "duration = 600\nseed = -1",
            &["`simulation.seed`", "expected a non-negative integer, found integer `-1`"],
        ),
        (
            "duration = 600",
            "duration = 600\nname = \"a b\"",
            &["`simulation.name`", "found \"a b\""],
        ),
        (
            "duration = 600",
            "duration = 600\nname = \"..\"",
            &["`simulation.name`", "not starting with `.`", "found \"..\""],
        ),
        ("count = 2", "count = 0", &["`backends.count`", "from 1 to 10000, found 0"]),
        ("count = 2", "count = 2\nworkers = 0", &["`backends.workers`", "found 0"]),
        ("count = 2", "speed = 2", &["`backends.count`", "required key `count` is missing"]),
        (
            "count = 2",
            "count = 2\nspeed = [1, 1, 1]",
            &["`backends.count`", "number of entries in `backends.speed` (3), found 2"],
        ),
        (
            "count = 2",
            "speed = [1, 0]",
            &["t.toml:11:", "`backends.speed[1]`", "expected a speed > 0, found 0"],
        ),
        (
            "count = 2",
            "speed = [1, \"x\"]",
            &["t.toml:11:13:", "`backends.speed[1]`", "expected a number, found string \"x\""],
        ),
        (
            "count = 2",
            "speed = true",
            &["`backends.speed`", "expected a number or an array of numbers, found boolean"],
        ),
        (
            "mean = 10 }",
            "meen = 10 }",
            &["t.toml:7:38:", "`workload.think_time.meen`", "did you mean `mean`?"],
        ),
        (
            "\"exponential\", mean = 10",
            "\"expo\", mean = 10",
            &["`workload.think_time.dist`", "found `expo`", "did you mean `exponential`?"],
        ),
        (
            "mean = 0.05, cv = 1.5",
            "mean = 0.05",
            &["`workload.service_time.cv`", "required key `cv` is missing", "`mean`, `cv`"],
        ),
        (
            "mean = 0.05, cv = 1.5",
            "mean = -0.05, cv = 1.5",
            &["t.toml:8:45:", "`workload.service_time.mean`", "invalid `lognormal`", "found -0.05"],
        ),
        (
            "{ dist = \"lognormal\", mean = 0.05, cv = 1.5 }",
            "{ dist = \"constant\", value = 0 }",
            &["`workload.service_time`", "expected a mean service time > 0"],
        ),
        (
            "{ dist = \"geometric\", mean = 4 }",
            "{ dist = \"constant\", value = 0.5 }",
            &["`workload.requests_per_session`", "at least 1 request per session"],
        ),
        (
            "{ dist = \"exponential\", mean = 10 }",
            "5",
            &["`workload.think_time`", "expected a table, found integer `5`"],
        ),
        (
            "session_rate = 5",
            "session_rate = nan",
            &["`workload.session_rate`", "found NaN"],
        ),
        (
            "session_rate = 5",
            "session_rate = 5\nprofile = [{ from = 10, multiplier = 1 }]",
            &["`workload.profile[0].from`", "first step to start at 0, found 10"],
        ),
        (
            "session_rate = 5",
            "session_rate = 5\nprofile = [{ from = 0, multiplier = 1 }, { from = 0, multiplier = 2 }]",
            &["`workload.profile[1].from`", "strictly increasing"],
        ),
        (
            "session_rate = 5",
            "session_rate = 5\nprofile = [{ from = 0, multiplier = 0 }]",
            &["`workload.profile`", "at least one multiplier > 0"],
        ),
        (
            "session_rate = 5",
            "session_rate = 5\nprofile = [{ from = 0, multiplier = -1 }]",
            &["`workload.profile[0].multiplier`", "expected a multiplier >= 0, found -1"],
        ),
        (
            "session_rate = 5",
            "session_rate = 5\nprofile = [{ from = 0, multiplier = 1 }, { from = 60, multiplier = 2 }]\nprofile_period = 60",
            &["`workload.profile_period`", "longer than the last step's `from` (60 s), found 60 s"],
        ),
        (
            "session_rate = 5",
            "session_rate = 5\nprofile_period = 60",
            &["`workload.profile_period`", "found no profile"],
        ),
        (
            "[backends]",
            "[[clients]]\nshare = 1\nnetwork = \"natt\"\n[backends]",
            &["t.toml:12:11:", "`clients[0].network`", "found `natt` (did you mean `nat`?)"],
        ),
        (
            "[backends]",
            "[[clients]]\nshare = 1\nusers_per_ip = 5\n[backends]",
            &["`clients[0].users_per_ip`", "expected 1 with `network = \"direct\"`", "found 5"],
        ),
        (
            "[backends]",
            "[[clients]]\nshare = 1\nusers = 10\nnetwork = \"nat\"\nusers_per_ip = 11\n[backends]",
            &["`clients[0].users_per_ip`", "at most the segment's `users` (10), found 11"],
        ),
        (
            "[backends]",
            "[[clients]]\nshare = 1.5\n[backends]",
            &["`clients[0].share`", "0 < share <= 1, found 1.5"],
        ),
        (
            "[backends]",
            "[[clients]]\nshare = 1\ncookie_block = 2\n[backends]",
            &["`clients[0].cookie_block`", "from 0 to 1, found 2"],
        ),
        (
            "[backends]",
            "[[clients]]\nshare = 1\nip_change_rate = -1\n[backends]",
            &["`clients[0].ip_change_rate`", "between 0 and 1, found -1"],
        ),
        (
            "[backends]",
            "[[clients]]\nname = \"a\"\nshare = 0.5\n[[clients]]\nname = \"a\"\nshare = 0.5\n[backends]",
            &["`clients[1].name`", "found `a` again"],
        ),
        (
            "[simulation]",
            "clients = []\n[simulation]",
            &["`clients`", "at least one [[clients]] segment"],
        ),
        (
            "[backends]",
            "[health_check]\ninterval = 5\ntimeout = 5\n[backends]",
            &["`health_check.timeout`", "shorter than `health_check.interval` (5 s), found 5 s"],
        ),
        (
            "[backends]",
            "[health_check]\nhealthy_threshold = 11\n[backends]",
            &["`health_check.healthy_threshold`", "from 1 to 10, found 11"],
        ),
        (
            "[backends]",
            "[session_state]\nplacement = \"shared\"\n[backends]",
            &["`session_state.store_latency`", "required key `store_latency` is missing"],
        ),
        (
            "[backends]",
            "[session_state]\nstore_latency = { dist = \"constant\", value = 0.001 }\n[backends]",
            &["`session_state.store_latency`", "does not apply to `placement = \"local\"`"],
        ),
        (
            "[backends]",
            "[output]\nbucket = 0.001\n[backends]",
            &["`output.bucket`", "at most 100000 buckets", "found 600000", "at least 0.006 s"],
        ),
        (
            "[[strategies]]\nname = \"rr\"\nkind = \"round_robin\"\n",
            "",
            &["`strategies`", "required key `strategies` is missing"],
        ),
        (
            "kind = \"round_robin\"",
            "kind = \"lb_cookie\"\nttl_mod = \"absolute\"",
            &["t.toml:16:1:", "`strategies[0].ttl_mod`", "did you mean `ttl_mode`?"],
        ),
        (
            "kind = \"round_robin\"",
            "kind = \"lb_cookie\"\nttl = 604801",
            &["`strategies[0].ttl`", "from 1 to 604800, found 604801"],
        ),
        (
            "kind = \"round_robin\"",
            "kind = \"lb_cookie\"\nttl = \"1 dy\"",
            &["t.toml:16:7:", "`strategies[0].ttl`", "\"2h\", \"1d\"", "found \"1 dy\""],
        ),
        (
            "kind = \"round_robin\"",
            "kind = \"lb_cookie\"\ncookie_name = \"a;b\"",
            &["`strategies[0].cookie_name`", "found \"a;b\""],
        ),
        (
            "kind = \"round_robin\"",
            "kind = \"lb_cookie\"\ncookie_path = \"shop\"",
            &["`strategies[0].cookie_path`", "starting with `/`"],
        ),
        (
            "kind = \"round_robin\"",
            "kind = \"source_ip\"\nbalance = \"random\"",
            &["`strategies[0].balance`", "does not apply to kind `source_ip`", "`hash`, `on_unavailable`"],
        ),
        (
            "kind = \"round_robin\"",
            "kind = \"source_ip\"\nhash = \"ketam\"",
            &["`strategies[0].hash`", "`nginx_ip_hash`", "found `ketam`"],
        ),
        (
            "kind = \"round_robin\"",
            "kind = \"source_ip\"\nhash = \"maglev\"\ntable_size = 65536",
            &["`strategies[0].table_size`", "expected a prime number", "found 65536"],
        ),
        (
            "kind = \"round_robin\"",
            "kind = \"source_ip\"\nhash = \"ketama\"\ntable_size = 7",
            &["`strategies[0].table_size`", "applies to `hash = \"maglev\"` only"],
        ),
        (
            "kind = \"round_robin\"",
            "kind = \"source_ip\"\nhash = \"maglev\"\ntable_size = 2",
            &["`strategies[0].table_size`", "larger than the 2 backends", "found 2"],
        ),
        (
            "kind = \"round_robin\"",
            "kind = \"source_ip_table\"\ntimeout = 0",
            &["`strategies[0].timeout`", "from 1 to", "found 0"],
        ),
        (
            "kind = \"round_robin\"",
            "kind = \"bounded_load\"\nfactor = 100",
            &["`strategies[0].factor`", "from 101 to 10000", "found 100"],
        ),
        (
            "kind = \"round_robin\"",
            "kind = \"bounded_load\"\nhash = \"maglev\"",
            &["`strategies[0].hash`", "`ketama` or `envoy_ring`"],
        ),
        (
            "kind = \"round_robin\"",
            "kind = \"app_cookie\"\nheader_name = \"X\"",
            &["`strategies[0].header_name`", "does not apply to kind `app_cookie`"],
        ),
        (
            "name = \"rr\"",
            "name = \"r r\"",
            &["`strategies[0].name`", "found \"r r\""],
        ),
        (
            "kind = \"round_robin\"",
            "kind = \"round_robin\"\n[[faults]]\nkind = \"crash\"\nbackend = \"b0\"\nat = 600",
            &["`faults[0].at`", "before the end of the run (600 s), found 600 s"],
        ),
        (
            "kind = \"round_robin\"",
            "kind = \"round_robin\"\n[[faults]]\nkind = \"crsh\"\nbackend = \"b0\"\nat = 6",
            &["`faults[0].kind`", "expected one of `crash`, `random`, `zone_outage`, `slow`, found `crsh`", "did you mean `crash`?"],
        ),
        (
            "kind = \"round_robin\"",
            "kind = \"round_robin\"\n[[faults]]\nkind = \"crash\"\nbackend = \"b01\"\nat = 6",
            &["`faults[0].backend`", "found `b01`"],
        ),
        (
            "kind = \"round_robin\"",
            "kind = \"round_robin\"\n[[faults]]\nkind = \"crash\"\nbackend = \"b0\"\nat = 6\nrecover_after = 0",
            &["`faults[0].recover_after`", "> 0, found 0"],
        ),
        (
            "kind = \"round_robin\"",
            "kind = \"round_robin\"\n[[faults]]\nkind = \"crash\"\nbackend = \"b0\"\nat = 6\n\
             recover_after = 100\n[[faults]]\nkind = \"crash\"\nbackend = \"b0\"\nat = 50",
            &["`faults[1].at`", "not to overlap", "faults[0]"],
        ),
        (
            "duration = 600",
            "duration = 600\nstart = 1979-05-27T07:32:00Z",
            &["t.toml:3:1:", "`simulation.start`", "unknown key `start`"],
        ),
    ];
    for (old, new, needles) in cases {
        err_has(&with(old, new), &[], needles);
    }
    let no_strategies = with(
        "[[strategies]]\nname = \"rr\"\nkind = \"round_robin\"\n",
        "",
    );
    err_has(
        &format!("strategies = []\n{no_strategies}"),
        &[],
        &[
            "t.toml:1:",
            "`strategies`",
            "at least one [[strategies]] entry",
        ],
    );
}

#[test]
fn empty_and_garbage_input_give_errors() {
    err_has(
        "",
        &[],
        &[
            "t.toml",
            "`simulation`",
            "required key `simulation` is missing",
        ],
    );
    err_has("= = =", &[], &["t.toml:1:1:", "TOML syntax error"]);
    err_has(
        "[simulation]\nduration = 600\nduration = 700\n",
        &[],
        &["t.toml:3:1:", "TOML syntax error", "duplicate key"],
    );
}

#[test]
fn default_name_must_be_valid() {
    let e = from_str(BASE, "my run.toml", "my run", &[]).unwrap_err();
    assert!(e.to_string().contains("set `simulation.name`"), "{e}");
    let s = from_str(
        BASE,
        "my run.toml",
        "my run",
        &flags(&["simulation.name=ok"]),
    )
    .unwrap();
    assert_eq!(s.name, "ok");
}

#[test]
fn overrides_by_index_by_name_and_creating_keys() {
    let tiny = data("tiny.toml");
    let s = load(
        &tiny,
        &flags(&[
            "workload.session_rate=80",
            "simulation.seed=7",
            "strategies.0.kind=least_conn",
            "strategies.cookie.ttl=60",
            "strategies.cookie.ttl_mode=\"absolute\"",
            "clients.office.users_per_ip=25",
            "clients.1.share=0.4",
            "clients.home.share = 0.6",
            "health_check.interval=10",
            "workload.think_time={dist=\"exponential\",mean=5}",
            "backends.count=3",
            "backends.speed=[1,1,0.5]",
            "faults.0.backend=b2",
        ]),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.workload.session_rate, 80.0);
    assert_eq!(s.simulation.seed, 7);
    assert_eq!(
        s.strategies[0].spec,
        StrategySpec::Balance(Balance::LeastConn)
    );
    assert!(matches!(
        s.strategies[1].spec,
        StrategySpec::LbCookie { ttl_ns, ttl_mode: TtlMode::Absolute, .. } if ttl_ns == 60 * S
    ));
    assert_eq!(s.clients[1].users_per_ip, 25);
    assert_eq!((s.clients[0].share, s.clients[1].share), (0.6, 0.4));
    // [health_check] is not in the file: created, the rest defaulted.
    assert_eq!(s.health_check.interval_ns, 10 * S);
    assert_eq!(s.health_check.timeout_ns, 5 * S);
    assert!(matches!(s.workload.think_time, dist::Dist::Exponential { mean, .. } if mean == 5.0));
    assert_eq!(s.backends.speeds, vec![1.0, 1.0, 0.5]);
    assert!(matches!(s.faults[0], Fault::Crash { backend: 2, .. }));

    // Later flags win; default client names address unnamed segments.
    let s = from_str(
        &with("[backends]", "[[clients]]\nshare = 1\n[backends]"),
        "t.toml",
        "t",
        &flags(&[
            "clients.segment0.users=7",
            "clients.0.users=8",
            "output.bucket=1",
        ]),
    )
    .unwrap();
    assert_eq!(s.clients[0].users, 8);
    assert_eq!(s.output.bucket_ns, S);

    // Quoted segments reach names with dots.
    let s = from_str(
        &with("name = \"rr\"", "name = \"r.r\""),
        "t.toml",
        "t",
        &flags(&["strategies.\"r.r\".kind=random"]),
    )
    .unwrap();
    assert_eq!(s.strategies[0].spec, StrategySpec::Balance(Balance::Random));
}

#[test]
fn override_errors_name_the_flag() {
    let t = BASE;
    let msg = err_has(
        t,
        &["strategies.nope.ttl=300"],
        &["t.toml: --set strategies.nope.ttl=300: "],
    );
    assert!(
        msg.ends_with("no strategy named `nope`; strategies are: rr"),
        "{msg}"
    );
    err_has(
        &with(
            "kind = \"round_robin\"",
            "kind = \"round_robin\"\n[[strategies]]\nname = \"sticky\"\nkind = \"lb_cookie\"",
        ),
        &["strategies.stiky.ttl=300"],
        &["no strategy named `stiky` (did you mean `sticky`?); strategies are: rr, sticky"],
    );
    err_has(
        t,
        &["strategies.3.ttl=1"],
        &[
            "--set strategies.3.ttl=1",
            "no strategy at index 3",
            "there are 1 (index 0)",
        ],
    );
    err_has(
        t,
        &["clients.x.share=1"],
        &["--set clients.x.share=1", "no `[[clients]]` entries"],
    );
    err_has(
        t,
        &["faults.0.at=1"],
        &["--set faults.0.at=1", "no `[[faults]]` entries"],
    );
    err_has(
        t,
        &["workload.session_rate.x=1"],
        &[
            "--set workload.session_rate.x=1",
            "`workload.session_rate` is an integer, which has no key `x`",
        ],
    );
    err_has(
        &with("count = 2", "speed = [1, 1]"),
        &["backends.speed.fast=1"],
        &["address its elements by index, found `fast`"],
    );
    // Values that parse but fail validation are blamed on the flag.
    err_has(
        t,
        &["workload.session_rate=-1"],
        &[
            "t.toml: `workload.session_rate` (set by `--set workload.session_rate=-1`)",
            "expected a rate in sessions per second > 0, found -1",
        ],
    );
    err_has(
        t,
        &["workload.sesion_rate=3"],
        &[
            "`workload.sesion_rate` (set by `--set workload.sesion_rate=3`)",
            "did you mean `session_rate`?",
        ],
    );
    err_has(
        t,
        &["strategies.rr.ttl=300"],
        &[
            "`strategies[0].ttl` (set by `--set strategies.rr.ttl=300`)",
            "does not apply to kind `round_robin`",
        ],
    );
    err_has(
        t,
        &["simulation.seed=abc"],
        &[
            "`simulation.seed` (set by `--set simulation.seed=abc`)",
            "expected a non-negative integer, found string \"abc\"",
        ],
    );
    // Errors elsewhere in the file still point into it.
    err_has(
        &with("session_rate = 5", "session_rate = -5"),
        &["simulation.seed=2"],
        &["t.toml:5:16:", "`workload.session_rate`"],
    );
    err_has(
        &with("duration = 600", "duration = 600\nwarmup = 100"),
        &["simulation.duration=50"],
        &["t.toml:3:10:", "`simulation.warmup`", "(50 s), found 100 s"],
    );
}

#[test]
fn parse_override_syntax() {
    let (p, v) = parse_override("workload.session_rate=80").unwrap();
    assert_eq!(
        (p, v),
        (
            vec!["workload".into(), "session_rate".into()],
            toml::Value::Integer(80)
        )
    );
    let (p, v) = parse_override("strategies.0.kind=least_conn").unwrap();
    assert_eq!(p, ["strategies", "0", "kind"]);
    assert_eq!(v, toml::Value::String("least_conn".into()));
    let (_, v) = parse_override("backends.speed=[1,1,0.5]").unwrap();
    assert_eq!(v.as_array().map(Vec::len), Some(3));
    let (_, v) = parse_override("workload.think_time={dist=\"exponential\",mean=5}").unwrap();
    assert_eq!(v.get("mean"), Some(&toml::Value::Integer(5)));
    let (_, v) = parse_override("a.b=x=y").unwrap();
    assert_eq!(v, toml::Value::String("x=y".into()));
    let (p, _) = parse_override(r#"strategies."a.b".ttl=1"#).unwrap();
    assert_eq!(p, ["strategies", "a.b", "ttl"]);
    let (_, v) = parse_override("a=1\nb = 2").unwrap();
    assert_eq!(v, toml::Value::String("1\nb = 2".into()));

    for (bad, needle) in [
        ("nope", "found no `=`"),
        ("=1", "expected a key path before `=`"),
        ("a.b=", "expected a value after `=`"),
        ("a..b=1", "found `a..b`"),
        ("a.[0]=1", "found `a.[0]`"),
        ("a b=1", "found `a b`"),
    ] {
        let msg = parse_override(bad).unwrap_err().to_string();
        assert!(msg.starts_with(&format!("--set {bad}: ")), "{msg}");
        assert!(msg.contains(needle), "{msg}");
    }
    // A malformed flag is reported with the file, before the file is parsed.
    err_has("not toml at all [", &["x"], &["t.toml: --set x: "]);
}

#[test]
fn schema_tables_cover_every_kind() {
    // Every key a kind accepts is a field of `[[strategies]]`: the entry
    // parses with it (a value of the wrong type is a type error, an unknown
    // key an "unknown field" one).
    let parse = |kind: StrategyKind, key: &str| {
        toml::from_str::<super::raw::RawStrategy>(&format!(
            "name = \"s\"\nkind = \"{kind}\"\n{key} = 1\n"
        ))
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default()
    };
    assert!(parse(StrategyKind::LbCookie, "bogus").contains("unknown field"));
    for kind in StrategyKind::ALL {
        for key in kind.keys() {
            let e = parse(kind, key);
            assert!(!e.contains("unknown field"), "{kind}: {key}: {e}");
        }
    }
    for (kind, keys) in dist::KINDS {
        let (_, params) = DIST_PARAMS.iter().find(|(k, _)| k == kind).expect(kind);
        assert!(keys.starts_with(&params.join(", ")), "{kind}: {keys}");
    }
    assert_eq!(DIST_PARAMS.len(), dist::KINDS.len());
    // Every kind builds from the schema with its own keys only.
    for (kind, params) in DIST_PARAMS {
        let body: Vec<String> = params
            .iter()
            .map(|p| format!("{p} = {}", if *p == "max" { 3 } else { 2 }))
            .collect();
        let text = with(
            "{ dist = \"exponential\", mean = 10 }",
            &format!("{{ dist = \"{kind}\", {} }}", body.join(", ")),
        );
        ok(&text);
    }
}

proptest::proptest! {
    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,200}") {
        let _ = from_str(&text, "p.toml", "p", &[]);
    }

    #[test]
    fn perturbed_base_never_panics(at in 0usize..400, insert in "[-=\\[\\]{}\"a-z0-9., \n]{0,12}") {
        let mut text = BASE.to_string();
        let at = at.min(text.len());
        text.insert_str(at, &insert);
        let _ = from_str(&text, "p.toml", "p", &[]);
    }

    #[test]
    fn arbitrary_overrides_never_panic(flag in "[a-z0-9_.\"=\\[\\]{}, -]{0,30}") {
        let _ = from_str(BASE, "p.toml", "p", &[flag]);
    }
}

/// `raw::RawHashAlgo` spells routing's hash names again for serde; a name
/// that drifted would make errors quoting `HashAlgo::name` unparseable.
#[test]
fn every_hash_name_parses_to_its_hash() {
    for h in HashAlgo::ALL {
        let text = with(
            "kind = \"round_robin\"",
            &format!("kind = \"source_ip\"\nhash = \"{}\"", h.name()),
        );
        match ok(&text).strategies[0].spec {
            StrategySpec::SourceIp { hash, .. } => assert_eq!(hash, h),
            ref other => panic!("{other:?}"),
        }
    }
}

#[test]
fn sweep_replications_are_range_checked() {
    let text = format!("{BASE}\n[sweep]\nreplications = 0\n");
    let e = from_str_with_sweep(&text, "t.toml", "t", &[]).expect_err("0 replications");
    assert_eq!(
        e.to_string(),
        "t.toml:18:16: `sweep.replications`: expected a number of replications from 1 to \
         100000, found 0"
    );
}
