//! The charts' style: sizes, fonts, the colour palettes and the
//! sequential colour scale.

use super::*;
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

/// WCAG 2 relative luminance of `c` (0 black … 1 white).
pub fn luminance(c: RGBColor) -> f64 {
    let lin = |v: u8| {
        let v = v as f64 / 255.0;
        if v <= 0.04045 {
            v / 12.92
        } else {
            ((v + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * lin(c.0) + 0.7152 * lin(c.1) + 0.0722 * lin(c.2)
}

/// WCAG 2 contrast ratio of `c` against white (1 … 21).
pub fn contrast_on_white(c: RGBColor) -> f64 {
    1.05 / (luminance(c) + 0.05)
}

/// The contrast text needs on white (WCAG 2 AA for normal text).
pub const TEXT_CONTRAST: f64 = 4.5;

/// The contrast a bar or line needs on white (WCAG 2 for graphical objects).
pub const MARK_CONTRAST: f64 = 3.0;

/// `c` darkened (same hue) until it has `min` contrast on white; colours
/// that have it already are kept.
pub fn darkened_to(c: RGBColor, min: f64) -> RGBColor {
    let mut f = 1.0;
    let mut out = c;
    while contrast_on_white(out) < min && f > 0.0 {
        f -= 0.02;
        let d = |v: u8| (v as f64 * f).round() as u8;
        out = RGBColor(d(c.0), d(c.1), d(c.2));
    }
    out
}

/// `c` for text on white: light colours (the palettes' yellow, sand and
/// cyan) are darkened to a shade of the same hue that reads as text
/// ([`TEXT_CONTRAST`]); the others are kept.
pub fn text_colour(c: RGBColor) -> RGBColor {
    darkened_to(c, TEXT_CONTRAST)
}

/// The outline a filled mark (a bar) of colour `c` needs to stand out on
/// white: `None` when the fill does ([`MARK_CONTRAST`]), else a darker
/// shade of its hue.
pub fn edge_colour(c: RGBColor) -> Option<RGBColor> {
    (contrast_on_white(c) < MARK_CONTRAST).then(|| darkened_to(c, MARK_CONTRAST + 0.5))
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

/// The colour of grid lines.
pub const GRID: RGBColor = RGBColor(225, 225, 225);

/// Bands are drawn with this opacity.
pub const BAND_ALPHA: f64 = 0.18;
