//! Streaming execution: generated chains of item-wise nodes give the same run data (items,
//! paired items, counts) streamed in chunks of any size as run once on all items, and bounded
//! run data keeps whole counts with the first items.

mod common;

use common::{run_with, streamed, test_clock, OFF};
use proptest::prelude::*;
use serde_json::{json, Value};
use sluice_engine::{
    CompiledWorkflow, ExecutionOptions, RunOutcome, RunStatus, StreamMode, Streaming,
};
use sluice_model::Workflow;

/// One item-wise node of a generated chain.
#[derive(Clone, Debug)]
enum Step {
    /// Set `b` = `a * k`, keeping the other fields.
    Set(i64),
    /// Filter v2 keeping `a > k`.
    Filter(i64),
    /// IF `a < k` with only the true (`true`) or the false output connected.
    If(i64, bool),
    /// Limit to the first `n` items.
    Limit(usize),
    /// Rename `s` to `t` (and back when `t` is there).
    Rename,
    /// MD5 of `s` into `h`.
    Crypto,
    NoOp,
    /// Code for each item: `c = a + k`.
    Code(i64),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (-3i64..4).prop_map(Step::Set),
        (-40i64..40).prop_map(Step::Filter),
        ((-40i64..40), any::<bool>()).prop_map(|(k, t)| Step::If(k, t)),
        (0usize..30).prop_map(Step::Limit),
        Just(Step::Rename),
        Just(Step::Crypto),
        Just(Step::NoOp),
        (-5i64..5).prop_map(Step::Code),
    ]
}

fn condition(operation: &str, k: i64) -> Value {
    json!({
        "options": {"caseSensitive": true, "leftValue": "", "typeValidation": "strict", "version": 2},
        "conditions": [{
            "id": "c", "leftValue": "={{ $json.a }}", "rightValue": k,
            "operator": {"type": "number", "operation": operation}
        }],
        "combinator": "and"
    })
}

/// (type, typeVersion, parameters, output the chain goes on from).
fn node(step: &Step) -> (&'static str, f64, Value, usize) {
    match step {
        Step::Set(k) => (
            "n8n-nodes-base.set",
            3.4,
            json!({"assignments": {"assignments": [
                {"id": "b", "name": "b", "value": format!("={{{{ $json.a * {k} }}}}"), "type": "number"}
            ]}, "includeOtherFields": true, "options": {}}),
            0,
        ),
        Step::Filter(k) => (
            "n8n-nodes-base.filter",
            2.0,
            json!({"conditions": condition("gt", *k), "options": {}}),
            0,
        ),
        Step::If(k, true_branch) => (
            "n8n-nodes-base.if",
            2.0,
            json!({"conditions": condition("lt", *k), "options": {}}),
            usize::from(!true_branch),
        ),
        Step::Limit(n) => ("n8n-nodes-base.limit", 1.0, json!({"maxItems": n}), 0),
        Step::Rename => (
            "n8n-nodes-base.renameKeys",
            1.0,
            json!({"keys": {"key": [{"currentKey": "s", "newKey": "t"}]}, "additionalOptions": {}}),
            0,
        ),
        Step::Crypto => (
            "n8n-nodes-base.crypto",
            1.0,
            json!({"value": "={{ String($json.s) }}", "dataPropertyName": "h"}),
            0,
        ),
        Step::NoOp => ("n8n-nodes-base.noOp", 1.0, json!({}), 0),
        Step::Code(k) => (
            "n8n-nodes-base.code",
            2.0,
            json!({"mode": "runOnceForEachItem",
                   "jsCode": format!("$json.c = ($json.a || 0) + {k};\nreturn $json;")}),
            0,
        ),
    }
}

/// Manual Trigger → Input (`items`) → the chain → Sort by `i` when `sorted` (a barrier after it).
fn workflow(items: &[Value], steps: &[Step], sorted: bool) -> Workflow {
    let mut nodes = vec![
        json!({"name": "Trigger", "type": "n8n-nodes-base.manualTrigger", "typeVersion": 1,
               "position": [0, 0], "parameters": {}}),
        json!({"name": "Input", "type": "n8n-nodes-testing.testData", "typeVersion": 1,
               "position": [100, 0], "parameters": {"data": items}}),
    ];
    let mut connections = serde_json::Map::new();
    connections.insert(
        "Trigger".into(),
        json!({"main": [[{"node": "Input", "type": "main", "index": 0}]]}),
    );
    let mut previous = ("Input".to_string(), 0usize);
    let mut link = |from: &(String, usize), to: &str| {
        let mut outputs = vec![json!([]); from.1 + 1];
        outputs[from.1] = json!([{"node": to, "type": "main", "index": 0}]);
        connections.insert(from.0.clone(), json!({ "main": outputs }));
    };
    for (i, step) in steps.iter().enumerate() {
        let (node_type, version, parameters, output) = node(step);
        let name = format!("Step {i}");
        nodes.push(
            json!({"name": name, "type": node_type, "typeVersion": version,
                          "position": [200 + 100 * i, 0], "parameters": parameters}),
        );
        link(&previous, &name);
        previous = (name, output);
    }
    if sorted {
        nodes.push(json!({"name": "Sort", "type": "n8n-nodes-base.sort", "typeVersion": 1,
                          "position": [2000, 0],
                          "parameters": {"sortFieldsUi": {"sortField": [{"fieldName": "i", "order": "descending"}]}, "options": {}}}));
        link(&previous, "Sort");
    }
    serde_json::from_value(json!({
        "nodes": nodes,
        "connections": connections,
        "settings": {"executionOrder": "v1"}
    }))
    .expect("workflow JSON")
}

async fn run(workflow: &Workflow, streaming: Streaming, max_items: Option<usize>) -> RunOutcome {
    let options = ExecutionOptions {
        streaming,
        run_data_max_items: max_items,
        ..Default::default()
    };
    run_with(workflow, options).await
}

/// Per node run: its outputs (json and pairedItem), items in and out, success.
fn summary(outcome: &RunOutcome) -> Vec<(String, Value)> {
    outcome
        .run_data
        .nodes
        .iter()
        .flat_map(|(name, runs)| {
            runs.iter().map(move |run| {
                (
                    name.clone(),
                    json!({
                        "data": run.data,
                        "in": run.profile.items_in,
                        "out": run.profile.items_out,
                        "success": run.success,
                        "source": run.source,
                    }),
                )
            })
        })
        .collect()
}

fn items(n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| json!({"i": i, "a": (i as i64 * 37) % 81 - 40, "s": format!("row {}", i % 7)}))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]

    #[test]
    fn streamed_chains_equal_whole_runs(
        n in 0usize..60,
        steps in prop::collection::vec(step(), 1..6),
        sorted in any::<bool>(),
        chunk_items in 1usize..8,
    ) {
        let workflow = workflow(&items(n), &steps, sorted);
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let (whole, chunked) = rt.block_on(async {
            // Sort (when `sorted`) spills a sorted run every few items.
            let spilling = Streaming { sort_memory_bytes: 1_000, ..streamed(chunk_items) };
            (run(&workflow, OFF, None).await, run(&workflow, spilling, None).await)
        });
        prop_assert!(whole.error.is_none(), "{:?}", whole.error);
        prop_assert!(chunked.error.is_none(), "{:?}", chunked.error);
        prop_assert_eq!(&whole.node_order, &chunked.node_order);
        prop_assert_eq!(summary(&whole), summary(&chunked));
        let sort = chunked.run_data.runs("Sort").first().map(|task| &task.profile);
        if let Some(sort) = sort.filter(|sort| sort.items_in > 10) {
            prop_assert!(sort.counters.get("spilledRuns").is_some_and(|runs| *runs > 0));
        }
        if n > chunk_items {
            let chunks = chunked.run_data.runs("Step 0")[0].profile.chunks;
            prop_assert_eq!(chunks, n.div_ceil(chunk_items));
        }
    }
}

#[tokio::test]
async fn bounded_run_data_keeps_counts_and_the_first_items() {
    let steps = [Step::Set(2), Step::Filter(-100), Step::NoOp];
    let workflow = workflow(&items(25), &steps, false);
    for streaming in [OFF, streamed(4)] {
        let outcome = run(&workflow, streaming, Some(10)).await;
        assert!(outcome.error.is_none(), "{:?}", outcome.error);
        for node in ["Input", "Step 0", "Step 2"] {
            let task = &outcome.run_data.runs(node)[0];
            assert_eq!(task.profile.items_out, 25, "{node}");
            assert!(task.profile.sampled, "{node}");
            assert_eq!(task.output(0).len(), 10, "{node}");
            assert_eq!(task.output(0)[9].json["i"], 9, "{node}");
        }
        // Nothing is left out of a run under the bound.
        let small = run(&workflow, streaming, Some(25)).await;
        assert!(!small.run_data.runs("Step 2")[0].profile.sampled);
        assert_eq!(small.run_data.runs("Step 2")[0].output(0).len(), 25);
    }
}

#[tokio::test]
async fn auto_streams_large_inputs_only() {
    let workflow = workflow(&items(30), &[Step::Set(1), Step::NoOp], false);
    let auto = |chunk_items| Streaming {
        mode: StreamMode::Auto,
        chunk_items,
        sort_memory_bytes: Streaming::DEFAULT_SORT_MEMORY_BYTES,
    };
    let large = run(&workflow, auto(8), None).await;
    assert_eq!(large.run_data.runs("Step 1")[0].profile.chunks, 4);
    let small = run(&workflow, auto(30), None).await;
    assert_eq!(small.run_data.runs("Step 1")[0].profile.chunks, 0);
    assert_eq!(summary(&large), summary(&small));
}

#[tokio::test]
async fn workflows_reading_other_items_do_not_stream() {
    let mut workflow = workflow(&items(30), &[Step::Set(1), Step::NoOp], false);
    workflow.nodes[2].parameters["assignments"]["assignments"][0]["value"] =
        json!("={{ $input.all().length }}");
    let streamed = run(&workflow, streamed(4), None).await;
    assert_eq!(streamed.run_data.runs("Step 0")[0].profile.chunks, 0);
    assert_eq!(
        streamed.run_data.runs("Step 0")[0].output(0)[0].json["b"],
        30
    );
}

#[tokio::test]
async fn a_failing_chunk_names_the_item_over_the_whole_input() {
    let mut workflow = workflow(&items(30), &[Step::NoOp, Step::Code(0)], false);
    workflow.nodes[3].parameters["jsCode"] =
        json!("if ($json.i === 13) throw new Error('bad row');\nreturn $json;");
    let outcome = run(&workflow, streamed(4), None).await;
    let error = outcome.error.expect("the run fails");
    assert_eq!(error.node.as_deref(), Some("Step 1"));
    assert_eq!(outcome.last_node.as_deref(), Some("Step 1"));
    assert_eq!(error.item_index, Some(13));
    // The message names the item over the whole input too, as the whole run's does.
    assert_eq!(error.message, "bad row [line 1, for item 13]");
    let whole = run(&workflow, OFF, None).await;
    let whole_error = whole.error.expect("the run fails");
    assert_eq!(whole_error.item_index, Some(13));
    assert_eq!(whole_error.message, error.message);
    let task = &outcome.run_data.runs("Step 1")[0];
    assert_eq!(task.error.as_ref().and_then(|e| e.item_index), Some(13));
}

/// A Filter's strict type check failing in a later chunk names the item over the whole input,
/// in its message as in its item index.
#[tokio::test]
async fn a_failing_filter_names_the_item_over_the_whole_input() {
    let mut workflow = workflow(&items(30), &[Step::NoOp, Step::Filter(0)], false);
    workflow.nodes[3].parameters["conditions"]["conditions"][0]["leftValue"] =
        json!("={{ $json.i === 13 ? 'text' : $json.a }}");
    let streamed_error = run(&workflow, streamed(4), None)
        .await
        .error
        .expect("the run fails");
    let whole_error = run(&workflow, OFF, None)
        .await
        .error
        .expect("the run fails");
    assert_eq!(streamed_error.item_index, Some(13));
    assert!(
        streamed_error.message.ends_with("[condition 0, item 13]"),
        "{}",
        streamed_error.message
    );
    assert_eq!(streamed_error.message, whole_error.message);
}

/// An XLSX file streams its rows too (calamine's cell reader, a row at a time), with the items
/// a whole read gives: a header row after empty ones, gaps, numbers, text and booleans.
#[tokio::test]
async fn an_xlsx_file_streams_row_chunks_through_the_chain() {
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.write_string(1, 0, "id").unwrap();
    sheet.write_string(1, 1, "amount").unwrap();
    sheet.write_string(1, 2, "note").unwrap();
    for i in 0..95u32 {
        let row = i + 2 + i / 30; // an empty row every 30 rows
        sheet.write_number(row, 0, i).unwrap();
        sheet.write_number(row, 1, (i * 37) % 100).unwrap();
        if i % 7 == 0 {
            sheet.write_boolean(row, 2, i % 2 == 0).unwrap();
        } else if i % 5 == 0 {
            sheet.write_string(row, 2, format!("n{i}")).unwrap();
        }
    }
    let file = workbook.save_to_buffer().unwrap();
    let whole = table_run(&file, "xlsx", OFF, None).await;
    assert!(whole.error.is_none(), "{:?}", whole.error);
    let streamed = table_run(&file, "xlsx", streamed(10), None).await;
    assert!(streamed.error.is_none(), "{:?}", streamed.error);
    let extract = &streamed.run_data.runs("Input")[0];
    assert!(extract.profile.chunks >= 10, "{}", extract.profile.chunks);
    assert_eq!(
        extract.profile.items_out, 95,
        "the empty rows give no items"
    );
    assert_eq!(summary(&whole), summary(&streamed));
    let kept = streamed.run_data.runs("Step 1")[0].output(0);
    assert!(kept.len() > 20 && kept.iter().all(|i| i.json["amount"].is_number()));
}

/// Manual Trigger (one item holding `csv` as binary `data`) → Extract From File (CSV) →
/// Filter `amount > 50` → Set `b`.
async fn csv_run(csv: &str, streaming: Streaming, max_items: Option<usize>) -> RunOutcome {
    table_run(csv.as_bytes(), "csv", streaming, max_items).await
}

/// [`csv_run`] with a file of any table format Extract From File reads (`operation`).
async fn table_run(
    file: &[u8],
    operation: &str,
    streaming: Streaming,
    max_items: Option<usize>,
) -> RunOutcome {
    let mut workflow = workflow(&[], &[Step::Filter(50), Step::Set(3)], false);
    workflow.nodes.remove(1);
    let extract: sluice_model::NodeDef = serde_json::from_value(json!({
        "name": "Input", "type": "n8n-nodes-base.extractFromFile", "typeVersion": 1,
        "position": [100, 0], "parameters": {"operation": operation, "options": {}}
    }))
    .unwrap();
    workflow.nodes.insert(1, extract);
    for node in &mut workflow.nodes[2..] {
        node.parameters = serde_json::from_str(
            &node
                .parameters
                .to_string()
                .replace("$json.a", "Number($json.amount)"),
        )
        .unwrap();
    }
    let options = ExecutionOptions {
        streaming,
        run_data_max_items: max_items,
        ..Default::default()
    };
    run_on_csv(workflow, file, options).await
}

/// Run `workflow` with `options` on the test clock, triggered by one item holding `csv` (or any
/// file) as binary `data`.
async fn run_on_csv(
    workflow: Workflow,
    csv: impl AsRef<[u8]>,
    options: ExecutionOptions,
) -> RunOutcome {
    use base64::Engine;
    let binary = json!({"data": {
        "data": base64::engine::general_purpose::STANDARD.encode(csv),
        "mimeType": "text/csv", "fileName": "in.csv", "fileExtension": "csv"
    }});
    let trigger: sluice_model::Item =
        serde_json::from_value(json!({"json": {}, "binary": binary})).unwrap();
    let compiled = CompiledWorkflow::build(workflow, &sluice_nodes::registry()).unwrap();
    compiled
        .run(ExecutionOptions {
            clock: test_clock(),
            use_pin_data: false,
            trigger_items: Some(vec![trigger]),
            ..options
        })
        .await
        .expect("workflow runs")
}

#[tokio::test]
async fn a_csv_file_streams_row_chunks_through_the_chain() {
    let mut csv = String::from("id,amount\n");
    for i in 0..95 {
        csv.push_str(&format!("{i},{}\n", (i * 37) % 100));
    }
    let auto = Streaming {
        mode: StreamMode::Auto,
        chunk_items: 10,
        sort_memory_bytes: Streaming::DEFAULT_SORT_MEMORY_BYTES,
    };
    let streamed = csv_run(&csv, auto, None).await;
    assert!(streamed.error.is_none(), "{:?}", streamed.error);
    let extract = &streamed.run_data.runs("Input")[0];
    assert_eq!(extract.profile.chunks, 10, "95 rows in chunks of 10");
    assert_eq!(
        (extract.profile.items_in, extract.profile.items_out),
        (1, 95)
    );
    let whole = csv_run(&csv, OFF, None).await;
    assert_eq!(summary(&whole), summary(&streamed));
    let kept = streamed.run_data.runs("Step 1")[0].output(0);
    assert!(!kept.is_empty() && kept.iter().all(|i| i.json["amount"].as_str().is_some()));
    // Bounded run data keeps the counts.
    let bounded = csv_run(&csv, auto, Some(5)).await;
    let extract = &bounded.run_data.runs("Input")[0];
    assert_eq!(
        (extract.output(0).len(), extract.profile.items_out),
        (5, 95)
    );
}

/// Manual Trigger (one item holding `csv` as binary `data`) → Extract From File (CSV) →
/// Filter `amount > 50` → Convert to File (`convert`'s parameters) → NoOp when `then_noop`.
async fn file_sink_run(
    csv: &str,
    convert: &Value,
    then_noop: bool,
    streaming: Streaming,
    binary_data: sluice_runtime::BinaryData,
) -> RunOutcome {
    let options = ExecutionOptions {
        streaming,
        binary_data,
        execution_id: "9".into(),
        ..Default::default()
    };
    run_on_csv(file_sink_workflow(convert, then_noop), csv, options).await
}

/// The workflow of [`file_sink_run`].
fn file_sink_workflow(convert: &Value, then_noop: bool) -> Workflow {
    let mut nodes = vec![
        json!({"name": "Trigger", "type": "n8n-nodes-base.manualTrigger", "typeVersion": 1,
               "position": [0, 0], "parameters": {}}),
        json!({"name": "Extract", "type": "n8n-nodes-base.extractFromFile", "typeVersion": 1,
               "position": [100, 0], "parameters": {"operation": "csv", "options": {}}}),
        json!({"name": "Filter", "type": "n8n-nodes-base.filter", "typeVersion": 2,
               "position": [200, 0], "parameters": {"conditions": condition("gt", 50)}}),
        json!({"name": "Convert", "type": "n8n-nodes-base.convertToFile", "typeVersion": 1.1,
               "position": [300, 0], "parameters": convert}),
    ];
    let mut connections = json!({
        "Trigger": {"main": [[{"node": "Extract", "type": "main", "index": 0}]]},
        "Extract": {"main": [[{"node": "Filter", "type": "main", "index": 0}]]},
        "Filter": {"main": [[{"node": "Convert", "type": "main", "index": 0}]]}
    });
    if then_noop {
        nodes.push(
            json!({"name": "After", "type": "n8n-nodes-base.noOp", "typeVersion": 1,
                          "position": [400, 0], "parameters": {}}),
        );
        connections["Convert"] = json!({"main": [[{"node": "After", "type": "main", "index": 0}]]});
    }
    serde_json::from_str(
        &json!({"nodes": nodes, "connections": connections, "settings": {"executionOrder": "v1"}})
            .to_string()
            .replace("$json.a", "Number($json.amount)"),
    )
    .unwrap()
}

/// The file a streamed Convert to File makes counts against the execution memory budget, as
/// a whole run's output does: kept inline (memory mode), it takes the execution over a budget
/// that the input file and the rows, a chunk at a time, stay under (~2 MB of ~3).
#[tokio::test]
async fn a_streamed_sinks_file_counts_against_the_memory_budget() {
    let mut csv = String::from("id,amount,note\n");
    for i in 0..20_000 {
        csv.push_str(&format!("{i},{},{}\n", 100 + i % 7, "n".repeat(60)));
    }
    let convert = json!({"operation": "csv", "options": {}});
    let run = |memory_budget_mb| {
        let options = ExecutionOptions {
            streaming: streamed(500),
            run_data_max_items: Some(10),
            memory_budget_mb,
            ..Default::default()
        };
        run_on_csv(file_sink_workflow(&convert, false), &csv, options)
    };
    let within = run(Some(8)).await;
    assert_eq!(within.status, RunStatus::Success, "{:?}", within.error);
    let over = run(Some(3)).await;
    assert_eq!(over.status, RunStatus::Error);
    let error = over.error.expect("an error").to_string();
    assert!(
        error.starts_with("node 'Convert': execution memory budget of 3 MB exceeded"),
        "{error}"
    );
}

/// Rows whose `name` is empty at first and `note` only late, so the items' keys (and a CSV
/// file's columns) grow as the rows go by; text that needs quoting and non-ASCII text.
fn growing_csv(rows: usize) -> String {
    let mut csv = String::from("id,name,amount,note\n");
    for i in 0..rows {
        let name = if i < 12 {
            String::new()
        } else {
            format!("Name {i}, \"q\"")
        };
        let note = if i > 70 && i % 3 == 0 {
            "caf\u{e9}\nline"
        } else {
            ""
        };
        csv.push_str(&format!(
            "{i},\"{}\",{},\"{note}\"\n",
            name.replace('"', "\"\""),
            (i * 37) % 100
        ));
    }
    csv
}

/// `value` without the `id`s of binary data kept on disk (a new one per run).
fn without_file_ids(mut value: Value) -> Value {
    match &mut value {
        Value::Object(map) => {
            map.retain(|key, v| {
                !(key == "id"
                    && v.as_str()
                        .is_some_and(|id| id.starts_with("filesystem-v2:")))
            });
            for v in map.values_mut() {
                *v = without_file_ids(v.take());
            }
        }
        Value::Array(items) => {
            for v in items {
                *v = without_file_ids(v.take());
            }
        }
        _ => {}
    }
    value
}

#[tokio::test]
async fn convert_to_file_writes_the_same_file_from_streamed_chunks() {
    use sluice_runtime::BinaryData;
    let csv = growing_csv(95);
    let conversions = [
        json!({"operation": "csv", "options": {}}),
        json!({"operation": "csv", "options": {"delimiter": ";", "headerRow": false, "fileName": "out.csv"}}),
        json!({"operation": "toJson", "options": {}}),
        json!({"operation": "toJson", "binaryPropertyName": "file",
               "options": {"format": true, "encoding": "latin1"}}),
        json!({"operation": "toJson", "options": {"format": true, "addBOM": true}}),
        json!({"operation": "toJson", "mode": "each", "options": {}}),
        json!({"operation": "toText", "sourceProperty": "id", "options": {}}),
    ];
    let root = std::env::temp_dir().join(format!("sluice-file-sink-{}", std::process::id()));
    for convert in &conversions {
        for then_noop in [false, true] {
            let whole = file_sink_run(&csv, convert, then_noop, OFF, BinaryData::memory()).await;
            assert!(whole.error.is_none(), "{convert}: {:?}", whole.error);
            for streaming in [
                streamed(7),
                Streaming {
                    mode: StreamMode::Auto,
                    chunk_items: 10,
                    sort_memory_bytes: Streaming::DEFAULT_SORT_MEMORY_BYTES,
                },
            ] {
                let chunked =
                    file_sink_run(&csv, convert, then_noop, streaming, BinaryData::memory()).await;
                assert!(chunked.error.is_none(), "{convert}: {:?}", chunked.error);
                assert!(
                    chunked.run_data.runs("Convert")[0].profile.chunks > 1,
                    "{convert}"
                );
                assert_eq!(whole.node_order, chunked.node_order, "{convert}");
                assert_eq!(summary(&whole), summary(&chunked), "{convert}");
            }
            // On disk: the same bytes in files, and no file left of a CSV written again.
            let files = |name: &str| {
                let dir = root.join(name);
                let _ = std::fs::remove_dir_all(&dir);
                BinaryData::filesystem(dir)
            };
            let (whole_store, chunked_store) = (files("whole"), files("chunked"));
            let on_disk = file_sink_run(&csv, convert, then_noop, OFF, whole_store.clone()).await;
            let chunked =
                file_sink_run(&csv, convert, then_noop, streamed(7), chunked_store.clone()).await;
            assert!(chunked.error.is_none(), "{convert}: {:?}", chunked.error);
            let stored = |outcome: &RunOutcome, store: &BinaryData| -> Vec<Vec<u8>> {
                outcome.run_data.runs("Convert")[0]
                    .output(0)
                    .iter()
                    .flat_map(|item| item.binary.as_ref().unwrap().values())
                    .map(|entry| store.read(entry.as_object().unwrap()).unwrap())
                    .collect()
            };
            assert_eq!(
                stored(&on_disk, &whole_store),
                stored(&chunked, &chunked_store)
            );
            let without_ids = |outcome: &RunOutcome| {
                without_file_ids(serde_json::to_value(summary(outcome)).unwrap())
            };
            assert_eq!(without_ids(&on_disk), without_ids(&chunked), "{convert}");
            assert_eq!(
                files_under(&root.join("whole")),
                files_under(&root.join("chunked")),
                "{convert}"
            );
        }
    }
    let _ = std::fs::remove_dir_all(&root);
    // Nothing passes the filter: Convert to File runs in neither.
    let none = growing_csv(1);
    let convert = &conversions[0];
    let whole = file_sink_run(&none, convert, true, OFF, BinaryData::memory()).await;
    let chunked = file_sink_run(&none, convert, true, streamed(7), BinaryData::memory()).await;
    assert_eq!(whole.node_order, ["Trigger", "Extract", "Filter"]);
    assert_eq!(whole.node_order, chunked.node_order);
}

/// The rows of the XLSX file Convert to File made in `outcome` (memory mode), read back.
fn xlsx_rows(outcome: &RunOutcome) -> Vec<Vec<String>> {
    use calamine::Reader as _;
    let runs = outcome.run_data.runs("Convert");
    let entry = runs[0].output(0)[0].binary.as_ref().unwrap()["data"].clone();
    let bytes = sluice_runtime::BinaryData::memory()
        .read(entry.as_object().unwrap())
        .unwrap();
    let mut book =
        calamine::open_workbook_from_rs::<calamine::Xlsx<_>, _>(std::io::Cursor::new(bytes))
            .unwrap();
    let names = book.sheet_names();
    assert_eq!(names, ["Rows"]);
    let range = book.worksheet_range("Rows").unwrap();
    range
        .rows()
        .map(|row| row.iter().map(|cell| cell.to_string()).collect())
        .collect()
}

/// Convert to File's XLSX is a sink too: streamed or whole, the workbook holds a header of
/// every key (a key first seen in a later chunk included) and the kept rows in order.
#[tokio::test]
async fn convert_to_file_writes_xlsx_from_streamed_chunks() {
    use sluice_runtime::BinaryData;
    let csv = growing_csv(95);
    let convert = json!({"operation": "xlsx", "options": {"sheetName": "Rows"}});
    let whole = file_sink_run(&csv, &convert, false, OFF, BinaryData::memory()).await;
    assert!(whole.error.is_none(), "{:?}", whole.error);
    let kept = whole.run_data.runs("Filter")[0].output(0).to_vec();
    // Keys in the order they first appear: `name` is empty (left out) in the first rows, `note`
    // in all rows before the 72nd.
    let mut expected = vec![vec!["id", "amount", "name", "note"]
        .into_iter()
        .map(String::from)
        .collect::<Vec<_>>()];
    for item in &kept {
        expected.push(
            ["id", "amount", "name", "note"]
                .iter()
                .map(|key| {
                    item.json
                        .get(key)
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string()
                })
                .collect(),
        );
    }
    assert!(expected.len() > 20);
    assert_eq!(xlsx_rows(&whole), expected);
    let chunked = file_sink_run(&csv, &convert, false, streamed(7), BinaryData::memory()).await;
    assert!(chunked.error.is_none(), "{:?}", chunked.error);
    assert!(chunked.run_data.runs("Convert")[0].profile.chunks > 1);
    assert_eq!(xlsx_rows(&chunked), expected);
}

/// How many files are under `dir`, recursively.
fn files_under(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| match entry.path() {
            path if path.is_dir() => files_under(&path),
            _ => 1,
        })
        .sum()
}

/// A streamed Convert to File reports each chunk it takes, then its one file, to the progress
/// observer, as the chain's other nodes do.
#[tokio::test]
async fn a_streamed_sink_reports_its_chunks_and_its_file() {
    use sluice_engine::{NodeProgress, ProgressObserver};
    use std::sync::{Arc, Mutex};
    let mut csv = String::from("id,amount\n");
    for i in 0..10 {
        csv.push_str(&format!("{i},{}\n", 100 + i));
    }
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let observer = ProgressObserver::new(move |progress| match progress {
        NodeProgress::Chunk {
            node: "Convert",
            items_in,
            items_out,
        } => log.lock().unwrap().push(("chunk", items_in, items_out)),
        NodeProgress::Finished {
            node: "Convert",
            items_in,
            items_out,
            ..
        } => log.lock().unwrap().push(("finished", items_in, items_out)),
        _ => {}
    });
    let options = ExecutionOptions {
        streaming: streamed(4),
        progress: Some(observer),
        ..Default::default()
    };
    let convert = json!({"operation": "csv", "options": {}});
    let outcome = run_on_csv(file_sink_workflow(&convert, false), &csv, options).await;
    assert_eq!(outcome.status, RunStatus::Success, "{:?}", outcome.error);
    assert_eq!(
        *seen.lock().unwrap(),
        [
            ("chunk", 4, 0),
            ("chunk", 4, 0),
            ("chunk", 2, 0),
            ("chunk", 0, 1),
            ("finished", 10, 1)
        ]
    );
}
