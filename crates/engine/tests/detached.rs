//! A source's detached context (`ExecuteContext::detach`): the node's expressions resolve in it,
//! as the engine pulls the source, to what they resolve to in the run's own context, and what the
//! source counts as it is pulled reaches the run's profile.

mod support;

use serde_json::{json, Value};
use sluice_engine::{ExecutionOptions, StreamMode, Streaming};
use support::{node, output, run_with, workflow};

/// Start -> Emit (3 items) -> Evaluate (an expression reading the item, the run and the
/// execution) -> Pad, streamed in chunks of 2 or not: Evaluate's output and profile.
async fn evaluate(mode: StreamMode) -> (Vec<Value>, Value, usize) {
    let emitted: Vec<_> = (0..3).map(|i| json!({ "a": i * 7 })).collect();
    let expression = "={{ [$json.a, $tenfold, $runIndex, $workflow.name, $execution.mode, \
                      $vars.region, $prevNode.name, $parameter.note, $now.toISO()] }}";
    let wf = workflow(
        Some("v1"),
        vec![
            node("Start", "start", [0, 0], json!({})),
            node("Emit", "emit", [200, 0], json!({ "items": emitted })),
            node(
                "Evaluate",
                "evaluate",
                [400, 0],
                json!({ "value": expression, "note": "hello" }),
            ),
            node("Pad", "pad", [600, 0], json!({})),
        ],
        &[
            ("Start", 0, "Emit", 0),
            ("Emit", 0, "Evaluate", 0),
            ("Evaluate", 0, "Pad", 0),
        ],
    );
    let mut vars = serde_json::Map::new();
    vars.insert("region".into(), json!("eu"));
    let outcome = run_with(
        wf,
        ExecutionOptions {
            vars: Some(vars),
            streaming: Streaming {
                mode,
                chunk_items: 2,
                sort_memory_bytes: Streaming::DEFAULT_SORT_MEMORY_BYTES,
            },
            ..ExecutionOptions::default()
        },
    )
    .await;
    assert!(outcome.error.is_none(), "{:?}", outcome.error);
    let run = &outcome.run_data.runs("Evaluate")[0];
    let paired = serde_json::to_value(
        run.output(0)
            .iter()
            .map(|i| &i.paired_item)
            .collect::<Vec<_>>(),
    )
    .unwrap();
    assert_eq!(run.profile.counters.get("evaluated"), Some(&3));
    (
        output(&outcome, "Evaluate", 0, 0),
        paired,
        run.profile.chunks,
    )
}

#[tokio::test]
async fn a_detached_context_resolves_what_the_run_context_resolves() {
    let (whole, whole_paired, _) = evaluate(StreamMode::Off).await;
    assert_eq!(
        whole[1]["value"],
        json!([
            7,
            10,
            0,
            "t",
            "test",
            "eu",
            "Emit",
            "hello",
            "2025-01-01T00:00:00.000+00:00"
        ])
    );
    let (streamed, streamed_paired, chunks) = evaluate(StreamMode::On).await;
    assert_eq!(chunks, 2, "Evaluate ran as a source, pulled in chunks of 2");
    assert_eq!(streamed, whole);
    assert_eq!(streamed_paired, whole_paired);
}
