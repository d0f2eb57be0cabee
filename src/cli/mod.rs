//! Command-line parsing and wiring; one file per subcommand.

mod check;
mod compare;
mod completions;
mod examples;
mod export;
mod facts;
mod fit;
mod import;
mod init;
mod merge;
pub mod progress;
mod replayed;
mod report;
mod route;
mod run;
mod schema;
mod sweep;
mod traffic;
mod validate;

use clap::{Parser, Subcommand};
use std::io::{self, Write};
use std::process::ExitCode;

/// Deterministic simulation of load-balancer stickiness trade-offs:
/// hotspots, session loss and latency, strategy by strategy, on one workload.
/// The command line.
#[derive(Debug, Parser)]
#[command(name = "stickysim", version = env!("STICKYSIM_VERSION"), about, long_about = None)]
#[command(after_help = examples::TOP)]
pub struct Cli {
    /// The subcommand to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands, one file each under `src/cli/`.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run every strategy of a scenario on one workload and write the results.
    Run(run::RunArgs),
    /// Run a scenario and print its verdict and assertions, writing no files
    /// (exit 1 when an assertion fails).
    Check(check::CheckArgs),
    /// Check a scenario file (and overrides) without running it.
    Validate(validate::ValidateArgs),
    /// Sweep parameters over a grid with replications; resumable, shardable.
    Sweep(sweep::SweepArgs),
    /// Combine the shards of one sweep into the unsharded sweep's outputs.
    Merge(merge::MergeArgs),
    /// Redraw the charts and report.md of an earlier run from its files.
    Report(report::ReportArgs),
    /// Show what changed between two runs' results (per strategy, with
    /// intervals) and write compare.md; exit 1 with --fail-if-worse when B is worse.
    Compare(compare::CompareArgs),
    /// Print the backend each key lands on under a product's hash.
    Route(route::RouteArgs),
    /// Read an nginx or HAProxy configuration into `[[strategies]]`.
    Import(import::ImportArgs),
    /// Write a scenario's strategy as an nginx or HAProxy snippet.
    Export(export::ExportArgs),
    /// Write the requests a run sends as an access log (to replay it with
    /// `workload.replay`).
    Traffic(traffic::TrafficArgs),
    /// Fit a scenario to an access log: sessions, think times, address
    /// concentration (the NAT estimate), returning users.
    Fit(fit::FitArgs),
    /// Print the completion script for a shell.
    Completions(completions::CompletionsArgs),
    /// Print the man page (roff).
    Man(completions::ManArgs),
    /// Write a commented starter scenario: a bundled one, or one worked out
    /// from a few answers (flags, or questions on a terminal).
    Init(init::InitArgs),
    /// Print the JSON Schema of the scenario format (as in
    /// docs/scenario.schema.json), for editors to complete and check keys.
    Schema(schema::SchemaArgs),
}

/// Exit status for usage, configuration and I/O errors.
pub const EXIT_ERROR: u8 = 2;

/// Runs the parsed command; errors are printed here, once.
pub fn main(cli: Cli) -> ExitCode {
    let result = match cli.command {
        Command::Run(args) => run::run(args),
        Command::Check(args) => check::run(args),
        Command::Validate(args) => validate::run(args),
        Command::Sweep(args) => sweep::run(args),
        Command::Merge(args) => merge::run(args),
        Command::Report(args) => report::run(args),
        Command::Compare(args) => compare::run(args),
        Command::Route(args) => route::run(args),
        Command::Import(args) => import::run(args),
        Command::Export(args) => export::run(args),
        Command::Traffic(args) => traffic::run(args),
        Command::Fit(args) => fit::run(args),
        Command::Completions(args) => completions::completions(args),
        Command::Man(args) => completions::man(args),
        Command::Init(args) => init::run(args),
        Command::Schema(args) => schema::run(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            let _ = writeln!(io::stderr(), "error: {e:#}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// Writes to stdout; a closed pipe (`stickysim run … | head`) is not an error.
pub(crate) fn print_stdout(s: &str) -> io::Result<()> {
    let mut out = io::stdout().lock();
    match out.write_all(s.as_bytes()).and_then(|_| out.flush()) {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// Lists the files a run's report wrote (and the time the charts took) on
/// stderr, as `run` and `report` both do.
pub(crate) fn print_written(written: &crate::report::Written, charts: bool) {
    for p in &written.paths {
        eprintln!("wrote {}", p.display());
    }
    if charts {
        eprintln!("charts drawn in {:.2} s", written.chart_time.as_secs_f64());
    }
}
