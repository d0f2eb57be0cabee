//! Line charts: lines with optional bands over a numeric x axis, event
//! markers, panels and legends.

use super::*;
use plotters::style::RGBColor;

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
    /// Whether the band's edges are drawn as thin lines too, so a narrow
    /// band (a confidence interval) stays visible.
    pub band_edges: bool,
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
            band_edges: false,
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
    /// Horizontal reference lines (1 = even, say).
    pub guides: Vec<Guide>,
}

/// A horizontal reference line across a [`LineChart`], labelled at its
/// right end.
#[derive(Debug, Clone)]
pub struct Guide {
    /// Where, on the y axis.
    pub y: f64,
    /// What it marks.
    pub label: String,
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
    } else {
        // Narrow panels get fewer numbers, so neighbours never run together.
        mesh.x_labels((plot.dim_in_pixel().0 as usize / 110).clamp(3, 10));
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
    let guide_ink = RGBColor(90, 90, 90);
    for g in spec.guides.iter().filter(|g| g.y >= ymin && g.y <= ymax) {
        chart.draw_series(DashedLineSeries::new(
            [(xmin, g.y), (xmax, g.y)],
            8,
            6,
            guide_ink.stroke_width(2),
        ))?;
        chart.draw_series(std::iter::once(
            EmptyElement::at((xmax, g.y))
                + Text::new(
                    g.label.clone(),
                    (-8, -6),
                    font(TICK_PX - 4, false)
                        .color(&guide_ink)
                        .pos(Pos::new(HPos::Right, VPos::Bottom)),
                ),
        ))?;
    }
    for l in &spec.lines {
        if l.band.len() >= 2 {
            let mut poly: Vec<(f64, f64)> = l.band.iter().map(|b| (b.0, b.2)).collect();
            poly.extend(l.band.iter().rev().map(|b| (b.0, b.1)));
            chart.draw_series(std::iter::once(Polygon::new(
                poly,
                l.colour.mix(BAND_ALPHA).filled(),
            )))?;
            if l.band_edges {
                let edge = tint(l.colour, 0.55).stroke_width(1);
                chart.draw_series(LineSeries::new(l.band.iter().map(|b| (b.0, b.1)), edge))?;
                chart.draw_series(LineSeries::new(l.band.iter().map(|b| (b.0, b.2)), edge))?;
            }
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
