//! Webhook uploads in filesystem binary mode: a multipart form's file and a raw binary body reach
//! the workflow as binary properties kept on disk for the execution, and deleting the execution
//! removes its files.

mod support;

use reqwest::Method;
use serde_json::{json, Value};
use sluice_runtime::BinaryData;
use support::TestServer;

/// Webhook (POST `path`, `options`) → Extract From File (`operation`, `property`); the webhook
/// answers with the first extracted item.
fn upload_workflow(path: &str, options: Value, operation: &str, property: &str) -> Value {
    json!({"name": format!("upload {path}"), "settings": {"executionOrder": "v1"},
        "nodes": [
            {"name": "Webhook", "type": "n8n-nodes-base.webhook", "typeVersion": 2,
             "position": [0, 0], "webhookId": path,
             "parameters": {"httpMethod": "POST", "path": path, "responseMode": "lastNode",
                            "options": options}},
            {"name": "Extract", "type": "n8n-nodes-base.extractFromFile", "typeVersion": 1,
             "position": [200, 0],
             "parameters": {"operation": operation, "binaryPropertyName": property}}],
        "connections": {"Webhook": {"main": [[{"node": "Extract", "type": "main", "index": 0}]]}}})
}

fn files_under(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| {
            if e.path().is_dir() {
                files_under(&e.path())
            } else {
                1
            }
        })
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multipart_and_raw_uploads_are_kept_on_disk_per_execution() {
    let root = std::env::temp_dir().join(format!("sluice-uploads-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let store = BinaryData::filesystem(&root);
    let s = TestServer::with(false, |c| c.binary_data = store.clone()).await;
    s.deploy(upload_workflow("form", json!({}), "csv", "sheet"))
        .await;
    s.deploy(upload_workflow(
        "raw",
        json!({"binaryData": true, "binaryPropertyName": "upload"}),
        "text",
        "upload",
    ))
    .await;

    let form = "--B0und\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhi\r\n\
                --B0und\r\nContent-Disposition: form-data; name=\"sheet\"; filename=\"people.csv\"\r\n\
                Content-Type: text/csv\r\n\r\nname,age\nAda,36\r\n--B0und--\r\n";
    let reply = s
        .client
        .post(format!("{}/webhook/form", s.base))
        .header("content-type", "multipart/form-data; boundary=B0und")
        .body(form)
        .send()
        .await
        .unwrap();
    let (status, body) = support::json_of(reply).await;
    assert_eq!((status, body), (200, json!({"name": "Ada", "age": "36"})));

    let reply = s
        .client
        .post(format!("{}/webhook/raw", s.base))
        .header("content-type", "application/octet-stream")
        .body("raw bytes")
        .send()
        .await
        .unwrap();
    let (status, body) = support::json_of(reply).await;
    assert_eq!((status, body), (200, json!({"data": "raw bytes"})));

    let executions = s.wait_executions("", 2).await;
    assert_eq!(files_under(&root), 2, "one file per upload");
    for execution in &executions {
        let id = execution["id"].as_str().unwrap();
        let (status, _) = s
            .api(Method::DELETE, &format!("/executions/{id}"), None)
            .await;
        assert_eq!(status, 200);
    }
    assert_eq!(
        files_under(&root),
        0,
        "deleting executions removes their files"
    );
    s.stop().await;
    let _ = std::fs::remove_dir_all(&root);
}
