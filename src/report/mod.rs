//! Writing results: `summary.csv`, `summary.json`, `backends.csv`,
//! `events.csv`, `instances.csv` (private module `files`), the stdout table
//! (`table`), and the report drawn from them (`report.md`, charts).
//! Everything is rendered in memory first, then written to temporary files
//! and renamed into place (`write`), so a run's outputs appear whole or not
//! at all.

pub mod charts;
pub mod compare;
mod csv_out;
pub mod data;
mod files;
pub mod html;
pub mod junit;
pub mod markdown;
pub mod replicated;
mod table;
pub mod verdict;
pub mod whatif;
mod write;

use crate::metrics::{BucketRow, ControlEvent, InstanceRow, RunSummary};
pub(crate) use csv_out::CsvOut;
pub use files::{
    backends_csv, data_files, data_files_replicated, events_csv, instances_csv,
    latency_percentiles_csv, summary_csv, summary_json, summary_json_replicated, BACKEND_COLUMNS,
    EVENT_COLUMNS, IDENTITY_COLUMNS, INSTANCE_COLUMNS, LATENCY_PERCENTILE_COLUMNS, SUMMARY_COLUMNS,
};
use files::{identity_cells, run_csv, single, summary_column_names};
use serde::{Deserialize, Serialize};
use std::io;
pub use table::{text_table, text_table_replicated};
pub use write::{
    is_run_file, report_files, write_all_or_nothing, write_report, write_run, write_run_report,
    write_run_report_into, write_run_report_replicated, Written,
};

/// What identifies a run's outputs: recorded in every file, and read back
/// from `summary.json` (its other keys ignored) by [`data::RunData`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunMeta {
    /// The scenario's name.
    pub scenario: String,
    /// The master seed.
    pub seed: u64,
    /// Hash of the validated scenario (after `--set` overrides), hex.
    pub scenario_hash: String,
    /// The version of stickysim that wrote the run.
    pub stickysim_version: String,
    /// Width of the time buckets in `backends.csv`, seconds.
    pub bucket_s: f64,
    /// Backends' workers (to turn busy time into utilisation).
    pub workers: u32,
    /// The scenario in a few facts, for `report.md` (`summary.json` key
    /// `scenario_facts`; left out when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scenario_facts: Option<data::ScenarioFacts>,
    /// The command line's changes to the scenario file, in order:
    /// every `--set KEY=VALUE`, then `simulation.seed=N` for `--seed N`
    /// (`summary.json` key `overrides`; left out when there are none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub overrides: Vec<String>,
    /// Replications per strategy (`summary.json` key `replications`; 1
    /// for files written before it was recorded).
    #[serde(default = "one")]
    pub replications: u32,
    /// The decision the results are judged by (`summary.json` key
    /// `decision`; the default decision when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<replicated::DecisionRecord>,
    /// The scenario's sanity warnings and the run's (`summary.json` key
    /// `warnings`; left out when there are none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<replicated::WarningRecord>,
    /// The starting backends' names (`[backends] names`; `summary.json` key
    /// `backend_names`, left out when the scenario names none): the data
    /// files add a `backend_name` column when given.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub backend_names: Vec<String>,
}

impl RunMeta {
    /// The name of backend slot `b`: its given name, else `b<b>`.
    pub fn backend_name(&self, b: u32) -> String {
        self.backend_names
            .get(b as usize)
            .cloned()
            .unwrap_or_else(|| format!("b{b}"))
    }
}

fn one() -> u32 {
    1
}

/// One strategy's results as the report needs them.
pub struct StrategyResult<'a> {
    /// The strategy's figures.
    pub summary: &'a RunSummary,
    /// Per backend and time bucket.
    pub buckets: &'a [BucketRow],
    /// Control events (faults, health marks, deploys, scaling), in time order.
    pub events: &'a [ControlEvent],
    /// Instance counts per output bucket.
    pub instances: &'a [InstanceRow],
}

/// Why a report could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A run directory's file is missing or malformed.
    #[error("{0}")]
    Input(Box<data::InputError>),
    /// A chart could not be drawn.
    #[error("{0}")]
    Chart(#[from] charts::ChartError),
    #[error("writing to {dir}")]
    /// An output file could not be written.
    Io {
        /// The output directory.
        dir: String,
        /// The system's error.
        source: io::Error,
    },
}

impl From<data::InputError> for ReportError {
    fn from(e: data::InputError) -> Self {
        ReportError::Input(Box::new(e))
    }
}

/// A file to write: name and contents.
pub type NamedFile = (String, Vec<u8>);
