//! v2/v3 "combine": by matching fields (a hash join on the match fields), by position, and all
//! combinations; plus what each does when one input is empty.

use super::clash::Clash;
use super::config::{ByFields, EmptyInputs, Join, OutputFrom};
use crate::util::path;
use sluice_expr::json_js;
use sluice_model::{Item, ItemJson, Value};
use std::collections::HashMap;

/// Clones of `items`.
fn copy(items: &[Item]) -> Vec<Item> {
    items.to_vec()
}

/// v2.0 lets the non-empty input pass when the other is empty, in every combine mode.
pub(super) fn pass_other(
    empty_inputs: EmptyInputs,
    in1: &[Item],
    in2: &[Item],
) -> Option<Vec<Item>> {
    if empty_inputs != EmptyInputs::PassOther {
        return None;
    }
    match (in1.is_empty(), in2.is_empty()) {
        (true, _) => Some(copy(in2)),
        (_, true) => Some(copy(in1)),
        _ => None,
    }
}

/// Combine by position: item k of every input merged; unpaired items kept only if asked.
/// Empty inputs are left out (v2.1+), so a single non-empty input passes through.
pub(super) fn by_position(clash: &Clash, include_unpaired: bool, inputs: &[&[Item]]) -> Vec<Item> {
    let inputs: Vec<(usize, &[Item])> = inputs
        .iter()
        .enumerate()
        .filter(|(_, items)| !items.is_empty())
        .map(|(i, items)| (i + 1, *items))
        .collect();
    if let [(_, only)] = inputs.as_slice() {
        return copy(only);
    }
    let lengths = inputs.iter().map(|(_, items)| items.len());
    let count = match include_unpaired {
        true => lengths.max().unwrap_or(0),
        false => lengths.min().unwrap_or(0),
    };
    (0..count)
        .map(|k| {
            let parts: Vec<(usize, &Item)> = inputs
                .iter()
                .filter_map(|(n, items)| items.get(k).map(|item| (*n, item)))
                .collect();
            match parts.as_slice() {
                [(_, alone)] => (*alone).clone(),
                _ => clash.combine(&parts),
            }
        })
        .collect()
}

/// Every input-1 item combined with every input-2 item. Input 1 drives the outer loop, except
/// when input 1's values win clashes: then input 2 does (as n8n orders it).
pub(super) fn all(clash: &Clash, in1: &[Item], in2: &[Item]) -> Vec<Item> {
    match clash.prefers_first() {
        false => in1
            .iter()
            .flat_map(|a| in2.iter().map(move |b| clash.combine(&[(1, a), (2, b)])))
            .collect(),
        true => in2
            .iter()
            .flat_map(|b| in1.iter().map(move |a| clash.combine(&[(1, a), (2, b)])))
            .collect(),
    }
}

/// The outcome of matching input-1 items (entries) against input-2 items.
struct Matches {
    /// Entry index with the indexes of the items it matched, in input order.
    matched: Vec<(usize, Vec<usize>)>,
    unmatched1: Vec<usize>,
    unmatched2: Vec<usize>,
}

impl ByFields {
    pub(super) fn run(&self, empty_inputs: EmptyInputs, in1: &[Item], in2: &[Item]) -> Vec<Item> {
        if in1.is_empty() || in2.is_empty() {
            if let Some(items) = pass_other(empty_inputs, in1, in2) {
                return items;
            }
            // Nothing can match: what is left is every item of the kept side(s), as it came.
            return match (self.join, self.output) {
                (Join::KeepMatches, _) => Vec::new(),
                (Join::KeepNonMatches, OutputFrom::Input1) | (Join::EnrichInput1, _) => copy(in1),
                (Join::KeepNonMatches, OutputFrom::Input2) | (Join::EnrichInput2, _) => copy(in2),
                (Join::KeepNonMatches | Join::KeepEverything, _) => [in1, in2].concat(),
            };
        }
        if self.join == Join::EnrichInput2 {
            // Enriching input 2 is enriching input 1 with the inputs swapped (clash handling
            // then refers to the swapped order, as in n8n).
            let swapped: Vec<(String, String)> = self
                .pairs
                .iter()
                .map(|(a, b)| (b.clone(), a.clone()))
                .collect();
            let matches = self.find(in2, in1, &swapped);
            return self.enrich(&matches, (2, in2), (1, in1));
        }
        let matches = self.find(in1, in2, &self.pairs);
        let take = |items: &[Item], indexes: &[usize]| -> Vec<Item> {
            indexes.iter().map(|&i| items[i].clone()).collect()
        };
        match (self.join, self.output) {
            (Join::KeepMatches, OutputFrom::Both) => self.merged(&matches, (1, in1), (2, in2)),
            (Join::KeepMatches, OutputFrom::Input1) => matches
                .matched
                .iter()
                .map(|(i, _)| in1[*i].clone())
                .collect(),
            (Join::KeepMatches, OutputFrom::Input2) => matches
                .matched
                .iter()
                .flat_map(|(_, js)| js.iter().map(|&j| in2[j].clone()))
                .collect(),
            (Join::KeepNonMatches, OutputFrom::Input1) => take(in1, &matches.unmatched1),
            (Join::KeepNonMatches, OutputFrom::Input2) => take(in2, &matches.unmatched2),
            (Join::KeepNonMatches, OutputFrom::Both) => {
                let tagged = |items: &[Item], indexes: &[usize], source: &str| -> Vec<Item> {
                    indexes
                        .iter()
                        .map(|&i| {
                            let mut item = items[i].clone();
                            item.json_mut()
                                .insert("_source", Value::String(source.into()));
                            item
                        })
                        .collect()
                };
                [
                    tagged(in1, &matches.unmatched1, "input1"),
                    tagged(in2, &matches.unmatched2, "input2"),
                ]
                .concat()
            }
            (Join::KeepEverything, _) => [
                self.merged(&matches, (1, in1), (2, in2)),
                take(in1, &matches.unmatched1),
                take(in2, &matches.unmatched2),
            ]
            .concat(),
            (Join::EnrichInput1, _) => self.enrich(&matches, (1, in1), (2, in2)),
            (Join::EnrichInput2, _) => unreachable!("handled above"),
        }
    }

    /// Matched entries merged with each of their matches, then the unmatched entries.
    fn enrich(
        &self,
        matches: &Matches,
        entries: (usize, &[Item]),
        others: (usize, &[Item]),
    ) -> Vec<Item> {
        let mut out = self.merged(matches, entries, others);
        out.extend(matches.unmatched1.iter().map(|&i| entries.1[i].clone()));
        out
    }

    fn merged(
        &self,
        matches: &Matches,
        (n1, in1): (usize, &[Item]),
        (n2, in2): (usize, &[Item]),
    ) -> Vec<Item> {
        matches
            .matched
            .iter()
            .flat_map(|(i, js)| {
                js.iter()
                    .map(move |&j| self.clash.combine(&[(n1, &in1[*i]), (n2, &in2[j])]))
            })
            .collect()
    }

    /// Hash-join `entries` against `others` on the field pairs.
    fn find(&self, entries: &[Item], others: &[Item], pairs: &[(String, String)]) -> Matches {
        let mut index: HashMap<String, Vec<usize>> = HashMap::new();
        for (j, item) in others.iter().enumerate() {
            if let Some(key) = self.key(&item.json, pairs.iter().map(|(_, f)| f.as_str())) {
                index.entry(key).or_default().push(j);
            }
        }
        let mut used = vec![false; others.len()];
        let mut matched = Vec::new();
        let mut unmatched1 = Vec::new();
        for (i, item) in entries.iter().enumerate() {
            let found = self
                .key(&item.json, pairs.iter().map(|(f, _)| f.as_str()))
                .and_then(|key| index.get(&key));
            match found {
                Some(js) => {
                    let js: Vec<usize> = match self.first_match_only {
                        true => js[..1].to_vec(),
                        false => js.clone(),
                    };
                    for &j in &js {
                        used[j] = true;
                    }
                    matched.push((i, js));
                }
                None => unmatched1.push(i),
            }
        }
        let unmatched2 = (0..others.len()).filter(|&j| !used[j]).collect();
        Matches {
            matched,
            unmatched1,
            unmatched2,
        }
    }

    /// The item's values of `fields` as one comparable key; `None` when a field is missing.
    /// Strict comparison keeps types apart (`"3"` ≠ `3`); fuzzy compares the text forms.
    fn key<'f>(&self, json: &ItemJson, fields: impl Iterator<Item = &'f str>) -> Option<String> {
        let mut key = String::new();
        for field in fields {
            let value = path::read(json, field, self.dot_notation)?;
            let text = match (self.fuzzy, value) {
                (true, Value::Array(_) | Value::Object(_)) | (false, _) => {
                    json_js::stringify(value)
                }
                (true, scalar) => json_js::to_js_string(scalar),
            };
            key.push_str(&text);
            key.push('\u{0}');
        }
        Some(key)
    }
}
