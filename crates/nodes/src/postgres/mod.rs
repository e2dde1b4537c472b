//! The Postgres node (`postgres` typeVersion 1-2.6): executeQuery, insert, upsert, update,
//! select and deleteTable with n8n's parameters and output shapes, on the process's connection
//! pool for the node's credential. Writes go in bulk (one statement per chunk of items, see
//! `write`), other operations pipeline one statement per item; `batching` gives each
//! `queryBatching` mode n8n's results and failure semantics. In a streamed chain, select with
//! `returnAll` hands its rows over as they arrive (`streamed_select`).

mod batching;
mod config;
mod decode;
mod execute_query;
mod explain;
mod group_commit;
mod select;
mod sql;
mod streamed_select;
mod write;

use crate::util::params::locator_text;
use batching::{lone_plain_write, pair, pg_error, Operation, Piece, Runner};
use config::{Batching, Config, Operation as Kind};
use deadpool_postgres::Object;
use execute_query::ExecuteQuery;
use select::PerItem;
use sluice_engine::{
    ExecuteContext, ItemSource, ItemWise, Node, NodeError, NodeKind, NodeOutputs, NodeSpec, Param,
};
use sluice_model::NodeDef;
use sluice_runtime::postgres::{postgres_connection, PostgresCredential};
use sql::{qualified, TextParam};
use std::collections::HashSet;
use write::Write;

pub const SPEC: NodeSpec = NodeSpec {
    node_type: "n8n-nodes-base.postgres",
    versions: &[1.0, 2.0, 2.1, 2.2, 2.3, 2.4, 2.5, 2.6],
    kind: NodeKind::Regular,
    factory: node,
};

struct Postgres {
    config: Config,
}

fn node(def: &NodeDef, params: &Param) -> Result<Box<dyn Node>, NodeError> {
    Ok(Box::new(Postgres {
        config: Config::parse(params, def.version())?,
    }))
}

impl Postgres {
    /// `"schema"."table"` for item `index`.
    fn table(&self, ctx: &ExecuteContext<'_>, index: usize) -> Result<String, NodeError> {
        let schema = locator_text(ctx.resolve(&self.config.schema, index)?);
        let table = locator_text(ctx.resolve(&self.config.table, index)?);
        if table.trim().is_empty() {
            return Err(NodeError::new("no table given").with_parameter("table"));
        }
        let schema = if schema.trim().is_empty() {
            "public"
        } else {
            schema.trim()
        };
        Ok(qualified(schema, table.trim()))
    }

    /// The node's statements, run: each item's result, in item order. A run of one item that is
    /// one plain write joins the group commit when it is on (see `group_commit`); anything else
    /// runs on a pooled connection.
    async fn run_statements(&self, ctx: &ExecuteContext<'_>) -> Result<Vec<Piece>, NodeError> {
        let config = &self.config;
        let grouping = group_commit::enabled() && ctx.main_input().len() == 1;
        // executeQuery's statements are built without a connection, so a grouped one never
        // takes one of its own.
        let client = match (grouping, config.operation) {
            (true, Kind::ExecuteQuery) => None,
            _ => Some(connection(ctx).await?),
        };
        let mut failures = Vec::new();
        let (op, groups): (Box<dyn Operation>, Vec<Vec<usize>>) = match config.operation {
            Kind::ExecuteQuery => {
                let op = ExecuteQuery::build(ctx, config, &mut failures);
                let groups = op.groups();
                (Box::new(op), groups)
            }
            Kind::Insert | Kind::Upsert | Kind::Update => {
                let table = self.table(ctx, 0)?;
                let client = client.as_ref().expect("writes take a connection");
                let columns = table_columns(client, &table).await?;
                if config.operation != Kind::Insert && config.matching.is_empty() {
                    return Err(NodeError::new("no column to match on is given")
                        .with_parameter("columns.matchingColumns"));
                }
                let op = Write::build(ctx, config, table, &columns, &mut failures);
                let groups = op.groups();
                (Box::new(op), groups)
            }
            Kind::Select | Kind::DeleteTable => {
                let op = PerItem::build(ctx, config, |i| self.table(ctx, i), &mut failures);
                let groups = op.groups();
                (Box::new(op), groups)
            }
        };
        if let (false, Some((_, e))) = (ctx.continue_on_fail(), failures.first()) {
            return Err(e.clone());
        }
        if let Some(unit) = grouping
            .then(|| lone_plain_write(op.as_ref(), &groups))
            .flatten()
        {
            drop(client);
            let item = groups[0][0];
            let (sql, params) = unit.statements.into_iter().next().expect("one statement");
            return Ok(vec![
                match group_commit::write(&credential(ctx)?, sql, params).await {
                    Ok(rows) => {
                        Piece::Done(item, pair(unit.pairing, rows, config.large_numbers_as_text))
                    }
                    Err(e) => Piece::Failed(item, e),
                },
            ]);
        }
        let client = match client {
            Some(client) => client,
            None => connection(ctx).await?,
        };
        let runner = Runner {
            client: &client,
            large_numbers_as_text: config.large_numbers_as_text,
        };
        let mut pieces: Vec<Piece> = failures
            .into_iter()
            .map(|(i, e)| Piece::Failed(i, e))
            .collect();
        pieces.extend(runner.run(op.as_ref(), &groups, config.batching).await?);
        pieces.sort_by_key(Piece::index);
        Ok(pieces)
    }
}

/// The node's `postgres` credential.
fn credential(ctx: &ExecuteContext<'_>) -> Result<PostgresCredential, NodeError> {
    PostgresCredential::from_n8n(&ctx.node_credential("postgres")?).map_err(NodeError::new)
}

/// A pooled connection for the node's credential, the wait for it counted as `poolWaitMs`.
async fn connection(ctx: &ExecuteContext<'_>) -> Result<Object, NodeError> {
    let (client, waited) = postgres_connection(&credential(ctx)?)
        .await
        .map_err(NodeError::new)?;
    ctx.count("poolWaitMs", waited.as_millis() as u64);
    Ok(client)
}

/// The columns of a table a write goes to.
#[derive(Debug, Default)]
pub(super) struct TableColumns {
    pub names: HashSet<String>,
    /// The columns of an array type (`COPY` spells their values `{...}`, not as JSON).
    pub arrays: HashSet<String>,
}

/// The columns of `table` (which must exist).
async fn table_columns(
    client: &deadpool_postgres::ClientWrapper,
    table: &str,
) -> Result<TableColumns, NodeError> {
    let statement = client
        .prepare_cached(
            "SELECT attname::text, t.typcategory = 'A' FROM pg_catalog.pg_attribute \
             JOIN pg_catalog.pg_type t ON t.oid = atttypid \
             WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped",
        )
        .await
        .map_err(|e| pg_error(&e))?;
    let rows = client
        .query(&statement, &[&TextParam(Some(table.to_string()))])
        .await
        .map_err(|e| pg_error(&e).with_parameter("table"))?;
    let mut columns = TableColumns::default();
    for row in rows {
        let name: String = row.get(0);
        if row.get::<_, bool>(1) {
            columns.arrays.insert(name.clone());
        }
        columns.names.insert(name);
    }
    Ok(columns)
}

#[async_trait::async_trait]
impl Node for Postgres {
    /// Writes are item-wise (each output row pairs with its input item) unless one
    /// transaction must hold every item (`queryBatching: transaction`); a streamed chain writes
    /// one chunk at a time. select with `returnAll` is a source: its rows are read as the chain
    /// pulls them, under any `queryBatching` (reads have nothing to undo). With `explain` it
    /// gives one plan per statement, and without `returnAll` at most `limit` rows per item:
    /// nothing worth streaming.
    fn item_wise(&self) -> ItemWise {
        let config = &self.config;
        match (config.operation, config.batching) {
            (Kind::Select, _) if config.return_all && !config.explain => ItemWise::Source,
            (_, Batching::Transaction) => ItemWise::Barrier,
            (Kind::Insert | Kind::Upsert | Kind::Update, _) => ItemWise::Yes,
            _ => ItemWise::Barrier,
        }
    }

    /// Writes want chunks of whole bulk statements; a select's rows come in the chain's chunks.
    fn stream_chunk_items(&self) -> usize {
        match self.config.operation {
            Kind::Insert | Kind::Upsert | Kind::Update => {
                write::stream_chunk_rows(self.config.copy_rows)
            }
            _ => 0,
        }
    }

    fn credential_types(&self) -> Vec<&str> {
        vec!["postgres"]
    }

    /// select with `returnAll`: every input item's rows, in item order, as they arrive.
    async fn item_source(&self, ctx: &ExecuteContext<'_>) -> Result<Option<ItemSource>, NodeError> {
        if self.item_wise() != ItemWise::Source {
            return Ok(None);
        }
        let client = connection(ctx).await?;
        let mut failures = Vec::new();
        let op = PerItem::build(ctx, &self.config, |i| self.table(ctx, i), &mut failures);
        if let Some((_, e)) = failures.into_iter().next() {
            return Err(e);
        }
        Ok(Some(streamed_select::select_rows(
            client,
            op.into_selects(),
            self.config.large_numbers_as_text,
        )))
    }

    async fn execute(&self, ctx: &ExecuteContext<'_>) -> Result<NodeOutputs, NodeError> {
        let count = ctx.main_input().len();
        if count == 0 {
            return Ok(vec![Vec::new()]);
        }
        let pieces = self.run_statements(ctx).await?;
        let config = &self.config;
        let writes = matches!(config.operation, Kind::Insert | Kind::Upsert | Kind::Update);
        let undone = config.batching != Batching::Independently
            && pieces.iter().any(|p| matches!(p, Piece::Failed(..)));
        if writes && !undone {
            let written: usize = pieces
                .iter()
                .map(|p| match p {
                    Piece::Done(_, items) => items.len(),
                    Piece::Failed(..) => 0,
                })
                .sum();
            ctx.count("rowsWritten", written as u64);
        }
        let mut out = Vec::with_capacity(count);
        for piece in pieces {
            match piece {
                Piece::Done(_, items) => out.extend(items),
                Piece::Failed(index, error) if ctx.continue_on_fail() => {
                    out.push(ctx.error_item(&error, index))
                }
                Piece::Failed(index, error) => return Err(error.with_item(index)),
            }
        }
        if config.explain {
            for item in &out {
                for hint in explain::scan_hints(&item.json) {
                    ctx.profile_hint(hint);
                }
            }
        }
        Ok(vec![out])
    }
}
