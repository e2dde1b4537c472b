//! What `sluice test` reads from a test file on any text: the workflow, its pinned run data
//! (expected items per node) and its trigger input items.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(workflow) = sluice_model::Workflow::from_json_str(text) else {
        return;
    };
    if let Some(input) = workflow.extra.get("trigger").and_then(|t| t.get("input")) {
        let _ = sluice_model::items_from_value(input.clone());
    }
    for (_, items) in workflow.pin_data.iter().flatten() {
        for item in items {
            let _ = serde_json::to_string(item);
        }
    }
});
