//! The progress observer (`ExecutionOptions::progress`): every node run reports its start and
//! its end with its whole counts; a streamed run also reports each chunk as it goes through.

mod support;

use serde_json::json;
use sluice_engine::{ExecutionOptions, NodeProgress, ProgressObserver, StreamMode, Streaming};
use std::sync::{Arc, Mutex};
use support::{node, run_with, workflow};

/// A `NodeProgress` as owned values, to compare.
#[derive(Debug, PartialEq)]
enum Event {
    Started(String),
    Chunk(String, usize, usize),
    Finished(String, usize, usize, bool),
}

/// Start -> Emit (5 items) -> Pad -> Pad 2, streamed or not as `mode` says, in chunks of 2: the
/// events the observer received.
async fn events(mode: StreamMode) -> Vec<Event> {
    let emitted: Vec<_> = (0..5).map(|i| json!({ "i": i })).collect();
    let wf = workflow(
        Some("v1"),
        vec![
            node("Start", "start", [0, 0], json!({})),
            node("Emit", "emit", [200, 0], json!({ "items": emitted })),
            node("Pad", "pad", [400, 0], json!({ "bytes": 3 })),
            node("Pad 2", "pad", [600, 0], json!({})),
        ],
        &[
            ("Start", 0, "Emit", 0),
            ("Emit", 0, "Pad", 0),
            ("Pad", 0, "Pad 2", 0),
        ],
    );
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let observer = ProgressObserver::new(move |progress| {
        log.lock().unwrap().push(match progress {
            NodeProgress::Started { node } => Event::Started(node.into()),
            NodeProgress::Chunk {
                node,
                items_in,
                items_out,
            } => Event::Chunk(node.into(), items_in, items_out),
            NodeProgress::Finished {
                node,
                items_in,
                items_out,
                success,
            } => Event::Finished(node.into(), items_in, items_out, success),
        })
    });
    let outcome = run_with(
        wf,
        ExecutionOptions {
            progress: Some(observer),
            streaming: Streaming {
                mode,
                chunk_items: 2,
                sort_memory_bytes: Streaming::DEFAULT_SORT_MEMORY_BYTES,
            },
            ..ExecutionOptions::default()
        },
    )
    .await;
    assert_eq!(outcome.last_output().len(), 5);
    let mut events = seen.lock().unwrap();
    std::mem::take(&mut *events)
}

fn started(node: &str) -> Event {
    Event::Started(node.into())
}

fn chunk(node: &str, items_in: usize, items_out: usize) -> Event {
    Event::Chunk(node.into(), items_in, items_out)
}

/// A successful run's end.
fn finished(node: &str, items_in: usize, items_out: usize) -> Event {
    Event::Finished(node.into(), items_in, items_out, true)
}

/// What both runs report first: the nodes before the chain, which never stream.
fn before_the_chain() -> Vec<Event> {
    vec![
        started("Start"),
        finished("Start", 1, 1),
        started("Emit"),
        finished("Emit", 1, 5),
    ]
}

#[tokio::test]
async fn a_run_reports_each_node_once_it_ends() {
    let mut expected = before_the_chain();
    expected.extend([
        started("Pad"),
        finished("Pad", 5, 5),
        started("Pad 2"),
        finished("Pad 2", 5, 5),
    ]);
    assert_eq!(events(StreamMode::Off).await, expected);
}

#[tokio::test]
async fn a_streamed_run_reports_each_chunk_through_each_node() {
    let mut expected = before_the_chain();
    expected.extend([
        started("Pad"),
        chunk("Pad", 2, 2),
        started("Pad 2"),
        chunk("Pad 2", 2, 2),
        chunk("Pad", 2, 2),
        chunk("Pad 2", 2, 2),
        chunk("Pad", 1, 1),
        chunk("Pad 2", 1, 1),
        finished("Pad", 5, 5),
        finished("Pad 2", 5, 5),
    ]);
    assert_eq!(events(StreamMode::On).await, expected);
}
