//! n8n's own tests of its file nodes (`../shared/n8n-file-fixtures`, beside the repository):
//! every workflow runs through `sluice test`, which reads each `X.expected.json` (parameters set
//! to paths in the fixture's folder and a fresh temporary folder, expected items, and whether
//! binary data is compared) and judges the run as n8n's harness does. Every fixture must pass.
//!
//! Comparisons left out, and why:
//! - `SpreadsheetFile/workflow.json`'s `Write To File XLS`: n8n compares the bytes of the legacy
//!   Excel (BIFF) file its spreadsheet library (SheetJS) writes. Reproducing that writer byte for
//!   byte says nothing about whether the file is right, so for that node the binary `data` and
//!   `fileSize` are not compared (`SPREADSHEET_LIBRARY_BYTES` in `crates/cli/src/fixture.rs`);
//!   the XLS Sluice writes is read back by `Extract From File5` in `convert_extract`. The HTML and
//!   RTF outputs are compared byte for byte and match.
//! - `Write To File ODS` output is not compared by n8n either (it differs on every run).

use std::path::Path;
use std::process::Command;

#[test]
fn n8n_file_fixtures_pass() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/n8n-file-fixtures");
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
    eprintln!("n8n file fixtures: {summary}");
    let failed: Vec<&str> = text.lines().filter(|l| l.starts_with("FAIL ")).collect();
    assert!(
        failed.is_empty(),
        "{} fixture(s) failed:\n{}",
        failed.len(),
        failed.join("\n")
    );
    assert!(
        summary.starts_with("13 passed"),
        "every workflow must be judged: {summary}"
    );
    assert!(
        out.status.success(),
        "sluice test exited with {}",
        out.status
    );
}
