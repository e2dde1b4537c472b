//! Webhooks over real HTTP: each response mode, auth, size limit, unknown path, bad JSON, path
//! parameters and test URLs, on SQLite and Postgres.

#[macro_use]
mod support;

use reqwest::Method;
use serde_json::json;
use support::{webhook_workflow, TestServer};

async fn response_modes(postgres: bool) {
    let s = TestServer::start(postgres).await;
    let received = s
        .deploy(webhook_workflow("received", "onReceived", json!({})))
        .await;
    s.deploy(webhook_workflow("last", "lastNode", json!({})))
        .await;
    s.deploy(webhook_workflow(
        "all",
        "lastNode",
        json!({"responseData": "allEntries"}),
    ))
    .await;
    s.deploy(webhook_workflow("node", "responseNode", json!({})))
        .await;

    let (status, body) = s.post("/webhook/received", json!({"amount": 1})).await;
    assert_eq!(
        (status, body),
        (200, json!({"message": "Workflow was started"}))
    );
    let runs = s
        .wait_executions(
            &format!("workflowId={received}&status=success&includeData=true"),
            1,
        )
        .await;
    let item =
        &runs[0]["data"]["resultData"]["runData"]["Webhook"][0]["data"]["main"][0][0]["json"];
    assert_eq!(item["body"], json!({"amount": 1}));
    assert_eq!(item["headers"]["content-type"], json!("application/json"));
    assert_eq!(runs[0]["mode"], json!("webhook"));

    let (status, body) = s.post("/webhook/last", json!({"amount": 2})).await;
    assert_eq!((status, body), (200, json!({"ok": true, "amount": 2})));
    let (status, body) = s.post("/webhook/all", json!({"amount": 3})).await;
    assert_eq!((status, body), (200, json!([{"ok": true, "amount": 3}])));
    let (status, body) = s.post("/webhook/node", json!({"amount": 4})).await;
    assert_eq!((status, body), (201, json!({"ok": true, "amount": 4})));
    s.stop().await;
}

async fn errors_are_json(postgres: bool) {
    let s = TestServer::with(postgres, |c| c.payload_size_max = 1024 * 1024).await;
    s.deploy(webhook_workflow("hook", "lastNode", json!({})))
        .await;
    let (status, body) = s.post("/webhook/unknown", json!({})).await;
    assert_eq!(status, 404);
    assert!(body["message"].as_str().unwrap().contains("not registered"));
    let get = s
        .client
        .get(format!("{}/webhook/hook", s.base))
        .send()
        .await
        .unwrap();
    let (status, body) = support::json_of(get).await;
    assert_eq!(status, 404);
    assert!(body["message"]
        .as_str()
        .unwrap()
        .contains("not registered for GET"));
    let bad = s
        .client
        .post(format!("{}/webhook/hook", s.base))
        .header("content-type", "application/json")
        .body("{\"amount\": ")
        .send()
        .await
        .unwrap();
    let (status, body) = support::json_of(bad).await;
    assert_eq!(status, 400);
    assert!(body["message"].as_str().unwrap().contains("parse"));
    let big = s
        .client
        .post(format!("{}/webhook/hook", s.base))
        .header("content-type", "application/json")
        .body(format!("{{\"pad\": \"{}\"}}", "x".repeat(2 * 1024 * 1024)))
        .send()
        .await
        .unwrap();
    let (status, body) = support::json_of(big).await;
    assert_eq!(status, 413);
    assert!(body["message"]
        .as_str()
        .unwrap()
        .contains("N8N_PAYLOAD_SIZE_MAX"));
    // A failing workflow in lastNode mode.
    let mut failing = webhook_workflow("fails", "lastNode", json!({}));
    failing["nodes"][1] = json!({"name": "Set", "type": "n8n-nodes-base.stopAndError", "typeVersion": 1,
        "position": [200, 0], "parameters": {"errorMessage": "boom"}});
    s.deploy(failing).await;
    let (status, body) = s.post("/webhook/fails", json!({})).await;
    assert_eq!(
        (status, body),
        (500, json!({"message": "Error in workflow"}))
    );
    s.stop().await;
}

async fn authentication(postgres: bool) {
    let s = TestServer::start(postgres).await;
    let (_, basic) = s
        .api(
            Method::POST,
            "/credentials",
            Some(json!({"name": "b", "type": "httpBasicAuth",
            "data": {"user": "ada", "password": "pw"}})),
        )
        .await;
    let (_, header) = s
        .api(
            Method::POST,
            "/credentials",
            Some(json!({"name": "h", "type": "httpHeaderAuth",
            "data": {"name": "X-Token", "value": "t0k"}})),
        )
        .await;
    let mut wf = webhook_workflow("basic", "lastNode", json!({"authentication": "basicAuth"}));
    wf["nodes"][0]["credentials"] = json!({"httpBasicAuth": {"id": basic["id"], "name": "b"}});
    s.deploy(wf).await;
    let mut wf = webhook_workflow(
        "header",
        "lastNode",
        json!({"authentication": "headerAuth"}),
    );
    wf["nodes"][0]["webhookId"] = json!("hook-2");
    wf["nodes"][0]["credentials"] = json!({"httpHeaderAuth": {"id": header["id"], "name": "h"}});
    s.deploy(wf).await;

    let url = |p: &str| format!("{}/webhook/{p}", s.base);
    let (status, body) = support::json_of(
        s.client
            .post(url("basic"))
            .json(&json!({}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, body["message"].is_string()), (401, true));
    let wrong = s
        .client
        .post(url("basic"))
        .basic_auth("ada", Some("no"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let ok = s
        .client
        .post(url("basic"))
        .basic_auth("ada", Some("pw"))
        .json(&json!({"amount": 5}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        support::json_of(ok).await,
        (200, json!({"ok": true, "amount": 5}))
    );
    let (status, _) = support::json_of(
        s.client
            .post(url("header"))
            .header("X-Token", "bad")
            .json(&json!({}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 401);
    let ok = s
        .client
        .post(url("header"))
        .header("X-Token", "t0k")
        .json(&json!({"amount": 6}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        support::json_of(ok).await,
        (200, json!({"ok": true, "amount": 6}))
    );
    s.stop().await;
}

/// A Code node counting calls in `$getWorkflowStaticData('global')`: the count survives from
/// one execution of the active workflow to the next through the store.
async fn static_data_survives_executions(postgres: bool) {
    let s = TestServer::start(postgres).await;
    let mut wf = webhook_workflow("count", "lastNode", json!({}));
    wf["nodes"][1] = json!({"name": "Count", "type": "n8n-nodes-base.code", "typeVersion": 2,
        "position": [200, 0], "parameters": {"jsCode":
            "const data = $getWorkflowStaticData('global');\n\
             data.count = (data.count || 0) + 1;\n\
             return [{count: data.count}];"}});
    wf["connections"] =
        json!({"Webhook": {"main": [[{"node": "Count", "type": "main", "index": 0}]]}});
    wf["staticData"] = json!({"global": {"count": 10}});
    let id = s.deploy(wf).await;
    let (status, body) = s.post("/webhook/count", json!({})).await;
    assert_eq!((status, body), (200, json!({"count": 11})));
    let (status, body) = s.post("/webhook/count", json!({})).await;
    assert_eq!((status, body), (200, json!({"count": 12})));
    let saved = s.store.workflow_static_data(&id).await.unwrap();
    assert_eq!(
        saved.map(serde_json::Value::Object),
        Some(json!({"global": {"count": 12}}))
    );
    s.stop().await;
}

/// An execution answered by Respond to Webhook while it goes on is in the store, as running,
/// by the time the answer arrives (a crash after the answer cannot lose it); it is saved as a
/// success when it ends.
async fn answered_executions_are_recorded_before_the_answer(postgres: bool) {
    let s = TestServer::start(postgres).await;
    let mut wf = webhook_workflow("tail", "responseNode", json!({}));
    wf["nodes"].as_array_mut().unwrap().push(json!({
        "name": "Wait", "type": "n8n-nodes-base.wait", "typeVersion": 1.1, "position": [600, 0],
        "webhookId": "wait-1", "parameters": {"resume": "timeInterval", "amount": 1.5, "unit": "seconds"}}));
    wf["connections"]["Respond"] =
        json!({"main": [[{"node": "Wait", "type": "main", "index": 0}]]});
    let id = s.deploy(wf).await;
    let (status, body) = s.post("/webhook/tail", json!({"amount": 5})).await;
    assert_eq!((status, body), (201, json!({"ok": true, "amount": 5})));
    let filter = |status: &str| sluice_store::ExecutionFilter {
        status: Some(status.into()),
        workflow_id: Some(id.clone()),
    };
    assert_eq!(
        s.store.count_executions(&filter("running")).await.unwrap(),
        1
    );
    let runs = s
        .wait_executions(&format!("workflowId={id}&status=success"), 1)
        .await;
    assert_eq!(runs[0]["mode"], json!("webhook"));
    assert_eq!(
        s.store.count_executions(&filter("running")).await.unwrap(),
        0
    );
    s.stop().await;
}

on_both_backends!(
    answered_executions_are_recorded_before_the_answer,
    response_modes,
    errors_are_json,
    authentication,
    static_data_survives_executions
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn path_parameters_query_and_test_url() {
    let s = TestServer::start(false).await;
    let mut wf = webhook_workflow("user/:id", "lastNode", json!({}));
    wf["nodes"][1]["parameters"]["assignments"]["assignments"] = json!([
        {"id": "1", "name": "id", "value": "={{ $json.params.id }}", "type": "string"},
        {"id": "2", "name": "q", "value": "={{ $json.query.q }}", "type": "string"}]);
    s.deploy(wf).await;
    let (status, body) = s.post("/webhook/hook-1/user/42?q=yes", json!({})).await;
    assert_eq!((status, body), (200, json!({"id": "42", "q": "yes"})));

    // An inactive workflow answers on the test URL only, as a manual execution.
    let (_, inactive) = s
        .api(
            Method::POST,
            "/workflows",
            Some(webhook_workflow("draft", "lastNode", json!({}))),
        )
        .await;
    let (status, _) = s.post("/webhook/draft", json!({"amount": 1})).await;
    assert_eq!(status, 404);
    let (status, body) = s.post("/webhook-test/draft", json!({"amount": 7})).await;
    assert_eq!((status, body), (200, json!({"ok": true, "amount": 7})));
    let runs = s
        .wait_executions(
            &format!("workflowId={}", inactive["id"].as_str().unwrap()),
            1,
        )
        .await;
    assert_eq!(runs[0]["mode"], json!("manual"));
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_finishes_accepted_executions() {
    let s = TestServer::start(false).await;
    let mut wf = webhook_workflow("slow", "onReceived", json!({}));
    wf["nodes"].as_array_mut().unwrap().push(json!({"name": "Wait", "type": "n8n-nodes-base.wait",
        "typeVersion": 1.1, "position": [400, 0], "parameters": {"resume": "timeInterval", "amount": 0.3, "unit": "seconds"}}));
    wf["connections"]["Set"] = json!({"main": [[{"node": "Wait", "type": "main", "index": 0}]]});
    let id = s.deploy(wf).await;
    for _ in 0..5 {
        let (status, _) = s.post("/webhook/slow", json!({"amount": 1})).await;
        assert_eq!(status, 200);
    }
    let store = s.store.clone();
    let db = s.stop().await.unwrap();
    drop(store);
    let reopened = db.open().await;
    let filter = sluice_store::ExecutionFilter {
        workflow_id: Some(id),
        status: Some("success".into()),
    };
    let all = reopened
        .list_executions(&Default::default(), None, 10, true)
        .await
        .unwrap();
    assert_eq!(
        reopened.count_executions(&filter).await.unwrap(),
        5,
        "{:?}",
        all.data
    );
    reopened.close().await;
}
