//! `stickysim compare DIR_A DIR_B`: what changed between two runs' results,
//! per strategy, with intervals; `compare.md` written whole or not at all;
//! exit 1 when `--fail-if-worse` finds B worse.

use crate::report::compare::{compare, Options};
use crate::report::data::RunData;
use anyhow::{anyhow, bail, Context, Result};
use clap::Args;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// `stickysim compare`'s arguments.
#[derive(Debug, Args)]
#[command(after_help = super::examples::COMPARE)]
pub struct CompareArgs {
    /// The "before" run's output directory.
    pub dir_a: PathBuf,
    /// The "after" run's output directory (`compare.md` is written here).
    pub dir_b: PathBuf,
    /// Show this summary column (repeatable) [default: every column that differs].
    #[arg(long = "column", value_name = "COLUMN")]
    pub columns: Vec<String>,
    /// Exit 1 when B is worse than A on COLUMN for any strategy
    /// (statistically worse when both runs have replications); repeatable.
    #[arg(long = "fail-if-worse", value_name = "COLUMN")]
    pub fail_if_worse: Vec<String>,
    /// Write the comparison to FILE instead of DIR_B/compare.md.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Print the comparison as JSON on stdout instead of text.
    #[arg(long)]
    pub json: bool,
    /// Print nothing on stderr but errors and the `--fail-if-worse` failures.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Reads one side, with an error that says what a results directory is.
fn read_side(flag: &str, dir: &Path) -> Result<RunData> {
    if !dir.is_dir() {
        bail!(
            "{flag} {}: no such directory (expected the output directory of `stickysim run`)",
            dir.display()
        );
    }
    if !dir.join("summary.json").exists() {
        let hint = if dir.join("sweep_summary.csv").exists() || dir.join("runs.jsonl").exists() {
            "; it holds a sweep, and compare takes the output directories of `stickysim run`"
        } else {
            ""
        };
        bail!(
            "{flag} {}: not a results directory: it has no summary.json{hint}",
            dir.display()
        );
    }
    RunData::read_dir(dir).map_err(|e| anyhow!("{flag}: {e}"))
}

/// A column name as the decision grammar knows them (with a did-you-mean).
fn column(flag: &str, name: &str) -> Result<&'static str> {
    crate::scenario::decision::column(name.trim()).map_err(|e| anyhow!("{flag} {name}: {e}"))
}

pub(super) fn run(args: CompareArgs) -> Result<ExitCode> {
    let opts = Options {
        columns: args
            .columns
            .iter()
            .map(|c| column("--column", c))
            .collect::<Result<_>>()?,
        fail_if_worse: args
            .fail_if_worse
            .iter()
            .map(|c| column("--fail-if-worse", c))
            .collect::<Result<_>>()?,
    };
    let a = read_side("DIR_A", &args.dir_a)?;
    let b = read_side("DIR_B", &args.dir_b)?;
    let cmp = compare(
        &args.dir_a.display().to_string(),
        &a,
        &args.dir_b.display().to_string(),
        &b,
        &opts,
    )?;
    let target = args
        .out
        .clone()
        .unwrap_or_else(|| args.dir_b.join("compare.md"));
    let md = cmp.markdown();
    crate::outdir::replace_file(&target, md.as_bytes())
        .with_context(|| format!("writing {}", target.display()))?;
    // The same comparison as a self-contained page beside it.
    let html_target = target.with_extension("html");
    if html_target != target {
        let html = crate::report::html::render(&crate::report::html::Page {
            title: "Comparison",
            markdown: &md,
            charts: &[],
            lead_chart: None,
            lead_after: "**Answer:**",
            tables: Vec::new(),
        });
        crate::outdir::replace_file(&html_target, html.as_bytes())
            .with_context(|| format!("writing {}", html_target.display()))?;
    }
    if args.json {
        super::print_stdout(&cmp.json())?;
    } else {
        super::print_stdout(&cmp.text())?;
    }
    if !args.quiet {
        eprintln!("wrote {}", target.display());
        if html_target != target {
            eprintln!("wrote {}", html_target.display());
        }
    }
    if cmp.failed() {
        for w in &cmp.worse {
            eprintln!(
                "stickysim: B is worse than A on {} for {}",
                w.column, w.strategy
            );
        }
        return Ok(ExitCode::from(super::run::EXIT_ASSERT_FAILED));
    }
    Ok(ExitCode::SUCCESS)
}
