//! `stickysim validate SCENARIO`: check a file without running it.

use anyhow::Result;
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Args)]
#[command(after_help = super::examples::VALIDATE)]
pub struct ValidateArgs {
    /// The scenario file (TOML).
    pub scenario: PathBuf,
    /// Override a scenario key, e.g. `--set workload.session_rate=80`.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
}

pub(super) fn run(args: ValidateArgs) -> Result<ExitCode> {
    let sc = crate::scenario::load(&args.scenario, &args.set)?;
    super::print_stdout(&format!(
        "ok: {}: scenario `{}`, {} s ({} s warm-up), {} backends × {} workers, {} client segments, {} strategies: {}\n",
        args.scenario.display(),
        sc.name,
        sc.simulation.duration_ns as f64 / 1e9,
        sc.simulation.warmup_ns as f64 / 1e9,
        sc.backends.count(),
        sc.backends.workers,
        sc.clients.len(),
        sc.strategies.len(),
        sc.strategies.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(", "),
    ))?;
    let sanity = crate::scenario::sanity::check(&sc);
    let peak_fleet = if sc.autoscaling.is_some() {
        "autoscaling's largest fleet"
    } else {
        "the initial fleet"
    };
    super::print_stdout(&format!(
        "offered load per worker: ρ = {:.2} on the initial fleet (at the rate profile's peak, on {peak_fleet}: {:.2})\n",
        sanity.load.rho, sanity.load.rho_peak
    ))?;
    for w in &sanity.warnings {
        eprintln!("warning: {w}");
    }
    Ok(ExitCode::SUCCESS)
}
