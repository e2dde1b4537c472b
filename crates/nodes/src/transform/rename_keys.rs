//! Rename Keys (`renameKeys` v1): move fields to new names (dot notation builds and reads nested
//! paths), and optionally rename every key matching a regular expression.

use crate::util::fields;
use crate::util::params::{Parsed, Reader};
use regex::{Regex, RegexBuilder};
use sluice_engine::{
    ExecuteContext, ItemWise, Node, NodeError, NodeKind, NodeOutputs, NodeSpec, Param,
};
use sluice_model::{Item, JsonObject, NodeDef, Value};

pub const SPEC: NodeSpec = NodeSpec {
    node_type: "n8n-nodes-base.renameKeys",
    versions: &[1.0],
    kind: NodeKind::Regular,
    factory: build,
};

#[derive(Clone, Debug)]
struct Replacement {
    search: Regex,
    /// The replacement in the `regex` crate's syntax.
    replace: String,
    /// How many levels below the top to rename too (`None`: all).
    depth: Option<usize>,
}

#[derive(Clone, Debug)]
struct Config {
    keys: Vec<(String, String)>,
    replacements: Vec<Replacement>,
}

fn parse(r: &Reader<'_>) -> Result<Config, NodeError> {
    let keys = r
        .list("keys.key")?
        .iter()
        .filter_map(|entry| {
            let current = entry.get("currentKey")?.as_str()?.trim();
            let new = entry.get("newKey")?.as_str()?.trim();
            (!current.is_empty() && !new.is_empty() && current != new)
                .then(|| (current.to_string(), new.to_string()))
        })
        .collect();
    let replacements = r
        .list("additionalOptions.regexReplacement.replacements")?
        .iter()
        .map(|entry| {
            let e = Reader::new(entry);
            let pattern = e.str_or("searchRegex", "")?;
            let search = RegexBuilder::new(pattern)
                .case_insensitive(e.bool_or("options.caseInsensitive", false)?)
                .build()
                .map_err(|err| {
                    NodeError::new(format!("invalid regular expression '{pattern}': {err}"))
                        .with_parameter("additionalOptions.regexReplacement")
                })?;
            let depth = e.number_or("options.depth", -1.0)?;
            Ok(Replacement {
                search,
                replace: js_replacement(e.str_or("replaceRegex", "")?),
                depth: (depth >= 0.0).then_some(depth as usize),
            })
        })
        .collect::<Result<Vec<_>, NodeError>>()?;
    Ok(Config { keys, replacements })
}

/// A JavaScript replacement pattern (`$1`, `$&`, `$<name>`, `$$`) in the `regex` crate's syntax.
fn js_replacement(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '$' {
            out.push(c);
            continue;
        }
        match chars.peek().copied() {
            Some('$') => {
                chars.next();
                out.push_str("$$");
            }
            Some('&') => {
                chars.next();
                out.push_str("${0}");
            }
            Some(d) if d.is_ascii_digit() => {
                let mut group = String::new();
                while let Some(d) = chars
                    .peek()
                    .copied()
                    .filter(|d| d.is_ascii_digit() && group.len() < 2)
                {
                    group.push(d);
                    chars.next();
                }
                out.push_str(&format!("${{{group}}}"));
            }
            Some('<') => {
                let name: String = chars.by_ref().skip(1).take_while(|c| *c != '>').collect();
                out.push_str(&format!("${{{name}}}"));
            }
            _ => out.push_str("$$"),
        }
    }
    out
}

fn rename_matching<'v>(
    fields: impl Iterator<Item = (&'v String, &'v Value)>,
    replacement: &Replacement,
    level: usize,
) -> JsonObject {
    let deeper = replacement.depth.is_none_or(|d| level < d);
    fields
        .map(|(key, value)| {
            let key = replacement
                .search
                .replace_all(key, replacement.replace.as_str())
                .into_owned();
            let value = match value {
                Value::Object(inner) if deeper => {
                    Value::Object(rename_matching(inner.iter(), replacement, level + 1))
                }
                other => other.clone(),
            };
            (key, value)
        })
        .collect()
}

struct RenameKeys {
    config: Parsed<Config>,
}

fn build(def: &NodeDef, params: &Param) -> Result<Box<dyn Node>, NodeError> {
    Ok(Box::new(RenameKeys {
        config: Parsed::new(def, params, Box::new(parse))?,
    }))
}

#[async_trait::async_trait]
impl Node for RenameKeys {
    fn item_wise(&self) -> ItemWise {
        ItemWise::Yes
    }

    async fn execute(&self, ctx: &ExecuteContext<'_>) -> Result<NodeOutputs, NodeError> {
        ctx.map_items(|i, item| {
            let config = self.config.for_item(ctx, i)?;
            let mut json = (*item.json).clone();
            for (current, new) in &config.keys {
                if let Some(value) = fields::get(&json, current, true).cloned() {
                    fields::set(&mut json, new, value, true);
                    fields::remove(&mut json, current, true);
                }
            }
            for replacement in &config.replacements {
                json = rename_matching(json.iter(), replacement, 0).into();
            }
            Ok(Some(Item {
                json: json.into(),
                ..item.clone()
            }))
        })
        .map(|items| vec![items])
    }
}

#[cfg(test)]
mod tests {
    use super::js_replacement;

    #[test]
    fn replacement_patterns_follow_javascript() {
        assert_eq!(js_replacement("x$1y"), "x${1}y");
        assert_eq!(js_replacement("$&-$$-$<name>"), "${0}-$$-${name}");
        assert_eq!(js_replacement("cost $"), "cost $$");
    }
}
