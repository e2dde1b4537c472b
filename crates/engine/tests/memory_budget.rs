//! The execution memory budget (`ExecutionOptions::memory_budget_mb`): an execution whose items
//! outgrow it fails, naming the node whose output took it over; a streamed chain holding one
//! chunk at a time fits where one run on all items does not.

mod support;

use serde_json::{json, Value};
use sluice_engine::{ExecutionOptions, RunOutcome, RunStatus, StreamMode, Streaming};
use support::{node, run_with, workflow};

/// Start -> Emit (`items` small items) -> Pad (`bytes` more each) -> Pad 2 (its `pad` emptied).
fn padding_workflow(items: usize, bytes: usize) -> sluice_model::Workflow {
    let emitted: Vec<Value> = (0..items).map(|i| json!({ "i": i })).collect();
    workflow(
        Some("v1"),
        vec![
            node("Start", "start", [0, 0], json!({})),
            node("Emit", "emit", [200, 0], json!({ "items": emitted })),
            node("Pad", "pad", [400, 0], json!({ "bytes": bytes })),
            node("Pad 2", "pad", [600, 0], json!({})),
        ],
        &[
            ("Start", 0, "Emit", 0),
            ("Emit", 0, "Pad", 0),
            ("Pad", 0, "Pad 2", 0),
        ],
    )
}

fn options(
    budget_mb: Option<u64>,
    mode: StreamMode,
    run_data_max_items: Option<usize>,
) -> ExecutionOptions {
    ExecutionOptions {
        memory_budget_mb: budget_mb,
        streaming: Streaming {
            mode,
            chunk_items: 2,
            sort_memory_bytes: Streaming::DEFAULT_SORT_MEMORY_BYTES,
        },
        run_data_max_items,
        ..ExecutionOptions::default()
    }
}

fn error_of(outcome: &RunOutcome) -> String {
    assert_eq!(outcome.status, RunStatus::Error);
    outcome.error.as_ref().expect("an error").to_string()
}

const KB: usize = 1024;

#[tokio::test]
async fn a_node_whose_output_outgrows_the_budget_fails_the_execution() {
    let outcome = run_with(
        padding_workflow(4, 512 * KB),
        options(Some(1), StreamMode::Off, None),
    )
    .await;
    let error = error_of(&outcome);
    assert!(
        error.starts_with(
            "node 'Pad': execution memory budget of 1 MB exceeded (its items take about 2 MB"
        ),
        "{error}"
    );
    assert!(!outcome.run_data.runs("Pad")[0].success);
    assert!(outcome.run_data.runs("Pad 2").is_empty());

    let outcome = run_with(
        padding_workflow(4, 512 * KB),
        options(None, StreamMode::Off, None),
    )
    .await;
    assert_eq!(outcome.status, RunStatus::Success, "{:?}", outcome.error);
    assert_eq!(outcome.last_output().len(), 4);
}

#[tokio::test]
async fn items_held_in_several_places_count_once() {
    // Pad's 1.6 MB of items are held by the run data and as Pad 2's input at once.
    let outcome = run_with(
        padding_workflow(4, 400 * KB),
        options(Some(2), StreamMode::Off, None),
    )
    .await;
    assert_eq!(outcome.status, RunStatus::Success, "{:?}", outcome.error);
}

#[tokio::test]
async fn a_streamed_chain_holds_a_chunk_at_a_time() {
    // Eight 300 KB items: 2.4 MB at once, but a chunk of two is 600 KB per node.
    let whole = run_with(
        padding_workflow(8, 300 * KB),
        options(Some(2), StreamMode::Off, Some(1)),
    )
    .await;
    assert!(error_of(&whole).starts_with("node 'Pad': execution memory budget of 2 MB exceeded"));
    let streamed = run_with(
        padding_workflow(8, 300 * KB),
        options(Some(2), StreamMode::On, Some(1)),
    )
    .await;
    assert_eq!(streamed.status, RunStatus::Success, "{:?}", streamed.error);
    assert_eq!(streamed.run_data.runs("Pad 2")[0].profile.items_out, 8);

    // Keeping every item in the run data, Pad's second chunk takes it over.
    let kept = run_with(
        padding_workflow(8, 300 * KB),
        options(Some(1), StreamMode::On, None),
    )
    .await;
    assert!(error_of(&kept).starts_with("node 'Pad': execution memory budget of 1 MB exceeded"));
    assert_eq!(kept.run_data.runs("Pad")[0].profile.items_in, 4);
    assert_eq!(kept.run_data.runs("Pad 2")[0].profile.items_in, 2);
}
