//! The public REST API under `/api/v1`, in the shape of n8n's: workflows, executions and
//! credentials, authenticated with an `X-N8N-API-KEY` header (keys from `sluice apikey create`).

use crate::app::{App, Start, StartId};
use crate::body::{parse_json, read_body};
use crate::error::ApiError;
use axum::body::Body;
use axum::extract::{Path, Query, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use sluice_model::Item;
use sluice_store::{ExecutionFilter, WorkflowFilter};
use std::collections::HashMap;
use std::sync::Arc;

type Params = Query<HashMap<String, String>>;
type ApiResult = Result<Json<Value>, ApiError>;

pub fn router(app: Arc<App>) -> Router<Arc<App>> {
    Router::new()
        .route("/workflows", get(list_workflows).post(create_workflow))
        .route(
            "/workflows/{id}",
            get(get_workflow)
                .put(update_workflow)
                .delete(delete_workflow),
        )
        .route("/workflows/{id}/activate", post(activate))
        .route("/workflows/{id}/deactivate", post(deactivate))
        .route("/workflows/{id}/run", post(run_workflow))
        .route("/executions", get(list_executions))
        .route(
            "/executions/{id}",
            get(get_execution).delete(delete_execution),
        )
        .route("/executions/{id}/retry", post(retry_execution))
        .route("/executions/{id}/stop", post(stop_execution))
        .route("/credentials", post(create_credential))
        .route(
            "/credentials/{id}",
            axum::routing::delete(delete_credential),
        )
        .nest("/queue", crate::queue_api::router())
        .layer(axum::middleware::from_fn_with_state(app, require_api_key))
}

async fn require_api_key(
    State(app): State<Arc<App>>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let key = request
        .headers()
        .get("x-n8n-api-key")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| ApiError::unauthorized("'X-N8N-API-KEY' header required"))?;
    if !app.api_key_valid(key).await? {
        return Err(ApiError::unauthorized("unauthorized"));
    }
    Ok(next.run(request).await)
}

async fn json_body(app: &App, body: Body) -> Result<Value, ApiError> {
    let bytes = read_body(body, app.config.payload_size_max).await?;
    if bytes.is_empty() {
        return Ok(Value::Null);
    }
    parse_json(&bytes)
}

/// `limit` (default 100, at most 250) and `cursor`.
fn page(params: &HashMap<String, String>) -> Result<(usize, Option<&str>), ApiError> {
    let limit = match params.get("limit") {
        None => 100,
        Some(l) => l
            .parse::<usize>()
            .ok()
            .filter(|l| (1..=250).contains(l))
            .ok_or_else(|| ApiError::bad_request("limit must be a number from 1 to 250"))?,
    };
    Ok((limit, params.get("cursor").map(String::as_str)))
}

fn flag(params: &HashMap<String, String>, name: &str) -> Result<Option<bool>, ApiError> {
    match params.get(name).map(String::as_str) {
        None => Ok(None),
        Some("true") => Ok(Some(true)),
        Some("false") => Ok(Some(false)),
        Some(other) => Err(ApiError::bad_request(format!(
            "{name} must be true or false, not '{other}'"
        ))),
    }
}

fn execution_id(id: &str) -> Result<i64, ApiError> {
    id.parse()
        .map_err(|_| ApiError::bad_request(format!("'{id}' is not an execution id")))
}

/// The body of a create/update: an n8n workflow that builds. Returns what is odd about it.
fn check_workflow(app: &App, body: &Value) -> Result<Vec<String>, ApiError> {
    if !body.is_object() {
        return Err(ApiError::bad_request("the body must be a workflow object"));
    }
    if body["name"].as_str().is_none_or(str::is_empty) {
        return Err(ApiError::bad_request(
            "request/body must have required property 'name'",
        ));
    }
    for field in ["nodes", "connections"] {
        if body.get(field).is_none() {
            return Err(ApiError::bad_request(format!(
                "request/body must have required property '{field}'"
            )));
        }
    }
    let deployed = app.deploy("", body)?;
    Ok(deployed.warnings.iter().map(ToString::to_string).collect())
}

/// A stored workflow as the API returns it, plus the warnings about its file when there are
/// any (n8n's answer has no such field; clients that do not know it ignore it).
fn with_warnings(mut json: Value, warnings: Vec<String>) -> Value {
    if !warnings.is_empty() {
        json["warnings"] = warnings.into();
    }
    json
}

/// Adds why an active workflow is not served (it failed to build or its webhook clashes), as
/// `activationError`.
fn with_activation_error(app: &App, id: &str, mut json: Value) -> Value {
    if let Some(error) = app.routes().rejection(id) {
        json["activationError"] = error.into();
    }
    json
}

async fn list_workflows(State(app): State<Arc<App>>, Query(params): Params) -> ApiResult {
    let (limit, cursor) = page(&params)?;
    let filter = WorkflowFilter {
        active: flag(&params, "active")?,
        name: params.get("name").cloned(),
        tags: params
            .get("tags")
            .map(|tags| {
                tags.split(',')
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default(),
    };
    let page = app.store.list_workflows(&filter, cursor, limit).await?;
    let data: Vec<Value> = page.data.iter().map(|w| w.to_json()).collect();
    Ok(Json(
        json!({ "data": data, "nextCursor": page.next_cursor }),
    ))
}

async fn create_workflow(State(app): State<Arc<App>>, body: Body) -> ApiResult {
    let body = json_body(&app, body).await?;
    let warnings = check_workflow(&app, &body)?;
    let record = app.store.put_workflow(None, body).await?;
    Ok(Json(with_warnings(record.to_json(), warnings)))
}

async fn get_workflow(State(app): State<Arc<App>>, Path(id): Path<String>) -> ApiResult {
    let record = app.store.get_workflow(&id).await?;
    let json = record.ok_or_else(|| not_found(&id))?.to_json();
    Ok(Json(with_activation_error(&app, &id, json)))
}

fn not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("workflow {id} not found"))
}

async fn update_workflow(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    body: Body,
) -> ApiResult {
    let body = json_body(&app, body).await?;
    let warnings = check_workflow(&app, &body)?;
    let existing = app
        .store
        .get_workflow(&id)
        .await?
        .ok_or_else(|| not_found(&id))?;
    let record = app.store.put_workflow(Some(&id), body).await?;
    if existing.active {
        app.reload().await?;
    }
    let json = with_activation_error(&app, &id, record.to_json());
    Ok(Json(with_warnings(json, warnings)))
}

async fn delete_workflow(State(app): State<Arc<App>>, Path(id): Path<String>) -> ApiResult {
    let record = app
        .store
        .delete_workflow(&id)
        .await?
        .ok_or_else(|| not_found(&id))?;
    if record.active {
        app.reload().await?;
    }
    Ok(Json(record.to_json()))
}

async fn activate(State(app): State<Arc<App>>, Path(id): Path<String>) -> ApiResult {
    set_active(&app, &id, true).await
}

async fn deactivate(State(app): State<Arc<App>>, Path(id): Path<String>) -> ApiResult {
    set_active(&app, &id, false).await
}

/// Activation builds the workflow and its routes first: a workflow that cannot run, or whose
/// webhook clashes with another, stays inactive (400).
async fn set_active(app: &Arc<App>, id: &str, active: bool) -> ApiResult {
    let record = app
        .store
        .get_workflow(id)
        .await?
        .ok_or_else(|| not_found(id))?;
    if active {
        let deployed = app.deploy(id, &record.data)?;
        let mut all: Vec<_> = app
            .store
            .active_workflows()
            .await?
            .iter()
            .filter(|w| w.id != id)
            .filter_map(|w| app.deploy(&w.id, &w.data).ok())
            .collect();
        all.push(deployed);
        crate::routes::Routes::build(all).map_err(ApiError::bad_request)?;
    }
    let record = app
        .store
        .set_workflow_active(id, active)
        .await?
        .ok_or_else(|| not_found(id))?;
    app.reload().await?;
    Ok(Json(record.to_json()))
}

/// Run a workflow now with `{"data": [...]}` as its trigger items (default one empty item);
/// waits for the end unless `?wait=false`.
async fn run_workflow(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    Query(params): Params,
    body: Body,
) -> ApiResult {
    let body = json_body(&app, body).await?;
    let items = match &body["data"] {
        Value::Null => vec![Item::default()],
        Value::Array(values) => values.iter().cloned().map(Item::from_value).collect(),
        _ => return Err(ApiError::bad_request("data must be an array of objects")),
    };
    let wf = app.load(&id).await?;
    let start = Start {
        mode: "manual",
        start_node: None,
        items,
        resumable: false,
        retry_of: None,
        id: StartId::New,
        priority: None,
        whole_last_output: false,
    };
    finish_started(&app, wf, start, flag(&params, "wait")?.unwrap_or(true)).await
}

async fn finish_started(
    app: &Arc<App>,
    wf: Arc<crate::deployed::Deployed>,
    start: Start,
    wait: bool,
) -> ApiResult {
    let mut started = app.start(wf, start).await?;
    if wait {
        let _ = (&mut started.done).await;
    }
    started.recorded(app).await?;
    let record = app.store.get_execution(started.id, wait).await?;
    Ok(Json(record.map_or_else(
        || json!({"id": started.id.to_string(), "status": "running"}),
        |r| r.to_json(),
    )))
}

async fn list_executions(State(app): State<Arc<App>>, Query(params): Params) -> ApiResult {
    let (limit, cursor) = page(&params)?;
    let filter = ExecutionFilter {
        status: params.get("status").cloned(),
        workflow_id: params.get("workflowId").cloned(),
    };
    let include = flag(&params, "includeData")?.unwrap_or(false);
    let page = app
        .store
        .list_executions(&filter, cursor, limit, include)
        .await?;
    let data: Vec<Value> = page.data.iter().map(|e| e.to_json()).collect();
    Ok(Json(
        json!({ "data": data, "nextCursor": page.next_cursor }),
    ))
}

async fn get_execution(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    Query(params): Params,
) -> ApiResult {
    let include = flag(&params, "includeData")?.unwrap_or(false);
    let record = app.store.get_execution(execution_id(&id)?, include).await?;
    Ok(Json(
        record
            .ok_or_else(|| ApiError::not_found(format!("execution {id} not found")))?
            .to_json(),
    ))
}

async fn delete_execution(State(app): State<Arc<App>>, Path(id): Path<String>) -> ApiResult {
    let record = app
        .store
        .get_execution(execution_id(&id)?, false)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("execution {id} not found")))?;
    app.store.delete_execution(record.id).await?;
    if let Err(e) = app
        .config
        .binary_data
        .delete_execution(&record.id.to_string())
    {
        tracing::error!(
            "execution {}: cannot remove its binary data: {e}",
            record.id
        );
    }
    Ok(Json(record.to_json()))
}

/// Run a finished execution's workflow again with the items its start node emitted.
async fn retry_execution(State(app): State<Arc<App>>, Path(id): Path<String>) -> ApiResult {
    let record = app
        .store
        .get_execution(execution_id(&id)?, true)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("execution {id} not found")))?;
    if record.status == "running" {
        return Err(ApiError::bad_request("the execution is still running"));
    }
    let wf = app.load(&record.workflow_id).await?;
    let items: Vec<Item> = record
        .data
        .as_ref()
        .and_then(crate::retry::started_with)
        .and_then(|(_, items)| serde_json::from_value(items).ok())
        .unwrap_or_default();
    let items = if items.is_empty() {
        vec![Item::default()]
    } else {
        items
    };
    let start = Start {
        mode: "retry",
        start_node: None,
        items,
        resumable: false,
        retry_of: Some(record.id),
        id: StartId::New,
        priority: None,
        whole_last_output: false,
    };
    finish_started(&app, wf, start, true).await
}

/// Stop a running or queued execution (see `stop`); answers the execution as it ended.
async fn stop_execution(State(app): State<Arc<App>>, Path(id): Path<String>) -> ApiResult {
    let record = crate::stop::stop_in(&app, execution_id(&id)?).await?;
    Ok(Json(record.to_json()))
}

async fn create_credential(State(app): State<Arc<App>>, body: Body) -> ApiResult {
    let body = json_body(&app, body).await?;
    let field = |name: &str| {
        body[name]
            .as_str()
            .filter(|s| !s.is_empty())
            .ok_or_else(|| {
                ApiError::bad_request(format!("request/body must have required property '{name}'"))
            })
    };
    let (name, kind) = (field("name")?, field("type")?);
    if !body["data"].is_object() {
        return Err(ApiError::bad_request("request/body/data must be an object"));
    }
    let record = app
        .store
        .create_credential(name, kind, &body["data"])
        .await?;
    Ok(Json(record.to_json()))
}

async fn delete_credential(State(app): State<Arc<App>>, Path(id): Path<String>) -> ApiResult {
    let record = app
        .store
        .delete_credential(&id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("credential {id} not found")))?;
    Ok(Json(record.to_json()))
}
