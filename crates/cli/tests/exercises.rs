//! The course's exercises under `examples/`, scaled down so they run in seconds: batch
//! processing from Postgres with a performance report, 1,000 calls under a 100-a-minute limit
//! (time scaled), and the slow workflow whose profile names its bottlenecks next to its
//! optimised twin.

mod support;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use support::*;

fn example(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(path)
}

/// `sluice` with requests for the stand-in API's usual address sent to `upstream`.
fn sluice_against(upstream: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sluice"));
    cmd.env(
        "SLUICE_HTTP_CONNECT_TO",
        format!("http://127.0.0.1:5679={upstream}"),
    );
    cmd
}

/// A fresh database with the example's `schema.sql` (psql variables `vars`) and its
/// credentials file rewritten to name it, in `dir`.
fn example_database(example_dir: &str, vars: &str, dir: &Path) -> (TestDatabase, PathBuf) {
    let schema = example(&format!("{example_dir}/schema.sql"));
    let name = format!("exercise_{}", example_dir.replace('-', "_"));
    let db = TestDatabase::new(&name, &schema, &["-v", vars]);
    let credentials_file = example(&format!("{example_dir}/credentials.json"));
    let credentials = db.credentials(&credentials_file, "sluice_exercises", dir);
    (db, credentials)
}

/// Runs `cmd`, which must succeed: its standard output as JSON, and its standard error.
fn run_ok(mut cmd: Command) -> (Value, String) {
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(out.status.success(), "{stderr}");
    (serde_json::from_slice(&out.stdout).unwrap(), stderr)
}

fn json_of(cmd: Command) -> Value {
    serde_json::from_str(&stdout_of(cmd)).unwrap()
}

fn upstream_stats(upstream: &str) -> Value {
    let port = upstream.rsplit(':').next().unwrap().parse().unwrap();
    serde_json::from_str(&http(port, "GET", "/stats", "", "").unwrap().1).unwrap()
}

#[test]
fn batch_processing_reads_records_in_batches_of_100_and_reports_per_batch() {
    let dir = tempfile::tempdir().unwrap();
    let (db, credentials) = example_database("batch-processing", "records=1000", dir.path());
    let mut run = Command::new(env!("CARGO_BIN_EXE_sluice"));
    run.arg("run")
        .arg(example("batch-processing/workflow.json"))
        .arg("--credentials")
        .arg(&credentials);
    let (report, stderr) = run_ok(run);
    let report = &report[0];
    assert_eq!(report["records"], 1000);
    assert_eq!(
        report["failed"], 10,
        "one record in a hundred is not an amount"
    );
    assert_eq!(report["batches"], 10);
    let batches = report["perBatch"].as_array().unwrap();
    assert!(batches
        .iter()
        .all(|b| b["records"] == 100 && b["ms"].as_i64().unwrap() >= 0));
    let progress = &stderr;
    assert!(
        progress.contains("[Process batch] batch 10: 100 records (1000/1000)"),
        "{progress}"
    );
    assert_eq!(
        db.query("SELECT status, count(*) FROM exercise_results GROUP BY status ORDER BY status"),
        ["failed|10", "ok|990"]
    );
}

#[test]
fn rate_limiter_makes_1000_calls_within_100_a_minute_time_scaled_without_a_429() {
    let scale = 600; // a minute lasts 100 ms
    let (_upstream, upstream) = start_upstream(&["--rate-limit", &format!("{}/m", 100 * scale)]);
    let dir = tempfile::tempdir().unwrap();
    let workflow = std::fs::read_to_string(example("rate-limiter/workflow.json"))
        .unwrap()
        .replace("\"per\": 60000", &format!("\"per\": {}", 60000 / scale));
    let file = dir.path().join("workflow.json");
    std::fs::write(&file, workflow).unwrap();
    let mut run = sluice_against(&upstream);
    run.arg("run").arg(&file).args(["--profile", "json"]);
    let (report, stderr) = run_ok(run);
    assert_eq!(report[0]["answered"], 1000, "{report}");
    let profile: Value = serde_json::from_str(&stderr).unwrap();
    let call = &profile["nodes"][2];
    assert_eq!(call["node"], "Call API (100/min)");
    assert!(
        call["counters"]["rateLimitWaitMs"].as_u64().unwrap() > 0,
        "{call}"
    );
    let stats = upstream_stats(&upstream);
    assert_eq!(stats["requests"], 1000, "{stats}");
    assert_eq!(
        stats["rateLimited"], 0,
        "the bucket kept under the API's limit: {stats}"
    );
}

#[test]
fn the_slow_workflow_s_profile_names_its_bottlenecks_and_the_optimised_twin_has_none() {
    let dir = tempfile::tempdir().unwrap();
    let (db, credentials) = example_database("optimisation", "orders=500", dir.path());
    let (_upstream, upstream) = start_upstream(&["--latency-ms", "2"]);
    let profile = |workflow: &str| {
        let mut cmd = sluice_against(&upstream);
        cmd.arg("profile")
            .arg(example(workflow))
            .arg("--credentials")
            .arg(&credentials)
            .args(["--format", "json"]);
        let doc = json_of(cmd);
        let kinds: Vec<String> = doc["advice"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["kind"].as_str().unwrap().to_string())
            .collect();
        let rows =
            db.query("SELECT count(*), sum(amount), count(customer_email) FROM opt_enriched");
        db.query("TRUNCATE opt_enriched");
        (kinds, rows)
    };
    let (slow, slow_rows) = profile("optimisation/slow.json");
    for kind in [
        "filter-after-fetch",
        "batch-size-one",
        "sequential-http",
        "per-item-writes",
    ] {
        assert!(slow.iter().any(|k| k == kind), "{kind} in {slow:?}");
    }
    let (fast, fast_rows) = profile("optimisation/optimised.json");
    for kind in [
        "filter-after-fetch",
        "batch-size-one",
        "sequential-http",
        "per-item-writes",
    ] {
        assert!(!fast.iter().any(|k| k == kind), "{kind} in {fast:?}");
    }
    assert_eq!(slow_rows, fast_rows, "both write the same rows");
    assert_eq!(fast_rows[0].split('|').next(), Some("50"));
}
