//! Paired items: the links from an output item back to the input items it was made from, which
//! `$('Node').item` follows. Kept in a compact form because a fold's one output item (Aggregate,
//! Convert to File) links to every one of its input items: for ten million rows a list of links
//! would cost hundreds of megabytes where two numbers say the same.

use serde::ser::{SerializeSeq, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Where an item came from when the engine walks paired items backwards across a loop.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SourceRef {
    pub previous_node: String,
    #[serde(default)]
    pub previous_node_output: usize,
    #[serde(default)]
    pub previous_node_run: usize,
}

/// One link from an output item back to the input item it was made from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PairedItem {
    pub item: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_overwrite: Option<Box<SourceRef>>,
}

impl PairedItem {
    pub fn new(item: usize) -> Self {
        PairedItem {
            item,
            input: None,
            source_overwrite: None,
        }
    }

    pub fn with_input(item: usize, input: usize) -> Self {
        PairedItem {
            item,
            input: (input > 0).then_some(input),
            source_overwrite: None,
        }
    }

    /// Input index, 0 when absent.
    pub fn input_index(&self) -> usize {
        self.input.unwrap_or(0)
    }
}

/// Zero, one or several paired items, in order. Consecutive items of one input (`{item: 0}`,
/// `{item: 1}`, ...) are held as their range, so one item pairing with all of a large input
/// stays small, and so does the commonest case, one link; anything else is a list. Every item
/// carries one, so it is 16 bytes wide: a million items' links take 16 MB.
#[derive(Clone)]
pub struct PairedItems(Links);

#[derive(Clone)]
#[allow(clippy::box_collection)]
enum Links {
    /// Items `start..start + len` of one input (none when `len` is 0), none with a source
    /// overwrite; `input` is 0 for no input index and `index + 1` for one.
    Range {
        start: u32,
        len: u32,
        input: u32,
    },
    List(Box<Vec<PairedItem>>),
}

/// `paired`'s item and input as a range holds them, when it has no source overwrite and they fit.
fn range_numbers(paired: &PairedItem) -> Option<(u32, u32)> {
    if paired.source_overwrite.is_some() {
        return None;
    }
    let input = match paired.input {
        None => 0,
        Some(input) => u32::try_from(input).ok()?.checked_add(1)?,
    };
    Some((u32::try_from(paired.item).ok()?, input))
}

impl PairedItems {
    pub fn new() -> Self {
        PairedItems(Links::Range {
            start: 0,
            len: 0,
            input: 0,
        })
    }

    /// A single link.
    pub fn one(paired: PairedItem) -> Self {
        let mut links = PairedItems::new();
        links.push(paired);
        links
    }

    pub fn len(&self) -> usize {
        match &self.0 {
            Links::List(list) => list.len(),
            Links::Range { len, .. } => *len as usize,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The links in order (built on the fly for a range).
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            links: &self.0,
            next: 0,
        }
    }

    pub fn first(&self) -> Option<PairedItem> {
        self.iter().next()
    }

    /// Append a link, keeping a range a range while the links continue it.
    pub fn push(&mut self, paired: PairedItem) {
        match (&mut self.0, range_numbers(&paired)) {
            (Links::List(list), _) => list.push(paired),
            (Links::Range { len: 0, .. }, Some((start, input))) => {
                self.0 = Links::Range {
                    start,
                    len: 1,
                    input,
                }
            }
            (Links::Range { start, len, input }, Some((next, next_input)))
                if next_input == *input
                    && Some(next) == start.checked_add(*len)
                    && *len < u32::MAX =>
            {
                *len += 1
            }
            _ => {
                let mut list: Vec<PairedItem> = self.iter().collect();
                list.push(paired);
                self.0 = Links::List(Box::new(list));
            }
        }
    }

    /// Count every link's item `offset` further on (a chunk's links made whole-input).
    pub fn shift(&mut self, offset: usize) {
        match &mut self.0 {
            Links::List(list) => list.iter_mut().for_each(|paired| paired.item += offset),
            Links::Range { len: 0, .. } => {}
            Links::Range { start, .. } => match u32::try_from(*start as usize + offset) {
                Ok(shifted) => *start = shifted,
                Err(_) => {
                    let list = self.iter().map(|mut paired| {
                        paired.item += offset;
                        paired
                    });
                    self.0 = Links::List(Box::new(list.collect()));
                }
            },
        }
    }
}

impl Default for PairedItems {
    fn default() -> Self {
        PairedItems::new()
    }
}

impl FromIterator<PairedItem> for PairedItems {
    fn from_iter<I: IntoIterator<Item = PairedItem>>(iter: I) -> Self {
        let mut links = PairedItems::new();
        links.extend(iter);
        links
    }
}

impl Extend<PairedItem> for PairedItems {
    fn extend<I: IntoIterator<Item = PairedItem>>(&mut self, iter: I) {
        iter.into_iter().for_each(|paired| self.push(paired));
    }
}

/// The links of a [`PairedItems`], as values.
pub struct Iter<'a> {
    links: &'a Links,
    next: usize,
}

impl Iterator for Iter<'_> {
    type Item = PairedItem;

    fn next(&mut self) -> Option<PairedItem> {
        let i = self.next;
        let paired = match self.links {
            Links::List(list) => list.get(i)?.clone(),
            Links::Range { start, len, input } => {
                if i >= *len as usize {
                    return None;
                }
                PairedItem {
                    item: *start as usize + i,
                    input: input.checked_sub(1).map(|input| input as usize),
                    source_overwrite: None,
                }
            }
        };
        self.next += 1;
        Some(paired)
    }
}

impl<'a> IntoIterator for &'a PairedItems {
    type Item = PairedItem;
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

impl PartialEq for PairedItems {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl std::fmt::Debug for PairedItems {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// n8n's `pairedItem` as it writes it: absent (no links, skipped by the item), one `{item,
/// input?}` object, or a list of them.
impl Serialize for PairedItems {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.len() == 1 {
            return self.iter().next().serialize(s);
        }
        let mut seq = s.serialize_seq(Some(self.len()))?;
        for paired in self {
            seq.serialize_element(&paired)?;
        }
        seq.end()
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
pub(crate) enum PairedItemRepr {
    Index(usize),
    One(PairedItem),
    Many(Vec<PairedItemOrIndex>),
}

#[derive(Deserialize)]
#[serde(untagged)]
pub(crate) enum PairedItemOrIndex {
    Index(usize),
    One(PairedItem),
}

impl From<PairedItemRepr> for PairedItems {
    fn from(repr: PairedItemRepr) -> Self {
        match repr {
            PairedItemRepr::Index(i) => PairedItems::one(PairedItem::new(i)),
            PairedItemRepr::One(p) => PairedItems::one(p),
            PairedItemRepr::Many(v) => v.into_iter().map(PairedItem::from).collect(),
        }
    }
}

impl From<PairedItemOrIndex> for PairedItem {
    fn from(p: PairedItemOrIndex) -> Self {
        match p {
            PairedItemOrIndex::Index(i) => PairedItem::new(i),
            PairedItemOrIndex::One(p) => p,
        }
    }
}

/// An item's `pairedItem` in any of the forms n8n writes: an index, `{item, input?}`, or a list
/// of them.
pub fn paired_items_from_value(value: Value) -> Result<PairedItems, serde_json::Error> {
    PairedItemRepr::deserialize(value).map(PairedItems::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn links(items: &[(usize, usize)]) -> PairedItems {
        items
            .iter()
            .map(|&(item, input)| PairedItem::with_input(item, input))
            .collect()
    }

    #[test]
    fn consecutive_links_stay_a_range_and_read_back_as_a_list() {
        let all: PairedItems = (0..1_000_000).map(PairedItem::new).collect();
        assert!(matches!(all.0, Links::Range { len: 1_000_000, .. }));
        assert_eq!(all.len(), 1_000_000);
        assert_eq!(all.iter().nth(999_999), Some(PairedItem::new(999_999)));
        assert_eq!(all.iter().count(), 1_000_000);
    }

    #[test]
    fn a_link_breaking_the_range_turns_it_into_a_list_in_order() {
        let mixed = links(&[(3, 1), (4, 1), (9, 1), (10, 0)]);
        assert!(matches!(mixed.0, Links::List(_)));
        let read: Vec<(usize, usize)> = mixed.iter().map(|p| (p.item, p.input_index())).collect();
        assert_eq!(read, [(3, 1), (4, 1), (9, 1), (10, 0)]);
        assert_eq!(mixed, links(&[(3, 1), (4, 1), (9, 1), (10, 0)]));
        assert_ne!(mixed, links(&[(3, 1), (4, 1), (9, 1)]));
    }

    #[test]
    fn links_past_a_range_s_numbers_are_a_list() {
        let far = usize::MAX / 2;
        let mut past = links(&[(far, 0), (far + 1, 0)]);
        assert!(matches!(past.0, Links::List(_)));
        assert_eq!(past, links(&[(far, 0), (far + 1, 0)]));
        let mut near = links(&[(0, 0)]);
        near.shift(u32::MAX as usize);
        assert_eq!(near, links(&[(u32::MAX as usize, 0)]));
        past.shift(1);
        assert_eq!(past.first(), Some(PairedItem::new(far + 1)));
        let input_zero = PairedItem {
            input: Some(0),
            ..PairedItem::new(3)
        };
        let written = PairedItems::one(input_zero.clone());
        assert!(matches!(written.0, Links::Range { .. }));
        assert_eq!(written.first(), Some(input_zero));
    }

    #[test]
    fn an_item_is_four_words_wide() {
        assert_eq!(std::mem::size_of::<PairedItems>(), 16);
        assert_eq!(std::mem::size_of::<crate::Item>(), 32);
    }

    #[test]
    fn shift_moves_ranges_and_lists() {
        let mut range = links(&[(0, 0), (1, 0)]);
        range.shift(5);
        assert_eq!(range, links(&[(5, 0), (6, 0)]));
        let mut list = links(&[(1, 0), (0, 0)]);
        list.shift(5);
        assert_eq!(list, links(&[(6, 0), (5, 0)]));
    }

    #[test]
    fn serialised_as_n8n_writes_them() {
        let one = serde_json::to_value(links(&[(2, 1)])).unwrap();
        assert_eq!(one, serde_json::json!({"item": 2, "input": 1}));
        let range = serde_json::to_value(links(&[(0, 0), (1, 0)])).unwrap();
        assert_eq!(range, serde_json::json!([{"item": 0}, {"item": 1}]));
        let parsed = paired_items_from_value(serde_json::json!([0, {"item": 1}])).unwrap();
        assert_eq!(parsed, links(&[(0, 0), (1, 0)]));
    }
}
