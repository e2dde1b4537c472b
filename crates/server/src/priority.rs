//! A workflow's queue priority (`settings.priority`): a level (`high`, `normal`, `low`), a rank
//! from 0 (most urgent) to 100, or an expression over the trigger item such as
//! `={{ $json.body.express ? 'high' : 'normal' }}`. The expression is evaluated by the process
//! that enqueues the execution, before any node runs, so what arrived decides where it waits in
//! the queue (the orders example ranks express and large orders first).

use chrono::{DateTime, FixedOffset, Utc};
use sluice_expr::{ExecutionInfo, ExprError, PrevNode, Scope, Template, WorkflowInfo};
use sluice_model::{Item, JsonObject, Value};
use sluice_queue::Priority;

/// `settings.priority`, read once when the workflow is deployed.
#[derive(Clone, Debug)]
pub enum WorkflowPriority {
    Fixed(Priority),
    /// Evaluated on the execution's first trigger item.
    Expression(Template),
}

impl WorkflowPriority {
    /// The setting in the workflow's `settings` (normal when absent); an error names the setting
    /// when it is neither a priority nor an expression that parses.
    pub fn from_settings(settings: &JsonObject) -> Result<WorkflowPriority, String> {
        let bad = |shown: &Value| {
            format!(
                "settings.priority: expected high, normal, low, a number from 0 to 100 or an \
                 expression, not {shown}"
            )
        };
        match settings.get("priority") {
            None | Some(Value::Null) => Ok(WorkflowPriority::Fixed(Priority::Normal)),
            Some(Value::String(text)) if sluice_expr::is_expression(text) => {
                Template::parse(&text[1..])
                    .map(WorkflowPriority::Expression)
                    .map_err(|e| format!("settings.priority: {e}"))
            }
            Some(value) => priority_of(value)
                .map(WorkflowPriority::Fixed)
                .ok_or_else(|| bad(value)),
        }
    }

    /// The priority of an execution started with `trigger` as its first item. An expression that
    /// fails or gives something that is not a priority counts as normal (and is logged).
    pub fn of(&self, workflow_id: &str, trigger: Option<&Item>) -> Priority {
        let template = match self {
            WorkflowPriority::Fixed(priority) => return *priority,
            WorkflowPriority::Expression(template) => template,
        };
        let scope = TriggerScope {
            item: trigger,
            now: Utc::now().fixed_offset(),
        };
        match template.evaluate(&scope) {
            Ok(value) => priority_of(&value).unwrap_or_else(|| {
                tracing::warn!(
                    "workflow {workflow_id}: settings.priority gave {value}, not a priority; \
                     using normal"
                );
                Priority::Normal
            }),
            Err(e) => {
                tracing::warn!("workflow {workflow_id}: settings.priority: {e}; using normal");
                Priority::Normal
            }
        }
    }
}

/// A level name or a rank (number or numeric text).
fn priority_of(value: &Value) -> Option<Priority> {
    match value {
        Value::String(text) => Priority::parse(text),
        Value::Number(n) => n
            .as_u64()
            .and_then(|rank| u8::try_from(rank).ok())
            .filter(|rank| *rank <= 100)
            .map(Priority::Rank),
        _ => None,
    }
}

/// What a priority expression sees: the trigger item as `$json`, the clock; no other node ran.
struct TriggerScope<'a> {
    item: Option<&'a Item>,
    now: DateTime<FixedOffset>,
}

fn not_run_yet(node: &str) -> ExprError {
    ExprError::eval(format!(
        "settings.priority can only read the trigger item, not node '{node}'"
    ))
}

impl Scope for TriggerScope<'_> {
    fn item(&self) -> Option<&Item> {
        self.item
    }

    fn input_items(&self) -> &[Item] {
        self.item.map(std::slice::from_ref).unwrap_or_default()
    }

    fn item_index(&self) -> usize {
        0
    }

    fn run_index(&self) -> usize {
        0
    }

    fn paired_item(&self, node: &str) -> Result<&Item, ExprError> {
        Err(not_run_yet(node))
    }

    fn node_items(
        &self,
        node: &str,
        _output: Option<usize>,
        _run: Option<usize>,
    ) -> Result<&[Item], ExprError> {
        Err(not_run_yet(node))
    }

    fn node_executed(&self, _node: &str) -> bool {
        false
    }

    fn node_parameters(&self, _node: &str) -> Option<&Value> {
        None
    }

    fn current_node(&self) -> &str {
        ""
    }

    fn prev_node(&self) -> Option<PrevNode> {
        None
    }

    fn workflow(&self) -> WorkflowInfo {
        WorkflowInfo::default()
    }

    fn execution(&self) -> ExecutionInfo {
        ExecutionInfo::default()
    }

    fn now(&self) -> DateTime<FixedOffset> {
        self.now
    }

    fn timezone(&self) -> &str {
        "UTC"
    }

    fn vars(&self) -> Option<&JsonObject> {
        None
    }

    fn env(&self, _name: &str) -> Result<Option<String>, ExprError> {
        Err(ExprError::eval("access to env vars denied"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn setting(value: Value) -> Result<WorkflowPriority, String> {
        let Value::Object(settings) = json!({ "priority": value }) else {
            unreachable!()
        };
        WorkflowPriority::from_settings(&settings)
    }

    fn order(body: Value) -> Item {
        Item::from_value(json!({ "body": body }))
    }

    #[test]
    fn levels_and_ranks_are_fixed() {
        let of = |v: Value| setting(v).unwrap().of("wf", None);
        assert_eq!(of(json!("high")), Priority::High);
        assert_eq!(of(json!(7)), Priority::Rank(7));
        assert_eq!(of(Value::Null), Priority::Normal);
        assert!(setting(json!("urgent"))
            .unwrap_err()
            .contains("settings.priority"));
        assert!(setting(json!(101)).is_err());
    }

    #[test]
    fn an_expression_ranks_each_execution_by_its_trigger_item() {
        let priority = setting(json!(
            "={{ $json.body.express ? 'high' : $json.body.total < 10 ? 'low' : 50 }}"
        ))
        .unwrap();
        let of = |body| priority.of("wf", Some(&order(body)));
        assert_eq!(of(json!({"express": true})), Priority::High);
        assert_eq!(of(json!({"total": 5})), Priority::Low);
        assert_eq!(of(json!({"total": 500})), Priority::Rank(50));
    }

    #[test]
    fn an_expression_that_gives_no_priority_counts_as_normal() {
        let of = |source: &str| {
            setting(json!(source))
                .unwrap()
                .of("wf", Some(&order(json!({}))))
        };
        assert_eq!(of("={{ 'soon' }}"), Priority::Normal);
        assert_eq!(of("={{ $('Other').item.json.x }}"), Priority::Normal);
        assert!(setting(json!("={{ ( }}"))
            .unwrap_err()
            .starts_with("settings.priority"));
    }
}
