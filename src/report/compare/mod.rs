//! Two runs side by side: what changed between results directory A (the
//! "before") and B (the "after"), strategy by strategy and column by
//! column, with an interval on each difference when both runs have
//! replications, and what differs between the two runs' inputs.
//!
//! The interval on `B − A`:
//!
//! - **paired** when both runs used the same master seed and the same
//!   number of replications: replication `r` of A and of B then drew the
//!   same random numbers, so the difference is taken replication by
//!   replication from `replications.csv` ([`crate::stats::paired_diff`]);
//! - **Welch** otherwise: two independent samples
//!   ([`crate::stats::welch_diff`]);
//! - none when either run has one replication; the difference is then
//!   reported but not tested.
//!
//! A difference whose interval covers 0 is *indistinguishable*. Whether a
//! change is better or worse follows the column ([`direction`]): the
//! decision's objective says so for its column; otherwise losses,
//! latencies, rejections, failures and imbalance are better lower, and
//! completions and avoided losses better higher. Counts that only measure
//! the workload (`requests`, `sessions`, …) have no direction.
//!
//! Nothing here reads files or prints: [`compare`] works on two
//! [`RunData`] and returns a [`Comparison`], which renders as text,
//! Markdown or JSON.

use super::data::RunData;
use super::RunMeta;
use crate::decision::{Replicated, LEVEL};
use crate::metrics::columns::{Better, DECISION_COLUMNS};
use crate::scenario::decision::{Goal, Objective, DEFAULT_OBJECTIVE};
use crate::stats::{mean_ci, paired_diff, welch_diff};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// How the interval on a difference was computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Per-replication differences: same seed, same replication count.
    Paired,
    /// Welch's interval for two independent samples.
    Welch,
    /// No interval: a run has a single replication.
    None,
}

impl Method {
    /// How the method is named in outputs.
    pub fn name(self) -> &'static str {
        match self {
            Method::Paired => "paired",
            Method::Welch => "welch",
            Method::None => "none",
        }
    }
}

/// What a difference amounts to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Judgement {
    /// The same values in both runs.
    Same,
    /// B is better (statistically so when there is an interval).
    Better,
    /// B is worse (statistically so when there is an interval).
    Worse,
    /// The interval covers 0.
    Indistinguishable,
    /// Different, on a column with no better direction.
    Changed,
}

impl Judgement {
    /// How the judgement is written.
    pub fn name(self) -> &'static str {
        match self {
            Judgement::Same => "same",
            Judgement::Better => "better",
            Judgement::Worse => "worse",
            Judgement::Indistinguishable => "indistinguishable",
            Judgement::Changed => "changed",
        }
    }
}

/// The better direction of a column, if it has one: the objective's for
/// its own column, else by what the column measures.
pub fn direction(column: &str, objective: Option<&Objective>) -> Option<Goal> {
    if let Some(o) = objective.filter(|o| o.column == column) {
        return Some(o.goal);
    }
    match crate::metrics::columns::better(column)? {
        Better::Lower => Some(Goal::Minimize),
        Better::Higher => Some(Goal::Maximize),
    }
}

/// One column of one strategy in both runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ColumnChange {
    /// The column.
    pub column: &'static str,
    /// A's mean over its replications.
    pub a: f64,
    /// A's 95 % half-width (none with one replication).
    pub a_hw: Option<f64>,
    /// B's mean.
    pub b: f64,
    /// B's 95 % half-width.
    pub b_hw: Option<f64>,
    /// `B − A`, means.
    pub diff: f64,
    /// Half-width of the 95 % interval on `diff`, when there is one.
    pub diff_hw: Option<f64>,
    /// `diff` relative to A, percent (none when A is 0).
    pub rel_pct: Option<f64>,
    /// `minimize` or `maximize`; none for a column with no better direction.
    pub better: Option<&'static str>,
    /// What the difference amounts to.
    pub judgement: Judgement,
}

impl ColumnChange {
    /// Whether the two runs' values differ at all.
    pub fn differs(&self) -> bool {
        self.judgement != Judgement::Same
    }
}

/// One strategy present in both runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StrategyChanges {
    /// The strategy's name.
    pub strategy: String,
    /// The columns shown: every one that differs, or the chosen ones.
    pub columns: Vec<ColumnChange>,
}

/// An input of the two runs that differs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InputDiff {
    /// What (`scenario hash`, `seed`, `--set workload.session_rate`, …).
    pub what: String,
    /// A's value.
    pub a: String,
    /// B's value.
    pub b: String,
}

/// The identity of one side, from its `summary.json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Side {
    /// The directory as given.
    pub dir: String,
    /// The scenario's name.
    pub scenario: String,
    /// Its hash.
    pub scenario_hash: String,
    /// The master seed.
    pub seed: u64,
    /// Replications per strategy.
    pub replications: u32,
    /// `--set`/`--seed` changes, as recorded.
    pub overrides: Vec<String>,
}

impl Side {
    fn of(dir: &str, m: &RunMeta) -> Self {
        Side {
            dir: dir.to_string(),
            scenario: m.scenario.clone(),
            scenario_hash: m.scenario_hash.clone(),
            seed: m.seed,
            replications: m.replications,
            overrides: m.overrides.clone(),
        }
    }
}

/// A `--fail-if-worse` column on which B is worse for a strategy.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Worse {
    /// The strategy.
    pub strategy: String,
    /// The column.
    pub column: &'static str,
}

/// What to compare.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Columns to show (checked with [`crate::scenario::decision::column`]);
    /// empty: every column that differs.
    pub columns: Vec<&'static str>,
    /// Columns on which B must not be worse (always judged, shown with the rest).
    pub fail_if_worse: Vec<&'static str>,
}

/// Two runs compared.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    /// The "before".
    pub a: Side,
    /// The "after".
    pub b: Side,
    /// The inputs that differ (empty: the same scenario, seed and replications).
    pub inputs: Vec<InputDiff>,
    /// How the intervals were computed.
    pub method: Method,
    /// Why that method, in words.
    pub method_reason: String,
    /// Strategies in both runs, in B's order.
    pub strategies: Vec<StrategyChanges>,
    /// Strategies only A has.
    pub only_in_a: Vec<String>,
    /// Strategies only B has.
    pub only_in_b: Vec<String>,
    /// The `--fail-if-worse` columns judged.
    pub fail_if_worse: Vec<&'static str>,
    /// Where B is worse on a `--fail-if-worse` column.
    pub worse: Vec<Worse>,
}

/// Why two runs cannot be compared, or an option that does not fit them.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CompareError {
    /// A `--fail-if-worse` column with no better direction.
    #[error(
        "--fail-if-worse {0}: `{0}` has no better direction (it measures the workload, not \
         the strategy); choose a column that is better lower (losses, latency, rejections, \
         imbalance) or higher (completed, sessions_completed, losses_avoided)"
    )]
    NoDirection(String),
    /// The two runs share no strategy.
    #[error("the two runs have no strategy in common (A: {a}; B: {b})")]
    NoCommonStrategy {
        /// A's strategies.
        a: String,
        /// B's strategies.
        b: String,
    },
}

/// The objective the runs are judged by: B's decision, else A's, else the default.
fn objective_of(a: &RunData, b: &RunData) -> Objective {
    [b, a]
        .iter()
        .find_map(|d| d.meta.decision.as_ref())
        .and_then(|rec| rec.decision().ok())
        .map_or(DEFAULT_OBJECTIVE, |d| d.objective)
}

/// `KEY=VALUE` overrides as a map (a later one wins, as on the command line).
fn override_map(list: &[String]) -> BTreeMap<&str, &str> {
    list.iter()
        .filter_map(|o| o.split_once('='))
        .map(|(k, v)| (k.trim(), v.trim()))
        .collect()
}

fn input_diffs(a: &RunMeta, b: &RunMeta) -> Vec<InputDiff> {
    let mut d = Vec::new();
    let mut cmp = |what: &str, x: String, y: String| {
        if x != y {
            d.push(InputDiff {
                what: what.to_string(),
                a: x,
                b: y,
            });
        }
    };
    cmp("scenario", a.scenario.clone(), b.scenario.clone());
    cmp(
        "scenario hash",
        a.scenario_hash.clone(),
        b.scenario_hash.clone(),
    );
    cmp("seed", a.seed.to_string(), b.seed.to_string());
    cmp(
        "replications",
        a.replications.to_string(),
        b.replications.to_string(),
    );
    let (oa, ob) = (override_map(&a.overrides), override_map(&b.overrides));
    let mut keys: Vec<&str> = oa.keys().chain(ob.keys()).copied().collect();
    keys.sort_unstable();
    keys.dedup();
    for k in keys {
        // The seed and replications are compared above, as the runs used them.
        if k == "simulation.seed" || k == "simulation.replications" {
            continue;
        }
        let v = |m: &BTreeMap<&str, &str>| {
            m.get(k)
                .map_or("(the scenario file's)".to_string(), |v| v.to_string())
        };
        cmp(&format!("--set {k}"), v(&oa), v(&ob));
    }
    let dec = |m: &RunMeta| {
        m.decision.as_ref().map_or("(default)".to_string(), |r| {
            format!("{} {}; {}", r.goal, r.objective, r.constraints.join(", "))
        })
    };
    cmp("decision", dec(a), dec(b));
    cmp(
        "stickysim version",
        a.stickysim_version.clone(),
        b.stickysim_version.clone(),
    );
    d
}

/// One column's values per replication, or `None` when a replication lacks it.
fn values(r: &Replicated, column: &str) -> Option<Vec<f64>> {
    r.reps.iter().map(|m| m.get(column).copied()).collect()
}

fn change(
    column: &'static str,
    a: &[f64],
    b: &[f64],
    method: Method,
    objective: &Objective,
) -> ColumnChange {
    let (ca, cb) = (
        mean_ci(a, LEVEL).expect("a replication"),
        mean_ci(b, LEVEL).expect("a replication"),
    );
    let diff = cb.mean - ca.mean;
    let diff_hw = match method {
        Method::Paired => paired_diff(b, a, LEVEL).and_then(|p| p.half_width),
        Method::Welch => welch_diff(b, a, LEVEL).and_then(|w| w.half_width),
        Method::None => None,
    };
    let goal = direction(column, Some(objective));
    let same = a == b;
    let judgement = if same {
        Judgement::Same
    } else if diff_hw.is_some_and(|hw| diff.abs() <= hw) {
        Judgement::Indistinguishable
    } else {
        match goal {
            None => Judgement::Changed,
            Some(_) if diff == 0.0 => Judgement::Indistinguishable,
            Some(Goal::Minimize) if diff < 0.0 => Judgement::Better,
            Some(Goal::Maximize) if diff > 0.0 => Judgement::Better,
            Some(_) => Judgement::Worse,
        }
    };
    ColumnChange {
        column,
        a: ca.mean,
        a_hw: ca.half_width,
        b: cb.mean,
        b_hw: cb.half_width,
        diff,
        diff_hw,
        rel_pct: (ca.mean != 0.0).then(|| diff * 100.0 / ca.mean.abs()),
        better: goal.map(|g| match g {
            Goal::Minimize => "minimize",
            Goal::Maximize => "maximize",
        }),
        judgement,
    }
}

/// Compares run `a` (read from `a_dir`) with run `b` (from `b_dir`).
pub fn compare(
    a_dir: &str,
    a: &RunData,
    b_dir: &str,
    b: &RunData,
    opts: &Options,
) -> Result<Comparison, CompareError> {
    let objective = objective_of(a, b);
    for c in &opts.fail_if_worse {
        if direction(c, Some(&objective)).is_none() {
            return Err(CompareError::NoDirection(c.to_string()));
        }
    }
    let (ra, rb) = (a.replicated(), b.replicated());
    let (na, nb) = (a.meta.replications.max(1), b.meta.replications.max(1));
    let (method, method_reason) = if na < 2 || nb < 2 {
        (
            Method::None,
            format!(
                "no intervals: A has {na} replication{}, B {nb}; differences are shown but not \
                 tested (run both with --replications 2 or more)",
                if na == 1 { "" } else { "s" }
            ),
        )
    } else if a.meta.seed == b.meta.seed && na == nb {
        (
            Method::Paired,
            format!(
                "paired: both runs have seed {} and {na} replications, so replication r of A \
                 and of B drew the same random numbers; 95 % interval on the per-replication \
                 differences",
                a.meta.seed
            ),
        )
    } else {
        (
            Method::Welch,
            format!(
                "independent (Welch): the runs do not share their replications (seed {} × {na} \
                 vs seed {} × {nb}); 95 % Welch interval",
                a.meta.seed, b.meta.seed
            ),
        )
    };
    let only_in_a: Vec<String> = a
        .strategies
        .iter()
        .filter(|s| !b.strategies.contains(s))
        .cloned()
        .collect();
    let only_in_b: Vec<String> = b
        .strategies
        .iter()
        .filter(|s| !a.strategies.contains(s))
        .cloned()
        .collect();
    let mut strategies = Vec::new();
    let mut worse = Vec::new();
    for sb in &rb {
        let Some(sa) = ra.iter().find(|r| r.strategy == sb.strategy) else {
            continue;
        };
        let mut columns = Vec::new();
        for &c in DECISION_COLUMNS {
            let (Some(xa), Some(xb)) = (values(sa, c), values(sb, c)) else {
                continue;
            };
            if xa.is_empty() || xb.is_empty() {
                continue;
            }
            let ch = change(c, &xa, &xb, method, &objective);
            if opts.fail_if_worse.contains(&c) && ch.judgement == Judgement::Worse {
                worse.push(Worse {
                    strategy: sb.strategy.clone(),
                    column: c,
                });
            }
            let shown = if opts.columns.is_empty() {
                ch.differs() || opts.fail_if_worse.contains(&c)
            } else {
                opts.columns.contains(&c) || opts.fail_if_worse.contains(&c)
            };
            if shown {
                columns.push(ch);
            }
        }
        strategies.push(StrategyChanges {
            strategy: sb.strategy.clone(),
            columns,
        });
    }
    if strategies.is_empty() {
        return Err(CompareError::NoCommonStrategy {
            a: a.strategies.join(", "),
            b: b.strategies.join(", "),
        });
    }
    Ok(Comparison {
        a: Side::of(a_dir, &a.meta),
        b: Side::of(b_dir, &b.meta),
        inputs: input_diffs(&a.meta, &b.meta),
        method,
        method_reason,
        strategies,
        only_in_a,
        only_in_b,
        fail_if_worse: opts.fail_if_worse.clone(),
        worse,
    })
}

mod render;

#[cfg(test)]
mod tests;
