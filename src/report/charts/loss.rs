//! Chart 3, `loss.png`: sessions lost by cause, as % of sessions, strategies
//! in the verdict's order (the recommendation first). Left: one stacked bar
//! per strategy on a common scale. Right: one column per cause, each scaled
//! to its own largest value with every value printed, so a 0.1 % crash loss
//! stays readable beside 88 % rebalancing losses. The causes are whichever `lost_*`
//! columns `summary.csv` has, in its order.

use super::*;
use crate::metrics::LossCause;
use crate::report::data::RunData;

/// The colour of a loss cause: fixed per cause, whatever columns a run has.
pub fn cause_colour(cause: LossCause) -> RGBColor {
    category_colour(match cause {
        LossCause::Failure => 0,
        LossCause::IpChange => 1,
        LossCause::CookieBlocked => 2,
        LossCause::TtlExpired => 3,
        LossCause::Rebalanced => 4,
        LossCause::Deploy => 5,
        LossCause::ScaleIn => 6,
        LossCause::TokenRotation => 7,
    })
}

/// Renders `loss.png`.
pub fn loss(data: &RunData) -> Result<Vec<u8>, ChartError> {
    render_png("loss", WIDTH, HEIGHT, |root| draw(root, data))
}

fn draw(root: &Area, data: &RunData) -> DrawResult {
    let sm = &data.summary;
    let causes = sm.loss_causes();
    let n = data.strategies.len();
    // Per strategy: each cause's % of sessions.
    let pcts: Vec<Vec<f64>> = (0..n)
        .map(|s| {
            let sessions = sm.num(s, "sessions");
            causes
                .iter()
                .map(|(col, _)| {
                    if sessions > 0.0 {
                        100.0 * sm.num(s, col) / sessions
                    } else {
                        0.0
                    }
                })
                .collect()
        })
        .collect();
    let max_total = pcts
        .iter()
        .map(|p| p.iter().sum::<f64>())
        .fold(0.0, f64::max);
    let xmax = if max_total > 0.0 {
        max_total * 1.25
    } else {
        1.0
    };
    let (order, recommended) = verdict_order(data);
    // Row r (0 = top) shows strategy order[r], at y = n - 1 - r.
    let row_y = |r: usize| (n - 1 - r) as f64;
    let names: Vec<String> = order
        .iter()
        .map(|&s| {
            let name = &data.strategies[s];
            if recommended == Some(s) {
                format!("{name} ✓")
            } else {
                name.clone()
            }
        })
        .collect();
    let longest = names.iter().map(|s| s.chars().count()).max().unwrap_or(4);
    let label_w = (longest as u32 * (TICK_PX * 6 / 10) + 40).clamp(120, 420);
    // Only the causes some strategy lost sessions to, in column order.
    let present: Vec<usize> = (0..causes.len())
        .filter(|&ci| pcts.iter().any(|p| p[ci] > 0.0))
        .collect();
    let title = if recommended.is_some() {
        "Sessions that lost their state, by first cause (✓ recommended, verdict order)"
    } else {
        "Sessions that lost their state, by first cause (verdict order)"
    };
    let area = titled(root, title)?;
    if present.is_empty() {
        area.draw(&Text::new(
            "no session lost",
            (WIDTH as i32 / 2 - 100, 80),
            label_font(),
        ))?;
        return Ok(());
    }
    // Left: the total, stacked by cause, on one scale. Right: one column per
    // cause, each scaled to its own largest value with the values printed,
    // so a cause a hundred times smaller than the largest is still read.
    let (left, right) = area.split_horizontally((area.dim_in_pixel().0 as f64 * 0.52) as i32);
    let header = 84;
    let mut chart = ChartBuilder::on(&left)
        .margin(24)
        .margin_top(header)
        .margin_right(8)
        .x_label_area_size(80)
        .y_label_area_size(label_w)
        .build_cartesian_2d(0.0..xmax, -0.5..n as f64 - 0.5)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_max_light_lines(0)
        .x_max_light_lines(0)
        .bold_line_style(GRID)
        .y_labels(n.clamp(1, 40))
        .y_label_formatter(&|v| super::row_label(&names, *v))
        .x_label_formatter(&|v| tick_label(*v))
        .x_desc("total lost (% of sessions)")
        .axis_desc_style(label_font())
        .label_style(tick_font())
        .draw()?;
    let h = if n <= 3 { 0.25 } else { 0.35 };
    for &ci in &present {
        let c = cause_colour(causes[ci].1);
        let rects = order.iter().enumerate().filter_map(|(r, &s)| {
            let y = row_y(r);
            let x0: f64 = pcts[s][..ci].iter().sum();
            let x1 = x0 + pcts[s][ci];
            (x1 > x0).then(|| Rectangle::new([(x0, y - h), (x1, y + h)], c.filled()))
        });
        chart.draw_series(rects)?;
        // A light colour (sand) gets a darker edge so its bar reads on white.
        if let Some(e) = edge_colour(c) {
            chart.draw_series(order.iter().enumerate().filter_map(|(r, &s)| {
                let y = row_y(r);
                let x0: f64 = pcts[s][..ci].iter().sum();
                let x1 = x0 + pcts[s][ci];
                (x1 > x0).then(|| Rectangle::new([(x0, y - h), (x1, y + h)], e.stroke_width(2)))
            }))?;
        }
    }
    // The total at the end of each bar.
    chart.draw_series(order.iter().enumerate().map(|(r, &s)| {
        let total: f64 = pcts[s].iter().sum();
        EmptyElement::at((total, row_y(r)))
            + Text::new(
                format!("{}%", pct_label(total)),
                (8, -(TICK_PX as i32) / 2),
                font(TICK_PX, true),
            )
    }))?;

    let k = present.len();
    let mut grid = ChartBuilder::on(&right)
        .margin(24)
        .margin_top(header)
        .margin_left(16)
        .x_label_area_size(80)
        .y_label_area_size(0)
        .build_cartesian_2d(0.0..k as f64, -0.5..n as f64 - 0.5)?;
    grid.configure_mesh()
        .disable_mesh()
        .x_labels(0)
        .y_labels(0)
        .x_desc("each cause (% of sessions), scaled to its own largest")
        .axis_desc_style(label_font())
        .draw()?;
    // Column separators and headers (the cause names, in their colour: the
    // legend of both panels).
    grid.draw_series((1..k).map(|j| {
        PathElement::new(
            vec![(j as f64, -0.5), (j as f64, n as f64 - 0.5)],
            GRID.stroke_width(2),
        )
    }))?;
    let head_font = font(TICK_PX, true);
    for (j, &ci) in present.iter().enumerate() {
        let name = causes[ci].1.name().replace('_', " ");
        let (px, py) = grid.backend_coord(&(j as f64 + 0.05, n as f64 - 0.5));
        let c = cause_colour(causes[ci].1);
        let words: Vec<&str> = name.split(' ').collect();
        let lines = words.len().min(2);
        for (l, w) in words.iter().take(2).enumerate() {
            let text = if l == 1 {
                words[1..].join(" ")
            } else {
                w.to_string()
            };
            let y = py - (lines - l) as i32 * (TICK_PX as i32 + 4) - 6;
            right.draw(&Text::new(
                text,
                (px - right.get_base_pixel().0, y - right.get_base_pixel().1),
                head_font.color(&text_colour(c)),
            ))?;
        }
    }
    for (j, &ci) in present.iter().enumerate() {
        let c = cause_colour(causes[ci].1);
        let cmax = pcts.iter().map(|p| p[ci]).fold(0.0, f64::max);
        let x0 = j as f64 + 0.05;
        let span = 0.85;
        grid.draw_series(order.iter().enumerate().filter_map(|(r, &s)| {
            let v = pcts[s][ci];
            let y = row_y(r);
            (v > 0.0).then(|| {
                Rectangle::new(
                    [(x0, y - h), (x0 + span * v / cmax, y - h * 0.15)],
                    c.filled(),
                )
            })
        }))?;
        if let Some(e) = edge_colour(c) {
            grid.draw_series(order.iter().enumerate().filter_map(|(r, &s)| {
                let v = pcts[s][ci];
                let y = row_y(r);
                (v > 0.0).then(|| {
                    Rectangle::new(
                        [(x0, y - h), (x0 + span * v / cmax, y - h * 0.15)],
                        e.stroke_width(2),
                    )
                })
            }))?;
        }
        grid.draw_series(order.iter().enumerate().map(|(r, &s)| {
            let v = pcts[s][ci];
            let y = row_y(r);
            let (text, style) = if v > 0.0 {
                (format!("{}%", pct_label(v)), font(TICK_PX, false))
            } else {
                (
                    "–".to_string(),
                    font(TICK_PX, false).color(&RGBColor(150, 150, 150)),
                )
            };
            EmptyElement::at((x0, y + h * 0.1)) + Text::new(text, (0, -(TICK_PX as i32)), style)
        }))?;
    }
    Ok(())
}

/// The strategies in the verdict's order: feasible ones first, best
/// objective first (so the recommendation leads), then the infeasible ones
/// by fewest failed constraints and objective; input order breaks ties and
/// is used when there is no verdict. Also returns the recommended (or,
/// with none feasible, the closest) strategy's index.
fn verdict_order(data: &RunData) -> (Vec<usize>, Option<usize>) {
    let n = data.strategies.len();
    let mut order: Vec<usize> = (0..n).collect();
    let Ok(v) = crate::report::verdict::verdict_of(data) else {
        return (order, None);
    };
    let outcome = |s: usize| v.outcomes.iter().find(|o| o.strategy == data.strategies[s]);
    let key = |s: usize| {
        outcome(s).map_or((true, usize::MAX, f64::NAN), |o| {
            (!o.feasible, o.failures().count(), o.objective.mean)
        })
    };
    order.sort_by(|&a, &b| {
        let (fa, ca, oa) = key(a);
        let (fb, cb, ob) = key(b);
        fa.cmp(&fb).then(ca.cmp(&cb)).then_with(|| {
            if v.objective.better(oa, ob) {
                std::cmp::Ordering::Less
            } else if v.objective.better(ob, oa) {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
    });
    let pick = v.recommended.as_ref().or(v.closest.as_ref());
    let rec = pick.and_then(|name| data.strategies.iter().position(|s| s == name));
    (order, rec)
}

/// A percentage with precision that suits its size: 12.3, 1.23, 0.012.
pub fn pct_label(p: f64) -> String {
    if p == 0.0 {
        "0".to_string()
    } else if p >= 10.0 {
        format!("{p:.1}")
    } else if p >= 0.1 {
        format!("{p:.2}")
    } else if p >= 0.001 {
        format!("{p:.3}")
    } else {
        "<0.001".to_string()
    }
}
