//! SQL text helpers: quoted identifiers, splitting a multi-statement query at its top-level
//! semicolons (quotes, dollar quotes and comments respected), renumbering `$n` parameters per
//! statement, and parameters sent as text so Postgres parses them with the type it infers, as
//! it does for a quoted literal.

use bytes::BytesMut;
use sluice_model::Value;
use tokio_postgres::types::{to_sql_checked, Format, IsNull, ToSql, Type};

/// `"name"` with inner quotes doubled.
pub(super) fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `"schema"."table"`.
pub(super) fn qualified(schema: &str, table: &str) -> String {
    format!("{}.{}", ident(schema), ident(table))
}

/// The select list: all columns, or the named ones, each prefixed with `prefix` (`t.`).
pub(super) fn column_list(columns: &[String], prefix: &str) -> String {
    if columns.is_empty() {
        return format!("{prefix}*");
    }
    columns
        .iter()
        .map(|c| format!("{prefix}{}", ident(c)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A parameter value sent in text format (`None` = SQL NULL).
#[derive(Clone, Debug)]
pub(super) struct TextParam(pub Option<String>);

impl TextParam {
    /// The text of a JSON value as a query parameter: strings as they are, other scalars as
    /// JavaScript prints them, objects and arrays as JSON.
    pub(super) fn from_json(value: &Value) -> TextParam {
        TextParam(match value {
            Value::Null => None,
            Value::String(s) => Some(s.clone()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Number(_) => Some(sluice_expr::json_js::to_js_string(value)),
            other => Some(other.to_string()),
        })
    }
}

impl ToSql for TextParam {
    fn to_sql(
        &self,
        _ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match &self.0 {
            None => Ok(IsNull::Yes),
            Some(text) => {
                out.extend_from_slice(text.as_bytes());
                Ok(IsNull::No)
            }
        }
    }

    fn accepts(_ty: &Type) -> bool {
        true
    }

    fn encode_format(&self, _ty: &Type) -> Format {
        Format::Text
    }

    to_sql_checked!();
}

/// One statement of a query, with its parameters renumbered from `$1` and the original
/// numbers they stand for (`params[k]` is the original index of `$k+1`).
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Statement {
    pub sql: String,
    pub params: Vec<usize>,
}

/// Split `query` into statements at top-level `;` and renumber each one's `$n` parameters.
/// Empty statements are dropped.
pub(super) fn split_statements(query: &str) -> Vec<Statement> {
    let bytes = query.as_bytes();
    let mut statements = Vec::new();
    let mut current = Statement {
        sql: String::new(),
        params: Vec::new(),
    };
    let mut start = 0; // of the text not yet copied into `current.sql`
    let mut i = 0;
    let finish = |current: &mut Statement, statements: &mut Vec<Statement>| {
        let done = std::mem::replace(
            current,
            Statement {
                sql: String::new(),
                params: Vec::new(),
            },
        );
        if !done.sql.trim().is_empty() {
            statements.push(Statement {
                sql: done.sql.trim().to_string(),
                params: done.params,
            });
        }
    };
    while i < bytes.len() {
        match bytes[i] {
            b'\'' | b'"' => {
                let quote = bytes[i];
                i += 1;
                while i < bytes.len() {
                    if bytes[i] == quote {
                        if bytes.get(i + 1) == Some(&quote) {
                            i += 2;
                            continue;
                        }
                        break;
                    }
                    i += 1;
                }
                i += 1;
            }
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i < bytes.len() && !(bytes[i] == b'*' && bytes.get(i + 1) == Some(&b'/')) {
                    i += 1;
                }
                i += 2;
            }
            b'$' => {
                let digits = bytes[i + 1..]
                    .iter()
                    .take_while(|b| b.is_ascii_digit())
                    .count();
                if digits > 0 {
                    let n: usize = query[i + 1..i + 1 + digits].parse().unwrap_or(0);
                    current.sql.push_str(&query[start..i]);
                    let index = match current.params.iter().position(|p| *p + 1 == n) {
                        Some(k) => k,
                        None => {
                            current.params.push(n.saturating_sub(1));
                            current.params.len() - 1
                        }
                    };
                    current.sql.push_str(&format!("${}", index + 1));
                    i += 1 + digits;
                    start = i;
                    continue;
                }
                // A dollar-quoted string: $tag$ ... $tag$.
                let tag_len = bytes[i + 1..]
                    .iter()
                    .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
                    .count();
                if bytes.get(i + 1 + tag_len) == Some(&b'$') {
                    let tag = &query[i..i + tag_len + 2];
                    match query[i + tag.len()..].find(tag) {
                        Some(end) => i += tag.len() + end + tag.len(),
                        None => i = bytes.len(),
                    }
                } else {
                    i += 1;
                }
            }
            b';' => {
                current.sql.push_str(&query[start..i]);
                finish(&mut current, &mut statements);
                i += 1;
                start = i;
            }
            _ => i += 1,
        }
    }
    current.sql.push_str(&query[start.min(query.len())..]);
    finish(&mut current, &mut statements);
    statements
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_at_top_level_semicolons_only() {
        let parts = split_statements(
            "INSERT INTO t VALUES ('a;b', $2); -- c;d\nSELECT $$x;y$$, $1, $2 /* ; */;  ;",
        );
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].sql, "INSERT INTO t VALUES ('a;b', $1)");
        assert_eq!(parts[0].params, vec![1]);
        assert_eq!(parts[1].sql, "-- c;d\nSELECT $$x;y$$, $1, $2 /* ; */");
        assert_eq!(parts[1].params, vec![0, 1]);
    }

    #[test]
    fn quotes_identifiers() {
        assert_eq!(
            qualified("public", "my \"t\""),
            "\"public\".\"my \"\"t\"\"\""
        );
        assert_eq!(column_list(&[], "t."), "t.*");
        assert_eq!(column_list(&["a".into()], ""), "\"a\"");
    }
}
