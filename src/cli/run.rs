//! `stickysim run SCENARIO`: every strategy, one workload per replication,
//! a report with a verdict; exit 1 when an assertion fails.

use super::progress::Progress;
use crate::decision::{verdict, Replicated, Verdict};
use crate::engine::{run_strategy, RunOutput};
use crate::metrics::RunSummary;
use crate::outdir::OutDir;
use crate::report::replicated::{DecisionRecord, WarningRecord};
use crate::report::whatif::{guard_output_dir, Guard};
use crate::report::{
    summary_json_replicated, text_table_replicated, write_run_report_into, RunMeta, StrategyResult,
};
use crate::scenario::decision::{parse_assert, Slo};
use crate::scenario::sanity::{self, Warning};
use crate::scenario::Scenario;
use anyhow::{anyhow, Context, Result};
use clap::Args;
use rayon::prelude::*;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Exit status of a run whose assertions do not all hold.
pub(crate) const EXIT_ASSERT_FAILED: u8 = 1;

/// The options `run` and `check` share: what to simulate and how to judge it.
#[derive(Debug, Args)]
pub struct SimArgs {
    /// The scenario file (TOML); `-` reads it from standard input.
    pub scenario: PathBuf,
    /// Master seed (overrides `simulation.seed`).
    #[arg(long, value_parser = clap::value_parser!(u64).range(..=i64::MAX as u64))]
    pub seed: Option<u64>,
    /// Replications per strategy (overrides `simulation.replications`):
    /// replication r runs every strategy on the same workload, seeded from
    /// the master seed; r = 0 is the master seed itself.
    #[arg(long, value_name = "N")]
    pub replications: Option<u32>,
    /// Run only this strategy (by name); repeat for several.
    #[arg(long = "strategy", value_name = "NAME")]
    pub strategies: Vec<String>,
    /// Override a scenario key, e.g. `--set workload.session_rate=80`.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Assert on the results, e.g. `--assert 'cookie-1d: sessions_lost_pct < 1'`
    /// (STRATEGY may be `all`); repeatable. Exit status 1 when one fails.
    #[arg(long = "assert", value_name = "'STRATEGY: COLUMN OP NUMBER'")]
    pub asserts: Vec<String>,
    /// Write the assertions' results as JUnit XML to FILE.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Print nothing on stderr but warnings, errors and failed assertions.
    #[arg(long, short)]
    pub quiet: bool,
}

/// `stickysim run`'s arguments.
#[derive(Debug, Args)]
#[command(after_help = super::examples::RUN)]
pub struct RunArgs {
    #[command(flatten)]
    pub sim: SimArgs,
    /// Output directory [default: results/<scenario name>].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Print the machine-readable summary (summary.json) on stdout instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Skip the PNG charts (`report.md` and the CSV/JSON are still written).
    #[arg(long)]
    pub no_charts: bool,
    /// Write even when the output directory holds results of another
    /// scenario hash: they are first moved aside to `DIR.<their hash>`.
    #[arg(long)]
    pub force: bool,
    /// Print the predicted cost (events, CPU and wall time, peak memory)
    /// and exit without simulating or writing anything.
    #[arg(long)]
    pub dry_run: bool,
    /// Threads for `--dry-run`'s wall-time estimate [default: the cores].
    #[arg(long, value_name = "N", requires = "dry_run")]
    pub jobs: Option<usize>,
}

/// A simulated, judged scenario.
pub(super) struct Executed {
    pub(super) sc: Scenario,
    /// Replication 0's outputs, one per strategy run.
    pub(super) first: Vec<RunOutput>,
    /// Per strategy run, its summaries in replication order.
    pub(super) reps: Vec<Vec<RunSummary>>,
    pub(super) meta: RunMeta,
    pub(super) verdict: Verdict,
}

/// The scenario with `args`' overrides, the indices of the strategies
/// `--strategy` selects, and the overrides as `KEY=VALUE`.
fn load_selected(args: &SimArgs) -> Result<(Scenario, Vec<usize>, Vec<String>)> {
    let mut overrides = args.set.clone();
    if let Some(seed) = args.seed {
        overrides.push(format!("simulation.seed={seed}"));
    }
    if let Some(n) = args.replications {
        overrides.push(format!("simulation.replications={n}"));
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
    Ok((sc, which, overrides))
}

/// Loads, runs every replication of every selected strategy as one
/// parallel task set, and judges the results. `before` sees the loaded
/// scenario and its hash before anything runs (and may refuse).
pub(super) fn execute(
    args: &SimArgs,
    before: &dyn Fn(&Scenario, &str) -> Result<()>,
) -> Result<Executed> {
    let (sc, which, overrides) = load_selected(args)?;
    let names: Vec<&str> = sc.strategies.iter().map(|s| s.name.as_str()).collect();
    let hash = crate::scenario::scenario_hash(&sc);
    before(&sc, &hash)?;
    let chosen: Vec<&str> = which.iter().map(|&i| names[i]).collect();
    let extra: Vec<Slo> = args
        .asserts
        .iter()
        .map(|a| parse_assert(a, &chosen))
        .collect::<Result<_, _>>()
        .map_err(|e| anyhow!(e))?;
    // Scenario SLOs on strategies left out by --strategy cannot be judged.
    let mut decision = sc.decision.clone();
    decision.slos.retain(|s| match &s.target {
        crate::scenario::decision::SloTarget::All => true,
        crate::scenario::decision::SloTarget::Strategy(n) => chosen.contains(&n.as_str()),
    });
    let n = sc.simulation.replications;
    let mut warnings: Vec<Warning> = sanity::check(&sc).warnings;
    if !args.quiet {
        eprintln!(
            "stickysim: running {} strateg{} of `{}` × {n} replication{} ({} s simulated each)…",
            which.len(),
            if which.len() == 1 { "y" } else { "ies" },
            sc.name,
            if n == 1 { "" } else { "s" },
            sc.simulation.duration_ns as f64 / 1e9
        );
    }
    let progress = Progress::new(which.len() as u64 * n as u64, "runs", args.quiet);
    progress.message("simulating");
    let scenarios: Vec<Scenario> = (0..n)
        .map(|r| {
            let mut s = sc.clone();
            s.simulation.seed = crate::sweep::replication_seed(sc.simulation.seed, r);
            s
        })
        .collect();
    let tasks: Vec<(usize, usize)> = (0..n as usize)
        .flat_map(|r| which.iter().map(move |&i| (r, i)))
        .collect();
    let outs: Vec<(usize, RunOutput)> = tasks
        .par_iter()
        .map(|&(r, i)| {
            let mut out = run_strategy(&scenarios[r], i);
            if r > 0 {
                // Only replication 0's time series are written.
                out.buckets = Vec::new();
                out.events = Vec::new();
                out.instances = Vec::new();
            }
            progress.inc();
            (r, out)
        })
        .collect();
    progress.finish();
    let mut first = Vec::with_capacity(which.len());
    let mut reps: Vec<Vec<RunSummary>> = vec![Vec::with_capacity(n as usize); which.len()];
    for (k, (r, out)) in outs.into_iter().enumerate() {
        reps[k % which.len()].push(out.summary.clone());
        if r == 0 {
            first.push(out);
        }
    }
    let data: Vec<Replicated> = reps
        .iter()
        .map(|runs| Replicated::from_summaries(&runs[0].strategy, runs))
        .collect();
    let verdict = verdict(&decision, &extra, &data)?;
    for o in &verdict.outcomes {
        let rej = crate::decision::Estimate::mean_of(&data, &o.strategy, "rejected_pct");
        warnings.extend(sanity::rejections(&o.strategy, rej));
    }
    let meta = RunMeta {
        scenario: sc.name.clone(),
        seed: sc.simulation.seed,
        scenario_hash: hash,
        stickysim_version: env!("CARGO_PKG_VERSION").to_string(),
        bucket_s: sc.output.bucket_ns as f64 / 1e9,
        workers: sc.backends.workers,
        scenario_facts: Some(super::facts::scenario_facts(&sc)),
        overrides,
        replications: n,
        decision: Some(DecisionRecord::of(&decision, &extra)),
        warnings: warnings.iter().map(WarningRecord::from).collect(),
        backend_names: sc.backends.fleet.names.clone(),
    };
    for w in &warnings {
        eprintln!("warning: {w}");
    }
    Ok(Executed {
        sc,
        first,
        reps,
        meta,
        verdict,
    })
}

/// Reports the assertions (failures table on stderr, JUnit file) and
/// returns the exit status: 1 when one failed.
pub(super) fn judge(ex: &Executed, junit: Option<&Path>) -> Result<ExitCode> {
    if let Some(path) = junit {
        let xml = crate::report::junit::junit_xml(&ex.sc.name, &ex.verdict.slos);
        crate::outdir::replace_file(path, xml.as_bytes())
            .with_context(|| format!("writing --junit {}", path.display()))?;
    }
    let failed: Vec<_> = ex.verdict.failed_slos().collect();
    if failed.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    let mut rows = vec![[
        "strategy".to_string(),
        "assertion".to_string(),
        "tested".to_string(),
        "value".to_string(),
    ]];
    for f in &failed {
        rows.push([
            f.strategy.clone(),
            f.slo.constraint.to_string(),
            f.bound_used.name().to_string(),
            crate::report::verdict::num(f.value),
        ]);
    }
    let w: Vec<usize> = (0..4)
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    eprintln!(
        "stickysim: {} of {} assertion{} failed:",
        failed.len(),
        ex.verdict.slos.len(),
        if ex.verdict.slos.len() == 1 { "" } else { "s" }
    );
    for r in rows {
        eprintln!(
            "  {:<a$}  {:<b$}  {:<c$}  {:>d$}",
            r[0],
            r[1],
            r[2],
            r[3],
            a = w[0],
            b = w[1],
            c = w[2],
            d = w[3]
        );
    }
    Ok(ExitCode::from(EXIT_ASSERT_FAILED))
}

pub(super) fn run(args: RunArgs) -> Result<ExitCode> {
    if args.dry_run {
        let (sc, which, _) = load_selected(&args.sim)?;
        let threads = args.jobs.unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        });
        let estimate = crate::cost::estimate(&sc, which.len(), threads);
        super::print_stdout(&estimate.text(&sc.name))?;
        return Ok(ExitCode::SUCCESS);
    }
    let out_dir = |sc: &Scenario| {
        args.out
            .clone()
            .unwrap_or_else(|| PathBuf::from("results").join(&sc.name))
    };
    // Lock the output directory, and refuse (or, with --force, move aside)
    // another scenario's results, before spending the run's time. The lock
    // is held until the results are written, so a concurrent run into the
    // same directory fails at once instead of mixing its files with these.
    let locked: std::cell::RefCell<Option<OutDir>> = std::cell::RefCell::new(None);
    let guard = |sc: &Scenario, hash: &str| -> Result<()> {
        let dir = out_dir(sc);
        let lock = OutDir::lock(&dir).with_context(|| format!("writing to {}", dir.display()))?;
        let lock = match guard_output_dir(&dir, hash, args.force)? {
            Guard::MovedAside(to) => {
                if !args.sim.quiet {
                    eprintln!(
                        "stickysim: --force: moved the previous results to {}",
                        to.display()
                    );
                }
                drop(lock);
                OutDir::lock(&dir).with_context(|| format!("writing to {}", dir.display()))?
            }
            Guard::Clear => lock,
        };
        *locked.borrow_mut() = Some(lock);
        Ok(())
    };
    let ex = execute(&args.sim, &guard)?;
    let out_dir = out_dir(&ex.sc);
    let mut lock = locked
        .into_inner()
        .ok_or_else(|| anyhow!("{}: the output directory was not locked", out_dir.display()))?;
    let results: Vec<StrategyResult> = ex
        .first
        .iter()
        .map(|o| StrategyResult {
            summary: &o.summary,
            buckets: &o.buckets,
            events: &o.events,
            instances: &o.instances,
        })
        .collect();
    let written = write_run_report_into(
        &mut lock,
        &out_dir,
        &ex.meta,
        &results,
        &ex.reps,
        !args.no_charts,
    )
    .with_context(|| format!("writing results to {}", out_dir.display()))?;
    if args.json {
        super::print_stdout(&summary_json_replicated(&ex.meta, &results, &ex.reps))?;
    } else {
        super::print_stdout(&text_table_replicated(&ex.meta, &ex.reps))?;
    }
    if !args.sim.quiet {
        super::print_written(&written, !args.no_charts);
        eprintln!(
            "verdict: {}",
            crate::report::verdict::one_sentence(&ex.verdict)
        );
    }
    judge(&ex, args.sim.junit.as_deref())
}
