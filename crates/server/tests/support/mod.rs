//! A real server on a random port over a real store: SQLite in a temp dir, or the machine's
//! Postgres (127.0.0.1:5432, database `test`) in a fresh schema dropped by `stop`.

#![allow(dead_code)]

use reqwest::{Client, Method, Response};
use serde_json::{json, Value};
use sluice_server::ServerConfig;
use sluice_store::{Backend, PostgresConfig, Store, StoreConfig};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

static SCHEMAS: AtomicUsize = AtomicUsize::new(0);

pub struct TestServer {
    pub base: String,
    pub client: Client,
    pub key: String,
    pub store: Arc<Store>,
    pub store_config: StoreConfig,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<(), String>>>,
    _dir: tempfile::TempDir,
}

pub fn store_config(postgres: bool, dir: &std::path::Path) -> StoreConfig {
    let mut config = StoreConfig::sqlite(dir.to_path_buf());
    if postgres {
        config.backend = Backend::Postgres(PostgresConfig {
            host: "127.0.0.1".into(),
            port: 5432,
            database: "test".into(),
            user: "postgres".into(),
            password: None,
            schema: format!(
                "server_test_{}_{}",
                std::process::id(),
                SCHEMAS.fetch_add(1, Ordering::SeqCst)
            ),
            pool_size: 4,
        });
    }
    config
}

impl TestServer {
    pub async fn start(postgres: bool) -> TestServer {
        Self::with(postgres, |_| {}).await
    }

    pub async fn with(postgres: bool, tune: impl FnOnce(&mut ServerConfig)) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let store_config = store_config(postgres, dir.path());
        let store = Store::open(store_config.clone())
            .await
            .expect("store opens (is Postgres running at 127.0.0.1:5432?)");
        let mut config = ServerConfig::default();
        tune(&mut config);
        Self::serve(store, store_config, config, dir).await
    }

    pub async fn serve(
        store: Arc<Store>,
        store_config: StoreConfig,
        config: ServerConfig,
        dir: tempfile::TempDir,
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
            _dir: dir,
        }
    }

    /// Shut down gracefully; returns the data directory (deleted when dropped).
    pub async fn stop(mut self) -> tempfile::TempDir {
        self.shutdown.take().unwrap().send(()).unwrap();
        self.task.take().unwrap().await.unwrap().unwrap();
        if let Backend::Postgres(pg) = &self.store_config.backend {
            drop_schema(&pg.schema).await;
        }
        self._dir
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
}

pub async fn json_of(resp: Response) -> (u16, Value) {
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

pub async fn drop_schema(schema: &str) {
    let (client, conn) = tokio_postgres::connect(
        "host=127.0.0.1 port=5432 user=postgres dbname=test",
        tokio_postgres::NoTls,
    )
    .await
    .expect("postgres answers");
    tokio::spawn(conn);
    client
        .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
        .await
        .unwrap();
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

/// Runs each named `async fn name(postgres: bool)` as two tests, `sqlite::name` and
/// `postgres::name`, so every behaviour is checked on both stores.
macro_rules! on_both_backends {
    ($($name:ident),*) => {
        mod sqlite {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
               async fn $name() { super::$name(false).await } )*
        }
        mod postgres {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
               async fn $name() { super::$name(true).await } )*
        }
    };
}
