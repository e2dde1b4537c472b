//! The file nodes through the engine: each node's happy path and an error for bad input, and
//! binary data that stays one file on disk while it passes through five nodes.

mod common;

use common::{output, test_clock};
use serde_json::{json, Value};
use sluice_engine::{CompiledWorkflow, ExecutionOptions, RunOutcome};
use sluice_model::Workflow;
use sluice_runtime::BinaryData;
use std::path::Path;

/// Manual Trigger → Test Data (`input`) → `nodes` in a chain, named "N1", "N2", ...
fn chain(input: Value, nodes: &[(&str, f64, Value)]) -> Value {
    let mut defs = vec![
        json!({"name": "Trigger", "type": "n8n-nodes-base.manualTrigger", "typeVersion": 1,
               "position": [0, 0], "parameters": {}}),
        json!({"name": "Input", "type": "n8n-nodes-testing.testData", "typeVersion": 1,
               "position": [100, 0], "parameters": {"data": input}}),
    ];
    let mut connections = serde_json::Map::new();
    connections.insert(
        "Trigger".into(),
        json!({"main": [[{"node": "Input", "type": "main", "index": 0}]]}),
    );
    let mut previous = "Input".to_string();
    for (n, (node_type, version, parameters)) in nodes.iter().enumerate() {
        let name = format!("N{}", n + 1);
        defs.push(
            json!({"name": name, "type": node_type, "typeVersion": version,
                         "position": [200 + 100 * n, 0], "parameters": parameters}),
        );
        connections.insert(
            previous.clone(),
            json!({"main": [[{"node": name, "type": "main", "index": 0}]]}),
        );
        previous = name;
    }
    json!({"nodes": defs, "connections": connections, "settings": {"executionOrder": "v1"}})
}

async fn run_with(workflow: Value, binary_data: BinaryData) -> RunOutcome {
    let workflow: Workflow = serde_json::from_value(workflow).expect("workflow JSON");
    CompiledWorkflow::build(workflow, &sluice_nodes::registry())
        .expect("workflow builds")
        .run(ExecutionOptions {
            clock: test_clock(),
            use_pin_data: false,
            binary_data,
            execution_id: "7".into(),
            ..Default::default()
        })
        .await
        .expect("workflow runs")
}

/// The items of the last node of a chain that must succeed.
async fn last_output(input: Value, nodes: &[(&str, f64, Value)]) -> Vec<Value> {
    let outcome = run_with(chain(input, nodes), BinaryData::memory()).await;
    assert!(outcome.error.is_none(), "run failed: {:?}", outcome.error);
    output(&outcome, &format!("N{}", nodes.len()))
}

/// The one-line error of a chain that must fail.
async fn chain_error(input: Value, nodes: &[(&str, f64, Value)]) -> String {
    let outcome = run_with(chain(input, nodes), BinaryData::memory()).await;
    outcome.error.expect("the run should fail").to_string()
}

const READ_WRITE: &str = "n8n-nodes-base.readWriteFile";
const READ_BINARY_FILE: &str = "n8n-nodes-base.readBinaryFile";
const READ_BINARY_FILES: &str = "n8n-nodes-base.readBinaryFiles";
const WRITE_BINARY_FILE: &str = "n8n-nodes-base.writeBinaryFile";
const EXTRACT: &str = "n8n-nodes-base.extractFromFile";
const CONVERT: &str = "n8n-nodes-base.convertToFile";
const SPREADSHEET: &str = "n8n-nodes-base.spreadsheetFile";
const MOVE_BINARY: &str = "n8n-nodes-base.moveBinaryData";
const COMPRESSION: &str = "n8n-nodes-base.compression";
const NO_OP: &str = "n8n-nodes-base.noOp";
const LIMIT: &str = "n8n-nodes-base.limit";

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("sluice-files-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn people() -> Value {
    json!([{"name": "Ada", "age": 36, "city": "London"}, {"name": "Linus", "age": 21, "city": ""}])
}

/// Read/Write Files from Disk reading `dir/*.txt`, then writing each file to `out_file`.
fn read_and_write(dir: &Path, out_file: &Path, append: bool) -> [(&'static str, f64, Value); 2] {
    [
        (
            READ_WRITE,
            1.0,
            json!({"fileSelector": format!("{}/*.txt", dir.display())}),
        ),
        (
            READ_WRITE,
            1.0,
            json!({"operation": "write", "fileName": out_file.display().to_string(),
                   "options": {"append": append}}),
        ),
    ]
}

#[tokio::test]
async fn read_write_files_reads_a_glob_and_appends() {
    let dir = temp_dir("rw");
    std::fs::write(dir.join("a.txt"), "one\n").unwrap();
    std::fs::write(dir.join("b.txt"), "two\n").unwrap();
    let out_file = dir.join("out").join("all.log");
    let out = last_output(json!([{}]), &read_and_write(&dir, &out_file, true)).await;
    assert_eq!(out.len(), 2);
    assert_eq!(out[0]["json"]["fileName"], out_file.display().to_string());
    assert_eq!(out[0]["json"]["mimeType"], "text/plain");
    assert_eq!(out[1]["binary"]["data"]["fileName"], "b.txt");
    assert_eq!(std::fs::read_to_string(&out_file).unwrap(), "one\ntwo\n");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn writing_a_binary_kept_on_disk_copies_its_file() {
    let dir = temp_dir("copy");
    std::fs::write(dir.join("a.txt"), "one\n").unwrap();
    std::fs::write(dir.join("b.txt"), "two\n").unwrap();
    let store = BinaryData::filesystem(dir.join("store"));
    for (append, expected) in [(true, "one\ntwo\n"), (false, "two\n")] {
        let out_file = dir.join("out").join(format!("append-{append}.log"));
        let workflow = chain(json!([{}]), &read_and_write(&dir, &out_file, append));
        let outcome = run_with(workflow, store.clone()).await;
        assert!(outcome.error.is_none(), "run failed: {:?}", outcome.error);
        assert!(output(&outcome, "N2")[0]["binary"]["data"]["id"]
            .as_str()
            .unwrap()
            .starts_with("filesystem-v2:"));
        assert_eq!(std::fs::read_to_string(&out_file).unwrap(), expected);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn writing_a_missing_binary_property_names_parameter_and_item() {
    let error = chain_error(
        json!([{"a": 1}]),
        &[(
            READ_WRITE,
            1.0,
            json!({"operation": "write", "fileName": "/tmp/never-written"}),
        )],
    )
    .await;
    assert_eq!(
        error,
        "node 'N1': This operation expects the node's input data to contain a binary file 'data', but none was found [parameter 'dataPropertyName', item 0]"
    );
}

#[tokio::test]
async fn legacy_read_and_write_binary_file() {
    let dir = temp_dir("legacy");
    std::fs::write(dir.join("in.json"), "{\"x\":1}").unwrap();
    std::fs::write(dir.join("other.json"), "{}").unwrap();
    let written = dir.join("copy.json");
    let out = last_output(
        json!([{"keep": true}]),
        &[
            (
                READ_BINARY_FILE,
                1.0,
                json!({"filePath": dir.join("in.json").display().to_string()}),
            ),
            (
                WRITE_BINARY_FILE,
                1.0,
                json!({"fileName": written.display().to_string()}),
            ),
        ],
    )
    .await;
    assert_eq!(
        out[0]["json"],
        json!({"keep": true, "fileName": written.display().to_string()})
    );
    assert_eq!(out[0]["binary"]["data"]["fileType"], "json");
    assert_eq!(std::fs::read_to_string(&written).unwrap(), "{\"x\":1}");
    let files = last_output(
        json!([{}]),
        &[(
            READ_BINARY_FILES,
            1.0,
            json!({"fileSelector": format!("{}/*.json", dir.display())}),
        )],
    )
    .await;
    let names: Vec<&Value> = files
        .iter()
        .map(|f| &f["binary"]["data"]["fileName"])
        .collect();
    assert_eq!(names, ["copy.json", "in.json", "other.json"]);
    let error = chain_error(
        json!([{}]),
        &[(
            READ_BINARY_FILE,
            1.0,
            json!({"filePath": dir.join("absent.bin").display().to_string()}),
        )],
    )
    .await;
    assert!(
        error.contains("could not read") && error.contains("[parameter 'filePath', item 0]"),
        "{error}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn csv_round_trip_with_extract_options() {
    let out = last_output(
        people(),
        &[
            (CONVERT, 1.1, json!({"options": {"delimiter": ";"}})),
            (
                EXTRACT,
                1.0,
                json!({"options": {"delimiter": ";", "enableBOM": true}}),
            ),
        ],
    )
    .await;
    let rows: Vec<&Value> = out.iter().map(|i| &i["json"]).collect();
    assert_eq!(
        rows,
        [
            &json!({"name": "Ada", "age": "36", "city": "London"}),
            &json!({"name": "Linus", "age": "21"})
        ]
    );
    let limited = last_output(
        people(),
        &[
            (CONVERT, 1.1, json!({})),
            (EXTRACT, 1.0, json!({"options": {"enableBOM": true, "includeEmptyCells": true, "fromLine": 1, "maxRowCount": 1, "headerRow": false}})),
        ],
    )
    .await;
    assert_eq!(limited.len(), 1);
    assert_eq!(limited[0]["json"], json!({"row": ["name", "age", "city"]}));
    let error = chain_error(
        people(),
        &[
            (CONVERT, 1.1, json!({})),
            (EXTRACT, 1.0, json!({"options": {"delimiter": ";;"}})),
        ],
    )
    .await;
    assert_eq!(
        error,
        "node 'N2': the delimiter must be one character, got ';;' [parameter 'options.delimiter', item 0]"
    );
}

#[tokio::test]
async fn xlsx_round_trip_keeps_types() {
    let out = last_output(
        people(),
        &[
            (CONVERT, 1.1, json!({"operation": "xlsx"})),
            (EXTRACT, 1.0, json!({"operation": "xlsx"})),
        ],
    )
    .await;
    assert_eq!(
        out[0]["json"],
        json!({"name": "Ada", "age": 36, "city": "London"})
    );
    assert_eq!(out[1]["json"], json!({"name": "Linus", "age": 21}));
    let error = chain_error(
        people(),
        &[
            (CONVERT, 1.1, json!({"operation": "toJson"})),
            (EXTRACT, 1.0, json!({"operation": "xlsx"})),
        ],
    )
    .await;
    assert!(
        error.starts_with("node 'N2': not a spreadsheet file"),
        "{error}"
    );
}

#[tokio::test]
async fn json_text_and_base64_files() {
    let each = last_output(
        people(),
        &[
            (CONVERT, 1.1, json!({"operation": "toJson", "mode": "each"})),
            (EXTRACT, 1.0, json!({"operation": "fromJson"})),
        ],
    )
    .await;
    assert_eq!(each[1]["json"]["data"]["name"], "Linus");
    let text = last_output(
        json!([{"note": "héllo"}]),
        &[
            (CONVERT, 1.1, json!({"operation": "toText", "sourceProperty": "note", "options": {"encoding": "latin1"}})),
            (EXTRACT, 1.0, json!({"operation": "binaryToPropery"})),
        ],
    )
    .await;
    assert_eq!(text[0]["json"]["data"], "aOlsbG8=");
    let decoded = last_output(
        json!([{"b64": "bGluZQ=="}]),
        &[
            (CONVERT, 1.1, json!({"operation": "toBinary", "sourceProperty": "b64", "options": {"fileName": "x.txt"}})),
            (EXTRACT, 1.0, json!({"operation": "text"})),
        ],
    )
    .await;
    assert_eq!(decoded[0]["json"]["data"], "line");
    let error = chain_error(
        json!([{"a": 1}]),
        &[(
            CONVERT,
            1.1,
            json!({"operation": "toText", "sourceProperty": "missing"}),
        )],
    )
    .await;
    assert_eq!(
        error,
        "node 'N1': the item has no field 'missing' [parameter 'sourceProperty', item 0]"
    );
}

#[tokio::test]
async fn ndjson_extracts_as_an_array() {
    let out = last_output(
        json!([{"lines": "{\"a\":1}\n{\"a\":2}\n"}]),
        &[
            (
                CONVERT,
                1.1,
                json!({"operation": "toText", "sourceProperty": "lines"}),
            ),
            (EXTRACT, 1.0, json!({"operation": "fromJson"})),
        ],
    )
    .await;
    assert_eq!(out[0]["json"]["data"], json!([{"a": 1}, {"a": 2}]));
}

#[tokio::test]
async fn spreadsheet_file_writes_and_reads() {
    let out = last_output(
        people(),
        &[
            (
                SPREADSHEET,
                2.0,
                json!({"operation": "toFile", "fileFormat": "xlsx"}),
            ),
            (SPREADSHEET, 1.0, json!({"options": {"range": "A1:B2"}})),
        ],
    )
    .await;
    assert_eq!(out[0]["json"], json!({"name": "Ada", "age": 36}));
    let error = chain_error(
        people(),
        &[(
            SPREADSHEET,
            2.0,
            json!({"operation": "toFile", "fileFormat": "numbers"}),
        )],
    )
    .await;
    assert_eq!(
        error,
        "node 'N1': unsupported value 'numbers' [parameter 'fileFormat']"
    );
}

#[tokio::test]
async fn move_binary_data_both_ways() {
    let out = last_output(
        json!([{"id": 1, "title": "T"}]),
        &[
            (
                MOVE_BINARY,
                1.0,
                json!({"mode": "jsonToBinary", "options": {"fileName": "x.json"}}),
            ),
            (MOVE_BINARY, 1.0, json!({})),
        ],
    )
    .await;
    assert_eq!(out[0], json!({"json": {"id": 1, "title": "T"}}));
    let error = chain_error(
        json!([{"text": "not json"}]),
        &[
            (MOVE_BINARY, 1.0, json!({"mode": "jsonToBinary", "convertAllData": false, "sourceKey": "text", "options": {"useRawData": true}})),
            (MOVE_BINARY, 1.0, json!({})),
        ],
    )
    .await;
    assert!(
        error.starts_with("node 'N2': binary property 'data' is not JSON"),
        "{error}"
    );
    assert!(
        error.ends_with("[parameter 'sourceKey', item 0]"),
        "{error}"
    );
}

#[tokio::test]
async fn compression_zip_and_gzip_round_trips() {
    for format in ["zip", "gzip"] {
        let out = last_output(
            json!([{"t": "some text to pack"}]),
            &[
                (CONVERT, 1.1, json!({"operation": "toText", "sourceProperty": "t", "options": {"fileName": "t.txt"}})),
                (COMPRESSION, 1.0, json!({"operation": "compress", "outputFormat": format, "outputPrefix": "data"})),
                (COMPRESSION, 1.0, json!({"binaryPropertyName": if format == "zip" { "data" } else { "data0" }})),
                (EXTRACT, 1.0, json!({"operation": "text", "binaryPropertyName": "file_0"})),
            ],
        )
        .await;
        assert_eq!(out[0]["json"]["data"], "some text to pack", "{format}");
    }
    let error = chain_error(
        json!([{"t": "plain"}]),
        &[
            (
                CONVERT,
                1.1,
                json!({"operation": "toText", "sourceProperty": "t"}),
            ),
            (COMPRESSION, 1.0, json!({})),
        ],
    )
    .await;
    assert!(
        error.starts_with("node 'N2': binary property 'data' is not a zip file"),
        "{error}"
    );
}

/// Files under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[tokio::test]
async fn binary_data_passes_five_nodes_as_one_file_on_disk() {
    let root = temp_dir("store");
    let store = BinaryData::filesystem(&root);
    let workflow = chain(
        json!([{"t": "kept once"}]),
        &[
            (
                CONVERT,
                1.1,
                json!({"operation": "toText", "sourceProperty": "t"}),
            ),
            (NO_OP, 1.0, json!({})),
            (LIMIT, 1.0, json!({})),
            (NO_OP, 1.0, json!({})),
            (LIMIT, 1.0, json!({})),
            (NO_OP, 1.0, json!({})),
            (EXTRACT, 1.0, json!({"operation": "text"})),
        ],
    );
    let outcome = run_with(workflow, store.clone()).await;
    assert!(outcome.error.is_none(), "run failed: {:?}", outcome.error);
    let first = &output(&outcome, "N1")[0]["binary"]["data"];
    let last = &output(&outcome, "N6")[0]["binary"]["data"];
    assert!(first["id"]
        .as_str()
        .unwrap()
        .starts_with("filesystem-v2:executions/7/"));
    assert_eq!(first, last);
    assert_eq!(output(&outcome, "N7")[0]["json"]["data"], "kept once");
    assert_eq!(files_under(&root).len(), 1);
    store.delete_execution("7").unwrap();
    assert!(files_under(&root).is_empty());
    std::fs::remove_dir_all(&root).unwrap();
}
