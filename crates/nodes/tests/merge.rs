//! Merge v1, v2/v2.1 and v3.2: every v1 mode, append, choose branch, combine by fields (each
//! join mode and option), by position and all combinations, clash handling, empty inputs and
//! paired items.

mod common;

use common::{output, run_workflow};
use serde_json::{json, Value};

/// Trigger → one Test Data node per element of `inputs` → Merge input i.
fn merge_workflow(version: f64, parameters: Value, inputs: &[Value]) -> Value {
    let mut nodes = vec![
        json!({"name": "Trigger", "type": "n8n-nodes-base.manualTrigger", "typeVersion": 1,
               "position": [0, 0], "parameters": {}}),
        json!({"name": "Merge", "type": "n8n-nodes-base.merge", "typeVersion": version,
               "position": [400, 0], "parameters": parameters}),
    ];
    let mut connections = json!({"Trigger": {"main": [[]]}});
    for (i, data) in inputs.iter().enumerate() {
        let name = format!("In{}", i + 1);
        nodes.push(
            json!({"name": name, "type": "n8n-nodes-testing.testData", "typeVersion": 1,
                          "position": [200, i * 200], "parameters": {"data": data}}),
        );
        connections["Trigger"]["main"][0]
            .as_array_mut()
            .unwrap()
            .push(json!({"node": name, "type": "main", "index": 0}));
        connections[&name] = json!({"main": [[{"node": "Merge", "type": "main", "index": i}]]});
    }
    json!({"nodes": nodes, "connections": connections, "settings": {"executionOrder": "v1"}})
}

/// The Merge node's output items (json and pairedItem).
async fn merge_items(version: f64, parameters: Value, inputs: &[Value]) -> Vec<Value> {
    let outcome = run_workflow(merge_workflow(version, parameters, inputs)).await;
    assert!(outcome.error.is_none(), "run failed: {:?}", outcome.error);
    let runs = outcome.run_data.runs("Merge");
    assert_eq!(runs.len(), 1, "Merge should run once");
    runs[0]
        .output(0)
        .iter()
        .map(|item| serde_json::to_value(item).unwrap())
        .collect()
}

/// The `json` of the Merge node's output items.
async fn merge(version: f64, parameters: Value, inputs: &[Value]) -> Vec<Value> {
    merge_items(version, parameters, inputs)
        .await
        .into_iter()
        .map(|mut item| item["json"].take())
        .collect()
}

fn ids(items: &[Value]) -> Vec<Value> {
    items.iter().map(|item| item["id"].clone()).collect()
}

fn left() -> Value {
    json!([{"id": 1, "name": "a"}, {"id": 2, "name": "b"}, {"id": 3, "name": "c"}])
}

fn right() -> Value {
    json!([{"id": 2, "tag": "x", "name": "B"}, {"id": 4, "tag": "y"}, {"id": 2, "tag": "z"}])
}

// ---- v1 ----

#[tokio::test]
async fn v1_append_and_pass_through() {
    assert_eq!(
        ids(&merge(1.0, json!({}), &[left(), right()]).await),
        [1, 2, 3, 2, 4, 2]
    );
    let second = merge(
        1.0,
        json!({"mode": "passThrough", "output": "input2"}),
        &[left(), right()],
    )
    .await;
    assert_eq!(ids(&second), [2, 4, 2]);
}

#[tokio::test]
async fn v1_key_matches() {
    let keys = json!({"propertyName1": "id", "propertyName2": "id"});
    let mut keep = keys.clone();
    keep["mode"] = json!("keepKeyMatches");
    assert_eq!(ids(&merge(1.0, keep, &[left(), right()]).await), [2]);
    let mut remove = keys;
    remove["mode"] = json!("removeKeyMatches");
    assert_eq!(ids(&merge(1.0, remove, &[left(), right()]).await), [1, 3]);
}

#[tokio::test]
async fn v1_merge_by_index_joins() {
    let inputs = [json!([{"a": 1}, {"a": 2}]), json!([{"b": 1}])];
    let run = |join: &str| merge(1.0, json!({"mode": "mergeByIndex", "join": join}), &inputs);
    assert_eq!(run("inner").await, [json!({"a": 1, "b": 1})]);
    assert_eq!(
        run("left").await,
        [json!({"a": 1, "b": 1}), json!({"a": 2})]
    );
    let outer = merge(
        1.0,
        json!({"mode": "mergeByIndex", "join": "outer"}),
        &[json!([{"a": 1}]), json!([{"b": 1}, {"b": 2}])],
    )
    .await;
    assert_eq!(outer, [json!({"a": 1, "b": 1}), json!({"b": 2})]);
}

#[tokio::test]
async fn v1_merge_by_key_overwrite_modes() {
    let inputs = [
        json!([{"k": 1, "v": "", "w": "keep"}, {"k": 9}]),
        json!([{"k": 1, "v": "new", "w": "other", "x": 1}]),
    ];
    let run = |overwrite: &str| {
        merge(
            1.0,
            json!({"mode": "mergeByKey", "propertyName1": "k", "propertyName2": "k", "overwrite": overwrite}),
            &inputs,
        )
    };
    assert_eq!(
        run("always").await,
        [
            json!({"k": 1, "v": "new", "w": "other", "x": 1}),
            json!({"k": 9})
        ]
    );
    assert_eq!(
        run("undefined").await[0],
        json!({"k": 1, "v": "", "w": "keep", "x": 1})
    );
    assert_eq!(
        run("blank").await[0],
        json!({"k": 1, "v": "new", "w": "keep", "x": 1})
    );
}

#[tokio::test]
async fn v1_multiplex_and_wait() {
    let both = [json!([{"a": 1}, {"a": 2}]), json!([{"b": 1}, {"b": 2}])];
    let all = merge(1.0, json!({"mode": "multiplex"}), &both).await;
    assert_eq!(all.len(), 4);
    assert_eq!(all[1], json!({"a": 1, "b": 2}));
    assert_eq!(
        merge(1.0, json!({"mode": "wait"}), &both).await,
        [json!({})]
    );
}

// ---- v2 / v2.1 ----

fn by_id(extra: Value) -> Value {
    let mut params = json!({"mode": "combine", "mergeByFields": {"values": [{"field1": "id", "field2": "id"}]}, "options": {}});
    params
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    params
}

#[tokio::test]
async fn v2_keep_matches_merges_every_match_input_2_winning() {
    let out = merge(2.0, by_id(json!({})), &[left(), right()]).await;
    assert_eq!(
        out,
        [
            json!({"id": 2, "name": "B", "tag": "x"}),
            json!({"id": 2, "name": "b", "tag": "z"})
        ]
    );
    let first = merge(
        2.1,
        by_id(json!({"options": {"multipleMatches": "first"}})),
        &[left(), right()],
    )
    .await;
    assert_eq!(first, [json!({"id": 2, "name": "B", "tag": "x"})]);
}

#[tokio::test]
async fn v2_keep_matches_output_from_one_input() {
    let from1 = merge(
        2.0,
        by_id(json!({"outputDataFrom": "input1"})),
        &[left(), right()],
    )
    .await;
    assert_eq!(from1, [json!({"id": 2, "name": "b"})]);
    let from2 = merge(
        2.0,
        by_id(json!({"outputDataFrom": "input2"})),
        &[left(), right()],
    )
    .await;
    assert_eq!(
        from2,
        [
            json!({"id": 2, "tag": "x", "name": "B"}),
            json!({"id": 2, "tag": "z"})
        ]
    );
}

#[tokio::test]
async fn v2_join_modes() {
    let non = merge(
        2.1,
        by_id(json!({"joinMode": "keepNonMatches"})),
        &[left(), right()],
    )
    .await;
    assert_eq!(
        non,
        [
            json!({"id": 1, "name": "a", "_source": "input1"}),
            json!({"id": 3, "name": "c", "_source": "input1"}),
            json!({"id": 4, "tag": "y", "_source": "input2"})
        ]
    );
    let everything = merge(
        2.1,
        by_id(json!({"joinMode": "keepEverything"})),
        &[left(), right()],
    )
    .await;
    assert_eq!(ids(&everything), [2, 2, 1, 3, 4]);
    // Unmatched input-1 items come after the matched ones.
    let enrich1 = merge(
        2.1,
        by_id(json!({"joinMode": "enrichInput1"})),
        &[left(), right()],
    )
    .await;
    assert_eq!(ids(&enrich1), [2, 2, 1, 3]);
    assert_eq!(enrich1[0]["name"], json!("B"));
    // Enriching input 2 swaps the inputs, so input 1's values win clashes.
    let enrich2 = merge(
        2.1,
        by_id(json!({"joinMode": "enrichInput2"})),
        &[left(), right()],
    )
    .await;
    assert_eq!(
        enrich2,
        [
            json!({"id": 2, "tag": "x", "name": "b"}),
            json!({"id": 2, "tag": "z", "name": "b"}),
            json!({"id": 4, "tag": "y"})
        ]
    );
}

#[tokio::test]
async fn v2_fuzzy_compare_and_dot_notation() {
    let inputs = [json!([{"p": {"id": "2"}}]), json!([{"id": 2, "ok": true}])];
    let params = |options: Value| json!({"mode": "combine", "mergeByFields": {"values": [{"field1": "p.id", "field2": "id"}]}, "options": options});
    assert!(merge(2.1, params(json!({})), &inputs).await.is_empty());
    let fuzzy = merge(2.1, params(json!({"fuzzyCompare": true})), &inputs).await;
    assert_eq!(fuzzy, [json!({"p": {"id": "2"}, "id": 2, "ok": true})]);
    let literal_key = merge(
        2.1,
        params(json!({"fuzzyCompare": true, "disableDotNotation": true})),
        &inputs,
    )
    .await;
    assert!(literal_key.is_empty());
}

#[tokio::test]
async fn v2_clash_handling() {
    let inputs = [
        json!([{"id": 1, "o": {"a": 1, "b": 1}, "e": "x"}]),
        json!([{"id": 1, "o": {"a": 2}, "e": ""}]),
    ];
    let clash = |values: Value| by_id(json!({"options": {"clashHandling": {"values": values}}}));
    let deep = merge(2.1, clash(json!({"resolveClash": "preferInput2"})), &inputs).await;
    assert_eq!(deep, [json!({"id": 1, "o": {"a": 2, "b": 1}, "e": ""})]);
    let shallow = merge(2.1, clash(json!({"resolveClash": "preferInput2", "mergeMode": "shallowMerge", "overrideEmpty": true})), &inputs).await;
    assert_eq!(shallow, [json!({"id": 1, "o": {"a": 2}, "e": "x"})]);
    let first = merge(2.1, clash(json!({"resolveClash": "preferInput1"})), &inputs).await;
    assert_eq!(first[0]["e"], json!("x"));
    let suffix = merge(2.1, clash(json!({"resolveClash": "addSuffix"})), &inputs).await;
    assert_eq!(suffix[0]["o_2"], json!({"a": 2}));
    assert_eq!(suffix[0]["id_1"], json!(1));
}

#[tokio::test]
async fn v2_position_and_multiplex() {
    let inputs = [json!([{"a": 1}, {"a": 2}]), json!([{"b": 1}])];
    let position = merge(
        2.0,
        json!({"mode": "combine", "combinationMode": "mergeByPosition", "options": {}}),
        &inputs,
    )
    .await;
    assert_eq!(position, [json!({"a": 1, "b": 1})]);
    let unpaired = merge(
        2.0,
        json!({"mode": "combine", "combinationMode": "mergeByPosition", "options": {"includeUnpaired": true}}),
        &inputs,
    )
    .await;
    assert_eq!(unpaired, [json!({"a": 1, "b": 1}), json!({"a": 2})]);
    let all = merge(
        2.1,
        json!({"mode": "combine", "combinationMode": "multiplex", "options": {}}),
        &inputs,
    )
    .await;
    assert_eq!(all, [json!({"a": 1, "b": 1}), json!({"a": 2, "b": 1})]);
}

#[tokio::test]
async fn v2_choose_branch() {
    let inputs = [left(), right()];
    assert_eq!(
        ids(&merge(2.0, json!({"mode": "chooseBranch"}), &inputs).await),
        [1, 2, 3]
    );
    assert_eq!(
        ids(&merge(
            2.1,
            json!({"mode": "chooseBranch", "output": "input2"}),
            &inputs
        )
        .await),
        [2, 4, 2]
    );
    let empty = merge_items(
        2.1,
        json!({"mode": "chooseBranch", "output": "empty"}),
        &[json!([{"a": 1}]), json!([{"b": 1}])],
    )
    .await;
    // The empty item is paired to the items of both inputs.
    assert_eq!(
        empty,
        [json!({"json": {}, "pairedItem": [{"item": 0}, {"item": 0, "input": 1}]})]
    );
}

#[tokio::test]
async fn empty_second_input_v2_0_passes_input_1_v2_1_follows_the_join() {
    let inputs = [left(), json!([])];
    assert_eq!(ids(&merge(2.0, by_id(json!({})), &inputs).await), [1, 2, 3]);
    let outcome = run_workflow(merge_workflow(2.1, by_id(json!({})), &inputs)).await;
    assert!(output(&outcome, "Merge").is_empty());
    // Keep non-matches: everything is unmatched, and passes without a `_source` tag.
    let non = merge(2.1, by_id(json!({"joinMode": "keepNonMatches"})), &inputs).await;
    assert_eq!(non, left().as_array().unwrap().clone());
    let position = json!({"mode": "combine", "combinationMode": "mergeByPosition", "options": {}});
    assert_eq!(ids(&merge(2.1, position, &inputs).await), [1, 2, 3]);
}

#[tokio::test]
async fn combined_items_are_paired_to_both_inputs() {
    let out = merge_items(2.1, by_id(json!({})), &[left(), right()]).await;
    assert_eq!(
        out[1]["pairedItem"],
        json!([{"item": 1}, {"item": 2, "input": 1}])
    );
}

// ---- v3.2 ----

#[tokio::test]
async fn v3_append_three_inputs() {
    let out = merge(
        3.2,
        json!({"numberInputs": 3}),
        &[
            json!([{"n": 1}]),
            json!([{"n": 2}]),
            json!([{"n": 3}, {"n": 4}]),
        ],
    )
    .await;
    assert_eq!(
        out,
        [
            json!({"n": 1}),
            json!({"n": 2}),
            json!({"n": 3}),
            json!({"n": 4})
        ]
    );
}

#[tokio::test]
async fn v3_combine_by_fields_simple_and_advanced() {
    let simple = json!({"mode": "combine", "combineBy": "combineByFields", "fieldsToMatchString": "id", "options": {}});
    let out = merge(3.2, simple, &[left(), right()]).await;
    assert_eq!(
        out,
        [
            json!({"id": 2, "name": "B", "tag": "x"}),
            json!({"id": 2, "name": "b", "tag": "z"})
        ]
    );
    let advanced = json!({
        "mode": "combine", "combineBy": "combineByFields", "advanced": true,
        "mergeByFields": {"values": [{"field1": "name", "field2": "label"}]},
        "joinMode": "enrichInput1", "options": {}
    });
    let out = merge(
        3.2,
        advanced,
        &[
            json!([{"name": "a"}, {"name": "z"}]),
            json!([{"label": "a", "n": 1}]),
        ],
    )
    .await;
    assert_eq!(
        out,
        [
            json!({"name": "a", "label": "a", "n": 1}),
            json!({"name": "z"})
        ]
    );
}

#[tokio::test]
async fn v3_combine_by_position_three_inputs_prefers_last() {
    let params = json!({"mode": "combine", "combineBy": "combineByPosition", "numberInputs": 3, "options": {}});
    let out = merge(
        3.2,
        params,
        &[
            json!([{"v": 1, "a": 1}]),
            json!([{"v": 2, "b": 1}]),
            json!([{"v": 3}]),
        ],
    )
    .await;
    assert_eq!(out, [json!({"v": 3, "a": 1, "b": 1})]);
    let suffix = json!({"mode": "combine", "combineBy": "combineByPosition", "numberInputs": 3,
                        "options": {"clashHandling": {"values": {"resolveClash": "addSuffix"}}}});
    let out = merge(
        3.2,
        suffix,
        &[json!([{"v": 1}]), json!([{"v": 2}]), json!([{"v": 3}])],
    )
    .await;
    assert_eq!(out, [json!({"v_1": 1, "v_2": 2, "v_3": 3})]);
}

#[tokio::test]
async fn v3_combine_all_and_choose_branch() {
    let inputs = [json!([{"a": 1}, {"a": 2}]), json!([{"b": 1}, {"b": 2}])];
    let all = merge(
        3.2,
        json!({"mode": "combine", "combineBy": "combineAll", "options": {}}),
        &inputs,
    )
    .await;
    assert_eq!(all.len(), 4);
    assert_eq!(all[2], json!({"a": 2, "b": 1}));
    let second = merge(
        3.2,
        json!({"mode": "chooseBranch", "useDataOfInput": 2}),
        &inputs,
    )
    .await;
    assert_eq!(second, [json!({"b": 1}), json!({"b": 2})]);
    assert_eq!(
        merge(
            3.2,
            json!({"mode": "chooseBranch", "output": "empty"}),
            &inputs
        )
        .await,
        [json!({})]
    );
}

#[tokio::test]
async fn v3_choose_branch_waits_for_both_inputs() {
    let outcome = run_workflow(merge_workflow(
        3.2,
        json!({"mode": "chooseBranch"}),
        &[left(), json!([])],
    ))
    .await;
    assert!(outcome.error.is_none());
    assert!(outcome.run_data.runs("Merge").is_empty());
}

#[tokio::test]
async fn v3_sql_mode_is_a_build_error() {
    let workflow: sluice_model::Workflow = serde_json::from_value(merge_workflow(
        3.2,
        json!({"mode": "combineBySql", "query": "SELECT 1"}),
        &[left(), right()],
    ))
    .unwrap();
    let error = sluice_engine::CompiledWorkflow::build(workflow, &sluice_nodes::registry())
        .err()
        .expect("build fails");
    assert!(error.to_string().contains("combineBySql"), "{error}");
}
