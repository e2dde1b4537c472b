//! Compare Datasets (`compareDatasets` v1, 2, 2.1, 2.2, 2.3): match the items of input A and
//! input B by key fields, then sort them into four outputs: in A only, same, different, in B
//! only.
//!
//! Matched items are compared field by field (top-level fields, optionally skipping some paths,
//! exactly or fuzzily). Different pairs come out as A's version, B's version, a mix, or both
//! side by side (`{keys, same, different, skipped?}`).

mod compare;
mod config;

use crate::util::fields;
use crate::util::params::Parsed;
use config::{Config, Resolve};
use sluice_engine::{
    ExecuteContext, Node, NodeError, NodeKind, NodeOutputs, NodeSpec, Param, RequiredInputs,
};
use sluice_model::{Item, ItemJson, JsonObject, NodeDef, PairedItem, Value};
use std::collections::HashMap;

pub const SPEC: NodeSpec = NodeSpec {
    node_type: "n8n-nodes-base.compareDatasets",
    versions: &[1.0, 2.0, 2.1, 2.2, 2.3],
    kind: NodeKind::Regular,
    factory: build,
};

fn build(def: &NodeDef, params: &Param) -> Result<Box<dyn Node>, NodeError> {
    let version = def.version();
    let config = Parsed::new(def, params, Box::new(move |v| Config::parse(v, version)))?;
    Ok(Box::new(CompareDatasets { config }))
}

struct CompareDatasets {
    config: Parsed<Config>,
}

/// The match-field values of an item, as one hashable key; `None` when one is missing (such an
/// item matches nothing).
fn match_key(config: &Config, json: &ItemJson, side: usize) -> Option<String> {
    let mut key = String::new();
    for pair in &config.match_fields {
        let field = if side == 0 { &pair.0 } else { &pair.1 };
        let value = fields::get(json, field, config.dot)?;
        key.push_str(&compare::key(Some(value), config.fuzzy));
        key.push('\u{1}');
    }
    Some(key)
}

#[async_trait::async_trait]
impl Node for CompareDatasets {
    async fn execute(&self, ctx: &ExecuteContext<'_>) -> Result<NodeOutputs, NodeError> {
        let config = self.config.for_item(ctx, 0)?;
        let (a_items, b_items) = (ctx.input(0), ctx.input(1));
        let mut by_key: HashMap<String, Vec<usize>> = HashMap::new();
        for (j, item) in b_items.iter().enumerate() {
            if let Some(key) = match_key(&config, &item.json, 1) {
                by_key.entry(key).or_default().push(j);
            }
        }
        let mut b_matched = vec![false; b_items.len()];
        let (mut a_only, mut same, mut different) = (Vec::new(), Vec::new(), Vec::new());
        for (i, a) in a_items.iter().enumerate() {
            let matches = match_key(&config, &a.json, 0)
                .and_then(|key| by_key.get(&key))
                .map_or(&[][..], Vec::as_slice);
            if matches.is_empty() {
                a_only.push(a.clone());
                continue;
            }
            let matches = if config.all_matches {
                matches
            } else {
                &matches[..1]
            };
            for &j in matches {
                b_matched[j] = true;
                let b = &b_items[j];
                if items_equal(&config, &a.json, &b.json) {
                    same.push(
                        if config.resolve == Resolve::PreferB {
                            b
                        } else {
                            a
                        }
                        .clone(),
                    );
                } else {
                    different.push(resolve(&config, (i, a), (j, b)));
                }
            }
        }
        let b_only = b_items
            .iter()
            .zip(b_matched)
            .filter(|(_, matched)| !matched)
            .map(|(b, _)| b.clone())
            .collect();
        Ok(vec![a_only, same, different, b_only])
    }

    fn outputs(&self) -> usize {
        4
    }

    fn inputs(&self) -> usize {
        2
    }

    fn required_inputs(&self) -> RequiredInputs {
        RequiredInputs::Count(1)
    }
}

/// The item without the fields to skip.
fn stripped(config: &Config, json: &ItemJson) -> ItemJson {
    fields::without(json, &config.skip_fields, config.dot)
}

fn all_keys<'j>(a: &'j ItemJson, b: &'j ItemJson) -> Vec<&'j String> {
    let mut keys: Vec<&String> = a.keys().collect();
    keys.extend(b.keys().filter(|k| !a.contains_key(k)));
    keys
}

fn field_equal(config: &Config, a: Option<&Value>, b: Option<&Value>) -> bool {
    if config.missing_always_differs() && a.is_none() != b.is_none() {
        return false;
    }
    compare::equal(a, b, config.fuzzy)
}

fn items_equal(config: &Config, a: &ItemJson, b: &ItemJson) -> bool {
    let (a, b) = (stripped(config, a), stripped(config, b));
    all_keys(&a, &b)
        .into_iter()
        .all(|k| field_equal(config, a.get(k), b.get(k)))
}

/// The item a differing pair becomes on the "different" output.
fn resolve(config: &Config, (i, a): (usize, &Item), (j, b): (usize, &Item)) -> Item {
    match &config.resolve {
        Resolve::PreferA => a.clone(),
        Resolve::PreferB => b.clone(),
        Resolve::Mix { prefer_b, except } => {
            let (main, other) = if *prefer_b { (b, a) } else { (a, b) };
            let mut item = main.clone();
            let json = item.json_mut();
            for field in except {
                match fields::get(&other.json, field, config.dot) {
                    Some(v) if config.mix_skips_falsy() && !sluice_expr::json_js::truthy(v) => {}
                    Some(v) => fields::set(json, field, v.clone(), config.dot),
                    None => {}
                }
            }
            item
        }
        Resolve::IncludeBoth => {
            let mut item = Item::new(both(config, &a.json, &b.json));
            item.paired_item = [PairedItem::with_input(i, 0), PairedItem::with_input(j, 1)]
                .into_iter()
                .collect();
            item
        }
    }
}

/// `{keys, same, different, skipped?}` for a differing pair.
fn both(config: &Config, a: &ItemJson, b: &ItemJson) -> JsonObject {
    let (label_a, label_b) = config.labels();
    let pair = |x: Option<&Value>, y: Option<&Value>| {
        let mut p = JsonObject::new();
        p.insert(label_a.into(), x.cloned().unwrap_or(Value::Null));
        p.insert(label_b.into(), y.cloned().unwrap_or(Value::Null));
        Value::Object(p)
    };
    let mut keys = JsonObject::new();
    for (field_a, field_b) in &config.match_fields {
        for (field, json) in [(field_a, a), (field_b, b)] {
            if let Some(v) = fields::get(json, field, config.dot) {
                keys.entry(field.clone()).or_insert_with(|| v.clone());
            }
        }
    }
    let (shown_a, shown_b) = (stripped(config, a), stripped(config, b));
    let (mut same, mut different) = (JsonObject::new(), JsonObject::new());
    for key in all_keys(a, b) {
        if !shown_a.contains_key(key) && !shown_b.contains_key(key) {
            continue; // skipped as a whole
        }
        if field_equal(config, a.get(key), b.get(key)) {
            same.insert(
                key.clone(),
                shown_a.get(key).cloned().unwrap_or(Value::Null),
            );
        } else {
            different.insert(key.clone(), pair(shown_a.get(key), shown_b.get(key)));
        }
    }
    let mut skipped = JsonObject::new();
    for path in &config.skip_fields {
        let (top, rest) = match path.split_once('.').filter(|_| config.dot) {
            Some((top, rest)) => (top, Some(rest)),
            None => (path.as_str(), None),
        };
        let part = |json: &ItemJson| -> Option<Value> {
            let value = json.get(top)?;
            match (rest, value) {
                (None, v) => Some(v.clone()),
                (Some(rest), Value::Object(inner)) => {
                    let v = fields::get(inner, rest, true)?;
                    let mut picked = JsonObject::new();
                    fields::set(&mut picked, rest, v.clone(), true);
                    Some(Value::Object(picked))
                }
                _ => None,
            }
        };
        let (pa, pb) = (part(a), part(b));
        if pa.is_none() && pb.is_none() {
            continue;
        }
        let entry = skipped
            .entry(top.to_string())
            .or_insert_with(|| pair(None, None));
        for (label, part) in [(label_a, pa), (label_b, pb)] {
            let slot = &mut entry[label];
            match (slot, part) {
                (Value::Object(existing), Some(Value::Object(more))) => existing.extend(more),
                (slot, Some(v)) => *slot = v,
                (_, None) => {}
            }
        }
    }
    let mut out = JsonObject::new();
    out.insert("keys".into(), Value::Object(keys));
    out.insert("same".into(), Value::Object(same));
    out.insert("different".into(), Value::Object(different));
    if !skipped.is_empty() {
        out.insert("skipped".into(), Value::Object(skipped));
    }
    out
}
