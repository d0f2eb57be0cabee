//! What a crashed backend does to requests (`crash` `mode`): `reset`
//! refuses at once, `blackhole` makes every connect wait for the load
//! balancer's connect timeout, `hang` makes every request wait for its read
//! timeout. Failed counts and the time each failed attempt costs are
//! checked against a hand computation.

use crate::common::*;
use std::collections::HashMap;
use stickysim::engine::{run_strategy_traced, RunOutput, TraceKind};
use stickysim::routing::{BackendId, Balance, OnUnavailable, StrategySpec};
use stickysim::scenario::dist::Dist;
use stickysim::scenario::*;

const CONNECT_S: f64 = 5.0;
const READ_S: f64 = 15.0;
const RETRY_S: f64 = 1.0;
/// Session arrivals per second (one request each) over `N` backends.
const RATE: f64 = 40.0;
const N: usize = 4;
/// b0 is down over [DOWN_AT, DOWN_AT + DOWN_FOR).
const DOWN_AT: f64 = 100.0;
const DOWN_FOR: f64 = 100.0;

/// One request per session at `RATE`/s over `N` backends with room for
/// all (no queueing), 10 ms of service; b0 crashed in `mode` for
/// `DOWN_FOR` s; health checks that never notice within the run, so every
/// attempt on b0 while it is down meets the crash.
fn scenario(mode: CrashMode, spec: StrategySpec) -> Scenario {
    let mut sc = queueing(RATE, 0.01, N, 1000, 400.0, 151);
    sc.simulation.warmup_ns = 0;
    sc.workload.service_time = Dist::constant(0.01).unwrap();
    sc.health_check = HealthCheck {
        interval_ns: secs_to_ns(1000.0),
        timeout_ns: secs_to_ns(1.0),
        unhealthy_threshold: 10,
        healthy_threshold: 1,
        retry_delay_ns: secs_to_ns(RETRY_S),
    };
    let mut st = strategy("s", spec);
    st.upstream.connect_timeout_ns = secs_to_ns(CONNECT_S);
    st.upstream.read_timeout_ns = secs_to_ns(READ_S);
    sc.strategies = vec![st];
    sc.faults.push(Fault::Crash {
        backend: 0,
        at_ns: secs_to_ns(DOWN_AT),
        recover_after_ns: Some(secs_to_ns(DOWN_FOR)),
        mode,
    });
    sc
}

/// A cookie strategy that refuses rather than retry: every attempt on the
/// dead b0 is a failed request.
fn no_retry() -> StrategySpec {
    let mut s = cookie(86_400.0);
    if let StrategySpec::LbCookie { on_unavailable, .. } = &mut s {
        *on_unavailable = OnUnavailable::Reject;
    }
    s
}

/// Per failed attempt on b0: how long after it was sent it failed, and
/// whether b0 had accepted it before its crash.
fn failures(out: &RunOutput) -> Vec<(u64, bool)> {
    let mut sent: HashMap<u64, (u64, bool)> = HashMap::new();
    let mut out_v = Vec::new();
    for t in &out.trace {
        match t.what {
            TraceKind::Sent { .. } => {
                sent.insert(t.session, (t.t, false));
            }
            TraceKind::Accepted(BackendId(0)) => {
                sent.get_mut(&t.session).unwrap().1 = true;
            }
            TraceKind::Failed(b) => {
                assert_eq!(b, BackendId(0));
                let (at, accepted) = sent[&t.session];
                out_v.push((t.t - at, accepted));
            }
            _ => {}
        }
    }
    out_v
}

/// Requests the balancer sent in the down window, from the trace.
fn sent_in_window(out: &RunOutput) -> u64 {
    let (a, b) = (secs_to_ns(DOWN_AT), secs_to_ns(DOWN_AT + DOWN_FOR));
    out.trace
        .iter()
        .filter(|t| matches!(t.what, TraceKind::Sent { .. }) && t.t >= a && t.t < b)
        .count() as u64
}

#[test]
fn each_mode_costs_a_failed_attempt_its_own_timeout() {
    for (mode, wait_s) in [
        (CrashMode::Reset, 0.0),
        (CrashMode::Blackhole, CONNECT_S),
        (CrashMode::Hang, READ_S),
    ] {
        let out = run_strategy_traced(&scenario(mode, no_retry()), 0);
        let f = failures(&out);
        // Hand computation: round robin over 4 backends sends every 4th
        // request to b0 (no cookie yet: one request per session), so about
        // a quarter of the requests sent while b0 is down fail — Poisson
        // arrivals at RATE over DOWN_FOR s: mean RATE × DOWN_FOR / N = 1000,
        // sd sqrt(RATE × DOWN_FOR) / N ≈ 16.
        let sent = sent_in_window(&out);
        let attempts = f.iter().filter(|(_, acc)| !acc).count() as u64;
        assert!(
            attempts.abs_diff(sent / N as u64) <= 1,
            "{mode:?}: {attempts} failed of {sent} sent"
        );
        let expect = RATE * DOWN_FOR / N as f64;
        assert!(
            (attempts as f64 - expect).abs() < 4.0 * (RATE * DOWN_FOR).sqrt() / N as f64,
            "{mode:?}: {attempts} vs {expect}"
        );
        // Every failed request is one of those attempts or one b0 held at the crash.
        let s = &out.summary;
        assert_eq!(s.failed, f.len() as u64, "{mode:?}");
        assert_eq!(s.retried, 0);
        assert_requests_conserved(s);
        // The time each one cost: nothing for a refused connect, the connect
        // timeout for a vanished host, the read timeout for a hung process
        // (and for what a vanished host held).
        for &(waited, accepted) in &f {
            let want = match (mode, accepted) {
                (CrashMode::Reset, _) => 0.0,
                (_, true) => READ_S,
                _ => wait_s,
            };
            assert_eq!(waited, secs_to_ns(want), "{mode:?}, accepted {accepted}");
        }
    }
}

#[test]
fn a_retried_request_waits_the_timeout_then_the_retry_delay() {
    let mut latency = Vec::new();
    for (mode, wait_s) in [
        (CrashMode::Reset, 0.0),
        (CrashMode::Blackhole, CONNECT_S),
        (CrashMode::Hang, READ_S),
    ] {
        let sc = scenario(mode, StrategySpec::Balance(Balance::Random));
        let out = run_strategy_traced(&sc, 0);
        let s = &out.summary;
        let f = failures(&out);
        let attempts = f.iter().filter(|(_, acc)| !acc).count() as u64;
        // Random over 4: each attempt hits b0 with chance 1/4, and its retry
        // never goes back there; only what b0 held at the crash fails.
        assert_eq!(s.retried, attempts, "{mode:?}");
        assert_eq!(s.failed, f.len() as u64 - attempts, "{mode:?}");
        let expect = RATE * DOWN_FOR / N as f64;
        let sd = (expect * (1.0 - 1.0 / N as f64)).sqrt();
        assert!(
            (attempts as f64 - expect).abs() < 4.0 * sd,
            "{mode:?}: {attempts}"
        );
        // Every retried request completed, `wait + retry_delay` late: the
        // time spent on no backend adds up exactly.
        let per_retry_ms = (wait_s + RETRY_S) * 1e3;
        let total_ms = s.retry_delay_mean_ms * s.completed as f64;
        assert!(
            (total_ms - per_retry_ms * s.retried as f64).abs() < 1e-6 * total_ms.max(1.0),
            "{mode:?}: {total_ms} ms waited for {} retries",
            s.retried
        );
        assert_requests_conserved(s);
        latency.push(s.latency_mean_ms);
    }
    assert!(
        latency[0] < latency[1] && latency[1] < latency[2],
        "{latency:?}"
    );
}

#[test]
fn least_conn_stops_pouring_into_a_backend_that_holds_connections() {
    // With `reset` a dead backend holds no connection, so least-connections
    // sends it nearly everything; a blackholed or hung one holds each
    // attempt until its timeout, so least-connections sees them and looks
    // elsewhere.
    // Half a second of service: each live backend holds a few requests.
    let hits = |mode| {
        let mut sc = scenario(mode, StrategySpec::Balance(Balance::LeastConn));
        sc.workload.service_time = Dist::constant(0.5).unwrap();
        let out = run_strategy_traced(&sc, 0);
        failures(&out).iter().filter(|(_, acc)| !acc).count() as f64
    };
    let (reset, blackhole, hang) = (
        hits(CrashMode::Reset),
        hits(CrashMode::Blackhole),
        hits(CrashMode::Hang),
    );
    let sent = RATE * DOWN_FOR;
    assert!(reset > 0.5 * sent, "reset {reset}");
    assert!(
        blackhole < 0.5 * reset && hang < 0.5 * reset,
        "{blackhole} {hang}"
    );
}
