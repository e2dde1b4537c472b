//! Queue mode as processes: `sluice serve` with `EXECUTIONS_MODE=queue` on a Postgres schema
//! and the machine's Redis (127.0.0.1:6379, a fresh key prefix per test) enqueues webhook
//! executions, `sluice worker` processes run them, and every accepted execution ends exactly once
//! as success, also when a worker is killed with SIGKILL while it runs some.

mod support;

use serde_json::json;
use sluice_store::testing::TestSchema;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::*;

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

/// POST `count` webhooks to `path`; every one must be accepted. An answer may wait out a Redis
/// restart (the main process holds the request until it can enqueue it), which on a loaded
/// machine takes longer than `http`'s usual 10 s.
fn post_all(port: u16, path: &str, count: usize) {
    for n in 0..count {
        let (status, body) = http_within(
            Duration::from_secs(60),
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
    prefix: RedisKeys,
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
            prefix: redis_prefix(name),
        };
        import(setup.cmd("main"), setup.dir.path(), workflow, true);
        setup
    }

    /// `sluice` for the process `name` (each has its own data directory).
    fn cmd(&self, name: &str) -> Command {
        queued(&self.dir.path().join(name), &self.schema_name, &self.prefix)
    }

    /// `sluice` for a worker that dead-letters a job the first time its lease runs out.
    fn worker_without_stalls(&self) -> Command {
        let mut cmd = self.cmd("w");
        cmd.env("QUEUE_WORKER_MAX_STALLED_COUNT", "0");
        cmd
    }
}

#[test]
fn webhook_executions_run_on_two_workers_exactly_once() {
    let setup = Setup::new("two", webhook_workflow("queued", None));
    let port = free_port();
    let main = Server(start(setup.cmd("main"), port));
    let a = start_worker(setup.cmd("a"), 4);
    let _b = start_worker(setup.cmd("b"), 4);
    for process in [&main, &a] {
        assert_without_huge_pages(process);
    }
    let accepted = 200;
    post_all(port, "queued", accepted);
    all_succeed_once(|| setup.cmd("main"), accepted, Duration::from_secs(60));
    let (status, metrics) = http(port, "GET", "/metrics", "", "").unwrap();
    assert_eq!(status, 200);
    assert!(metrics.contains("sluice_queue_workers 2"), "{metrics}");
}

/// The long-running processes do without transparent huge pages (they kept their RSS ~30 MB
/// higher), from their first allocation on.
fn assert_without_huge_pages(process: &Server) {
    let status = std::fs::read_to_string(format!("/proc/{}/status", process.0.id())).unwrap();
    assert!(status.contains("THP_enabled:\t0"), "{status}");
    let memory = std::fs::read_to_string(format!("/proc/{}/smaps_rollup", process.0.id())).unwrap();
    let huge_kb = memory
        .lines()
        .find_map(|line| line.strip_prefix("AnonHugePages:"))
        .and_then(|kb| kb.trim().trim_end_matches("kB").trim().parse::<u64>().ok());
    assert_eq!(huge_kb, Some(0), "{memory}");
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

/// `../shared/bench/webhook-respond.json`: a webhook (`/webhook/bench`) answered by Respond to
/// Webhook with `{ok: true, amount}`.
fn respond_workflow() -> serde_json::Value {
    serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/bench/webhook-respond.json"
        ))
        .expect("the shared benchmark workflow"),
    )
    .unwrap()
}

#[test]
fn webhooks_answered_by_respond_to_webhook_or_the_last_node_work_in_queue_mode() {
    let setup = Setup::new("relay", respond_workflow());
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

/// A Form Trigger at `path` answering in `mode` (one required field, "Name") -> NoOp.
fn form_workflow(path: &str, mode: &str) -> serde_json::Value {
    json!({"id": format!("form-{path}"), "name": format!("form {path}"),
        "settings": {"executionOrder": "v1"},
        "nodes": [
            {"name": "Form", "type": "n8n-nodes-base.formTrigger", "typeVersion": 2.2,
             "position": [0, 0], "webhookId": format!("id-{path}"),
             "parameters": {"formTitle": "Sign up", "responseMode": mode,
                "formFields": {"values": [{"fieldLabel": "Name", "requiredField": true}]},
                "options": {"path": path,
                    "respondWithOptions": {"values": {"formSubmittedText": "Thanks"}}}}},
            {"name": "Done", "type": "n8n-nodes-base.noOp", "typeVersion": 1, "position": [200, 0],
             "parameters": {}}],
        "connections": {"Form": {"main": [[{"node": "Done", "type": "main", "index": 0}]]}}})
}

/// A url-encoded form POST; returns (status, body).
fn post_form(port: u16, path: &str, form: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{form}",
        form.len()
    )
    .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let status = text.split(' ').nth(1).unwrap().parse().unwrap();
    (
        status,
        text.split("\r\n\r\n").nth(1).unwrap_or("").to_string(),
    )
}

/// Form submissions in queue mode run on a worker; in `lastNode` mode the main shows the
/// completion page once the worker has relayed the end, and a Form Ending's page is relayed as
/// Respond to Webhook's answer is.
#[test]
fn form_submissions_run_on_workers_and_are_answered_with_the_completion_page() {
    let setup = Setup::new("forms", form_workflow("later", "lastNode"));
    import(
        setup.cmd("main"),
        setup.dir.path(),
        form_workflow("now", "onReceived"),
        true,
    );
    let mut ending = form_workflow("ending", "onReceived");
    ending["nodes"][1] = json!({"name": "Done", "type": "n8n-nodes-base.form",
        "typeVersion": 1, "position": [200, 0],
        "parameters": {"operation": "completion", "completionTitle": "={{ 'Bye ' + $json.Name }}"}});
    import(setup.cmd("main"), setup.dir.path(), ending, true);
    let port = free_port();
    let _main = Server(start(setup.cmd("main"), port));
    let _worker = start_worker(setup.cmd("w"), 4);
    for (path, heading) in [
        ("/form/later", "Thanks"),
        ("/form/now", "Thanks"),
        ("/form/ending", "Bye Ada"),
    ] {
        let (status, page) = post_form(port, path, "field-0=Ada");
        assert_eq!(status, 200, "{path}: {page}");
        assert!(
            page.contains(&format!("<h1>{heading}</h1>")),
            "{path}: {page}"
        );
    }
    let (status, body) = post_form(port, "/form/now", "field-0=");
    assert_eq!(status, 400, "{body}");
    all_succeed_once(|| setup.cmd("main"), 3, Duration::from_secs(30));
}

/// `sluice bench --queue-metrics` reads the main's queue gauges while it loads a webhook: with no
/// worker running, the queue deepens and its lag grows from one second to the next; a worker
/// then runs every job.
#[test]
fn bench_reads_the_queue_s_depth_and_lag_from_the_main() {
    let setup = Setup::new("bench_queue", respond_workflow());
    let port = free_port();
    let mut main = setup.cmd("main");
    main.env("SLUICE_QUEUE_REPLY_TIMEOUT", "1");
    let _main = Server(start(main, port));
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json");
    let bench = Command::new(env!("CARGO_BIN_EXE_sluice"))
        .args([
            "bench",
            &format!("http://127.0.0.1:{port}/webhook/bench"),
            "--connections",
            "2",
            "--duration",
            "3s",
            "--body-template",
            "{\"amount\": {{n}}}",
            "--queue-metrics",
            &format!("http://127.0.0.1:{port}/metrics"),
            "--json",
            report.to_str().unwrap(),
        ])
        .stdout(Stdio::piped())
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&bench.stdout);
    assert!(table.contains("queue        peak depth"), "{table}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let sent = report["requests"].as_u64().unwrap();
    assert_eq!(
        report["statusCodes"]["504"], sent,
        "no worker: every caller timed out"
    );
    let samples = report["queue"]["samples"].as_array().unwrap().clone();
    assert!(samples.len() >= 2, "{samples:?}");
    let waiting: Vec<u64> = samples
        .iter()
        .map(|s| s["waiting"].as_u64().unwrap())
        .collect();
    let lag: Vec<f64> = samples
        .iter()
        .map(|s| s["lagSeconds"].as_f64().unwrap())
        .collect();
    assert!(waiting.windows(2).all(|w| w[0] < w[1]), "{waiting:?}");
    assert!(lag.windows(2).all(|w| w[0] < w[1]), "{lag:?}");
    assert!(lag[0] >= 0.5, "{lag:?}");
    assert_eq!(report["queue"]["peakWaiting"], *waiting.last().unwrap());

    let _worker = start_worker(setup.cmd("w"), 4);
    all_succeed_once(|| setup.cmd("main"), sent as usize, Duration::from_secs(30));
}

/// A webhook whose caller waits for the answer has no row until its worker writes one, once:
/// none for a success the saving policy drops, a finished row for a failure.
#[test]
fn a_waited_for_webhook_s_row_is_left_to_its_worker() {
    let setup = Setup::new("unwritten", respond_workflow());
    let mut failing = webhook_workflow("failing", None);
    failing["nodes"][0]["parameters"]["responseMode"] = json!("lastNode");
    failing["nodes"].as_array_mut().unwrap().push(
        json!({"name": "Fail", "type": "n8n-nodes-base.stopAndError", "typeVersion": 1,
               "position": [400, 0], "parameters": {"errorMessage": "refused"}}),
    );
    failing["connections"]["Set"] =
        json!({"main": [[{"node": "Fail", "type": "main", "index": 0}]]});
    import(setup.cmd("main"), setup.dir.path(), failing, true);
    let not_saving_successes = |name: &str| {
        let mut cmd = setup.cmd(name);
        cmd.env("EXECUTIONS_DATA_SAVE_ON_SUCCESS", "none");
        cmd
    };
    let rows = || {
        psql(
            "test",
            &[
                "-c",
                &format!(
                    "SELECT status || ' ' || (stopped_at IS NOT NULL) FROM {}.executions",
                    setup.schema_name
                ),
            ],
        )
    };
    let port = free_port();
    let mut main = not_saving_successes("main");
    main.env("SLUICE_QUEUE_REPLY_TIMEOUT", "1");
    let _main = Server(start(main, port));
    // No worker yet: the caller gets a timeout, and nothing is in the store while it waits.
    let (status, answer) = http(port, "POST", "/webhook/bench", "", "{\"amount\": 1}").unwrap();
    assert_eq!(status, 504, "{answer}");
    assert!(rows().is_empty(), "{:?}", rows());
    let _worker = start_worker(not_saving_successes("w"), 2);
    eventually("the waiting job ran", || {
        let stats = queue_cli(setup.cmd("main"), &["stats", "--json"]);
        stats.contains("\"waiting_normal\": 0") && stats.contains("\"in_flight\": 0")
    });
    for amount in 0..5 {
        let body = format!("{{\"amount\": {amount}}}");
        let (status, answer) = http(port, "POST", "/webhook/bench", "", &body).unwrap();
        assert_eq!(status, 200, "{answer}");
    }
    let (status, answer) = http(port, "POST", "/webhook/failing", "", "{\"n\": 1}").unwrap();
    assert_eq!(status, 500, "{answer}");
    assert_eq!(rows(), ["error true"], "only the failure's finished row");
}

/// A job's first delivery starts from the trigger items it carries, without reading them back
/// from the store: its execution runs even with the stored copy gone. Items too big to carry
/// (a 100 KB body) are read from the store.
#[test]
fn a_job_starts_from_the_items_it_carries_or_from_the_store_when_they_are_too_big() {
    let setup = Setup::new("carried", webhook_workflow("carried", None));
    let port = free_port();
    let _main = Server(start(setup.cmd("main"), port));
    let big = format!("{{\"n\": 2, \"pad\": \"{}\"}}", "x".repeat(100_000));
    for body in ["{\"n\": 1}", big.as_str()] {
        let (status, answer) = http(port, "POST", "/webhook/carried", "", body).unwrap();
        assert_eq!(status, 200, "{answer}");
    }
    let table = format!("{}.executions", setup.schema_name);
    let small = psql("test", &["-c", &format!("SELECT min(id) FROM {table}")]);
    psql(
        "test",
        &[
            "-c",
            &format!("UPDATE {table} SET data = NULL WHERE id = {}", small[0]),
        ],
    );
    let _worker = start_worker(setup.cmd("w"), 2);
    all_succeed_once(|| setup.cmd("main"), 2, Duration::from_secs(30));
}

/// `sluice queue ...` on the setup's queue; its standard output.
fn queue_cli(mut cmd: Command, args: &[&str]) -> String {
    cmd.arg("queue").args(args);
    stdout_of(cmd)
}

#[test]
fn a_job_whose_worker_died_is_dead_lettered_past_the_stall_limit_and_replayed() {
    let setup = Setup::new("dlq", webhook_workflow("crashy", Some(2.0)));
    let port = free_port();
    let _main = Server(start(setup.cmd("main"), port));
    let mut doomed = start_worker(setup.worker_without_stalls(), 1);
    post_all(port, "crashy", 1);
    eventually("the worker took the job", || {
        queue_cli(setup.cmd("main"), &["stats", "--json"]).contains("\"in_flight\": 1")
    });
    doomed.0.kill().unwrap();
    doomed.0.wait().unwrap();
    let _survivor = start_worker(setup.worker_without_stalls(), 1);
    eventually("the job is dead-lettered", || {
        !queue_cli(setup.cmd("main"), &["dlq", "list"]).is_empty()
    });
    let listed = queue_cli(setup.cmd("main"), &["dlq", "list"]);
    assert!(listed.contains("stalled 1 times"), "{listed}");
    let id = listed.split('\t').next().unwrap().to_string();
    let shown = queue_cli(setup.cmd("main"), &["dlq", "show", &id]);
    assert!(shown.contains("\"workflowId\": \"wf_crashy\""), "{shown}");
    // Ended as crashed, as n8n ends a job past its stall limit; the replay runs it again.
    eventually("the dead-lettered execution is crashed", || {
        statuses(setup.cmd("main")) == vec![(id.clone(), "crashed".into())]
    });
    assert_eq!(
        queue_cli(setup.cmd("main"), &["dlq", "replay", "--all"]).trim(),
        id
    );
    all_succeed_once(|| setup.cmd("main"), 1, Duration::from_secs(30));
    assert!(queue_cli(setup.cmd("main"), &["dlq", "list"]).is_empty());
}

/// A caller waiting for a webhook's answer (`lastNode`) whose job is dead-lettered gets "Error
/// in workflow" then, not when the reply timeout (300 s by default) passes.
#[test]
fn a_caller_waiting_on_a_dead_lettered_job_is_answered_at_once() {
    let mut workflow = webhook_workflow("crashy-waited", Some(2.0));
    workflow["nodes"][0]["parameters"]["responseMode"] = json!("lastNode");
    let setup = Setup::new("dlq-answer", workflow);
    let port = free_port();
    let _main = Server(start(setup.cmd("main"), port));
    let mut doomed = start_worker(setup.worker_without_stalls(), 1);
    let caller = std::thread::spawn(move || {
        http_within(
            Duration::from_secs(60),
            port,
            "POST",
            "/webhook/crashy-waited",
            "",
            "{\"n\":1}",
        )
    });
    eventually("the worker took the job", || {
        queue_cli(setup.cmd("main"), &["stats", "--json"]).contains("\"in_flight\": 1")
    });
    doomed.0.kill().unwrap();
    doomed.0.wait().unwrap();
    let _survivor = start_worker(setup.worker_without_stalls(), 1);
    let (status, body) = caller
        .join()
        .unwrap()
        .expect("an answer before the caller's 60 s");
    assert_eq!(status, 500, "{body}");
    assert!(body.contains("Error in workflow"), "{body}");
    // Its row, left to the worker that died, is written crashed with its start: a replay runs
    // it again from there.
    let listed = queue_cli(setup.cmd("main"), &["dlq", "list"]);
    let id = listed.split('\t').next().unwrap().to_string();
    eventually("the dead-lettered execution is crashed", || {
        statuses(setup.cmd("main")) == vec![(id.clone(), "crashed".into())]
    });
    assert_eq!(
        queue_cli(setup.cmd("main"), &["dlq", "replay", "--all"]).trim(),
        id
    );
    all_succeed_once(|| setup.cmd("main"), 1, Duration::from_secs(30));
}

/// An API key for the setup's store.
fn api_key(setup: &Setup) -> String {
    let mut cmd = setup.cmd("main");
    cmd.args(["apikey", "create"]);
    stdout_of(cmd).trim().to_string()
}

#[test]
fn stopping_a_queued_or_a_running_execution_cancels_it() {
    let setup = Setup::new("stop", webhook_workflow("stoppable", Some(60.0)));
    let key = api_key(&setup);
    let port = free_port();
    let _main = Server(start(setup.cmd("main"), port));
    let stop = |id: &str| {
        http(
            port,
            "POST",
            &format!("/api/v1/executions/{id}/stop"),
            &key,
            "",
        )
    };

    // Queued: no worker runs yet.
    post_all(port, "stoppable", 1);
    let queued = statuses(setup.cmd("main"))[0].0.clone();
    let (status, body) = stop(&queued).unwrap();
    assert_eq!(status, 200, "{body}");
    let stopped: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(stopped["status"], "canceled", "{body}");
    let (status, body) = stop(&queued).unwrap();
    assert_eq!(status, 409, "{body}");
    assert!(body.contains("already ended (status canceled)"), "{body}");
    let (status, body) = stop("987654321").unwrap();
    assert_eq!(status, 404, "{body}");
    assert!(
        body.contains("\"message\":\"execution 987654321 not found\""),
        "{body}"
    );

    // Running on a worker: stopped from the command line.
    let health = free_port();
    let _worker = start_worker_on(setup.cmd("w"), 2, health);
    post_all(port, "stoppable", 1);
    eventually("the worker runs it", || {
        queue_cli(setup.cmd("main"), &["stats", "--json"]).contains("\"in_flight\": 1")
    });
    let running = statuses(setup.cmd("main"))
        .into_iter()
        .find(|(_, s)| s == "running")
        .expect("a running execution")
        .0;
    let mut cmd = setup.cmd("main");
    cmd.args(["execution", "stop", &running]);
    assert_eq!(stdout_of(cmd).trim(), format!("{running}\tcanceled"));
    // The worker dropped the run (its Wait had a minute to go).
    eventually("the worker stopped running it", || {
        http(health, "GET", "/metrics", "", "")
            .is_some_and(|(_, m)| m.contains("sluice_executions_in_flight 0"))
    });
    let mut all = statuses(setup.cmd("main"));
    all.sort();
    let mut expected = vec![(queued, "canceled".into()), (running, "canceled".into())];
    expected.sort();
    assert_eq!(all, expected, "the queued one never ran");
    let mut again = setup.cmd("main");
    again.args(["execution", "stop", &expected[0].0]);
    let out = again.output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("already ended"));
}

/// A redis-server of the test's own on `port`, keeping its data in `dir` (append-only file), so
/// it can be stopped and started again without touching the machine's Redis.
struct PrivateRedis {
    port: u16,
    dir: tempfile::TempDir,
    server: Option<Server>,
}

impl PrivateRedis {
    fn start() -> PrivateRedis {
        let mut redis = PrivateRedis {
            port: free_port(),
            dir: tempfile::tempdir().unwrap(),
            server: None,
        };
        redis.restart();
        redis
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    fn answers(&self) -> bool {
        Command::new("redis-cli")
            .args(["-p", &self.port.to_string(), "PING"])
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("PONG"))
    }

    fn restart(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--appendonly", "yes", "--save", ""])
            .arg("--dir")
            .arg(self.dir.path())
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server");
        self.server = Some(Server(child));
        eventually("the private Redis answers", || self.answers());
    }

    /// A clean shutdown (the append-only file is flushed), as a restart does.
    fn stop(&mut self) {
        let _ = Command::new("redis-cli")
            .args(["-p", &self.port.to_string(), "SHUTDOWN"])
            .output();
        if let Some(mut server) = self.server.take() {
            server.0.wait().unwrap();
        }
    }
}

fn ready(port: u16) -> Option<u16> {
    http(port, "GET", "/healthz/readiness", "", "").map(|(status, _)| status)
}

#[test]
fn a_redis_restart_under_load_loses_no_accepted_execution() {
    let mut redis = PrivateRedis::start();
    let setup = Setup::new("restart", webhook_workflow("steady", Some(0.05)));
    let url = redis.url();
    let cmd = |name: &str| {
        let mut cmd = setup.cmd(name);
        cmd.env("SLUICE_REDIS_URL", &url);
        cmd
    };
    let port = free_port();
    let _main = Server(start(cmd("main"), port));
    let health = free_port();
    let _worker = start_worker_on(cmd("w"), 8, health);
    let accepted = 150;
    let poster = std::thread::spawn(move || {
        for n in 0..accepted {
            post_all(port, "steady", 1);
            if n % 5 == 0 {
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    });
    std::thread::sleep(Duration::from_millis(300));
    redis.stop();
    eventually("the main reports not ready", || ready(port) == Some(503));
    eventually("the worker reports not ready", || {
        ready(health) == Some(503)
    });
    std::thread::sleep(Duration::from_millis(500));
    redis.restart();
    eventually("the main is ready again", || ready(port) == Some(200));
    eventually("the worker is ready again", || ready(health) == Some(200));
    poster.join().unwrap();
    let cmd = || cmd("main");
    all_succeed_once(cmd, accepted, Duration::from_secs(90));
}

/// A time the API printed, in ms.
fn ms(iso: &serde_json::Value) -> i64 {
    chrono::DateTime::parse_from_rfc3339(iso.as_str().expect("a time"))
        .expect("an RFC 3339 time")
        .timestamp_millis()
}

#[test]
fn a_failed_execution_is_retried_with_growing_delays_then_dead_lettered_and_replayed() {
    let workflow = json!({"id": "wf_fails", "name": "fails",
        "settings": {"executionOrder": "v1", "retryFailedExecutions":
            {"maxRetries": 2, "initialDelayMs": 400, "maxDelayMs": 5000}},
        "nodes": [
            {"name": "Webhook", "type": "n8n-nodes-base.webhook", "typeVersion": 2,
             "position": [0, 0], "parameters": {"httpMethod": "POST", "path": "fails",
             "responseMode": "onReceived", "options": {}}},
            {"name": "Fail", "type": "n8n-nodes-base.stopAndError", "typeVersion": 1,
             "position": [200, 0], "parameters": {"errorMessage": "always"}}],
        "connections": {"Webhook": {"main": [[{"node": "Fail", "type": "main", "index": 0}]]}}});
    let setup = Setup::new("retry", workflow);
    let key = api_key(&setup);
    let port = free_port();
    let _main = Server(start(setup.cmd("main"), port));
    let _worker = start_worker(setup.cmd("w"), 2);
    post_all(port, "fails", 1);
    eventually("the original and two retries failed", || {
        let list = statuses(setup.cmd("main"));
        list.len() == 3 && list.iter().all(|(_, s)| s == "error")
    });
    std::thread::sleep(Duration::from_millis(1500));
    let mut executions = get(port, &key, "/executions")["data"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(executions.len(), 3, "no third retry: {executions:?}");
    executions.sort_by_key(|e| e["id"].as_str().unwrap().parse::<i64>().unwrap());
    let modes: Vec<_> = executions.iter().map(|e| e["mode"].clone()).collect();
    assert_eq!(
        modes,
        vec![json!("webhook"), json!("retry"), json!("retry")]
    );
    for pair in executions.windows(2) {
        assert_eq!(
            pair[1]["retryOf"], pair[0]["id"],
            "each retries the one before"
        );
    }
    // Exponential with jitter: the n-th retry waits between half and all of 400 ms × 2^(n-1).
    for (n, pair) in executions.windows(2).enumerate() {
        let waited = ms(&pair[1]["stoppedAt"]) - ms(&pair[0]["stoppedAt"]);
        let full = 400 << n;
        assert!(waited >= full / 2, "retry {} came after {waited} ms", n + 1);
    }
    // The last retry failed too: its job is dead-lettered with the reason, its execution failed.
    let last = executions[2]["id"].as_str().unwrap().to_string();
    let listed = queue_cli(setup.cmd("main"), &["dlq", "list"]);
    let fields: Vec<&str> = listed.trim().split('\t').collect();
    assert_eq!(fields[0], last, "{listed}");
    assert!(
        fields[4].starts_with("failed after 2 retries: ") && fields[4].contains("always"),
        "{listed}"
    );
    // A replay repeats it as a new execution with the workflow's retries ahead of it again.
    let replayed = queue_cli(setup.cmd("main"), &["dlq", "replay", &last]);
    let (job, new) = replayed
        .trim()
        .split_once("\tas execution ")
        .expect(&replayed);
    assert_eq!(job, last);
    eventually("the replay and its two retries failed", || {
        let list = statuses(setup.cmd("main"));
        list.len() == 6 && list.iter().all(|(_, s)| s == "error")
    });
    let replay = get(port, &key, &format!("/executions/{new}"));
    assert_eq!(
        (&replay["mode"], &replay["retryOf"]),
        (&json!("retry"), &json!(last))
    );
    eventually("the replay's last retry is dead-lettered in turn", || {
        let listed = queue_cli(setup.cmd("main"), &["dlq", "list"]);
        listed.lines().count() == 1 && !listed.starts_with(&format!("{last}\t"))
    });
}

/// A POST with `headers` (`Name: value\r\n` lines); returns (status, the whole response).
fn post_with(port: u16, path: &str, headers: &str, body: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: x\r\n{headers}Content-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let status = text.split(' ').nth(1).unwrap().parse().unwrap();
    (status, text)
}

fn stats(setup: &Setup) -> serde_json::Value {
    serde_json::from_str(&queue_cli(setup.cmd("main"), &["stats", "--json"])).unwrap()
}

#[test]
fn a_full_queue_rejects_webhooks_with_429_or_lets_them_wait_for_room() {
    let setup = Setup::new("bounded", webhook_workflow("bounded", None));
    let main = |overflow: &str, timeout: &str| {
        let mut cmd = setup.cmd("main");
        cmd.env("SLUICE_QUEUE_MAX_DEPTH", "2")
            .env("SLUICE_QUEUE_OVERFLOW", overflow)
            .env("SLUICE_QUEUE_OVERFLOW_TIMEOUT", timeout);
        let port = free_port();
        (Server(start(cmd, port)), port)
    };
    let (_rejecting, reject) = main("reject", "1");
    let (_impatient, impatient) = main("wait", "0.5");
    let (_patient, patient) = main("wait", "30");
    post_all(reject, "bounded", 2);

    let (status, response) = post_with(reject, "/webhook/bounded", "", "{}");
    assert_eq!(status, 429, "{response}");
    assert!(
        response.to_ascii_lowercase().contains("retry-after: 1\r\n"),
        "{response}"
    );
    assert!(
        response.contains(
            "{\"message\":\"the queue is full (2 executions waiting); try again later\"}"
        ),
        "{response}"
    );
    let started = Instant::now();
    let (status, _) = post_with(impatient, "/webhook/bounded", "", "{}");
    assert_eq!(status, 429);
    assert!(
        started.elapsed() >= Duration::from_millis(500),
        "it waited first"
    );
    assert_eq!(
        statuses(setup.cmd("main")).len(),
        2,
        "nothing half-accepted"
    );

    let waiting = std::thread::spawn(move || post_with(patient, "/webhook/bounded", "", "{}"));
    std::thread::sleep(Duration::from_millis(700));
    assert!(!waiting.is_finished(), "it waits for room");
    let _worker = start_worker(setup.cmd("w"), 2);
    let (status, response) = waiting.join().unwrap();
    assert_eq!(status, 200, "{response}");
    all_succeed_once(|| setup.cmd("main"), 3, Duration::from_secs(30));
}

#[test]
fn a_webhook_s_priority_header_overrides_the_workflow_s_in_the_queue() {
    let mut workflow = webhook_workflow("ranked", None);
    workflow["settings"]["priority"] = json!("low");
    let setup = Setup::new("priority", workflow);
    let port = free_port();
    let _main = Server(start(setup.cmd("main"), port));
    post_all(port, "ranked", 1);
    for priority in ["high", "5"] {
        let header = format!("X-Sluice-Priority: {priority}\r\n");
        let (status, response) = post_with(port, "/webhook/ranked", &header, "{}");
        assert_eq!(status, 200, "{response}");
    }
    let (status, response) =
        post_with(port, "/webhook/ranked", "X-Sluice-Priority: soon\r\n", "{}");
    assert_eq!(status, 400, "{response}");
    assert!(
        response.contains(
            "X-Sluice-Priority: expected high, normal, low or a number from 0 to 100, not 'soon'"
        ),
        "{response}"
    );
    let stats = stats(&setup);
    assert_eq!(
        (
            stats["waiting_high"].clone(),
            stats["waiting_normal"].clone(),
            stats["waiting_low"].clone()
        ),
        (json!(2), json!(0), json!(1)),
        "{stats}"
    );
    assert_eq!(
        statuses(setup.cmd("main")).len(),
        3,
        "the refused request added nothing"
    );
}

#[test]
fn a_webhook_process_serves_production_webhooks_only() {
    let setup = Setup::new("hookonly", webhook_workflow("front", None));
    let every_second = json!({"id": "wf_ticks", "name": "ticks", "nodes": [
        {"name": "Schedule", "type": "n8n-nodes-base.scheduleTrigger", "typeVersion": 1.2,
         "position": [0, 0], "parameters": {"rule": {"interval": [
             {"field": "seconds", "secondsInterval": 1}]}}}], "connections": {}});
    import(setup.cmd("main"), setup.dir.path(), every_second, true);
    let key = api_key(&setup);
    let port = free_port();
    let _hook = Server(start_process(
        setup.cmd("hook"),
        "webhook",
        port,
        Stdio::null(),
    ));
    eventually("the webhook process is ready", || ready(port) == Some(200));
    let _worker = start_worker(setup.cmd("w"), 2);
    post_all(port, "front", 3);
    let (status, body) = http(port, "GET", "/api/v1/workflows", &key, "").unwrap();
    assert_eq!(
        (status, body.as_str()),
        (404, "{\"message\":\"not found\"}")
    );
    let (status, _) = http(port, "POST", "/webhook-test/front", "", "{}").unwrap();
    assert_eq!(status, 404, "no test webhooks");
    // Two seconds of an every-second schedule: a main process would have run it.
    std::thread::sleep(Duration::from_secs(2));
    all_succeed_once(|| setup.cmd("main"), 3, Duration::from_secs(30));

    let out = sluice(setup.dir.path())
        .args(["webhook", "--port", &free_port().to_string()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("sluice webhook runs in queue mode only: set EXECUTIONS_MODE=queue"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_streamed_webhook_answer_is_relayed_chunk_by_chunk_from_the_worker() {
    let respond = |name: &str, x: i64, parameters: serde_json::Value| {
        json!({"name": name, "type": "n8n-nodes-base.respondToWebhook", "typeVersion": 1.5,
               "position": [x, 0], "parameters": parameters})
    };
    let streaming = |path: &str, last: serde_json::Value| {
        json!({"id": format!("wf_{path}"), "name": path, "settings": {"executionOrder": "v1"},
            "nodes": [
                {"name": "Webhook", "type": "n8n-nodes-base.webhook", "typeVersion": 2,
                 "position": [0, 0], "parameters": {"httpMethod": "POST", "path": path,
                 "responseMode": "streaming", "options": {}}},
                respond("First", 200, json!({"respondWith": "text",
                    "responseBody": "={{ 'got ' + $json.body.amount }}"})),
                last],
            "connections": {
                "Webhook": {"main": [[{"node": "First", "type": "main", "index": 0}]]},
                "First": {"main": [[{"node": "Second", "type": "main", "index": 0}]]}}})
    };
    let setup = Setup::new(
        "stream",
        streaming(
            "progress",
            respond(
                "Second",
                400,
                json!({"respondWith": "json", "responseBody": "{\"done\": true}"}),
            ),
        ),
    );
    let broken = streaming(
        "broken",
        json!({"name": "Second", "type": "n8n-nodes-base.stopAndError", "typeVersion": 1,
               "position": [400, 0], "parameters": {"errorMessage": "boom"}}),
    );
    import(setup.cmd("main"), setup.dir.path(), broken, true);
    let port = free_port();
    let mut main = setup.cmd("main");
    main.env("SLUICE_QUEUE_REPLY_TIMEOUT", "1");
    let _main = Server(start(main, port));
    let stream = |path: &str| -> Vec<(String, String, String)> {
        let (status, body) = http(port, "POST", path, "", "{\"amount\": 5}").unwrap();
        assert_eq!(status, 200, "{body}");
        body.lines()
            .filter(|line| line.starts_with('{'))
            .map(|line| {
                let line: serde_json::Value = serde_json::from_str(line).unwrap();
                let text = |v: &serde_json::Value| v.as_str().unwrap_or("").to_string();
                (
                    text(&line["type"]),
                    text(&line["metadata"]["nodeName"]),
                    text(&line["content"]),
                )
            })
            .collect()
    };
    let line = |kind: &str, node: &str, content: &str| (kind.into(), node.into(), content.into());

    // No worker: the stream ends with an error line, so it did not run here.
    let waited = stream("/webhook/progress");
    assert_eq!(waited.len(), 1, "{waited:?}");
    assert!(
        waited[0].2.starts_with("No worker answered within 1 s"),
        "{waited:?}"
    );

    let _worker = start_worker(setup.cmd("w"), 2);
    assert_eq!(
        stream("/webhook/progress"),
        vec![
            line("begin", "First", ""),
            line("item", "First", "got 5"),
            line("end", "First", ""),
            line("begin", "Second", ""),
            line("item", "Second", "{\"done\":true}"),
            line("end", "Second", ""),
        ]
    );
    assert_eq!(
        stream("/webhook/broken"),
        vec![
            line("begin", "First", ""),
            line("item", "First", "got 5"),
            line("end", "First", ""),
            line("error", "", "Error in workflow"),
        ]
    );
    eventually("all three ended", || {
        statuses(setup.cmd("main"))
            .iter()
            .all(|(_, s)| s != "running")
    });
    let mut ended: Vec<String> = statuses(setup.cmd("main"))
        .into_iter()
        .map(|(_, s)| s)
        .collect();
    ended.sort();
    assert_eq!(ended, vec!["error", "success", "success"]);
}

#[test]
fn jobs_another_store_left_in_redis_fail_the_request_instead_of_hanging_it() {
    let setup = Setup::new("stale", webhook_workflow("stale", None));
    // Jobs a reset database's executions left behind under the same prefix.
    for id in 1..=3 {
        let stale = Command::new("redis-cli")
            .args([
                "-h",
                "127.0.0.1",
                "HSET",
                &format!("{}:sluice:job:{id}", setup.prefix.0),
            ])
            .args(["state", "done", "payload", "{}", "result", "success"])
            .status()
            .unwrap();
        assert!(stale.success());
    }
    let port = free_port();
    let _main = Server(start(setup.cmd("main"), port));
    let _worker = start_worker(setup.cmd("w"), 1);
    let started = std::time::Instant::now();
    let (status, answer) = post_with(port, "/webhook/stale", "", r#"{"n": 1}"#);
    assert_eq!(status, 500, "{answer}");
    assert!(
        answer.contains("already holds a job for execution id 1")
            && answer.contains("QUEUE_BULL_PREFIX"),
        "{answer}"
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(
        statuses(setup.cmd("main")),
        vec![("1".into(), "crashed".into())]
    );
}
