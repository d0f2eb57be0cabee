//! Chart 6, `instances.png`: instances in service over time, one line per
//! strategy, with one grey band (all strategies) up to the instances
//! provisioned (booting, draining).
//! Drawn when the run varies its capacity (see [`wanted`]).

use super::events::{events_for, markers, CAPACITY_EVENTS};
use super::*;
use crate::report::data::RunData;
use std::collections::BTreeMap;

/// Whether the run has something to show: `instances.csv` whose counts
/// vary, or deploy / scaling events.
pub fn wanted(data: &RunData) -> bool {
    let varies = data.instances.as_ref().is_some_and(|rows| {
        rows.iter()
            .any(|r| rows.first().is_some_and(|f| r.provisioned != f.provisioned))
    });
    let capacity_events = data
        .events
        .as_ref()
        .is_some_and(|ev| ev.iter().any(|e| CAPACITY_EVENTS.contains(&e.event)));
    varies || capacity_events
}

/// Per strategy: `(t_start_s, t_end_s, in_service, provisioned)` per bucket,
/// from `instances.csv`, or else counted from `backends.csv` (`lb_up` and
/// `alive` at each bucket's end).
fn series(data: &RunData, s: usize) -> Vec<(f64, f64, f64, f64)> {
    if let Some(rows) = &data.instances {
        return rows
            .iter()
            .filter(|r| r.strategy == s)
            .map(|r| (r.t_start_s, r.t_end_s, r.in_service, r.provisioned))
            .collect();
    }
    let mut out: Vec<(f64, f64, f64, f64)> = Vec::new();
    for r in data.backend_rows(s) {
        match out.last_mut() {
            Some(b) if b.0 == r.t_start_s => {
                b.2 += r.lb_up as u8 as f64;
                b.3 += r.alive as u8 as f64;
            }
            _ => out.push((
                r.t_start_s,
                r.t_end_s,
                r.lb_up as u8 as f64,
                r.alive as u8 as f64,
            )),
        }
    }
    out
}

/// Renders `instances.png`.
pub fn instances(data: &RunData) -> Result<Vec<u8>, ChartError> {
    let end = data.end_s();
    let (div, unit) = time_unit(end);
    let mut lines = Vec::new();
    let mut ymax: f64 = 1.0;
    // One neutral band for all strategies, from the fewest in service to the
    // most provisioned in each bucket: strategy-coloured bands stacked on
    // each other mix into mud.
    let mut spare: BTreeMap<u64, (f64, f64, f64)> = BTreeMap::new();
    for s in 0..data.strategies.len() {
        let rows = series(data, s);
        // Steps: each bucket's count held over the bucket.
        let mut pts = Vec::new();
        for &(t0, t1, inn, prov) in &rows {
            pts.push((t0 / div, inn));
            pts.push((t1 / div, inn));
            ymax = ymax.max(prov).max(inn);
            let b = spare
                .entry(t0.max(0.0).to_bits())
                .or_insert((t1, inn, prov.max(inn)));
            b.1 = b.1.min(inn);
            b.2 = b.2.max(prov).max(inn);
        }
        let mut line = Line::new(data.strategies[s].clone(), colour(s), pts);
        // Strategies often share the same counts (a deploy is the same for
        // all): earlier ones are drawn wider, so every line stays visible.
        // Steps of 2 px, capped, so the widest stays a line, not a ribbon.
        line.width = (3 + 2 * (data.strategies.len() - 1 - s) as u32).min(13);
        lines.push(line);
    }
    let band: Vec<(f64, f64, f64)> = spare
        .iter()
        .flat_map(|(&t0, &(t1, lo, hi))| [(f64::from_bits(t0) / div, lo, hi), (t1 / div, lo, hi)])
        .collect();
    if band.iter().any(|b| b.2 > b.1) {
        lines.insert(
            0,
            Line {
                name: None,
                colour: RGBColor(60, 60, 60),
                width: 0,
                points: Vec::new(),
                band,
                dots: 0,
                band_edges: false,
            },
        );
    }
    let all_events: Vec<_> = (0..data.strategies.len())
        .flat_map(|s| events_for(data, s))
        .filter(|e| CAPACITY_EVENTS.contains(&e.event) && e.backend.is_none())
        .collect();
    let spec = LineChart {
        title: "Instances in service over time (grey: booting or draining)".into(),
        x_label: format!("time ({unit})"),
        y_label: "instances".into(),
        lines,
        markers: markers(&all_events, div, end / div, 8),
        y_range: Some((0.0, (ymax * 1.15).ceil())),
        x_ticks: None,
        guides: Vec::new(),
    };
    line_chart(&spec)
}
