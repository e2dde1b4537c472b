//! n8n's own node fixtures (`../shared/n8n-fixtures`, beside the repository) as a conformance
//! suite: every fixture must pass except those that need JavaScript (Code / Function nodes),
//! which the Code node issue brings.

use std::path::Path;
use std::process::Command;

/// Fixtures that run legacy Function or Code nodes (JavaScript).
const NEEDS_JAVASCRIPT: &[&str] = &[
    "Code/Code.workflow.json",
    "Code/workflow.do_not_obfuscate_validation_error.json",
    "CompareDatasets/workflow.compareDatasets.json",
    "DateTime/DateTimeWorklfow.test.json",
];

#[test]
fn n8n_fixtures_pass() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/n8n-fixtures");
    if !dir.is_dir() {
        eprintln!("skipped: {} does not exist", dir.display());
        return;
    }
    let out = Command::new(env!("CARGO_BIN_EXE_sluice"))
        .arg("test")
        .arg(&dir)
        .output()
        .expect("sluice test runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let summary = text.lines().last().unwrap_or_default();
    eprintln!("n8n fixtures: {summary}");
    let unexpected: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("FAIL "))
        .filter(|l| !NEEDS_JAVASCRIPT.iter().any(|js| l.contains(js)))
        .collect();
    assert!(
        unexpected.is_empty(),
        "{} fixture(s) failed:\n{}",
        unexpected.len(),
        unexpected.join("\n")
    );
}
