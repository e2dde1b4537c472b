//! When an execution's row is written. An execution that must survive a crash (its trigger's
//! items are kept so a restart can run it again) is written and committed before it starts
//! ([`Store::accept_execution`]). The others are deferred ([`Store::defer_execution`]): nothing
//! is written until somebody must be told the execution exists (a webhook answer, an API reply:
//! [`Store::commit_row`]), until the server lists it as running ([`Store::write_running`]), or
//! until it ends ([`Store::finish_row`]) - then one INSERT holds the finished row, or nothing is
//! written when the saving policy drops it. Short executions thus cost one statement, not two,
//! and never wait for the database before they run.
//!
//! In queue mode a webhook whose caller waits for the answer is deferred the same way, under an
//! id the accepting process reserved ([`Store::reserve_execution_id`]); its worker writes the
//! row ([`Store::defer_reserved`]). A job can run twice (taken over from a worker that seemed
//! dead), so these inserts leave an existing row alone: the first end written is kept.

use crate::executions::{compress, resume_column};
use crate::sql::Stmt;
use crate::writer::patiently;
use crate::{now_ms, Finished, NewExecution, Store, StoreError};
use futures_util::future::{BoxFuture, FutureExt, Shared};
use std::sync::Arc;

/// The commit of a queued write, awaitable by several callers.
type Commit = Shared<BoxFuture<'static, Result<(), Arc<StoreError>>>>;

/// One execution's row, from acceptance to its end.
pub struct ExecutionRow {
    id: i64,
    state: tokio::sync::Mutex<RowState>,
}

enum RowState {
    /// Nothing written yet; what the row will hold.
    Deferred { new: NewExecution, started_at: i64 },
    /// The row (running or finished) is queued; the commit resolves once it is in the database.
    Written(Commit),
}

impl ExecutionRow {
    /// A row that is already in the database (accepted earlier, e.g. before a crash).
    pub fn written(id: i64) -> Self {
        let committed: Commit = futures_util::future::ready(Ok(())).boxed().shared();
        ExecutionRow {
            id,
            state: tokio::sync::Mutex::new(RowState::Written(committed)),
        }
    }

    pub fn id(&self) -> i64 {
        self.id
    }
}

/// The running row, owned by this process (see [`Store::claim_abandoned_executions`]).
fn insert_running(id: i64, new: &NewExecution, started_at: i64, owner: Option<String>) -> Stmt {
    Stmt::new(
        "INSERT INTO executions (id, workflow_id, mode, status, retry_of, started_at, data, owner) \
         VALUES ($1, $2, $3, 'running', $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING",
        vec![
            id.into(),
            new.workflow_id.as_str().into(),
            new.mode.as_str().into(),
            new.retry_of.into(),
            started_at.into(),
            resume_column(new).into(),
            owner.into(),
        ],
    )
}

impl Store {
    /// Record an execution as running, owned by this process, and wait until that is committed:
    /// once this returns, a crash cannot lose it (see [`Store::claim_abandoned_executions`]).
    pub async fn accept_execution(&self, new: NewExecution) -> Result<i64, StoreError> {
        let id = self.reserve_execution_id().await?;
        self.writer
            .commit(vec![insert_running(id, &new, now_ms(), self.process_id())])
            .await?;
        Ok(id)
    }

    /// An execution id whose row is written later (see the module documentation).
    pub async fn defer_execution(&self, new: NewExecution) -> Result<ExecutionRow, StoreError> {
        Ok(self.defer_reserved(self.reserve_execution_id().await?, new))
    }

    /// The deferred row of execution `id`, reserved by [`Store::reserve_execution_id`] (here or
    /// in another process), starting now.
    pub fn defer_reserved(&self, id: i64, new: NewExecution) -> ExecutionRow {
        ExecutionRow {
            id,
            state: tokio::sync::Mutex::new(RowState::Deferred {
                new,
                started_at: now_ms(),
            }),
        }
    }

    /// Queue the running row of a deferred execution (nothing when it is already written).
    pub async fn write_running(&self, row: &ExecutionRow) -> Result<(), StoreError> {
        self.queued_commit(row).await.map(drop)
    }

    /// Make sure the row is in the database: queue it if it is still deferred, then wait for
    /// the commit of whatever was queued for it.
    pub async fn commit_row(&self, row: &ExecutionRow) -> Result<(), StoreError> {
        patiently(async {
            self.queued_commit(row)
                .await?
                .await
                .map_err(|e| e.duplicate())
        })
        .await
    }

    async fn queued_commit(&self, row: &ExecutionRow) -> Result<Commit, StoreError> {
        let mut state = row.state.lock().await;
        let commit = match &mut *state {
            RowState::Written(commit) => return Ok(commit.clone()),
            RowState::Deferred { new, started_at } => {
                let stmt = insert_running(row.id, new, *started_at, self.process_id());
                self.queue(vec![stmt]).await?
            }
        };
        *state = RowState::Written(commit.clone());
        Ok(commit)
    }

    /// Queue the end of an execution: its finished row (or, per the saving policy, its removal;
    /// nothing at all when it was never written). Returns once queued, not once written. An end
    /// is recorded once: an execution that ran twice (a queue-mode job taken over from a worker
    /// that seemed dead) keeps the first end written.
    pub async fn finish_row(
        &self,
        row: &ExecutionRow,
        finished: Finished,
    ) -> Result<(), StoreError> {
        let mut state = row.state.lock().await;
        let stmt = match (&*state, finished.keep) {
            (RowState::Written(_), true) => Stmt::new(
                "UPDATE executions SET status = $1, stopped_at = $2, data = $3, custom_data = $4 \
                 WHERE id = $5 AND stopped_at IS NULL",
                vec![
                    finished.status.as_str().into(),
                    now_ms().into(),
                    compress(&finished.data_json).into(),
                    finished.custom_data_column().into(),
                    row.id.into(),
                ],
            ),
            (RowState::Written(_), false) => Stmt::new(
                "DELETE FROM executions WHERE id = $1 AND stopped_at IS NULL",
                vec![row.id.into()],
            ),
            (RowState::Deferred { new, started_at }, true) => Stmt::new(
                "INSERT INTO executions \
                 (id, workflow_id, mode, status, retry_of, started_at, stopped_at, data, \
                 custom_data) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                 ON CONFLICT (id) DO NOTHING",
                vec![
                    row.id.into(),
                    new.workflow_id.as_str().into(),
                    new.mode.as_str().into(),
                    finished.status.as_str().into(),
                    new.retry_of.into(),
                    (*started_at).into(),
                    now_ms().into(),
                    compress(&finished.data_json).into(),
                    finished.custom_data_column().into(),
                ],
            ),
            (RowState::Deferred { .. }, false) => {
                *state = RowState::Written(futures_util::future::ready(Ok(())).boxed().shared());
                return Ok(());
            }
        };
        *state = RowState::Written(self.queue(vec![stmt]).await?);
        Ok(())
    }

    /// Queue the end of an execution whose row is written (see [`Store::finish_row`]).
    pub async fn finish_execution(&self, id: i64, finished: Finished) -> Result<(), StoreError> {
        self.finish_row(&ExecutionRow::written(id), finished).await
    }

    async fn queue(&self, stmts: Vec<Stmt>) -> Result<Commit, StoreError> {
        let commit = self.writer.queue_acked(stmts).await?;
        Ok(commit.map(|r| r.map_err(Arc::new)).boxed().shared())
    }
}
