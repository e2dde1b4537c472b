//! Items: the unit of data flowing between nodes (`{json, binary?, pairedItem?}`).

use crate::item_json::ItemJson;
use crate::paired::{PairedItem, PairedItemRepr, PairedItems};
use serde::de::{self, Deserializer};
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::Arc;

/// A JSON object (insertion order kept, like JavaScript objects): a nested object, an item's
/// `binary`, a parameter. An item's own `json` is an [`ItemJson`].
pub type JsonObject = serde_json::Map<String, Value>;

/// One item. `json` is shared (cheap to fan out to several branches) and copied on write.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Item {
    pub json: Arc<ItemJson>,
    pub binary: Option<Arc<JsonObject>>,
    pub paired_item: PairedItems,
}

impl Item {
    pub fn new(json: impl Into<ItemJson>) -> Self {
        Item {
            json: Arc::new(json.into()),
            binary: None,
            paired_item: PairedItems::new(),
        }
    }

    /// An item holding `value`; a non-object value is wrapped as n8n does for plain returns.
    pub fn from_value(value: Value) -> Self {
        match value {
            Value::Object(map) => Item::new(map),
            other => {
                let mut json = ItemJson::with_capacity(1);
                json.insert("data", other);
                Item::new(json)
            }
        }
    }

    pub fn paired_to(mut self, item: usize) -> Self {
        self.paired_item = PairedItems::one(PairedItem::new(item));
        self
    }

    /// Mutable access to the JSON, copying it first if another branch shares it.
    pub fn json_mut(&mut self) -> &mut ItemJson {
        Arc::make_mut(&mut self.json)
    }
}

#[derive(Serialize)]
struct ItemOut<'a> {
    json: &'a ItemJson,
    #[serde(skip_serializing_if = "Option::is_none")]
    binary: Option<&'a JsonObject>,
    #[serde(rename = "pairedItem", skip_serializing_if = "PairedItems::is_empty")]
    paired_item: &'a PairedItems,
}

impl Serialize for Item {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        ItemOut {
            json: &self.json,
            binary: self.binary.as_deref(),
            paired_item: &self.paired_item,
        }
        .serialize(s)
    }
}

#[derive(Deserialize)]
struct ItemIn {
    #[serde(default, deserialize_with = "item_json_or_null")]
    json: Option<ItemJson>,
    #[serde(default)]
    binary: Option<JsonObject>,
    #[serde(default, rename = "pairedItem")]
    paired_item: Option<PairedItemRepr>,
}

impl<'de> Deserialize<'de> for Item {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = ItemIn::deserialize(d)?;
        let json = raw.json.unwrap_or_default();
        let paired_item = raw.paired_item.map(PairedItems::from).unwrap_or_default();
        Ok(Item {
            json: Arc::new(json),
            binary: raw.binary.map(Arc::new),
            paired_item,
        })
    }
}

/// An item's `json`: an object, or `null` for none.
fn item_json_or_null<'de, D: Deserializer<'de>>(d: D) -> Result<Option<ItemJson>, D::Error> {
    struct ObjectOrNull;
    impl<'de> de::Visitor<'de> for ObjectOrNull {
        type Value = Option<ItemJson>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("item `json` must be an object")
        }
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_none<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(self)
        }
        fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
            ItemJson::deserialize(de::value::MapAccessDeserializer::new(map)).map(Some)
        }
    }
    d.deserialize_option(ObjectOrNull)
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
            // `{json: {...}}` is an item in n8n's shape; any other object is an item's JSON as
            // it is, in its order.
            Value::Object(mut obj) => {
                let alone = obj.len() == 1;
                Ok(Item::new(match obj.get_mut("json") {
                    Some(Value::Object(json)) if alone => std::mem::take(json),
                    _ => obj,
                }))
            }
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
        assert_eq!(items[0].paired_item.first().unwrap().item, 0);
        assert_eq!(items[1].paired_item.first().unwrap().input_index(), 1);
        assert_eq!(items[2].paired_item.len(), 2);
        let out = serde_json::to_value(&items[1]).unwrap();
        assert_eq!(out["pairedItem"], serde_json::json!({"item":2,"input":1}));
    }

    #[test]
    fn input_objects_keep_their_order() {
        let items = items_from_value(serde_json::json!([
            {"json": {"b": 1, "a": 2}},
            {"a": 1, "json": 2, "b": 3, "c": 4},
            {"json": {"x": 1}, "binary": {}},
        ]))
        .unwrap();
        let keys = |i: usize| items[i].json.keys().cloned().collect::<Vec<_>>();
        assert_eq!(keys(0), ["b", "a"]);
        assert_eq!(keys(1), ["a", "json", "b", "c"]);
        assert_eq!(keys(2), ["json", "binary"]);
    }

    #[test]
    fn non_object_json_is_rejected() {
        assert!(serde_json::from_str::<Item>(r#"{"json":[1]}"#).is_err());
    }
}
