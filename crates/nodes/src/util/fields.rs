//! Field access by name and field-name lists, shared by Edit Fields, the item-list transforms,
//! Merge and Compare Datasets.
//!
//! Names go through the lodash-style paths of [`crate::util::path`], switched by each node's
//! "Disable Dot Notation" option. Field lists come as comma-separated text, a plain array, or in
//! the older `{fields: [{fieldName}]}` form (Item Lists v1–v2).

use crate::util::path;
use sluice_engine::NodeError;
use sluice_expr::json_js::to_js_string;
use sluice_model::{Fields, Item, ItemJson, PairedItem, Value};

pub(crate) use path::{read as get, write as set};

/// Remove the field at `name` (a path with dot notation, else one literal key).
pub(crate) fn remove<O: Fields + ?Sized>(object: &mut O, name: &str, dot: bool) {
    if dot {
        path::unset(object, name);
    } else {
        object.shift_remove(name);
    }
}

/// Only the named fields of `json` (those it has).
pub(crate) fn pick(json: &ItemJson, names: &[String], dot: bool) -> ItemJson {
    let mut out = ItemJson::new();
    for name in names {
        if let Some(value) = get(json, name, dot) {
            set(&mut out, name, value.clone(), dot);
        }
    }
    out
}

/// `json` without the named fields.
pub(crate) fn without(json: &ItemJson, names: &[String], dot: bool) -> ItemJson {
    let mut out = json.clone();
    for name in names {
        remove(&mut out, name, dot);
    }
    out
}

/// A new item made from all `count` input items (Aggregate, Summarize, Concatenate).
pub(crate) fn item_from_all(json: impl Into<ItemJson>, count: usize) -> Item {
    let mut item = Item::new(json);
    item.paired_item = (0..count).map(PairedItem::new).collect();
    item
}

/// A list of field names in any of the shapes n8n stores them: `"a, b"`, `["a", "b"]` or
/// `{fields: [{fieldName: "a"}]}`. `name` is the parameter's name for errors.
pub(crate) fn field_list(value: Option<&Value>, name: &str) -> Result<Vec<String>, NodeError> {
    match value {
        None => Ok(Vec::new()),
        Some(Value::Object(o)) => match o.get("fields") {
            Some(Value::Array(entries)) => Ok(entries
                .iter()
                .filter_map(|e| e.get("fieldName"))
                .flat_map(split_field_list)
                .collect()),
            None => Ok(Vec::new()),
            Some(_) => Err(
                NodeError::new(format!("'{name}' must be a list of field names"))
                    .with_parameter(name),
            ),
        },
        Some(other) => Ok(split_field_list(other)),
    }
}

/// A comma-separated field list (`"a, b.c"`), as text or as an array of names.
pub(crate) fn split_field_list(value: &Value) -> Vec<String> {
    match value {
        Value::Array(items) => items.iter().map(to_js_string).collect(),
        Value::Null => Vec::new(),
        other => to_js_string(other)
            .split(',')
            .map(|f| f.trim().to_string())
            .collect(),
    }
    .into_iter()
    .filter(|f| !f.is_empty())
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn field_lists_in_every_shape() {
        assert_eq!(field_list(Some(&json!("a, b,")), "f").unwrap(), ["a", "b"]);
        assert_eq!(field_list(Some(&json!(["a"])), "f").unwrap(), ["a"]);
        let old = json!({"fields": [{"fieldName": "a"}, {"fieldName": "b"}]});
        assert_eq!(field_list(Some(&old), "f").unwrap(), ["a", "b"]);
        assert!(field_list(Some(&json!({"fields": 3})), "f").is_err());
    }
}
