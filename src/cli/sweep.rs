//! `stickysim sweep SCENARIO`: a grid of parameter values × replications ×
//! strategies, in parallel, resumable and shardable.

use super::progress::Progress;
use crate::sweep::{self, ExecOptions, Shard, SweepRequest};
use anyhow::{Context, Result};
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

#[derive(Debug, Args)]
#[command(after_help = super::examples::SWEEP)]
pub struct SweepArgs {
    /// The scenario file (TOML; `-` for standard input); its `[sweep]`
    /// table, if any, gives the grid.
    pub scenario: PathBuf,
    /// A parameter to sweep: any `--set` key and its values, as a list
    /// (`strategies.sticky.ttl=60,300,900`) or a range FROM..TO:STEP
    /// (`backends.count=4..16:4`). Repeat for a grid; replaces the file's
    /// values for the same key.
    #[arg(long = "param", value_name = "KEY=VALUES")]
    pub params: Vec<String>,
    /// Runs per grid point and strategy, each with its own seed [default:
    /// `[sweep] replications`, else 5].
    #[arg(long, value_name = "N")]
    pub replications: Option<u32>,
    /// Runs at once [default: one per core]. Results do not depend on it.
    #[arg(long, short, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub jobs: Option<u32>,
    /// Output directory [default: results/<scenario name>-sweep, and
    /// results/<scenario name>-sweep/shard-K-of-N for a shard].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Continue an interrupted sweep from DIR/runs.jsonl: finished runs are
    /// not run again.
    #[arg(long)]
    pub resume: bool,
    /// Run only shard K of N (1-based), for several machines; combine the
    /// shards with `stickysim merge`. Default: from SLURM_ARRAY_TASK_ID /
    /// SLURM_ARRAY_TASK_COUNT, or JOB_COMPLETION_INDEX / STICKYSIM_SHARD_COUNT,
    /// when set; else the whole sweep.
    #[arg(long, value_name = "K/N", value_parser = parse_shard)]
    pub shard: Option<Shard>,
    /// Master seed (overrides `simulation.seed`).
    #[arg(long, value_parser = clap::value_parser!(u64).range(..=i64::MAX as u64))]
    pub seed: Option<u64>,
    /// Run only this strategy (by name); repeat for several.
    #[arg(long = "strategy", value_name = "NAME")]
    pub strategies: Vec<String>,
    /// Override a scenario key at every grid point, e.g. `--set simulation.duration=3600`.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Print nothing on stderr.
    #[arg(long, short)]
    pub quiet: bool,
    /// Print the plan (grid, runs, runs saved by shared strategies) and an
    /// estimate of its wall time, and run nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Run every cell, even a strategy no swept parameter affects (same
    /// numbers, more runs).
    #[arg(long)]
    pub no_share: bool,
    /// Print the sweep's summary (sweep_summary.json) on stdout instead of
    /// the recommendation; a shard or a stopped sweep, which write none,
    /// print `{"complete": false, …}` with their counts.
    #[arg(long)]
    pub json: bool,
    /// Testing: start at most N runs, then stop as if killed.
    #[arg(long, value_name = "N", hide = true)]
    pub stop_after: Option<usize>,
}

/// The sweep summary `--json` prints (as written by `sweep::output`).
const SUMMARY_JSON: &str = "sweep_summary.json";

fn parse_shard(s: &str) -> Result<Shard, String> {
    Shard::parse(s)
}

pub(super) fn run(args: SweepArgs) -> Result<ExitCode> {
    let plan = sweep::plan(&SweepRequest {
        scenario: args.scenario.clone(),
        set: args.set.clone(),
        params: args.params.clone(),
        replications: args.replications,
        seed: args.seed,
        strategies: args.strategies.clone(),
        no_share: args.no_share,
    })?;
    let (shard, source) = match args.shard {
        Some(s) => (s, None),
        None => match sweep::shard_from_env(|k| std::env::var(k).ok())? {
            Some(found) => (found.shard, Some(found.source)),
            None => (Shard::ALL, None),
        },
    };
    let base = PathBuf::from("results").join(format!("{}-sweep", plan.meta.scenario));
    let out = args.out.clone().unwrap_or_else(|| {
        if shard.count == 1 {
            base
        } else {
            base.join(format!("shard-{}-of-{}", shard.index, shard.count))
        }
    });
    if !args.dry_run {
        // A replayed log is checked before the grid runs.
        for sc in &plan.points {
            super::replayed::preflight(sc)?;
        }
    }
    let meta = &plan.meta;
    if args.dry_run {
        super::print_stdout(&dry_run(&plan, shard, args.jobs))?;
        return Ok(ExitCode::SUCCESS);
    }
    if !args.quiet {
        let shard_note = match (shard.count, source) {
            (1, _) => String::new(),
            (_, Some(src)) => format!(", shard {shard} (from the {src})"),
            (_, None) => format!(", shard {shard}"),
        };
        eprintln!(
            "stickysim: sweeping `{}`: {} grid point{} × {} strateg{} × {} replication{} = {} cells{shard_note}…",
            meta.scenario,
            meta.points(),
            if meta.points() == 1 { "" } else { "s" },
            meta.strategies.len(),
            if meta.strategies.len() == 1 { "y" } else { "ies" },
            meta.replications,
            if meta.replications == 1 { "" } else { "s" },
            meta.points() * meta.strategies.len() * meta.replications as usize,
        );
        if !meta.shared.is_empty() {
            eprintln!(
                "  {} run once per replication (no swept parameter affects {}): {} runs",
                meta.shared.join(", "),
                if meta.shared.len() == 1 { "it" } else { "them" },
                meta.runs_total
            );
        }
    }
    let opts = ExecOptions {
        out: out.clone(),
        jobs: args.jobs.map(|j| j as usize),
        resume: args.resume,
        shard,
        stop_after: args.stop_after,
    };
    let progress: std::sync::Mutex<Option<(Progress, Instant, usize)>> =
        std::sync::Mutex::new(None);
    let tick = |done: usize, total: usize| {
        let mut p = progress.lock().expect("no panics while held");
        let (bar, start, first) = p.get_or_insert_with(|| {
            let bar = Progress::new(total as u64, "runs", args.quiet);
            for _ in 0..done {
                bar.inc();
            }
            (bar, Instant::now(), done)
        });
        if done > *first {
            bar.inc();
            let rate = (done - *first) as f64 / start.elapsed().as_secs_f64().max(1e-9);
            let left = (total - done) as f64 / rate;
            bar.message(if done == total {
                "writing outputs…".to_string()
            } else {
                format!("ETA {}", eta(left))
            });
        }
    };
    let outcome = sweep::execute(&plan, &opts, &tick)
        .with_context(|| format!("sweep into {}", out.display()))?;
    if let Some((bar, _, _)) = progress.lock().expect("no panics while held").take() {
        bar.finish();
    }
    if outcome.torn && !args.quiet {
        eprintln!(
            "stickysim: the last line of {} was cut off by an interruption; it was dropped \
             and its run done again",
            out.join(sweep::log::LOG_FILE).display()
        );
    }
    if args.json {
        let summary = out.join(SUMMARY_JSON);
        let text = if !outcome.stopped && outcome.written.contains(&summary) {
            std::fs::read_to_string(&summary)
                .with_context(|| format!("reading {}", summary.display()))?
        } else {
            format!(
                "{:#}\n",
                serde_json::json!({
                    "complete": false,
                    "out": out.display().to_string(),
                    "shard": shard.to_string(),
                    "runs": outcome.runs,
                    "ran": outcome.ran,
                    "reused": outcome.reused,
                })
            )
        };
        super::print_stdout(&text)?;
    }
    if outcome.stopped {
        if !args.quiet {
            eprintln!(
                "stopped after {} new runs ({} of {} done); continue with --resume",
                outcome.ran,
                outcome.ran + outcome.reused,
                outcome.runs
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(text) = outcome.recommendation.as_ref().filter(|_| !args.json) {
        super::print_stdout(text)?;
    }
    if !args.quiet {
        if outcome.reused > 0 {
            eprintln!(
                "{} runs were already in {}; ran {}",
                outcome.reused,
                out.join(sweep::log::LOG_FILE).display(),
                outcome.ran
            );
        }
        if shard.count > 1 {
            eprintln!(
                "shard {shard} done ({} runs); combine all {} shards with `stickysim merge DIR... --out DIR`",
                outcome.runs, shard.count
            );
        }
        for p in &outcome.written {
            eprintln!("wrote {}", p.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Requests one thread simulates per second of CPU time, measured with the
/// README's sweep (6.3 × 10⁷ expected requests in 35 CPU seconds, release
/// build, x86-64): the `--dry-run` estimate divides a plan's expected
/// requests by this times the threads.
const REQUESTS_PER_CORE_SECOND: f64 = 1.8e6;

/// The plan of `sweep --dry-run`: grid, runs, sharing and an estimate.
fn dry_run(plan: &sweep::Plan, shard: Shard, jobs: Option<u32>) -> String {
    let meta = &plan.meta;
    let cost = sweep::cost(plan);
    let threads = jobs.map(|j| j as usize).unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    let mut out = format!(
        "sweep of `{}`: {} = {} cells\n",
        meta.scenario,
        meta.shape_text(),
        cost.cells
    );
    for p in &meta.params {
        out += &format!("  {} = {}\n", p.key, p.values.join(", "));
    }
    if meta.shared.is_empty() {
        out += "shared: none (every strategy depends on a swept parameter)\n";
    } else {
        out += &format!(
            "shared: {} (no swept parameter affects {}; run once per replication)\n",
            meta.shared.join(", "),
            if meta.shared.len() == 1 { "it" } else { "them" }
        );
    }
    out += &format!("runs: {} ({} saved by sharing)\n", cost.runs, cost.saved);
    if shard.count > 1 {
        out += &format!("shard {shard}: {} runs\n", meta.runs_of(shard).len());
    }
    let secs = cost.requests / (REQUESTS_PER_CORE_SECOND * threads as f64);
    out += &format!(
        "estimate: about {} on {threads} thread{} ({:.2e} requests expected from each grid \
         point's session rate × duration × requests per session, at {:.1e} requests per \
         second per thread)\n",
        eta(secs),
        if threads == 1 { "" } else { "s" },
        cost.requests,
        REQUESTS_PER_CORE_SECOND
    );
    out
}

/// `1h02m`, `3m05s`, `12s`.
fn eta(secs: f64) -> String {
    let s = secs.round().max(0.0) as u64;
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
    }
}
