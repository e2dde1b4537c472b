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

mod support;

#[test]
fn n8n_file_fixtures_pass() {
    if let Some(summary) = support::judge_shared_fixtures("n8n-file-fixtures") {
        assert!(
            summary.starts_with("13 passed"),
            "every workflow must be judged: {summary}"
        );
    }
}
