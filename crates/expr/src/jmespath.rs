//! A JMESPath subset for `$jmespath(obj, path)`: field access (`a.b`, `"quoted key"`), indexes
//! (`[0]`, `[-1]`), list projections (`[*]`), flattening (`[]`), object projections (`*`),
//! slices (`[1:3]`) and simple filters (`[?field == 'value']`, `[?field]`).

use crate::ExprError;
use serde_json::Value;

#[derive(Debug)]
enum Step {
    Field(String),
    Index(i64),
    Slice(Option<i64>, Option<i64>),
    /// `[*]`, `*`, `[]` and filters start a projection over the remaining steps.
    Project(Projection),
}

#[derive(Debug)]
enum Projection {
    List,
    Values,
    Flatten,
    Filter(String, Option<Value>, bool),
}

fn err(path: &str, why: &str) -> ExprError {
    ExprError::eval(format!("$jmespath(): invalid path '{path}': {why}"))
}

fn parse(path: &str) -> Result<Vec<Step>, ExprError> {
    let chars: Vec<char> = path.chars().collect();
    let mut steps = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '.' | ' ' => i += 1,
            '"' => {
                let end = chars[i + 1..]
                    .iter()
                    .position(|&c| c == '"')
                    .ok_or_else(|| err(path, "unterminated quoted key"))?;
                steps.push(Step::Field(chars[i + 1..i + 1 + end].iter().collect()));
                i += end + 2;
            }
            '*' => {
                steps.push(Step::Project(Projection::Values));
                i += 1;
            }
            '[' => {
                let end = chars[i..]
                    .iter()
                    .position(|&c| c == ']')
                    .ok_or_else(|| err(path, "missing ']'"))?;
                let inner: String = chars[i + 1..i + end].iter().collect();
                let inner = inner.trim();
                steps.push(if inner.is_empty() {
                    Step::Project(Projection::Flatten)
                } else if inner == "*" {
                    Step::Project(Projection::List)
                } else if let Some(cond) = inner.strip_prefix('?') {
                    Step::Project(parse_filter(path, cond.trim())?)
                } else if let Some((a, b)) = inner.split_once(':') {
                    let num = |s: &str| s.trim().parse::<i64>().ok();
                    Step::Slice(num(a), num(b))
                } else {
                    Step::Index(inner.parse().map_err(|_| err(path, "bad index"))?)
                });
                i += end + 1;
            }
            _ => {
                let start = i;
                while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
                if start == i {
                    return Err(err(path, &format!("unexpected '{}'", chars[i])));
                }
                steps.push(Step::Field(chars[start..i].iter().collect()));
            }
        }
    }
    Ok(steps)
}

fn parse_filter(path: &str, cond: &str) -> Result<Projection, ExprError> {
    for (op, eq) in [("==", true), ("!=", false)] {
        if let Some((field, lit)) = cond.split_once(op) {
            let lit = lit.trim();
            let value = if let Some(s) = lit.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')) {
                Value::String(s.to_string())
            } else {
                let inner = lit.trim_start_matches('`').trim_end_matches('`');
                serde_json::from_str(inner).map_err(|_| err(path, "bad literal in filter"))?
            };
            return Ok(Projection::Filter(
                field.trim().to_string(),
                Some(value),
                eq,
            ));
        }
    }
    Ok(Projection::Filter(cond.to_string(), None, true))
}

fn apply(v: &Value, steps: &[Step]) -> Value {
    let Some((step, rest)) = steps.split_first() else {
        return v.clone();
    };
    match step {
        Step::Field(name) => match v.get(name) {
            Some(x) => apply(x, rest),
            None => Value::Null,
        },
        Step::Index(i) => match v.as_array() {
            Some(a) => {
                let idx = if *i < 0 { a.len() as i64 + i } else { *i };
                a.get(idx as usize)
                    .filter(|_| idx >= 0)
                    .map_or(Value::Null, |x| apply(x, rest))
            }
            None => Value::Null,
        },
        Step::Slice(a, b) => match v.as_array() {
            Some(arr) => {
                let len = arr.len() as i64;
                let norm = |x: i64| if x < 0 { (len + x).max(0) } else { x.min(len) };
                let start = a.map_or(0, norm) as usize;
                let end = b.map_or(len, norm) as usize;
                let slice = arr.get(start..end.max(start)).unwrap_or_default();
                Value::Array(
                    slice
                        .iter()
                        .map(|x| apply(x, rest))
                        .filter(|x| !x.is_null())
                        .collect(),
                )
            }
            None => Value::Null,
        },
        Step::Project(p) => {
            let elems: Vec<&Value> = match (p, v) {
                (Projection::Values, Value::Object(o)) => o.values().collect(),
                (Projection::Values, _) => return Value::Null,
                (Projection::Flatten, Value::Array(a)) => {
                    let mut out = Vec::new();
                    for x in a {
                        match x {
                            Value::Array(inner) => out.extend(inner.iter()),
                            other => out.push(other),
                        }
                    }
                    out
                }
                (Projection::Filter(field, expected, eq), Value::Array(a)) => a
                    .iter()
                    .filter(|x| {
                        let got = x.get(field);
                        match expected {
                            Some(e) => (got == Some(e)) == *eq,
                            None => {
                                got.is_some_and(|g| !matches!(g, Value::Null | Value::Bool(false)))
                            }
                        }
                    })
                    .collect(),
                (_, Value::Array(a)) => a.iter().collect(),
                _ => return Value::Null,
            };
            Value::Array(
                elems
                    .into_iter()
                    .map(|x| apply(x, rest))
                    .filter(|x| !x.is_null())
                    .collect(),
            )
        }
    }
}

/// Evaluates `path` against `data`.
pub fn search(data: &Value, path: &str) -> Result<Value, ExprError> {
    Ok(apply(data, &parse(path)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_and_projections() {
        let data = json!({"people": [{"name": "a", "age": 1}, {"name": "b", "age": 2}], "o": {"x": {"v": 1}, "y": {"v": 2}}});
        assert_eq!(search(&data, "people[0].name").unwrap(), json!("a"));
        assert_eq!(search(&data, "people[-1].age").unwrap(), json!(2));
        assert_eq!(search(&data, "people[*].name").unwrap(), json!(["a", "b"]));
        assert_eq!(search(&data, "o.*.v").unwrap(), json!([1, 2]));
        assert_eq!(
            search(&data, "people[?name == 'b'].age").unwrap(),
            json!([2])
        );
        assert_eq!(search(&data, "people[:1].name").unwrap(), json!(["a"]));
        assert_eq!(search(&data, "missing.x").unwrap(), Value::Null);
    }
}
