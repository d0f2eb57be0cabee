//! `stickysim traffic SCENARIO --out FILE`: the requests one strategy's
//! run of a scenario sends, written as an access log — to replay it
//! (`workload.replay`, the round trip) or to hand to other tools.

use crate::engine::run_strategy_logged;
use crate::replay::write::{write_log, LogFormat};
use anyhow::{anyhow, Context, Result};
use clap::{Args, ValueEnum};
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

/// The formats `traffic` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum TrafficFormat {
    /// JSON lines with nginx's field names plus `session`, exact service
    /// times (replay with `format = "jsonl", session = { field = "session" }`).
    Jsonl,
    /// Apache/nginx combined: second resolution, no service times.
    Combined,
}

/// `stickysim traffic` arguments.
#[derive(Debug, Args)]
#[command(after_help = super::examples::TRAFFIC)]
pub struct TrafficArgs {
    /// The scenario file (TOML); `-` reads it from standard input.
    pub(crate) scenario: PathBuf,
    /// The log to write (`.gz`: gzip-compressed).
    #[arg(long, value_name = "FILE")]
    pub(crate) out: PathBuf,
    /// The strategy whose run is written (request times depend on routing
    /// only through response times) [default: the first].
    #[arg(long, value_name = "NAME")]
    pub(crate) strategy: Option<String>,
    /// The log format.
    #[arg(long, value_enum, default_value = "jsonl")]
    pub(crate) format: TrafficFormat,
    /// Master seed (overrides `simulation.seed`).
    #[arg(long, value_parser = clap::value_parser!(u64).range(..=i64::MAX as u64))]
    pub(crate) seed: Option<u64>,
    /// Override a scenario key, e.g. `--set workload.session_rate=80`.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub(crate) set: Vec<String>,
}

pub(crate) fn run(args: TrafficArgs) -> Result<ExitCode> {
    let mut overrides = args.set.clone();
    if let Some(seed) = args.seed {
        overrides.push(format!("simulation.seed={seed}"));
    }
    let sc = crate::scenario::load(&args.scenario, &overrides)?;
    let strategy = match &args.strategy {
        None => 0,
        Some(name) => sc
            .strategies
            .iter()
            .position(|s| &s.name == name)
            .ok_or_else(|| {
                let names: Vec<&str> = sc.strategies.iter().map(|s| s.name.as_str()).collect();
                anyhow!(
                    "--strategy: expected one of {}, found `{name}`",
                    names.join(", ")
                )
            })?,
    };
    let out = run_strategy_logged(&sc, strategy);
    if let Some(stats) = &out.replay {
        super::replayed::check(sc.workload.replay.as_ref().expect("replayed"), stats)?;
    }
    let format = match args.format {
        TrafficFormat::Jsonl => LogFormat::Jsonl,
        TrafficFormat::Combined => LogFormat::Combined,
    };
    let mut text = Vec::new();
    write_log(&mut text, &out.access, format)?;
    if args.out.extension().is_some_and(|e| e == "gz") {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&text)?;
        text = gz.finish()?;
    }
    crate::outdir::replace_file(&args.out, &text)
        .with_context(|| format!("writing {}", args.out.display()))?;
    eprintln!(
        "wrote {} ({} requests of strategy `{}`)",
        args.out.display(),
        out.access.len(),
        sc.strategies[strategy].name
    );
    Ok(ExitCode::SUCCESS)
}
