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

/// Attempts for a queued write before it is given up (and logged); the database may be
/// restarting.
const WRITE_ATTEMPTS: u32 = 5;

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

    /// Queue statements and wait until they are committed.
    pub async fn commit(&self, stmts: Vec<Stmt>) -> Result<(), StoreError> {
        self.queue_acked(stmts).await?.await
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

async fn write_batch(db: &dyn Db, batch: Vec<(Vec<Stmt>, Ack)>) {
    let all: Vec<Stmt> = batch.iter().flat_map(|(s, _)| s.iter().cloned()).collect();
    if all.is_empty() {
        ack_all(batch);
        return;
    }
    if db.transaction(all).await.is_ok() {
        ack_all(batch);
        return;
    }
    // Something in the batch failed: write each caller's statements on their own, so one bad
    // write does not sink the others, and retry each a few times.
    for (stmts, ack) in batch {
        let mut attempt = 1;
        loop {
            match db.transaction(stmts.clone()).await.map(|_| ()) {
                Err(e) if attempt < WRITE_ATTEMPTS => {
                    tracing::warn!("execution write failed (attempt {attempt}): {e}");
                    tokio::time::sleep(Duration::from_millis(200 * u64::from(attempt))).await;
                    attempt += 1;
                }
                result => {
                    if let Err(e) = &result {
                        tracing::error!("execution write failed: {e}");
                    }
                    let _ = ack.send(result);
                    break;
                }
            }
        }
    }
}

fn ack_all(batch: Vec<(Vec<Stmt>, Ack)>) {
    for (_, ack) in batch {
        let _ = ack.send(Ok(()));
    }
}
