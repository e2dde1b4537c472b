//! The Postgres node's parameters, read once at build time: the operation, n8n's option
//! switches, and the parameter subtrees (table, query, columns, conditions) that are resolved
//! per item when the node runs. Covers typeVersion 1 (`additionalFields`, comma lists of
//! columns), 2-2.1 (`dataMode` + `valuesToSend`) and 2.2+ (resourceMapper `columns`).

use crate::util::params::{unsupported as unknown, Reader};
use sluice_engine::{NodeError, Param};
use sluice_model::Value;

#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Operation {
    ExecuteQuery,
    Insert,
    Upsert,
    Update,
    Select,
    DeleteTable,
}

/// n8n's `options.queryBatching` (v1: `additionalFields.mode`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Batching {
    /// Everything in one transaction; one failure undoes all and fails the run.
    Single,
    /// One transaction; items run in order until the first failure, which undoes all.
    Transaction,
    /// Every item stands alone; a failing item does not undo the others.
    Independently,
}

/// Where the written columns come from.
#[derive(Clone, Debug)]
pub(super) enum Mapping {
    /// Every field of the item is a column (`autoMapInputData`).
    AutoMap,
    /// `{column: value}` resolved per item (resourceMapper `defineBelow`, `valuesToSend`).
    Define(Param),
    /// v1: these fields of the item (`name` or `name:type`, the type ignored).
    Fields(Vec<String>),
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum DeleteCommand {
    Truncate,
    Delete,
    Drop,
}

#[derive(Clone, Debug)]
pub(super) struct Config {
    pub operation: Operation,
    pub batching: Batching,
    pub schema: Param,
    pub table: Param,
    /// executeQuery's SQL.
    pub query: Param,
    /// v2 `options.queryReplacement`: values for `$1`, `$2`, ...
    pub query_replacement: Param,
    /// v1 `additionalFields.queryParams`: item fields whose values are `$1`, `$2`, ...
    pub query_param_fields: Vec<String>,
    pub mapping: Mapping,
    /// Columns that identify a row for upsert and update.
    pub matching: Vec<String>,
    /// Columns returned; empty = all.
    pub output_columns: Vec<String>,
    pub large_numbers_as_text: bool,
    pub skip_on_conflict: bool,
    /// Ours, `options.copyRows`: insert with `COPY ... FROM STDIN` and output the rows as sent.
    pub copy_rows: bool,
    pub replace_empty_strings: bool,
    pub return_all: bool,
    pub limit: Param,
    /// `where.values[{column, condition, value}]`.
    pub conditions: Param,
    pub combine_with_or: bool,
    /// `(column, descending)`.
    pub sort: Vec<(String, bool)>,
    pub delete_command: DeleteCommand,
    pub restart_sequences: bool,
    pub cascade: bool,
    /// `options.explain`: return the plan (`EXPLAIN ANALYZE`) instead of the rows.
    pub explain: bool,
}

/// Text list options: an array of names, or a comma-separated text.
fn names(params: &Param, path: &str) -> Result<Vec<String>, NodeError> {
    let Some(param) = params.path(path) else {
        return Ok(Vec::new());
    };
    let value = param.literal().ok_or_else(|| {
        NodeError::new("an expression is not supported here").with_parameter(path)
    })?;
    let list: Vec<String> = match value {
        Value::Null => Vec::new(),
        Value::String(s) => s.split(',').map(|s| s.trim().to_string()).collect(),
        Value::Array(items) => items
            .iter()
            .map(|v| match v {
                Value::String(s) => Ok(s.trim().to_string()),
                other => Err(
                    NodeError::new(format!("expected a column name, got {other}"))
                        .with_parameter(path),
                ),
            })
            .collect::<Result<_, _>>()?,
        other => {
            return Err(
                NodeError::new(format!("expected a list of columns, got {other}"))
                    .with_parameter(path),
            )
        }
    };
    Ok(list
        .into_iter()
        .filter(|s| !s.is_empty() && s != "*")
        .collect())
}

impl Config {
    pub(super) fn parse(params: &Param, version: f64) -> Result<Config, NodeError> {
        if version < 2.0 {
            return Self::parse_v1(params);
        }
        let operation = match Reader::fixed(params).str_or("operation", "insert")? {
            "executeQuery" => Operation::ExecuteQuery,
            "insert" => Operation::Insert,
            "upsert" => Operation::Upsert,
            "update" => Operation::Update,
            "select" => Operation::Select,
            "deleteTable" => Operation::DeleteTable,
            other => return Err(unknown("operation", other)),
        };
        let batching = match Reader::fixed(params).str_or("options.queryBatching", "single")? {
            "single" => Batching::Single,
            "transaction" => Batching::Transaction,
            "independently" => Batching::Independently,
            other => return Err(unknown("options.queryBatching", other)),
        };
        let (mapping, matching) = Self::v2_columns(params)?;
        let sort = match params.path("sort.values") {
            None => Vec::new(),
            Some(param) => param
                .elements()
                .iter()
                .enumerate()
                .map(|(i, rule)| {
                    let path = format!("sort.values[{i}]");
                    let column = Reader::fixed(rule).str_or("column", "")?.to_string();
                    if column.is_empty() {
                        return Err(
                            NodeError::new("a sort rule has no column").with_parameter(path)
                        );
                    }
                    let descending = match Reader::fixed(rule).str_or("direction", "ASC")? {
                        "ASC" => false,
                        "DESC" => true,
                        other => return Err(unknown(&format!("{path}.direction"), other)),
                    };
                    Ok((column, descending))
                })
                .collect::<Result<_, _>>()?,
        };
        let combine_with_or = match Reader::fixed(params).str_or("combineConditions", "AND")? {
            "AND" => false,
            "OR" => true,
            other => return Err(unknown("combineConditions", other)),
        };
        let delete_command = match Reader::fixed(params).str_or("deleteCommand", "truncate")? {
            "truncate" => DeleteCommand::Truncate,
            "delete" => DeleteCommand::Delete,
            "drop" => DeleteCommand::Drop,
            other => return Err(unknown("deleteCommand", other)),
        };
        let large_numbers_as_text =
            match Reader::fixed(params).str_or("options.largeNumbersOutput", "text")? {
                "text" => true,
                "numbers" => false,
                other => return Err(unknown("options.largeNumbersOutput", other)),
            };
        let copy_rows = Reader::fixed(params).bool_or("options.copyRows", false)?;
        let output_columns = names(params, "options.outputColumns")?;
        let skip_on_conflict = Reader::fixed(params).bool_or("options.skipOnConflict", false)?;
        if copy_rows {
            let refused = if operation != Operation::Insert {
                Some("works with the insert operation only")
            } else if skip_on_conflict {
                Some("cannot skip conflicting rows (COPY has no ON CONFLICT)")
            } else if !output_columns.is_empty() {
                Some("outputs the rows as sent, so options.outputColumns cannot pick columns")
            } else {
                None
            };
            if let Some(why) = refused {
                return Err(NodeError::new(format!("options.copyRows {why}"))
                    .with_parameter("options.copyRows"));
            }
        }
        Ok(Config {
            operation,
            batching,
            schema: params.at("schema").clone(),
            table: params.at("table").clone(),
            query: params.at("query").clone(),
            query_replacement: params.at("options.queryReplacement").clone(),
            query_param_fields: Vec::new(),
            mapping,
            matching,
            output_columns,
            large_numbers_as_text,
            skip_on_conflict,
            copy_rows,
            replace_empty_strings: Reader::fixed(params)
                .bool_or("options.replaceEmptyStrings", false)?,
            return_all: Reader::fixed(params).bool_or("returnAll", false)?,
            limit: params.at("limit").clone(),
            conditions: params.at("where.values").clone(),
            combine_with_or,
            sort,
            delete_command,
            restart_sequences: Reader::fixed(params).bool_or("restartSequences", false)?,
            cascade: Reader::fixed(params).bool_or("options.cascade", false)?,
            explain: Reader::fixed(params).bool_or("options.explain", false)?,
        })
    }

    /// The written columns of v2: resourceMapper `columns` (2.2+) or `dataMode` (2-2.1).
    fn v2_columns(params: &Param) -> Result<(Mapping, Vec<String>), NodeError> {
        if params.path("columns.mappingMode").is_some() {
            let mapping =
                match Reader::fixed(params).str_or("columns.mappingMode", "defineBelow")? {
                    "autoMapInputData" => Mapping::AutoMap,
                    "defineBelow" => Mapping::Define(params.at("columns.value").clone()),
                    other => return Err(unknown("columns.mappingMode", other)),
                };
            return Ok((mapping, names(params, "columns.matchingColumns")?));
        }
        let mapping = match Reader::fixed(params).str_or("dataMode", "autoMapInputData")? {
            "autoMapInputData" => Mapping::AutoMap,
            "defineBelow" => Mapping::Define(params.at("valuesToSend.values").clone()),
            other => return Err(unknown("dataMode", other)),
        };
        let matching = match params.path("columnToMatchOn") {
            Some(_) => vec![Reader::fixed(params)
                .str_or("columnToMatchOn", "")?
                .to_string()],
            None => Vec::new(),
        };
        Ok((mapping, matching))
    }

    /// typeVersion 1: executeQuery, insert and update with `additionalFields`.
    fn parse_v1(params: &Param) -> Result<Config, NodeError> {
        let operation = match Reader::fixed(params).str_or("operation", "insert")? {
            "executeQuery" => Operation::ExecuteQuery,
            "insert" => Operation::Insert,
            "update" => Operation::Update,
            other => return Err(unknown("operation", other)),
        };
        let batching = match Reader::fixed(params).str_or("additionalFields.mode", "multiple")? {
            "multiple" => Batching::Single,
            "transaction" => Batching::Transaction,
            "independently" => Batching::Independently,
            other => return Err(unknown("additionalFields.mode", other)),
        };
        let field_names = |path: &str| -> Result<Vec<String>, NodeError> {
            Ok(names(params, path)?
                .into_iter()
                .map(|c| c.split(':').next().unwrap_or("").trim().to_string())
                .collect())
        };
        let matching = match operation {
            Operation::Update => field_names("updateKey")?,
            _ => Vec::new(),
        };
        let mut written = field_names("columns")?;
        if operation == Operation::Update {
            for key in matching.iter().rev() {
                if !written.contains(key) {
                    written.insert(0, key.clone());
                }
            }
        }
        let none = Param::Literal(Value::Null);
        Ok(Config {
            operation,
            batching,
            schema: params
                .path("schema")
                .cloned()
                .unwrap_or_else(|| none.clone()),
            table: params.at("table").clone(),
            query: params.at("query").clone(),
            query_replacement: none.clone(),
            query_param_fields: field_names("additionalFields.queryParams")?,
            mapping: Mapping::Fields(written),
            matching,
            output_columns: names(params, "returnFields")?,
            large_numbers_as_text: true,
            skip_on_conflict: false,
            copy_rows: false,
            replace_empty_strings: false,
            return_all: true,
            limit: none.clone(),
            conditions: none.clone(),
            combine_with_or: false,
            sort: Vec::new(),
            delete_command: DeleteCommand::Truncate,
            restart_sequences: false,
            cascade: false,
            explain: false,
        })
    }

    /// The fixed select limit, or `None` for all rows. `limit` may be an expression, so it is
    /// read per item.
    pub(super) fn limit_for(&self, resolved: &Value) -> Result<Option<u64>, NodeError> {
        if self.return_all {
            return Ok(None);
        }
        let limit = match resolved {
            Value::Null => 50.0,
            Value::Number(n) => n.as_f64().unwrap_or(50.0),
            Value::String(s) => s.trim().parse().map_err(|_| {
                NodeError::new(format!("'{s}' is not a number")).with_parameter("limit")
            })?,
            other => {
                return Err(NodeError::new(format!("expected a number, got {other}"))
                    .with_parameter("limit"))
            }
        };
        Ok(Some(limit.max(0.0) as u64))
    }
}
