//! Secrets stay secret under `sluice serve`: a workflow uses every credential type Sluice
//! supports (HTTP basic, header, query, bearer, custom and OAuth2 client credentials, Postgres,
//! Redis), each once working and once failing, with the credentials created through the API.
//! Afterwards the server's log (at debug level), every API answer, the execution's run data and
//! `/metrics` are searched for every secret value, the API key and `N8N_ENCRYPTION_KEY`.

mod support;

use serde_json::{json, Value};
use std::fs::File;
use support::*;

const ENCRYPTION_KEY: &str = "enc-key-5b1d9e0c";
const OAUTH_TOKEN: &str = "oauth-token-c4e7a2";

/// (credential type, name, data, the secret values in it).
fn credentials(stub: &str) -> Vec<(&'static str, &'static str, Value, Vec<String>)> {
    let custom = json!({"headers": {"X-Custom": "custom-secret-8a1f"}, "qs": {"sig": "custom-qs-secret-9d2e"}});
    vec![
        (
            "httpBasicAuth",
            "basic",
            json!({"user": "basic-user", "password": "basic-secret-3c9b"}),
            vec![
                "basic-secret-3c9b".into(),
                base64("basic-user:basic-secret-3c9b"),
            ],
        ),
        (
            "httpHeaderAuth",
            "header",
            json!({"name": "X-Api-Key", "value": "header-secret-71fe"}),
            vec!["header-secret-71fe".into()],
        ),
        (
            "httpQueryAuth",
            "query",
            json!({"name": "api_key", "value": "query-secret-2b6d"}),
            vec!["query-secret-2b6d".into()],
        ),
        (
            "httpBearerAuth",
            "bearer",
            json!({"token": "bearer-secret-e04a"}),
            vec!["bearer-secret-e04a".into()],
        ),
        (
            "httpCustomAuth",
            "custom",
            json!({"json": custom.to_string()}),
            vec!["custom-secret-8a1f".into(), "custom-qs-secret-9d2e".into()],
        ),
        (
            "oAuth2Api",
            "oauth",
            json!({"grantType": "clientCredentials",
            "accessTokenUrl": format!("{stub}/token"), "clientId": "client",
            "clientSecret": "oauth-client-secret-5f3c", "scope": "read", "authentication": "header"}),
            vec![
                "oauth-client-secret-5f3c".into(),
                OAUTH_TOKEN.into(),
                base64("client:oauth-client-secret-5f3c"),
            ],
        ),
        (
            "oAuth2Api",
            "oauth-failing",
            json!({"grantType": "clientCredentials",
            "accessTokenUrl": format!("{stub}/no-token"), "clientId": "client2",
            "clientSecret": "oauth-failing-secret-0b8e", "scope": "read", "authentication": "body"}),
            vec!["oauth-failing-secret-0b8e".into()],
        ),
        (
            "postgres",
            "pg",
            json!({"host": "127.0.0.1", "port": 5432, "database": "test",
            "user": "postgres", "password": "pg-secret-6d0a"}),
            vec!["pg-secret-6d0a".into()],
        ),
        (
            "postgres",
            "pg-down",
            json!({"host": "127.0.0.1", "port": 1, "database": "test",
            "user": "postgres", "password": "pg-down-secret-93c1"}),
            vec!["pg-down-secret-93c1".into()],
        ),
        (
            "redis",
            "redis",
            json!({"host": "127.0.0.1", "port": 6379, "database": 0,
            "user": "", "password": "redis-secret-4e2f"}),
            vec!["redis-secret-4e2f".into()],
        ),
        (
            "redis",
            "redis-down",
            json!({"host": "127.0.0.1", "port": 1, "database": 0,
            "user": "", "password": "redis-down-secret-a7b3"}),
            vec!["redis-down-secret-a7b3".into()],
        ),
    ]
}

fn base64(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}

/// One node per credential, all fed by the trigger, each failing into its output.
fn workflow(created: &[(&str, String, String)]) -> Value {
    let mut nodes = vec![
        json!({"name": "Start", "type": "n8n-nodes-base.manualTrigger",
        "typeVersion": 1, "position": [0, 0], "parameters": {}}),
    ];
    let mut targets = Vec::new();
    for (i, (kind, name, id)) in created.iter().enumerate() {
        let (node_type, version, parameters) = match *kind {
            "postgres" => (
                "n8n-nodes-base.postgres",
                json!(2.5),
                json!({"operation": "executeQuery", "query": "={{ $json.sql }}"}),
            ),
            "redis" => (
                "n8n-nodes-base.redis",
                json!(1),
                json!({"operation": "get", "key": "sluice-secrets-test", "propertyName": "v"}),
            ),
            _ => (
                "n8n-nodes-base.httpRequest",
                json!(4.2),
                json!({"url": "={{ $json.url }}", "authentication": "genericCredentialType",
                       "genericAuthType": kind, "options": {}}),
            ),
        };
        nodes.push(json!({"name": format!("{kind} {name}"), "type": node_type,
            "typeVersion": version, "position": [300, i * 100], "parameters": parameters,
            "credentials": {kind.to_string(): {"id": id, "name": name}},
            "onError": "continueRegularOutput"}));
        targets.push(json!({"node": format!("{kind} {name}"), "type": "main", "index": 0}));
    }
    json!({"name": "every credential", "nodes": nodes,
           "connections": {"Start": {"main": [targets]}}, "settings": {"executionOrder": "v1"}})
}

#[test]
fn no_secret_reaches_logs_run_data_metrics_or_api_answers() {
    let dir = tempfile::tempdir().unwrap();
    let (stub, _) = http_stub(vec![
        ("/ok", 200, json!({"fine": true}).to_string()),
        (
            "/token",
            200,
            json!({"access_token": OAUTH_TOKEN, "expires_in": 3600}).to_string(),
        ),
    ]);
    let with_key = |mut cmd: std::process::Command| {
        cmd.env("N8N_ENCRYPTION_KEY", ENCRYPTION_KEY)
            .env("SLUICE_LOG", "debug");
        cmd
    };
    let api_key = stdout_of({
        let mut cmd = with_key(sluice(dir.path()));
        cmd.args(["apikey", "create"]);
        cmd
    })
    .trim()
    .to_string();
    let port = free_port();
    let log_path = dir.path().join("serve.log");
    let _server = Server(start_process(
        with_key(sluice(dir.path())),
        "serve",
        port,
        File::create(&log_path).unwrap(),
    ));

    let mut answers = String::new();
    let mut call = |method: &str, path: &str, body: &Value| -> Value {
        let (status, text) = http(
            port,
            method,
            &format!("/api/v1{path}"),
            &api_key,
            &body.to_string(),
        )
        .expect("the server answers");
        answers += &text;
        assert!(status < 500, "{method} {path}: {status} {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    };
    let mut secrets = vec![api_key.clone(), ENCRYPTION_KEY.to_string()];
    let mut created = Vec::new();
    for (kind, name, data, values) in credentials(&stub) {
        let answer = call(
            "POST",
            "/credentials",
            &json!({"name": name, "type": kind, "data": data}),
        );
        let id = answer["id"].as_str().expect("credential id").to_string();
        created.push((kind, name.to_string(), id));
        secrets.extend(values);
    }
    let wf = call("POST", "/workflows", &workflow(&created));
    let id = wf["id"].as_str().unwrap().to_string();
    // Every node runs on an item that works and on one that fails.
    let items = json!({"data": [
        {"url": format!("{stub}/ok"), "sql": "SELECT 1 AS one"},
        {"url": format!("{stub}/missing"), "sql": "SELECT nope FROM no_such_table_sluice"}]});
    let run = call("POST", &format!("/workflows/{id}/run"), &items);
    let execution = run["id"].as_str().expect("execution id").to_string();
    let full = call(
        "GET",
        &format!("/executions/{execution}?includeData=true"),
        &Value::Null,
    );
    let run_data = &full["data"]["resultData"]["runData"];
    assert_eq!(
        run_data.as_object().map_or(0, |m| m.len()),
        created.len() + 1,
        "every node ran: {full}"
    );
    let errors = run_data.to_string().matches("\"error\"").count()
        + run_data.to_string().matches("\"message\"").count();
    assert!(errors >= 5, "the failing requests left errors: {run_data}");
    call("GET", "/executions?includeData=true", &Value::Null);
    call("GET", &format!("/workflows/{id}"), &Value::Null);
    call("GET", "/workflows", &Value::Null);
    call(
        "POST",
        &format!("/executions/{execution}/retry"),
        &Value::Null,
    );
    for (_, _, credential) in &created {
        call(
            "DELETE",
            &format!("/credentials/{credential}"),
            &Value::Null,
        );
    }
    let (_, metrics) = http(port, "GET", "/metrics", "", "").unwrap();
    assert!(metrics.contains("sluice_"), "{metrics}");
    let log = std::fs::read_to_string(&log_path).unwrap();
    assert!(
        log.contains("registered as process"),
        "no log captured: {log}"
    );
    assert!(log.contains("DEBUG"), "the log is not at debug level");

    for (place, text) in [
        ("the API answers", &answers),
        ("the run data", &run_data.to_string()),
        ("/metrics", &metrics),
        ("the server log", &log),
    ] {
        for secret in &secrets {
            assert!(
                !text.contains(secret.as_str()),
                "{place} show the secret '{secret}':\n{text}"
            );
        }
    }
}
