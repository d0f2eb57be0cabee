//! Chart 3, `loss.png`: sessions lost by cause, one horizontal stacked bar
//! per strategy, as % of sessions. The causes are whichever `lost_*`
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
        max_total * 1.18
    } else {
        1.0
    };
    let longest = data
        .strategies
        .iter()
        .map(|s| s.chars().count())
        .max()
        .unwrap_or(4);
    let label_w = (longest as u32 * (TICK_PX * 6 / 10) + 40).clamp(120, 420);
    let names = data.strategies.clone();
    // Only the causes some strategy lost sessions to, in column order.
    let present: Vec<usize> = (0..causes.len())
        .filter(|&ci| pcts.iter().any(|p| p[ci] > 0.0))
        .collect();
    let entries: Vec<(String, RGBColor)> = present
        .iter()
        .map(|&ci| {
            (
                causes[ci].1.name().replace('_', " "),
                cause_colour(causes[ci].1),
            )
        })
        .collect();
    let area = titled(root, "Sessions that lost their state, by first cause")?;
    let (plot, side) = area.split_horizontally(WIDTH as i32 - legend_width(&entries).max(260));
    if entries.is_empty() {
        side.draw(&Text::new("no session lost", (12, 40), tick_font()))?;
    } else {
        draw_side_legend(&side, &entries, Swatch::Block)?;
    }
    let mut chart = ChartBuilder::on(&plot)
        .margin(24)
        .margin_right(48)
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
        .y_label_formatter(&|v| {
            let k = v.round();
            if (v - k).abs() < 1e-6 && k >= 0.0 && (k as usize) < n {
                names[n - 1 - k as usize].clone()
            } else {
                String::new()
            }
        })
        .x_label_formatter(&|v| tick_label(*v))
        .x_desc("sessions lost (% of sessions)")
        .axis_desc_style(label_font())
        .label_style(tick_font())
        .draw()?;
    let h = if n <= 3 { 0.25 } else { 0.35 };
    for &ci in &present {
        let cause = causes[ci].1;
        let c = cause_colour(cause);
        let rects = (0..n).filter_map(|s| {
            let y = (n - 1 - s) as f64;
            let x0: f64 = pcts[s][..ci].iter().sum();
            let x1 = x0 + pcts[s][ci];
            (x1 > x0).then(|| Rectangle::new([(x0, y - h), (x1, y + h)], c.filled()))
        });
        chart.draw_series(rects)?;
    }
    // The total at the end of each bar.
    chart.draw_series((0..n).map(|s| {
        let y = (n - 1 - s) as f64;
        let total: f64 = pcts[s].iter().sum();
        EmptyElement::at((total, y))
            + Text::new(
                format!("{}%", pct_label(total)),
                (10, -(TICK_PX as i32) / 2),
                font(TICK_PX, true),
            )
    }))?;
    Ok(())
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
