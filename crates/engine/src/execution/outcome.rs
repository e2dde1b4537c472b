//! What one execution produced: its run data, status, error, node order, logs, static data and
//! custom data.

use crate::run_data::RunData;
use crate::NodeError;
use chrono::{DateTime, Utc};
use sluice_model::{Item, JsonObject};
use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunStatus {
    Success,
    Error,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Success => "success",
            RunStatus::Error => "error",
        }
    }
}

/// Everything one execution produced.
#[derive(Debug)]
pub struct RunOutcome {
    pub run_data: RunData,
    pub status: RunStatus,
    pub error: Option<NodeError>,
    pub last_node: Option<String>,
    /// Node names in the order their runs finished.
    pub node_order: Vec<String>,
    /// `(node, line)` log lines written by nodes (e.g. `console.log`).
    pub logs: Vec<(String, String)>,
    pub started_at: DateTime<Utc>,
    pub duration: Duration,
    /// The workflow's static data after the execution (save it when it changed).
    pub static_data: JsonObject,
    /// True when nodes changed the static data the execution started with.
    pub static_data_changed: bool,
    /// n8n's `customData`: key/value strings nodes saved with the execution (Execution Data).
    pub custom_data: JsonObject,
}

impl RunOutcome {
    /// Output 0 of the last run of the last node that ran.
    pub fn last_output(&self) -> &[Item] {
        self.last_node
            .as_deref()
            .and_then(|n| self.run_data.runs(n).last())
            .map(|t| t.output(0))
            .unwrap_or(&[])
    }
}
