//! Chart 5, `tradeoff.png`: one labelled point per strategy, imbalance
//! (busiest backend's utilisation over the mean) against sessions lost —
//! the picture a review decides from: lower left is better on both.

use super::*;
use crate::report::data::RunData;

/// Renders `tradeoff.png`.
pub fn tradeoff(data: &RunData) -> Result<Vec<u8>, ChartError> {
    render_png("tradeoff", WIDTH, HEIGHT, |root| draw(root, data))
}

fn draw(root: &Area, data: &RunData) -> DrawResult {
    let sm = &data.summary;
    let n = data.strategies.len();
    let pts: Vec<(f64, f64)> = (0..n)
        .map(|s| {
            (
                sm.num(s, "imbalance_util_max_over_mean"),
                sm.num(s, "sessions_lost_pct"),
            )
        })
        .collect();
    let xmin = pts.iter().map(|p| p.0).fold(f64::INFINITY, f64::min);
    let xmax = pts.iter().map(|p| p.0).fold(f64::NEG_INFINITY, f64::max);
    let ymax = pts.iter().map(|p| p.1).fold(0.0, f64::max);
    // Perfect balance (1.0) is the reference, so the axis starts at or below it.
    let x_lo = xmin.min(1.0);
    let x_span = (xmax - x_lo).max(0.05);
    let (x0, x1) = (x_lo - x_span * 0.08, xmax + x_span * 0.35);
    let (y0, y1) = (-(ymax.max(0.1)) * 0.06, ymax.max(0.1) * 1.15);
    let entries: Vec<(String, RGBColor)> = (0..n)
        .map(|s| (data.strategies[s].clone(), colour(s)))
        .collect();
    let area = titled(
        root,
        "Trade-off: load imbalance against session loss (lower left is better)",
    )?;
    let (plot, side) = area.split_horizontally(WIDTH as i32 - legend_width(&entries));
    draw_side_legend(&side, &entries, Swatch::Dot)?;
    let mut chart = ChartBuilder::on(&plot)
        .margin(24)
        .margin_right(40)
        .x_label_area_size(80)
        .y_label_area_size(110)
        .build_cartesian_2d(x0..x1, y0..y1)?;
    chart
        .configure_mesh()
        .x_max_light_lines(0)
        .y_max_light_lines(0)
        .bold_line_style(GRID)
        .x_label_formatter(&|v| tick_label(*v))
        .y_label_formatter(&|v| tick_label(*v))
        .x_desc("imbalance: busiest backend's utilisation / mean (1 = even)")
        .y_desc("sessions lost (% of sessions)")
        .axis_desc_style(label_font())
        .label_style(tick_font())
        .draw()?;
    // Labels placed right of their point, nudged down past labels already placed.
    let mut placed: Vec<(i32, i32, i32, i32)> = Vec::new();
    let lh = TICK_PX as i32 + 8;
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| pts[b].1.total_cmp(&pts[a].1).then(a.cmp(&b)));
    let mut label_pos = vec![(0, 0); n];
    for &s in &order {
        let (px, py) = chart.backend_coord(&pts[s]);
        let text = format!(
            "{}  ({:.2}, {}%)",
            data.strategies[s],
            pts[s].0,
            super::loss::pct_label(pts[s].1)
        );
        let tw = (text.chars().count() as i32) * (TICK_PX as i32 * 6 / 10);
        let mut dy = -(lh / 2);
        for _ in 0..12 {
            let bx = (px + 18, py + dy, px + 18 + tw, py + dy + lh);
            if placed
                .iter()
                .all(|p| bx.2 <= p.0 || bx.0 >= p.2 || bx.3 <= p.1 || bx.1 >= p.3)
            {
                break;
            }
            dy += lh;
        }
        placed.push((px + 18, py + dy, px + 18 + tw, py + dy + lh));
        label_pos[s] = (18, dy);
    }
    for s in 0..n {
        let c = colour(s);
        let text = format!(
            "{}  ({:.2}, {}%)",
            data.strategies[s],
            pts[s].0,
            super::loss::pct_label(pts[s].1)
        );
        chart.draw_series(std::iter::once(
            EmptyElement::at(pts[s])
                + Circle::new((0, 0), 14, c.filled())
                + Circle::new((0, 0), 14, WHITE.stroke_width(2))
                + Text::new(text, label_pos[s], font(TICK_PX, true).color(&c)),
        ))?;
    }
    Ok(())
}
