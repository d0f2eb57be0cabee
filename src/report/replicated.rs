//! Replications in a run's files: the decision and warnings recorded in
//! `summary.json`, `replications.csv` (one row per strategy and
//! replication), the means and 95 % half-widths of `summary.csv`, and the
//! per-replication values read back for the verdict.
//!
//! With one replication nothing here adds a column: `summary.csv` holds
//! that replication's figures and no `replications.csv` is written.

use super::{identity_cells, run_csv, summary_column_names, RunMeta, SUMMARY_COLUMNS};
use crate::decision::{Estimate, Replicated, LEVEL};
use crate::metrics::{columns, RunSummary};
use crate::scenario::decision::{
    parse_constraint, Bound, Decision, Goal, Objective, Slo, SloTarget,
};
use crate::scenario::sanity::Warning;
use crate::stats::mean_ci;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Suffix of a half-width column in `summary.csv` (`latency_p99_ms_hw95`).
pub const HW_SUFFIX: &str = "_hw95";

/// The scenario's decision as `summary.json` records it (key `decision`),
/// so `stickysim report DIR` judges the results as the run did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecisionRecord {
    /// The scenario's question, if it states one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub question: Option<String>,
    /// `minimize` or `maximize`.
    pub goal: String,
    /// The objective column.
    pub objective: String,
    /// The constraints, `COLUMN OP NUMBER`.
    pub constraints: Vec<String>,
    /// Every assertion: the scenario's `[[slo]]` then the `--assert` flags.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub slos: Vec<SloRecord>,
}

/// One assertion as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SloRecord {
    /// A strategy's name or `all`.
    pub strategy: String,
    /// `COLUMN OP NUMBER`.
    pub assert: String,
    /// `mean`, `upper` or `lower`.
    pub bound: String,
}

impl DecisionRecord {
    /// The record of `d` with `extra` assertions after its own.
    pub fn of(d: &Decision, extra: &[Slo]) -> Self {
        DecisionRecord {
            question: d.question.clone(),
            goal: match d.objective.goal {
                Goal::Minimize => "minimize",
                Goal::Maximize => "maximize",
            }
            .to_string(),
            objective: d.objective.column.to_string(),
            constraints: d.constraints.iter().map(|c| c.to_string()).collect(),
            slos: d
                .slos
                .iter()
                .chain(extra)
                .map(|s| SloRecord {
                    strategy: match &s.target {
                        SloTarget::All => "all".to_string(),
                        SloTarget::Strategy(n) => n.clone(),
                    },
                    assert: s.constraint.to_string(),
                    bound: s.bound.name().to_string(),
                })
                .collect(),
        }
    }

    /// The decision back, every assertion in it; an error names what does not parse.
    pub fn decision(&self) -> Result<Decision, String> {
        let column = crate::scenario::decision::column(&self.objective)?;
        let goal = match self.goal.as_str() {
            "minimize" => Goal::Minimize,
            "maximize" => Goal::Maximize,
            g => {
                return Err(format!(
                    "expected goal `minimize` or `maximize`, found `{g}`"
                ))
            }
        };
        let mut d = Decision {
            question: self.question.clone(),
            objective: Objective { goal, column },
            constraints: self
                .constraints
                .iter()
                .map(|c| parse_constraint(c))
                .collect::<Result<_, _>>()?,
            is_default: false,
            slos: Vec::new(),
        };
        for s in &self.slos {
            d.slos.push(Slo {
                target: if s.strategy == "all" {
                    SloTarget::All
                } else {
                    SloTarget::Strategy(s.strategy.clone())
                },
                constraint: parse_constraint(&s.assert)?,
                bound: match s.bound.as_str() {
                    "upper" => Bound::Upper,
                    "lower" => Bound::Lower,
                    _ => Bound::Mean,
                },
            });
        }
        Ok(d)
    }
}

/// A warning as `summary.json` records it (key `warnings`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WarningRecord {
    /// The warning's code (`overload`, `rejections`, …).
    pub code: String,
    /// The sentence.
    pub message: String,
}

impl From<&Warning> for WarningRecord {
    fn from(w: &Warning) -> Self {
        WarningRecord {
            code: w.code.name().to_string(),
            message: w.message.clone(),
        }
    }
}

/// Decimals a column is written with, read off its formatted value (2 for
/// counts, whose means are fractional).
fn decimals(formatted: &str) -> usize {
    formatted.split_once('.').map_or(2, |(_, d)| d.len())
}

/// Each strategy's estimate of every decision column over its replications.
pub fn estimates(reps: &[RunSummary]) -> BTreeMap<&'static str, Estimate> {
    columns::DECISION_COLUMNS
        .iter()
        .map(|&c| {
            let xs: Vec<f64> = reps
                .iter()
                .map(|s| columns::value(s, c).expect("a decision column"))
                .collect();
            let ci = mean_ci(&xs, LEVEL).expect("at least one replication");
            (
                c,
                Estimate {
                    mean: ci.mean,
                    half_width: ci.half_width,
                },
            )
        })
        .collect()
}

/// `summary.csv` of a replicated run: per strategy the mean of every
/// numeric column, each followed by its `_hw95` half-width; text columns
/// from replication 0. `reps[s]` are strategy `s`'s summaries in
/// replication order (at least two).
pub(crate) fn summary_csv_replicated(meta: &RunMeta, reps: &[Vec<RunSummary>]) -> String {
    let mut names: Vec<String> = Vec::new();
    for (n, _) in SUMMARY_COLUMNS {
        names.push(n.to_string());
        if columns::DECISION_COLUMNS.contains(n) {
            names.push(format!("{n}{HW_SUFFIX}"));
        }
    }
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let mut out = run_csv(&names);
    let id = identity_cells(meta);
    for runs in reps {
        let est = estimates(runs);
        let first = &runs[0];
        let mut cells: Vec<String> = Vec::new();
        for (n, get) in SUMMARY_COLUMNS {
            let shown = get(first);
            match est.get(n) {
                Some(e) => {
                    let d = decimals(&shown);
                    cells.push(format!("{:.d$}", e.mean));
                    cells.push(format!("{:.d$}", e.half_width.unwrap_or(0.0)));
                }
                None => cells.push(shown),
            }
        }
        out.row(cells.iter().chain(&id));
    }
    out.finish()
}

/// The columns of `replications.csv` after the [`SUMMARY_COLUMNS`] and
/// before the identity columns.
pub const REPLICATION_COLUMNS: [&str; 2] = ["replication", "replication_seed"];

/// `replications.csv`: one row per replication and strategy (replication
/// by replication), the columns of a one-replication `summary.csv`, then
/// the replication's number and seed, then the run's identity columns.
pub(crate) fn replications_csv(meta: &RunMeta, reps: &[Vec<RunSummary>]) -> String {
    let mut names = summary_column_names();
    names.extend(REPLICATION_COLUMNS);
    let mut out = run_csv(&names);
    let id = identity_cells(meta);
    let n = reps.first().map_or(0, Vec::len);
    for r in 0..n {
        let seed = crate::sweep::replication_seed(meta.seed, r as u32);
        for runs in reps {
            let cells = SUMMARY_COLUMNS
                .iter()
                .map(|(_, get)| get(&runs[r]))
                .chain([r.to_string(), seed.to_string()])
                .chain(id.iter().cloned());
            out.row(cells);
        }
    }
    out.finish()
}

/// Per strategy of `data` (in its order), every decision column's mean and
/// 95 % half-width over the run's replications (the value alone, no
/// half-width, with one replication).
pub fn estimates_of(data: &super::data::RunData) -> Vec<BTreeMap<String, Estimate>> {
    data.replicated()
        .iter()
        .map(|r| {
            let mut cols: BTreeMap<String, Vec<f64>> = BTreeMap::new();
            for rep in &r.reps {
                for (k, v) in rep {
                    cols.entry(k.clone()).or_default().push(*v);
                }
            }
            cols.into_iter()
                .filter_map(|(k, xs)| {
                    mean_ci(&xs, LEVEL).map(|ci| {
                        (
                            k,
                            Estimate {
                                mean: ci.mean,
                                half_width: ci.half_width,
                            },
                        )
                    })
                })
                .collect()
        })
        .collect()
}

/// Per strategy, one column map per replication, from a table with a
/// `strategy` column and the decision columns (as many as it has); the
/// derived shares are computed from the counts. Rows are in replication
/// order per strategy.
pub(crate) fn replicated_from_rows(
    header: &[String],
    rows: &[Vec<String>],
    strategies: &[String],
) -> Vec<Replicated> {
    let col = |n: &str| header.iter().position(|h| h == n);
    let strat = col("strategy").unwrap_or(0);
    strategies
        .iter()
        .map(|name| {
            let reps = rows
                .iter()
                .filter(|r| &r[strat] == name)
                .map(|r| {
                    let mut m: BTreeMap<String, f64> = BTreeMap::new();
                    for &c in columns::DECISION_COLUMNS {
                        if let Some(v) = col(c).and_then(|i| r[i].parse::<f64>().ok()) {
                            m.insert(c.to_string(), v);
                        }
                    }
                    let get = |k: &str| m.get(k).copied().unwrap_or(0.0);
                    let pct = |part: f64, whole: f64| {
                        if whole == 0.0 {
                            0.0
                        } else {
                            part * 100.0 / whole
                        }
                    };
                    let (req, rej, fail) = (get("requests"), get("rejected"), get("failed"));
                    m.insert("rejected_pct".into(), pct(rej, req));
                    m.insert("failed_pct".into(), pct(fail, req));
                    m
                })
                .collect();
            Replicated {
                strategy: name.clone(),
                reps,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_decision_survives_its_record() {
        let mut d = Decision {
            question: Some("Which?".into()),
            ..Decision::default()
        };
        d.slos.push(Slo {
            target: SloTarget::Strategy("a".into()),
            constraint: parse_constraint("latency_p99_ms <= 500").unwrap(),
            bound: Bound::Upper,
        });
        let extra = crate::scenario::decision::parse_assert("all: util_max < 0.9", &["a"]).unwrap();
        let rec = DecisionRecord::of(&d, std::slice::from_ref(&extra));
        let back = rec.decision().unwrap();
        assert_eq!(back.question, d.question);
        assert_eq!(back.objective, d.objective);
        assert_eq!(back.constraints, d.constraints);
        assert_eq!(back.slos, [d.slos[0].clone(), extra]);
    }

    #[test]
    fn means_and_half_widths_follow_each_column() {
        let s = |lost: f64, req: u64| RunSummary {
            strategy: "x".into(),
            kind: "round-robin".into(),
            requests: req,
            sessions_lost_pct: lost,
            ..RunSummary::default()
        };
        let meta = RunMeta {
            scenario: "t".into(),
            seed: 1,
            scenario_hash: "h".into(),
            stickysim_version: "0".into(),
            bucket_s: 1.0,
            workers: 1,
            scenario_facts: None,
            overrides: Vec::new(),
            replications: 2,
            decision: None,
            warnings: Vec::new(),
            backend_names: Vec::new(),
        };
        let csv = summary_csv_replicated(&meta, &[vec![s(1.0, 10), s(3.0, 11)]]);
        let mut lines = csv.lines();
        let header: Vec<&str> = lines.next().unwrap().split(',').collect();
        let row: Vec<&str> = lines.next().unwrap().split(',').collect();
        let at = |n: &str| row[header.iter().position(|h| *h == n).unwrap()];
        assert_eq!(at("sessions_lost_pct"), "2.0000");
        // t(0.975, 1) = 12.706; s = √2; hw = 12.706 · √2 / √2.
        assert_eq!(at("sessions_lost_pct_hw95"), "12.7062");
        assert_eq!(at("requests"), "10.50");
        assert_eq!(at("strategy"), "x");
        assert!(!header.contains(&"strategy_hw95"));
    }
}
