//! The Code node (and legacy Function / Function Item nodes), including the n8n performance
//! course's Function-node snippets, which must run unchanged.

mod common;

use common::{node_error, node_json, run_workflow};
use serde_json::{json, Value};

const CODE: &str = "n8n-nodes-base.code";

fn code(js: &str) -> Value {
    json!({"jsCode": js})
}

#[tokio::test]
async fn code_node_modes_and_return_shapes() {
    let input = json!([{"a": 1}, {"a": 2}]);
    let all = node_json(
        CODE,
        2.0,
        code("return $input.all().map(i => ({sum: i.json.a + 1}));"),
        input.clone(),
    )
    .await;
    assert_eq!(all, vec![json!({"sum": 2}), json!({"sum": 3})]);
    let each = node_json(
        CODE,
        2.0,
        json!({"mode": "runOnceForEachItem", "jsCode": "return {doubled: $json.a * 2, i: $itemIndex};"}),
        input,
    )
    .await;
    assert_eq!(
        each,
        vec![json!({"doubled": 2, "i": 0}), json!({"doubled": 4, "i": 1})]
    );
}

#[tokio::test]
async fn code_errors_name_the_line_and_python_is_off_by_default() {
    let error = node_error(
        CODE,
        2.0,
        code("const a = 1;\nthrow new Error('odd value ' + a);"),
        json!([{}]),
    )
    .await;
    assert!(error.contains("odd value 1 [line 2]"), "{error}");
    let wf = common::single_node_workflow(
        CODE,
        2.0,
        json!({"language": "python", "pythonCode": "return []"}),
        json!([{}]),
    );
    let err = sluice_engine::CompiledWorkflow::build(
        serde_json::from_value(wf).unwrap(),
        &sluice_nodes::registry(),
    )
    .err()
    .expect("python is refused at build time unless SLUICE_CODE_PYTHON allows it");
    assert!(
        err.to_string()
            .contains("Python code is off on this deployment: set SLUICE_CODE_PYTHON"),
        "{err}"
    );
}

#[tokio::test]
async fn legacy_function_and_function_item_nodes() {
    let out = node_json(
        "n8n-nodes-base.function",
        1.0,
        json!({"functionCode": "return items.map(i => ({json: {n: i.json.n * 10}}));"}),
        json!([{"n": 1}, {"n": 2}]),
    )
    .await;
    assert_eq!(out, vec![json!({"n": 10}), json!({"n": 20})]);
    let out = node_json(
        "n8n-nodes-base.functionItem",
        1.0,
        json!({"functionCode": "item.seen = true;\nreturn item;"}),
        json!([{"n": 1}]),
    )
    .await;
    assert_eq!(out, vec![json!({"n": 1, "seen": true})]);
}

/// Two-node chain: "Start" (Test Data with `start`) → "Node" (Code with `js`).
fn chain(start: Value, js: &str) -> Value {
    json!({
        "nodes": [
            {"name": "Trigger", "type": "n8n-nodes-base.manualTrigger", "typeVersion": 1, "position": [0, 0], "parameters": {}},
            {"name": "Start", "type": "n8n-nodes-testing.testData", "typeVersion": 1, "position": [200, 0], "parameters": {"data": start}},
            {"name": "Node", "type": CODE, "typeVersion": 2, "position": [400, 0], "parameters": {"jsCode": js}}
        ],
        "connections": {
            "Trigger": {"main": [[{"node": "Start", "type": "main", "index": 0}]]},
            "Start": {"main": [[{"node": "Node", "type": "main", "index": 0}]]}
        },
        "settings": {"executionOrder": "v1"}
    })
}

async fn run_chain(start: Value, js: &str) -> Vec<Value> {
    let outcome = run_workflow(chain(start, js)).await;
    assert!(outcome.error.is_none(), "{:?}", outcome.error);
    outcome.run_data.runs("Node")[0]
        .output(0)
        .iter()
        .map(|i| i.json.to_value())
        .collect()
}

// The course's "Calculate Performance Metrics" snippet, verbatim.
const PERFORMANCE_METRICS: &str = r#"// Function: Calculate Performance Metrics
const { DateTime } = require('luxon');

// Get execution start time (from first node or Set node)
const startTime = DateTime.fromISO($('Start').first().json.startTime);
const endTime = DateTime.now();

// Calculate duration
const durationMs = endTime.diff(startTime, 'milliseconds').milliseconds;
const durationSeconds = durationMs / 1000;

// Get item counts
const inputItems = $('Start').all().length;
const outputItems = $input.all().length;

// Calculate throughput
const itemsPerSecond = outputItems / durationSeconds;

return {
  json: {
    performance: {
      // Timing
      startTime: startTime.toISO(),
      endTime: endTime.toISO(),
      durationMs: Math.round(durationMs),
      durationSeconds: Math.round(durationSeconds * 100) / 100,

      // Throughput
      inputItems,
      outputItems,
      itemsPerSecond: Math.round(itemsPerSecond * 100) / 100,

      // Efficiency
      itemsProcessedPercentage: Math.round((outputItems / inputItems) * 100),

      // Status
      status: durationSeconds < 5 ? 'fast' :
              durationSeconds < 30 ? 'acceptable' :
              durationSeconds < 60 ? 'slow' : 'critical'
    }
  }
};"#;

#[tokio::test]
async fn course_snippet_performance_metrics() {
    let start = (chrono::Utc::now() - chrono::Duration::seconds(2)).to_rfc3339();
    let out = run_chain(
        json!([{"startTime": start}, {"startTime": start}]),
        PERFORMANCE_METRICS,
    )
    .await;
    let perf = &out[0]["performance"];
    assert_eq!(perf["inputItems"], 2);
    assert_eq!(perf["outputItems"], 2);
    assert_eq!(perf["itemsProcessedPercentage"], 100);
    assert_eq!(perf["status"], "fast");
    assert!(perf["durationMs"].as_f64().unwrap() >= 2000.0, "{perf}");
}

// The course's "Calculate Batches" snippet, verbatim.
const CALCULATE_BATCHES: &str = r#"// Node 2: Function - Calculate Batches
const totalItems = $json.count;
const batchSize = 100; // Process 100 items at a time
const totalBatches = Math.ceil(totalItems / batchSize);

const batches = [];
for (let i = 0; i < totalBatches; i++) {
  batches.push({
    json: {
      batchNumber: i + 1,
      offset: i * batchSize,
      limit: batchSize,
      totalBatches
    }
  });
}

return batches;"#;

#[tokio::test]
async fn course_snippet_batch_calculation() {
    let out = run_chain(json!([{"count": 250}]), CALCULATE_BATCHES).await;
    assert_eq!(out.len(), 3);
    assert_eq!(
        out[2],
        json!({"batchNumber": 3, "offset": 200, "limit": 100, "totalBatches": 3})
    );
}

// The course's "Calculate Rate Limit Batches" snippet, verbatim.
const RATE_LIMIT_BATCHES: &str = r#"// Node 1: Function - Calculate Rate Limit Batches
const items = $input.all();
const rateLimit = 100; // 100 requests per minute
const timePeriod = 60; // seconds

const batches = [];
for (let i = 0; i < items.length; i += rateLimit) {
  batches.push({
    json: {
      batchNumber: batches.length + 1,
      items: items.slice(i, i + rateLimit),
      itemCount: Math.min(rateLimit, items.length - i),
      totalItems: items.length,
      waitAfter: i + rateLimit < items.length // Wait after batch if more exist
    }
  });
}

return batches;"#;

#[tokio::test]
async fn course_snippet_rate_limit_batching() {
    let input: Vec<Value> = (0..250).map(|i| json!({"id": i})).collect();
    let out = run_chain(Value::Array(input), RATE_LIMIT_BATCHES).await;
    assert_eq!(out.len(), 3);
    assert_eq!(out[0]["itemCount"], 100);
    assert_eq!(out[0]["waitAfter"], true);
    assert_eq!(out[2]["itemCount"], 50);
    assert_eq!(out[2]["waitAfter"], false);
    assert_eq!(out[1]["items"][0], json!({"json": {"id": 100}}));
}

/// Runs of `js` in the chain that went native (`nativeRuns` in the node's profile).
async fn native_runs(start: Value, js: &str) -> u64 {
    let outcome = run_workflow(chain(start, js)).await;
    assert!(outcome.error.is_none(), "{:?}", outcome.error);
    outcome.run_data.runs("Node")[0]
        .profile
        .counters
        .get("nativeRuns")
        .copied()
        .unwrap_or(0)
}

#[tokio::test]
async fn scripts_in_the_native_subset_run_natively_unless_told_otherwise() {
    let native = std::env::var("SLUICE_CODE_ENGINE").as_deref() != Ok("quickjs");
    let input: Vec<Value> = (0..250).map(|i| json!({"id": i})).collect();
    let expected = u64::from(native);
    assert_eq!(
        native_runs(json!([{"count": 250}]), CALCULATE_BATCHES).await,
        expected
    );
    assert_eq!(
        native_runs(Value::Array(input), RATE_LIMIT_BATCHES).await,
        expected
    );
    // Outside the subset (`require`), or a run the native path cannot finish (a write into
    // nested item data): QuickJS, with the same result.
    assert_eq!(
        native_runs(json!([{"a": 1}]), "const l = require('luxon');\nreturn [];").await,
        0
    );
    let nested = "for (const item of items) { item.json.o.seen = true; }\nreturn items;";
    assert_eq!(native_runs(json!([{"o": {}}]), nested).await, 0);
    assert_eq!(
        run_chain(json!([{"o": {}}]), nested).await,
        vec![json!({"o": {"seen": true}})]
    );
}

/// Items are cheap because those built alike share their keys: a Code node's returned objects
/// (on either engine) and Edit Fields' outputs built from them.
#[tokio::test]
async fn items_built_alike_share_their_keys() {
    let generate = "const out = [];\nfor (let i = 0; i < 3; i++) {\n  \
                    out.push({json: {id: i, status: i % 2 ? 'paid' : 'new'}});\n}\nreturn out;";
    let mut workflow = chain(json!([{}]), generate);
    workflow["nodes"].as_array_mut().unwrap().push(json!({
        "name": "Flag", "type": "n8n-nodes-base.set", "typeVersion": 3.4, "position": [600, 0],
        "parameters": {"assignments": {"assignments": [
            {"id": "1", "name": "flagged", "value": true, "type": "boolean"}]},
            "includeOtherFields": true, "options": {}}
    }));
    workflow["connections"]["Node"] =
        json!({"main": [[{"node": "Flag", "type": "main", "index": 0}]]});
    let outcome = run_workflow(workflow).await;
    assert!(outcome.error.is_none(), "{:?}", outcome.error);
    for node in ["Node", "Flag"] {
        let items = outcome.run_data.runs(node)[0].output(0);
        assert_eq!(items.len(), 3, "{node}");
        assert!(
            items
                .iter()
                .all(|item| item.json.shares_keys_with(&items[0].json)),
            "{node}'s items share their keys"
        );
    }
    let flagged = outcome.run_data.runs("Flag")[0].output(0);
    assert_eq!(
        flagged[1].json.to_value(),
        json!({"id": 1, "status": "paid", "flagged": true})
    );
}

#[tokio::test]
async fn workflow_static_data_persists_across_runs() {
    let mut wf = common::single_node_workflow(
        CODE,
        2.0,
        code(
            "const g = $getWorkflowStaticData('global');\n\
             g.count = (g.count || 0) + 1;\n\
             const n = $getWorkflowStaticData('node');\n\
             n.seen = $input.all().length + (n.seen || 0);\n\
             return [{count: g.count, seen: n.seen}];",
        ),
        json!([{"a": 1}, {"a": 2}]),
    );
    wf["staticData"] = json!({"other": {"kept": true}});
    let workflow: sluice_model::Workflow = serde_json::from_value(wf).unwrap();
    let compiled =
        sluice_engine::CompiledWorkflow::build(workflow, &sluice_nodes::registry()).unwrap();
    let options = || sluice_engine::ExecutionOptions {
        clock: common::test_clock(),
        use_pin_data: false,
        ..Default::default()
    };
    // First run: no `static_data` given, so it starts from the file's `staticData`.
    let first = compiled.run(options()).await.unwrap();
    assert!(first.error.is_none(), "{:?}", first.error);
    assert!(first.static_data_changed);
    assert_eq!(
        Value::Object(first.static_data.clone()),
        json!({"other": {"kept": true}, "global": {"count": 1}, "node:Node": {"seen": 2}})
    );
    // Second run: fed the first run's static data, as `sluice serve` does from the store.
    let second = compiled
        .run(sluice_engine::ExecutionOptions {
            static_data: Some(first.static_data),
            ..options()
        })
        .await
        .unwrap();
    assert_eq!(
        common::output(&second, "Node")[0]["json"],
        json!({"count": 2, "seen": 4})
    );
    assert_eq!(second.static_data["global"], json!({"count": 2}));
    assert!(second.static_data_changed);
}

#[tokio::test]
async fn reading_static_data_changes_nothing() {
    let outcome = run_workflow(common::single_node_workflow(
        CODE,
        2.0,
        code("const g = $getWorkflowStaticData('global'); return [{n: g.count ?? null}];"),
        json!([{}]),
    ))
    .await;
    assert!(outcome.error.is_none(), "{:?}", outcome.error);
    assert!(!outcome.static_data_changed);
    assert!(outcome.static_data.is_empty());
    let error = node_error(
        CODE,
        2.0,
        code("$getWorkflowStaticData('workflow'); return [];"),
        json!([{}]),
    )
    .await;
    assert!(
        error.contains("valid types are 'global' and 'node'"),
        "{error}"
    );
}

/// Three input items; the code throws on its line 2 for the item with `n` 1 (per item) or once
/// for the whole run.
const THROWS_FOR_ITEM_1: &str =
    "if ($json.n === 1) {\n  throw new Error('odd value ' + $json.n);\n}\nreturn $json;";
const THROWS_FOR_THE_RUN: &str =
    "const n = $input.all().length;\nthrow new Error('odd value ' + n);";

/// The Code node's outputs (the `json` of each item, per output) under `onError` `policy`.
async fn code_outputs(mode: &str, js: &str, policy: &str) -> Vec<Vec<Value>> {
    let mut wf = common::single_node_workflow(
        CODE,
        2.0,
        json!({"mode": mode, "jsCode": js}),
        json!([{"n": 0}, {"n": 1}, {"n": 2}]),
    );
    wf["nodes"][2]["onError"] = json!(policy);
    let outcome = run_workflow(wf).await;
    assert!(outcome.error.is_none(), "run failed: {:?}", outcome.error);
    let task = &outcome.run_data.runs("Node")[0];
    let outputs = task.data.as_ref().expect("the node ran");
    outputs
        .iter()
        .map(|items| items.iter().map(|i| i.json.to_value()).collect())
        .collect()
}

#[tokio::test]
async fn per_item_errors_under_continue_carry_the_line_only() {
    let regular = code_outputs(
        "runOnceForEachItem",
        THROWS_FOR_ITEM_1,
        "continueRegularOutput",
    )
    .await;
    assert_eq!(
        regular,
        vec![vec![
            json!({"n": 0}),
            json!({"error": "odd value 1 [line 2]"}),
            json!({"n": 2})
        ]]
    );
    let error_output = code_outputs(
        "runOnceForEachItem",
        THROWS_FOR_ITEM_1,
        "continueErrorOutput",
    )
    .await;
    assert_eq!(
        error_output,
        vec![
            vec![json!({"n": 0}), json!({"n": 2})],
            vec![json!({"n": 1, "error": "odd value 1 [line 2]"})]
        ]
    );
}

#[tokio::test]
async fn whole_run_errors_under_continue_carry_the_line() {
    let regular = code_outputs(
        "runOnceForAllItems",
        THROWS_FOR_THE_RUN,
        "continueRegularOutput",
    )
    .await;
    assert_eq!(
        regular,
        vec![vec![json!({"error": "odd value 3 [line 2]"})]]
    );
    // On the error output only the text is checked: which input item's fields join it is the
    // engine's pairing, not the Code node's.
    let error_output = code_outputs(
        "runOnceForAllItems",
        THROWS_FOR_THE_RUN,
        "continueErrorOutput",
    )
    .await;
    assert!(error_output[0].is_empty(), "{error_output:?}");
    assert_eq!(error_output[1].len(), 1, "{error_output:?}");
    assert_eq!(error_output[1][0]["error"], "odd value 3 [line 2]");
}

#[tokio::test]
async fn errors_that_stop_the_run_name_the_line_and_the_item_in_per_item_mode() {
    let each = node_error(
        CODE,
        2.0,
        json!({"mode": "runOnceForEachItem", "jsCode": THROWS_FOR_ITEM_1}),
        json!([{"n": 0}, {"n": 1}, {"n": 2}]),
    )
    .await;
    assert_eq!(each, "odd value 1 [line 2, for item 1]");
    let all = node_error(
        CODE,
        2.0,
        code(THROWS_FOR_THE_RUN),
        json!([{"n": 0}, {"n": 1}, {"n": 2}]),
    )
    .await;
    assert_eq!(all, "odd value 3 [line 2]");
}

/// The run data keeps only the first `run_data_max_items` items of each output, but not of
/// outputs that a later node reads by name: there `$('Source').item`, `$('Source').all()` and
/// `$('Side').all()` (another branch's node) must see every item (they failed, or saw 5, when
/// the cap applied to them too).
#[tokio::test]
async fn outputs_read_by_name_stay_whole_under_the_run_data_cap() {
    let node = |name: &str, node_type: &str, x: i64, parameters: Value| {
        json!({"name": name, "type": node_type, "typeVersion": 2, "position": [x, 0],
               "parameters": parameters})
    };
    let set = |name: &str, x: i64, assignments: Value| {
        let mut set = node(
            name,
            "n8n-nodes-base.set",
            x,
            json!({"assignments": {"assignments": assignments}}),
        );
        set["typeVersion"] = json!(3.4);
        set
    };
    let mut side = set(
        "Side",
        400,
        json!([{"name": "side", "value": true, "type": "boolean"}]),
    );
    side["position"] = json!([400, -200]);
    let workflow = json!({
        "nodes": [
            json!({"name": "Trigger", "type": "n8n-nodes-base.manualTrigger", "typeVersion": 1,
                   "position": [0, 0], "parameters": {}}),
            node("Source", CODE, 200, code("return Array.from({length: 30}, (_, n) => ({json: {n}}));")),
            set("Double", 400, json!([{"name": "doubled", "value": "={{ $json.n * 2 }}", "type": "number"}])),
            side,
            set("Read", 600, json!([
                {"name": "n", "value": "={{ $('Source').item.json.n }}", "type": "number"},
                {"name": "count", "value": "={{ $('Source').all().length + $('Side').all().length }}", "type": "number"}])),
            node("Sum", CODE, 800, code(
                "const items = $input.all();\n\
                 return [{json: {items: items.length, sum: items.reduce((s, i) => s + i.json.n, 0),\n\
                 counts: [...new Set(items.map((i) => i.json.count))]}}];")),
        ],
        "connections": {
            "Trigger": {"main": [[{"node": "Source", "type": "main", "index": 0}]]},
            "Source": {"main": [[{"node": "Double", "type": "main", "index": 0},
                                  {"node": "Side", "type": "main", "index": 0}]]},
            "Double": {"main": [[{"node": "Read", "type": "main", "index": 0}]]},
            "Read": {"main": [[{"node": "Sum", "type": "main", "index": 0}]]}
        }
    });
    let workflow: sluice_model::Workflow = serde_json::from_value(workflow).unwrap();
    let outcome = common::run_with(
        &workflow,
        sluice_engine::ExecutionOptions {
            run_data_max_items: Some(5),
            ..Default::default()
        },
    )
    .await;
    assert!(outcome.error.is_none(), "{:?}", outcome.error);
    assert_eq!(
        common::output(&outcome, "Sum"),
        [json!({"json": {"items": 30, "sum": 435, "counts": [60]}})]
    );
    let kept = |name: &str| {
        let task = &outcome.run_data.runs(name)[0];
        (common::output(&outcome, name).len(), task.profile.sampled)
    };
    assert_eq!(kept("Source"), (30, false), "read by name further down");
    assert_eq!(kept("Double"), (30, false), "between Source and its reader");
    assert_eq!(
        kept("Side"),
        (30, false),
        "read by name from another branch"
    );
    assert_eq!(kept("Read"), (5, true), "nothing reads it by name");
}
