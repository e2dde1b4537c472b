//! Sluice's store: workflows (n8n JSON kept verbatim), executions (run data compressed),
//! encrypted credentials, API keys and schedule leases, on embedded SQLite or on Postgres.
//!
//! Both backends implement one small SQL interface (`sql::Db`) and every query is written
//! once in the dialect they share, so behaviour is identical; migrations run on [`Store::open`].
//! Execution writes go through a group-commit writer off the request path; when an execution's
//! row is written (before it runs, or once when it ends) is [`ExecutionRow`]'s business.
//! Several server processes can share one database: each execution is owned by the process
//! running it, and only the executions of processes that are gone are taken over (see
//! `processes`).
//!
//! ```no_run
//! # async fn demo() -> Result<(), sluice_store::StoreError> {
//! let store = sluice_store::Store::open(sluice_store::StoreConfig::sqlite("/tmp/sluice".into())).await?;
//! let wf = store.put_workflow(None, serde_json::json!({"name": "w", "nodes": [], "connections": {}})).await?;
//! assert!(!wf.active);
//! store.close().await;
//! # Ok(()) }
//! ```

mod config;
mod crypto;
mod execution_row;
mod executions;
mod migrations;
mod postgres;
mod processes;
mod secrets;
mod sql;
mod sqlite;
#[cfg(feature = "test-support")]
pub mod testing;
mod workflows;
mod writer;

pub use config::{Backend, PruningPolicy, SavingPolicy, StoreConfig};
pub use execution_row::ExecutionRow;
pub use executions::{ExecutionFilter, ExecutionRecord, Finished, NewExecution};
pub use postgres::PostgresConfig;
pub use processes::STALE_HEARTBEATS;
pub use secrets::CredentialRecord;
pub use sql::{Db, Dialect, Row, Stmt, Val};
pub use workflows::{WorkflowFilter, WorkflowRecord};

use crate::crypto::Cipher;
use crate::writer::Writer;
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("configuration: {0}")]
    Config(String),
    #[error("database: {0}")]
    Backend(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("credential data cannot be decrypted (wrong N8N_ENCRYPTION_KEY?)")]
    Decrypt,
    #[error("the store is closed")]
    Closed,
    /// The database cannot be reached or cannot take writes right now (a restart, a full disk,
    /// a lock held too long): worth trying again later; the API answers 503.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

impl StoreError {
    /// Whether trying again later can succeed (see [`StoreError::Unavailable`]).
    pub fn is_unavailable(&self) -> bool {
        matches!(self, StoreError::Unavailable(_) | StoreError::Io(_))
    }

    /// The same error as a new value (errors are not `Clone`: an I/O error cannot be).
    pub fn duplicate(&self) -> StoreError {
        match self {
            StoreError::Unavailable(why) => StoreError::Unavailable(why.clone()),
            StoreError::Closed => StoreError::Closed,
            other => StoreError::Backend(other.to_string()),
        }
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode::*;
        match e.sqlite_error_code() {
            Some(DiskFull | DatabaseBusy | DatabaseLocked | SystemIoFailure | CannotOpen) => {
                StoreError::Unavailable(e.to_string())
            }
            _ => StoreError::Backend(e.to_string()),
        }
    }
}

/// SQLSTATE classes and codes of errors that pass: connection exceptions (08), insufficient
/// resources such as a full disk or too many connections (53), the server shutting down or
/// starting (57P01-57P03), serialization failures and deadlocks (40001, 40P01).
fn is_transient_sqlstate(code: &str) -> bool {
    code.starts_with("08")
        || code.starts_with("53")
        || ["57P01", "57P02", "57P03", "40001", "40P01"].contains(&code)
}

/// A client error that is no server error: the connection failed, closed or timed out (the
/// error kinds are not public; their messages are).
fn is_connection_failure(e: &tokio_postgres::Error) -> bool {
    let message = e.to_string();
    e.is_closed()
        || [
            "error connecting",
            "error communicating",
            "connection closed",
            "timeout",
        ]
        .iter()
        .any(|start| message.starts_with(start))
}

impl From<tokio_postgres::Error> for StoreError {
    fn from(e: tokio_postgres::Error) -> Self {
        match e.as_db_error() {
            Some(db) if is_transient_sqlstate(db.code().code()) => {
                StoreError::Unavailable(db.to_string())
            }
            Some(db) => StoreError::Backend(db.to_string()),
            None if is_connection_failure(&e) => StoreError::Unavailable(e.to_string()),
            None => StoreError::Backend(e.to_string()),
        }
    }
}

impl From<deadpool_postgres::PoolError> for StoreError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        use deadpool_postgres::PoolError;
        match e {
            PoolError::Backend(e) => e.into(),
            PoolError::Timeout(_) => {
                StoreError::Unavailable("no database connection became free in time".into())
            }
            PoolError::Closed => StoreError::Closed,
            other => StoreError::Unavailable(other.to_string()),
        }
    }
}

/// A page of results and the cursor of the next page.
#[derive(Debug)]
pub struct Page<T> {
    pub data: Vec<T>,
    pub next_cursor: Option<String>,
}

pub struct Store {
    db: Arc<dyn Db>,
    cipher: Cipher,
    writer: Writer,
    ids: tokio::sync::Mutex<std::ops::Range<i64>>,
    config: StoreConfig,
    /// This process, once registered (`sluice serve`); other users of the store never are.
    process: std::sync::RwLock<Option<processes::Registration>>,
    /// Credentials read lately, reused for [`secrets::CREDENTIAL_REUSE`].
    recent_credentials: secrets::RecentCredentials,
}

impl Store {
    /// Connect (creating the SQLite file or Postgres schema if needed), run migrations, load or
    /// create the encryption key, and start the execution writer.
    pub async fn open(config: StoreConfig) -> Result<Arc<Store>, StoreError> {
        std::fs::create_dir_all(&config.data_dir)?;
        let db: Arc<dyn Db> = match &config.backend {
            Backend::Sqlite(path) => Arc::new(sqlite::Sqlite::open(path)?),
            Backend::Postgres(pg) => Arc::new(postgres::Postgres::connect(pg).await?),
        };
        migrations::run(db.as_ref()).await?;
        let cipher = Cipher::load_or_create(config.encryption_key.as_deref(), &config.data_dir)?;
        Ok(Arc::new(Store {
            writer: Writer::start(db.clone(), config.batch_size),
            db,
            cipher,
            ids: tokio::sync::Mutex::new(0..0),
            config,
            process: std::sync::RwLock::new(None),
            recent_credentials: Default::default(),
        }))
    }

    pub fn config(&self) -> &StoreConfig {
        &self.config
    }

    /// The database itself, for crates that keep tables of their own in it (the embedded job
    /// queue); the schema is still created by this crate's migrations.
    pub fn database(&self) -> Arc<dyn Db> {
        self.db.clone()
    }

    /// True when the database answers (readiness).
    pub async fn ping(&self) -> bool {
        self.db.query("SELECT 1", vec![]).await.is_ok()
    }

    /// Commit every queued execution write, stop the writer and deregister this process (if
    /// it registered).
    pub async fn close(&self) {
        self.writer.close().await;
        if let Err(e) = self.deregister_process().await {
            tracing::error!("deregistering this process: {e}");
        }
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// A timestamp as n8n's API writes it (`2024-01-01T00:00:00.000Z`).
pub fn iso(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

/// An opaque cursor for a key.
fn encode_cursor(key: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key)
}

/// The key behind a cursor (`None` when it is not one of ours).
fn decode_cursor(cursor: &str) -> Option<String> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()?;
    String::from_utf8(bytes).ok()
}

/// Random lowercase alphanumerics (workflow and credential ids, like n8n's 16-char ids).
fn random_id(len: usize) -> String {
    use rand::Rng;
    const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut rng = rand::thread_rng();
    (0..len)
        .map(|_| CHARS[rng.gen_range(0..CHARS.len())] as char)
        .collect()
}
