//! `/form/{path}` (active workflows) and `/form-test/{path}` (any saved workflow, run as a
//! manual execution): a Form Trigger's page on GET; on POST the submission (a multipart or
//! url-encoded form) becomes the trigger's item and starts the execution, answered as the
//! trigger's response mode says (see `webhook::respond`).

use crate::app::App;
use crate::body::read_body;
use crate::error::ApiError;
use crate::routes::FormTarget;
use crate::webhook_request::{inline_file, WebhookRequest};
use crate::{multipart, schedule, webhook, webhook_guard};
use axum::extract::State;
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use sluice_nodes::trigger::form_trigger::Submitted;
use sluice_runtime::binary_data;
use std::sync::Arc;

/// A form's page or submission on its production URL (`TEST` false: the active workflows) or
/// its test URL (`TEST` true: any saved workflow, run as a manual execution).
pub async fn answer<const TEST: bool>(
    State(app): State<Arc<App>>,
    request: WebhookRequest,
) -> Result<Response, ApiError> {
    let routes = webhook::routes_for(&app, TEST).await?;
    let path = request.path.trim_matches('/').to_string();
    let Some(target) = routes.form(&path) else {
        return Err(ApiError::not_found(format!(
            "The requested form \"{path}\" is not registered. The workflow must be active for \
             a production URL to show its form."
        )));
    };
    let base = if TEST { "form-test" } else { "form" };
    match request.method {
        Method::GET | Method::HEAD => {
            Ok(Html(target.form.page(&format!("/{base}/{path}"))).into_response())
        }
        Method::POST => submit(&app, &target, TEST, request).await,
        method => Err(ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("a form answers GET and POST, not {method}"),
        )),
    }
}

/// Admit the caller, read the submission, start the execution and answer.
async fn submit(
    app: &Arc<App>,
    target: &FormTarget,
    test: bool,
    request: WebhookRequest,
) -> Result<Response, ApiError> {
    let config = &target.webhook.config;
    if config.ignore_bots {
        webhook_guard::admit(
            config,
            request.peer.ip(),
            &request.headers,
            app.config.proxy_hops,
        )?;
    }
    let bytes = read_body(request.body, app.config.payload_size_max).await?;
    let submitted = form_values(&request.headers, &bytes)?;
    let item = target
        .form
        .submission(
            &submitted,
            app.config.clock.now(),
            schedule::timezone(&target.webhook.workflow),
            test,
        )
        .map_err(ApiError::bad_request)?;
    webhook::respond(app, &target.webhook, test, item, None).await
}

/// The submitted fields in order: texts, and files (empty file inputs left out).
fn form_values(headers: &HeaderMap, bytes: &[u8]) -> Result<Vec<(String, Submitted)>, ApiError> {
    let bad = |e: String| ApiError::bad_request(format!("Failed to parse the form: {e}"));
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let media_type = content_type.split(';').next().unwrap_or("").trim();
    match media_type.to_ascii_lowercase().as_str() {
        "multipart/form-data" => {
            let boundary = multipart::boundary(content_type)
                .ok_or_else(|| bad("multipart/form-data without a boundary".into()))?;
            let parts = multipart::parse(bytes, &boundary).map_err(bad)?;
            Ok(parts
                .into_iter()
                .filter_map(|part| {
                    let value = match part.file_name {
                        Some(name) if name.is_empty() && part.data.is_empty() => return None,
                        Some(file_name) => {
                            let mime_type = part
                                .content_type
                                .unwrap_or_else(|| binary_data::mime_type_of(&file_name));
                            let binary = inline_file(part.data, Some(&file_name), &mime_type);
                            Submitted::File { file_name, binary }
                        }
                        None => Submitted::Text(String::from_utf8_lossy(part.data).into_owned()),
                    };
                    Some((part.name, value))
                })
                .collect())
        }
        "application/x-www-form-urlencoded" | "" => {
            let pairs: Vec<(String, String)> =
                serde_urlencoded::from_bytes(bytes).map_err(|e| bad(e.to_string()))?;
            Ok(pairs
                .into_iter()
                .map(|(name, text)| (name, Submitted::Text(text)))
                .collect())
        }
        other => Err(bad(format!(
            "expected multipart/form-data or application/x-www-form-urlencoded, not {other}"
        ))),
    }
}
