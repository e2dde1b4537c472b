//! The store goes away under load. `sluice serve` on a Postgres of the test's own that is
//! restarted while webhooks keep arriving, and on SQLite whose disk fills up: requests during
//! the outage get a quick 503 (never a hang), the process recovers by itself, and every request
//! answered 2xx has its execution in the store.

mod support;

use serde_json::{json, Value};
use sluice_store::testing::PrivatePostgres;
use std::collections::HashSet;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::*;

/// A webhook answering with its execution's id and the `n` it was sent.
fn echo_workflow() -> Value {
    json!({"id": "echo", "name": "echo", "settings": {"executionOrder": "v1"}, "nodes": [
        {"name": "Webhook", "type": "n8n-nodes-base.webhook", "typeVersion": 2, "position": [0, 0],
         "parameters": {"httpMethod": "POST", "path": "echo", "responseMode": "lastNode", "options": {}}},
        {"name": "Set", "type": "n8n-nodes-base.set", "typeVersion": 3.4, "position": [200, 0],
         "parameters": {"mode": "manual", "assignments": {"assignments": [
            {"id": "1", "name": "execution", "type": "string", "value": "={{ $execution.id }}"},
            {"id": "2", "name": "n", "type": "number", "value": "={{ $json.body.n }}"}]}, "options": {}}}
    ], "connections": {"Webhook": {"main": [[{"node": "Set", "type": "main", "index": 0}]]}}})
}

/// What one webhook request got: its status and, on 200, the execution id it names; `None` when
/// no answer came within the client's timeout.
type Answer = Option<(u16, Option<String>)>;

/// POST numbered requests to `/webhook/echo` from `clients` threads until `stop` is set.
fn post_until(
    port: u16,
    clients: usize,
    stop: Arc<AtomicBool>,
) -> Vec<std::thread::JoinHandle<Vec<Answer>>> {
    (0..clients)
        .map(|client| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut answers = Vec::new();
                let mut n = client * 1_000_000;
                while !stop.load(Ordering::Relaxed) {
                    let started = Instant::now();
                    let answer = http(
                        port,
                        "POST",
                        "/webhook/echo",
                        "",
                        &format!("{{\"n\": {n}}}"),
                    )
                    .map(|(status, body)| {
                        if status != 200 {
                            assert!(body.starts_with("{\"message\""), "a JSON error: {body}");
                            return (status, None);
                        }
                        let answer: Value = serde_json::from_str(&body).unwrap();
                        assert_eq!(answer["n"], json!(n), "{body}");
                        (status, answer["execution"].as_str().map(String::from))
                    });
                    assert!(
                        started.elapsed() < Duration::from_secs(8),
                        "a request took {:?} (status {answer:?})",
                        started.elapsed()
                    );
                    answers.push(answer);
                    n += 1;
                }
                answers
            })
        })
        .collect()
}

/// Every execution id in the store, through the API.
fn stored_execution_ids(port: u16, key: &str) -> HashSet<String> {
    let mut ids = HashSet::new();
    let mut cursor = String::new();
    loop {
        let page = get(port, key, &format!("/executions?limit=250{cursor}"));
        for execution in page["data"].as_array().unwrap() {
            ids.insert(execution["id"].as_str().unwrap().to_string());
        }
        match page["nextCursor"].as_str() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => return ids,
        }
    }
}

/// Checks the answers of a run with an outage in the middle; returns how many got 200.
fn check_answers(answers: &[Answer], stored: &HashSet<String>) -> usize {
    assert!(
        answers.iter().all(Option::is_some),
        "every request was answered"
    );
    let answers: Vec<_> = answers.iter().flatten().collect();
    let unexpected: Vec<_> = answers
        .iter()
        .filter(|(status, _)| ![200, 503].contains(status))
        .collect();
    assert!(unexpected.is_empty(), "only 200 or 503: {unexpected:?}");
    assert!(
        answers.iter().any(|(status, _)| *status == 503),
        "the outage was seen"
    );
    assert!(
        answers
            .iter()
            .rev()
            .take(5)
            .all(|(status, _)| *status == 200),
        "the server recovered by itself"
    );
    let answered: Vec<&String> = answers.iter().filter_map(|(_, id)| id.as_ref()).collect();
    let missing: Vec<_> = answered
        .iter()
        .filter(|id| !stored.contains(**id))
        .collect();
    assert!(
        missing.is_empty(),
        "{} of {} executions answered 200 are not in the store: {missing:?}",
        missing.len(),
        answered.len()
    );
    answered.len()
}

#[test]
fn a_postgres_restart_under_webhook_load_loses_no_answered_execution() {
    let postgres = PrivatePostgres::start(None);
    let dir = tempfile::tempdir().unwrap();
    let cmd = || {
        let mut cmd = sluice(dir.path());
        cmd.env("DB_TYPE", "postgresdb")
            .env("DB_POSTGRESDB_HOST", "127.0.0.1")
            .env("DB_POSTGRESDB_PORT", postgres.port.to_string())
            .env("DB_POSTGRESDB_DATABASE", "postgres")
            .env("DB_POSTGRESDB_USER", "postgres")
            .env("N8N_ENCRYPTION_KEY", "outage");
        cmd
    };
    import(cmd(), dir.path(), echo_workflow(), true);
    let key = api_key(cmd());
    let key = key.as_str();
    let port = free_port();
    let _server = Server(start(cmd(), port));

    let stop = Arc::new(AtomicBool::new(false));
    let clients = post_until(port, 4, stop.clone());
    std::thread::sleep(Duration::from_secs(2));
    postgres.stop();
    std::thread::sleep(Duration::from_secs(3));
    postgres.start_again();
    std::thread::sleep(Duration::from_secs(4));
    stop.store(true, Ordering::Relaxed);
    let answers: Vec<Answer> = clients
        .into_iter()
        .flat_map(|c| c.join().unwrap())
        .collect();
    let ok = check_answers(&answers, &stored_execution_ids(port, key));
    assert!(
        ok > 100,
        "load went through before and after: {ok} answered 200"
    );
}

/// A tmpfs of `size` mounted on a directory of its own; unmounted when dropped. Needs root (as
/// the test machines run); a test using it fails loudly without.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(size: &str) -> SmallDisk {
        let dir = tempfile::tempdir().unwrap();
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .status()
            .expect("mount runs");
        assert!(status.success(), "mounting a tmpfs needs root");
        SmallDisk { dir }
    }

    fn path(&self) -> &std::path::Path {
        self.dir.path()
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

#[test]
fn a_full_disk_under_sqlite_answers_503_and_recovers_once_space_frees() {
    let disk = SmallDisk::mount("64m");
    let data = disk.path().join("data");
    std::fs::create_dir(&data).unwrap();
    import(sluice(&data), &data, echo_workflow(), true);
    let key = api_key(sluice(&data));
    let key = key.as_str();
    let port = free_port();
    let _server = Server(start(sluice(&data), port));

    let stop = Arc::new(AtomicBool::new(false));
    let clients = post_until(port, 2, stop.clone());
    std::thread::sleep(Duration::from_secs(1));
    // Fill the disk to the last byte, hold it full, then free the space.
    let filler = disk.path().join("filler");
    let mut file = std::fs::File::create(&filler).unwrap();
    let chunk = vec![0u8; 64 * 1024];
    while std::io::Write::write_all(&mut file, &chunk).is_ok() {}
    let _ = std::io::Write::write_all(&mut file, &[0u8; 1]);
    drop(file);
    std::thread::sleep(Duration::from_secs(3));
    std::fs::remove_file(&filler).unwrap();
    std::thread::sleep(Duration::from_secs(3));
    stop.store(true, Ordering::Relaxed);
    let answers: Vec<Answer> = clients
        .into_iter()
        .flat_map(|c| c.join().unwrap())
        .collect();
    check_answers(&answers, &stored_execution_ids(port, key));
    let database = rusqlite::Connection::open(data.join("database.sqlite")).unwrap();
    let integrity: String = database
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .unwrap();
    assert_eq!(integrity, "ok", "the database is not corrupt");
}

/// A new API key, made by `cmd` (`sluice` on the store under test).
fn api_key(mut cmd: Command) -> String {
    cmd.args(["apikey", "create"]);
    stdout_of(cmd).trim().to_string()
}
