//! `stickysim merge DIR... --out DIR`: shard outputs of one sweep → the
//! unsharded sweep's outputs.

use crate::sweep::merge::merge;
use anyhow::Result;
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Args)]
#[command(after_help = super::examples::MERGE)]
pub struct MergeArgs {
    /// The shards' output directories (each holding runs.jsonl), all N of them.
    #[arg(required = true, value_name = "DIR")]
    pub dirs: Vec<PathBuf>,
    /// Where to write the merged sweep.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Print nothing on stderr.
    #[arg(long, short)]
    pub quiet: bool,
}

pub(super) fn run(args: MergeArgs) -> Result<ExitCode> {
    let merged = merge(&args.dirs, &args.out)?;
    if let Some(text) = &merged.recommendation {
        super::print_stdout(text)?;
    }
    if !args.quiet {
        eprintln!(
            "merged {} shards of `{}` ({} runs)",
            args.dirs.len(),
            merged.meta.scenario,
            merged.runs
        );
        for p in &merged.written {
            eprintln!("wrote {}", p.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}
