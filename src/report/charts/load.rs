//! Chart 2, `load.png`: per-backend utilisation over time, one panel per
//! strategy on the same y scale: the mean over running backends (line), the
//! min–max spread (band), and with at most [`MAX_BACKEND_LINES`] backends
//! one thin muted line per backend; the hottest backend (highest mean
//! utilisation) in a strong colour, named in the panel's title; events marked.

use super::events::{events_for, markers};
use super::*;
use crate::report::data::RunData;

/// Up to this many backends, each gets its own thin line.
pub const MAX_BACKEND_LINES: u32 = 12;

/// The hottest backend's line: strong, the same in every panel.
const HOT: RGBColor = RGBColor(0, 0, 0);

/// Every other backend's line.
const MUTED: RGBColor = RGBColor(190, 190, 190);

/// Renders `load.png`.
pub fn load(data: &RunData) -> Result<Vec<u8>, ChartError> {
    render_png("load", WIDTH, HEIGHT, |root| draw(root, data))
}

fn draw(root: &Area, data: &RunData) -> DrawResult {
    let title = if data.backend_count <= MAX_BACKEND_LINES {
        "Utilisation: hottest backend (black), others (grey), mean (colour)"
    } else {
        "Utilisation: hottest backend (black), mean of running backends (colour)"
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
        // The hottest backend: the highest mean utilisation over the
        // buckets it ran (lowest index on ties), drawn in a strong colour
        // and named in the panel's title; the others muted.
        let hottest = per_backend
            .iter()
            .enumerate()
            .filter_map(|(b, runs)| {
                let (sum, k) = runs
                    .iter()
                    .flatten()
                    .fold((0.0, 0usize), |(a, k), p| (a + p.1, k + 1));
                (k > 0).then(|| (b, sum / k as f64))
            })
            .fold(None, |best: Option<(usize, f64)>, (b, m)| match best {
                Some((_, bm)) if bm >= m => best,
                _ => Some((b, m)),
            });
        let mut lines = Vec::new();
        let all_lines = data.backend_count <= MAX_BACKEND_LINES;
        for (b, runs) in per_backend.into_iter().enumerate() {
            let hot = hottest.is_some_and(|(h, _)| h == b);
            if !all_lines && !hot {
                continue;
            }
            for pts in runs.into_iter().filter(|p| !p.is_empty()) {
                let line = Line {
                    name: None,
                    colour: if hot { HOT } else { MUTED },
                    width: if hot { 2 } else { 1 },
                    points: pts,
                    band: Vec::new(),
                    dots: 0,
                };
                // The hottest last, on top of the muted ones.
                if hot {
                    lines.push(line);
                } else {
                    lines.insert(0, line);
                }
            }
        }
        let mut m = Line::new("mean of backends", c, mean).with_band(band);
        m.width = 4;
        lines.push(m);
        let span = end / div;
        let spec = LineChart {
            title: match hottest {
                Some((b, m)) => format!("{}: hottest b{b}, mean {m:.1}%", data.strategies[s]),
                None => data.strategies[s].clone(),
            },
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
