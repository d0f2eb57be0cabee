//! `stickysim export SCENARIO --strategy NAME --to nginx|haproxy`: a
//! scenario's strategy as the product's configuration snippet.

use super::import::Syntax;
use crate::lbconf::{export::export, Format};
use anyhow::{bail, Result};
use clap::Args;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

/// `stickysim export` arguments.
#[derive(Debug, Args)]
#[command(after_help = super::examples::EXPORT)]
pub struct ExportArgs {
    /// The scenario file (TOML); `-` reads it from standard input.
    pub(crate) scenario: PathBuf,
    /// The strategy to export (its `name`).
    #[arg(long, value_name = "NAME")]
    pub(crate) strategy: String,
    /// The product: nginx or haproxy.
    #[arg(long, value_enum)]
    pub(crate) to: Syntax,
    /// Backend addresses `ip:port`, one per scenario backend (default: the
    /// scenario's `backends.addresses`, else stickysim's own, 10.0.0.1:8080,
    /// 10.0.0.2:8080, …).
    #[arg(long, value_name = "ADDR[,ADDR…]", value_delimiter = ',')]
    pub(crate) backends: Vec<String>,
    /// Override a scenario key, e.g. `--set workload.session_rate=80`.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub(crate) set: Vec<String>,
}

pub(crate) fn run(args: ExportArgs) -> Result<ExitCode> {
    let sc = crate::scenario::load(&args.scenario, &args.set)?;
    let Some(st) = sc.strategies.iter().find(|s| s.name == args.strategy) else {
        let names: Vec<&str> = sc.strategies.iter().map(|s| s.name.as_str()).collect();
        bail!(
            "--strategy: expected one of {}, found `{}`",
            names.join(", "),
            args.strategy
        );
    };
    let n = sc.backends.count();
    let fleet = &sc.backends.fleet;
    let addrs: Vec<SocketAddr> = if args.backends.is_empty() {
        (0..n).map(|i| fleet.initial_addr(i)).collect()
    } else {
        if args.backends.len() != n {
            bail!(
                "--backends: expected {n} addresses (the scenario's backends), found {}",
                args.backends.len()
            );
        }
        args.backends
            .iter()
            .map(|s| {
                s.trim().parse::<SocketAddr>().map_err(|_| {
                    anyhow::anyhow!("--backends: expected an address `ip:port`, found `{s}`")
                })
            })
            .collect::<Result<_>>()?
    };
    let servers: Vec<(SocketAddr, u32)> = addrs
        .into_iter()
        .enumerate()
        .map(|(i, a)| (a, fleet.weight(i)))
        .collect();
    let to = Format::from(args.to);
    let product = match to {
        Format::Nginx => "nginx",
        Format::Haproxy => "HAProxy",
    };
    let snippet = match export(&st.spec, &st.name, &servers, to) {
        Ok(s) => s,
        Err(why) => bail!(
            "strategy `{}` (kind `{}`) can't be expressed in {product}: {why}",
            st.name,
            st.spec.kind()
        ),
    };
    let out = format!(
        "# Exported by stickysim from scenario `{}` ({}), seed {}: strategy `{}` (kind `{}`).\n\
         # Its verdict is in the scenario's report (`stickysim run {}`).\n{snippet}",
        sc.name,
        args.scenario.display(),
        sc.simulation.seed,
        st.name,
        st.spec.kind(),
        args.scenario.display(),
    );
    super::print_stdout(&out)?;
    Ok(ExitCode::SUCCESS)
}
