//! Filter operators: which operations each value type has, and what they compute on validated
//! values.

use super::coerce::{Typed, ValueType};
use super::js;
use regex::Regex;
use serde_json::Value;
use sluice_expr::json_js;
use std::cmp::Ordering;
use std::sync::Mutex;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    Exists,
    NotExists,
    Empty,
    NotEmpty,
    Equals,
    NotEquals,
    Contains,
    NotContains,
    StartsWith,
    NotStartsWith,
    EndsWith,
    NotEndsWith,
    Regex,
    NotRegex,
    Gt,
    Lt,
    Gte,
    Lte,
    After,
    Before,
    AfterOrEquals,
    BeforeOrEquals,
    True,
    False,
    LengthEquals,
    LengthNotEquals,
    LengthGt,
    LengthLt,
    LengthGte,
    LengthLte,
}

impl Operation {
    /// The operation `name` of operator type `ty`, if that type has it.
    pub fn parse(ty: ValueType, name: &str) -> Option<Operation> {
        use Operation::*;
        let op = match name {
            "exists" => Exists,
            "notExists" => NotExists,
            "empty" => Empty,
            "notEmpty" => NotEmpty,
            "equals" => Equals,
            "notEquals" => NotEquals,
            "contains" => Contains,
            "notContains" => NotContains,
            "startsWith" => StartsWith,
            "notStartsWith" => NotStartsWith,
            "endsWith" => EndsWith,
            "notEndsWith" => NotEndsWith,
            "regex" => Regex,
            "notRegex" => NotRegex,
            "gt" => Gt,
            "lt" => Lt,
            "gte" => Gte,
            "lte" => Lte,
            "after" => After,
            "before" => Before,
            "afterOrEquals" => AfterOrEquals,
            "beforeOrEquals" => BeforeOrEquals,
            "true" => True,
            "false" => False,
            "lengthEquals" => LengthEquals,
            "lengthNotEquals" => LengthNotEquals,
            "lengthGt" => LengthGt,
            "lengthLt" => LengthLt,
            "lengthGte" => LengthGte,
            "lengthLte" => LengthLte,
            _ => return None,
        };
        let valid = match op {
            Exists | NotExists => true,
            Empty | NotEmpty => ty != ValueType::Any,
            Equals | NotEquals => !matches!(ty, ValueType::Any | ValueType::Object),
            StartsWith | NotStartsWith | EndsWith | NotEndsWith | Regex | NotRegex => {
                ty == ValueType::String
            }
            Contains | NotContains => matches!(ty, ValueType::String | ValueType::Array),
            Gt | Lt | Gte | Lte => ty == ValueType::Number,
            After | Before | AfterOrEquals | BeforeOrEquals => ty == ValueType::DateTime,
            True | False => ty == ValueType::Boolean,
            LengthEquals | LengthNotEquals | LengthGt | LengthLt | LengthGte | LengthLte => {
                ty == ValueType::Array
            }
        };
        valid.then_some(op)
    }

    /// Operations that read only the left value (the right value is neither resolved nor
    /// validated).
    pub fn is_single_value(self) -> bool {
        use Operation::*;
        matches!(self, Exists | NotExists | Empty | NotEmpty | True | False)
    }
}

/// Compiled regexes of one condition, reused while the pattern stays the same.
#[derive(Debug, Default)]
pub struct RegexCache(Mutex<Option<(String, bool, Regex)>>);

impl RegexCache {
    fn is_match(&self, pattern: &str, ignore_case: bool, text: &str) -> Result<bool, String> {
        let mut cached = self.0.lock().expect("regex cache lock");
        match cached.as_ref() {
            Some((p, i, re)) if p == pattern && *i == ignore_case => Ok(re.is_match(text)),
            _ => {
                let re = js::compile_regex(pattern, ignore_case)?;
                let matched = re.is_match(text);
                *cached = Some((pattern.to_string(), ignore_case, re));
                Ok(matched)
            }
        }
    }
}

/// Apply `op` of type `ty` to validated values.
pub fn apply(
    ty: ValueType,
    op: Operation,
    left: Typed,
    right: Typed,
    ignore_case: bool,
    regexes: &RegexCache,
) -> Result<bool, String> {
    use Operation::*;
    let exists = left != Typed::Missing;
    match op {
        Exists => return Ok(exists),
        NotExists => return Ok(!exists),
        _ => {}
    }
    Ok(match ty {
        ValueType::String => {
            let fold = |t: Typed| match t {
                Typed::String(s) if ignore_case => Some(s.to_lowercase()),
                Typed::String(s) => Some(s),
                _ => None,
            };
            let (l, r) = (fold(left), fold(right));
            let (ls, rs) = (l.as_deref().unwrap_or(""), r.as_deref().unwrap_or(""));
            match op {
                Empty => ls.is_empty(),
                NotEmpty => !ls.is_empty(),
                Equals => l == r,
                NotEquals => l != r,
                Contains => ls.contains(rs),
                NotContains => !ls.contains(rs),
                StartsWith => ls.starts_with(rs),
                NotStartsWith => !ls.starts_with(rs),
                EndsWith => ls.ends_with(rs),
                NotEndsWith => !ls.ends_with(rs),
                Regex => regexes.is_match(rs, ignore_case, ls)?,
                NotRegex => !regexes.is_match(rs, ignore_case, ls)?,
                _ => unreachable!("validated at build time"),
            }
        }
        ValueType::Number => {
            let num = |t: Typed| match t {
                Typed::Number(n) => Some(n),
                _ => None,
            };
            let (l, r) = (num(left), num(right));
            let cmp = l.zip(r).and_then(|(l, r)| l.partial_cmp(&r));
            match op {
                Empty => l.is_none(),
                NotEmpty => l.is_some(),
                Equals => l == r,
                NotEquals => l != r,
                Gt => cmp == Some(Ordering::Greater),
                Lt => cmp == Some(Ordering::Less),
                Gte => matches!(cmp, Some(Ordering::Greater | Ordering::Equal)),
                Lte => matches!(cmp, Some(Ordering::Less | Ordering::Equal)),
                _ => unreachable!("validated at build time"),
            }
        }
        ValueType::DateTime => {
            let millis = |t: Typed| match t {
                Typed::DateTime(d) => Some(d.timestamp_millis()),
                _ => None,
            };
            let (l, r) = (millis(left), millis(right));
            let cmp = l.zip(r).map(|(l, r)| l.cmp(&r));
            match op {
                Empty => l.is_none(),
                NotEmpty => l.is_some(),
                Equals => cmp == Some(Ordering::Equal),
                NotEquals => cmp != Some(Ordering::Equal),
                After => cmp == Some(Ordering::Greater),
                Before => cmp == Some(Ordering::Less),
                AfterOrEquals => matches!(cmp, Some(Ordering::Greater | Ordering::Equal)),
                BeforeOrEquals => matches!(cmp, Some(Ordering::Less | Ordering::Equal)),
                _ => unreachable!("validated at build time"),
            }
        }
        ValueType::Boolean => {
            let boolean = |t: Typed| match t {
                Typed::Boolean(b) => Some(b),
                _ => None,
            };
            let (l, r) = (boolean(left), boolean(right));
            match op {
                Empty => l.is_none(),
                NotEmpty => l.is_some(),
                True => l == Some(true),
                False => l == Some(false),
                Equals => l == r,
                NotEquals => l != r,
                _ => unreachable!("validated at build time"),
            }
        }
        ValueType::Array => {
            let items = match left {
                Typed::Array(items) => items,
                _ => Vec::new(),
            };
            let length = items.len() as f64;
            let wanted = match &right {
                Typed::Number(n) => Some(*n),
                _ => None,
            };
            let cmp = wanted.and_then(|n| length.partial_cmp(&n));
            match op {
                Empty => items.is_empty(),
                NotEmpty => !items.is_empty(),
                Contains => array_contains(&items, &right, ignore_case),
                NotContains => !array_contains(&items, &right, ignore_case),
                Equals => wanted_array(&right) == Some(items.as_slice()),
                NotEquals => wanted_array(&right) != Some(items.as_slice()),
                LengthEquals => cmp == Some(Ordering::Equal),
                LengthNotEquals => cmp != Some(Ordering::Equal),
                LengthGt => cmp == Some(Ordering::Greater),
                LengthLt => cmp == Some(Ordering::Less),
                LengthGte => matches!(cmp, Some(Ordering::Greater | Ordering::Equal)),
                LengthLte => matches!(cmp, Some(Ordering::Less | Ordering::Equal)),
                _ => unreachable!("validated at build time"),
            }
        }
        ValueType::Object => {
            let keys = match left {
                Typed::Object(map) => map.len(),
                _ => 0,
            };
            match op {
                Empty => keys == 0,
                NotEmpty => keys > 0,
                _ => unreachable!("validated at build time"),
            }
        }
        ValueType::Any => unreachable!("validated at build time"),
    })
}

/// The right value of an array comparison as a plain JSON value.
fn right_value(right: &Typed) -> Option<Value> {
    Some(match right {
        Typed::Missing => return None,
        Typed::Any(v) => v.clone(),
        Typed::String(s) => Value::String(s.clone()),
        Typed::Number(n) => serde_json::Number::from_f64(*n).map_or(Value::Null, Value::Number),
        Typed::Boolean(b) => Value::Bool(*b),
        Typed::DateTime(d) => Value::String(d.to_rfc3339()),
        Typed::Array(items) => Value::Array(items.clone()),
        Typed::Object(map) => Value::Object(map.clone()),
    })
}

/// `array.includes(value)`: primitives by value; with `ignore_case` strings compare lowercased.
fn array_contains(items: &[Value], right: &Typed, ignore_case: bool) -> bool {
    let Some(wanted) = right_value(right) else {
        return false;
    };
    let fold = |v: &Value| match v {
        Value::String(s) if ignore_case => Value::String(s.to_lowercase()),
        other => other.clone(),
    };
    let wanted = fold(&wanted);
    items
        .iter()
        .any(|item| json_js::strict_eq(&fold(item), &wanted))
}

fn wanted_array(right: &Typed) -> Option<&[Value]> {
    match right {
        Typed::Array(items) => Some(items),
        _ => None,
    }
}
