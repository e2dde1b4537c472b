//! The expectation files of n8n's file-node tests (`X.expected.json` beside workflow `X.json`):
//! parameters to set before the run (paths into the fixture's folder and a fresh temporary
//! folder, as n8n's test sets them), the expected output of each node, and whether binary data
//! is compared. `{fixture_dir}` and `{tmp_dir}` are replaced in both.

use serde_json::Value;
use sluice_model::{Item, Workflow};
use std::path::{Path, PathBuf};

/// Nodes whose binary output n8n's test compares byte for byte with the legacy Excel (BIFF) file
/// n8n's spreadsheet library writes. Reproducing that writer's bytes says nothing about whether
/// the file is right, so for these the binary `data` and `fileSize` are not compared (the file
/// is still checked by reading it back in `crates/nodes` tests).
const SPREADSHEET_LIBRARY_BYTES: &[(&str, &str)] =
    &[("SpreadsheetFile/workflow.json", "Write To File XLS")];

pub fn is_expectation_file(path: &Path) -> bool {
    path.to_str().is_some_and(|p| p.ends_with(".expected.json"))
}

/// A test's expectation file, read, with the temporary folder made for its run (removed when
/// the fixture is dropped).
pub struct Fixture {
    text: String,
    tmp_dir: PathBuf,
    pub compare_binary: bool,
    /// Nodes whose binary bytes are not compared (see `SPREADSHEET_LIBRARY_BYTES`).
    pub bytes_not_compared: Vec<String>,
}

impl Fixture {
    /// The expectations beside `workflow_file`, if it has any.
    pub fn beside(workflow_file: &Path) -> Result<Option<Fixture>, String> {
        let Some(stem) = workflow_file.to_str().and_then(|p| p.strip_suffix(".json")) else {
            return Ok(None);
        };
        let path = PathBuf::from(format!("{stem}.expected.json"));
        if !path.is_file() {
            return Ok(None);
        }
        let fixture_dir = std::path::absolute(workflow_file)
            .map_err(|e| format!("{}: {e}", workflow_file.display()))?
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let tmp_dir = fresh_tmp_dir().map_err(|e| format!("temporary folder: {e}"))?;
        let raw = crate::input::read_text(&path)?;
        let compare_binary = serde_json::from_str::<Value>(&raw)
            .map_err(|e| format!("{}: {e}", path.display()))?
            .get("assertBinaryData")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let text = raw
            .replace("{fixture_dir}", &json_escaped(&fixture_dir))
            .replace("{tmp_dir}", &json_escaped(&tmp_dir));
        let workflow_path = workflow_file.to_string_lossy().replace('\\', "/");
        let bytes_not_compared = SPREADSHEET_LIBRARY_BYTES
            .iter()
            .filter(|(file, _)| workflow_path.ends_with(file))
            .map(|(_, node)| node.to_string())
            .collect();
        Ok(Some(Fixture {
            text,
            tmp_dir,
            compare_binary,
            bytes_not_compared,
        }))
    }

    /// Set the overridden parameters on `workflow` and replace `pins` with the expected items.
    pub fn apply(
        &self,
        workflow: &mut Workflow,
        pins: &mut Vec<(String, Vec<Item>)>,
    ) -> Result<(), String> {
        let doc: Value = serde_json::from_str(&self.text).map_err(|e| e.to_string())?;
        for change in doc["parameterOverrides"].as_array().into_iter().flatten() {
            let (node, parameter) = (
                change["node"].as_str().unwrap_or_default(),
                change["parameter"].as_str().unwrap_or_default(),
            );
            let def = workflow
                .nodes
                .iter_mut()
                .find(|n| n.name == node)
                .ok_or_else(|| format!("parameterOverrides: no node '{node}'"))?;
            if !def.parameters.is_object() {
                def.parameters = Value::Object(Default::default());
            }
            def.parameters[parameter] = change["value"].clone();
        }
        if let Some(node_data) = doc["nodeData"].as_object() {
            pins.clear();
            for (node, runs) in node_data {
                let first_run = runs.get(0).cloned().unwrap_or(Value::Array(Vec::new()));
                // Items in n8n's `{json, binary}` shape.
                let items: Vec<Item> = serde_json::from_value(first_run)
                    .map_err(|e| format!("nodeData of '{node}': {e}"))?;
                pins.push((node.clone(), items));
            }
        }
        Ok(())
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.tmp_dir);
    }
}

/// A path as it appears inside a JSON string.
fn json_escaped(path: &Path) -> String {
    let quoted = Value::String(path.to_string_lossy().replace('\\', "/")).to_string();
    quoted[1..quoted.len() - 1].to_string()
}

fn fresh_tmp_dir() -> std::io::Result<PathBuf> {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("sluice-test-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
