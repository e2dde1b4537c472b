//! Nodes get their credentials through one lookup (by id, else by name), errors name the node and
//! the credential but never its data, and the counters nodes add land in the run's profile.

mod support;

use serde_json::json;
use sluice_engine::{CompiledWorkflow, Credentials, ExecutionOptions, RunStatus};
use sluice_runtime::CredentialSet;
use std::sync::Arc;
use support::{node, output, registry, run_with, workflow};

const SECRET: &str = "pa55-not-for-logs";

fn credentials() -> Credentials {
    let file = json!([
        {"id": "c1", "name": "Main", "type": "testAuth",
         "data": {"user": "alice", "password": SECRET}},
        {"id": "c2", "name": "Other", "type": "otherAuth", "data": {"password": SECRET}}
    ]);
    Credentials(Arc::new(
        CredentialSet::from_export_json(&file.to_string()).unwrap(),
    ))
}

fn flow(reference: serde_json::Value) -> sluice_model::Workflow {
    let mut use_node = node("Use", "useCredential", [200, 0], json!({}));
    use_node["credentials"] = json!({ "testAuth": reference });
    workflow(
        Some("v1"),
        vec![node("Start", "start", [0, 0], json!({})), use_node],
        &[("Start", 0, "Use", 0)],
    )
}

fn with_credentials() -> ExecutionOptions {
    ExecutionOptions {
        credentials: Some(credentials()),
        ..ExecutionOptions::default()
    }
}

#[tokio::test]
async fn found_by_id_or_by_name_when_the_id_is_unknown() {
    for reference in [
        json!({"id": "c1", "name": "renamed since"}),
        json!({"id": "from-another-instance", "name": "Main"}),
    ] {
        let outcome = run_with(flow(reference), with_credentials()).await;
        assert_eq!(outcome.status, RunStatus::Success, "{:?}", outcome.error);
        assert_eq!(
            output(&outcome, "Use", 0, 0),
            vec![json!({"user": "alice"})]
        );
    }
}

#[tokio::test]
async fn a_missing_credential_names_node_and_credential_and_hides_secrets() {
    let cases = [
        (
            json!({"id": "nope", "name": "Gone"}),
            "node 'Use': the 'testAuth' credential \"Gone\" (id nope) does not exist",
        ),
        (
            json!({"id": "c2", "name": "Other"}),
            "node 'Use': the credential \"Other\" (id c2) is of type 'otherAuth', not 'testAuth'",
        ),
    ];
    for (reference, message) in cases {
        let outcome = run_with(flow(reference.clone()), with_credentials()).await;
        assert_eq!(outcome.status, RunStatus::Error);
        assert_eq!(outcome.error.as_ref().unwrap().to_string(), message);
        // Checked before running, too.
        let compiled = CompiledWorkflow::build(flow(reference), &registry()).unwrap();
        let early = compiled.check_credentials(Some(&credentials())).await;
        assert_eq!(early.unwrap_err().to_string(), message);
        assert!(!outcome.to_n8n_json_text().contains(SECRET));
    }
    let outcome = run_with(
        flow(json!({"id": "c1", "name": "Main"})),
        ExecutionOptions::default(),
    )
    .await;
    let error = outcome.error.unwrap().to_string();
    assert!(
        error
            .starts_with("node 'Use': the 'testAuth' credential \"Main\" (id c1) is not available"),
        "{error}"
    );
}

#[tokio::test]
async fn run_data_never_holds_the_secret() {
    let outcome = run_with(
        flow(json!({"id": "c1", "name": "Main"})),
        with_credentials(),
    )
    .await;
    let text = outcome.to_n8n_json_text();
    assert!(text.contains("alice") && !text.contains(SECRET), "{text}");
    assert!(!format!("{:?}", with_credentials()).contains(SECRET));
}

#[tokio::test]
async fn counters_are_summed_per_node_run_into_the_profile() {
    let mut options = with_credentials();
    options.trigger_items = Some(vec![Default::default(); 3]);
    let outcome = run_with(flow(json!({"id": "c1"})), options).await;
    let profile = &outcome.run_data.runs("Use")[0].profile;
    assert_eq!(
        profile
            .counters
            .iter()
            .map(|(k, v)| (*k, *v))
            .collect::<Vec<_>>(),
        vec![("requests", 6), ("bytesIn", 10)]
    );
    let doc = outcome.to_n8n_json();
    assert_eq!(
        doc["resultData"]["runData"]["Use"][0]["profile"]["counters"],
        json!({"requests": 6, "bytesIn": 10})
    );
    let summary = &outcome.run_data.node_summaries()[1];
    assert_eq!(summary.counters["requests"], 6);
    // A node that counts nothing has no counters in its profile.
    assert!(doc["resultData"]["runData"]["Start"][0]["profile"]
        .get("counters")
        .is_none());
}
