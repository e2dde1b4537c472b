//! Execution writes off the request path: callers queue statements, one task commits whatever
//! has queued up in a single transaction (group commit). A caller that must know its write is
//! durable (an accepted execution) awaits the commit; others just queue.

use crate::sql::{Db, Stmt};
use crate::StoreError;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

type Ack = oneshot::Sender<Result<(), StoreError>>;

enum Msg {
    Write { stmts: Vec<Stmt>, ack: Ack },
    Close,
}

/// How long a write is retried while the database is unavailable (restarting, disk full)
/// before it is given up and logged. Callers answering a client wait less (see
/// [`CALLER_PATIENCE`]); the end of an execution already accepted keeps being retried.
const RETRY_UNAVAILABLE_FOR: Duration = Duration::from_secs(300);

/// How long a caller that answers a client waits for its write while the database is
/// unavailable; then it hears [`StoreError::Unavailable`] (a 503) and the write is kept
/// trying in the background.
pub const CALLER_PATIENCE: Duration = Duration::from_secs(3);

pub struct Writer {
    tx: mpsc::Sender<Msg>,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl Writer {
    pub fn start(db: Arc<dyn Db>, batch_size: usize) -> Self {
        let (tx, rx) = mpsc::channel(batch_size.max(1) * 64);
        let task = tokio::spawn(run(db, rx, batch_size.max(1)));
        Writer {
            tx,
            task: Mutex::new(Some(task)),
        }
    }

    /// Queue statements and wait until they are committed; an unavailable database is an
    /// error after [`CALLER_PATIENCE`].
    pub async fn commit(&self, stmts: Vec<Stmt>) -> Result<(), StoreError> {
        patiently(async { self.queue_acked(stmts).await?.await }).await
    }

    /// Queue statements; the returned future resolves once they are committed.
    pub async fn queue_acked(
        &self,
        stmts: Vec<Stmt>,
    ) -> Result<impl std::future::Future<Output = Result<(), StoreError>>, StoreError> {
        let (ack, done) = oneshot::channel();
        self.tx
            .send(Msg::Write { stmts, ack })
            .await
            .map_err(|_| StoreError::Closed)?;
        Ok(async move { done.await.map_err(|_| StoreError::Closed)? })
    }

    /// Wait until everything queued so far is committed.
    pub async fn flush(&self) -> Result<(), StoreError> {
        self.commit(Vec::new()).await
    }

    /// Commit everything queued, then stop.
    pub async fn close(&self) {
        let task = self.task.lock().expect("writer task").take();
        if let Some(task) = task {
            if self.tx.send(Msg::Close).await.is_ok() {
                let _ = task.await;
            }
        }
    }
}

async fn run(db: Arc<dyn Db>, mut rx: mpsc::Receiver<Msg>, batch_size: usize) {
    let mut closing = false;
    while !closing {
        let Some(first) = rx.recv().await else {
            return;
        };
        let mut batch = Vec::new();
        for msg in std::iter::once(first).chain(std::iter::from_fn(|| rx.try_recv().ok())) {
            match msg {
                Msg::Write { stmts, ack } => batch.push((stmts, ack)),
                Msg::Close => {
                    closing = true;
                    break;
                }
            }
            if batch.len() >= batch_size {
                break;
            }
        }
        write_batch(db.as_ref(), batch).await;
    }
}

/// Commit a batch in one transaction. When that fails, the database may be away (then the whole
/// batch is tried again with growing pauses) or one write may be bad (then each write is tried
/// on its own, so one bad write does not sink the others).
async fn write_batch(db: &dyn Db, mut batch: Vec<(Vec<Stmt>, Ack)>) {
    let give_up_at = tokio::time::Instant::now() + RETRY_UNAVAILABLE_FOR;
    let mut backoff = Duration::from_millis(50);
    loop {
        let all: Vec<Stmt> = batch.iter().flat_map(|(s, _)| s.iter().cloned()).collect();
        if all.is_empty() {
            return ack_all(batch);
        }
        let error = match db.transaction(all).await {
            Ok(_) => return ack_all(batch),
            Err(e) if e.is_unavailable() => e,
            Err(_) => {
                batch = write_each(db, batch).await;
                if batch.is_empty() {
                    return;
                }
                StoreError::Unavailable("a write was interrupted".into())
            }
        };
        if tokio::time::Instant::now() >= give_up_at {
            tracing::error!("execution writes given up: {error}");
            for (_, ack) in batch {
                let _ = ack.send(Err(error.duplicate()));
            }
            return;
        }
        tracing::warn!("execution writes wait for the database: {error}");
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(2));
    }
}

/// Commit each write of `batch` on its own; returns those that met an unavailable database.
async fn write_each(db: &dyn Db, batch: Vec<(Vec<Stmt>, Ack)>) -> Vec<(Vec<Stmt>, Ack)> {
    let mut unavailable = Vec::new();
    for (stmts, ack) in batch {
        match db.transaction(stmts.clone()).await {
            Err(e) if e.is_unavailable() => unavailable.push((stmts, ack)),
            result => {
                if let Err(e) = &result {
                    tracing::error!("execution write failed: {e}");
                }
                let _ = ack.send(result.map(drop));
            }
        }
    }
    unavailable
}

/// Wait for a queued write as a caller answering a client does: at most [`CALLER_PATIENCE`].
pub async fn patiently<T>(
    committed: impl std::future::Future<Output = Result<T, StoreError>>,
) -> Result<T, StoreError> {
    tokio::time::timeout(CALLER_PATIENCE, committed)
        .await
        .unwrap_or_else(|_| {
            Err(StoreError::Unavailable(
                "the write was not committed in time".into(),
            ))
        })
}

fn ack_all(batch: Vec<(Vec<Stmt>, Ack)>) {
    for (_, ack) in batch {
        let _ = ack.send(Ok(()));
    }
}
