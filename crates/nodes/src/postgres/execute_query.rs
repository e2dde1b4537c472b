//! executeQuery: the node's SQL per item, split into statements, with `$1`, `$2`, ... taken from
//! `options.queryReplacement` (v1: the item fields named in `additionalFields.queryParams`).
//! Items' statements are pipelined; a statement used by every item is prepared once.

use super::batching::{one_group_per_resolved_item, Operation, Statements, Unit};
use super::config::Config;
use super::sql::{split_statements, TextParam};
use sluice_engine::{ExecuteContext, NodeError};
use sluice_model::Value;

pub(super) struct ExecuteQuery {
    /// Per input item: its statements with their parameters (`None` when it failed to resolve).
    items: Vec<Option<Statements>>,
    explain: bool,
}

/// The values for `$1`, `$2`, ... of item `index`.
fn replacement_values(
    ctx: &ExecuteContext<'_>,
    config: &Config,
    index: usize,
) -> Result<Vec<Value>, NodeError> {
    if !config.query_param_fields.is_empty() {
        let json = &ctx.main_input()[index].json;
        return Ok(config
            .query_param_fields
            .iter()
            .map(|field| json.get(field).cloned().unwrap_or(Value::Null))
            .collect());
    }
    Ok(match ctx.resolve(&config.query_replacement, index)? {
        Value::Null => Vec::new(),
        Value::Array(values) => values,
        Value::String(text) if text.trim().is_empty() => Vec::new(),
        Value::String(text) => text
            .split(',')
            .map(|part| Value::String(part.trim().to_string()))
            .collect(),
        other => vec![other],
    })
}

impl ExecuteQuery {
    /// Resolve every item's query; an item that fails gets its error in `failures`.
    pub(super) fn build(
        ctx: &ExecuteContext<'_>,
        config: &Config,
        failures: &mut Vec<(usize, NodeError)>,
    ) -> ExecuteQuery {
        let items = (0..ctx.main_input().len())
            .map(|index| match Self::item(ctx, config, index) {
                Ok(statements) => Some(statements),
                Err(e) => {
                    failures.push((index, e.with_item(index)));
                    None
                }
            })
            .collect();
        ExecuteQuery {
            items,
            explain: config.explain,
        }
    }

    fn item(
        ctx: &ExecuteContext<'_>,
        config: &Config,
        index: usize,
    ) -> Result<Statements, NodeError> {
        let query = match ctx.resolve(&config.query, index)? {
            Value::String(s) => s,
            Value::Null => String::new(),
            other => other.to_string(),
        };
        let statements = split_statements(&query);
        if statements.is_empty() {
            return Err(NodeError::new("the query is empty").with_parameter("query"));
        }
        let values = replacement_values(ctx, config, index)?;
        statements
            .into_iter()
            .map(|statement| {
                let params = statement
                    .params
                    .iter()
                    .map(|&n| {
                        values.get(n).map(TextParam::from_json).ok_or_else(|| {
                            NodeError::new(format!(
                                "the query uses ${} but only {} query parameter(s) were given",
                                n + 1,
                                values.len()
                            ))
                            .with_parameter("options.queryReplacement")
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                Ok((statement.sql, params))
            })
            .collect()
    }

    /// One group per item that resolved.
    pub(super) fn groups(&self) -> Vec<Vec<usize>> {
        one_group_per_resolved_item(&self.items)
    }
}

impl Operation for ExecuteQuery {
    fn unit(&self, items: &[usize]) -> Unit {
        let index = items[0];
        let statements = self.items[index].clone().unwrap_or_default();
        Unit::for_item(index, statements, self.explain, true)
    }
}
