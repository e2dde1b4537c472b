//! n8n's own node fixtures (`../shared/n8n-fixtures`, beside the repository) as a conformance
//! suite: every fixture must pass, those with Code / Function nodes (JavaScript) included.

use std::path::Path;
use std::process::Command;

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
    let failed: Vec<&str> = text.lines().filter(|l| l.starts_with("FAIL ")).collect();
    assert!(
        failed.is_empty(),
        "{} fixture(s) failed:\n{}",
        failed.len(),
        failed.join("\n")
    );
    assert!(
        out.status.success(),
        "sluice test exited with {}",
        out.status
    );
}
