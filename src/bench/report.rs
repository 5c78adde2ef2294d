//! What a scenario hands back: its parameters and measured figures, printed as a
//! table for people or as JSON for scripts. Latency figures come from an HDR
//! histogram (microsecond resolution) so percentiles are exact to 3 digits.

use hdrhistogram::Histogram;
use serde::Serialize;

/// A histogram of latencies in microseconds, up to 60 s, 3 significant digits.
pub fn latency_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("static histogram bounds are valid")
}

/// Records `d` (clamped to the histogram's range) into `h`.
pub fn record(h: &mut Histogram<u64>, d: std::time::Duration) {
    let us = u64::try_from(d.as_micros()).unwrap_or(u64::MAX).clamp(1, h.high());
    h.saturating_record(us);
}

/// Percentiles of a latency histogram, in milliseconds.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Latency {
    pub count: u64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl Latency {
    pub fn of(h: &Histogram<u64>) -> Self {
        if h.is_empty() {
            return Self::default();
        }
        let ms = |us: u64| us as f64 / 1000.0;
        Self {
            count: h.len(),
            p50_ms: ms(h.value_at_quantile(0.50)),
            p99_ms: ms(h.value_at_quantile(0.99)),
            max_ms: ms(h.max()),
        }
    }
}

/// One named figure of a scenario.
#[derive(Debug, Clone, Serialize)]
pub struct Figure {
    pub name: String,
    pub value: f64,
    pub unit: &'static str,
    /// This figure divided by the same figure of the floor measured in the same
    /// run (for latencies: how many times slower; for rates: the fraction reached).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ratio_to_floor: Option<f64>,
}

/// A scenario's result.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub scenario: String,
    /// The parameters the run used, in the order given.
    pub params: Vec<(String, String)>,
    pub figures: Vec<Figure>,
    /// Things the reader should know (losses, errors, targets missed).
    pub notes: Vec<String>,
}

impl Report {
    pub fn new(scenario: &str) -> Self {
        Self { scenario: scenario.to_owned(), params: Vec::new(), figures: Vec::new(), notes: Vec::new() }
    }

    pub fn param(&mut self, name: &str, value: impl ToString) -> &mut Self {
        self.params.push((name.to_owned(), value.to_string()));
        self
    }

    pub fn figure(&mut self, name: &str, value: f64, unit: &'static str) -> &mut Self {
        self.figures.push(Figure { name: name.to_owned(), value, unit, ratio_to_floor: None });
        self
    }

    /// Adds a figure with its ratio to the floor's value of the same figure.
    pub fn figure_vs(&mut self, name: &str, value: f64, unit: &'static str, floor: f64) -> &mut Self {
        let ratio = (floor > 0.0).then(|| value / floor);
        self.figures.push(Figure { name: name.to_owned(), value, unit, ratio_to_floor: ratio });
        self
    }

    /// Adds p50, p99 and max of `lat` under `prefix`, with ratios when a floor is given.
    pub fn latency(&mut self, prefix: &str, lat: Latency, floor: Option<Latency>) -> &mut Self {
        let rows = [("p50", lat.p50_ms, floor.map(|f| f.p50_ms)), ("p99", lat.p99_ms, floor.map(|f| f.p99_ms))];
        for (q, v, f) in rows {
            match f {
                Some(f) => self.figure_vs(&format!("{prefix} {q}"), v, "ms", f),
                None => self.figure(&format!("{prefix} {q}"), v, "ms"),
            };
        }
        match floor {
            Some(f) => self.figure_vs(&format!("{prefix} max"), lat.max_ms, "ms", f.max_ms),
            None => self.figure(&format!("{prefix} max"), lat.max_ms, "ms"),
        };
        self
    }

    pub fn note(&mut self, note: impl Into<String>) -> &mut Self {
        self.notes.push(note.into());
        self
    }

    /// The figure called `name`, if recorded.
    pub fn get(&self, name: &str) -> Option<f64> {
        self.figures.iter().find(|f| f.name == name).map(|f| f.value)
    }

    /// A plain-text table: parameters on one line, then one figure per row.
    pub fn table(&self) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        let params: Vec<String> = self.params.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let _ = writeln!(out, "== {} ({})", self.scenario, params.join(" "));
        let width = self.figures.iter().map(|f| f.name.len()).max().unwrap_or(0).max(6);
        let _ = writeln!(out, "  {:width$}  {:>14}  {:<8} {:>10}", "figure", "value", "unit", "vs floor");
        for f in &self.figures {
            let ratio = f.ratio_to_floor.map(|r| format!("{r:.2}x")).unwrap_or_default();
            let _ = writeln!(out, "  {:width$}  {:>14}  {:<8} {:>10}", f.name, fmt_value(f.value), f.unit, ratio);
        }
        for n in &self.notes {
            let _ = writeln!(out, "  note: {n}");
        }
        out
    }
}

fn fmt_value(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else if v.abs() >= 100.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.3}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_percentiles_come_from_the_histogram() {
        let mut h = latency_histogram();
        for us in 1..=1000u64 {
            record(&mut h, std::time::Duration::from_micros(us));
        }
        let l = Latency::of(&h);
        assert_eq!(l.count, 1000);
        assert!((l.p50_ms - 0.5).abs() < 0.01, "{l:?}");
        assert!((l.p99_ms - 0.99).abs() < 0.01, "{l:?}");
        assert!((l.max_ms - 1.0).abs() < 0.01, "{l:?}");
    }

    #[test]
    fn table_shows_ratios_to_the_floor() {
        let mut r = Report::new("fanout");
        r.param("subscribers", 10).figure_vs("delivery p99", 4.0, "ms", 2.0).figure("deliveries/s", 1000.0, "1/s");
        let t = r.table();
        assert!(t.contains("subscribers=10"), "{t}");
        assert!(t.contains("2.00x"), "{t}");
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["figures"][0]["ratio_to_floor"], 2.0);
        assert!(json["figures"][1].get("ratio_to_floor").is_none());
    }
}
