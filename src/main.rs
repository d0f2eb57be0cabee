use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    stickysim::cli::main(stickysim::cli::Cli::parse())
}
