//! Users who retry after an error (`[[clients]] retry`): the offered load
//! and the abandon share against the geometric sum, the extra load in
//! utilisation, and the conservation of requests and sessions.

use crate::common::{assert_conserved, crash, mean_ci95, queueing, strategy};
use stickysim::engine::run_strategy;
use stickysim::model::retry::{abandon_share, offered_multiplier};
use stickysim::routing::*;
use stickysim::scenario::dist::Dist;
use stickysim::scenario::*;

/// Four backends, one dead from the start that the load balancer never
/// finds out about (no check in the run), a strategy that routes every
/// request at random and never retries it: each attempt fails on its own
/// with probability 1/4.
fn one_in_four_fails(seed: u64, retry: Option<ClientRetry>) -> Scenario {
    let mut sc = queueing(20.0, 0.01, 4, 4, 1000.0, seed);
    sc.strategies = vec![strategy(
        "random",
        StrategySpec::LbCookie {
            ttl_ns: secs_to_ns(3600.0),
            ttl_mode: TtlMode::Sliding,
            cookie: CookieAttrs::default(),
            balance: Balance::Random,
            on_unavailable: OnUnavailable::Reject,
            on_draining: OnDraining::Reroute,
        },
    )];
    sc.health_check.interval_ns = secs_to_ns(1e8);
    sc.health_check.unhealthy_threshold = 10;
    crash(&mut sc, 0, 0.0, None);
    sc.clients[0].retry = retry;
    sc
}

fn retry(attempts: u32) -> ClientRetry {
    ClientRetry {
        attempts,
        delay: Dist::constant(0.5).unwrap(),
    }
}

#[test]
fn offered_load_and_abandons_follow_the_geometric_sum() {
    let p = 0.25;
    for k in [0u32, 2] {
        let (mut offered, mut abandoned, mut util) = (vec![], vec![], vec![]);
        for seed in 0..8 {
            let base = run_strategy(&one_in_four_fails(300 + seed, None), 0).summary;
            let s = run_strategy(&one_in_four_fails(300 + seed, Some(retry(k))), 0).summary;
            assert_conserved(&base);
            assert_conserved(&s);
            assert_eq!(base.abandoned + base.client_retries, 0);
            assert_eq!(s.requests, base.requests + s.client_retries);
            assert_eq!(s.rejected, 0);
            offered.push(s.requests as f64 / s.sessions as f64);
            abandoned.push(s.abandoned as f64 / s.sessions as f64);
            util.push(s.util_mean / base.util_mean);
        }
        let want = offered_multiplier(p, k);
        for (what, xs, want) in [
            ("requests per session", &offered, want),
            ("abandoned share", &abandoned, abandon_share(p, k)),
            // Every completed request is work: completions, and so busy
            // time, grow by the same factor as the load.
            ("utilisation over no retries", &util, want),
        ] {
            let (m, hw) = mean_ci95(xs);
            eprintln!("k={k} {what}: {m:.5} ± {hw:.5}, theory {want:.5}");
            assert!((m - want).abs() <= hw, "k={k} {what}: {m} ± {hw} vs {want}");
            assert!(hw < 0.02 * want.max(0.1), "k={k} {what}: CI ±{hw} too wide");
        }
    }
}

#[test]
fn a_user_whose_retries_succeed_finishes_the_session() {
    // Multi-request sessions, a crash half-way that the checks find: the
    // users who met it retried, most of them got through.
    let mut sc = queueing(5.0, 0.02, 4, 2, 600.0, 9);
    sc.workload.requests_per_session = Dist::geometric(6.0).unwrap();
    sc.workload.think_time = Dist::exponential(5.0).unwrap();
    sc.strategies = vec![strategy(
        "ip",
        StrategySpec::SourceIp {
            hash: HashAlgo::Modulo,
            tuning: HashTuning::default(),
            on_unavailable: OnUnavailable::Reject,
            on_draining: OnDraining::Reroute,
        },
    )];
    sc.health_check.interval_ns = secs_to_ns(5.0);
    crash(&mut sc, 1, 300.0, None);
    sc.clients[0].retry = Some(ClientRetry {
        attempts: 3,
        delay: Dist::exponential(4.0).unwrap(),
    });
    let a = run_strategy(&sc, 0).summary;
    let b = run_strategy(&sc, 0).summary;
    assert_eq!(a, b, "same seed, same run");
    assert_conserved(&a);
    assert!(a.failed > 0 && a.client_retries > 0, "{a:?}");
    // A retry can only follow a failure or a rejection.
    assert!(a.client_retries <= a.failed + a.rejected, "{a:?}");
    // Some users met the dead backend on every try and left, each after
    // its 1 + 3 errors; most sessions finished.
    assert!(a.abandoned > 0, "{a:?}");
    assert!(a.abandoned * 4 <= a.failed + a.rejected, "{a:?}");
    assert!(a.abandoned * 20 < a.sessions_completed, "{a:?}");
}

/// `scenarios/retry_storm.toml`: users' and the load balancer's retries
/// amplify the crash; the retry budget sends fewer requests per request
/// meant and loses fewer sessions than the same policy without it, and the
/// report says so.
#[test]
fn the_retry_storm_scenario_amplifies_and_the_budget_holds_it_back() {
    let dir = tempfile::tempdir().unwrap();
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/retry_storm.toml");
    let sc = stickysim::scenario::load(&p, &[]).unwrap();
    let runs = stickysim::engine::run_strategies(&sc, &[0, 1, 2]);
    let by = |n: &str| {
        runs.iter()
            .map(|r| &r.summary)
            .find(|s| s.strategy == n)
            .unwrap()
    };
    let (plain, storm, budget) = (by("least-conn"), by("envoy-no-budget"), by("envoy-budget"));
    for s in [plain, storm, budget] {
        assert_conserved(s);
    }
    let factor = |s: &stickysim::metrics::RunSummary| {
        (s.requests + s.retried) as f64 / (s.requests - s.client_retries) as f64
    };
    assert!(factor(storm) > factor(budget), "{storm:?}\n{budget:?}");
    assert!(
        storm.abandoned > 2 * budget.abandoned,
        "{storm:?}\n{budget:?}"
    );
    assert!(budget.retries_over_budget > 0 && storm.retries_over_budget == 0);
    assert!(storm.timed_out > 0 && plain.timed_out == 0);
    // The report names the amplification and what the budget bought.
    crate::common::bin()
        .args(["run", p.to_str().unwrap(), "--quiet", "--out"])
        .arg(dir.path())
        .assert()
        .success();
    let md = std::fs::read_to_string(dir.path().join("report.md")).unwrap();
    assert!(md.contains("Retry storm: under `envoy-no-budget`"), "{md}");
    assert!(
        md.contains("What the retry budget bought: `envoy-budget`"),
        "{md}"
    );
}

/// `replace_unhealthy`: an instance still marked down after the grace is
/// replaced (terminated, a new one launched at `launch_speed`); one that
/// recovered within the grace is kept.
#[test]
fn an_instance_still_down_after_the_grace_is_replaced() {
    use stickysim::metrics::ControlKind as K;
    let mut sc = queueing(5.0, 0.02, 4, 2, 600.0, 3);
    sc.health_check.interval_ns = secs_to_ns(5.0);
    sc.backends.replace_unhealthy = Some(Replacement {
        grace_ns: secs_to_ns(30.0),
        boot_time_ns: secs_to_ns(20.0),
    });
    sc.backends.launch_speed = Some(2.0);
    crash(&mut sc, 1, 100.0, None);
    crash(&mut sc, 2, 300.0, Some(5.0));
    let out = run_strategy(&sc, 0);
    let at = |k: K, b: u32| {
        out.events
            .iter()
            .filter(|e| e.kind == k && e.backend == Some(b))
            .map(|e| e.t_ns)
            .collect::<Vec<_>>()
    };
    let down = at(K::MarkedDown, 1);
    assert_eq!(at(K::Replaced, 1), vec![down[0] + secs_to_ns(30.0)]);
    assert_eq!(at(K::Stopped, 1), at(K::Replaced, 1));
    assert_eq!(at(K::BootStart, 1), at(K::Replaced, 1));
    assert!(at(K::InService, 1)[0] >= down[0] + secs_to_ns(50.0));
    // b2 recovered 5 s after its crash, before its grace ran out.
    assert!(at(K::Replaced, 2).is_empty(), "{:?}", out.events);
    assert_conserved(&out.summary);
}

/// HAProxy's retries go back to the same server (each costing the retry
/// delay while it is dead) and the last one is redispatched; nginx's go
/// to another server each time.
#[test]
fn haproxy_retries_the_same_server_then_redispatches() {
    use stickysim::engine::{run_strategy_traced, TraceKind};
    let mut sc = queueing(2.0, 0.01, 3, 2, 200.0, 5);
    sc.health_check.interval_ns = secs_to_ns(1e8);
    sc.health_check.unhealthy_threshold = 10;
    crash(&mut sc, 0, 0.0, None);
    let rr = StrategySpec::Balance(Balance::RoundRobin);
    let mut ha = strategy("ha", rr.clone());
    ha.retry = Some(LbRetry::preset(RetryPolicy::Haproxy));
    let mut ng = strategy("ng", rr);
    ng.retry = Some(LbRetry::preset(RetryPolicy::Nginx));
    sc.strategies = vec![ha, ng];
    for (i, fails) in [(0usize, 3usize), (1, 1)] {
        let out = run_strategy_traced(&sc, i);
        let s = &out.summary;
        assert_conserved(s);
        assert_eq!(s.failed, 0, "{s:?}");
        // Every request that met b0 failed there `fails` times in a row,
        // then was served elsewhere.
        let mut by_session: std::collections::BTreeMap<u64, Vec<TraceKind>> = Default::default();
        for t in &out.trace {
            by_session.entry(t.session).or_default().push(t.what);
        }
        let mut met = 0;
        for steps in by_session.values() {
            let failed: Vec<_> = steps
                .iter()
                .filter_map(|w| match w {
                    TraceKind::Failed(b) => Some(b.0),
                    _ => None,
                })
                .collect();
            // Sessions the end of the run cut short are left out.
            let done = steps.iter().any(|w| matches!(w, TraceKind::Completed(_)));
            if failed.is_empty() || !done {
                continue;
            }
            met += 1;
            assert_eq!(failed, vec![0; fails], "{steps:?}");
            assert!(
                steps
                    .iter()
                    .any(|w| matches!(w, TraceKind::Completed(b) if b.0 != 0)),
                "{steps:?}"
            );
        }
        assert!(met > 50, "{met}");
        // The trace has the warm-up's sessions too, the counts do not.
        let r = s.retried as usize;
        assert!(
            r <= met * fails + fails && r * 10 >= met * fails * 9,
            "{s:?} {met}"
        );
    }
}

/// Out-of-range retry keys are refused, naming the key.
#[test]
fn bad_retry_keys_are_refused_with_their_key() {
    let base = "[simulation]\nduration = 100\n[workload]\nsession_rate = 1\nservice_time = { dist = \"constant\", value = 0.01 }\nrequests_per_session = { dist = \"constant\", value = 1 }\nthink_time = { dist = \"constant\", value = 1 }\n[backends]\ncount = 2\n";
    for (extra, key) in [
        ("[[clients]]\nshare = 1\nretry = { attempts = 11 }\n[[strategies]]\nname = \"rr\"\nkind = \"round_robin\"\n", "clients[0].retry.attempts"),
        ("[[clients]]\nshare = 1\nretry = { delay = { dist = \"constant\", value = 7200 } }\n[[strategies]]\nname = \"rr\"\nkind = \"round_robin\"\n", "clients[0].retry.delay"),
        ("[[strategies]]\nname = \"rr\"\nkind = \"round_robin\"\nretry = { policy = \"envoy\", budget_percent = 120 }\n", "strategies[0].retry.budget_percent"),
        ("[[strategies]]\nname = \"rr\"\nkind = \"round_robin\"\nretry = { per_try_timeout = 0 }\n", "strategies[0].retry.per_try_timeout"),
        ("[backends.replace_unhealthy]\ngrace = 100000\n[[strategies]]\nname = \"rr\"\nkind = \"round_robin\"\n", "backends.replace_unhealthy.grace"),
    ] {
        let text = format!("{base}{extra}");
        let e = stickysim::scenario::from_str(&text, "t", "t", &[]).unwrap_err();
        assert!(e.to_string().contains(key), "{key}: {e}");
    }
}
