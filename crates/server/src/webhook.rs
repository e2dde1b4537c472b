//! `/webhook/{path}` (active workflows) and `/webhook-test/{path}` (any saved workflow, run as a
//! manual execution): admit and authenticate the caller (see `webhook_guard`), parse the body,
//! start the execution and answer in the Webhook node's response mode.

use crate::app::{App, Start, StartId};
use crate::body::read_body;
use crate::error::ApiError;
use crate::routes::{Routes, WebhookTarget};
use crate::webhook_request::{trigger_item, WebhookRequest};
use crate::{webhook_guard, webhook_stream};
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::{json, Value};
use sluice_engine::{ResponseBody, RunStatus, WebhookResponse};
use sluice_model::{Item, JsonObject};
use sluice_nodes::trigger::webhook::{ResponseData, ResponseMode, WebhookConfig};
use sluice_queue::Priority;
use std::sync::Arc;

/// A webhook call on its production URL (`TEST` false: the active workflows) or its test URL
/// (`TEST` true: any saved workflow, run as a manual execution).
pub async fn answer<const TEST: bool>(
    State(app): State<Arc<App>>,
    request: WebhookRequest,
) -> Result<Response, ApiError> {
    let routes = routes_for(&app, TEST).await?;
    let (method, path) = (&request.method, request.path.as_str());
    let Some((target, params)) = routes.find(method.as_str(), path) else {
        if method == Method::OPTIONS {
            if let Some(preflight) = webhook_guard::preflight(&routes, path, &request.headers) {
                return Ok(preflight);
            }
        }
        let hint = if routes.has_path(path) {
            format!("This webhook is not registered for {method} requests.")
        } else {
            "The workflow must be active for a production URL to run successfully.".into()
        };
        return Err(ApiError::not_found(format!(
            "The requested webhook \"{method} {path}\" is not registered. {hint}"
        )));
    };
    let cors = webhook_guard::cors_origin(&target.config, &request.headers);
    let answer = accept(&app, &target, TEST, params, request).await;
    Ok(webhook_guard::with_cors(answer, cors))
}

/// What a production URL answers on (the active workflows), or a test URL (every saved one).
pub(crate) async fn routes_for(app: &Arc<App>, test: bool) -> Result<Arc<Routes>, ApiError> {
    match test {
        false => Ok(app.routes()),
        true => saved_routes(app).await.map(Arc::new),
    }
}

/// The routes of every saved workflow, active or not (what test URLs answer): active workflows
/// are already built, the others are built for the request.
async fn saved_routes(app: &Arc<App>) -> Result<Routes, ApiError> {
    let active = app.routes();
    let mut deployed = Vec::new();
    let mut cursor = None;
    loop {
        let page = app
            .store
            .list_workflows(&Default::default(), cursor.as_deref(), 250)
            .await?;
        deployed.extend(page.data.iter().filter_map(|r| {
            active
                .workflow(&r.id)
                .or_else(|| app.deploy(&r.id, &r.data).ok())
        }));
        cursor = page.next_cursor;
        if cursor.is_none() {
            break;
        }
    }
    Routes::build(deployed).map_err(ApiError::bad_request)
}

/// Admit and authenticate the caller, build the trigger item, start the execution and answer.
async fn accept(
    app: &Arc<App>,
    target: &WebhookTarget,
    test: bool,
    params: JsonObject,
    request: WebhookRequest,
) -> Result<Response, ApiError> {
    let WebhookRequest {
        peer,
        path,
        uri,
        headers,
        body,
        ..
    } = request;
    if target.config.ip_whitelist.is_some() || target.config.ignore_bots {
        webhook_guard::admit(&target.config, peer.ip(), &headers, app.config.proxy_hops)?;
    }
    let priority = request_priority(&headers)?;
    let bytes = read_body(body, app.config.payload_size_max).await?;
    let jwt_payload = webhook_guard::authenticate(app, &target.config, &headers).await?;
    let mut item = trigger_item(&target.config, &headers, &uri, params, &bytes)?;
    if let Some(payload) = jwt_payload {
        item.json_mut().insert("jwtPayload", payload);
    }
    let base = if test { "webhook-test" } else { "webhook" };
    item.json_mut().insert(
        "webhookUrl",
        format!("{}/{base}/{}", app.config.base_url, path).into(),
    );
    item.json_mut().insert(
        "executionMode",
        if test { "test" } else { "production" }.into(),
    );
    respond(app, target, test, item, priority).await
}

/// The header that sets a queued execution's priority, over the workflow's setting.
const PRIORITY_HEADER: &str = "x-sluice-priority";

/// The request's `X-Sluice-Priority` (`high`, `normal`, `low` or a rank from 0 to 100).
fn request_priority(headers: &HeaderMap) -> Result<Option<Priority>, ApiError> {
    let Some(value) = headers.get(PRIORITY_HEADER) else {
        return Ok(None);
    };
    let text = String::from_utf8_lossy(value.as_bytes());
    Priority::parse(&text).map(Some).ok_or_else(|| {
        ApiError::bad_request(format!(
            "X-Sluice-Priority: expected high, normal, low or a number from 0 to 100, not '{text}'"
        ))
    })
}

pub(crate) async fn respond(
    app: &Arc<App>,
    target: &WebhookTarget,
    test: bool,
    item: Item,
    priority: Option<Priority>,
) -> Result<Response, ApiError> {
    let config = &target.config;
    if !test && config.response_mode == ResponseMode::Streaming && app.queue.is_some() {
        return app.relayed_stream(target, item, priority).await;
    }
    if !test {
        if let Some(relayed) = app.relayed_webhook(target, item.clone(), priority).await {
            return Ok(into_http(relayed?, config.response_content_type.as_deref()));
        }
    }
    let mode = config.response_mode;
    let start = Start {
        mode: if test { "manual" } else { "webhook" },
        start_node: Some(target.node.clone()),
        items: vec![item],
        resumable: mode == ResponseMode::OnReceived,
        retry_of: None,
        id: StartId::New,
        priority,
        whole_last_output: mode == ResponseMode::LastNode,
    };
    let streamed = mode == ResponseMode::Streaming;
    let mut started = app
        .start_with(target.workflow.clone(), start, streamed)
        .await?;
    let response = match mode {
        ResponseMode::OnReceived => {
            let body = match (&config.received_body, config.no_response_body) {
                (_, true) => ResponseBody::Empty,
                (Some(text), _) if text == "noData" => ResponseBody::Empty,
                (Some(text), _) => ResponseBody::Text(text.clone()),
                (None, _) => ResponseBody::Json(json!({"message": "Workflow was started"})),
            };
            WebhookResponse {
                status: config.response_code,
                headers: config.response_headers.clone(),
                body,
            }
        }
        ResponseMode::ResponseNode => match (&mut started.response).await {
            Ok(response) => {
                started.recorded_soon(app).await?;
                response
            }
            Err(_) => match (&mut started.done).await {
                Ok(outcome) if outcome.status == RunStatus::Success => {
                    started.recorded(app).await?;
                    WebhookResponse {
                        status: 200,
                        headers: Vec::new(),
                        body: ResponseBody::Json(
                            json!({"message": "Workflow executed successfully"}),
                        ),
                    }
                }
                _ => return Err(workflow_error()),
            },
        },
        ResponseMode::LastNode => {
            let outcome = (&mut started.done).await.map_err(|_| workflow_error())?;
            if outcome.status != RunStatus::Success {
                return Err(workflow_error());
            }
            started.recorded(app).await?;
            last_node_response(config, outcome.last_output())?
        }
        ResponseMode::Streaming => {
            started.recorded(app).await?;
            return Ok(webhook_stream::response(started));
        }
    };
    Ok(into_http(response, config.response_content_type.as_deref()))
}

pub(crate) fn workflow_error() -> ApiError {
    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "Error in workflow")
}

pub(crate) fn last_node_response(
    config: &WebhookConfig,
    items: &[Item],
) -> Result<WebhookResponse, ApiError> {
    let first_json = || {
        let json = items.first().map(|i| i.json.to_value());
        let json = json.unwrap_or_else(|| Value::Object(JsonObject::new()));
        match &config.response_property_name {
            Some(p) => json.get(p).cloned().unwrap_or(Value::Null),
            None => json,
        }
    };
    let body = match &config.response_data {
        ResponseData::AllEntries => ResponseBody::Json(Value::Array(
            items.iter().map(|i| i.json.to_value()).collect(),
        )),
        ResponseData::FirstEntryJson => ResponseBody::Json(first_json()),
        ResponseData::NoData => ResponseBody::Empty,
        ResponseData::Text(text) => ResponseBody::Text(text.clone()),
        ResponseData::FirstEntryBinary => {
            let file = items
                .first()
                .and_then(|i| i.binary.as_ref())
                .and_then(|b| b.get(&config.binary_property))
                .ok_or_else(|| {
                    ApiError::new(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "No binary data to return was found",
                    )
                })?;
            ResponseBody::Binary {
                data: base64::engine::general_purpose::STANDARD
                    .decode(file["data"].as_str().unwrap_or_default())
                    .unwrap_or_default(),
                mime_type: file["mimeType"]
                    .as_str()
                    .unwrap_or("application/octet-stream")
                    .into(),
            }
        }
    };
    Ok(WebhookResponse {
        status: config.response_code,
        headers: config.response_headers.clone(),
        body,
    })
}

fn into_http(response: WebhookResponse, content_type: Option<&str>) -> Response {
    let status = StatusCode::from_u16(response.status).unwrap_or(StatusCode::OK);
    let (mime, bytes): (Option<String>, Vec<u8>) = match response.body {
        ResponseBody::Empty => (None, Vec::new()),
        ResponseBody::Json(v) => (Some("application/json".into()), v.to_string().into_bytes()),
        ResponseBody::Text(t) => (Some("text/plain; charset=utf-8".into()), t.into_bytes()),
        ResponseBody::Binary { data, mime_type } => (Some(mime_type), data),
    };
    let mut http = (status, bytes).into_response();
    let h = http.headers_mut();
    if let Some(mime) = content_type.map(String::from).or(mime) {
        if let Ok(v) = HeaderValue::from_str(&mime) {
            h.insert(header::CONTENT_TYPE, v);
        }
    }
    for (name, value) in response.headers {
        if let (Ok(n), Ok(v)) = (
            header::HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            h.insert(n, v);
        }
    }
    http
}
