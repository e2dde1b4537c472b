//! The Code node in Python: `language` `python` (n8n's Pyodide) and `pythonNative` (n8n 2.x's
//! task runner). The code runs in a CPython process of its own, started per node run with the
//! items on its stdin, as the body of an async function (`python_runner.py`), so it can `return`
//! and `await` at top level. It sees what n8n gives Python code: `_input.all()` / `.first()` /
//! `.last()` / `.item`, `_json`, `_items`, `_item`, `_itemIndex`, `_runIndex`, `_workflow`,
//! `_execution` and `_('Node')`, with objects
//! readable both as `item.json.name` (Pyodide) and `item["json"]["name"]` (native).
//!
//! Python runs with this process's permissions and any module the interpreter can import, so it
//! is off unless `SLUICE_CODE_PYTHON` names the interpreter (`python3`): a deployment that takes
//! workflows from others should leave it unset, as n8n 2.x leaves Execute Command out. The run's
//! time limit is the JavaScript one (`SLUICE_CODE_TIMEOUT_SECS`); when it passes, or the
//! execution stops, the process and whatever it started are killed.

use super::{finish, item_wise, CodeMode};
use crate::util::process_group::KillGroupOnDrop;
use serde_json::json;
use sluice_engine::{ExecuteContext, ItemWise, Node, NodeError, NodeOutputs};
use sluice_expr::Scope;
use sluice_js::{CodeOutput, JsError, OutputItem};
use sluice_model::{Item, ItemJson, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;

/// The setting that turns Python on, naming the interpreter.
const INTERPRETER_SETTING: &str = "SLUICE_CODE_PYTHON";

/// The program that runs the code (see its header for the protocol).
const RUNNER: &str = include_str!("python_runner.py");

pub(super) struct PythonNode {
    interpreter: String,
    code: String,
    mode: CodeMode,
    /// Node names the code reads with `_('Name')`.
    referenced: BTreeSet<String>,
    time_limit: Duration,
}

pub(super) fn build(
    code: String,
    mode: CodeMode,
    time_limit: Duration,
) -> Result<Box<dyn Node>, NodeError> {
    let interpreter = std::env::var(INTERPRETER_SETTING)
        .ok()
        .filter(|name| !name.trim().is_empty())
        .ok_or_else(|| {
            NodeError::new(format!(
                "Python code is off on this deployment: set {INTERPRETER_SETTING} to a Python 3 \
                 interpreter (e.g. python3) to run it, with this process's permissions"
            ))
            .with_parameter("language")
        })?;
    Ok(Box::new(PythonNode {
        interpreter,
        referenced: referenced_nodes(&code),
        code,
        mode,
        time_limit,
    }))
}

/// The names in `_('Name')` / `_("Name")` calls.
fn referenced_nodes(code: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut rest = code;
    while let Some(at) = rest.find("_(") {
        let before = rest[..at].chars().next_back();
        let after = rest[at + 2..].trim_start();
        rest = &rest[at + 2..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.') {
            continue;
        }
        let Some(quote) = after.chars().next().filter(|c| *c == '\'' || *c == '"') else {
            continue;
        };
        if let Some(end) = after[1..].find(quote) {
            names.insert(after[1..1 + end].to_string());
        }
    }
    names
}

/// The runner's request (see `python_runner.py`). Items are written as they are (`{json,
/// binary?, pairedItem?}`), straight from the node's input and the run data.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct Request<'a> {
    code: &'a str,
    mode: &'static str,
    run_index: usize,
    workflow: Value,
    execution: Value,
    items: &'a [Item],
    nodes: BTreeMap<&'a str, NodeItems<'a>>,
}

/// A node the code reads with `_('Name')`: its items, and in per-item mode the item each input
/// item derives from (`.item`).
#[derive(serde::Serialize)]
struct NodeItems<'a> {
    all: &'a [Item],
    paired: Option<Vec<Option<&'a Item>>>,
}

/// What the runner answered: the value each run returned and the printed lines, or the error.
type Answer = Result<(Vec<Value>, Vec<String>), JsError>;

/// The runner's answer line; `None` when it is not one.
fn answer(line: &str) -> Option<Answer> {
    let Value::Object(mut answer) = serde_json::from_str(line).ok()? else {
        return None;
    };
    let index = |value: Option<&Value>| value.and_then(Value::as_u64).map(|n| n as usize);
    Some(match answer.get("ok")?.as_bool()? {
        true => {
            let Some(Value::Array(runs)) = answer.remove("runs") else {
                return None;
            };
            let logs = match answer.remove("logs") {
                Some(Value::Array(lines)) => lines
                    .into_iter()
                    .filter_map(|line| line.as_str().map(str::to_string))
                    .collect(),
                _ => Vec::new(),
            };
            Ok((runs, logs))
        }
        false => Err(JsError::Thrown {
            message: answer.get("error")?.as_str()?.to_string(),
            line: index(answer.get("line")),
            item: index(answer.get("item")),
        }),
    })
}

#[async_trait::async_trait]
impl Node for PythonNode {
    fn item_wise(&self) -> ItemWise {
        item_wise(self.mode)
    }

    async fn execute(&self, ctx: &ExecuteContext<'_>) -> Result<NodeOutputs, NodeError> {
        let request = self.request(ctx)?;
        let output = self
            .run(request)
            .await?
            .and_then(|(runs, logs)| self.output(runs, logs));
        finish(ctx, output)
    }
}

impl PythonNode {
    /// The runner's request: the code, the input items, and the items of the nodes it names.
    fn request(&self, ctx: &ExecuteContext<'_>) -> Result<Vec<u8>, NodeError> {
        let input = ctx.main_input();
        let scope = ctx.scope(0);
        let mut nodes = BTreeMap::new();
        for name in &self.referenced {
            let all = scope
                .node_items(name, None, None)
                .map_err(|_| NodeError::new(format!("Referenced node doesn't exist: {name}")))?;
            let paired = matches!(self.mode, CodeMode::EachItem).then(|| {
                (0..input.len())
                    .map(|i| scope.paired_item_at(name, i).ok())
                    .collect()
            });
            nodes.insert(name.as_str(), NodeItems { all, paired });
        }
        let (workflow, execution) = (scope.workflow(), scope.execution());
        let request = Request {
            code: &self.code,
            mode: match self.mode {
                CodeMode::EachItem => "each",
                CodeMode::AllItems => "all",
            },
            run_index: ctx.run_index(),
            workflow: json!({"id": workflow.id, "name": workflow.name, "active": workflow.active}),
            execution: json!({"id": execution.id, "mode": execution.mode, "resumeUrl": execution.resume_url}),
            items: input,
            nodes,
        };
        serde_json::to_vec(&request).map_err(|e| NodeError::new(e.to_string()))
    }

    /// Runs the runner on `request` within the time limit.
    async fn run(&self, request: Vec<u8>) -> Result<Answer, NodeError> {
        let mut child = tokio::process::Command::new(&self.interpreter)
            .arg("-c")
            .arg(RUNNER)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()
            .map_err(|e| {
                NodeError::new(format!(
                    "cannot start the Python interpreter '{}' ({INTERPRETER_SETTING}): {e}",
                    self.interpreter
                ))
                .with_parameter("language")
            })?;
        let group = KillGroupOnDrop::new(&child);
        let mut stdin = child.stdin.take().expect("stdin is piped");
        let write = async move {
            // A runner that stops reading has failed; its answer says why.
            let _ = stdin.write_all(&request).await;
        };
        let output = tokio::time::timeout(self.time_limit, async {
            tokio::join!(write, child.wait_with_output()).1
        })
        .await
        .map_err(|_| NodeError::new(JsError::Timeout(self.time_limit.as_secs()).to_string()))?
        .map_err(|e| NodeError::new(format!("the Python process's output was lost: {e}")))?;
        group.disarm();
        let stdout = String::from_utf8_lossy(&output.stdout);
        answer(stdout.lines().last().unwrap_or_default()).ok_or_else(|| {
            let stderr = String::from_utf8_lossy(&output.stderr);
            let reason = stderr.lines().last().unwrap_or("no output").trim();
            NodeError::new(format!(
                "the Python interpreter '{}' ended without an answer ({}): {reason}",
                self.interpreter, output.status
            ))
        })
    }

    /// The runs' return values as output items: a list of items or one item, each `{json,
    /// binary?}` or the JSON itself; per-item runs' items are paired with their input item and
    /// a run that returns nothing gives none.
    fn output(&self, runs: Vec<Value>, logs: Vec<String>) -> Result<CodeOutput, JsError> {
        let mut items = Vec::new();
        for (run, returned) in runs.into_iter().enumerate() {
            let input = matches!(self.mode, CodeMode::EachItem).then_some(run);
            let returned = match returned {
                Value::Null => continue,
                Value::Array(list) => list,
                object @ Value::Object(_) => vec![object],
                other => return Err(not_items(&other, input)),
            };
            for value in returned {
                items.push(output_item(value, input)?);
            }
        }
        Ok(CodeOutput {
            items,
            logs,
            static_data: None,
        })
    }
}

fn output_item(value: Value, input: Option<usize>) -> Result<OutputItem, JsError> {
    let Value::Object(mut object) = value else {
        return Err(not_items(&value, input));
    };
    let (json, binary) = match object.remove("json") {
        Some(Value::Object(json)) => {
            let binary = match object.remove("binary") {
                Some(Value::Object(binary)) => Some(Box::new(binary)),
                _ => None,
            };
            (json, binary)
        }
        Some(other) => {
            object.insert("json".into(), other);
            (object, None)
        }
        None => (object, None),
    };
    Ok(OutputItem {
        json: Arc::new(ItemJson::from(json)),
        binary,
        paired_item: input.map(|i| Box::new(json!({ "item": i }))),
    })
}

fn not_items(value: &Value, input: Option<usize>) -> JsError {
    let kind = match value {
        Value::Null => "None",
        Value::Bool(_) => "a bool",
        Value::Number(_) => "a number",
        Value::String(_) => "a str",
        Value::Array(_) => "a list",
        Value::Object(_) => "a dict",
    };
    JsError::Thrown {
        message: format!(
            "the code returned {kind} where items go: return a list of dicts (or one dict)"
        ),
        line: None,
        item: input,
    }
}

#[cfg(test)]
mod tests {
    use super::referenced_nodes;

    #[test]
    fn referenced_nodes_are_the_quoted_names_of_underscore_calls() {
        let code =
            "a = _('Orders').all()\nb = _( \"Set it\" ).first()\nc = my_('No')\nd = x._('No')";
        let names: Vec<_> = referenced_nodes(code).into_iter().collect();
        assert_eq!(names, ["Orders", "Set it"]);
    }
}
