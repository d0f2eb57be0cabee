//! Failures: detection by health checks, retries, what a crash loses, zone
//! outages, slow backends, and where session state lives (replicated,
//! shared with store outages).

use crate::common::*;
use std::collections::{BTreeSet, HashMap};
use stickysim::engine::{run_strategies, run_strategy, run_strategy_traced, TraceKind};
use stickysim::metrics::{ControlKind, LossCause};
use stickysim::routing::{
    BackendId, Balance, CookieAttrs, OnDraining, OnUnavailable, StrategySpec, TtlMode,
};
use stickysim::scenario::dist::Dist;
use stickysim::scenario::*;

fn event_time(out: &stickysim::engine::RunOutput, kind: ControlKind, b: u32) -> Vec<u64> {
    out.events
        .iter()
        .filter(|e| e.kind == kind && e.backend == Some(b))
        .map(|e| e.t_ns)
        .collect()
}

#[test]
fn requests_in_the_detection_window_fail_once_and_are_retried() {
    // Round robin over two backends, one request per session: first
    // attempts alternate b0, b1, b0, … so between the crash of b1 and its
    // detection exactly every other first attempt hits the dead b1.
    let mut sc = queueing(4.0, 0.01, 2, 4, 1200.0, 31);
    sc.simulation.warmup_ns = 0;
    sc.health_check = HealthCheck {
        interval_ns: secs_to_ns(10.0),
        timeout_ns: secs_to_ns(2.0),
        unhealthy_threshold: 3,
        healthy_threshold: 5,
        retry_delay_ns: secs_to_ns(0.5),
    };
    let (crash_s, recover_s) = (300.0, 100.0);
    crash(&mut sc, 1, crash_s, Some(recover_s));
    let out = run_strategy_traced(&sc, 0);
    let hc = &sc.health_check;
    let crash_at = secs_to_ns(crash_s);
    let down = event_time(&out, ControlKind::MarkedDown, 1);
    let up = event_time(&out, ControlKind::MarkedUp, 1);
    assert_eq!((down.len(), up.len()), (1, 1));
    let (down, up) = (down[0], up[0]);
    // Detected at the `unhealthy_threshold`-th failed probe, each failing
    // `timeout` after it is sent; the first probe after the crash comes
    // within one interval.
    let thr = hc.unhealthy_threshold as u64;
    assert!(
        down >= crash_at + (thr - 1) * hc.interval_ns + hc.timeout_ns
            && down < crash_at + thr * hc.interval_ns + hc.timeout_ns,
        "marked down {} s after the crash",
        (down - crash_at) as f64 / 1e9
    );
    // Back only after `healthy_threshold` good probes once running again.
    let back = crash_at + secs_to_ns(recover_s);
    let hthr = hc.healthy_threshold as u64;
    assert!(up >= back + (hthr - 1) * hc.interval_ns && up < back + hthr * hc.interval_ns);

    let sends_in_window = out
        .trace
        .iter()
        .filter(|t| t.what == TraceKind::Arrived && t.t > crash_at && t.t < down)
        .count() as i64;
    let mut failed_attempts = 0i64;
    for t in &out.trace {
        match t.what {
            TraceKind::Failed(b) if t.t > crash_at => {
                assert_eq!(b, BackendId(1));
                assert!(t.t < down, "a failed attempt after detection");
                failed_attempts += 1;
            }
            TraceKind::Accepted(BackendId(1)) => {
                assert!(t.t < crash_at || t.t >= up, "b1 served while down");
            }
            _ => {}
        }
    }
    assert!(sends_in_window > 20);
    assert!(
        (failed_attempts - sends_in_window / 2).abs() <= 1,
        "{failed_attempts} failed of {sends_in_window} sent in the window"
    );
    let s = &out.summary;
    assert_eq!(s.retried as i64, failed_attempts);
    // Every retry found b0: nothing failed for good but what b1 was serving
    // at the crash, and the retry's wait shows in the latency.
    assert!(s.failed <= 4, "{}", s.failed);
    assert!(s.latency_max_ms >= 500.0);
    assert_requests_conserved(s);
}

#[test]
fn a_rejecting_sticky_strategy_does_not_retry() {
    let mut sc = sessions(32);
    sc.health_check.interval_ns = secs_to_ns(5.0);
    sc.health_check.timeout_ns = secs_to_ns(2.0);
    let mut strict = cookie(86_400.0);
    if let StrategySpec::LbCookie { on_unavailable, .. } = &mut strict {
        *on_unavailable = OnUnavailable::Reject;
    }
    sc.strategies = vec![strategy("strict", strict)];
    crash(&mut sc, 0, 600.0, None);
    let s = run_strategy(&sc, 0).summary;
    assert_eq!(s.retried, 0);
    assert!(s.failed > 0);
}

#[test]
fn hand_checked_crash_loses_the_sessions_pinned_there_that_come_back() {
    // Ten-ish sessions arrive in the first 20 s, each making 10 requests 20 s
    // apart; a 1-day cookie balanced round robin pins them alternately to
    // b0 and b1 (sessions 0, 2, 4, … on b0; 1, 3, 5, … on b1). b1 crashes at
    // 100 s, when every session is still going: exactly the odd-numbered
    // sessions lose their state, to `failure`, once each.
    let mut sc = queueing(0.5, 0.01, 2, 4, 400.0, 33);
    sc.simulation.warmup_ns = 0;
    sc.workload.requests_per_session = Dist::constant(10.0).unwrap();
    sc.workload.think_time = Dist::constant(20.0).unwrap();
    sc.workload.service_time = Dist::constant(0.01).unwrap();
    sc.workload.profile = RateProfile {
        steps: vec![(0, 1.0), (secs_to_ns(20.0), 0.0)],
        period_ns: None,
    };
    sc.strategies = vec![strategy("cookie", cookie(86_400.0))];
    crash(&mut sc, 1, 100.0, None);
    let out = run_strategy_traced(&sc, 0);
    let arrived: BTreeSet<u64> = out
        .trace
        .iter()
        .filter(|t| t.what == TraceKind::Arrived)
        .map(|t| t.session)
        .collect();
    let lost: HashMap<u64, LossCause> = out
        .trace
        .iter()
        .filter_map(|t| match t.what {
            TraceKind::Lost(c) => Some((t.session, c)),
            _ => None,
        })
        .collect();
    assert!(arrived.len() >= 4, "{} sessions", arrived.len());
    let odd: BTreeSet<u64> = arrived.iter().copied().filter(|s| s % 2 == 1).collect();
    assert_eq!(lost.keys().copied().collect::<BTreeSet<_>>(), odd);
    assert!(lost.values().all(|&c| c == LossCause::Failure));
    assert_eq!(out.summary.lost_failure, odd.len() as u64);
    assert_eq!(out.summary.sessions_lost, odd.len() as u64);
}

#[test]
fn a_zone_outage_takes_down_every_backend_in_the_zone() {
    let mut sc = sessions(34);
    sc.backends.zones = vec!["a".into(), "b".into()];
    sc.health_check.interval_ns = secs_to_ns(5.0);
    sc.health_check.timeout_ns = secs_to_ns(2.0);
    sc.faults.push(Fault::ZoneOutage {
        zone: 0,
        at_ns: secs_to_ns(600.0),
        duration_ns: Some(secs_to_ns(300.0)),
    });
    sc.strategies = vec![strategy("cookie", cookie(86_400.0))];
    let out = run_strategy(&sc, 0);
    // Zone `a` holds b0 and b2 (backends alternate over the zones).
    for b in [0, 2] {
        assert_eq!(event_time(&out, ControlKind::Crash, b), [secs_to_ns(600.0)]);
        assert_eq!(
            event_time(&out, ControlKind::Recover, b),
            [secs_to_ns(900.0)]
        );
    }
    for b in [1, 3] {
        assert!(event_time(&out, ControlKind::Crash, b).is_empty());
    }
    assert!(out.events.iter().any(|e| e.kind == ControlKind::ZoneOutage));
    let s = &out.summary;
    assert!(s.lost_failure > 0);
    assert_eq!(s.sessions_lost, s.lost_failure);
}

#[test]
fn stickiness_keeps_pinned_users_on_a_slow_backend() {
    // b0 serves 20× slower for the middle of the run. Least-connections
    // steers requests away from it; a cookie balanced the same way cannot
    // move the sessions already pinned there.
    let mut sc = sessions(35);
    sc.workload.requests_per_session = Dist::geometric(20.0).unwrap();
    sc.faults.push(Fault::Slow {
        backend: 0,
        at_ns: secs_to_ns(300.0),
        duration_ns: secs_to_ns(1200.0),
        factor: 20.0,
    });
    let sticky = StrategySpec::LbCookie {
        ttl_ns: secs_to_ns(86_400.0),
        ttl_mode: TtlMode::Sliding,
        cookie: CookieAttrs::default(),
        balance: Balance::LeastConn,
        on_unavailable: OnUnavailable::Redispatch,
        on_draining: OnDraining::Reroute,
    };
    sc.strategies = vec![
        strategy("lc", StrategySpec::Balance(Balance::LeastConn)),
        strategy("cookie-lc", sticky),
    ];
    let outs = run_strategies(&sc, &all(&sc));
    let (lc, ck) = (&outs[0], &outs[1]);
    assert_eq!(
        event_time(lc, ControlKind::SlowStart, 0),
        [secs_to_ns(300.0)]
    );
    assert!(
        ck.summary.latency_mean_ms > 1.5 * lc.summary.latency_mean_ms,
        "cookie {} ms vs least-conn {} ms",
        ck.summary.latency_mean_ms,
        lc.summary.latency_mean_ms
    );
    // Without the slow-down the two are alike.
    sc.faults.clear();
    let calm = run_strategies(&sc, &all(&sc));
    let ratio = calm[1].summary.latency_mean_ms / calm[0].summary.latency_mean_ms;
    assert!(ratio < 1.3, "{ratio}");
}

#[test]
fn replicated_state_with_n_minus_1_copies_survives_one_crash() {
    let mut local = sessions(36);
    local.workload.requests_per_session = Dist::geometric(12.0).unwrap();
    local.backends.workers = 64;
    local.health_check.interval_ns = secs_to_ns(5.0);
    local.health_check.timeout_ns = secs_to_ns(2.0);
    local.strategies = vec![strategy("cookie", cookie(86_400.0))];
    crash(&mut local, 1, 600.0, None);
    let mut replicated = local.clone();
    let n = replicated.backends.count() as u32;
    replicated.session_state = SessionState::Replicated {
        copies: n - 1,
        write_latency: Dist::constant(0.002).unwrap(),
        cluster_reads: false,
    };
    let l = run_strategy(&local, 0).summary;
    let r = run_strategy(&replicated, 0).summary;
    assert!(
        l.lost_failure > 0,
        "the crash must cost local state something"
    );
    assert_eq!(r.sessions_lost, 0);
    assert!(r.losses_avoided >= l.lost_failure);
    assert_eq!(r.placement, "replicated");
    // Every completed request paid the 2 ms replication write.
    assert!((r.state_latency_mean_ms - 2.0).abs() < 1e-6);
    // One copy is not enough for sessions whose copy sat on the crashed node.
    let mut one = replicated.clone();
    one.session_state = SessionState::Replicated {
        copies: 1,
        write_latency: Dist::constant(0.002).unwrap(),
        cluster_reads: false,
    };
    let o = run_strategy(&one, 0).summary;
    assert!(o.sessions_lost > 0 && o.sessions_lost <= l.sessions_lost);
    // Unless backends fetch a copy from wherever it survives (cluster lookup).
    one.session_state = SessionState::Replicated {
        copies: 1,
        write_latency: Dist::constant(0.002).unwrap(),
        cluster_reads: true,
    };
    assert_eq!(run_strategy(&one, 0).summary.sessions_lost, 0);
}

#[test]
fn a_shared_store_outage_fails_requests_but_loses_no_state() {
    let mut sc = sessions(37);
    sc.backends.workers = 64;
    sc.strategies = vec![strategy("rr", StrategySpec::Balance(Balance::RoundRobin))];
    let (from, until) = (secs_to_ns(600.0), secs_to_ns(660.0));
    sc.session_state = SessionState::Shared {
        store_latency: Dist::constant(0.004).unwrap(),
        outages: vec![(from, until)],
    };
    let out = run_strategy_traced(&sc, 0);
    let s = &out.summary;
    let store_failures: Vec<u64> = out
        .trace
        .iter()
        .filter(|t| t.what == TraceKind::StoreDown)
        .map(|t| t.t)
        .collect();
    assert!(store_failures.len() > 50);
    assert!(store_failures.iter().all(|&t| (from..until).contains(&t)));
    assert_eq!(s.failed, store_failures.len() as u64);
    assert_eq!(s.sessions_lost, 0);
    assert!(s.losses_avoided > 0);
    assert!((s.state_latency_mean_ms - 4.0).abs() < 1e-6);
    let kinds: Vec<(ControlKind, u64)> = out.events.iter().map(|e| (e.kind, e.t_ns)).collect();
    assert_eq!(
        kinds,
        [
            (ControlKind::StoreDown, from),
            (ControlKind::StoreUp, until)
        ]
    );
}

#[test]
fn random_failures_follow_mtbf_and_mttr() {
    let mut sc = sessions(38);
    sc.simulation.duration_ns = secs_to_ns(20_000.0);
    sc.workload.session_rate = 1.0;
    sc.faults.push(Fault::Random {
        mtbf_ns: secs_to_ns(1000.0),
        mttr_ns: secs_to_ns(100.0),
    });
    sc.strategies = vec![strategy("rr", StrategySpec::Balance(Balance::RoundRobin))];
    let out = run_strategy(&sc, 0);
    let crashes = out
        .events
        .iter()
        .filter(|e| e.kind == ControlKind::Crash)
        .count() as f64;
    // 4 backends × 20 000 s / (1000 + 100) s per cycle ≈ 72.7 crashes.
    let expected = 4.0 * 20_000.0 / 1100.0;
    assert!(
        (crashes - expected).abs() < 4.0 * expected.sqrt(),
        "{crashes} crashes, expected about {expected:.1}"
    );
    // Identical failure times for every strategy (common random numbers).
    let mut other = sc.clone();
    other.strategies = vec![strategy("cookie", cookie(86_400.0))];
    let crash_times = |o: &stickysim::engine::RunOutput| -> Vec<(u64, Option<u32>)> {
        o.events
            .iter()
            .filter(|e| e.kind == ControlKind::Crash)
            .map(|e| (e.t_ns, e.backend))
            .collect()
    };
    assert_eq!(crash_times(&out), crash_times(&run_strategy(&other, 0)));
}

#[test]
fn a_least_conn_black_hole_in_a_zone_outage_adds_up_in_retried_and_failed() {
    // Three backends, zone a = b0 and b2. When zone a goes out, least
    // connections sends to the dead backends (no outstanding requests);
    // a retry leaves out only the backend it failed on, so it often lands
    // on the other dead one and fails for good.
    let mut sc = queueing(20.0, 0.05, 3, 4, 900.0, 41);
    sc.simulation.warmup_ns = 0;
    sc.backends.zones = vec!["a".into(), "b".into()];
    sc.health_check.interval_ns = secs_to_ns(10.0);
    sc.health_check.timeout_ns = secs_to_ns(2.0);
    sc.faults.push(Fault::ZoneOutage {
        zone: 0,
        at_ns: secs_to_ns(300.0),
        duration_ns: Some(secs_to_ns(120.0)),
    });
    sc.strategies = vec![strategy("lc", StrategySpec::Balance(Balance::LeastConn))];
    let out = run_strategy_traced(&sc, 0);
    let s = &out.summary;
    // Every failed attempt is either retried or a failure, once.
    let failed_attempts = out
        .trace
        .iter()
        .filter(|t| matches!(t.what, TraceKind::Failed(_)))
        .count() as u64;
    assert_eq!(failed_attempts, s.retried + s.failed, "{s:?}");
    // Some retries failed again: a session's two failed attempts one
    // `retry_delay` apart, on the two dead backends.
    let mut last: HashMap<u64, (u64, BackendId)> = HashMap::new();
    let mut twice = 0;
    for t in &out.trace {
        if let TraceKind::Failed(b) = t.what {
            if let Some(&(at, prev)) = last.get(&t.session) {
                if t.t - at == sc.health_check.retry_delay_ns {
                    assert_ne!(prev, b, "a retry went back to the backend it failed on");
                    twice += 1;
                }
            }
            last.insert(t.session, (t.t, b));
        }
    }
    assert!(twice > 0 && s.retried > twice, "{twice} of {}", s.retried);
    assert_requests_conserved(s);
}

#[test]
fn a_slow_period_slows_the_requests_that_start_service_in_it() {
    // One worker, 10 s per request, a request a second: the queue is long
    // before b0 turns 2× slower at 300 s, until the end at 1300 s. The
    // factor applies when a request starts service, so the worker finishes
    // ~30 requests before the period and 50 during it. (Were it applied
    // when a request was admitted, the ~270 queued before 300 s would keep
    // their 10 s and ~130 would complete.)
    let mut sc = queueing(1.0, 10.0, 1, 1, 1300.0, 7);
    sc.workload.service_time = Dist::constant(10.0).unwrap();
    sc.simulation.warmup_ns = 0;
    sc.faults.push(Fault::Slow {
        backend: 0,
        at_ns: secs_to_ns(300.0),
        duration_ns: secs_to_ns(1000.0),
        factor: 2.0,
    });
    let out = &run_strategies(&sc, &all(&sc))[0];
    let done = out.summary.completed;
    assert!((78..=81).contains(&done), "{done} completed");
    // Without the slow period: one per 10 s.
    sc.faults.clear();
    let calm = &run_strategies(&sc, &all(&sc))[0];
    assert!(
        (128..=131).contains(&calm.summary.completed),
        "{}",
        calm.summary.completed
    );
}
