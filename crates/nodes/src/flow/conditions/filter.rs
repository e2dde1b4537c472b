//! n8n's `filter` parameter (IF ≥2, Filter ≥2, Switch ≥3): typed conditions
//! `{leftValue, rightValue, operator: {type, operation, rightType?, singleValue?}}` joined by a
//! combinator, with `options {caseSensitive, typeValidation, version}`.

use super::coerce::{coerce, Typed, Validation, ValueType};
use super::operator::{apply, Operation, RegexCache};
use super::NodeSettings;
use crate::util::params::Reader;
use chrono_tz::Tz;
use serde_json::Value;
use sluice_engine::{ExecuteContext, NodeError, Param};

/// One compiled filter parameter.
#[derive(Debug)]
pub struct FilterConditions {
    /// Where the parameter sits (`conditions`, `rules.values[0].conditions`), for errors.
    path: String,
    conditions: Vec<Condition>,
    any: bool,
    ignore_case: bool,
    loose: bool,
    version: u8,
    uses_dates: bool,
    hint: &'static str,
}

#[derive(Debug)]
struct Condition {
    left: Param,
    right: Param,
    ty: ValueType,
    right_type: ValueType,
    op: Operation,
    single_value: bool,
    regexes: RegexCache,
}

impl FilterConditions {
    /// Compile the filter parameter `param`, which sits at `path` (`conditions`,
    /// `rules.values[0].conditions`; used in errors).
    pub fn build(param: &Param, path: &str, node: &NodeSettings) -> Result<Self, NodeError> {
        if param.is_expression() && param.get("conditions").is_none() {
            return Err(
                NodeError::new("conditions cannot be set by an expression").with_parameter(path)
            );
        }
        let setting = |key: &str| {
            Reader::fixed(param).get(key).map_err(|e| NodeError {
                parameter: Some(format!("{path}.{key}")),
                ..e
            })
        };
        let invalid = |key: &str, message: String| {
            Err(NodeError::new(message).with_parameter(format!("{path}.{key}")))
        };
        let case_sensitive = match setting("options.caseSensitive")? {
            None | Some(Value::Bool(true)) => true,
            Some(Value::Bool(false)) => false,
            Some(other) => {
                return invalid(
                    "options.caseSensitive",
                    format!("expected true or false, got {other}"),
                )
            }
        };
        let loose = match setting("options.typeValidation")? {
            None => false,
            Some(Value::String(s)) if s == "strict" => false,
            Some(Value::String(s)) if s == "loose" => true,
            Some(other) => {
                return invalid(
                    "options.typeValidation",
                    format!("unknown type validation {other} (expected 'strict' or 'loose')"),
                )
            }
        };
        let version = match setting("options.version")? {
            None => 1,
            Some(v) => match v.as_u64() {
                Some(n @ 1..=3) => n as u8,
                _ => {
                    return invalid(
                        "options.version",
                        format!("unknown filter version {v} (expected 1, 2 or 3)"),
                    )
                }
            },
        };
        let any = match setting("combinator")? {
            None => false,
            Some(Value::String(s)) if s == "and" => false,
            Some(Value::String(s)) if s == "or" => true,
            Some(other) => {
                return invalid(
                    "combinator",
                    format!("unknown combinator {other} (expected 'and' or 'or')"),
                )
            }
        };
        let conditions = param
            .at("conditions")
            .elements()
            .iter()
            .enumerate()
            .map(|(i, c)| Condition::build(c, &format!("{path}.conditions[{i}]")))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(FilterConditions {
            path: path.to_string(),
            uses_dates: conditions
                .iter()
                .any(|c| c.ty == ValueType::DateTime || c.right_type == ValueType::DateTime),
            conditions,
            any,
            ignore_case: node.ignore_case || !case_sensitive,
            loose: node.loose || loose,
            version,
            hint: node.hint,
        })
    }

    /// Whether item `item_index` passes. Conditions run in order and stop as soon as the
    /// combinator is decided, so a later condition's type error only counts when it is reached.
    pub fn evaluate(&self, ctx: &ExecuteContext<'_>, item_index: usize) -> Result<bool, NodeError> {
        let validation = Validation {
            loose: self.loose,
            version: self.version,
            tz: if self.uses_dates {
                super::timezone(ctx)
            } else {
                Tz::UTC
            },
        };
        for (index, condition) in self.conditions.iter().enumerate() {
            let pass = condition
                .evaluate(ctx, item_index, validation, self.ignore_case)
                .map_err(|e| match e {
                    ConditionError::Node(e) => e,
                    ConditionError::Value(message) => {
                        // The item over the node's whole input, as a run on all items names
                        // it (a streamed chunk starts at `first_item`).
                        let item = ctx.first_item() + item_index;
                        NodeError::new(format!("{message} [condition {index}, item {item}]"))
                            .with_description(self.hint)
                            .with_parameter(self.path.as_str())
                            .with_item(item_index)
                    }
                })?;
            if pass == self.any {
                return Ok(pass);
            }
        }
        Ok(!self.any)
    }
}

enum ConditionError {
    /// An expression failed to evaluate.
    Node(NodeError),
    /// A value had the wrong type, or a regex did not compile.
    Value(String),
}

impl Condition {
    fn build(param: &Param, path: &str) -> Result<Condition, NodeError> {
        let operator_path = format!("{path}.operator");
        let operator = param.at("operator");
        let text = |key: &str| -> Result<Option<&str>, NodeError> {
            match operator.at(key) {
                Param::Literal(Value::Null) => Ok(None),
                Param::Literal(Value::String(s)) => Ok(Some(s)),
                _ => Err(
                    NodeError::new(format!("operator {key} must be a fixed string"))
                        .with_parameter(format!("{operator_path}.{key}")),
                ),
            }
        };
        let type_name = text("type")?.unwrap_or("string");
        let ty = ValueType::parse(type_name).ok_or_else(|| {
            NodeError::new(format!("unknown operator type '{type_name}'"))
                .with_parameter(format!("{operator_path}.type"))
        })?;
        let operation = text("operation")?.unwrap_or("equals");
        let op = Operation::parse(ty, operation).ok_or_else(|| {
            NodeError::new(format!(
                "unknown operation '{operation}' for operator type '{type_name}'"
            ))
            .with_parameter(format!("{operator_path}.operation"))
        })?;
        let right_type = match text("rightType")? {
            None => ty,
            Some(name) => ValueType::parse(name).ok_or_else(|| {
                NodeError::new(format!("unknown operator right type '{name}'"))
                    .with_parameter(format!("{operator_path}.rightType"))
            })?,
        };
        let single_value = op.is_single_value()
            || matches!(
                operator.at("singleValue"),
                Param::Literal(Value::Bool(true))
            );
        Ok(Condition {
            left: param.at("leftValue").clone(),
            right: param.at("rightValue").clone(),
            ty,
            right_type,
            op,
            single_value,
            regexes: RegexCache::default(),
        })
    }

    fn evaluate(
        &self,
        ctx: &ExecuteContext<'_>,
        item_index: usize,
        validation: Validation,
        ignore_case: bool,
    ) -> Result<bool, ConditionError> {
        let left = ctx
            .resolve(&self.left, item_index)
            .map_err(ConditionError::Node)?;
        let left = coerce(left, self.ty, validation).map_err(ConditionError::Value)?;
        let right = if self.single_value {
            Typed::Missing
        } else {
            let right = ctx
                .resolve(&self.right, item_index)
                .map_err(ConditionError::Node)?;
            coerce(right, self.right_type, validation).map_err(ConditionError::Value)?
        };
        apply(self.ty, self.op, left, right, ignore_case, &self.regexes)
            .map_err(ConditionError::Value)
    }
}
