//! Scenario files: the TOML schema, defaults, validation and `--set` overrides.

pub mod dist;
mod types;
pub use types::*;
