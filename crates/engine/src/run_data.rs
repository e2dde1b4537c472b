//! Run data: what every node run produced, in n8n's `resultData.runData` shape, plus the profile
//! Sluice records on every run (items in/out, time, retries, and the counters nodes add:
//! requests, bytes, rate-limit waits, cache hits, rows written, ...).

use indexmap::IndexMap;
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;
use sluice_model::{Item, PairedItem, SourceRef};

/// Per-run measurements; always collected, printed by `sluice run --profile`.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeProfile {
    pub items_in: usize,
    pub items_out: usize,
    /// Wall time of the node run including retries, in nanoseconds.
    pub duration_ns: u64,
    pub retries: u32,
    /// Counters the node added ([`ExecuteContext::count`](crate::ExecuteContext::count)).
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub counters: IndexMap<&'static str, u64>,
    /// True when the run data keeps only the first items of this run's outputs
    /// ([`ExecutionOptions::run_data_max_items`](crate::ExecutionOptions::run_data_max_items));
    /// `items_out` still counts them all.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub sampled: bool,
    /// Chunks the run was streamed in (0: it ran once on all its input).
    #[serde(skip_serializing_if = "is_zero")]
    pub chunks: usize,
    /// What the node noticed that makes it slow, with what would help
    /// ([`ExecuteContext::profile_hint`](crate::ExecuteContext::profile_hint)).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hints: Vec<String>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// The first `max` items of `items` (all of them when `max` is `None`), appended to `kept`;
/// true when some were left out.
pub(crate) fn keep_first(kept: &mut Vec<Item>, items: &[Item], max: Option<usize>) -> bool {
    let room = max.map_or(items.len(), |max| max.saturating_sub(kept.len()));
    kept.extend_from_slice(&items[..room.min(items.len())]);
    room < items.len()
}

/// The error a run ended with, as n8n records it.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskError {
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameter: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item_index: Option<usize>,
    pub node: String,
}

impl TaskError {
    /// The record of `error`, which ended a run of the node named `node`.
    pub(crate) fn new(error: &crate::NodeError, node: String) -> Self {
        TaskError {
            message: error.message.clone(),
            description: error.description.clone(),
            parameter: error.parameter.clone(),
            item_index: error.item_index,
            node,
        }
    }
}

/// One run of one node (n8n's `ITaskData`).
#[derive(Clone, Debug)]
pub struct TaskData {
    /// Unix epoch milliseconds.
    pub start_time: i64,
    /// Milliseconds, like n8n.
    pub execution_time: u64,
    pub execution_index: usize,
    pub success: bool,
    pub source: Vec<Option<SourceRef>>,
    /// One item list per output; `None` when the node was skipped (no input data).
    pub data: Option<Vec<Vec<Item>>>,
    pub error: Option<TaskError>,
    pub profile: NodeProfile,
}

impl TaskData {
    /// Items of `output` (empty when absent).
    pub fn output(&self, output: usize) -> &[Item] {
        self.data
            .as_ref()
            .and_then(|d| d.get(output))
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// The output an input item of this run came from, as `paired` (one of an output item's
    /// paired items) names it: its source overwrite, else the source of its input.
    pub fn paired_source<'t>(&'t self, paired: &'t PairedItem) -> Option<&'t SourceRef> {
        match &paired.source_overwrite {
            Some(over) => Some(over.as_ref()),
            None => self
                .source
                .get(paired.input_index())
                .and_then(Option::as_ref),
        }
    }
}

impl Serialize for TaskData {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Main<'a> {
            main: &'a [Vec<Item>],
        }
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("startTime", &self.start_time)?;
        map.serialize_entry("executionTime", &self.execution_time)?;
        map.serialize_entry("executionIndex", &self.execution_index)?;
        map.serialize_entry(
            "executionStatus",
            if self.success { "success" } else { "error" },
        )?;
        map.serialize_entry("source", &self.source)?;
        if let Some(data) = &self.data {
            map.serialize_entry("data", &Main { main: data })?;
        }
        if let Some(error) = &self.error {
            map.serialize_entry("error", error)?;
        }
        map.serialize_entry("profile", &self.profile)?;
        map.end()
    }
}

/// All runs of all nodes of one execution, in the order nodes first ran.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(transparent)]
pub struct RunData {
    pub nodes: IndexMap<String, Vec<TaskData>>,
}

impl RunData {
    pub fn runs(&self, node: &str) -> &[TaskData] {
        self.nodes.get(node).map(Vec::as_slice).unwrap_or(&[])
    }

    pub fn run_count(&self, node: &str) -> usize {
        self.runs(node).len()
    }

    pub(crate) fn push(&mut self, node: &str, task: TaskData) {
        match self.nodes.get_mut(node) {
            Some(runs) => runs.push(task),
            None => {
                self.nodes.insert(node.to_string(), vec![task]);
            }
        }
    }
}

/// Totals of one node over all its runs in an execution.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeSummary {
    pub node: String,
    pub runs: usize,
    pub items_in: usize,
    pub items_out: usize,
    pub total_ns: u64,
    pub retries: u32,
    /// The node's counters summed over its runs.
    pub counters: IndexMap<&'static str, u64>,
    /// The hints of its runs, each once.
    pub hints: Vec<String>,
}

/// How the seed course grades a whole run: fast < 5 s, acceptable < 30 s, slow < 60 s, critical.
pub fn classify_duration(seconds: f64) -> &'static str {
    if seconds < 5.0 {
        "fast"
    } else if seconds < 30.0 {
        "acceptable"
    } else if seconds < 60.0 {
        "slow"
    } else {
        "critical"
    }
}

impl RunData {
    /// Per-node totals in first-run order.
    pub fn node_summaries(&self) -> Vec<NodeSummary> {
        self.nodes
            .iter()
            .map(|(node, runs)| NodeSummary {
                node: node.clone(),
                runs: runs.len(),
                items_in: runs.iter().map(|r| r.profile.items_in).sum(),
                items_out: runs.iter().map(|r| r.profile.items_out).sum(),
                total_ns: runs.iter().map(|r| r.profile.duration_ns).sum(),
                retries: runs.iter().map(|r| r.profile.retries).sum(),
                counters: runs.iter().fold(IndexMap::new(), |mut sum, r| {
                    for (name, n) in &r.profile.counters {
                        *sum.entry(*name).or_default() += n;
                    }
                    sum
                }),
                hints: runs.iter().fold(Vec::new(), |mut all, r| {
                    for hint in &r.profile.hints {
                        if !all.contains(hint) {
                            all.push(hint.clone());
                        }
                    }
                    all
                }),
            })
            .collect()
    }
}
