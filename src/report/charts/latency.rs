//! Chart 4, `latency.png`: latency percentiles (p50, p95, p99, p99.9) as
//! grouped bars, one bar per strategy in each group, on a log scale.

use super::*;
use crate::report::data::RunData;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// The percentiles drawn: (label, `summary.csv` column).
pub const PERCENTILES: [(&str, &str); 4] = [
    ("p50", "latency_p50_ms"),
    ("p95", "latency_p95_ms"),
    ("p99", "latency_p99_ms"),
    ("p99.9", "latency_p999_ms"),
];

/// Renders `latency.png`.
pub fn latency(data: &RunData) -> Result<Vec<u8>, ChartError> {
    render_png("latency", WIDTH, HEIGHT, |root| draw(root, data))
}

fn draw(root: &Area, data: &RunData) -> DrawResult {
    let sm = &data.summary;
    let n = data.strategies.len();
    let vals: Vec<Vec<f64>> = (0..n)
        .map(|s| PERCENTILES.iter().map(|(_, c)| sm.num(s, c)).collect())
        .collect();
    let positive = vals.iter().flatten().copied().filter(|v| *v > 0.0);
    let lo = positive.clone().fold(f64::INFINITY, f64::min);
    let hi = positive.fold(0.0, f64::max);
    let (lo, hi) = if lo.is_finite() && hi > 0.0 {
        (
            10f64.powf((lo.log10() - 0.2).floor()),
            10f64.powf(hi.log10() + 0.25),
        )
    } else {
        (0.1, 10.0)
    };
    let entries: Vec<(String, RGBColor)> = (0..n)
        .map(|s| (data.strategies[s].clone(), colour(s)))
        .collect();
    let area = titled(
        root,
        "Request latency percentiles (queueing + service), log scale",
    )?;
    let (plot, side) = area.split_horizontally(WIDTH as i32 - legend_width(&entries));
    draw_side_legend(&side, &entries, Swatch::Block)?;
    let mut chart = ChartBuilder::on(&plot)
        .margin(24)
        .margin_right(40)
        .x_label_area_size(80)
        .y_label_area_size(120)
        .build_cartesian_2d(-0.5..PERCENTILES.len() as f64 - 0.5, (lo..hi).log_scale())?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(PERCENTILES.len())
        .x_label_formatter(&|v| {
            let k = v.round();
            if (v - k).abs() < 1e-6 && k >= 0.0 && (k as usize) < PERCENTILES.len() {
                PERCENTILES[k as usize].0.to_string()
            } else {
                String::new()
            }
        })
        .y_label_formatter(&|v| log_tick(*v))
        .y_max_light_lines(0)
        .bold_line_style(GRID)
        .x_desc("percentile")
        .y_desc("latency (ms, log scale)")
        .axis_desc_style(label_font())
        .label_style(tick_font())
        .draw()?;
    let group = 0.8;
    let w = group / n.max(1) as f64;
    #[allow(clippy::needless_range_loop)]
    for s in 0..n {
        let c = colour(s);
        let bars = PERCENTILES.iter().enumerate().filter_map(|(p, _)| {
            let v = vals[s][p];
            let x0 = p as f64 - group / 2.0 + s as f64 * w;
            (v > 0.0).then(|| Rectangle::new([(x0 + w * 0.08, lo), (x0 + w * 0.92, v)], c.filled()))
        });
        chart.draw_series(bars)?;
        // The value over each bar, in a font sized to the bar's width (left
        // off when that would be too small to read).
        // One size for all values, from the longest (DejaVu digits are about
        // 0.64 em wide).
        let slot = {
            let (a, _) = chart.backend_coord(&(0.0, lo));
            let (b, _) = chart.backend_coord(&(w, lo));
            (b - a) as f64
        };
        let longest = vals
            .iter()
            .flatten()
            .map(|&v| value_text(v).chars().count())
            .max()
            .unwrap_or(1);
        let value_px = (((slot - 2.0) / (longest as f64 * 0.64)).floor() as u32).min(TICK_PX - 4);
        chart.draw_series(PERCENTILES.iter().enumerate().filter_map(|(p, _)| {
            let v = vals[s][p];
            let x = p as f64 - group / 2.0 + (s as f64 + 0.5) * w;
            let text = value_text(v);
            (v > 0.0 && value_px >= 13).then(|| {
                EmptyElement::at((x, v))
                    + Text::new(
                        text,
                        (0, -4),
                        font(value_px, false).pos(Pos::new(HPos::Center, VPos::Bottom)),
                    )
            })
        }))?;
    }
    Ok(())
}

/// A bar's value: whole milliseconds from 100 up, else one decimal.
fn value_text(v: f64) -> String {
    tick_label(if v >= 100.0 {
        v.round()
    } else {
        (v * 10.0).round() / 10.0
    })
}

/// Log-axis ticks labelled only at 1, 2 and 5 × 10ⁿ, so they never crowd.
fn log_tick(v: f64) -> String {
    if v <= 0.0 {
        return String::new();
    }
    let m = v / 10f64.powf(v.log10().floor());
    if [1.0, 2.0, 5.0, 10.0].iter().any(|k| (m - k).abs() < 1e-6) {
        tick_label(v)
    } else {
        String::new()
    }
}
