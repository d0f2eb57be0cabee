//! Chart 1, `heatmap.png`: per strategy, backends × time coloured by
//! utilisation, one panel per strategy on the same 0–100 % scale; crashed
//! backends in grey, backends that do not exist in white.
//!
//! Events are marked so they never hide the data they explain:
//! - failures and recoveries of one backend: a small triangle on its row,
//!   sized to the row (unless there are so many that they would cover the
//!   panel: then they join the ticks below);
//! - deploys and scaling (and too many failures): a thin tick in a strip
//!   just above the panel, one per time bucket and kind, so a burst of
//!   events reads as a short bar instead of a column of triangles (the
//!   heatmap itself shows which backends came and went);
//! - run-wide events (zone outage, store down…): a thin dashed line.

use super::events::{events_for, tone, tone_colour, Tone};
use super::*;
use crate::report::data::RunData;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::collections::BTreeSet;

/// The colour of a bucket whose backend was not running.
pub const DOWN: RGBColor = RGBColor(200, 200, 200);

/// Height, pixels, of the strip above each panel holding event ticks.
const RUG_PX: i32 = 12;

/// More row triangles than this per panel (beyond one per backend) and
/// failures are shown as ticks too.
const MAX_TRIANGLES: usize = 24;

/// Renders `heatmap.png`.
pub fn heatmap(data: &RunData) -> Result<Vec<u8>, ChartError> {
    heatmap_drawn(data).map(|d| d.png)
}

/// Renders `heatmap.png` with a hover region per backend and stretch of
/// time (see [`MAX_HOTSPOTS`]).
pub fn heatmap_drawn(data: &RunData) -> Result<Drawn, ChartError> {
    render_drawn("heatmap", WIDTH, HEIGHT, |root| draw(root, data))
}

/// At most about this many hover regions per heatmap: each backend's row
/// is cut into at most `MAX_HOTSPOTS / (strategies × backends)` stretches
/// of whole buckets (and none narrower than [`MIN_HOTSPOT_PX`]), so
/// `report.html` stays small whatever the run's length.
pub const MAX_HOTSPOTS: usize = 2400;

/// A hover region is at least this wide, pixels.
pub const MIN_HOTSPOT_PX: f64 = 6.0;

/// How many consecutive buckets one hover region covers, for `buckets`
/// buckets per row over `plot_w` pixels and `rows` rows in all.
pub fn buckets_per_hotspot(buckets: usize, rows: usize, plot_w: f64) -> usize {
    let buckets = buckets.max(1);
    let per_row = (MAX_HOTSPOTS / rows.max(1)).max(1);
    let by_count = buckets.div_ceil(per_row);
    let by_width = (MIN_HOTSPOT_PX / (plot_w.max(1.0) / buckets as f64)).ceil() as usize;
    by_count.max(by_width).clamp(1, buckets)
}

/// The hover text of one backend over a stretch of buckets:
/// `(t_start_s, t_end_s, alive, utilisation)` each.
fn hotspot_title(
    strategy: &str,
    backend: u32,
    cells: &[(f64, f64, bool, f64)],
    div: f64,
    unit: &str,
) -> String {
    let (t0, t1) = (cells[0].0 / div, cells[cells.len() - 1].1 / div);
    let up: Vec<f64> = cells.iter().filter(|c| c.2).map(|c| c.3 * 100.0).collect();
    let when = format!("{}–{} {unit}", tick_label(t0), tick_label(t1));
    let what = if up.is_empty() {
        "down".to_string()
    } else if cells.len() == 1 {
        format!("utilisation {:.1} %", up[0])
    } else {
        let mean = up.iter().sum::<f64>() / up.len() as f64;
        let peak = up.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let mut t = format!("utilisation mean {mean:.1} %, peak {peak:.1} %");
        if up.len() < cells.len() {
            t.push_str(", down part of the time");
        }
        t
    };
    format!("{strategy}, b{backend}, {when}: {what}")
}

/// The strategy name as one line, or split at the hyphen nearest its middle
/// when one line would be wider than `max_chars`.
fn name_lines(name: &str, max_chars: usize) -> Vec<String> {
    let n = name.chars().count();
    if n <= max_chars {
        return vec![name.to_string()];
    }
    let mid = n / 2;
    let cut = name
        .char_indices()
        .filter(|(_, c)| *c == '-' || *c == '_' || *c == '.')
        .map(|(i, _)| i)
        .min_by_key(|i| (*i as i64 - mid as i64).abs());
    match cut {
        Some(i) => vec![name[..=i].to_string(), name[i + 1..].to_string()],
        None => {
            let i = name
                .char_indices()
                .nth(mid)
                .map(|(i, _)| i)
                .unwrap_or(name.len());
            vec![name[..i].to_string(), name[i..].to_string()]
        }
    }
}

/// Every `step`-th backend is labelled: the smallest of 1, 2, 5, 10, 20, …
/// that leaves room for the labels in `plot_h` pixels.
fn label_step(backends: usize, plot_h: i32, px: u32) -> usize {
    let fits = ((plot_h.max(1) as f64) / (px as f64 + 3.0))
        .floor()
        .max(1.0) as usize;
    let mut decade = 1;
    loop {
        for m in [1, 2, 5] {
            let step = m * decade;
            if backends.div_ceil(step) <= fits || step >= backends {
                return step;
            }
        }
        decade *= 10;
    }
}

/// Backends are all labelled up to this many (rows allowing), then thinned.
const LABEL_ALL_MAX: usize = 32;

/// A row must be this many pixels high for every backend to be labelled.
const MIN_LABEL_ROW_PX: f64 = 8.0;

/// What a heatmap drew, so its key lists only that.
#[derive(Debug, Default, Clone, Copy)]
struct Keyed {
    warmup: bool,
    down: bool,
    no_instance: bool,
    failure: bool,
    recovery: bool,
    change: bool,
    runwide: bool,
    /// Every `step`-th backend labelled.
    step: usize,
}

fn draw(root: &Area, data: &RunData) -> HotResult {
    let area = titled(
        root,
        "Hotspots: backend utilisation over time, one scale for all strategies",
    )?;
    let (main, bar) = area.split_horizontally(WIDTH as i32 - 250);
    let n = data.strategies.len();
    let nb_i = data.backend_count.max(1) as usize;
    let nb = nb_i as f64;
    let end = data.end_s();
    let (div, unit) = time_unit(end);
    let span = end / div;
    // Equal plot heights: the bottom panel also holds the time axis.
    let axis_h = 70;
    let (_, main_h) = main.dim_in_pixel();
    let each = (main_h as i32 - axis_h) / n.max(1) as i32;
    let top_margin = RUG_PX + 4;
    let plot_h = each - top_margin - 4;
    // Smaller text when panels are short.
    let px = if n <= 3 { TICK_PX } else { TICK_PX - 4 };
    // Strategy names: horizontal, in a column left of the panels, wrapped
    // at a hyphen when long.
    let name_px = if n <= 4 { TICK_PX - 2 } else { TICK_PX - 4 };
    let char_w = name_px as f64 * 0.64;
    let max_chars = 14;
    let names: Vec<Vec<String>> = data
        .strategies
        .iter()
        .map(|s| name_lines(s, max_chars))
        .collect();
    let widest = names
        .iter()
        .flatten()
        .map(|l| l.chars().count())
        .max()
        .unwrap_or(1);
    let name_w = ((widest as f64 * char_w) as i32 + 20).clamp(100, 220);
    let (names_col, main) = main.split_horizontally(name_w);
    let breaks: Vec<i32> = (1..n).map(|i| i as i32 * each).collect();
    let ps = main.split_by_breakpoints::<i32, i32, _, _>([], breaks.clone());
    // Row triangles sized to the row.
    let row_px = plot_h as f64 / nb;
    // Every backend labelled up to LABEL_ALL_MAX when rows are tall enough
    // (in a font that fits the row), else every step-th.
    let (step, label_px) = if nb_i <= LABEL_ALL_MAX && row_px >= MIN_LABEL_ROW_PX {
        (1, px.min(row_px as u32 + 1))
    } else {
        (label_step(nb_i, plot_h, px), px)
    };
    let warm = data.warmup_s() / div;
    let mut drawn = Keyed {
        step,
        warmup: warm > 0.0,
        ..Keyed::default()
    };
    let tri = (row_px * 0.55).clamp(4.0, 9.0) as i32;
    let mut hotspots = Vec::new();
    for (s, panel) in ps.iter().enumerate() {
        let last = s + 1 == n;
        let mut chart = ChartBuilder::on(panel)
            .margin_left(8)
            .margin_right(16)
            .margin_top(top_margin as u32)
            .x_label_area_size(if last { axis_h as u32 } else { 4 })
            .y_label_area_size(70)
            .build_cartesian_2d(0.0..span, -0.5..nb - 0.5)?;
        let ylab = |v: &f64| {
            let k = v.round();
            if (v - k).abs() < 1e-6 && k >= 0.0 && k < nb && (k as usize).is_multiple_of(step) {
                format!("b{k}")
            } else {
                String::new()
            }
        };
        let xlab = |v: &f64| tick_label(*v);
        let mut mesh = chart.configure_mesh();
        mesh.disable_mesh()
            .y_labels(nb_i.div_ceil(step).max(1))
            .y_label_formatter(&ylab)
            .axis_desc_style(label_font())
            .label_style(font(label_px, false))
            .x_label_style(font(px, false))
            .x_label_formatter(&xlab);
        if last {
            mesh.x_desc(format!("time ({unit})"));
        } else {
            mesh.x_labels(0);
        }
        mesh.draw()?;
        // Hover regions: each backend's row in stretches of whole buckets.
        let mut rows_of: Vec<Vec<(f64, f64, bool, f64)>> = vec![Vec::new(); nb_i];
        for r in data.backend_rows(s) {
            if let Some(row) = rows_of.get_mut(r.backend as usize) {
                row.push((r.t_start_s, r.t_end_s, r.alive, r.utilisation));
            }
        }
        let buckets = rows_of.iter().map(Vec::len).max().unwrap_or(0);
        let plot_w = {
            let (a, b) = (
                chart.backend_coord(&(0.0, 0.0)),
                chart.backend_coord(&(span, 0.0)),
            );
            (b.0 - a.0) as f64
        };
        let per = buckets_per_hotspot(buckets, n * nb_i, plot_w);
        for (b, row) in rows_of.iter().enumerate() {
            for stretch in row.chunks(per) {
                let first = stretch[0];
                let last = stretch[stretch.len() - 1];
                let (x0, y0) = chart.backend_coord(&(first.0 / div, b as f64 + 0.5));
                let (x1, y1) = chart.backend_coord(&(last.1 / div, b as f64 - 0.5));
                hotspots.push(Hotspot {
                    shape: Shape::Rect(x0, y0, x1, y1),
                    title: hotspot_title(&data.strategies[s], b as u32, stretch, div, unit),
                });
            }
        }
        let mut cells = 0usize;
        let mut starts = BTreeSet::new();
        chart.draw_series(data.backend_rows(s).map(|r| {
            cells += 1;
            starts.insert(r.t_start_s.to_bits());
            drawn.down |= !r.alive;
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
        drawn.no_instance |= cells < starts.len() * nb_i;
        // The warm-up (not measured): washed out, with a border line.
        if warm > 0.0 {
            let w = warm.min(span);
            chart.draw_series([Rectangle::new(
                [(0.0, -0.5), (w, nb - 0.5)],
                WHITE.mix(0.55).filled(),
            )])?;
            chart.draw_series(LineSeries::new(
                [(w, -0.5), (w, nb - 0.5)],
                BLACK.mix(0.6).stroke_width(2),
            ))?;
        }
        // The strategy's name, centred on its plot.
        let y0 = s as i32 * each + top_margin + plot_h / 2;
        let lines = &names[s];
        let lh = name_px as i32 + 4;
        let first = y0 - (lines.len() as i32 - 1) * lh / 2;
        for (i, l) in lines.iter().enumerate() {
            names_col.draw(&Text::new(
                l.clone(),
                (name_w - 6, first + i as i32 * lh),
                font(name_px, true).pos(Pos::new(HPos::Right, VPos::Center)),
            ))?;
        }
        // Events, grouped: one mark per time bucket (1/300 of the run) and
        // kind, or per bucket, backend and kind for triangles.
        let bucket = |t: f64| (t / div / span * 300.0).floor() as i64;
        let events = events_for(data, s);
        let mut triangles: BTreeSet<(i64, u32, bool)> = BTreeSet::new();
        let mut ticks: BTreeSet<(u8, i64)> = BTreeSet::new();
        let mut runwide: Vec<(f64, Tone)> = Vec::new();
        for e in &events {
            let t = tone(e.event);
            match (e.backend, t) {
                (Some(b), Tone::Failure | Tone::Recovery) => {
                    triangles.insert((bucket(e.time_s), b, t == Tone::Recovery));
                }
                (Some(_), Tone::Change) => {
                    ticks.insert((0, bucket(e.time_s)));
                }
                (None, t) => runwide.push((e.time_s / div, t)),
            }
        }
        if triangles.len() > MAX_TRIANGLES.max(nb_i * 2) {
            for &(k, _, up) in &triangles {
                ticks.insert((if up { 1 } else { 2 }, k));
            }
            triangles.clear();
        }
        for &(kind, _) in &ticks {
            match kind {
                0 => drawn.change = true,
                1 => drawn.recovery = true,
                _ => drawn.failure = true,
            }
        }
        for &(_, _, up) in &triangles {
            if up {
                drawn.recovery = true;
            } else {
                drawn.failure = true;
            }
        }
        drawn.runwide |= !runwide.is_empty();
        // Ticks above the plot, failures drawn last (on top).
        let tick_x = |k: i64| (k as f64 + 0.5) / 300.0 * span;
        chart.draw_series(ticks.iter().map(|&(kind, k)| {
            let c = tone_colour(match kind {
                0 => Tone::Change,
                1 => Tone::Recovery,
                _ => Tone::Failure,
            });
            EmptyElement::at((tick_x(k), nb - 0.5))
                + Rectangle::new([(-1, -RUG_PX - 2), (1, -3)], c.filled())
        }))?;
        chart.draw_series(triangles.iter().map(|&(k, b, up)| {
            let c = tone_colour(if up { Tone::Recovery } else { Tone::Failure });
            let (w, h) = (tri, tri);
            let shape = if up {
                vec![(-w, h), (w, h), (0, -h)]
            } else {
                vec![(-w, -h), (w, -h), (0, h)]
            };
            let mut outline = shape.clone();
            outline.push(shape[0]);
            EmptyElement::at((tick_x(k), b as f64))
                + Polygon::new(shape, c.filled())
                + PathElement::new(outline, WHITE.stroke_width(2))
        }))?;
        for (x, t) in runwide {
            // White under the colour: visible on dark and light cells.
            chart.draw_series(LineSeries::new(
                [(x, -0.5), (x, nb - 0.5)],
                WHITE.stroke_width(4),
            ))?;
            chart.draw_series(DashedLineSeries::new(
                [(x, -0.5), (x, nb - 0.5)],
                8,
                6,
                tone_colour(t).stroke_width(2),
            ))?;
        }
    }
    draw_colour_bar(&bar, &drawn)?;
    Ok(hotspots)
}

/// The utilisation scale, with keys for what was drawn (warm-up, down
/// backends, events) and the backend-labelling rule.
fn draw_colour_bar(area: &Area, drawn: &Keyed) -> DrawResult {
    let (_, h) = area.dim_in_pixel();
    let x0 = SCALE_X.0;
    let (top, bottom) = (40, h as i32 - 360);
    let ticks = [0, 25, 50, 75, 100].map(|pct| (pct as f64 / 100.0, format!("{pct}%")));
    draw_scale(area, top, bottom, &ticks)?;
    area.draw(&Text::new(
        "utilisation",
        (x0 - 10, top - 34),
        font(TICK_PX - 2, true),
    ))?;
    let key_font = font(TICK_PX - 4, false).pos(Pos::new(HPos::Left, VPos::Center));
    let row = 34;
    let mut y = bottom + 34;
    let text = |label: &str, y: i32| Text::new(label.to_string(), (x0 + 38, y), key_font.clone());
    let note = |label: String, y: i32| {
        Text::new(
            label,
            (x0 + 38, y),
            font(TICK_PX - 6, false)
                .color(&RGBColor(90, 90, 90))
                .pos(Pos::new(HPos::Left, VPos::Center)),
        )
    };
    if drawn.warmup {
        // A mid-scale cell washed out as the warm-up is.
        area.draw(&Rectangle::new(
            [(x0, y - 10), (x0 + 28, y + 10)],
            sequential(0.6).filled(),
        ))?;
        area.draw(&Rectangle::new(
            [(x0, y - 10), (x0 + 28, y + 10)],
            WHITE.mix(0.55).filled(),
        ))?;
        area.draw(&text("warm-up", y))?;
        y += row - 8;
        area.draw(&note("(not measured)".into(), y))?;
        y += row;
    }
    if drawn.down {
        area.draw(&Rectangle::new(
            [(x0, y - 10), (x0 + 28, y + 10)],
            DOWN.filled(),
        ))?;
        area.draw(&text("backend down", y))?;
        y += row;
    }
    if drawn.no_instance {
        area.draw(&Rectangle::new(
            [(x0, y - 10), (x0 + 28, y + 10)],
            RGBColor(150, 150, 150).stroke_width(1),
        ))?;
        area.draw(&text("no instance", y))?;
        y += row;
    }
    for (label, t, up, shown) in [
        ("failure", Tone::Failure, false, drawn.failure),
        ("recovery", Tone::Recovery, true, drawn.recovery),
    ] {
        if !shown {
            continue;
        }
        let c = tone_colour(t);
        let shape = if up {
            vec![(x0 + 4, y + 9), (x0 + 24, y + 9), (x0 + 14, y - 9)]
        } else {
            vec![(x0 + 4, y - 9), (x0 + 24, y - 9), (x0 + 14, y + 9)]
        };
        area.draw(&Polygon::new(shape, c.filled()))?;
        area.draw(&text(label, y))?;
        y += row;
    }
    if drawn.change {
        area.draw(&Rectangle::new(
            [(x0 + 12, y - 8), (x0 + 15, y + 8)],
            tone_colour(Tone::Change).filled(),
        ))?;
        area.draw(&text("deploy / scaling", y))?;
        y += row - 8;
        area.draw(&note("(ticks above a panel)".into(), y))?;
        y += row;
    }
    if drawn.runwide {
        for dx in [0, 14] {
            area.draw(&PathElement::new(
                vec![(x0 + 14, y - 10 + dx), (x0 + 14, y - 2 + dx)],
                BLACK.stroke_width(2),
            ))?;
        }
        area.draw(&text("run-wide event", y))?;
        y += row;
    }
    let rule = if drawn.step == 1 {
        "every backend labelled".to_string()
    } else {
        format!("labels: b0, b{}, b{}…", drawn.step, 2 * drawn.step)
    };
    area.draw(&note(rule, y))?;
    if drawn.step > 1 {
        area.draw(&note(
            format!("(all up to {LABEL_ALL_MAX} if rows fit)"),
            y + row - 8,
        ))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_names_wrap_at_the_middle_hyphen() {
        assert_eq!(name_lines("source-ip", 14), vec!["source-ip"]);
        assert_eq!(
            name_lines("least-conn-shared", 14),
            vec!["least-conn-", "shared"]
        );
        assert_eq!(name_lines("abcdefghijklmnopq", 14).len(), 2);
    }

    #[test]
    fn hover_regions_stay_few_and_wide_enough() {
        // Few cells: one region per bucket.
        assert_eq!(buckets_per_hotspot(60, 5 * 8, 1200.0), 1);
        // A long run of many backends: regions join buckets to stay under
        // the budget and the minimum width.
        for (buckets, rows, w) in [(1440, 5 * 64, 1200.0), (8640, 3, 1200.0), (7, 1, 10.0)] {
            let per = buckets_per_hotspot(buckets, rows, w);
            assert!(
                buckets.div_ceil(per) * rows <= MAX_HOTSPOTS.max(rows),
                "{buckets} {rows}"
            );
            assert!(per == buckets || w / buckets as f64 * per as f64 >= MIN_HOTSPOT_PX);
        }
        assert_eq!(buckets_per_hotspot(0, 0, 0.0), 1);
    }

    #[test]
    fn hover_text_names_backend_time_and_utilisation() {
        let one = hotspot_title("rr", 3, &[(60.0, 120.0, true, 0.456)], 60.0, "min");
        assert_eq!(one, "rr, b3, 1–2 min: utilisation 45.6 %");
        let two = hotspot_title(
            "rr",
            0,
            &[(0.0, 60.0, true, 0.2), (60.0, 120.0, false, 0.0)],
            60.0,
            "min",
        );
        assert_eq!(
            two,
            "rr, b0, 0–2 min: utilisation mean 20.0 %, peak 20.0 %, down part of the time"
        );
        let down = hotspot_title("rr", 1, &[(0.0, 60.0, false, 0.0)], 60.0, "min");
        assert!(down.ends_with("down"));
    }

    #[test]
    fn backend_labels_thin_out_to_fit() {
        assert_eq!(label_step(6, 200, 20), 1);
        assert!(label_step(20, 110, 20) >= 5);
        assert_eq!(label_step(20, 110, 20) % 5, 0);
    }
}
