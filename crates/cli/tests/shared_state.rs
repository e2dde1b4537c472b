//! State that every Sluice process shares through Redis, proved with separate `sluice run`
//! processes against one local stub: a global rate-limit bucket and the Redis response cache.

mod support;

use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// A workflow: a Code node making `items` items, then HTTP Request to `url` with `options`.
fn http_workflow(url: &str, items: usize, options: Value) -> Value {
    json!({"name": "shared", "nodes": [
        {"name": "Start", "type": "n8n-nodes-base.manualTrigger", "typeVersion": 1,
         "position": [0, 0], "parameters": {}},
        {"name": "Items", "type": "n8n-nodes-base.code", "typeVersion": 2, "position": [200, 0],
         "parameters": {"jsCode": format!("return Array.from({{length: {items}}}, (_, n) => ({{json: {{n}}}}));")}},
        {"name": "Call", "type": "n8n-nodes-base.httpRequest", "typeVersion": 4.2,
         "position": [400, 0], "parameters": {"url": url, "options": options}}
    ], "connections": {
        "Start": {"main": [[{"node": "Items", "type": "main", "index": 0}]]},
        "Items": {"main": [[{"node": "Call", "type": "main", "index": 0}]]}
    }})
}

/// `workflow` written to a file in `dir`.
fn write(dir: &std::path::Path, workflow: &Value) -> PathBuf {
    let file = dir.join("workflow.json");
    std::fs::write(&file, workflow.to_string()).unwrap();
    file
}

/// `sluice run FILE` with the machine's Redis as the process's Redis, under a prefix of its own.
fn run_command(file: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sluice"));
    cmd.arg("run")
        .arg(file)
        .env("SLUICE_REDIS_URL", "redis://127.0.0.1:6379/")
        .env(
            "QUEUE_BULL_PREFIX",
            format!("test-shared-{}", std::process::id()),
        );
    cmd
}

#[test]
fn two_processes_share_one_global_rate_limit() {
    let (base, hits) = support::http_stub(vec![("/limited", 200, "{\"ok\":true}".into())]);
    let dir = tempfile::tempdir().unwrap();
    let workflow = http_workflow(
        &format!("{base}/limited"),
        10,
        json!({"maxConcurrency": 10,
               "rateLimit": {"requests": 10, "per": 1000, "scope": "global",
                             "bucket": format!("stub-{}", std::process::id())}}),
    );
    let file = write(dir.path(), &workflow);
    let children: Vec<_> = (0..2)
        .map(|_| {
            run_command(&file)
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let mut times: Vec<_> = hits.lock().unwrap().iter().map(|(_, at)| *at).collect();
    times.sort();
    assert_eq!(times.len(), 20);
    // 10 per second across both processes, burst 1: 19 gaps of 100 ms (a local bucket per
    // process would let both send at once and finish in about 0.9 s).
    let span = *times.last().unwrap() - times[0];
    assert!(span >= Duration::from_millis(1800), "{span:?}");
    for pair in times.windows(2) {
        assert!(
            pair[1] - pair[0] >= Duration::from_millis(70),
            "{:?}",
            pair[1] - pair[0]
        );
    }
}

#[test]
fn the_redis_cache_answers_a_second_process() {
    let (base, hits) = support::http_stub(vec![("/customer", 200, "{\"id\":7}".into())]);
    let dir = tempfile::tempdir().unwrap();
    let workflow = http_workflow(
        &format!("{base}/customer"),
        5,
        json!({"cache": {"ttl": 60, "store": "redis"}}),
    );
    let file = write(dir.path(), &workflow);
    let first = support::stdout_of(run_command(&file));
    let second = support::stdout_of(run_command(&file));
    assert_eq!(
        hits.lock().unwrap().len(),
        1,
        "one upstream call for both processes"
    );
    let items = |text: &str| -> Vec<Value> { serde_json::from_str(text).unwrap() };
    let from_cache = |items: &[Value]| {
        items
            .iter()
            .filter(|i| i["fromCache"] == json!(true))
            .count()
    };
    assert_eq!(from_cache(&items(&first)), 4, "{first}");
    assert_eq!(from_cache(&items(&second)), 5, "{second}");
    assert!(items(&second).iter().all(|i| i["id"] == 7));
}
