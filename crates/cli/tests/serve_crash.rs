//! `sluice serve` killed with SIGKILL while executions are running: on restart every accepted
//! execution completes or is marked crashed, none missing; and with two servers on one Postgres
//! schema, the survivor takes the dead one's executions over.

use serde_json::json;
use sluice_store::testing::TestSchema;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn sluice(dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sluice"));
    cmd.env("SLUICE_DATA_DIR", dir).env_remove("DB_TYPE");
    cmd
}

/// One HTTP/1.1 request; returns (status, body).
fn http(port: u16, method: &str, path: &str, key: &str, body: &str) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: x\r\nX-N8N-API-KEY: {key}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    let status = text.split(' ').nth(1)?.parse().ok()?;
    Some((
        status,
        text.split("\r\n\r\n").nth(1).unwrap_or("").to_string(),
    ))
}

/// `sluice serve` as `cmd` would run it, on `port`, once it answers.
fn start(mut cmd: Command, port: u16) -> Child {
    let child = cmd
        .args([
            "serve",
            "--listen",
            "127.0.0.1",
            "--port",
            &port.to_string(),
        ])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while http(port, "GET", "/healthz", "", "").is_none() {
        assert!(Instant::now() < deadline, "server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    child
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

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
    let out = sluice(dir.path())
        .args(["workflow", "import"])
        .arg(&file)
        .arg("--activate")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
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

/// A server process, killed when dropped (so a failing test leaves none behind).
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `sluice` on the Postgres schema `schema`, with quick heartbeats and workflow syncs.
fn on_postgres(dir: &std::path::Path, schema: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sluice"));
    cmd.env("SLUICE_DATA_DIR", dir)
        .env("DB_TYPE", "postgresdb")
        .env("DB_POSTGRESDB_HOST", "127.0.0.1")
        .env("DB_POSTGRESDB_DATABASE", "test")
        .env("DB_POSTGRESDB_USER", "postgres")
        .env("DB_POSTGRESDB_SCHEMA", schema)
        .env("N8N_ENCRYPTION_KEY", "shared-by-both")
        .env("SLUICE_HEARTBEAT_INTERVAL", "0.2")
        .env("SLUICE_WORKFLOW_SYNC_INTERVAL", "0.2")
        .env("N8N_GRACEFUL_SHUTDOWN_TIMEOUT", "0");
    cmd
}

/// `sluice workflow import` (`--activate` when `activate`) of `workflow`.
fn import(mut cmd: Command, dir: &std::path::Path, workflow: serde_json::Value, activate: bool) {
    let file = dir.join(format!("{}.json", workflow["id"].as_str().unwrap()));
    std::fs::write(&file, workflow.to_string()).unwrap();
    cmd.args(["workflow", "import"]).arg(&file);
    if activate {
        cmd.arg("--activate");
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// An API GET on `port`, as JSON.
fn get(port: u16, key: &str, path: &str) -> serde_json::Value {
    let (status, body) = http(port, "GET", &format!("/api/v1{path}"), key, "").unwrap();
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

/// Poll `check` until it holds (another process acts in its own time); 20 s at most.
fn eventually(what: &str, check: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
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
