//! The profile as one self-contained HTML page (inline SVG and CSS, no script, nothing fetched):
//! a timeline with one row per node and one bar per node run, placed at the run's start and as
//! long as it took, then the per-node table and the hints.

use super::hints::Hint;
use super::{format_ns, Report};
use std::fmt::Write;

const ROW: f64 = 22.0;
const LABEL: f64 = 220.0;
const PLOT: f64 = 760.0;

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The page for `report` with `hints`, titled `title`.
pub fn html(report: &Report, hints: &[Hint], title: &str) -> String {
    let start_ms = report
        .nodes
        .iter()
        .flat_map(|n| &n.runs)
        .map(|r| r.start_ms)
        .min()
        .unwrap_or(0);
    // Start times are whole milliseconds; a run is drawn at least 1 px wide.
    let end_ns = report
        .nodes
        .iter()
        .flat_map(|n| &n.runs)
        .map(|r| (r.start_ms - start_ms) as u64 * 1_000_000 + r.duration_ns)
        .max()
        .unwrap_or(0)
        .max(report.total_ns)
        .max(1);
    let x = |ns: u64| LABEL + ns as f64 * PLOT / end_ns as f64;
    let height = ROW * (report.nodes.len() as f64 + 1.5);
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{height}\" \
         font-family=\"sans-serif\" font-size=\"12\">",
        LABEL + PLOT + 20.0
    );
    for (row, node) in report.nodes.iter().enumerate() {
        let y = ROW * row as f64;
        let _ = write!(
            svg,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>",
            LABEL - 8.0,
            y + 15.0,
            escape(&node.name)
        );
        for (index, run) in node.runs.iter().enumerate() {
            let from = (run.start_ms - start_ms) as u64 * 1_000_000;
            let width = (x(from + run.duration_ns) - x(from)).max(1.0);
            let _ = write!(
                svg,
                "<rect x=\"{:.1}\" y=\"{}\" width=\"{width:.1}\" height=\"{}\" fill=\"#3b82f6\">\
                 <title>{} run {index}: {} at +{} ms, {} items in, {} out</title></rect>",
                x(from),
                y + 4.0,
                ROW - 8.0,
                escape(&node.name),
                format_ns(run.duration_ns),
                run.start_ms - start_ms,
                run.items_in,
                run.items_out
            );
        }
    }
    let axis_y = ROW * report.nodes.len() as f64 + 4.0;
    let _ = write!(
        svg,
        "<line x1=\"{LABEL}\" y1=\"{axis_y}\" x2=\"{}\" y2=\"{axis_y}\" stroke=\"#999\"/>\
         <text x=\"{LABEL}\" y=\"{}\">0</text>\
         <text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text></svg>",
        LABEL + PLOT,
        axis_y + 15.0,
        LABEL + PLOT,
        axis_y + 15.0,
        format_ns(end_ns)
    );

    let mut rows = String::new();
    for n in &report.nodes {
        let counters: Vec<String> = n
            .counters()
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let _ = write!(
            rows,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.1}%</td><td>{}</td></tr>",
            escape(&n.name),
            n.runs.len(),
            n.items_in(),
            n.items_out(),
            format_ns(n.total_ns()),
            report.share(n),
            escape(&counters.join(" "))
        );
    }
    let node_hints = report
        .nodes
        .iter()
        .flat_map(|n| n.hints().into_iter().map(move |h| (n.name.as_str(), h)));
    let hint_items: String = hints
        .iter()
        .map(|h| (h.node.as_str(), h.message.as_str()))
        .chain(node_hints)
        .map(|(node, message)| format!("<li><b>{}</b>: {}</li>", escape(node), escape(message)))
        .collect();
    format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{title}</title><style>\
         body{{font-family:sans-serif;margin:24px}}table{{border-collapse:collapse}}\
         td,th{{border:1px solid #ddd;padding:3px 8px;text-align:right}}\
         td:first-child,td:last-child,th:first-child{{text-align:left}}</style></head><body>\
         <h1>{title}</h1><p>total {} (nodes {}), status {}, execution {}</p>\
         <h2>Timeline</h2>{svg}<h2>Nodes</h2><table><tr><th>node</th><th>runs</th>\
         <th>items in</th><th>items out</th><th>total</th><th>share</th><th>counters</th></tr>\
         {rows}</table><h2>Hints</h2><ul>{hint_items}</ul></body></html>\n",
        format_ns(report.total_ns),
        format_ns(report.engine_ns()),
        report.status(),
        escape(&report.execution_status),
        title = escape(title),
    )
}
