//! Scenario builders for tests, bypassing the TOML loader so engine tests
//! stand on their own; the conservation laws every run must keep; and the
//! pieces the command-line tests share.

use assert_cmd::Command;
use std::fs;
use std::path::{Path, PathBuf};
use stickysim::metrics::RunSummary;
use stickysim::routing::*;
use stickysim::scenario::dist::Dist;
use stickysim::scenario::*;

/// Every `hash` name the scenario files and `stickysim route` accept.
pub(crate) const HASHES: [&str; 10] = [
    "modulo",
    "nginx_ip_hash",
    "nginx_hash",
    "haproxy_source",
    "haproxy_consistent",
    "ketama",
    "envoy_ring",
    "maglev",
    "jump",
    "rendezvous",
];

/// The `stickysim` binary under test.
pub(crate) fn bin() -> Command {
    Command::cargo_bin("stickysim").unwrap()
}

/// A file in `tests/data`.
pub(crate) fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// `stickysim run tests/data/tiny.toml --out OUT --quiet EXTRA…`.
pub(crate) fn run_tiny(out: &Path, extra: &[&str]) -> assert_cmd::assert::Assert {
    bin()
        .arg("run")
        .arg(data("tiny.toml"))
        .arg("--out")
        .arg(out)
        .arg("--quiet")
        .args(extra)
        .assert()
}

/// Each of `names` holds the same bytes in directories `a` and `b`.
pub(crate) fn assert_same_bytes<S: AsRef<str>>(
    a: &Path,
    b: &Path,
    names: impl IntoIterator<Item = S>,
    why: &str,
) {
    for f in names {
        let f = f.as_ref();
        assert_eq!(
            fs::read(a.join(f)).unwrap(),
            fs::read(b.join(f)).unwrap(),
            "{f} differs {why}"
        );
    }
}

/// Every request is completed, failed, rejected or still in flight at the end.
pub(crate) fn assert_requests_conserved(s: &RunSummary) {
    assert_eq!(
        s.requests,
        s.completed + s.failed + s.rejected + s.in_flight_end,
        "{}: {s:?}",
        s.strategy
    );
}

/// Requests are conserved (above); every session completed, was abandoned
/// by its user or is still active; every lost session is counted under
/// exactly one cause.
pub(crate) fn assert_conserved(s: &RunSummary) {
    assert_requests_conserved(s);
    assert_eq!(
        s.sessions,
        s.sessions_completed + s.abandoned + s.sessions_active_end,
        "{}: {s:?}",
        s.strategy
    );
    assert_eq!(
        s.sessions_lost,
        s.lost_failure
            + s.lost_ip_change
            + s.lost_cookie_blocked
            + s.lost_ttl_expired
            + s.lost_rebalanced
            + s.lost_token_rotation
            + s.lost_deploy
            + s.lost_scale_in,
        "{}: {s:?}",
        s.strategy
    );
}

pub(crate) fn client(share: f64) -> ClientSegment {
    ClientSegment::direct("all", share, 100_000)
}

pub(crate) fn strategy(name: &str, spec: StrategySpec) -> StrategyConfig {
    StrategyConfig {
        name: name.into(),
        upstream: Upstream::of(spec.default_product()),
        spec,
        session_state: None,
        retry: None,
    }
}

pub(crate) fn cookie(ttl_s: f64) -> StrategySpec {
    StrategySpec::LbCookie {
        ttl_ns: secs_to_ns(ttl_s),
        ttl_mode: TtlMode::Sliding,
        cookie: CookieAttrs::default(),
        balance: Balance::RoundRobin,
        on_unavailable: OnUnavailable::Redispatch,
        on_draining: OnDraining::Reroute,
    }
}

pub(crate) fn source_ip() -> StrategySpec {
    StrategySpec::SourceIp {
        hash: HashAlgo::Modulo,
        tuning: HashTuning::default(),
        on_unavailable: OnUnavailable::Redispatch,
        on_draining: OnDraining::Reroute,
    }
}

/// `backend` crashes at `at_s`, and recovers `recover_s` later if given.
pub(crate) fn crash(sc: &mut Scenario, backend: usize, at_s: f64, recover_s: Option<f64>) {
    sc.faults.push(Fault::Crash {
        backend,
        at_ns: secs_to_ns(at_s),
        recover_after_ns: recover_s.map(secs_to_ns),
        mode: CrashMode::Reset,
    });
}

/// `sc` with the crash of [`crash`] added.
pub(crate) fn with_crash(
    mut sc: Scenario,
    backend: usize,
    at_s: f64,
    recover_s: Option<f64>,
) -> Scenario {
    crash(&mut sc, backend, at_s, recover_s);
    sc
}

/// One request per session, Poisson arrivals at `rate`, exponential
/// service with mean `service_s`, `backends` × `workers`.
pub(crate) fn queueing(
    rate: f64,
    service_s: f64,
    backends: usize,
    workers: u32,
    duration_s: f64,
    seed: u64,
) -> Scenario {
    Scenario {
        name: "queueing".into(),
        simulation: Simulation {
            duration_ns: secs_to_ns(duration_s),
            warmup_ns: secs_to_ns(duration_s * 0.05),
            seed,
            replications: 1,
        },
        workload: Workload {
            session_rate: rate,
            profile: RateProfile::default(),
            requests_per_session: Dist::constant(1.0).unwrap(),
            think_time: Dist::constant(0.0).unwrap(),
            service_time: Dist::exponential(service_s).unwrap(),
            replay: None,
        },
        clients: vec![client(1.0)],
        backends: Backends {
            speeds: vec![1.0; backends],
            workers,
            queue_limit: None,
            zones: vec!["default".into()],
            fleet: Default::default(),
            replace_unhealthy: None,
            launch_speed: None,
        },
        health_check: HealthCheck {
            interval_ns: secs_to_ns(30.0),
            timeout_ns: secs_to_ns(5.0),
            unhealthy_threshold: 2,
            healthy_threshold: 5,
            retry_delay_ns: secs_to_ns(1.0),
        },
        session_state: SessionState::Local,
        strategies: vec![strategy("rr", StrategySpec::Balance(Balance::RoundRobin))],
        faults: vec![],
        output: Output {
            bucket_ns: secs_to_ns(duration_s / 10.0),
        },
        deploys: vec![],
        autoscaling: None,
        decision: Default::default(),
        deploy_series: vec![],
        fault_series: vec![],
        load_warnings: vec![],
    }
}

/// Multi-request sessions on several backends, every baseline strategy.
pub(crate) fn sessions(seed: u64) -> Scenario {
    let mut sc = queueing(5.0, 0.02, 4, 2, 1800.0, seed);
    sc.workload.requests_per_session = Dist::geometric(6.0).unwrap();
    sc.workload.think_time = Dist::exponential(5.0).unwrap();
    sc.simulation.warmup_ns = secs_to_ns(60.0);
    sc.strategies = vec![
        strategy("rr", StrategySpec::Balance(Balance::RoundRobin)),
        strategy("lc", StrategySpec::Balance(Balance::LeastConn)),
        strategy("p2c", StrategySpec::Balance(Balance::P2c)),
        strategy("cookie", cookie(86_400.0)),
        strategy("ip", source_ip()),
    ];
    sc
}

pub(crate) fn all(sc: &Scenario) -> Vec<usize> {
    (0..sc.strategies.len()).collect()
}

/// Mean and 95 % Student-t half-width of `xs` (the library's, shared with
/// sweeps).
pub(crate) fn mean_ci95(xs: &[f64]) -> (f64, f64) {
    stickysim::stats::mean_ci95(xs)
}

/// Compares `got` with the golden file `name` in `tests/data/golden/`
/// (rewriting it first under `STICKYSIM_BLESS=1`).
pub(crate) fn check_golden(name: &str, got: &str, test: &str) {
    let golden = data(&format!("golden/{name}"));
    if std::env::var_os("STICKYSIM_BLESS").is_some() {
        fs::write(&golden, got).unwrap();
    }
    let want = fs::read_to_string(&golden).unwrap_or_default();
    assert!(
        got == want,
        "the output differs from {}.\n\
         If the change is intended (a model change, a new column documented in docs/output.md, \
         a reworded report), regenerate it deliberately with\n    STICKYSIM_BLESS=1 cargo test {test}\n\
         and review the diff before committing.\n--- golden\n{want}\n--- got\n{got}",
        golden.display()
    );
}

/// Every regular file of `dir` (not recursing), by name, with its bytes.
pub(crate) fn files(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().unwrap().is_file())
        .map(|e| {
            (
                e.file_name().into_string().unwrap(),
                fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}
