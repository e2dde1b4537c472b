//! insert, upsert and update in bulk: items with the same columns are sent a chunk at a time as
//! one JSON parameter that Postgres expands into rows of the table's own types
//! (`json_populate_recordset`), so one prepared statement per column set writes thousands of
//! rows per round trip: `INSERT ... SELECT`, `INSERT ... ON CONFLICT DO UPDATE` (upsert) and
//! `UPDATE ... FROM` (update). Items whose key repeats within a chunk start a new chunk, so
//! later items win as they do when n8n runs one statement per item.

use super::batching::{Operation, Pairing, Unit};
use super::config::{Config, Mapping, Operation as Kind};
use super::sql::{column_list, ident, TextParam};
use sluice_engine::{ExecuteContext, NodeError};
use sluice_model::{JsonObject, Value};
use std::collections::HashSet;

/// Most rows sent in one statement.
const CHUNK_ROWS: usize = 2000;

pub(super) struct Write {
    kind: Kind,
    table: String,
    /// Per input item: its row (`None` when it failed to resolve).
    rows: Vec<Option<JsonObject>>,
    matching: Vec<String>,
    output_columns: Vec<String>,
    skip_on_conflict: bool,
}

/// The row item `index` writes: column -> value.
fn item_row(
    ctx: &ExecuteContext<'_>,
    config: &Config,
    index: usize,
) -> Result<JsonObject, NodeError> {
    let item = &ctx.main_input()[index];
    let mut row = match &config.mapping {
        Mapping::AutoMap => (*item.json).clone(),
        Mapping::Fields(fields) => fields
            .iter()
            .map(|f| (f.clone(), item.json.get(f).cloned().unwrap_or(Value::Null)))
            .collect(),
        Mapping::Define(param) => match ctx.resolve(param, index)? {
            Value::Object(map) => map,
            // v2-2.1 `valuesToSend.values`: [{column, value}]
            Value::Array(pairs) => pairs
                .into_iter()
                .filter_map(|pair| {
                    let column = pair.get("column")?.as_str()?.to_string();
                    Some((column, pair.get("value").cloned().unwrap_or(Value::Null)))
                })
                .collect(),
            Value::Null => JsonObject::new(),
            other => {
                return Err(
                    NodeError::new(format!("expected columns and values, got {other}"))
                        .with_parameter("columns.value"),
                )
            }
        },
    };
    if config.replace_empty_strings {
        for value in row.values_mut() {
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
        table_columns: &HashSet<String>,
        failures: &mut Vec<(usize, NodeError)>,
    ) -> Write {
        let rows = (0..ctx.main_input().len())
            .map(|index| {
                let row = item_row(ctx, config, index).and_then(|row| {
                    if let Some(unknown) = row.keys().find(|c| !table_columns.contains(*c)) {
                        return Err(NodeError::new(format!(
                            "column '{unknown}' does not exist in table {table}"
                        ))
                        .with_parameter("columns"));
                    }
                    if let Some(missing) = config.matching.iter().find(|m| !row.contains_key(*m)) {
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
        }
    }

    /// Consecutive items with the same columns, at most [`CHUNK_ROWS`] each, no key twice.
    pub(super) fn groups(&self) -> Vec<Vec<usize>> {
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
            let fits = groups.last().is_some_and(|g| g.len() < CHUNK_ROWS)
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
        let rows: Vec<&JsonObject> = items
            .iter()
            .filter_map(|i| self.rows[*i].as_ref())
            .collect();
        let columns: Vec<String> = rows
            .first()
            .map(|r| r.keys().cloned().collect())
            .unwrap_or_default();
        let json = serde_json::to_string(&rows).expect("rows serialise");
        Unit {
            statements: vec![(self.sql(&columns), vec![TextParam(Some(json))])],
            pairing: match self.kind {
                Kind::Update => Pairing::Ordinal(items.to_vec()),
                _ => Pairing::Positional(items.to_vec()),
            },
        }
    }
}
