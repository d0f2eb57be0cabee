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

mod line;
mod style;
pub use line::*;
pub use style::*;

use crate::report::data::RunData;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::RGBColor;
use rayon::prelude::*;

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

/// A region of a drawn chart, in image pixels, with the values under it:
/// `report.html` lays it over the image so a pointer shows them.
#[derive(Debug, Clone, PartialEq)]
pub struct Hotspot {
    /// Where, in pixels of the image.
    pub shape: Shape,
    /// The text shown on hover (plain text).
    pub title: String,
}

/// The shape of a [`Hotspot`], pixels from the image's top left.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Shape {
    /// A disc: centre and radius.
    Circle(i32, i32, i32),
    /// A rectangle: left, top, right, bottom.
    Rect(i32, i32, i32, i32),
}

/// A drawn chart: its PNG bytes, size and hover regions.
#[derive(Debug, Clone, PartialEq)]
pub struct Drawn {
    /// The PNG file's bytes.
    pub png: Vec<u8>,
    /// Width, pixels.
    pub width: u32,
    /// Height, pixels.
    pub height: u32,
    /// Regions with their values, for hover text.
    pub hotspots: Vec<Hotspot>,
}

impl Drawn {
    /// A chart without hover regions, its size read from the PNG's header
    /// (the standard size if the bytes are not a PNG).
    pub fn from_png(png: Vec<u8>) -> Drawn {
        let be = |at: usize| {
            png.get(at..at + 4)
                .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
        };
        let (width, height) = match (png.get(12..16), be(16), be(20)) {
            (Some(b"IHDR"), Some(w), Some(h)) if w > 0 && h > 0 => (w, h),
            _ => (WIDTH, HEIGHT),
        };
        Drawn {
            png,
            width,
            height,
            hotspots: Vec::new(),
        }
    }

    /// A standard-size chart without hover regions.
    pub fn plain(png: Vec<u8>) -> Drawn {
        Drawn {
            png,
            width: WIDTH,
            height: HEIGHT,
            hotspots: Vec::new(),
        }
    }
}

/// What a chart-drawing function with hover regions returns.
pub type HotResult = Result<Vec<Hotspot>, Box<dyn std::error::Error>>;

/// [`render_png`] of a chart that also reports its hover regions.
pub fn render_drawn(
    name: &str,
    width: u32,
    height: u32,
    draw: impl FnOnce(&Area) -> HotResult,
) -> Result<Drawn, ChartError> {
    let mut hotspots = Vec::new();
    let png = render_png(name, width, height, |root| {
        hotspots = draw(root)?;
        Ok(())
    })?;
    Ok(Drawn {
        png,
        width,
        height,
        hotspots,
    })
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

/// A run's charts: file name, what it shows (the image's alt text in
/// `report.md`), and how it is drawn.
pub type ChartFn = fn(&RunData) -> Result<Drawn, ChartError>;

/// Every chart of a run report, in report order. `instances.png` is drawn
/// only when [`instances::wanted`].
pub const RUN_CHARTS: &[(&str, &str, ChartFn)] = &[
    (
        "tradeoff.png",
        "Trade-off: imbalance against session loss",
        tradeoff::tradeoff_drawn,
    ),
    ("loss.png", "Sessions lost by cause", |d| {
        loss::loss(d).map(Drawn::plain)
    }),
    (
        "heatmap.png",
        "Hotspot heatmap: utilisation per backend over time",
        heatmap::heatmap_drawn,
    ),
    ("load.png", "Per-backend utilisation over time", |d| {
        load::load(d).map(Drawn::from_png)
    }),
    (
        "latency.png",
        "Latency: percentile distribution and p50/p95/p99/p99.9",
        latency::latency_drawn,
    ),
    ("instances.png", "Instances in service over time", |d| {
        instances::instances(d).map(Drawn::plain)
    }),
];

/// The charts this run gets: `(file name, alt text)`, in report order.
pub fn run_chart_names(data: &RunData) -> Vec<(&'static str, &'static str)> {
    RUN_CHARTS
        .iter()
        .filter(|(name, _, _)| *name != "instances.png" || instances::wanted(data))
        .map(|(n, a, _)| (*n, *a))
        .collect()
}

/// Renders this run's charts (in parallel): `(file name, drawn chart)` in
/// report order.
pub fn render_run_charts(data: &RunData) -> Result<Vec<(&'static str, Drawn)>, ChartError> {
    let wanted = run_chart_names(data);
    RUN_CHARTS
        .par_iter()
        .filter(|(name, _, _)| wanted.iter().any(|(n, _)| n == name))
        .map(|(name, _, draw)| draw(data).map(|png| (*name, png)))
        .collect()
}

/// The label of row `v` of a chart whose rows are `names` listed top to
/// bottom (row 0 at the bottom), or nothing between rows.
fn row_label(names: &[String], v: f64) -> String {
    let n = names.len();
    let k = v.round();
    if (v - k).abs() < 1e-6 && k >= 0.0 && (k as usize) < n {
        names[n - 1 - k as usize].clone()
    } else {
        String::new()
    }
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
    fn text_and_bars_in_palette_colours_read_on_white() {
        for c in PALETTE.iter().chain(&CATEGORY_PALETTE) {
            let t = text_colour(*c);
            assert!(contrast_on_white(t) >= TEXT_CONTRAST, "{c:?} -> {t:?}");
            // A mark is readable by its fill or by its edge.
            let mark = edge_colour(*c).unwrap_or(*c);
            assert!(contrast_on_white(mark) >= MARK_CONTRAST, "{c:?}");
        }
        // Dark colours are kept as they are; the light sand gets an edge.
        assert_eq!(text_colour(PALETTE[0]), PALETTE[0]);
        assert_eq!(edge_colour(PALETTE[0]), None);
        assert!(edge_colour(CATEGORY_PALETTE[2]).is_some());
        assert!((contrast_on_white(RGBColor(0, 0, 0)) - 21.0).abs() < 1e-9);
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
            guides: vec![Guide {
                y: 1.5,
                label: "guide".into(),
            }],
        };
        let png = line_chart(&spec).unwrap();
        let dec = png::Decoder::new(&png[..]).read_info().unwrap();
        assert_eq!((dec.info().width, dec.info().height), (WIDTH, HEIGHT));
        assert_eq!(png, line_chart(&spec).unwrap(), "deterministic bytes");
        let d = Drawn::from_png(png);
        assert_eq!((d.width, d.height), (WIDTH, HEIGHT));
    }

    #[test]
    fn tick_labels_drop_trailing_zeros() {
        assert_eq!(tick_label(0.5), "0.5");
        assert_eq!(tick_label(12.0), "12");
        assert_eq!(tick_label(-0.0001), "0");
    }
}
