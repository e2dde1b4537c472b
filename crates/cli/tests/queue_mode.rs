//! Queue mode as processes: `sluice serve` with `EXECUTIONS_MODE=queue` on a Postgres schema
//! and the machine's Redis (127.0.0.1:6379, a fresh key prefix per test) enqueues webhook
//! executions, `sluice worker` processes run them, and every accepted execution ends exactly once
//! as success, also when a worker is killed with SIGKILL while it runs some.

mod support;

use serde_json::json;
use sluice_store::testing::TestSchema;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::*;

/// Deletes a test's Redis keys when dropped (also when the test panics).
struct RedisPrefix(String);

impl RedisPrefix {
    fn new(name: &str) -> RedisPrefix {
        RedisPrefix(format!(
            "sluice_cli_{name}_{}_{}",
            std::process::id(),
            sluice_store::now_ms()
        ))
    }
}

impl Drop for RedisPrefix {
    fn drop(&mut self) {
        let _ = Command::new("redis-cli")
            .args([
                "-h",
                "127.0.0.1",
                "EVAL",
                "for _, k in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('DEL', k) end",
                "0",
                &format!("{}:*", self.0),
            ])
            .stdout(Stdio::null())
            .status();
    }
}

/// `sluice` in queue mode on `schema` and the Redis keys under `prefix`, with short leases.
fn queued(dir: &Path, schema: &str, prefix: &RedisPrefix) -> Command {
    let mut cmd = on_postgres(dir, schema);
    cmd.env("EXECUTIONS_MODE", "queue")
        .env("SLUICE_REDIS_URL", "redis://127.0.0.1:6379/")
        .env("QUEUE_BULL_PREFIX", &prefix.0)
        .env("QUEUE_WORKER_LOCK_DURATION", "1500")
        .env("QUEUE_WORKER_LOCK_RENEW_TIME", "300")
        .env("QUEUE_WORKER_STALLED_INTERVAL", "300");
    cmd
}

/// A worker with its health server on a free port, once it is ready.
fn start_worker(mut cmd: Command, concurrency: usize) -> Server {
    let port = free_port();
    let child = cmd
        .args(["worker", "--concurrency", &concurrency.to_string()])
        .env("QUEUE_HEALTH_CHECK_ACTIVE", "true")
        .env("QUEUE_HEALTH_CHECK_PORT", port.to_string())
        .env("N8N_LISTEN_ADDRESS", "127.0.0.1")
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let worker = Server(child);
    eventually("the worker is ready", || {
        http(port, "GET", "/healthz/readiness", "", "").is_some_and(|(s, _)| s == 200)
    });
    worker
}

/// A webhook answered on receipt, whose execution takes `wait_ms` or no time.
fn webhook_workflow(path: &str, wait_seconds: Option<f64>) -> serde_json::Value {
    let mut nodes = vec![
        json!({"name": "Webhook", "type": "n8n-nodes-base.webhook", "typeVersion": 2,
               "position": [0, 0], "parameters": {"httpMethod": "POST", "path": path,
               "responseMode": "onReceived", "options": {}}}),
        json!({"name": "Set", "type": "n8n-nodes-base.set", "typeVersion": 3.4,
               "position": [200, 0], "parameters": {"assignments": {"assignments": [
                   {"id": "1", "name": "n", "value": "={{ $json.body.n }}", "type": "number"}]},
               "options": {}}}),
    ];
    let mut connections =
        json!({"Webhook": {"main": [[{"node": "Set", "type": "main", "index": 0}]]}});
    if let Some(seconds) = wait_seconds {
        nodes.push(
            json!({"name": "Wait", "type": "n8n-nodes-base.wait", "typeVersion": 1.1,
            "position": [400, 0], "parameters": {"resume": "timeInterval", "amount": seconds,
            "unit": "seconds"}}),
        );
        connections["Set"] = json!({"main": [[{"node": "Wait", "type": "main", "index": 0}]]});
    }
    json!({"id": format!("wf_{path}"), "name": path, "settings": {"executionOrder": "v1"},
           "nodes": nodes, "connections": connections})
}

/// Every execution's status, by id (through the CLI, so no server is needed).
fn statuses(mut cmd: Command) -> Vec<(String, String)> {
    cmd.args(["execution", "list", "--limit", "10000"]);
    stdout_of(cmd)
        .lines()
        .filter_map(|line| {
            let mut cols = line.split_whitespace();
            Some((cols.next()?.to_string(), cols.next()?.to_string()))
        })
        .collect()
}

/// POST `count` webhooks to `path`; every one must be accepted.
fn post_all(port: u16, path: &str, count: usize) {
    for n in 0..count {
        let (status, body) = http(
            port,
            "POST",
            &format!("/webhook/{path}"),
            "",
            &format!("{{\"n\":{n}}}"),
        )
        .expect("the server answers");
        assert_eq!(status, 200, "{body}");
    }
}

/// Wait until `accepted` executions ended, then check each ended once, as success.
fn all_succeed_once(cmd: impl Fn() -> Command, accepted: usize, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let list = statuses(cmd());
        let done = list.iter().filter(|(_, s)| s != "running").count();
        if done == accepted || Instant::now() > deadline {
            assert_eq!(list.len(), accepted, "one row per accepted execution");
            let failed: Vec<_> = list.iter().filter(|(_, s)| s != "success").collect();
            assert!(failed.is_empty(), "not all succeeded: {failed:?}");
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

struct Setup {
    _schema: TestSchema,
    dir: tempfile::TempDir,
    prefix: RedisPrefix,
    schema_name: String,
}

impl Setup {
    fn new(name: &str, workflow: serde_json::Value) -> Setup {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let schema = runtime.block_on(TestSchema::new("cli_queue"));
        let setup = Setup {
            schema_name: schema.name().to_string(),
            _schema: schema,
            dir: tempfile::tempdir().unwrap(),
            prefix: RedisPrefix::new(name),
        };
        import(setup.cmd("main"), setup.dir.path(), workflow, true);
        setup
    }

    /// `sluice` for the process `name` (each has its own data directory).
    fn cmd(&self, name: &str) -> Command {
        queued(&self.dir.path().join(name), &self.schema_name, &self.prefix)
    }
}

#[test]
fn webhook_executions_run_on_two_workers_exactly_once() {
    let setup = Setup::new("two", webhook_workflow("queued", None));
    let port = free_port();
    let _main = Server(start(setup.cmd("main"), port));
    let _a = start_worker(setup.cmd("a"), 4);
    let _b = start_worker(setup.cmd("b"), 4);
    let accepted = 200;
    post_all(port, "queued", accepted);
    all_succeed_once(|| setup.cmd("main"), accepted, Duration::from_secs(60));
    let (status, metrics) = http(port, "GET", "/metrics", "", "").unwrap();
    assert_eq!(status, 200);
    assert!(metrics.contains("sluice_queue_workers 2"), "{metrics}");
}

#[test]
fn kill_9_of_a_worker_loses_no_execution_and_records_each_once() {
    let setup = Setup::new("kill", webhook_workflow("slow", Some(0.5)));
    let port = free_port();
    let _main = Server(start(setup.cmd("main"), port));
    let mut a = start_worker(setup.cmd("a"), 10);
    let _b = start_worker(setup.cmd("b"), 10);
    let accepted = 100;
    post_all(port, "slow", accepted);
    std::thread::sleep(Duration::from_millis(300));
    a.0.kill().unwrap(); // SIGKILL while it runs up to 10 executions
    a.0.wait().unwrap();
    all_succeed_once(|| setup.cmd("main"), accepted, Duration::from_secs(60));
}

#[test]
fn queue_mode_refuses_sqlite_and_an_unreachable_redis() {
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let out = sluice(dir.path())
        .env("EXECUTIONS_MODE", "queue")
        .args(["worker"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("queue mode needs Postgres"), "{stderr}");

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let schema = runtime.block_on(TestSchema::new("cli_queue"));
    let nobody = free_port();
    let out = on_postgres(dir.path(), schema.name())
        .env("EXECUTIONS_MODE", "queue")
        .env("QUEUE_BULL_REDIS_HOST", "127.0.0.1")
        .env("QUEUE_BULL_REDIS_PORT", nobody.to_string())
        .args(["serve", "--port", &free_port().to_string()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "Redis at redis://127.0.0.1:{nobody}/0 does not answer"
        )),
        "{stderr}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "an error, not a hang"
    );
}

#[test]
fn webhooks_answered_by_respond_to_webhook_or_the_last_node_work_in_queue_mode() {
    let bench: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/bench/webhook-respond.json"
        ))
        .expect("the shared benchmark workflow"),
    )
    .unwrap();
    let setup = Setup::new("relay", bench);
    let mut last_node = webhook_workflow("last", None);
    last_node["nodes"][0]["parameters"]["responseMode"] = json!("lastNode");
    import(setup.cmd("main"), setup.dir.path(), last_node, true);
    let port = free_port();
    let mut main = setup.cmd("main");
    main.env("SLUICE_QUEUE_REPLY_TIMEOUT", "1");
    let _main = Server(start(main, port));

    // No worker yet: a clear timeout naming the execution, which stays queued.
    let (status, body) = http(port, "POST", "/webhook/bench", "", "{\"amount\": 1}").unwrap();
    assert_eq!(status, 504, "{body}");
    assert!(body.contains("No worker answered within 1 s"), "{body}");

    let _worker = start_worker(setup.cmd("w"), 4);
    for amount in [150, 7] {
        let (status, body) = http(
            port,
            "POST",
            "/webhook/bench",
            "",
            &format!("{{\"amount\": {amount}}}"),
        )
        .unwrap();
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&body).unwrap(),
            json!({"ok": true, "amount": amount})
        );
    }
    let (status, body) = http(port, "POST", "/webhook/last", "", "{\"n\": 42}").unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&body).unwrap()["n"],
        json!(42)
    );
    // The one that timed out ran once a worker came.
    all_succeed_once(|| setup.cmd("main"), 4, Duration::from_secs(30));
}

/// `sluice queue ...` on the setup's queue; its standard output.
fn queue_cli(mut cmd: Command, args: &[&str]) -> String {
    cmd.arg("queue").args(args);
    stdout_of(cmd)
}

#[test]
fn a_job_whose_worker_died_is_dead_lettered_past_the_stall_limit_and_replayed() {
    let setup = Setup::new("dlq", webhook_workflow("crashy", Some(2.0)));
    let no_stalls = || {
        let mut cmd = setup.cmd("w");
        cmd.env("QUEUE_WORKER_MAX_STALLED_COUNT", "0");
        cmd
    };
    let port = free_port();
    let _main = Server(start(setup.cmd("main"), port));
    let mut doomed = start_worker(no_stalls(), 1);
    post_all(port, "crashy", 1);
    eventually("the worker took the job", || {
        queue_cli(setup.cmd("main"), &["stats", "--json"]).contains("\"in_flight\": 1")
    });
    doomed.0.kill().unwrap();
    doomed.0.wait().unwrap();
    let _survivor = start_worker(no_stalls(), 1);
    eventually("the job is dead-lettered", || {
        !queue_cli(setup.cmd("main"), &["dlq", "list"]).is_empty()
    });
    let listed = queue_cli(setup.cmd("main"), &["dlq", "list"]);
    assert!(listed.contains("stalled 1 times"), "{listed}");
    let id = listed.split('\t').next().unwrap().to_string();
    let shown = queue_cli(setup.cmd("main"), &["dlq", "show", &id]);
    assert!(shown.contains("\"workflowId\": \"wf_crashy\""), "{shown}");
    assert_eq!(
        statuses(setup.cmd("main")),
        vec![(id.clone(), "running".into())]
    );
    assert_eq!(
        queue_cli(setup.cmd("main"), &["dlq", "replay", "--all"]).trim(),
        id
    );
    all_succeed_once(|| setup.cmd("main"), 1, Duration::from_secs(30));
    assert!(queue_cli(setup.cmd("main"), &["dlq", "list"]).is_empty());
}
