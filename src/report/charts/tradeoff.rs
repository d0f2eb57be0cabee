//! Chart 5, `tradeoff.png`: one labelled point per strategy, session loss
//! against imbalance (busiest backend's utilisation over the mean) — the
//! picture a review decides from: lower left is better on both.
//!
//! - Each point is the mean over the replications, with its 95 % interval
//!   as error bars on both axes.
//! - The loss axis is logarithmic: losses of one scenario span orders of
//!   magnitude (0.5 % against 89 %), and what separates the candidates is
//!   their ratio (0.5 % against 4 % is eight times the carts), which a
//!   linear axis flattens onto the floor. A strategy that lost nothing sits
//!   on a "none lost" line below the lowest decade.
//! - The imbalance axis always shows 1.0 (perfectly even), marked.
//! - Labels never overlap: each goes right, left, then further up or down
//!   of its point, wherever it covers no other label or point; one that
//!   fits nowhere gets a number at its point and its text in the side panel.
//! - The recommended strategy of the verdict is ringed; a strategy that
//!   fails a constraint is drawn hollow; a constraint on one of the two
//!   axes is drawn as a shaded region.
//! - No legend: the labels name the points.

use super::*;
use crate::decision::Estimate;
use crate::report::data::RunData;
use crate::scenario::decision::{Constraint, Op};
use plotters::style::text_anchor::{HPos, Pos, VPos};

const X_COL: &str = "imbalance_util_max_over_mean";
const Y_COL: &str = "sessions_lost_pct";

/// Renders `tradeoff.png`.
pub fn tradeoff(data: &RunData) -> Result<Vec<u8>, ChartError> {
    tradeoff_drawn(data).map(|d| d.png)
}

/// Renders `tradeoff.png` with a hover region per point.
pub fn tradeoff_drawn(data: &RunData) -> Result<Drawn, ChartError> {
    render_drawn("tradeoff", WIDTH, HEIGHT, |root| draw(root, data))
}

/// Width of the side panel (recommendation, constraints, labels that did
/// not fit beside their point), pixels.
const SIDE_W: i32 = 380;

/// The y position of "none lost" relative to the lowest decade shown.
const ZERO_FACTOR: f64 = 0.45;

fn draw(root: &Area, data: &RunData) -> HotResult {
    let n = data.strategies.len();
    let est = crate::report::replicated::estimates_of(data);
    let get = |s: usize, col: &str| -> Estimate {
        est.get(s)
            .and_then(|m| m.get(col))
            .copied()
            .unwrap_or(Estimate {
                mean: data.summary.num(s, col),
                half_width: None,
            })
    };
    let xs: Vec<Estimate> = (0..n).map(|s| get(s, X_COL)).collect();
    let ys: Vec<Estimate> = (0..n).map(|s| get(s, Y_COL)).collect();
    let hw = |e: &Estimate| e.half_width.unwrap_or(0.0);
    let verdict = crate::report::verdict::verdict_of(data).ok();
    let recommended = verdict.as_ref().and_then(|v| v.recommended.clone());
    let failing: Vec<Vec<String>> = (0..n)
        .map(|s| {
            verdict
                .as_ref()
                .and_then(|v| v.outcomes.iter().find(|o| o.strategy == data.strategies[s]))
                .map(|o| o.failures().map(|f| f.constraint.to_string()).collect())
                .unwrap_or_default()
        })
        .collect();
    let constraints: Vec<Constraint> = crate::report::verdict::decision_of(data)
        .map(|d| d.constraints)
        .unwrap_or_default();

    // The y axis: decades around the positive values, "none lost" below.
    let ax = LossAxis::new(ys.iter().map(|e| (e.mean, hw(e))));
    let (y0, y1, y_zero, any_zero) = (ax.y0, ax.y1, ax.y_zero, ax.any_zero);
    let ypos = |v: f64| ax.pos(v);

    // The x axis: the intervals and 1.0, with room for labels on the right.
    let xlo = xs.iter().map(|e| e.mean - hw(e)).fold(1.0f64, f64::min);
    let xhi = xs.iter().map(|e| e.mean + hw(e)).fold(1.0f64, f64::max);
    let span = (xhi - xlo).max(0.04);
    let (x0, x1) = (xlo - span * 0.08, xhi + span * 0.45);

    let area = titled(
        root,
        "Trade-off: sessions lost against imbalance (lower left is better)",
    )?;
    let (plot, side) = area.split_horizontally(WIDTH as i32 - SIDE_W);
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
        .bold_line_style(GRID)
        .x_label_formatter(&|v| tick_label(*v))
        .y_label_formatter(&|v| log_tick(*v))
        .x_desc("imbalance: busiest backend's utilisation / mean (1 = even)")
        .y_desc("sessions lost, % of sessions (log scale)")
        .axis_desc_style(label_font())
        .label_style(tick_font())
        .draw()?;
    let dark = RGBColor(90, 90, 90);
    // Constraints on the two axes: the failing side shaded.
    let shade = RGBColor(214, 39, 40).mix(0.08);
    for c in &constraints {
        let (lo_fail, hi_fail) = match c.op {
            Op::Lt | Op::Le => (Some(c.value), None),
            Op::Gt | Op::Ge => (None, Some(c.value)),
            Op::Eq => (None, None),
        };
        if c.column == X_COL {
            if let Some(v) = lo_fail.filter(|v| *v < x1) {
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(v.max(x0), y0), (x1, y1)],
                    shade.filled(),
                )))?;
            }
            if let Some(v) = hi_fail.filter(|v| *v > x0) {
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(x0, y0), (v.min(x1), y1)],
                    shade.filled(),
                )))?;
            }
        } else if c.column == Y_COL {
            if let Some(v) = lo_fail.filter(|v| *v < y1) {
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(x0, v.max(y0)), (x1, y1)],
                    shade.filled(),
                )))?;
            }
            if let Some(v) = hi_fail.filter(|v| *v > y0) {
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(x0, y0), (x1, v.min(y1))],
                    shade.filled(),
                )))?;
            }
        }
    }
    // 1.0 = even, and the "none lost" line.
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
    if any_zero {
        chart.draw_series(DashedLineSeries::new(
            [(x0, y_zero), (x1, y_zero)],
            4,
            6,
            dark.stroke_width(1),
        ))?;
        chart.draw_series(std::iter::once(
            EmptyElement::at((x1, y_zero))
                + Text::new(
                    "none lost",
                    (-6, -4),
                    font(TICK_PX - 4, false)
                        .color(&dark)
                        .pos(Pos::new(HPos::Right, VPos::Bottom)),
                ),
        ))?;
    }
    // Error bars: the 95 % intervals.
    for s in 0..n {
        let ink = tint(colour(s), 0.85);
        let (x, y) = (xs[s], ys[s]);
        let py = ypos(y.mean);
        if let Some(h) = x.half_width.filter(|h| *h > 0.0) {
            chart.draw_series(std::iter::once(PathElement::new(
                vec![(x.mean - h, py), (x.mean + h, py)],
                ink.stroke_width(3),
            )))?;
            for end in [x.mean - h, x.mean + h] {
                chart.draw_series(std::iter::once(
                    EmptyElement::at((end, py))
                        + PathElement::new(vec![(0, -8), (0, 8)], ink.stroke_width(3)),
                ))?;
            }
        }
        if let Some(h) = y.half_width.filter(|h| *h > 0.0 && y.mean > 0.0) {
            let (lo, hi) = (ypos(y.mean - h), (y.mean + h).min(y1));
            chart.draw_series(std::iter::once(PathElement::new(
                vec![(x.mean, lo), (x.mean, hi)],
                ink.stroke_width(3),
            )))?;
            for end in [lo, hi] {
                chart.draw_series(std::iter::once(
                    EmptyElement::at((x.mean, end))
                        + PathElement::new(vec![(-8, 0), (8, 0)], ink.stroke_width(3)),
                ))?;
            }
        }
    }

    // Labels, placed greedily from the highest loss down.
    let (left, top) = chart.backend_coord(&(x0, y1));
    let (right, bottom) = chart.backend_coord(&(x1, y0));
    let lh = TICK_PX as i32 + 8;
    let px: Vec<(i32, i32)> = (0..n)
        .map(|s| chart.backend_coord(&(xs[s].mean, ypos(ys[s].mean))))
        .collect();
    let r = 13;
    // The error bars, as boxes labels must stay off.
    let mut bars: Vec<Rect> = Vec::new();
    for s in 0..n {
        let (x, y) = (xs[s], ys[s]);
        let py = ypos(y.mean);
        if let Some(h) = x.half_width.filter(|h| *h > 0.0) {
            let (a, b) = (
                chart.backend_coord(&(x.mean - h, py)),
                chart.backend_coord(&(x.mean + h, py)),
            );
            bars.push((a.0 - 2, a.1 - 9, b.0 + 2, b.1 + 9));
        }
        if let Some(h) = y.half_width.filter(|h| *h > 0.0 && y.mean > 0.0) {
            let (a, b) = (
                chart.backend_coord(&(x.mean, (y.mean + h).min(y1))),
                chart.backend_coord(&(x.mean, ypos(y.mean - h))),
            );
            bars.push((a.0 - 9, a.1 - 2, b.0 + 9, b.1 + 2));
        }
    }
    let texts: Vec<String> = (0..n).map(|s| label_text(data, s, xs[s], ys[s])).collect();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| ys[b].mean.total_cmp(&ys[a].mean).then(a.cmp(&b)));
    // Bold DejaVu averages about 0.6 em per character.
    let width_of = |t: &str| t.chars().count() as i32 * (TICK_PX as i32 * 60 / 100);
    let pos = place_labels(
        &px,
        &texts,
        &bars,
        (left, top, right, bottom),
        &order,
        (r, lh),
        width_of,
    );
    let mut side_labels: Vec<(usize, usize)> = Vec::new();
    for s in 0..n {
        let c = colour(s);
        let ink = text_colour(c);
        let (x, y) = px[s];
        let feasible = failing[s].is_empty();
        let is_rec = recommended.as_deref() == Some(data.strategies[s].as_str());
        if is_rec {
            root.draw(&Circle::new((x, y), r + 9, BLACK.stroke_width(3)))?;
        }
        if feasible {
            root.draw(&Circle::new((x, y), r, c.filled()))?;
            root.draw(&Circle::new((x, y), r, WHITE.stroke_width(2)))?;
        } else {
            root.draw(&Circle::new((x, y), r, WHITE.filled()))?;
            root.draw(&Circle::new((x, y), r - 2, c.stroke_width(4)))?;
        }
        match pos[s] {
            Some((dx, dy)) => {
                let tw = width_of(&texts[s]);
                if (dy + lh / 2).abs() >= lh {
                    let end = if dx > 0 { x + dx - 4 } else { x + dx + tw + 4 };
                    root.draw(&PathElement::new(
                        vec![(x, y), (end, y + dy + lh / 2)],
                        tint(ink, 0.6),
                    ))?;
                }
                root.draw(&Text::new(
                    texts[s].clone(),
                    (x + dx, y + dy + 4),
                    font(TICK_PX, true).color(&ink),
                ))?;
            }
            None => {
                side_labels.push((s, side_labels.len() + 1));
                let k = side_labels.len();
                root.draw(&Text::new(
                    k.to_string(),
                    (x + r + 4, y - r - 4),
                    font(TICK_PX, true)
                        .color(&ink)
                        .pos(Pos::new(HPos::Left, VPos::Bottom)),
                ))?;
            }
        }
    }

    // The side panel: what is marked, then any label that did not fit.
    let mut lines: Vec<(String, RGBColor, bool)> = Vec::new();
    if let Some(rec) = &recommended {
        lines.push(("Ringed: recommended".into(), BLACK, true));
        lines.extend(
            crate::text::wrap_words(rec, 26)
                .into_iter()
                .map(|l| (l, BLACK, false)),
        );
        lines.push((String::new(), BLACK, false));
    }
    lines.push(("Bars: 95 % intervals".into(), BLACK, true));
    if data.meta.replications < 2 {
        lines.push(("(one replication: none)".into(), dark, false));
    }
    lines.push((String::new(), BLACK, false));
    if !constraints.is_empty() {
        lines.push(("Constraints".into(), BLACK, true));
        for c in &constraints {
            let on_axis = c.column == X_COL || c.column == Y_COL;
            let text = format!("{c}{}", if on_axis { " (shaded: fails)" } else { "" });
            lines.extend(
                crate::text::wrap_words(&text, 28)
                    .into_iter()
                    .map(|l| (l, dark, false)),
            );
        }
        let fails = failing.iter().filter(|f| !f.is_empty()).count();
        lines.push((
            if fails == 0 {
                "every strategy meets them".to_string()
            } else {
                format!("hollow: fails one ({fails})")
            },
            dark,
            false,
        ));
        lines.push((String::new(), BLACK, false));
    }
    for (s, k) in &side_labels {
        let ink = text_colour(colour(*s));
        let text = format!("{k}: {}", texts[*s]);
        lines.extend(
            crate::text::wrap_words(&text, 28)
                .into_iter()
                .map(|l| (l, ink, true)),
        );
    }
    let row = TICK_PX as i32 + 8;
    let mut y = 50;
    for (text, c, bold) in lines {
        if !text.is_empty() {
            side.draw(&Text::new(text, (16, y), font(TICK_PX - 2, bold).color(&c)))?;
        }
        y += row;
    }

    // Hover: every point's figures.
    Ok((0..n)
        .map(|s| {
            let mut title = format!(
                "{}: sessions lost {} %, imbalance {}",
                data.strategies[s],
                crate::report::verdict::est(&ys[s]),
                crate::report::verdict::est(&xs[s])
            );
            if recommended.as_deref() == Some(data.strategies[s].as_str()) {
                title.push_str(" (recommended)");
            }
            if !failing[s].is_empty() {
                title.push_str(&format!("; fails {}", failing[s].join(", ")));
            }
            Hotspot {
                shape: Shape::Circle(px[s].0, px[s].1, r + 6),
                title,
            }
        })
        .collect())
}

/// A logarithmic loss axis: whole decades around the positive values
/// (intervals included), and a "none lost" line below the lowest decade
/// where zero losses sit. Shared by the run's and the sweep's trade-off.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LossAxis {
    /// The axis's bottom.
    pub y0: f64,
    /// The axis's top.
    pub y1: f64,
    /// Where "none lost" is drawn.
    pub y_zero: f64,
    /// Whether some value is zero (so the "none lost" line is drawn).
    pub any_zero: bool,
}

impl LossAxis {
    /// The axis for `(mean, half-width)` values, percent.
    pub fn new(values: impl Iterator<Item = (f64, f64)> + Clone) -> Self {
        let positive = values
            .clone()
            .flat_map(|(m, h)| [m, m - h])
            .filter(|v| *v > 0.0);
        let ymin_pos = positive.fold(f64::INFINITY, f64::min);
        let ymax = values.clone().map(|(m, h)| m + h).fold(0.0, f64::max);
        let (decade_lo, decade_hi) = if ymin_pos.is_finite() && ymax > 0.0 {
            (
                10f64.powf(ymin_pos.log10().floor()),
                10f64
                    .powf((ymax * 1.05).log10().ceil())
                    .min(100.0)
                    .max(ymax * 1.3),
            )
        } else {
            (0.1, 100.0)
        };
        let any_zero = values.into_iter().any(|(m, _)| m <= 0.0);
        let y_zero = decade_lo * ZERO_FACTOR;
        let y0 = if any_zero {
            y_zero * 0.7
        } else {
            decade_lo * 0.8
        };
        LossAxis {
            y0,
            y1: decade_hi,
            y_zero,
            any_zero,
        }
    }

    /// Where value `v` is drawn: itself, or on the "none lost" line.
    pub fn pos(&self, v: f64) -> f64 {
        if v > 0.0 {
            v.max(self.y0)
        } else {
            self.y_zero
        }
    }
}

/// Places a label beside each point so that no two labels overlap and no
/// label covers a point or an `obstacle`: right of its point, then left,
/// then further up or down, within `bounds`; points are served in `order`.
/// `None` for a label that fits nowhere. `r`: a point's radius; `lh`: a
/// label's line height; `width_of`: a label's width. Pixels throughout.
pub fn place_labels(
    points: &[(i32, i32)],
    texts: &[String],
    obstacles: &[Rect],
    bounds: Rect,
    order: &[usize],
    (r, lh): (i32, i32),
    width_of: impl Fn(&str) -> i32,
) -> Vec<Option<(i32, i32)>> {
    let (left, top, right, bottom) = bounds;
    let dots: Vec<Rect> = points
        .iter()
        .map(|&(x, y)| (x - r - 3, y - r - 3, x + r + 3, y + r + 3))
        .collect();
    let mut placed: Vec<Rect> = Vec::new();
    let mut pos: Vec<Option<(i32, i32)>> = vec![None; points.len()];
    for &s in order {
        let (x, y) = points[s];
        let tw = width_of(&texts[s]);
        let mut candidates = Vec::new();
        for k in 0..14 {
            let dy = -(lh / 2)
                + if k % 2 == 0 {
                    k / 2 * lh
                } else {
                    -(k / 2 + 1) * lh
                };
            candidates.push((r + 14, dy));
            candidates.push((-r - 14 - tw, dy));
        }
        let taken: Vec<Rect> = placed
            .iter()
            .chain(
                dots.iter()
                    .enumerate()
                    .filter(|(i, _)| *i != s)
                    .map(|(_, d)| d),
            )
            .chain(obstacles)
            .copied()
            .collect();
        pos[s] = candidates.into_iter().find(|&(dx, dy)| {
            let bx = (x + dx, y + dy + 2, x + dx + tw, y + dy + lh - 2);
            bx.0 >= left
                && bx.2 <= right
                && bx.1 >= top
                && bx.3 <= bottom
                && taken.iter().all(|t| !overlaps(bx, *t))
        });
        if let Some((dx, dy)) = pos[s] {
            placed.push((x + dx, y + dy + 2, x + dx + tw, y + dy + lh - 2));
        }
    }
    pos
}

/// A box in pixels: left, top, right, bottom.
pub type Rect = (i32, i32, i32, i32);

fn overlaps(a: Rect, b: Rect) -> bool {
    !(a.2 <= b.0 || a.0 >= b.2 || a.3 <= b.1 || a.1 >= b.3)
}

/// Log-axis ticks labelled only at 1, 2 and 5 × 10ⁿ, so they never crowd.
pub fn log_tick(v: f64) -> String {
    if v <= 0.0 {
        return String::new();
    }
    let m = v / 10f64.powf(v.log10().floor());
    if [1.0, 2.0, 5.0, 10.0].iter().any(|k| (m - k).abs() < 1e-6) {
        let s = format!("{v:.4}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        String::new()
    }
}

/// "cookie-1m  12.9 %, ×1.02".
fn label_text(data: &RunData, s: usize, x: Estimate, y: Estimate) -> String {
    format!(
        "{}  {} %, ×{:.2}",
        data.strategies[s],
        super::loss::pct_label(y.mean),
        x.mean
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapping_breaks_at_spaces() {
        assert_eq!(
            crate::text::wrap_words("a bb ccc dddd", 6),
            ["a bb", "ccc", "dddd"]
        );
        assert_eq!(crate::text::wrap_words("", 6), Vec::<String>::new());
    }

    #[test]
    fn log_ticks_only_at_one_two_five() {
        assert_eq!(log_tick(0.5), "0.5");
        assert_eq!(log_tick(20.0), "20");
        assert_eq!(log_tick(3.0), "");
        assert_eq!(log_tick(0.0), "");
    }
}
