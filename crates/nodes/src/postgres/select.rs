//! select and deleteTable: one statement per item, built from the item's table, `where`
//! conditions (run in SQL, values sent as parameters), sort and limit. deleteTable truncates,
//! deletes the matching rows or drops the table.

use super::batching::{one_group_per_resolved_item, Operation, Unit};
use super::config::{Config, DeleteCommand, Operation as Kind};
use super::sql::{column_list, ident, TextParam};
use super::streamed_select::ItemSelect;
use sluice_engine::{ExecuteContext, NodeError};
use sluice_model::Value;

pub(super) struct PerItem {
    /// Per input item: its statement (`None` when it failed to resolve).
    items: Vec<Option<(String, Vec<TextParam>)>>,
    /// Rows come back (select) or `{success: true}` does (deleteTable).
    returns_rows: bool,
    explain: bool,
}

/// `WHERE ...` from `where.values[{column, condition, value}]`, values as parameters.
fn where_clause(
    ctx: &ExecuteContext<'_>,
    config: &Config,
    index: usize,
    params: &mut Vec<TextParam>,
) -> Result<String, NodeError> {
    let conditions = match ctx.resolve(&config.conditions, index)? {
        Value::Array(conditions) => conditions,
        _ => return Ok(String::new()),
    };
    let mut parts = Vec::new();
    for (i, condition) in conditions.iter().enumerate() {
        let path = format!("where.values[{i}]");
        let column = condition
            .get("column")
            .and_then(Value::as_str)
            .filter(|c| !c.is_empty())
            .ok_or_else(|| NodeError::new("a condition has no column").with_parameter(&path))?;
        let operator = match condition.get("condition").and_then(Value::as_str) {
            None | Some("equal") => "=",
            Some(op @ ("!=" | "LIKE" | ">" | "<" | ">=" | "<=")) => op,
            Some(op @ ("IS NULL" | "IS NOT NULL")) => {
                parts.push(format!("{} {op}", ident(column)));
                continue;
            }
            Some(other) => {
                return Err(NodeError::new(format!("unsupported condition '{other}'"))
                    .with_parameter(format!("{path}.condition")))
            }
        };
        params.push(TextParam::from_json(
            condition.get("value").unwrap_or(&Value::Null),
        ));
        parts.push(format!("{} {operator} ${}", ident(column), params.len()));
    }
    if parts.is_empty() {
        return Ok(String::new());
    }
    let joiner = if config.combine_with_or {
        " OR "
    } else {
        " AND "
    };
    Ok(format!(" WHERE {}", parts.join(joiner)))
}

fn statement(
    ctx: &ExecuteContext<'_>,
    config: &Config,
    table: &str,
    index: usize,
) -> Result<(String, Vec<TextParam>), NodeError> {
    let mut params = Vec::new();
    let sql = if config.operation == Kind::Select {
        let mut sql = format!(
            "SELECT {} FROM {table}{}",
            column_list(&config.output_columns, ""),
            where_clause(ctx, config, index, &mut params)?
        );
        if !config.sort.is_empty() {
            let order: Vec<String> = config
                .sort
                .iter()
                .map(|(column, descending)| {
                    format!(
                        "{} {}",
                        ident(column),
                        if *descending { "DESC" } else { "ASC" }
                    )
                })
                .collect();
            sql.push_str(&format!(" ORDER BY {}", order.join(", ")));
        }
        if let Some(limit) = config.limit_for(&ctx.resolve(&config.limit, index)?)? {
            sql.push_str(&format!(" LIMIT {limit}"));
        }
        sql
    } else {
        let cascade = if config.cascade { " CASCADE" } else { "" };
        match config.delete_command {
            DeleteCommand::Truncate => {
                let restart = if config.restart_sequences {
                    " RESTART IDENTITY"
                } else {
                    ""
                };
                format!("TRUNCATE TABLE {table}{restart}{cascade}")
            }
            DeleteCommand::Drop => format!("DROP TABLE IF EXISTS {table}{cascade}"),
            DeleteCommand::Delete => format!(
                "DELETE FROM {table}{}",
                where_clause(ctx, config, index, &mut params)?
            ),
        }
    };
    Ok((sql, params))
}

impl PerItem {
    pub(super) fn build(
        ctx: &ExecuteContext<'_>,
        config: &Config,
        table: impl Fn(usize) -> Result<String, NodeError>,
        failures: &mut Vec<(usize, NodeError)>,
    ) -> PerItem {
        let items = (0..ctx.main_input().len())
            .map(|index| {
                match table(index).and_then(|table| statement(ctx, config, &table, index)) {
                    Ok(statement) => Some(statement),
                    Err(e) => {
                        failures.push((index, e.with_item(index)));
                        None
                    }
                }
            })
            .collect();
        PerItem {
            items,
            returns_rows: config.operation == Kind::Select,
            explain: config.explain,
        }
    }

    pub(super) fn groups(&self) -> Vec<Vec<usize>> {
        one_group_per_resolved_item(&self.items)
    }

    /// The statement of every item that resolved, with the item's index, in item order.
    pub(super) fn into_selects(self) -> Vec<ItemSelect> {
        self.items
            .into_iter()
            .enumerate()
            .filter_map(|(index, statement)| Some((index, statement?)))
            .collect()
    }
}

impl Operation for PerItem {
    fn unit(&self, items: &[usize]) -> Unit {
        let index = items[0];
        let statements = self.items[index].iter().cloned().collect();
        Unit::for_item(index, statements, self.explain, !self.returns_rows)
    }
}
