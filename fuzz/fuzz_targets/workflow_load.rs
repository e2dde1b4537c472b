//! The workflow loader on any text: loading, then building every node (parameters compiled,
//! expressions parsed), must answer with a workflow or an error, never a panic or overflow.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fuzz_target!(|data: &[u8]| {
    static REGISTRY: OnceLock<sluice_engine::Registry> = OnceLock::new();
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(loaded) = sluice_model::Workflow::load_str(text) {
        let registry = REGISTRY.get_or_init(sluice_nodes::registry);
        let _ = sluice_engine::CompiledWorkflow::build(loaded.workflow, registry);
    }
});
