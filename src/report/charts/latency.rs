//! Chart 4, `latency.png`, in two panels:
//!
//! - left, the percentile distribution per strategy (HdrHistogram's
//!   percentile plot): x is the percentile on the usual "nines" scale
//!   (0, 90, 99, 99.9, 99.99, 99.999 equally spaced: x = −log10(1 − p)),
//!   y the latency (log scale), from `latency_percentiles.csv` — the mean
//!   over the replications, with a band from their lowest to highest;
//! - right, a dot plot of p50, p95, p99 and p99.9 per strategy (one row
//!   each, one marker shape per percentile) with the 95 % interval over
//!   the replications as whiskers, on a log latency axis: positions, not
//!   bar lengths, carry the values.
//!
//! A run without `latency_percentiles.csv` (written before it existed)
//! gets the dot plot alone.

use super::*;
use crate::decision::Estimate;
use crate::report::data::RunData;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// The percentiles drawn: (label, `summary.csv` column).
pub const PERCENTILES: [(&str, &str); 4] = [
    ("p50", "latency_p50_ms"),
    ("p95", "latency_p95_ms"),
    ("p99", "latency_p99_ms"),
    ("p99.9", "latency_p999_ms"),
];

/// The highest percentile on the curve's x axis (99.999: five nines).
const MAX_NINES: f64 = 5.0;

/// Renders `latency.png`.
pub fn latency(data: &RunData) -> Result<Vec<u8>, ChartError> {
    latency_drawn(data).map(|d| d.png)
}

/// Renders `latency.png` with hover regions on the dots and the curves'
/// labelled percentiles.
pub fn latency_drawn(data: &RunData) -> Result<Drawn, ChartError> {
    render_drawn("latency", WIDTH, HEIGHT, |root| draw(root, data))
}

/// x of percentile `p` (0–100) on the nines scale.
fn nines(p: f64) -> f64 {
    if p >= 100.0 {
        MAX_NINES
    } else {
        (-(1.0 - p / 100.0).log10()).min(MAX_NINES)
    }
}

/// Per strategy, per percentile of the file: (percentile, mean, min, max)
/// over the replications.
fn curves(data: &RunData) -> Vec<Vec<(f64, f64, f64, f64)>> {
    let rows = data.latency_percentiles.as_deref().unwrap_or(&[]);
    (0..data.strategies.len())
        .map(|s| {
            let mut ps: Vec<f64> = rows
                .iter()
                .filter(|r| r.strategy == s && r.percentile < 100.0)
                .map(|r| r.percentile)
                .collect();
            ps.sort_by(f64::total_cmp);
            ps.dedup();
            ps.into_iter()
                .map(|p| {
                    let v: Vec<f64> = rows
                        .iter()
                        .filter(|r| r.strategy == s && r.percentile == p)
                        .map(|r| r.latency_ms)
                        .collect();
                    let mean = v.iter().sum::<f64>() / v.len() as f64;
                    let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
                    let hi = v.iter().copied().fold(0.0, f64::max);
                    (p, mean, lo, hi)
                })
                .collect()
        })
        .collect()
}

fn draw(root: &Area, data: &RunData) -> HotResult {
    let n = data.strategies.len();
    let est = crate::report::replicated::estimates_of(data);
    let dots: Vec<Vec<Estimate>> = (0..n)
        .map(|s| {
            PERCENTILES
                .iter()
                .map(|(_, c)| {
                    est.get(s)
                        .and_then(|m| m.get(*c))
                        .copied()
                        .unwrap_or(Estimate {
                            mean: data.summary.num(s, c),
                            half_width: None,
                        })
                })
                .collect()
        })
        .collect();
    let curves = curves(data);
    let have_curves = curves.iter().any(|c| !c.is_empty());
    // One latency range for both panels.
    let mut lo = f64::INFINITY;
    let mut hi: f64 = 0.0;
    for e in dots.iter().flatten() {
        let h = e.half_width.unwrap_or(0.0);
        if e.mean - h > 0.0 {
            lo = lo.min(e.mean - h);
        } else if e.mean > 0.0 {
            lo = lo.min(e.mean);
        }
        hi = hi.max(e.mean + h);
    }
    // The curves' range from p10 up: the fastest requests (a cache-hot
    // fraction of a millisecond) would stretch the axis over decades no
    // decision looks at; below p10 a curve is clipped at the axis.
    for &(_, _, l, h) in curves.iter().flatten().filter(|c| c.0 >= 10.0) {
        if l > 0.0 {
            lo = lo.min(l);
        }
        hi = hi.max(h);
    }
    let (lo, hi) = if lo.is_finite() && hi > 0.0 {
        (
            10f64.powf((lo.log10() - 0.05).floor()),
            10f64.powf(hi.log10() + 0.12),
        )
    } else {
        (0.1, 10.0)
    };
    let area = titled(
        root,
        "Request latency (queueing + service): percentile distribution and key percentiles",
    )?;
    let (left, right) = if have_curves {
        area.split_horizontally(WIDTH as i32 * 56 / 100)
    } else {
        let (a, b) = area.split_horizontally(0);
        (a, b)
    };
    let mut hot = Vec::new();
    if have_curves {
        hot.extend(draw_curves(&left, data, &curves, (lo, hi))?);
    }
    hot.extend(draw_dots(root, &right, data, &dots, (lo, hi))?);
    Ok(hot)
}

fn draw_curves(
    area: &Area,
    data: &RunData,
    curves: &[Vec<(f64, f64, f64, f64)>],
    (lo, hi): (f64, f64),
) -> HotResult {
    let labels = ["0", "90", "99", "99.9", "99.99", "99.999"];
    let mut chart = ChartBuilder::on(area)
        .margin(20)
        .margin_right(10)
        .x_label_area_size(80)
        .y_label_area_size(100)
        .build_cartesian_2d(0.0..MAX_NINES, (lo..hi).log_scale())?;
    chart
        .configure_mesh()
        .x_labels(labels.len())
        .x_label_formatter(&|v| {
            let k = v.round();
            if (v - k).abs() < 1e-6 && k >= 0.0 && (k as usize) < labels.len() {
                labels[k as usize].to_string()
            } else {
                String::new()
            }
        })
        .y_label_formatter(&|v| super::tradeoff::log_tick(*v))
        .x_max_light_lines(0)
        .y_max_light_lines(0)
        .bold_line_style(GRID)
        .x_desc("percentile (%), nines scale")
        .y_desc("latency (ms, log scale)")
        .axis_desc_style(label_font())
        .label_style(tick_font())
        .draw()?;
    let mut hot = Vec::new();
    for (s, c) in curves.iter().enumerate() {
        if c.is_empty() {
            continue;
        }
        let colour = colour(s);
        let band: Vec<(f64, f64)> = c
            .iter()
            .map(|&(p, _, l, _)| (nines(p), l.max(lo)))
            .chain(c.iter().rev().map(|&(p, _, _, h)| (nines(p), h.min(hi))))
            .collect();
        chart.draw_series(std::iter::once(Polygon::new(
            band,
            colour.mix(BAND_ALPHA).filled(),
        )))?;
        chart
            .draw_series(LineSeries::new(
                c.iter().map(|&(p, m, _, _)| (nines(p), m.max(lo))),
                colour.stroke_width(3),
            ))?
            .label(data.strategies[s].clone())
            .legend(move |(x, y)| Rectangle::new([(x, y - 3), (x + 30, y + 3)], colour.filled()));
        for &(p, m, l, h) in c {
            if [50.0, 90.0, 99.0, 99.9, 99.99].contains(&p) {
                let (x, y) = chart.backend_coord(&(nines(p), m.max(lo)));
                hot.push(Hotspot {
                    shape: Shape::Circle(x, y, 9),
                    title: format!(
                        "{} p{}: {} ms (replications {}–{})",
                        data.strategies[s],
                        p,
                        tick_label(m),
                        tick_label(l),
                        tick_label(h)
                    ),
                });
            }
        }
    }
    // Lower right: the curves rise to the right, so that corner is free.
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(150, 150, 150))
        .label_font(tick_font())
        .legend_area_size(44)
        .margin(12)
        .draw()?;
    Ok(hot)
}

/// The dot plot in `area`; markers are drawn on `root` (the whole image,
/// whose pixels the chart's coordinates are in).
fn draw_dots(
    root: &Area,
    area: &Area,
    data: &RunData,
    dots: &[Vec<Estimate>],
    (lo, hi): (f64, f64),
) -> HotResult {
    let n = data.strategies.len();
    let longest = data
        .strategies
        .iter()
        .map(|s| s.chars().count())
        .max()
        .unwrap_or(4) as u32;
    let label_w = (longest * (TICK_PX * 6 / 10) + 30).clamp(100, 360);
    let names = data.strategies.clone();
    let mut chart = ChartBuilder::on(area)
        .margin(20)
        .margin_top(70)
        .margin_right(30)
        .x_label_area_size(80)
        .y_label_area_size(label_w)
        .build_cartesian_2d((lo..hi).log_scale(), -0.5..n as f64 - 0.5)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(n.clamp(1, 40))
        .y_label_formatter(&|v| super::row_label(&names, *v))
        .x_label_formatter(&|v| super::tradeoff::log_tick(*v))
        .x_max_light_lines(0)
        .bold_line_style(GRID)
        .x_desc("latency (ms, log scale)")
        .axis_desc_style(label_font())
        .label_style(tick_font())
        .draw()?;
    // The shapes' key, above the plot.
    let (kx, ky) = chart.backend_coord(&(lo, n as f64 - 0.5));
    let mut x = kx;
    for (k, (label, _)) in PERCENTILES.iter().enumerate() {
        draw_marker(root, k, (x + 10, ky - 30), RGBColor(60, 60, 60))?;
        root.draw(&Text::new(
            label.to_string(),
            (x + 24, ky - 30),
            font(TICK_PX - 2, false).pos(Pos::new(HPos::Left, VPos::Center)),
        ))?;
        x += 30 + (label.len() as i32 + 2) * (TICK_PX as i32 * 55 / 100);
    }
    let mut hot = Vec::new();
    for (s, row) in dots.iter().enumerate() {
        let y = (n - 1 - s) as f64;
        let c = colour(s);
        for (k, e) in row.iter().enumerate() {
            if e.mean <= 0.0 {
                continue;
            }
            if let Some(h) = e.half_width.filter(|h| *h > 0.0) {
                let (a, b) = ((e.mean - h).max(lo), (e.mean + h).min(hi));
                chart.draw_series(std::iter::once(PathElement::new(
                    vec![(a, y), (b, y)],
                    c.stroke_width(3),
                )))?;
                for end in [a, b] {
                    chart.draw_series(std::iter::once(
                        EmptyElement::at((end, y))
                            + PathElement::new(vec![(0, -7), (0, 7)], c.stroke_width(3)),
                    ))?;
                }
            }
            let (px, py) = chart.backend_coord(&(e.mean, y));
            draw_marker(root, k, (px, py), c)?;
            hot.push(Hotspot {
                shape: Shape::Circle(px, py, 11),
                title: format!(
                    "{} {}: {} ms",
                    data.strategies[s],
                    PERCENTILES[k].0,
                    crate::report::verdict::est(e)
                ),
            });
        }
    }
    Ok(hot)
}

/// Draws the marker of percentile number `k`: disc, triangle, square,
/// diamond.
fn draw_marker(area: &Area, k: usize, (x, y): (i32, i32), c: RGBColor) -> DrawResult {
    let r = 10;
    match k {
        0 => area.draw(&Circle::new((x, y), r, c.filled()))?,
        1 => area.draw(&Polygon::new(
            vec![
                (x, y - r - 1),
                (x - r - 1, y + r - 2),
                (x + r + 1, y + r - 2),
            ],
            c.filled(),
        ))?,
        2 => area.draw(&Rectangle::new(
            [(x - r + 1, y - r + 1), (x + r - 1, y + r - 1)],
            c.filled(),
        ))?,
        _ => area.draw(&Polygon::new(
            vec![
                (x, y - r - 2),
                (x + r + 2, y),
                (x, y + r + 2),
                (x - r - 2, y),
            ],
            c.filled(),
        ))?,
    }
    Ok(())
}
