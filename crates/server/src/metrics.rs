//! Prometheus metrics (`/metrics`): executions by workflow and status, execution and node
//! duration histograms, items processed and executions in flight. One recorder per process.

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use sluice_engine::RunOutcome;
use std::sync::OnceLock;

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

pub fn execution_finished(workflow_id: &str, status: &str, outcome: Option<&RunOutcome>) {
    metrics::gauge!("sluice_executions_in_flight").decrement(1.0);
    metrics::counter!("sluice_executions_total", "workflow_id" => workflow_id.to_string(), "status" => status.to_string())
        .increment(1);
    let Some(outcome) = outcome else {
        return;
    };
    metrics::histogram!("sluice_execution_duration_seconds", "workflow_id" => workflow_id.to_string())
        .record(outcome.duration.as_secs_f64());
    for node in outcome.run_data.node_summaries() {
        metrics::histogram!("sluice_node_duration_seconds", "node" => node.node.clone())
            .record(node.total_ns as f64 / 1e9);
        metrics::counter!("sluice_items_processed_total", "node" => node.node)
            .increment(node.items_out as u64);
    }
}
