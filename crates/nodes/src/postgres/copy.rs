//! Bulk writes go through `COPY ... FROM STDIN`, Postgres' fastest way in, into a temporary
//! staging table shaped like the target's written columns; one statement then moves the rows
//! (`INSERT ... SELECT`, with `ON CONFLICT` for upsert, `UPDATE ... FROM` for update) and returns
//! them as n8n returns them. This module writes the rows in COPY's text format: each value's
//! text as a query parameter would send it (`TextParam::from_json`), so Postgres parses it with
//! the column's own type; a JSON array bound for an array column becomes an array literal.

use super::sql::{column_list, ident, TextParam};
use sluice_model::{JsonObject, Value};
use std::collections::HashMap;
use std::hash::{Hash, Hasher};

/// The staging table's extra column: the row's 1-based position in its chunk.
pub(super) const ORDINAL: &str = "sluice_ordinal";

/// A chunk of rows for one staging table.
#[derive(Clone, Debug)]
pub(super) struct Staged {
    /// Creates the session's staging table when missing and empties it.
    pub prepare: String,
    /// `COPY stage (columns, ordinal) FROM STDIN`.
    pub copy: String,
    /// The rows in COPY's text format.
    pub rows: Vec<u8>,
}

/// The staging table for writing `columns` of `table` (typed as `types` says): named after
/// both, so a changed table gets a fresh one.
pub(super) fn stage_name(table: &str, columns: &[String], types: &HashMap<String, String>) -> String {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    table.hash(&mut hasher);
    for column in columns {
        column.hash(&mut hasher);
        types.get(column).hash(&mut hasher);
    }
    format!("pg_temp.sluice_stage_{:016x}", hasher.finish())
}

/// `rows` (each holding `columns`) staged in `stage` for `table`.
pub(super) fn stage(
    table: &str,
    stage: &str,
    columns: &[String],
    types: &HashMap<String, String>,
    rows: &[&JsonObject],
) -> Staged {
    let list = column_list(columns, "");
    let arrays: Vec<bool> = columns
        .iter()
        .map(|c| types.get(c).is_some_and(|t| t.ends_with("[]")))
        .collect();
    let mut data = Vec::with_capacity(rows.len() * 64);
    for (position, row) in rows.iter().enumerate() {
        for (column, is_array) in columns.iter().zip(&arrays) {
            field(&mut data, row.get(column).unwrap_or(&Value::Null), *is_array);
            data.push(b'\t');
        }
        data.extend_from_slice((position + 1).to_string().as_bytes());
        data.push(b'\n');
    }
    Staged {
        prepare: format!(
            "CREATE TEMP TABLE IF NOT EXISTS {stage} AS SELECT {list}, 0::bigint AS {ordinal} \
             FROM {table} WITH NO DATA; TRUNCATE {stage}",
            ordinal = ident(ORDINAL)
        ),
        copy: format!("COPY {stage} ({list}, {}) FROM STDIN", ident(ORDINAL)),
        rows: data,
    }
}

/// One value in COPY text: `\N` for NULL, else its text with `\`, tab, newline and carriage
/// return escaped.
fn field(out: &mut Vec<u8>, value: &Value, array_column: bool) {
    let text = match value {
        Value::Array(_) if array_column => Some(array_literal(value)),
        _ => TextParam::from_json(value).0,
    };
    let Some(text) = text else {
        out.extend_from_slice(b"\\N");
        return;
    };
    for byte in text.bytes() {
        match byte {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            other => out.push(other),
        }
    }
}

/// A JSON array as a Postgres array literal: `{1,"a b",NULL,{2,3}}`.
fn array_literal(value: &Value) -> String {
    match value {
        Value::Array(elements) => {
            let inner: Vec<String> = elements.iter().map(array_literal).collect();
            format!("{{{}}}", inner.join(","))
        }
        Value::Null => "NULL".into(),
        other => {
            let text = TextParam::from_json(other).0.unwrap_or_default();
            format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rows_are_written_in_copy_text_with_their_position() {
        let row = |v: serde_json::Value| match v {
            Value::Object(o) => o,
            _ => unreachable!(),
        };
        let rows = [
            row(json!({"id": 1, "note": "tab\there\nline \\ end", "tags": ["a", "b \"c\""]})),
            row(json!({"id": 2.5, "note": null, "tags": [[1, null]], "extra": true})),
        ];
        let rows: Vec<&JsonObject> = rows.iter().collect();
        let columns = vec!["id".to_string(), "note".into(), "tags".into()];
        let types = HashMap::from([("tags".to_string(), "text[]".to_string())]);
        let staged = stage("\"public\".\"t\"", "pg_temp.s", &columns, &types, &rows);
        assert_eq!(
            String::from_utf8(staged.rows).unwrap(),
            "1\ttab\\there\\nline \\\\ end\t{\"a\",\"b \\\\\"c\\\\\"\"}\t1\n\
             2.5\t\\N\t{{\"1\",NULL}}\t2\n"
        );
        assert_eq!(
            staged.copy,
            "COPY pg_temp.s (\"id\", \"note\", \"tags\", \"sluice_ordinal\") FROM STDIN"
        );
    }

    #[test]
    fn a_changed_table_gets_another_stage() {
        let columns = vec!["id".to_string()];
        let int = HashMap::from([("id".to_string(), "integer".to_string())]);
        let text = HashMap::from([("id".to_string(), "text".to_string())]);
        assert_ne!(
            stage_name("t", &columns, &int),
            stage_name("t", &columns, &text)
        );
        assert_eq!(stage_name("t", &columns, &int), stage_name("t", &columns, &int));
    }
}
