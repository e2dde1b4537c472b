//! The node trait every built-in node implements.

use crate::{ExecuteContext, NodeError};
use futures_util::TryStreamExt;
use sluice_model::Item;

/// One item list per output (IF: `[true, false]`; Loop Over Items: `[done, loop]`).
pub type NodeOutputs = Vec<Vec<Item>>;

/// Output items read as the engine pulls them (see [`Node::item_source`]): a stream, so a source
/// may wait on I/O (a database sending rows) without blocking the runtime.
pub type ItemSource = futures_util::stream::BoxStream<'static, Result<Item, NodeError>>;

/// How many inputs must hold data before a waiting multi-input node may run when the rest of the
/// graph is idle (n8n's `requiredInputs`).
#[derive(Clone, Debug, Default, PartialEq)]
pub enum RequiredInputs {
    /// No requirement: it runs once any input has items.
    #[default]
    Any,
    /// At least this many inputs must have received data.
    Count(usize),
    /// These inputs must all have received data.
    These(Vec<usize>),
}

/// How a node's output items relate to its input items: whether it can run on one chunk of its
/// input at a time in a streamed chain (see `SLUICE_STREAM`) and give what one run on all of its
/// input gives.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ItemWise {
    /// It needs all of its input at once (Aggregate, Merge, Code for all items, a random Sort):
    /// a streamed chain ends before it and its input is materialised.
    #[default]
    Barrier,
    /// Each output item derives from exactly one input item, whatever the other items are, and
    /// names it in its paired items: runs on consecutive chunks, joined, equal one run.
    Yes,
    /// Item-wise, and able to read its output a chunk at a time ([`Node::item_source`]:
    /// Extract From File reading CSV, Postgres selecting all rows), so a chain it starts streams
    /// even from one input item.
    Source,
    /// Keeps the first `n` items of its input as they are (Limit): item-wise once the engine
    /// caps the total across chunks at `n`.
    FirstItems(usize),
    /// Folds all of its input into its outputs and can take that input a chunk at a time
    /// ([`Node::sink`]: Convert to File writing CSV, a JSON array or XLSX), so a streamed chain may end
    /// with it and no node holds the chain's items.
    Sink,
    /// Takes its input a chunk at a time like a [`ItemWise::Sink`] and, once it has all of it,
    /// gives its output back as a stream ([`SinkOutput::Stream`]: Sort merging the sorted runs
    /// it spilled to disk), so a streamed chain goes on after it.
    Reorder,
}

/// What an [`ItemSink`] gives once it has all of its input.
pub enum SinkOutput {
    /// One item list per output, as [`Node::execute`] on all of the input gives them.
    Outputs(NodeOutputs),
    /// The items of its only output, read as the engine pulls them, each naming the input item
    /// it pairs with (counted over the whole input): what an [`ItemWise::Reorder`] sink gives.
    Stream(ItemSource),
}

impl SinkOutput {
    /// The item lists of all outputs, a stream read to its end (a run on all items gives them
    /// so).
    pub async fn into_outputs(self) -> Result<NodeOutputs, NodeError> {
        match self {
            SinkOutput::Outputs(outputs) => Ok(outputs),
            SinkOutput::Stream(stream) => Ok(vec![stream.try_collect().await?]),
        }
    }
}

/// A node's fold of all of its input, fed a chunk at a time (see [`Node::sink`]).
#[async_trait::async_trait]
pub trait ItemSink: Send {
    /// Take the next chunk of the input: `ctx`'s main input, its items counted from 0 in the
    /// chunk, its parameters resolved against them.
    async fn push(&mut self, ctx: &ExecuteContext<'_>) -> Result<(), NodeError>;

    /// The output for all of the input pushed, as [`Node::execute`] on all of it gives it,
    /// paired items counted over the whole input.
    async fn finish(self: Box<Self>) -> Result<SinkOutput, NodeError>;
}

/// A node built from its parameters once per workflow, run once per input run.
#[async_trait::async_trait]
pub trait Node: Send + Sync {
    /// Run with all items of one input run (see [`ExecuteContext::input`]); return one item list
    /// per output. Per-item failures under `continueOnFail` become error items (see
    /// [`ExecuteContext::map_items`]); returning `Err` fails the whole node.
    async fn execute(&self, ctx: &ExecuteContext<'_>) -> Result<NodeOutputs, NodeError>;

    /// Number of main outputs (before the extra error output the engine may add).
    fn outputs(&self) -> usize {
        1
    }

    /// Number of main inputs (Merge: 2 or more). Data sent to an input a node does not have
    /// never reaches it, as in n8n.
    fn inputs(&self) -> usize {
        1
    }

    /// The credential types this node will ask for with
    /// [`ExecuteContext::node_credential`], so a missing one is reported before the run
    /// ([`CompiledWorkflow::check_credentials`](crate::CompiledWorkflow::check_credentials)).
    fn credential_types(&self) -> Vec<&str> {
        Vec::new()
    }

    /// Settings n8n runs with although they do not do what they say (a value that is none of
    /// the parameter's options, which n8n ignores), found when the node was built: the
    /// parameter's path and what the node does instead. The build reports them as load warnings.
    fn ignored_settings(&self) -> Vec<(&'static str, String)> {
        Vec::new()
    }

    /// See [`ItemWise`]; nodes are barriers unless they say otherwise.
    fn item_wise(&self) -> ItemWise {
        ItemWise::Barrier
    }

    /// True for a node whose output is its main input as it is (No Operation): the engine then
    /// moves the input's items to the output, in a streamed chain chunk by chunk, instead of
    /// calling [`Node::execute`] (which must return the same).
    fn passes_input_through(&self) -> bool {
        false
    }

    /// In a streamed chain, the fewest items per chunk this node runs well with: a bulk write
    /// sends a statement or a `COPY` per chunk, in a transaction of its own, so chunks of the
    /// default size would cost it a round trip and a commit per thousand items. The chain's
    /// chunks are at least this large; 0 means no preference.
    fn stream_chunk_items(&self) -> usize {
        0
    }

    /// For an [`ItemWise::Source`] node: its output for all of `ctx`'s input, read as the engine
    /// pulls it, each item paired to its input item; `None` to run [`Node::execute`] instead.
    /// What the source needs of `ctx` (parameters, credentials, a connection) is taken here, as
    /// the stream outlives it: [`ExecuteContext::detach`] for expressions it evaluates as it
    /// goes, [`ExecuteContext::counters`] for what it counts.
    async fn item_source(
        &self,
        _ctx: &ExecuteContext<'_>,
    ) -> Result<Option<ItemSource>, NodeError> {
        Ok(None)
    }

    /// For an [`ItemWise::Sink`] or [`ItemWise::Reorder`] node: a sink for its input, made from `ctx` holding the first
    /// chunk (which is then pushed to it). What it needs of `ctx` (parameters of the first item,
    /// the binary data store) is taken here, as the sink outlives it.
    async fn sink(&self, _ctx: &ExecuteContext<'_>) -> Result<Box<dyn ItemSink>, NodeError> {
        Err(NodeError::new(
            "this node cannot take its input a chunk at a time",
        ))
    }

    /// See [`RequiredInputs`]; only consulted for nodes with several connected inputs.
    fn required_inputs(&self) -> RequiredInputs {
        RequiredInputs::Any
    }
}
