//! What a webhook call brings: the parts of the HTTP request that `/webhook/*` and
//! `/webhook-test/*` both take (one extractor, [`WebhookRequest`]), and the item the Webhook
//! trigger emits for it ([`trigger_item`]).

use crate::body::parse_json;
use crate::error::ApiError;
use crate::multipart;
use axum::body::Body;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Path, Request};
use axum::http::{header, HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use sluice_model::{Item, JsonObject};
use sluice_nodes::trigger::webhook::WebhookConfig;
use sluice_runtime::binary_data::{self, BinaryData};
use std::net::SocketAddr;
use std::sync::Arc;

/// One webhook call.
pub struct WebhookRequest {
    /// The caller's address (for IP whitelists; see `webhook_guard`).
    pub peer: SocketAddr,
    /// The webhook path: what follows `/webhook/` or `/webhook-test/`.
    pub path: String,
    pub method: Method,
    pub uri: Uri,
    pub headers: HeaderMap,
    /// Read later, after the caller is admitted, within the payload limit.
    pub body: Body,
}

impl<S: Send + Sync> FromRequest<S> for WebhookRequest {
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Response> {
        let (mut parts, body) = request.into_parts();
        let ConnectInfo(peer) = ConnectInfo::<SocketAddr>::from_request_parts(&mut parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let Path(path) = Path::<String>::from_request_parts(&mut parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(WebhookRequest {
            peer,
            path,
            method: parts.method,
            uri: parts.uri,
            headers: parts.headers,
            body,
        })
    }
}

/// `{headers, params, query, body}` (+ binary for non-JSON/form bodies and with `rawBody`, and
/// the files of a multipart form).
pub fn trigger_item(
    config: &WebhookConfig,
    headers: &HeaderMap,
    uri: &Uri,
    params: JsonObject,
    bytes: &[u8],
) -> Result<Item, ApiError> {
    let mut header_map = JsonObject::new();
    for (name, value) in headers {
        header_map.insert(
            name.as_str().to_string(),
            String::from_utf8_lossy(value.as_bytes())
                .into_owned()
                .into(),
        );
    }
    let query: JsonObject = uri
        .query()
        .map(|q| serde_urlencoded::from_str::<Vec<(String, String)>>(q).unwrap_or_default())
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect();
    let full_content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let content_type = full_content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let mut binary_map = JsonObject::new();
    let mut whole_body_as_file = config.raw_body;
    let body = if bytes.is_empty() {
        Value::Object(JsonObject::new())
    } else if content_type == "application/json" || content_type.ends_with("+json") {
        parse_json(bytes)?
    } else if content_type == "application/x-www-form-urlencoded" {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(bytes)
            .map_err(|e| ApiError::bad_request(format!("Failed to parse request body: {e}")))?;
        Value::Object(
            pairs
                .into_iter()
                .map(|(k, v)| (k, Value::String(v)))
                .collect(),
        )
    } else if content_type == "multipart/form-data" {
        whole_body_as_file = false;
        form_body(config, full_content_type, bytes, &mut binary_map)?
    } else if content_type.starts_with("text/") || content_type.ends_with("/xml") {
        Value::String(String::from_utf8_lossy(bytes).into_owned())
    } else {
        whole_body_as_file = true;
        Value::Object(JsonObject::new())
    };
    if whole_body_as_file {
        let mime = if content_type.is_empty() {
            "application/octet-stream"
        } else {
            &content_type
        };
        binary_map.insert(
            config.binary_property.clone(),
            Value::Object(inline_file(bytes, None, mime)),
        );
    }
    let binary = (!binary_map.is_empty()).then(|| Arc::new(binary_map));
    let mut json = JsonObject::new();
    json.insert("headers".into(), Value::Object(header_map));
    json.insert("params".into(), Value::Object(params));
    json.insert("query".into(), Value::Object(query));
    json.insert("body".into(), body);
    let mut item = Item::new(json);
    item.binary = binary;
    Ok(item)
}

/// A file as an inline binary property; the execution's binary data store adopts it when it
/// starts (see `App::start`), so in filesystem mode it ends up on disk.
pub(crate) fn inline_file(bytes: &[u8], file_name: Option<&str>, mime_type: &str) -> JsonObject {
    BinaryData::memory()
        .store("", bytes, binary_data::metadata(file_name, mime_type))
        .expect("writing to memory does not fail")
}

/// A `multipart/form-data` body: text fields as the body (a field sent twice as a list), files
/// into `binary_map`.
fn form_body(
    config: &WebhookConfig,
    content_type: &str,
    bytes: &[u8],
    binary_map: &mut JsonObject,
) -> Result<Value, ApiError> {
    let bad = |e: String| ApiError::bad_request(format!("Failed to parse request body: {e}"));
    let boundary = multipart::boundary(content_type)
        .ok_or_else(|| bad("multipart/form-data without a boundary".into()))?;
    let mut fields = JsonObject::new();
    for part in multipart::parse(bytes, &boundary).map_err(bad)? {
        match &part.file_name {
            Some(file_name) => {
                let property = if config.number_files {
                    format!("{}{}", config.binary_property, binary_map.len())
                } else {
                    part.name.clone()
                };
                let mime_type = part
                    .content_type
                    .clone()
                    .unwrap_or_else(|| binary_data::mime_type_of(file_name));
                let file = inline_file(part.data, Some(file_name), &mime_type);
                binary_map.insert(property, Value::Object(file));
            }
            None => {
                let text = Value::String(String::from_utf8_lossy(part.data).into_owned());
                match fields.get_mut(&part.name) {
                    Some(Value::Array(values)) => values.push(text),
                    Some(first) => *first = Value::Array(vec![first.take(), text]),
                    None => {
                        fields.insert(part.name.clone(), text);
                    }
                }
            }
        }
    }
    Ok(Value::Object(fields))
}
