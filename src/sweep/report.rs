//! `report.md` for a sweep: what was swept, the recommendation the numbers
//! support (with the numbers), the Pareto front of imbalance × loss, a
//! summary table and the charts.
//!
//! The recommendation rule, stated in the report itself: take the
//! configuration (grid point × strategy) with the lowest mean session loss;
//! every configuration whose mean loss lies within that one's 95 %
//! confidence interval is as good on loss as the data can tell; among them,
//! recommend the least imbalanced. Per strategy, the same rule, plus the
//! smallest value of the first parameter whose loss is within the CI of
//! that strategy's best (e.g. the shortest cookie TTL that loses no more
//! sessions than the best TTL, to within the noise).

use super::charts::{pareto_front, Charts, TRADEOFF};
use super::output::{Cell, SweepSummary, CONFIDENCE};
use super::SweepMeta;
use std::fmt::Write as _;

/// Most rows of the summary table in the report (the CSV has them all).
pub const MAX_TABLE_ROWS: usize = 120;

fn pm(mean: f64, hw: Option<f64>, decimals: usize) -> String {
    match hw {
        Some(h) => format!("{mean:.decimals$} ± {h:.decimals$}"),
        None => format!("{mean:.decimals$}"),
    }
}

/// The cells whose mean loss is within the CI of the lowest-loss cell of
/// `cells`, and that best cell.
fn within_best<'a>(cells: &[&'a Cell], loss: usize) -> Option<(&'a Cell, Vec<&'a Cell>)> {
    let best = cells
        .iter()
        .filter(|c| c.stats[loss].mean.is_finite())
        .min_by(|a, b| a.stats[loss].mean.total_cmp(&b.stats[loss].mean))?;
    let bound = best.stats[loss].mean + best.stats[loss].half_width.unwrap_or(0.0);
    let near = cells
        .iter()
        .copied()
        .filter(|c| c.stats[loss].mean <= bound)
        .collect();
    Some((best, near))
}

/// The cell of `cells` with the lowest mean of metric `m`.
fn least<'a>(cells: &[&'a Cell], m: usize) -> Option<&'a Cell> {
    cells
        .iter()
        .copied()
        .min_by(|a, b| a.stats[m].mean.total_cmp(&b.stats[m].mean))
}

/// Whether the grid leaves strategy `s` alone: every one of its cells has
/// the same figures (common random numbers make its runs identical).
fn untouched(summary: &SweepSummary, s: usize) -> bool {
    let mut mine = summary.cells.iter().filter(|c| c.strategy == s);
    let Some(first) = mine.next() else {
        return false;
    };
    let mut others = mine.peekable();
    others.peek().is_some() && others.all(|c| c.stats == first.stats)
}

/// "`strategy` at `k=v,…`", or for a strategy the grid does not change,
/// "`strategy` (at every grid point)".
fn cell_label(meta: &SweepMeta, summary: &SweepSummary, c: &Cell) -> String {
    let name = &meta.strategies[c.strategy];
    if meta.params.is_empty() {
        format!("`{name}` at the scenario's values")
    } else if untouched(summary, c.strategy) {
        format!("`{name}` (the same at every grid point)")
    } else {
        format!("`{name}` at `{}`", meta.point_label(c.point))
    }
}

/// The two figures the recommendation weighs (session loss and imbalance,
/// by metric index), and how the report names a cell and writes them.
struct Figures<'a> {
    meta: &'a SweepMeta,
    summary: &'a SweepSummary,
    loss: usize,
    imb: usize,
}

impl<'a> Figures<'a> {
    /// `None` when the summary lacks either metric.
    fn new(meta: &'a SweepMeta, summary: &'a SweepSummary) -> Option<Self> {
        Some(Figures {
            meta,
            summary,
            loss: summary.metric_index(TRADEOFF.1)?,
            imb: summary.metric_index(TRADEOFF.0)?,
        })
    }

    fn label(&self, c: &Cell) -> String {
        cell_label(self.meta, self.summary, c)
    }

    fn loss_text(&self, c: &Cell) -> String {
        pm(c.stats[self.loss].mean, c.stats[self.loss].half_width, 3)
    }

    fn imb_text(&self, c: &Cell) -> String {
        pm(c.stats[self.imb].mean, c.stats[self.imb].half_width, 3)
    }
}

/// Whether two cells' intervals of `metric` overlap (a missing interval
/// counts as zero width, so equal means always tie).
fn overlap(a: &Cell, b: &Cell, metric: usize) -> bool {
    let (x, y) = (&a.stats[metric], &b.stats[metric]);
    (x.mean - y.mean).abs() <= x.half_width.unwrap_or(0.0) + y.half_width.unwrap_or(0.0)
}

/// The grid points of `rec`'s strategy among `near` that this sweep cannot
/// tell from `rec` (loss and imbalance intervals both overlap), as a
/// sentence; `None` when `rec` stands alone.
fn ties(meta: &SweepMeta, fig: &Figures, near: &[&Cell], rec: &Cell) -> Option<String> {
    let tied: Vec<&Cell> = near
        .iter()
        .copied()
        .filter(|c| c.strategy == rec.strategy)
        .filter(|c| overlap(c, rec, fig.loss) && overlap(c, rec, fig.imb))
        .collect();
    if tied.len() < 2 {
        return None;
    }
    let names: Vec<String> = if meta.params.len() == 1 {
        tied.iter()
            .map(|c| meta.point_values(c.point)[0].clone())
            .collect()
    } else {
        tied.iter()
            .map(|c| format!("`{}`", meta.point_label(c.point)))
            .collect()
    };
    let (last, rest) = names.split_last().expect("two or more");
    let what = match meta.params.as_slice() {
        [p] => format!("`{}` = ", p.key),
        _ => String::new(),
    };
    Some(format!(
        "For `{}`, {what}{} and {last} are indistinguishable: their loss and max/mean \
         intervals overlap, so this sweep does not decide between them (the one above is \
         only the lowest mean).",
        meta.strategies[rec.strategy],
        rest.join(", ")
    ))
}

/// Renders `report.md`.
pub fn markdown(meta: &SweepMeta, summary: &SweepSummary, charts: &Charts) -> String {
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

    let Some(fig) = Figures::new(meta, summary) else {
        return o;
    };
    let (loss, imb) = (fig.loss, fig.imb);

    o.push_str(&recommendation(meta, summary));

    let pts: Vec<(f64, f64)> = summary
        .cells
        .iter()
        .map(|c| (c.stats[imb].mean, c.stats[loss].mean))
        .collect();
    let front = pareto_front(&pts);
    let _ = writeln!(
        o,
        "### Pareto front of imbalance × loss\n\nConfigurations no other beats on both \
         utilisation max/mean and session loss (means), from most even to least lossy:\n"
    );
    let _ = writeln!(
        o,
        "| configuration | max/mean | sessions lost (%) |\n|---|---|---|"
    );
    for i in front {
        let c = &summary.cells[i];
        let _ = writeln!(
            o,
            "| {} | {} | {} |",
            fig.label(c),
            fig.imb_text(c),
            fig.loss_text(c)
        );
    }
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

/// The recommendation and the per-strategy table (Markdown), also printed
/// on stdout by `sweep` and `merge`.
pub fn recommendation(meta: &SweepMeta, summary: &SweepSummary) -> String {
    let mut o = String::new();
    let Some(fig) = Figures::new(meta, summary) else {
        return o;
    };
    let (loss, imb) = (fig.loss, fig.imb);

    let _ = writeln!(o, "## Recommendation\n");
    let all: Vec<&Cell> = summary.cells.iter().collect();
    if let Some((best, near)) = within_best(&all, loss) {
        if let Some(rec) = least(&near, imb) {
            let _ = writeln!(
                o,
                "**{}**: sessions lost {} %, utilisation max/mean {}.\n",
                fig.label(rec),
                fig.loss_text(rec),
                fig.imb_text(rec)
            );
            let _ = writeln!(
                o,
                "The lowest mean loss is {} ({} %). {} configuration{} ha{} a mean loss within \
                 that interval (≤ {:.3} %); of those, the one above spreads load most evenly.{}\n",
                fig.label(best),
                fig.loss_text(best),
                near.len(),
                if near.len() == 1 { "" } else { "s" },
                if near.len() == 1 { "s" } else { "ve" },
                best.stats[loss].mean + best.stats[loss].half_width.unwrap_or(0.0),
                if meta.replications < 2 {
                    " With one replication there is no interval: run more replications \
                     before trusting a difference."
                } else {
                    ""
                }
            );
            if let Some(line) = ties(meta, &fig, &near, rec) {
                let _ = writeln!(o, "{line}\n");
            }
        }
    }

    let first = meta.params.first();
    let _ = writeln!(o, "### Per strategy\n");
    let mut head = "| strategy | lowest loss (%) | at |".to_string();
    let mut rule = "|---|---|---|".to_string();
    if let Some(p) = first {
        head.push_str(&format!(
            " smallest `{}` within its CI | loss there (%) |",
            p.key
        ));
        rule.push_str("---|---|");
    }
    head.push_str(" least imbalanced within its CI | max/mean there |");
    rule.push_str("---|---|");
    let _ = writeln!(o, "{head}\n{rule}");
    let first_numeric: Option<Vec<f64>> =
        first.and_then(|p| p.values.iter().map(|v| v.parse::<f64>().ok()).collect());
    for (s, name) in meta.strategies.iter().enumerate() {
        let mine: Vec<&Cell> = summary.cells.iter().filter(|c| c.strategy == s).collect();
        let Some((best, near)) = within_best(&mine, loss) else {
            continue;
        };
        let at = |c: &Cell| {
            if meta.params.is_empty() {
                "-".to_string()
            } else {
                format!("`{}`", meta.point_label(c.point))
            }
        };
        // A strategy the grid does not touch (e.g. round robin in a cookie
        // TTL sweep) gives identical runs at every point (common random
        // numbers): say so rather than pick an arbitrary point.
        if untouched(summary, s) {
            let _ =
                writeln!(
                o,
                "| `{name}` | {} | every point: the grid does not change this strategy's runs |{}",
                fig.loss_text(best),
                if first.is_some() { " - | - | - | - |" } else { " - | - |" }
            );
            continue;
        }
        let mut row = format!("| `{name}` | {} | {} |", fig.loss_text(best), at(best));
        if let Some(p) = first {
            let idx0 = |c: &Cell| meta.point_indices(c.point)[0];
            let smallest = match &first_numeric {
                Some(nums) => near.iter().min_by(|a, b| {
                    nums[idx0(a)]
                        .total_cmp(&nums[idx0(b)])
                        .then(a.point.cmp(&b.point))
                }),
                None => near.iter().min_by_key(|c| c.point),
            };
            match smallest {
                Some(c) => {
                    row.push_str(&format!(" {} | {} |", p.values[idx0(c)], fig.loss_text(c)))
                }
                None => row.push_str(" - | - |"),
            }
        }
        match least(&near, imb) {
            Some(pick) => row.push_str(&format!(" {} | {} |", at(pick), fig.imb_text(pick))),
            None => row.push_str(" - | - |"),
        }
        let _ = writeln!(o, "{row}");
    }
    o.push('\n');

    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::MeanCi;
    use crate::sweep::{Param, Shard, LOG_FORMAT};

    fn ci(mean: f64, hw: f64) -> MeanCi {
        MeanCi {
            n: 5,
            mean,
            sd: Some(hw),
            half_width: Some(hw),
        }
    }

    #[test]
    fn the_recommendation_is_the_least_imbalanced_within_the_best_loss_ci() {
        let meta = SweepMeta {
            format: LOG_FORMAT.into(),
            scenario: "s".into(),
            scenario_hash: "h".into(),
            seed: 1,
            replications: 5,
            params: vec![Param {
                key: "strategies.c.ttl".into(),
                values: ["900", "60", "300", "3600"].map(String::from).to_vec(),
            }],
            strategies: vec!["c".into(), "rr".into()],
            stickysim_version: "0".into(),
            fingerprint: "f".into(),
            runs_total: 40,
            shard: Shard::ALL,
            shared: Vec::new(),
        };
        // (loss, imbalance) per TTL in the order above: 3600 has the lowest
        // loss (1.0 ± 0.5); 900 (1.4) and 300 (1.2) are within its CI, 60 is not.
        let mut cells: Vec<Cell> = [(1.4, 1.30), (9.0, 1.01), (1.2, 1.20), (1.0, 1.50)]
            .iter()
            .enumerate()
            .map(|(point, &(loss, imb))| Cell {
                point,
                strategy: 0,
                kind: "lb_cookie".into(),
                stats: vec![ci(loss, 0.5), ci(imb, 0.01)],
            })
            .collect();
        // Round robin: the TTL does not change its runs.
        cells.extend((0..4).map(|point| Cell {
            point,
            strategy: 1,
            kind: "round_robin".into(),
            stats: vec![ci(40.0, 1.0), ci(1.05, 0.01)],
        }));
        let summary = SweepSummary {
            metrics: vec!["sessions_lost_pct", "imbalance_util_max_over_mean"],
            strategies: 2,
            cells,
        };
        let text = recommendation(&meta, &summary);
        assert!(
            text.contains("**`c` at `strategies.c.ttl=300`**: sessions lost 1.200 ± 0.500 %"),
            "{text}"
        );
        assert!(text.contains("The lowest mean loss is `c` at `strategies.c.ttl=3600`"));
        assert!(text.contains("3 configurations have a mean loss within that interval (≤ 1.500 %)"));
        // Per strategy: the smallest TTL within the best's CI is 300, not 60.
        assert!(
            text.contains(
                "| `c` | 1.000 ± 0.500 | `strategies.c.ttl=3600` | 300 | 1.200 ± 0.500 |"
            ),
            "{text}"
        );
        assert!(
            text.contains("| `rr` | 40.000 ± 1.000 | every point: the grid does not change"),
            "{text}"
        );
    }
}
