//! Merge v1's modes: append, keep/remove key matches, merge by index, merge by key, multiplex,
//! pass-through and wait. Keys are read with dot notation and compared by their text, and
//! merged items take input 2's fields over input 1's.

use super::config::{IndexJoin, Legacy, Overwrite};
use crate::util::path;
use sluice_expr::json_js;
use sluice_model::{Item, ItemJson};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

impl Legacy {
    pub(super) fn run(&self, in1: &[Item], in2: &[Item]) -> Vec<Item> {
        match self {
            Legacy::Append => [in1, in2].concat(),
            Legacy::KeyMatches { keep, key1, key2 } => {
                let keys: HashSet<String> = in2.iter().filter_map(|item| key(item, key2)).collect();
                in1.iter()
                    .filter(|item| key(item, key1).is_some_and(|k| keys.contains(&k)) == *keep)
                    .cloned()
                    .collect()
            }
            Legacy::ByIndex(join) => by_index(*join, in1, in2),
            Legacy::ByKey {
                key1,
                key2,
                overwrite,
            } => {
                let by_key: HashMap<String, &Item> = in2
                    .iter()
                    .filter_map(|item| Some((key(item, key2)?, item)))
                    .collect();
                in1.iter()
                    .map(|item| match key(item, key1).and_then(|k| by_key.get(&k)) {
                        Some(other) => overlay(item, other, *overwrite),
                        None => item.clone(),
                    })
                    .collect()
            }
            Legacy::Multiplex => in1
                .iter()
                .flat_map(|a| in2.iter().map(move |b| overlay(a, b, Overwrite::Always)))
                .collect(),
            Legacy::PassThrough(input) => [in1, in2][*input].to_vec(),
            Legacy::Wait => vec![super::empty_item(&[in1, in2])],
        }
    }
}

/// The text of an item's key field (missing keys never match).
fn key(item: &Item, field: &str) -> Option<String> {
    path::get(&item.json, field).map(json_js::to_js_string)
}

fn by_index(join: IndexJoin, in1: &[Item], in2: &[Item]) -> Vec<Item> {
    let count = match join {
        IndexJoin::Inner => in1.len().min(in2.len()),
        IndexJoin::Left => in1.len(),
        IndexJoin::Outer => in1.len().max(in2.len()),
    };
    (0..count)
        .map(|i| match (in1.get(i), in2.get(i)) {
            (Some(a), Some(b)) => overlay(a, b, Overwrite::Always),
            (Some(only), None) | (None, Some(only)) => only.clone(),
            (None, None) => unreachable!("count is bounded by the longer input"),
        })
        .collect()
}

/// Input 1's item with input 2's top-level fields (and binaries) copied over, per `overwrite`.
fn overlay(base: &Item, other: &Item, overwrite: Overwrite) -> Item {
    let mut json: ItemJson = base.json.as_ref().clone();
    for (k, v) in other.json.iter() {
        let write = match overwrite {
            Overwrite::Always => true,
            Overwrite::IfMissing => !json.contains_key(k),
            Overwrite::IfBlank => json
                .get(k)
                .is_none_or(|v| v.is_null() || v.as_str() == Some("")),
        };
        if write {
            json.insert(k.clone(), v.clone());
        }
    }
    let binary = match (&base.binary, &other.binary) {
        (Some(a), Some(b)) => {
            let mut merged = a.as_ref().clone();
            merged.extend(b.iter().map(|(k, v)| (k.clone(), v.clone())));
            Some(Arc::new(merged))
        }
        (a, b) => a.clone().or_else(|| b.clone()),
    };
    Item {
        json: Arc::new(json),
        binary,
        paired_item: base
            .paired_item
            .iter()
            .chain(other.paired_item.iter())
            .collect(),
    }
}
