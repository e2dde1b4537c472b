//! Items: the unit of data flowing between nodes (`{json, binary?, pairedItem?}`).

use serde::de::{self, Deserializer};
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use smallvec::SmallVec;
use std::sync::Arc;

/// A JSON object as n8n items carry it (insertion order kept, like JavaScript objects).
pub type JsonObject = serde_json::Map<String, Value>;

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

/// Zero, one or several paired items; one is by far the common case and stays inline.
pub type PairedItems = SmallVec<[PairedItem; 1]>;

/// One item. `json` is shared (cheap to fan out to several branches) and copied on write.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Item {
    pub json: Arc<JsonObject>,
    pub binary: Option<Arc<JsonObject>>,
    pub paired_item: PairedItems,
}

impl Item {
    pub fn new(json: JsonObject) -> Self {
        Item {
            json: Arc::new(json),
            binary: None,
            paired_item: PairedItems::new(),
        }
    }

    /// An item holding `value`; a non-object value is wrapped as n8n does for plain returns.
    pub fn from_value(value: Value) -> Self {
        match value {
            Value::Object(map) => Item::new(map),
            other => {
                let mut map = JsonObject::new();
                map.insert("data".into(), other);
                Item::new(map)
            }
        }
    }

    pub fn paired_to(mut self, item: usize) -> Self {
        self.paired_item = smallvec::smallvec![PairedItem::new(item)];
        self
    }

    /// Mutable access to the JSON, copying it first if another branch shares it.
    pub fn json_mut(&mut self) -> &mut JsonObject {
        Arc::make_mut(&mut self.json)
    }
}

#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum PairedItemRepr {
    Index(usize),
    One(PairedItem),
    Many(Vec<PairedItemOrIndex>),
}

#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum PairedItemOrIndex {
    Index(usize),
    One(PairedItem),
}

impl From<PairedItemRepr> for PairedItems {
    fn from(repr: PairedItemRepr) -> Self {
        match repr {
            PairedItemRepr::Index(i) => smallvec::smallvec![PairedItem::new(i)],
            PairedItemRepr::One(p) => smallvec::smallvec![p],
            PairedItemRepr::Many(v) => v.into_iter().map(PairedItem::from).collect(),
        }
    }
}

/// An item's `pairedItem` in any of the forms n8n writes: an index, `{item, input?}`, or a list
/// of them.
pub fn paired_items_from_value(value: Value) -> Result<PairedItems, serde_json::Error> {
    PairedItemRepr::deserialize(value).map(PairedItems::from)
}

impl From<PairedItemOrIndex> for PairedItem {
    fn from(p: PairedItemOrIndex) -> Self {
        match p {
            PairedItemOrIndex::Index(i) => PairedItem::new(i),
            PairedItemOrIndex::One(p) => p,
        }
    }
}

#[derive(Serialize)]
struct ItemOut<'a> {
    json: &'a JsonObject,
    #[serde(skip_serializing_if = "Option::is_none")]
    binary: Option<&'a JsonObject>,
    #[serde(rename = "pairedItem", skip_serializing_if = "Option::is_none")]
    paired_item: Option<PairedItemRef<'a>>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum PairedItemRef<'a> {
    One(&'a PairedItem),
    Many(&'a [PairedItem]),
}

impl Serialize for Item {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let paired_item = match self.paired_item.len() {
            0 => None,
            1 => Some(PairedItemRef::One(&self.paired_item[0])),
            _ => Some(PairedItemRef::Many(&self.paired_item)),
        };
        ItemOut {
            json: &self.json,
            binary: self.binary.as_deref(),
            paired_item,
        }
        .serialize(s)
    }
}

#[derive(Deserialize)]
struct ItemIn {
    #[serde(default)]
    json: Option<Value>,
    #[serde(default)]
    binary: Option<JsonObject>,
    #[serde(default, rename = "pairedItem")]
    paired_item: Option<PairedItemRepr>,
}

impl<'de> Deserialize<'de> for Item {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = ItemIn::deserialize(d)?;
        let json = match raw.json {
            None | Some(Value::Null) => JsonObject::new(),
            Some(Value::Object(m)) => m,
            Some(_) => return Err(de::Error::custom("item `json` must be an object")),
        };
        let paired_item = raw.paired_item.map(PairedItems::from).unwrap_or_default();
        Ok(Item {
            json: Arc::new(json),
            binary: raw.binary.map(Arc::new),
            paired_item,
        })
    }
}

/// Items from a JSON array of objects (`sluice run --input`, `sluice test`'s trigger input); an
/// object with only a `json` key is taken as an item.
pub fn items_from_value(value: Value) -> Result<Vec<Item>, String> {
    let values = match value {
        Value::Array(values) => values,
        obj @ Value::Object(_) => vec![obj],
        _ => return Err("input must be a JSON array of objects".into()),
    };
    values
        .into_iter()
        .enumerate()
        .map(|(i, v)| match v {
            Value::Object(mut obj) => Ok(match obj.remove("json") {
                Some(Value::Object(json)) if obj.is_empty() => Item::new(json),
                Some(json) => {
                    obj.insert("json".into(), json);
                    Item::new(obj)
                }
                None => Item::new(obj),
            }),
            _ => Err(format!("input item {i} is not a JSON object")),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paired_item_forms_round_trip() {
        let items: Vec<Item> = serde_json::from_str(
            r#"[{"json":{"a":1},"pairedItem":0},{"json":{},"pairedItem":{"item":2,"input":1}},
                {"json":{},"pairedItem":[{"item":0},1]}]"#,
        )
        .unwrap();
        assert_eq!(items[0].paired_item[0].item, 0);
        assert_eq!(items[1].paired_item[0].input_index(), 1);
        assert_eq!(items[2].paired_item.len(), 2);
        let out = serde_json::to_value(&items[1]).unwrap();
        assert_eq!(out["pairedItem"], serde_json::json!({"item":2,"input":1}));
    }

    #[test]
    fn non_object_json_is_rejected() {
        assert!(serde_json::from_str::<Item>(r#"{"json":[1]}"#).is_err());
    }
}
