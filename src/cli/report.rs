//! `stickysim report DIR`: redraw a run's charts and `report.md` from its
//! CSV/JSON files, without simulating again.

use crate::report::write_report;
use anyhow::{Context, Result};
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Args)]
#[command(after_help = super::examples::REPORT)]
pub struct ReportArgs {
    /// A run's output directory (with summary.csv, summary.json, backends.csv).
    pub dir: PathBuf,
    /// Skip the PNG charts (only `report.md` is written).
    #[arg(long)]
    pub no_charts: bool,
    /// Print nothing on stderr.
    #[arg(long, short)]
    pub quiet: bool,
}

pub(super) fn run(args: ReportArgs) -> Result<ExitCode> {
    let written = write_report(&args.dir, !args.no_charts)
        .with_context(|| format!("making the report of {}", args.dir.display()))?;
    if !args.quiet {
        super::print_written(&written, !args.no_charts);
    }
    Ok(ExitCode::SUCCESS)
}
