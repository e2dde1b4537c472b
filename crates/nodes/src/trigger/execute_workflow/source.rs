//! Where Execute Workflow gets the workflow it runs (`source`): a stored workflow by id (a
//! plain id before v1.2, a resource locator from v1.2), a local JSON file, JSON in the node's
//! parameter, or JSON fetched with an HTTP GET from a URL.

use crate::util::errors::error_chain;
use crate::util::params::{unsupported, Reader};
use sluice_engine::{ExecuteContext, NodeError, Param, SubWorkflow};
use sluice_model::Value;
use std::sync::OnceLock;
use std::time::Duration;

/// How long fetching a workflow from a URL may take, connection to last byte.
const URL_TIMEOUT: Duration = Duration::from_secs(300);

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Source {
    Database,
    LocalFile,
    Parameter,
    Url,
}

impl Source {
    pub fn parse(params: &Param) -> Result<Source, NodeError> {
        let r = Reader::fixed(params);
        Ok(match r.str_or("source", "database")? {
            "database" => Source::Database,
            "localFile" => Source::LocalFile,
            "parameter" => Source::Parameter,
            "url" => Source::Url,
            other => return Err(unsupported("source", other)),
        })
    }

    /// The workflow to run for input item `item` (parameters may be expressions).
    pub async fn workflow(
        self,
        ctx: &ExecuteContext<'_>,
        item: usize,
    ) -> Result<SubWorkflow, NodeError> {
        Ok(match self {
            Source::Database => {
                let id = match ctx.param("workflowId", item)? {
                    Value::Object(locator) => locator.get("value").cloned().unwrap_or(Value::Null),
                    other => other,
                };
                match id {
                    Value::String(s) if !s.is_empty() => SubWorkflow::Stored(s),
                    Value::Number(n) => SubWorkflow::Stored(n.to_string()),
                    _ => {
                        return Err(
                            NodeError::new("No workflow ID given").with_parameter("workflowId")
                        )
                    }
                }
            }
            Source::LocalFile => {
                let path = ctx.param_str("workflowPath", item)?.unwrap_or_default();
                let text = std::fs::read_to_string(&path).map_err(|e| {
                    NodeError::new(format!("cannot read workflow file '{path}': {e}"))
                        .with_parameter("workflowPath")
                })?;
                SubWorkflow::Definition(parse(&text, &format!("in '{path}'"), "workflowPath")?)
            }
            Source::Parameter => {
                SubWorkflow::Definition(match ctx.param("workflowJson", item)? {
                    Value::String(s) => parse(&s, "in the parameter", "workflowJson")?,
                    other => other,
                })
            }
            Source::Url => {
                let url = ctx.param_str("workflowUrl", item)?.unwrap_or_default();
                if url.trim().is_empty() {
                    return Err(
                        NodeError::new("No workflow URL given").with_parameter("workflowUrl")
                    );
                }
                let text = fetch(&url).await.map_err(|e| {
                    NodeError::new(format!("cannot load the workflow from '{url}': {e}"))
                        .with_parameter("workflowUrl")
                })?;
                SubWorkflow::Definition(parse(&text, &format!("at '{url}'"), "workflowUrl")?)
            }
        })
    }
}

/// The body of a GET of `url`; any status but 2xx is an error.
async fn fetch(url: &str) -> Result<String, String> {
    let response = client()?
        .get(url)
        .send()
        .await
        .map_err(|e| error_chain(&e))?;
    let status = response.status();
    if !status.is_success() {
        return Err(format!("the server answered {status}"));
    }
    response.text().await.map_err(|e| error_chain(&e))
}

/// One HTTP client (and connection pool) for the whole process.
fn client() -> Result<&'static reqwest::Client, String> {
    static CLIENT: OnceLock<Result<reqwest::Client, String>> = OnceLock::new();
    CLIENT
        .get_or_init(|| {
            sluice_runtime::tls::use_ring_provider();
            reqwest::Client::builder()
                .timeout(URL_TIMEOUT)
                .build()
                .map_err(|e| format!("no HTTP client: {}", error_chain(&e)))
        })
        .as_ref()
        .map_err(Clone::clone)
}

fn parse(text: &str, origin: &str, parameter: &str) -> Result<Value, NodeError> {
    serde_json::from_str(text).map_err(|e| {
        NodeError::new(format!("the workflow {origin} is not valid JSON: {e}"))
            .with_parameter(parameter)
    })
}
