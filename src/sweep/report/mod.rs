//! `report.md` for a sweep: what was swept, the recommendation the numbers
//! support (with the numbers), the Pareto front of imbalance × loss, a
//! summary table and the charts.
//!
//! The recommendation is the verdict of `stickysim run`
//! ([`crate::decision::verdict`]) over the sweep's configurations (grid
//! point × strategy), under the scenario's `[decision]` (or the default
//! one): a configuration is feasible when every constraint holds on its
//! mean (rejections, latency and utilisation included); the recommended one
//! is the feasible configuration with the best mean objective; every other
//! feasible configuration whose paired difference from it (replication `r`
//! shares its workload at every grid point and strategy) has an interval
//! covering 0 is reported as indistinguishable — ties are ties, not broken
//! by the order of the grid. A strategy no swept parameter applies to (see
//! [`applies`]) is one configuration, never reported at a parameter value.
//! Grid points whose offered load per worker is ρ ≥ 1 are named as
//! overloaded.

use super::charts::{tied_front, Charts, TRADEOFF};
use super::output::{Cell, SweepSummary, CONFIDENCE};
use super::{RunRecord, SweepMeta};
use crate::decision::{verdict, Replicated, Verdict};
use crate::metrics::RunSummary;
use crate::scenario::decision::{Decision, DEFAULT_CONSTRAINTS, DEFAULT_OBJECTIVE};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Most rows of the summary table in the report (the CSV has them all).
pub const MAX_TABLE_ROWS: usize = 120;

fn pm(mean: f64, hw: Option<f64>, decimals: usize) -> String {
    match hw {
        Some(h) => format!("{mean:.decimals$} ± {h:.decimals$}"),
        None => format!("{mean:.decimals$}"),
    }
}

/// The two figures the recommendation weighs (session loss and imbalance,
/// by metric index), and how the report names a cell and writes them.
struct Figures {
    loss: usize,
    imb: usize,
}

impl Figures {
    /// `None` when the summary lacks either metric.
    fn new(summary: &SweepSummary) -> Option<Self> {
        Some(Figures {
            loss: summary.metric_index(TRADEOFF.1)?,
            imb: summary.metric_index(TRADEOFF.0)?,
        })
    }

    fn loss_text(&self, c: &Cell) -> String {
        pm(c.stats[self.loss].mean, c.stats[self.loss].half_width, 3)
    }

    fn imb_text(&self, c: &Cell) -> String {
        pm(c.stats[self.imb].mean, c.stats[self.imb].half_width, 3)
    }
}

/// Renders `report.md`.
pub fn markdown(
    meta: &SweepMeta,
    summary: &SweepSummary,
    records: &[RunRecord],
    charts: &Charts,
) -> String {
    let mut o = String::new();
    let runs = meta.runs_total;
    let cells = meta.points() * meta.strategies.len() * meta.replications as usize;
    let _ = writeln!(o, "# Sweep of `{}`\n", meta.scenario);
    let shared = if meta.shared.is_empty() {
        String::new()
    } else {
        format!(
            " ({runs} runs: {} ran once per replication, no swept parameter affecting it)",
            meta.shared
                .iter()
                .map(|s| format!("`{s}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let _ = writeln!(
        o,
        "{} = {cells} cells{shared}; master seed {}, \
         scenario hash `{}`, sweep fingerprint `{}`, stickysim {}.\n",
        meta.shape_text(),
        meta.seed,
        meta.scenario_hash,
        meta.fingerprint,
        meta.stickysim_version,
    );
    if meta.params.is_empty() {
        let _ = writeln!(o, "No parameter is swept: replications only.\n");
    } else {
        let _ = writeln!(o, "| parameter | values |\n|---|---|");
        for p in &meta.params {
            let _ = writeln!(o, "| `{}` | {} |", p.key, p.values.join(", "));
        }
        o.push('\n');
    }
    let _ = writeln!(
        o,
        "Every strategy at every grid point faces the same workload in a given \
         replication (common random numbers); intervals are {:.0} % Student t \
         confidence intervals over the replications (mean ± half-width).\n",
        CONFIDENCE * 100.0
    );

    let Some(fig) = Figures::new(summary) else {
        return o;
    };

    o.push_str(&recommendation(meta, records));

    o.push_str(&front_table(meta, records));
    o.push('\n');

    let _ = writeln!(o, "## Results\n");
    let extra: Vec<(usize, &str)> = ["latency_p99_ms"]
        .iter()
        .filter_map(|m| summary.metric_index(m).map(|i| (i, *m)))
        .collect();
    let mut head = String::from("|");
    let mut rule = String::from("|");
    for p in &meta.params {
        head.push_str(&format!(" `{}` |", p.key));
        rule.push_str("---|");
    }
    head.push_str(" strategy | sessions lost (%) | util max/mean |");
    rule.push_str("---|---|---|");
    for (_, m) in &extra {
        head.push_str(&format!(" {m} |"));
        rule.push_str("---|");
    }
    let _ = writeln!(o, "{head}\n{rule}");
    for c in summary.cells.iter().take(MAX_TABLE_ROWS) {
        let mut row = String::from("|");
        for v in meta.point_values(c.point) {
            row.push_str(&format!(" {v} |"));
        }
        row.push_str(&format!(
            " {} | {} | {} |",
            meta.strategies[c.strategy],
            fig.loss_text(c),
            fig.imb_text(c)
        ));
        for (i, _) in &extra {
            row.push_str(&format!(
                " {} |",
                pm(c.stats[*i].mean, c.stats[*i].half_width, 1)
            ));
        }
        let _ = writeln!(o, "{row}");
    }
    if summary.cells.len() > MAX_TABLE_ROWS {
        let _ = writeln!(
            o,
            "\n({} more rows in `sweep_summary.csv`.)",
            summary.cells.len() - MAX_TABLE_ROWS
        );
    }
    o.push('\n');

    if !charts.charts.is_empty() || !charts.notes.is_empty() {
        let _ = writeln!(o, "## Charts\n");
        for c in &charts.charts {
            let _ = writeln!(o, "![{}]({})\n", c.title, c.file);
        }
        for n in &charts.notes {
            let _ = writeln!(o, "- {n}");
        }
        if !charts.notes.is_empty() {
            o.push('\n');
        }
    }
    let _ = writeln!(
        o,
        "Every run is in `sweep.csv` (one row per run, with its seed: `stickysim run \
         --seed SEED --set KEY=VALUE …` reproduces it); every mean and interval in \
         `sweep_summary.csv` and `sweep_summary.json`."
    );
    o
}

/// The trade-off front of imbalance × loss (Markdown): the configurations
/// [`tied_front`] keeps, from most even to least lossy, each with the
/// configurations its paired intervals tie it with.
fn front_table(meta: &SweepMeta, records: &[RunRecord]) -> String {
    let (cfgs, data) = configs(meta, records);
    let col = |r: &Replicated, c: &str| -> Vec<f64> {
        r.reps
            .iter()
            .map(|m| m.get(c).copied().unwrap_or(f64::NAN))
            .collect()
    };
    let reps: Vec<(Vec<f64>, Vec<f64>)> = data
        .iter()
        .map(|r| (col(r, TRADEOFF.0), col(r, TRADEOFF.1)))
        .collect();
    let (mut front, groups) = tied_front(&reps);
    let est = |v: &[f64]| {
        crate::stats::mean_ci(v, CONFIDENCE).map_or((f64::NAN, None), |c| (c.mean, c.half_width))
    };
    front.sort_by(|&a, &b| {
        est(&reps[a].0)
            .0
            .total_cmp(&est(&reps[b].0).0)
            .then(a.cmp(&b))
    });
    let mut o = String::new();
    let _ = writeln!(
        o,
        "### Pareto front of imbalance × loss\n\nConfigurations no other beats on both \
         utilisation max/mean and session loss, each difference judged by its paired 95 % \
         interval (a difference within it decides nothing), from most even to least lossy; \
         configurations the intervals cannot tell apart on either figure are tied:\n"
    );
    let _ = writeln!(
        o,
        "| configuration | max/mean | sessions lost (%) | tied with |\n|---|---|---|---|"
    );
    for i in front {
        let (xm, xh) = est(&reps[i].0);
        let (ym, yh) = est(&reps[i].1);
        let tied: Vec<String> = groups
            .iter()
            .find(|g| g.contains(&i))
            .map(|g| {
                g.iter()
                    .filter(|&&j| j != i)
                    .map(|&j| cfgs[j].label(meta))
                    .collect()
            })
            .unwrap_or_default();
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} |",
            cfgs[i].label(meta),
            pm(xm, xh, 3),
            pm(ym, yh, 3),
            if tied.is_empty() {
                "-".to_string()
            } else {
                tied.join(", ")
            }
        );
    }
    o
}

/// The decision the sweep's recommendation follows: the one recorded in
/// its metadata, else the default.
fn decision_of(meta: &SweepMeta) -> Decision {
    meta.decision
        .as_ref()
        .and_then(|r| r.decision().ok())
        .map(|d| Decision {
            slos: Vec::new(),
            ..d
        })
        .unwrap_or_default()
}

/// Whether swept parameter `p` can change strategy `s`: never for a
/// strategy the plan found no parameter changes ([`SweepMeta::shared`]),
/// and a `strategies.<name>.…` key only for strategy `<name>`. (A
/// parameter that applies but changes nothing — TTLs longer than every
/// session — gives identical configurations, which are reported as ties.)
pub fn applies(meta: &SweepMeta, p: &super::Param, s: usize) -> bool {
    if meta.is_shared(s) {
        return false;
    }
    match p.key.strip_prefix("strategies.") {
        Some(rest) => rest.split('.').next() == Some(meta.strategies[s].as_str()),
        None => true,
    }
}

/// One configuration the recommendation weighs: a strategy at the values
/// of the parameters that apply to it.
pub(crate) struct Config {
    /// Index into [`SweepMeta::strategies`].
    pub(crate) strategy: usize,
    /// `k=v,…` of the parameters that apply; empty when none does.
    pub(crate) values: Vec<(String, String)>,
}

impl Config {
    /// The configuration as a chart labels it: the strategy, then only the
    /// parameters that apply to it, in words with their unit
    /// (`cookie-1m, TTL 60 s`; `round-robin`).
    pub(crate) fn short_label(&self, meta: &SweepMeta) -> String {
        let name = meta.strategies[self.strategy].clone();
        if self.values.is_empty() {
            return name;
        }
        let vs: Vec<String> = self
            .values
            .iter()
            .map(|(k, v)| super::axis::value_label(k, v))
            .collect();
        format!("{name}, {}", vs.join(", "))
    }

    fn label(&self, meta: &SweepMeta) -> String {
        let name = &meta.strategies[self.strategy];
        if self.values.is_empty() {
            if meta.params.is_empty() {
                format!("`{name}`")
            } else {
                format!("`{name}` (no swept parameter applies to it)")
            }
        } else {
            let kv: Vec<String> = self
                .values
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            format!("`{name}` at `{}`", kv.join(","))
        }
    }
}

/// The configurations of the sweep (strategies in order, each at the
/// distinct values of the parameters that apply to it) with their
/// per-replication values, ready for the verdict.
pub(crate) fn configs(meta: &SweepMeta, records: &[RunRecord]) -> (Vec<Config>, Vec<Replicated>) {
    let mut runs: BTreeMap<(usize, &str), Vec<(u32, &RunSummary)>> = BTreeMap::new();
    for r in records {
        runs.entry((r.point, r.strategy.as_str()))
            .or_default()
            .push((r.replication, &r.summary));
    }
    let mut out = Vec::new();
    let mut data = Vec::new();
    for (s, name) in meta.strategies.iter().enumerate() {
        let mut seen: Vec<Vec<(String, String)>> = Vec::new();
        for point in 0..meta.points() {
            let values: Vec<(String, String)> = meta
                .params
                .iter()
                .zip(meta.point_values(point))
                .filter(|(p, _)| applies(meta, p, s))
                .map(|(p, v)| (p.key.clone(), v))
                .collect();
            if seen.contains(&values) {
                continue;
            }
            let Some(mut reps) = runs.get(&(point, name.as_str())).cloned() else {
                continue;
            };
            reps.sort_by_key(|(r, _)| *r);
            let sums: Vec<RunSummary> = reps.iter().map(|(_, s)| (*s).clone()).collect();
            seen.push(values.clone());
            let c = Config {
                strategy: s,
                values,
            };
            data.push(Replicated::from_summaries(&c.label(meta), &sums));
            out.push(c);
        }
    }
    (out, data)
}

/// `a, b and c`
fn and_list(items: &[String]) -> String {
    match items.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    }
}

/// The objective and constraints in words.
fn decision_text(d: &Decision) -> String {
    let cons: Vec<String> = d.constraints.iter().map(|c| format!("`{c}`")).collect();
    format!(
        "{} `{}`{}{}",
        match d.objective.goal {
            crate::scenario::decision::Goal::Minimize => "minimize",
            crate::scenario::decision::Goal::Maximize => "maximize",
        },
        d.objective.column,
        if cons.is_empty() {
            String::new()
        } else {
            format!(" subject to {}", cons.join(", "))
        },
        if d.objective == DEFAULT_OBJECTIVE && d.constraints == DEFAULT_CONSTRAINTS {
            " (the default decision: the scenario has no `[decision]` objective or constraints)"
        } else {
            " (the scenario's `[decision]`)"
        }
    )
}

/// The configurations tied with the recommended one, as sentences: one per
/// strategy with several tied configurations ("For `c`, `ttl` = 300, 900
/// and 3600 are indistinguishable"), then the rest.
fn tie_sentences(meta: &SweepMeta, cfgs: &[Config], v: &Verdict, rec: usize) -> Vec<String> {
    let label_of = |i: usize| cfgs[i].label(meta);
    let idx = |name: &str| (0..cfgs.len()).find(|&i| label_of(i) == name);
    let mut tied: Vec<usize> = vec![rec];
    tied.extend(v.indistinguishable.iter().filter_map(|n| idx(n)));
    let mut out = Vec::new();
    let mut rest: Vec<String> = Vec::new();
    for s in 0..meta.strategies.len() {
        let mine: Vec<usize> = tied
            .iter()
            .copied()
            .filter(|&i| cfgs[i].strategy == s)
            .collect();
        if mine.len() >= 2 {
            let keys: Vec<&str> = cfgs[mine[0]]
                .values
                .iter()
                .map(|(k, _)| k.as_str())
                .collect();
            let vals: Vec<String> = mine
                .iter()
                .map(|&i| {
                    let vs: Vec<&str> = cfgs[i].values.iter().map(|(_, v)| v.as_str()).collect();
                    vs.join(", ")
                })
                .collect();
            let what = if keys.len() == 1 {
                format!("`{}` = ", keys[0])
            } else {
                format!("({}) = ", keys.join(", "))
            };
            out.push(format!(
                "For `{}`, {what}{} are indistinguishable: the 95 % intervals of their paired \
                 differences cover 0, so this sweep does not decide between them.",
                meta.strategies[s],
                and_list(&vals)
            ));
        } else {
            rest.extend(mine.iter().filter(|&&i| i != rec).map(|&i| label_of(i)));
        }
    }
    if !rest.is_empty() {
        out.push(format!(
            "Also indistinguishable from the recommendation: {}.",
            rest.join(", ")
        ));
    }
    out
}

/// Most configurations listed as failing a constraint.
const MAX_FAILING: usize = 12;

/// The recommendation and the per-strategy table (Markdown), also printed
/// on stdout by `sweep` and `merge`.
pub fn recommendation(meta: &SweepMeta, records: &[RunRecord]) -> String {
    let mut o = String::new();
    let decision = decision_of(meta);
    let (cfgs, data) = configs(meta, records);
    let _ = writeln!(o, "## Recommendation\n");
    let _ = writeln!(
        o,
        "Objective: {}. Constraints are tested on means; intervals are paired over the \
         replications (replication r shares its workload at every grid point and strategy).\n",
        decision_text(&decision)
    );
    let v = match verdict(&decision, &[], &data) {
        Ok(v) => v,
        Err(e) => {
            let _ = writeln!(o, "No recommendation: {e}.\n");
            return o;
        }
    };
    let find = |name: &str| v.outcomes.iter().position(|x| x.strategy == name);
    let figures = |i: usize| {
        let out = &v.outcomes[i];
        let mut f = vec![format!(
            "{} {}",
            decision.objective.column,
            out.objective.display(3)
        )];
        f.extend(
            out.checks
                .iter()
                .map(|c| format!("{} {}", c.constraint.column, c.value.display(3))),
        );
        f.join(", ")
    };
    match v.recommended.as_deref().and_then(find) {
        Some(r) => {
            let _ = writeln!(o, "**{}**: {}.\n", cfgs[r].label(meta), figures(r));
            for line in tie_sentences(meta, &cfgs, &v, r) {
                let _ = writeln!(o, "{line}\n");
            }
        }
        None => {
            let closest = v.closest.as_deref().and_then(find);
            let _ = writeln!(
                o,
                "**No configuration meets every constraint.**{}\n",
                closest.map_or(String::new(), |c| format!(
                    " The closest is {}: {}.",
                    cfgs[c].label(meta),
                    figures(c)
                ))
            );
        }
    }
    let failing: Vec<String> = v
        .outcomes
        .iter()
        .filter(|x| !x.feasible)
        .map(|x| {
            let f: Vec<String> = x
                .failures()
                .map(|c| {
                    format!(
                        "{} {:.3} misses `{}`",
                        c.constraint.column, c.value.mean, c.constraint
                    )
                })
                .collect();
            format!("{} ({})", x.strategy, f.join("; "))
        })
        .collect();
    if !failing.is_empty() {
        let more = failing.len().saturating_sub(MAX_FAILING);
        let _ = writeln!(
            o,
            "Excluded by a constraint ({} of {} configurations): {}{}.\n",
            failing.len(),
            v.outcomes.len(),
            failing[..failing.len().min(MAX_FAILING)].join("; "),
            if more > 0 {
                format!("; and {more} more")
            } else {
                String::new()
            }
        );
    }
    let over: Vec<String> = (0..meta.points())
        .filter(|&p| meta.overloaded(p))
        .map(|p| {
            format!(
                "`{}` (ρ = {:.2})",
                meta.point_label(p),
                meta.rho_at(p).unwrap_or(f64::NAN)
            )
        })
        .collect();
    if !over.is_empty() {
        let _ = writeln!(
            o,
            "**Overloaded grid points** (offered load per worker ρ ≥ 1: queues grow until \
             requests are rejected; `overloaded` in `sweep_summary.csv`): {}.\n",
            over.join(", ")
        );
    }
    if meta.replications < 2 {
        let _ = writeln!(
            o,
            "With one replication there is no interval: ties are exact equalities only; run \
             more replications before trusting a difference.\n"
        );
    }

    let _ = writeln!(o, "### Per strategy\n");
    let _ = writeln!(
        o,
        "| strategy | best {} | at | indistinguishable there | configurations failing a constraint |\n|---|---|---|---|---|",
        decision.objective.column
    );
    for (s, name) in meta.strategies.iter().enumerate() {
        let mine: Vec<usize> = (0..cfgs.len()).filter(|&i| cfgs[i].strategy == s).collect();
        if mine.is_empty() {
            continue;
        }
        let sub: Vec<Replicated> = mine.iter().map(|&i| data[i].clone()).collect();
        let Ok(sv) = verdict(&decision, &[], &sub) else {
            continue;
        };
        let fails = sv.outcomes.iter().filter(|x| !x.feasible).count();
        let pick = sv
            .recommended
            .as_deref()
            .or(sv.closest.as_deref())
            .and_then(|n| sv.outcomes.iter().position(|x| x.strategy == n))
            .unwrap_or(0);
        let c = &cfgs[mine[pick]];
        let at = if c.values.is_empty() {
            if meta.params.is_empty() {
                "-".to_string()
            } else {
                "every grid point: no swept parameter applies to it".to_string()
            }
        } else {
            let kv: Vec<String> = c.values.iter().map(|(k, v)| format!("{k}={v}")).collect();
            format!(
                "`{}`{}",
                kv.join(","),
                if sv.recommended.is_none() {
                    " (fails a constraint)"
                } else {
                    ""
                }
            )
        };
        let ties: Vec<String> = sv
            .indistinguishable
            .iter()
            .filter_map(|n| sv.outcomes.iter().position(|x| &x.strategy == n))
            .map(|i| {
                let kv: Vec<String> = cfgs[mine[i]]
                    .values
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect();
                format!("`{}`", kv.join(","))
            })
            .collect();
        let _ = writeln!(
            o,
            "| `{name}` | {} | {at} | {} | {fails} of {} |",
            sv.outcomes[pick].objective.display(3),
            if ties.is_empty() {
                "-".to_string()
            } else {
                ties.join(", ")
            },
            sv.outcomes.len()
        );
    }
    o.push('\n');
    o
}

#[cfg(test)]
mod tests;
