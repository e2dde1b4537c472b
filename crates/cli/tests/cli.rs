//! The `sluice` binary end to end: exit codes, messages, outputs of run / test / check.

mod support;

use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn sluice(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sluice"))
        .args(args)
        .output()
        .expect("sluice runs")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Fails, showing the whole stderr, unless `out`'s stderr contains `text`.
fn assert_stderr_contains(out: &Output, text: &str) {
    assert!(stderr(out).contains(text), "{}", stderr(out));
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn repo_file(rel: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel)
        .to_string_lossy()
        .into_owned()
}

fn write(dir: &Path, name: &str, value: &Value) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_string_pretty(value).unwrap()).unwrap();
    path
}

/// `sluice run WF --input INPUT`.
fn run_with_input(wf: &Path, input: &Path) -> Output {
    sluice(&[
        "run",
        wf.to_str().unwrap(),
        "--input",
        input.to_str().unwrap(),
    ])
}

fn trigger() -> Value {
    json!({"name": "Start", "type": "n8n-nodes-base.manualTrigger", "typeVersion": 1,
           "position": [0, 0], "parameters": {}})
}

fn noop(name: &str) -> Value {
    json!({"name": name, "type": "n8n-nodes-base.noOp", "typeVersion": 1,
           "position": [200, 0], "parameters": {}})
}

fn chain(nodes: Vec<Value>) -> Value {
    let mut connections = serde_json::Map::new();
    for pair in nodes.windows(2) {
        connections.insert(
            pair[0]["name"].as_str().unwrap().into(),
            json!({"main": [[{"node": pair[1]["name"], "type": "main", "index": 0}]]}),
        );
    }
    json!({"name": "t", "nodes": nodes, "connections": connections,
           "settings": {"executionOrder": "v1"}})
}

#[test]
fn run_prints_the_last_nodes_items_and_feeds_input() {
    let dir = tempfile::tempdir().unwrap();
    let wf = write(dir.path(), "wf.json", &chain(vec![trigger(), noop("Pass")]));
    let input = write(
        dir.path(),
        "in.json",
        &json!([{"a": 1}, {"json": {"b": 2}}]),
    );
    let out = run_with_input(&wf, &input);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let items: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(items, json!([{"a": 1}, {"b": 2}]));
}

#[test]
fn run_writes_run_data_and_prints_the_profile() {
    let dir = tempfile::tempdir().unwrap();
    let wf = write(dir.path(), "wf.json", &chain(vec![trigger(), noop("Pass")]));
    let run_data = dir.path().join("run.json");
    let out = sluice(&[
        "run",
        wf.to_str().unwrap(),
        "--run-data",
        run_data.to_str().unwrap(),
        "--profile",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&run_data).unwrap()).unwrap();
    assert_eq!(doc["status"], "success");
    assert_eq!(doc["resultData"]["lastNodeExecuted"], "Pass");
    let run = &doc["resultData"]["runData"]["Pass"][0];
    for key in [
        "startTime",
        "executionTime",
        "executionIndex",
        "executionStatus",
        "data",
    ] {
        assert!(run.get(key).is_some(), "missing {key}");
    }
    assert_eq!(run["data"]["main"][0][0]["pairedItem"], json!({"item": 0}));
    let table = stderr(&out);
    assert!(
        table.contains("items in") && table.contains("Pass"),
        "{table}"
    );
    assert!(table.contains("status fast"), "{table}");

    let out = sluice(&["run", wf.to_str().unwrap(), "--profile", "json"]);
    let profile: Value = serde_json::from_str(stderr(&out).trim()).unwrap();
    assert_eq!(profile["nodes"][1]["node"], "Pass");
    assert_eq!(profile["nodes"][1]["itemsIn"], 1);
    assert_eq!(profile["status"], "fast");
}

#[test]
fn profile_runs_a_workflow_or_reads_run_data_and_gives_hints_and_a_timeline() {
    let dir = tempfile::tempdir().unwrap();
    let code = json!({"name": "Shape", "type": "n8n-nodes-base.code", "typeVersion": 2,
        "position": [200, 0], "parameters": {"mode": "runOnceForEachItem",
        "jsCode": "return { json: { label: 'order ' + $json.id } };"}});
    let wf = write(dir.path(), "wf.json", &chain(vec![trigger(), code]));
    let html = dir.path().join("profile.html");
    let out = sluice(&[
        "profile",
        wf.to_str().unwrap(),
        "--html",
        html.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let table = stdout(&out);
    assert!(
        table.contains("items in") && table.contains("status fast"),
        "{table}"
    );
    assert!(
        table.contains("hint: Shape: it builds each item from the item's own fields"),
        "{table}"
    );
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(
        page.contains("<svg") && page.contains("<title>Shape run 0:"),
        "{page}"
    );

    let run_data = dir.path().join("run.json");
    let out = sluice(&[
        "run",
        wf.to_str().unwrap(),
        "--run-data",
        run_data.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let args = ["profile", run_data.to_str().unwrap(), "--format", "json"];
    let without_workflow: Value = serde_json::from_str(&stdout(&sluice(&args))).unwrap();
    let kinds = |doc: &Value| -> Vec<String> {
        doc["advice"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["kind"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        kinds(&without_workflow),
        ["slowest-node"],
        "node types need the workflow"
    );
    assert_eq!(without_workflow["nodes"][1]["node"], "Shape");
    let with_workflow: Value = serde_json::from_str(&stdout(&sluice(&[
        "profile",
        run_data.to_str().unwrap(),
        "--format",
        "json",
        "--workflow",
        wf.to_str().unwrap(),
    ])))
    .unwrap();
    assert!(
        kinds(&with_workflow).contains(&"code-to-expression".to_string()),
        "{with_workflow}"
    );

    let out = sluice(&["profile", "/no/such/run.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert_stderr_contains(&out, "/no/such/run.json: cannot read file");
}

#[test]
fn bad_input_exits_2_saying_what_and_where() {
    let dir = tempfile::tempdir().unwrap();
    let out = sluice(&["run", "/no/such/workflow.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("/no/such/workflow.json: cannot read file"));

    let broken = dir.path().join("broken.json");
    std::fs::write(&broken, "{\n  \"nodes\": [\n    {,}\n  ]\n}").unwrap();
    let out = sluice(&["run", broken.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert_stderr_contains(&out, "invalid JSON at line 3:6");

    let not_wf = write(dir.path(), "x.json", &json!({"hello": 1}));
    let out = sluice(&["run", not_wf.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert_stderr_contains(&out, "not an n8n workflow");

    let mut wf = chain(vec![trigger(), noop("Pass")]);
    wf["nodes"][1]["type"] = json!("n8n-nodes-base.doesNotExist");
    let unknown = write(dir.path(), "u.json", &wf);
    let out = sluice(&["run", unknown.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert_stderr_contains(
        &out,
        "node 'Pass': unsupported node type 'n8n-nodes-base.doesNotExist'",
    );

    let bad_input = write(dir.path(), "in.json", &json!([1]));
    let ok = write(dir.path(), "ok.json", &chain(vec![trigger(), noop("Pass")]));
    let out = sluice(&[
        "run",
        ok.to_str().unwrap(),
        "--input",
        bad_input.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("input item 0 is not a JSON object"));
}

#[test]
fn a_failing_workflow_exits_1_naming_the_node() {
    let dir = tempfile::tempdir().unwrap();
    let stop = json!({"name": "Stop", "type": "n8n-nodes-base.stopAndError", "typeVersion": 1,
                      "position": [200, 0], "parameters": {"errorMessage": "order total missing"}});
    let wf = write(dir.path(), "wf.json", &chain(vec![trigger(), stop]));
    let out = sluice(&["run", wf.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert_stderr_contains(&out, "node 'Stop': order total missing");
}

/// `sluice run` with `SLUICE_EXECUTION_MEMORY_MB` set to `budget` (or unset).
fn sluice_with_budget(budget: Option<&str>, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sluice"));
    match budget {
        Some(mb) => command.env("SLUICE_EXECUTION_MEMORY_MB", mb),
        None => command.env_remove("SLUICE_EXECUTION_MEMORY_MB"),
    };
    command.args(args).output().expect("sluice runs")
}

#[test]
fn an_execution_over_its_memory_budget_exits_1_naming_the_node() {
    let dir = tempfile::tempdir().unwrap();
    let mut pad = set_node("={{ 'x'.repeat(2000000) }}");
    pad["parameters"]["assignments"]["assignments"][0]["type"] = json!("string");
    let wf = write(dir.path(), "wf.json", &chain(vec![trigger(), pad]));
    let wf = wf.to_str().unwrap();
    let out = sluice_with_budget(Some("1"), &["run", wf]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_stderr_contains(
        &out,
        "error: node 'Set': execution memory budget of 1 MB exceeded (its items take about 2 MB",
    );
    for budget in [None, Some("0"), Some("8")] {
        let out = sluice_with_budget(budget, &["run", wf]);
        assert_eq!(out.status.code(), Some(0), "{budget:?}: {}", stderr(&out));
    }
    let out = sluice_with_budget(Some("lots"), &["run", wf]);
    assert_eq!(out.status.code(), Some(2));
    assert_stderr_contains(
        &out,
        "error: SLUICE_EXECUTION_MEMORY_MB: expected a whole number of megabytes, got 'lots'",
    );
}

/// `sluice run` with the environment variables `vars` set.
fn sluice_with_env(vars: &[(&str, &str)], args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sluice"));
    command.envs(vars.iter().copied());
    command.args(args).output().expect("sluice runs")
}

/// Run data and streaming settings that make no sense are refused before the run, naming the
/// variable; the ones that do reach the run.
#[test]
fn run_settings_from_the_environment_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let wf = write(dir.path(), "wf.json", &chain(vec![trigger(), noop("Next")]));
    let wf = wf.to_str().unwrap();
    for (var, value, expected) in [
        (
            "SLUICE_RUN_DATA_MAX_ITEMS",
            "many",
            "a whole number or 'all'",
        ),
        ("SLUICE_STREAM", "sometimes", "auto, on or off"),
        (
            "SLUICE_STREAM_CHUNK_ITEMS",
            "0",
            "a whole number of at least 1",
        ),
        (
            "SLUICE_SORT_MEMORY_MB",
            "lots",
            "a whole number of at least 1",
        ),
    ] {
        let out = sluice_with_env(&[(var, value)], &["run", wf]);
        assert_eq!(out.status.code(), Some(2), "{var}={value}");
        assert_stderr_contains(
            &out,
            &format!("error: {var}: expected {expected}, got '{value}'"),
        );
    }
    for bound in ["5", "all", "ALL", ""] {
        let out = sluice_with_env(&[("SLUICE_RUN_DATA_MAX_ITEMS", bound)], &["run", wf]);
        assert_eq!(out.status.code(), Some(0), "{bound:?}: {}", stderr(&out));
    }
    // SLUICE_STREAM reaches the run: 3,000 items stream through the NoOps unless it is off.
    let (wf, input) = streamed_run(dir.path());
    let chunks = |stream: &str| {
        let run_data = dir.path().join(format!("run-{stream}.json"));
        let args = [
            "run",
            wf.to_str().unwrap(),
            "--input",
            input.to_str().unwrap(),
            "--run-data",
            run_data.to_str().unwrap(),
        ];
        let out = sluice_with_env(&[("SLUICE_STREAM", stream)], &args);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let written: Value =
            serde_json::from_str(&std::fs::read_to_string(&run_data).unwrap()).unwrap();
        written["resultData"]["runData"]["First"][0]["profile"]["chunks"].clone()
    };
    assert_eq!(chunks("auto"), json!(3));
    assert_eq!(chunks("off"), Value::Null);
}

/// A workflow (Start -> First -> Second, NoOps) and 3,000 input items, enough for the NoOps to
/// stream: their paths in `dir`.
fn streamed_run(dir: &Path) -> (PathBuf, PathBuf) {
    let items: Vec<Value> = (0..3000).map(|i| json!({ "i": i })).collect();
    let input = write(dir, "items.json", &Value::Array(items));
    let nodes = vec![trigger(), noop("First"), noop("Second")];
    (write(dir, "wf.json", &chain(nodes)), input)
}

/// Progress lines are drawn on a terminal only: with stderr piped, a streamed run leaves it
/// empty.
#[test]
fn run_draws_no_progress_when_stderr_is_not_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let (wf, input) = streamed_run(dir.path());
    let out = run_with_input(&wf, &input);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stderr(&out), "");
    let printed: Vec<Value> = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(printed.len(), 3000);
}

/// On a terminal (a pseudo-terminal from util-linux's `script`, where it is installed), stderr
/// shows a line per node with its items in and out.
#[test]
fn run_draws_a_progress_line_per_node_on_a_terminal() {
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("skipped: no `script` to give the run a terminal");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (wf, input) = streamed_run(dir.path());
    let printed = dir.path().join("out.json");
    let command = format!(
        "'{}' run '{}' --input '{}' > '{}'",
        env!("CARGO_BIN_EXE_sluice"),
        wf.display(),
        input.display(),
        printed.display()
    );
    let out = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .output()
        .unwrap();
    let terminal = stdout(&out);
    for node in ["Start", "First", "Second"] {
        assert!(
            terminal.contains(node) && terminal.contains("3,000 in, 3,000 out"),
            "{node}: {terminal}"
        );
    }
    let printed: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(printed).unwrap()).unwrap();
    assert_eq!(printed.len(), 3000);
}

#[test]
fn test_command_judges_pins_like_n8ns_harness() {
    let dir = tempfile::tempdir().unwrap();
    let mut passing = chain(vec![trigger(), noop("Pass")]);
    passing["pinData"] = json!({"Pass": [{"json": {}}]});
    passing["nodeExecutionOrder"] = json!(["Start", "Pass"]);
    write(dir.path(), "a-pass.json", &passing);
    let mut failing = chain(vec![trigger(), noop("Pass")]);
    failing["pinData"] = json!({"Pass": [{"json": {"x": 1}}]});
    write(dir.path(), "b-fail.json", &failing);
    let out = sluice(&["test", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains("PASS") && text.contains("a-pass.json"),
        "{text}"
    );
    assert!(
        text.contains("FAIL") && text.contains("$['Pass'][0][0].json.x: expected 1, missing"),
        "{text}"
    );
    assert_eq!(text.lines().last(), Some("1 passed, 1 failed"));
}

#[test]
fn check_lists_unsupported_node_types() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "ok.json", &chain(vec![trigger(), noop("Pass")]));
    let mut wf = chain(vec![trigger(), noop("Pass")]);
    wf["nodes"][1]["type"] = json!("n8n-nodes-base.salesforce");
    write(dir.path(), "sf.json", &wf);
    let out = sluice(&["check", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(text.contains("OK   ") && text.contains("ok.json"), "{text}");
    assert!(text.contains("n8n-nodes-base.salesforce"), "{text}");
    assert!(
        text.contains("1 of 2 workflow files can run on Sluice (0 with warnings)"),
        "{text}"
    );
}

/// Execute Command is left out as in n8n 2.x: `run` and `check` name the node and the setting;
/// `NODES_EXCLUDE=[]` lets it run.
#[test]
fn execute_command_runs_only_where_nodes_exclude_allows_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut command = noop("Shell");
    command["type"] = json!("n8n-nodes-base.executeCommand");
    command["parameters"] = json!({"command": "echo hello from \"$0\""});
    let wf = write(dir.path(), "shell.json", &chain(vec![trigger(), command]));
    let with_exclude = |value: Option<&str>, args: &[&str]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_sluice"));
        cmd.args(args).env_remove("NODES_EXCLUDE");
        if let Some(value) = value {
            cmd.env("NODES_EXCLUDE", value);
        }
        cmd.output().unwrap()
    };
    let disabled = "node 'Shell': node type 'n8n-nodes-base.executeCommand' is disabled on this \
                    deployment: NODES_EXCLUDE lists it";
    let refused = with_exclude(None, &["run", wf.to_str().unwrap()]);
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    assert_stderr_contains(&refused, disabled);
    let checked = with_exclude(None, &["check", dir.path().to_str().unwrap()]);
    assert_eq!(checked.status.code(), Some(1));
    assert!(stdout(&checked).contains(disabled), "{}", stdout(&checked));

    let allowed = with_exclude(Some("[]"), &["run", wf.to_str().unwrap()]);
    assert_eq!(allowed.status.code(), Some(0), "{}", stderr(&allowed));
    let items: Value = serde_json::from_slice(&allowed.stdout).unwrap();
    assert_eq!(
        items,
        json!([{"exitCode": 0, "stderr": "", "stdout": "hello from /bin/sh"}])
    );
    let only_others = with_exclude(Some("n8n-nodes-base.redis"), &["run", wf.to_str().unwrap()]);
    assert_eq!(
        only_others.status.code(),
        Some(0),
        "{}",
        stderr(&only_others)
    );
}

/// A workflow with a connection keyed by a node's id (the common export oddity): it runs the way
/// n8n runs it, and `run` and `check` say what is odd.
fn id_keyed() -> Value {
    let mut wf = chain(vec![trigger(), noop("Pass")]);
    wf["nodes"][1]["id"] = json!("5f1c-pass");
    wf["connections"]["5f1c-pass"] =
        json!({"main": [[{"node": "error-handler-5f1c", "type": "main", "index": 0}]]});
    wf
}

#[test]
fn run_and_check_warn_about_odd_files_and_run_them_like_n8n() {
    let dir = tempfile::tempdir().unwrap();
    let wf = write(dir.path(), "odd.json", &id_keyed());
    let out = sluice(&["run", wf.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_stderr_contains(
        &out,
        "odd.json: connections under '5f1c-pass' never run: no node has that name (it is \
             the id of node 'Pass'",
    );
    let out = sluice(&["check", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(
        text.contains("OK   ") && text.contains("odd.json"),
        "{text}"
    );
    assert!(
        text.contains("     warning: connections under '5f1c-pass'"),
        "{text}"
    );
    assert!(
        text.contains("1 of 1 workflow files can run on Sluice (1 with warnings)"),
        "{text}"
    );
}

#[test]
fn the_example_workflow_routes_orders() {
    let out = sluice(&[
        "run",
        &repo_file("examples/route-orders.json"),
        "--input",
        &repo_file("examples/orders.json"),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let items: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let labels: Vec<&str> = items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["label"].as_str().unwrap())
        .collect();
    assert_eq!(
        labels,
        ["Order 1 for Ada", "Order 3 for Alan", "Order 5 for Barbara"]
    );
}

#[test]
fn run_executes_a_sub_workflow_fetched_from_a_url() {
    let sub = json!({"name": "sub", "nodes": [
        {"name": "In", "type": "n8n-nodes-base.executeWorkflowTrigger", "typeVersion": 1.1,
         "position": [0, 0], "parameters": {"workflowInputs": {"values": [{"name": "who"}]}}}
    ], "connections": {}});
    let (base, _) = support::http_stub(vec![
        ("/sub.json", 200, sub.to_string()),
        ("/broken.json", 200, "{\"nodes\": [".into()),
    ]);
    let call = |path: &str| {
        json!({"name": "Call", "type": "n8n-nodes-base.executeWorkflow", "typeVersion": 1.3,
               "position": [200, 0], "parameters": {
                   "source": "url", "workflowUrl": format!("{base}{path}"), "options": {},
                   "workflowInputs": {"mappingMode": "defineBelow",
                       "value": {"who": "={{ $json.name.toUpperCase() }}"},
                       "schema": [{"id": "who", "displayName": "who", "type": "string"}],
                       "attemptToConvertTypes": false, "convertFieldsToString": true}}})
    };
    let dir = tempfile::tempdir().unwrap();
    let input = write(
        dir.path(),
        "in.json",
        &json!([{"name": "ada", "age": 36}, {"name": "alan"}]),
    );
    let run = |path: &str| {
        let wf = write(dir.path(), "wf.json", &chain(vec![trigger(), call(path)]));
        sluice(&[
            "run",
            wf.to_str().unwrap(),
            "--input",
            input.to_str().unwrap(),
        ])
    };

    let out = run("/sub.json");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let items: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(items, json!([{"who": "ADA"}, {"who": "ALAN"}]));

    let out = run("/missing.json");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains(&format!(
            "node 'Call': cannot load the workflow from '{base}/missing.json': the server \
             answered 404 Not Found [parameter 'workflowUrl', item 0]"
        )),
        "{}",
        stderr(&out)
    );

    let out = run("/broken.json");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains(&format!(
            "node 'Call': the workflow at '{base}/broken.json' is not valid JSON"
        )),
        "{}",
        stderr(&out)
    );
}

const JWT_SECRET: &str = "jwt-secret-never-printed";

/// Manual trigger -> Respond to Webhook signing `{sub}` with its `jwtAuth` credential, its
/// response output on (so it signs under `sluice run` too).
fn jwt_workflow(reference: Value) -> Value {
    let respond = json!({"name": "Sign", "type": "n8n-nodes-base.respondToWebhook",
        "typeVersion": 1.5, "position": [200, 0],
        "parameters": {"respondWith": "jwt", "payload": "={{ {sub: 'u1'} }}",
                       "enableResponseOutput": true},
        "credentials": {"jwtAuth": reference}});
    chain(vec![trigger(), respond])
}

fn credentials_file(dir: &Path) -> PathBuf {
    write(
        dir,
        "credentials.json",
        &json!([{"id": "7", "name": "Signer", "type": "jwtAuth",
                 "data": {"keyType": "passphrase", "secret": JWT_SECRET, "algorithm": "HS256"},
                 "createdAt": "2025-01-01T00:00:00.000Z", "isManaged": false}]),
    )
}

#[test]
fn run_takes_credentials_from_an_n8n_export_and_never_prints_them() {
    let dir = tempfile::tempdir().unwrap();
    let creds = credentials_file(dir.path());
    let run_data = dir.path().join("run.json");
    // By id, and by name when the id is unknown.
    for reference in [
        json!({"id": "7", "name": "x"}),
        json!({"id": "99", "name": "Signer"}),
    ] {
        let wf = write(dir.path(), "wf.json", &jwt_workflow(reference));
        let out = sluice(&[
            "run",
            wf.to_str().unwrap(),
            "--credentials",
            creds.to_str().unwrap(),
            "--run-data",
            run_data.to_str().unwrap(),
            "--profile",
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let doc = std::fs::read_to_string(&run_data).unwrap();
        let parsed: Value = serde_json::from_str(&doc).unwrap();
        let token = &parsed["resultData"]["runData"]["Sign"][0]["data"]["main"][1][0]["json"]
            ["response"]["body"]["token"];
        assert!(
            token.as_str().is_some_and(|t| t.split('.').count() == 3),
            "{doc}"
        );
        for text in [doc, stdout(&out), stderr(&out)] {
            assert!(!text.contains(JWT_SECRET));
        }
    }
}

#[test]
fn a_missing_credential_fails_before_the_run_naming_node_and_credential() {
    let dir = tempfile::tempdir().unwrap();
    let creds = credentials_file(dir.path());
    let wf = write(
        dir.path(),
        "wf.json",
        &jwt_workflow(json!({"id": "8", "name": "Elsewhere"})),
    );
    let out = sluice(&[
        "run",
        wf.to_str().unwrap(),
        "--credentials",
        creds.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out)
            .contains("node 'Sign': the 'jwtAuth' credential \"Elsewhere\" (id 8) does not exist"),
        "{}",
        stderr(&out)
    );
    let out = sluice(&["run", wf.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert_stderr_contains(
        &out,
        "node 'Sign': the 'jwtAuth' credential \"Elsewhere\" (id 8) is not available",
    );
    let encrypted = write(
        dir.path(),
        "enc.json",
        &json!([{"id": "1", "name": "E", "type": "jwtAuth", "data": "U2FsdGVkX1"}]),
    );
    let out = sluice(&[
        "run",
        wf.to_str().unwrap(),
        "--credentials",
        encrypted.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert_stderr_contains(&out, "--decrypted");
}

#[test]
fn credential_import_stores_an_export_encrypted_for_serve() {
    let dir = tempfile::tempdir().unwrap();
    let creds = credentials_file(dir.path());
    let data_dir = dir.path().join("data");
    let import = || {
        Command::new(env!("CARGO_BIN_EXE_sluice"))
            .args(["credential", "import", creds.to_str().unwrap()])
            .arg("--data-dir")
            .arg(&data_dir)
            .env_remove("DB_TYPE")
            .env_remove("N8N_ENCRYPTION_KEY")
            .output()
            .unwrap()
    };
    let out = import();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "7\tjwtAuth\tSigner\n");
    // Importing again replaces the credential with that id.
    assert_eq!(import().status.code(), Some(0));
    let db = std::fs::read(data_dir.join("database.sqlite")).unwrap_or_default();
    assert!(!String::from_utf8_lossy(&db).contains(JWT_SECRET));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let store = sluice_store::Store::open(sluice_store::StoreConfig::sqlite(data_dir.clone()))
            .await
            .unwrap();
        let (kind, data) = store.credential_data("7").await.unwrap().unwrap();
        assert_eq!(kind, "jwtAuth");
        assert_eq!(data["secret"], JWT_SECRET);
        store.close().await;
    });
}

/// A Set node whose one assignment is `value`.
fn set_node(value: &str) -> Value {
    json!({"name": "Set", "type": "n8n-nodes-base.set", "typeVersion": 3.4,
           "position": [200, 0], "parameters": {"assignments": {"assignments": [
               {"id": "1", "name": "x", "value": value, "type": "number"}]}, "options": {}}})
}

/// n8n saves, activates and runs a workflow with an expression that does not parse; the node
/// fails when it evaluates it. So does Sluice, and `check` warns.
#[test]
fn an_expression_that_does_not_parse_fails_its_node_only_when_it_runs() {
    let dir = tempfile::tempdir().unwrap();
    let check = json!({"name": "Check", "type": "n8n-nodes-base.if", "typeVersion": 2,
        "position": [200, 0], "parameters": {"conditions": {
            "options": {"caseSensitive": true, "leftValue": "", "typeValidation": "strict"},
            "conditions": [{"id": "1", "leftValue": "={{ $json.fail }}", "rightValue": "",
                "operator": {"type": "boolean", "operation": "true", "singleValue": true}}],
            "combinator": "and"}, "options": {}}});
    let mut broken = set_node("={{ \"result\": false }}");
    broken["name"] = json!("Broken");
    let mut fine = set_node("={{ 1 + 1 }}");
    fine["name"] = json!("Fine");
    let wf = json!({"name": "t", "nodes": [trigger(), check, broken, fine], "connections": {
        "Start": {"main": [[{"node": "Check", "type": "main", "index": 0}]]},
        "Check": {"main": [[{"node": "Broken", "type": "main", "index": 0}],
                           [{"node": "Fine", "type": "main", "index": 0}]]}}});
    let path = write(dir.path(), "wf.json", &wf);
    let warning = "node 'Broken': invalid expression syntax: unexpected token ':' in \
                   `\"result\": false` [parameter 'assignments.assignments[0].value']: the node \
                   fails when it evaluates it";

    let checked = sluice(&["check", path.to_str().unwrap()]);
    assert_eq!(checked.status.code(), Some(0), "{}", stderr(&checked));
    assert!(stdout(&checked).contains(warning), "{}", stdout(&checked));

    let passed = run_with_input(
        &path,
        &write(dir.path(), "pass.json", &json!([{"fail": false}])),
    );
    assert_eq!(passed.status.code(), Some(0), "{}", stderr(&passed));
    assert_eq!(
        serde_json::from_str::<Value>(&stdout(&passed)).unwrap(),
        json!([{"x": 2}])
    );
    assert!(stderr(&passed).contains(warning), "{}", stderr(&passed));

    let failed = run_with_input(
        &path,
        &write(dir.path(), "fail.json", &json!([{"fail": true}])),
    );
    assert_eq!(failed.status.code(), Some(1), "{}", stderr(&failed));
    assert!(
        stderr(&failed).contains(
            "error: node 'Broken': invalid expression syntax: unexpected token ':' in \
             `\"result\": false` [parameter 'assignments.assignments[0].value', item 0]"
        ),
        "{}",
        stderr(&failed)
    );
}

#[test]
fn hostile_nesting_is_a_clear_error_not_a_stack_overflow() {
    let dir = tempfile::tempdir().unwrap();
    let deep = 100_000;
    for (what, code) in [
        (
            "parentheses",
            format!("{}1{}", "(".repeat(deep), ")".repeat(deep)),
        ),
        (
            "brackets",
            format!("{}1{}", "[".repeat(deep), "]".repeat(deep)),
        ),
    ] {
        let wf = chain(vec![trigger(), set_node(&format!("={{{{ {code} }}}}"))]);
        let out = sluice(&["run", write(dir.path(), "deep.json", &wf).to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(1), "{what}: {}", stderr(&out));
        assert!(
            stderr(&out).contains(
                "error: node 'Set': invalid expression syntax: expression nests deeper than 256 \
                 levels [parameter 'assignments.assignments[0].value', item 0]"
            ),
            "{what}: {}",
            stderr(&out)
        );
    }

    // A long `1+1+...` chain is too deep for the native evaluator; QuickJS runs it.
    let sum = format!("={{{{ {}1 }}}}", "1+".repeat(deep));
    let wf = chain(vec![trigger(), set_node(&sum)]);
    let out = sluice(&["run", write(dir.path(), "sum.json", &wf).to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let items: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(items, json!([{"x": deep + 1}]));

    // JSON nested past serde_json's limit of 128 levels in the workflow file itself.
    let nested = format!("{}{}", "[".repeat(deep), "]".repeat(deep));
    let file = dir.path().join("nested.json");
    let text = serde_json::to_string(&chain(vec![trigger(), noop("Pass")]))
        .unwrap()
        .replace(
            "\"parameters\":{}",
            &format!("\"parameters\":{{\"x\":{nested}}}"),
        );
    std::fs::write(&file, text).unwrap();
    let out = sluice(&["run", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_stderr_contains(&out, "recursion limit exceeded");
}

#[test]
fn a_reader_that_hangs_up_early_ends_run_quietly() {
    use std::io::Read;
    let dir = tempfile::tempdir().unwrap();
    let items: Vec<Value> = (0..20_000)
        .map(|i| json!({"id": i, "amount": 500 + i % 1000, "note": "x".repeat(40)}))
        .collect();
    let input = write(dir.path(), "items.json", &Value::Array(items));
    let mut child = Command::new(env!("CARGO_BIN_EXE_sluice"))
        .args(["run", &repo_file("examples/route-orders.json"), "--input"])
        .arg(&input)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Read a little, then hang up as `| head` does.
    let mut first = [0u8; 16];
    child.stdout.take().unwrap().read_exact(&mut first).unwrap();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    child.wait().unwrap();
    assert!(!err.contains("panicked"), "{err}");
}
