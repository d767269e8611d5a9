//! Charts drawn with plotters: SVG for the ui and for exports, PNG for exports and reports.
//! The time axis is in the given time zone, values carry their unit, thresholds are dashed
//! lines, and a period without data leaves a gap (lines are never drawn across it).

use chrono::{Offset, TimeZone};
use plotters::coord::combinators::BindKeyPoints;
use plotters::prelude::*;
use std::sync::Once;
use vigil_dto::units::format_value;
use vigil_dto::{ChartData, PlotBox};

/// Series colours, chosen to read on both the light and the dark theme.
pub const PALETTE: [(u8, u8, u8); 6] =
    [(0x3b, 0x82, 0xf6), (0xf5, 0x9e, 0x0b), (0x10, 0xb9, 0x81), (0xa8, 0x55, 0xf7), (0xec, 0x48, 0x99), (0x06, 0xb6, 0xd4)];
const THRESHOLD: RGBColor = RGBColor(0xdc, 0x26, 0x26);
const FONT: &str = "sans-serif";
static FONT_BYTES: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");
static REGISTER: Once = Once::new();

/// How to draw: size in CSS pixels, theme, whether to put the title in the image (exports do;
/// the ui has its own header), and a scale factor (2 gives a sharp PNG on high-DPI screens).
#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub width: u32,
    pub height: u32,
    pub dark: bool,
    pub titled: bool,
    pub scale: f64,
    /// Bars (one per point, a period wide) instead of lines: for counts per bucket.
    pub bars: bool,
}

impl Style {
    pub fn ui(width: u32, height: u32, dark: bool) -> Self {
        Style { width, height, dark, titled: false, scale: 1.0, bars: false }
    }
}

/// A drawn chart and where its plot area is.
#[derive(Debug, Clone)]
pub struct Drawn<T> {
    pub image: T,
    pub plot: PlotBox,
}

/// Chart sizes a caller (the webview) may ask for, in pixels.
pub const WIDTHS: std::ops::RangeInclusive<u32> = 200..=4096;
pub const HEIGHTS: std::ops::RangeInclusive<u32> = 100..=2048;

/// Refuses a chart size outside [`WIDTHS`] × [`HEIGHTS`] (each chart is drawn at that size).
pub fn check_size(width: u32, height: u32) -> Result<(), String> {
    if !WIDTHS.contains(&width) || !HEIGHTS.contains(&height) {
        return Err(format!(
            "a chart of {width}×{height} pixels is not drawn; widths are {}–{} and heights {}–{}",
            WIDTHS.start(),
            WIDTHS.end(),
            HEIGHTS.start(),
            HEIGHTS.end()
        ));
    }
    Ok(())
}

pub fn color_hex(i: usize) -> String {
    let (r, g, b) = PALETTE[i % PALETTE.len()];
    format!("#{r:02x}{g:02x}{b:02x}")
}

/// The chart over [start, end) as an SVG document.
pub fn svg<Tz: TimeZone>(chart: &ChartData, start: i64, end: i64, style: Style, tz: &Tz) -> Result<Drawn<String>, String>
where
    Tz::Offset: std::fmt::Display,
{
    register_font();
    let (w, h) = px(style);
    let mut out = String::new();
    let plot = {
        let root = SVGBackend::with_string(&mut out, (w, h)).into_drawing_area();
        draw(&root, chart, start, end, style, tz)?
    };
    Ok(Drawn { image: out, plot })
}

/// The chart over [start, end) as a PNG file's bytes (opaque background of the theme).
pub fn png<Tz: TimeZone>(chart: &ChartData, start: i64, end: i64, style: Style, tz: &Tz) -> Result<Drawn<Vec<u8>>, String>
where
    Tz::Offset: std::fmt::Display,
{
    register_font();
    let (w, h) = px(style);
    let mut rgb = vec![0u8; w as usize * h as usize * 3];
    let plot = {
        let root = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
        let (bg, _, _) = colors(style.dark);
        root.fill(&bg).map_err(err)?;
        let plot = draw(&root, chart, start, end, style, tz)?;
        root.present().map_err(err)?;
        plot
    };
    let mut bytes = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut bytes, w, h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut writer = enc.write_header().map_err(err)?;
        writer.write_image_data(&rgb).map_err(err)?;
    }
    Ok(Drawn { image: bytes, plot })
}

/// A label for the offset of `tz` at `t`: `UTC`, `UTC+01:00`.
pub fn offset_label<Tz: TimeZone>(tz: &Tz, t: i64) -> String {
    let secs = tz.offset_from_utc_datetime(&utc(t).naive_utc()).fix().local_minus_utc();
    if secs == 0 {
        "UTC".into()
    } else {
        let a = secs.abs();
        format!("UTC{}{:02}:{:02}", if secs < 0 { '-' } else { '+' }, a / 3600, a % 3600 / 60)
    }
}

/// The dashboard page's model: every chart drawn `width`×`height` for the ui, in `tz`. A chart
/// that cannot be drawn keeps its data and says why in its error.
pub fn dashboard_view<Tz: TimeZone>(
    data: vigil_dto::DashboardData,
    components: Vec<(String, String)>,
    width: u32,
    height: u32,
    dark: bool,
    tz: &Tz,
    now: i64,
) -> vigil_dto::DashboardView
where
    Tz::Offset: std::fmt::Display,
{
    let style = Style::ui(width, height, dark);
    let charts = data
        .charts
        .into_iter()
        .map(|mut c| {
            let colors = (0..c.series.len()).map(color_hex).collect();
            let (svg, plot) = match svg(&c, data.start, data.end, style, tz) {
                Ok(d) => (d.image, d.plot),
                Err(e) => {
                    c.error = Some(c.error.map(|x| format!("{x}; {e}")).unwrap_or(e));
                    (
                        String::new(),
                        PlotBox {
                            image_width: width,
                            image_height: height,
                            left: 0.0,
                            top: 0.0,
                            width: 0.0,
                            height: 0.0,
                            x_min: data.start,
                            x_max: data.end,
                            y_min: 0.0,
                            y_max: 1.0,
                        },
                    )
                }
            };
            vigil_dto::ChartView { data: c, svg, plot, colors }
        })
        .collect();
    vigil_dto::DashboardView {
        start: data.start,
        end: data.end,
        charts,
        api_calls: data.api_calls,
        unavailable: data.unavailable,
        components,
        fetched_at: now,
        time_zone: offset_label(tz, data.end),
    }
}

fn register_font() {
    REGISTER.call_once(|| {
        // The bundled font is known good; a failure here would leave text unmeasured, not crash.
        if plotters::style::register_font(FONT, FontStyle::Normal, FONT_BYTES).is_err() {
            tracing::error!("the chart font could not be loaded");
        }
    });
}

fn px(style: Style) -> (u32, u32) {
    let s = style.scale.clamp(0.5, 4.0);
    (((style.width.clamp(160, 4000)) as f64 * s) as u32, ((style.height.clamp(100, 2000)) as f64 * s) as u32)
}

fn err(e: impl std::fmt::Display) -> String {
    format!("chart drawing failed: {e}")
}

fn utc(t: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(t, 0).unwrap_or_default()
}

/// (background, text, grid)
fn colors(dark: bool) -> (RGBColor, RGBColor, RGBColor) {
    if dark {
        (RGBColor(0x16, 0x1c, 0x25), RGBColor(0xc8, 0xd1, 0xdc), RGBColor(0x2a, 0x34, 0x41))
    } else {
        (RGBColor(0xff, 0xff, 0xff), RGBColor(0x3a, 0x45, 0x55), RGBColor(0xe3, 0xe7, 0xed))
    }
}

/// Tick step (seconds) for a span so that labels are at least `min_gap` pixels apart.
fn tick_step(span: i64, plot_width: f64, min_gap: f64) -> i64 {
    const STEPS: [i64; 16] = [60, 120, 300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200, 86_400, 172_800, 345_600, 604_800, 1_209_600];
    let max_ticks = (plot_width / min_gap).floor().max(1.0);
    STEPS.iter().copied().find(|s| (span as f64 / *s as f64) <= max_ticks).unwrap_or(2_419_200)
}

/// Ticks at whole multiples of `step` in local wall-clock time (midnights for day steps).
fn ticks<Tz: TimeZone>(start: i64, end: i64, step: i64, tz: &Tz) -> Vec<i64> {
    let off = |t: i64| tz.offset_from_utc_datetime(&utc(t).naive_utc()).fix().local_minus_utc() as i64;
    let local0 = start + off(start);
    let mut local = local0.div_euclid(step) * step;
    let mut out = Vec::new();
    while out.len() < 64 {
        // Local wall-clock `local` back to UTC (the offset at that moment).
        let t = local - off(local - off(start));
        if t > end {
            break;
        }
        if t >= start {
            out.push(t);
        }
        local += step;
    }
    out
}

fn tick_label<Tz: TimeZone>(t: i64, step: i64, span: i64, tz: &Tz) -> String
where
    Tz::Offset: std::fmt::Display,
{
    let d = utc(t).with_timezone(tz);
    let fmt = if step >= 86_400 {
        "%d %b"
    } else if span > 86_400 {
        "%a %H:%M"
    } else {
        "%H:%M"
    };
    d.format(fmt).to_string()
}

/// The value range shown: from 0 (or below, for negative data) to a little above the largest
/// value or the threshold, whichever is higher.
fn y_range(chart: &ChartData) -> (f64, f64) {
    let vals = chart.series.iter().flat_map(|s| s.points.iter().filter_map(|p| p.1)).filter(|v| v.is_finite());
    let (mut lo, mut hi) = vals.fold((0.0f64, f64::MIN), |(a, b), v| (a.min(v), b.max(v)));
    if let Some(t) = &chart.threshold {
        lo = lo.min(t.value);
        hi = hi.max(t.value);
    }
    if hi <= lo {
        hi = lo + 1.0;
    }
    (lo, hi + (hi - lo) * 0.08)
}

/// Consecutive points with values; a `None` ends a run.
fn runs(points: &[(i64, Option<f64>)]) -> Vec<Vec<(i64, f64)>> {
    let mut out: Vec<Vec<(i64, f64)>> = vec![];
    let mut cur = vec![];
    for (t, v) in points {
        match v {
            Some(v) if v.is_finite() => cur.push((*t, *v)),
            _ => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn draw<DB: DrawingBackend, Tz: TimeZone>(
    root: &DrawingArea<DB, plotters::coord::Shift>,
    chart: &ChartData,
    start: i64,
    end: i64,
    style: Style,
    tz: &Tz,
) -> Result<PlotBox, String>
where
    Tz::Offset: std::fmt::Display,
{
    let s = style.scale.clamp(0.5, 4.0);
    let (_, text, grid) = colors(style.dark);
    // plotters draws text at 1/1.24 of the size asked for; ask for what should show.
    let font = |size: f64| (FONT, size * 1.24 * s).into_font().color(&text);
    let (end, start) = (end.max(start + 60), start);
    let mut top = 6.0 * s;
    if style.titled {
        let title = format!("{} ({}, times in {})", chart.title, chart.unit, offset_label(tz, start));
        root.draw(&Text::new(title, ((10.0 * s) as i32, top as i32), font(14.0))).map_err(err)?;
        top += 22.0 * s;
    }
    // Legend: one entry per series, and the threshold.
    let mut x = 10.0 * s;
    let mut entries: Vec<(String, RGBColor, bool)> = chart
        .series
        .iter()
        .enumerate()
        .map(|(i, se)| (se.label.clone(), RGBColor(PALETTE[i % 6].0, PALETTE[i % 6].1, PALETTE[i % 6].2), false))
        .collect();
    if let Some(t) = &chart.threshold {
        entries.push((format!("threshold {}", format_value(t.value, &chart.unit)), THRESHOLD, true));
    }
    for (label, color, dashed) in &entries {
        let y = (top + 6.0 * s) as i32;
        let (x0, x1) = (x as i32, (x + 14.0 * s) as i32);
        if *dashed {
            root.draw(&PathElement::new(vec![(x0, y), (x0 + (5.0 * s) as i32, y)], color.stroke_width(s.ceil() as u32 * 2))).map_err(err)?;
            root.draw(&PathElement::new(vec![(x1 - (5.0 * s) as i32, y), (x1, y)], color.stroke_width(s.ceil() as u32 * 2))).map_err(err)?;
        } else {
            root.draw(&PathElement::new(vec![(x0, y), (x1, y)], color.stroke_width(s.ceil() as u32 * 2))).map_err(err)?;
        }
        let f = font(11.0);
        let tw = root.estimate_text_size(label, &f).map(|(w, _)| w as f64).unwrap_or(label.len() as f64 * 6.0 * s);
        root.draw(&Text::new(label.clone(), (x1 + (4.0 * s) as i32, (top - 1.0 * s) as i32), f)).map_err(err)?;
        x += 14.0 * s + 4.0 * s + tw + 14.0 * s;
    }
    top += 18.0 * s;

    let (y_lo, y_hi) = y_range(chart);
    let y_label_width = [y_lo, y_hi, (y_lo + y_hi) / 2.0]
        .iter()
        .map(|v| root.estimate_text_size(&format_value(*v, &chart.unit), &font(11.0)).map(|(w, _)| w).unwrap_or(40))
        .max()
        .unwrap_or(40) as f64
        + 10.0 * s;
    let plot_width = root.dim_in_pixel().0 as f64 - y_label_width - 28.0 * s;
    let step = tick_step(end - start, plot_width, if end - start > 86_400 { 90.0 * s } else { 60.0 * s });
    let key_points = ticks(start, end, step, tz);
    let span = end - start;

    let mut cc = ChartBuilder::on(root)
        .margin_top(top as u32)
        .margin_right((24.0 * s) as u32)
        .margin_left((4.0 * s) as u32)
        .x_label_area_size((22.0 * s) as u32)
        .y_label_area_size(y_label_width as u32)
        .build_cartesian_2d((start..end).with_key_points(key_points), y_lo..y_hi)
        .map_err(err)?;
    let x_fmt = |t: &i64| tick_label(*t, step, span, tz);
    let y_fmt = |v: &f64| format_value(*v, &chart.unit);
    cc.configure_mesh()
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&y_fmt)
        .y_labels(5)
        .label_style(font(11.0))
        .axis_style(grid.stroke_width(s.ceil() as u32))
        .bold_line_style(grid.stroke_width(s.ceil() as u32))
        .light_line_style(TRANSPARENT)
        .draw()
        .map_err(err)?;

    let line = (1.6 * s).round().max(1.0) as u32;
    let mut any = false;
    for (i, se) in chart.series.iter().enumerate() {
        let (r, g, b) = PALETTE[i % PALETTE.len()];
        let color = RGBColor(r, g, b);
        if style.bars {
            let width = (chart.period.max(1) as f64 * 0.85).max(1.0) as i64;
            let bars: Vec<(i64, f64)> = se.points.iter().filter_map(|(t, v)| v.filter(|v| v.is_finite()).map(|v| (*t, v))).collect();
            any |= !bars.is_empty();
            cc.draw_series(bars.into_iter().map(|(t, v)| Rectangle::new([(t, 0.0), (t + width, v)], color.filled()))).map_err(err)?;
            continue;
        }
        for run in runs(&se.points) {
            any = true;
            if run.len() == 1 {
                cc.draw_series(std::iter::once(Circle::new(run[0], (2.0 * s) as i32, color.filled()))).map_err(err)?;
            } else {
                cc.draw_series(LineSeries::new(run, color.stroke_width(line))).map_err(err)?;
            }
        }
    }
    if let Some(t) = &chart.threshold {
        cc.draw_series(DashedLineSeries::new(
            vec![(start, t.value), (end, t.value)],
            (6.0 * s) as u32,
            (4.0 * s) as u32,
            THRESHOLD.stroke_width(line),
        ))
        .map_err(err)?;
    }
    let (xr, yr) = cc.plotting_area().get_pixel_range();
    if !any {
        let msg = if chart.error.is_some() { "Could not be fetched" } else { "No data in this range" };
        let f = font(12.0);
        let tw = root.estimate_text_size(msg, &f).map(|(w, _)| w as i32).unwrap_or(120);
        let pos = ((xr.start + xr.end) / 2 - tw / 2, (yr.start + yr.end) / 2 - (6.0 * s) as i32);
        root.draw(&Text::new(msg, pos, f)).map_err(err)?;
    }
    Ok(PlotBox {
        image_width: root.dim_in_pixel().0,
        image_height: root.dim_in_pixel().1,
        left: xr.start as f64,
        top: yr.start as f64,
        width: (xr.end - xr.start) as f64,
        height: (yr.end - yr.start) as f64,
        x_min: start,
        x_max: end,
        y_min: y_lo,
        y_max: y_hi,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::FixedOffset;
    use vigil_dto::{SeriesData, ThresholdLine};

    fn chart(points: Vec<(i64, Option<f64>)>) -> ChartData {
        ChartData {
            component: "aurora".into(),
            id: "cpu".into(),
            title: "DB CPU".into(),
            unit: "Percent".into(),
            period: 60,
            threshold: Some(ThresholdLine { value: 80.0, above: true, series: None }),
            series: vec![SeriesData { label: "writer".into(), points }],
            error: None,
        }
    }

    const T0: i64 = 1_795_507_200; // 2026-11-24T08:00:00Z

    /// The polylines of a colour with more than two points: the series' line runs (plotters
    /// writes one <polyline> per run; legend swatches have two points).
    fn lines_of(svg: &str, color: &str) -> usize {
        svg.match_indices("<polyline")
            .map(|(i, _)| svg[i..].split("/>").next().unwrap_or_default())
            .filter(|l| l.to_lowercase().contains(color))
            .filter(|l| l.split('"').skip_while(|a| !a.ends_with("points=")).nth(1).unwrap_or_default().split_whitespace().count() > 2)
            .count()
    }

    /// The texts of an SVG, trimmed.
    fn texts(svg: &str) -> Vec<String> {
        svg.split("<text")
            .skip(1)
            .filter_map(|t| t.split_once('>'))
            .map(|(_, rest)| rest.split("</text>").next().unwrap_or_default().trim().to_string())
            .collect()
    }

    #[test]
    fn a_gap_splits_the_line_and_is_not_interpolated() {
        let mut pts: Vec<(i64, Option<f64>)> = (0..60).map(|i| (T0 + i * 60, Some(20.0 + i as f64))).collect();
        for p in &mut pts[20..30] {
            p.1 = None;
        }
        let d = svg(&chart(pts.clone()), T0, T0 + 3600, Style::ui(600, 200, false), &FixedOffset::east_opt(0).unwrap()).unwrap();
        assert_eq!(lines_of(&d.image, "#3b82f6"), 2, "two runs around the gap");
        // Without the gap it is one line.
        let whole: Vec<(i64, Option<f64>)> = (0..60).map(|i| (T0 + i * 60, Some(20.0 + i as f64))).collect();
        let d = svg(&chart(whole), T0, T0 + 3600, Style::ui(600, 200, false), &FixedOffset::east_opt(0).unwrap()).unwrap();
        assert_eq!(lines_of(&d.image, "#3b82f6"), 1);
    }

    #[test]
    fn threshold_unit_and_legend_are_drawn() {
        let pts = (0..60).map(|i| (T0 + i * 60, Some(10.0 + i as f64))).collect();
        let d = svg(&chart(pts), T0, T0 + 3600, Style::ui(600, 200, false), &FixedOffset::east_opt(0).unwrap()).unwrap();
        let t = texts(&d.image);
        assert!(t.contains(&"threshold 80 %".to_string()), "legend names the threshold with its unit: {t:?}");
        assert!(t.contains(&"writer".to_string()));
        assert!(t.contains(&"40 %".to_string()), "y labels carry the unit: {t:?}");
        assert!(d.image.to_lowercase().contains("#dc2626"), "threshold line drawn");
        // The plot box maps the range onto the plot area inside the image.
        assert_eq!((d.plot.x_min, d.plot.x_max), (T0, T0 + 3600));
        assert!(d.plot.left > 0.0 && d.plot.left + d.plot.width <= 600.0);
        assert!(d.plot.y_max >= 80.0, "threshold inside the value range");
    }

    #[test]
    fn time_axis_is_in_the_given_time_zone() {
        let pts: Vec<(i64, Option<f64>)> = (0..60).map(|i| (T0 + i * 60, Some(1.0))).collect();
        let utc = svg(&chart(pts.clone()), T0, T0 + 3600, Style::ui(600, 200, false), &FixedOffset::east_opt(0).unwrap()).unwrap();
        let cet = svg(&chart(pts), T0, T0 + 3600, Style::ui(600, 200, false), &FixedOffset::east_opt(3600).unwrap()).unwrap();
        let (u, c) = (texts(&utc.image), texts(&cet.image));
        assert!(u.contains(&"08:00".into()) && u.contains(&"08:30".into()), "UTC labels: {u:?}");
        assert!(c.contains(&"09:00".into()) && c.contains(&"09:30".into()) && !c.contains(&"08:30".into()), "UTC+1 labels: {c:?}");
        // Ticks fall on whole local hours even when the offset is not whole hours.
        let ist = FixedOffset::east_opt(5 * 3600 + 1800).unwrap();
        for t in ticks(T0, T0 + 6 * 3600, 3600, &ist) {
            assert_eq!((t + 5 * 3600 + 1800) % 3600, 0);
        }
        assert_eq!(offset_label(&ist, T0), "UTC+05:30");
        assert_eq!(offset_label(&FixedOffset::west_opt(4 * 3600).unwrap(), T0), "UTC-04:00");
    }

    #[test]
    fn bars_draw_one_rectangle_per_value() {
        let mut c = chart(vec![(T0, Some(3.0)), (T0 + 60, None), (T0 + 120, Some(5.0))]);
        c.threshold = None;
        let style = Style { bars: true, ..Style::ui(600, 200, false) };
        let d = svg(&c, T0, T0 + 180, style, &FixedOffset::east_opt(0).unwrap()).unwrap();
        let rects = d.image.matches("<rect").count();
        let filled = d.image.split("<rect").skip(1).filter(|r| r.to_lowercase().contains("#3b82f6")).count();
        assert!(rects >= 2);
        assert_eq!(filled, 2, "no bar for the empty bucket");
        assert_eq!(lines_of(&d.image, "#3b82f6"), 0, "no line");
    }

    #[test]
    fn tick_steps_fit_the_width() {
        assert_eq!(tick_step(3600, 600.0, 60.0), 600);
        assert_eq!(tick_step(86_400, 600.0, 60.0), 10_800);
        assert_eq!(tick_step(7 * 86_400, 900.0, 90.0), 86_400);
        assert_eq!(tick_step(7 * 86_400, 600.0, 90.0), 172_800);
        let t = ticks(T0, T0 + 86_400, 10_800, &FixedOffset::east_opt(0).unwrap());
        assert!(t.len() <= 10 && t.len() >= 8, "{t:?}");
    }

    #[test]
    fn empty_and_failed_charts_say_so() {
        let d = svg(&chart(vec![(T0, None), (T0 + 60, None)]), T0, T0 + 3600, Style::ui(600, 200, true), &FixedOffset::east_opt(0).unwrap()).unwrap();
        assert!(texts(&d.image).contains(&"No data in this range".into()));
        let mut c = chart(vec![]);
        c.error = Some("AccessDenied".into());
        let d = svg(&c, T0, T0 + 3600, Style::ui(600, 200, true), &FixedOffset::east_opt(0).unwrap()).unwrap();
        assert!(texts(&d.image).contains(&"Could not be fetched".into()));
    }

    #[test]
    fn png_is_a_valid_image_of_the_scaled_size() {
        let pts = (0..60).map(|i| (T0 + i * 60, Some((i % 7) as f64 * 10.0))).collect();
        let style = Style { width: 600, height: 220, dark: true, titled: true, scale: 2.0, bars: false };
        let d = png(&chart(pts), T0, T0 + 3600, style, &FixedOffset::east_opt(0).unwrap()).unwrap();
        let dec = png::Decoder::new(std::io::Cursor::new(&d.image));
        let mut r = dec.read_info().unwrap();
        let mut buf = vec![0; r.output_buffer_size()];
        let info = r.next_frame(&mut buf).unwrap();
        assert_eq!((info.width, info.height), (1200, 440));
        // Something besides the background was drawn: a series colour appears.
        let blue = buf.chunks(3).filter(|p| p[0] == 0x3b && p[1] == 0x82 && p[2] == 0xf6).count();
        assert!(blue > 100, "series pixels: {blue}");
    }
}
