//! n8n's training nodes (Customer Datastore, Customer Messenger) and the Debug Helper.

mod common;

use common::{node_error, node_json};
use serde_json::json;

const DATASTORE: &str = "n8n-nodes-base.n8nTrainingCustomerDatastore";
const MESSENGER: &str = "n8n-nodes-base.n8nTrainingCustomerMessenger";
const DEBUG: &str = "n8n-nodes-base.debugHelper";

#[tokio::test]
async fn datastore_returns_the_sample_customers() {
    let all = node_json(
        DATASTORE,
        1.0,
        json!({"operation": "getAllPeople", "returnAll": true}),
        json!([{}]),
    )
    .await;
    assert_eq!(all.len(), 5);
    assert_eq!(
        all[3],
        json!({"id": "23423535", "name": "Zaphod Beeblebrox", "email": "captain@heartofgold.com",
               "notes": "Felt like I was talking to more than one person", "country": null, "created": "1979-10-12"})
    );
    let limited = node_json(
        DATASTORE,
        1.0,
        json!({"operation": "getAllPeople", "limit": 2}),
        json!([{}]),
    )
    .await;
    assert_eq!(limited.len(), 2);
    assert_eq!(limited[1]["name"], json!("José Arcadio Buendía"));
}

#[tokio::test]
async fn messenger_reports_each_message() {
    let out = node_json(
        MESSENGER,
        1.0,
        json!({"customerId": 7, "message": "hi"}),
        json!([{}, {}]),
    )
    .await;
    assert_eq!(
        out,
        vec![json!({"output": "Sent message to customer 7:  hi"}); 2]
    );
}

#[tokio::test]
async fn debug_helper_generates_seeded_users() {
    let params = json!({"category": "randomData", "randomDataSeed": "n8n", "randomDataCount": 3});
    let first = node_json(DEBUG, 1.0, params.clone(), json!([{}])).await;
    assert_eq!(first.len(), 3);
    for user in &first {
        let keys: Vec<&str> = user
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, ["uid", "email", "firstname", "lastname", "password"]);
    }
    assert_eq!(
        first,
        node_json(DEBUG, 1.0, params, json!([{}])).await,
        "same seed, same data"
    );
    let uuids = node_json(
        DEBUG,
        1.0,
        json!({"category": "randomData", "randomDataType": "uuid", "randomDataCount": 2}),
        json!([{}]),
    )
    .await;
    let uuid = uuids[0]["uuid"].as_str().unwrap();
    assert_eq!((uuid.len(), &uuid[14..15]), (36, "4"));
}

#[tokio::test]
async fn debug_helper_throws_or_passes_through() {
    let error = node_error(
        DEBUG,
        1.0,
        json!({"category": "throwError", "throwErrorMessage": "boom"}),
        json!([{}]),
    )
    .await;
    assert_eq!(error, "boom");
    let same = node_json(
        DEBUG,
        1.0,
        json!({"category": "doNothing"}),
        json!([{"a": 1}]),
    )
    .await;
    assert_eq!(same, [json!({"a": 1})]);
}
