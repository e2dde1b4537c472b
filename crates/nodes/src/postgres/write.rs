//! insert, upsert and update in bulk: items with the same columns are sent a chunk at a time as
//! one JSON parameter that Postgres expands into rows of the table's own types
//! (`json_populate_recordset`), so one prepared statement per column set writes thousands of
//! rows per round trip: `INSERT ... SELECT`, `INSERT ... ON CONFLICT DO UPDATE` (upsert) and
//! `UPDATE ... FROM` (update). Items whose key repeats within a chunk start a new chunk, so
//! later items win as they do when n8n runs one statement per item.
//!
//! With `options.copyRows` (ours) an insert sends its rows as CSV through `COPY ... FROM STDIN`,
//! Postgres' fastest way in, in chunks of [`COPY_CHUNK_ROWS`] whose CSV is made
//! [`COPY_PIECE_ROWS`] rows at a time while Postgres reads the piece before; nothing comes back,
//! so the output is the rows as sent. Values reach Postgres as text and take the column's type there, as with
//! `json_populate_recordset`: objects and arrays as JSON text (for json/jsonb columns), `null` as
//! NULL, an empty string as an empty string.

use super::batching::{CopyData, Operation, Pairing, Unit};
use super::config::{Config, Mapping, Operation as Kind};
use super::sql::{column_list, ident, TextParam};
use super::TableColumns;
use sluice_engine::{ExecuteContext, NodeError};
use sluice_model::{Item, ItemJson, PairedItem, PairedItems, Value};
use std::collections::HashSet;
use std::sync::Arc;

/// Most rows sent in one statement.
const CHUNK_ROWS: usize = 2000;

/// Most rows sent in one `COPY`.
const COPY_CHUNK_ROWS: usize = 50_000;

/// Full statements (pipelined) per chunk of a streamed chain of statement writes.
const STATEMENTS_PER_STREAM_CHUNK: usize = 5;

/// The fewest items per chunk of a streamed chain that ends in a write (see
/// `Node::stream_chunk_items`): a chunk is a transaction of its own, so it holds a whole `COPY`
/// or [`STATEMENTS_PER_STREAM_CHUNK`] full statements.
pub(super) fn stream_chunk_rows(copy_rows: bool) -> usize {
    if copy_rows {
        COPY_CHUNK_ROWS
    } else {
        STATEMENTS_PER_STREAM_CHUNK * CHUNK_ROWS
    }
}

/// Rows per piece of a `COPY`'s CSV (a few hundred KB).
const COPY_PIECE_ROWS: usize = 2_000;

pub(super) struct Write {
    kind: Kind,
    table: String,
    /// Per input item: its row (`None` when it failed to resolve); an auto-mapped row is the
    /// item's own JSON, shared.
    rows: Vec<Option<Arc<ItemJson>>>,
    matching: Vec<String>,
    output_columns: Vec<String>,
    skip_on_conflict: bool,
    copy_rows: bool,
    /// The table's columns of an array type.
    array_columns: Arc<HashSet<String>>,
}

/// The row item `index` writes: column -> value.
fn item_row(
    ctx: &ExecuteContext<'_>,
    config: &Config,
    index: usize,
) -> Result<Arc<ItemJson>, NodeError> {
    let item = &ctx.main_input()[index];
    let mut row = match &config.mapping {
        Mapping::AutoMap => item.json.clone(),
        Mapping::Fields(fields) => Arc::new(
            fields
                .iter()
                .map(|f| (f.clone(), item.json.get(f).cloned().unwrap_or(Value::Null)))
                .collect(),
        ),
        Mapping::Define(param) => Arc::new(match ctx.resolve(param, index)? {
            Value::Object(map) => map.into(),
            // v2-2.1 `valuesToSend.values`: [{column, value}]
            Value::Array(pairs) => pairs
                .into_iter()
                .filter_map(|pair| {
                    let column = pair.get("column")?.as_str()?.to_string();
                    Some((column, pair.get("value").cloned().unwrap_or(Value::Null)))
                })
                .collect(),
            Value::Null => ItemJson::new(),
            other => {
                return Err(
                    NodeError::new(format!("expected columns and values, got {other}"))
                        .with_parameter("columns.value"),
                )
            }
        }),
    };
    if config.replace_empty_strings && row.values().any(|value| value.as_str() == Some("")) {
        for value in Arc::make_mut(&mut row).values_mut() {
            if value.as_str() == Some("") {
                *value = Value::Null;
            }
        }
    }
    if row.is_empty() {
        return Err(NodeError::new("the item has no columns to write").with_parameter("columns"));
    }
    Ok(row)
}

impl Write {
    pub(super) fn build(
        ctx: &ExecuteContext<'_>,
        config: &Config,
        table: String,
        table_columns: &TableColumns,
        failures: &mut Vec<(usize, NodeError)>,
    ) -> Write {
        let rows = (0..ctx.main_input().len())
            .map(|index| {
                let row = item_row(ctx, config, index).and_then(|row| {
                    if let Some(unknown) = row.keys().find(|c| !table_columns.names.contains(*c)) {
                        return Err(NodeError::new(format!(
                            "column '{unknown}' does not exist in table {table}"
                        ))
                        .with_parameter("columns"));
                    }
                    if let Some(missing) = config.matching.iter().find(|m| !row.contains_key(m)) {
                        return Err(NodeError::new(format!(
                            "the item has no value for the matching column '{missing}'"
                        ))
                        .with_parameter("columns.matchingColumns"));
                    }
                    Ok(row)
                });
                match row {
                    Ok(row) => Some(row),
                    Err(e) => {
                        failures.push((index, e.with_item(index)));
                        None
                    }
                }
            })
            .collect();
        Write {
            kind: config.operation,
            table,
            rows,
            matching: config.matching.clone(),
            output_columns: config.output_columns.clone(),
            skip_on_conflict: config.skip_on_conflict,
            copy_rows: config.copy_rows,
            array_columns: Arc::new(table_columns.arrays.clone()),
        }
    }

    /// Consecutive items with the same columns, at most [`CHUNK_ROWS`] (or
    /// [`COPY_CHUNK_ROWS`]) each, no key twice.
    pub(super) fn groups(&self) -> Vec<Vec<usize>> {
        let chunk_rows = if self.copy_rows {
            COPY_CHUNK_ROWS
        } else {
            CHUNK_ROWS
        };
        let mut groups: Vec<Vec<usize>> = Vec::new();
        let mut columns: Vec<&String> = Vec::new();
        let mut keys: HashSet<String> = HashSet::new();
        for (index, row) in self.rows.iter().enumerate() {
            let Some(row) = row else { continue };
            let mut these: Vec<&String> = row.keys().collect();
            these.sort();
            let key = (self.kind != Kind::Insert).then(|| {
                self.matching
                    .iter()
                    .map(|m| row.get(m).map(Value::to_string).unwrap_or_default())
                    .collect::<Vec<_>>()
                    .join("\u{1f}")
            });
            let fits = groups.last().is_some_and(|g| g.len() < chunk_rows)
                && these == columns
                && key.as_ref().is_none_or(|k| !keys.contains(k));
            if !fits {
                groups.push(Vec::new());
                columns = these;
                keys.clear();
            }
            if let Some(key) = key {
                keys.insert(key);
            }
            groups.last_mut().expect("a group").push(index);
        }
        groups
    }

    fn sql(&self, columns: &[String]) -> String {
        let table = &self.table;
        let list = column_list(columns, "");
        let source = format!("json_populate_recordset(NULL::{table}, $1)");
        let returning = column_list(&self.output_columns, "");
        match self.kind {
            Kind::Update => {
                let set: Vec<String> = columns
                    .iter()
                    .filter(|c| !self.matching.contains(c))
                    .map(|c| format!("{} = source.{}", ident(c), ident(c)))
                    .collect();
                let set = if set.is_empty() {
                    // Nothing to change: a no-op assignment still returns the matched rows.
                    let m = ident(&self.matching[0]);
                    format!("{m} = source.{m}")
                } else {
                    set.join(", ")
                };
                let matches: Vec<String> = self
                    .matching
                    .iter()
                    .map(|m| format!("target.{} = source.{}", ident(m), ident(m)))
                    .collect();
                format!(
                    "UPDATE {table} AS target SET {set} FROM {source} WITH ORDINALITY AS source \
                     WHERE {} RETURNING source.ordinality, {}",
                    matches.join(" AND "),
                    column_list(&self.output_columns, "target.")
                )
            }
            Kind::Upsert => {
                let set: Vec<String> = columns
                    .iter()
                    .filter(|c| !self.matching.contains(c))
                    .map(|c| format!("{} = EXCLUDED.{}", ident(c), ident(c)))
                    .collect();
                let set = if set.is_empty() {
                    let m = ident(&self.matching[0]);
                    format!("{m} = EXCLUDED.{m}")
                } else {
                    set.join(", ")
                };
                format!(
                    "INSERT INTO {table} ({list}) SELECT {list} FROM {source} \
                     ON CONFLICT ({}) DO UPDATE SET {set} RETURNING {returning}",
                    column_list(&self.matching, "")
                )
            }
            _ => {
                let conflict = if self.skip_on_conflict {
                    " ON CONFLICT DO NOTHING"
                } else {
                    ""
                };
                format!(
                    "INSERT INTO {table} ({list}) SELECT {list} FROM {source}{conflict} \
                     RETURNING {returning}"
                )
            }
        }
    }
}

impl Operation for Write {
    fn unit(&self, items: &[usize]) -> Unit {
        let rows: Vec<&ItemJson> = items
            .iter()
            .filter_map(|i| self.rows[*i].as_deref())
            .collect();
        let columns: Vec<String> = rows
            .first()
            .map(|r| r.keys().cloned().collect())
            .unwrap_or_default();
        if self.copy_rows {
            return self.copy_unit(items, &columns);
        }
        let json = serde_json::to_string(&rows).expect("rows serialise");
        Unit {
            statements: vec![(self.sql(&columns), vec![TextParam(Some(json))])],
            pairing: match self.kind {
                Kind::Update => Pairing::Ordinal(items.to_vec()),
                _ => Pairing::Positional(items.to_vec()),
            },
            copy_data: None,
        }
    }
}

impl Write {
    /// The rows of `items` (all with `columns`) as one `COPY ... FROM STDIN` in CSV.
    fn copy_unit(&self, items: &[usize], columns: &[String]) -> Unit {
        let sent: Vec<Item> = items
            .iter()
            .filter_map(|&index| {
                let row = self.rows[index].as_ref()?;
                Some(Item {
                    json: row.clone(),
                    binary: None,
                    paired_item: PairedItems::one(PairedItem::new(index)),
                })
            })
            .collect();
        let sql = format!(
            "COPY {} ({}) FROM STDIN (FORMAT csv)",
            self.table,
            column_list(columns, "")
        );
        let rows: Vec<Arc<ItemJson>> = sent.iter().map(|item| item.json.clone()).collect();
        Unit {
            statements: vec![(sql, Vec::new())],
            pairing: Pairing::AsSent(sent),
            copy_data: Some(csv_pieces(
                rows,
                columns.to_vec(),
                self.array_columns.clone(),
            )),
        }
    }
}

/// `rows` as CSV for `COPY`, [`COPY_PIECE_ROWS`] rows per piece, made as the pieces are taken.
fn csv_pieces(
    rows: Vec<Arc<ItemJson>>,
    columns: Vec<String>,
    array_columns: Arc<HashSet<String>>,
) -> CopyData {
    let pieces = (0..rows.len()).step_by(COPY_PIECE_ROWS).map(move |start| {
        let piece = &rows[start..rows.len().min(start + COPY_PIECE_ROWS)];
        let mut csv = Vec::with_capacity(piece.len() * columns.len() * 16);
        for row in piece {
            for (i, column) in columns.iter().enumerate() {
                if i > 0 {
                    csv.push(b',');
                }
                let value = row.get(column).unwrap_or(&Value::Null);
                match value {
                    Value::Array(elements) if array_columns.contains(column) => {
                        let mut literal = String::new();
                        write_array_literal(&mut literal, elements);
                        write_csv_field(&mut csv, &Value::String(literal));
                    }
                    _ => write_csv_field(&mut csv, value),
                }
            }
            csv.push(b'\n');
        }
        bytes::Bytes::from(csv)
    });
    Box::new(pieces)
}

/// A JSON array as a Postgres array literal: `{"a","b"}`, `{{1,2},{3,4}}`, `{NULL}`.
fn write_array_literal(literal: &mut String, elements: &[Value]) {
    literal.push('{');
    for (i, element) in elements.iter().enumerate() {
        if i > 0 {
            literal.push(',');
        }
        match element {
            Value::Null => literal.push_str("NULL"),
            Value::Array(inner) => write_array_literal(literal, inner),
            Value::String(text) => quote_array_element(literal, text),
            other => quote_array_element(literal, &other.to_string()),
        }
    }
    literal.push('}');
}

fn quote_array_element(literal: &mut String, text: &str) {
    literal.push('"');
    for c in text.chars() {
        if c == '"' || c == '\\' {
            literal.push('\\');
        }
        literal.push(c);
    }
    literal.push('"');
}

/// One CSV field in Postgres' `COPY` reading: unquoted empty is NULL, every text is quoted.
fn write_csv_field(csv: &mut Vec<u8>, value: &Value) {
    let quoted = |csv: &mut Vec<u8>, text: &str| {
        csv.push(b'"');
        for byte in text.bytes() {
            if byte == b'"' {
                csv.push(b'"');
            }
            csv.push(byte);
        }
        csv.push(b'"');
    };
    match value {
        Value::Null => {}
        Value::String(text) => quoted(csv, text),
        Value::Bool(b) => csv.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Number(n) => csv.extend_from_slice(n.to_string().as_bytes()),
        other => quoted(csv, &other.to_string()),
    }
}
