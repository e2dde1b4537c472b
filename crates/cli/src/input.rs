//! Reading workflow and item files, turning every problem into one line that says what and where.

use sluice_model::{Item, Loaded, Workflow};
use sluice_runtime::CredentialSet;
use std::path::{Path, PathBuf};

/// Exit code for bad input.
pub const BAD_INPUT: u8 = 2;

pub fn read_text(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("{}: cannot read file: {e}", path.display()))
}

/// A workflow file, with what is odd about it (see [`sluice_model::LoadWarning`]).
pub fn load_workflow(path: &Path) -> Result<Loaded, String> {
    let text = read_text(path)?;
    Workflow::load_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Credentials given with `--credentials` (the shape `n8n export:credentials --decrypted` writes).
pub fn load_credentials(path: &Path) -> Result<CredentialSet, String> {
    CredentialSet::from_export_json(&read_text(path)?)
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// A JSON array of objects (or of `{json: ...}` items) given with `--input`.
pub fn load_items(path: &Path) -> Result<Vec<Item>, String> {
    let text = read_text(path)?;
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        format!(
            "{}: invalid JSON at line {}:{}",
            path.display(),
            e.line(),
            e.column()
        )
    })?;
    sluice_model::items_from_value(value).map_err(|e| format!("{}: {e}", path.display()))
}

/// Workflow files under the given paths: files as given, directories searched for `*.json`
/// recursively, in sorted order.
pub fn workflow_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    for path in paths {
        if path.is_dir() {
            collect_json(path, &mut out)?;
        } else if path.exists() {
            out.push(path.clone());
        } else {
            return Err(format!("{}: no such file or directory", path.display()));
        }
    }
    Ok(out)
}

fn collect_json(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            collect_json(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
    Ok(())
}
