//! A stored workflow built for running: compiled once when it is activated (or loaded for a
//! manual or sub-workflow run) and shared by the routes table and every execution of it.

use crate::error::ApiError;
use crate::metrics::WorkflowMetrics;
use crate::priority::WorkflowPriority;
use crate::retry::RetryPolicy;
use serde_json::Value;
use sluice_engine::{CompiledWorkflow, Registry};
use sluice_model::{LoadWarning, Workflow};
use std::sync::Arc;

/// A workflow built and ready to run.
pub struct Deployed {
    pub id: String,
    pub name: String,
    pub compiled: CompiledWorkflow,
    /// Some node may read the workflow's static data (today only code calling
    /// `$getWorkflowStaticData`), so executions load it from the store first; other workflows
    /// skip that read on the hot path.
    pub uses_static_data: bool,
    pub metrics: WorkflowMetrics,
    /// What is odd about the workflow's file (it runs the way n8n would run it).
    pub warnings: Vec<LoadWarning>,
    /// Queue mode: how its failed executions are retried (`settings.retryFailedExecutions`).
    pub retry: Option<RetryPolicy>,
    /// Queue mode: where its executions wait in the queue (`settings.priority`).
    pub priority: WorkflowPriority,
}

impl Deployed {
    /// Build a workflow from its stored JSON (400 naming the problem when it cannot be built).
    pub fn build(id: &str, json: &Value, registry: &Registry) -> Result<Arc<Deployed>, ApiError> {
        let loaded =
            Workflow::load_value(json.clone()).map_err(|e| ApiError::bad_request(e.to_string()))?;
        let mut workflow = loaded.workflow;
        workflow.id = Some(Value::String(id.to_string()));
        let name = workflow.name.clone();
        let metrics = WorkflowMetrics::new(id, workflow.nodes.iter().map(|n| n.name.as_str()));
        let compiled = CompiledWorkflow::build(workflow, registry)
            .map_err(|e| ApiError::bad_request(e.to_string()))?;
        let retry = RetryPolicy::from_settings(&compiled.workflow().settings.extra)
            .map_err(ApiError::bad_request)?;
        let priority = WorkflowPriority::from_settings(&compiled.workflow().settings.extra)
            .map_err(ApiError::bad_request)?;
        let mut warnings = loaded.warnings;
        warnings.extend_from_slice(compiled.warnings());
        Ok(Arc::new(Deployed {
            warnings,
            id: id.to_string(),
            name,
            uses_static_data: json.to_string().contains("getWorkflowStaticData"),
            compiled,
            metrics,
            retry,
            priority,
        }))
    }
}
