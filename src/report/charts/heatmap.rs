//! Chart 1, `heatmap.png`: per strategy, backends × time coloured by
//! utilisation, one panel per strategy on the same 0–100 % scale; crashed
//! backends in grey; events marked on their backend's row.

use super::events::{events_for, tone, tone_colour, Tone};
use super::*;
use crate::report::data::RunData;

/// The colour of a bucket whose backend was not running.
pub const DOWN: RGBColor = RGBColor(200, 200, 200);

/// Renders `heatmap.png`.
pub fn heatmap(data: &RunData) -> Result<Vec<u8>, ChartError> {
    render_png("heatmap", WIDTH, HEIGHT, |root| draw(root, data))
}

fn draw(root: &Area, data: &RunData) -> DrawResult {
    let area = titled(
        root,
        "Hotspots: backend utilisation over time, one scale for all strategies",
    )?;
    let (main, bar) = area.split_horizontally(WIDTH as i32 - 240);
    let n = data.strategies.len();
    let nb = data.backend_count.max(1) as f64;
    let end = data.end_s();
    let (div, unit) = time_unit(end);
    // Equal plot heights: the bottom panel also holds the time axis.
    let axis_h = 70;
    let (_, main_h) = main.dim_in_pixel();
    let each = (main_h as i32 - axis_h) / n.max(1) as i32;
    let breaks: Vec<i32> = (1..n).map(|i| i as i32 * each).collect();
    let ps = main.split_by_breakpoints::<i32, i32, _, _>([], breaks);
    // Smaller text when panels are short.
    let px = if n <= 3 { TICK_PX } else { TICK_PX - 4 };
    for (s, panel) in ps.iter().enumerate() {
        let last = s + 1 == n;
        let mut chart = ChartBuilder::on(panel)
            .margin_left(16)
            .margin_right(16)
            .margin_top(6)
            .x_label_area_size(if last { axis_h as u32 } else { 6 })
            .y_label_area_size(150)
            .build_cartesian_2d(0.0..end / div, -0.5..nb - 0.5)?;
        let nb_i = data.backend_count as usize;
        let strategy = data.strategies[s].clone();
        let ylab = |v: &f64| {
            let k = v.round();
            if (v - k).abs() < 1e-6 && k >= 0.0 && k < nb {
                format!("b{k}")
            } else {
                String::new()
            }
        };
        let xlab = |v: &f64| tick_label(*v);
        let mut mesh = chart.configure_mesh();
        mesh.disable_mesh()
            .y_labels(nb_i.min(10))
            .y_label_formatter(&ylab)
            .y_desc(strategy.as_str())
            .axis_desc_style(font(px + 2, true))
            .label_style(font(px, false))
            .x_label_formatter(&xlab);
        if last {
            mesh.x_desc(format!("time ({unit})"));
        } else {
            mesh.x_labels(0);
        }
        mesh.draw()?;
        chart.draw_series(data.backend_rows(s).map(|r| {
            let y = r.backend as f64;
            let fill = if r.alive {
                sequential(r.utilisation)
            } else {
                DOWN
            };
            Rectangle::new(
                [(r.t_start_s / div, y - 0.5), (r.t_end_s / div, y + 0.5)],
                fill.filled(),
            )
        }))?;
        // Events: a triangle on the backend's row, or a line for run-wide ones.
        let events = events_for(data, s);
        for e in &events {
            let x = e.time_s / div;
            let c = tone_colour(tone(&e.event));
            match e.backend {
                Some(b) => {
                    let y = b as f64;
                    let up = tone(&e.event) == Tone::Recovery;
                    chart.draw_series(std::iter::once(
                        EmptyElement::at((x, y))
                            + Polygon::new(
                                if up {
                                    vec![(-9, 8), (9, 8), (0, -9)]
                                } else {
                                    vec![(-9, -8), (9, -8), (0, 9)]
                                },
                                c.filled(),
                            )
                            + PathElement::new(
                                if up {
                                    vec![(-9, 8), (9, 8), (0, -9), (-9, 8)]
                                } else {
                                    vec![(-9, -8), (9, -8), (0, 9), (-9, -8)]
                                },
                                WHITE.stroke_width(2),
                            ),
                    ))?;
                }
                None => {
                    // White under the colour: visible on dark and light cells.
                    chart.draw_series(LineSeries::new(
                        [(x, -0.5), (x, nb - 0.5)],
                        WHITE.stroke_width(6),
                    ))?;
                    chart.draw_series(DashedLineSeries::new(
                        [(x, -0.5), (x, nb - 0.5)],
                        8,
                        6,
                        c.stroke_width(3),
                    ))?;
                }
            }
        }
    }
    draw_colour_bar(&bar)
}

/// The utilisation scale, with the keys for down backends and events.
fn draw_colour_bar(area: &Area) -> DrawResult {
    let (_, h) = area.dim_in_pixel();
    let (x0, x1) = (20, 60);
    let (top, bottom) = (40, h as i32 - 330);
    let steps = 100;
    for i in 0..steps {
        let t = i as f64 / steps as f64;
        let y1 = bottom - ((bottom - top) as f64 * t) as i32;
        let y0 = bottom - ((bottom - top) as f64 * (t + 1.0 / steps as f64)) as i32;
        area.draw(&Rectangle::new(
            [(x0, y0), (x1, y1 + 1)],
            sequential(t).filled(),
        ))?;
    }
    area.draw(&Rectangle::new(
        [(x0, top), (x1, bottom)],
        BLACK.stroke_width(1),
    ))?;
    for pct in [0, 25, 50, 75, 100] {
        let y = bottom - ((bottom - top) as f64 * pct as f64 / 100.0) as i32;
        area.draw(&PathElement::new(vec![(x1, y), (x1 + 6, y)], BLACK))?;
        area.draw(&Text::new(
            format!("{pct}%"),
            (x1 + 10, y - 10),
            font(TICK_PX - 2, false),
        ))?;
    }
    area.draw(&Text::new(
        "utilisation",
        (x0 - 10, top - 34),
        font(TICK_PX - 2, true),
    ))?;
    let key_font = font(TICK_PX - 4, false);
    let mut y = bottom + 30;
    area.draw(&Rectangle::new([(x0, y), (x0 + 28, y + 20)], DOWN.filled()))?;
    area.draw(&Text::new("backend down", (x0 + 36, y), key_font.clone()))?;
    y += 40;
    for (label, t, up) in [
        ("failure", Tone::Failure, false),
        ("recovery", Tone::Recovery, true),
        ("deploy / scaling", Tone::Change, false),
    ] {
        let c = tone_colour(t);
        let tri = if up {
            vec![(x0, y + 18), (x0 + 20, y + 18), (x0 + 10, y)]
        } else {
            vec![(x0, y), (x0 + 20, y), (x0 + 10, y + 18)]
        };
        area.draw(&Polygon::new(tri, c.filled()))?;
        area.draw(&Text::new(label, (x0 + 36, y), key_font.clone()))?;
        y += 36;
    }
    Ok(())
}
