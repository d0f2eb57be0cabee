//! Engine properties: conservation, determinism, common random numbers,
//! and the session-loss behaviour each strategy family must show.

use crate::common::*;
use std::collections::{HashMap, HashSet};
use stickysim::engine::{run_strategies, run_strategy, run_strategy_traced, TraceKind};
use stickysim::metrics::LossCause;
use stickysim::routing::{
    BackendId, Balance, CookieAttrs, OnDraining, OnUnavailable, StrategySpec, TtlMode,
};
use stickysim::scenario::dist::Dist;
use stickysim::scenario::*;

#[test]
fn requests_and_sessions_are_conserved() {
    // A crash, a queue limit that rejects, and strategies of every family.
    let mut sc = with_crash(sessions(3), 1, 600.0, Some(300.0));
    sc.backends.queue_limit = Some(0);
    sc.workload.session_rate = 12.0;
    for out in run_strategies(&sc, &all(&sc)) {
        let s = &out.summary;
        assert_conserved(s);
        assert!(
            s.failed + s.retried > 0 && s.rejected > 0,
            "{}: the test must exercise failures and rejections",
            s.strategy
        );
        assert!(s.loss_events >= s.sessions_lost);
        // Memory follows active sessions: far fewer alive at once than arrived.
        assert!(
            out.peak_sessions * 10 < s.sessions as usize,
            "{} peak {}",
            s.strategy,
            out.peak_sessions
        );
    }
}

#[test]
fn same_seed_same_results_whatever_the_threads() {
    let sc = with_crash(sessions(11), 0, 900.0, None);
    let parallel = run_strategies(&sc, &all(&sc));
    for (i, p) in parallel.iter().enumerate() {
        let again = run_strategy(&sc, i);
        assert_eq!(p.summary, again.summary);
        assert_eq!(p.buckets, again.buckets);
    }
    let other = run_strategy(&sessions(12), 0);
    assert_ne!(
        other.summary, parallel[0].summary,
        "a different seed must change the outcome"
    );
}

#[test]
fn every_strategy_faces_the_identical_workload() {
    let mut sc = with_crash(sessions(5), 2, 700.0, Some(120.0));
    // Arrivals stop 10 minutes before the end, so every session finishes and
    // the digest covers every draw of every session.
    sc.workload.profile = RateProfile {
        steps: vec![(0, 1.0), (secs_to_ns(1200.0), 0.0)],
        period_ns: None,
    };
    sc.clients[0].ip_change_rate = 1.0 / 60.0;
    sc.clients[0].cookie_block = 0.1;
    let outs = run_strategies(&sc, &all(&sc));
    let first = &outs[0];
    assert!(first.planned_requests > 1000);
    for o in &outs[1..] {
        assert_eq!(
            o.workload_digest, first.workload_digest,
            "{}",
            o.summary.strategy
        );
        assert_eq!(
            o.planned_requests, first.planned_requests,
            "{}",
            o.summary.strategy
        );
        assert_eq!(
            o.summary.sessions, first.summary.sessions,
            "{}",
            o.summary.strategy
        );
        assert_eq!(o.summary.sessions_active_end, 0);
    }
    // The digest covers the draws themselves: other think times, other digest.
    let mut other = sc.clone();
    other.workload.think_time = Dist::exponential(5.1).unwrap();
    assert_ne!(
        run_strategy(&other, 0).workload_digest,
        first.workload_digest
    );
    // The digest is sensitive: another seed gives another workload.
    assert_ne!(
        run_strategy(&sessions(6), 0).workload_digest,
        first.workload_digest
    );
    // And routing differs: the strategies did not all make the same choices.
    let buckets: HashSet<String> = outs.iter().map(|o| format!("{:?}", o.buckets)).collect();
    assert!(buckets.len() > 1);
}

#[test]
fn a_crash_loses_exactly_the_state_on_the_crashed_backend() {
    // Cookie stickiness with a 1-day TTL and well-behaved clients: the
    // crash is the only way to lose state.
    let mut sc = sessions(21);
    sc.workload.session_rate = 1.0;
    sc.backends.speeds = vec![1.0; 3];
    sc.workload.requests_per_session = Dist::geometric(12.0).unwrap();
    sc.strategies = vec![strategy("cookie", cookie(86_400.0))];
    // Fast detection, so sessions outlive it and come back to find their state gone.
    sc.health_check.interval_ns = secs_to_ns(5.0);
    sc.health_check.timeout_ns = secs_to_ns(2.0);
    let crash_at = secs_to_ns(400.0);
    let sc = with_crash(sc, 1, 400.0, None);
    let out = run_strategy_traced(&sc, 0);
    let hc = &sc.health_check;
    let detect_by = crash_at + hc.unhealthy_threshold as u64 * hc.interval_ns + hc.timeout_ns;

    // Where each session's state lived at the crash, from what it did before.
    let mut home: HashMap<u64, BackendId> = HashMap::new();
    let mut accepted_after: HashSet<u64> = HashSet::new();
    let mut lost: HashMap<u64, LossCause> = HashMap::new();
    for tr in &out.trace {
        match tr.what {
            TraceKind::Accepted(b) if tr.t < crash_at => {
                home.insert(tr.session, b);
            }
            TraceKind::Accepted(_) => {
                accepted_after.insert(tr.session);
            }
            TraceKind::Failed(b) => {
                assert_eq!(b, BackendId(1));
                assert!(
                    tr.t >= crash_at && tr.t <= detect_by,
                    "failure at {} outside the detection window",
                    tr.t
                );
            }
            TraceKind::Lost(c) => {
                assert!(
                    lost.insert(tr.session, c).is_none(),
                    "a session is lost at most once here"
                );
            }
            _ => {}
        }
    }
    let expected: HashSet<u64> = home
        .iter()
        .filter(|(s, b)| **b == BackendId(1) && accepted_after.contains(s))
        .map(|(s, _)| *s)
        .collect();
    let got: HashSet<u64> = lost.keys().copied().collect();
    assert!(
        expected.len() >= 5,
        "the case must lose something: {}",
        expected.len()
    );
    assert_eq!(got, expected);
    assert!(lost.values().all(|c| *c == LossCause::Failure));
    assert_eq!(out.summary.lost_failure, out.summary.sessions_lost);
    // Requests sent to b1 before detection failed and were retried elsewhere.
    assert!(out.summary.retried > 0);
}

#[test]
fn source_ip_behind_one_big_nat_concentrates_load() {
    let mut sc = sessions(8);
    // 70 % of sessions come through one corporate NAT address.
    sc.clients = vec![client(0.3), client(0.7)];
    sc.clients[1].name = "office".into();
    sc.clients[1].network = Network::Nat;
    sc.clients[1].users = 2_000;
    sc.clients[1].users_per_ip = 2_000;
    sc.strategies = vec![
        strategy("rr", StrategySpec::Balance(Balance::RoundRobin)),
        strategy("ip", source_ip()),
    ];
    let outs = run_strategies(&sc, &all(&sc));
    let (rr, ip) = (&outs[0].summary, &outs[1].summary);
    assert!(
        rr.max_backend_request_share < 0.3,
        "rr {}",
        rr.max_backend_request_share
    );
    assert!(
        ip.max_backend_request_share > 0.7,
        "source_ip {}",
        ip.max_backend_request_share
    );
    assert!(ip.imbalance_util_max_over_mean > 2.0 * rr.imbalance_util_max_over_mean);
}

#[test]
fn round_robin_with_local_state_loses_sessions() {
    let sc = sessions(9);
    let rr = run_strategy(&sc, 0).summary;
    // With 4 backends, a multi-request session almost surely moves.
    assert!(rr.sessions_lost_pct > 50.0, "{}", rr.sessions_lost_pct);
    assert_eq!(rr.lost_rebalanced, rr.sessions_lost);
}

#[test]
fn long_cookie_and_stable_source_ip_lose_nothing_on_a_quiet_day() {
    let sc = sessions(10);
    let outs = run_strategies(&sc, &all(&sc));
    for o in &outs {
        let s = &o.summary;
        match s.kind.as_str() {
            "lb_cookie" | "source_ip" => assert_eq!(s.sessions_lost, 0, "{}", s.strategy),
            _ => assert!(s.sessions_lost > 0, "{}", s.strategy),
        }
    }
}

#[test]
fn short_cookie_ttl_loses_to_expiry_and_blockers_to_cookie_blocking() {
    let mut sc = sessions(13);
    sc.clients[0].cookie_block = 0.2;
    sc.strategies = vec![strategy("cookie-3s", cookie(3.0))];
    let s = run_strategy(&sc, 0).summary;
    assert!(s.lost_ttl_expired > 0);
    assert!(s.lost_cookie_blocked > 0);
    let share_blocked = s.lost_cookie_blocked as f64 / s.sessions as f64;
    // Blockers with more than one request lose their session: ~20 % × P(requests > 1).
    assert!((0.12..0.22).contains(&share_blocked), "{share_blocked}");
}

#[test]
fn ip_changes_break_source_ip_affinity() {
    let mut sc = sessions(14);
    sc.clients[0].ip_change_rate = 1.0 / 10.0;
    sc.strategies = vec![
        strategy("ip", source_ip()),
        strategy("cookie", cookie(86_400.0)),
    ];
    let outs = run_strategies(&sc, &all(&sc));
    let (ip, ck) = (&outs[0].summary, &outs[1].summary);
    assert!(ip.lost_ip_change > 0 && ip.lost_ip_change == ip.sessions_lost);
    assert_eq!(ck.sessions_lost, 0, "cookies survive address changes");
}

#[test]
fn shared_state_loses_nothing_and_adds_exactly_the_store_round_trip() {
    // Plenty of workers: no queueing, so latency is service + store exactly.
    let mut local = sessions(15);
    local.backends.workers = 64;
    local.strategies = vec![strategy("rr", StrategySpec::Balance(Balance::RoundRobin))];
    let mut shared = local.clone();
    shared.session_state = SessionState::Shared {
        outages: vec![],
        store_latency: Dist::constant(0.005).unwrap(),
    };
    let l = run_strategy(&local, 0).summary;
    let s = run_strategy(&shared, 0).summary;
    assert!(l.sessions_lost > 0);
    assert_eq!(s.sessions_lost, 0);
    assert_eq!(
        s.sessions, l.sessions,
        "same workload whatever the placement"
    );
    // Closed-loop sessions shift by the store's 5 ms per request, so a
    // request or two cross the warm-up or end boundary: hence not 1e-9.
    let shift = s.latency_mean_ms - l.latency_mean_ms;
    assert!((shift - 5.0).abs() < 0.01, "shift {shift} ms");
}

#[test]
fn rate_profile_shapes_arrivals() {
    // A repeating profile: 2× the base rate for the first 40 s of every
    // 100 s, nothing for the rest.
    let mut sc = queueing(10.0, 0.001, 1, 4, 2000.0, 4);
    sc.simulation.warmup_ns = 0;
    sc.workload.profile = RateProfile {
        steps: vec![(0, 2.0), (secs_to_ns(40.0), 0.0)],
        period_ns: Some(secs_to_ns(100.0)),
    };
    let out = run_strategy_traced(&sc, 0);
    let arrivals: Vec<u64> = out
        .trace
        .iter()
        .filter(|t| t.what == TraceKind::Arrived)
        .map(|t| t.t)
        .collect();
    assert!(
        arrivals
            .iter()
            .all(|t| t % secs_to_ns(100.0) < secs_to_ns(40.0)),
        "an arrival in a zero-rate step"
    );
    // Expected 20/s × 40 s × 20 periods = 16 000, Poisson s.d. ≈ 126.
    let n = arrivals.len() as f64;
    assert!(
        (n - 16_000.0).abs() < 4.0 * 16_000f64.sqrt(),
        "{n} arrivals"
    );
    // Half the periods see half the arrivals: the process is not front-loaded.
    let first_half = arrivals.iter().filter(|&&t| t < secs_to_ns(1000.0)).count() as f64;
    assert!(
        (first_half - n / 2.0).abs() < 4.0 * (n / 4.0).sqrt(),
        "{first_half} of {n}"
    );
}

#[test]
fn regression_touching_crash_windows_do_not_depend_on_listing_order() {
    // b1 is down 100–200 s, then crashes again at 200 s for good. Listed in
    // either order, the recovery at 200 s must not undo the second crash.
    let base = sessions(16);
    let a = with_crash(
        with_crash(base.clone(), 1, 200.0, None),
        1,
        100.0,
        Some(100.0),
    );
    let b = with_crash(with_crash(base, 1, 100.0, Some(100.0)), 1, 200.0, None);
    let (ra, rb) = (run_strategy(&a, 0), run_strategy(&b, 0));
    assert_eq!(ra.summary, rb.summary);
    assert_eq!(ra.buckets, rb.buckets);
    let last_b1 = ra.buckets.iter().rev().find(|r| r.backend == 1).unwrap();
    assert!(!last_b1.alive, "b1 stays down after its second crash");
}

#[test]
fn a_rejecting_pin_finds_its_backend_empty_after_recovery() {
    // Cookie stickiness that refuses rather than moves: sessions pinned to the
    // crashed backend are turned away until it is back, then find their
    // state gone there (the same backend, a new incarnation).
    let mut sc = sessions(17);
    sc.workload.requests_per_session = Dist::geometric(30.0).unwrap();
    sc.health_check.interval_ns = secs_to_ns(5.0);
    sc.health_check.timeout_ns = secs_to_ns(2.0);
    sc.strategies = vec![strategy(
        "strict",
        StrategySpec::LbCookie {
            ttl_ns: secs_to_ns(86_400.0),
            ttl_mode: TtlMode::Sliding,
            cookie: CookieAttrs::default(),
            balance: Balance::RoundRobin,
            on_unavailable: OnUnavailable::Reject,
            on_draining: OnDraining::Reroute,
        },
    )];
    let crash_at = secs_to_ns(600.0);
    let back_at = secs_to_ns(660.0);
    let sc = with_crash(sc, 2, 600.0, Some(60.0));
    let out = run_strategy_traced(&sc, 0);
    let s = &out.summary;
    assert!(
        s.rejected > 0,
        "pinned sessions are refused while their backend is down"
    );
    assert!(s.lost_failure > 0);
    assert_eq!(s.sessions_lost, s.lost_failure);
    for tr in &out.trace {
        match tr.what {
            // Nothing moves: every loss is on the recovered backend, after it is back.
            TraceKind::Lost(_) => assert!(tr.t >= back_at, "loss at {} before recovery", tr.t),
            TraceKind::Rejected => assert!(tr.t >= crash_at),
            _ => {}
        }
    }
}

/// The identifiers the new strategies follow reach the engine: rotating
/// tokens break `header` affinity (and only with rotation), cookie blockers
/// break `app_cookie` but not `session_id`, and every strategy still faces
/// the same workload.
#[test]
fn header_token_rotation_and_learned_ids() {
    use stickysim::routing::{HashAlgo, HashTuning, KeySource, Learned, OnDraining};
    let learn = |learned| StrategySpec::Learn {
        learned,
        name: "SID".into(),
        timeout_ns: secs_to_ns(600.0),
        size: 1 << 20,
        balance: Balance::RoundRobin,
        on_unavailable: OnUnavailable::Redispatch,
        on_draining: OnDraining::Reroute,
    };
    let mut sc = sessions(11);
    let mut seg = ClientSegment::direct("api", 1.0, 50_000);
    seg.token_header = true;
    seg.token_rotation_ns = secs_to_ns(20.0);
    seg.cookie_block = 0.3;
    sc.clients = vec![seg];
    sc.strategies = vec![
        strategy(
            "header",
            StrategySpec::Header {
                name: "Authorization".into(),
                hash: HashAlgo::EnvoyRing,
                tuning: HashTuning::default(),
                balance: Balance::RoundRobin,
                on_unavailable: OnUnavailable::Redispatch,
                on_draining: OnDraining::Reroute,
            },
        ),
        strategy("app_cookie", learn(Learned::AppCookie)),
        strategy("session_id", learn(Learned::SessionId)),
        strategy(
            "bounded",
            StrategySpec::BoundedLoad {
                key: KeySource::Header,
                hash: HashAlgo::Ketama,
                factor: 125,
                tuning: HashTuning::default(),
                balance: Balance::RoundRobin,
                on_draining: OnDraining::Reroute,
            },
        ),
    ];
    let out = run_strategies(&sc, &all(&sc));
    let (header, app, sid) = (&out[0].summary, &out[1].summary, &out[2].summary);
    assert!(header.lost_token_rotation > 0, "{header:?}");
    assert!(app.lost_cookie_blocked > 0, "{app:?}");
    assert_eq!(sid.lost_cookie_blocked, 0);
    assert_eq!(
        sid.sessions_lost, 0,
        "session ids survive cookie blocking: {sid:?}"
    );
    assert!(app.sessions_lost > 0);
    for o in &out[1..] {
        assert_eq!(o.workload_digest, out[0].workload_digest);
    }
    // Without rotation the header never moves a session.
    sc.clients[0].token_rotation_ns = 0;
    let quiet = run_strategy(&sc, 0).summary;
    assert_eq!(quiet.lost_token_rotation, 0);
    assert_eq!(quiet.sessions_lost, 0, "{quiet:?}");
}
