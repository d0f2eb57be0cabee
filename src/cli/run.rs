//! `stickysim run SCENARIO`: every strategy, one workload, a report.

use super::progress::Progress;
use crate::engine::run_strategies_with;
use crate::report::whatif::{guard_output_dir, Guard};
use crate::report::{text_table, write_run_report, RunMeta, StrategyResult};
use anyhow::{anyhow, Context, Result};
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The scenario file (TOML).
    pub scenario: PathBuf,
    /// Output directory [default: results/<scenario name>].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Master seed (overrides `simulation.seed`).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Run only this strategy (by name); repeat for several.
    #[arg(long = "strategy", value_name = "NAME")]
    pub strategies: Vec<String>,
    /// Override a scenario key, e.g. `--set workload.session_rate=80`.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Print the machine-readable summary (summary.json) on stdout instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Print nothing on stderr.
    #[arg(long, short)]
    pub quiet: bool,
    /// Skip the PNG charts (`report.md` and the CSV/JSON are still written).
    #[arg(long)]
    pub no_charts: bool,
    /// Write even when the output directory holds results of another
    /// scenario hash: they are first moved aside to `DIR.<their hash>`.
    #[arg(long)]
    pub force: bool,
}

pub(super) fn run(args: RunArgs) -> Result<ExitCode> {
    let mut overrides = args.set.clone();
    if let Some(seed) = args.seed {
        overrides.push(format!("simulation.seed={seed}"));
    }
    let sc = crate::scenario::load(&args.scenario, &overrides)?;
    let names: Vec<&str> = sc.strategies.iter().map(|s| s.name.as_str()).collect();
    let which = crate::scenario::select_strategies(&names, &args.strategies).map_err(|name| {
        anyhow!(
            "--strategy {name}: {} has no strategy named `{name}`; its strategies are: {}",
            args.scenario.display(),
            names.join(", ")
        )
    })?;
    let out_dir = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("results").join(&sc.name));
    let hash = crate::scenario::scenario_hash(&sc);
    if let Guard::MovedAside(to) = guard_output_dir(&out_dir, &hash, args.force)? {
        if !args.quiet {
            eprintln!(
                "stickysim: --force: moved the previous results to {}",
                to.display()
            );
        }
    }
    if !args.quiet {
        eprintln!(
            "stickysim: running {} strateg{} of `{}` ({} s simulated)…",
            which.len(),
            if which.len() == 1 { "y" } else { "ies" },
            sc.name,
            sc.simulation.duration_ns as f64 / 1e9
        );
    }
    let progress = Progress::new(which.len() as u64, "strategies", args.quiet);
    progress.message("simulating");
    let outputs = run_strategies_with(&sc, &which, |_| progress.inc());
    progress.message(if args.no_charts {
        "writing"
    } else {
        "drawing charts"
    });
    let meta = RunMeta {
        scenario: sc.name.clone(),
        seed: sc.simulation.seed,
        scenario_hash: hash,
        stickysim_version: env!("CARGO_PKG_VERSION").to_string(),
        bucket_s: sc.output.bucket_ns as f64 / 1e9,
        workers: sc.backends.workers,
        scenario_facts: Some(super::facts::scenario_facts(&sc)),
        overrides,
    };
    let results: Vec<StrategyResult> = outputs
        .iter()
        .map(|o| StrategyResult {
            summary: &o.summary,
            buckets: &o.buckets,
            events: &o.events,
            instances: &o.instances,
        })
        .collect();
    let written = write_run_report(&out_dir, &meta, &results, !args.no_charts)
        .with_context(|| format!("writing results to {}", out_dir.display()));
    progress.finish();
    let written = written?;
    if args.json {
        super::print_stdout(&crate::report::summary_json(&meta, &results))?;
    } else {
        super::print_stdout(&text_table(&meta, &results))?;
    }
    if !args.quiet {
        super::print_written(&written, !args.no_charts);
    }
    Ok(ExitCode::SUCCESS)
}
