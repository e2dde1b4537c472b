//! The data a Code node's JavaScript sees, serialised once per node run.

use serde::Serialize;
use serde_json::{json, Value};
use sluice_engine::ExecuteContext;
use sluice_expr::Scope;
use sluice_model::Item;
use std::collections::BTreeMap;

/// Node names the code references with a literal name: `$('X')`, `$("X")`, `$node["X"]`,
/// `$node.X`, `$items("X")`.
pub fn referenced_nodes(code: &str) -> Vec<String> {
    let mut names = Vec::new();
    let patterns = [("$(", ")"), ("$node[", "]"), ("$items(", ")")];
    for (open, close) in patterns {
        let mut rest = code;
        while let Some(at) = rest.find(open) {
            rest = &rest[at + open.len()..];
            let trimmed = rest.trim_start();
            let Some(quote) = trimmed
                .chars()
                .next()
                .filter(|c| matches!(c, '\'' | '"' | '`'))
            else {
                continue;
            };
            let body = &trimmed[1..];
            if let Some(end) = body.find(quote) {
                if body[end + 1..].trim_start().starts_with(close) || close == ")" {
                    names.push(body[..end].to_string());
                }
            }
        }
    }
    let mut rest = code;
    while let Some(at) = rest.find("$node.") {
        rest = &rest[at + "$node.".len()..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '$')
            .collect();
        if !name.is_empty() {
            names.push(name);
        }
    }
    names.sort();
    names.dedup();
    names
}

#[derive(Serialize)]
struct ItemView<'a> {
    json: &'a sluice_model::JsonObject,
    #[serde(skip_serializing_if = "Option::is_none")]
    binary: Option<&'a sluice_model::JsonObject>,
}

fn view(item: &Item) -> ItemView<'_> {
    ItemView {
        json: &item.json,
        binary: item.binary.as_deref(),
    }
}

#[derive(Serialize)]
#[serde(untagged)]
enum Paired {
    Item(#[serde(serialize_with = "serialize_item")] Item),
    Error { error: String },
}

fn serialize_item<S: serde::Serializer>(item: &Item, s: S) -> Result<S::Ok, S::Error> {
    view(item).serialize(s)
}

#[derive(Serialize)]
struct NodeData<'a> {
    executed: bool,
    all: Vec<ItemView<'a>>,
    paired: Vec<Paired>,
    params: Option<&'a Value>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Payload<'a> {
    items: Vec<ItemView<'a>>,
    nodes: BTreeMap<&'a str, NodeData<'a>>,
    node_names: Vec<&'a str>,
    workflow: Value,
    execution: Value,
    run_index: usize,
    prev_node: Value,
    vars: Option<&'a sluice_model::JsonObject>,
    now: String,
    tz: &'a str,
    params: &'a Value,
    item_is_json: bool,
}

/// The payload for `sluice_js::CodeRequest`, as JSON text.
pub fn build(ctx: &ExecuteContext<'_>, referenced: &[String], item_is_json: bool) -> String {
    let scope = ctx.scope(0);
    let input = ctx.main_input();
    let mut nodes = BTreeMap::new();
    for name in referenced {
        let Some(node) = ctx.workflow().node(name) else {
            continue;
        };
        let executed = scope.node_executed(name);
        let all = scope
            .node_items(name, None, None)
            .map(|items| items.iter().map(view).collect())
            .unwrap_or_default();
        let paired = if executed {
            (0..input.len())
                .map(|i| match ctx.scope(i).paired_item(name) {
                    Ok(item) => Paired::Item(item.clone()),
                    Err(e) => Paired::Error {
                        error: e.to_string(),
                    },
                })
                .collect()
        } else {
            Vec::new()
        };
        nodes.insert(
            node.name.as_str(),
            NodeData {
                executed,
                all,
                paired,
                params: Some(&node.parameters),
            },
        );
    }
    let workflow = scope.workflow();
    let execution = scope.execution();
    let payload = Payload {
        items: input.iter().map(view).collect(),
        nodes,
        node_names: ctx
            .workflow()
            .nodes
            .iter()
            .map(|n| n.name.as_str())
            .collect(),
        workflow: json!({"id": workflow.id, "name": workflow.name, "active": workflow.active}),
        execution: json!({"id": execution.id, "mode": execution.mode, "resumeUrl": execution.resume_url}),
        run_index: ctx.run_index(),
        prev_node: scope.prev_node().map_or(
            Value::Null,
            |p| json!({"name": p.name, "outputIndex": p.output_index, "runIndex": p.run_index}),
        ),
        vars: scope.vars(),
        now: scope
            .now()
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, false),
        tz: ctx.timezone(),
        params: &ctx.node().parameters,
        item_is_json,
    };
    serde_json::to_string(&payload).expect("payload serialises")
}

#[cfg(test)]
mod tests {
    use super::referenced_nodes;

    #[test]
    fn finds_literal_node_references() {
        let code = r#"const a = $('Start').first(); const b = $node["Set Amount"].json;
                      const c = $node.Webhook.json; const d = $items("Old"); $(name);"#;
        assert_eq!(
            referenced_nodes(code),
            ["Old", "Set Amount", "Start", "Webhook"]
        );
    }
}
