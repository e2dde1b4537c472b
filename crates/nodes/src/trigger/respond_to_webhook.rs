//! Respond to Webhook (v1-1.5): builds the answer to the request that started the execution and
//! hands it to the host while the workflow goes on (or, v1.5 under a streaming Webhook, writes it
//! into the stream); its input items pass through. `respondWith: jwt` answers `{"token"}` signed
//! with a `jwtAuth` credential; the optional second output (v1.3, or v1.4+ with
//! `enableResponseOutput`) carries `{response: {body, headers, statusCode}}` as sent.

use super::credential_id;
use super::jwt::JwtCredential;
use super::webhook::header_entries;
use crate::util::params::Reader;
use base64::Engine;
use sluice_engine::{
    ChunkKind, ChunkSource, ExecuteContext, ExecutionHost, Node, NodeError, NodeKind, NodeOutputs,
    NodeSpec, Param, ResponseBody, StreamChunk, WebhookResponse,
};
use sluice_model::{Item, JsonObject, NodeDef, Value};
use std::sync::Arc;

pub const SPEC: NodeSpec = NodeSpec {
    node_type: "n8n-nodes-base.respondToWebhook",
    versions: &[1.0, 1.1, 1.2, 1.3, 1.4, 1.5],
    kind: NodeKind::Regular,
    factory: build,
};

#[derive(Clone, PartialEq, Eq)]
enum RespondWith {
    AllIncomingItems,
    FirstIncomingItem,
    Json,
    Text,
    NoData,
    Redirect,
    Binary,
    /// Sign `payload` with the node's `jwtAuth` credential.
    Jwt,
}

struct RespondToWebhook {
    with: RespondWith,
    /// A second output with the response sent.
    response_output: bool,
    /// v1.5 `options.enableStreaming` (default on): write into a streamed answer if there is one.
    streaming: bool,
}

fn build(def: &NodeDef, params: &Param) -> Result<Box<dyn Node>, NodeError> {
    let r = Reader::fixed(params);
    let with = match r.str_or("respondWith", "firstIncomingItem")? {
        "allIncomingItems" => RespondWith::AllIncomingItems,
        "firstIncomingItem" => RespondWith::FirstIncomingItem,
        "json" => RespondWith::Json,
        "text" => RespondWith::Text,
        "noData" => RespondWith::NoData,
        "redirect" => RespondWith::Redirect,
        "binary" => RespondWith::Binary,
        "jwt" => {
            credential_id(def, "jwtAuth")?;
            RespondWith::Jwt
        }
        other => {
            return Err(
                NodeError::new(format!("respondWith '{other}' is not supported"))
                    .with_parameter("respondWith"),
            )
        }
    };
    let version = def.version();
    Ok(Box::new(RespondToWebhook {
        with,
        response_output: version == 1.3
            || (version >= 1.4 && r.bool_or("enableResponseOutput", false)?),
        streaming: version >= 1.5 && r.bool_or("options.enableStreaming", true)?,
    }))
}

impl RespondToWebhook {
    async fn response(&self, ctx: &ExecuteContext<'_>) -> Result<WebhookResponse, NodeError> {
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
        let json_of = |item: &Item| item.json.to_value();
        let mut status = 200;
        let mut headers = Vec::new();
        let body = match &self.with {
            RespondWith::AllIncomingItems => {
                ResponseBody::Json(wrap(Value::Array(items.iter().map(json_of).collect())))
            }
            RespondWith::FirstIncomingItem => ResponseBody::Json(wrap(
                items
                    .first()
                    .map(json_of)
                    .unwrap_or_else(|| Value::Object(JsonObject::new())),
            )),
            RespondWith::Json => {
                ResponseBody::Json(json_param(ctx, "responseBody", "Response Body")?)
            }
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
            RespondWith::Binary => binary_body(ctx, items, "inputFieldName")?,
            RespondWith::Jwt => {
                let payload = json_param(ctx, "payload", "Payload")?;
                let data = ctx.node_credential("jwtAuth")?;
                let token = JwtCredential::from_data(&data)
                    .and_then(|c| c.sign(&payload, ctx.now().timestamp()))
                    .map_err(|e| NodeError::new(e.to_string()))?;
                ResponseBody::Json(serde_json::json!({ "token": token }))
            }
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

/// A JSON parameter: text typed in the editor is parsed, an expression's value used as it is.
fn json_param(ctx: &ExecuteContext<'_>, path: &str, label: &str) -> Result<Value, NodeError> {
    match ctx.param(path, 0)? {
        Value::String(s) => serde_json::from_str(&s).map_err(|e| {
            NodeError::new(format!("Invalid JSON in '{label}' field: {e}")).with_parameter(path)
        }),
        other => Ok(other),
    }
}

/// The first item's binary property named by `parameter` (default `data`), read through the
/// execution's binary data store (its bytes may be on disk, not in the item).
pub(super) fn binary_body(
    ctx: &ExecuteContext<'_>,
    items: &[Item],
    parameter: &str,
) -> Result<ResponseBody, NodeError> {
    let field = ctx
        .param_str(parameter, 0)?
        .unwrap_or_else(|| "data".into());
    let missing = || {
        NodeError::new(format!(
            "No binary data property '{field}' exists on the first item"
        ))
        .with_parameter(parameter)
    };
    let item = items.first().ok_or_else(missing)?;
    let binary = item
        .binary
        .as_ref()
        .and_then(|b| b.get(&field))
        .ok_or_else(missing)?;
    let mime_type = binary["mimeType"]
        .as_str()
        .unwrap_or("application/octet-stream")
        .to_string();
    let data = crate::util::binary::read(ctx, item, &field, parameter)?;
    Ok(ResponseBody::Binary { data, mime_type })
}

/// Write `response` into the streamed answer as n8n's `begin`, `item` (the body as text), `end`
/// chunks; false when the answer is not a stream.
fn stream(
    host: &dyn ExecutionHost,
    ctx: &ExecuteContext<'_>,
    response: &WebhookResponse,
) -> Result<bool, NodeError> {
    let source = ChunkSource {
        node_id: ctx.node().id.clone(),
        node_name: ctx.node().name.clone(),
        item_index: 0,
        run_index: ctx.run_index(),
        timestamp: ctx.now().timestamp_millis(),
    };
    let chunk = |kind, content| StreamChunk {
        kind,
        content,
        source: Some(source.clone()),
    };
    if !host.send_chunk(chunk(ChunkKind::Begin, None)) {
        return Ok(false);
    }
    let content = match &response.body {
        ResponseBody::Empty => None,
        ResponseBody::Json(v) => Some(v.to_string()),
        ResponseBody::Text(t) => Some(t.clone()),
        ResponseBody::Binary { .. } => {
            host.send_chunk(chunk(ChunkKind::End, None));
            return Err(NodeError::new(
                "a binary response cannot be streamed; turn off 'Enable Streaming'",
            )
            .with_parameter("options.enableStreaming"));
        }
    };
    if content.is_some() {
        host.send_chunk(chunk(ChunkKind::Item, content));
    }
    host.send_chunk(chunk(ChunkKind::End, None));
    Ok(true)
}

/// The second output's item: `{response: {body, headers, statusCode}}` (a binary body goes to
/// the item's `data` binary property).
fn response_item(response: &WebhookResponse) -> Item {
    let headers: JsonObject = response
        .headers
        .iter()
        .map(|(name, value)| (name.clone(), Value::String(value.clone())))
        .collect();
    let mut sent = JsonObject::new();
    let mut binary = None;
    match &response.body {
        ResponseBody::Empty => {}
        ResponseBody::Json(v) => {
            sent.insert("body".into(), v.clone());
        }
        ResponseBody::Text(t) => {
            sent.insert("body".into(), Value::String(t.clone()));
        }
        ResponseBody::Binary { data, mime_type } => {
            let file = serde_json::json!({
                "data": base64::engine::general_purpose::STANDARD.encode(data),
                "mimeType": mime_type,
                "fileSize": data.len(),
            });
            let mut map = JsonObject::new();
            map.insert("data".into(), file);
            binary = Some(Arc::new(map));
        }
    }
    sent.insert("headers".into(), Value::Object(headers));
    sent.insert("statusCode".into(), response.status.into());
    let mut json = JsonObject::new();
    json.insert("response".into(), Value::Object(sent));
    let mut item = Item::new(json);
    item.binary = binary;
    item
}

#[async_trait::async_trait]
impl Node for RespondToWebhook {
    fn credential_types(&self) -> Vec<&str> {
        match self.with {
            RespondWith::Jwt => vec!["jwtAuth"],
            _ => Vec::new(),
        }
    }

    async fn execute(&self, ctx: &ExecuteContext<'_>) -> Result<NodeOutputs, NodeError> {
        let mut outputs = vec![ctx.main_input().to_vec()];
        let host = ctx.host();
        if host.is_none() && !self.response_output {
            return Ok(outputs);
        }
        let response = self.response(ctx).await?;
        if self.response_output {
            outputs.push(vec![response_item(&response)]);
        }
        if let Some(host) = host {
            if !(self.streaming && stream(host, ctx, &response)?) {
                host.respond(response);
            }
        }
        Ok(outputs)
    }

    fn outputs(&self) -> usize {
        if self.response_output {
            2
        } else {
            1
        }
    }
}
