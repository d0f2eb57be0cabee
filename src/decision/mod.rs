//! The verdict: which strategy a scenario recommends, as a pure function
//! of the per-replication values of the summary columns.
//!
//! Replication `r` of every strategy runs the same workload (common random
//! numbers), so two strategies are compared on their per-replication
//! differences ([`crate::stats::paired_diff`]), whose interval is far
//! tighter than two independent ones. The rules:
//!
//! - a strategy is *feasible* when every constraint holds on its mean;
//! - the *recommended* strategy is the feasible one with the best mean
//!   objective (the first in scenario order among exact ties);
//! - a feasible runner-up is *indistinguishable* from it when the paired
//!   interval of their difference covers 0 — or, with one replication and
//!   so no interval, when the two values are equal;
//! - SLO assertions are tested on the mean or on a 95 % confidence bound.
//!
//! Nothing here runs a simulation or formats a report.

use crate::metrics::columns;
use crate::metrics::RunSummary;
use crate::scenario::decision::{Bound, Constraint, Decision, Objective, Slo, SloTarget};
use crate::stats::{mean_ci, paired_diff, PairedDiff};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Confidence level of every interval here.
pub const LEVEL: f64 = 0.95;

/// One strategy's column values, one map per replication (replication `r`
/// of every strategy shares its workload).
#[derive(Debug, Clone, PartialEq)]
pub struct Replicated {
    /// The strategy's name.
    pub strategy: String,
    /// Per replication, column name → value.
    pub reps: Vec<BTreeMap<String, f64>>,
}

impl Replicated {
    /// From one summary per replication, in replication order.
    pub fn from_summaries(strategy: &str, runs: &[RunSummary]) -> Self {
        Replicated {
            strategy: strategy.to_string(),
            reps: runs
                .iter()
                .map(|s| {
                    columns::values(s)
                        .into_iter()
                        .map(|(k, v)| (k.to_string(), v))
                        .collect()
                })
                .collect(),
        }
    }

    fn column(&self, name: &str) -> Result<Vec<f64>, VerdictError> {
        self.reps
            .iter()
            .map(|r| {
                r.get(name)
                    .copied()
                    .ok_or_else(|| VerdictError::MissingColumn {
                        strategy: self.strategy.clone(),
                        column: name.to_string(),
                    })
            })
            .collect()
    }
}

/// Why no verdict could be reached: inputs that do not fit together.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum VerdictError {
    /// No strategies, or no replications.
    #[error("no results to judge: expected at least one strategy with at least one replication")]
    Empty,
    /// Strategies have different numbers of replications, so they cannot be paired.
    #[error("strategy `{strategy}` has {found} replications, expected {expected} like the first")]
    UnequalReplications {
        /// The strategy that differs.
        strategy: String,
        /// The first strategy's count.
        expected: usize,
        /// This one's.
        found: usize,
    },
    /// A column the decision needs is missing from a replication.
    #[error("strategy `{strategy}` has no value for column `{column}`")]
    MissingColumn {
        /// The strategy.
        strategy: String,
        /// The column.
        column: String,
    },
    /// An assertion names a strategy that has no results.
    #[error("an assertion names strategy `{0}`, which has no results")]
    UnknownStrategy(String),
}

/// A mean over replications and its 95 % half-width (none with one replication).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    /// The mean.
    pub mean: f64,
    /// Half-width of the 95 % Student t interval; `None` for one replication.
    pub half_width: Option<f64>,
}

impl Estimate {
    fn of(xs: &[f64]) -> Estimate {
        let ci = mean_ci(xs, LEVEL).expect("at least one replication");
        Estimate {
            mean: ci.mean,
            half_width: ci.half_width,
        }
    }

    /// The mean of `column` over strategy `strategy`'s replications in
    /// `data` (0 when either is missing).
    pub fn mean_of(data: &[Replicated], strategy: &str, column: &str) -> f64 {
        data.iter()
            .find(|d| d.strategy == strategy)
            .and_then(|d| d.column(column).ok())
            .filter(|xs| !xs.is_empty())
            .map_or(0.0, |xs| xs.iter().sum::<f64>() / xs.len() as f64)
    }

    /// `1.234 ± 0.056`, or just `1.234` without an interval.
    pub fn display(&self, decimals: usize) -> String {
        match self.half_width {
            Some(hw) => format!("{:.decimals$} ± {hw:.decimals$}", self.mean),
            None => format!("{:.decimals$}", self.mean),
        }
    }
}

/// One constraint tested on one strategy's mean.
#[derive(Debug, Clone, PartialEq)]
pub struct ConstraintCheck {
    /// The constraint.
    pub constraint: Constraint,
    /// The column's estimate.
    pub value: Estimate,
    /// Whether it holds on the mean.
    pub met: bool,
    /// How far the mean is on the wrong side of the bound (0 when met).
    pub shortfall: f64,
}

/// Everything the verdict knows about one strategy.
#[derive(Debug, Clone, PartialEq)]
pub struct StrategyOutcome {
    /// The strategy's name.
    pub strategy: String,
    /// The objective column's estimate.
    pub objective: Estimate,
    /// Every constraint, in the decision's order.
    pub checks: Vec<ConstraintCheck>,
    /// Whether every constraint holds.
    pub feasible: bool,
}

impl StrategyOutcome {
    /// The constraints this strategy fails.
    pub fn failures(&self) -> impl Iterator<Item = &ConstraintCheck> {
        self.checks.iter().filter(|c| !c.met)
    }
}

/// The recommended strategy against one alternative, on the objective.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// The alternative.
    pub strategy: String,
    /// Whether the alternative meets every constraint.
    pub feasible: bool,
    /// Alternative − recommended, per replication, with its interval.
    pub diff: PairedDiff,
    /// The interval covers 0 (with one replication: the values are equal).
    pub indistinguishable: bool,
}

/// One assertion tested on one strategy.
#[derive(Debug, Clone, PartialEq)]
pub struct SloResult {
    /// The assertion.
    pub slo: Slo,
    /// The strategy it was tested on (an `all` assertion gives one result per strategy).
    pub strategy: String,
    /// The value tested: the mean or the confidence bound.
    pub value: f64,
    /// Which value was tested; the mean when a bound was asked for but
    /// there is only one replication.
    pub bound_used: Bound,
    /// Whether the assertion holds.
    pub passed: bool,
}

/// The answer to a scenario's question.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// The scenario's question, when it states one.
    pub question: Option<String>,
    /// What was optimised.
    pub objective: Objective,
    /// Replications per strategy.
    pub replications: usize,
    /// Every strategy, in input order.
    pub outcomes: Vec<StrategyOutcome>,
    /// The feasible strategy with the best objective, if any is feasible.
    pub recommended: Option<String>,
    /// With no feasible strategy: the one failing the fewest constraints
    /// (best objective among those).
    pub closest: Option<String>,
    /// The recommended strategy against every other, in input order.
    pub comparisons: Vec<Comparison>,
    /// Feasible runners-up that cannot be told apart from the recommended one.
    pub indistinguishable: Vec<String>,
    /// Every assertion's result, assertions in order, strategies in input order.
    pub slos: Vec<SloResult>,
    /// No strategy simulated a single session (every replication's
    /// `sessions` is 0): there is nothing to recommend.
    pub no_sessions: bool,
}

impl Verdict {
    /// Whether there are intervals (two or more replications).
    pub fn has_intervals(&self) -> bool {
        self.replications >= 2
    }

    /// The assertions that failed.
    pub fn failed_slos(&self) -> impl Iterator<Item = &SloResult> {
        self.slos.iter().filter(|s| !s.passed)
    }

    fn outcome(&self, name: &str) -> Option<&StrategyOutcome> {
        self.outcomes.iter().find(|o| o.strategy == name)
    }

    /// The verdict in one or two sentences, for stdout and the top of the report.
    pub fn answer(&self) -> String {
        let mut s = String::new();
        if self.no_sessions {
            return "No recommendation: the run simulated no sessions (every strategy's \
                    `sessions` is 0), so there is nothing to compare; raise \
                    `workload.session_rate` or `simulation.duration`."
                .to_string();
        }
        let col = self.objective.column;
        match &self.recommended {
            Some(rec) => {
                let o = self.outcome(rec).expect("recommended has an outcome");
                let _ = write!(s, "Recommended: {rec} ({col} {})", o.objective.display(3));
                if !self.indistinguishable.is_empty() {
                    let verb = if self.has_intervals() {
                        "statistically indistinguishable from"
                    } else {
                        "tied with"
                    };
                    let _ = write!(s, ", {verb} {}", self.indistinguishable.join(", "));
                }
                s.push('.');
            }
            None => {
                s.push_str("No strategy meets every constraint");
                if let Some(c) = &self.closest {
                    let o = self.outcome(c).expect("closest has an outcome");
                    let fails: Vec<String> = o
                        .failures()
                        .map(|f| format!("{} is {:.3}", f.constraint, f.value.mean))
                        .collect();
                    let _ = write!(s, "; the closest is {c} (fails {})", fails.join("; "));
                }
                s.push('.');
            }
        }
        let infeasible: Vec<String> = self
            .outcomes
            .iter()
            .filter(|o| !o.feasible && Some(&o.strategy) != self.closest.as_ref())
            .map(|o| {
                let f: Vec<String> = o
                    .failures()
                    .map(|f| {
                        format!(
                            "{} {:.3}, misses `{}` by {:.3}",
                            f.constraint.column, f.value.mean, f.constraint, f.shortfall
                        )
                    })
                    .collect();
                format!("{} ({})", o.strategy, f.join("; "))
            })
            .collect();
        if !infeasible.is_empty() {
            let _ = write!(s, " Fails a constraint: {}.", infeasible.join(", "));
        }
        if !self.has_intervals() {
            s.push_str(
                " One replication: there is no interval, so differences are not tested for \
                 significance (use more replications).",
            );
        }
        s
    }
}

/// Judges `data` by `decision`, also testing `extra` assertions (the
/// `--assert` flags). Every strategy must have the same number of
/// replications (≥ 1).
pub fn verdict(
    decision: &Decision,
    extra: &[Slo],
    data: &[Replicated],
) -> Result<Verdict, VerdictError> {
    let n = data.first().map_or(0, |d| d.reps.len());
    if n == 0 {
        return Err(VerdictError::Empty);
    }
    if let Some(d) = data.iter().find(|d| d.reps.len() != n) {
        return Err(VerdictError::UnequalReplications {
            strategy: d.strategy.clone(),
            expected: n,
            found: d.reps.len(),
        });
    }
    let obj_col = decision.objective.column;
    let mut objective_values = Vec::with_capacity(data.len());
    let mut outcomes = Vec::with_capacity(data.len());
    for d in data {
        let values = d.column(obj_col)?;
        let objective = Estimate::of(&values);
        let mut checks = Vec::with_capacity(decision.constraints.len());
        for c in &decision.constraints {
            let value = Estimate::of(&d.column(c.column)?);
            checks.push(ConstraintCheck {
                constraint: *c,
                value,
                met: c.holds(value.mean),
                shortfall: c.shortfall(value.mean),
            });
        }
        let feasible = checks.iter().all(|c| c.met);
        outcomes.push(StrategyOutcome {
            strategy: d.strategy.clone(),
            objective,
            checks,
            feasible,
        });
        objective_values.push(values);
    }

    let best_of = |candidates: &mut dyn Iterator<Item = usize>| -> Option<usize> {
        let mut best: Option<usize> = None;
        for i in candidates {
            let better = match best {
                None => true,
                Some(b) => decision
                    .objective
                    .better(outcomes[i].objective.mean, outcomes[b].objective.mean),
            };
            if better {
                best = Some(i);
            }
        }
        best
    };
    let rec = best_of(&mut (0..outcomes.len()).filter(|&i| outcomes[i].feasible));
    let closest = match rec {
        Some(_) => None,
        None => {
            let fewest = outcomes
                .iter()
                .map(|o| o.failures().count())
                .min()
                .unwrap_or(0);
            best_of(&mut (0..outcomes.len()).filter(|&i| outcomes[i].failures().count() == fewest))
        }
    };

    let mut comparisons = Vec::new();
    let mut indistinguishable = Vec::new();
    if let Some(r) = rec {
        for (i, o) in outcomes.iter().enumerate() {
            if i == r {
                continue;
            }
            let diff = paired_diff(&objective_values[i], &objective_values[r], LEVEL)
                .expect("equal, non-zero replication counts");
            let same = diff.indistinguishable().unwrap_or(diff.mean == 0.0);
            if same && o.feasible {
                indistinguishable.push(o.strategy.clone());
            }
            comparisons.push(Comparison {
                strategy: o.strategy.clone(),
                feasible: o.feasible,
                diff,
                indistinguishable: same,
            });
        }
    }

    let mut slos = Vec::new();
    for slo in decision.slos.iter().chain(extra) {
        let targets: Vec<&Replicated> = match &slo.target {
            SloTarget::All => data.iter().collect(),
            SloTarget::Strategy(name) => vec![data
                .iter()
                .find(|d| &d.strategy == name)
                .ok_or_else(|| VerdictError::UnknownStrategy(name.clone()))?],
        };
        for d in targets {
            let e = Estimate::of(&d.column(slo.constraint.column)?);
            let (value, bound_used) = match (slo.bound, e.half_width) {
                (Bound::Upper, Some(hw)) => (e.mean + hw, Bound::Upper),
                (Bound::Lower, Some(hw)) => (e.mean - hw, Bound::Lower),
                _ => (e.mean, Bound::Mean),
            };
            slos.push(SloResult {
                slo: slo.clone(),
                strategy: d.strategy.clone(),
                value,
                bound_used,
                passed: slo.constraint.holds(value),
            });
        }
    }

    // Figures of zero sessions are no evidence: recommend nothing.
    let no_sessions = data.iter().all(|d| {
        d.reps
            .iter()
            .all(|r| r.get("sessions") == Some(&0.0) && r.get("requests").is_none_or(|&v| v == 0.0))
    });
    let (rec, closest) = if no_sessions {
        (None, None)
    } else {
        (rec, closest)
    };
    Ok(Verdict {
        question: decision.question.clone(),
        objective: decision.objective,
        replications: n,
        no_sessions,
        recommended: rec.map(|r| outcomes[r].strategy.clone()),
        closest: closest.map(|c| outcomes[c].strategy.clone()),
        outcomes,
        comparisons,
        indistinguishable,
        slos,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::decision::{parse_assert, parse_constraint, Goal};

    /// A strategy with `lost` (sessions_lost_pct) and `util` (util_max)
    /// per replication, and no rejections.
    fn strat(name: &str, lost: &[f64], util: &[f64]) -> Replicated {
        Replicated {
            strategy: name.into(),
            reps: lost
                .iter()
                .zip(util)
                .map(|(&l, &u)| {
                    BTreeMap::from([
                        ("sessions_lost_pct".to_string(), l),
                        ("util_max".to_string(), u),
                        ("rejected_pct".to_string(), 0.0),
                    ])
                })
                .collect(),
        }
    }

    const A: [f64; 5] = [10.0, 12.0, 11.0, 13.0, 14.0];
    const B: [f64; 5] = [9.0, 11.5, 10.0, 12.0, 12.5];
    const U: [f64; 5] = [0.5; 5];

    #[test]
    fn pairing_separates_what_independent_intervals_cannot() {
        // B loses less than A in every replication, by 1, 0.5, 1, 1, 1.5:
        // the paired difference A − B is 1.0 ± 0.439 (see stats'
        // hand computation), which excludes 0, although A's and B's own
        // intervals (12 ± 1.963, 11 ± 1.810) overlap widely.
        let (ma, ha) = crate::stats::mean_ci95(&A);
        let (mb, hb) = crate::stats::mean_ci95(&B);
        assert!(ma - ha < mb + hb, "independent intervals overlap");
        let v = verdict(
            &Decision::default(),
            &[],
            &[strat("a", &A, &U), strat("b", &B, &U)],
        )
        .unwrap();
        assert_eq!(v.recommended.as_deref(), Some("b"));
        assert!(v.indistinguishable.is_empty());
        let c = &v.comparisons[0];
        assert_eq!(c.strategy, "a");
        assert!((c.diff.mean - 1.0).abs() < 1e-12);
        assert!((c.diff.half_width.unwrap() - 0.438_995).abs() < 1e-6);
        assert!(!c.indistinguishable);
        assert!(
            v.answer()
                .starts_with("Recommended: b (sessions_lost_pct 11.000 ± 1.810)"),
            "{}",
            v.answer()
        );
    }

    #[test]
    fn ties_are_reported_as_ties_and_noise_as_indistinguishable() {
        // c equals b in every replication (exact tie, zero-width interval);
        // d differs from b by ±0.5 alternately: mean +0.1, covers 0.
        let c = B;
        let d = [9.5, 11.0, 10.5, 11.5, 13.0];
        let v = verdict(
            &Decision::default(),
            &[],
            &[
                strat("b", &B, &U),
                strat("c", &c, &U),
                strat("d", &d, &U),
                strat("a", &A, &U),
            ],
        )
        .unwrap();
        assert_eq!(v.recommended.as_deref(), Some("b"), "first of an exact tie");
        assert_eq!(v.indistinguishable, ["c", "d"]);
        let answer = v.answer();
        assert!(
            answer.contains("statistically indistinguishable from c, d"),
            "{answer}"
        );
    }

    #[test]
    fn constraints_decide_feasibility_and_say_by_how_much() {
        // b loses the least but runs its hottest backend at 0.97.
        let hot = [0.97; 5];
        let v = verdict(
            &Decision::default(),
            &[],
            &[strat("a", &A, &U), strat("b", &B, &hot)],
        )
        .unwrap();
        assert_eq!(v.recommended.as_deref(), Some("a"));
        let b = &v.outcomes[1];
        assert!(!b.feasible);
        let f: Vec<&ConstraintCheck> = b.failures().collect();
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].constraint.column, "util_max");
        assert!((f[0].shortfall - 0.02).abs() < 1e-12);
        // The infeasible b is compared but never offered as a runner-up.
        assert_eq!(v.comparisons.len(), 1);
        assert!(v.indistinguishable.is_empty());
        let answer = v.answer();
        assert!(
            answer.contains(
                "Fails a constraint: b (util_max 0.970, misses `util_max < 0.95` by 0.020)"
            ),
            "{answer}"
        );

        // Nobody feasible: no recommendation, the closest is named.
        let v = verdict(
            &Decision::default(),
            &[],
            &[strat("a", &A, &hot), strat("b", &B, &hot)],
        )
        .unwrap();
        assert_eq!(
            (v.recommended.as_deref(), v.closest.as_deref()),
            (None, Some("b"))
        );
        assert!(
            v.answer()
                .starts_with("No strategy meets every constraint; the closest is b"),
            "{}",
            v.answer()
        );
    }

    #[test]
    fn one_replication_has_no_interval_and_says_so() {
        let v = verdict(
            &Decision::default(),
            &[],
            &[
                strat("a", &[3.0], &[0.5]),
                strat("b", &[2.0], &[0.5]),
                strat("c", &[2.0], &[0.5]),
            ],
        )
        .unwrap();
        assert!(!v.has_intervals());
        assert_eq!(v.recommended.as_deref(), Some("b"));
        assert_eq!(v.comparisons[0].diff.half_width, None);
        assert!(
            !v.comparisons[0].indistinguishable,
            "1 vs 0 with no interval: not a tie"
        );
        assert_eq!(v.indistinguishable, ["c"], "equal values are a tie");
        let answer = v.answer();
        assert!(answer.contains("tied with c"), "{answer}");
        assert!(
            answer.contains("One replication: there is no interval"),
            "{answer}"
        );
    }

    #[test]
    fn a_maximize_objective_prefers_larger_values() {
        let d = Decision {
            objective: Objective {
                goal: Goal::Maximize,
                column: "sessions_lost_pct",
            },
            ..Decision::default()
        };
        let v = verdict(&d, &[], &[strat("a", &A, &U), strat("b", &B, &U)]).unwrap();
        assert_eq!(v.recommended.as_deref(), Some("a"));
        assert!((v.comparisons[0].diff.mean + 1.0).abs() < 1e-12);
    }

    #[test]
    fn slos_test_the_mean_or_a_confidence_bound() {
        let names = ["a", "b"];
        let mut d = Decision::default();
        // b's mean loss is 11.0 with half-width 1.810 (Σ(x − 11)² = 8.5,
        // s² = 8.5/4, hw = 2.776445 · 1.457738 / √5): < 12 on the mean,
        // not on the upper bound 12.810.
        d.slos.push(Slo {
            target: SloTarget::Strategy("b".into()),
            constraint: parse_constraint("sessions_lost_pct < 12").unwrap(),
            bound: Bound::Upper,
        });
        let extra = [parse_assert("all: sessions_lost_pct < 12", &names).unwrap()];
        let v = verdict(&d, &extra, &[strat("a", &A, &U), strat("b", &B, &U)]).unwrap();
        let r: Vec<(&str, bool, Bound)> = v
            .slos
            .iter()
            .map(|s| (s.strategy.as_str(), s.passed, s.bound_used))
            .collect();
        assert_eq!(
            r,
            [
                ("b", false, Bound::Upper),
                ("a", false, Bound::Mean),
                ("b", true, Bound::Mean)
            ]
        );
        assert!(
            (v.slos[0].value - (11.0 + 1.810_021)).abs() < 1e-5,
            "{}",
            v.slos[0].value
        );
        assert_eq!(v.failed_slos().count(), 2);
        // With one replication an upper-bound assertion falls back to the mean.
        let v = verdict(
            &d,
            &[],
            &[strat("a", &[1.0], &[0.5]), strat("b", &[11.0], &[0.5])],
        )
        .unwrap();
        assert_eq!(
            (v.slos[0].bound_used, v.slos[0].passed),
            (Bound::Mean, true)
        );
    }

    #[test]
    fn inputs_that_do_not_pair_are_refused() {
        let d = Decision::default();
        assert_eq!(verdict(&d, &[], &[]), Err(VerdictError::Empty));
        let e = verdict(&d, &[], &[strat("a", &A, &U), strat("b", &B[..4], &U)]).unwrap_err();
        assert!(
            matches!(e, VerdictError::UnequalReplications { found: 4, .. }),
            "{e}"
        );
        let mut bare = strat("a", &A, &U);
        bare.reps[2].remove("util_max");
        let e = verdict(&d, &[], &[bare]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "strategy `a` has no value for column `util_max`"
        );
        let ghost = parse_assert("ghost: util_max < 1", &["ghost"]).unwrap();
        let e = verdict(&d, &[ghost], &[strat("a", &A, &U)]).unwrap_err();
        assert_eq!(e, VerdictError::UnknownStrategy("ghost".into()));
    }

    #[test]
    fn summaries_feed_the_verdict_through_the_column_names() {
        let s = |lost: f64| RunSummary {
            strategy: "x".into(),
            requests: 1000,
            rejected: 2,
            sessions_lost_pct: lost,
            util_max: 0.5,
            ..RunSummary::default()
        };
        let r = Replicated::from_summaries("x", &[s(1.0), s(3.0)]);
        assert_eq!(r.reps[1]["sessions_lost_pct"], 3.0);
        assert_eq!(r.reps[0]["rejected_pct"], 0.2);
        let v = verdict(&Decision::default(), &[], &[r]).unwrap();
        // rejected_pct 0.2 > 0.1: the default constraints refuse it.
        assert_eq!(v.recommended, None);
        assert_eq!(v.outcomes[0].objective.mean, 2.0);
    }
}
