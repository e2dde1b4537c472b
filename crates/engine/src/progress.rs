//! Progress of a running execution for whoever watches it (`sluice run`'s progress lines): a
//! callback in [`ExecutionOptions::progress`](crate::ExecutionOptions::progress) that the run
//! loop calls as node runs start and end and as chunks of streamed runs go through their nodes.

use std::fmt;
use std::sync::Arc;

/// What happened to a run of one node. Every run reports `Started`, then (when it is streamed)
/// one `Chunk` per chunk that went through the node, then `Finished`; except a streamed chain's
/// sink when a node before it fails: its run never ends and is not recorded, so it reports no
/// `Finished`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeProgress<'a> {
    /// A run of `node` starts.
    Started { node: &'a str },
    /// A chunk of a streamed run of `node` went through it: this chunk's items.
    Chunk {
        node: &'a str,
        items_in: usize,
        items_out: usize,
    },
    /// A run of `node` ended: the whole run's items, its chunks included, and whether it
    /// succeeded.
    Finished {
        node: &'a str,
        items_in: usize,
        items_out: usize,
        success: bool,
    },
}

/// The callback that receives an execution's [`NodeProgress`]. It is called on the execution's
/// task, between node runs and chunks, so it must be quick (update a counter, a progress bar,
/// send on a channel).
#[derive(Clone)]
pub struct ProgressObserver(Arc<dyn Fn(NodeProgress<'_>) + Send + Sync>);

impl ProgressObserver {
    pub fn new(observe: impl Fn(NodeProgress<'_>) + Send + Sync + 'static) -> Self {
        ProgressObserver(Arc::new(observe))
    }

    pub(crate) fn report(&self, progress: NodeProgress<'_>) {
        (self.0)(progress);
    }
}

impl fmt::Debug for ProgressObserver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ProgressObserver")
    }
}
