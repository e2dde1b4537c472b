//! Throwaway databases for tests (feature `test-support`): a temp dir, and on the machine's
//! Postgres (127.0.0.1:5432, database `test`, user `postgres`, trust auth) a fresh schema. A
//! schema is dropped when its [`TestSchema`] is dropped, so also when the test panics; its name
//! carries its creation time, so schemas left behind by runs that were killed are dropped by the
//! first test of a later run once they are an hour old (younger ones may belong to a run still
//! going on).

use crate::{Backend, PostgresConfig, Store, StoreConfig};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::sync::OnceCell;

/// Schemas older than this (seconds) are leftovers.
const STALE_AFTER_SECS: i64 = 3600;

const CONNECT: &str = "host=127.0.0.1 port=5432 user=postgres dbname=test";

static COUNTER: AtomicUsize = AtomicUsize::new(0);
static SWEPT: OnceCell<()> = OnceCell::const_new();

/// The database of one test: a temp dir (the data directory, with the SQLite file) and, on
/// Postgres, a fresh schema. Stores opened on it share it as processes would.
pub struct TestDb {
    pub config: StoreConfig,
    // Dropped in this order: the schema, then the directory.
    _schema: Option<TestSchema>,
    _dir: tempfile::TempDir,
}

impl TestDb {
    /// SQLite, or Postgres in a schema named after `prefix` (see [`TestSchema::new`]).
    pub async fn new(postgres: bool, prefix: &str) -> TestDb {
        let dir = tempfile::tempdir().expect("a temp dir");
        let mut config = StoreConfig::sqlite(dir.path().to_path_buf());
        let schema = if postgres {
            let schema = TestSchema::new(prefix).await;
            config.backend = Backend::Postgres(schema.config());
            Some(schema)
        } else {
            None
        };
        TestDb {
            config,
            _schema: schema,
            _dir: dir,
        }
    }

    /// A store on it (as one more process would open one).
    pub async fn open(&self) -> Arc<Store> {
        Store::open(self.config.clone())
            .await
            .expect("store opens (is Postgres running at 127.0.0.1:5432?)")
    }
}

/// A fresh schema, dropped with this guard.
pub struct TestSchema {
    name: String,
}

impl TestSchema {
    /// A new schema name starting with `prefix` (letters and `_`), after dropping the stale
    /// schemas of that prefix (once per test binary).
    pub async fn new(prefix: &str) -> TestSchema {
        SWEPT.get_or_init(|| drop_stale(prefix)).await;
        TestSchema {
            name: format!(
                "{prefix}_{}_{}_{}",
                chrono::Utc::now().timestamp(),
                std::process::id(),
                COUNTER.fetch_add(1, Ordering::SeqCst)
            ),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Connection settings for a store in this schema.
    pub fn config(&self) -> PostgresConfig {
        PostgresConfig {
            host: "127.0.0.1".into(),
            port: 5432,
            database: "test".into(),
            user: "postgres".into(),
            password: None,
            schema: self.name.clone(),
            pool_size: 4,
        }
    }
}

impl Drop for TestSchema {
    /// Runs on a thread of its own (with its own runtime), since it may run inside an async
    /// test, and even while that test panics. Failures are ignored: the sweep catches leftovers.
    fn drop(&mut self) {
        let statement = format!(
            "SET lock_timeout = '10s'; DROP SCHEMA IF EXISTS {} CASCADE",
            self.name
        );
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(execute(&statement))
        })
        .join();
    }
}

async fn execute(statement: &str) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let (client, connection) = tokio_postgres::connect(CONNECT, tokio_postgres::NoTls).await?;
    tokio::spawn(connection);
    client.batch_execute(statement).await?;
    Ok(())
}

/// The creation time (Unix seconds) in a schema name made by [`TestSchema::new`].
fn created_at(name: &str, prefix: &str) -> Option<i64> {
    let rest = name.strip_prefix(prefix)?.strip_prefix('_')?;
    let secs: i64 = rest.split('_').next()?.parse().ok()?;
    // Names of an older format carried a process id there, not a time: leave them alone.
    (secs > 1_500_000_000).then_some(secs)
}

async fn drop_stale(prefix: &str) {
    let Ok((client, connection)) = tokio_postgres::connect(CONNECT, tokio_postgres::NoTls).await
    else {
        return;
    };
    tokio::spawn(connection);
    let pattern = format!("{prefix}\\_%");
    let Ok(rows) = client
        .query(
            "SELECT nspname::text FROM pg_namespace WHERE nspname LIKE $1",
            &[&pattern],
        )
        .await
    else {
        return;
    };
    let cutoff = chrono::Utc::now().timestamp() - STALE_AFTER_SECS;
    for row in rows {
        let name: String = row.get(0);
        if created_at(&name, prefix).is_some_and(|t| t < cutoff) {
            let _ = client
                .batch_execute(&format!("DROP SCHEMA IF EXISTS {name} CASCADE"))
                .await;
        }
    }
}

/// Runs each named `async fn name(postgres: bool)` of a test file as two tests, `sqlite::name`
/// and `postgres::name`, so every behaviour is checked on both stores.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),*) => {
        mod sqlite {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
               async fn $name() { super::$name(false).await } )*
        }
        mod postgres {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
               async fn $name() { super::$name(true).await } )*
        }
    };
}

#[cfg(test)]
mod tests {
    #[test]
    fn creation_time_is_read_from_new_names_only() {
        assert_eq!(
            super::created_at("server_test_1767225600_42_0", "server_test"),
            Some(1_767_225_600)
        );
        assert_eq!(super::created_at("server_test_4242_0", "server_test"), None);
        assert_eq!(
            super::created_at("other_1767225600_1_0", "server_test"),
            None
        );
    }
}
