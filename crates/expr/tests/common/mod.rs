//! A small in-memory [`Scope`] for the integration tests.
#![allow(dead_code)]

use chrono::{DateTime, FixedOffset};
use serde_json::{json, Value};
use sluice_expr::{ExecutionInfo, ExprError, PrevNode, Scope, Template, WorkflowInfo};
use sluice_model::{Item, JsonObject};
use std::collections::HashMap;

pub struct TestScope {
    pub input: Vec<Item>,
    pub index: usize,
    pub nodes: HashMap<String, Vec<Item>>,
    pub params: HashMap<String, Value>,
    pub vars: JsonObject,
    pub allow_env: bool,
    pub timezone: String,
    pub now: DateTime<FixedOffset>,
}

pub fn item(v: Value) -> Item {
    Item::from_value(v)
}

impl TestScope {
    pub fn new(json: Value) -> Self {
        let mut nodes = HashMap::new();
        nodes.insert(
            "Webhook".to_string(),
            vec![
                item(json!({"body": {"name": "Ann", "id": 7}})),
                item(json!({"body": {"name": "Bob", "id": 8}})),
            ],
        );
        nodes.insert("Empty".to_string(), vec![]);
        let mut params = HashMap::new();
        params.insert(
            "Webhook".to_string(),
            json!({"path": "hook", "httpMethod": "POST"}),
        );
        params.insert("Empty".to_string(), json!({}));
        params.insert("Current".to_string(), json!({"value": 42, "mode": "fast"}));
        params.insert("Prev".to_string(), json!({"url": "https://x.test"}));
        TestScope {
            input: vec![item(json), item(json!({"second": true}))],
            index: 0,
            nodes,
            params,
            vars: json!({"region": "eu"}).as_object().unwrap().clone(),
            allow_env: false,
            timezone: "UTC".into(),
            now: DateTime::parse_from_rfc3339("2024-01-15T10:30:00Z").unwrap(),
        }
    }
}

impl Scope for TestScope {
    fn item(&self) -> Option<&Item> {
        self.input.get(self.index)
    }
    fn input_items(&self) -> &[Item] {
        &self.input
    }
    fn item_index(&self) -> usize {
        self.index
    }
    fn run_index(&self) -> usize {
        2
    }
    fn paired_item(&self, node: &str) -> Result<&Item, ExprError> {
        self.nodes
            .get(node)
            .and_then(|items| items.get(self.index))
            .ok_or_else(|| {
                ExprError::eval(format!(
                    "Paired item data for item from node '{node}' is unavailable"
                ))
            })
    }
    fn node_items(
        &self,
        node: &str,
        output: Option<usize>,
        _run: Option<usize>,
    ) -> Result<&[Item], ExprError> {
        if output.unwrap_or(0) > 0 {
            return Ok(&[]);
        }
        self.nodes
            .get(node)
            .map(Vec::as_slice)
            .ok_or_else(|| ExprError::eval("Referenced node doesn't exist"))
    }
    fn node_executed(&self, node: &str) -> bool {
        self.nodes.get(node).is_some_and(|i| !i.is_empty())
    }
    fn node_parameters(&self, node: &str) -> Option<&Value> {
        self.params.get(node)
    }
    fn current_node(&self) -> &str {
        "Current"
    }
    fn prev_node(&self) -> Option<PrevNode> {
        Some(PrevNode {
            name: "Prev".into(),
            output_index: 0,
            run_index: 1,
        })
    }
    fn workflow(&self) -> WorkflowInfo {
        WorkflowInfo {
            id: "wf1".into(),
            name: "My flow".into(),
            active: true,
        }
    }
    fn execution(&self) -> ExecutionInfo {
        ExecutionInfo {
            id: "ex9".into(),
            mode: "test".into(),
            resume_url: "http://r".into(),
        }
    }
    fn now(&self) -> DateTime<FixedOffset> {
        self.now
    }
    fn timezone(&self) -> &str {
        &self.timezone
    }
    fn vars(&self) -> Option<&JsonObject> {
        Some(&self.vars)
    }
    fn env(&self, name: &str) -> Result<Option<String>, ExprError> {
        if self.allow_env {
            Ok((name == "HOME").then(|| "/home/test".to_string()))
        } else {
            Err(ExprError::eval("access to env vars denied"))
        }
    }
}

/// The default item used by most tests.
pub fn sample() -> Value {
    json!({
        "amount": 150,
        "name": "Alice Smith",
        "email": "alice@example.com",
        "tags": ["a", "b", "c"],
        "nums": [3, 1, 2],
        "nested": {"deep": {"value": 1}},
        "contact": null,
        "price": "19.99",
        "people": [{"name": "Zed", "age": 30}, {"name": "Amy", "age": 25}],
        "date": "2024-03-30T18:49:07.234Z",
        "empty": "",
        "zero": 0
    })
}

/// Evaluates `={...}` template text against the sample item.
pub fn eval(src: &str) -> Value {
    eval_in(&TestScope::new(sample()), src)
}

pub fn eval_in(scope: &TestScope, src: &str) -> Value {
    Template::parse(src)
        .unwrap_or_else(|e| panic!("parse {src}: {e}"))
        .evaluate(scope)
        .unwrap_or_else(|e| panic!("eval {src}: {e:?}"))
}

pub fn eval_err(src: &str) -> ExprError {
    match Template::parse(src) {
        Err(e) => e,
        Ok(t) => t.evaluate(&TestScope::new(sample())).expect_err(src),
    }
}

/// Asserts that each `{{ code }}` evaluates to the JSON value.
pub fn check(cases: &[(&str, Value)]) {
    for (code, expected) in cases {
        let got = eval(&format!("{{{{ {code} }}}}"));
        assert_eq!(&got, expected, "{code}");
    }
}

/// Equal as n8n would print them: numbers by value (so 2 == 2.0 and -0 == 0).
pub fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}
