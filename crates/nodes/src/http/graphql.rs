//! GraphQL v1 / v1.1 (`n8n-nodes-base.graphql`): a query sent to an endpoint, one request per
//! item, on the HTTP Request node's machinery (credentials, retries, rate limits, n8n's error
//! shapes, `responseFormat`). What is its own: the request carries `query`, `variables` and
//! `operationName` (JSON, raw GraphQL, or the query string of a `GET`), and a response listing
//! `errors` fails the item with their messages.

use super::config::GraphQlFormat;
use super::errors::Failure;
use super::request::{Body, RequestSpec};
use sluice_engine::{ExecuteContext, NodeError, NodeKind, NodeSpec};
use sluice_model::{Item, JsonObject, Value};

pub const SPEC: NodeSpec = NodeSpec {
    node_type: "n8n-nodes-base.graphql",
    versions: &[1.0, 1.1],
    kind: NodeKind::Regular,
    factory: super::build,
};

/// Make item `index`'s request a GraphQL one: its method (`POST` unless `requestMethod` says
/// `GET`) and its query.
pub(crate) fn shape(
    ctx: &ExecuteContext<'_>,
    format: GraphQlFormat,
    spec: &mut RequestSpec,
    index: usize,
) -> Result<(), NodeError> {
    let get = match ctx.param_str("requestMethod", index)?.as_deref() {
        None | Some("POST") => false,
        Some("GET") => true,
        Some(other) => {
            return Err(NodeError::new(format!("'{other}' is not GET or POST"))
                .with_parameter("requestMethod"))
        }
    };
    let query = ctx.param_str("query", index)?.unwrap_or_default();
    let operation = ctx
        .param_str("operationName", index)?
        .filter(|name| !name.is_empty());
    let variables = variables(ctx.param("variables", index)?)?;
    if get {
        spec.method = reqwest::Method::GET;
        spec.set_query("query", query);
        if !variables.is_empty() {
            spec.set_query("variables", Value::Object(variables).to_string());
        }
        if let Some(operation) = operation {
            spec.set_query("operationName", operation);
        }
        return Ok(());
    }
    spec.method = reqwest::Method::POST;
    spec.body = match format {
        GraphQlFormat::Raw => Body::Bytes {
            data: query.into_bytes(),
            content_type: Some("application/graphql".into()),
        },
        GraphQlFormat::Json => {
            let mut body = JsonObject::new();
            body.insert("query".into(), Value::String(query));
            body.insert("variables".into(), Value::Object(variables));
            if let Some(operation) = operation {
                body.insert("operationName".into(), Value::String(operation));
            }
            Body::Json(Value::Object(body))
        }
    };
    Ok(())
}

/// `variables`: an object, or JSON text of one (empty for none).
fn variables(value: Value) -> Result<JsonObject, NodeError> {
    let bad = |why: String| NodeError::new(why).with_parameter("variables");
    match value {
        Value::Null => Ok(JsonObject::new()),
        Value::Object(object) => Ok(object),
        Value::String(text) if text.trim().is_empty() => Ok(JsonObject::new()),
        Value::String(text) => match serde_json::from_str(&text) {
            Ok(Value::Object(object)) => Ok(object),
            Ok(_) => Err(bad("the variables must be a JSON object".into())),
            Err(e) => Err(bad(format!("the variables are not valid JSON: {e}"))),
        },
        _ => Err(bad("the variables must be a JSON object".into())),
    }
}

/// A response that lists `errors` fails, with their messages.
pub(crate) fn check_errors(items: &[Item]) -> Result<(), Failure> {
    let Some(errors) = items.first().and_then(|item| item.json.get("errors")) else {
        return Ok(());
    };
    let messages: Vec<String> = match errors {
        Value::Null => return Ok(()),
        Value::Array(errors) if errors.is_empty() => return Ok(()),
        Value::Array(errors) => errors
            .iter()
            .map(|e| match e.get("message") {
                Some(Value::String(message)) => message.clone(),
                _ => e.to_string(),
            })
            .collect(),
        other => vec![other.to_string()],
    };
    Err(Failure::item(messages.join("; ")))
}
