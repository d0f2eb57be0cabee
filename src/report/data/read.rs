//! The files of a run directory, each read into its rows.

use super::reader::Csv;
use super::{
    err, BackendRow, EventRow, InputError, InstanceCsvRow, PercentileRow, SummaryTable,
    REQUIRED_NUMERIC,
};
use crate::metrics::{ControlKind, LossCause};
use crate::report::RunMeta;

pub(super) fn read_summary(bytes: &[u8], meta: &RunMeta) -> Result<SummaryTable, InputError> {
    let csv = Csv::parse("summary.csv", bytes)?;
    let strategy_col = csv.col("strategy")?;
    let kind_col = csv.col("kind")?;
    let sticky_col = csv.col("sticky").ok();
    let id = csv.identity_cols()?;
    let mut numeric: Vec<usize> = Vec::new();
    for name in REQUIRED_NUMERIC {
        numeric.push(csv.col(name)?);
    }
    numeric.extend(
        csv.header
            .iter()
            .enumerate()
            .filter(|(_, h)| h.starts_with("lost_"))
            .map(|(i, _)| i),
    );
    let loss_columns = loss_columns(&csv)?;
    let mut rows = Vec::new();
    let mut kinds = Vec::new();
    let mut sticky = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    for (line, rec) in &csv.records {
        csv.check_identity(*line, rec, id, meta)?;
        // Names become file names and report text: the scenario's rule.
        let name = rec.get(strategy_col).unwrap_or("");
        if !crate::scenario::is_valid_name(name) {
            return Err(csv.cell_err(*line, strategy_col, crate::scenario::NAME_RULE, name));
        }
        if seen.contains(&name) {
            return Err(csv.cell_err(*line, strategy_col, "a strategy named once", name));
        }
        seen.push(name);
        for &c in &numeric {
            csv.f64_at(*line, rec, c)?;
        }
        let kind = csv.kind_at(*line, rec, kind_col)?;
        sticky.push(match sticky_col {
            Some(c) => csv.bool_at(*line, rec, c)?,
            None => kind.is_sticky(),
        });
        kinds.push(kind);
        rows.push(rec.iter().map(String::from).collect());
    }
    if rows.is_empty() {
        return Err(err("summary.csv", "one row per strategy", "no rows"));
    }
    Ok(SummaryTable {
        header: csv.header,
        rows,
        kinds,
        sticky,
        loss_columns,
    })
}

/// `summary.csv`'s `lost_<cause>` columns (not their `_hw95` half-widths),
/// each cause parsed: an unknown cause is an error naming the column.
fn loss_columns(csv: &Csv) -> Result<Vec<(usize, LossCause)>, InputError> {
    let mut out = Vec::new();
    for (i, h) in csv.header.iter().enumerate() {
        if h.ends_with(crate::report::replicated::HW_SUFFIX) {
            continue;
        }
        let Some(name) = h.strip_prefix("lost_") else {
            continue;
        };
        let cause = LossCause::from_name(name).ok_or_else(|| {
            let names = LossCause::ALL
                .map(|c| format!("`lost_{}`", c.name()))
                .join(", ");
            csv.cell_err(1, i, &format!("a loss-cause column ({names})"), h)
        })?;
        out.push((i, cause));
    }
    Ok(out)
}

/// `replications.csv`: every row's identity and strategy checked, the
/// numeric columns the verdict reads checked as numbers.
pub(super) fn read_replications(
    bytes: &[u8],
    meta: &RunMeta,
    strategies: &[String],
) -> Result<(Vec<String>, Vec<Vec<String>>), InputError> {
    let csv = Csv::parse("replications.csv", bytes)?;
    let strat = csv.col("strategy")?;
    let id = csv.identity_cols()?;
    let numeric: Vec<usize> = crate::metrics::columns::DECISION_COLUMNS
        .iter()
        .filter_map(|c| csv.header.iter().position(|h| h == c))
        .collect();
    let mut rows = Vec::new();
    for (line, rec) in &csv.records {
        csv.check_identity(*line, rec, id, meta)?;
        csv.strategy_at(*line, rec, strat, strategies)?;
        for &c in &numeric {
            csv.f64_at(*line, rec, c)?;
        }
        rows.push(rec.iter().map(String::from).collect());
    }
    Ok((csv.header, rows))
}

pub(super) fn read_meta(bytes: &[u8]) -> Result<RunMeta, InputError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    let m: RunMeta = serde_path_to_error::deserialize(de).map_err(|e| {
        let inner = e.inner();
        InputError {
            file: "summary.json".to_string(),
            line: Some(inner.line() as u64),
            column: Some(inner.column() as u64),
            column_name: Some(e.path().to_string()).filter(|p| p != "."),
            expected: "the run's JSON summary as `stickysim run` writes it".to_string(),
            found: crate::text::cut(&crate::text::terminal(&inner.to_string())),
        }
    })?;
    // Names reach file names and the report: the scenario's rule.
    let bad_name = |field: String, name: &str| InputError {
        file: "summary.json".to_string(),
        line: None,
        column: None,
        column_name: Some(field),
        expected: crate::scenario::NAME_RULE.to_string(),
        found: crate::text::quoted(name),
    };
    if !crate::scenario::is_valid_name(&m.scenario) {
        return Err(bad_name("scenario".into(), &m.scenario));
    }
    if let Some(f) = &m.scenario_facts {
        for (i, c) in f.clients.iter().enumerate() {
            if !crate::scenario::is_valid_name(&c.name) {
                return Err(bad_name(
                    format!("scenario_facts.clients[{i}].name"),
                    &c.name,
                ));
            }
        }
    }
    Ok(m)
}

/// Backend slots a valid run can hold at most: the fleet plus a deploy's
/// surge batch (autoscaling's maximum is within the fleet's limit).
const MAX_SLOTS: u32 = crate::scenario::MAX_BACKENDS + crate::scenario::limits::MAX_BATCH_SIZE;

pub(super) fn read_backends(
    bytes: &[u8],
    meta: &RunMeta,
    strategies: &[String],
) -> Result<Vec<BackendRow>, InputError> {
    let csv = Csv::parse("backends.csv", bytes)?;
    let id = csv.identity_cols()?;
    let [cs, cb, ct0, ct1, creq, cu, ca, cl] = [
        "strategy",
        "backend",
        "t_start_s",
        "t_end_s",
        "requests",
        "utilisation",
        "alive",
        "lb_up",
    ]
    .map(|n| csv.col(n));
    let (cs, cb, ct0, ct1, creq, cu, ca, cl) = (cs?, cb?, ct0?, ct1?, creq?, cu?, ca?, cl?);
    let mut out = Vec::with_capacity(csv.records.len());
    for (line, rec) in &csv.records {
        let line = *line;
        csv.check_identity(line, rec, id, meta)?;
        let b = rec.get(cb).unwrap_or("");
        // Bounded by the most slots a valid run can hold: the index sizes
        // the charts' per-backend arrays.
        let backend = b
            .strip_prefix('b')
            .and_then(|n| n.parse::<u32>().ok())
            .filter(|&n| n < MAX_SLOTS)
            .ok_or_else(|| {
                csv.cell_err(
                    line,
                    cb,
                    &format!("a backend name b0, b1, … below b{MAX_SLOTS}"),
                    b,
                )
            })?;
        out.push(BackendRow {
            strategy: csv.strategy_at(line, rec, cs, strategies)?,
            backend,
            t_start_s: csv.f64_at(line, rec, ct0)?,
            t_end_s: csv.f64_at(line, rec, ct1)?,
            requests: csv.f64_at(line, rec, creq)?,
            utilisation: csv.f64_at(line, rec, cu)?,
            alive: csv.bool_at(line, rec, ca)?,
            lb_up: csv.bool_at(line, rec, cl)?,
        });
    }
    Ok(out)
}

pub(super) fn read_events(
    bytes: &[u8],
    meta: &RunMeta,
    strategies: &[String],
) -> Result<Vec<EventRow>, InputError> {
    let csv = Csv::parse("events.csv", bytes)?;
    let id = csv.identity_cols()?;
    let (cs, ct, ce, cb) = (
        csv.col("strategy")?,
        csv.col("time_s")?,
        csv.col("event")?,
        csv.col("backend")?,
    );
    let mut out = Vec::with_capacity(csv.records.len());
    for (line, rec) in &csv.records {
        let line = *line;
        csv.check_identity(line, rec, id, meta)?;
        let name = rec.get(ce).unwrap_or("");
        let event = ControlKind::from_name(name).ok_or_else(|| {
            let names = ControlKind::ALL
                .map(|k| format!("`{}`", k.name()))
                .join(", ");
            csv.cell_err(line, ce, &format!("an event name ({names})"), name)
        })?;
        out.push(EventRow {
            strategy: csv.strategy_at(line, rec, cs, strategies)?,
            time_s: csv.f64_at(line, rec, ct)?,
            event,
            backend: rec.get(cb).unwrap_or("").to_string(),
        });
    }
    Ok(out)
}

pub(super) fn read_instances(
    bytes: &[u8],
    meta: &RunMeta,
    strategies: &[String],
) -> Result<Vec<InstanceCsvRow>, InputError> {
    let csv = Csv::parse("instances.csv", bytes)?;
    let id = csv.identity_cols()?;
    let (cs, c0, c1, ci, cp) = (
        csv.col("strategy")?,
        csv.col("t_start_s")?,
        csv.col("t_end_s")?,
        csv.col("in_service")?,
        csv.col("provisioned")?,
    );
    let mut out = Vec::with_capacity(csv.records.len());
    for (line, rec) in &csv.records {
        let line = *line;
        csv.check_identity(line, rec, id, meta)?;
        out.push(InstanceCsvRow {
            strategy: csv.strategy_at(line, rec, cs, strategies)?,
            t_start_s: csv.f64_at(line, rec, c0)?,
            t_end_s: csv.f64_at(line, rec, c1)?,
            in_service: csv.f64_at(line, rec, ci)?,
            provisioned: csv.f64_at(line, rec, cp)?,
        });
    }
    Ok(out)
}

pub(super) fn read_percentiles(
    bytes: &[u8],
    meta: &RunMeta,
    strategies: &[String],
) -> Result<Vec<PercentileRow>, InputError> {
    let file = "latency_percentiles.csv";
    let csv = Csv::parse(file, bytes)?;
    let id = csv.identity_cols()?;
    let (cs, cr, cp, cl) = (
        csv.col("strategy")?,
        csv.col("replication")?,
        csv.col("percentile")?,
        csv.col("latency_ms")?,
    );
    let mut out = Vec::with_capacity(csv.records.len());
    for (line, rec) in &csv.records {
        let line = *line;
        csv.check_identity(line, rec, id, meta)?;
        let replication = csv.f64_at(line, rec, cr)?;
        let percentile = csv.f64_at(line, rec, cp)?;
        if !(0.0..=100.0).contains(&percentile) {
            return Err(InputError {
                line: Some(line),
                column: Some(cp as u64 + 1),
                column_name: Some("percentile".into()),
                ..err(file, "a percentile from 0 to 100", percentile.to_string())
            });
        }
        if replication < 0.0
            || replication.fract() != 0.0
            || replication >= meta.replications.max(1) as f64
        {
            return Err(InputError {
                line: Some(line),
                column: Some(cr as u64 + 1),
                column_name: Some("replication".into()),
                ..err(
                    file,
                    format!("a replication from 0 to {}", meta.replications.max(1) - 1),
                    replication.to_string(),
                )
            });
        }
        out.push(PercentileRow {
            strategy: csv.strategy_at(line, rec, cs, strategies)?,
            replication: replication as u32,
            percentile,
            latency_ms: csv.f64_at(line, rec, cl)?,
        });
    }
    Ok(out)
}
