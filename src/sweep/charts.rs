//! A sweep's charts, drawn with the report's shared style
//! ([`crate::report::charts`]): each key metric against the first swept
//! parameter (mean with its 95 % confidence band, one line per strategy,
//! one chart per combination of the other parameters' values; the y axis
//! zoomed to the data, with the even line at 1 on the imbalance chart);
//! the imbalance × loss trade-off of every configuration (a strategy at the
//! values of the parameters that apply to it) with the front decided by
//! paired intervals ([`tied_front`]); and, for two-parameter grids,
//! heatmaps. Axes name the swept key in words with its documented unit
//! ([`super::axis`]).

use super::axis::axis_label;
use super::output::SweepSummary;
use super::{RunRecord, SweepMeta};
use crate::report::charts::tradeoff::{log_tick, place_labels, LossAxis, Rect};
use crate::report::charts::{
    self as style, axis_range, font, label_font, render_drawn, tick_font, Drawn, Guide, Hotspot,
    Line, LineChart, Shape, StrategyColours, HEIGHT, TICK_PX, WIDTH,
};
use crate::stats::{mean_ci, paired_diff};
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
    /// The encoded PNG, its size and hover regions.
    pub drawn: Drawn,
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
    /// The axis label (the parameter's key in words, with its unit).
    pub label: String,
    /// x position of each value.
    pub xs: Vec<f64>,
    /// Labelled ticks, one per value, for axes whose positions are not the
    /// values (log scale, value numbers); `None`: plain numbers.
    pub ticks: Option<Vec<(f64, String)>>,
}

/// Numeric values as themselves (log10 when they span a decade or
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
            if lo > 0.0 && hi / lo >= 10.0 {
                let xs: Vec<f64> = n.iter().map(|x| x.log10()).collect();
                AxisMap {
                    label: format!("{}, log scale", axis_label(key)),
                    ticks: Some(xs.iter().copied().zip(values.iter().cloned()).collect()),
                    xs,
                }
            } else {
                AxisMap {
                    label: axis_label(key),
                    xs: n,
                    ticks: None,
                }
            }
        }
        _ => AxisMap {
            label: axis_label(key),
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

/// How configuration `a` compares with `b` on one metric where lower is
/// better, from their per-replication values (paired: replication `r` of
/// both shares its workload): better or worse only when the paired 95 %
/// interval of `a − b` excludes 0; with one replication, by the values.
fn compare(a: &[f64], b: &[f64]) -> std::cmp::Ordering {
    use std::cmp::Ordering::*;
    match paired_diff(a, b, super::output::CONFIDENCE) {
        Some(d) => match d.indistinguishable() {
            Some(true) => Equal,
            Some(false) | None => d.mean.partial_cmp(&0.0).unwrap_or(Equal),
        },
        None => Equal,
    }
}

/// The trade-off front of configurations given, per configuration, the
/// per-replication values of two metrics where lower is better: the
/// configurations no other beats — better on one metric and not worse on
/// the other, each judged by the paired interval (`compare`), so a
/// difference within the noise decides nothing. Returns the front (indices,
/// in input order) and its tie groups: front configurations the intervals
/// cannot tell apart on either metric, joined transitively (every group has
/// two members or more).
pub fn tied_front(reps: &[(Vec<f64>, Vec<f64>)]) -> (Vec<usize>, Vec<Vec<usize>>) {
    use std::cmp::Ordering::*;
    let ok: Vec<bool> = reps
        .iter()
        .map(|(x, y)| !x.is_empty() && x.iter().chain(y).all(|v| v.is_finite()))
        .collect();
    let cmp = |a: usize, b: usize| {
        (
            compare(&reps[a].0, &reps[b].0),
            compare(&reps[a].1, &reps[b].1),
        )
    };
    let front: Vec<usize> = (0..reps.len())
        .filter(|&b| {
            ok[b]
                && !(0..reps.len()).any(|a| {
                    a != b && ok[a] && {
                        let (x, y) = cmp(a, b);
                        x != Greater && y != Greater && (x == Less || y == Less)
                    }
                })
        })
        .collect();
    // Tie groups: union-find over front pairs equal on both metrics.
    let mut parent: Vec<usize> = (0..front.len()).collect();
    fn root(p: &mut [usize], mut i: usize) -> usize {
        while p[i] != i {
            p[i] = p[p[i]];
            i = p[i];
        }
        i
    }
    for i in 0..front.len() {
        for j in i + 1..front.len() {
            if cmp(front[i], front[j]) == (Equal, Equal) {
                let (a, b) = (root(&mut parent, i), root(&mut parent, j));
                parent[b.max(a)] = a.min(b);
            }
        }
    }
    let mut by_root: std::collections::BTreeMap<usize, Vec<usize>> = Default::default();
    for (i, &f) in front.iter().enumerate() {
        by_root.entry(root(&mut parent, i)).or_default().push(f);
    }
    let groups = by_root.into_values().filter(|g| g.len() >= 2).collect();
    (front, groups)
}

/// The imbalance line charts' guide: 1 is an even spread.
fn guides_for(metric: &str) -> Vec<Guide> {
    if metric == "imbalance_util_max_over_mean" {
        vec![Guide {
            y: 1.0,
            label: "1 = even".into(),
        }]
    } else {
        Vec::new()
    }
}

/// The y range of a sweep's line chart: the means and their intervals,
/// padded, and the guides; not from zero, so differences show.
fn zoomed_range(lines: &[Line], guides: &[Guide]) -> (f64, f64) {
    let ys = lines
        .iter()
        .flat_map(|l| {
            l.points
                .iter()
                .map(|p| p.1)
                .chain(l.band.iter().flat_map(|b| [b.1, b.2]))
        })
        .chain(guides.iter().map(|g| g.y))
        .filter(|v| v.is_finite());
    let (lo, hi) = ys.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), y| {
        (a.min(y), b.max(y))
    });
    let (lo, hi) = axis_range(lo, hi, false);
    // Percentages and counts never go below 0.
    (
        if lo < 0.0 && lines.iter().all(|l| l.points.iter().all(|p| p.1 >= 0.0)) {
            0.0
        } else {
            lo
        },
        hi,
    )
}

/// Every chart of a sweep.
pub fn render(meta: &SweepMeta, summary: &SweepSummary, records: &[RunRecord]) -> Charts {
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
                    .map(|(p, v)| super::axis::value_label(&p.key, v))
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
                    line.band_edges = true;
                    lines.push(line);
                }
                let guides = guides_for(metric);
                let y_range = zoomed_range(&lines, &guides);
                let mut title = format!("{} vs {}", label, super::axis::key_words(&first.key));
                if !fixed.is_empty() {
                    title.push_str(&format!(" ({})", fixed.join(", ")));
                }
                let spec = LineChart {
                    title: title.clone(),
                    x_label: axis.label.clone(),
                    y_label: format!("{label}, mean and 95 % CI"),
                    lines,
                    markers: Vec::new(),
                    y_range: Some(y_range),
                    x_ticks: axis.ticks.clone(),
                    guides,
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

    if summary.metric_index(TRADEOFF.0).is_some() && summary.metric_index(TRADEOFF.1).is_some() {
        jobs.push((
            "sweep_tradeoff.png".into(),
            "Trade-off: session loss against imbalance, every configuration".into(),
            Job::Tradeoff,
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
                Job::Line(spec) => style::line_chart(&spec).map(Drawn::plain),
                Job::Tradeoff => render_drawn(&title, WIDTH, HEIGHT, |root| {
                    draw_tradeoff(root, &title, meta, records, &colours)
                }),
                Job::Heatmap { strategy, metric } => render_drawn(&title, WIDTH, HEIGHT, |root| {
                    draw_heatmap(root, &title, meta, summary, strategy, metric)
                }),
            };
            (file, title, png)
        })
        .collect();
    for (file, title, drawn) in drawn {
        match drawn {
            Ok(drawn) => out.charts.push(Chart { file, title, drawn }),
            Err(e) => out.notes.push(format!("{file} was not drawn: {e}")),
        }
    }
    out
}

/// One chart to draw.
enum Job {
    Line(LineChart),
    Tradeoff,
    Heatmap { strategy: usize, metric: usize },
}

/// One configuration on the trade-off chart.
struct Point {
    /// Its label: the strategy and the parameters that apply to it.
    label: String,
    strategy: usize,
    /// Imbalance and loss: mean and 95 % half-width (0 with one replication).
    x: (f64, f64),
    y: (f64, f64),
}

fn draw_tradeoff(
    root: &style::Area,
    title: &str,
    meta: &SweepMeta,
    records: &[RunRecord],
    colours: &StrategyColours,
) -> style::HotResult {
    let (cfgs, data) = super::report::configs(meta, records);
    let column = |r: &crate::decision::Replicated, col: &str| -> Vec<f64> {
        r.reps
            .iter()
            .map(|m| m.get(col).copied().unwrap_or(f64::NAN))
            .collect()
    };
    let reps: Vec<(Vec<f64>, Vec<f64>)> = data
        .iter()
        .map(|r| (column(r, TRADEOFF.0), column(r, TRADEOFF.1)))
        .collect();
    let est = |v: &[f64]| {
        mean_ci(v, super::output::CONFIDENCE)
            .map_or((f64::NAN, 0.0), |c| (c.mean, c.half_width.unwrap_or(0.0)))
    };
    let pts: Vec<Point> = cfgs
        .iter()
        .zip(&reps)
        .map(|(c, (x, y))| Point {
            label: c.short_label(meta),
            strategy: c.strategy,
            x: est(x),
            y: est(y),
        })
        .collect();
    let (front, groups) = tied_front(&reps);
    let finite: Vec<usize> = (0..pts.len())
        .filter(|&i| pts[i].x.0.is_finite() && pts[i].y.0.is_finite())
        .collect();

    let ax = LossAxis::new(finite.iter().map(|&i| pts[i].y));
    let (y0, y1) = (ax.y0, ax.y1);
    let xlo = finite
        .iter()
        .map(|&i| pts[i].x.0 - pts[i].x.1)
        .fold(1.0f64, f64::min);
    let xhi = finite
        .iter()
        .map(|&i| pts[i].x.0 + pts[i].x.1)
        .fold(1.0f64, f64::max);
    let span = (xhi - xlo).max(0.04);
    let (x0, x1) = (xlo - span * 0.08, xhi + span * 0.35);

    let area = root
        .margin(14, 0, 0, 0)
        .titled(title, style::title_font())?;
    // Strategies' colours and what the marks mean, in a column right of
    // the plot, so they never hide a point.
    let entries: Vec<(String, RGBColor)> = meta
        .strategies
        .iter()
        .map(|n| (n.clone(), colours.get(n)))
        .collect();
    let side_w = style::legend_width(&entries).max(360);
    let w = area.dim_in_pixel().0 as i32;
    let (plot, side) = area.split_horizontally(w - side_w);
    style::draw_side_legend(&side, &entries, style::Swatch::Dot)?;
    let mut chart = ChartBuilder::on(&plot)
        .margin(24)
        .margin_right(30)
        .x_label_area_size(80)
        .y_label_area_size(110)
        .build_cartesian_2d(x0..x1, (y0..y1).log_scale())?;
    chart
        .configure_mesh()
        .x_max_light_lines(0)
        .y_max_light_lines(0)
        .bold_line_style(style::GRID)
        .x_label_formatter(&|v| style::tick_label(*v))
        .y_label_formatter(&|v| log_tick(*v))
        .x_desc("imbalance: busiest backend's utilisation / mean (1 = even)")
        .y_desc("sessions lost, % of sessions (log scale)")
        .axis_desc_style(label_font())
        .label_style(tick_font())
        .draw()?;
    let dark = RGBColor(90, 90, 90);
    chart.draw_series(DashedLineSeries::new(
        [(1.0, y0), (1.0, y1)],
        8,
        6,
        dark.stroke_width(2),
    ))?;
    chart.draw_series(std::iter::once(
        EmptyElement::at((1.0, y0))
            + Text::new(
                "even",
                (6, -(TICK_PX as i32) - 2),
                font(TICK_PX - 2, false).color(&dark),
            ),
    ))?;
    if ax.any_zero {
        chart.draw_series(DashedLineSeries::new(
            [(x0, ax.y_zero), (x1, ax.y_zero)],
            4,
            6,
            dark.stroke_width(1),
        ))?;
        chart.draw_series(std::iter::once(
            EmptyElement::at((x1, ax.y_zero))
                + Text::new(
                    "none lost",
                    (-6, -4),
                    font(TICK_PX - 4, false)
                        .color(&dark)
                        .pos(Pos::new(HPos::Right, VPos::Bottom)),
                ),
        ))?;
    }
    let at = |i: usize| (pts[i].x.0, ax.pos(pts[i].y.0));
    // Ties: front configurations the paired intervals cannot tell apart,
    // joined by a thick grey band (drawn first, under the points).
    let tie_ink = RGBColor(170, 170, 170);
    for g in &groups {
        let mut m = g.clone();
        m.sort_by(|&a, &b| pts[a].x.0.total_cmp(&pts[b].x.0));
        chart.draw_series(LineSeries::new(
            m.iter().map(|&i| at(i)),
            tie_ink.stroke_width(10),
        ))?;
    }
    // Error bars: the 95 % intervals.
    for &i in &finite {
        let ink = style::tint(colours.get(&meta.strategies[pts[i].strategy]), 0.7);
        let (x, y) = (pts[i].x, pts[i].y);
        let py = ax.pos(y.0);
        if x.1 > 0.0 {
            chart.draw_series(std::iter::once(PathElement::new(
                vec![(x.0 - x.1, py), (x.0 + x.1, py)],
                ink.stroke_width(2),
            )))?;
        }
        if y.1 > 0.0 && y.0 > 0.0 {
            chart.draw_series(std::iter::once(PathElement::new(
                vec![(x.0, ax.pos(y.0 - y.1)), (x.0, (y.0 + y.1).min(y1))],
                ink.stroke_width(2),
            )))?;
        }
    }
    let r = 8;
    for &i in &finite {
        let c = colours.get(&meta.strategies[pts[i].strategy]);
        chart.draw_series(std::iter::once(Circle::new(at(i), r, c.filled())))?;
    }
    let black = RGBColor(0, 0, 0);
    chart.draw_series(
        front
            .iter()
            .map(|&i| Circle::new(at(i), r + 6, black.stroke_width(3))),
    )?;

    // Labels: one per front configuration, or one per tie group (at its
    // member with the least loss), when few enough to stay readable.
    let mut labelled: Vec<(usize, String)> = Vec::new();
    for &i in &front {
        match groups.iter().find(|g| g.contains(&i)) {
            Some(g) => {
                let lead = *g
                    .iter()
                    .min_by(|&&a, &&b| pts[a].y.0.total_cmp(&pts[b].y.0).then(a.cmp(&b)))
                    .expect("a group has members");
                if lead == i {
                    labelled.push((i, tie_label(&pts, g)));
                }
            }
            None => labelled.push((i, pts[i].label.clone())),
        }
    }
    let px: Vec<(i32, i32)> = finite
        .iter()
        .map(|&i| chart.backend_coord(&at(i)))
        .collect();
    let (left, top) = chart.backend_coord(&(x0, y1));
    let (right, bottom) = chart.backend_coord(&(x1, y0));
    let lh = TICK_PX as i32 + 6;
    let fpx = TICK_PX - 4;
    let width_of = |t: &str| t.chars().count() as i32 * (fpx as i32 * 60 / 100);
    let mut notes: Vec<String> = Vec::new();
    if labelled.len() <= MAX_FRONT_LABELS {
        // Place labels for the labelled points only; every point is an obstacle.
        let texts: Vec<String> = finite
            .iter()
            .map(|i| {
                labelled
                    .iter()
                    .find(|(j, _)| j == i)
                    .map_or(String::new(), |(_, t)| t.clone())
            })
            .collect();
        let mut order: Vec<usize> = (0..finite.len())
            .filter(|&k| !texts[k].is_empty())
            .collect();
        order.sort_by(|&a, &b| {
            pts[finite[b]]
                .y
                .0
                .total_cmp(&pts[finite[a]].y.0)
                .then(a.cmp(&b))
        });
        let pos = place_labels(
            &px,
            &texts,
            &[] as &[Rect],
            (left, top, right, bottom),
            &order,
            (r + 6, lh),
            width_of,
        );
        let mut k_side = 0;
        for &k in &order {
            let i = finite[k];
            let ink = style::text_colour(colours.get(&meta.strategies[pts[i].strategy]));
            let (x, y) = px[k];
            match pos[k] {
                Some((dx, dy)) => {
                    if (dy + lh / 2).abs() >= lh {
                        let tw = width_of(&texts[k]);
                        let end = if dx > 0 { x + dx - 4 } else { x + dx + tw + 4 };
                        root.draw(&PathElement::new(
                            vec![(x, y), (end, y + dy + lh / 2)],
                            style::tint(ink, 0.6),
                        ))?;
                    }
                    root.draw(&Text::new(
                        texts[k].clone(),
                        (x + dx, y + dy + 4),
                        font(fpx, true).color(&ink),
                    ))?;
                }
                None => {
                    k_side += 1;
                    root.draw(&Text::new(
                        k_side.to_string(),
                        (x + r + 8, y - r - 8),
                        font(fpx, true)
                            .color(&ink)
                            .pos(Pos::new(HPos::Left, VPos::Bottom)),
                    ))?;
                    notes.push(format!("{k_side}: {}", texts[k]));
                }
            }
        }
    } else {
        notes.push(format!(
            "{} front labels left off (point at a ring in report.html)",
            labelled.len()
        ));
    }
    // What the marks mean, under the strategies' key.
    let mut y = 40 + (TICK_PX as i32 + 16) * meta.strategies.len() as i32 + 20;
    let key_font = font(TICK_PX - 4, false);
    side.draw(&Circle::new((27, y + 10), 14, black.stroke_width(3)))?;
    side.draw(&Text::new(
        "front: nothing beats it",
        (58, y),
        key_font.clone(),
    ))?;
    y += TICK_PX as i32 + 2;
    side.draw(&Text::new(
        "on both axes (paired 95 %)",
        (58, y),
        key_font.clone(),
    ))?;
    y += TICK_PX as i32 + 14;
    if !groups.is_empty() {
        side.draw(&Rectangle::new(
            [(12, y + 5), (44, y + 15)],
            tie_ink.filled(),
        ))?;
        side.draw(&Text::new(
            "tied: the paired 95 %",
            (58, y),
            key_font.clone(),
        ))?;
        y += TICK_PX as i32 + 2;
        side.draw(&Text::new("intervals cover 0", (58, y), key_font.clone()))?;
        y += TICK_PX as i32 + 14;
    }
    side.draw(&PathElement::new(
        vec![(14, y + 10), (42, y + 10)],
        dark.stroke_width(2),
    ))?;
    side.draw(&Text::new(
        if meta.replications < 2 {
            "bars: 95 % CI (one run: none)"
        } else {
            "bars: 95 % CI"
        },
        (58, y),
        key_font.clone(),
    ))?;
    y += TICK_PX as i32 + 14;
    for n in notes {
        for l in crate::text::wrap_words(&n, 26) {
            side.draw(&Text::new(l, (16, y), key_font.clone()))?;
            y += TICK_PX as i32 + 2;
        }
    }

    // Hover: every configuration's figures.
    Ok(finite
        .iter()
        .zip(&px)
        .map(|(&i, &(x, y))| {
            let p = &pts[i];
            let pm = |(m, h): (f64, f64), d: usize| {
                if h > 0.0 {
                    format!("{m:.d$} ± {h:.d$}")
                } else {
                    format!("{m:.d$}")
                }
            };
            let mut title = format!(
                "{}: sessions lost {} %, imbalance {}",
                p.label,
                pm(p.y, 3),
                pm(p.x, 3)
            );
            if let Some(g) = groups.iter().find(|g| g.contains(&i)) {
                let others: Vec<&str> = g
                    .iter()
                    .filter(|&&j| j != i)
                    .map(|&j| pts[j].label.as_str())
                    .collect();
                title.push_str(&format!("; on the front, tied with {}", others.join("; ")));
            } else if front.contains(&i) {
                title.push_str("; on the front");
            }
            Hotspot {
                shape: Shape::Circle(x, y, r + 6),
                title,
            }
        })
        .collect())
}

/// A tie group's label: the configurations' labels joined by `≈`, a
/// strategy named once for its several configurations
/// (`cookie-1m, TTL 300 s ≈ TTL 3600 s`).
fn tie_label(pts: &[Point], group: &[usize]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut last: Option<usize> = None;
    let mut sorted = group.to_vec();
    sorted.sort_by_key(|&i| (pts[i].strategy, i));
    for i in sorted {
        let label = &pts[i].label;
        if last == Some(pts[i].strategy) {
            // The same strategy: its parameters only.
            parts.push(
                label
                    .split_once(", ")
                    .map_or(label.clone(), |(_, v)| v.to_string()),
            );
        } else {
            parts.push(label.clone());
        }
        last = Some(pts[i].strategy);
    }
    parts.join(" ≈ ")
}

/// Up to this many labels (front configurations or tie groups) are drawn
/// on the trade-off chart.
pub const MAX_FRONT_LABELS: usize = 8;

fn draw_heatmap(
    root: &style::Area,
    title: &str,
    meta: &SweepMeta,
    summary: &SweepSummary,
    strategy: usize,
    m: usize,
) -> style::HotResult {
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
        .x_desc(axis_label(&px.key))
        .y_desc(axis_label(&py.key))
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
    let mut hotspots = Vec::new();
    for i in 0..nx {
        for j in 0..ny {
            let v = vals[i * ny + j];
            let (a, b) = (
                chart.backend_coord(&(i as f64, j as f64 + 1.0)),
                chart.backend_coord(&(i as f64 + 1.0, j as f64)),
            );
            let hw = summary
                .cell(i * ny + j, strategy)
                .and_then(|c| c.stats[m].half_width);
            hotspots.push(Hotspot {
                shape: Shape::Rect(a.0, a.1, b.0, b.1),
                title: format!(
                    "{}, {}, {}: {}{}",
                    meta.strategies[strategy],
                    super::axis::value_label(&px.key, &xl[i]),
                    super::axis::value_label(&py.key, &yl[j]),
                    if v.is_finite() {
                        cell_value(v)
                    } else {
                        "no value".into()
                    },
                    hw.filter(|h| h.is_finite() && v.is_finite())
                        .map_or(String::new(), |h| format!(" ± {}", cell_value(h)))
                ),
            });
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
    draw_value_scale(&bar, lo, hi)?;
    Ok(hotspots)
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
    fn the_front_treats_differences_within_the_paired_interval_as_ties() {
        // Three replications each; lower is better on both metrics.
        let c = |x: [f64; 3], y: [f64; 3]| (x.to_vec(), y.to_vec());
        let reps = [
            // 0: even but lossy.
            c([1.00, 1.01, 1.00], [10.0, 11.0, 10.5]),
            // 1: lossless but uneven.
            c([1.50, 1.52, 1.49], [0.0, 0.0, 0.0]),
            // 2: a hair better than 0 on both means, but within the noise.
            c([0.99, 1.02, 0.99], [10.4, 10.6, 10.4]),
            // 3: clearly worse than 0 on both.
            c([1.20, 1.21, 1.20], [20.0, 21.0, 20.5]),
        ];
        let (front, groups) = tied_front(&reps);
        // A means-only front would drop 0 (2 beats it on both means).
        assert_eq!(
            pareto_front(&[(1.003, 10.5), (1.503, 0.0), (1.0, 10.467), (1.203, 20.5)]),
            [2, 1]
        );
        assert_eq!(front, [0, 1, 2]);
        assert_eq!(groups, [vec![0, 2]]);
        // With one replication, means decide and only equal values tie.
        let one = [
            (vec![1.0], vec![2.0]),
            (vec![1.0], vec![2.0]),
            (vec![2.0], vec![3.0]),
        ];
        assert_eq!(tied_front(&one), (vec![0, 1], vec![vec![0, 1]]));
        assert_eq!(tied_front(&[]), (vec![], vec![]));
    }

    #[test]
    fn tie_labels_name_a_strategy_once() {
        let p = |label: &str, strategy| Point {
            label: label.into(),
            strategy,
            x: (1.0, 0.0),
            y: (1.0, 0.0),
        };
        let pts = [
            p("cookie-1m, TTL 300 s", 1),
            p("round-robin", 0),
            p("cookie-1m, TTL 3600 s", 1),
        ];
        assert_eq!(
            tie_label(&pts, &[0, 2]),
            "cookie-1m, TTL 300 s ≈ TTL 3600 s"
        );
        assert_eq!(
            tie_label(&pts, &[0, 1, 2]),
            "round-robin ≈ cookie-1m, TTL 300 s ≈ TTL 3600 s"
        );
    }

    #[test]
    fn the_imbalance_chart_is_zoomed_and_shows_even() {
        let line = Line::new("a", style::colour(0), vec![(0.0, 1.10), (1.0, 1.20)])
            .with_band(vec![(0.0, 1.08, 1.12), (1.0, 1.15, 1.25)]);
        let g = guides_for("imbalance_util_max_over_mean");
        let (lo, hi) = zoomed_range(std::slice::from_ref(&line), &g);
        assert!(lo < 1.0 && lo > 0.9 && hi > 1.25 && hi < 1.3, "{lo} {hi}");
        let (lo, _) = zoomed_range(&[line], &[]);
        assert!(lo > 1.0, "{lo}: not from zero");
        assert!(guides_for("sessions_lost_pct").is_empty());
    }

    #[test]
    fn wide_numeric_axes_go_log() {
        let a = axis_map("ttl", &["60".into(), "86400".into()]);
        assert!(a.label.contains("log scale"));
        let t = axis_map("strategies.c.ttl", &["60".into(), "300".into()]);
        assert_eq!(t.label, "c TTL (s)");
        assert!((a.xs[1] - 86400f64.log10()).abs() < 1e-12);
        let b = axis_map("n", &["4".into(), "8".into()]);
        assert_eq!(b.xs, [4.0, 8.0]);
        let c = axis_map("kind", &["a".into(), "b".into()]);
        assert_eq!(c.xs, [0.0, 1.0]);
    }
}
