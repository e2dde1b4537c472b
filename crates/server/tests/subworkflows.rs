//! Execute Workflow under the server over real HTTP, on SQLite and on Postgres: a stored
//! sub-workflow that declares its inputs, called with mapped and converted values, and a
//! sub-workflow fetched from a URL.

mod support;

use reqwest::Method;
use serde_json::{json, Value};
use sluice_store::on_both_backends;
use support::TestServer;

/// Execute Workflow Trigger declaring `n` (number) and `label` → Set `sq = n * n`.
fn child() -> Value {
    json!({"name": "child", "settings": {"executionOrder": "v1"}, "nodes": [
        {"name": "In", "type": "n8n-nodes-base.executeWorkflowTrigger", "typeVersion": 1.1,
         "position": [0, 0], "parameters": {"workflowInputs": {"values": [
             {"name": "n", "type": "number"}, {"name": "label"}]}}},
        {"name": "Square", "type": "n8n-nodes-base.set", "typeVersion": 3.4, "position": [200, 0],
         "parameters": {"assignments": {"assignments": [
             {"id": "1", "name": "sq", "value": "={{ $json.n * $json.n }}", "type": "number"}]},
             "includeOtherFields": true, "options": {}}}
    ], "connections": {"In": {"main": [[{"node": "Square", "type": "main", "index": 0}]]}}})
}

/// Manual Trigger → Call (Execute Workflow v1.3 with `call` parameters mapping `n` and
/// `label` from the items' `value` and `name`).
fn parent(call: Value, attempt_to_convert: bool) -> Value {
    let mut params = json!({"mode": "once", "options": {}, "workflowInputs": {
        "mappingMode": "defineBelow",
        "value": {"n": "={{ $json.value }}", "label": "={{ $json.name }}"},
        "matchingColumns": [],
        "schema": [
            {"id": "n", "displayName": "n", "required": false, "defaultMatch": false,
             "display": true, "canBeUsedToMatch": true, "type": "number", "removed": false},
            {"id": "label", "displayName": "label", "required": false, "defaultMatch": false,
             "display": true, "canBeUsedToMatch": true, "type": "string", "removed": false}
        ],
        "attemptToConvertTypes": attempt_to_convert, "convertFieldsToString": true}});
    params
        .as_object_mut()
        .unwrap()
        .extend(call.as_object().unwrap().clone());
    json!({"name": "parent", "settings": {"executionOrder": "v1"}, "nodes": [
        {"name": "Start", "type": "n8n-nodes-base.manualTrigger", "typeVersion": 1,
         "position": [0, 0], "parameters": {}},
        {"name": "Call", "type": "n8n-nodes-base.executeWorkflow", "typeVersion": 1.3,
         "position": [200, 0], "parameters": params}
    ], "connections": {"Start": {"main": [[{"node": "Call", "type": "main", "index": 0}]]}}})
}

/// Store `workflow`, run it with `data` items; returns the execution.
async fn run(s: &TestServer, workflow: Value, data: Value) -> Value {
    let (status, wf) = s.api(Method::POST, "/workflows", Some(workflow)).await;
    assert_eq!(status, 200, "{wf}");
    let (status, exec) = s
        .api(
            Method::POST,
            &format!("/workflows/{}/run", wf["id"].as_str().unwrap()),
            Some(json!({ "data": data })),
        )
        .await;
    assert_eq!(status, 200, "{exec}");
    exec
}

fn call_output(exec: &Value) -> Vec<Value> {
    exec["data"]["resultData"]["runData"]["Call"][0]["data"]["main"][0]
        .as_array()
        .unwrap_or_else(|| panic!("Call has no output: {exec}"))
        .iter()
        .map(|item| item["json"].clone())
        .collect()
}

async fn stored_sub_workflow_with_declared_inputs(postgres: bool) {
    let s = TestServer::start(postgres).await;
    let (_, stored) = s.api(Method::POST, "/workflows", Some(child())).await;
    let child_id = stored["id"].as_str().unwrap().to_string();
    let locator = json!({"source": "database", "workflowId": {
        "__rl": true, "value": child_id, "mode": "list", "cachedResultName": "child"}});
    let items = json!([{"value": "3", "name": "a", "secret": 1}, {"value": 4, "name": "b"}]);

    let exec = run(&s, parent(locator.clone(), true), items.clone()).await;
    assert_eq!(exec["status"], json!("success"), "{exec}");
    assert_eq!(
        call_output(&exec),
        vec![
            json!({"n": 3, "label": "a", "sq": 9}),
            json!({"n": 4, "label": "b", "sq": 16})
        ]
    );
    let runs = s
        .wait_executions(&format!("workflowId={child_id}&includeData=true"), 1)
        .await;
    assert_eq!(runs[0]["mode"], json!("integrated"));
    let received = &runs[0]["data"]["resultData"]["runData"]["In"][0]["data"]["main"][0];
    assert_eq!(received[0]["json"], json!({"n": 3, "label": "a"}));

    // The child is built once and kept for later calls, until it is saved changed.
    let mut cubes = child();
    cubes["nodes"][1]["parameters"]["assignments"]["assignments"][0]["value"] =
        json!("={{ $json.n * $json.n * $json.n }}");
    let (status, body) = s
        .api(Method::PUT, &format!("/workflows/{child_id}"), Some(cubes))
        .await;
    assert_eq!(status, 200, "{body}");
    let exec = run(&s, parent(locator.clone(), true), json!([{"value": 2}])).await;
    assert_eq!(
        call_output(&exec),
        vec![json!({"n": 2, "label": null, "sq": 8})],
        "the saved version runs, not the one built for the first call"
    );

    // Without conversion the text "3" is not a number: the call fails before the child runs.
    let exec = run(&s, parent(locator, false), items).await;
    assert_eq!(exec["status"], json!("error"), "{exec}");
    let error = &exec["data"]["resultData"]["error"];
    assert_eq!(
        error["message"],
        json!("Invalid input for 'n': 'n' expects a number but we got '3'")
    );
    assert_eq!(error["node"], json!("Call"));
    assert_eq!(error["itemIndex"], json!(0));
    let (_, child_runs) = s
        .api(
            Method::GET,
            &format!("/executions?workflowId={child_id}"),
            None,
        )
        .await;
    assert_eq!(child_runs["data"].as_array().unwrap().len(), 2);
    s.stop().await;
}

async fn sub_workflow_from_a_url(postgres: bool) {
    let s = TestServer::start(postgres).await;
    let served = child();
    let app = axum::Router::new().route(
        "/child.json",
        axum::routing::get(move || async move { axum::Json(served) }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let from_url = json!({"source": "url", "workflowUrl": format!("{base}/child.json")});
    let exec = run(
        &s,
        parent(from_url, false),
        json!([{"value": 5, "name": "c"}]),
    )
    .await;
    assert_eq!(exec["status"], json!("success"), "{exec}");
    assert_eq!(
        call_output(&exec),
        vec![json!({"n": 5, "label": "c", "sq": 25})]
    );

    let missing = json!({"source": "url", "workflowUrl": format!("{base}/missing.json")});
    let exec = run(&s, parent(missing, false), json!([{"value": 5}])).await;
    assert_eq!(exec["status"], json!("error"), "{exec}");
    let error = &exec["data"]["resultData"]["error"];
    assert_eq!(
        error["message"],
        json!(format!(
            "cannot load the workflow from '{base}/missing.json': the server answered 404 Not Found"
        ))
    );
    assert_eq!(error["parameter"], json!("workflowUrl"));
    s.stop().await;
}

on_both_backends!(
    stored_sub_workflow_with_declared_inputs,
    sub_workflow_from_a_url
);
