//! The caller's side of sub-workflow inputs (Execute Workflow ≥1.2, `workflowInputs`): a
//! resource mapper whose `schema` copies the fields the sub-workflow's trigger declares and
//! whose `value` maps each field, usually with an expression. Each input item becomes one item
//! holding only the mapped fields (minus the ones removed in the editor), each value checked
//! against its field's type: as is when `attemptToConvertTypes` is off (string fields only
//! when `convertFieldsToString` is on), converted with n8n's field conversion when it is on.
//! As in n8n, the types are checked here, against the caller's copy of the schema; the
//! trigger only keeps its declared fields.

use crate::util::params::{unsupported, Reader};
use crate::util::types::FieldType;
use sluice_engine::{ExecuteContext, NodeError};
use sluice_expr::json_js;
use sluice_model::{Item, JsonObject, NodeDef, Value};
use std::collections::HashSet;

/// One field of the mapper's schema.
struct InputField {
    id: String,
    /// `None` for `any` (and types the trigger does not offer): never checked.
    kind: Option<FieldType>,
    required: bool,
}

pub(super) struct WorkflowInputs {
    fields: Vec<InputField>,
    /// Fields removed in the editor: not passed (the trigger sets them to null).
    removed: HashSet<String>,
    attempt_to_convert: bool,
    check_strings: bool,
}

impl WorkflowInputs {
    /// The mapping of a v1.2+ node whose schema declares fields; `None` (pass the input items
    /// on) before v1.2 or when the sub-workflow accepts all data (empty schema).
    pub fn parse(def: &NodeDef) -> Result<Option<WorkflowInputs>, NodeError> {
        let r = Reader::new(&def.parameters);
        let schema = r.list("workflowInputs.schema")?;
        if def.version() < 1.2 || schema.is_empty() {
            return Ok(None);
        }
        match r.str_or("workflowInputs.mappingMode", "defineBelow")? {
            "defineBelow" => {}
            other => return Err(unsupported("workflowInputs.mappingMode", other)),
        }
        let id = |field: &Value| field["id"].as_str().unwrap_or_default().to_string();
        let (removed, kept): (Vec<&Value>, Vec<&Value>) = schema
            .iter()
            .partition(|field| field["removed"].as_bool() == Some(true));
        Ok(Some(WorkflowInputs {
            fields: kept
                .into_iter()
                .map(|field| InputField {
                    id: id(field),
                    kind: field["type"].as_str().and_then(FieldType::from_name),
                    required: field["required"].as_bool() == Some(true),
                })
                .collect(),
            removed: removed.into_iter().map(id).collect(),
            attempt_to_convert: r.bool_or("workflowInputs.attemptToConvertTypes", false)?,
            check_strings: r.bool_or("workflowInputs.convertFieldsToString", false)?,
        }))
    }

    /// The item the sub-workflow gets for input item `item`.
    pub fn item(&self, ctx: &ExecuteContext<'_>, item: usize) -> Result<Item, NodeError> {
        let values = match ctx.param("workflowInputs.value", item)? {
            Value::Object(values) => values,
            Value::Null => JsonObject::new(),
            other => {
                return Err(NodeError::new(format!(
                    "the workflow inputs must be an object of field values, got {other}"
                ))
                .with_parameter("workflowInputs.value")
                .with_item(item))
            }
        };
        let mut json = JsonObject::new();
        for (name, value) in values {
            if self.removed.contains(&name) {
                continue;
            }
            let value = self.check(&name, value).map_err(|problem| {
                NodeError::new(format!("Invalid input for '{name}': {problem}"))
                    .with_description(problem)
                    .with_parameter(format!("workflowInputs.value.{name}"))
                    .with_item(item)
            })?;
            json.insert(name, value);
        }
        Ok(Item::new(json).paired_to(item))
    }

    /// `value` as field `name` takes it, or n8n's description of why it does not.
    fn check(&self, name: &str, value: Value) -> Result<Value, String> {
        let Some(field) = self.fields.iter().find(|f| f.id == name) else {
            return Ok(value);
        };
        if field.required && value.is_null() && field.kind != Some(FieldType::Boolean) {
            return Err(format!("The value \"{name}\" is required but not set"));
        }
        let Some(kind) = field.kind else {
            return Ok(value);
        };
        if kind == FieldType::String && !self.check_strings {
            return Ok(value);
        }
        let expected = |value: &Value| {
            format!(
                "'{name}' expects a {} but we got {}",
                kind.name(),
                describe(value)
            )
        };
        if !self.attempt_to_convert && !kind.holds(&value) {
            return Err(expected(&value));
        }
        kind.convert(value).map_err(|original| expected(&original))
    }
}

/// How n8n names a value in a type error: quoted text for scalars, `array` or `object`.
fn describe(value: &Value) -> String {
    match value {
        Value::Array(_) => "array".into(),
        Value::Object(_) => "object".into(),
        other => format!("'{}'", json_js::to_js_string(other)),
    }
}
