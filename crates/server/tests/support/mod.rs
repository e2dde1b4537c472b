//! A real server on a random port over a real store: SQLite in a temp dir, or the machine's
//! Postgres (127.0.0.1:5432, database `test`) in a fresh schema, dropped with its [`TestDb`]
//! (also when the test panics).

#![allow(dead_code)]

use reqwest::{Client, Method, Response};
use serde_json::{json, Value};
use sluice_server::ServerConfig;
pub use sluice_store::testing::TestDb;
use sluice_store::{Store, StoreConfig};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub struct TestServer {
    pub base: String,
    pub client: Client,
    pub key: String,
    pub store: Arc<Store>,
    pub store_config: StoreConfig,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<(), String>>>,
    /// The database, when this server has it to itself.
    db: Option<TestDb>,
}

impl Drop for TestServer {
    /// A test that panics leaves no server running on its database.
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

impl TestServer {
    pub async fn start(postgres: bool) -> TestServer {
        Self::with(postgres, |_| {}).await
    }

    pub async fn with(postgres: bool, tune: impl FnOnce(&mut ServerConfig)) -> TestServer {
        let db = TestDb::new(postgres, "server_test").await;
        let mut server = Self::on(&db, tune).await;
        server.db = Some(db);
        server
    }

    /// A server on `db`, which others may share (a process of several on one database).
    pub async fn on(db: &TestDb, tune: impl FnOnce(&mut ServerConfig)) -> TestServer {
        let mut config = ServerConfig::default();
        tune(&mut config);
        Self::serve(db.open().await, db.config.clone(), config).await
    }

    pub async fn serve(
        store: Arc<Store>,
        store_config: StoreConfig,
        config: ServerConfig,
    ) -> TestServer {
        let key = store.create_api_key("test").await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(sluice_server::serve(
            listener,
            store.clone(),
            config,
            async move {
                let _ = rx.await;
            },
        ));
        sluice_runtime::tls::use_ring_provider();
        TestServer {
            base,
            // A fresh connection per request: after an error answered before the body was read
            // (413) the server closes the connection, and a pooled client could reuse it.
            client: Client::builder()
                .pool_max_idle_per_host(0)
                .build()
                .expect("http client"),
            key,
            store,
            store_config,
            shutdown: Some(tx),
            task: Some(task),
            db: None,
        }
    }

    /// Shut down gracefully; returns the database if the server had it to itself (dropped
    /// with it).
    pub async fn stop(mut self) -> Option<TestDb> {
        self.shutdown.take().unwrap().send(()).unwrap();
        self.task.take().unwrap().await.unwrap().unwrap();
        self.db.take()
    }

    /// Stop as a killed process would: no shutdown, no deregistration, no more heartbeats,
    /// schedules or recovery. (Executions it started go on as tasks of the test's runtime,
    /// where a killed process's would vanish; they write nothing before the test ends.)
    pub async fn kill(mut self) {
        let task = self.task.take().unwrap();
        task.abort();
        assert!(task.await.unwrap_err().is_cancelled());
    }

    /// An API call with the key; returns (status, JSON body).
    pub async fn api(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = self
            .client
            .request(method, format!("{}/api/v1{path}", self.base))
            .header("X-N8N-API-KEY", &self.key);
        if let Some(body) = body {
            req = req.json(&body);
        }
        json_of(req.send().await.unwrap()).await
    }

    /// Store and activate a workflow; returns its id.
    pub async fn deploy(&self, workflow: Value) -> String {
        let (status, wf) = self.api(Method::POST, "/workflows", Some(workflow)).await;
        assert_eq!(status, 200, "{wf}");
        let id = wf["id"].as_str().unwrap().to_string();
        let (status, body) = self
            .api(Method::POST, &format!("/workflows/{id}/activate"), None)
            .await;
        assert_eq!(status, 200, "{body}");
        id
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let resp = self
            .client
            .post(format!("{}{path}", self.base))
            .json(&body)
            .send()
            .await
            .unwrap();
        json_of(resp).await
    }

    /// Wait until `count` executions match `query` (they finish off the request path).
    pub async fn wait_executions(&self, query: &str, count: usize) -> Vec<Value> {
        for _ in 0..200 {
            let (_, list) = self
                .api(Method::GET, &format!("/executions?{query}"), None)
                .await;
            let data = list["data"].as_array().cloned().unwrap_or_default();
            if data.len() >= count {
                return data;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("fewer than {count} executions for '{query}'");
    }

    /// The execution `id` (a string id) as the API shows it.
    pub async fn execution(&self, id: &Value) -> Value {
        let (status, body) = self
            .api(
                Method::GET,
                &format!("/executions/{}", id.as_str().unwrap()),
                None,
            )
            .await;
        assert_eq!(status, 200, "{body}");
        body
    }

    /// How many executions match `query`.
    pub async fn count_executions(&self, query: &str) -> usize {
        let (status, list) = self
            .api(Method::GET, &format!("/executions?limit=250&{query}"), None)
            .await;
        assert_eq!(status, 200, "{list}");
        list["data"].as_array().unwrap().len()
    }
}

/// Wait until `check` holds (things other processes do happen in their own time); panics
/// naming `what` after 20 s.
pub async fn eventually<F: Future<Output = bool>>(what: &str, mut check: impl FnMut() -> F) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub async fn json_of(resp: Response) -> (u16, Value) {
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// Webhook (POST `path`, `mode`) -> Set (`ok`, `amount` from the body) [-> Respond].
pub fn webhook_workflow(path: &str, mode: &str, extra: Value) -> Value {
    let mut params =
        json!({"httpMethod": "POST", "path": path, "responseMode": mode, "options": {}});
    if let (Value::Object(p), Value::Object(e)) = (&mut params, extra) {
        p.extend(e);
    }
    let mut nodes = vec![
        json!({"name": "Webhook", "type": "n8n-nodes-base.webhook", "typeVersion": 2,
               "position": [0, 0], "webhookId": "hook-1", "parameters": params}),
        json!({"name": "Set", "type": "n8n-nodes-base.set", "typeVersion": 3.4, "position": [200, 0],
               "parameters": {"assignments": {"assignments": [
                   {"id": "1", "name": "ok", "value": true, "type": "boolean"},
                   {"id": "2", "name": "amount", "value": "={{ $json.body.amount }}", "type": "number"}]},
                   "options": {}}}),
    ];
    let mut connections =
        json!({"Webhook": {"main": [[{"node": "Set", "type": "main", "index": 0}]]}});
    if mode == "responseNode" {
        nodes.push(
            json!({"name": "Respond", "type": "n8n-nodes-base.respondToWebhook",
            "typeVersion": 1.1, "position": [400, 0],
            "parameters": {"respondWith": "firstIncomingItem", "options": {"responseCode": 201}}}),
        );
        connections["Set"] = json!({"main": [[{"node": "Respond", "type": "main", "index": 0}]]});
    }
    json!({"name": format!("hook {path}"), "nodes": nodes, "connections": connections,
           "settings": {"executionOrder": "v1"}})
}
