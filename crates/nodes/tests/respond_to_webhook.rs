//! Respond to Webhook without a server (`sluice run`): the response output branch and the
//! build-time checks. Answers over HTTP are tested in `crates/server/tests/webhooks.rs`.

mod common;

use common::{output, run_node};
use serde_json::json;
use sluice_engine::CompiledWorkflow;
use sluice_model::Workflow;

const RESPOND: &str = "n8n-nodes-base.respondToWebhook";

#[tokio::test]
async fn response_output_carries_the_response() {
    let parameters = json!({"respondWith": "json", "responseBody": "={{ {\"n\": $json.n} }}",
        "enableResponseOutput": true,
        "options": {"responseCode": 202, "responseHeaders": {"entries": [{"name": "x-a", "value": "1"}]}}});
    let outcome = run_node(RESPOND, 1.5, parameters, json!([{"n": 7}, {"n": 8}])).await;
    assert_eq!(
        output(&outcome, "Node"),
        vec![json!({"json": {"n": 7}}), json!({"json": {"n": 8}})]
    );
    let response = &outcome.run_data.runs("Node")[0].output(1);
    assert_eq!(response.len(), 1);
    assert_eq!(
        response[0].json.to_value(),
        json!({"response": {"body": {"n": 7}, "headers": {"x-a": "1"}, "statusCode": 202}})
    );
}

#[tokio::test]
async fn response_output_by_version() {
    let text = json!({"respondWith": "text", "responseBody": "hi"});
    // 1.3 always has the second output; 1.4 only when asked.
    let outcome = run_node(RESPOND, 1.3, text.clone(), json!([{}])).await;
    assert_eq!(
        outcome.run_data.runs("Node")[0].output(1)[0]
            .json
            .to_value(),
        json!({"response": {"body": "hi", "headers": {}, "statusCode": 200}})
    );
    let outcome = run_node(RESPOND, 1.4, text, json!([{}])).await;
    assert!(outcome.run_data.runs("Node")[0].output(1).is_empty());
}

#[tokio::test]
async fn jwt_needs_a_credential() {
    let mut workflow = common::single_node_workflow(
        RESPOND,
        1.5,
        json!({"respondWith": "jwt", "payload": "{\"a\": 1}", "enableResponseOutput": true}),
        json!([{}]),
    );
    let build = |workflow: &serde_json::Value| {
        let workflow: Workflow = serde_json::from_value(workflow.clone()).unwrap();
        CompiledWorkflow::build(workflow, &sluice_nodes::registry()).map(|_| ())
    };
    let error = build(&workflow).unwrap_err().to_string();
    assert!(
        error.contains("a 'jwtAuth' credential is required"),
        "{error}"
    );

    workflow["nodes"][2]["credentials"] = json!({"jwtAuth": {"id": "1", "name": "JWT"}});
    build(&workflow).unwrap();
    let outcome = common::run_workflow(workflow).await;
    let error = outcome
        .error
        .expect("fails without credentials")
        .to_string();
    assert!(
        error.contains("the 'jwtAuth' credential \"JWT\" (id 1) is not available"),
        "{error}"
    );
}
