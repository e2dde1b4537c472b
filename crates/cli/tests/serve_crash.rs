//! `sluice serve` killed with SIGKILL while executions are running: on restart every accepted
//! execution completes or is marked crashed, none missing; and with two servers on one Postgres
//! schema, the survivor takes the dead one's executions over.

mod support;

use serde_json::json;
use sluice_store::testing::TestSchema;
use std::process::Command;
use std::time::{Duration, Instant};
use support::*;

#[test]
fn kill_9_during_accepted_executions_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let workflow = serde_json::json!({"id": "crash1", "name": "slow", "settings": {"executionOrder": "v1"}, "nodes": [
        {"name": "Webhook", "type": "n8n-nodes-base.webhook", "typeVersion": 2, "position": [0, 0],
         "parameters": {"httpMethod": "POST", "path": "slow", "responseMode": "onReceived", "options": {}}},
        {"name": "Wait", "type": "n8n-nodes-base.wait", "typeVersion": 1.1, "position": [200, 0],
         "parameters": {"resume": "timeInterval", "amount": 1, "unit": "seconds"}}
    ], "connections": {"Webhook": {"main": [[{"node": "Wait", "type": "main", "index": 0}]]}}});
    let file = dir.path().join("wf.json");
    std::fs::write(&file, workflow.to_string()).unwrap();
    let mut import = sluice(dir.path());
    import
        .args(["workflow", "import"])
        .arg(&file)
        .arg("--activate");
    stdout_of(import);
    let key = String::from_utf8(
        sluice(dir.path())
            .args(["apikey", "create"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let key = key.trim();

    let port = free_port();
    let mut server = start(sluice(dir.path()), port);
    let accepted = 20;
    for _ in 0..accepted {
        let (status, _) = http(port, "POST", "/webhook/slow", "", "{\"a\":1}").unwrap();
        assert_eq!(status, 200);
    }
    server.kill().unwrap(); // SIGKILL
    server.wait().unwrap();

    let count = |status: &str| {
        let out = sluice(dir.path())
            .args(["execution", "count", "--status", status])
            .output()
            .unwrap();
        String::from_utf8(out.stdout)
            .unwrap()
            .trim()
            .parse::<usize>()
            .unwrap()
    };
    assert_eq!(
        count("running"),
        accepted,
        "every accepted execution was recorded before the kill"
    );

    let port = free_port();
    let mut server = start(sluice(dir.path()), port);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (_, body) = http(port, "GET", "/api/v1/executions?status=running", key, "").unwrap();
        let list: serde_json::Value = serde_json::from_str(&body).unwrap();
        if list["data"].as_array().unwrap().is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "executions still running: {list}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    Command::new("kill")
        .arg(server.id().to_string())
        .status()
        .unwrap(); // SIGTERM
    server.wait().unwrap();
    assert_eq!(count("success") + count("crashed"), accepted);
    assert_eq!(
        count("success"),
        accepted,
        "onReceived executions are resumed"
    );
}

#[test]
fn kill_9_of_one_of_two_servers_on_postgres() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let schema = runtime.block_on(TestSchema::new("cli_test"));
    let dir = tempfile::tempdir().unwrap();
    let (dir_a, dir_b) = (dir.path().join("a"), dir.path().join("b"));
    let wait = json!({"name": "Wait", "type": "n8n-nodes-base.wait", "typeVersion": 1.1,
        "position": [400, 0], "parameters": {"resume": "timeInterval", "amount": 60, "unit": "seconds"}});
    let pg = || on_postgres(&dir_a, schema.name());
    import(
        pg(),
        dir.path(),
        json!({"id": "child", "name": "child", "nodes": [
        {"name": "In", "type": "n8n-nodes-base.executeWorkflowTrigger", "typeVersion": 1, "position": [0, 0], "parameters": {}}
    ], "connections": {}}),
        false,
    );
    // Resumable (accepted with onReceived): runs the child, then waits a minute.
    import(
        pg(),
        dir.path(),
        json!({"id": "parent", "name": "parent", "settings": {"executionOrder": "v1"}, "nodes": [
        {"name": "Webhook", "type": "n8n-nodes-base.webhook", "typeVersion": 2, "position": [0, 0],
         "parameters": {"httpMethod": "POST", "path": "long", "responseMode": "onReceived", "options": {}}},
        {"name": "Call", "type": "n8n-nodes-base.executeWorkflow", "typeVersion": 1.1, "position": [200, 0],
         "parameters": {"source": "database", "workflowId": "child", "options": {}}},
        wait.clone()
    ], "connections": {"Webhook": {"main": [[{"node": "Call", "type": "main", "index": 0}]]},
                       "Call": {"main": [[{"node": "Wait", "type": "main", "index": 0}]]}}}),
        true,
    );
    // Not resumable (a manual run).
    import(
        pg(),
        dir.path(),
        json!({"id": "manual", "name": "manual", "settings": {"executionOrder": "v1"}, "nodes": [
        {"name": "Start", "type": "n8n-nodes-base.manualTrigger", "typeVersion": 1, "position": [0, 0], "parameters": {}},
        wait
    ], "connections": {"Start": {"main": [[{"node": "Wait", "type": "main", "index": 0}]]}}}),
        false,
    );
    let key = String::from_utf8(pg().args(["apikey", "create"]).output().unwrap().stdout).unwrap();
    let key = key.trim();

    let port_a = free_port();
    let a = Server(start(pg(), port_a));
    assert_eq!(
        http(port_a, "POST", "/webhook/long", "", "{}").unwrap().0,
        200
    );
    let resumable = get(port_a, key, "/executions?workflowId=parent")["data"][0]["id"].clone();
    let (status, body) = http(
        port_a,
        "POST",
        "/api/v1/workflows/manual/run?wait=false",
        key,
        "{}",
    )
    .unwrap();
    assert_eq!(status, 200, "{body}");
    let crashable = serde_json::from_str::<serde_json::Value>(&body).unwrap()["id"].clone();
    let children = |port| {
        get(port, key, "/executions?workflowId=child")["data"]
            .as_array()
            .unwrap()
            .len()
    };
    eventually("the sub-workflow ran", || children(port_a) == 1);

    // A second process starts: it leaves the first one's executions alone.
    let port_b = free_port();
    let b = Server(start(on_postgres(&dir_b, schema.name()), port_b));
    let status = |id: &serde_json::Value| {
        get(
            port_b,
            key,
            &format!("/executions/{}", id.as_str().unwrap()),
        )["status"]
            .clone()
    };
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(
        (status(&resumable), status(&crashable)),
        (json!("running"), json!("running"))
    );
    assert_eq!(children(port_b), 1, "not run again");

    // The first is killed: the second takes its executions over.
    drop(a);
    eventually("the execution that cannot resume is marked crashed", || {
        status(&crashable) == json!("crashed")
    });
    eventually("the resumable execution runs again", || {
        children(port_b) == 2
    });
    assert_eq!(status(&resumable), json!("running"));

    // A workflow imported and activated while the server runs goes live there.
    import(
        pg(),
        dir.path(),
        json!({"id": "late", "name": "late", "nodes": [
        {"name": "Webhook", "type": "n8n-nodes-base.webhook", "typeVersion": 2, "position": [0, 0],
         "parameters": {"httpMethod": "POST", "path": "late", "responseMode": "onReceived", "options": {}}}
    ], "connections": {}}),
        true,
    );
    eventually("the imported workflow answers", || {
        http(port_b, "POST", "/webhook/late", "", "{}").is_some_and(|(s, _)| s == 200)
    });
    let mut b = b;
    Command::new("kill")
        .arg(b.0.id().to_string())
        .status()
        .unwrap(); // SIGTERM
    assert!(b.0.wait().unwrap().success());
}
