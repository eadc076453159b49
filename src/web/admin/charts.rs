//! Charts drawn on the server as SVG: no JavaScript, readable by screen readers (a title and
//! a description name what they show, and the page gives the figures as a table beside).

use std::fmt::Write;

/// One point: its label (a day, a month) and its value in cents.
pub struct Point {
    pub label: String,
    pub cents: i64,
}

const WIDTH: i64 = 720;
const HEIGHT: i64 = 200;
const MARGIN: i64 = 24;

fn escaped(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The highest value, rounded up so the top of the chart is a round figure (at least 1 €).
fn scale_top(points: &[Point]) -> i64 {
    let max = points.iter().map(|p| p.cents).max().unwrap_or(0).max(100);
    let magnitude = 10_i64.pow(max.ilog10());
    (max + magnitude - 1) / magnitude * magnitude
}

fn frame(id: &str, title: &str, description: &str, body: &str) -> String {
    format!(
        "<svg class=\"chart\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" role=\"img\" \
         aria-labelledby=\"{id}-title {id}-desc\" preserveAspectRatio=\"none\">\
         <title id=\"{id}-title\">{}</title><desc id=\"{id}-desc\">{}</desc>\
         <line class=\"chart__axis\" x1=\"0\" y1=\"{base}\" x2=\"{WIDTH}\" y2=\"{base}\"/>{body}</svg>",
        escaped(title),
        escaped(description),
        base = HEIGHT - MARGIN,
    )
}

/// Bars, one a point (daily amounts).
pub fn bars(id: &str, title: &str, description: &str, points: &[Point]) -> String {
    let top = scale_top(points);
    let slot = WIDTH / points.len().max(1) as i64;
    let usable = HEIGHT - 2 * MARGIN;
    let mut body = String::new();
    for (i, point) in points.iter().enumerate() {
        let height = point.cents.max(0) * usable / top;
        let _ = write!(
            body,
            "<rect class=\"chart__bar\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{height}\"><title>{}</title></rect>",
            i as i64 * slot + slot / 8,
            HEIGHT - MARGIN - height,
            (slot * 3 / 4).max(1),
            escaped(&point.label),
        );
    }
    frame(id, title, description, &body)
}

/// A line through the points (monthly recurring revenue).
pub fn line(id: &str, title: &str, description: &str, points: &[Point]) -> String {
    let top = scale_top(points);
    let step = WIDTH / points.len().max(1) as i64;
    let usable = HEIGHT - 2 * MARGIN;
    let coordinates: Vec<(i64, i64)> = points
        .iter()
        .enumerate()
        .map(|(i, p)| {
            (
                i as i64 * step + step / 2,
                HEIGHT - MARGIN - p.cents.max(0) * usable / top,
            )
        })
        .collect();
    let path: Vec<String> = coordinates
        .iter()
        .map(|(x, y)| format!("{x},{y}"))
        .collect();
    let mut body = format!(
        "<polyline class=\"chart__line\" points=\"{}\"/>",
        path.join(" ")
    );
    for ((x, y), point) in coordinates.iter().zip(points) {
        let _ = write!(
            body,
            "<circle class=\"chart__dot\" cx=\"{x}\" cy=\"{y}\" r=\"4\"><title>{}</title></circle>",
            escaped(&point.label)
        );
    }
    frame(id, title, description, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn points() -> Vec<Point> {
        vec![
            Point {
                label: "1er déc. : 10 €".into(),
                cents: 1_000,
            },
            Point {
                label: "2 déc. : <rien>".into(),
                cents: 0,
            },
            Point {
                label: "3 déc. : 40 €".into(),
                cents: 4_000,
            },
        ]
    }

    #[test]
    fn bars_are_named_for_screen_readers_and_scaled_to_a_round_top() {
        let svg = bars("jours", "Dons par jour", "30 derniers jours", &points());
        assert!(svg.contains("role=\"img\""));
        assert!(svg.contains("<title id=\"jours-title\">Dons par jour</title>"));
        assert_eq!(svg.matches("<rect").count(), 3);
        assert!(svg.contains("&lt;rien&gt;"), "labels escaped");
        // 40 € is the top (a round 4 000 cents): its bar takes the whole usable height.
        assert!(svg.contains(&format!("height=\"{}\"", HEIGHT - 2 * MARGIN)));
        assert_eq!(scale_top(&points()), 4_000);
    }

    #[test]
    fn a_line_has_a_point_each() {
        let svg = line("mrr", "Revenu mensuel", "12 mois", &points());
        assert_eq!(svg.matches("<circle").count(), 3);
        assert!(svg.contains("<polyline"));
    }
}
