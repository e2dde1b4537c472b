//! The REST API, health and metrics over real HTTP, on SQLite and on Postgres.

mod support;

use reqwest::Method;
use serde_json::{json, Value};
use sluice_store::on_both_backends;
use support::{webhook_workflow, TestDb, TestServer};

fn manual_workflow(name: &str) -> Value {
    json!({"name": name, "nodes": [
        {"name": "Start", "type": "n8n-nodes-base.manualTrigger", "typeVersion": 1, "position": [0, 0], "parameters": {}},
        {"name": "Set", "type": "n8n-nodes-base.set", "typeVersion": 3.4, "position": [200, 0],
         "parameters": {"assignments": {"assignments": [
             {"id": "1", "name": "doubled", "value": "={{ ($json.n || 1) * 2 }}", "type": "number"}]}, "options": {}}}
    ], "connections": {"Start": {"main": [[{"node": "Set", "type": "main", "index": 0}]]}},
       "settings": {"executionOrder": "v1"}, "x-extra": {"kept": true}})
}

/// `POST /executions/{id}/stop` on an execution running in the server: it is dropped and ends
/// `canceled` (the Wait had a minute to go); stopping it again is a conflict.
async fn stop_a_running_execution(postgres: bool) {
    let s = TestServer::start(postgres).await;
    let id = s
        .deploy(
            json!({"name": "waits", "settings": {"executionOrder": "v1"}, "nodes": [
            {"name": "Start", "type": "n8n-nodes-base.manualTrigger", "typeVersion": 1,
             "position": [0, 0], "parameters": {}},
            {"name": "Wait", "type": "n8n-nodes-base.wait", "typeVersion": 1.1,
             "position": [200, 0], "parameters": {"resume": "timeInterval", "amount": 60,
             "unit": "seconds"}}],
            "connections": {"Start": {"main": [[{"node": "Wait", "type": "main", "index": 0}]]}}}),
        )
        .await;
    let (status, run) = s
        .api(
            Method::POST,
            &format!("/workflows/{id}/run?wait=false"),
            None,
        )
        .await;
    assert_eq!(
        (status, run["status"].clone()),
        (200, json!("running")),
        "{run}"
    );
    let stop = format!("/executions/{}/stop", run["id"].as_str().unwrap());
    let started = std::time::Instant::now();
    let (status, stopped) = s.api(Method::POST, &stop, None).await;
    assert_eq!(
        (status, stopped["status"].clone()),
        (200, json!("canceled")),
        "{stopped}"
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "stopped by its runner"
    );
    assert_eq!(s.execution(&run["id"]).await["status"], "canceled");
    let metrics = s
        .client
        .get(format!("{}/metrics", s.base))
        .send()
        .await
        .unwrap();
    let metrics = metrics.text().await.unwrap();
    assert!(
        metrics.contains(&format!(
            "sluice_executions_total{{workflow_id=\"{id}\",status=\"canceled\"}} 1"
        )),
        "{metrics}"
    );
    let (status, again) = s.api(Method::POST, &stop, None).await;
    assert_eq!(status, 409, "{again}");
    assert!(again["message"]
        .as_str()
        .unwrap()
        .contains("already ended (status canceled)"));
    let (status, unknown) = s.api(Method::POST, "/executions/424242/stop", None).await;
    assert_eq!(
        (status, unknown),
        (404, json!({"message": "execution 424242 not found"}))
    );
    let (status, _) = s.api(Method::POST, "/executions/abc/stop", None).await;
    assert_eq!(status, 400);
    s.stop().await;
}

async fn health_and_auth(postgres: bool) {
    let s = TestServer::start(postgres).await;
    let health = s
        .client
        .get(format!("{}/healthz", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let ready = s
        .client
        .get(format!("{}/healthz/readiness", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
    let (status, body) = support::json_of(
        s.client
            .get(format!("{}/api/v1/workflows", s.base))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 401);
    assert!(body["message"].as_str().unwrap().contains("X-N8N-API-KEY"));
    let wrong = s
        .client
        .get(format!("{}/api/v1/workflows", s.base))
        .header("X-N8N-API-KEY", "nope")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let (status, body) = s.api(Method::GET, "/nothing-here", None).await;
    assert_eq!((status, body["message"].is_string()), (404, true));
    s.stop().await;
}

async fn workflow_crud(postgres: bool) {
    let s = TestServer::start(postgres).await;
    let (status, created) = s
        .api(Method::POST, "/workflows", Some(manual_workflow("one")))
        .await;
    assert_eq!(status, 200, "{created}");
    let id = created["id"].as_str().unwrap().to_string();
    assert_eq!(created["active"], json!(false));
    assert_eq!(
        created["x-extra"],
        json!({"kept": true}),
        "unknown fields round-trip"
    );

    let (status, got) = s.api(Method::GET, &format!("/workflows/{id}"), None).await;
    assert_eq!((status, got["name"].clone()), (200, json!("one")));
    let mut renamed = manual_workflow("renamed");
    renamed["nodes"][1]["name"] = json!("Set");
    let (status, updated) = s
        .api(Method::PUT, &format!("/workflows/{id}"), Some(renamed))
        .await;
    assert_eq!((status, updated["name"].clone()), (200, json!("renamed")));

    for i in 0..3 {
        s.api(
            Method::POST,
            "/workflows",
            Some(manual_workflow(&format!("w{i}"))),
        )
        .await;
    }
    let (_, page1) = s.api(Method::GET, "/workflows?limit=3", None).await;
    assert_eq!(page1["data"].as_array().unwrap().len(), 3);
    let cursor = page1["nextCursor"].as_str().unwrap();
    let (_, page2) = s
        .api(
            Method::GET,
            &format!("/workflows?limit=3&cursor={cursor}"),
            None,
        )
        .await;
    assert_eq!(page2["data"].as_array().unwrap().len(), 1);
    assert_eq!(page2["nextCursor"], Value::Null);

    let (status, _) = s
        .api(Method::POST, &format!("/workflows/{id}/activate"), None)
        .await;
    assert_eq!(status, 200);
    let (_, active) = s.api(Method::GET, "/workflows?active=true", None).await;
    assert_eq!(active["data"][0]["id"], json!(id));
    let (status, body) = s
        .api(Method::POST, &format!("/workflows/{id}/deactivate"), None)
        .await;
    assert_eq!((status, body["active"].clone()), (200, json!(false)));

    // Bad input: 4xx with a JSON message.
    let (status, body) = s
        .api(Method::POST, "/workflows", Some(json!({"nodes": []})))
        .await;
    assert_eq!(status, 400);
    assert!(body["message"].as_str().unwrap().contains("name"));
    let unsupported = json!({"name": "x", "connections": {}, "nodes": [
        {"name": "A", "type": "n8n-nodes-base.nope", "typeVersion": 1, "position": [0, 0], "parameters": {}}]});
    let (status, body) = s.api(Method::POST, "/workflows", Some(unsupported)).await;
    assert_eq!(status, 400);
    assert!(body["message"]
        .as_str()
        .unwrap()
        .contains("unsupported node type"));
    let raw = s
        .client
        .post(format!("{}/api/v1/workflows", s.base))
        .header("X-N8N-API-KEY", &s.key)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    let (status, body) = support::json_of(raw).await;
    assert_eq!((status, body["message"].is_string()), (400, true));
    let (status, _) = s.api(Method::GET, "/workflows?limit=1000", None).await;
    assert_eq!(status, 400);
    let (status, _) = s.api(Method::GET, "/workflows/missing", None).await;
    assert_eq!(status, 404);

    let (status, _) = s
        .api(Method::DELETE, &format!("/workflows/{id}"), None)
        .await;
    assert_eq!(status, 200);
    let (status, _) = s.api(Method::GET, &format!("/workflows/{id}"), None).await;
    assert_eq!(status, 404);
    s.stop().await;
}

async fn run_and_executions(postgres: bool) {
    let s = TestServer::start(postgres).await;
    let (_, wf) = s
        .api(Method::POST, "/workflows", Some(manual_workflow("run")))
        .await;
    let id = wf["id"].as_str().unwrap().to_string();
    let (status, exec) = s
        .api(
            Method::POST,
            &format!("/workflows/{id}/run"),
            Some(json!({"data": [{"n": 21}]})),
        )
        .await;
    assert_eq!(status, 200, "{exec}");
    assert_eq!(exec["status"], json!("success"));
    assert_eq!(
        exec["data"]["resultData"]["runData"]["Set"][0]["data"]["main"][0][0]["json"]["doubled"],
        json!(42)
    );
    let first = exec["id"].as_str().unwrap().to_string();
    for _ in 0..2 {
        s.api(Method::POST, &format!("/workflows/{id}/run"), None)
            .await;
    }
    let (_, list) = s
        .api(
            Method::GET,
            &format!("/executions?workflowId={id}&limit=2"),
            None,
        )
        .await;
    assert_eq!(list["data"].as_array().unwrap().len(), 2);
    assert!(list["data"][0].get("data").is_none());
    let cursor = list["nextCursor"].as_str().unwrap();
    let (_, rest) = s
        .api(
            Method::GET,
            &format!("/executions?limit=2&cursor={cursor}"),
            None,
        )
        .await;
    assert_eq!(rest["data"][0]["id"], json!(first));
    let (_, errors) = s.api(Method::GET, "/executions?status=error", None).await;
    assert_eq!(errors["data"].as_array().unwrap().len(), 0);

    let (status, one) = s
        .api(
            Method::GET,
            &format!("/executions/{first}?includeData=true"),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert!(one["data"]["resultData"]["runData"]["Set"].is_array());
    let (status, retried) = s
        .api(Method::POST, &format!("/executions/{first}/retry"), None)
        .await;
    assert_eq!(status, 200, "{retried}");
    assert_eq!(retried["retryOf"], json!(first));
    assert_eq!(
        retried["data"]["resultData"]["runData"]["Set"][0]["data"]["main"][0][0]["json"]["doubled"],
        json!(42)
    );

    let (status, _) = s
        .api(Method::DELETE, &format!("/executions/{first}"), None)
        .await;
    assert_eq!(status, 200);
    let (status, _) = s
        .api(Method::GET, &format!("/executions/{first}"), None)
        .await;
    assert_eq!(status, 404);
    let (status, _) = s.api(Method::GET, "/executions/abc", None).await;
    assert_eq!(status, 400);
    s.stop().await;
}

async fn credentials(postgres: bool) {
    let s = TestServer::start(postgres).await;
    let (status, cred) = s
        .api(
            Method::POST,
            "/credentials",
            Some(json!({"name": "c", "type": "httpHeaderAuth",
            "data": {"name": "X-Token", "value": "s3cret"}})),
        )
        .await;
    assert_eq!(status, 200);
    assert!(cred.get("data").is_none(), "secrets are never returned");
    assert!(!cred.to_string().contains("s3cret"));
    let (status, _) = s
        .api(Method::POST, "/credentials", Some(json!({"name": "c"})))
        .await;
    assert_eq!(status, 400);
    let id = cred["id"].as_str().unwrap();
    let (status, _) = s
        .api(Method::DELETE, &format!("/credentials/{id}"), None)
        .await;
    assert_eq!(status, 200);
    let (status, _) = s
        .api(Method::DELETE, &format!("/credentials/{id}"), None)
        .await;
    assert_eq!(status, 404);
    s.stop().await;
}

/// An n8n export with string tags and a connection keyed by a node's id is accepted; the answer
/// says what is odd; the workflow runs as n8n runs it (the id-keyed connection never fires).
async fn odd_workflow_import(postgres: bool) {
    let s = TestServer::start(postgres).await;
    let mut wf = manual_workflow("odd");
    wf["tags"] = json!(["automation", "crm"]);
    wf["nodes"][1]["id"] = json!("set-id");
    wf["connections"]["set-id"] =
        json!({"main": [[{"node": "error-handler-set-id", "type": "main", "index": 0}]]});
    let (status, created) = s.api(Method::POST, "/workflows", Some(wf)).await;
    assert_eq!(status, 200, "{created}");
    assert_eq!(created["tags"], json!(["automation", "crm"]));
    let warnings = created["warnings"].as_array().expect("warnings");
    assert_eq!(warnings.len(), 1, "{created}");
    assert!(warnings[0]
        .as_str()
        .unwrap()
        .contains("'set-id' never run: no node has that name (it is the id of node 'Set'"));
    let id = created["id"].as_str().unwrap();
    let (status, execution) = s
        .api(
            Method::POST,
            &format!("/workflows/{id}/run"),
            Some(json!({"data": [{"n": 2}]})),
        )
        .await;
    assert_eq!(
        (status, execution["status"].clone()),
        (200, json!("success")),
        "{execution}"
    );
    let (_, plain) = s
        .api(Method::POST, "/workflows", Some(manual_workflow("plain")))
        .await;
    assert!(plain.get("warnings").is_none(), "{plain}");
    s.stop().await;
}

/// Execution Data's custom data is saved with the execution and returned as `customData`.
async fn execution_custom_data(postgres: bool) {
    let s = TestServer::start(postgres).await;
    let wf = json!({"name": "custom", "nodes": [
        {"name": "Start", "type": "n8n-nodes-base.manualTrigger", "typeVersion": 1, "position": [0, 0], "parameters": {}},
        {"name": "Save", "type": "n8n-nodes-base.executionData", "typeVersion": 1.1, "position": [200, 0],
         "parameters": {"dataToSave": {"values": [{"key": "order", "value": "={{ $json.order }}"}]}}}
    ], "connections": {"Start": {"main": [[{"node": "Save", "type": "main", "index": 0}]]}},
       "settings": {"executionOrder": "v1"}});
    let (_, created) = s.api(Method::POST, "/workflows", Some(wf)).await;
    let id = created["id"].as_str().unwrap();
    let (status, run) = s
        .api(
            Method::POST,
            &format!("/workflows/{id}/run"),
            Some(json!({"data": [{"order": 42}]})),
        )
        .await;
    assert_eq!(
        (status, run["customData"].clone()),
        (200, json!({"order": "42"})),
        "{run}"
    );
    let execution_id = run["id"].as_str().unwrap();
    let (_, got) = s
        .api(Method::GET, &format!("/executions/{execution_id}"), None)
        .await;
    assert_eq!(got["customData"], json!({"order": "42"}));
    s.stop().await;
}

/// Active workflows in the store that cannot be built (imported with `sluice workflow import
/// --activate`, or stored by another version): the server starts, says which and why, and
/// serves the others.
async fn unbuildable_active_workflows_are_skipped(postgres: bool) {
    let db = TestDb::new(postgres, "server_test").await;
    let store = db.open().await;
    let mut unknown_node = webhook_workflow("unknown-node", "lastNode", json!({}));
    unknown_node["nodes"][1]["type"] = json!("n8n-nodes-base.doesNotExist");
    let mut setting_as_expression =
        webhook_workflow("setting-as-expression", "lastNode", json!({}));
    setting_as_expression["nodes"][1]["parameters"]["includeOtherFields"] = json!("={{ true }}");
    let mut ids = Vec::new();
    for wf in [
        unknown_node,
        setting_as_expression,
        webhook_workflow("good", "lastNode", json!({})),
    ] {
        let id = store.put_workflow(None, wf).await.unwrap().id;
        store.set_workflow_active(&id, true).await.unwrap();
        ids.push(id);
    }

    let s = TestServer::on(&db, |_| {}).await;
    let (status, body) = s.post("/webhook/good", json!({"amount": 3})).await;
    assert_eq!((status, body), (200, json!({"ok": true, "amount": 3})));
    for path in ["unknown-node", "setting-as-expression"] {
        let (status, _) = s.post(&format!("/webhook/{path}"), json!({})).await;
        assert_eq!(status, 404, "{path}");
    }
    let (_, bad) = s
        .api(Method::GET, &format!("/workflows/{}", ids[1]), None)
        .await;
    assert_eq!(
        bad["activationError"],
        json!("node 'Set': this setting cannot be an expression [parameter 'includeOtherFields']"),
        "{bad}"
    );
    let (_, good) = s
        .api(Method::GET, &format!("/workflows/{}", ids[2]), None)
        .await;
    assert!(good.get("activationError").is_none(), "{good}");
    s.stop().await;
}

on_both_backends!(
    health_and_auth,
    unbuildable_active_workflows_are_skipped,
    odd_workflow_import,
    execution_custom_data,
    workflow_crud,
    run_and_executions,
    stop_a_running_execution,
    credentials
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_executions() {
    let s = TestServer::start(false).await;
    let id = s
        .deploy(webhook_workflow("metered", "lastNode", json!({})))
        .await;
    let (status, _) = s.post("/webhook/metered", json!({"amount": 1})).await;
    assert_eq!(status, 200);
    let text = s
        .client
        .get(format!("{}/metrics", s.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains(&format!(
            "sluice_executions_total{{workflow_id=\"{id}\",status=\"success\"}}"
        )),
        "{text}"
    );
    assert!(text.contains("sluice_execution_duration_seconds_bucket"));
    assert!(text.contains("sluice_node_duration_seconds"));
    assert!(text.contains("sluice_items_processed_total"));
    assert!(text.contains("sluice_executions_in_flight"));
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn error_workflow_and_sub_workflow() {
    let s = TestServer::start(false).await;
    let (_, on_error) = s
        .api(Method::POST, "/workflows", Some(json!({"name": "on error", "nodes": [
            {"name": "Error Trigger", "type": "n8n-nodes-base.errorTrigger", "typeVersion": 1, "position": [0, 0], "parameters": {}}
        ], "connections": {}})))
        .await;
    let error_id = on_error["id"].as_str().unwrap().to_string();
    let failing = json!({"name": "fails", "settings": {"executionOrder": "v1", "errorWorkflow": error_id}, "nodes": [
        {"name": "Start", "type": "n8n-nodes-base.manualTrigger", "typeVersion": 1, "position": [0, 0], "parameters": {}},
        {"name": "Boom", "type": "n8n-nodes-base.stopAndError", "typeVersion": 1, "position": [200, 0],
         "parameters": {"errorMessage": "boom"}}
    ], "connections": {"Start": {"main": [[{"node": "Boom", "type": "main", "index": 0}]]}}});
    let (_, wf) = s.api(Method::POST, "/workflows", Some(failing)).await;
    let (_, exec) = s
        .api(
            Method::POST,
            &format!("/workflows/{}/run", wf["id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(exec["status"], json!("error"));
    let runs = s
        .wait_executions(&format!("workflowId={error_id}&includeData=true"), 1)
        .await;
    let item =
        &runs[0]["data"]["resultData"]["runData"]["Error Trigger"][0]["data"]["main"][0][0]["json"];
    assert_eq!(item["execution"]["id"], exec["id"]);
    assert!(item["execution"]["error"]["message"]
        .as_str()
        .unwrap()
        .contains("boom"));
    assert_eq!(item["workflow"]["name"], json!("fails"));

    // Execute Workflow: a stored sub-workflow, once per item.
    let (_, child) = s.api(Method::POST, "/workflows", Some(json!({"name": "child", "settings": {"executionOrder": "v1"}, "nodes": [
        {"name": "In", "type": "n8n-nodes-base.executeWorkflowTrigger", "typeVersion": 1, "position": [0, 0], "parameters": {}},
        {"name": "Set", "type": "n8n-nodes-base.set", "typeVersion": 3.4, "position": [200, 0],
         "parameters": {"assignments": {"assignments": [{"id": "1", "name": "sq", "value": "={{ $json.n * $json.n }}", "type": "number"}]}, "options": {}}}
    ], "connections": {"In": {"main": [[{"node": "Set", "type": "main", "index": 0}]]}}}))).await;
    let parent = json!({"name": "parent", "settings": {"executionOrder": "v1"}, "nodes": [
        {"name": "Start", "type": "n8n-nodes-base.manualTrigger", "typeVersion": 1, "position": [0, 0], "parameters": {}},
        {"name": "Call", "type": "n8n-nodes-base.executeWorkflow", "typeVersion": 1.1, "position": [200, 0],
         "parameters": {"source": "database", "workflowId": child["id"], "mode": "each", "options": {}}}
    ], "connections": {"Start": {"main": [[{"node": "Call", "type": "main", "index": 0}]]}}});
    let (_, p) = s.api(Method::POST, "/workflows", Some(parent)).await;
    let (_, exec) = s
        .api(
            Method::POST,
            &format!("/workflows/{}/run", p["id"].as_str().unwrap()),
            Some(json!({"data": [{"n": 3}, {"n": 4}]})),
        )
        .await;
    let out = &exec["data"]["resultData"]["runData"]["Call"][0]["data"]["main"][0];
    assert_eq!(out[0]["json"]["sq"], json!(9), "{exec}");
    assert_eq!(out[1]["json"]["sq"], json!(16));
    s.stop().await;
}
