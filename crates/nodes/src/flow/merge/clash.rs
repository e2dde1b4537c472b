//! Combining several items into one, the way Merge's "Clash Handling" option decides: prefer one
//! input's value for clashing fields (deep or shallow merge, optionally not letting an empty
//! value win), or keep every field with the input number appended. The combined item is paired
//! to all the items it was made from.

use crate::util::params::{unsupported, Reader};
use sluice_engine::{NodeError, Param};
use sluice_model::{Item, ItemJson, JsonObject, PairedItems, Value};
use std::sync::Arc;

/// Which value wins when fields clash.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Resolve {
    /// The part at this position (0-based) wins.
    Prefer(usize),
    /// The last part wins (v3's default).
    PreferLast,
    /// No clash: every field is renamed `<field>_<input number>`.
    AddSuffix,
}

#[derive(Clone, Copy, Debug)]
pub(super) struct Clash {
    resolve: Resolve,
    deep: bool,
    /// A value that is null or "" does not override another input's non-empty value.
    override_empty: bool,
}

impl Clash {
    /// `options.clashHandling.values`; `default` is the version's default resolution.
    pub fn parse(params: &Param, default: &str) -> Result<Self, NodeError> {
        let r = Reader::fixed(params);
        let base = "options.clashHandling.values";
        let path = format!("{base}.resolveClash");
        let resolve = match r.str_or(&path, default)? {
            "" => default,
            other => other,
        };
        let resolve = match resolve {
            "addSuffix" => Resolve::AddSuffix,
            "preferLast" => Resolve::PreferLast,
            other => match other
                .strip_prefix("preferInput")
                .and_then(|n| n.parse::<usize>().ok())
            {
                Some(n) if n >= 1 => Resolve::Prefer(n - 1),
                _ => return Err(unsupported(&path, other)),
            },
        };
        let mode_path = format!("{base}.mergeMode");
        let deep = match r.str_or(&mode_path, "deepMerge")? {
            "deepMerge" => true,
            "shallowMerge" => false,
            other => return Err(unsupported(&mode_path, other)),
        };
        Ok(Clash {
            resolve,
            deep,
            override_empty: r.bool_or(&format!("{base}.overrideEmpty"), false)?,
        })
    }

    /// True when input 1's values win clashes.
    pub fn prefers_first(&self) -> bool {
        self.resolve == Resolve::Prefer(0)
    }

    /// Combine `parts` (each with its 1-based input number) into one item.
    pub fn combine(&self, parts: &[(usize, &Item)]) -> Item {
        let mut json = ItemJson::new();
        let mut binary = JsonObject::new();
        match self.resolve {
            Resolve::AddSuffix => {
                for (input, item) in parts {
                    for (key, value) in item.json.iter() {
                        json.insert(format!("{key}_{input}"), value.clone());
                    }
                    binary.extend(
                        item.binary
                            .iter()
                            .flat_map(|b| b.iter())
                            .map(|(k, v)| (k.clone(), v.clone())),
                    );
                }
            }
            Resolve::Prefer(_) | Resolve::PreferLast => {
                let preferred = match self.resolve {
                    Resolve::Prefer(p) => p.min(parts.len().saturating_sub(1)),
                    _ => parts.len().saturating_sub(1),
                };
                let order = (0..parts.len())
                    .filter(|&i| i != preferred)
                    .chain([preferred]);
                for i in order {
                    let item = parts[i].1;
                    self.merge_into(&mut json, &item.json);
                    binary.extend(
                        item.binary
                            .iter()
                            .flat_map(|b| b.iter())
                            .map(|(k, v)| (k.clone(), v.clone())),
                    );
                }
            }
        }
        let paired_item: PairedItems = parts
            .iter()
            .flat_map(|(_, item)| item.paired_item.iter())
            .collect();
        Item {
            json: Arc::new(json),
            binary: (!binary.is_empty()).then(|| Arc::new(binary)),
            paired_item,
        }
    }

    fn merge_into(&self, target: &mut ItemJson, source: &ItemJson) {
        for (key, value) in source {
            if self.override_empty
                && is_empty(value)
                && target.get(key).is_some_and(|v| !is_empty(v))
            {
                continue;
            }
            match (self.deep, target.get_mut(key)) {
                (true, Some(existing)) => deep_merge(existing, value),
                _ => {
                    target.insert(key.clone(), value.clone());
                }
            }
        }
    }
}

fn is_empty(value: &Value) -> bool {
    matches!(value, Value::Null) || value.as_str() == Some("")
}

/// Lodash `merge`: objects merge key by key, arrays index by index, anything else replaces.
fn deep_merge(target: &mut Value, source: &Value) {
    match (target, source) {
        (Value::Object(t), Value::Object(s)) => {
            for (key, value) in s {
                match t.get_mut(key) {
                    Some(existing) => deep_merge(existing, value),
                    None => {
                        t.insert(key.clone(), value.clone());
                    }
                }
            }
        }
        (Value::Array(t), Value::Array(s)) => {
            for (i, value) in s.iter().enumerate() {
                match t.get_mut(i) {
                    Some(existing) => deep_merge(existing, value),
                    None => t.push(value.clone()),
                }
            }
        }
        (target, source) => *target = source.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn item(v: Value) -> Item {
        Item::from_value(v)
    }

    fn clash(resolve: Resolve, deep: bool, override_empty: bool) -> Clash {
        Clash {
            resolve,
            deep,
            override_empty,
        }
    }

    #[test]
    fn prefers_and_suffixes() {
        let a = item(json!({"id": 1, "x": {"a": 1, "b": 2}, "e": "keep"}));
        let b = item(json!({"id": 2, "x": {"a": 9}, "e": ""}));
        let parts = [(1, &a), (2, &b)];
        let deep = clash(Resolve::Prefer(1), true, false).combine(&parts);
        assert_eq!(
            deep.json.to_value(),
            json!({"id": 2, "x": {"a": 9, "b": 2}, "e": ""})
        );
        let shallow = clash(Resolve::Prefer(1), false, true).combine(&parts);
        assert_eq!(
            shallow.json.to_value(),
            json!({"id": 2, "x": {"a": 9}, "e": "keep"})
        );
        let first = clash(Resolve::Prefer(0), true, false).combine(&parts);
        assert_eq!(first.json["id"], json!(1));
        let suffixed = clash(Resolve::AddSuffix, true, false).combine(&parts);
        assert_eq!(
            suffixed.json.keys().collect::<Vec<_>>(),
            ["id_1", "x_1", "e_1", "id_2", "x_2", "e_2"]
        );
    }
}
