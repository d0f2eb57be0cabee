//! Elasticity: rolling deploys with draining, the autoscaler, and
//! conservation and determinism with every control feature on at once.

use crate::common::*;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs;
use stickysim::engine::{run_strategies, run_strategy_traced, RunOutput, TraceKind};
use stickysim::metrics::{ControlKind, LossCause};
use stickysim::report::{self, StrategyResult};
use stickysim::routing::{BackendId, Balance, OnDraining, StrategySpec};
use stickysim::scenario::dist::Dist;
use stickysim::scenario::*;

fn sticky_drain() -> StrategySpec {
    let mut s = cookie(86_400.0);
    if let StrategySpec::LbCookie { on_draining, .. } = &mut s {
        *on_draining = OnDraining::Honor;
    }
    s
}

fn deploy(at_s: f64, delay_s: f64) -> Deploy {
    Deploy {
        at_ns: secs_to_ns(at_s),
        batch_size: 2,
        pause_ns: secs_to_ns(30.0),
        deregistration_delay_ns: secs_to_ns(delay_s),
        boot_time_ns: secs_to_ns(60.0),
        slow_start_ns: 0,
    }
}

/// Sessions of ~1 minute; a deploy of the 4 backends 2 at a time.
fn deploy_scenario(seed: u64, delay_s: f64) -> Scenario {
    let mut sc = sessions(seed);
    sc.simulation.duration_ns = secs_to_ns(3000.0);
    sc.health_check.interval_ns = secs_to_ns(10.0);
    sc.health_check.timeout_ns = secs_to_ns(2.0);
    sc.deploys = vec![deploy(600.0, delay_s)];
    sc.strategies = vec![
        strategy("cookie-stick", sticky_drain()),
        strategy("cookie-alb", cookie(86_400.0)),
    ];
    sc
}

fn times(out: &RunOutput, kind: ControlKind) -> Vec<(u64, u32)> {
    out.events
        .iter()
        .filter(|e| e.kind == kind)
        .map(|e| (e.t_ns, e.backend.unwrap()))
        .collect()
}

#[test]
fn a_drain_longer_than_every_session_loses_no_sticky_session() {
    // Sessions last about a minute (6 requests, 5 s apart); a 20-minute
    // drain outlives every one of them.
    let sc = deploy_scenario(41, 1200.0);
    let outs = run_strategies(&sc, &all(&sc));
    let (stick, alb) = (&outs[0], &outs[1]);
    // The deploy ran: every original backend drained and stopped.
    let stopped: HashSet<u32> = times(stick, ControlKind::Stopped)
        .iter()
        .map(|x| x.1)
        .collect();
    for b in 0..4 {
        assert!(stopped.contains(&b), "b{b} was not replaced");
    }
    assert_eq!(times(stick, ControlKind::BootStart).len(), 4);
    assert_eq!(stick.summary.sessions_lost, 0, "{:?}", stick.summary);
    // ALB's policy sends sticky clients of a draining target elsewhere at
    // once: the same deploy costs their state.
    assert!(alb.summary.lost_deploy > 0);
    assert_eq!(alb.summary.sessions_lost, alb.summary.lost_deploy);
}

#[test]
fn a_zero_drain_loses_exactly_the_sessions_pinned_to_replaced_nodes() {
    let sc = deploy_scenario(42, 0.0);
    let out = run_strategy_traced(&sc, 0);
    // The first stop of each original slot ends its old instance.
    let mut stop_at: BTreeMap<u32, u64> = BTreeMap::new();
    for (t, b) in times(&out, ControlKind::Stopped) {
        stop_at.entry(b).or_insert(t);
    }
    assert_eq!(stop_at.len(), 4);
    let mut accepted: Vec<(u64, u64, BackendId)> = Vec::new();
    let mut lost: HashMap<u64, Vec<LossCause>> = HashMap::new();
    for t in &out.trace {
        match t.what {
            TraceKind::Accepted(b) => accepted.push((t.t, t.session, b)),
            TraceKind::Lost(c) => lost.entry(t.session).or_default().push(c),
            _ => {}
        }
    }
    // A session is pinned to old slot X at X's stop if its last accepted
    // request before the stop went to X; it is lost if it comes back.
    let mut expected: HashSet<u64> = HashSet::new();
    for (&slot, &stop) in &stop_at {
        let mut last: HashMap<u64, BackendId> = HashMap::new();
        let mut back: HashSet<u64> = HashSet::new();
        for &(t, s, b) in &accepted {
            if t < stop {
                last.insert(s, b);
            } else {
                back.insert(s);
            }
        }
        expected.extend(
            last.iter()
                .filter(|(s, b)| b.0 == slot && back.contains(s))
                .map(|(s, _)| *s),
        );
    }
    assert!(expected.len() > 10, "{}", expected.len());
    let got: HashSet<u64> = lost.keys().copied().collect();
    assert_eq!(got, expected);
    assert!(lost.values().flatten().all(|&c| c == LossCause::Deploy));
}

/// A flash crowd: 1 session/s, ×6 for 30 minutes, then back.
fn flash(seed: u64) -> Scenario {
    let mut sc = sessions(seed);
    sc.simulation.duration_ns = secs_to_ns(7200.0);
    sc.workload.session_rate = 1.0;
    sc.workload.service_time = Dist::exponential(0.2).unwrap();
    sc.workload.profile = RateProfile {
        steps: vec![
            (0, 1.0),
            (secs_to_ns(1800.0), 6.0),
            (secs_to_ns(3600.0), 1.0),
        ],
        period_ns: None,
    };
    sc.backends.speeds = vec![1.0; 2];
    sc.backends.workers = 2;
    sc.health_check.interval_ns = secs_to_ns(10.0);
    sc.health_check.timeout_ns = secs_to_ns(2.0);
    sc.autoscaling = Some(Autoscaling {
        min: 2,
        max: 8,
        target: 0.5,
        metric_window_ns: secs_to_ns(120.0),
        evaluation_period_ns: secs_to_ns(60.0),
        scale_out_cooldown_ns: secs_to_ns(180.0),
        scale_in_cooldown_ns: secs_to_ns(300.0),
        boot_time_ns: secs_to_ns(90.0),
        victim: Victim::Newest,
        deregistration_delay_ns: secs_to_ns(120.0),
        slow_start_ns: 0,
    });
    sc.strategies = vec![
        strategy("rr", StrategySpec::Balance(Balance::RoundRobin)),
        strategy("cookie", cookie(86_400.0)),
    ];
    sc
}

#[test]
fn the_autoscaler_stays_in_bounds_respects_cooldowns_and_boot_time() {
    let sc = flash(43);
    let a = sc.autoscaling.clone().unwrap();
    for i in all(&sc) {
        let out = run_strategy_traced(&sc, i);
        let name = &out.summary.strategy;
        let outs: Vec<u64> = dedup(times(&out, ControlKind::ScaleOut));
        let ins: Vec<u64> = dedup(times(&out, ControlKind::ScaleIn));
        assert!(
            !outs.is_empty() && !ins.is_empty(),
            "{name}: {outs:?} {ins:?}"
        );
        for w in outs.windows(2) {
            assert!(w[1] - w[0] >= a.scale_out_cooldown_ns, "{name}: {w:?}");
        }
        for w in ins.windows(2) {
            assert!(w[1] - w[0] >= a.scale_in_cooldown_ns, "{name}: {w:?}");
        }
        for &t in &ins {
            if let Some(&o) = outs.iter().rev().find(|&&o| o <= t) {
                assert!(
                    t - o >= a.scale_out_cooldown_ns,
                    "{name}: in at {t} after out at {o}"
                );
            }
        }
        // Capacity (launched, not retiring) within min..=max at every event.
        let mut serving = sc.backends.count() as i64;
        for e in &out.events {
            match e.kind {
                ControlKind::ScaleOut => serving += 1,
                ControlKind::ScaleIn => serving -= 1,
                _ => continue,
            }
            assert!(
                (a.min as i64..=a.max as i64).contains(&serving),
                "{name}: {serving} at {}",
                e.t_ns
            );
        }
        assert!(out.instances.iter().all(|r| r.in_service >= 1));
        assert!(out.instances.iter().any(|r| r.provisioned > 2));
        // No request reaches an instance before its boot ends.
        let mut booted_at: HashMap<u32, Vec<u64>> = HashMap::new();
        for (t, b) in times(&out, ControlKind::BootStart) {
            booted_at.entry(b).or_default().push(t + a.boot_time_ns);
        }
        let mut new_slot_requests = 0;
        for t in &out.trace {
            if let TraceKind::Accepted(b) | TraceKind::Failed(b) = t.what {
                if let Some(boots) = booted_at.get(&b.0) {
                    // The latest launch into this slot at or before t.
                    let launch = boots.iter().rev().find(|&&r| r - a.boot_time_ns <= t.t);
                    if let Some(&ready) = launch {
                        assert!(
                            t.t >= ready,
                            "{name}: b{} served at {} before {ready}",
                            b.0,
                            t.t
                        );
                        new_slot_requests += 1;
                    }
                }
            }
        }
        assert!(new_slot_requests > 0);
        assert_eq!(
            out.summary.sessions,
            out.summary.sessions_completed + out.summary.sessions_active_end
        );
    }
}

fn dedup(mut v: Vec<(u64, u32)>) -> Vec<u64> {
    let mut t: Vec<u64> = v.drain(..).map(|x| x.0).collect();
    t.dedup();
    t
}

#[test]
fn sticky_sessions_keep_new_instances_cold() {
    // Sessions of ~5 minutes (30 requests, 10 s apart), so pins last.
    let mut sc = flash(44);
    sc.workload.requests_per_session = Dist::geometric(30.0).unwrap();
    sc.workload.think_time = Dist::exponential(10.0).unwrap();
    sc.workload.service_time = Dist::exponential(0.05).unwrap();
    let outs = run_strategies(&sc, &all(&sc));
    // Per bucket where both kinds serve: the scaled-out instances' mean
    // utilisation over the original two's; averaged over those buckets.
    let ratio = |o: &RunOutput| {
        let mut per_bucket: BTreeMap<u64, (f64, u32, f64, u32)> = BTreeMap::new();
        for r in o.buckets.iter().filter(|r| r.lb_up) {
            let u = r.busy_ns as f64 / (r.t_end_ns - r.t_start_ns) as f64;
            let e = per_bucket.entry(r.t_start_ns).or_default();
            if r.backend < 2 {
                e.0 += u;
                e.1 += 1;
            } else {
                e.2 += u;
                e.3 += 1;
            }
        }
        let ratios: Vec<f64> = per_bucket
            .values()
            .filter(|e| e.1 > 0 && e.3 > 0 && e.0 > 0.0)
            .map(|e| (e.2 / e.3 as f64) / (e.0 / e.1 as f64))
            .collect();
        assert!(ratios.len() > 10);
        ratios.iter().sum::<f64>() / ratios.len() as f64
    };
    let (rr, ck) = (ratio(&outs[0]), ratio(&outs[1]));
    assert!(
        (0.85..1.15).contains(&rr),
        "round robin spreads to new instances: {rr}"
    );
    assert!(ck < rr - 0.15, "cookie {ck} vs round robin {rr}");
}

/// Everything on: random, zone and slow faults, a deploy with slow start,
/// the autoscaler, and per-strategy placements with a store outage.
fn everything(seed: u64) -> Scenario {
    let mut sc = flash(seed);
    sc.simulation.duration_ns = secs_to_ns(5400.0);
    sc.backends.speeds = vec![1.0; 4];
    sc.backends.queue_limit = Some(4);
    sc.backends.zones = vec!["a".into(), "b".into()];
    if let Some(a) = &mut sc.autoscaling {
        a.slow_start_ns = secs_to_ns(60.0);
        a.min = 3;
        a.victim = Victim::LeastSessions;
    }
    sc.faults = vec![
        Fault::Random {
            mtbf_ns: secs_to_ns(3000.0),
            mttr_ns: secs_to_ns(120.0),
        },
        Fault::ZoneOutage {
            zone: 1,
            at_ns: secs_to_ns(2500.0),
            duration_ns: Some(secs_to_ns(200.0)),
        },
        Fault::Slow {
            backend: 0,
            at_ns: secs_to_ns(10.0),
            duration_ns: secs_to_ns(40.0),
            factor: 5.0,
        },
        Fault::Crash {
            backend: 2,
            at_ns: secs_to_ns(4000.0),
            recover_after_ns: None,
            mode: CrashMode::Reset,
        },
    ];
    let mut d = deploy(2000.0, 200.0);
    d.slow_start_ns = secs_to_ns(60.0);
    sc.deploys = vec![d];
    sc.session_state = SessionState::Shared {
        store_latency: Dist::constant(0.003).unwrap(),
        outages: vec![(secs_to_ns(3000.0), secs_to_ns(3060.0))],
    };
    let mut local = strategy("cookie-local", sticky_drain());
    local.session_state = Some(SessionState::Local);
    let mut repl = strategy("ip-replicated", source_ip());
    repl.session_state = Some(SessionState::Replicated {
        copies: 2,
        write_latency: Dist::constant(0.001).unwrap(),
        cluster_reads: false,
    });
    sc.strategies = vec![
        strategy("rr-shared", StrategySpec::Balance(Balance::RoundRobin)),
        strategy("p2c-shared", StrategySpec::Balance(Balance::P2c)),
        local,
        strategy("cookie-alb", cookie(600.0)),
        repl,
    ];
    sc
}

/// The run's data files, rendered in memory under a stand-in run identity.
fn data_files(sc: &Scenario, outs: &[RunOutput]) -> Vec<(&'static str, String)> {
    let meta = report::RunMeta {
        scenario: sc.name.clone(),
        seed: sc.simulation.seed,
        scenario_hash: "x".into(),
        stickysim_version: "test".into(),
        bucket_s: 1.0,
        workers: sc.backends.workers,
        scenario_facts: None,
        overrides: Vec::new(),
        replications: 1,
        decision: None,
        warnings: Vec::new(),
        backend_names: Vec::new(),
    };
    let results: Vec<StrategyResult> = outs
        .iter()
        .map(|o| StrategyResult {
            summary: &o.summary,
            buckets: &o.buckets,
            events: &o.events,
            instances: &o.instances,
        })
        .collect();
    report::data_files(&meta, &results)
}

#[test]
fn conservation_and_determinism_hold_with_everything_enabled() {
    let sc = everything(45);
    let run_with = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| run_strategies(&sc, &all(&sc)))
    };
    let one = run_with(1);
    let two = run_with(2);
    assert_eq!(
        data_files(&sc, &one),
        data_files(&sc, &two),
        "bytes differ with 1 and 2 threads"
    );
    for o in &one {
        let s = &o.summary;
        assert_conserved(s);
        // Events are in time order, and every kind of control happened.
        assert!(o.events.windows(2).all(|w| w[0].t_ns <= w[1].t_ns));
        for k in [
            ControlKind::Crash,
            ControlKind::Recover,
            ControlKind::MarkedDown,
            ControlKind::MarkedUp,
            ControlKind::ZoneOutage,
            ControlKind::SlowStart,
            ControlKind::SlowEnd,
            ControlKind::DrainStart,
            ControlKind::Stopped,
            ControlKind::BootStart,
            ControlKind::InService,
            ControlKind::ScaleOut,
        ] {
            assert!(
                o.events.iter().any(|e| e.kind == k),
                "{}: no {k:?}",
                s.strategy
            );
        }
        // Memory follows the fleet: slots are reused.
        let slots: HashSet<u32> = o.buckets.iter().map(|r| r.backend).collect();
        let launched = o
            .events
            .iter()
            .filter(|e| e.kind == ControlKind::BootStart)
            .count();
        assert!(
            slots.len() < 4 + launched,
            "{}: {} slots",
            s.strategy,
            slots.len()
        );
    }
    let by = |n: &str| one.iter().find(|o| o.summary.strategy == n).unwrap();
    assert!(by("rr-shared")
        .events
        .iter()
        .any(|e| e.kind == ControlKind::StoreDown));
    assert!(!by("cookie-local")
        .events
        .iter()
        .any(|e| e.kind == ControlKind::StoreDown));
    assert_eq!(by("rr-shared").summary.sessions_lost, 0);
    assert!(by("cookie-local").summary.sessions_lost > 0);
    assert_eq!(by("ip-replicated").summary.placement, "replicated");
}

#[test]
fn run_writes_events_and_instances_identically_on_any_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let (one, many) = (dir.path().join("one"), dir.path().join("many"));
    for (out, threads) in [(&one, "1"), (&many, "2")] {
        bin()
            .env("RAYON_NUM_THREADS", threads)
            .arg("run")
            .arg(data("elastic.toml"))
            .arg("--out")
            .arg(out)
            .arg("-q")
            .assert()
            .success();
    }
    let files = [
        "summary.csv",
        "summary.json",
        "backends.csv",
        "events.csv",
        "instances.csv",
    ];
    assert_same_bytes(&one, &many, files, "between 1 and 2 threads");
    let events = fs::read_to_string(one.join("events.csv")).unwrap();
    assert!(events.starts_with("strategy,time_s,event,backend,scenario,seed,scenario_hash\n"));
    assert!(events.contains(",drain_start,b"));
    // A run-wide event: empty `backend`, then the run's identity.
    assert!(events.contains(",store_down,,"));
    let instances = fs::read_to_string(one.join("instances.csv")).unwrap();
    assert!(instances.starts_with(
        "strategy,t_start_s,t_end_s,in_service,provisioned,scenario,seed,scenario_hash\n"
    ));
}

#[test]
fn bad_control_inputs_get_one_clear_error() {
    let cases: &[(&str, &[&str])] = &[
        (
            "fault_unknown_zone.toml",
            &["`faults[0].zone`", "`a`, `b`", "found `c`"],
        ),
        (
            "fault_key_not_for_kind.toml",
            &["`faults[0].backend`", "does not apply", "`mtbf`"],
        ),
        (
            "slow_factor_below_one.toml",
            &["`faults[0].factor`", "from 1 to 1000", "0.5"],
        ),
        (
            "deploy_delay_too_long.toml",
            &["`deploys[0].deregistration_delay`", "3600", "4000"],
        ),
        (
            "autoscaling_max_below_min.toml",
            &["`autoscaling.max`", ">= `min`", "found 2"],
        ),
        (
            "autoscaling_bad_victim.toml",
            &["`autoscaling.victim`", "`least_sessions`", "`random`"],
        ),
        (
            "replicated_zero_copies.toml",
            &["`session_state.copies`", "from 1 to 8", "found 0"],
        ),
        (
            "store_outage_on_local.toml",
            &["`session_state.store_outages`", "does not apply"],
        ),
        (
            "on_draining_not_for_kind.toml",
            &["`strategies[0].on_draining`", "does not apply"],
        ),
    ];
    for (file, needles) in cases {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("res");
        let a = bin()
            .arg("run")
            .arg(data("bad").join(file))
            .arg("--out")
            .arg(&out)
            .assert()
            .code(2);
        let err = String::from_utf8(a.get_output().stderr.clone()).unwrap();
        assert!(err.contains(file), "{file}: {err}");
        for n in *needles {
            assert!(err.contains(n), "{file}: error lacks `{n}`:\n{err}");
        }
        assert!(!err.contains("panicked"), "{file}: {err}");
        assert!(!out.exists());
    }
}

#[test]
fn slow_start_ramps_a_new_instance_in() {
    // Round robin honours weights: during the first minute of a 5-minute
    // slow start a replacement gets a small share of what it gets without.
    let first_minute = |slow_start_s: f64| {
        let mut sc = deploy_scenario(46, 300.0);
        sc.deploys[0].slow_start_ns = secs_to_ns(slow_start_s);
        sc.strategies = vec![strategy("rr", StrategySpec::Balance(Balance::RoundRobin))];
        let out = run_strategy_traced(&sc, 0);
        let (t0, b) = times(&out, ControlKind::InService)[0];
        out.trace
            .iter()
            .filter(|t| {
                t.what == TraceKind::Accepted(BackendId(b))
                    && (t0..t0 + secs_to_ns(60.0)).contains(&t.t)
            })
            .count()
    };
    let (ramped, full) = (first_minute(300.0), first_minute(0.0));
    assert!(full > 100, "{full}");
    assert!(ramped * 4 < full, "slow start {ramped} vs none {full}");
    assert!(ramped > 0);
}
