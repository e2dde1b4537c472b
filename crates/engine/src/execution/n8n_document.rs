//! The outcome in n8n's execution document shape (`{resultData: {runData, metadata?,
//! lastNodeExecuted, error?}, status}`), serialized straight from the run data.

use super::outcome::RunOutcome;
use crate::run_data::RunData;
use serde::Serialize;
use serde_json::Value;
use sluice_model::JsonObject;

impl RunOutcome {
    /// The run in n8n's shape: `{resultData: {runData, lastNodeExecuted, error?}, status}`.
    pub fn to_n8n_json(&self) -> Value {
        serde_json::to_value(self.n8n_document()).unwrap_or_default()
    }

    /// The same document as JSON text, written straight from the run data (no intermediate
    /// `Value` tree: this is what `sluice serve` stores for every execution).
    pub fn to_n8n_json_text(&self) -> String {
        serde_json::to_string(&self.n8n_document()).unwrap_or_default()
    }

    /// The same document pretty-printed straight into `out` (`sluice run --run-data`): neither
    /// a `Value` tree nor the whole text is held in memory.
    pub fn write_n8n_json_pretty(&self, out: impl std::io::Write) -> serde_json::Result<()> {
        serde_json::to_writer_pretty(out, &self.n8n_document())
    }

    fn n8n_document(&self) -> N8nRunDocument<'_> {
        N8nRunDocument {
            result_data: N8nResultData {
                run_data: &self.run_data,
                metadata: (!self.custom_data.is_empty()).then_some(&self.custom_data),
                last_node_executed: self.last_node.as_deref(),
                error: self.error.as_ref().map(|e| N8nRunError {
                    message: &e.message,
                    description: e.description.as_deref(),
                    node: e.node.as_deref(),
                    parameter: e.parameter.as_deref(),
                    item_index: e.item_index,
                }),
            },
            status: self.status.as_str(),
        }
    }
}

/// n8n's execution document, borrowed from a [`RunOutcome`].
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct N8nRunDocument<'a> {
    result_data: N8nResultData<'a>,
    status: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct N8nResultData<'a> {
    run_data: &'a RunData,
    /// The custom data, where n8n keeps it in the document.
    #[serde(skip_serializing_if = "Option::is_none")]
    metadata: Option<&'a JsonObject>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_node_executed: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<N8nRunError<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct N8nRunError<'a> {
    message: &'a str,
    description: Option<&'a str>,
    node: Option<&'a str>,
    parameter: Option<&'a str>,
    item_index: Option<usize>,
}
