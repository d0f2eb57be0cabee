//! Parallel efficiency of sweeps: the same 24-run sweep with 1 and 2 jobs.
//!
//! The sweep: `scenarios/checkout.toml` cut to 10 simulated minutes (crash
//! at 5 min), `strategies.cookie-1m.ttl` over 6 values × 2 strategies
//! (`round-robin`, `cookie-1m`) × 2 replications = 24 runs.
//!
//! - `sweep_runs/jobs_N`: the runs alone, as `stickysim sweep --jobs N`
//!   schedules them (a local rayon pool of N threads, one task per run);
//! - `sweep_end_to_end/jobs_N`: [`stickysim::sweep::execute`] into a fresh
//!   directory: runs, results log, CSV/JSON, charts and report.
//!
//! Run: `cargo bench --bench sweep`; figures are kept in `benches/README.md`.
//! The speedup is time(jobs_1) / time(jobs_2); it is only meaningful on an
//! otherwise idle machine with at least 2 cores.

#![allow(missing_docs)] // criterion_group! defines an undocumented `pub fn`.

use criterion::{criterion_group, criterion_main, Criterion};
use rayon::prelude::*;
use std::path::Path;
use stickysim::sweep::{self, ExecOptions, Shard, SweepRequest};

fn plan() -> sweep::Plan {
    let req = SweepRequest {
        scenario: Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/checkout.toml"),
        set: vec![
            "simulation.duration=600".into(),
            "simulation.warmup=60".into(),
            "faults.0.at=300".into(),
        ],
        params: vec!["strategies.cookie-1m.ttl=15,30,60,300,900,3600".into()],
        replications: Some(2),
        seed: None,
        strategies: vec!["round-robin".into(), "cookie-1m".into()],
        // Every cell runs, so the figures stay comparable with earlier ones.
        no_share: true,
    };
    sweep::plan(&req).expect("the bench sweep is valid")
}

fn runs(c: &mut Criterion) {
    let plan = plan();
    let ids = plan.meta.runs();
    assert_eq!(ids.len(), 24);
    let mut g = c.benchmark_group("sweep_runs");
    g.sample_size(10);
    for jobs in [1, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(jobs)
            .build()
            .unwrap();
        g.bench_function(format!("jobs_{jobs}"), |b| {
            b.iter(|| {
                pool.install(|| {
                    ids.par_iter()
                        .with_max_len(1)
                        .map(|&id| sweep::run_one(&plan, id).summary.requests)
                        .sum::<u64>()
                })
            })
        });
    }
    g.finish();
}

fn end_to_end(c: &mut Criterion) {
    let plan = plan();
    let mut g = c.benchmark_group("sweep_end_to_end");
    g.sample_size(10);
    for jobs in [1, 2] {
        g.bench_function(format!("jobs_{jobs}"), |b| {
            b.iter(|| {
                let dir = tempfile::tempdir().unwrap();
                let opts = ExecOptions {
                    out: dir.path().join("sweep"),
                    jobs: Some(jobs),
                    resume: false,
                    shard: Shard::ALL,
                    stop_after: None,
                };
                sweep::execute(&plan, &opts, &|_, _| {}).unwrap().runs
            })
        });
    }
    g.finish();
}

criterion_group!(benches, runs, end_to_end);
criterion_main!(benches);
