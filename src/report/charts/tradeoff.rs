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
    let mut chart = scatter_axes(
        &plot,
        (x0, x1),
        (y0, y1),
        "imbalance: busiest backend's utilisation / mean (1 = even)",
        "sessions lost (% of sessions)",
    )?;
    // Labels placed next to their point: right, else above or below it,
    // else left, wherever they overlap no other label or point and stay
    // inside the plot.
    let (left, bottom) = chart.backend_coord(&(x0, y0));
    let (right, top) = chart.backend_coord(&(x1, y1));
    let lh = TICK_PX as i32 + 8;
    let dots: Vec<(i32, i32, i32, i32)> = pts
        .iter()
        .map(|p| {
            let (px, py) = chart.backend_coord(p);
            (px - 15, py - 15, px + 15, py + 15)
        })
        .collect();
    let mut placed: Vec<(i32, i32, i32, i32)> = Vec::new();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| pts[b].1.total_cmp(&pts[a].1).then(a.cmp(&b)));
    let mut label_pos = vec![(18, -(lh / 2)); n];
    let mut label_w = vec![0; n];
    let free = |bx: (i32, i32, i32, i32), taken: &[(i32, i32, i32, i32)]| {
        bx.0 >= left
            && bx.2 <= right
            && bx.1 >= top
            && bx.3 <= bottom
            && taken
                .iter()
                .all(|p| bx.2 <= p.0 || bx.0 >= p.2 || bx.3 <= p.1 || bx.1 >= p.3)
    };
    for &s in &order {
        let (px, py) = chart.backend_coord(&pts[s]);
        // Bold DejaVu averages about 0.55 em per character.
        let tw = (label_text(data, s, pts[s]).chars().count() as i32) * (TICK_PX as i32 * 55 / 100);
        // Right, left, then one line further up or down at a time.
        let mut candidates = Vec::new();
        for k in 0..8 {
            let dy = -(lh / 2)
                + if k % 2 == 0 {
                    k / 2 * lh
                } else {
                    -(k / 2 + 1) * lh
                };
            candidates.push((18, dy));
            candidates.push((-18 - tw, dy));
        }
        let taken: Vec<_> = placed
            .iter()
            .chain(
                dots.iter()
                    .enumerate()
                    .filter(|(i, _)| *i != s)
                    .map(|(_, d)| d),
            )
            .copied()
            .collect();
        let pick = candidates
            .iter()
            .copied()
            // The text's own height, not the line's, must stay clear.
            .find(|&(dx, dy)| {
                free(
                    (px + dx, py + dy + 3, px + dx + tw, py + dy + lh - 3),
                    &taken,
                )
            })
            .unwrap_or((18, -(lh / 2)));
        placed.push((
            px + pick.0,
            py + pick.1 + 3,
            px + pick.0 + tw,
            py + pick.1 + lh - 3,
        ));
        label_pos[s] = pick;
        label_w[s] = tw;
    }
    for s in 0..n {
        let c = colour(s);
        let ink = text_colour(c);
        // A label moved away from its point is tied to it by a thin line.
        let (dx, dy) = label_pos[s];
        if (dy + lh / 2).abs() >= lh {
            let end = (
                if dx > 0 { dx - 4 } else { dx + label_w[s] + 4 },
                dy + lh / 2,
            );
            chart.draw_series(std::iter::once(
                EmptyElement::at(pts[s]) + PathElement::new(vec![(0, 0), end], tint(ink, 0.6)),
            ))?;
        }
        chart.draw_series(std::iter::once(
            EmptyElement::at(pts[s])
                + Circle::new((0, 0), 14, c.filled())
                + Circle::new((0, 0), 14, WHITE.stroke_width(2))
                + Text::new(
                    label_text(data, s, pts[s]),
                    label_pos[s],
                    font(TICK_PX, true).color(&ink),
                ),
        ))?;
    }
    Ok(())
}

/// "cookie-1m  (1.02, 12.9%)".
fn label_text(data: &RunData, s: usize, p: (f64, f64)) -> String {
    format!(
        "{}  ({:.2}, {}%)",
        data.strategies[s],
        p.0,
        super::loss::pct_label(p.1)
    )
}
