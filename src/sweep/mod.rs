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

pub mod charts;
pub mod log;
pub mod merge;
pub mod output;
pub mod report;

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
/// The most runs one sweep may have.
pub const MAX_RUNS: usize = 10_000_000;
/// The `format` of a results log this version writes and reads.
pub const LOG_FORMAT: &str = "stickysim-sweep-1";

/// Anything that stops a sweep or a merge.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// A bad flag or `[sweep]` entry: names the flag and says what is wrong.
    #[error("{flag}: {message}")]
    Flag { flag: String, message: String },
    /// A grid point the scenario rejects.
    #[error("grid point {point}: {message}")]
    Point { point: String, message: String },
    #[error("{path}: {message}")]
    Io { path: PathBuf, message: String },
    /// A results log that cannot be used (wrong sweep, corrupt, …).
    #[error("{path}: {message}")]
    Log { path: PathBuf, message: String },
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

/// One shard of a sweep, 1-based: `index` of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl Shard {
    /// The whole sweep.
    pub const ALL: Shard = Shard { index: 1, count: 1 };

    /// Parses `K/N` (1 <= K <= N).
    pub fn parse(s: &str) -> Result<Shard, String> {
        let bad = || format!("expected K/N with 1 <= K <= N (e.g. `2/8`), found `{s}`");
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let (k, n) = (
            k.trim().parse::<u32>().map_err(|_| bad())?,
            n.trim().parse::<u32>().map_err(|_| bad())?,
        );
        if k == 0 || n == 0 || k > n {
            return Err(bad());
        }
        Ok(Shard { index: k, count: n })
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// Where a shard was found in the environment, for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardFromEnv {
    pub shard: Shard,
    pub source: &'static str,
}

/// The shard a batch system asks for, if any: a Slurm job array
/// (`SLURM_ARRAY_TASK_ID`, `SLURM_ARRAY_TASK_COUNT`, `SLURM_ARRAY_TASK_MIN`,
/// `SLURM_ARRAY_TASK_STEP`) or a Kubernetes Indexed Job
/// (`JOB_COMPLETION_INDEX`, 0-based, with `STICKYSIM_SHARD_COUNT`).
pub fn shard_from_env(
    get: impl Fn(&str) -> Option<String>,
) -> Result<Option<ShardFromEnv>, SweepError> {
    let num = |name: &str| -> Result<Option<i64>, SweepError> {
        match get(name) {
            None => Ok(None),
            Some(v) => v.trim().parse::<i64>().map(Some).map_err(|_| {
                SweepError::flag(
                    format!("environment variable {name}"),
                    format!("expected an integer, found `{v}`"),
                )
            }),
        }
    };
    if let Some(id) = num("SLURM_ARRAY_TASK_ID")? {
        let source = "Slurm job array: SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_COUNT";
        let Some(count) = num("SLURM_ARRAY_TASK_COUNT")? else {
            return Err(SweepError::flag(
                "environment variable SLURM_ARRAY_TASK_ID",
                "is set but SLURM_ARRAY_TASK_COUNT is not; pass --shard K/N explicitly",
            ));
        };
        let min = num("SLURM_ARRAY_TASK_MIN")?.unwrap_or(0);
        let step = num("SLURM_ARRAY_TASK_STEP")?.unwrap_or(1).max(1);
        let k = (id - min) / step + 1;
        if (id - min) % step != 0 || k < 1 || k > count || count > u32::MAX as i64 {
            return Err(SweepError::flag(
                "environment variable SLURM_ARRAY_TASK_ID",
                format!(
                    "task {id} of an array with min {min}, step {step} and {count} tasks \
                     does not give a shard from 1 to {count}; pass --shard K/N explicitly"
                ),
            ));
        }
        return Ok(Some(ShardFromEnv {
            shard: Shard {
                index: k as u32,
                count: count as u32,
            },
            source,
        }));
    }
    if let Some(index) = num("JOB_COMPLETION_INDEX")? {
        let source = "Kubernetes Indexed Job: JOB_COMPLETION_INDEX, STICKYSIM_SHARD_COUNT";
        let Some(count) = num("STICKYSIM_SHARD_COUNT")? else {
            return Err(SweepError::flag(
                "environment variable JOB_COMPLETION_INDEX",
                "is set but STICKYSIM_SHARD_COUNT is not; set it to the Job's `completions` \
                 (see docs/distributed.md) or pass --shard K/N",
            ));
        };
        if index < 0 || count < 1 || index >= count || count > u32::MAX as i64 {
            return Err(SweepError::flag(
                "environment variable JOB_COMPLETION_INDEX",
                format!(
                    "index {index} with STICKYSIM_SHARD_COUNT={count}: expected 0 <= index < count"
                ),
            ));
        }
        return Ok(Some(ShardFromEnv {
            shard: Shard {
                index: index as u32 + 1,
                count: count as u32,
            },
            source,
        }));
    }
    Ok(None)
}

/// One swept parameter as recorded in outputs: its key and its values as
/// they appear in CSV cells (strings bare, everything else as TOML).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Param {
    pub key: String,
    pub values: Vec<String>,
}

/// Everything that identifies a sweep; the first line of its results log
/// and the header of its outputs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SweepMeta {
    pub format: String,
    pub scenario: String,
    /// Hash of the validated scenario with `--set`/`--seed` applied, before
    /// the grid (as `stickysim run` records it).
    pub scenario_hash: String,
    /// Master seed; replication `r` runs with [`replication_seed`]`(seed, r)`.
    pub seed: u64,
    pub replications: u32,
    pub params: Vec<Param>,
    /// The strategies run, by name, in scenario order.
    pub strategies: Vec<String>,
    pub stickysim_version: String,
    /// Hash of all of the above: equal fingerprints, same sweep.
    pub fingerprint: String,
    /// Runs in the whole sweep (all shards).
    pub runs_total: usize,
    /// The part of the sweep this log or output holds.
    pub shard: Shard,
}

/// One run: indices into the grid, the strategies and the replications.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RunId {
    pub point: usize,
    pub strategy: usize,
    pub replication: u32,
}

/// One finished run, as logged (one JSON line) and as read back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    pub key: String,
    pub point: usize,
    /// The grid point's parameter values, in `params` order.
    pub params: Vec<String>,
    pub strategy: String,
    pub replication: u32,
    pub seed: u64,
    pub summary: RunSummary,
}

/// The seed replication `r` runs with: the master seed for `r = 0`, then
/// SplitMix64-derived values (kept below 2⁶³ so they can be written back
/// into a scenario as `simulation.seed`).
pub fn replication_seed(master: u64, r: u32) -> u64 {
    if r == 0 {
        return master;
    }
    crate::sim::splitmix(master ^ (r as u64).wrapping_mul(crate::sim::GOLDEN)) & (i64::MAX as u64)
}

/// How a value is shown in outputs and keys.
pub fn display_value(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl SweepMeta {
    /// Grid points: the product of every parameter's values count (1 with none).
    pub fn points(&self) -> usize {
        self.params.iter().map(|p| p.values.len()).product()
    }

    /// Index of each parameter's value at `point` (the first parameter
    /// varies slowest).
    pub fn point_indices(&self, point: usize) -> Vec<usize> {
        let mut rest = point;
        let mut idx = vec![0; self.params.len()];
        for (i, p) in self.params.iter().enumerate().rev() {
            idx[i] = rest % p.values.len();
            rest /= p.values.len();
        }
        idx
    }

    /// The parameter values at `point`.
    pub fn point_values(&self, point: usize) -> Vec<String> {
        self.point_indices(point)
            .iter()
            .zip(&self.params)
            .map(|(&i, p)| p.values[i].clone())
            .collect()
    }

    /// `k=v,k=v` for `point` (`-` without parameters).
    pub fn point_label(&self, point: usize) -> String {
        if self.params.is_empty() {
            return "-".into();
        }
        self.params
            .iter()
            .zip(self.point_values(point))
            .map(|(p, v)| format!("{}={v}", p.key))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Every run of the whole sweep, in canonical order.
    pub fn runs(&self) -> Vec<RunId> {
        let mut out = Vec::with_capacity(self.runs_total);
        for point in 0..self.points() {
            for strategy in 0..self.strategies.len() {
                for replication in 0..self.replications {
                    out.push(RunId {
                        point,
                        strategy,
                        replication,
                    });
                }
            }
        }
        out
    }

    pub fn key(&self, id: RunId) -> String {
        format!(
            "{}/r{}/{}",
            self.point_label(id.point),
            id.replication,
            self.strategies[id.strategy]
        )
    }

    /// For each run of [`runs`](Self::runs), its shard (1-based) when the
    /// sweep is cut into `count`: rank in the order of `(hash(key), key)`,
    /// modulo `count`.
    pub fn shard_of_each(&self, count: u32) -> Vec<u32> {
        let keys: Vec<String> = self.runs().into_iter().map(|id| self.key(id)).collect();
        let mut order: Vec<usize> = (0..keys.len()).collect();
        order.sort_by(|&a, &b| (name_key(&keys[a]), &keys[a]).cmp(&(name_key(&keys[b]), &keys[b])));
        let mut shard = vec![0; keys.len()];
        for (rank, i) in order.into_iter().enumerate() {
            shard[i] = (rank % count as usize) as u32 + 1;
        }
        shard
    }

    /// The runs of `shard`, in canonical order.
    pub fn runs_of(&self, shard: Shard) -> Vec<RunId> {
        let all = self.runs();
        if shard.count == 1 {
            return all;
        }
        let of = self.shard_of_each(shard.count);
        all.into_iter()
            .zip(of)
            .filter(|&(_, s)| s == shard.index)
            .map(|(id, _)| id)
            .collect()
    }

    /// The same sweep, another shard.
    pub fn with_shard(&self, shard: Shard) -> SweepMeta {
        SweepMeta {
            shard,
            ..self.clone()
        }
    }

    fn compute_fingerprint(&self) -> String {
        let canonical = serde_json::json!({
            "scenario": self.scenario,
            "scenario_hash": self.scenario_hash,
            "seed": self.seed,
            "replications": self.replications,
            "params": self.params,
            "strategies": self.strategies,
            "stickysim_version": self.stickysim_version,
        });
        format!("{:016x}", name_key(&canonical.to_string()))
    }

    /// What differs between two sweeps, in words (for merge refusals).
    pub fn differences(&self, other: &SweepMeta) -> Vec<String> {
        let mut d = Vec::new();
        let mut cmp = |what: &str, a: String, b: String| {
            if a != b {
                d.push(format!("{what} {a} vs {b}"));
            }
        };
        cmp("scenario", self.scenario.clone(), other.scenario.clone());
        cmp(
            "scenario hash",
            self.scenario_hash.clone(),
            other.scenario_hash.clone(),
        );
        cmp("seed", self.seed.to_string(), other.seed.to_string());
        cmp(
            "replications",
            self.replications.to_string(),
            other.replications.to_string(),
        );
        let grid = |m: &SweepMeta| {
            m.params
                .iter()
                .map(|p| format!("{}=[{}]", p.key, p.values.join(",")))
                .collect::<Vec<_>>()
                .join(" ")
        };
        cmp("grid", grid(self), grid(other));
        cmp(
            "strategies",
            self.strategies.join(","),
            other.strategies.join(","),
        );
        cmp(
            "stickysim version",
            self.stickysim_version.clone(),
            other.stickysim_version.clone(),
        );
        d
    }
}

/// What to sweep, as the command line says it.
#[derive(Debug, Clone, Default)]
pub struct SweepRequest {
    pub scenario: PathBuf,
    /// `--set KEY=VALUE` overrides applied to every grid point.
    pub set: Vec<String>,
    /// `--param KEY=VALUES`, added to (or replacing) the file's `[sweep]` params.
    pub params: Vec<String>,
    pub replications: Option<u32>,
    pub seed: Option<u64>,
    /// Strategies to run, by name; empty = all.
    pub strategies: Vec<String>,
}

/// A sweep ready to run: its identity and every grid point's validated scenario.
#[derive(Debug, Clone)]
pub struct Plan {
    pub meta: SweepMeta,
    /// One validated scenario per grid point (seed = the master seed).
    pub points: Vec<Scenario>,
    /// For each strategy of `meta.strategies`, its index in the scenario.
    pub strategy_index: Vec<usize>,
}

/// Expands and validates a sweep: every grid point is built and validated
/// before anything runs, so a bad value is reported up front, naming the
/// parameter and the value.
pub fn plan(req: &SweepRequest) -> Result<Plan, SweepError> {
    let origin = req.scenario.display().to_string();
    let text = std::fs::read_to_string(&req.scenario).map_err(|cause| ScenarioError::Read {
        path: origin.clone(),
        cause,
    })?;
    let name_hint = req
        .scenario
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    plan_text(&text, &origin, &name_hint, req)
}

/// [`plan`] from the scenario's text; `origin` names it in messages.
pub fn plan_text(
    text: &str,
    origin: &str,
    name_hint: &str,
    req: &SweepRequest,
) -> Result<Plan, SweepError> {
    let mut overrides = req.set.clone();
    if let Some(seed) = req.seed {
        overrides.push(format!("simulation.seed={seed}"));
    }
    let (base, file_sweep) = scenario::from_str_with_sweep(text, origin, name_hint, &overrides)?;
    let file_sweep = file_sweep.unwrap_or(spec::SweepSpec {
        replications: None,
        axes: Vec::new(),
    });

    let mut axes = file_sweep.axes;
    let mut from_flags: Vec<String> = Vec::new();
    for flag in &req.params {
        let name = format!("--param {flag}");
        let Some((key, values)) = flag.split_once('=') else {
            return Err(SweepError::flag(
                name,
                "expected KEY=VALUES (e.g. `strategies.sticky.ttl=60,300,900` or \
                 `backends.count=4..16:4`), found no `=`",
            ));
        };
        let key = key.trim();
        spec::check_axis_key(key).map_err(|m| SweepError::flag(&name, m))?;
        if from_flags.iter().any(|k| k == key) {
            return Err(SweepError::flag(
                name,
                format!("`{key}` is given twice; list all its values in one --param"),
            ));
        }
        let values = spec::parse_values(key, values).map_err(|m| SweepError::flag(&name, m))?;
        from_flags.push(key.to_string());
        match axes.iter_mut().find(|a| a.key == key) {
            Some(a) => a.values = values,
            None => axes.push(spec::Axis {
                key: key.to_string(),
                values,
            }),
        }
    }
    let mut params = Vec::new();
    for a in &axes {
        let shown: Vec<String> = a.values.iter().map(display_value).collect();
        for (i, v) in shown.iter().enumerate() {
            if shown[..i].contains(v) {
                return Err(SweepError::flag(
                    format!("parameter {}", a.key),
                    format!("value `{v}` is listed twice"),
                ));
            }
        }
        params.push(Param {
            key: a.key.clone(),
            values: shown,
        });
    }

    let replications = req
        .replications
        .or(file_sweep.replications)
        .unwrap_or(DEFAULT_REPLICATIONS);
    if !(1..=spec::MAX_REPLICATIONS).contains(&replications) {
        return Err(SweepError::flag(
            "--replications",
            format!(
                "expected 1 to {}, found {replications}",
                spec::MAX_REPLICATIONS
            ),
        ));
    }

    let names: Vec<&str> = base.strategies.iter().map(|s| s.name.as_str()).collect();
    let mut strategy_index = select_strategies(&names, &req.strategies).map_err(|name| {
        SweepError::flag(
            format!("--strategy {name}"),
            format!(
                "{origin} has no strategy named `{name}`; its strategies are: {}",
                names.join(", ")
            ),
        )
    })?;
    strategy_index.sort_unstable();
    let strategies: Vec<String> = strategy_index
        .iter()
        .map(|&i| names[i].to_string())
        .collect();

    let n_points: usize = params.iter().map(|p| p.values.len()).product();
    let runs_total = n_points
        .checked_mul(strategies.len())
        .and_then(|x| x.checked_mul(replications as usize))
        .filter(|&n| n <= MAX_RUNS)
        .ok_or_else(|| {
            SweepError::flag(
                "sweep",
                format!(
                    "{n_points} grid points × {} strategies × {replications} replications \
                     is more than {MAX_RUNS} runs",
                    strategies.len()
                ),
            )
        })?;

    let mut meta = SweepMeta {
        format: LOG_FORMAT.into(),
        scenario: base.name.clone(),
        scenario_hash: scenario_hash(&base),
        seed: base.simulation.seed,
        replications,
        params,
        strategies,
        stickysim_version: env!("CARGO_PKG_VERSION").into(),
        fingerprint: String::new(),
        runs_total,
        shard: Shard::ALL,
    };
    meta.fingerprint = meta.compute_fingerprint();

    let mut points = Vec::with_capacity(n_points);
    for point in 0..n_points {
        let idx = meta.point_indices(point);
        let mut o = overrides.clone();
        let mut set_flags = Vec::new();
        for (a, &i) in axes.iter().zip(&idx) {
            let flag = format!("{}={}", a.key, a.values[i]);
            set_flags.push((format!("--set {flag}"), format!("--param {flag}")));
            o.push(flag);
        }
        let sc = scenario::from_str(text, origin, name_hint, &o).map_err(|e| {
            let mut message = e.to_string();
            for (set, param) in &set_flags {
                message = message.replace(set.as_str(), param);
            }
            SweepError::Point {
                point: meta.point_label(point),
                message,
            }
        })?;
        for (name, &i) in meta.strategies.iter().zip(&strategy_index) {
            if sc.strategies.get(i).map(|s| &s.name) != Some(name) {
                return Err(SweepError::Point {
                    point: meta.point_label(point),
                    message: format!(
                        "strategy `{name}` is not strategy {i} here; a sweep cannot rename, \
                         add or remove strategies"
                    ),
                });
            }
        }
        points.push(sc);
    }
    Ok(Plan {
        meta,
        points,
        strategy_index,
    })
}

/// The strategies `--strategy NAME` flags pick (`run` and `sweep`), as
/// indices into `names` in flag order, each once; every strategy when no
/// flag is given. `Err` holds the first name `names` does not have.
pub fn select_strategies<'a>(names: &[&str], wanted: &'a [String]) -> Result<Vec<usize>, &'a str> {
    let mut which = Vec::new();
    for name in wanted {
        match names.iter().position(|n| n == name) {
            Some(i) if !which.contains(&i) => which.push(i),
            Some(_) => {}
            None => return Err(name),
        }
    }
    if which.is_empty() {
        which = (0..names.len()).collect();
    }
    Ok(which)
}

/// The hash `stickysim run` records for a validated scenario.
pub fn scenario_hash(sc: &Scenario) -> String {
    format!("{:016x}", name_key(&format!("{sc:?}")))
}

/// Runs one run of the plan.
pub fn run_one(plan: &Plan, id: RunId) -> RunRecord {
    let mut sc = plan.points[id.point].clone();
    let seed = replication_seed(plan.meta.seed, id.replication);
    sc.simulation.seed = seed;
    let out = run_strategy(&sc, plan.strategy_index[id.strategy]);
    RunRecord {
        key: plan.meta.key(id),
        point: id.point,
        params: plan.meta.point_values(id.point),
        strategy: plan.meta.strategies[id.strategy].clone(),
        replication: id.replication,
        seed,
        summary: out.summary,
    }
}

/// How to execute a plan.
#[derive(Debug, Clone)]
pub struct ExecOptions {
    pub out: PathBuf,
    /// Threads; `None` = rayon's default (one per core).
    pub jobs: Option<usize>,
    /// Continue from `out/runs.jsonl` instead of refusing to overwrite it.
    pub resume: bool,
    pub shard: Shard,
    /// Test hook: start at most this many new runs, then stop as if killed
    /// (the log is kept; no outputs are written).
    pub stop_after: Option<usize>,
}

/// What a sweep did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Runs in this shard.
    pub runs: usize,
    /// Runs found finished in the log and not run again.
    pub reused: usize,
    /// Runs computed now.
    pub ran: usize,
    /// Files written (empty when stopped early).
    pub written: Vec<PathBuf>,
    /// Stopped by `stop_after` before finishing.
    pub stopped: bool,
    /// For a whole finished sweep, the report's recommendation (Markdown).
    pub recommendation: Option<String>,
}

/// Runs the plan's runs of `opts.shard` that `out/runs.jsonl` does not
/// already hold, appending each to the log as it finishes, then writes the
/// outputs (for a shard of several, only the sorted log: `merge` renders).
/// `tick` is called after each run (for a progress bar).
pub fn execute(
    plan: &Plan,
    opts: &ExecOptions,
    tick: &(dyn Fn(usize, usize) + Sync),
) -> Result<Outcome, SweepError> {
    let meta = plan.meta.with_shard(opts.shard);
    let mine = meta.runs_of(opts.shard);
    let keys: HashMap<String, RunId> = mine.iter().map(|&id| (meta.key(id), id)).collect();
    let log_path = opts.out.join(log::LOG_FILE);

    let mut done: Vec<(RunId, RunRecord)> = Vec::new();
    if log_path.exists() {
        if !opts.resume {
            return Err(SweepError::Log {
                path: log_path,
                message: "a sweep's results log is already there; pass --resume to continue \
                          it, or choose another --out"
                    .into(),
            });
        }
        let read = log::read(&log_path)?;
        let mut seen = std::collections::HashSet::new();
        if read.meta != meta {
            let what = meta.differences(&read.meta);
            let what = if what.is_empty() {
                format!("shard {} vs {}", read.meta.shard, meta.shard)
            } else {
                what.join("; ")
            };
            return Err(SweepError::Log {
                path: log_path,
                message: format!(
                    "belongs to another sweep ({what}); --resume continues only the same \
                     sweep: same scenario, --set, grid, replications, seed, strategies and shard"
                ),
            });
        }
        for rec in read.records {
            let Some(&id) = keys.get(&rec.key) else {
                return Err(SweepError::Log {
                    path: log_path,
                    message: format!("holds run `{}`, which is not part of this sweep", rec.key),
                });
            };
            if seen.insert(id) {
                done.push((id, rec));
            }
        }
        log::truncate_to(&log_path, read.valid_len)?;
    } else {
        std::fs::create_dir_all(&opts.out).map_err(|e| SweepError::io(&opts.out, e))?;
        log::create(&log_path, &meta)?;
    }

    let finished: std::collections::HashSet<RunId> = done.iter().map(|(id, _)| *id).collect();
    let pending: Vec<RunId> = mine
        .iter()
        .copied()
        .filter(|id| !finished.contains(id))
        .collect();
    let reused = done.len();
    let writer = Mutex::new(log::Appender::open(&log_path)?);
    let started = AtomicUsize::new(0);
    let completed = AtomicUsize::new(reused);
    let failure: Mutex<Option<SweepError>> = Mutex::new(None);
    let total = mine.len();
    tick(reused, total);

    let work = || -> Vec<(RunId, RunRecord)> {
        pending
            .par_iter()
            .with_max_len(1)
            .filter_map(|&id| {
                if let Some(limit) = opts.stop_after {
                    if started.fetch_add(1, Ordering::SeqCst) >= limit {
                        return None;
                    }
                }
                if failure.lock().expect("no panics while held").is_some() {
                    return None;
                }
                let rec = run_one(plan, id);
                let appended = writer.lock().expect("no panics while held").append(&rec);
                if let Err(e) = appended {
                    failure
                        .lock()
                        .expect("no panics while held")
                        .get_or_insert(e);
                    return None;
                }
                tick(completed.fetch_add(1, Ordering::SeqCst) + 1, total);
                Some((id, rec))
            })
            .collect()
    };
    let new = match opts.jobs {
        Some(n) => rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build()
            .map_err(|e| SweepError::flag("--jobs", e.to_string()))?
            .install(work),
        None => work(),
    };
    drop(writer);
    if let Some(e) = failure.into_inner().expect("no panics while held") {
        return Err(e);
    }
    let ran = new.len();
    done.extend(new);
    if done.len() < total {
        return Ok(Outcome {
            runs: total,
            reused,
            ran,
            written: Vec::new(),
            stopped: true,
            recommendation: None,
        });
    }
    done.sort_by_key(|(id, _)| *id);
    let records: Vec<RunRecord> = done.into_iter().map(|(_, r)| r).collect();
    let (written, recommendation) = write_outputs(&opts.out, &meta, &records)?;
    Ok(Outcome {
        runs: total,
        reused,
        ran,
        written,
        stopped: false,
        recommendation,
    })
}

/// Writes a finished sweep (or shard) all or nothing: the log rewritten in
/// canonical order, and for a whole sweep every output. Returns the files
/// written and, for a whole sweep, the report's recommendation.
pub fn write_outputs(
    dir: &Path,
    meta: &SweepMeta,
    records: &[RunRecord],
) -> Result<(Vec<PathBuf>, Option<String>), SweepError> {
    let mut files: Vec<(String, Vec<u8>)> =
        vec![(log::LOG_FILE.into(), log::render(meta, records))];
    let mut recommendation = None;
    if meta.shard.count == 1 {
        let summary = output::summarize(meta, records);
        recommendation = Some(report::recommendation(meta, &summary));
        files.extend(output::render_all(meta, records));
    }
    let refs: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(n, c)| (n.as_str(), c.as_slice()))
        .collect();
    crate::report::write_all_or_nothing(dir, &refs).map_err(|e| SweepError::io(dir, e))?;
    Ok((
        files.iter().map(|(n, _)| dir.join(n)).collect(),
        recommendation,
    ))
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
