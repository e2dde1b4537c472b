//! The QuickJS fallback: expression chunks the native evaluator does not understand (loops,
//! classes, look-around regexes, ...) run as JavaScript in the sandboxed QuickJS runtime, with
//! the same variables. Also builds the payload the Code node's JavaScript reads, so both see the
//! same `$input`, `$('Node')`, `$workflow`, ... from one place.

use crate::value::Val;
use crate::{ExprError, Scope};
use serde_json::{json, Value};
use sluice_js::{
    check_expression, eval_expression, ExpressionValue, JsError, Limits, NodeData, Payload,
    PayloadItem, Rendering,
};
use sluice_model::{Item, JsonObject};

/// One chunk compiled for QuickJS.
#[derive(Debug)]
pub struct JsChunk {
    source: String,
    /// Node names the chunk references literally.
    referenced: Vec<String>,
    /// Whether it reads the whole input (`$input`, `items`, `$items`), not just its own item.
    reads_input: bool,
    /// Whether the chunk sits in text, so QuickJS renders its value as a string.
    rendering: Rendering,
}

impl JsChunk {
    /// Compile `source` in QuickJS for use as `rendering` says; `None` when it is not valid
    /// JavaScript either.
    pub fn compile(source: &str, rendering: Rendering) -> Option<JsChunk> {
        check_expression(source).ok()?;
        Some(JsChunk {
            source: source.to_string(),
            referenced: referenced_nodes(source),
            reads_input: ["$input", "items", "$items"]
                .iter()
                .any(|name| source.contains(name)),
            rendering,
        })
    }

    /// Evaluate for the scope's current item.
    pub fn eval<'a>(&self, scope: &dyn Scope) -> Result<Val<'a>, ExprError> {
        let items = if self.reads_input {
            PayloadItems::All
        } else {
            PayloadItems::Current
        };
        let payload = payload(scope, &self.referenced, items, false, None);
        let value = eval_expression(
            &self.source,
            payload,
            scope.item_index(),
            self.rendering,
            Limits::default(),
        )
        .map_err(|e| match e {
            JsError::Thrown { message, .. } => ExprError::eval(message),
            other => ExprError::eval(other.to_string()),
        })?;
        Ok(match value {
            ExpressionValue::Undefined => Val::Undefined,
            ExpressionValue::NonFinite(n) => Val::Num(n),
            ExpressionValue::Json(v) => Val::from_owned_json(v),
        })
    }
}

/// How code opens a read of another node's data by its name: `$('X')`, `$node["X"]`,
/// `$items("X")` (and `$node.X`, which always writes the name out).
const NAMED_READS: [&str; 3] = ["$(", "$node[", "$items("];

/// Whether `code` reads a node whose name it does not write out (`$(name)`, `$node[key]`,
/// `$items(other)`; `$items()` is the node's own input), so that which nodes it reads cannot be
/// told from the text.
pub fn reads_unnamed_node(code: &str) -> bool {
    NAMED_READS.iter().any(|open| {
        code.match_indices(open).any(|(at, _)| {
            let rest = code[at + open.len()..].trim_start();
            let own_input = *open == "$items(" && rest.starts_with(')');
            !own_input && !rest.starts_with(['\'', '"', '`'])
        })
    })
}

/// Node names referenced with a literal name: `$('X')`, `$("X")`, `$node["X"]`, `$node.X`,
/// `$items("X")`.
pub fn referenced_nodes(code: &str) -> Vec<String> {
    let mut names = Vec::new();
    for open in NAMED_READS {
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
            if let Some(end) = trimmed[1..].find(quote) {
                names.push(trimmed[1..1 + end].to_string());
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

/// Which input items the payload carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PayloadItems {
    /// The whole input (Code nodes; expressions that read `$input`).
    All,
    /// Only the scope's current item.
    Current,
}

fn payload_item(item: &Item) -> PayloadItem {
    PayloadItem {
        json: item.json.clone(),
        binary: item.binary.clone(),
    }
}

/// What `sluice_js` gives the code: the input items, the referenced nodes' data (all items, and
/// the item paired with each input item), workflow and execution metadata. `static_data` is what
/// `$getWorkflowStaticData('global' | 'node')` returns (`{global?, node?}`); the Code node passes
/// it and reads the changed object back from the output.
pub fn payload(
    scope: &dyn Scope,
    referenced: &[String],
    items: PayloadItems,
    item_is_json: bool,
    static_data: Option<JsonObject>,
) -> Payload {
    let input = scope.input_items();
    let (items, item_offset) = match items {
        PayloadItems::All => (input.iter().map(payload_item).collect(), 0),
        PayloadItems::Current => (
            scope.item().map(payload_item).into_iter().collect(),
            scope.item_index(),
        ),
    };
    let nodes = referenced
        .iter()
        .filter_map(|name| {
            let params = scope.node_parameters(name)?;
            let executed = scope.node_executed(name);
            let all = scope
                .node_items(name, None, None)
                .map(|items| items.iter().map(payload_item).collect())
                .unwrap_or_default();
            let paired = if executed {
                (0..input.len())
                    .map(|i| {
                        scope
                            .paired_item_at(name, i)
                            .map(payload_item)
                            .map_err(|e| e.to_string())
                    })
                    .collect()
            } else {
                Vec::new()
            };
            let data = NodeData {
                executed,
                all,
                paired,
                params: params.clone(),
                context: scope.node_context(name),
            };
            Some((name.clone(), data))
        })
        .collect();
    let workflow = scope.workflow();
    let execution = scope.execution();
    let prev_node = scope.prev_node().map_or(
        Value::Null,
        |p| json!({"name": p.name, "outputIndex": p.output_index, "runIndex": p.run_index}),
    );
    let metadata = [
        (
            "workflow",
            json!({"id": workflow.id, "name": workflow.name, "active": workflow.active}),
        ),
        (
            "execution",
            json!({"id": execution.id, "mode": execution.mode, "resumeUrl": execution.resume_url}),
        ),
        ("runIndex", json!(scope.run_index())),
        ("prevNode", prev_node),
        ("vars", json!(scope.vars())),
        (
            "now",
            json!(scope
                .now()
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, false)),
        ),
        ("tz", json!(scope.timezone())),
        ("params", json!(scope.node_parameters(scope.current_node()))),
        ("itemIsJson", json!(item_is_json)),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_string(), value))
    .collect();
    Payload {
        items,
        item_offset,
        nodes,
        metadata,
        static_data,
    }
}

#[cfg(test)]
mod tests {
    use super::{reads_unnamed_node, referenced_nodes};

    #[test]
    fn finds_literal_node_references() {
        let code = r#"const a = $('Start').first(); const b = $node["Set Amount"].json;
                      const c = $node.Webhook.json; const d = $items("Old"); $(name);"#;
        assert_eq!(
            referenced_nodes(code),
            ["Old", "Set Amount", "Start", "Webhook"]
        );
    }

    #[test]
    fn tells_reads_of_unnamed_nodes_apart() {
        for code in [
            "={{ $('Source').item.json.n }}",
            "={{ $( \"Source\" ).all() }}",
            "={{ $node[`Source`].json.n }}",
            "={{ $node.Source.json.n }}",
            "={{ $items('Source').length + $items().length }}",
        ] {
            assert!(!reads_unnamed_node(code), "{code}");
        }
        for code in [
            "={{ $(name).all() }}",
            "const names = ['A']; return $(names[0]).all();",
            "={{ $node[key].json }}",
            "={{ $items(other) }}",
        ] {
            assert!(reads_unnamed_node(code), "{code}");
        }
    }
}
