//! Chart 2, `load.png`: per-backend utilisation over time, one panel per
//! strategy on the same y scale: the mean over running backends (line), the
//! min–max spread (band), and with at most [`MAX_BACKEND_LINES`] backends
//! one thin line per backend; events marked.

use super::events::{events_for, markers};
use super::*;
use crate::report::data::RunData;

/// Up to this many backends, each gets its own thin line.
pub const MAX_BACKEND_LINES: u32 = 12;

/// Renders `load.png`.
pub fn load(data: &RunData) -> Result<Vec<u8>, ChartError> {
    render_png("load", WIDTH, HEIGHT, |root| draw(root, data))
}

fn draw(root: &Area, data: &RunData) -> DrawResult {
    let title = if data.backend_count <= MAX_BACKEND_LINES {
        "Utilisation over time: each backend (thin), mean (bold), min–max (band)"
    } else {
        "Utilisation over time: mean of running backends (line), min–max (band)"
    };
    let area = titled(root, title)?;
    let n = data.strategies.len();
    let cols = if n <= 2 { 1 } else { 2 };
    let end = data.end_s();
    let (div, unit) = time_unit(end);
    let ymax = data
        .backends
        .iter()
        .map(|r| r.utilisation * 100.0)
        .fold(0.0, f64::max);
    let y_range = axis_range(0.0, ymax.max(1.0), true);
    let styles = panel_styles(n, cols, TICK_PX + 4);
    for (s, panel) in panels(&area, n, cols).iter().enumerate() {
        let c = colour(s);
        // Per bucket start: (end, values of running backends).
        let mut buckets: Vec<(f64, f64, Vec<f64>)> = Vec::new();
        // Per backend: runs of buckets while it was running (a crash breaks the line).
        let mut per_backend: Vec<Vec<Vec<(f64, f64)>>> =
            vec![vec![Vec::new()]; data.backend_count as usize];
        for r in data.backend_rows(s) {
            let mid = (r.t_start_s + r.t_end_s) / 2.0 / div;
            let runs = &mut per_backend[r.backend as usize];
            if r.alive {
                runs.last_mut()
                    .expect("one run at least")
                    .push((mid, r.utilisation * 100.0));
            } else if runs.last().is_some_and(|l| !l.is_empty()) {
                runs.push(Vec::new());
            }
            match buckets.last_mut() {
                Some(b) if b.0 == mid => {
                    if r.alive {
                        b.2.push(r.utilisation * 100.0)
                    }
                }
                _ => buckets.push((
                    mid,
                    0.0,
                    if r.alive {
                        vec![r.utilisation * 100.0]
                    } else {
                        vec![]
                    },
                )),
            }
        }
        let mut mean = Vec::new();
        let mut band = Vec::new();
        for (x, _, vals) in &buckets {
            if vals.is_empty() {
                continue;
            }
            let m = vals.iter().sum::<f64>() / vals.len() as f64;
            let lo = vals.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = vals.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            mean.push((*x, m));
            band.push((*x, lo, hi));
        }
        let mut lines = Vec::new();
        if data.backend_count <= MAX_BACKEND_LINES {
            for pts in per_backend.into_iter().flatten().filter(|p| !p.is_empty()) {
                lines.push(Line {
                    name: None,
                    colour: tint(c, 0.45),
                    width: 1,
                    points: pts,
                    band: Vec::new(),
                    dots: 0,
                });
            }
        }
        let mut m = Line::new("mean of backends", c, mean).with_band(band);
        m.width = 4;
        lines.push(m);
        let span = end / div;
        let spec = LineChart {
            title: data.strategies[s].clone(),
            x_label: format!("time ({unit})"),
            y_label: "utilisation (%)".into(),
            lines,
            // Small panels: marker lines only (the heatmap labels the events).
            markers: markers(&events_for(data, s), div, span, if n <= 2 { 4 } else { 0 }),
            y_range: Some(y_range),
            x_ticks: None,
        };
        draw_line_chart_in(panel, &spec, &styles[s])?;
    }
    Ok(())
}
