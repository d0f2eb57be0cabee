//! Chart 2, `load.png`: per-backend utilisation over time, one panel per
//! strategy on the same y scale: the mean over running backends (line), the
//! min–max spread (band), and with at most [`MAX_BACKEND_LINES`] backends
//! one thin muted line per backend; the hottest backend (highest mean
//! utilisation) in a strong colour, named in the panel's title; events as
//! dashed lines coloured by what happened.
//!
//! A key under the title names the lines and the kinds of event drawn
//! (only those). The panels are small multiples that wrap into a grid
//! ([`grid`]): one column up to 2 strategies, 2 up to 6, 3 up to 9, then 4
//! per row, the image growing taller so a panel never gets shorter than
//! [`MIN_PANEL_PX`].

use super::events::{events_for, marked_kinds, marker_legend, markers};
use super::*;
use crate::metrics::ControlKind;
use crate::report::data::RunData;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// Up to this many backends, each gets its own thin line.
pub const MAX_BACKEND_LINES: u32 = 12;

/// The hottest backend's line: strong, the same in every panel.
const HOT: RGBColor = RGBColor(0, 0, 0);

/// Every other backend's line.
const MUTED: RGBColor = RGBColor(190, 190, 190);

/// A panel is never shorter than this, pixels (the image grows instead).
pub const MIN_PANEL_PX: u32 = 250;

/// Height, pixels, of the title and the space above it.
const TITLE_H: u32 = 70;

/// The grid `n` panels are laid out in: `(columns, rows)`.
pub fn grid(n: usize) -> (usize, usize) {
    let cols = match n {
        0..=2 => 1,
        3..=6 => 2,
        7..=9 => 3,
        _ => 4,
    };
    (cols, n.div_ceil(cols).max(1))
}

/// The image's height for `n` panels and a key of `key_rows` rows.
fn height(n: usize, key_rows: usize) -> u32 {
    let rows = grid(n).1 as u32;
    HEIGHT.max(TITLE_H + key_h(key_rows) + rows * MIN_PANEL_PX)
}

/// Height, pixels, of a key of `rows` rows.
fn key_h(rows: usize) -> u32 {
    rows as u32 * KEY_ROW as u32 + 10
}

/// Key text size and row height, pixels.
const KEY_PX: u32 = TICK_PX - 4;
const KEY_ROW: i32 = KEY_PX as i32 + 14;

/// How a key entry's swatch is drawn.
#[derive(Debug, Clone, Copy, PartialEq)]
enum KeySwatch {
    /// A solid line of this width.
    Line(u32),
    /// A line over a band (the mean and its min–max spread).
    Band,
    /// A dashed vertical line (an event).
    Dashed,
}

/// One key entry: swatch, colour, text.
type KeyEntry = (KeySwatch, RGBColor, String);

/// Width of a swatch and the gap after it, pixels.
const SWATCH_W: i32 = 44;

/// Approximate width, pixels, of `text` in the key's font.
fn text_w(text: &str) -> i32 {
    text.chars().count() as i32 * (KEY_PX as i32 * 58 / 100)
}

/// Where each key entry goes, flowing left to right and wrapping at `width`:
/// `(x, row)` per entry, and the number of rows.
fn flow(entries: &[KeyEntry], width: i32) -> (Vec<(i32, usize)>, usize) {
    let (mut x, mut row) = (0, 0);
    let mut at = Vec::new();
    for (_, _, t) in entries {
        let w = SWATCH_W + text_w(t) + 36;
        if x > 0 && x + w > width {
            x = 0;
            row += 1;
        }
        at.push((x, row));
        x += w;
    }
    (at, if entries.is_empty() { 0 } else { row + 1 })
}

/// The key's entries: the lines, then one per tone of event drawn.
fn key_entries(data: &RunData, kinds: &[ControlKind]) -> Vec<KeyEntry> {
    let mut e = vec![(
        KeySwatch::Line(3),
        HOT,
        "hottest backend (named above each panel)".to_string(),
    )];
    if data.backend_count <= MAX_BACKEND_LINES {
        e.push((KeySwatch::Line(2), MUTED, "other backends".to_string()));
    }
    e.push((
        KeySwatch::Band,
        colour(0),
        "mean of running backends, band min–max (the strategy's colour)".to_string(),
    ));
    for (text, c) in marker_legend(kinds) {
        e.push((KeySwatch::Dashed, c, text));
    }
    if ticked(data) {
        e.push((
            KeySwatch::Line(0),
            RGBColor(90, 90, 90),
            format!("(more than {MAX_MARKER_LINES} events in a panel: ticks above it)"),
        ));
    }
    e
}

/// Whether some panel has so many event markers that they are drawn as
/// ticks above it rather than as dashed lines.
fn ticked(data: &RunData) -> bool {
    let end = data.end_s();
    let (div, _) = time_unit(end);
    (0..data.strategies.len())
        .any(|s| markers(&events_for(data, s), div, end / div, 0).len() > MAX_MARKER_LINES)
}

/// Renders `load.png`.
pub fn load(data: &RunData) -> Result<Vec<u8>, ChartError> {
    let kinds = drawn_kinds(data);
    let entries = key_entries(data, &kinds);
    let (_, rows) = flow(&entries, WIDTH as i32 - 60);
    let h = height(data.strategies.len(), rows);
    render_png("load", WIDTH, h, |root| draw(root, data, &entries))
}

/// The kinds of event marked in any panel.
fn drawn_kinds(data: &RunData) -> Vec<ControlKind> {
    let end = data.end_s();
    let (div, _) = time_unit(end);
    let mut kinds: Vec<ControlKind> = (0..data.strategies.len())
        .flat_map(|s| marked_kinds(&events_for(data, s), div, end / div))
        .collect();
    kinds.sort_by_key(|k| ControlKind::ALL.iter().position(|a| a == k));
    kinds.dedup();
    kinds
}

/// Draws the key in `area`, entries flowing left to right from `x0`.
fn draw_key(area: &Area, entries: &[KeyEntry], x0: i32) -> DrawResult {
    let (w, _) = area.dim_in_pixel();
    let (at, _) = flow(entries, w as i32 - 2 * x0);
    let tf = font(KEY_PX, false).pos(Pos::new(HPos::Left, VPos::Center));
    for ((sw, c, text), (x, row)) in entries.iter().zip(at) {
        let (x, y) = (x0 + x, 4 + row as i32 * KEY_ROW + KEY_ROW / 2);
        match sw {
            KeySwatch::Line(0) => {}
            KeySwatch::Line(px) => {
                let h = *px as i32 / 2 + 1;
                area.draw(&Rectangle::new(
                    [(x, y - h), (x + SWATCH_W - 10, y + h)],
                    c.filled(),
                ))?;
            }
            KeySwatch::Band => {
                area.draw(&Rectangle::new(
                    [(x, y - 9), (x + SWATCH_W - 10, y + 9)],
                    c.mix(BAND_ALPHA).filled(),
                ))?;
                area.draw(&Rectangle::new(
                    [(x, y - 2), (x + SWATCH_W - 10, y + 2)],
                    c.filled(),
                ))?;
            }
            KeySwatch::Dashed => {
                let mid = x + (SWATCH_W - 10) / 2;
                for (a, b) in [(-11, -3), (3, 11)] {
                    area.draw(&Rectangle::new(
                        [(mid - 1, y + a), (mid + 1, y + b)],
                        c.filled(),
                    ))?;
                }
            }
        }
        area.draw(&Text::new(
            text.clone(),
            (x + SWATCH_W, y),
            tf.clone().color(&text_colour(*c)),
        ))?;
    }
    Ok(())
}

fn draw(root: &Area, data: &RunData, entries: &[KeyEntry]) -> DrawResult {
    let area = titled(
        root,
        "Utilisation per backend over time, one panel per strategy",
    )?;
    let (w, _) = area.dim_in_pixel();
    let (_, rows) = flow(entries, w as i32 - 60);
    let (key, area) = area.split_vertically(key_h(rows));
    draw_key(&key, entries, 30)?;
    let n = data.strategies.len();
    let (cols, _) = grid(n);
    let end = data.end_s();
    let (div, unit) = time_unit(end);
    let ymax = data
        .backends
        .iter()
        .map(|r| r.utilisation * 100.0)
        .fold(0.0, f64::max);
    let y_range = axis_range(0.0, ymax.max(1.0), true);
    let styles = panel_styles(
        n,
        cols,
        match cols {
            0..=2 => TICK_PX + 4,
            3 => TICK_PX,
            _ => TICK_PX - 4,
        },
    );
    for (s, panel) in panels(&area, n, cols).iter().enumerate() {
        let c = colour(s);
        // Per bucket start: (end, values of running backends).
        let mut buckets: Vec<(f64, f64, Vec<f64>)> = Vec::new();
        // Per backend: runs of buckets while it was running (a crash breaks the line).
        let mut per_backend: Vec<Vec<Vec<(f64, f64)>>> =
            vec![vec![Vec::new()]; data.backend_count as usize];
        for r in data.backend_rows(s) {
            let mid = (r.t_start_s + r.t_end_s) / 2.0 / div;
            let runs = &mut per_backend[r.backend as usize];
            if r.alive {
                runs.last_mut()
                    .expect("one run at least")
                    .push((mid, r.utilisation * 100.0));
            } else if runs.last().is_some_and(|l| !l.is_empty()) {
                runs.push(Vec::new());
            }
            match buckets.last_mut() {
                Some(b) if b.0 == mid => {
                    if r.alive {
                        b.2.push(r.utilisation * 100.0)
                    }
                }
                _ => buckets.push((
                    mid,
                    0.0,
                    if r.alive {
                        vec![r.utilisation * 100.0]
                    } else {
                        vec![]
                    },
                )),
            }
        }
        let mut mean = Vec::new();
        let mut band = Vec::new();
        for (x, _, vals) in &buckets {
            if vals.is_empty() {
                continue;
            }
            let m = vals.iter().sum::<f64>() / vals.len() as f64;
            let lo = vals.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = vals.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            mean.push((*x, m));
            band.push((*x, lo, hi));
        }
        // The hottest backend: the highest mean utilisation over the
        // buckets it ran (lowest index on ties), drawn in a strong colour
        // and named in the panel's title; the others muted.
        let hottest = per_backend
            .iter()
            .enumerate()
            .filter_map(|(b, runs)| {
                let (sum, k) = runs
                    .iter()
                    .flatten()
                    .fold((0.0, 0usize), |(a, k), p| (a + p.1, k + 1));
                (k > 0).then(|| (b, sum / k as f64))
            })
            .fold(None, |best: Option<(usize, f64)>, (b, m)| match best {
                Some((_, bm)) if bm >= m => best,
                _ => Some((b, m)),
            });
        let mut lines = Vec::new();
        let all_lines = data.backend_count <= MAX_BACKEND_LINES;
        for (b, runs) in per_backend.into_iter().enumerate() {
            let hot = hottest.is_some_and(|(h, _)| h == b);
            if !all_lines && !hot {
                continue;
            }
            for pts in runs.into_iter().filter(|p| !p.is_empty()) {
                let line = Line {
                    name: None,
                    colour: if hot { HOT } else { MUTED },
                    width: if hot { 2 } else { 1 },
                    points: pts,
                    band: Vec::new(),
                    dots: 0,
                    band_edges: false,
                };
                // The hottest last, on top of the muted ones.
                if hot {
                    lines.push(line);
                } else {
                    lines.insert(0, line);
                }
            }
        }
        let mut m = Line::new("mean of backends", c, mean).with_band(band);
        m.width = 4;
        lines.push(m);
        let span = end / div;
        let spec = LineChart {
            title: match hottest {
                Some((b, m)) if cols <= 2 => {
                    format!("{}: hottest b{b}, mean {m:.1}%", data.strategies[s])
                }
                Some((b, m)) => format!("{}: hottest b{b} ({m:.0}%)", data.strategies[s]),
                None => data.strategies[s].clone(),
            },
            x_label: format!("time ({unit})"),
            y_label: "utilisation (%)".into(),
            lines,
            // Small panels: marker lines only (the heatmap labels the events).
            markers: markers(&events_for(data, s), div, span, if n <= 2 { 4 } else { 0 }),
            y_range: Some(y_range),
            x_ticks: None,
            guides: Vec::new(),
        };
        draw_line_chart_in(panel, &spec, &styles[s])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panels_wrap_at_most_four_to_a_row_and_stay_tall() {
        for n in 1..=20 {
            let (cols, rows) = grid(n);
            assert!(
                cols <= 4 && cols * rows >= n && cols * (rows - 1) < n,
                "n = {n}"
            );
            // Every panel keeps its minimum height, whatever the key.
            let h = height(n, 3);
            assert!(
                h - TITLE_H - key_h(3) >= rows as u32 * MIN_PANEL_PX,
                "n = {n}"
            );
        }
        assert_eq!(grid(9), (3, 3));
        assert_eq!(grid(12), (4, 3));
        assert_eq!(height(5, 1), HEIGHT);
    }

    #[test]
    fn the_key_wraps_instead_of_running_off_the_image() {
        let e: Vec<KeyEntry> = (0..6)
            .map(|i| (KeySwatch::Dashed, colour(i), "x".repeat(40)))
            .collect();
        let (at, rows) = flow(&e, 1500);
        assert!(rows > 1);
        for ((_, _, t), (x, _)) in e.iter().zip(&at) {
            assert!(x + SWATCH_W + text_w(t) <= 1500);
        }
        assert_eq!(flow(&[], 1500).1, 0);
    }
}
