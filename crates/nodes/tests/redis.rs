//! Redis node against the machine's Redis (127.0.0.1:6379), each test under its own key
//! prefix: every operation with n8n's output shapes, many items in one pipeline, clear errors.

mod common;

use common::databases::{redis_credential, run_with_credential, unique};
use common::output;
use serde_json::{json, Value};
use sluice_engine::RunOutcome;
use sluice_store::testing::RedisKeys;

const REDIS: &str = "n8n-nodes-base.redis";

async fn run(parameters: Value, input: Value) -> RunOutcome {
    run_with_credential(
        REDIS,
        1.0,
        parameters,
        input,
        "redis",
        redis_credential(),
        json!({}),
    )
    .await
}

async fn json_out(parameters: Value, input: Value) -> Vec<Value> {
    let outcome = run(parameters, input).await;
    assert!(outcome.error.is_none(), "run failed: {:?}", outcome.error);
    output(&outcome, "Node")
        .into_iter()
        .map(|mut item| item["json"].take())
        .collect()
}

#[tokio::test]
async fn set_then_get_every_key_type() {
    let p = unique("sluice");
    let _cleanup = RedisKeys(p.clone());
    let input = json!([
        {"key": format!("{p}:s"), "value": "{\"a\":1}", "type": "string"},
        {"key": format!("{p}:h"), "value": "{\"a\":1,\"b\":true}", "type": "hash"},
        {"key": format!("{p}:l"), "value": "[1,2]", "type": "list"},
        {"key": format!("{p}:set"), "value": "x", "type": "sets"}
    ]);
    let set = json_out(
        json!({"operation": "set", "key": "={{ $json.key }}", "value": "={{ $json.value }}",
               "keyType": "={{ $json.type }}"}),
        input.clone(),
    )
    .await;
    assert_eq!(
        set,
        input.as_array().unwrap().clone(),
        "set passes items through"
    );
    let got = json_out(
        json!({"operation": "get", "key": "={{ $json.key }}", "propertyName": "found"}),
        input,
    )
    .await;
    let found: Vec<Value> = got.iter().map(|item| item["found"].clone()).collect();
    assert_eq!(
        found,
        vec![
            json!("{\"a\":1}"),
            json!({"a": "1", "b": "true"}),
            json!(["1", "2"]),
            json!(["x"])
        ]
    );
    assert_eq!(got[0]["type"], "string", "get keeps the item's fields");
}

#[tokio::test]
async fn incr_outputs_the_counter_under_the_key_and_sets_the_ttl() {
    let key = unique("sluice");
    let _cleanup = RedisKeys(key.clone());
    let parameters = json!({"operation": "incr", "key": key, "expire": true, "ttl": 100});
    let out = json_out(parameters, json!([{}, {}, {}])).await;
    assert_eq!(
        out,
        vec![json!({ &key: 1 }), json!({ &key: 2 }), json!({ &key: 3 })]
    );
    let value = json_out(
        json!({"operation": "get", "key": key, "keyType": "string"}),
        json!([{}]),
    )
    .await;
    assert_eq!(value, vec![json!({"propertyName": "3"})]);
    let mut direct = redis::Client::open("redis://127.0.0.1:6379/")
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let ttl: i64 = redis::cmd("TTL")
        .arg(&key)
        .query_async(&mut direct)
        .await
        .unwrap();
    assert!((90..=100).contains(&ttl), "ttl {ttl}");
}

#[tokio::test]
async fn push_llen_and_pop_from_either_end() {
    let list = unique("sluice");
    let _cleanup = RedisKeys(list.clone());
    json_out(
        json!({"operation": "push", "list": list, "messageData": "={{ $json.m }}", "tail": true}),
        json!([{"m": 42}, {"m": "{\"x\":1}"}, {"m": "plain"}]),
    )
    .await;
    let len = json_out(
        json!({"operation": "llen", "key": list, "propertyName": "stats.length"}),
        json!([{"keep": 1}]),
    )
    .await;
    assert_eq!(len, vec![json!({"keep": 1, "stats": {"length": 3}})]);
    let popped = json_out(
        json!({"operation": "pop", "list": list, "propertyName": "v"}),
        json!([{}, {}]),
    )
    .await;
    assert_eq!(popped, vec![json!({"v": 42}), json!({"v": {"x": 1}})]);
    let last = json_out(
        json!({"operation": "pop", "list": list, "tail": true, "propertyName": "v"}),
        json!([{}]),
    )
    .await;
    assert_eq!(last, vec![json!({"v": "plain"})]);
}

#[tokio::test]
async fn keys_with_and_without_values_then_delete() {
    let p = unique("sluice");
    let _cleanup = RedisKeys(p.clone());
    json_out(
        json!({"operation": "set", "key": "={{ $json.k }}", "value": "={{ $json.v }}"}),
        json!([{"k": format!("{p}:a"), "v": "1"}, {"k": format!("{p}:b"), "v": "2"}]),
    )
    .await;
    let with_values = json_out(
        json!({"operation": "keys", "keyPattern": format!("{p}:*")}),
        json!([{}]),
    )
    .await;
    assert_eq!(
        with_values,
        vec![json!({ format!("{p}:a"): "1", format!("{p}:b"): "2" })]
    );
    let names = json_out(
        json!({"operation": "keys", "keyPattern": format!("{p}:*"), "getValues": false}),
        json!([{}]),
    )
    .await;
    assert_eq!(
        names,
        vec![json!({"keys": [format!("{p}:a"), format!("{p}:b")]})]
    );
    json_out(
        json!({"operation": "delete", "key": format!("{p}:a")}),
        json!([{}]),
    )
    .await;
    let left = json_out(
        json!({"operation": "keys", "keyPattern": format!("{p}:*"), "getValues": false}),
        json!([{}]),
    )
    .await;
    assert_eq!(left, vec![json!({"keys": [format!("{p}:b")]})]);
}

#[tokio::test]
async fn info_and_publish() {
    let info = json_out(json!({"operation": "info"}), json!([{}])).await;
    assert!(info[0]["redis_version"].is_string(), "{}", info[0]);
    let published = json_out(
        json!({"operation": "publish", "channel": unique("sluice"), "messageData": "hi"}),
        json!([{"n": 1}]),
    )
    .await;
    assert_eq!(published, vec![json!({"n": 1})]);
}

#[tokio::test]
async fn a_thousand_items_set_and_read_back() {
    let p = unique("sluice");
    let _cleanup = RedisKeys(p.clone());
    let input: Vec<Value> = (0..1000)
        .map(|i| json!({"k": format!("{p}:{i}"), "v": i}))
        .collect();
    json_out(
        json!({"operation": "set", "key": "={{ $json.k }}", "value": "={{ $json.v }}", "expire": true, "ttl": 60}),
        Value::Array(input.clone()),
    )
    .await;
    let outcome = run(
        json!({"operation": "get", "key": "={{ $json.k }}", "propertyName": "v"}),
        Value::Array(input),
    )
    .await;
    let requests = outcome.run_data.runs("Node")[0]
        .profile
        .counters
        .get("requests")
        .copied();
    assert_eq!(
        requests,
        Some(2),
        "one pipeline for the types, one for the values"
    );
    let got: Vec<Value> = output(&outcome, "Node")
        .into_iter()
        .map(|mut item| item["json"].take())
        .collect();
    assert_eq!(got.len(), 1000);
    assert_eq!(got[999]["v"], "999");
}

#[tokio::test]
async fn a_command_on_the_wrong_type_fails_naming_node_and_item() {
    let key = unique("sluice");
    let _cleanup = RedisKeys(key.clone());
    json_out(
        json!({"operation": "set", "key": key, "value": "text"}),
        json!([{}]),
    )
    .await;
    let outcome = run(json!({"operation": "llen", "key": key}), json!([{}])).await;
    let text = outcome.error.expect("fails").to_string();
    assert!(
        text.starts_with("node 'Node': ") && text.contains("WRONGTYPE"),
        "{text}"
    );
    assert!(text.contains("item 0"), "{text}");
}

#[tokio::test]
async fn unreachable_server_is_a_clear_error() {
    let mut credential = redis_credential();
    credential["port"] = json!(1);
    credential["password"] = json!("s3cret-value");
    let outcome = run_with_credential(
        REDIS,
        1.0,
        json!({"operation": "info"}),
        json!([{}]),
        "redis",
        credential,
        json!({}),
    )
    .await;
    let text = outcome.error.expect("fails").to_string();
    assert!(
        text.starts_with("node 'Node': Redis 127.0.0.1:1/0 did not answer"),
        "{text}"
    );
    assert!(!text.contains("s3cret"), "{text}");
}

/// A private TLS-only redis-server on a free port with a fresh self-signed certificate; killed
/// (and its directory removed) when dropped.
struct TlsRedis {
    child: std::process::Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for TlsRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn tls_redis() -> TlsRedis {
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().unwrap();
    let path_text = |file: &std::path::Path| file.to_string_lossy().into_owned();
    let (cert, key) = common::self_signed_certificate(dir.path());
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new("redis-server")
        .args([
            "--port",
            "0",
            "--tls-port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
        ])
        .args([
            "--tls-cert-file",
            &path_text(&cert),
            "--tls-key-file",
            &path_text(&key),
        ])
        .args([
            "--tls-auth-clients",
            "no",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .args(["--dir", &path_text(dir.path())])
        .stdout(Stdio::null())
        .spawn()
        .expect("redis-server runs");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "TLS redis did not start"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    TlsRedis {
        child,
        port,
        _dir: dir,
    }
}

#[tokio::test]
async fn ssl_credentials_connect_over_tls() {
    let server = tls_redis();
    let credential = |verify: bool| {
        json!({"host": "127.0.0.1", "port": server.port, "database": 0, "ssl": true,
               "disableTlsVerification": !verify})
    };
    let key = unique("sluice-tls");
    let outcome = run_with_credential(
        REDIS,
        1.0,
        json!({"operation": "incr", "key": key}),
        json!([{}, {}]),
        "redis",
        credential(false),
        json!({}),
    )
    .await;
    assert!(outcome.error.is_none(), "{:?}", outcome.error);
    let out: Vec<Value> = output(&outcome, "Node")
        .into_iter()
        .map(|mut item| item["json"].take())
        .collect();
    assert_eq!(out, vec![json!({ &key: 1 }), json!({ &key: 2 })]);
    // The self-signed certificate is refused when it is checked.
    let checked = run_with_credential(
        REDIS,
        1.0,
        json!({"operation": "incr", "key": key}),
        json!([{}]),
        "redis",
        credential(true),
        json!({}),
    )
    .await;
    assert!(checked.error.is_some());
}
