//! `sluice bench URL`: a load generator for webhook workflows. It sends requests in an open loop
//! (`--rate`) or a closed loop (`--connections`) for `--duration`, shows progress on stderr, and
//! ends with a table, optionally a JSON file and an HTML report, and with `--check` an exit code
//! saying whether the run met its targets.

mod body;
mod check;
mod connection;
mod html;
mod load;
mod plan;
mod procs;
mod queue_watch;
mod recorder;
mod report;

use crate::args::{parse_duration, parse_fraction};
use clap::Parser;
use plan::Plan;
use procs::ProcessWatch;
use queue_watch::QueueMetrics;
use recorder::Recording;
use report::Report;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Exit code when `--check` finds a missed target.
const TARGET_MISSED: u8 = 1;

/// Flags of `sluice bench`.
#[derive(Parser, Debug)]
pub struct BenchArgs {
    /// The URL to load, e.g. http://127.0.0.1:5678/webhook/orders.
    pub url: String,
    /// Open loop: requests per second, sent at fixed intervals whatever the answers take
    /// (`--connections` then caps the requests in flight, default 256).
    #[arg(long)]
    pub rate: Option<f64>,
    /// Closed loop: connections each sending a request as soon as the last is answered (default 10).
    #[arg(long)]
    pub connections: Option<usize>,
    /// How long to send requests: 500ms, 30s, 2m.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub duration: Duration,
    /// Threads sending requests (as wrk's `-t`). One keeps the load generator's wake-ups on
    /// one core, which leaves more of a small machine to the system under test; more are for
    /// servers that answer faster than one thread can send.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..))]
    pub threads: u16,
    /// A request without an answer after this long counts as a timeout error.
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    pub timeout: Duration,
    /// HTTP method.
    #[arg(long, default_value = "POST")]
    pub method: String,
    /// File sent as every request's body.
    #[arg(long, conflicts_with = "body_template")]
    pub body: Option<PathBuf>,
    /// Body with placeholders filled per request: {{n}} (request number), {{uuid}},
    /// {{random:a,b,c}}; `@FILE` reads the template from a file.
    #[arg(long)]
    pub body_template: Option<String>,
    /// Request header `Name: value` (repeatable); the body is sent as application/json unless
    /// a Content-Type is given.
    #[arg(long = "header", value_name = "NAME:VALUE")]
    pub headers: Vec<String>,
    /// Write the report as JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Write a self-contained HTML report (charts over time) to this file.
    #[arg(long)]
    pub html: Option<PathBuf>,
    /// Sample RSS and CPU of this process every second (repeatable).
    #[arg(long = "pid")]
    pub pids: Vec<u32>,
    /// Read the queue's depth and lag once a second from this Prometheus page of a Sluice
    /// process in queue mode, e.g. http://127.0.0.1:5678/metrics.
    #[arg(long, value_name = "URL")]
    pub queue_metrics: Option<String>,
    /// Compare the run with the --target-* flags; exit 1 naming each missed target.
    #[arg(long)]
    pub check: bool,
    /// Minimum throughput, requests per second.
    #[arg(long)]
    pub target_throughput: Option<f64>,
    /// Maximum 99th percentile latency, milliseconds.
    #[arg(long)]
    pub target_p99_ms: Option<f64>,
    /// Maximum error rate (0.001 or 0.1%).
    #[arg(long, value_parser = parse_fraction)]
    pub target_error_rate: Option<f64>,
    /// Maximum peak RSS of each --pid process, MB.
    #[arg(long)]
    pub target_rss_mb: Option<f64>,
}

/// Run `sluice bench`; returns the exit code (0, 1 for a missed target, 2 for bad input).
pub fn bench(args: BenchArgs) -> u8 {
    let runtime = match args.threads {
        1 => tokio::runtime::Builder::new_current_thread(),
        n => {
            let mut builder = tokio::runtime::Builder::new_multi_thread();
            builder.worker_threads(usize::from(n));
            builder
        }
    }
    .enable_all()
    .build()
    .expect("tokio runtime");
    match runtime.block_on(run(&args)) {
        Ok(report) => {
            print!("{}", report.table());
            match report.check.as_ref().map(|check| &check.missed) {
                Some(missed) if !missed.is_empty() => {
                    for target in missed {
                        eprintln!("missed target: {target}");
                    }
                    TARGET_MISSED
                }
                _ => 0,
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            crate::BAD_INPUT
        }
    }
}

async fn run(args: &BenchArgs) -> Result<Report, String> {
    let plan = Arc::new(Plan::from_args(args)?);
    let processes = args
        .pids
        .iter()
        .map(|&pid| ProcessWatch::open(pid))
        .collect::<Result<Vec<_>, _>>()?;
    let queue_metrics = match &args.queue_metrics {
        Some(url) => Some(QueueMetrics::open(url).await?),
        None => None,
    };
    let (samples_in, samples_out) = tokio::sync::mpsc::unbounded_channel();
    let cpu_before = procs::own_cpu_seconds();
    let run_start = Instant::now();
    let queue_watch = queue_metrics.map(|metrics| metrics.watch(run_start));
    load::start(plan.clone(), run_start, samples_in)?;
    let recording = Recording::collect(samples_out, processes, run_start, plan.duration).await;
    let queue = match queue_watch {
        Some(watch) => Some(watch.finish().await),
        None => None,
    };
    let report = Report::new(
        &plan,
        recording,
        queue,
        procs::own_cpu_seconds() - cpu_before,
    );
    if let Some(path) = &args.json {
        let json = serde_json::to_string_pretty(&report).expect("report serializes");
        write_file(path, &json)?;
    }
    if let Some(path) = &args.html {
        write_file(path, &html::render(&report))?;
    }
    Ok(report)
}

fn write_file(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("{}: cannot write file: {e}", path.display()))
}
