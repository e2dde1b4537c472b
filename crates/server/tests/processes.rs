//! Several servers on one database, as several `sluice serve` processes: each keeps the
//! executions it runs while it lives, a live one takes over those of one that died, and workflow
//! changes made anywhere reach every server; on SQLite and Postgres.

mod support;

use reqwest::Method;
use serde_json::{json, Value};
use sluice_server::ServerConfig;
use sluice_store::on_both_backends;
use std::time::Duration;
use support::{eventually, webhook_workflow, TestDb, TestServer};

/// Quick heartbeats and workflow syncs, and no waiting for executions on shutdown.
fn fast(config: &mut ServerConfig) {
    config.heartbeat_interval = Duration::from_millis(100);
    config.workflow_sync_interval = Duration::from_millis(100);
    config.graceful_shutdown_timeout = Duration::ZERO;
}

fn wait_a_minute() -> Value {
    json!({"name": "Wait", "type": "n8n-nodes-base.wait", "typeVersion": 1.1, "position": [400, 0],
           "parameters": {"resume": "timeInterval", "amount": 60, "unit": "seconds"}})
}

/// Store a workflow (inactive); returns its id.
async fn create(s: &TestServer, workflow: Value) -> String {
    let (status, body) = s.api(Method::POST, "/workflows", Some(workflow)).await;
    assert_eq!(status, 200, "{body}");
    body["id"].as_str().unwrap().to_string()
}

async fn a_dead_process_executions_are_taken_over(postgres: bool) {
    let db = TestDb::new(postgres, "server_test").await;
    let a = TestServer::on(&db, fast).await;
    let child = create(&a, json!({"name": "child", "nodes": [
        {"name": "In", "type": "n8n-nodes-base.executeWorkflowTrigger", "typeVersion": 1, "position": [0, 0], "parameters": {}}
    ], "connections": {}}))
    .await;
    // Resumable (accepted with onReceived): it runs the child, then waits a minute.
    let parent = a.deploy(json!({"name": "parent", "settings": {"executionOrder": "v1"}, "nodes": [
        {"name": "Webhook", "type": "n8n-nodes-base.webhook", "typeVersion": 2, "position": [0, 0],
         "parameters": {"httpMethod": "POST", "path": "long", "responseMode": "onReceived", "options": {}}},
        {"name": "Call", "type": "n8n-nodes-base.executeWorkflow", "typeVersion": 1.1, "position": [200, 0],
         "parameters": {"source": "database", "workflowId": child, "options": {}}},
        wait_a_minute()
    ], "connections": {"Webhook": {"main": [[{"node": "Call", "type": "main", "index": 0}]]},
                       "Call": {"main": [[{"node": "Wait", "type": "main", "index": 0}]]}}}))
    .await;
    // Not resumable (a manual run).
    let manual = create(&a, json!({"name": "manual", "settings": {"executionOrder": "v1"}, "nodes": [
        {"name": "Start", "type": "n8n-nodes-base.manualTrigger", "typeVersion": 1, "position": [0, 0], "parameters": {}},
        wait_a_minute()
    ], "connections": {"Start": {"main": [[{"node": "Wait", "type": "main", "index": 0}]]}}}))
    .await;
    assert_eq!(a.post("/webhook/long", json!({})).await.0, 200);
    let resumable = a.wait_executions(&format!("workflowId={parent}"), 1).await[0]["id"].clone();
    let (status, run) = a
        .api(
            Method::POST,
            &format!("/workflows/{manual}/run?wait=false"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{run}");
    let crashable = run["id"].clone();
    let children = format!("workflowId={child}");
    eventually("the sub-workflow ran", || async {
        a.count_executions(&children).await == 1
    })
    .await;

    // A second process starts (its first answer comes after its recovery on start) and runs a
    // few heartbeats: it leaves the first one's executions alone.
    let b = TestServer::on(&db, fast).await;
    assert_eq!(b.execution(&resumable).await["status"], json!("running"));
    tokio::time::sleep(Duration::from_millis(500)).await;
    for id in [&resumable, &crashable] {
        assert_eq!(b.execution(id).await["status"], json!("running"));
    }
    assert_eq!(b.count_executions(&children).await, 1, "not run again");

    // The first dies: the second takes its executions over.
    a.kill().await;
    eventually(
        "the execution that cannot resume is marked crashed",
        || async { b.execution(&crashable).await["status"] == json!("crashed") },
    )
    .await;
    eventually("the resumable execution runs again", || async {
        b.count_executions(&children).await == 2
    })
    .await;
    assert_eq!(b.execution(&resumable).await["status"], json!("running"));
    b.stop().await;
}

async fn workflow_changes_reach_every_server(postgres: bool) {
    let db = TestDb::new(postgres, "server_test").await;
    let a = TestServer::on(&db, fast).await;
    let b = TestServer::on(&db, fast).await;
    let id = a
        .deploy(webhook_workflow("shared", "lastNode", json!({})))
        .await;
    eventually("b serves what a activated", || async {
        b.post("/webhook/shared", json!({"amount": 1})).await
            == (200, json!({"ok": true, "amount": 1}))
    })
    .await;

    let mut updated = webhook_workflow("shared", "lastNode", json!({}));
    updated["nodes"][1]["parameters"]["assignments"]["assignments"][0]["value"] = json!(false);
    let (status, body) = a
        .api(Method::PUT, &format!("/workflows/{id}"), Some(updated))
        .await;
    assert_eq!(status, 200, "{body}");
    eventually("b runs what a updated", || async {
        b.post("/webhook/shared", json!({"amount": 2})).await
            == (200, json!({"ok": false, "amount": 2}))
    })
    .await;

    let (status, _) = a
        .api(Method::POST, &format!("/workflows/{id}/deactivate"), None)
        .await;
    assert_eq!(status, 200);
    eventually("b drops what a deactivated", || async {
        b.post("/webhook/shared", json!({})).await.0 == 404
    })
    .await;

    // Another process writes the store, as `sluice workflow import --activate` does.
    let other = db.open().await;
    let imported = other
        .put_workflow(None, webhook_workflow("imported", "lastNode", json!({})))
        .await
        .unwrap();
    other.set_workflow_active(&imported.id, true).await.unwrap();
    other.close().await;
    for server in [&a, &b] {
        eventually("both serve the imported workflow", || async {
            server.post("/webhook/imported", json!({})).await.0 == 200
        })
        .await;
    }
    a.stop().await;
    b.stop().await;
}

on_both_backends!(
    a_dead_process_executions_are_taken_over,
    workflow_changes_reach_every_server
);
