//! Sort by fields in a streamed chain, in bounded memory: items are held as their chunks arrive
//! up to `SLUICE_SORT_MEMORY_MB` ([`sluice_engine::Streaming::sort_memory_bytes`], estimated as
//! the execution memory budget counts items); past it, the held items are sorted and written to
//! a temporary file as one sorted run (a JSON array per line: the item's index in the whole
//! input, its `json`, its `binary`). At the end the runs and the items still held are merged
//! into one stream, which the engine pulls a chunk at a time.
//!
//! Each run is sorted stably and the merge always takes the least item by (sort keys, index in
//! the input), so the output is the order a stable sort of the whole input gives: item for
//! item what a run on all items outputs, each item paired with its input item. The temporary
//! files have no name (`tempfile::tempfile`, under the system's temporary directory, `TMPDIR`),
//! so they go once the sort is finished or dropped, whatever ended it.

use super::SortKeys;
use futures_util::stream::{self, StreamExt};
use sluice_engine::{item_bytes, ExecuteContext, ItemSink, NodeError, SinkOutput};
use sluice_model::{Item, ItemJson, JsonObject, PairedItem, PairedItems};
use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Seek, SeekFrom, Write};
use std::sync::Arc;

/// One item of a sorted run as its file holds it: index in the input, `json`, `binary`.
type SpilledItem = (usize, ItemJson, Option<JsonObject>);

/// A sort by fields fed a chunk at a time (see the module docs).
pub(super) struct SpillingSort {
    keys: Arc<SortKeys>,
    /// The most bytes of items held before they are spilled.
    budget: u64,
    held: Vec<Indexed>,
    held_bytes: u64,
    /// Files of sorted runs, each read from its start.
    runs: Vec<File>,
    /// Items pushed so far: the next one's index in the whole input.
    pushed: usize,
}

/// An item and its index in the whole input.
struct Indexed {
    index: usize,
    item: Item,
}

impl Indexed {
    /// The output item: paired with its input item.
    fn into_output(self) -> Item {
        let mut item = self.item;
        item.paired_item = PairedItems::one(PairedItem::new(self.index));
        item
    }
}

impl SpillingSort {
    pub(super) fn new(keys: SortKeys, budget: u64) -> Self {
        SpillingSort {
            keys: Arc::new(keys),
            budget,
            held: Vec::new(),
            held_bytes: 0,
            runs: Vec::new(),
            pushed: 0,
        }
    }

    /// Sort the held items (stable: they were pushed in input order).
    fn sort_held(&mut self) {
        let keys = &self.keys;
        self.held
            .sort_by(|a, b| keys.order(&a.item.json, &b.item.json));
    }

    /// Hold `items`, the next ones of the input, spilling a sorted run whenever the held items
    /// go over the budget: how many runs were spilled, and how many items they hold.
    fn hold(&mut self, items: &[Item]) -> io::Result<(u64, u64)> {
        let (mut runs, mut spilled) = (0, 0);
        for item in items {
            self.held_bytes += item_bytes(item);
            self.held.push(Indexed {
                index: self.pushed,
                item: item.clone(),
            });
            self.pushed += 1;
            if self.held_bytes > self.budget {
                spilled += self.held.len() as u64;
                runs += 1;
                self.spill()?;
            }
        }
        Ok((runs, spilled))
    }

    /// Write the held items to a new temporary file as a sorted run, holding none after.
    fn spill(&mut self) -> io::Result<()> {
        self.sort_held();
        let mut out = BufWriter::new(tempfile::tempfile()?);
        for Indexed { index, item } in self.held.drain(..) {
            serde_json::to_writer(&mut out, &(index, &*item.json, item.binary.as_deref()))?;
            out.write_all(b"\n")?;
        }
        let mut file = out.into_inner().map_err(io::IntoInnerError::into_error)?;
        file.seek(SeekFrom::Start(0))?;
        self.runs.push(file);
        self.held_bytes = 0;
        Ok(())
    }
}

fn spill_error(e: impl std::fmt::Display) -> NodeError {
    NodeError::new(format!(
        "could not spill sorted items to a temporary file: {e}"
    ))
}

#[async_trait::async_trait]
impl ItemSink for SpillingSort {
    async fn push(&mut self, ctx: &ExecuteContext<'_>) -> Result<(), NodeError> {
        let (runs, items) = self.hold(ctx.main_input()).map_err(spill_error)?;
        if runs > 0 {
            ctx.count("spilledRuns", runs);
            ctx.count("spilledItems", items);
        }
        Ok(())
    }

    async fn finish(mut self: Box<Self>) -> Result<SinkOutput, NodeError> {
        self.sort_held();
        let held = self.held.into_iter();
        if self.runs.is_empty() {
            let items = held.map(|indexed| Ok(indexed.into_output()));
            return Ok(SinkOutput::Stream(stream::iter(items).boxed()));
        }
        let mut runs: Vec<Run> = self.runs.into_iter().map(Run::spilled).collect();
        runs.push(Run::Held(held));
        let merge = Merge::new(self.keys, runs).map_err(spill_error)?;
        Ok(SinkOutput::Stream(stream::iter(merge).boxed()))
    }
}

/// A sorted run being merged.
enum Run {
    Held(std::vec::IntoIter<Indexed>),
    Spilled(
        serde_json::StreamDeserializer<
            'static,
            serde_json::de::IoRead<BufReader<File>>,
            SpilledItem,
        >,
    ),
}

impl Run {
    fn spilled(file: File) -> Run {
        Run::Spilled(serde_json::Deserializer::from_reader(BufReader::new(file)).into_iter())
    }

    /// The run's next item.
    fn next(&mut self) -> Result<Option<Indexed>, serde_json::Error> {
        match self {
            Run::Held(items) => Ok(items.next()),
            Run::Spilled(items) => {
                Ok(items
                    .next()
                    .transpose()?
                    .map(|(index, json, binary)| Indexed {
                        index,
                        item: Item {
                            json: Arc::new(json),
                            binary: binary.map(Arc::new),
                            ..Item::default()
                        },
                    }))
            }
        }
    }
}

/// The least item of one run not yet output, ordered so that the greatest head is the least item
/// (a [`BinaryHeap`] of them pops the next item of the merge).
struct Head {
    next: Indexed,
    run: usize,
    keys: Arc<SortKeys>,
}

impl Ord for Head {
    fn cmp(&self, other: &Self) -> Ordering {
        self.keys
            .order(&other.next.item.json, &self.next.item.json)
            .then(other.next.index.cmp(&self.next.index))
    }
}

impl PartialOrd for Head {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Head {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other).is_eq()
    }
}

impl Eq for Head {}

/// The k-way merge of sorted runs: their items, least first, until they are all read or one
/// fails to read (its error is the last item).
struct Merge {
    keys: Arc<SortKeys>,
    runs: Vec<Run>,
    heads: BinaryHeap<Head>,
    failed: bool,
}

impl Merge {
    fn new(keys: Arc<SortKeys>, mut runs: Vec<Run>) -> Result<Self, serde_json::Error> {
        let mut heads = BinaryHeap::with_capacity(runs.len());
        for (run, items) in runs.iter_mut().enumerate() {
            if let Some(next) = items.next()? {
                heads.push(Head {
                    next,
                    run,
                    keys: keys.clone(),
                });
            }
        }
        Ok(Merge {
            keys,
            runs,
            heads,
            failed: false,
        })
    }
}

impl Iterator for Merge {
    type Item = Result<Item, NodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let Head { next, run, .. } = self.heads.pop()?;
        match self.runs[run].next() {
            Ok(Some(following)) => self.heads.push(Head {
                next: following,
                run,
                keys: self.keys.clone(),
            }),
            Ok(None) => {}
            Err(e) => {
                self.failed = true;
                return Some(Err(spill_error(e)));
            }
        }
        Some(Ok(next.into_output()))
    }
}

#[cfg(test)]
mod tests {
    use super::super::SortField;
    use super::*;
    use serde_json::json;

    fn keys() -> SortKeys {
        let field = |name: &str, descending| SortField {
            name: name.into(),
            descending,
        };
        SortKeys {
            fields: vec![field("k", false), field("m.n", true)],
            dot: true,
        }
    }

    /// Runs spilled from chunks merge into what a stable sort of all items gives, `binary`
    /// and paired items included.
    #[tokio::test]
    async fn spilled_runs_merge_into_the_stable_order_with_binary_data() {
        let items: Vec<Item> = (0..300)
            .map(|i| {
                let mut item = Item::from_value(json!({"i": i, "k": i % 7, "m": {"n": i % 4}}));
                if i % 3 == 0 {
                    let data = json!({"data": {"data": "QUJD", "mimeType": "text/plain",
                                                "fileName": format!("f{i}.txt")}});
                    item.binary = data.as_object().cloned().map(Arc::new);
                }
                item
            })
            .collect();
        let mut sort = SpillingSort::new(keys(), 4_000);
        let mut runs = 0;
        for chunk in items.chunks(17) {
            runs += sort.hold(chunk).expect("spilled").0;
        }
        assert!(runs >= 3, "{runs} runs");
        let sorted = Box::new(sort).finish().await.expect("merged");
        let merged = sorted.into_outputs().await.expect("read").remove(0);
        let mut expected: Vec<Item> = items
            .into_iter()
            .enumerate()
            .map(|(index, mut item)| {
                item.paired_item = PairedItems::one(PairedItem::new(index));
                item
            })
            .collect();
        expected.sort_by(|a, b| keys().order(&a.json, &b.json));
        assert_eq!(merged, expected);
    }
}
