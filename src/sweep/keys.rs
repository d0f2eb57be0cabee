//! What identifies a sweep and its runs: the sweep's metadata, each run's
//! key and seed, and the record a finished run is logged as.

use super::*;

/// One swept parameter as recorded in outputs: its key and its values as
/// they appear in CSV cells (strings bare, everything else as TOML).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Param {
    /// The scenario key swept (`workload.session_rate`).
    pub key: String,
    /// Its values, as written in CSV cells.
    pub values: Vec<String>,
}

/// Everything that identifies a sweep; the first line of its results log
/// and the header of its outputs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepMeta {
    /// The results log's format version.
    pub format: String,
    /// The scenario's name.
    pub scenario: String,
    /// Hash of the validated scenario with `--set`/`--seed` applied, before
    /// the grid (as `stickysim run` records it).
    pub scenario_hash: String,
    /// Master seed; replication `r` runs with [`replication_seed`]`(seed, r)`.
    pub seed: u64,
    /// Replications per grid point and strategy.
    pub replications: u32,
    /// The swept parameters, in grid order (the last varies fastest).
    pub params: Vec<Param>,
    /// The strategies run, by name, in scenario order.
    pub strategies: Vec<String>,
    /// The version of stickysim that planned the sweep.
    pub stickysim_version: String,
    /// Hash of all of the above: equal fingerprints, same sweep.
    pub fingerprint: String,
    /// Runs in the whole sweep (all shards).
    pub runs_total: usize,
    /// The part of the sweep this log or output holds.
    pub shard: Shard,
    /// Strategies no swept parameter can affect (their validated scenario,
    /// without the other strategies, is the same at every grid point): they
    /// run once per replication, at the first grid point, and that run fills
    /// every grid point's cell (marked `shared` in the outputs).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shared: Vec<String>,
    /// The scenario's decision (its `[decision]`, else the default): the
    /// objective and constraints the recommendation follows. Follows from
    /// the scenario hash, so not part of the fingerprint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<crate::report::replicated::DecisionRecord>,
    /// Offered load per worker, ρ, at each grid point, from the scenario's
    /// own arithmetic ([`crate::scenario::sanity::offered_load`]); ρ ≥ 1 is
    /// an overloaded grid point. Follows from the scenario hash and grid.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rho: Vec<f64>,
}

/// One run: indices into the grid, the strategies and the replications.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RunId {
    /// Index of the grid point.
    pub point: usize,
    /// Index into [`SweepMeta::strategies`].
    pub strategy: usize,
    /// Replication number, from 0.
    pub replication: u32,
}

/// One finished run, as logged (one JSON line) and as read back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// The run's key ([`SweepMeta::key`]).
    pub key: String,
    /// Index of the grid point.
    pub point: usize,
    /// The grid point's parameter values, in `params` order.
    pub params: Vec<String>,
    /// The strategy's name.
    pub strategy: String,
    /// Replication number, from 0.
    pub replication: u32,
    /// The run's seed ([`replication_seed`]).
    pub seed: u64,
    /// The run's figures.
    pub summary: RunSummary,
    /// This cell's numbers come from the strategy's one run per replication
    /// (see [`SweepMeta::shared`]); set when outputs are rendered, never logged.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub shared: bool,
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
    /// "P grid points × S strategies × R replications", as the plan and
    /// the report state the sweep's shape.
    pub fn shape_text(&self) -> String {
        let plural =
            |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        format!(
            "{} × {} × {}",
            plural(self.points(), "grid point", "grid points"),
            plural(self.strategies.len(), "strategy", "strategies"),
            plural(self.replications as usize, "replication", "replications"),
        )
    }

    /// Grid points: the product of every parameter's values count (1 with none).
    /// Saturates at `usize::MAX` (a log read back is checked against
    /// [`MAX_POINTS`](super::MAX_POINTS) before anything uses it).
    pub fn points(&self) -> usize {
        self.params
            .iter()
            .try_fold(1usize, |n, p| n.checked_mul(p.values.len()))
            .unwrap_or(usize::MAX)
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

    /// Whether strategy `strategy` (an index) is [shared](Self::shared).
    pub fn is_shared(&self, strategy: usize) -> bool {
        self.shared.contains(&self.strategies[strategy])
    }

    /// Every cell of the whole sweep (grid point × strategy × replication),
    /// in canonical order; a shared strategy's cells beyond the first grid
    /// point are filled from its run there, not run.
    pub fn cells(&self) -> Vec<RunId> {
        let mut out = Vec::with_capacity(self.points() * self.strategies.len());
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

    /// Every run of the whole sweep, in canonical order: every cell except a
    /// shared strategy's beyond the first grid point.
    pub fn runs(&self) -> Vec<RunId> {
        self.cells()
            .into_iter()
            .filter(|id| id.point == 0 || !self.is_shared(id.strategy))
            .collect()
    }

    /// The run's key in the results log: grid point, replication, strategy.
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

    /// Every cell's record from the runs' records (canonical order, as
    /// [`runs`](Self::runs) gives them): a shared strategy's run at the first
    /// grid point is copied to every grid point, and all its cells are
    /// marked `shared`.
    pub fn expand_shared(&self, records: &[RunRecord]) -> Vec<RunRecord> {
        if self.shared.is_empty() {
            return records.to_vec();
        }
        let by_key: HashMap<&str, &RunRecord> =
            records.iter().map(|r| (r.key.as_str(), r)).collect();
        let mut out = Vec::with_capacity(records.len());
        for id in self.cells() {
            let shared = self.is_shared(id.strategy);
            let source = RunId {
                point: if shared { 0 } else { id.point },
                ..id
            };
            let Some(&rec) = by_key.get(self.key(source).as_str()) else {
                continue;
            };
            let mut rec = rec.clone();
            if shared {
                rec.key = self.key(id);
                rec.point = id.point;
                rec.params = self.point_values(id.point);
                rec.shared = true;
            }
            out.push(rec);
        }
        out
    }

    /// Offered load per worker at `point` (`None` for logs that do not record it).
    pub fn rho_at(&self, point: usize) -> Option<f64> {
        self.rho.get(point).copied()
    }

    /// Whether `point` is overloaded: offered load per worker ρ ≥ 1.
    pub fn overloaded(&self, point: usize) -> bool {
        self.rho_at(point).is_some_and(|r| r >= 1.0)
    }

    /// The same sweep, another shard.
    pub fn with_shard(&self, shard: Shard) -> SweepMeta {
        SweepMeta {
            shard,
            ..self.clone()
        }
    }

    pub(super) fn compute_fingerprint(&self) -> String {
        let canonical = serde_json::json!({
            "scenario": self.scenario,
            "scenario_hash": self.scenario_hash,
            "seed": self.seed,
            "replications": self.replications,
            "params": self.params,
            "strategies": self.strategies,
            "stickysim_version": self.stickysim_version,
        });
        let canonical = if self.shared.is_empty() {
            canonical
        } else {
            let mut c = canonical;
            c["shared"] = serde_json::json!(self.shared);
            c
        };
        format!("{:016x}", name_key(&canonical.to_string()))
    }

    /// Whether `other` (a results log's description) is this very sweep and
    /// shard. `decision` and `rho` follow from the scenario hash and the
    /// grid, which are compared, so they are not: a log written before they
    /// were recorded has neither, and still resumes.
    pub fn same_sweep(&self, other: &SweepMeta) -> bool {
        let mut other = other.clone();
        other.decision.clone_from(&self.decision);
        other.rho.clone_from(&self.rho);
        *self == other
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
        cmp("shared", self.shared.join(","), other.shared.join(","));
        cmp(
            "stickysim version",
            self.stickysim_version.clone(),
            other.stickysim_version.clone(),
        );
        d
    }
}
