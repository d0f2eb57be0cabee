//! `stickysim import nginx.conf|haproxy.cfg`: a real load balancer's
//! configuration as `[[strategies]]`.

use crate::lbconf::{self, Format};
use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;

/// A configuration syntax.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum Syntax {
    /// nginx (`upstream` blocks; `include` followed).
    Nginx,
    /// HAProxy (`backend` and `listen` sections, with their `defaults`).
    Haproxy,
}

impl From<Syntax> for Format {
    fn from(s: Syntax) -> Format {
        match s {
            Syntax::Nginx => Format::Nginx,
            Syntax::Haproxy => Format::Haproxy,
        }
    }
}

/// `stickysim import` arguments.
#[derive(Debug, Args)]
#[command(after_help = super::examples::IMPORT)]
pub struct ImportArgs {
    /// The nginx or HAProxy configuration file.
    pub(crate) config: PathBuf,
    /// Write the strategies here instead of to stdout.
    #[arg(long, value_name = "FILE")]
    pub(crate) out: Option<PathBuf>,
    /// The file's syntax (default: guessed from its contents).
    #[arg(long, value_enum)]
    pub(crate) format: Option<Syntax>,
}

pub(crate) fn run(args: ImportArgs) -> Result<ExitCode> {
    let imp = lbconf::import(&args.config, args.format.map(Format::from))?;
    for w in &imp.warnings {
        eprintln!(
            "warning: {}: `{}` not modelled: {}",
            w.src, w.directive, w.why
        );
    }
    let toml = imp.to_toml(&args.config);
    match &args.out {
        Some(p) => {
            std::fs::write(p, &toml).with_context(|| format!("writing {}", p.display()))?;
            eprintln!(
                "wrote {} ({} strategies, {} warnings)",
                p.display(),
                imp.strategies.len(),
                imp.warnings.len()
            );
        }
        None => super::print_stdout(&toml)?,
    }
    Ok(ExitCode::SUCCESS)
}
