//! The per-node profile of a run, as a table or JSON, with the counters nodes add (requests,
//! bytes, rate-limit waits, cache hits, rows written, ...) and the hints they leave (a sequential
//! scan of a large table, ...). `sluice run --profile` prints it for the run it just made;
//! `sluice profile` (`command`) builds the same [`Report`] from a stored execution or a run-data
//! file too, and adds the workflow-level hints (`hints`) and an HTML timeline (`timeline`).

mod command;
mod hints;
mod timeline;

pub use command::{profile, ProfileArgs};

use crate::ProfileFormat;
use serde_json::{json, Value};
use sluice_engine::{classify_duration, RunOutcome, TaskData};

/// At most this many items per run are looked at for the fields a node outputs.
const FIELD_SAMPLE: usize = 50;

/// One run of a node, as the profile needs it.
#[derive(Clone, Debug, Default)]
pub struct RunReport {
    /// Unix epoch milliseconds.
    pub start_ms: i64,
    pub duration_ns: u64,
    pub items_in: u64,
    pub items_out: u64,
    /// Items on the first output (what a Filter keeps, an IF's true branch).
    pub first_output_items: u64,
    pub retries: u64,
    pub counters: Vec<(String, u64)>,
    pub hints: Vec<String>,
    /// Top-level fields of the output items (a sample), first seen first.
    pub output_fields: Vec<String>,
}

/// Every run of one node.
#[derive(Clone, Debug)]
pub struct NodeReport {
    pub name: String,
    pub runs: Vec<RunReport>,
}

impl NodeReport {
    pub fn total_ns(&self) -> u64 {
        self.runs.iter().map(|r| r.duration_ns).sum()
    }

    pub fn items_in(&self) -> u64 {
        self.runs.iter().map(|r| r.items_in).sum()
    }

    pub fn items_out(&self) -> u64 {
        self.runs.iter().map(|r| r.items_out).sum()
    }

    /// A counter summed over the runs.
    pub fn counter(&self, name: &str) -> u64 {
        self.counters()
            .into_iter()
            .find(|(n, _)| n == name)
            .map_or(0, |(_, v)| v)
    }

    /// The counters summed over the runs, first seen first.
    pub fn counters(&self) -> Vec<(String, u64)> {
        let mut sum: Vec<(String, u64)> = Vec::new();
        for (name, value) in self.runs.iter().flat_map(|r| &r.counters) {
            match sum.iter_mut().find(|(n, _)| n == name) {
                Some((_, total)) => *total += value,
                None => sum.push((name.clone(), *value)),
            }
        }
        sum
    }

    /// The hints of its runs, each once.
    pub fn hints(&self) -> Vec<&str> {
        let mut all: Vec<&str> = Vec::new();
        for hint in self.runs.iter().flat_map(|r| &r.hints) {
            if !all.contains(&hint.as_str()) {
                all.push(hint);
            }
        }
        all
    }
}

/// A whole execution's profile, nodes in the order they first ran.
#[derive(Clone, Debug)]
pub struct Report {
    pub nodes: Vec<NodeReport>,
    /// Wall time of the execution.
    pub total_ns: u64,
    pub execution_status: String,
}

impl Report {
    pub fn from_outcome(outcome: &RunOutcome) -> Report {
        let nodes = outcome
            .run_data
            .nodes
            .iter()
            .map(|(name, runs)| NodeReport {
                name: name.clone(),
                runs: runs.iter().map(run_from_task).collect(),
            })
            .collect();
        Report {
            nodes,
            total_ns: outcome.duration.as_nanos() as u64,
            execution_status: outcome.status.as_str().to_string(),
        }
    }

    /// From n8n's execution document with Sluice's `profile` per node run (what `--run-data`
    /// writes and the store keeps). Without the execution's own duration the wall time is the
    /// span of its node runs (at least the time in nodes: start times are whole milliseconds).
    pub fn from_document(doc: &Value, total_ns: Option<u64>) -> Result<Report, String> {
        let run_data = doc
            .pointer("/resultData/runData")
            .and_then(Value::as_object)
            .ok_or("no resultData.runData: not run data written by `sluice run --run-data`")?;
        let nodes: Vec<NodeReport> = run_data
            .iter()
            .map(|(name, runs)| NodeReport {
                name: name.clone(),
                runs: runs
                    .as_array()
                    .map(|runs| runs.iter().map(run_from_json).collect())
                    .unwrap_or_default(),
            })
            .collect();
        let span_ns = || {
            let runs = || nodes.iter().flat_map(|n| &n.runs);
            let start = runs().map(|r| r.start_ms).min().unwrap_or(0);
            let end = runs()
                .map(|r| r.start_ms as u64 * 1_000_000 + r.duration_ns)
                .max()
                .unwrap_or(0);
            let in_nodes: u64 = nodes.iter().map(NodeReport::total_ns).sum();
            end.saturating_sub(start as u64 * 1_000_000).max(in_nodes)
        };
        Ok(Report {
            total_ns: total_ns.unwrap_or_else(span_ns),
            execution_status: doc["status"].as_str().unwrap_or("unknown").to_string(),
            nodes,
        })
    }

    /// Time spent in nodes.
    pub fn engine_ns(&self) -> u64 {
        self.nodes.iter().map(NodeReport::total_ns).sum()
    }

    /// A node's share of the time spent in nodes, in percent.
    pub fn share(&self, node: &NodeReport) -> f64 {
        match self.engine_ns() {
            0 => 0.0,
            all => node.total_ns() as f64 * 100.0 / all as f64,
        }
    }

    /// The course's grade of the whole run.
    pub fn status(&self) -> &'static str {
        classify_duration(self.total_ns as f64 / 1e9)
    }

    pub fn to_json(&self) -> Value {
        let nodes: Vec<Value> = self
            .nodes
            .iter()
            .map(|n| {
                json!({
                    "node": n.name, "runs": n.runs.len(), "itemsIn": n.items_in(),
                    "itemsOut": n.items_out(), "totalMs": n.total_ns() as f64 / 1e6,
                    "sharePercent": (self.share(n) * 10.0).round() / 10.0,
                    "retries": n.runs.iter().map(|r| r.retries).sum::<u64>(),
                    "counters": n.counters().into_iter().map(|(k, v)| (k, Value::from(v))).collect::<serde_json::Map<_, _>>(),
                    "hints": n.hints(),
                })
            })
            .collect();
        json!({
            "nodes": nodes,
            "engineMs": self.engine_ns() as f64 / 1e6,
            "totalMs": self.total_ns as f64 / 1e6,
            "status": self.status(),
            "executionStatus": self.execution_status,
        })
    }

    /// The table: one line per node, the hints nodes left, the totals and the grade.
    pub fn table(&self) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        let width = self.nodes.iter().map(|n| n.name.len()).max().unwrap_or(4);
        let width = width.max(4);
        let _ = writeln!(
            out,
            "{:<width$}  {:>6}  {:>10}  {:>10}  {:>12}  {:>6}  counters",
            "node", "runs", "items in", "items out", "total", "share"
        );
        for n in &self.nodes {
            let counters: Vec<String> = n
                .counters()
                .iter()
                .map(|(name, value)| format!("{name}={value}"))
                .collect();
            let _ = writeln!(
                out,
                "{:<width$}  {:>6}  {:>10}  {:>10}  {:>12}  {:>5.1}%  {}",
                n.name,
                n.runs.len(),
                n.items_in(),
                n.items_out(),
                format_ns(n.total_ns()),
                self.share(n),
                counters.join(" ")
            );
        }
        for n in &self.nodes {
            for hint in n.hints() {
                let _ = writeln!(out, "hint: {}: {hint}", n.name);
            }
        }
        let _ = writeln!(
            out,
            "total {} (nodes {}), status {}, execution {}",
            format_ns(self.total_ns),
            format_ns(self.engine_ns()),
            self.status(),
            self.execution_status
        );
        out
    }
}

/// `sluice run --profile`: the run's profile on stderr.
pub fn print(outcome: &RunOutcome, format: ProfileFormat) {
    let report = Report::from_outcome(outcome);
    match format {
        ProfileFormat::Json => eprintln!("{}", report.to_json()),
        ProfileFormat::Table => eprint!("{}", report.table()),
    }
}

fn run_from_task(task: &TaskData) -> RunReport {
    let p = &task.profile;
    let mut output_fields = Vec::new();
    let outputs = task.data.iter().flatten();
    for item in outputs.flat_map(|items| items.iter().take(FIELD_SAMPLE)) {
        add_fields(&mut output_fields, item.json.keys());
    }
    RunReport {
        start_ms: task.start_time,
        duration_ns: p.duration_ns,
        items_in: p.items_in as u64,
        items_out: p.items_out as u64,
        first_output_items: task.output(0).len() as u64,
        retries: u64::from(p.retries),
        counters: p
            .counters
            .iter()
            .map(|(k, v)| (k.to_string(), *v))
            .collect(),
        hints: p.hints.clone(),
        output_fields,
    }
}

fn run_from_json(task: &Value) -> RunReport {
    let p = &task["profile"];
    let number = |v: &Value| v.as_u64().unwrap_or(0);
    let mut output_fields = Vec::new();
    let outputs = task["data"]["main"].as_array().into_iter().flatten();
    let items = outputs
        .filter_map(Value::as_array)
        .flat_map(|items| items.iter().take(FIELD_SAMPLE));
    for item in items {
        if let Some(json) = item["json"].as_object() {
            add_fields(&mut output_fields, json.keys());
        }
    }
    RunReport {
        start_ms: task["startTime"].as_i64().unwrap_or(0),
        // Run data from elsewhere (n8n) has no profile: its milliseconds are all there is.
        duration_ns: p["durationNs"]
            .as_u64()
            .unwrap_or_else(|| number(&task["executionTime"]) * 1_000_000),
        items_in: number(&p["itemsIn"]),
        items_out: number(&p["itemsOut"]),
        first_output_items: task["data"]["main"][0]
            .as_array()
            .map_or(0, |items| items.len() as u64),
        retries: number(&p["retries"]),
        counters: p["counters"]
            .as_object()
            .map(|c| c.iter().map(|(k, v)| (k.clone(), number(v))).collect())
            .unwrap_or_default(),
        hints: p["hints"]
            .as_array()
            .map(|h| {
                h.iter()
                    .filter_map(|h| h.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default(),
        output_fields,
    }
}

fn add_fields<'a>(fields: &mut Vec<String>, keys: impl Iterator<Item = &'a String>) {
    for key in keys {
        if !fields.contains(key) {
            fields.push(key.clone());
        }
    }
}

pub fn format_ns(ns: u64) -> String {
    match ns {
        0..=9_999 => format!("{ns} ns"),
        10_000..=9_999_999 => format!("{:.1} us", ns as f64 / 1e3),
        10_000_000..=9_999_999_999 => format!("{:.1} ms", ns as f64 / 1e6),
        _ => format!("{:.2} s", ns as f64 / 1e9),
    }
}
