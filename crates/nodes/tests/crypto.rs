//! Crypto v1, Read Binary Files v1 and Stop and Error v1.

mod common;

use common::*;
use serde_json::json;

const CRYPTO: &str = "n8n-nodes-base.crypto";

async fn crypto(params: serde_json::Value) -> String {
    let out = node_json(CRYPTO, 1.0, params, json!({"keep": 1})).await;
    assert_eq!(out[0]["keep"], 1, "input fields are kept");
    out[0]["data"].as_str().expect("string result").to_string()
}

#[tokio::test]
async fn hashes_in_hex_and_base64() {
    assert_eq!(
        crypto(json!({"value": "test"})).await,
        "098f6bcd4621d373cade4e832627b4f6"
    );
    assert_eq!(
        crypto(json!({"value": "test", "type": "SHA256"})).await,
        "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
    );
    assert_eq!(
        crypto(json!({"value": "test", "type": "SHA3-256", "encoding": "base64"})).await,
        "NvAoWAuwLMgnKpoCD0IA40bidq5mTkXugHRVdOL1q4A="
    );
    assert_eq!(
        crypto(json!({"value": "test", "type": "SHA512"}))
            .await
            .len(),
        128
    );
    assert_eq!(
        crypto(json!({"value": "test", "type": "SHA384"}))
            .await
            .len(),
        96
    );
}

#[tokio::test]
async fn hmac_and_custom_property() {
    let secret = "-----BEGIN RSA PRIVATE KEY-----|MIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8QuKUpRKfFLfRYC9AIKjbJTWit+CqvjWYzvQwECAwEAAQJAIJLixBy2qpFoS4DSmoEmo3qGy0t6z09AIJtH+5OeRV1be+N4cDYJKffGzDa88vQENZiRm0GRq6a+HPGQMd2kTQIhAKMSvzIBnni7ot/OSie2TmJLY4SwTQAevXysE2RbFDYdAiEBCUEaRQnMnbp79mxDXDf6AU0cN/RPBjb9qSHDcWZHGzUCIG2Es59z8ugGrDY+pxLQnwfotadxd+Uyv/Ow5T0q5gIJAiEAyS4RaI9YG8EWx/2w0T67ZUVAw8eOMB6BIUg0Xcu+3okCIBOs/5OiPgoTdSy7bcF9IGpSE8ZgGKzgYQVZeN97YE00-----END RSA PRIVATE KEY-----";
    let params = json!({"action": "hmac", "value": "test", "secret": secret, "encoding": "base64"});
    assert_eq!(crypto(params).await, "BBXLTeT2o/R6oy5H69Yh7w==");
    let out = node_json(
        CRYPTO,
        1.0,
        json!({"action": "hmac", "type": "SHA256", "value": "data", "secret": "key", "dataPropertyName": "sig.value"}),
        json!({}),
    )
    .await;
    assert_eq!(
        out[0]["sig"]["value"],
        "5031fe3d989c6d1537a013fa6e739da23463fdaec3b70137d828e36ace221bd0"
    );
}

const KEY: &str = "-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu\nKUpRKfFLfRYC9AIKjbJTWit+CqvjWYzvQwECAwEAAQJAIJLixBy2qpFoS4DSmoEm\no3qGy0t6z09AIJtH+5OeRV1be+N4cDYJKffGzDa88vQENZiRm0GRq6a+HPGQMd2k\nTQIhAKMSvzIBnni7ot/OSie2TmJLY4SwTQAevXysE2RbFDYdAiEBCUEaRQnMnbp7\n9mxDXDf6AU0cN/RPBjb9qSHDcWZHGzUCIG2Es59z8ugGrDY+pxLQnwfotadxd+Uy\nv/Ow5T0q5gIJAiEAyS4RaI9YG8EWx/2w0T67ZUVAw8eOMB6BIUg0Xcu+3okCIBOs\n/5OiPgoTdSy7bcF9IGpSE8ZgGKzgYQVZeN97YE00\n-----END RSA PRIVATE KEY-----";

#[tokio::test]
async fn signs_with_an_rsa_key() {
    let params = json!({"action": "sign", "value": "test", "algorithm": "RSA-MD5", "encoding": "base64", "privateKey": KEY});
    assert_eq!(
        crypto(params).await,
        "MVr+iZiOFtHVwO0iKC+CF+QlrZZKcGk7zBvUrWHC1fHBeS6IoWa8B/wrMvazV5H1YR8tbK8baZHD/vUNdfvjiA=="
    );
    let error = node_error(
        CRYPTO,
        1.0,
        json!({"action": "sign", "value": "x", "privateKey": "nope"}),
        json!({}),
    )
    .await;
    assert!(error.contains("not an RSA key"), "{error}");
}

#[tokio::test]
async fn generates_random_values() {
    let uuid = crypto(json!({"action": "generate"})).await;
    assert_eq!(uuid.len(), 36);
    assert_eq!(uuid.as_bytes()[14], b'4');
    for (kind, pattern) in [("hex", "0123456789abcdef"), ("ascii", "")] {
        let value =
            crypto(json!({"action": "generate", "encodingType": kind, "stringLength": 11})).await;
        assert_eq!(value.len(), 11);
        assert!(value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() && (pattern.is_empty() || pattern.contains(c))));
    }
    let b64 =
        crypto(json!({"action": "generate", "encodingType": "base64", "stringLength": 7})).await;
    assert_eq!(b64.len(), 7);
}

#[tokio::test]
async fn unknown_hash_type_is_a_build_error() {
    let workflow = single_node_workflow(CRYPTO, 1.0, json!({"type": "CRC32"}), json!({}));
    let workflow: sluice_model::Workflow = serde_json::from_value(workflow).unwrap();
    let error = sluice_engine::CompiledWorkflow::build(workflow, &sluice_nodes::registry())
        .err()
        .expect("build fails")
        .to_string();
    assert!(
        error.contains("'CRC32'") && error.contains("type"),
        "{error}"
    );
}

#[tokio::test]
async fn reads_files_and_hashes_binary_data() {
    let dir = std::env::temp_dir().join(format!("sluice-crypto-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("a.txt"), b"test").unwrap();
    std::fs::write(dir.join("b.txt"), b"other").unwrap();
    std::fs::write(dir.join("c.json"), b"{}").unwrap();
    let pattern = format!("{}/*.txt", dir.display());
    let workflow = json!({
        "nodes": [
            {"name": "Trigger", "type": "n8n-nodes-base.manualTrigger", "typeVersion": 1, "position": [0, 0], "parameters": {}},
            {"name": "Read", "type": "n8n-nodes-base.readBinaryFiles", "typeVersion": 1, "position": [200, 0],
             "parameters": {"fileSelector": pattern}},
            {"name": "Hash", "type": CRYPTO, "typeVersion": 1, "position": [400, 0],
             "parameters": {"binaryData": true, "dataPropertyName": "md5"}}
        ],
        "connections": {
            "Trigger": {"main": [[{"node": "Read", "type": "main", "index": 0}]]},
            "Read": {"main": [[{"node": "Hash", "type": "main", "index": 0}]]}
        }
    });
    let outcome = run_workflow(workflow).await;
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(outcome.error.is_none(), "{:?}", outcome.error);
    let read = output(&outcome, "Read");
    assert_eq!(read.len(), 2);
    let file = &read[0]["binary"]["data"];
    assert_eq!(file["data"], "dGVzdA==");
    assert_eq!(file["mimeType"], "text/plain");
    assert_eq!(file["fileName"], "a.txt");
    assert_eq!(file["fileExtension"], "txt");
    assert_eq!(file["fileSize"], "4 B");
    assert_eq!(file["directory"], dir.display().to_string());
    let hashed = output(&outcome, "Hash");
    assert_eq!(hashed[0]["json"]["md5"], "098f6bcd4621d373cade4e832627b4f6");
    assert_eq!(hashed[1]["json"]["md5"], "795f3202b17cb6bc3d4b771d8c6c9eaf");
    assert!(
        hashed[0]["binary"]["data"].is_object(),
        "binary data passes through"
    );
}

#[tokio::test]
async fn missing_binary_property_fails_clearly() {
    let error = node_error(CRYPTO, 1.0, json!({"binaryData": true}), json!({})).await;
    assert!(error.contains("binary file 'data'"), "{error}");
}

#[tokio::test]
async fn stop_and_error_fails_with_message_or_object() {
    let stop = "n8n-nodes-base.stopAndError";
    let outcome = run_node(
        stop,
        1.0,
        json!({"errorMessage": "Not a valid uuid"}),
        json!({}),
    )
    .await;
    let error = outcome.error.expect("fails");
    assert_eq!(error.message, "Not a valid uuid");
    assert_eq!(error.node.as_deref(), Some("Node"));
    let error = node_error(
        stop,
        1.0,
        json!({"errorType": "errorObject", "errorObject": "{\"message\": \"bad\", \"description\": \"very\"}"}),
        json!({}),
    )
    .await;
    assert_eq!(error, "bad");
}
