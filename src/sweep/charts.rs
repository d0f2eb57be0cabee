//! A sweep's charts, drawn with the report's shared style
//! ([`crate::report::charts`]): each key metric against the first swept
//! parameter (mean with its 95 % confidence band, one line per strategy,
//! one chart per combination of the other parameters' values); the
//! imbalance × loss trade-off across every grid point and strategy with the
//! Pareto front marked; and, for two-parameter grids, heatmaps.

use super::output::SweepSummary;
use super::SweepMeta;
use crate::report::charts::{
    self as style, axis_range, font, label_font, render_png, tick_font, Line, LineChart,
    StrategyColours, HEIGHT, TICK_PX, WIDTH,
};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use rayon::prelude::*;

/// Metrics charted against the swept parameter, when present.
pub const KEY_METRICS: &[(&str, &str)] = &[
    ("sessions_lost_pct", "sessions lost (%)"),
    ("imbalance_util_max_over_mean", "utilisation max / mean"),
    (
        "max_backend_request_share",
        "largest request share of one backend",
    ),
    ("latency_p99_ms", "p99 latency (ms)"),
];
/// The trade-off chart's axes: imbalance (x) and loss (y).
pub const TRADEOFF: (&str, &str) = ("imbalance_util_max_over_mean", "sessions_lost_pct");
/// At most this many charts per metric for grids of several parameters.
pub const MAX_SLICES: usize = 8;

/// One rendered chart.
#[derive(Debug, Clone)]
pub struct Chart {
    /// File name in the sweep's output directory.
    pub file: String,
    /// The chart's title, for the report.
    pub title: String,
    /// The encoded PNG.
    pub png: Vec<u8>,
}

/// Charts and notes about charts left out.
#[derive(Debug, Clone, Default)]
pub struct Charts {
    /// The charts drawn.
    pub charts: Vec<Chart>,
    /// Why charts were left out, one sentence each.
    pub notes: Vec<String>,
}

impl IntoIterator for Charts {
    type Item = Chart;
    type IntoIter = std::vec::IntoIter<Chart>;
    fn into_iter(self) -> Self::IntoIter {
        self.charts.into_iter()
    }
}

/// How a parameter's values are placed on an axis.
pub struct AxisMap {
    /// The axis label (the parameter's key).
    pub label: String,
    /// x position of each value.
    pub xs: Vec<f64>,
    /// Labelled ticks, one per value, for axes whose positions are not the
    /// values (log scale, value numbers); `None`: plain numbers.
    pub ticks: Option<Vec<(f64, String)>>,
}

/// Numeric values as themselves (log10 when they span two decades or
/// more, all positive); anything else by position.
pub fn axis_map(key: &str, values: &[String]) -> AxisMap {
    let nums: Option<Vec<f64>> = values.iter().map(|v| v.parse::<f64>().ok()).collect();
    match nums {
        Some(n) if n.iter().all(|x| x.is_finite()) => {
            let (lo, hi) = n
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
                    (a.min(x), b.max(x))
                });
            if lo > 0.0 && hi / lo >= 100.0 {
                let xs: Vec<f64> = n.iter().map(|x| x.log10()).collect();
                AxisMap {
                    label: format!("{key} (log scale)"),
                    ticks: Some(xs.iter().copied().zip(values.iter().cloned()).collect()),
                    xs,
                }
            } else {
                AxisMap {
                    label: key.to_string(),
                    xs: n,
                    ticks: None,
                }
            }
        }
        _ => AxisMap {
            label: key.to_string(),
            xs: (0..values.len()).map(|i| i as f64).collect(),
            ticks: Some(
                values
                    .iter()
                    .enumerate()
                    .map(|(i, v)| (i as f64, v.clone()))
                    .collect(),
            ),
        },
    }
}

/// The grid points where every parameter but the first has the given
/// values, in order of the first parameter: for slice `s` (0-based, over
/// the other parameters' combinations).
fn slice_points(meta: &SweepMeta, slice: usize) -> Vec<usize> {
    let n0 = meta.params.first().map_or(1, |p| p.values.len());
    let rest = meta.points() / n0;
    (0..n0).map(|i| i * rest + slice).collect()
}

/// Indices of the non-dominated cells (lower x and lower y are better),
/// sorted by x; of identical points only the first is kept. O(n log n).
pub fn pareto_front(points: &[(f64, f64)]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..points.len())
        .filter(|&i| points[i].0.is_finite() && points[i].1.is_finite())
        .collect();
    order.sort_by(|&a, &b| {
        let (pa, pb) = (points[a], points[b]);
        pa.0.total_cmp(&pb.0)
            .then(pa.1.total_cmp(&pb.1))
            .then(a.cmp(&b))
    });
    let mut best_y = f64::INFINITY;
    let mut front = Vec::new();
    for i in order {
        if points[i].1 < best_y {
            best_y = points[i].1;
            front.push(i);
        }
    }
    front
}

/// Every chart of a sweep.
pub fn render(meta: &SweepMeta, summary: &SweepSummary) -> Charts {
    let mut out = Charts::default();
    let colours = StrategyColours::new(&meta.strategies);
    // What to draw, in report order; drawn in parallel below.
    let mut jobs: Vec<(String, String, Job)> = Vec::new();

    if let Some(first) = meta.params.first() {
        let axis = axis_map(&first.key, &first.values);
        let slices = meta.points() / first.values.len();
        if slices > MAX_SLICES {
            out.notes.push(format!(
                "line charts are drawn for the first {MAX_SLICES} of {slices} combinations \
                 of the other parameters"
            ));
        }
        for &(metric, label) in KEY_METRICS {
            let Some(m) = summary.metric_index(metric) else {
                continue;
            };
            for slice in 0..slices.min(MAX_SLICES) {
                let points = slice_points(meta, slice);
                let fixed: Vec<String> = meta.params[1..]
                    .iter()
                    .zip(&meta.point_values(points[0])[1..])
                    .map(|(p, v)| format!("{}={v}", p.key))
                    .collect();
                let mut lines = Vec::new();
                for (s, name) in meta.strategies.iter().enumerate() {
                    let mut pts = Vec::new();
                    let mut band = Vec::new();
                    for (i, &p) in points.iter().enumerate() {
                        if let Some(c) = summary.cell(p, s) {
                            let st = &c.stats[m];
                            pts.push((axis.xs[i], st.mean));
                            if let Some(h) = st.half_width {
                                band.push((axis.xs[i], st.mean - h, st.mean + h));
                            }
                        }
                    }
                    let mut sorted: Vec<usize> = (0..pts.len()).collect();
                    sorted.sort_by(|&a, &b| pts[a].0.total_cmp(&pts[b].0));
                    let pts: Vec<_> = sorted.iter().map(|&i| pts[i]).collect();
                    let band = if band.len() == pts.len() {
                        sorted.iter().map(|&i| band[i]).collect()
                    } else {
                        Vec::new()
                    };
                    let mut line = Line::new(name, colours.get(name), pts).with_band(band);
                    line.dots = 7;
                    lines.push(line);
                }
                let mut title = format!("{} vs {}", label, first.key);
                if !fixed.is_empty() {
                    title.push_str(&format!(" ({})", fixed.join(", ")));
                }
                let spec = LineChart {
                    title: title.clone(),
                    x_label: axis.label.clone(),
                    y_label: format!("{label}, mean and 95 % CI"),
                    lines,
                    markers: Vec::new(),
                    y_range: None,
                    x_ticks: axis.ticks.clone(),
                };
                let file = if slices == 1 {
                    format!("sweep_{metric}.png")
                } else {
                    format!("sweep_{metric}_{}.png", slice + 1)
                };
                jobs.push((file, title, Job::Line(spec)));
            }
        }
    }

    if let (Some(x), Some(y)) = (
        summary.metric_index(TRADEOFF.0),
        summary.metric_index(TRADEOFF.1),
    ) {
        jobs.push((
            "sweep_tradeoff.png".into(),
            "Trade-off: imbalance vs session loss, every grid point".into(),
            Job::Tradeoff { x, y },
        ));
    }

    if meta.params.len() == 2 {
        for &(metric, label) in &KEY_METRICS[..2] {
            let Some(m) = summary.metric_index(metric) else {
                continue;
            };
            for (s, name) in meta.strategies.iter().enumerate() {
                jobs.push((
                    format!("sweep_heatmap_{metric}_{name}.png"),
                    format!("{label}: {name}"),
                    Job::Heatmap {
                        strategy: s,
                        metric: m,
                    },
                ));
            }
        }
    }
    let drawn: Vec<_> = jobs
        .into_par_iter()
        .map(|(file, title, job)| {
            let png = match job {
                Job::Line(spec) => style::line_chart(&spec),
                Job::Tradeoff { x, y } => render_png(&title, WIDTH, HEIGHT, |root| {
                    draw_tradeoff(root, &title, meta, summary, &colours, x, y)
                }),
                Job::Heatmap { strategy, metric } => render_png(&title, WIDTH, HEIGHT, |root| {
                    draw_heatmap(root, &title, meta, summary, strategy, metric)
                }),
            };
            (file, title, png)
        })
        .collect();
    for (file, title, png) in drawn {
        match png {
            Ok(png) => out.charts.push(Chart { file, title, png }),
            Err(e) => out.notes.push(format!("{file} was not drawn: {e}")),
        }
    }
    out
}

/// One chart to draw.
enum Job {
    Line(LineChart),
    Tradeoff { x: usize, y: usize },
    Heatmap { strategy: usize, metric: usize },
}

fn draw_tradeoff(
    root: &style::Area,
    title: &str,
    meta: &SweepMeta,
    summary: &SweepSummary,
    colours: &StrategyColours,
    x: usize,
    y: usize,
) -> style::DrawResult {
    let pts: Vec<(f64, f64)> = summary
        .cells
        .iter()
        .map(|c| (c.stats[x].mean, c.stats[y].mean))
        .collect();
    let fold = |f: fn(&(f64, f64)) -> f64| {
        pts.iter()
            .map(f)
            .filter(|v| v.is_finite())
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
                (a.min(v), b.max(v))
            })
    };
    let (x0, x1) = fold(|p| p.0);
    let (y0, y1) = fold(|p| p.1);
    let (x0, x1) = axis_range(x0, x1, false);
    let (y0, y1) = axis_range(y0, y1, true);
    // Legend in its own column right of the plot, so it never hides a point.
    let mut entries: Vec<(String, RGBColor)> = meta
        .strategies
        .iter()
        .map(|n| (n.clone(), colours.get(n)))
        .collect();
    let area = root
        .margin(14, 0, 0, 0)
        .titled(title, style::title_font())?;
    let front_key = "Pareto front (ringed)".to_string();
    entries.push((front_key.clone(), RGBColor(0, 0, 0)));
    let w = area.dim_in_pixel().0 as i32;
    let (plot, side) = area.split_horizontally(w - style::legend_width(&entries));
    let n = entries.len();
    style::draw_side_legend(&side, &entries[..n - 1], style::Swatch::Dot)?;
    style::draw_side_legend(
        &side.margin((TICK_PX + 16) * (n as u32 - 1), 0, 0, 0),
        &entries[n - 1..],
        style::Swatch::Line,
    )?;
    let mut chart = style::scatter_axes(
        &plot,
        (x0, x1),
        (y0, y1),
        "utilisation max / mean (mean over replications; 1 = even)",
        "sessions lost (%)",
    )?;
    let front = pareto_front(&pts);
    let black = RGBColor(0, 0, 0);
    chart.draw_series(LineSeries::new(
        front.iter().map(|&i| pts[i]),
        black.stroke_width(2),
    ))?;
    for (s, name) in meta.strategies.iter().enumerate() {
        let c = colours.get(name);
        let mine: Vec<(f64, f64)> = summary
            .cells
            .iter()
            .zip(&pts)
            .filter(|(cell, p)| cell.strategy == s && p.0.is_finite() && p.1.is_finite())
            .map(|(_, p)| *p)
            .collect();
        chart.draw_series(mine.into_iter().map(|p| Circle::new(p, 8, c.filled())))?;
    }
    chart.draw_series(
        front
            .iter()
            .map(|&i| Circle::new(pts[i], 14, black.stroke_width(3))),
    )?;
    // The front's points, named (strategy and grid values), when few enough
    // to stay readable.
    if front.len() <= MAX_FRONT_LABELS {
        let tf = font(TICK_PX - 4, true);
        for &i in &front {
            let cell = &summary.cells[i];
            let name = meta
                .strategies
                .get(cell.strategy)
                .cloned()
                .unwrap_or_default();
            // `ttl=300, count=8`: each key's last part, which the axes name in full.
            let values = meta
                .params
                .iter()
                .zip(meta.point_values(cell.point))
                .map(|(p, v)| {
                    let short = p.key.rsplit('.').next().unwrap_or(&p.key);
                    format!("{short}={v}")
                })
                .collect::<Vec<_>>()
                .join(", ");
            let c = colours.get(&name);
            // Labels right of the point, or left of it in the plot's right third.
            let right = pts[i].0 < x0 + (x1 - x0) * 0.66;
            let pos = if right {
                Pos::new(HPos::Left, VPos::Center)
            } else {
                Pos::new(HPos::Right, VPos::Center)
            };
            chart.draw_series(std::iter::once(
                EmptyElement::at(pts[i])
                    + Text::new(
                        format!("{name} @ {values}"),
                        (if right { 20 } else { -20 }, 0),
                        tf.clone().color(&c).pos(pos),
                    ),
            ))?;
        }
    }
    Ok(())
}

/// Up to this many Pareto-optimal points are labelled on the trade-off chart.
pub const MAX_FRONT_LABELS: usize = 8;

fn draw_heatmap(
    root: &style::Area,
    title: &str,
    meta: &SweepMeta,
    summary: &SweepSummary,
    strategy: usize,
    m: usize,
) -> style::DrawResult {
    let (px, py) = (&meta.params[0], &meta.params[1]);
    let (nx, ny) = (px.values.len(), py.values.len());
    let vals: Vec<f64> = (0..nx * ny)
        .map(|p| {
            summary
                .cell(p, strategy)
                .map_or(f64::NAN, |c| c.stats[m].mean)
        })
        .collect();
    let (lo, hi) = vals
        .iter()
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        });
    let xl = px.values.clone();
    let yl = py.values.clone();
    let area = root
        .margin(14, 0, 0, 0)
        .titled(title, style::title_font())?;
    let w = area.dim_in_pixel().0 as i32;
    let (plot, bar) = area.split_horizontally(w - 200);
    let mut chart = ChartBuilder::on(&plot)
        .margin(24)
        .margin_right(24)
        .x_label_area_size(80)
        .y_label_area_size(160)
        .build_cartesian_2d(0f64..nx as f64, 0f64..ny as f64)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_labels(0)
        .y_labels(0)
        .x_desc(px.key.as_str())
        .y_desc(py.key.as_str())
        .axis_desc_style(label_font())
        .label_style(tick_font())
        .draw()?;
    // Category labels at the cells' middles (no ticks at their edges).
    let tf = tick_font();
    chart.draw_series(xl.iter().enumerate().map(|(i, l)| {
        EmptyElement::at((i as f64 + 0.5, 0.0))
            + Text::new(
                l.clone(),
                (0, 10),
                tf.clone().pos(Pos::new(HPos::Center, VPos::Top)),
            )
    }))?;
    chart.draw_series(yl.iter().enumerate().map(|(j, l)| {
        EmptyElement::at((0.0, j as f64 + 0.5))
            + Text::new(
                l.clone(),
                (-10, 0),
                tf.clone().pos(Pos::new(HPos::Right, VPos::Center)),
            )
    }))?;
    let cell_font = font(if nx.max(ny) > 8 { TICK_PX - 6 } else { TICK_PX }, true)
        .pos(Pos::new(HPos::Center, VPos::Center));
    for i in 0..nx {
        for j in 0..ny {
            let v = vals[i * ny + j];
            let t = if hi > lo { (v - lo) / (hi - lo) } else { 0.5 };
            let fill = if v.is_finite() {
                style::sequential(t)
            } else {
                RGBColor(200, 200, 200)
            };
            let (x, y) = (i as f64, j as f64);
            chart.draw_series(std::iter::once(Rectangle::new(
                [(x, y), (x + 1.0, y + 1.0)],
                fill.filled(),
            )))?;
            // Thin white gaps between cells.
            chart.draw_series(std::iter::once(Rectangle::new(
                [(x, y), (x + 1.0, y + 1.0)],
                WHITE.stroke_width(2),
            )))?;
            let ink = if t > 0.6 || !v.is_finite() {
                RGBColor(0, 0, 0)
            } else {
                RGBColor(255, 255, 255)
            };
            let text = if v.is_finite() {
                cell_value(v)
            } else {
                "-".to_string()
            };
            chart.draw_series(std::iter::once(Text::new(
                text,
                (x + 0.5, y + 0.5),
                cell_font.clone().color(&ink),
            )))?;
        }
    }
    draw_value_scale(&bar, lo, hi)
}

/// A cell's value with three significant digits (`71.7`, `1.62`, `0.0123`).
fn cell_value(v: f64) -> String {
    if v == 0.0 {
        return "0".to_string();
    }
    let digits = (2 - v.abs().log10().floor() as i32).clamp(0, 6) as usize;
    format!("{v:.digits$}")
}

/// The heatmap's colour scale from `lo` to `hi`, at the right.
fn draw_value_scale(area: &style::Area, lo: f64, hi: f64) -> style::DrawResult {
    let (_, h) = area.dim_in_pixel();
    let n = if hi > lo { 4 } else { 0 };
    let ticks: Vec<(f64, String)> = if lo.is_finite() && hi.is_finite() {
        (0..=n)
            .map(|k| {
                let f = if n == 0 { 0.5 } else { k as f64 / n as f64 };
                (f, cell_value(lo + (hi - lo) * f))
            })
            .collect()
    } else {
        Vec::new()
    };
    style::draw_scale(area, 40, h as i32 - 110, &ticks)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pareto_front_keeps_non_dominated_points_in_x_order() {
        let pts = [
            (1.0, 5.0),
            (2.0, 2.0),
            (3.0, 3.0),
            (4.0, 1.0),
            (2.0, 2.0),
            (1.5, 6.0),
        ];
        assert_eq!(pareto_front(&pts), [0, 1, 3]);
        assert_eq!(pareto_front(&[]), Vec::<usize>::new());
    }

    #[test]
    fn wide_numeric_axes_go_log() {
        let a = axis_map("ttl", &["60".into(), "86400".into()]);
        assert!(a.label.contains("log scale"));
        assert!((a.xs[1] - 86400f64.log10()).abs() < 1e-12);
        let b = axis_map("n", &["4".into(), "8".into()]);
        assert_eq!(b.xs, [4.0, 8.0]);
        let c = axis_map("kind", &["a".into(), "b".into()]);
        assert_eq!(c.xs, [0.0, 1.0]);
    }
}
