//! Helpers for tests that run `sluice` as processes: commands on a temp data directory or a
//! Postgres schema (in queue mode with a Redis key prefix of their own), workers, one-shot HTTP
//! requests, and servers killed when dropped.

#![allow(dead_code)]

pub use sluice_store::testing::RedisKeys;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// `sluice test` over the shared fixture folder `name` (beside the repository): asserts that no
/// fixture failed and the command succeeded, and returns its summary line; `None` (the test is
/// skipped) when the folder is absent.
pub fn judge_shared_fixtures(name: &str) -> Option<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared")
        .join(name);
    if !dir.is_dir() {
        eprintln!("skipped: {} does not exist", dir.display());
        return None;
    }
    let out = Command::new(env!("CARGO_BIN_EXE_sluice"))
        .arg("test")
        .arg(&dir)
        .output()
        .expect("sluice test runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let summary = text.lines().last().unwrap_or_default().to_string();
    eprintln!("{name}: {summary}");
    let failed: Vec<&str> = text.lines().filter(|l| l.starts_with("FAIL ")).collect();
    assert!(
        failed.is_empty(),
        "{} fixture(s) failed:\n{}",
        failed.len(),
        failed.join("\n")
    );
    assert!(
        out.status.success(),
        "sluice test exited with {}",
        out.status
    );
    Some(summary)
}

pub fn sluice(dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sluice"));
    cmd.env("SLUICE_DATA_DIR", dir).env_remove("DB_TYPE");
    cmd
}

/// One HTTP/1.1 request; returns (status, body).
pub fn http(port: u16, method: &str, path: &str, key: &str, body: &str) -> Option<(u16, String)> {
    http_within(Duration::from_secs(10), port, method, path, key, body)
}

/// [`http`], waiting up to `timeout` for the answer.
pub fn http_within(
    timeout: Duration,
    port: u16,
    method: &str,
    path: &str,
    key: &str,
    body: &str,
) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(timeout)).ok()?;
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
pub fn start(cmd: Command, port: u16) -> Child {
    start_process(cmd, "serve", port, Stdio::null())
}

/// `sluice <subcommand>` (`serve`, `webhook`) as `cmd` would run it, on `port`, once it
/// answers; its log (standard error) goes to `log`.
pub fn start_process(
    mut cmd: Command,
    subcommand: &str,
    port: u16,
    log: impl Into<Stdio>,
) -> Child {
    let child = cmd
        .args([
            subcommand,
            "--listen",
            "127.0.0.1",
            "--port",
            &port.to_string(),
        ])
        .stderr(log)
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while http(port, "GET", "/healthz", "", "").is_none() {
        assert!(Instant::now() < deadline, "server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    child
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A server process, killed when dropped (so a failing test leaves none behind).
pub struct Server(pub Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `sluice` on the Postgres schema `schema`, with quick heartbeats and workflow syncs.
pub fn on_postgres(dir: &std::path::Path, schema: &str) -> Command {
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
pub fn import(
    mut cmd: Command,
    dir: &std::path::Path,
    workflow: serde_json::Value,
    activate: bool,
) {
    let file = dir.join(format!("{}.json", workflow["id"].as_str().unwrap()));
    std::fs::write(&file, workflow.to_string()).unwrap();
    cmd.args(["workflow", "import"]).arg(&file);
    if activate {
        cmd.arg("--activate");
    }
    stdout_of(cmd);
}

/// Runs `cmd`, which must succeed (its stderr is the failure message); its standard output.
pub fn stdout_of(mut cmd: Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// An API GET on `port`, as JSON.
pub fn get(port: u16, key: &str, path: &str) -> serde_json::Value {
    let (status, body) = http(port, "GET", &format!("/api/v1{path}"), key, "").unwrap();
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

/// Poll `check` until it holds (another process acts in its own time); 20 s at most.
pub fn eventually(what: &str, check: impl Fn() -> bool) {
    eventually_within(what, Duration::from_secs(20), check)
}

/// Poll `check` until it holds, for `within` at most.
pub fn eventually_within(what: &str, within: Duration, check: impl Fn() -> bool) {
    let deadline = Instant::now() + within;
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Requests a stub saw: path and arrival time.
pub type Hits = Arc<Mutex<Vec<(String, Instant)>>>;

/// A tiny HTTP/1.1 server on a random 127.0.0.1 port: a request for a path in `routes` gets its
/// (status, body) as JSON, anything else 404; every request is recorded in the returned
/// [`Hits`]. It serves until the test process ends.
pub fn http_stub(routes: Vec<(&'static str, u16, String)>) -> (String, Hits) {
    use std::io::{BufRead, BufReader};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let hits: Hits = Arc::default();
    let seen = hits.clone();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            reader.read_line(&mut request_line).unwrap();
            let mut header = String::new();
            while reader.read_line(&mut header).unwrap() > 2 {
                header.clear();
            }
            let path = request_line.split(' ').nth(1).unwrap_or_default();
            seen.lock()
                .unwrap()
                .push((path.to_string(), Instant::now()));
            let (status, body) = routes
                .iter()
                .find(|(route, ..)| *route == path)
                .map_or((404, String::new()), |(_, status, body)| {
                    (*status, body.clone())
                });
            let reason = if status == 200 { "OK" } else { "Not Found" };
            let _ = write!(
                stream,
                "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\n\
                 content-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (base, hits)
}

/// A test's key prefix in the machine's Redis, its keys deleted when dropped.
pub fn redis_prefix(name: &str) -> RedisKeys {
    RedisKeys(format!(
        "sluice_cli_{name}_{}_{}",
        std::process::id(),
        sluice_store::now_ms()
    ))
}

/// `sluice` in queue mode on `schema` and the Redis keys under `prefix`, with short leases.
pub fn queued(dir: &Path, schema: &str, prefix: &RedisKeys) -> Command {
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
pub fn start_worker(cmd: Command, concurrency: usize) -> Server {
    start_worker_on(cmd, concurrency, free_port())
}

/// A worker with its health server on `port`, once it is ready.
pub fn start_worker_on(mut cmd: Command, concurrency: usize, port: u16) -> Server {
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

/// Every execution's status, by id (through the CLI, so no server is needed).
pub fn statuses(mut cmd: Command) -> Vec<(String, String)> {
    cmd.args(["execution", "list", "--limit", "10000"]);
    stdout_of(cmd)
        .lines()
        .filter_map(|line| {
            let mut cols = line.split_whitespace();
            Some((cols.next()?.to_string(), cols.next()?.to_string()))
        })
        .collect()
}

/// `psql` on `database` as postgres on 127.0.0.1, stopping at the first error.
fn psql_command(database: &str) -> Command {
    let mut cmd = Command::new("psql");
    cmd.args(["-h", "127.0.0.1", "-U", "postgres", "-d", database]);
    cmd.args(["-v", "ON_ERROR_STOP=1"]);
    cmd
}

/// `psql` on `database`, unaligned: the output's lines.
pub fn psql(database: &str, args: &[&str]) -> Vec<String> {
    let out = psql_command(database)
        .arg("-At")
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

/// A Postgres database of its own with `schema` applied (`psql` arguments `args` set its
/// variables), dropped when the test ends.
pub struct TestDatabase(pub String);

impl TestDatabase {
    pub fn new(name: &str, schema: &Path, args: &[&str]) -> TestDatabase {
        let name = format!("{name}_{}_{}", std::process::id(), sluice_store::now_ms());
        psql("postgres", &["-c", &format!("CREATE DATABASE {name}")]);
        let db = TestDatabase(name);
        let mut apply = vec!["-q", "-f", schema.to_str().unwrap()];
        apply.extend_from_slice(args);
        psql(&db.0, &apply);
        db
    }

    /// The rows of `sql`, columns separated by `|`.
    pub fn query(&self, sql: &str) -> Vec<String> {
        psql(&self.0, &["-F", "|", "-c", sql])
    }

    /// `file` (a credentials export naming the database `placeholder`) rewritten to name this
    /// database, written into `dir`.
    pub fn credentials(&self, file: &Path, placeholder: &str, dir: &Path) -> PathBuf {
        let text = std::fs::read_to_string(file).unwrap();
        let path = dir.join("credentials.json");
        std::fs::write(&path, text.replace(placeholder, &self.0)).unwrap();
        path
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let drop = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.0);
        let _ = psql_command("postgres").args(["-qc", &drop]).status();
    }
}

/// `sluice dev upstream` on a free port with `args`; its base URL.
pub fn start_upstream(args: &[&str]) -> (Server, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sluice"))
        .args(["dev", "upstream", "--listen", "127.0.0.1", "--port", "0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    (Server(child), line.trim().to_string())
}
