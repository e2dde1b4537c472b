//! The n8n node against a real `sluice serve`'s public API: `sluice run` of a workflow whose n8n
//! node lists the server's 253 workflows (two pages), filters them by tag, creates, updates,
//! reads, activates, deactivates and deletes workflows, lists, reads and deletes executions; a
//! missing ID names its parameter and a wrong API key fails the run with n8n's message for the
//! server's 401.

mod support;

use serde_json::{json, Value};
use std::path::Path;
use support::{free_port, http, sluice, start, stdout_of, Server};

fn manual_workflow(id: &str, name: &str) -> Value {
    json!({"id": id, "name": name, "nodes": [
        {"name": "Start", "type": "n8n-nodes-base.manualTrigger", "typeVersion": 1,
         "position": [0, 0], "parameters": {}}], "connections": {},
        "settings": {"executionOrder": "v1"}})
}

/// Manual Trigger -> n8n node with `parameters`.
fn api_workflow(parameters: Value) -> Value {
    json!({"name": "api", "nodes": [
        {"name": "Start", "type": "n8n-nodes-base.manualTrigger", "typeVersion": 1,
         "position": [0, 0], "parameters": {}},
        {"name": "n8n", "type": "n8n-nodes-base.n8n", "typeVersion": 1, "position": [200, 0],
         "parameters": parameters, "credentials": {"n8nApi": {"id": "1", "name": "api"}}}],
        "connections": {"Start": {"main": [[{"node": "n8n", "type": "main", "index": 0}]]}},
        "settings": {"executionOrder": "v1"}})
}

fn write(dir: &Path, name: &str, value: &Value) -> String {
    let path = dir.join(name);
    std::fs::write(&path, value.to_string()).unwrap();
    path.to_string_lossy().into_owned()
}

/// `sluice run` of `parameters`' workflow with the API credential; (exit code, items, stderr).
fn run(dir: &Path, port: u16, key: &str, parameters: Value) -> (Option<i32>, Value, String) {
    let credentials = json!([{"id": "1", "name": "api", "type": "n8nApi", "data": {
        "apiKey": key, "baseUrl": format!("http://127.0.0.1:{port}/api/v1")}}]);
    let creds = write(dir, "creds.json", &credentials);
    let wf = write(dir, "api.json", &api_workflow(parameters));
    let out = sluice(&dir.join("run"))
        .args(["run", &wf, "--credentials", &creds])
        .output()
        .unwrap();
    let items = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (
        out.status.code(),
        items,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_n8n_node_manages_a_sluice_server_through_its_api() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("server");
    for n in 0..3 {
        let wf = write(
            dir.path(),
            "wf.json",
            &manual_workflow(&format!("wf_{n}"), &format!("flow {n}")),
        );
        let mut import = sluice(&data);
        import.args(["workflow", "import", &wf]);
        stdout_of(import);
    }
    let mut create = sluice(&data);
    create.args(["apikey", "create"]);
    let key = stdout_of(create).trim().to_string();
    let port = free_port();
    let _server = Server(start(sluice(&data), port));

    // 250 more through the API: every workflow takes two pages (the API gives at most 250).
    for n in 3..253 {
        let mut workflow = manual_workflow(&format!("wf_{n}"), &format!("flow {n}"));
        if n == 100 {
            workflow["tags"] = json!([{"name": "backup"}]);
        }
        let body = workflow.to_string();
        let (status, answer) = http(port, "POST", "/api/v1/workflows", &key, &body).unwrap();
        assert_eq!(status, 200, "{answer}");
    }
    let all = json!({"returnAll": true, "filters": {}});
    let (code, items, stderr) = run(dir.path(), port, &key, all);
    assert_eq!(code, Some(0), "{stderr}");
    let mut names: Vec<String> = items
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names.len(), 253, "{stderr}");
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), 253, "each workflow once");
    let tagged = json!({"returnAll": true, "filters": {"tags": "backup"}});
    let (_, backup, _) = run(dir.path(), port, &key, tagged);
    assert_eq!(backup.as_array().unwrap().len(), 1, "{backup}");
    assert_eq!(backup[0]["name"], "flow 100");
    let (_, first_two, _) = run(dir.path(), port, &key, json!({"limit": 2, "filters": {}}));
    assert_eq!(first_two.as_array().unwrap().len(), 2);

    // Activate one by its URL, then list the active ones.
    let url = format!("http://127.0.0.1:{port}/workflow/wf_1");
    let (code, activated, stderr) = run(
        dir.path(),
        port,
        &key,
        json!({"operation": "activate", "workflowId": {"__rl": true, "mode": "url", "value": url}}),
    );
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(activated[0]["id"], "wf_1");
    assert_eq!(activated[0]["active"], true);
    let (_, active, _) = run(
        dir.path(),
        port,
        &key,
        json!({"returnAll": true, "filters": {"activeWorkflows": true}}),
    );
    let ids: Vec<&str> = active
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["wf_1"]);
    let deactivate = json!({"operation": "deactivate",
        "workflowId": {"__rl": true, "mode": "id", "value": "wf_1"}});
    let (_, deactivated, _) = run(dir.path(), port, &key, deactivate);
    assert_eq!(deactivated[0]["active"], false);

    // Create a workflow from JSON text, read it, delete it.
    let object = manual_workflow("ignored", "made by the node").to_string();
    let create = json!({"operation": "create", "workflowObject": object});
    let (code, created, stderr) = run(dir.path(), port, &key, create);
    assert_eq!(code, Some(0), "{stderr}");
    let id = created[0]["id"].as_str().unwrap().to_string();
    let by_id = json!({"__rl": true, "mode": "id", "value": id});
    let get = json!({"operation": "get", "workflowId": by_id});
    let renamed = manual_workflow("ignored", "renamed by the node");
    let update = json!({"operation": "update", "workflowId": by_id, "workflowObject": renamed});
    let (code, _, stderr) = run(dir.path(), port, &key, update);
    assert_eq!(code, Some(0), "{stderr}");
    let (_, got, _) = run(dir.path(), port, &key, get.clone());
    assert_eq!(got[0]["name"], "renamed by the node");
    let delete = json!({"operation": "delete", "workflowId": by_id});
    let (code, _, stderr) = run(dir.path(), port, &key, delete);
    assert_eq!(code, Some(0), "{stderr}");
    let (code, _, stderr) = run(dir.path(), port, &key, get);
    assert_ne!(code, Some(0));
    assert!(
        stderr.contains("The resource you are requesting could not be found"),
        "{stderr}"
    );
    let (code, _, stderr) = run(dir.path(), port, &key, json!({"operation": "get"}));
    assert_ne!(code, Some(0));
    assert!(
        stderr.contains("no workflow ID given") && stderr.contains("workflowId"),
        "{stderr}"
    );

    // Executions of one workflow: list, get, delete.
    let (status, ran) = http(port, "POST", "/api/v1/workflows/wf_0/run", &key, "{}").unwrap();
    assert_eq!(status, 200, "{ran}");
    let executions = json!({"resource": "execution", "returnAll": true,
        "filters": {"workflowId": {"__rl": true, "mode": "id", "value": "wf_0"}}});
    let (code, listed, stderr) = run(dir.path(), port, &key, executions.clone());
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    let execution = listed[0]["id"].as_str().unwrap().to_string();
    let one = json!({"resource": "execution", "operation": "get", "executionId": execution});
    let (_, got, _) = run(dir.path(), port, &key, one);
    assert_eq!(got[0]["workflowId"], "wf_0");
    let delete = json!({"resource": "execution", "operation": "delete", "executionId": execution});
    let (code, _, stderr) = run(dir.path(), port, &key, delete);
    assert_eq!(code, Some(0), "{stderr}");
    let (_, after, _) = run(dir.path(), port, &key, executions);
    assert_eq!(after, json!([]));

    let (code, _, stderr) = run(dir.path(), port, "wrong", json!({"filters": {}}));
    assert_ne!(code, Some(0));
    assert!(
        stderr.contains("Authorization failed - please check your credentials"),
        "{stderr}"
    );
}
