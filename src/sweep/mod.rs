//! Parameter sweeps: a scenario × a grid of parameter values × replications
//! × strategies, run in parallel, logged as they finish, resumable,
//! shardable across machines and mergeable.
//!
//! # Runs and their keys
//!
//! A sweep is a list of *runs*, one per (grid point, strategy,
//! replication), in a canonical order: grid points in the order of the
//! grid (the first parameter varies slowest), then strategies in scenario
//! order, then replications. Each run has a key naming it by content
//! (`strategies.cookie.ttl=60,backends.count=4/r3/cookie`). Results are
//! always written in canonical order, so the order in which runs finish —
//! which depends on threads, shards and interruptions — never shows.
//!
//! # Common random numbers
//!
//! Replication `r` runs with seed [`replication_seed`]`(master, r)` at every
//! grid point and for every strategy: strategies at a grid point face the
//! identical workload, and neighbouring grid points differ only by the
//! parameter, not by the luck of the draw. Replication 0 uses the master
//! seed itself, so it reproduces `stickysim run` at that point.
//!
//! # Shards
//!
//! `--shard K/N` runs the runs whose rank in the order of `hash(key)` is
//! `K − 1` modulo `N`: shards are balanced to one run, chosen by key alone
//! (not by threads or machines), and together cover every run once.

pub mod axis;
pub mod charts;
mod execute;
mod keys;
pub mod log;
pub mod merge;
pub mod output;
mod plan;
pub mod report;
mod shard;

pub use execute::*;
pub use keys::*;
pub use plan::*;
pub use shard::*;

use crate::engine::run_strategy;
use crate::metrics::RunSummary;
use crate::scenario::{self, sweep as spec, Scenario, ScenarioError};
use crate::sim::name_key;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// Replications when neither `--replications` nor `[sweep] replications` says.
pub const DEFAULT_REPLICATIONS: u32 = 5;
/// The most runs one sweep may have (grid points × strategies ×
/// replications): its log holds a line per run.
pub const MAX_RUNS: usize = 1_000_000;
/// The most grid points one sweep may have: every point's scenario is
/// validated and kept in memory while planning.
pub const MAX_POINTS: usize = 100_000;
/// The `format` of a results log this version writes and reads.
pub const LOG_FORMAT: &str = "stickysim-sweep-1";

/// Anything that stops a sweep or a merge.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    /// The scenario file itself is invalid.
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// A bad flag or `[sweep]` entry: names the flag and says what is wrong.
    #[error("{flag}: {message}")]
    Flag {
        /// The flag or key, as written.
        flag: String,
        /// What is wrong with it.
        message: String,
    },
    /// A grid point the scenario rejects.
    #[error("grid point {point}: {message}")]
    Point {
        /// The grid point, as its parameter values.
        point: String,
        /// The scenario's complaint.
        message: String,
    },
    /// A file or directory that could not be read or written.
    #[error("{path}: {message}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The system's error.
        message: String,
    },
    /// A results log that cannot be used (wrong sweep, corrupt, …).
    #[error("{path}: {message}")]
    Log {
        /// The results log.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// Shards that do not make up one sweep.
    #[error("{0}")]
    Merge(String),
}

impl SweepError {
    pub(crate) fn io(path: &Path, e: impl std::fmt::Display) -> Self {
        SweepError::Io {
            path: path.to_path_buf(),
            message: e.to_string(),
        }
    }
    fn flag(flag: impl Into<String>, message: impl Into<String>) -> Self {
        SweepError::Flag {
            flag: flag.into(),
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(values: &[usize], strategies: usize, reps: u32) -> SweepMeta {
        let params: Vec<Param> = values
            .iter()
            .enumerate()
            .map(|(i, &n)| Param {
                key: format!("k{i}"),
                values: (0..n).map(|v| v.to_string()).collect(),
            })
            .collect();
        let points: usize = values.iter().product();
        let mut m = SweepMeta {
            format: LOG_FORMAT.into(),
            scenario: "s".into(),
            scenario_hash: "0".into(),
            seed: 1,
            replications: reps,
            params,
            strategies: (0..strategies).map(|i| format!("st{i}")).collect(),
            stickysim_version: "x".into(),
            fingerprint: String::new(),
            runs_total: points * strategies * reps as usize,
            shard: Shard::ALL,
            shared: Vec::new(),
            decision: None,
            rho: Vec::new(),
        };
        m.fingerprint = m.compute_fingerprint();
        m
    }

    #[test]
    fn the_grid_is_the_product_with_the_first_parameter_slowest() {
        let m = meta(&[3, 2], 1, 1);
        assert_eq!(m.points(), 6);
        let labels: Vec<String> = (0..6).map(|p| m.point_label(p)).collect();
        assert_eq!(
            labels,
            [
                "k0=0,k1=0",
                "k0=0,k1=1",
                "k0=1,k1=0",
                "k0=1,k1=1",
                "k0=2,k1=0",
                "k0=2,k1=1"
            ]
        );
        let none = meta(&[], 2, 3);
        assert_eq!((none.points(), none.runs().len()), (1, 6));
        assert_eq!(none.key(none.runs()[4]), "-/r1/st1");
    }

    #[test]
    fn shards_partition_the_runs_and_are_balanced() {
        let m = meta(&[5, 3], 3, 4); // 180 runs
        let all: Vec<String> = m.runs().into_iter().map(|id| m.key(id)).collect();
        for n in [1u32, 2, 7, 180, 200] {
            let mut seen: Vec<String> = Vec::new();
            for k in 1..=n {
                let mine = m.runs_of(Shard { index: k, count: n });
                let (lo, hi) = (180 / n as usize, 180_usize.div_ceil(n as usize));
                assert!((lo..=hi).contains(&mine.len()), "{k}/{n}: {}", mine.len());
                seen.extend(mine.into_iter().map(|id| m.key(id)));
            }
            seen.sort();
            let mut want = all.clone();
            want.sort();
            assert_eq!(seen, want, "shards of {n} cover every run once");
        }
        // A shard is chosen by key: the same grid gives the same shards.
        assert_eq!(
            m.runs_of(Shard { index: 2, count: 7 }),
            meta(&[5, 3], 3, 4).runs_of(Shard { index: 2, count: 7 })
        );
    }

    #[test]
    fn shard_syntax_and_environment() {
        assert_eq!(Shard::parse("2/8"), Ok(Shard { index: 2, count: 8 }));
        for bad in ["0/3", "4/3", "1", "a/b", "1/0"] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                vars.iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        let s = |vars| shard_from_env(env(vars)).map(|o| o.map(|s| s.shard));
        assert_eq!(s(&[]).unwrap(), None);
        assert_eq!(
            s(&[
                ("SLURM_ARRAY_TASK_ID", "3"),
                ("SLURM_ARRAY_TASK_COUNT", "4"),
                ("SLURM_ARRAY_TASK_MIN", "0")
            ])
            .unwrap(),
            Some(Shard { index: 4, count: 4 })
        );
        assert_eq!(
            s(&[
                ("SLURM_ARRAY_TASK_ID", "1"),
                ("SLURM_ARRAY_TASK_COUNT", "4"),
                ("SLURM_ARRAY_TASK_MIN", "1")
            ])
            .unwrap(),
            Some(Shard { index: 1, count: 4 })
        );
        assert_eq!(
            s(&[
                ("SLURM_ARRAY_TASK_ID", "14"),
                ("SLURM_ARRAY_TASK_COUNT", "4"),
                ("SLURM_ARRAY_TASK_MIN", "10"),
                ("SLURM_ARRAY_TASK_STEP", "2")
            ])
            .unwrap(),
            Some(Shard { index: 3, count: 4 })
        );
        assert!(s(&[
            ("SLURM_ARRAY_TASK_ID", "9"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
            ("SLURM_ARRAY_TASK_MIN", "1")
        ])
        .is_err());
        assert!(s(&[("SLURM_ARRAY_TASK_ID", "1")]).is_err());
        assert_eq!(
            s(&[
                ("JOB_COMPLETION_INDEX", "0"),
                ("STICKYSIM_SHARD_COUNT", "5")
            ])
            .unwrap(),
            Some(Shard { index: 1, count: 5 })
        );
        assert!(s(&[
            ("JOB_COMPLETION_INDEX", "5"),
            ("STICKYSIM_SHARD_COUNT", "5")
        ])
        .is_err());
        let e = s(&[("JOB_COMPLETION_INDEX", "0")]).unwrap_err().to_string();
        assert!(e.contains("STICKYSIM_SHARD_COUNT"), "{e}");
    }

    #[test]
    fn replication_seeds_are_stable_and_distinct() {
        assert_eq!(replication_seed(42, 0), 42);
        let seeds: Vec<u64> = (0..100).map(|r| replication_seed(42, r)).collect();
        for (i, s) in seeds.iter().enumerate() {
            assert!(*s <= i64::MAX as u64);
            assert!(!seeds[..i].contains(s));
        }
        assert_ne!(replication_seed(1, 1), replication_seed(2, 1));
    }
}
