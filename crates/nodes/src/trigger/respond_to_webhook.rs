//! Respond to Webhook (v1-1.5): builds the answer to the request that started the execution and
//! hands it to the host while the workflow goes on; its input items pass through.

use super::webhook::header_entries;
use base64::Engine;
use sluice_engine::{
    ExecuteContext, Node, NodeError, NodeKind, NodeOutputs, NodeSpec, Param, ResponseBody,
    WebhookResponse,
};
use sluice_model::{Item, JsonObject, NodeDef, Value};

pub const SPEC: NodeSpec = NodeSpec {
    node_type: "n8n-nodes-base.respondToWebhook",
    versions: &[1.0, 1.1, 1.2, 1.3, 1.4, 1.5],
    kind: NodeKind::Regular,
    factory: build,
};

#[derive(Clone, Copy, PartialEq, Eq)]
enum RespondWith {
    AllIncomingItems,
    FirstIncomingItem,
    Json,
    Text,
    NoData,
    Redirect,
    Binary,
}

struct RespondToWebhook {
    with: RespondWith,
}

fn build(def: &NodeDef, _: &Param) -> Result<Box<dyn Node>, NodeError> {
    let with = match def.parameters["respondWith"]
        .as_str()
        .unwrap_or("firstIncomingItem")
    {
        "allIncomingItems" => RespondWith::AllIncomingItems,
        "firstIncomingItem" => RespondWith::FirstIncomingItem,
        "json" => RespondWith::Json,
        "text" => RespondWith::Text,
        "noData" => RespondWith::NoData,
        "redirect" => RespondWith::Redirect,
        "binary" => RespondWith::Binary,
        other => {
            return Err(
                NodeError::new(format!("respondWith '{other}' is not supported"))
                    .with_parameter("respondWith"),
            )
        }
    };
    Ok(Box::new(RespondToWebhook { with }))
}

impl RespondToWebhook {
    fn response(&self, ctx: &ExecuteContext<'_>) -> Result<WebhookResponse, NodeError> {
        let items = ctx.main_input();
        let key = ctx
            .param_str("options.responseKey", 0)?
            .filter(|k| !k.is_empty());
        let wrap = |value: Value| match &key {
            Some(k) => {
                let mut map = JsonObject::new();
                map.insert(k.clone(), value);
                Value::Object(map)
            }
            None => value,
        };
        let json_of = |item: &Item| Value::Object((*item.json).clone());
        let mut status = 200;
        let mut headers = Vec::new();
        let body = match self.with {
            RespondWith::AllIncomingItems => {
                ResponseBody::Json(wrap(Value::Array(items.iter().map(json_of).collect())))
            }
            RespondWith::FirstIncomingItem => ResponseBody::Json(wrap(
                items
                    .first()
                    .map(json_of)
                    .unwrap_or_else(|| Value::Object(JsonObject::new())),
            )),
            RespondWith::Json => match ctx.param("responseBody", 0)? {
                Value::String(s) => ResponseBody::Json(serde_json::from_str(&s).map_err(|e| {
                    NodeError::new(format!("Invalid JSON in 'Response Body' field: {e}"))
                        .with_parameter("responseBody")
                })?),
                other => ResponseBody::Json(other),
            },
            RespondWith::Text => {
                ResponseBody::Text(ctx.param_str("responseBody", 0)?.unwrap_or_default())
            }
            RespondWith::NoData => ResponseBody::Empty,
            RespondWith::Redirect => {
                status = 307;
                let url = ctx.param_str("redirectURL", 0)?.unwrap_or_default();
                headers.push(("location".to_string(), url));
                ResponseBody::Empty
            }
            RespondWith::Binary => binary_body(ctx, items)?,
        };
        if let Some(code) = ctx.param("options.responseCode", 0)?.as_u64() {
            status = u16::try_from(code)
                .ok()
                .filter(|c| (100..600).contains(c))
                .ok_or_else(|| {
                    NodeError::new(format!("invalid response code {code}"))
                        .with_parameter("options.responseCode")
                })?;
        }
        headers.extend(header_entries(&ctx.param("options.responseHeaders", 0)?));
        Ok(WebhookResponse {
            status,
            headers,
            body,
        })
    }
}

/// The first item's binary property (`inputFieldName`, default `data`).
fn binary_body(ctx: &ExecuteContext<'_>, items: &[Item]) -> Result<ResponseBody, NodeError> {
    let field = ctx
        .param_str("inputFieldName", 0)?
        .unwrap_or_else(|| "data".into());
    let binary = items
        .first()
        .and_then(|i| i.binary.as_ref())
        .and_then(|b| b.get(&field))
        .ok_or_else(|| {
            NodeError::new(format!(
                "No binary data property '{field}' exists on the first item"
            ))
            .with_parameter("inputFieldName")
        })?;
    let data = base64::engine::general_purpose::STANDARD
        .decode(binary["data"].as_str().unwrap_or_default())
        .map_err(|e| NodeError::new(format!("binary property '{field}' is not base64: {e}")))?;
    Ok(ResponseBody::Binary {
        data,
        mime_type: binary["mimeType"]
            .as_str()
            .unwrap_or("application/octet-stream")
            .to_string(),
    })
}

#[async_trait::async_trait]
impl Node for RespondToWebhook {
    async fn execute(&self, ctx: &ExecuteContext<'_>) -> Result<NodeOutputs, NodeError> {
        if let Some(host) = ctx.host() {
            host.respond(self.response(ctx)?);
        }
        Ok(vec![ctx.main_input().to_vec()])
    }
}
