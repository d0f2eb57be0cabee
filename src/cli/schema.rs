//! `stickysim schema`: the JSON Schema of the scenario format, generated
//! from the types that parse it (the same text as
//! `docs/scenario.schema.json`).

use anyhow::Result;
use clap::Args;
use std::process::ExitCode;

/// `stickysim schema`'s arguments (none).
#[derive(Debug, Args)]
#[command(after_help = super::examples::SCHEMA)]
pub struct SchemaArgs {}

pub(super) fn run(_: SchemaArgs) -> Result<ExitCode> {
    super::print_stdout(&crate::scenario::schema::json_schema())?;
    Ok(ExitCode::SUCCESS)
}
