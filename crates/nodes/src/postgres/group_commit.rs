//! Lone writes of concurrent executions in one transaction (`SLUICE_POSTGRES_GROUP_COMMIT=true`).
//!
//! A workflow that runs once per webhook call often ends in one small write (an order into an
//! inbox table). Alone, each such statement is a transaction of its own, and Postgres spends far
//! more on its round trip and commit than on the row (`pgbench`, 32 clients, a one-row
//! `INSERT` with a `jsonb` column: ~260 us of server CPU per row alone, ~105 us in transactions
//! of ten). With group commit on, an execution's lone `INSERT`, `UPDATE`, `DELETE` or `MERGE`
//! (one statement for one item: an insert, upsert or update, or an executeQuery) joins those
//! other executions of the process send at the same time: one connection runs them pipelined
//! between one `BEGIN` and `COMMIT`, and each execution gets its own rows. When one of them
//! fails, the transaction is rolled back and each statement of the batch runs again on its own,
//! so each gets the result it would have had alone. What sharing changes: statements of one
//! batch see one `now()` (the transaction's start), a row one of them writes stays locked until
//! the batch commits, and one that waits for a lock holds up the rest of its batch and the
//! batches behind it (hence off by default).

use super::batching::{bound_statement_cache, pg_error};
use super::sql::TextParam;
use futures_util::future::{join_all, BoxFuture};
use futures_util::stream::{FuturesOrdered, StreamExt};
use sluice_engine::NodeError;
use sluice_runtime::group_commit::{GroupCommit, Stopped};
use sluice_runtime::postgres::{postgres_connection, PostgresCredential};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use tokio::runtime::Id as RuntimeId;
use tokio_postgres::types::ToSql;
use tokio_postgres::Row;

/// Statements one transaction takes at most; one batch per credential is in flight at a time,
/// which is what lets the next one gather.
const MAX_BATCH: usize = 64;

/// Whether `SLUICE_POSTGRES_GROUP_COMMIT` turns group commit on (`true`, `1`, `on`).
pub(super) fn enabled() -> bool {
    static ENABLED: OnceLock<bool> = OnceLock::new();
    *ENABLED.get_or_init(|| {
        std::env::var("SLUICE_POSTGRES_GROUP_COMMIT")
            .is_ok_and(|v| matches!(v.trim().to_ascii_lowercase().as_str(), "true" | "1" | "on"))
    })
}

/// Whether `sql` is a plain write that may share a transaction: its first keyword (after
/// comments) is `INSERT`, `UPDATE`, `DELETE` or `MERGE`. Anything else (reads, DDL, `VACUUM`,
/// transaction control, `WITH` of either kind) runs as before.
pub(super) fn is_plain_write(sql: &str) -> bool {
    let mut rest = sql.trim_start();
    loop {
        if let Some(line) = rest.strip_prefix("--") {
            rest = line
                .split_once('\n')
                .map_or("", |(_, after)| after)
                .trim_start();
        } else if let Some(block) = rest.strip_prefix("/*") {
            rest = block
                .split_once("*/")
                .map_or("", |(_, after)| after)
                .trim_start();
        } else {
            break;
        }
    }
    let keyword: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphabetic())
        .collect::<String>()
        .to_ascii_uppercase();
    matches!(keyword.as_str(), "INSERT" | "UPDATE" | "DELETE" | "MERGE")
}

type Request = (String, Vec<TextParam>);
type Answer = Result<Vec<Row>, NodeError>;

/// Why a whole batch failed (no connection, or the batching task is gone).
#[derive(Clone)]
struct BatchError(NodeError);

impl From<Stopped> for BatchError {
    fn from(_: Stopped) -> Self {
        BatchError(NodeError::new(
            "the Postgres group commit has stopped (the process is shutting down)",
        ))
    }
}

type Group = GroupCommit<Request, Answer, BatchError>;
type Groups = HashMap<(RuntimeId, PostgresCredential), Arc<Group>>;

/// The process's groups, by credential and Tokio runtime (as its pools).
fn groups() -> &'static Mutex<Groups> {
    static GROUPS: OnceLock<Mutex<Groups>> = OnceLock::new();
    GROUPS.get_or_init(Default::default)
}

/// Run `sql` with `params` in the next transaction shared with other executions' writes on
/// `credential`; its rows, or its own error.
pub(super) async fn write(
    credential: &PostgresCredential,
    sql: String,
    params: Vec<TextParam>,
) -> Result<Vec<Row>, NodeError> {
    let group = {
        let key = (tokio::runtime::Handle::current().id(), credential.clone());
        let mut groups = groups().lock().expect("postgres groups lock");
        groups
            .entry(key)
            .or_insert_with(|| {
                let credential = credential.clone();
                Arc::new(GroupCommit::start(MAX_BATCH, 1, move |batch| {
                    run_batch(credential.clone(), batch)
                }))
            })
            .clone()
    };
    match group.call((sql, params)).await {
        Ok(answer) => answer,
        Err(BatchError(e)) => Err(e),
    }
}

/// One batch on one pooled connection: each statement's own answer, in order.
async fn run_batch(
    credential: PostgresCredential,
    batch: Vec<Request>,
) -> Result<Vec<Answer>, BatchError> {
    let (client, _) = postgres_connection(&credential)
        .await
        .map_err(|e| BatchError(NodeError::new(e)))?;
    bound_statement_cache(&client);
    // Prepared together (pipelined): statements whose text differs, values written into the
    // SQL say, each take a round trip to prepare the first time.
    let statements = join_all(batch.iter().map(|(sql, _)| client.prepare_cached(sql))).await;
    let prepared: Vec<_> = statements
        .iter()
        .zip(&batch)
        .filter_map(|(statement, (_, params))| Some((statement.as_ref().ok()?, params)))
        .collect();
    let shared = prepared.len() > 1;
    let (mut results, mut control) = pipeline(&client, &prepared, shared).await;
    // Postgres refused a statement (or the commit): nothing of the batch was kept, and each
    // statement runs again alone.
    let refused = |e: &tokio_postgres::Error| e.as_db_error().is_some();
    if shared
        && (results.iter().any(|r| r.as_ref().is_err_and(refused))
            || control.as_ref().is_some_and(refused))
    {
        (results, control) = pipeline(&client, &prepared, false).await;
    }
    // BEGIN or COMMIT lost with the connection: whether the batch was kept is unknown, as for a
    // lone statement whose connection breaks; each statement hears why.
    let lost = control.map(|e| pg_error(&e));
    let mut results = results.into_iter();
    Ok(statements
        .iter()
        .map(|statement| match (statement, &lost) {
            (Err(e), _) => Err(pg_error(e)),
            (Ok(_), Some(e)) => Err(e.clone()),
            (Ok(_), None) => results
                .next()
                .expect("a result per prepared statement")
                .map_err(|e| pg_error(&e)),
        })
        .collect())
}

/// The statements' results, and the error of `BEGIN` or `COMMIT` if either failed: sent at once,
/// in order, in one transaction when `shared`, else each on its own.
async fn pipeline(
    client: &deadpool_postgres::ClientWrapper,
    prepared: &[(&tokio_postgres::Statement, &Vec<TextParam>)],
    shared: bool,
) -> (
    Vec<Result<Vec<Row>, tokio_postgres::Error>>,
    Option<tokio_postgres::Error>,
) {
    let params: Vec<Vec<&(dyn ToSql + Sync)>> = prepared
        .iter()
        .map(|(_, params)| params.iter().map(|p| p as &(dyn ToSql + Sync)).collect())
        .collect();
    type Sent<'a> = BoxFuture<'a, Result<Vec<Row>, tokio_postgres::Error>>;
    let control = |sql: &'static str| -> Sent<'_> {
        Box::pin(async move { client.batch_execute(sql).await.map(|()| Vec::new()) })
    };
    let mut sent: FuturesOrdered<Sent<'_>> = FuturesOrdered::new();
    if shared {
        sent.push_back(control("BEGIN"));
    }
    for ((statement, _), params) in prepared.iter().zip(&params) {
        sent.push_back(Box::pin(client.query(*statement, params)));
    }
    if shared {
        sent.push_back(control("COMMIT"));
    }
    let mut results: Vec<_> = sent.collect().await;
    if !shared {
        return (results, None);
    }
    let commit = results.pop().and_then(Result::err);
    let begin = results.remove(0).err();
    (results, begin.or(commit))
}

#[cfg(test)]
mod tests {
    use super::is_plain_write;

    #[test]
    fn plain_writes_are_known_by_their_first_keyword_after_comments() {
        for sql in [
            "INSERT INTO t VALUES (1)",
            "  update t set x = 1",
            "-- a note\nDELETE FROM t",
            "/* why */ MERGE INTO t USING s ON true WHEN MATCHED THEN DO NOTHING",
        ] {
            assert!(is_plain_write(sql), "{sql}");
        }
        for sql in [
            "SELECT 1",
            "WITH x AS (DELETE FROM t RETURNING *) SELECT * FROM x",
            "VACUUM t",
            "BEGIN",
            "-- INSERT\nSELECT 1",
            "INSERTED",
        ] {
            assert!(!is_plain_write(sql), "{sql}");
        }
    }
}
