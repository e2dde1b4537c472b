//! The legacy condition format of IF v1, Filter v1 and Switch v1/v2:
//! `conditions: {boolean: [{value1, operation, value2}], number: [...], string: [...],
//! dateTime: [...]}` combined by all/any, with JavaScript's loose comparison semantics.

use super::js;
use crate::util::params::Reader;
use chrono_tz::Tz;
use serde_json::Value;
use sluice_engine::{ExecuteContext, NodeError, Param};
use sluice_expr::json_js;
use std::cmp::Ordering;

/// The value type a legacy comparison reads its values as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DataType {
    Boolean,
    DateTime,
    Number,
    String,
}

impl DataType {
    pub fn parse(name: &str) -> Option<DataType> {
        Some(match name {
            "boolean" => DataType::Boolean,
            "dateTime" => DataType::DateTime,
            "number" => DataType::Number,
            "string" => DataType::String,
            _ => return None,
        })
    }

    /// A `value1`/`value2` parameter, or the type's default when it is absent or null.
    pub fn value_or_default(self, param: &Param) -> Param {
        match param {
            Param::Literal(Value::Null) => Param::Literal(match self {
                DataType::Boolean => Value::Bool(false),
                DataType::Number => Value::from(0),
                DataType::DateTime | DataType::String => Value::String(String::new()),
            }),
            other => other.clone(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LegacyOp {
    Equal,
    NotEqual,
    Smaller,
    SmallerEqual,
    Larger,
    LargerEqual,
    After,
    Before,
    Contains,
    NotContains,
    StartsWith,
    NotStartsWith,
    EndsWith,
    NotEndsWith,
    Regex,
    NotRegex,
    IsEmpty,
    IsNotEmpty,
}

impl LegacyOp {
    /// The operation `name` of `data_type`, if that type has it.
    pub fn parse(data_type: DataType, name: &str) -> Option<LegacyOp> {
        use LegacyOp::*;
        let op = match name {
            "equal" => Equal,
            "notEqual" => NotEqual,
            "smaller" => Smaller,
            "smallerEqual" => SmallerEqual,
            "larger" => Larger,
            "largerEqual" => LargerEqual,
            "after" => After,
            "before" => Before,
            "contains" => Contains,
            "notContains" => NotContains,
            "startsWith" => StartsWith,
            "notStartsWith" => NotStartsWith,
            "endsWith" => EndsWith,
            "notEndsWith" => NotEndsWith,
            "regex" => Regex,
            "notRegex" => NotRegex,
            "isEmpty" => IsEmpty,
            "isNotEmpty" => IsNotEmpty,
            _ => return None,
        };
        let valid = match data_type {
            DataType::Boolean => matches!(op, Equal | NotEqual),
            DataType::DateTime => matches!(op, After | Before),
            DataType::Number => matches!(
                op,
                Equal
                    | NotEqual
                    | Smaller
                    | SmallerEqual
                    | Larger
                    | LargerEqual
                    | IsEmpty
                    | IsNotEmpty
            ),
            DataType::String => matches!(
                op,
                Equal
                    | NotEqual
                    | Contains
                    | NotContains
                    | StartsWith
                    | NotStartsWith
                    | EndsWith
                    | NotEndsWith
                    | Regex
                    | NotRegex
                    | IsEmpty
                    | IsNotEmpty
            ),
        };
        valid.then_some(op)
    }

    /// Parse an `operation` parameter (absent: `default`); a build error names `path`.
    pub fn from_param(
        param: &Param,
        path: &str,
        data_type: DataType,
        default: LegacyOp,
    ) -> Result<LegacyOp, NodeError> {
        match param {
            Param::Literal(Value::Null) => Ok(default),
            Param::Literal(Value::String(name)) => {
                LegacyOp::parse(data_type, name).ok_or_else(|| {
                    NodeError::new(format!("unknown operation '{name}' for this data type"))
                        .with_parameter(path)
                })
            }
            _ => Err(NodeError::new("operation must be a fixed string").with_parameter(path)),
        }
    }

    /// Compare `value1` with `value2` as IF v1 does. Fails for unparsable dates and regexes.
    pub fn compare(
        self,
        data_type: DataType,
        value1: &Value,
        value2: &Value,
        tz: Tz,
    ) -> Result<bool, String> {
        use LegacyOp::*;
        if data_type == DataType::DateTime {
            let (a, b) = (to_millis(value1, tz)?, to_millis(value2, tz)?);
            return Ok(match self {
                After => a > b,
                _ => a < b,
            });
        }
        Ok(match self {
            Equal => json_js::strict_eq(value1, value2),
            NotEqual => !json_js::strict_eq(value1, value2),
            Smaller => loose_cmp(value1, value2) == Some(Ordering::Less),
            SmallerEqual => matches!(
                loose_cmp(value1, value2),
                Some(Ordering::Less | Ordering::Equal)
            ),
            Larger => loose_cmp(value1, value2) == Some(Ordering::Greater),
            LargerEqual => matches!(
                loose_cmp(value1, value2),
                Some(Ordering::Greater | Ordering::Equal)
            ),
            Contains => text(value1).contains(&text(value2)),
            NotContains => !text(value1).contains(&text(value2)),
            StartsWith => text(value1).starts_with(&text(value2)),
            NotStartsWith => !text(value1).starts_with(&text(value2)),
            EndsWith => text(value1).ends_with(&text(value2)),
            NotEndsWith => !text(value1).ends_with(&text(value2)),
            Regex => js::compile_regex(&text(value2), false)?.is_match(&text(value1)),
            NotRegex => !js::compile_regex(&text(value2), false)?.is_match(&text(value1)),
            IsEmpty => is_empty(value1),
            IsNotEmpty => !is_empty(value1),
            After | Before => unreachable!("only valid for dateTime"),
        })
    }
}

/// `(value || '').toString()`.
fn text(value: &Value) -> String {
    if json_js::truthy(value) {
        json_js::to_js_string(value)
    } else {
        String::new()
    }
}

/// `(a || 0) < (b || 0)` and friends: strings compare as strings, anything else as numbers.
fn loose_cmp(a: &Value, b: &Value) -> Option<Ordering> {
    let or_zero = |v: &Value| {
        if json_js::truthy(v) {
            v.clone()
        } else {
            Value::from(0)
        }
    };
    match (or_zero(a), or_zero(b)) {
        (Value::String(x), Value::String(y)) => Some(x.cmp(&y)),
        (x, y) => json_js::to_number(&x).partial_cmp(&json_js::to_number(&y)),
    }
}

/// Empty: undefined, null, `''`, NaN, or an object/array without entries.
fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(items) => items.is_empty(),
        Value::Object(map) => map.is_empty(),
        Value::Bool(_) | Value::Number(_) => false,
    }
}

/// A date value as epoch milliseconds: numbers are taken as such, strings parsed.
fn to_millis(value: &Value, tz: Tz) -> Result<i64, String> {
    let millis = match value {
        Value::Number(n) => n.as_f64().map(|f| f as i64),
        Value::String(s) => js::parse_datetime(s, tz).map(|d| d.timestamp_millis()),
        _ => None,
    };
    millis.ok_or_else(|| {
        format!(
            "The value \"{}\" is not a valid DateTime.",
            json_js::to_js_string(value)
        )
    })
}

/// How several legacy conditions combine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Combine {
    All,
    Any,
}

impl Combine {
    /// Read the combine parameter at `path`, spelled `all_name`/`any_name` (default all).
    pub fn from_param(
        params: &Param,
        path: &str,
        all_name: &str,
        any_name: &str,
    ) -> Result<Combine, NodeError> {
        match Reader::fixed(params).get(path)? {
            None => Ok(Combine::All),
            Some(Value::String(s)) if s == all_name => Ok(Combine::All),
            Some(Value::String(s)) if s == any_name => Ok(Combine::Any),
            Some(other) => Err(NodeError::new(format!(
                "unknown value {other} (expected '{all_name}' or '{any_name}')"
            ))
            .with_parameter(path)),
        }
    }
}

/// IF v1 / Filter v1 conditions, grouped by data type in parameter order.
#[derive(Debug)]
pub struct LegacyConditions {
    conditions: Vec<LegacyCondition>,
    combine: Combine,
    uses_dates: bool,
}

#[derive(Debug)]
struct LegacyCondition {
    data_type: DataType,
    op: LegacyOp,
    value1: Param,
    value2: Param,
    path: String,
}

impl LegacyConditions {
    /// Compile `conditions` of IF v1 / Filter v1. Missing operations default as in n8n:
    /// boolean/string `equal`, number `smaller`, dateTime `after`.
    pub fn build(params: &Param, combine: Combine) -> Result<Self, NodeError> {
        let mut conditions = Vec::new();
        for (key, group) in params.at("conditions").fields() {
            let path = format!("conditions.{key}");
            let data_type = DataType::parse(key).ok_or_else(|| {
                NodeError::new(format!("unknown condition type '{key}'")).with_parameter(&path)
            })?;
            let default = match data_type {
                DataType::Boolean | DataType::String => LegacyOp::Equal,
                DataType::Number => LegacyOp::Smaller,
                DataType::DateTime => LegacyOp::After,
            };
            for (i, condition) in group.elements().iter().enumerate() {
                let path = format!("{path}[{i}]");
                conditions.push(LegacyCondition {
                    data_type,
                    op: LegacyOp::from_param(
                        condition.at("operation"),
                        &format!("{path}.operation"),
                        data_type,
                        default,
                    )?,
                    value1: data_type.value_or_default(condition.at("value1")),
                    value2: data_type.value_or_default(condition.at("value2")),
                    path,
                });
            }
        }
        Ok(LegacyConditions {
            uses_dates: conditions.iter().any(|c| c.data_type == DataType::DateTime),
            conditions,
            combine,
        })
    }

    /// Whether item `item_index` passes; stops at the first condition that decides.
    pub fn evaluate(&self, ctx: &ExecuteContext<'_>, item_index: usize) -> Result<bool, NodeError> {
        let tz = if self.uses_dates {
            super::timezone(ctx)
        } else {
            Tz::UTC
        };
        let any = self.combine == Combine::Any;
        for c in &self.conditions {
            let value1 = ctx.resolve(&c.value1, item_index)?;
            let value2 = ctx.resolve(&c.value2, item_index)?;
            let pass =
                c.op.compare(c.data_type, &value1, &value2, tz)
                    .map_err(|message| {
                        NodeError::new(message)
                            .with_parameter(c.path.as_str())
                            .with_item(item_index)
                    })?;
            if pass == any {
                return Ok(pass);
            }
        }
        Ok(!any)
    }
}
