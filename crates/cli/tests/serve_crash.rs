//! `sluice serve` killed with SIGKILL while executions accepted with responseMode onReceived are
//! running: on restart every accepted execution completes or is marked crashed, none missing.

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

fn start(dir: &std::path::Path, port: u16) -> Child {
    let child = sluice(dir)
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
    let mut server = start(dir.path(), port);
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
    let mut server = start(dir.path(), port);
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
