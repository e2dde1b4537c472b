//! GraphQL against a local endpoint that echoes what it received: the JSON body (query,
//! variables, operationName), raw GraphQL, a GET's query string, a header credential, the
//! string response format, and a response listing `errors` failing the item (or becoming an
//! error item with `continueOnFail`).

mod common;

use axum::body::Bytes;
use axum::extract::RawQuery;
use axum::http::HeaderMap;
use axum::routing::any;
use axum::{Json, Router};
use common::*;
use serde_json::{json, Value};
use sluice_engine::{CompiledWorkflow, RunOutcome};
use sluice_model::Workflow;

/// Answers `{data: {seen: ...}}` describing the request, or GraphQL errors when the query
/// asks for `missing`.
async fn endpoint(headers: HeaderMap, RawQuery(query): RawQuery, body: Bytes) -> Json<Value> {
    let text = String::from_utf8_lossy(&body).into_owned();
    if text.contains("missing") || query.as_deref().unwrap_or("").contains("missing") {
        return Json(json!({"data": null, "errors": [
            {"message": "Cannot query field \"missing\" on type \"Query\"."},
            {"message": "Second problem"}]}));
    }
    let header = |name: &str| headers.get(name).map(|v| v.to_str().unwrap().to_string());
    Json(json!({"data": {"seen": {
        "contentType": header("content-type"),
        "apiKey": header("x-api-key"),
        "body": serde_json::from_str::<Value>(&text).unwrap_or(Value::String(text)),
        "query": query,
    }}}))
}

async fn start() -> String {
    serve(Router::new().route("/graphql", any(endpoint))).await + "/graphql"
}

async fn run(version: f64, parameters: Value, settings: Value) -> RunOutcome {
    let mut workflow = single_node_workflow(
        "n8n-nodes-base.graphql",
        version,
        parameters,
        json!([{"id": 7}, {"id": 8}]),
    );
    for (key, value) in settings.as_object().unwrap() {
        workflow["nodes"][2][key] = value.clone();
    }
    let workflow: Workflow = serde_json::from_value(workflow).unwrap();
    let credentials = with_credentials(json!([{"id": "1", "name": "key", "type": "httpHeaderAuth",
        "data": {"name": "X-Api-Key", "value": "s3cret"}}]));
    CompiledWorkflow::build(workflow, &sluice_nodes::registry())
        .expect("builds")
        .run(credentials)
        .await
        .expect("runs")
}

fn seen(outcome: &RunOutcome) -> Vec<Value> {
    assert!(outcome.error.is_none(), "{:?}", outcome.error);
    output(outcome, "Node")
        .into_iter()
        .map(|item| item["json"]["data"]["seen"].clone())
        .collect()
}

const QUERY: &str = "query Order($id: Int!) { order(id: $id) { total } }";

#[tokio::test]
async fn json_requests_carry_query_variables_and_operation_per_item() {
    let url = start().await;
    let params = json!({"endpoint": url, "requestFormat": "json", "query": QUERY,
        "variables": "={{ JSON.stringify({id: $json.id}) }}", "operationName": "Order",
        "authentication": "headerAuth"});
    let settings = json!({"credentials": {"httpHeaderAuth": {"id": "1", "name": "key"}}});
    let outcome = run(1.0, params, settings).await;
    let seen = seen(&outcome);
    assert_eq!(seen.len(), 2);
    for (seen, id) in seen.iter().zip([7, 8]) {
        assert_eq!(
            seen,
            &json!({"contentType": "application/json", "apiKey": "s3cret", "query": null,
                    "body": {"query": QUERY, "variables": {"id": id}, "operationName": "Order"}})
        );
    }
}

#[tokio::test]
async fn raw_graphql_get_and_text_responses() {
    let url = start().await;
    // v1's default request format is raw GraphQL; v1.1's is JSON.
    let raw = run(
        1.0,
        json!({"endpoint": url, "query": "{ shop { name } }"}),
        json!({}),
    )
    .await;
    assert_eq!(seen(&raw)[0]["contentType"], "application/graphql");
    assert_eq!(seen(&raw)[0]["body"], "{ shop { name } }");
    let json_default = run(
        1.1,
        json!({"endpoint": url, "query": "{ shop { name } }"}),
        json!({}),
    )
    .await;
    assert_eq!(seen(&json_default)[0]["body"]["query"], "{ shop { name } }");

    let get = run(
        1.0,
        json!({"endpoint": url, "requestMethod": "GET", "query": "{ shop { name } }"}),
        json!({}),
    )
    .await;
    assert_eq!(seen(&get)[0]["query"], "query=%7B+shop+%7B+name+%7D+%7D");

    let text = run(
        1.1,
        json!({"endpoint": url, "query": "{ a }", "responseFormat": "string", "dataPropertyName": "raw"}),
        json!({}),
    )
    .await;
    let items = output(&text, "Node");
    let raw: Value = serde_json::from_str(items[0]["json"]["raw"].as_str().unwrap()).unwrap();
    assert_eq!(raw["data"]["seen"]["body"]["query"], "{ a }");
}

#[tokio::test]
async fn graphql_errors_fail_the_item() {
    let url = start().await;
    let params = json!({"endpoint": url, "requestFormat": "json", "query": "{ missing }"});
    let failed = run(1.0, params.clone(), json!({})).await;
    let error = failed.error.expect("errors in the response fail the node");
    assert_eq!(
        error.message,
        "Cannot query field \"missing\" on type \"Query\".; Second problem"
    );
    let continued = run(1.0, params, json!({"continueOnFail": true})).await;
    let items = output(&continued, "Node");
    assert_eq!(items.len(), 2);
    assert!(
        items[0]["json"]["error"]
            .to_string()
            .contains("Cannot query field"),
        "{items:?}"
    );

    let bad = run(
        1.1,
        json!({"endpoint": url, "query": "{ a }", "variables": "{id:"}),
        json!({}),
    )
    .await;
    let error = bad.error.expect("bad variables");
    assert!(
        error
            .message
            .starts_with("the variables are not valid JSON"),
        "{error:?}"
    );
    assert_eq!(error.parameter.as_deref(), Some("variables"));
}
