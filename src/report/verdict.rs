//! The top of `report.md`: the **Warnings** the run recorded and the
//! **Verdict** of [`crate::decision::verdict`] on the per-replication values
//! in the run's files, with the paired differences it rests on.

use super::data::RunData;
use crate::decision::{verdict, Estimate, Verdict};
use crate::scenario::decision::{Bound, Decision};
use std::fmt::Write as _;

/// Decimals a number of `x`'s size deserves.
fn decimals(x: f64) -> usize {
    let a = x.abs();
    if a >= 100.0 {
        1
    } else if a >= 1.0 {
        2
    } else {
        3
    }
}

/// A number with as many decimals as its size deserves.
pub(crate) fn num(x: f64) -> String {
    let d = decimals(x);
    format!("{x:.d$}")
}

/// `mean ± hw` (or the mean alone), both with the mean's decimals.
pub(crate) fn est(e: &Estimate) -> String {
    let d = decimals(e.mean);
    match e.half_width {
        Some(hw) => format!("{:.d$} ± {hw:.d$}", e.mean),
        None => format!("{:.d$}", e.mean),
    }
}

/// The decision recorded in the run's `summary.json` (the default one for
/// files that record none).
pub(crate) fn decision_of(data: &RunData) -> Result<Decision, String> {
    match &data.meta.decision {
        Some(rec) => rec.decision(),
        None => Ok(Decision::default()),
    }
}

/// The verdict on the run's files.
pub fn verdict_of(data: &RunData) -> Result<Verdict, String> {
    let d = decision_of(data)?;
    verdict(&d, &[], &data.replicated()).map_err(|e| e.to_string())
}

/// The question answered in one sentence: the verdict's own, plus how the
/// recommended strategy stands against each constraint.
pub fn one_sentence(v: &Verdict) -> String {
    let answer = v.answer();
    // The one-replication note stays last.
    let (mut s, note) = match answer.find(" One replication:") {
        Some(i) => (answer[..i].to_string(), answer[i..].to_string()),
        None => (answer, String::new()),
    };
    if let Some(rec) = &v.recommended {
        let o = v
            .outcomes
            .iter()
            .find(|o| &o.strategy == rec)
            .expect("recommended has an outcome");
        if !o.checks.is_empty() {
            let parts: Vec<String> = o
                .checks
                .iter()
                .map(|c| {
                    format!(
                        "{} {} (`{}`)",
                        c.constraint.column,
                        est(&c.value),
                        c.constraint
                    )
                })
                .collect();
            let _ = write!(s, " It meets every constraint: {}.", parts.join(", "));
        }
    }
    s.push_str(&note);
    s
}

/// `## Warnings`, when the run recorded any.
pub(crate) fn warnings_md(o: &mut String, data: &RunData) {
    if data.meta.warnings.is_empty() {
        return;
    }
    o.push_str("## Warnings\n\n");
    for w in &data.meta.warnings {
        // Generated text, but it quotes `--set` values: no line breaks or
        // control characters get through.
        let _ = writeln!(
            o,
            "- **{}**: {}",
            crate::text::terminal(&w.code),
            crate::text::terminal(&w.message)
        );
    }
    o.push('\n');
}

/// `## Verdict`.
pub(crate) fn verdict_md(o: &mut String, data: &RunData) {
    o.push_str("## Verdict\n\n");
    let d = match decision_of(data) {
        Ok(d) => d,
        Err(e) => {
            let _ = writeln!(
                o,
                "No verdict: the decision in `summary.json` does not parse ({e}).\n"
            );
            return;
        }
    };
    let v = match verdict(&d, &[], &data.replicated()) {
        Ok(v) => v,
        Err(e) => {
            let _ = writeln!(o, "No verdict: {e}.\n");
            return;
        }
    };
    if let Some(q) = &v.question {
        let _ = writeln!(o, "**Question:** {}\n", crate::text::markdown(q));
    }
    let _ = writeln!(o, "**Answer:** {}\n", one_sentence(&v));
    let constraints: Vec<String> = d.constraints.iter().map(|c| format!("`{c}`")).collect();
    let _ = writeln!(
        o,
        "Decision{}: {} `{}`{}.",
        if data.meta.decision.is_none() {
            " (the default)"
        } else {
            ""
        },
        match d.objective.goal {
            crate::scenario::decision::Goal::Minimize => "minimise",
            crate::scenario::decision::Goal::Maximize => "maximise",
        },
        d.objective.column,
        if constraints.is_empty() {
            String::new()
        } else {
            format!(" subject to {}", constraints.join(", "))
        }
    );
    if v.has_intervals() {
        let _ = writeln!(
            o,
            "{} replications per strategy; replication r runs the same workload under every \
             strategy, so each figure is a mean ± the half-width of its 95 % Student t interval, \
             and strategies are compared on their per-replication differences.\n",
            v.replications
        );
    } else {
        o.push_str(
            "One replication: there is no interval. Every figure is a single sample and no \
             difference below is tested for significance; run with `--replications 5` or more \
             to get intervals.\n\n",
        );
    }
    // Per strategy: objective and constraints.
    let mut cols = vec![d.objective.column];
    cols.extend(
        d.constraints
            .iter()
            .map(|c| c.column)
            .filter(|c| *c != d.objective.column),
    );
    let _ = writeln!(o, "| strategy | {} | constraints |", cols.join(" | "));
    let _ = writeln!(o, "|---|{}---|", "--:|".repeat(cols.len()));
    let reps = data.replicated();
    for (out, r) in v.outcomes.iter().zip(&reps) {
        let cells: Vec<String> = cols
            .iter()
            .map(|c| {
                let xs: Vec<f64> = r
                    .reps
                    .iter()
                    .map(|m| m.get(*c).copied().unwrap_or(0.0))
                    .collect();
                let ci = crate::stats::mean_ci(&xs, crate::decision::LEVEL).expect("replications");
                est(&Estimate {
                    mean: ci.mean,
                    half_width: ci.half_width,
                })
            })
            .collect();
        let status = if out.feasible {
            "met".to_string()
        } else {
            out.failures()
                .map(|f| format!("fails `{}` by {}", f.constraint, num(f.shortfall)))
                .collect::<Vec<_>>()
                .join("; ")
        };
        let mark = if v.recommended.as_ref() == Some(&out.strategy) {
            " (recommended)"
        } else {
            ""
        };
        let _ = writeln!(
            o,
            "| {}{mark} | {} | {status} |",
            out.strategy,
            cells.join(" | ")
        );
    }
    o.push('\n');
    if let Some(rec) = &v.recommended {
        if !v.comparisons.is_empty() {
            let _ = writeln!(
                o,
                "Paired differences in `{}`, each alternative − `{rec}`, replication by replication:\n",
                d.objective.column
            );
            o.push_str(
                "| alternative | difference | 95 % interval | reading |\n|---|--:|--:|---|\n",
            );
            for c in &v.comparisons {
                let interval = match c.diff.interval() {
                    Some((lo, hi)) => format!("[{}, {}]", num(lo), num(hi)),
                    None => "none (one replication)".to_string(),
                };
                let better_alt = d.objective.better(c.diff.mean, 0.0) && !c.indistinguishable;
                let reading = if c.indistinguishable {
                    if v.has_intervals() {
                        "indistinguishable".to_string()
                    } else {
                        "tied".to_string()
                    }
                } else if !v.has_intervals() {
                    "different (untested: one replication)".to_string()
                } else if better_alt {
                    "better, but fails a constraint".to_string()
                } else {
                    format!("worse than `{rec}`")
                };
                let reading = if !c.feasible && !reading.contains("constraint") {
                    format!("{reading}; fails a constraint")
                } else {
                    reading
                };
                let sign = if c.diff.mean > 0.0 { "+" } else { "" };
                let _ = writeln!(
                    o,
                    "| {} | {sign}{} | {interval} | {reading} |",
                    c.strategy,
                    num(c.diff.mean)
                );
            }
            o.push('\n');
        }
    }
    if !v.slos.is_empty() {
        o.push_str("Assertions (`[[slo]]` and `--assert`):\n\n| strategy | assertion | value tested | result |\n|---|---|--:|---|\n");
        for s in &v.slos {
            let which = match s.bound_used {
                Bound::Mean => "mean",
                Bound::Upper => "upper 95 % bound",
                Bound::Lower => "lower 95 % bound",
            };
            let _ = writeln!(
                o,
                "| {} | `{}` | {} ({which}) | {} |",
                s.strategy,
                s.slo.constraint,
                num(s.value),
                if s.passed { "pass" } else { "FAIL" }
            );
        }
        o.push('\n');
    }
}
