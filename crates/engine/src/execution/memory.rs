//! The execution memory budget (`SLUICE_EXECUTION_MEMORY_MB`): an estimate of the bytes of the
//! items one execution holds, so that an execution growing past its share fails, naming the node
//! whose output took it over, instead of taking the process and every other execution with it.
//!
//! Items are counted when a node run (or a chunk of a streamed run) outputs them, by their `json`
//! and `binary` objects (see [`item_bytes`]: text by its length, values and map entries by their
//! size in memory, an item's keys not at all as items of one shape share them; binary data kept
//! inline is base64 text and counts, binary data on disk is an `id` and does not). A map counts once however many places hold it (the run data, the inputs
//! of children waiting to run, Merge slots, a streamed chain's collected output, nodes passing
//! items through), and stops counting when the last of them drops it: the ledger keeps a
//! [`Weak`] to each map it counted, which tells both, so the places that hold and drop items
//! need no bookkeeping. Nothing else takes weak references to items' maps, so a map with one is
//! already counted (by this execution, or by another one sharing it, such as pinned data).
//!
//! Not counted: what a node holds while it runs (a sort's buffers, a JavaScript heap, a response
//! being read) until it outputs it. The budget is checked after each node run and each chunk of
//! a streamed run, so one node building a huge output is caught when it returns.

use super::run_loop::Run;
use crate::options::MEMORY_BUDGET_VAR;
use crate::NodeError;
use sluice_model::{Item, ItemJson, JsonObject, Value};
use std::any::Any;
use std::mem::size_of;
use std::sync::{Arc, Weak};

/// Dropped maps are looked for once the ledger has this many entries, or twice as many as it
/// kept at its last sweep, whichever is more (and whenever the budget looks exceeded).
const MIN_SWEEP_ENTRIES: usize = 4096;

/// The budget's unit.
const MB: u64 = 1024 * 1024;

/// The maps an execution counted and the bytes each was estimated at.
pub(super) struct MemoryLedger {
    /// The budget, in bytes.
    limit: u64,
    /// Bytes of the maps in `maps`, some of which may have been dropped since the last sweep.
    held: u64,
    maps: Vec<(Weak<dyn Any + Send + Sync>, u64)>,
    sweep_at: usize,
}

impl MemoryLedger {
    pub(super) fn new(limit_mb: u64) -> Self {
        MemoryLedger {
            limit: limit_mb.saturating_mul(MB),
            held: 0,
            maps: Vec::new(),
            sweep_at: MIN_SWEEP_ENTRIES,
        }
    }

    /// Count the maps of `outputs` not counted yet; `Err` with the bytes held when the
    /// execution now holds more than its budget.
    fn charge(&mut self, outputs: &[Vec<Item>]) -> Result<(), u64> {
        let counted_before = self.maps.len();
        for item in outputs.iter().flatten() {
            self.count(&item.json, item_json_bytes);
            if let Some(binary) = &item.binary {
                self.count(binary, map_bytes);
            }
        }
        if self.held > self.limit || counted_before >= self.sweep_at {
            self.sweep(counted_before);
        }
        if self.held > self.limit {
            Err(self.held)
        } else {
            Ok(())
        }
    }

    fn count<T: Send + Sync + 'static>(&mut self, shared: &Arc<T>, bytes_of: fn(&T) -> u64) {
        if Arc::weak_count(shared) > 0 {
            return;
        }
        let bytes = bytes_of(shared);
        self.held += bytes;
        let weak: Weak<T> = Arc::downgrade(shared);
        self.maps.push((weak, bytes));
    }

    /// Forget the maps every holder has dropped, looking at the first `looked_at` only: the
    /// maps after them were counted from the outputs being charged, which hold them, and reading
    /// them again would only cost cache misses.
    fn sweep(&mut self, looked_at: usize) {
        let mut held = 0;
        let mut index = 0;
        self.maps.retain(|(map, bytes)| {
            let alive = index >= looked_at || map.strong_count() > 0;
            index += 1;
            if alive {
                held += bytes;
            }
            alive
        });
        self.held = held;
        self.sweep_at = (self.maps.len() * 2).max(MIN_SWEEP_ENTRIES);
    }
}

impl Run<'_> {
    /// Count `outputs` against the execution's memory budget, if it has one; the error (for
    /// the caller to name the node) when they take it over.
    pub(super) fn charge(&mut self, outputs: &[Vec<Item>]) -> Result<(), NodeError> {
        let Some(ledger) = &mut self.memory else {
            return Ok(());
        };
        ledger.charge(outputs).map_err(|held| {
            NodeError::new(format!(
                "execution memory budget of {} MB exceeded (its items take about {} MB; \
                 {MEMORY_BUDGET_VAR})",
                ledger.limit / MB,
                (held + MB / 2) / MB
            ))
        })
    }
}

/// The bytes `item`'s `json` and `binary` maps take in memory, estimated as the budget counts
/// them (for nodes that hold items and keep to a budget of their own, like Sort).
pub fn item_bytes(item: &Item) -> u64 {
    item_json_bytes(&item.json) + item.binary.as_deref().map_or(0, map_bytes)
}

/// The bytes an item's `json` takes in memory, estimated: the object and its values (its keys
/// are shared with the items of the same shape).
fn item_json_bytes(json: &ItemJson) -> u64 {
    (size_of::<ItemJson>() + 2 * size_of::<usize>()) as u64 + values_bytes(json.values())
}

/// The bytes `map` takes in memory, estimated: the map, each entry (key, value, index slot), and
/// what values own beyond themselves (text, array elements, nested maps).
fn map_bytes(map: &JsonObject) -> u64 {
    const ENTRY: usize = size_of::<String>() + size_of::<Value>() + 2 * size_of::<usize>();
    let entries: u64 = map
        .iter()
        .map(|(key, value)| (ENTRY + key.len()) as u64 + owned_bytes(value))
        .sum();
    (size_of::<JsonObject>() + 2 * size_of::<usize>()) as u64 + entries
}

/// The bytes of `values` held side by side (an array's elements, an item's fields).
fn values_bytes<'v>(values: impl Iterator<Item = &'v Value>) -> u64 {
    values
        .map(|value| size_of::<Value>() as u64 + owned_bytes(value))
        .sum()
}

/// The bytes `value` owns outside itself.
fn owned_bytes(value: &Value) -> u64 {
    match value {
        Value::String(text) => text.len() as u64,
        Value::Array(values) => values_bytes(values.iter()),
        Value::Object(map) => map_bytes(map),
        Value::Null | Value::Bool(_) | Value::Number(_) => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn item(value: Value) -> Item {
        Item::from_value(value)
    }

    const MB: u64 = 1024 * 1024;

    #[test]
    fn text_counts_by_its_length_and_structure_by_its_size() {
        let big = item(json!({"text": "x".repeat(MB as usize)}));
        let bytes = item_json_bytes(&big.json);
        assert!((MB..MB + 1024).contains(&bytes), "{bytes}");
        let nested = item(json!({"a": [1, 2, {"b": "xy"}]}));
        assert!(item_json_bytes(&nested.json) > 4 * size_of::<Value>() as u64);
    }

    #[test]
    fn a_map_counts_once_while_held_and_is_released_when_dropped() {
        let mut ledger = MemoryLedger::new(3);
        let big = item(json!({"text": "x".repeat(2 * MB as usize)}));
        let copies = vec![vec![big.clone(), big.clone()], vec![big.clone()]];
        assert_eq!(ledger.charge(&copies), Ok(()));
        assert_eq!(ledger.charge(&[vec![big.clone()]]), Ok(()));
        let other = item(json!({"text": "y".repeat(2 * MB as usize)}));
        let held = ledger.charge(&[vec![other.clone()]]).unwrap_err();
        assert!(held > 4 * MB, "{held}");
        drop((big, copies));
        assert_eq!(ledger.charge(&[vec![other]]), Ok(()));
        assert_eq!(ledger.maps.len(), 1);
    }

    #[test]
    fn binary_data_inline_counts_and_on_disk_does_not() {
        let with_binary = |data: Value| Item {
            binary: Some(Arc::new(
                json!({"data": data}).as_object().expect("object").clone(),
            )),
            ..Item::default()
        };
        let inline = with_binary(json!({"data": "QUJD".repeat(MB as usize / 4)}));
        let on_disk = with_binary(json!({"id": "filesystem-v2:executions/1/abc"}));
        let mut ledger = MemoryLedger::new(1);
        assert_eq!(ledger.charge(&[vec![on_disk]]), Ok(()));
        assert!(ledger.charge(&[vec![inline]]).is_err());
    }
}
