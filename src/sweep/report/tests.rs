//! Tests of the report module.

use super::*;
use crate::sweep::{Param, Shard, LOG_FORMAT};

fn meta(decision: Option<Decision>) -> SweepMeta {
    SweepMeta {
        format: LOG_FORMAT.into(),
        scenario: "s".into(),
        scenario_hash: "h".into(),
        seed: 1,
        replications: 3,
        params: vec![Param {
            key: "strategies.c.ttl".into(),
            values: ["60", "300", "900", "3600"].map(String::from).to_vec(),
        }],
        strategies: vec!["c".into(), "rr".into()],
        stickysim_version: "0".into(),
        fingerprint: "f".into(),
        runs_total: 15,
        shard: Shard::ALL,
        shared: vec!["rr".into()],
        decision: decision.map(|d| crate::report::replicated::DecisionRecord::of(&d, &[])),
        rho: vec![0.5, 0.5, 0.5, 0.5],
    }
}

/// Every cell's records: `c` at each TTL with its losses and hottest
/// backend per replication, `rr` (shared) the same at every point.
fn records(m: &SweepMeta) -> Vec<RunRecord> {
    let c: [([f64; 3], f64); 4] = [
        ([5.0, 6.0, 7.0], 0.5),
        ([1.0, 2.0, 3.0], 0.5),
        ([1.0, 2.0, 3.0], 0.5),  // identical to 300: a tie
        ([0.5, 1.5, 2.5], 0.97), // lowest loss, but a backend at 97 %
    ];
    let mut out = Vec::new();
    for (point, (lost, util)) in c.iter().enumerate() {
        for (strategy, losses, u) in [("c", *lost, *util), ("rr", [40.0, 41.0, 42.0], 0.5)] {
            for (r, &l) in losses.iter().enumerate() {
                out.push(RunRecord {
                    key: String::new(),
                    point,
                    params: m.point_values(point),
                    strategy: strategy.into(),
                    replication: r as u32,
                    seed: r as u64,
                    summary: RunSummary {
                        strategy: strategy.into(),
                        requests: 1000,
                        sessions_lost_pct: l,
                        util_max: u,
                        ..RunSummary::default()
                    },
                    shared: strategy == "rr",
                });
            }
        }
    }
    out
}

#[test]
fn ties_are_listed_and_a_constraint_excludes_a_grid_point() {
    let m = meta(None);
    let text = recommendation(&m, &records(&m));
    assert!(text.contains("(the default decision"), "{text}");
    assert!(
        text.contains("**`c` at `strategies.c.ttl=300`**: sessions_lost_pct 2.000 ± 2.484"),
        "{text}"
    );
    assert!(
        text.contains("For `c`, `strategies.c.ttl` = 300 and 900 are indistinguishable"),
        "{text}"
    );
    assert!(
        text.contains(
            "Excluded by a constraint (1 of 5 configurations): `c` at \
             `strategies.c.ttl=3600` (util_max 0.970 misses `util_max < 0.95`)"
        ),
        "{text}"
    );
    // The TTL is never reported for the strategy it does not apply to.
    let rr: Vec<&str> = text.lines().filter(|l| l.contains("`rr`")).collect();
    assert_eq!(rr.len(), 1, "{text}");
    assert!(
        rr[0].contains("every grid point: no swept parameter applies to it")
            && !rr[0].contains("ttl"),
        "{}",
        rr[0]
    );
    assert!(!text.contains("Overloaded"), "{text}");
}

#[test]
fn the_scenario_decision_and_overloaded_points_are_used() {
    // Maximise loss (an odd objective, to show it is followed), with
    // no constraints: 3600 is then admissible and the worst is `rr`.
    let d = Decision {
        objective: crate::scenario::decision::Objective {
            goal: crate::scenario::decision::Goal::Maximize,
            column: "sessions_lost_pct",
        },
        constraints: Vec::new(),
        ..Decision::default()
    };
    let mut m = meta(Some(d));
    m.rho[3] = 1.25;
    let text = recommendation(&m, &records(&m));
    assert!(text.contains("(the scenario's `[decision]`)"), "{text}");
    assert!(
        text.contains("**`rr` (no swept parameter applies to it)**"),
        "{text}"
    );
    assert!(
        text.contains("**Overloaded grid points**")
            && text.contains("`strategies.c.ttl=3600` (ρ = 1.25)"),
        "{text}"
    );
}
