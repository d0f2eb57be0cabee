//! PNG charts: the shared style and the helpers every chart is drawn with.
//!
//! Charts are drawn with `plotters` into an in-memory RGB buffer and encoded
//! to PNG bytes here (no file is touched), so the caller can write them with
//! the run's other files, all or nothing. Text uses the DejaVu Sans font
//! bundled in `assets/fonts/` (registered once with plotters' `ab_glyph`
//! backend), so no system font library is needed.
//!
//! The style, in one place:
//! - every chart is [`WIDTH`] × [`HEIGHT`] pixels (1600 × 900, a 16:9 slide);
//! - font sizes ([`TITLE_PX`], [`LABEL_PX`], [`TICK_PX`]) stay legible when the
//!   image is shrunk to half size in a slide;
//! - series colours come from the Okabe–Ito colour-blind-safe palette
//!   ([`PALETTE`]); [`StrategyColours`] gives each strategy one colour for all
//!   charts of a report;
//! - continuous scales (utilisation) use viridis ([`sequential`]), which is
//!   perceptually uniform and readable with every common colour deficiency.
//!
//! A chart is a function that draws on a [`Area`] and is turned into PNG bytes
//! by [`render_png`]. [`line_chart`] draws the common case: lines over a
//! numeric x axis, each optionally with a shaded band (min–max, or a
//! confidence interval around a mean), with vertical event markers.

pub mod events;
pub mod heatmap;
pub mod instances;
pub mod latency;
pub mod load;
pub mod loss;
pub mod tradeoff;

use crate::report::data::RunData;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{FontStyle, RGBColor};
use rayon::prelude::*;
use std::sync::Once;

/// Chart width, pixels.
pub const WIDTH: u32 = 1600;
/// Chart height, pixels.
pub const HEIGHT: u32 = 900;
/// Title font size, pixels.
pub const TITLE_PX: u32 = 40;
/// Axis description (axis title) font size, pixels.
pub const LABEL_PX: u32 = 30;
/// Tick label and legend font size, pixels.
pub const TICK_PX: u32 = 24;
/// The font family the bundled font is registered under (plotters' default).
pub const FONT: &str = "sans-serif";

static FONT_REGULAR: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");
static FONT_BOLD: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans-Bold.ttf");

/// Registers the bundled font with plotters (once per process). Called by
/// [`render_png`]; call it yourself only when drawing on another backend.
pub fn register_fonts() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The bytes are a valid font compiled into the binary; failure here
        // is a build defect, caught by the tests.
        let ok = plotters::style::register_font(FONT, FontStyle::Normal, FONT_REGULAR).is_ok()
            && plotters::style::register_font(FONT, FontStyle::Bold, FONT_BOLD).is_ok();
        assert!(ok, "bundled font assets/fonts/DejaVuSans*.ttf must parse");
    });
}

/// A chart's drawing error, with what was being drawn.
#[derive(Debug, thiserror::Error)]
#[error("drawing chart `{chart}`: {message}")]
pub struct ChartError {
    /// The chart's file name.
    pub chart: String,
    /// What went wrong.
    pub message: String,
}

/// What a chart-drawing function returns.
pub type DrawResult = Result<(), Box<dyn std::error::Error>>;

/// The drawing area a chart draws on (whole image).
pub type Area<'a> = DrawingArea<BitMapBackend<'a>, Shift>;

/// Draws a `width` × `height` chart with `draw` on a white background and
/// returns it as PNG bytes. `name` is used in error messages only.
/// Deterministic: the same drawing gives the same bytes.
pub fn render_png(
    name: &str,
    width: u32,
    height: u32,
    draw: impl FnOnce(&Area) -> DrawResult,
) -> Result<Vec<u8>, ChartError> {
    register_fonts();
    let err = |message: String| ChartError {
        chart: name.to_string(),
        message,
    };
    let mut rgb = vec![255u8; width as usize * height as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (width, height)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
        draw(&root).map_err(|e| err(e.to_string()))?;
        root.present().map_err(|e| err(e.to_string()))?;
    }
    encode_png(&rgb, width, height).map_err(|e| err(e.to_string()))
}

/// Encodes 8-bit RGB pixels as PNG.
fn encode_png(rgb: &[u8], width: u32, height: u32) -> Result<Vec<u8>, png::EncodingError> {
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, width, height);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        enc.set_compression(png::Compression::Default);
        let mut w = enc.write_header()?;
        w.write_image_data(rgb)?;
    }
    Ok(out)
}

/// The Okabe–Ito palette (Okabe & Ito 2008, "Color Universal Design"),
/// ordered for lines on white: the low-contrast yellow comes last but one.
pub const PALETTE: [RGBColor; 8] = [
    RGBColor(0, 114, 178),   // blue
    RGBColor(230, 159, 0),   // orange
    RGBColor(0, 158, 115),   // bluish green
    RGBColor(213, 94, 0),    // vermillion
    RGBColor(204, 121, 167), // reddish purple
    RGBColor(86, 180, 233),  // sky blue
    RGBColor(240, 228, 66),  // yellow
    RGBColor(0, 0, 0),       // black
];

/// `c` at opacity `alpha` over white, as an opaque colour (for thin lines
/// that should recede without blending with each other).
pub fn tint(c: RGBColor, alpha: f64) -> RGBColor {
    let a = alpha.clamp(0.0, 1.0);
    let b = |v: u8| (v as f64 * a + 255.0 * (1.0 - a)).round() as u8;
    RGBColor(b(c.0), b(c.1), b(c.2))
}

/// `c` for text on white: light colours (the palette's yellow) are darkened
/// to a readable shade of the same hue; the others are kept.
pub fn text_colour(c: RGBColor) -> RGBColor {
    let lum = (0.2126 * c.0 as f64 + 0.7152 * c.1 as f64 + 0.0722 * c.2 as f64) / 255.0;
    if lum > 0.75 {
        let d = |v: u8| (v as f64 * 0.62).round() as u8;
        RGBColor(d(c.0), d(c.1), d(c.2))
    } else {
        c
    }
}

/// The colour of series number `i` (cycles through [`PALETTE`]).
pub fn colour(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// One colour per strategy, fixed by the strategy's position in the run (the
/// scenario's order), so a strategy has the same colour in every chart of a
/// report, and in every report of the same scenario.
#[derive(Debug, Clone)]
pub struct StrategyColours {
    names: Vec<String>,
}

impl StrategyColours {
    /// Colours for these strategies, in this order.
    pub fn new<S: AsRef<str>>(names: &[S]) -> Self {
        StrategyColours {
            names: names.iter().map(|s| s.as_ref().to_string()).collect(),
        }
    }

    /// The strategy's colour; an unknown name gets the colour after the last.
    pub fn get(&self, name: &str) -> RGBColor {
        let i = self
            .names
            .iter()
            .position(|n| n == name)
            .unwrap_or(self.names.len());
        colour(i)
    }

    /// The strategies, in order.
    pub fn names(&self) -> &[String] {
        &self.names
    }
}

/// A second colour-blind-safe palette (Paul Tol's "muted") for categories
/// that are not strategies (loss causes), so they are not mistaken for one.
pub const CATEGORY_PALETTE: [RGBColor; 9] = [
    RGBColor(204, 102, 119), // rose
    RGBColor(51, 34, 136),   // indigo
    RGBColor(221, 204, 119), // sand
    RGBColor(68, 170, 153),  // teal
    RGBColor(136, 204, 238), // cyan
    RGBColor(136, 34, 85),   // wine
    RGBColor(17, 119, 51),   // green
    RGBColor(153, 153, 51),  // olive
    RGBColor(170, 68, 153),  // purple
];

/// The colour of category number `i` (cycles through [`CATEGORY_PALETTE`]).
pub fn category_colour(i: usize) -> RGBColor {
    CATEGORY_PALETTE[i % CATEGORY_PALETTE.len()]
}

/// The unit a time axis of `end_s` seconds reads best in: `(divisor, unit)`,
/// minutes from 10 min up, hours from 20 h up.
pub fn time_unit(end_s: f64) -> (f64, &'static str) {
    if end_s >= 20.0 * 3600.0 {
        (3600.0, "h")
    } else if end_s >= 600.0 {
        (60.0, "min")
    } else {
        (1.0, "s")
    }
}

/// Splits `area` into `n` panels in a grid of `cols` columns, row by row.
pub fn panels<'a>(area: &Area<'a>, n: usize, cols: usize) -> Vec<Area<'a>> {
    let cols = cols.max(1);
    let rows = n.div_ceil(cols).max(1);
    area.split_evenly((rows, cols))
        .into_iter()
        .take(n)
        .collect()
}

/// Viridis at 0 ≤ `t` ≤ 1 (clamped): dark purple → blue → green → yellow.
pub fn sequential(t: f64) -> RGBColor {
    // Eleven stops of matplotlib's viridis, linearly interpolated.
    const STOPS: [(u8, u8, u8); 11] = [
        (68, 1, 84),
        (72, 36, 117),
        (65, 68, 135),
        (53, 95, 141),
        (42, 120, 142),
        (33, 145, 140),
        (34, 168, 132),
        (68, 191, 112),
        (122, 209, 81),
        (189, 223, 38),
        (253, 231, 37),
    ];
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let x = t * (STOPS.len() - 1) as f64;
    let i = (x.floor() as usize).min(STOPS.len() - 2);
    let f = x - i as f64;
    let lerp = |a: u8, b: u8| (a as f64 + (b as f64 - a as f64) * f).round() as u8;
    let (a, b) = (STOPS[i], STOPS[i + 1]);
    RGBColor(lerp(a.0, b.0), lerp(a.1, b.1), lerp(a.2, b.2))
}

/// Left and right edges, pixels, of a colour scale drawn by [`draw_scale`].
pub const SCALE_X: (i32, i32) = (20, 60);

/// A vertical bar of the [`sequential`] scale in `area` at [`SCALE_X`], 0 at
/// `bottom` and 1 at `top`, outlined; each tick `(fraction, label)` is a
/// short line with its label right of the bar. Shared by the run's heatmap
/// and the sweep's heatmaps.
pub fn draw_scale(area: &Area, top: i32, bottom: i32, ticks: &[(f64, String)]) -> DrawResult {
    let (x0, x1) = SCALE_X;
    let steps = 100;
    for i in 0..steps {
        let t = i as f64 / steps as f64;
        let ya = bottom - ((bottom - top) as f64 * t) as i32;
        let yb = bottom - ((bottom - top) as f64 * (t + 1.0 / steps as f64)) as i32;
        area.draw(&Rectangle::new(
            [(x0, yb), (x1, ya + 1)],
            sequential(t).filled(),
        ))?;
    }
    area.draw(&Rectangle::new(
        [(x0, top), (x1, bottom)],
        BLACK.stroke_width(1),
    ))?;
    for (f, label) in ticks {
        let y = bottom - ((bottom - top) as f64 * f) as i32;
        area.draw(&PathElement::new(vec![(x1, y), (x1 + 6, y)], BLACK))?;
        area.draw(&Text::new(
            label.clone(),
            (x1 + 10, y),
            font(TICK_PX - 2, false).pos(Pos::new(HPos::Left, VPos::Center)),
        ))?;
    }
    Ok(())
}

/// The title font.
pub fn title_font() -> TextStyle<'static> {
    font(TITLE_PX, true)
}

/// The axis-description font.
pub fn label_font() -> TextStyle<'static> {
    font(LABEL_PX, false)
}

/// The tick-label and legend font.
pub fn tick_font() -> TextStyle<'static> {
    font(TICK_PX, false)
}

/// A font of `px` pixels, optionally bold.
pub fn font(px: u32, bold: bool) -> TextStyle<'static> {
    let style = if bold {
        FontStyle::Bold
    } else {
        FontStyle::Normal
    };
    TextStyle::from((FONT, px as f64, style).into_font())
}

/// A standard chart frame: title on top, then the area left for the plot.
/// Returns the area below the title.
pub fn titled<'a>(root: &Area<'a>, title: &str) -> Result<Area<'a>, Box<dyn std::error::Error>> {
    root.margin(14, 0, 0, 0)
        .titled(title, title_font())
        .map_err(Into::into)
}

/// Nice `[lo, hi]` for an axis holding values in `[min, max]`: pads by 5 % and
/// includes zero when `from_zero`; never empty.
pub fn axis_range(min: f64, max: f64, from_zero: bool) -> (f64, f64) {
    let (mut lo, mut hi) = if min.is_finite() && max.is_finite() && min <= max {
        (min, max)
    } else {
        (0.0, 1.0)
    };
    if from_zero {
        lo = lo.min(0.0);
        hi = hi.max(0.0);
    }
    if hi - lo < 1e-12 {
        hi = lo + if lo.abs() > 0.0 { lo.abs() * 0.1 } else { 1.0 };
    }
    let pad = (hi - lo) * 0.05;
    (if from_zero && lo >= 0.0 { lo } else { lo - pad }, hi + pad)
}

/// Formats an axis tick without trailing zeros (`0.5`, `12`, `1.25`).
pub fn tick_label(v: f64) -> String {
    let s = format!("{v:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".to_string()
    } else {
        s.to_string()
    }
}

/// One line of a [`LineChart`].
/// One line of a [`LineChart`].
#[derive(Debug, Clone)]
pub struct Line {
    /// The legend entry; `None` keeps it out of the legend.
    pub name: Option<String>,
    /// The line's colour.
    pub colour: RGBColor,
    /// Line width, pixels.
    pub width: u32,
    /// `(x, y)` points in x order.
    pub points: Vec<(f64, f64)>,
    /// A shaded band drawn under the line: `(x, low, high)` in x order (e.g.
    /// a min–max spread or a confidence interval around a mean).
    pub band: Vec<(f64, f64, f64)>,
    /// Radius, pixels, of a dot drawn at every point (0: none); for lines
    /// through a few measured points (a sweep's grid).
    pub dots: u32,
}

impl Line {
    /// A plain line of width 3 in the legend as `name`.
    pub fn new(name: impl Into<String>, colour: RGBColor, points: Vec<(f64, f64)>) -> Self {
        Line {
            name: Some(name.into()),
            colour,
            width: 3,
            points,
            band: Vec::new(),
            dots: 0,
        }
    }

    /// The same line with a band `(x, low, high)`.
    pub fn with_band(mut self, band: Vec<(f64, f64, f64)>) -> Self {
        self.band = band;
        self
    }
}

/// A vertical marker at `x` (an event: crash, deploy, scale-out…).
#[derive(Debug, Clone)]
pub struct Marker {
    /// Where, on the x axis.
    pub x: f64,
    /// Short text written at the top of the marker.
    pub label: String,
    /// The marker's colour.
    pub colour: RGBColor,
}

/// A line chart over a numeric x axis.
#[derive(Debug, Clone)]
pub struct LineChart {
    /// Written above the chart.
    pub title: String,
    /// Axis descriptions, with units: "time (min)", "utilisation (%)".
    pub x_label: String,
    /// The y axis's description.
    pub y_label: String,
    /// The lines, drawn in order.
    pub lines: Vec<Line>,
    /// Event markers.
    pub markers: Vec<Marker>,
    /// Fixed y range; by default from 0 (or the lowest value) to the highest.
    pub y_range: Option<(f64, f64)>,
    /// Labelled x ticks at these positions instead of evenly spaced numbers
    /// (a log axis labelled with the values themselves, say).
    pub x_ticks: Option<Vec<(f64, String)>>,
}

impl LineChart {
    /// Whether every y value is a whole number (counts): then only whole
    /// ticks are labelled.
    fn whole_y(&self) -> bool {
        self.lines.iter().all(|l| {
            l.points.iter().all(|p| p.1.fract() == 0.0)
                && l.band
                    .iter()
                    .all(|b| b.1.fract() == 0.0 && b.2.fract() == 0.0)
        })
    }
}

/// The colour of grid lines.
pub const GRID: RGBColor = RGBColor(225, 225, 225);

/// Bands are drawn with this opacity.
pub const BAND_ALPHA: f64 = 0.18;

/// Draws a [`LineChart`] on `root` (the whole image).
pub fn draw_line_chart(root: &Area, spec: &LineChart) -> DrawResult {
    draw_line_chart_in(root, spec, &PanelStyle::FULL)
}

/// How much of a chart's furniture a [`LineChart`] drawn as one panel of a
/// bigger image gets.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PanelStyle {
    /// Title size, pixels (no title if the chart's title is empty).
    pub title_px: u32,
    /// A legend at the right of the plot.
    pub legend: bool,
    /// Description of the x axis (bottom row only, say); tick labels are
    /// always drawn, so panels keep equal plot heights.
    pub x_desc: bool,
    /// Description of the y axis (left column only, say).
    pub y_desc: bool,
}

impl PanelStyle {
    /// A whole image: everything.
    pub const FULL: PanelStyle = PanelStyle {
        title_px: TITLE_PX,
        legend: true,
        x_desc: true,
        y_desc: true,
    };
}

/// Styles for `n` panels in `cols` columns: x descriptions on the bottom panel of
/// each column, y descriptions in the first column, titles in `title_px`,
/// no legends.
pub fn panel_styles(n: usize, cols: usize, title_px: u32) -> Vec<PanelStyle> {
    let cols = cols.max(1);
    (0..n)
        .map(|i| PanelStyle {
            title_px,
            legend: false,
            x_desc: i + cols >= n,
            y_desc: i % cols == 0,
        })
        .collect()
}

/// Draws a [`LineChart`] on `root`, which may be one panel of a bigger
/// image, with the furniture `style` asks for.
pub fn draw_line_chart_in(root: &Area, spec: &LineChart, style: &PanelStyle) -> DrawResult {
    let (title_px, with_legend) = (style.title_px, style.legend);
    let xs = spec.lines.iter().flat_map(|l| {
        l.points
            .iter()
            .map(|p| p.0)
            .chain(l.band.iter().map(|b| b.0))
    });
    let (xmin, xmax) = xs.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
        (a.min(x), b.max(x))
    });
    let (xmin, xmax) = if xmin.is_finite() && xmin < xmax {
        if spec.x_ticks.is_some() {
            // Measured points (dots) at the ends stay inside the frame.
            let pad = (xmax - xmin) * 0.04;
            (xmin - pad, xmax + pad)
        } else {
            (xmin, xmax)
        }
    } else {
        axis_range(xmin, xmax, false)
    };
    let (ymin, ymax) = spec.y_range.unwrap_or_else(|| {
        let ys = spec.lines.iter().flat_map(|l| {
            l.points
                .iter()
                .map(|p| p.1)
                .chain(l.band.iter().flat_map(|b| [b.1, b.2]))
        });
        let (a, b) = ys.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), y| {
            (a.min(y), b.max(y))
        });
        axis_range(a, b, true)
    });
    let area = if spec.title.is_empty() {
        root.clone()
    } else {
        root.margin(10, 0, 0, 0)
            .titled(&spec.title, font(title_px, true))?
    };
    let entries: Vec<(String, RGBColor)> = spec
        .lines
        .iter()
        .filter_map(|l| l.name.clone().map(|n| (n, l.colour)))
        .collect();
    let plot = if with_legend && !entries.is_empty() {
        let w = area.dim_in_pixel().0 as i32;
        let (plot, side) = area.split_horizontally(w - legend_width(&entries));
        draw_side_legend(&side, &entries, Swatch::Line)?;
        plot
    } else {
        area
    };
    let full = *style == PanelStyle::FULL;
    let mut chart = ChartBuilder::on(&plot)
        .margin(if full { 24 } else { 10 })
        .margin_top(if full { 24 } else { 14 })
        .margin_right(40)
        .x_label_area_size(if full { 80 } else { 70 })
        .y_label_area_size(if style.y_desc { 110 } else { 70 })
        .build_cartesian_2d(xmin..xmax, ymin..ymax)?;
    let xfmt = |v: &f64| tick_label(*v);
    let whole = spec.whole_y();
    let yfmt = |v: &f64| {
        if whole && v.fract().abs() > 1e-9 {
            String::new()
        } else {
            tick_label(*v)
        }
    };
    let mut mesh = chart.configure_mesh();
    if spec.x_ticks.is_some() {
        mesh.x_labels(0);
    }
    mesh.axis_desc_style(label_font())
        .label_style(tick_font())
        .y_labels(if full { 10 } else { 5 })
        .x_label_formatter(&xfmt)
        .y_label_formatter(&yfmt)
        .x_max_light_lines(0)
        .y_max_light_lines(0)
        .bold_line_style(GRID);
    if style.x_desc {
        mesh.x_desc(spec.x_label.as_str());
    }
    if style.y_desc {
        mesh.y_desc(spec.y_label.as_str());
    }
    mesh.draw()?;
    if let Some(ticks) = &spec.x_ticks {
        let ticks: Vec<_> = ticks
            .iter()
            .filter(|t| t.0 >= xmin - 1e-9 && t.0 <= xmax + 1e-9)
            .collect();
        chart.draw_series(
            ticks
                .iter()
                .map(|t| PathElement::new([(t.0, ymin), (t.0, ymax)], GRID.stroke_width(1))),
        )?;
        let tf = tick_font().pos(Pos::new(HPos::Center, VPos::Top));
        chart.draw_series(ticks.iter().map(|t| {
            EmptyElement::at((t.0, ymin))
                + PathElement::new([(0, 0), (0, 6)], BLACK)
                + Text::new(t.1.clone(), (0, 10), tf.clone())
        }))?;
    }
    draw_markers(&mut chart, &spec.markers, ymin, ymax)?;
    for l in &spec.lines {
        if l.band.len() >= 2 {
            let mut poly: Vec<(f64, f64)> = l.band.iter().map(|b| (b.0, b.2)).collect();
            poly.extend(l.band.iter().rev().map(|b| (b.0, b.1)));
            chart.draw_series(std::iter::once(Polygon::new(
                poly,
                l.colour.mix(BAND_ALPHA).filled(),
            )))?;
        }
    }
    for l in &spec.lines {
        let style = l.colour.stroke_width(l.width);
        chart.draw_series(LineSeries::new(l.points.iter().copied(), style))?;
        if l.dots > 0 {
            chart.draw_series(
                l.points
                    .iter()
                    .map(|&p| Circle::new(p, l.dots, l.colour.filled())),
            )?;
        }
    }
    Ok(())
}

/// How a legend entry's colour is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Swatch {
    /// A thick short line (line charts).
    Line,
    /// A filled square (bars).
    Block,
    /// A filled disc (scatter points).
    Dot,
}

/// The width, pixels, a side legend of these entries needs.
pub fn legend_width(entries: &[(String, RGBColor)]) -> i32 {
    let longest = entries
        .iter()
        .map(|e| e.0.chars().count())
        .max()
        .unwrap_or(0) as i32;
    (longest * (TICK_PX as i32 * 62 / 100) + 90).clamp(160, 480)
}

/// Draws a legend in its own `area` (right of the plot, so it never hides
/// data): one row per entry, top-aligned.
pub fn draw_side_legend(area: &Area, entries: &[(String, RGBColor)], swatch: Swatch) -> DrawResult {
    let row = TICK_PX as i32 + 16;
    let (x, mut y) = (12, 40);
    for (name, c) in entries {
        let mid = y + TICK_PX as i32 / 2;
        match swatch {
            Swatch::Line => area.draw(&Rectangle::new(
                [(x, mid - 3), (x + 34, mid + 3)],
                c.filled(),
            ))?,
            Swatch::Block => area.draw(&Rectangle::new(
                [(x + 4, mid - 11), (x + 26, mid + 11)],
                c.filled(),
            ))?,
            Swatch::Dot => area.draw(&Circle::new((x + 15, mid), 11, c.filled()))?,
        }
        area.draw(&Text::new(name.clone(), (x + 46, y), tick_font()))?;
        y += row;
    }
    Ok(())
}

/// Renders a [`LineChart`] to PNG bytes at the standard size.
pub fn line_chart(spec: &LineChart) -> Result<Vec<u8>, ChartError> {
    render_png(&spec.title, WIDTH, HEIGHT, |root| {
        draw_line_chart(root, spec)
    })
}

/// The chart context type of a plain f64 × f64 chart.
pub type F64Chart<'a, 'b> = ChartContext<
    'a,
    BitMapBackend<'b>,
    Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
>;

/// The axes of a trade-off scatter plot (the run's `tradeoff.png` and the
/// sweep's `sweep_tradeoff.png`): plain numbers, major grid lines only.
pub fn scatter_axes<'a, 'b>(
    plot: &'a Area<'b>,
    (x0, x1): (f64, f64),
    (y0, y1): (f64, f64),
    x_desc: &str,
    y_desc: &str,
) -> Result<F64Chart<'a, 'b>, Box<dyn std::error::Error>> {
    let mut chart = ChartBuilder::on(plot)
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
        .x_desc(x_desc)
        .y_desc(y_desc)
        .axis_desc_style(label_font())
        .label_style(tick_font())
        .draw()?;
    Ok(chart)
}

/// Above this many markers, a chart marks events with short ticks on its top
/// edge instead of full-height lines, which would hide the data.
pub const MAX_MARKER_LINES: usize = 8;

/// Draws dashed vertical markers from `ymin` to `ymax`, labelled at the
/// top; labels of neighbouring markers are staggered over three rows so
/// close events stay readable. With more than [`MAX_MARKER_LINES`] markers,
/// each is a short tick just above the plot instead (unlabelled), so a burst
/// of events reads as a bar above the data rather than a curtain over it.
pub fn draw_markers(chart: &mut F64Chart, markers: &[Marker], ymin: f64, ymax: f64) -> DrawResult {
    if markers.len() > MAX_MARKER_LINES {
        chart.draw_series(markers.iter().map(|m| {
            EmptyElement::at((m.x, ymax)) + Rectangle::new([(-1, -9), (1, -1)], m.colour.filled())
        }))?;
        return Ok(());
    }
    let px = TICK_PX - 4;
    for (i, m) in markers.iter().enumerate() {
        let style = m.colour.stroke_width(2);
        chart.draw_series(DashedLineSeries::new(
            [(m.x, ymin), (m.x, ymax)],
            10,
            6,
            style,
        ))?;
        if m.label.is_empty() {
            continue;
        }
        let dy = 4 + (i % 3) as i32 * (px as i32 + 6);
        chart.draw_series(std::iter::once(
            EmptyElement::at((m.x, ymax))
                + Text::new(m.label.clone(), (6, dy), font(px, false).color(&m.colour)),
        ))?;
    }
    Ok(())
}

/// Draws the legend of the series labelled so far, boxed, top right.
pub fn legend<'a, DB: DrawingBackend + 'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(150, 150, 150))
        .label_font(tick_font())
        .legend_area_size(44)
        .margin(12)
        .draw()
}

/// A run's charts: file name, what it shows (the image's alt text in
/// `report.md`), and how it is drawn.
pub type ChartFn = fn(&RunData) -> Result<Vec<u8>, ChartError>;

/// Every chart of a run report, in report order. `instances.png` is drawn
/// only when [`instances::wanted`].
pub const RUN_CHARTS: &[(&str, &str, ChartFn)] = &[
    (
        "tradeoff.png",
        "Trade-off: imbalance against session loss",
        tradeoff::tradeoff,
    ),
    ("loss.png", "Sessions lost by cause", loss::loss),
    (
        "heatmap.png",
        "Hotspot heatmap: utilisation per backend over time",
        heatmap::heatmap,
    ),
    ("load.png", "Per-backend utilisation over time", load::load),
    ("latency.png", "Latency percentiles", latency::latency),
    (
        "instances.png",
        "Instances in service over time",
        instances::instances,
    ),
];

/// The charts this run gets: `(file name, alt text)`, in report order.
pub fn run_chart_names(data: &RunData) -> Vec<(&'static str, &'static str)> {
    RUN_CHARTS
        .iter()
        .filter(|(name, _, _)| *name != "instances.png" || instances::wanted(data))
        .map(|(n, a, _)| (*n, *a))
        .collect()
}

/// Renders this run's charts (in parallel): `(file name, PNG bytes)` in
/// report order.
pub fn render_run_charts(data: &RunData) -> Result<Vec<(&'static str, Vec<u8>)>, ChartError> {
    let wanted = run_chart_names(data);
    RUN_CHARTS
        .par_iter()
        .filter(|(name, _, _)| wanted.iter().any(|(n, _)| n == name))
        .map(|(name, _, draw)| draw(data).map(|png| (*name, png)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strategy_colours_are_stable_and_distinct() {
        let c = StrategyColours::new(&["a", "b", "c"]);
        assert_eq!(c.get("a"), PALETTE[0]);
        assert_eq!(c.get("c"), PALETTE[2]);
        assert_ne!(c.get("a"), c.get("b"));
        assert_eq!(c.get("zzz"), PALETTE[3]);
    }

    #[test]
    fn viridis_ends_and_clamps() {
        assert_eq!(sequential(0.0), RGBColor(68, 1, 84));
        assert_eq!(sequential(1.0), RGBColor(253, 231, 37));
        assert_eq!(sequential(7.0), sequential(1.0));
        assert_eq!(sequential(f64::NAN), sequential(0.0));
    }

    #[test]
    fn a_line_chart_renders_to_a_png_of_the_standard_size() {
        let spec = LineChart {
            title: "test".into(),
            x_label: "time (s)".into(),
            y_label: "load (%)".into(),
            lines: vec![Line::new("a", colour(0), vec![(0.0, 1.0), (1.0, 2.0)])
                .with_band(vec![(0.0, 0.5, 1.5), (1.0, 1.0, 3.0)])],
            markers: vec![Marker {
                x: 0.5,
                label: "crash".into(),
                colour: PALETTE[3],
            }],
            y_range: None,
            x_ticks: None,
        };
        let png = line_chart(&spec).unwrap();
        let dec = png::Decoder::new(&png[..]).read_info().unwrap();
        assert_eq!((dec.info().width, dec.info().height), (WIDTH, HEIGHT));
        assert_eq!(png, line_chart(&spec).unwrap(), "deterministic bytes");
    }

    #[test]
    fn tick_labels_drop_trailing_zeros() {
        assert_eq!(tick_label(0.5), "0.5");
        assert_eq!(tick_label(12.0), "12");
        assert_eq!(tick_label(-0.0001), "0");
    }
}
