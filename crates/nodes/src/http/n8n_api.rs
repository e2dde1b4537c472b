//! n8n v1 (`n8n-nodes-base.n8n`): n8n's public REST API through an `n8nApi` credential
//! (`apiKey`, `baseUrl` such as `http://localhost:5678/api/v1`), which `sluice serve` answers
//! too. Workflows (get all with `active` / `tags` / `name` filters, get, create, update,
//! activate, deactivate, delete) and executions (get all with `workflowId` / `status`, get,
//! delete); "return all" follows `nextCursor` page by page. Requests go through the HTTP
//! Request node's sender (its n8n-shaped errors); lists become one item per entry. Credentials
//! and audit are not supported.

use super::config::HttpConfig;
use super::errors::Failure;
use super::request::{Body, RequestSpec};
use super::send::Sender;
use crate::util::params::{locator_text, Reader};
use crate::util::per_item;
use sluice_engine::{ExecuteContext, Node, NodeError, NodeKind, NodeOutputs, NodeSpec, Param};
use sluice_model::{ItemJson, NodeDef, Value};
use sluice_runtime::http::Http;
use std::sync::Arc;

pub const SPEC: NodeSpec = NodeSpec {
    node_type: "n8n-nodes-base.n8n",
    versions: &[1.0],
    kind: NodeKind::Regular,
    factory: build,
};

/// The API's largest page.
const PAGE_LIMIT: usize = 250;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Operation {
    WorkflowGetAll,
    WorkflowGet,
    WorkflowCreate,
    WorkflowUpdate,
    WorkflowActivate,
    WorkflowDeactivate,
    WorkflowDelete,
    ExecutionGetAll,
    ExecutionGet,
    ExecutionDelete,
}

struct N8nApi {
    operation: Operation,
}

fn build(_: &NodeDef, params: &Param) -> Result<Box<dyn Node>, NodeError> {
    let r = Reader::fixed(params);
    let resource = r.str_or("resource", "workflow")?;
    let operation = match resource {
        "workflow" => r.choice("operation", "getAll", |op| match op {
            "getAll" => Some(Operation::WorkflowGetAll),
            "get" => Some(Operation::WorkflowGet),
            "create" => Some(Operation::WorkflowCreate),
            "update" => Some(Operation::WorkflowUpdate),
            "activate" => Some(Operation::WorkflowActivate),
            "deactivate" => Some(Operation::WorkflowDeactivate),
            "delete" => Some(Operation::WorkflowDelete),
            _ => None,
        })?,
        "execution" => r.choice("operation", "getAll", |op| match op {
            "getAll" => Some(Operation::ExecutionGetAll),
            "get" => Some(Operation::ExecutionGet),
            "delete" => Some(Operation::ExecutionDelete),
            _ => None,
        })?,
        other => {
            return Err(NodeError::new(format!(
                "the resource '{other}' is not supported (workflows and executions are)"
            ))
            .with_parameter("resource"))
        }
    };
    Ok(Box::new(N8nApi { operation }))
}

#[async_trait::async_trait]
impl Node for N8nApi {
    fn credential_types(&self) -> Vec<&str> {
        vec!["n8nApi"]
    }

    async fn execute(&self, ctx: &ExecuteContext<'_>) -> Result<NodeOutputs, NodeError> {
        let credential = ctx.node_credential("n8nApi")?;
        let base = Reader::new(&credential)
            .str_or("baseUrl", "")?
            .trim_end_matches('/')
            .to_string();
        if base.is_empty() {
            return Err(NodeError::new("the n8n API credential has no base URL"));
        }
        let key = Reader::new(&credential).str_or("apiKey", "")?.to_string();
        let config = Arc::new(HttpConfig::defaults());
        let client = Http::shared()
            .client(&config.client)
            .map_err(NodeError::new)?;
        let sender = Sender::new(ctx, config, client, None);
        let api = Api {
            sender: &sender,
            base: &base,
            key: &key,
        };
        let items = ctx.main_input().len();
        let out = per_item::in_turn(ctx, items, |index| {
            let api = &api;
            async move {
                self.run(ctx, api, index)
                    .await
                    .map_err(|f| f.into_error(index))
            }
        })
        .await?;
        Ok(vec![out])
    }
}

/// Requests to one API.
struct Api<'a> {
    sender: &'a Sender,
    base: &'a str,
    key: &'a str,
}

impl Api<'_> {
    /// `method path` with `query` and `body`: the answer's JSON.
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        query: Vec<(String, String)>,
        body: Option<Value>,
    ) -> Result<Value, Failure> {
        let spec = RequestSpec {
            method,
            url: format!("{}{path}", self.base),
            query,
            headers: vec![("X-N8N-API-KEY".into(), self.key.to_string())],
            body: body.map_or(Body::None, Body::Json),
        };
        let reply = self.sender.send(&spec).await?;
        if !(200..300).contains(&reply.status) {
            return Err(Failure::status(reply.status, &reply.text()));
        }
        if reply.is_empty_body() {
            return Ok(Value::Object(Default::default()));
        }
        reply
            .json()
            .ok_or_else(|| Failure::item("the n8n API answered with something that is not JSON"))
    }

    /// Every entry of a list, page by page while `all` (else the first `limit`).
    async fn list(
        &self,
        path: &str,
        mut query: Vec<(String, String)>,
        all: bool,
        limit: usize,
    ) -> Result<Vec<Value>, Failure> {
        let mut entries = Vec::new();
        let page_size = if all {
            PAGE_LIMIT
        } else {
            limit.min(PAGE_LIMIT)
        };
        query.push(("limit".into(), page_size.to_string()));
        loop {
            let page = self
                .call(reqwest::Method::GET, path, query.clone(), None)
                .await?;
            if let Some(Value::Array(data)) = page.get("data") {
                entries.extend(data.iter().cloned());
            }
            let next = page.get("nextCursor").and_then(Value::as_str);
            match next {
                Some(cursor) if !cursor.is_empty() && (all || entries.len() < limit) => {
                    query.retain(|(name, _)| name != "cursor");
                    query.push(("cursor".into(), cursor.to_string()));
                }
                _ => break,
            }
        }
        if !all {
            entries.truncate(limit);
        }
        Ok(entries)
    }
}

impl N8nApi {
    async fn run(
        &self,
        ctx: &ExecuteContext<'_>,
        api: &Api<'_>,
        index: usize,
    ) -> Result<Vec<ItemJson>, Failure> {
        let param = |path: &str| ctx.param(path, index).map_err(Failure::from_node_error);
        let text = |path: &str| -> Result<String, Failure> {
            let text = ctx
                .param_str(path, index)
                .map_err(Failure::from_node_error)?;
            Ok(text.unwrap_or_default())
        };
        let missing = |what: &str, parameter: &str| {
            Failure::from_node_error(
                NodeError::new(format!("no {what} ID given")).with_parameter(parameter),
            )
        };
        let flag =
            |path: &str| -> Result<bool, Failure> { Ok(matches!(param(path)?, Value::Bool(true))) };
        let page = |list: Vec<Value>| -> Result<Vec<ItemJson>, Failure> {
            list.into_iter().map(object).collect()
        };
        let limit = match param("limit")? {
            Value::Number(n) => n.as_f64().unwrap_or(100.0).max(1.0) as usize,
            _ => 100,
        };
        let workflow_path = || -> Result<String, Failure> {
            let id = workflow_id(&locator_text(param("workflowId")?));
            if id.is_empty() {
                return Err(missing("workflow", "workflowId"));
            }
            Ok(format!("/workflows/{id}"))
        };
        use reqwest::Method;
        let one = |value: Value| object(value).map(|json| vec![json]);
        match self.operation {
            Operation::WorkflowGetAll => {
                let mut query = Vec::new();
                if flag("filters.activeWorkflows")? {
                    query.push(("active".to_string(), "true".to_string()));
                }
                for (name, path) in [("tags", "filters.tags"), ("name", "filters.name")] {
                    let value = text(path)?;
                    if !value.is_empty() {
                        query.push((name.to_string(), value));
                    }
                }
                let all = flag("returnAll")?;
                page(api.list("/workflows", query, all, limit).await?)
            }
            Operation::WorkflowGet => one(api
                .call(Method::GET, &workflow_path()?, vec![], None)
                .await?),
            Operation::WorkflowActivate | Operation::WorkflowDeactivate => {
                let verb = match self.operation {
                    Operation::WorkflowActivate => "activate",
                    _ => "deactivate",
                };
                let path = format!("{}/{verb}", workflow_path()?);
                one(api.call(Method::POST, &path, vec![], None).await?)
            }
            Operation::WorkflowDelete => one(api
                .call(Method::DELETE, &workflow_path()?, vec![], None)
                .await?),
            Operation::WorkflowCreate | Operation::WorkflowUpdate => {
                let body = match param("workflowObject")? {
                    Value::String(text) => serde_json::from_str(&text).map_err(|e| {
                        Failure::from_node_error(
                            NodeError::new(format!("the workflow is not valid JSON: {e}"))
                                .with_parameter("workflowObject"),
                        )
                    })?,
                    other => other,
                };
                let (method, path) = match self.operation {
                    Operation::WorkflowCreate => (Method::POST, "/workflows".to_string()),
                    _ => (Method::PUT, workflow_path()?),
                };
                one(api.call(method, &path, vec![], Some(body)).await?)
            }
            Operation::ExecutionGetAll => {
                let mut query = Vec::new();
                let workflow = workflow_id(&locator_text(param("filters.workflowId")?));
                if !workflow.is_empty() {
                    query.push(("workflowId".to_string(), workflow));
                }
                let status = text("filters.status")?;
                if !status.is_empty() {
                    query.push(("status".to_string(), status));
                }
                if flag("options.includeData")? {
                    query.push(("includeData".to_string(), "true".to_string()));
                }
                let all = flag("returnAll")?;
                page(api.list("/executions", query, all, limit).await?)
            }
            Operation::ExecutionGet | Operation::ExecutionDelete => {
                let id = text("executionId")?;
                if id.is_empty() {
                    return Err(missing("execution", "executionId"));
                }
                let path = format!("/executions/{id}");
                let (method, query) = match self.operation {
                    Operation::ExecutionGet if flag("options.includeData")? => {
                        (Method::GET, vec![("includeData".into(), "true".into())])
                    }
                    Operation::ExecutionGet => (Method::GET, vec![]),
                    _ => (Method::DELETE, vec![]),
                };
                one(api.call(method, &path, query, None).await?)
            }
        }
    }
}

/// A workflow's ID from an ID or a workflow URL (`.../workflow/<id>`), as the locator's `url`
/// mode holds it.
fn workflow_id(text: &str) -> String {
    let text = text.trim();
    match text.rsplit_once("/workflow/") {
        Some((_, rest)) => rest.split(['/', '?', '#']).next().unwrap_or("").to_string(),
        None => text.to_string(),
    }
}

fn object(value: Value) -> Result<ItemJson, Failure> {
    match value {
        Value::Object(map) => Ok(map.into()),
        other => Err(Failure::item(format!(
            "the n8n API answered {other} where an object was expected"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::workflow_id;

    #[test]
    fn workflow_ids_from_urls() {
        assert_eq!(workflow_id(" abc123 "), "abc123");
        assert_eq!(
            workflow_id("https://n8n.example.com/workflow/Xy9?tab=runs"),
            "Xy9"
        );
    }
}
