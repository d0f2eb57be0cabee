//! Passive health checks (`passive_health`): nginx `max_fails` /
//! `fail_timeout`, Envoy outlier detection, HAProxy `observe` /
//! `error-limit` / `on-error` — detection delays against theory, Envoy's
//! ejection times against a hand computation, and the scenario keys.

use crate::common::*;
use stickysim::engine::{run_strategies, run_strategy, run_strategy_traced, TraceKind};
use stickysim::metrics::ControlKind;
use stickysim::routing::{BackendId, Balance, Product, StrategySpec};
use stickysim::scenario::dist::Dist;
use stickysim::scenario::*;

const S: u64 = 1_000_000_000;
/// Session arrivals per second (one request each) over `N` backends.
const RATE: f64 = 40.0;
const N: usize = 4;

/// One request per session at `RATE`/s over `N` backends, random
/// balancing (so b0 sees a Poisson stream at `RATE / N`), service short
/// enough that b0 rarely holds a request when it crashes; active checks
/// that never notice within the run.
fn base(duration_s: f64, seed: u64) -> Scenario {
    let mut sc = queueing(RATE, 1e-4, N, 1000, duration_s, seed);
    sc.simulation.warmup_ns = 0;
    sc.workload.service_time = Dist::constant(1e-4).unwrap();
    sc.health_check = HealthCheck {
        interval_ns: secs_to_ns(10_000.0),
        timeout_ns: secs_to_ns(1.0),
        unhealthy_threshold: 10,
        healthy_threshold: 1,
        retry_delay_ns: secs_to_ns(0.5),
    };
    sc
}

fn with_passive(name: &str, product: Product, ph: PassiveHealth) -> StrategyConfig {
    let mut st = strategy(name, StrategySpec::Balance(Balance::Random));
    st.upstream = Upstream::of(product);
    st.upstream.passive = Some(ph);
    st.upstream.explicit = true;
    st
}

fn times(out: &stickysim::engine::RunOutput, kind: ControlKind) -> Vec<u64> {
    out.events
        .iter()
        .filter(|e| e.kind == kind && e.backend == Some(0))
        .map(|e| e.t_ns)
        .collect()
}

#[test]
fn nginx_max_fails_detection_delay_is_gamma_k_lambda() {
    // b0 crashes every 60 s for 30 s. With Poisson traffic at λ = RATE / N
    // to it, the k-th failure after a crash comes after a Gamma(k, λ)
    // time: mean k / λ. nginx disables the peer at its `max_fails`-th
    // failure (they all fall within `fail_timeout` of each other), and
    // after the repair an answer to a pick made past `fail_timeout` clears
    // the count before the next crash.
    let mut sc = base(60.0 * 61.0, 7);
    for i in 0..60 {
        sc.faults.push(Fault::Crash {
            backend: 0,
            at_ns: (60 + 60 * i) * S,
            recover_after_ns: Some(30 * S),
            mode: CrashMode::Reset,
        });
    }
    let nginx = |k| PassiveHealth::Nginx {
        max_fails: k,
        fail_timeout_ns: 10 * S,
    };
    sc.strategies = vec![
        with_passive("k1", Product::Nginx, nginx(1)),
        with_passive("k3", Product::Nginx, nginx(3)),
    ];
    let lambda = RATE / N as f64;
    for (i, out) in run_strategies(&sc, &[0, 1]).iter().enumerate() {
        let k = [1.0, 3.0][i];
        let crashes = times(out, ControlKind::Crash);
        let ejected = times(out, ControlKind::Ejected);
        assert_eq!(crashes.len(), 60);
        let delays: Vec<f64> = crashes
            .iter()
            .map(|&c| {
                let e = ejected
                    .iter()
                    .find(|&&e| e >= c)
                    .expect("ejected after the crash");
                (e - c) as f64 / 1e9
            })
            .collect();
        let (mean, hw) = mean_ci95(&delays);
        let want = k / lambda;
        assert!(
            (mean - want).abs() <= hw,
            "max_fails {k}: mean delay {mean:.4} ± {hw:.4} s, theory {want}"
        );
        // Out for `fail_timeout` after each failure, so b0 got only a
        // trickle while down: far fewer attempts than λ × 30 s per crash.
        let s = &out.summary;
        assert!(
            (s.retried as f64) < 0.2 * 60.0 * 30.0 * lambda,
            "{} retried",
            s.retried
        );
        assert_requests_conserved(s);
    }
}

#[test]
fn envoy_ejection_time_grows_with_the_number_of_ejections() {
    // b0 crashes at 100 s and stays down. Each return sends it traffic, five
    // failures eject it again before the next interval sweep, so its n-th
    // ejection lasts min(30 s × n, 300 s), ended at the first sweep (every
    // 10 s from the start) at or after that.
    let mut sc = base(3000.0, 8);
    crash(&mut sc, 0, 100.0, None);
    let envoy = PassiveHealth::Envoy {
        consecutive_5xx: 5,
        consecutive_gateway_failure: 5,
        enforcing_5xx: true,
        enforcing_gateway: false,
        interval_ns: 10 * S,
        base_ejection_ns: 30 * S,
        max_ejection_ns: 300 * S,
        max_ejection_percent: 10,
    };
    sc.strategies = vec![with_passive("envoy", Product::Envoy, envoy)];
    let out = run_strategy(&sc, 0);
    let ejected = times(&out, ControlKind::Ejected);
    let returned = times(&out, ControlKind::Returned);
    assert!(ejected.len() >= 12, "{} ejections", ejected.len());
    let mut spans = Vec::new();
    for (n, (&e, &r)) in ejected.iter().zip(&returned).enumerate() {
        let span = (30 * S * (n as u64 + 1)).min(300 * S);
        let due = e + span;
        let sweep = due.div_ceil(10 * S) * 10 * S;
        assert_eq!(r, sweep, "ejection {}: out at {e}, back at {r}", n + 1);
        spans.push(r - e);
    }
    assert!(spans.windows(2).take(8).all(|w| w[0] < w[1]), "{spans:?}");
    assert!(spans.iter().all(|&d| d < 310 * S));
    assert_requests_conserved(&out.summary);
}

#[test]
fn haproxy_observe_marks_down_at_the_error_limit_and_layer4_misses_a_hang() {
    let mut sc = base(400.0, 9);
    let haproxy = |observe| PassiveHealth::Haproxy {
        observe,
        error_limit: 10,
        on_error: OnError::MarkDown,
    };
    sc.strategies = vec![
        with_passive("l4", Product::Haproxy, haproxy(Observe::Layer4)),
        with_passive("l7", Product::Haproxy, haproxy(Observe::Layer7)),
    ];
    crash(&mut sc, 0, 100.0, None);
    for s in 0..2 {
        let out = run_strategy_traced(&sc, s);
        // Marked down at the 10th failed attempt on b0.
        let tenth = out
            .trace
            .iter()
            .filter(|t| t.what == TraceKind::Failed(BackendId(0)))
            .nth(9)
            .map(|t| t.t)
            .unwrap();
        assert_eq!(times(&out, ControlKind::MarkedDown), [tenth]);
    }
    // A hung process accepts connections: layer 4 sees nothing wrong.
    let mut hung = sc.clone();
    if let Fault::Crash { mode, .. } = &mut hung.faults[0] {
        *mode = CrashMode::Hang;
    }
    let l4 = run_strategy(&hung, 0);
    let l7 = run_strategy(&hung, 1);
    assert!(times(&l4, ControlKind::MarkedDown).is_empty());
    assert_eq!(times(&l7, ControlKind::MarkedDown).len(), 1);
}

#[test]
fn an_ejected_backend_is_skipped_and_active_checks_keep_their_say() {
    // nginx with a short fail_timeout and real active checks: the crash is
    // caught at once by the passive check; the active checks mark it down
    // meanwhile; it comes back only when they mark it up after the repair.
    let mut sc = base(600.0, 10);
    sc.health_check = HealthCheck {
        interval_ns: 5 * S,
        timeout_ns: S,
        unhealthy_threshold: 2,
        healthy_threshold: 2,
        retry_delay_ns: S / 2,
    };
    crash(&mut sc, 0, 100.0, Some(200.0));
    sc.strategies = vec![with_passive(
        "nginx",
        Product::Nginx,
        PassiveHealth::Nginx {
            max_fails: 1,
            fail_timeout_ns: 60 * S,
        },
    )];
    let out = run_strategy_traced(&sc, 0);
    let ejected = times(&out, ControlKind::Ejected);
    let down = times(&out, ControlKind::MarkedDown);
    let up = times(&out, ControlKind::MarkedUp);
    assert_eq!(ejected.len(), 1, "{:?}", out.events);
    assert!(ejected[0] >= 100 * S && ejected[0] < 102 * S);
    // The checks' mark-down shows when the ejection ends (at 160 s), and
    // their mark-up after the repair at 300 s puts it back.
    assert_eq!(down.len(), 1);
    assert!(down[0] > ejected[0]);
    assert_eq!(up.len(), 1);
    assert!(up[0] > 300 * S);
    // Nothing reached b0 between the ejection and the mark-up.
    for t in &out.trace {
        if let TraceKind::Failed(BackendId(0)) | TraceKind::Accepted(BackendId(0)) = t.what {
            assert!(t.t <= ejected[0] || t.t >= up[0], "b0 reached at {}", t.t);
        }
    }
}

fn load(extra: &str, sets: &[&str]) -> Result<Scenario, String> {
    let text = std::fs::read_to_string(data("tiny.toml")).unwrap() + extra;
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    stickysim::scenario::from_str(&text, "tiny.toml", "tiny", &sets).map_err(|e| e.to_string())
}

#[test]
fn passive_health_takes_its_products_keys_with_their_defaults() {
    let sc = load(
        "\n[[strategies]]\nname = \"lc\"\nkind = \"least_conn\"\nproduct = \"nginx\"\npassive_health = {}\n",
        &[],
    )
    .unwrap();
    let up = &sc.strategies[3].upstream;
    assert_eq!(up.product, Product::Nginx);
    assert_eq!(
        (up.connect_timeout_ns, up.read_timeout_ns),
        (60 * S, 60 * S)
    );
    assert_eq!(
        up.passive,
        Some(PassiveHealth::Nginx {
            max_fails: 1,
            fail_timeout_ns: 10 * S
        })
    );
    // Off by default; a kind's product gives the timeouts.
    assert_eq!(sc.strategies[0].upstream.passive, None);
    assert_eq!(sc.strategies[1].upstream.product, Product::Alb);
    // Envoy's defaults.
    let sc = load(
        "",
        &[
            "strategies.0.product=\"envoy\"",
            "strategies.0.passive_health.interval=5",
        ],
    )
    .unwrap();
    assert!(matches!(
        sc.strategies[0].upstream.passive,
        Some(PassiveHealth::Envoy {
            consecutive_5xx: 5,
            enforcing_5xx: true,
            enforcing_gateway: false,
            interval_ns,
            base_ejection_ns,
            max_ejection_percent: 10,
            ..
        }) if interval_ns == 5 * S && base_ejection_ns == 30 * S
    ));
}

#[test]
fn bad_passive_health_and_timeouts_name_the_key() {
    for (sets, key, says) in [
        (
            vec![
                "strategies.0.product=\"envoy\"",
                "strategies.0.passive_health.max_fails=2",
            ],
            "strategies[0].passive_health.max_fails",
            "nginx's",
        ),
        (
            vec!["strategies.1.passive_health.max_fails=2"],
            "strategies[1].passive_health",
            "ALB has no passive health checks",
        ),
        (
            vec!["strategies.0.passive_health.max_fails=0"],
            "strategies[0].passive_health.max_fails",
            "1 ..= 1000",
        ),
        (
            vec![
                "strategies.0.product=\"envoy\"",
                "strategies.0.passive_health.enforcing_consecutive_5xx=50",
            ],
            "enforcing_consecutive_5xx",
            "0 or 100",
        ),
        (
            vec![
                "strategies.0.product=\"envoy\"",
                "strategies.0.passive_health.max_ejection_time=10",
            ],
            "max_ejection_time",
            "at least `base_ejection_time`",
        ),
        (
            vec!["strategies.0.connect_timeout=601"],
            "strategies[0].connect_timeout",
            "at most 600",
        ),
        (
            vec!["strategies.0.read_timeout=0"],
            "strategies[0].read_timeout",
            "> 0",
        ),
        (
            vec!["faults.0.mode=\"explode\""],
            "faults[0].mode",
            "blackhole",
        ),
    ] {
        let err = load("", &sets).unwrap_err();
        assert!(err.contains(key) && err.contains(says), "{sets:?}: {err}");
    }
    let slow = "\n[[faults]]\nkind = \"slow\"\nbackend = \"b0\"\nat = 10\nduration = 5\nfactor = 2\nmode = \"hang\"\n";
    let err = load(slow, &[]).unwrap_err();
    assert!(
        err.contains("faults[1].mode") && err.contains("does not apply to fault kind `slow`"),
        "{err}"
    );
}

#[test]
fn unwritten_keys_keep_the_scenario_hash() {
    // A scenario that writes no new key hashes as before; writing one
    // (even its default) changes the hash, as any written key does.
    let plain = load("", &[]).unwrap();
    let reset = load("", &["faults.0.mode=\"reset\""]).unwrap();
    assert_eq!(scenario_hash(&plain), scenario_hash(&reset));
    let hang = load("", &["faults.0.mode=\"hang\""]).unwrap();
    assert_ne!(scenario_hash(&plain), scenario_hash(&hang));
    let timed = load("", &["strategies.0.read_timeout=60"]).unwrap();
    assert_ne!(scenario_hash(&plain), scenario_hash(&timed));
}

#[test]
fn the_report_says_how_much_of_the_black_hole_passive_checks_remove() {
    // tiny.toml's workload (b1 crashes at 300 s) with least-connections,
    // with and without nginx's passive check: the report compares what
    // each sent to the crashed backend, from the run's own files.
    let dir = tempfile::tempdir().unwrap();
    let scen = dir.path().join("lc.toml");
    let text = std::fs::read_to_string(data("tiny.toml"))
        .unwrap()
        .replace("[[strategies]]\nname = \"rr\"\nkind = \"round_robin\"\n", "")
        .replace(
            "[[strategies]]\nname = \"cookie\"\nkind = \"lb_cookie\"\nttl = 300\n",
            "",
        )
        .replace(
            "[[strategies]]\nname = \"ip\"\nkind = \"source_ip\"\n",
            "[[strategies]]\nname = \"lc\"\nkind = \"least_conn\"\n\n\
             [[strategies]]\nname = \"lc-nginx\"\nkind = \"least_conn\"\nproduct = \"nginx\"\npassive_health = {}\n",
        );
    std::fs::write(&scen, text).unwrap();
    let out = dir.path().join("out");
    bin()
        .args([
            "run",
            scen.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--quiet",
        ])
        .assert()
        .success();
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    let summary = std::fs::read_to_string(out.join("summary.csv")).unwrap();
    let col = |row: usize, name: &str| -> f64 {
        let mut lines = summary.lines();
        let head: Vec<&str> = lines.next().unwrap().split(',').collect();
        let i = head.iter().position(|h| *h == name).unwrap();
        lines
            .nth(row)
            .unwrap()
            .split(',')
            .nth(i)
            .unwrap()
            .parse()
            .unwrap()
    };
    let hits = |row| col(row, "failed") + col(row, "retried");
    assert!(hits(1) < hits(0), "{summary}");
    let want = format!(
        "Passive health checks: `lc-nginx` sent {} requests to a crashed backend ({} retried, {} failed) against {} for `lc`",
        hits(1),
        col(1, "retried"),
        col(1, "failed"),
        hits(0)
    );
    assert!(report.contains(&want), "{want}\n{report}");
    assert!(
        report.contains("for strategies with passive health checks (`passive_health`), from the requests that fail"),
        "{report}"
    );
    let events = std::fs::read_to_string(out.join("events.csv")).unwrap();
    assert!(events.contains(",ejected,b1,"), "{events}");
}
