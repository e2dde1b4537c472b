//! Streamed chains: a linear chain of item-wise nodes (see [`ItemWise`]) runs as a pipeline of
//! bounded chunks (`SLUICE_STREAM`, `SLUICE_STREAM_CHUNK_ITEMS`), so that no node of it holds its
//! whole input or output at once, and ends with the outputs, paired items and run data (counts,
//! timings, and the items as the run data keeps them) that one run per node on all items gives.
//! A chain may end with a sink ([`ItemWise::Sink`]: a node folding all of its input into its
//! outputs, like Convert to File writing CSV), which is pushed every chunk and finished once the
//! chain has run to the end. A reordering sink ([`ItemWise::Reorder`]: Sort) is pushed every
//! chunk the same way and, once its input has run out, finished into a stream that the rest of
//! the chain pulls a chunk at a time, as it would a source's.
//!
//! A chain streams only where that equality holds: in v1 order (where a chain's nodes run one
//! after the other anyway), through nodes that fail the workflow on an error and run once per
//! input (no retries, `executeOnce`, `alwaysOutputData`, pins or disabled nodes), and in
//! workflows whose expressions and code read no item but their own (`$('X')`, `$node`,
//! `$input.all()`, `$itemIndex`, ...: those need whole runs). A chunk that fails stops the chain:
//! the nodes after the failing one have then already run on the earlier chunks, which a run on
//! all items would not have done.

use super::build::{any_text, BuiltNode};
use super::paired_items::assign_paired_items;
use super::run_loop::{Entry, Run};
use crate::context::{Counters, ExecuteContext};
use crate::node::{ItemSink, ItemSource, ItemWise, Node, SinkOutput};
use crate::options::StreamMode;
use crate::registry::NodeKind;
use crate::run_data::{keep_first, NodeProfile, TaskData, TaskError};
use crate::{NodeError, NodeProgress};
use futures_util::{StreamExt, TryStreamExt};
use indexmap::IndexMap;
use sluice_model::{ExecutionOrder, Item, OnError, PairedItem, PairedItems, SourceRef, Workflow};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

/// Text in expressions or code that reads other items than the current one, or other nodes'
/// data: a workflow holding any of it never streams.
const READS_ACROSS_ITEMS: &[&str] = &[
    "$(",
    "$node",
    "$items",
    "$item(",
    "$input.all",
    "$input.first",
    "$input.last",
    "$itemIndex",
];

/// What the build knows about streaming, per node.
pub(super) struct StreamPlan {
    /// The node may be part of a streamed chain.
    member: Vec<bool>,
    /// (output, child) when the node's only connection goes to input 0 of a node fed by
    /// nothing else.
    next: Vec<Option<(usize, usize)>>,
}

impl StreamPlan {
    pub(super) fn build(
        workflow: &Workflow,
        nodes: &[BuiltNode],
        index: &HashMap<String, usize>,
        incoming: &[Vec<(usize, usize, usize)>],
    ) -> Self {
        let streams = !workflow.nodes.iter().any(|def| {
            any_text(&def.parameters, &mut |s| {
                READS_ACROSS_ITEMS.iter().any(|p| s.contains(p))
            })
        });
        let member = workflow
            .nodes
            .iter()
            .zip(nodes)
            .map(|(def, built)| {
                streams
                    && built.node.is_some()
                    && built.kind == NodeKind::Regular
                    && built.item_wise != ItemWise::Barrier
                    && built.inputs == 1
                    && !def.disabled
                    && !def.execute_once
                    && !def.always_output_data
                    && def.error_policy() == OnError::StopWorkflow
                    && def.tries() == 1
            })
            .collect();
        let next = workflow
            .nodes
            .iter()
            .map(|def| {
                let mut connections = workflow
                    .main_outputs(&def.name)
                    .iter()
                    .enumerate()
                    .flat_map(|(output, targets)| {
                        targets.iter().flatten().map(move |c| (output, c))
                    });
                let (output, conn) = connections.next()?;
                if connections.next().is_some() || conn.index != 0 {
                    return None;
                }
                let child = *index.get(&conn.node)?;
                (incoming[child].len() == 1).then_some((output, child))
            })
            .collect();
        StreamPlan { member, next }
    }
}

/// One node of a streamed chain: what it has done so far.
struct Stage {
    node: usize,
    run_index: usize,
    source: Option<SourceRef>,
    /// The output feeding the next stage.
    link_output: usize,
    /// What is left of a [`ItemWise::FirstItems`] cap.
    cap: Option<usize>,
    /// An [`ItemWise::Sink`] node's sink, from its first chunk until it is finished.
    sink: Option<Box<dyn ItemSink>>,
    items_in: usize,
    items_out: usize,
    /// Output items as the run data keeps them.
    kept: Vec<Vec<Item>>,
    sampled: bool,
    chunks: usize,
    start_time: Option<i64>,
    execution_ms: u64,
    duration_ns: u64,
    counters: IndexMap<&'static str, u64>,
    /// A source stage's counters, which its stream adds to as it is pulled.
    source_counters: Option<Counters>,
    hints: Vec<String>,
    logs: Vec<String>,
}

impl Stage {
    /// Add what a call of the node, or a pull of its source, counted to the stage's run.
    fn add_counts(&mut self, counts: Vec<(&'static str, u64)>) {
        for (name, n) in counts {
            *self.counters.entry(name).or_default() += n;
        }
    }
}

/// What a stage's node is asked to do with a chunk.
#[derive(Clone, Copy)]
enum Call {
    /// Run [`crate::Node::execute`] on it.
    Execute,
    /// Give its output as an item source ([`crate::Node::item_source`]).
    Source,
    /// Push it to the node's sink, made on the first chunk ([`crate::Node::sink`]).
    Push,
}

/// What a call of a stage's node gave.
enum StageOut {
    Outputs(Vec<Vec<Item>>),
    Source(Option<ItemSource>),
    /// The chunk went into the sink; outputs come when it is finished.
    Pushed,
}

/// The next chunk of a source stage's output (empty once it is read to the end).
async fn pull(
    stage: &mut Stage,
    source: &mut ItemSource,
    chunk_items: usize,
) -> Result<Vec<Vec<Item>>, NodeError> {
    let wall = Instant::now();
    let items: Result<Vec<Item>, NodeError> = source.by_ref().take(chunk_items).try_collect().await;
    let elapsed = wall.elapsed();
    stage.duration_ns += elapsed.as_nanos() as u64;
    stage.execution_ms += elapsed.as_millis() as u64;
    if let Some(counters) = &stage.source_counters {
        stage.add_counts(counters.take());
    }
    let items = items?;
    if !items.is_empty() {
        stage.chunks += 1;
        stage.items_out += items.len();
    }
    Ok(vec![items])
}

/// Push `ctx`'s chunk to `sink`, which `node` makes on the first chunk.
async fn push(
    node: &dyn Node,
    sink: &mut Option<Box<dyn ItemSink>>,
    ctx: &ExecuteContext<'_>,
) -> Result<StageOut, NodeError> {
    let mut current = match sink.take() {
        Some(current) => current,
        None => node.sink(ctx).await?,
    };
    let pushed = current.push(ctx).await;
    *sink = Some(current);
    pushed.map(|()| StageOut::Pushed)
}

impl Run<'_> {
    /// The chain of nodes `entry` starts, when it should stream.
    pub(super) fn stream_chain(&self, entry: &Entry) -> Option<Vec<usize>> {
        let streaming = self.options.streaming;
        let [input] = entry.inputs.as_slice() else {
            return None;
        };
        let large = input.len() > streaming.chunk_items.max(1)
            || self.wf.nodes[entry.node].item_wise == ItemWise::Source;
        let wanted = match streaming.mode {
            StreamMode::Off => false,
            StreamMode::On => !input.is_empty(),
            StreamMode::Auto => large && !input.is_empty(),
        };
        if !wanted || self.order != ExecutionOrder::V1 || !self.may_stream(entry.node) {
            return None;
        }
        let mut chain = vec![entry.node];
        while let Some((_, next)) = self.wf.stream_plan.next[chain[chain.len() - 1]] {
            let ends = self.wf.nodes[chain[chain.len() - 1]].item_wise == ItemWise::Sink;
            if ends || chain.contains(&next) || !self.may_stream(next) {
                break;
            }
            chain.push(next);
        }
        Some(chain)
    }

    fn may_stream(&self, node: usize) -> bool {
        let pinned = self.options.use_pin_data
            && self
                .wf
                .workflow
                .pin_data
                .as_ref()
                .is_some_and(|pins| pins.contains_key(&self.wf.workflow.nodes[node].name));
        self.wf.stream_plan.member[node] && !pinned
    }

    /// Run `chain` (from [`Run::stream_chain`]) on `entry`'s items, one chunk at a time through
    /// every node, then record each node's run and queue the last node's children.
    pub(super) async fn run_chain(
        &mut self,
        entry: Entry,
        chain: Vec<usize>,
    ) -> Result<(), NodeError> {
        let mut stages = self.stages(&chain, entry.sources.into_iter().next().flatten());
        let last = stages.len() - 1;
        let last_name = &self.wf.workflow.nodes[stages[last].node].name;
        // The last node's children need all of its items.
        let collect_last = self
            .wf
            .workflow
            .main_outputs(last_name)
            .iter()
            .any(|targets| targets.iter().flatten().next().is_some());
        let mut last_outputs: Vec<Vec<Item>> = Vec::new();
        // The configured size, or more when a node of the chain asks for more.
        let chunk_items = chain
            .iter()
            .map(|&node| self.wf.nodes[node].stream_chunk_items)
            .fold(self.options.streaming.chunk_items, usize::max)
            .max(1);
        let mut input = entry
            .inputs
            .into_iter()
            .next()
            .unwrap_or_default()
            .into_iter();
        let mut failed = None;
        let mut source = None;
        if self.wf.nodes[stages[0].node].item_wise == ItemWise::Source {
            let all: Vec<Item> = input.collect();
            match self
                .call_stage(&mut stages[0], all.clone(), Call::Source)
                .await
            {
                Ok(StageOut::Source(found)) => source = found,
                Ok(_) => unreachable!("asked for a source"),
                Err(e) => failed = Some((0, e)),
            }
            if source.is_none() && failed.is_none() {
                // It runs chunk by chunk after all: its items are counted as they come.
                stages[0].items_in = 0;
            }
            input = all.into_iter();
        }
        // The stage the chunks start at: the head, then a reordering sink once it is finished
        // (its output then being `source`).
        let mut from = 0;
        while failed.is_none() {
            let mut items: Vec<Item> = match source {
                Some(_) => Vec::new(),
                None => input.by_ref().take(chunk_items).collect(),
            };
            let mut exhausted = source.is_none() && input.len() == 0;
            for (j, stage) in stages.iter_mut().enumerate().skip(from) {
                let result = match &mut source {
                    Some(source) if j == from => match pull(stage, source, chunk_items).await {
                        Ok(outputs) => self
                            .chunk_done(stage.node, 0, &outputs)
                            .map(|()| Some(outputs)),
                        Err(e) => Err(e),
                    },
                    _ if items.is_empty() => break,
                    _ => self.run_stage(stage, std::mem::take(&mut items)).await,
                };
                let mut outputs = match result {
                    Ok(Some(outputs)) => outputs,
                    // A sink took the chunk.
                    Ok(None) => break,
                    Err(e) => {
                        failed = Some((j, e));
                        break;
                    }
                };
                if j == from && source.is_some() && outputs[0].is_empty() {
                    exhausted = true;
                    break;
                }
                if j == last && collect_last {
                    last_outputs.resize_with(outputs.len(), Vec::new);
                    for (all, chunk) in last_outputs.iter_mut().zip(outputs) {
                        all.extend(chunk);
                    }
                    break;
                }
                for (kept, chunk) in stage.kept.iter_mut().zip(&outputs) {
                    stage.sampled |= keep_first(kept, chunk, self.options.run_data_max_items);
                }
                if j < last {
                    items = std::mem::take(&mut outputs[stage.link_output]);
                }
            }
            if !exhausted || failed.is_some() {
                continue;
            }
            // The chunks stopped at the first sink with items, if any: finish it.
            let Some((at, sink)) =
                (from..stages.len()).find_map(|j| stages[j].sink.take().map(|sink| (j, sink)))
            else {
                break;
            };
            match self.finish_sink(&mut stages[at], sink).await {
                Ok(SinkOutput::Stream(stream)) => {
                    source = Some(stream);
                    from = at;
                }
                Ok(SinkOutput::Outputs(_)) if at != last => {
                    let e =
                        NodeError::new("a sink before the end of a streamed chain gave no stream");
                    failed = Some((at, e));
                }
                Ok(SinkOutput::Outputs(outputs)) if collect_last => last_outputs = outputs,
                Ok(SinkOutput::Outputs(outputs)) => {
                    let (kept, sampled) = self.run_data_outputs(stages[at].node, outputs);
                    stages[at].kept = kept;
                    stages[at].sampled = sampled;
                }
                Err(e) => failed = Some((at, e)),
            }
        }
        self.record_chain(stages, failed, collect_last.then_some(last_outputs))
    }

    /// The stages of `chain`, each with its run index and the source of its input.
    fn stages(&self, chain: &[usize], head_source: Option<SourceRef>) -> Vec<Stage> {
        let mut stages: Vec<Stage> = Vec::with_capacity(chain.len());
        for &node in chain {
            let built = &self.wf.nodes[node];
            let name = &self.wf.workflow.nodes[node].name;
            let source = match stages.last() {
                None => head_source.clone(),
                Some(prev) => Some(SourceRef {
                    previous_node: self.wf.workflow.nodes[prev.node].name.clone(),
                    previous_node_output: prev.link_output,
                    previous_node_run: prev.run_index,
                }),
            };
            stages.push(Stage {
                node,
                run_index: self.run_data.run_count(name),
                source,
                link_output: self.wf.stream_plan.next[node].map_or(0, |(output, _)| output),
                cap: match built.item_wise {
                    ItemWise::FirstItems(n) => Some(n),
                    _ => None,
                },
                sink: None,
                items_in: 0,
                items_out: 0,
                kept: vec![Vec::new(); built.outputs.max(1)],
                sampled: false,
                chunks: 0,
                start_time: None,
                execution_ms: 0,
                duration_ns: 0,
                counters: IndexMap::new(),
                source_counters: None,
                hints: Vec::new(),
                logs: Vec::new(),
            });
        }
        stages
    }

    /// Run one stage on one chunk: its outputs with paired items counted over the whole input
    /// (`None` for a sink, which took the chunk and gives its outputs when finished).
    async fn run_stage(
        &mut self,
        stage: &mut Stage,
        items: Vec<Item>,
    ) -> Result<Option<Vec<Vec<Item>>>, NodeError> {
        let offset = stage.items_in;
        let len = items.len();
        stage.chunks += 1;
        let call = match self.wf.nodes[stage.node].item_wise {
            ItemWise::Sink | ItemWise::Reorder => Call::Push,
            _ => Call::Execute,
        };
        let result = self.call_stage(stage, items, call).await;
        let outputs = match result.map_err(|mut e| {
            e.item_index = e.item_index.map(|i| i + offset);
            e
        })? {
            StageOut::Outputs(outputs) => outputs,
            StageOut::Pushed => {
                self.chunk_done(stage.node, len, &[])?;
                return Ok(None);
            }
            StageOut::Source(_) => unreachable!("asked for outputs"),
        };
        self.stage_outputs(stage, outputs, len, offset, len)
            .map(Some)
    }

    /// A stage's outputs for its `len` input items from `offset`: padded to the node's outputs,
    /// paired to those items, capped (Limit), counted as the stage's output, and reported with
    /// `items_in` items in (see [`Run::chunk_done`]: progress and the memory budget).
    fn stage_outputs(
        &mut self,
        stage: &mut Stage,
        mut outputs: Vec<Vec<Item>>,
        len: usize,
        offset: usize,
        items_in: usize,
    ) -> Result<Vec<Vec<Item>>, NodeError> {
        outputs.resize_with(self.wf.nodes[stage.node].outputs.max(1), Vec::new);
        for output in &mut outputs {
            assign_paired_items(output, len, 0);
            for item in output.iter_mut() {
                item.paired_item.shift(offset);
            }
        }
        if let Some(cap) = &mut stage.cap {
            outputs[0].truncate(*cap);
            *cap -= outputs[0].len();
        }
        stage.items_out += outputs.iter().map(Vec::len).sum::<usize>();
        self.chunk_done(stage.node, items_in, &outputs)?;
        Ok(outputs)
    }

    /// Finish a sink stage's sink, its time counted: a stream as it gives it (to be pulled as
    /// the stage's output), or its outputs for all of its input, paired items filled in over the
    /// whole input, reported and charged.
    async fn finish_sink(
        &mut self,
        stage: &mut Stage,
        sink: Box<dyn ItemSink>,
    ) -> Result<SinkOutput, NodeError> {
        let start_time = self.options.clock.now().timestamp_millis();
        let wall = Instant::now();
        let result = sink.finish().await;
        self.count_time(stage, start_time, wall);
        match result? {
            SinkOutput::Outputs(outputs) => {
                let items_in = stage.items_in;
                self.stage_outputs(stage, outputs, items_in, 0, 0)
                    .map(SinkOutput::Outputs)
            }
            stream => Ok(stream),
        }
    }

    /// Call `stage`'s node on `items` as `call` asks, counting them as its input and keeping its
    /// state, logs, counters, hints and time.
    async fn call_stage(
        &mut self,
        stage: &mut Stage,
        mut items: Vec<Item>,
        call: Call,
    ) -> Result<StageOut, NodeError> {
        let wf = self.wf;
        let def = &wf.workflow.nodes[stage.node];
        let built = &wf.nodes[stage.node];
        let node = built.node.as_deref().expect("chain nodes are built");
        let len = items.len();
        for (i, item) in items.iter_mut().enumerate() {
            item.paired_item = PairedItems::one(PairedItem::with_input(i, 0));
        }
        let start_time = self.options.clock.now().timestamp_millis();
        if stage.start_time.is_none() {
            stage.start_time = Some(start_time);
            self.report(NodeProgress::Started { node: &def.name });
        }
        let wall = Instant::now();
        if matches!(call, Call::Execute) && stage.cap != Some(0) && node.passes_input_through() {
            stage.items_in += len;
            self.count_time(stage, start_time, wall);
            return Ok(StageOut::Outputs(vec![items]));
        }
        let credentials = self.node_credentials(stage.node).await;
        let state = self.states.remove(&stage.node).unwrap_or_default();
        let shared = self.shared();
        let inputs = [items];
        let ctx = ExecuteContext {
            shared: &shared,
            node: def,
            params: &built.params,
            inputs: &inputs,
            sources: vec![stage.source.clone()],
            main_input: 0,
            run_index: stage.run_index,
            first_item: stage.items_in,
            continue_on_fail: false,
            state: Mutex::new(state),
            logs: Mutex::new(Vec::new()),
            credentials,
            counters: Counters::default(),
            hints: Mutex::new(Vec::new()),
        };
        let result = match (call, stage.cap) {
            (Call::Source, _) => {
                stage.source_counters = Some(ctx.counters());
                node.item_source(&ctx).await.map(StageOut::Source)
            }
            (Call::Push, _) => push(node, &mut stage.sink, &ctx).await,
            (Call::Execute, Some(0)) => Ok(StageOut::Outputs(Vec::new())),
            (Call::Execute, _) => node.execute(&ctx).await.map(StageOut::Outputs),
        };
        let state = ctx.state.into_inner().expect("node state");
        stage.logs.extend(ctx.logs.into_inner().expect("node logs"));
        stage.add_counts(ctx.counters.take());
        for hint in ctx.hints.into_inner().expect("node hints") {
            if !stage.hints.contains(&hint) {
                stage.hints.push(hint);
            }
        }
        self.states.insert(stage.node, state);
        stage.items_in += len;
        self.count_time(stage, start_time, wall);
        result
    }

    /// Count the time since `start_time` (on the execution's clock) and `wall` as `stage`'s.
    fn count_time(&self, stage: &mut Stage, start_time: i64, wall: Instant) {
        stage.duration_ns += wall.elapsed().as_nanos() as u64;
        let elapsed_ms = (self.options.clock.now().timestamp_millis() - start_time).max(0);
        stage.execution_ms += elapsed_ms as u64;
    }

    /// Record the run of every stage that got items (the failing one last; not a sink left
    /// unfinished by a failure before it), then queue the last node's children with
    /// `last_outputs` (all its items) when the chain ran to the end.
    fn record_chain(
        &mut self,
        stages: Vec<Stage>,
        failed: Option<(usize, NodeError)>,
        last_outputs: Option<Vec<Vec<Item>>>,
    ) -> Result<(), NodeError> {
        let last = stages.len() - 1;
        let mut failed_task = None;
        let mut last_outputs = last_outputs;
        for (j, stage) in stages.into_iter().enumerate() {
            let fails_here = matches!(&failed, Some((f, _)) if *f == j);
            if stage.items_in == 0 || (stage.sink.is_some() && !fails_here) {
                continue;
            }
            let name = self.wf.workflow.nodes[stage.node].name.clone();
            self.logs
                .extend(stage.logs.iter().map(|l| (name.clone(), l.clone())));
            let node = stage.node;
            let run_index = stage.run_index;
            let mut task = self.stage_task(stage);
            if fails_here {
                let (_, e) = failed.as_ref().expect("failed stage");
                let e = e.clone().with_node(&name);
                task.success = false;
                task.error = Some(TaskError::new(&e, name));
                task.data = None;
                failed_task = Some((node, task));
            } else if j == last && last_outputs.is_some() {
                let outputs = last_outputs.take().expect("last outputs");
                if failed.is_some() {
                    let (data, sampled) = self.run_data_outputs(node, outputs);
                    task.profile.sampled = sampled;
                    task.data = Some(data);
                    self.record(node, task);
                } else {
                    self.finish(node, run_index, task, Some(outputs))?;
                }
            } else {
                self.record(node, task);
            }
        }
        match (failed, failed_task) {
            (Some((_, e)), Some((node, task))) => {
                let e = e.with_node(&self.wf.workflow.nodes[node].name);
                self.record(node, task);
                Err(e)
            }
            _ => Ok(()),
        }
    }

    /// The task data of a stage's run, its items as the run data keeps them.
    fn stage_task(&mut self, stage: Stage) -> TaskData {
        let execution_index = self.execution_index;
        self.execution_index += 1;
        TaskData {
            start_time: stage.start_time.unwrap_or_default(),
            execution_time: stage.execution_ms,
            execution_index,
            success: true,
            source: vec![stage.source],
            data: Some(stage.kept),
            error: None,
            profile: NodeProfile {
                items_in: stage.items_in,
                items_out: stage.items_out,
                duration_ns: stage.duration_ns,
                retries: 0,
                counters: stage.counters,
                hints: stage.hints,
                sampled: stage.sampled,
                chunks: stage.chunks,
            },
        }
    }
}
