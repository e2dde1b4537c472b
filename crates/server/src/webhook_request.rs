//! What a webhook call brings: the parts of the HTTP request that `/webhook/*` and
//! `/webhook-test/*` both take (one extractor, [`WebhookRequest`]), and the item the Webhook
//! trigger emits for it ([`trigger_item`]).

use crate::body::parse_json;
use crate::error::ApiError;
use axum::body::Body;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Path, Request};
use axum::http::{header, HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::Value;
use sluice_model::{Item, JsonObject};
use sluice_nodes::trigger::webhook::WebhookConfig;
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

/// `{headers, params, query, body}` (+ binary for non-JSON/form bodies and with `rawBody`).
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
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let mut binary = None;
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
    } else if content_type.starts_with("text/") || content_type.ends_with("/xml") {
        binary = config.raw_body.then_some(());
        Value::String(String::from_utf8_lossy(bytes).into_owned())
    } else {
        binary = Some(());
        Value::Object(JsonObject::new())
    };
    let binary = binary.or(config.raw_body.then_some(())).map(|()| {
        let mut file = JsonObject::new();
        file.insert(
            "data".into(),
            base64::engine::general_purpose::STANDARD
                .encode(bytes)
                .into(),
        );
        let mime = if content_type.is_empty() {
            "application/octet-stream"
        } else {
            &content_type
        };
        file.insert("mimeType".into(), mime.into());
        file.insert("fileSize".into(), bytes.len().into());
        let mut map = JsonObject::new();
        map.insert(config.binary_property.clone(), Value::Object(file));
        Arc::new(map)
    });
    let mut json = JsonObject::new();
    json.insert("headers".into(), Value::Object(header_map));
    json.insert("params".into(), Value::Object(params));
    json.insert("query".into(), Value::Object(query));
    json.insert("body".into(), body);
    let mut item = Item::new(json);
    item.binary = binary;
    Ok(item)
}
