//! The per-node profile of a run, as a table or JSON on stderr, with the counters nodes add
//! (requests, bytes, rate-limit waits, cache hits, rows written, ...) and the hints they leave
//! (a sequential scan of a large table, ...).

use crate::ProfileFormat;
use sluice_engine::{classify_duration, RunOutcome};

pub fn print(outcome: &RunOutcome, format: ProfileFormat) {
    let nodes = outcome.run_data.node_summaries();
    let engine_ns: u64 = nodes.iter().map(|n| n.total_ns).sum();
    let total_s = outcome.duration.as_secs_f64();
    let status = classify_duration(total_s);
    let share = |ns: u64| {
        if engine_ns == 0 {
            0.0
        } else {
            ns as f64 * 100.0 / engine_ns as f64
        }
    };
    match format {
        ProfileFormat::Json => {
            let nodes: Vec<_> = nodes
                .iter()
                .map(|n| {
                    serde_json::json!({
                        "node": n.node, "runs": n.runs, "itemsIn": n.items_in,
                        "itemsOut": n.items_out, "totalMs": n.total_ns as f64 / 1e6,
                        "sharePercent": (share(n.total_ns) * 10.0).round() / 10.0,
                        "retries": n.retries,
                        "counters": n.counters,
                        "hints": n.hints,
                    })
                })
                .collect();
            let doc = serde_json::json!({
                "nodes": nodes,
                "engineMs": engine_ns as f64 / 1e6,
                "totalMs": total_s * 1e3,
                "status": status,
                "executionStatus": outcome.status.as_str(),
            });
            eprintln!("{doc}");
        }
        ProfileFormat::Table => {
            let width = nodes.iter().map(|n| n.node.len()).max().unwrap_or(4).max(4);
            eprintln!(
                "{:<width$}  {:>6}  {:>10}  {:>10}  {:>12}  {:>6}  counters",
                "node", "runs", "items in", "items out", "total", "share"
            );
            for n in &nodes {
                let counters: Vec<String> = n
                    .counters
                    .iter()
                    .map(|(name, value)| format!("{name}={value}"))
                    .collect();
                eprintln!(
                    "{:<width$}  {:>6}  {:>10}  {:>10}  {:>12}  {:>5.1}%  {}",
                    n.node,
                    n.runs,
                    n.items_in,
                    n.items_out,
                    format_ns(n.total_ns),
                    share(n.total_ns),
                    counters.join(" ")
                )
            }
            for n in &nodes {
                for hint in &n.hints {
                    eprintln!("hint: {}: {hint}", n.node);
                }
            }
            eprintln!(
                "total {} (nodes {}), status {status}, execution {}",
                format_ns(outcome.duration.as_nanos() as u64),
                format_ns(engine_ns),
                outcome.status.as_str()
            );
        }
    }
}

fn format_ns(ns: u64) -> String {
    match ns {
        0..=9_999 => format!("{ns} ns"),
        10_000..=9_999_999 => format!("{:.1} us", ns as f64 / 1e3),
        10_000_000..=9_999_999_999 => format!("{:.1} ms", ns as f64 / 1e6),
        _ => format!("{:.2} s", ns as f64 / 1e9),
    }
}
