//! The Postgres node's select with `returnAll` as the source of a streamed chain, against the
//! machine's Postgres (127.0.0.1:5432, database `test`), each test in a fresh schema: its rows
//! reach the chain a chunk at a time and give the items, paired items and errors of a run that
//! does not stream.

mod common;

use common::databases::{
    fresh_schema, postgres_credential, rl, run_workflow_with_credential, scalar,
};
use common::{streamed, OFF};
use serde_json::{json, Value};
use sluice_engine::{RunOutcome, Streaming};
use sluice_runtime::postgres::{postgres_pool, PostgresCredential};

/// Manual Trigger → Input (`input`) → Postgres ("Node", `parameters`) → Set ("Set": `twice` =
/// `v * 2`, other fields kept).
async fn run(parameters: Value, input: Value, streaming: Streaming) -> RunOutcome {
    let set = json!({"name": "Set", "type": "n8n-nodes-base.set", "typeVersion": 3.4,
        "parameters": {
            "assignments": {"assignments": [
                {"id": "t", "name": "twice", "value": "={{ $json.v * 2 }}", "type": "number"}
            ]},
            "includeOtherFields": true, "options": {}}});
    run_into(parameters, set, input, streaming).await
}

/// Manual Trigger → Input (`input`) → Postgres ("Node", `parameters`) → `next`.
async fn run_into(
    parameters: Value,
    mut next: Value,
    input: Value,
    streaming: Streaming,
) -> RunOutcome {
    next["position"] = json!([600, 0]);
    let next_name = next["name"].clone();
    let workflow = json!({
        "nodes": [
            {"name": "Trigger", "type": "n8n-nodes-base.manualTrigger", "typeVersion": 1,
             "position": [0, 0], "parameters": {}},
            {"name": "Input", "type": "n8n-nodes-testing.testData", "typeVersion": 1,
             "position": [200, 0], "parameters": {"data": input}},
            {"name": "Node", "type": "n8n-nodes-base.postgres", "typeVersion": 2.5,
             "position": [400, 0], "parameters": parameters,
             "credentials": {"postgres": {"id": "cred-1", "name": "Test"}}},
            next
        ],
        "connections": {
            "Trigger": {"main": [[{"node": "Input", "type": "main", "index": 0}]]},
            "Input": {"main": [[{"node": "Node", "type": "main", "index": 0}]]},
            "Node": {"main": [[{"node": next_name, "type": "main", "index": 0}]]}
        },
        "settings": {"executionOrder": "v1"}
    });
    run_workflow_with_credential(workflow, "postgres", postgres_credential(), streaming).await
}

/// The first run of `node`: its output items (json and pairedItem) and its item counts.
fn node_run(outcome: &RunOutcome, node: &str) -> Value {
    assert!(outcome.error.is_none(), "run failed: {:?}", outcome.error);
    let run = &outcome.run_data.runs(node)[0];
    json!({
        "items": serde_json::to_value(run.output(0)).unwrap(),
        "in": run.profile.items_in,
        "out": run.profile.items_out,
    })
}

fn chunks(outcome: &RunOutcome, node: &str) -> usize {
    outcome.run_data.runs(node)[0].profile.chunks
}

#[tokio::test]
async fn every_row_of_a_large_table_streams_in_chunks_as_a_whole_run_gives_it() {
    let schema = fresh_schema(
        "CREATE TABLE big (id int PRIMARY KEY, v int, label text, amount numeric(10,2), \
         big bigint, at timestamptz, data jsonb); \
         INSERT INTO big SELECT i, i % 13, 'row ' || i, i / 7.0, i::bigint * 1000000007, \
         timestamptz '2025-01-01 00:00:00Z' + i * interval '1 minute', \
         jsonb_build_object('i', i, 'odd', i % 2 = 1) FROM generate_series(1, 25000) i",
    )
    .await;
    let parameters = json!({
        "operation": "select", "schema": rl(&schema), "table": rl("big"), "returnAll": true,
        "sort": {"values": [{"column": "id", "direction": "ASC"}]}
    });
    let on = run(parameters.clone(), json!([{}]), streamed(1000)).await;
    let off = run(parameters, json!([{}]), OFF).await;
    assert_eq!(chunks(&on, "Node"), 25, "25,000 rows in chunks of 1,000");
    assert_eq!(chunks(&on, "Set"), 25);
    assert_eq!(chunks(&off, "Node"), 0);
    for node in ["Node", "Set"] {
        assert_eq!(node_run(&on, node), node_run(&off, node), "{node}");
    }
    let set = node_run(&on, "Set");
    assert_eq!((&set["in"], &set["out"]), (&json!(25000), &json!(25000)));
    assert_eq!(
        set["items"][24999],
        json!({"json": {"id": 25000, "v": 1, "label": "row 25000", "amount": "3571.43",
                        "big": "25000000175000", "at": "2025-01-18T08:40:00.000Z",
                        "data": {"i": 25000, "odd": false}, "twice": 2},
               "pairedItem": {"item": 24999}})
    );
    let node = node_run(&on, "Node");
    let items = node["items"].as_array().unwrap();
    assert!(items
        .iter()
        .all(|item| item["pairedItem"] == json!({"item": 0})));
}

#[tokio::test]
async fn each_input_item_gets_its_own_rows_in_item_order() {
    let schema = fresh_schema(
        "CREATE TABLE n (id int PRIMARY KEY, v int); \
         INSERT INTO n SELECT i, i % 7 FROM generate_series(1, 60) i",
    )
    .await;
    let parameters = json!({
        "operation": "select", "schema": rl(&schema), "table": rl("n"), "returnAll": true,
        "where": {"values": [{"column": "v", "condition": "equal", "value": "={{ $json.v }}"}]},
        "sort": {"values": [{"column": "id", "direction": "DESC"}]}
    });
    let input = json!([{"v": 3}, {"v": 0}]);
    let on = run(parameters.clone(), input.clone(), streamed(4)).await;
    let off = run(parameters, input, OFF).await;
    assert!(chunks(&on, "Node") > 1);
    for node in ["Node", "Set"] {
        assert_eq!(node_run(&on, node), node_run(&off, node), "{node}");
    }
    let node = node_run(&on, "Node");
    let got: Vec<(i64, Value)> = node["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| {
            (
                item["json"]["id"].as_i64().unwrap(),
                item["pairedItem"].clone(),
            )
        })
        .collect();
    let mut expected: Vec<(i64, Value)> = (1..=60)
        .rev()
        .filter(|i| i % 7 == 3)
        .map(|i| (i, json!({"item": 0})))
        .collect();
    expected.extend(
        (1..=60)
            .rev()
            .filter(|i| i % 7 == 0)
            .map(|i| (i, json!({"item": 1}))),
    );
    assert_eq!(got, expected);
}

#[tokio::test]
async fn a_select_of_an_unknown_table_fails_naming_node_and_item() {
    let schema = fresh_schema("CREATE TABLE n (id int, v int); INSERT INTO n VALUES (1, 2)").await;
    let parameters = json!({
        "operation": "select", "schema": rl(&schema), "table": "={{ $json.table }}",
        "returnAll": true
    });
    let input = json!([{"table": "n"}, {"table": "missing"}]);
    let on = run(parameters.clone(), input.clone(), streamed(1)).await;
    let text = on.error.expect("fails").to_string();
    assert!(
        text.starts_with(&format!(
            "node 'Node': relation \"{schema}.missing\" does not exist"
        )),
        "{text}"
    );
    assert!(text.contains("item 1"), "{text}");
    let off = run(parameters, input, OFF).await;
    assert_eq!(off.error.expect("fails").to_string(), text);
    // The streamed run had handed the first item's row on before the second item's select failed.
    assert_eq!(on.run_data.runs("Set")[0].profile.items_out, 1);
    assert!(!on.run_data.runs("Node")[0].success);
}

#[tokio::test]
async fn rows_stream_into_a_write_to_the_same_database() {
    let schema = fresh_schema(
        "CREATE TABLE src (id int PRIMARY KEY, label text); \
         CREATE TABLE dst (id int PRIMARY KEY, label text); \
         INSERT INTO src SELECT i, 'row ' || i FROM generate_series(1, 45000) i",
    )
    .await;
    let select = json!({
        "operation": "select", "schema": rl(&schema), "table": rl("src"), "returnAll": true
    });
    let insert = json!({"name": "Write", "type": "n8n-nodes-base.postgres", "typeVersion": 2.5,
        "credentials": {"postgres": {"id": "cred-1", "name": "Test"}},
        "parameters": {"schema": rl(&schema), "table": rl("dst"),
                       "columns": {"mappingMode": "autoMapInputData", "value": {}}}});
    let outcome = run_into(select, insert, json!([{}]), streamed(1000)).await;
    assert!(outcome.error.is_none(), "run failed: {:?}", outcome.error);
    // The write asks for chunks of 10,000 rows: the select is read in five of them while it
    // holds its connection and each chunk is written on another.
    assert_eq!(chunks(&outcome, "Node"), 5);
    assert_eq!(chunks(&outcome, "Write"), 5);
    let copied: i64 = scalar(&format!(
        "SELECT count(*) FROM {schema}.dst d JOIN {schema}.src s USING (id, label)"
    ))
    .await;
    assert_eq!(copied, 45000);
}

#[tokio::test]
async fn a_select_given_up_half_way_takes_its_connection_out_of_the_pool() {
    let schema = fresh_schema(
        "CREATE TABLE big (id int PRIMARY KEY, label text); \
         INSERT INTO big SELECT i, repeat('x', 100) FROM generate_series(1, 200000) i",
    )
    .await;
    let select = json!({
        "operation": "select", "schema": rl(&schema), "table": rl("big"), "returnAll": true,
        "sort": {"values": [{"column": "id", "direction": "ASC"}]}
    });
    let failing = json!({"name": "Set", "type": "n8n-nodes-base.set", "typeVersion": 3.4,
        "parameters": {
            "assignments": {"assignments": [{"id": "n", "name": "n", "type": "number",
                "value": "={{ $json.id === 1500 ? 'not a number' : $json.id }}"}]},
            "includeOtherFields": true, "options": {}}});
    let outcome = run_into(select, failing, json!([{}]), streamed(1000)).await;
    let error = outcome
        .error
        .as_ref()
        .expect("Set fails on row 1500")
        .to_string();
    assert!(error.starts_with("node 'Set'"), "{error}");
    assert_eq!(chunks(&outcome, "Node"), 2);
    // The select still had most of its rows to send: its connection was not handed back.
    let credential = PostgresCredential::from_n8n(&postgres_credential()).unwrap();
    let pool = postgres_pool(&credential).unwrap();
    assert_eq!(pool.status().size, 0, "{:?}", pool.status());
    // The next run gets a connection of its own and its rows at once.
    let select = json!({"operation": "select", "schema": rl(&schema), "table": rl("big"),
                        "where": {"values": [{"column": "id", "value": 7}]}});
    let next = run(select, json!([{}]), OFF).await;
    assert_eq!(node_run(&next, "Node")["out"], json!(1));
}
