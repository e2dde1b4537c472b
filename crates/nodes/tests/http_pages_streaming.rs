//! HTTP Request with pagination as the source of a streamed chain, against a local server that
//! pages through lists and counts the requests it serves: the chain's outputs, paired items,
//! item counts and request counters equal those of a run that does not stream, for each way of
//! paginating, with two input items; a page is fetched only once the chain has taken the one
//! before; and failures name the same node, item and parameter.

mod common;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use common::{run_with, streamed, OFF};
use serde_json::{json, Value};
use sluice_engine::{
    ExecutionOptions, NodeProgress, ProgressObserver, RunOutcome, StreamMode, Streaming,
};
use sluice_model::Workflow;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// Pages of every list, and items on each page.
const PAGES: usize = 4;
const PAGE_ITEMS: usize = 3;

struct Server {
    base: String,
    /// Requests served so far.
    served: AtomicUsize,
}

fn page(list: &str, page: usize) -> Vec<Value> {
    (0..PAGE_ITEMS)
        .map(|n| json!({"list": list, "page": page, "n": n}))
        .collect()
}

/// `/numbered/{list}?page=N`: page N as an array, `[]` after the last. `/cursor/{list}?page=N`:
/// `{page, items, next}`, `next` the URL of the next page or null. `/status/{list}?page=N`: a 404
/// after the last page. `/broken/{list}?page=N`: as numbered, with a 500 on page 3
/// of list `b`. Every answer has the same `Date` (full responses carry their headers, and runs
/// compared with each other must not differ by the second they ran in).
async fn handle(
    State(server): State<Arc<Server>>,
    Path((kind, list)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    server.served.fetch_add(1, Ordering::SeqCst);
    let n: usize = query.get("page").and_then(|p| p.parse().ok()).unwrap_or(1);
    let more = (1..=PAGES).contains(&n);
    let mut response = match kind.as_str() {
        "numbered" if more => axum::Json(page(&list, n)).into_response(),
        "numbered" => axum::Json(json!([])).into_response(),
        "cursor" => {
            let next = (n < PAGES).then(|| format!("{}/cursor/{list}?page={}", server.base, n + 1));
            axum::Json(json!({"page": n, "items": page(&list, n), "next": next})).into_response()
        }
        "status" if more => axum::Json(page(&list, n)).into_response(),
        "status" => (StatusCode::NOT_FOUND, "no more").into_response(),
        "broken" if list == "b" && n == 3 => {
            (StatusCode::INTERNAL_SERVER_ERROR, "it broke").into_response()
        }
        "broken" if more => axum::Json(page(&list, n)).into_response(),
        "broken" => axum::Json(json!([])).into_response(),
        _ => StatusCode::NOT_FOUND.into_response(),
    };
    response.headers_mut().insert(
        axum::http::header::DATE,
        axum::http::HeaderValue::from_static("Mon, 07 Dec 2026 00:00:00 GMT"),
    );
    response
}

async fn start() -> Arc<Server> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let server = Arc::new(Server {
        base: format!("http://{}", listener.local_addr().unwrap()),
        served: AtomicUsize::new(0),
    });
    let app = Router::new()
        .route("/{kind}/{list}", get(handle))
        .with_state(server.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    server
}

/// Input items: list `a` from page 1, list `b` from page 2.
fn two_lists() -> Value {
    json!([{"list": "a", "first": 1}, {"list": "b", "first": 2}])
}

/// Manual Trigger → Input (`input`) → HTTP (GET `{base}/{kind}/{list}`, paginated as
/// `pagination` says) → Set (`seen` = the page) → Filter (page ≠ 2) → NoOp.
fn workflow(server: &Server, kind: &str, pagination: Value, full: bool, input: Value) -> Workflow {
    let url = format!("={{{{ '{}/{kind}/' + $json.list }}}}", server.base);
    serde_json::from_value(json!({
        "nodes": [
            {"name": "Trigger", "type": "n8n-nodes-base.manualTrigger", "typeVersion": 1,
             "position": [0, 0], "parameters": {}},
            {"name": "Input", "type": "n8n-nodes-testing.testData", "typeVersion": 1,
             "position": [200, 0], "parameters": {"data": input}},
            {"name": "HTTP", "type": "n8n-nodes-base.httpRequest", "typeVersion": 4.2,
             "position": [400, 0], "parameters": {"url": url, "options": {
                 "pagination": {"pagination": pagination},
                 "response": {"response": {"fullResponse": full}}}}},
            {"name": "Set", "type": "n8n-nodes-base.set", "typeVersion": 3.4,
             "position": [600, 0], "parameters": {
                "assignments": {"assignments": [{"id": "s", "name": "seen",
                    "value": "={{ $json.page ?? 0 }}", "type": "number"}]},
                "includeOtherFields": true, "options": {}}},
            {"name": "Filter", "type": "n8n-nodes-base.filter", "typeVersion": 2,
             "position": [800, 0], "parameters": {"conditions": {
                "options": {"caseSensitive": true, "leftValue": "", "typeValidation": "loose", "version": 2},
                "conditions": [{"id": "c", "leftValue": "={{ $json.seen }}", "rightValue": 2,
                                "operator": {"type": "number", "operation": "notEquals"}}],
                "combinator": "and"}, "options": {}}},
            {"name": "NoOp", "type": "n8n-nodes-base.noOp", "typeVersion": 1,
             "position": [1000, 0], "parameters": {}}
        ],
        "connections": {
            "Trigger": {"main": [[{"node": "Input", "type": "main", "index": 0}]]},
            "Input": {"main": [[{"node": "HTTP", "type": "main", "index": 0}]]},
            "HTTP": {"main": [[{"node": "Set", "type": "main", "index": 0}]]},
            "Set": {"main": [[{"node": "Filter", "type": "main", "index": 0}]]},
            "Filter": {"main": [[{"node": "NoOp", "type": "main", "index": 0}]]}
        },
        "settings": {"executionOrder": "v1"}
    }))
    .expect("workflow JSON")
}

async fn run(
    workflow: &Workflow,
    streaming: Streaming,
    progress: Option<ProgressObserver>,
) -> RunOutcome {
    let options = ExecutionOptions {
        streaming,
        progress,
        ..Default::default()
    };
    run_with(workflow, options).await
}

/// Per node run: its outputs (json and pairedItem), items in and out, success, source and
/// counters (the HTTP node's requests and bytes).
fn summary(outcome: &RunOutcome) -> Value {
    let runs: serde_json::Map<String, Value> = outcome
        .run_data
        .nodes
        .iter()
        .map(|(name, runs)| {
            let runs = runs
                .iter()
                .map(|run| {
                    json!({
                        "data": run.data,
                        "in": run.profile.items_in,
                        "out": run.profile.items_out,
                        "success": run.success,
                        "source": run.source,
                        "counters": run.profile.counters,
                        "error": run.error,
                    })
                })
                .collect();
            (name.clone(), Value::Array(runs))
        })
        .collect();
    json!({"runs": runs, "error": outcome.error.as_ref().map(|e| json!({
        "message": e.message, "description": e.description, "parameter": e.parameter,
        "item": e.item_index, "node": e.node,
    }))})
}

/// The HTTP node's chunks in the run (0 when it ran once on all of its input).
fn http_chunks(outcome: &RunOutcome) -> usize {
    outcome.run_data.runs("HTTP")[0].profile.chunks
}

/// Streamed in chunks of 1, 2 and 1000 items and as by default (`SLUICE_STREAM=auto`), `workflow`
/// gives what it gives unstreamed; the HTTP node streams (as a source, one chunk per pull).
async fn assert_streams_as_whole_run(workflow: &Workflow) -> Value {
    let whole = summary(&run(workflow, OFF, None).await);
    let auto = Streaming {
        mode: StreamMode::Auto,
        chunk_items: Streaming::DEFAULT_CHUNK_ITEMS,
        sort_memory_bytes: Streaming::DEFAULT_SORT_MEMORY_BYTES,
    };
    for streaming in [streamed(1), streamed(2), streamed(1000), auto] {
        let outcome = run(workflow, streaming, None).await;
        assert_eq!(summary(&outcome), whole, "{streaming:?}");
        let items_out = outcome.run_data.runs("HTTP")[0].profile.items_out;
        let expected_chunks = items_out.div_ceil(streaming.chunk_items);
        assert_eq!(http_chunks(&outcome), expected_chunks, "{streaming:?}");
    }
    whole
}

/// Pagination updating the query parameter `page` to `$pageCount + $json.first`, with
/// `completion`'s settings (`paginationCompleteWhen` and what goes with it).
fn page_count_pagination(completion: Value) -> Value {
    let mut pagination = json!({
        "paginationMode": "updateAParameterInEachRequest",
        "parameters": {"parameters": [
            {"type": "qs", "name": "page", "value": "={{ $pageCount + $json.first }}"}]}
    });
    if let (Value::Object(p), Value::Object(c)) = (&mut pagination, completion) {
        p.extend(c);
    }
    pagination
}

#[tokio::test]
async fn updating_a_parameter_with_page_count_streams_as_a_whole_run() {
    let server = start().await;
    let pagination = page_count_pagination(json!({
        "paginationCompleteWhen": "responseIsEmpty"
    }));
    let wf = workflow(&server, "numbered", pagination, false, two_lists());
    let whole = assert_streams_as_whole_run(&wf).await;
    // a: pages 1-4, b: pages 2-4; 3 items a page; the Filter drops page 2.
    let http = &whole["runs"]["HTTP"][0];
    assert_eq!(http["out"], json!(7 * PAGE_ITEMS));
    assert_eq!(http["counters"]["requests"], json!(9));
    assert_eq!(whole["runs"]["NoOp"][0]["in"], json!(5 * PAGE_ITEMS));
    let first_b = &http["data"][0][4 * PAGE_ITEMS];
    assert_eq!(first_b["json"], json!({"list": "b", "page": 2, "n": 0}));
    assert_eq!(first_b["pairedItem"], json!({"item": 1}));
}

#[tokio::test]
async fn following_the_next_url_of_the_body_streams_as_a_whole_run() {
    let server = start().await;
    let pagination = json!({
        "paginationMode": "responseContainsNextURL",
        "nextURL": "={{ $response.body.next }}",
        "paginationCompleteWhen": "other",
        "completeExpression": "={{ !$response.body.next }}"
    });
    let wf = workflow(&server, "cursor", pagination, false, two_lists());
    let whole = assert_streams_as_whole_run(&wf).await;
    let http = &whole["runs"]["HTTP"][0];
    assert_eq!(http["out"], json!(2 * PAGES));
    assert_eq!(http["data"][0][PAGES + 1]["json"]["page"], json!(2));
    assert_eq!(http["data"][0][PAGES + 1]["pairedItem"], json!({"item": 1}));
}

#[tokio::test]
async fn status_codes_page_limits_intervals_and_full_responses_stream_as_a_whole_run() {
    let server = start().await;
    let by_status = page_count_pagination(json!({
        "paginationCompleteWhen": "receiveSpecificStatusCodes",
        "statusCodesWhenComplete": "404"
    }));
    let wf = workflow(&server, "status", by_status, false, two_lists());
    let whole = assert_streams_as_whole_run(&wf).await;
    // The 404 that completes each list is an item too ("no more").
    assert_eq!(whole["runs"]["HTTP"][0]["out"], json!(7 * PAGE_ITEMS + 2));

    let limited = page_count_pagination(json!({
        "paginationCompleteWhen": "responseIsEmpty",
        "limitPagesFetched": true,
        "maxRequests": 2,
        "requestInterval": 5
    }));
    let wf = workflow(&server, "numbered", limited, true, two_lists());
    let whole = assert_streams_as_whole_run(&wf).await;
    // Two pages per list, each one item with the whole response.
    let http = &whole["runs"]["HTTP"][0];
    assert_eq!(http["out"], json!(4));
    assert_eq!(http["counters"]["requests"], json!(4));
    assert_eq!(http["data"][0][3]["json"]["statusCode"], json!(200));
    assert_eq!(http["data"][0][3]["json"]["body"][0]["page"], json!(3));
}

#[tokio::test]
async fn a_page_is_fetched_only_when_the_chain_has_taken_the_page_before() {
    let server = start().await;
    let pagination = json!({
        "paginationMode": "updateAParameterInEachRequest",
        "parameters": {"parameters": [
            {"type": "qs", "name": "page", "value": "={{ $pageCount + 1 }}"}]},
        "paginationCompleteWhen": "responseIsEmpty"
    });
    let input = json!([{"list": "a"}]);
    let wf = workflow(&server, "numbered", pagination, false, input);
    // Requests served when each chunk went through Set.
    let served_at_chunks = Arc::new(Mutex::new(Vec::new()));
    let observer = {
        let server = server.clone();
        let served_at_chunks = served_at_chunks.clone();
        ProgressObserver::new(move |progress| {
            if let NodeProgress::Chunk { node: "Set", .. } = progress {
                let served = server.served.load(Ordering::SeqCst);
                served_at_chunks.lock().unwrap().push(served);
            }
        })
    };
    let outcome = run(&wf, streamed(PAGE_ITEMS), Some(observer)).await;
    assert!(outcome.error.is_none(), "{:?}", outcome.error);
    assert_eq!(
        *served_at_chunks.lock().unwrap(),
        (1..=PAGES).collect::<Vec<_>>(),
        "one more page served per chunk"
    );
    // The empty page that ends it.
    assert_eq!(server.served.load(Ordering::SeqCst), PAGES + 1);
}

#[tokio::test]
async fn failures_name_the_node_item_and_parameter_as_in_a_whole_run() {
    let server = start().await;
    let pagination = page_count_pagination(json!({
        "paginationCompleteWhen": "responseIsEmpty"
    }));
    // List b fails on its second page (page 3).
    let wf = workflow(&server, "broken", pagination, false, two_lists());
    let whole = summary(&run(&wf, OFF, None).await);
    assert_eq!(
        whole["error"],
        json!({"message": "The service was not able to process your request",
               "description": "it broke", "parameter": null, "item": 1, "node": "HTTP"})
    );
    for streaming in [streamed(1), streamed(1000)] {
        let outcome = summary(&run(&wf, streaming, None).await);
        assert_eq!(outcome["error"], whole["error"], "{streaming:?}");
    }

    let throwing = json!({
        "paginationMode": "updateAParameterInEachRequest",
        "parameters": {"parameters": [{"type": "qs", "name": "page",
            "value": "={{ $pageCount < 2 ? $pageCount + 1 : JSON.parse('{') }}"}]},
        "paginationCompleteWhen": "responseIsEmpty"
    });
    let wf = workflow(&server, "numbered", throwing, false, two_lists());
    let whole = summary(&run(&wf, OFF, None).await);
    assert_eq!(
        whole["error"]["parameter"],
        json!("options.pagination.pagination.parameters.parameters[0].value")
    );
    assert_eq!(whole["error"]["item"], json!(0));
    for streaming in [streamed(1), streamed(1000)] {
        let outcome = summary(&run(&wf, streaming, None).await);
        assert_eq!(outcome["error"], whole["error"], "{streaming:?}");
    }
}
