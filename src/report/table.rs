//! The short table `stickysim run` prints on stdout.

use super::{replicated, single, RunMeta, StrategyResult};
use crate::metrics::{LossCause, RunSummary};
use std::fmt::Write as _;

/// The short table printed on stdout.
pub fn text_table(meta: &RunMeta, results: &[StrategyResult]) -> String {
    text_table_replicated(meta, &single(results))
}

/// The short table printed on stdout, `mean ± half-width` with two or
/// more replications (`reps[s]`: strategy `s`'s summaries).
pub fn text_table_replicated(meta: &RunMeta, reps: &[Vec<RunSummary>]) -> String {
    if reps.first().is_some_and(|r| r.len() > 1) {
        return replicated_table(meta, reps);
    }
    let results: Vec<&RunSummary> = reps.iter().map(|r| &r[0]).collect();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "scenario {} (seed {}, hash {})",
        meta.scenario, meta.seed, meta.scenario_hash
    );
    let header = [
        "strategy",
        "lost%",
        "main cause",
        "failed",
        "rejected",
        "p50 ms",
        "p99 ms",
        "util max",
        "max/mean",
        "top share",
    ];
    let mut rows: Vec<Vec<String>> = vec![header.iter().map(|s| s.to_string()).collect()];
    for s in results {
        let main = LossCause::ALL
            .into_iter()
            .filter(|&c| s.lost(c) > 0)
            .max_by_key(|&c| s.lost(c))
            .map_or("-", LossCause::name);
        rows.push(vec![
            s.strategy.clone(),
            format!("{:.2}", s.sessions_lost_pct),
            main.to_string(),
            s.failed.to_string(),
            s.rejected.to_string(),
            format!("{:.1}", s.latency_p50_ms),
            format!("{:.1}", s.latency_p99_ms),
            format!("{:.2}", s.util_max),
            format!("{:.2}", s.imbalance_util_max_over_mean),
            format!("{:.1}%", 100.0 * s.max_backend_request_share),
        ]);
    }
    align(&mut out, rows);
    out
}

/// The replicated table: means ± 95 % half-widths.
fn replicated_table(meta: &RunMeta, reps: &[Vec<RunSummary>]) -> String {
    let mut out = String::new();
    let n = reps[0].len();
    let _ = writeln!(
        out,
        "scenario {} (seed {}, hash {}), {n} replications: mean ± 95 % half-width",
        meta.scenario, meta.seed, meta.scenario_hash
    );
    let header = [
        "strategy",
        "lost%",
        "failed%",
        "rejected%",
        "p50 ms",
        "p99 ms",
        "util max",
        "max/mean",
        "top share%",
    ];
    let mut rows: Vec<Vec<String>> = vec![header.iter().map(|s| s.to_string()).collect()];
    for runs in reps {
        let e = replicated::estimates(runs);
        let pm = |c: &str, d: usize, scale: f64| {
            let x = e[c];
            format!(
                "{:.d$} ± {:.d$}",
                x.mean * scale,
                x.half_width.unwrap_or(0.0) * scale
            )
        };
        rows.push(vec![
            runs[0].strategy.clone(),
            pm("sessions_lost_pct", 2, 1.0),
            pm("failed_pct", 2, 1.0),
            pm("rejected_pct", 2, 1.0),
            pm("latency_p50_ms", 1, 1.0),
            pm("latency_p99_ms", 1, 1.0),
            pm("util_max", 2, 1.0),
            pm("imbalance_util_max_over_mean", 2, 1.0),
            pm("max_backend_request_share", 1, 100.0),
        ]);
    }
    align(&mut out, rows);
    out
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
