//! `--html`: the report as one self-contained page (inline SVG charts, no script, nothing
//! fetched), so it can be attached to an issue or kept in CI artifacts and opened anywhere.

use super::procs::ProcessSample;
use super::queue_watch::QueueSample;
use super::report::{Latency, Report, SecondReport};
use std::fmt::Write;

const COLORS: [&str; 6] = [
    "#2563eb", "#16a34a", "#ea580c", "#dc2626", "#7c3aed", "#0891b2",
];

struct Series {
    name: String,
    points: Vec<(f64, f64)>,
}

pub fn render(report: &Report) -> String {
    let mut page = String::new();
    let _ = write!(
        page,
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>sluice bench {url}</title>\n<style>{STYLE}</style></head><body>\n<h1>sluice bench</h1>\n<p>{url}: {load}</p>\n",
        url = escape(&report.url),
        load = escape(&report.describe_load()),
    );
    page.push_str(&summary_table(report));
    if let Some(check) = &report.check {
        match check.missed.is_empty() {
            true => page.push_str("<p class=\"pass\">All targets met.</p>\n"),
            false => {
                page.push_str("<p class=\"fail\">Missed targets:</p><ul>\n");
                for missed in &check.missed {
                    let _ = writeln!(page, "<li>{}</li>", escape(missed));
                }
                page.push_str("</ul>\n");
            }
        }
    }
    let per_second = |value: &dyn Fn(&SecondReport) -> f64| -> Vec<(f64, f64)> {
        report
            .per_second
            .iter()
            .map(|s| (s.second as f64, value(s)))
            .collect()
    };
    page.push_str(&line_chart(
        "Throughput",
        "req/s",
        &[Series {
            name: "requests".into(),
            points: per_second(&|s| s.requests as f64),
        }],
    ));
    let latency = |name: &str, pick: fn(&Latency) -> f64| Series {
        name: name.into(),
        points: per_second(&|s| pick(&s.latency_ms)),
    };
    page.push_str(&line_chart(
        "Latency",
        "ms",
        &[
            latency("p50", |l| l.p50),
            latency("p90", |l| l.p90),
            latency("p99", |l| l.p99),
            latency("max", |l| l.max),
        ],
    ));
    page.push_str(&line_chart(
        "Error rate",
        "%",
        &[Series {
            name: "errors".into(),
            points: per_second(&|s| 100.0 * s.errors as f64 / s.requests.max(1) as f64),
        }],
    ));
    if !report.processes.is_empty() {
        let process_series = |pick: fn(&ProcessSample) -> f64| -> Vec<Series> {
            report
                .processes
                .iter()
                .map(|p| Series {
                    name: format!("{} ({})", p.pid, p.name),
                    points: p
                        .samples
                        .iter()
                        .map(|s| (s.second as f64, pick(s)))
                        .collect(),
                })
                .collect()
        };
        page.push_str(&line_chart(
            "Resident memory",
            "MB",
            &process_series(|s| s.rss_mb),
        ));
        page.push_str(&line_chart(
            "CPU",
            "% of a core",
            &process_series(|s| s.cpu_percent),
        ));
    }
    if let Some(queue) = &report.queue {
        let queue_series = |name: &str, pick: fn(&QueueSample) -> f64| Series {
            name: name.into(),
            points: queue
                .samples
                .iter()
                .map(|s| (s.second as f64, pick(s)))
                .collect(),
        };
        page.push_str(&line_chart(
            "Queue depth",
            "jobs",
            &[
                queue_series("waiting", |s| s.waiting as f64),
                queue_series("delayed", |s| s.delayed as f64),
                queue_series("in flight", |s| s.in_flight as f64),
            ],
        ));
        page.push_str(&line_chart(
            "Queue lag (the oldest waiting job)",
            "s",
            &[queue_series("lag", |s| s.lag_seconds)],
        ));
    }
    page.push_str("</body></html>\n");
    page
}

fn summary_table(report: &Report) -> String {
    let mut rows = vec![
        ("requests".to_string(), report.requests.to_string()),
        (
            "throughput".into(),
            format!("{:.1} req/s", report.throughput),
        ),
        (
            "errors".into(),
            format!("{} ({:.3}%)", report.errors, report.error_rate * 100.0),
        ),
    ];
    let l = &report.latency_ms;
    for (name, value) in [
        ("p50", l.p50),
        ("p90", l.p90),
        ("p99", l.p99),
        ("max", l.max),
        ("mean", l.mean),
    ] {
        rows.push((format!("latency {name}"), format!("{value:.2} ms")));
    }
    for (status, count) in &report.status_codes {
        rows.push((format!("status {status}"), count.to_string()));
    }
    rows.push(("load generator".into(), report.generator.describe()));
    for p in &report.processes {
        rows.push((
            format!("pid {} ({})", p.pid, p.name),
            format!(
                "peak RSS {:.1} MB, mean CPU {:.0}%",
                p.peak_rss_mb, p.mean_cpu_percent
            ),
        ));
    }
    if let Some(queue) = &report.queue {
        rows.push(("queue".into(), queue.describe()));
    }
    let mut table = String::from("<table>\n");
    for (name, value) in rows {
        let _ = writeln!(
            table,
            "<tr><th>{}</th><td>{}</td></tr>",
            escape(&name),
            escape(&value)
        );
    }
    table.push_str("</table>\n");
    table
}

/// A line chart of `series` over the run's seconds, as inline SVG.
fn line_chart(title: &str, unit: &str, series: &[Series]) -> String {
    const WIDTH: f64 = 760.0;
    const HEIGHT: f64 = 240.0;
    const LEFT: f64 = 64.0;
    const RIGHT: f64 = 16.0;
    const TOP: f64 = 28.0;
    const BOTTOM: f64 = 32.0;
    let all_points = || series.iter().flat_map(|s| s.points.iter());
    let x_max = all_points().map(|p| p.0).fold(1.0, f64::max);
    let y_max = all_points()
        .map(|p| p.1)
        .fold(0.0, f64::max)
        .max(f64::MIN_POSITIVE)
        * 1.1;
    let x = |v: f64| LEFT + v / x_max * (WIDTH - LEFT - RIGHT);
    let y = |v: f64| HEIGHT - BOTTOM - v / y_max * (HEIGHT - TOP - BOTTOM);
    let mut svg = format!(
        "<h2>{}</h2>\n<svg viewBox=\"0 0 {WIDTH} {HEIGHT}\" width=\"{WIDTH}\" height=\"{HEIGHT}\" role=\"img\">\n",
        escape(title)
    );
    for step in 0..=4 {
        let value = y_max * step as f64 / 4.0;
        let _ = writeln!(
            svg,
            "<line x1=\"{LEFT}\" x2=\"{}\" y1=\"{y:.1}\" y2=\"{y:.1}\" class=\"grid\"/><text x=\"{}\" y=\"{:.1}\" class=\"ylabel\">{value:.1}</text>",
            WIDTH - RIGHT,
            LEFT - 6.0,
            y(value) + 4.0,
            y = y(value),
        );
        let second = x_max * step as f64 / 4.0;
        let _ = writeln!(
            svg,
            "<text x=\"{:.1}\" y=\"{}\" class=\"xlabel\">{second:.0}s</text>",
            x(second),
            HEIGHT - 10.0
        );
    }
    let _ = writeln!(
        svg,
        "<text x=\"4\" y=\"16\" class=\"unit\">{}</text>",
        escape(unit)
    );
    for (index, s) in series.iter().enumerate() {
        let color = COLORS[index % COLORS.len()];
        let points: Vec<String> = s
            .points
            .iter()
            .map(|&(px, py)| format!("{:.1},{:.1}", x(px), y(py)))
            .collect();
        let _ = writeln!(
            svg,
            "<polyline points=\"{}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"1.5\"/>",
            points.join(" ")
        );
        for &(px, py) in &s.points {
            let _ = writeln!(
                svg,
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"2\" fill=\"{color}\"><title>{}: {py:.2} {} at {px}s</title></circle>",
                x(px),
                y(py),
                escape(&s.name),
                escape(unit)
            );
        }
        let _ = writeln!(
            svg,
            "<text x=\"{:.1}\" y=\"16\" fill=\"{color}\" class=\"legend\">{}</text>",
            LEFT + 8.0 + 130.0 * index as f64,
            escape(&s.name)
        );
    }
    svg.push_str("</svg>\n");
    svg
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2em;color:#111}\
table{border-collapse:collapse}th,td{padding:2px 12px;text-align:left;border-bottom:1px solid #ddd}\
th{font-weight:600}svg{display:block;margin-bottom:1em}.grid{stroke:#e5e7eb}\
.ylabel{font-size:11px;text-anchor:end;fill:#555}.xlabel{font-size:11px;text-anchor:middle;fill:#555}\
.unit,.legend{font-size:12px}.unit{fill:#555}.pass{color:#16a34a}.fail{color:#dc2626;font-weight:600}";
