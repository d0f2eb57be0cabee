//! The short table `stickysim run` prints on stdout.

use super::{replicated, single, RunMeta, StrategyResult};
use crate::metrics::{LossCause, RunSummary};
use std::fmt::Write as _;

/// The short table printed on stdout.
pub fn text_table(meta: &RunMeta, results: &[StrategyResult]) -> String {
    text_table_replicated(meta, &single(results))
}

/// The short table printed on stdout, `mean ± half-width` with two or
/// more replications (`reps[s]`: strategy `s`'s summaries). With one
/// replication it is the same table without the `±`, counts instead of
/// shares for failed and rejected requests, and each strategy's main cause
/// of session loss.
pub fn text_table_replicated(meta: &RunMeta, reps: &[Vec<RunSummary>]) -> String {
    let n = reps.first().map_or(1, Vec::len);
    let many = n > 1;
    let mut out = String::new();
    let _ = write!(
        out,
        "scenario {} (seed {}, hash {})",
        meta.scenario, meta.seed, meta.scenario_hash
    );
    if many {
        let _ = write!(out, ", {n} replications: mean ± 95 % half-width");
    }
    out.push('\n');
    let mut header = vec!["strategy", "lost%"];
    if many {
        header.extend(["failed%", "rejected%"]);
    } else {
        header.extend(["main cause", "failed", "rejected"]);
    }
    header.extend(["p50 ms", "p99 ms", "util max", "max/mean"]);
    header.push(if many { "top share%" } else { "top share" });
    let mut rows: Vec<Vec<String>> = vec![header.iter().map(|s| s.to_string()).collect()];
    for runs in reps {
        let e = replicated::estimates(runs);
        // Column `c`'s mean × `scale` to `d` decimals, ± its half-width
        // with replications.
        let fig = |c: &str, d: usize, scale: f64| {
            let x = e[c];
            let mut cell = format!("{:.d$}", x.mean * scale);
            if many {
                let hw = x.half_width.unwrap_or(0.0) * scale;
                cell.push_str(&format!(" ± {hw:.d$}"));
            }
            cell
        };
        let mut row = vec![runs[0].strategy.clone(), fig("sessions_lost_pct", 2, 1.0)];
        if many {
            row.extend([fig("failed_pct", 2, 1.0), fig("rejected_pct", 2, 1.0)]);
        } else {
            row.extend([
                main_cause(&runs[0]),
                fig("failed", 0, 1.0),
                fig("rejected", 0, 1.0),
            ]);
        }
        row.extend([
            fig("latency_p50_ms", 1, 1.0),
            fig("latency_p99_ms", 1, 1.0),
            fig("util_max", 2, 1.0),
            fig("imbalance_util_max_over_mean", 2, 1.0),
        ]);
        let top = fig("max_backend_request_share", 1, 100.0);
        row.push(if many { top } else { format!("{top}%") });
        rows.push(row);
    }
    align(&mut out, rows);
    out
}

/// The cause that lost `s` the most sessions (the later in output order on
/// a tie), or `-` when it lost none.
fn main_cause(s: &RunSummary) -> String {
    LossCause::ALL
        .into_iter()
        .filter(|&c| s.lost(c) > 0)
        .max_by_key(|&c| s.lost(c))
        .map_or("-", LossCause::name)
        .to_string()
}

/// Writes `rows` as aligned columns: the first left-aligned, the others right.
fn align(out: &mut String, rows: Vec<Vec<String>>) {
    let cols = rows.first().map_or(0, Vec::len);
    let widths: Vec<usize> = (0..cols)
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    for row in rows {
        let line: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let pad = " ".repeat(widths[i] - c.chars().count());
                if i == 0 {
                    format!("{c}{pad}")
                } else {
                    format!("{pad}{c}")
                }
            })
            .collect();
        let _ = writeln!(out, "{}", line.join("  ").trim_end());
    }
}
