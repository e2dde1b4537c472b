//! n8n's pagination: one item's requests repeated page after page, strictly in sequence, either
//! updating query / body / header parameters or following a next URL, with `$response`,
//! `$pageCount` and `$request` in the expressions (evaluated before the first request too, with
//! `$pageCount` 0 and an empty `$response`). It ends on an empty response, on listed status
//! codes, when an expression says so, or after `maxRequests` pages; like n8n it refuses to go on
//! when the same response comes back again and again.
//!
//! [`Pages`] fetches one page per call, so a whole run collects them ([`all_pages`]) and a
//! streamed chain takes them as it goes (`streamed_pages`) through the same steps.

use super::config::{CompleteWhen, HttpConfig, PaginationConfig, PaginationMode};
use super::errors::Failure;
use super::request::RequestSpec;
use super::response::to_items;
use super::send::{parse_url, Sender};
use sluice_engine::{DetachedContext, ExecuteContext, NodeError, Param};
use sluice_expr::json_js;
use sluice_model::{Item, JsonObject, Value};

/// Consecutive identical responses after which pagination stops with an error.
const IDENTICAL_LIMIT: usize = 3;

/// Where an item's pagination expressions are evaluated: the node run's context in a whole run,
/// a context detached from it when the pages stream.
pub(crate) trait Resolver {
    fn resolve_with(
        &self,
        param: &Param,
        index: usize,
        variables: &JsonObject,
    ) -> Result<Value, NodeError>;
}

impl Resolver for ExecuteContext<'_> {
    fn resolve_with(
        &self,
        param: &Param,
        index: usize,
        variables: &JsonObject,
    ) -> Result<Value, NodeError> {
        ExecuteContext::resolve_with(self, param, index, variables)
    }
}

impl Resolver for DetachedContext {
    fn resolve_with(
        &self,
        param: &Param,
        index: usize,
        variables: &JsonObject,
    ) -> Result<Value, NodeError> {
        DetachedContext::resolve_with(self, param, index, variables)
    }
}

fn invalid_next_url(url: &str) -> Failure {
    Failure::operation(
        format!("'{url}' is not a valid URL."),
        "Make sure the \"Next URL\" parameter evaluates to a valid URL.",
    )
}

/// All pages of item `index`'s request, as items.
pub(crate) async fn all_pages(
    sender: &Sender,
    pagination: &PaginationConfig,
    spec: RequestSpec,
    index: usize,
    resolver: &impl Resolver,
) -> Result<Vec<Item>, Failure> {
    let mut pages = Pages::start(pagination, spec, index, resolver)?;
    let mut out = Vec::new();
    while let Some(items) = pages.next_page(sender, pagination, resolver).await? {
        out.extend(items);
    }
    Ok(out)
}

/// One item's pagination between two pages.
pub(crate) struct Pages {
    /// The next request.
    spec: RequestSpec,
    /// The input item paginating.
    index: usize,
    /// `$response`, `$pageCount` and `$request`.
    variables: JsonObject,
    max_requests: Option<usize>,
    fetched: usize,
    /// The body of the last page, when another page is due after it.
    last: Option<Vec<u8>>,
    /// The body of the page before it, and how many pages in a row were the same.
    previous: Option<Vec<u8>>,
    identical: usize,
    done: bool,
}

impl Pages {
    /// Item `index`'s pagination, its first request `spec` before the pagination parameters.
    pub fn start(
        pagination: &PaginationConfig,
        mut spec: RequestSpec,
        index: usize,
        resolver: &impl Resolver,
    ) -> Result<Self, Failure> {
        let mut variables = JsonObject::new();
        variables.insert("$pageCount".into(), 0.into());
        variables.insert("$response".into(), Value::Object(JsonObject::new()));
        variables.insert("$request".into(), spec.to_json());
        let max_requests = match &pagination.max_requests {
            Some(param) => Some(
                json_js::to_number(&resolve(resolver, param, index, &variables)?).max(1.0) as usize,
            ),
            None => None,
        };
        match pagination.mode {
            PaginationMode::NextUrl => {
                let next = pagination.base.at("nextURL");
                if next
                    .literal()
                    .is_some_and(|v| v.as_str().is_none_or(str::is_empty))
                {
                    return Err(invalid_next_url(""));
                }
            }
            PaginationMode::UpdateParameters => {
                update_parameters(resolver, &pagination.base, &mut spec, index, &variables)?
            }
        }
        Ok(Pages {
            spec,
            index,
            variables,
            max_requests,
            fetched: 0,
            last: None,
            previous: None,
            identical: 0,
            done: false,
        })
    }

    /// The input item paginating.
    pub fn index(&self) -> usize {
        self.index
    }

    /// The next page's items; `None` once the pagination is complete.
    pub async fn next_page(
        &mut self,
        sender: &Sender,
        pagination: &PaginationConfig,
        resolver: &impl Resolver,
    ) -> Result<Option<Vec<Item>>, Failure> {
        if self.done {
            return Ok(None);
        }
        if let Some(body) = self.last.take() {
            self.go_on_from(body, pagination, resolver)?;
            if !pagination.interval.is_zero() {
                sender.clock().sleep(pagination.interval).await;
            }
        }
        let config: &HttpConfig = &sender.config;
        let reply = sender.send(&self.spec).await?;
        self.fetched += 1;
        self.variables
            .insert("$response".into(), reply.to_expression_value());
        self.variables
            .insert("$pageCount".into(), self.fetched.into());
        let complete = match pagination.complete_when {
            CompleteWhen::ResponseIsEmpty => reply.is_empty_body(),
            CompleteWhen::StatusCodes => pagination.status_codes.contains(&reply.status),
            CompleteWhen::Expression => json_js::truthy(&resolve(
                resolver,
                pagination.base.at("completeExpression"),
                self.index,
                &self.variables,
            )?),
        };
        let accepted = complete && pagination.complete_when == CompleteWhen::StatusCodes;
        if !(200..300).contains(&reply.status) && !config.response.never_error && !accepted {
            return Err(Failure::status(reply.status, &reply.text()));
        }
        let property = config.response.property(resolver, self.index)?;
        let items = to_items(&config.response, &reply, self.index, &property)?;
        if complete || self.max_requests.is_some_and(|max| self.fetched >= max) {
            self.done = true;
        } else {
            self.last = Some(reply.body);
        }
        Ok(Some(items))
    }

    /// Make the request after the page whose body is `body`.
    fn go_on_from(
        &mut self,
        body: Vec<u8>,
        pagination: &PaginationConfig,
        resolver: &impl Resolver,
    ) -> Result<(), Failure> {
        self.identical = if self.previous.as_ref() == Some(&body) {
            self.identical + 1
        } else {
            0
        };
        if self.identical >= IDENTICAL_LIMIT {
            return Err(Failure::operation(
                "The returned response was identical 5x, so requests got stopped",
                "Check if \"Pagination Completed When\" has been configured correctly.",
            ));
        }
        self.previous = Some(body);
        self.variables
            .insert("$request".into(), self.spec.to_json());
        match pagination.mode {
            PaginationMode::NextUrl => {
                let next = resolve(
                    resolver,
                    pagination.base.at("nextURL"),
                    self.index,
                    &self.variables,
                )?;
                let url = json_js::to_js_string(&next);
                if next.is_null() || parse_url(&url).is_err() {
                    return Err(invalid_next_url(if next.is_null() { "" } else { &url }));
                }
                self.spec.url = url;
            }
            PaginationMode::UpdateParameters => update_parameters(
                resolver,
                &pagination.base,
                &mut self.spec,
                self.index,
                &self.variables,
            )?,
        }
        Ok(())
    }
}

fn resolve(
    resolver: &impl Resolver,
    param: &Param,
    index: usize,
    variables: &JsonObject,
) -> Result<Value, Failure> {
    resolver
        .resolve_with(param, index, variables)
        .map_err(Failure::from_node_error)
}

/// Set each `parameters.parameters[{type, name, value}]` on the request; a value that comes out
/// empty is left out.
fn update_parameters(
    resolver: &impl Resolver,
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
        let value = resolve(resolver, entry.at("value"), index, variables)?;
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
