//! Prometheus metrics (`/metrics`): executions by workflow and status, execution and node
//! duration histograms, items processed and executions in flight. One recorder per process;
//! each deployed workflow registers its series once ([`WorkflowMetrics`]) so an execution only
//! bumps handles.

use metrics::{Counter, Histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use sluice_engine::RunOutcome;
use std::collections::HashMap;
use std::sync::OnceLock;
use std::time::Duration;

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

const BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// Install the process-wide recorder (once) and return its handle.
pub fn handle() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), BUCKETS)
            .expect("valid buckets")
            .build_recorder();
        let handle = recorder.handle();
        // Another recorder may already be installed by an embedding program; ours still renders.
        let _ = metrics::set_global_recorder(recorder);
        handle
    })
}

pub fn execution_started() {
    metrics::gauge!("sluice_executions_in_flight").increment(1.0);
}

/// Fold recorded histogram samples into their buckets every second (the recorder keeps raw
/// samples until then, which would grow without bound on a server nobody scrapes). A thread of
/// its own, not a tokio task: folding a second's samples takes milliseconds, which would stall
/// the requests queued behind it on a runtime worker.
pub fn start_upkeep() {
    static STARTED: OnceLock<()> = OnceLock::new();
    STARTED.get_or_init(|| {
        let spawned = std::thread::Builder::new()
            .name("metrics-upkeep".into())
            .spawn(|| loop {
                std::thread::sleep(Duration::from_secs(1));
                handle().run_upkeep();
            });
        if let Err(e) = spawned {
            tracing::error!("metrics upkeep thread: {e}");
        }
    });
}

/// The series one workflow's executions update.
pub struct WorkflowMetrics {
    succeeded: Counter,
    failed: Counter,
    canceled: Counter,
    duration: Histogram,
    /// Per node name: its duration histogram and items counter.
    nodes: HashMap<String, (Histogram, Counter)>,
}

impl WorkflowMetrics {
    pub fn new<'a>(workflow_id: &str, node_names: impl Iterator<Item = &'a str>) -> Self {
        handle();
        let executions = |status: &'static str| metrics::counter!("sluice_executions_total", "workflow_id" => workflow_id.to_string(), "status" => status);
        WorkflowMetrics {
            succeeded: executions("success"),
            failed: executions("error"),
            canceled: executions("canceled"),
            duration: metrics::histogram!("sluice_execution_duration_seconds", "workflow_id" => workflow_id.to_string()),
            nodes: node_names
                .map(|name| {
                    let handles = (
                        metrics::histogram!("sluice_node_duration_seconds", "node" => name.to_string()),
                        metrics::counter!("sluice_items_processed_total", "node" => name.to_string()),
                    );
                    (name.to_string(), handles)
                })
                .collect(),
        }
    }

    pub fn execution_finished(&self, status: &str, outcome: Option<&RunOutcome>) {
        metrics::gauge!("sluice_executions_in_flight").decrement(1.0);
        match status {
            "success" => &self.succeeded,
            crate::stop::CANCELED => &self.canceled,
            _ => &self.failed,
        }
        .increment(1);
        let Some(outcome) = outcome else {
            return;
        };
        self.duration.record(outcome.duration.as_secs_f64());
        for node in outcome.run_data.node_summaries() {
            if let Some((duration, items)) = self.nodes.get(&node.node) {
                duration.record(node.total_ns as f64 / 1e9);
                items.increment(node.items_out as u64);
            }
        }
    }
}

/// Set the queue gauges from `stats` (queue mode: scraped on the main and on workers, so an
/// autoscaler can scale workers on lag).
pub fn record_queue(stats: &sluice_queue::Stats) {
    for (priority, waiting) in [
        ("high", stats.waiting_high),
        ("normal", stats.waiting_normal),
        ("low", stats.waiting_low),
    ] {
        metrics::gauge!("sluice_queue_waiting", "priority" => priority).set(waiting as f64);
    }
    metrics::gauge!("sluice_queue_delayed").set(stats.delayed as f64);
    metrics::gauge!("sluice_queue_in_flight").set(stats.in_flight as f64);
    metrics::gauge!("sluice_queue_dead").set(stats.dead as f64);
    metrics::gauge!("sluice_queue_oldest_waiting_seconds")
        .set(stats.oldest_waiting_ms as f64 / 1000.0);
    metrics::gauge!("sluice_queue_jobs_per_second").set(stats.jobs_per_second);
    metrics::gauge!("sluice_queue_workers").set(stats.workers.len() as f64);
}

/// The Prometheus text, with the queue's gauges fresh when there is a queue.
pub async fn render(queue: Option<&dyn sluice_queue::Queue>) -> String {
    if let Some(queue) = queue {
        match queue.stats().await {
            Ok(stats) => record_queue(&stats),
            Err(e) => tracing::warn!("queue metrics: {e}"),
        }
    }
    handle().render()
}
