//! Hostile callers: every route of the router walked without an API key and with wrong ones
//! (401 with a JSON error, nothing changed in the store), webhook paths that try to climb out to
//! other routes, and a deleted workflow that must stop answering at once.
//!
//! axum's `Router` cannot list its routes, so the walk reads them from the `.route(...)` calls
//! of the server's sources: a route added there is walked without editing this file, and a new
//! nested router (or a source file with routes this test does not know) fails the test.

mod support;

use reqwest::Method;
use serde_json::{json, Value};
use sluice_store::on_both_backends;
use support::{webhook_workflow, TestServer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The server's sources that build routers, with the prefix each router is mounted under.
const ROUTER_SOURCES: [(&str, &str); 3] = [
    ("", include_str!("../src/lib.rs")),
    ("/api/v1", include_str!("../src/api.rs")),
    ("/api/v1/queue", include_str!("../src/queue_api.rs")),
];

/// The `.nest(...)` calls those sources may make (each nested router is one of the sources).
const KNOWN_NESTS: [&str; 2] = [
    r#".nest("/api/v1", api::router(app.clone()))"#,
    r#".nest("/queue", crate::queue_api::router())"#,
];

/// (method, path) of every route in the sources; `any(...)` routes are listed as "ANY".
fn routes() -> Vec<(String, String)> {
    let mut routes = Vec::new();
    for (prefix, source) in ROUTER_SOURCES {
        let flat: String = source.split_whitespace().collect::<Vec<_>>().join("");
        for nest in flat.match_indices(".nest(").map(|(i, _)| &flat[i..]) {
            assert!(
                KNOWN_NESTS
                    .iter()
                    .any(|known| nest.starts_with(&known.split_whitespace().collect::<String>())),
                "a router nested this test does not walk: {}",
                &nest[..nest.find(')').unwrap_or(nest.len())]
            );
        }
        for call in flat.split(".route(").skip(1) {
            let path = call.split('"').nth(1).expect("route path literal");
            // The handlers end where the call's parentheses balance.
            let mut depth = 1;
            let end = call
                .char_indices()
                .find(|&(_, c)| {
                    depth += match c {
                        '(' => 1,
                        ')' => -1,
                        _ => 0,
                    };
                    depth == 0
                })
                .map_or(call.len(), |(i, _)| i);
            let handlers = &call[..end];
            for method in ["get", "post", "put", "delete", "patch", "any"] {
                let called = handlers.match_indices(&format!("{method}(")).any(|(i, _)| {
                    i == 0 || matches!(handlers.as_bytes()[i - 1], b'.' | b',' | b':' | b'(')
                });
                if called {
                    routes.push((method.to_uppercase(), format!("{prefix}{path}")));
                }
            }
        }
    }
    routes.sort();
    routes.dedup();
    routes
}

/// Everything the API could change, as text: every row of every table a request could touch.
async fn snapshot(s: &TestServer) -> String {
    let db = s.store.database();
    let mut all = String::new();
    for table in [
        "workflows",
        "executions",
        "credentials",
        "api_keys",
        "queue_jobs",
    ] {
        let rows = db
            .query(&format!("SELECT * FROM {table} ORDER BY 1"), vec![])
            .await
            .unwrap();
        all += &format!("{table}: {rows:?}\n");
    }
    all
}

fn manual_workflow(name: &str) -> Value {
    json!({"name": name, "nodes": [
        {"name": "Start", "type": "n8n-nodes-base.manualTrigger", "typeVersion": 1,
         "position": [0, 0], "parameters": {}}],
        "connections": {}, "settings": {"executionOrder": "v1"}})
}

#[test]
fn the_route_list_is_read_from_the_sources() {
    let routes = routes();
    for expected in [
        ("GET", "/api/v1/workflows"),
        ("DELETE", "/api/v1/workflows/{id}"),
        ("POST", "/api/v1/workflows/{id}/run"),
        ("DELETE", "/api/v1/credentials/{id}"),
        ("POST", "/api/v1/queue/dlq/{id}/replay"),
        ("ANY", "/webhook/{*path}"),
        ("GET", "/metrics"),
    ] {
        assert!(
            routes
                .iter()
                .any(|(m, p)| (m.as_str(), p.as_str()) == expected),
            "{expected:?} missing from {routes:?}"
        );
    }
}

async fn every_api_route_refuses_callers_without_the_key(postgres: bool) {
    let s = TestServer::start(postgres).await;
    let workflow = s
        .deploy(webhook_workflow("walk", "onReceived", json!({})))
        .await;
    let (status, run) = s
        .api(Method::POST, &format!("/workflows/{workflow}/run"), None)
        .await;
    assert_eq!(status, 200, "{run}");
    let execution = s.wait_executions("", 1).await[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, credential) = s
        .api(
            Method::POST,
            "/credentials",
            Some(json!({"name": "c", "type": "httpHeaderAuth",
                        "data": {"name": "X-Secret", "value": "v"}})),
        )
        .await;
    assert_eq!(status, 200, "{credential}");
    let credential = credential["id"].as_str().unwrap().to_string();
    let before = snapshot(&s).await;

    let api_routes: Vec<_> = routes()
        .into_iter()
        .filter(|(_, p)| p.starts_with("/api/v1/"))
        .collect();
    assert!(api_routes.len() >= 15, "{api_routes:?}");
    let wrong_keys = [
        None,
        Some(String::new()),
        Some("nope".to_string()),
        Some(format!("{}x", s.key)),
        Some(s.key[..s.key.len() - 1].to_string()),
        Some(s.key.to_uppercase()),
        Some(format!("Bearer {}", s.key)),
    ];
    for (method, path) in &api_routes {
        // Real ids, so a route that skipped the check would act on real rows.
        let id = if path.contains("/executions/") {
            &execution
        } else if path.contains("/credentials/") {
            &credential
        } else {
            &workflow
        };
        // The key anywhere but its header is no key.
        let url = format!(
            "{}{}?X-N8N-API-KEY={k}&api_key={k}",
            s.base,
            path.replace("{id}", id),
            k = s.key
        );
        for key in &wrong_keys {
            let mut request = s
                .client
                .request(Method::from_bytes(method.as_bytes()).unwrap(), &url)
                .json(&manual_workflow("intruder"));
            if let Some(key) = key {
                request = request.header("X-N8N-API-KEY", key);
            }
            request = request.header("Authorization", format!("Bearer {}", s.key));
            let (status, body) = support::json_of(request.send().await.unwrap()).await;
            assert_eq!(status, 401, "{method} {path} with key {key:?}: {body}");
            assert!(
                body["message"].as_str().is_some_and(|m| !m.is_empty()),
                "{method} {path}: not a JSON error: {body}"
            );
        }
    }
    assert_eq!(
        snapshot(&s).await,
        before,
        "a refused request changed the store"
    );
    s.stop().await;
}

/// Send `path` as written (no client-side normalization of `..` or `//`), with a valid API key;
/// returns the status and the body.
async fn raw_get(s: &TestServer, path: &str) -> (u16, String) {
    let addr = s.base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nX-N8N-API-KEY: {}\r\nConnection: close\r\n\r\n",
        s.key
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = answer
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_string();
    (status, body)
}

async fn webhook_paths_cannot_escape_to_other_routes(postgres: bool) {
    let s = TestServer::start(postgres).await;
    let id = s
        .deploy(webhook_workflow("inside", "onReceived", json!({})))
        .await;
    let (status, _) = s.post("/webhook/inside", json!({"amount": 1})).await;
    assert_eq!(status, 200);
    for path in [
        "/webhook/../api/v1/workflows",
        "/webhook/..%2fapi/v1/workflows",
        "/webhook/%2e%2e/api/v1/workflows",
        "/webhook/%2E%2E/%2E%2E/api/v1/workflows",
        "/webhook/%2e%2e%2f%2e%2e%2fapi%2fv1%2fworkflows",
        "/webhook//api/v1/workflows",
        "/webhook///..//api/v1/workflows",
        "/webhook/inside/../../api/v1/workflows",
        "/webhook-test/../api/v1/workflows",
        "/webhook/..\\api\\v1\\workflows",
        "/webhook/%5c..%5capi/v1/workflows",
        "/webhook/./../healthz",
        "/webhook/x/../inside",
    ] {
        let (status, body) = raw_get(&s, path).await;
        assert!(
            !body.contains(&id) && !body.contains("\"data\""),
            "{path} reached another route: {status} {body}"
        );
        assert!(
            [400, 404].contains(&status),
            "{path}: expected 400 or 404, got {status} {body}"
        );
    }
    // Routes outside /webhook do not lead into webhooks or the API either.
    for path in ["//api/v1/workflows", "/healthz/../api/v1/workflows"] {
        let (status, body) = raw_get(&s, path).await;
        assert!(!body.contains(&id), "{path}: {status} {body}");
    }
    s.stop().await;
}

async fn a_deleted_workflow_is_gone_at_once(postgres: bool) {
    let s = TestServer::start(postgres).await;
    let id = s
        .deploy(webhook_workflow("doomed", "onReceived", json!({})))
        .await;
    let (status, _) = s.post("/webhook/doomed", json!({"amount": 1})).await;
    assert_eq!(status, 200);
    let (status, body) = s
        .api(Method::DELETE, &format!("/workflows/{id}"), None)
        .await;
    assert_eq!(status, 200, "{body}");
    // No waiting: the very next requests see it gone.
    let (status, body) = s.post("/webhook/doomed", json!({"amount": 1})).await;
    assert_eq!(status, 404, "webhook of a deleted workflow: {body}");
    for (method, path) in [
        (Method::GET, format!("/workflows/{id}")),
        (Method::PUT, format!("/workflows/{id}")),
        (Method::DELETE, format!("/workflows/{id}")),
        (Method::POST, format!("/workflows/{id}/activate")),
        (Method::POST, format!("/workflows/{id}/deactivate")),
        (Method::POST, format!("/workflows/{id}/run")),
    ] {
        let body = (method == Method::PUT).then(|| manual_workflow("back"));
        let (status, answer) = s.api(method.clone(), &path, body).await;
        assert_eq!(status, 404, "{method} {path}: {answer}");
        assert!(answer["message"].is_string(), "{answer}");
    }
    let (_, list) = s.api(Method::GET, "/workflows", None).await;
    assert!(!list.to_string().contains(&id), "{list}");
    assert_eq!(s.count_executions(&format!("workflowId={id}")).await, 0);
    s.stop().await;
}

on_both_backends!(
    every_api_route_refuses_callers_without_the_key,
    webhook_paths_cannot_escape_to_other_routes,
    a_deleted_workflow_is_gone_at_once
);
