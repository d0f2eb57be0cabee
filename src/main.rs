//! The `stickysim` command: parses the command line and runs it (see `stickysim::cli`).

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    stickysim::cli::main(stickysim::cli::Cli::parse())
}
