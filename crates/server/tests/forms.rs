//! The n8n Form Trigger served by `sluice serve`: the page at `/form/<path>`, a submission
//! becoming the trigger's item (`{<label>: value, ..., submittedAt, formMode}`), required fields
//! and numbers checked, the completion page or redirect, and test URLs for inactive workflows.

mod support;

use reqwest::Method;
use serde_json::{json, Value};
use support::TestServer;

/// Form Trigger (v2.2) at `options.path` = `path` with `options` and `mode` -> NoOp.
fn form_workflow(path: &str, mode: &str, mut options: Value) -> Value {
    options["path"] = json!(path);
    json!({"name": format!("form {path}"), "settings": {"executionOrder": "v1"},
        "nodes": [
            {"name": "On form submission", "type": "n8n-nodes-base.formTrigger", "typeVersion": 2.2,
             "position": [0, 0], "webhookId": format!("id-{path}"),
             "parameters": {
                "formTitle": "Sign <up>",
                "formDescription": "Tell us about you",
                "formFields": {"values": [
                    {"fieldLabel": "Name", "requiredField": true, "placeholder": "Ada"},
                    {"fieldLabel": "Age", "fieldType": "number"},
                    {"fieldLabel": "Colours", "fieldType": "dropdown", "multiselect": true,
                     "fieldOptions": {"values": [{"option": "red"}, {"option": "green"}, {"option": "blue"}]}},
                    {"fieldType": "hiddenField", "fieldName": "source", "fieldValue": "ad"},
                    {"fieldLabel": "CV", "fieldType": "file", "multipleFiles": false}]},
                "responseMode": mode,
                "options": options}},
            {"name": "Done", "type": "n8n-nodes-base.noOp", "typeVersion": 1, "position": [200, 0],
             "parameters": {}}],
        "connections": {"On form submission": {"main": [[{"node": "Done", "type": "main", "index": 0}]]}}})
}

/// A multipart body of `fields` (name, text) and one file for `field-4`.
fn multipart(fields: &[(&str, &str)]) -> String {
    let mut body = String::new();
    for (name, text) in fields {
        body.push_str(&format!(
            "--B0und\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{text}\r\n"
        ));
    }
    body.push_str(
        "--B0und\r\nContent-Disposition: form-data; name=\"field-4\"; filename=\"cv.txt\"\r\n\
         Content-Type: text/plain\r\n\r\nten years of Rust\r\n--B0und--\r\n",
    );
    body
}

async fn submit(s: &TestServer, url: &str, fields: &[(&str, &str)]) -> (u16, String) {
    let reply = s
        .client
        .post(format!("{}{url}", s.base))
        .header("content-type", "multipart/form-data; boundary=B0und")
        .body(multipart(fields))
        .send()
        .await
        .unwrap();
    (reply.status().as_u16(), reply.text().await.unwrap())
}

/// A url-encoded `form` posted to `path` is answered with a redirect to `location`.
async fn assert_redirected(s: &TestServer, path: &str, form: &str, location: &str) {
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let reply = no_redirects
        .post(format!("{}{path}", s.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status().as_u16(), 302);
    assert_eq!(reply.headers()["location"].to_str().unwrap(), location);
}

/// The trigger's item in the newest execution of workflow `id`, once `count` have ended.
async fn trigger_item(s: &TestServer, id: &str, count: usize) -> Value {
    let runs = s
        .wait_executions(
            &format!("workflowId={id}&status=success&includeData=true"),
            count,
        )
        .await;
    runs[0]["data"]["resultData"]["runData"]["On form submission"][0]["data"]["main"][0][0].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_form_is_shown_and_its_submission_starts_the_workflow() {
    let s = TestServer::start(false).await;
    let options = json!({"respondWithOptions": {"values": {"formSubmittedText": "Thanks!"}}});
    let id = s.deploy(form_workflow("signup", "lastNode", options)).await;

    let page = s
        .client
        .get(format!("{}/form/signup", s.base))
        .send()
        .await
        .unwrap();
    let status = page.status().as_u16();
    let html = page.text().await.unwrap();
    assert_eq!(status, 200, "{html}");
    for part in [
        "<h1>Sign &lt;up&gt;</h1>",
        "<p>Tell us about you</p>",
        "action=\"/form/signup\"",
        "name=\"field-0\" placeholder=\"Ada\" required",
        "<select id=\"field-2\" name=\"field-2\" multiple>",
        "<option>green</option>",
        "<input type=\"hidden\" name=\"field-3\" value=\"ad\">",
        "type=\"file\" id=\"field-4\"",
    ] {
        assert!(html.contains(part), "the page lacks {part}:\n{html}");
    }

    let fields = [
        ("field-0", "Ada"),
        ("field-1", "36"),
        ("field-2", "red"),
        ("field-2", "blue"),
        ("field-3", "ad"),
    ];
    let (status, html) = submit(&s, "/form/signup", &fields).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("<h1>Thanks!</h1>"), "{html}");
    let item = trigger_item(&s, &id, 1).await;
    let json = &item["json"];
    let submitted_at = json["submittedAt"].as_str().unwrap().to_string();
    assert!(submitted_at.ends_with("+00:00"), "{submitted_at}");
    assert_eq!(
        json,
        &json!({"Name": "Ada", "Age": 36, "Colours": ["red", "blue"], "source": "ad",
                "CV": ["cv.txt"], "submittedAt": submitted_at, "formMode": "production"})
    );
    assert_eq!(item["binary"]["CV"]["fileName"], json!("cv.txt"));
    assert_eq!(item["binary"]["CV"]["mimeType"], json!("text/plain"));

    let (status, body) = submit(&s, "/form/signup", &[("field-1", "36")]).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("the field 'Name' is required"), "{body}");
    let (status, body) = submit(
        &s,
        "/form/signup",
        &[("field-0", "Ada"), ("field-1", "old")],
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body.contains("the field 'Age' needs a number, not 'old'"),
        "{body}"
    );
    let nan = [("field-0", "Ada"), ("field-1", "NaN")];
    let (status, body) = submit(&s, "/form/signup", &nan).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body.contains("the field 'Age' needs a number, not 'NaN'"),
        "{body}"
    );
    assert_eq!(s.count_executions(&format!("workflowId={id}")).await, 1);

    let put = s
        .client
        .put(format!("{}/form/signup", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(put.status().as_u16(), 405);
    let (status, body) = s.post("/form/unknown", json!({})).await;
    assert_eq!(status, 404, "{body}");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_form_can_redirect_and_test_urls_serve_inactive_workflows() {
    let s = TestServer::start(false).await;
    let options = json!({"respondWithOptions": {"values": {
        "respondWith": "redirect", "redirectUrl": "https://example.com/thanks"}}});
    s.deploy(form_workflow("moved", "onReceived", options))
        .await;
    assert_redirected(
        &s,
        "/form/moved",
        "field-0=Ada",
        "https://example.com/thanks",
    )
    .await;

    // Saved, not active: only its test URL answers.
    let (status, wf) = s
        .api(
            Method::POST,
            "/workflows",
            Some(form_workflow("draft", "onReceived", json!({}))),
        )
        .await;
    assert_eq!(status, 200, "{wf}");
    let id = wf["id"].as_str().unwrap().to_string();
    let (status, _) = submit(&s, "/form/draft", &[("field-0", "Ada")]).await;
    assert_eq!(status, 404);
    let page = s
        .client
        .get(format!("{}/form-test/draft", s.base))
        .send()
        .await
        .unwrap();
    assert!(page
        .text()
        .await
        .unwrap()
        .contains("action=\"/form-test/draft\""));
    let (status, html) = submit(&s, "/form-test/draft", &[("field-0", "Ada")]).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("Your response has been recorded"), "{html}");
    let item = trigger_item(&s, &id, 1).await;
    assert_eq!(item["json"]["formMode"], json!("test"));
    assert_eq!(item["json"]["Age"], Value::Null);
    s.stop().await;
}

/// Form Trigger (`onReceived`) at `path` -> Form Ending with `ending` parameters.
fn ending_workflow(path: &str, ending: Value) -> Value {
    let mut wf = form_workflow(path, "onReceived", json!({}));
    wf["nodes"][1] = json!({"name": "Done", "type": "n8n-nodes-base.form", "typeVersion": 1,
        "position": [200, 0], "parameters": ending});
    wf
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_form_ending_answers_the_submission_when_the_workflow_reaches_it() {
    let s = TestServer::start(false).await;
    s.deploy(ending_workflow(
        "ending",
        json!({"operation": "completion", "completionTitle": "All set",
               "completionMessage": "={{ 'Thanks, ' + $json.Name }}"}),
    ))
    .await;
    s.deploy(ending_workflow(
        "ending-away",
        json!({"operation": "completion", "respondWith": "redirect",
               "redirectUrl": "=https://example.com/{{ $json.Name }}"}),
    ))
    .await;
    let (status, html) = submit(&s, "/form/ending", &[("field-0", "Ada")]).await;
    assert_eq!(status, 200, "{html}");
    assert!(
        html.contains("<h1>All set</h1><p>Thanks, Ada</p>"),
        "{html}"
    );
    assert_redirected(
        &s,
        "/form/ending-away",
        "field-0=Bo",
        "https://example.com/Bo",
    )
    .await;

    // The Form node's pages are refused when the workflow loads.
    let page = ending_workflow("paged", json!({"operation": "page"}));
    let (status, body) = s.api(Method::POST, "/workflows", Some(page)).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body.to_string()
            .contains("the n8n Form node's pages are not supported"),
        "{body}"
    );
    s.stop().await;
}

/// A Form Ending returning the file the form sent, read through the execution's binary data
/// (kept on disk here, as `sluice serve` keeps it by default).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_form_ending_returns_a_file_kept_on_disk() {
    let root = std::env::temp_dir().join(format!("sluice-form-files-{}", std::process::id()));
    let store = sluice_runtime::BinaryData::filesystem(&root);
    let s = TestServer::with(false, |c| c.binary_data = store.clone()).await;
    s.deploy(ending_workflow(
        "ending-file",
        json!({"operation": "completion", "respondWith": "returnBinary",
               "inputDataFieldName": "CV"}),
    ))
    .await;
    let reply = s
        .client
        .post(format!("{}/form/ending-file", s.base))
        .header("content-type", "multipart/form-data; boundary=B0und")
        .body(multipart(&[("field-0", "Ada")]))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status().as_u16(), 200);
    assert_eq!(
        reply.headers()["content-type"].to_str().unwrap(),
        "text/plain"
    );
    assert_eq!(reply.text().await.unwrap(), "ten years of Rust");

    s.stop().await;
    let _ = std::fs::remove_dir_all(&root);
}
