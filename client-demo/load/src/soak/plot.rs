//! Line charts of the soak's time series, drawn as SVG text with plotters.

use plotters::prelude::*;
use thiserror::Error;

/// Chart size in pixels (SVG user units).
const SIZE: (u32, u32) = (880, 300);

/// The palette lines are drawn with, in order.
const COLORS: [RGBColor; 5] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(255, 127, 14),
];

/// Drawing a chart failed (plotters reports its backend's error as text).
#[derive(Debug, Error)]
#[error("drawing chart {title:?}: {message}")]
pub struct PlotError {
    /// The chart's title.
    pub title: String,
    /// What plotters said.
    pub message: String,
}

/// One line of a chart.
#[derive(Clone, Debug)]
pub struct Line<'a> {
    /// The legend label.
    pub label: &'a str,
    /// `(seconds, value)` points in time order.
    pub points: Vec<(f64, f64)>,
}

/// A horizontal dashed line marking a limit (a threshold).
#[derive(Clone, Copy, Debug)]
pub struct Limit<'a> {
    /// The legend label.
    pub label: &'a str,
    /// Its value on the y axis.
    pub value: f64,
}

/// What to draw in one chart.
#[derive(Clone, Debug)]
pub struct Chart<'a> {
    /// The caption.
    pub title: &'a str,
    /// The y axis description, with its unit.
    pub y_label: &'a str,
    /// The lines (empty lines are skipped; a chart with none says "no data").
    pub lines: Vec<Line<'a>>,
    /// An optional limit to draw across the chart.
    pub limit: Option<Limit<'a>>,
    /// The run's length in seconds (the x axis spans 0..duration at least).
    pub duration_s: f64,
}

/// The y range that shows every line and the limit, starting at zero, with headroom.
fn y_max(chart: &Chart<'_>) -> f64 {
    let data = chart
        .lines
        .iter()
        .flat_map(|l| l.points.iter().map(|p| p.1))
        .chain(chart.limit.map(|l| l.value))
        .fold(0.0_f64, f64::max);
    if data > 0.0 { data * 1.15 } else { 1.0 }
}

fn x_max(chart: &Chart<'_>) -> f64 {
    chart
        .lines
        .iter()
        .flat_map(|l| l.points.iter().map(|p| p.0))
        .fold(chart.duration_s, f64::max)
        .max(1.0)
}

/// Draws `chart` and returns the SVG document as text.
pub fn render(chart: &Chart<'_>) -> Result<String, PlotError> {
    let mut svg = String::new();
    draw(chart, &mut svg).map_err(|message| PlotError {
        title: chart.title.to_owned(),
        message,
    })?;
    Ok(svg)
}

fn draw(chart: &Chart<'_>, out: &mut String) -> Result<(), String> {
    let err = |e: &dyn std::fmt::Display| e.to_string();
    let root = SVGBackend::with_string(out, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let mut ctx = ChartBuilder::on(&root)
        .caption(chart.title, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(64)
        .build_cartesian_2d(0.0..x_max(chart), 0.0..y_max(chart))
        .map_err(|e| err(&e))?;
    ctx.configure_mesh()
        .x_desc("seconds since start")
        .y_desc(chart.y_label)
        .light_line_style(WHITE.mix(0.0))
        .draw()
        .map_err(|e| err(&e))?;

    let mut drew_any = false;
    for (i, line) in chart.lines.iter().enumerate() {
        if line.points.is_empty() {
            continue;
        }
        drew_any = true;
        let color = COLORS[i % COLORS.len()];
        ctx.draw_series(LineSeries::new(
            line.points.iter().copied(),
            color.stroke_width(2),
        ))
        .map_err(|e| err(&e))?
        .label(line.label)
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2)));
    }
    if let Some(limit) = chart.limit {
        let x1 = x_max(chart);
        let style = BLACK.mix(0.6).stroke_width(1);
        ctx.draw_series(DashedLineSeries::new(
            [(0.0, limit.value), (x1, limit.value)],
            6,
            4,
            style,
        ))
        .map_err(|e| err(&e))?
        .label(limit.label)
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], style));
    }
    if drew_any || chart.limit.is_some() {
        ctx.configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.3))
            .draw()
            .map_err(|e| err(&e))?;
    }
    if !drew_any {
        root.draw(&Text::new(
            "no data (metric not exposed)",
            (SIZE.0 as i32 / 2 - 110, SIZE.1 as i32 / 2),
            ("sans-serif", 16).into_font(),
        ))
        .map_err(|e| err(&e))?;
    }
    root.present().map_err(|e| err(&e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_lines_legend_and_limit_as_svg() {
        let chart = Chart {
            title: "Tick duration",
            y_label: "ms",
            lines: vec![
                Line {
                    label: "p99",
                    points: vec![(0.0, 0.4), (1.0, 0.6), (2.0, 0.5)],
                },
                Line {
                    label: "max",
                    points: vec![],
                },
            ],
            limit: Some(Limit {
                label: "limit 2 ms",
                value: 2.0,
            }),
            duration_s: 10.0,
        };
        let svg = render(&chart).unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..svg.len().min(80)]);
        assert!(svg.trim_end().ends_with("</svg>"));
        assert!(svg.contains("Tick duration"));
        assert!(svg.contains("p99"));
        assert!(svg.contains("limit 2 ms"));
        assert!(svg.contains("<polyline"));
    }

    #[test]
    fn an_empty_chart_says_so() {
        let chart = Chart {
            title: "RSS",
            y_label: "MiB",
            lines: vec![],
            limit: None,
            duration_s: 0.0,
        };
        let svg = render(&chart).unwrap();
        assert!(svg.contains("no data"));
    }
}
