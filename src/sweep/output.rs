//! A finished sweep's files, rendered from its meta and records alone (so
//! `merge` renders exactly what an unsharded sweep would): `sweep.csv`
//! (one row per run), `sweep_summary.csv` and `sweep_summary.json` (one row
//! per grid point and strategy: mean and 95 % Student t confidence
//! interval of every metric), `report.md` and PNG charts. Columns are
//! documented in `docs/output.md`.

use super::{charts, report, RunRecord, SweepMeta};
use crate::report::{CsvOut, IDENTITY_COLUMNS, SUMMARY_COLUMNS};
use crate::stats::{mean_ci, MeanCi};
use serde::Serialize;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// Confidence level of every interval in a sweep's outputs.
pub const CONFIDENCE: f64 = 0.95;

/// Columns of `summary.csv` that identify rather than measure (`sticky`
/// follows from `kind`).
const LABEL_COLUMNS: &[&str] = &["strategy", "kind", "sticky"];

/// The metrics of a sweep: every numeric column of `summary.csv`, in its
/// order (so columns added there appear here too).
pub fn metric_names(records: &[RunRecord]) -> Vec<&'static str> {
    let sample = records
        .first()
        .map(|r| serde_json::to_value(&r.summary).expect("summaries serialise"));
    SUMMARY_COLUMNS
        .iter()
        .map(|(name, _)| *name)
        .filter(|name| !LABEL_COLUMNS.contains(name))
        .filter(|name| match &sample {
            Some(v) => v.get(*name).is_none_or(Value::is_number),
            None => true,
        })
        .collect()
}

/// A metric's value in a run (its summary as JSON), at full precision.
fn number(v: &Value, rec: &RunRecord, name: &str) -> f64 {
    if let Some(x) = v.get(name).and_then(Value::as_f64) {
        return x;
    }
    // A column that is not a field of the summary: its rendered value.
    SUMMARY_COLUMNS
        .iter()
        .find(|(n, _)| *n == name)
        .and_then(|(_, get)| get(&rec.summary).parse().ok())
        .unwrap_or(f64::NAN)
}

/// One grid point × strategy of a sweep, over its replications.
#[derive(Debug, Clone)]
pub struct Cell {
    /// Index of the grid point.
    pub point: usize,
    /// Index into [`SweepMeta::strategies`].
    pub strategy: usize,
    /// The strategy's kind.
    pub kind: String,
    /// One per metric of [`SweepSummary::metrics`].
    pub stats: Vec<MeanCi>,
}

/// Every cell of a sweep.
#[derive(Debug, Clone)]
pub struct SweepSummary {
    /// The metrics summarised, in column order.
    pub metrics: Vec<&'static str>,
    /// Strategies in the sweep.
    pub strategies: usize,
    /// In canonical order: grid point, then strategy.
    pub cells: Vec<Cell>,
}

impl SweepSummary {
    /// The position of metric `name` in [`SweepSummary::metrics`].
    pub fn metric_index(&self, name: &str) -> Option<usize> {
        self.metrics.iter().position(|m| *m == name)
    }

    /// The cell of `point` and `strategy`: directly by position when the
    /// sweep is complete (cells are in canonical order), else by search.
    pub fn cell(&self, point: usize, strategy: usize) -> Option<&Cell> {
        let direct = point
            .checked_mul(self.strategies)
            .and_then(|i| i.checked_add(strategy))
            .and_then(|i| self.cells.get(i));
        match direct {
            Some(c) if c.point == point && c.strategy == strategy => Some(c),
            _ => self
                .cells
                .iter()
                .find(|c| c.point == point && c.strategy == strategy),
        }
    }
}

/// Groups records (in canonical order) by grid point and strategy.
pub fn summarize(meta: &SweepMeta, records: &[RunRecord]) -> SweepSummary {
    let metrics = metric_names(records);
    let mut cells = Vec::new();
    let mut i = 0;
    while i < records.len() {
        let (point, strategy) = (records[i].point, &records[i].strategy);
        let j = i + records[i..]
            .iter()
            .take_while(|r| r.point == point && &r.strategy == strategy)
            .count();
        let values: Vec<Value> = records[i..j]
            .iter()
            .map(|r| serde_json::to_value(&r.summary).expect("summaries serialise"))
            .collect();
        let stats = metrics
            .iter()
            .map(|m| {
                let xs: Vec<f64> = values
                    .iter()
                    .zip(&records[i..j])
                    .map(|(v, r)| number(v, r, m))
                    .collect();
                mean_ci(&xs, CONFIDENCE).expect("a cell has at least one run")
            })
            .collect();
        cells.push(Cell {
            point,
            strategy: meta
                .strategies
                .iter()
                .position(|s| s == strategy)
                .unwrap_or(usize::MAX),
            kind: records[i].summary.kind.clone(),
            stats,
        });
        i = j;
    }
    SweepSummary {
        metrics,
        strategies: meta.strategies.len(),
        cells,
    }
}

fn param_header(meta: &SweepMeta) -> Vec<String> {
    meta.params.iter().map(|p| p.key.clone()).collect()
}

/// `sweep.csv`: one row per run, in canonical order.
pub fn sweep_csv(meta: &SweepMeta, records: &[RunRecord]) -> String {
    let mut head = param_header(meta);
    head.extend(["strategy", "kind", "replication", "seed", "shared"].map(String::from));
    head.extend(
        SUMMARY_COLUMNS
            .iter()
            .filter(|(n, _)| !LABEL_COLUMNS.contains(n))
            .map(|(n, _)| n.to_string()),
    );
    head.extend(["scenario", "scenario_hash"].map(String::from));
    let mut out = CsvOut::with_header(&head);
    for r in records {
        let mut row: Vec<String> = r.params.clone();
        row.push(r.strategy.clone());
        row.push(r.summary.kind.clone());
        row.push(r.replication.to_string());
        row.push(r.seed.to_string());
        row.push(r.shared.to_string());
        row.extend(
            SUMMARY_COLUMNS
                .iter()
                .filter(|(n, _)| !LABEL_COLUMNS.contains(n))
                .map(|(_, get)| get(&r.summary)),
        );
        row.push(meta.scenario.clone());
        row.push(meta.scenario_hash.clone());
        out.row(&row);
    }
    out.finish()
}

/// A mean or half-width as written in `sweep_summary.csv`.
pub fn fmt_stat(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.6}")
    } else {
        String::new()
    }
}

/// `sweep_summary.csv`: one row per grid point and strategy, with the grid
/// point's offered load per worker (`rho`) and whether it overloads
/// (`overloaded`, ρ ≥ 1).
pub fn summary_csv(meta: &SweepMeta, summary: &SweepSummary) -> String {
    let mut head = param_header(meta);
    head.extend(
        [
            "strategy",
            "kind",
            "replications",
            "shared",
            "rho",
            "overloaded",
        ]
        .map(String::from),
    );
    for m in &summary.metrics {
        head.push(format!("{m}_mean"));
        head.push(format!("{m}_ci95"));
    }
    head.extend(IDENTITY_COLUMNS.map(String::from));
    let mut out = CsvOut::with_header(&head);
    for c in &summary.cells {
        let mut row: Vec<String> = meta.point_values(c.point);
        row.push(meta.strategies[c.strategy].clone());
        row.push(c.kind.clone());
        row.push(c.stats.first().map_or(0, |s| s.n).to_string());
        row.push((c.strategy < meta.strategies.len() && meta.is_shared(c.strategy)).to_string());
        row.push(meta.rho_at(c.point).map_or(String::new(), fmt_stat));
        row.push(meta.overloaded(c.point).to_string());
        for s in &c.stats {
            row.push(fmt_stat(s.mean));
            row.push(s.half_width.map_or(String::new(), fmt_stat));
        }
        row.push(meta.scenario.clone());
        row.push(meta.seed.to_string());
        row.push(meta.scenario_hash.clone());
        out.row(&row);
    }
    out.finish()
}

/// A parameter value as JSON: a number when it is one, else the text.
fn json_value(s: &str) -> Value {
    if let Ok(i) = s.parse::<i64>() {
        return json!(i);
    }
    match s.parse::<f64>() {
        Ok(x) if x.is_finite() => json!(x),
        _ => json!(s),
    }
}

/// A finite number, or `null`.
fn finite(x: Option<f64>) -> Option<f64> {
    x.filter(|x| x.is_finite())
}

#[derive(Serialize)]
struct StatJson {
    mean: Option<f64>,
    ci95: Option<f64>,
    sd: Option<f64>,
}

#[derive(Serialize)]
struct CellJson<'a> {
    params: Map<String, Value>,
    strategy: &'a str,
    kind: &'a str,
    replications: usize,
    shared: bool,
    rho: Option<f64>,
    overloaded: bool,
    metrics: BTreeMap<&'static str, StatJson>,
}

#[derive(Serialize)]
struct SummaryJson<'a> {
    sweep: &'a SweepMeta,
    confidence: f64,
    metrics: &'a [&'static str],
    cells: Vec<CellJson<'a>>,
}

/// `sweep_summary.json`: the sweep's identity and every cell, full
/// precision (typed structs, not a `Value` tree: large grids stay small).
pub fn summary_json(meta: &SweepMeta, summary: &SweepSummary) -> String {
    let cells = summary
        .cells
        .iter()
        .map(|c| CellJson {
            params: meta
                .params
                .iter()
                .zip(meta.point_values(c.point))
                .map(|(p, v)| (p.key.clone(), json_value(&v)))
                .collect(),
            strategy: &meta.strategies[c.strategy],
            kind: &c.kind,
            replications: c.stats.first().map_or(0, |s| s.n),
            shared: meta.is_shared(c.strategy),
            rho: finite(meta.rho_at(c.point)),
            overloaded: meta.overloaded(c.point),
            metrics: summary
                .metrics
                .iter()
                .zip(&c.stats)
                .map(|(m, s)| {
                    (
                        *m,
                        StatJson {
                            mean: finite(Some(s.mean)),
                            ci95: finite(s.half_width),
                            sd: finite(s.sd),
                        },
                    )
                })
                .collect(),
        })
        .collect();
    let doc = SummaryJson {
        sweep: meta,
        confidence: CONFIDENCE,
        metrics: &summary.metrics,
        cells,
    };
    let mut s = serde_json::to_string_pretty(&doc).expect("summary serialises");
    s.push('\n');
    s
}

/// Every output file of a whole sweep, by name.
pub fn render_all(meta: &SweepMeta, records: &[RunRecord]) -> Vec<(String, Vec<u8>)> {
    let summary = summarize(meta, records);
    let mut files = vec![
        (
            "sweep.csv".to_string(),
            sweep_csv(meta, records).into_bytes(),
        ),
        (
            "sweep_summary.csv".to_string(),
            summary_csv(meta, &summary).into_bytes(),
        ),
        (
            "sweep_summary.json".to_string(),
            summary_json(meta, &summary).into_bytes(),
        ),
    ];
    let charts = charts::render(meta, &summary, records);
    let md = report::markdown(meta, &summary, records, &charts);
    let drawn: Vec<(String, crate::report::charts::Drawn)> =
        charts.into_iter().map(|c| (c.file, c.drawn)).collect();
    let refs: Vec<(&str, &crate::report::charts::Drawn)> =
        drawn.iter().map(|(n, d)| (n.as_str(), d)).collect();
    let html = crate::report::html::render(&crate::report::html::Page {
        title: &format!("Sweep of {}", meta.scenario),
        markdown: &md,
        charts: &refs,
        lead_chart: Some("sweep_tradeoff.png"),
        lead_after: "**`",
        tables: Vec::new(),
    });
    files.push(("report.md".to_string(), md.into_bytes()));
    files.push(("report.html".to_string(), html.into_bytes()));
    files.extend(drawn.into_iter().map(|(n, d)| (n, d.png)));
    files
}
