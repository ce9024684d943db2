//! The panel's charts: what a section asks to have drawn ([`Chart`]), and line charts drawn
//! with plotters into a bitmap, with the DejaVu Sans font bundled in `functions/admin/fonts/`
//! (no system fonts needed), encoded as PNG at a size a phone shows well. Only fn-admin
//! carries this weight.

use std::io::Cursor;
use std::sync::Once;

use plotters::prelude::*;

/// Picture size: wide enough for 30 days, readable on a phone.
pub const SIZE: (u32, u32) = (1200, 800);

/// Line colours, one per series.
const COLOURS: [RGBColor; 5] = [
    RGBColor(33, 102, 172),
    RGBColor(214, 96, 77),
    RGBColor(27, 158, 119),
    RGBColor(117, 112, 179),
    RGBColor(230, 171, 2),
];

/// A chart to draw beside a section: title, x labels, series (name, values; `None` is a gap),
/// the y axis top (or the data's), the y unit.
pub struct Chart {
    /// Title.
    pub title: String,
    /// X labels.
    pub x: Vec<String>,
    /// Series.
    pub series: Vec<(String, Vec<Option<f64>>)>,
    /// Y axis top, when fixed.
    pub y_max: Option<f64>,
    /// Y unit.
    pub unit: &'static str,
}

/// Why a chart could not be drawn.
#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    /// Drawing failed.
    #[error("drawing the chart: {0}")]
    Draw(String),
    /// Encoding failed.
    #[error("encoding the chart: {0}")]
    Encode(#[from] image::ImageError),
}

fn draw_err<E: std::fmt::Debug>(e: E) -> ChartError {
    ChartError::Draw(format!("{e:?}"))
}

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let bytes: &'static [u8] = include_bytes!("../fonts/DejaVuSans.ttf");
        if plotters::style::register_font("sans-serif", FontStyle::Normal, bytes).is_err() {
            tracing::error!("the bundled font could not be read");
        }
    });
}

/// A line chart of `series` (name, one value per x label; `None` is a gap) over `x`, titled
/// `title`, the y axis from 0 to the largest value (or `y_max`), labelled `y_unit`.
pub fn line_chart(
    title: &str,
    x: &[String],
    series: &[(String, Vec<Option<f64>>)],
    y_max: Option<f64>,
    y_unit: &str,
) -> Result<Vec<u8>, ChartError> {
    register_font();
    let (w, h) = SIZE;
    let mut pixels = vec![255u8; (w * h * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut pixels, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(draw_err)?;
        let top = series
            .iter()
            .flat_map(|(_, v)| v.iter().flatten())
            .fold(0f64, |a, b| a.max(*b));
        let y_top = y_max.unwrap_or((top * 1.1).max(1.0));
        let n = x.len().max(2);
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 40))
            .margin(24)
            .x_label_area_size(60)
            .y_label_area_size(90)
            .build_cartesian_2d(0..n - 1, 0f64..y_top)
            .map_err(draw_err)?;
        let step = (n / 8).max(1);
        chart
            .configure_mesh()
            .x_labels(n)
            .x_label_formatter(&|i| {
                if i % step == 0 {
                    x.get(*i).cloned().unwrap_or_default()
                } else {
                    String::new()
                }
            })
            .y_label_formatter(&|v| format!("{v:.0}{y_unit}"))
            .label_style(("sans-serif", 24))
            .light_line_style(RGBColor(235, 235, 235))
            .draw()
            .map_err(draw_err)?;
        for (k, (name, values)) in series.iter().enumerate() {
            let colour = COLOURS[k % COLOURS.len()];
            let points: Vec<(usize, f64)> = values
                .iter()
                .enumerate()
                .filter_map(|(i, v)| v.map(|v| (i, v)))
                .collect();
            chart
                .draw_series(LineSeries::new(points.clone(), colour.stroke_width(4)))
                .map_err(draw_err)?
                .label(name.as_str())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 30, y)], colour.stroke_width(4))
                });
            chart
                .draw_series(points.iter().map(|p| Circle::new(*p, 6, colour.filled())))
                .map_err(draw_err)?;
        }
        chart
            .configure_series_labels()
            .label_font(("sans-serif", 26))
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .draw()
            .map_err(draw_err)?;
        root.present().map_err(draw_err)?;
    }
    let img = image::RgbImage::from_raw(w, h, pixels)
        .ok_or_else(|| ChartError::Draw("buffer size".into()))?;
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)?;
    Ok(out.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chart_is_a_png_of_the_promised_size_and_matches_its_fixture() {
        let x: Vec<String> = ["D1", "D4", "D7", "D30"].map(String::from).to_vec();
        let series = vec![
            (
                "all cohorts".to_owned(),
                vec![Some(50.0), Some(25.0), Some(75.0), None],
            ),
            ("2026-11-23".to_owned(), vec![Some(50.0), None, None, None]),
        ];
        let png = line_chart("Retention by signup day", &x, &series, Some(100.0), "%").unwrap();
        let img = image::load_from_memory(&png).unwrap();
        assert_eq!((img.width(), img.height()), SIZE);
        // Something was drawn in colour (a line), not just a white page.
        let rgb = img.to_rgb8();
        assert!(rgb.pixels().any(|p| p.0 == [33, 102, 172]));
        let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/retention.png");
        if std::env::var_os("UPDATE_FIXTURES").is_some() {
            std::fs::write(fixture, &png).unwrap();
        }
        let want = image::load_from_memory(&std::fs::read(fixture).unwrap())
            .unwrap()
            .to_rgb8();
        assert_eq!(
            want.as_raw(),
            rgb.as_raw(),
            "the chart changed: look at it, then UPDATE_FIXTURES=1"
        );
    }
}
