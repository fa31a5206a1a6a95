//! The loss curves as an SVG: training (and validation) loss against epoch on a logarithmic
//! axis, so the slow tail of convergence stays as visible as the first steep drop, and a
//! validation curve turning up while the training curve goes on down shows overfitting.

use plotters::prelude::*;

/// An SVG of `curves` (each a name and one loss per `unit`, from 0), titled `title`, with a
/// legend. Losses that are 0, negative or not finite have no logarithm and are left out.
///
/// # Errors
/// The drawing backend's message, should plotters fail to lay the chart out.
pub fn loss_curve_svg(
    curves: &[(&str, &[f64])],
    unit: &str,
    title: &str,
) -> Result<String, String> {
    let series: Vec<Vec<(usize, f64)>> = curves
        .iter()
        .map(|(_, curve)| {
            curve
                .iter()
                .enumerate()
                .filter(|(_, v)| v.is_finite() && **v > 0.0)
                .map(|(i, v)| (i, v.log10()))
                .collect()
        })
        .collect();
    let all = series.iter().flatten();
    let low = all.clone().map(|p| p.1).fold(f64::INFINITY, f64::min);
    let high = all.map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
    let (low, high) = if low < high {
        (low, high)
    } else {
        (low.min(0.0) - 1.0, high.max(0.0) + 1.0)
    };
    let length = curves.iter().map(|(_, c)| c.len()).max().unwrap_or(0);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (800, 500)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 22))
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(90)
            .build_cartesian_2d(0..length.max(2) - 1, low..high)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_desc(unit)
            .y_desc("loss (log scale)")
            .y_label_formatter(&|v| format!("{:.1e}", 10f64.powf(*v)))
            .draw()
            .map_err(|e| e.to_string())?;
        for ((name, _), (points, color)) in curves.iter().zip(series.into_iter().zip([BLUE, RED])) {
            chart
                .draw_series(LineSeries::new(points, color))
                .map_err(|e| e.to_string())?
                .label(*name)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
        }
        chart
            .configure_series_labels()
            .background_style(WHITE)
            .border_style(BLACK)
            .draw()
            .map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}
