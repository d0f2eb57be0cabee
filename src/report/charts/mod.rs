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

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::{FontStyle, RGBColor};
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
    pub chart: String,
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
    root.titled(title, title_font()).map_err(Into::into)
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
#[derive(Debug, Clone)]
pub struct Line {
    /// The legend entry; `None` keeps it out of the legend.
    pub name: Option<String>,
    pub colour: RGBColor,
    /// Line width, pixels.
    pub width: u32,
    /// `(x, y)` points in x order.
    pub points: Vec<(f64, f64)>,
    /// A shaded band drawn under the line: `(x, low, high)` in x order (e.g.
    /// a min–max spread or a confidence interval around a mean).
    pub band: Vec<(f64, f64, f64)>,
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
    pub x: f64,
    /// Short text written at the top of the marker.
    pub label: String,
    pub colour: RGBColor,
}

/// A line chart over a numeric x axis.
#[derive(Debug, Clone)]
pub struct LineChart {
    pub title: String,
    /// Axis descriptions, with units: "time (min)", "utilisation (%)".
    pub x_label: String,
    pub y_label: String,
    pub lines: Vec<Line>,
    pub markers: Vec<Marker>,
    /// Fixed y range; by default from 0 (or the lowest value) to the highest.
    pub y_range: Option<(f64, f64)>,
}

/// The colour of grid lines.
pub const GRID: RGBColor = RGBColor(225, 225, 225);

/// Bands are drawn with this opacity.
pub const BAND_ALPHA: f64 = 0.18;

/// Draws a [`LineChart`] on `root` (the whole image).
pub fn draw_line_chart(root: &Area, spec: &LineChart) -> DrawResult {
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
        (xmin, xmax)
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
    let mut chart = ChartBuilder::on(root)
        .caption(&spec.title, title_font())
        .margin(24)
        .margin_right(40)
        .x_label_area_size(80)
        .y_label_area_size(110)
        .build_cartesian_2d(xmin..xmax, ymin..ymax)?;
    chart
        .configure_mesh()
        .x_desc(&spec.x_label)
        .y_desc(&spec.y_label)
        .axis_desc_style(label_font())
        .label_style(tick_font())
        .x_label_formatter(&|v| tick_label(*v))
        .y_label_formatter(&|v| tick_label(*v))
        .x_max_light_lines(0)
        .y_max_light_lines(0)
        .bold_line_style(GRID)
        .draw()?;
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
    let mut any_legend = false;
    for l in &spec.lines {
        let style = l.colour.stroke_width(l.width);
        let s = chart.draw_series(LineSeries::new(l.points.iter().copied(), style))?;
        if let Some(name) = &l.name {
            any_legend = true;
            let c = l.colour;
            s.label(name.as_str())
                .legend(move |(x, y)| Rectangle::new([(x, y - 4), (x + 30, y + 4)], c.filled()));
        }
    }
    if any_legend {
        legend(&mut chart)?;
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

/// Draws dashed vertical markers from `ymin` to `ymax`, labelled at the top.
pub fn draw_markers(chart: &mut F64Chart, markers: &[Marker], ymin: f64, ymax: f64) -> DrawResult {
    for m in markers {
        let style = m.colour.stroke_width(2);
        chart.draw_series(DashedLineSeries::new(
            [(m.x, ymin), (m.x, ymax)],
            10,
            6,
            style,
        ))?;
        chart.draw_series(std::iter::once(
            EmptyElement::at((m.x, ymax))
                + Text::new(
                    m.label.clone(),
                    (6, 4),
                    font(TICK_PX - 4, false).color(&m.colour),
                ),
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
