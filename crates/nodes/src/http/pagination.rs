//! n8n's pagination: one item's requests repeated page after page, strictly in sequence, either
//! updating query / body / header parameters or following a next URL, with `$response`,
//! `$pageCount` and `$request` in the expressions (evaluated before the first request too, with
//! `$pageCount` 0 and an empty `$response`). It ends on an empty response, on listed status
//! codes, when an expression says so, or after `maxRequests` pages; like n8n it refuses to go on
//! when the same response comes back again and again.

use super::config::{CompleteWhen, HttpConfig, PaginationConfig, PaginationMode};
use super::errors::Failure;
use super::request::RequestSpec;
use super::response::to_items;
use super::send::{parse_url, Sender};
use sluice_engine::{ExecuteContext, Param};
use sluice_expr::json_js;
use sluice_model::{Item, JsonObject, Value};

/// Consecutive identical responses after which pagination stops with an error.
const IDENTICAL_LIMIT: usize = 3;

fn invalid_next_url(url: &str) -> Failure {
    Failure::operation(
        format!("'{url}' is not a valid URL."),
        "Make sure the \"Next URL\" parameter evaluates to a valid URL.",
    )
}

/// All pages of item `index`'s request, as items.
pub(crate) async fn paginate(
    sender: &Sender<'_, '_>,
    config: &HttpConfig,
    pagination: &PaginationConfig,
    mut spec: RequestSpec,
    index: usize,
) -> Result<Vec<Item>, Failure> {
    let ctx = sender.ctx;
    let base = ctx.params().at(&pagination.base);
    let mut variables = JsonObject::new();
    variables.insert("$pageCount".into(), 0.into());
    variables.insert("$response".into(), Value::Object(JsonObject::new()));
    variables.insert("$request".into(), spec.to_json());
    let resolve = |param: &Param, variables: &JsonObject| {
        ctx.resolve_with(param, index, variables)
            .map_err(Failure::from_node_error)
    };
    let max_requests = match &pagination.max_requests {
        Some(param) => Some(json_js::to_number(&resolve(param, &variables)?).max(1.0) as usize),
        None => None,
    };
    match pagination.mode {
        PaginationMode::NextUrl => {
            let next = base.at("nextURL");
            if next
                .literal()
                .is_some_and(|v| v.as_str().is_none_or(str::is_empty))
            {
                return Err(invalid_next_url(""));
            }
        }
        PaginationMode::UpdateParameters => {
            update_parameters(ctx, base, &mut spec, index, &variables)?
        }
    }
    let mut out = Vec::new();
    let mut pages = 0usize;
    let mut previous: Option<Vec<u8>> = None;
    let mut identical = 0usize;
    loop {
        let reply = sender.send(&spec).await?;
        pages += 1;
        variables.insert("$response".into(), reply.to_expression_value());
        variables.insert("$pageCount".into(), pages.into());
        let complete = match pagination.complete_when {
            CompleteWhen::ResponseIsEmpty => reply.is_empty_body(),
            CompleteWhen::StatusCodes => pagination.status_codes.contains(&reply.status),
            CompleteWhen::Expression => {
                json_js::truthy(&resolve(base.at("completeExpression"), &variables)?)
            }
        };
        let accepted = complete && pagination.complete_when == CompleteWhen::StatusCodes;
        if !(200..300).contains(&reply.status) && !config.response.never_error && !accepted {
            return Err(Failure::status(reply.status, &reply.text()));
        }
        out.extend(to_items(&config.response, &reply, index)?);
        if complete || max_requests.is_some_and(|max| pages >= max) {
            return Ok(out);
        }
        identical = if previous.as_deref() == Some(reply.body.as_slice()) {
            identical + 1
        } else {
            0
        };
        if identical >= IDENTICAL_LIMIT {
            return Err(Failure::operation(
                "The returned response was identical 5x, so requests got stopped",
                "Check if \"Pagination Completed When\" has been configured correctly.",
            ));
        }
        previous = Some(reply.body);
        variables.insert("$request".into(), spec.to_json());
        match pagination.mode {
            PaginationMode::NextUrl => {
                let next = resolve(base.at("nextURL"), &variables)?;
                let url = json_js::to_js_string(&next);
                if next.is_null() || parse_url(&url).is_err() {
                    return Err(invalid_next_url(if next.is_null() { "" } else { &url }));
                }
                spec.url = url;
            }
            PaginationMode::UpdateParameters => {
                update_parameters(ctx, base, &mut spec, index, &variables)?
            }
        }
        if !pagination.interval.is_zero() {
            ctx.clock().sleep(pagination.interval).await;
        }
    }
}

/// Set each `parameters.parameters[{type, name, value}]` on the request; a value that comes out
/// empty is left out.
fn update_parameters(
    ctx: &ExecuteContext<'_>,
    base: &Param,
    spec: &mut RequestSpec,
    index: usize,
    variables: &JsonObject,
) -> Result<(), Failure> {
    for entry in base.at("parameters.parameters").elements() {
        let name = entry.at("name").literal_str().unwrap_or_default();
        if name.is_empty() {
            continue;
        }
        let value = ctx
            .resolve_with(entry.at("value"), index, variables)
            .map_err(Failure::from_node_error)?;
        if value.is_null() || value == Value::String(String::new()) {
            continue;
        }
        match entry.at("type").literal_str().unwrap_or("qs") {
            "body" => spec.set_body_field(name, value),
            "headers" => spec.set_header(name, json_js::to_js_string(&value)),
            _ => spec.set_query(name, json_js::to_js_string(&value)),
        }
    }
    Ok(())
}
