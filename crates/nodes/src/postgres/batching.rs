//! Running the statements of a node run under n8n's `queryBatching` modes, in bulk.
//!
//! An operation splits the items into groups, each sent as one statement (a bulk insert of a
//! thousand rows, or one item's query); groups are pipelined on one connection. The fast path
//! is all groups at once; only when a group of several items fails are its items run one by
//! one, to find the failing item and to give the per-item results n8n gives:
//! - `single`: one transaction; a failure undoes everything and is reported for the first
//!   failing item;
//! - `transaction`: one transaction; items before the failing one are output as done, then the
//!   error, and everything is undone;
//! - `independently`: no transaction around groups; a failing item does not stop the others.

use super::config::Batching;
use super::decode::row_to_json;
use super::group_commit::is_plain_write;
use super::sql::TextParam;
use deadpool_postgres::ClientWrapper;
use futures_util::stream::FuturesOrdered;
use futures_util::{SinkExt, StreamExt};
use sluice_engine::NodeError;
use sluice_model::{Item, ItemJson, PairedItem, Value};
use std::collections::HashMap;
use tokio_postgres::types::ToSql;
use tokio_postgres::Row;

/// How many statements are in flight on the connection at once.
const PIPELINE_DEPTH: usize = 64;

/// Prepared statements a pooled connection keeps before its cache is emptied.
const STATEMENT_CACHE_MAX: usize = 512;

/// Which input items the rows a unit returns belong to.
#[derive(Clone, Debug)]
pub(super) enum Pairing {
    /// All rows belong to one item; `success_when_empty`: an item `{success: true}` when no row
    /// came back (executeQuery, delete).
    Item {
        index: usize,
        success_when_empty: bool,
    },
    /// Row `r` belongs to `items[r]` when as many rows as items came back (bulk
    /// `INSERT ... RETURNING`), else each row to all of them.
    Positional(Vec<usize>),
    /// The first column is the 1-based position of the row's item in the list.
    Ordinal(Vec<usize>),
    /// No rows come back (`COPY`): these are the output.
    AsSent(Vec<Item>),
}

/// SQL statements with their parameters, run in order.
pub(super) type Statements = Vec<(String, Vec<TextParam>)>;

/// Statements run together, and how their rows become output items.
pub(super) struct Unit {
    pub statements: Statements,
    pub pairing: Pairing,
    /// The data of a `COPY ... FROM STDIN`, the unit's one statement.
    pub copy_data: Option<CopyData>,
}

/// The data of a `COPY ... FROM STDIN` in pieces, each made when the one before it has been
/// handed to the connection: Postgres parses a piece while the next is being made, and the whole
/// text is never in memory at once.
pub(super) type CopyData = Box<dyn Iterator<Item = bytes::Bytes> + Send>;

impl Unit {
    /// One item's own statements (wrapped in `EXPLAIN ANALYZE` when `explain`), whose rows are
    /// that item's output.
    pub(super) fn for_item(
        index: usize,
        mut statements: Statements,
        explain: bool,
        success_when_empty: bool,
    ) -> Unit {
        if explain {
            for (sql, _) in &mut statements {
                *sql = super::explain::wrap(sql);
            }
        }
        Unit {
            statements,
            pairing: Pairing::Item {
                index,
                success_when_empty,
            },
            copy_data: None,
        }
    }
}

/// One group per item whose statements were resolved, for operations that run item by item.
pub(super) fn one_group_per_resolved_item<T>(items: &[Option<T>]) -> Vec<Vec<usize>> {
    (0..items.len())
        .filter(|i| items[*i].is_some())
        .map(|i| vec![i])
        .collect()
}

/// An operation whose items run in groups.
pub(super) trait Operation: Send + Sync {
    /// The statements for these items (one group, or one item of it).
    fn unit(&self, items: &[usize]) -> Unit;
}

/// What became of a group or an item: output items, or a failure of the item at `index`.
pub(super) enum Piece {
    Done(usize, Vec<Item>),
    Failed(usize, NodeError),
}

impl Piece {
    pub(super) fn index(&self) -> usize {
        match self {
            Piece::Done(i, _) | Piece::Failed(i, _) => *i,
        }
    }
}

/// A database error as one line: Postgres' own message (with its detail), or the client's.
pub(super) fn pg_error(e: &tokio_postgres::Error) -> NodeError {
    match e.as_db_error() {
        Some(db) => {
            let error = NodeError::new(db.message().to_string());
            match db.detail() {
                Some(detail) => error.with_description(detail.to_string()),
                None => error,
            }
        }
        None => {
            let cause = std::error::Error::source(e)
                .map(|s| format!(": {s}"))
                .unwrap_or_default();
            NodeError::new(format!("{e}{cause}"))
        }
    }
}

/// Statements built from item data may all differ: empty the connection's cache of prepared
/// statements once it holds more than [`STATEMENT_CACHE_MAX`].
pub(super) fn bound_statement_cache(client: &ClientWrapper) {
    if client.statement_cache.size() > STATEMENT_CACHE_MAX {
        client.statement_cache.clear();
    }
}

pub(super) struct Runner<'c> {
    pub client: &'c ClientWrapper,
    pub large_numbers_as_text: bool,
}

/// A unit with its statements prepared.
struct Prepared {
    statements: Vec<(tokio_postgres::Statement, Vec<TextParam>)>,
    pairing: Pairing,
    copy_data: Option<CopyData>,
}

impl Runner<'_> {
    async fn execute_prepared(
        &self,
        prepared: Prepared,
    ) -> Result<Vec<Item>, tokio_postgres::Error> {
        if let Some(pieces) = prepared.copy_data {
            let (statement, _) = &prepared.statements[0];
            let sink = self.client.copy_in(statement).await?;
            futures_util::pin_mut!(sink);
            for piece in pieces {
                sink.send(piece).await?;
            }
            sink.finish().await?;
            return Ok(pair(
                prepared.pairing,
                Vec::new(),
                self.large_numbers_as_text,
            ));
        }
        let mut rows = Vec::new();
        for (statement, params) in &prepared.statements {
            let params: Vec<&(dyn ToSql + Sync)> =
                params.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
            rows.extend(self.client.query(statement, &params).await?);
        }
        Ok(pair(prepared.pairing, rows, self.large_numbers_as_text))
    }

    /// Run `groups` in order, pipelined: a unit whose statements this run has prepared already
    /// is sent without waiting for the ones before it. A statement seen for the first time is
    /// prepared only after everything before it has finished (it may use a table an earlier
    /// item creates, and a statement that fails to parse must not abort a transaction under
    /// earlier items). A unit of several statements runs them one after another, alone. With
    /// `stop_on_error` nothing after the first failure runs.
    async fn groups(
        &self,
        op: &dyn Operation,
        groups: &[Vec<usize>],
        stop_on_error: bool,
    ) -> Vec<Result<Vec<Item>, tokio_postgres::Error>> {
        let mut results = Vec::with_capacity(groups.len());
        let mut prepared: HashMap<String, tokio_postgres::Statement> = HashMap::new();
        let mut pending = FuturesOrdered::new();
        let stopped = |results: &Vec<Result<_, _>>| {
            stop_on_error && results.last().is_some_and(|r: &Result<_, _>| r.is_err())
        };
        'units: for group in groups {
            let unit = op.unit(group);
            let alone = unit.statements.len() > 1 || unit.copy_data.is_some();
            let mut statements = Vec::with_capacity(unit.statements.len());
            for (sql, params) in unit.statements {
                let statement = match prepared.get(&sql) {
                    Some(statement) if !alone => statement.clone(),
                    _ => {
                        while let Some(result) = pending.next().await {
                            results.push(result);
                            if stopped(&results) {
                                break 'units;
                            }
                        }
                        match self.client.prepare_cached(&sql).await {
                            Ok(statement) => {
                                prepared.insert(sql, statement.clone());
                                statement
                            }
                            Err(e) => {
                                results.push(Err(e));
                                if stop_on_error {
                                    break 'units;
                                }
                                continue 'units;
                            }
                        }
                    }
                };
                statements.push((statement, params));
            }
            pending.push_back(self.execute_prepared(Prepared {
                statements,
                pairing: unit.pairing,
                copy_data: unit.copy_data,
            }));
            if alone || pending.len() >= PIPELINE_DEPTH {
                while let Some(result) = pending.next().await {
                    results.push(result);
                    if stopped(&results) {
                        break 'units;
                    }
                    if !alone && pending.len() < PIPELINE_DEPTH {
                        break;
                    }
                }
            }
        }
        if !stopped(&results) {
            while let Some(result) = pending.next().await {
                results.push(result);
                if stopped(&results) {
                    break;
                }
            }
        }
        results
    }

    /// One unit on its own.
    async fn unit(&self, unit: Unit) -> Result<Vec<Item>, tokio_postgres::Error> {
        let mut statements = Vec::with_capacity(unit.statements.len());
        for (sql, params) in unit.statements {
            statements.push((self.client.prepare_cached(&sql).await?, params));
        }
        self.execute_prepared(Prepared {
            statements,
            pairing: unit.pairing,
            copy_data: unit.copy_data,
        })
        .await
    }

    async fn execute(&self, sql: &str) -> Result<(), NodeError> {
        self.client
            .batch_execute(sql)
            .await
            .map_err(|e| pg_error(&e))
    }

    /// Run every group under `batching`; the pieces come back in item order.
    pub(super) async fn run(
        &self,
        op: &dyn Operation,
        groups: &[Vec<usize>],
        batching: Batching,
    ) -> Result<Vec<Piece>, NodeError> {
        bound_statement_cache(self.client);
        match batching {
            Batching::Independently => self.independently(op, groups).await,
            Batching::Single | Batching::Transaction => {
                let results = match lone_statement(op, groups) {
                    // One statement is atomic on its own: no BEGIN and COMMIT round trips.
                    Some(unit) => vec![self.unit(unit).await],
                    None => {
                        self.execute("BEGIN").await?;
                        let results = self.groups(op, groups, true).await;
                        let end = match results.iter().all(Result::is_ok) {
                            true => "COMMIT",
                            false => "ROLLBACK",
                        };
                        self.execute(end).await?;
                        results
                    }
                };
                let failed = results.iter().position(Result::is_err);
                let Some(g) = failed else {
                    return Ok(done_pieces(groups, results).pieces);
                };
                let mut done = done_pieces(groups, results);
                let error = done.pop_failure();
                // Find the failing item of the failing group (and, in transaction mode, the
                // output of the items before it) by replaying up to it item by item.
                let mut pieces = Vec::new();
                let mut failure = error;
                if groups[g].len() > 1 {
                    self.execute("BEGIN").await?;
                    let replay = self.groups(op, &groups[..g], true).await;
                    if replay.iter().all(Result::is_ok) {
                        for &item in &groups[g] {
                            match self.unit(op.unit(&[item])).await {
                                Ok(out) => pieces.push(Piece::Done(item, out)),
                                Err(e) => {
                                    failure = Some((item, pg_error(&e)));
                                    break;
                                }
                            }
                        }
                    }
                    self.execute("ROLLBACK").await?;
                }
                let (item, error) = failure.unwrap_or((groups[g][0], NodeError::new("failed")));
                let mut out = Vec::new();
                if batching == Batching::Transaction {
                    out.extend(done.pieces);
                    out.extend(pieces);
                }
                out.push(Piece::Failed(item, error));
                Ok(out)
            }
        }
    }

    async fn independently(
        &self,
        op: &dyn Operation,
        groups: &[Vec<usize>],
    ) -> Result<Vec<Piece>, NodeError> {
        let results = self.groups(op, groups, false).await;
        let mut pieces = Vec::with_capacity(results.len());
        for (group, result) in groups.iter().zip(results) {
            match result {
                Ok(items) => pieces.push(Piece::Done(group[0], items)),
                Err(e) if group.len() == 1 => pieces.push(Piece::Failed(group[0], pg_error(&e))),
                Err(_) => {
                    let singles: Vec<Vec<usize>> = group.iter().map(|i| vec![*i]).collect();
                    let results = self.groups(op, &singles, false).await;
                    for (&item, result) in group.iter().zip(results) {
                        pieces.push(match result {
                            Ok(out) => Piece::Done(item, out),
                            Err(e) => Piece::Failed(item, pg_error(&e)),
                        });
                    }
                }
            }
        }
        Ok(pieces)
    }
}

/// The output items of a unit's rows.
pub(super) fn pair(pairing: Pairing, rows: Vec<Row>, large_numbers_as_text: bool) -> Vec<Item> {
    let item = |json: ItemJson, items: &[usize]| {
        let mut item = Item::new(json);
        item.paired_item = items.iter().map(|i| PairedItem::new(*i)).collect();
        item
    };
    match pairing {
        Pairing::Item {
            index,
            success_when_empty,
        } => {
            if rows.is_empty() && success_when_empty {
                let mut json = ItemJson::new();
                json.insert("success", Value::Bool(true));
                return vec![item(json, &[index])];
            }
            rows.iter()
                .map(|r| item(row_to_json(r, 0, large_numbers_as_text), &[index]))
                .collect()
        }
        Pairing::Positional(items) => {
            let aligned = rows.len() == items.len();
            rows.iter()
                .enumerate()
                .map(|(r, row)| {
                    let json = row_to_json(row, 0, large_numbers_as_text);
                    if aligned {
                        item(json, &items[r..=r])
                    } else {
                        item(json, &items)
                    }
                })
                .collect()
        }
        Pairing::Ordinal(items) => {
            let mut numbered: Vec<(usize, Item)> = rows
                .iter()
                .map(|row| {
                    let ordinal = row.try_get::<_, i64>(0).unwrap_or(1).max(1) as usize;
                    let index = items.get(ordinal - 1).copied().unwrap_or(items[0]);
                    let json = row_to_json(row, 1, large_numbers_as_text);
                    (index, item(json, &[index]))
                })
                .collect();
            numbered.sort_by_key(|(index, _)| *index);
            numbered.into_iter().map(|(_, item)| item).collect()
        }
        Pairing::AsSent(items) => items,
    }
}

/// The unit of a run that is one group sent as one statement (an item's query, or a bulk
/// insert of all items), which needs no transaction around it.
fn lone_statement(op: &dyn Operation, groups: &[Vec<usize>]) -> Option<Unit> {
    let [group] = groups else { return None };
    let unit = op.unit(group);
    (unit.statements.len() == 1).then_some(unit)
}

/// [`lone_statement`] when it is a plain write that may share a transaction with other
/// executions' (see `group_commit`).
pub(super) fn lone_plain_write(op: &dyn Operation, groups: &[Vec<usize>]) -> Option<Unit> {
    lone_statement(op, groups)
        .filter(|unit| unit.copy_data.is_none() && is_plain_write(&unit.statements[0].0))
}

/// Results of groups in order, up to and including the first failure.
struct DonePieces {
    pieces: Vec<Piece>,
    failure: Option<(usize, NodeError)>,
}

impl DonePieces {
    fn pop_failure(&mut self) -> Option<(usize, NodeError)> {
        self.failure.take()
    }
}

fn done_pieces(
    groups: &[Vec<usize>],
    results: Vec<Result<Vec<Item>, tokio_postgres::Error>>,
) -> DonePieces {
    let mut done = DonePieces {
        pieces: Vec::with_capacity(results.len()),
        failure: None,
    };
    for (i, result) in results.into_iter().enumerate() {
        match result {
            Ok(items) => done.pieces.push(Piece::Done(groups[i][0], items)),
            Err(e) => {
                let item = groups.get(i).map(|g| g[0]).unwrap_or(0);
                done.failure = Some((item, pg_error(&e)));
                break;
            }
        }
    }
    done
}
