//! Throwaway databases for tests (feature `test-support`): a temp dir, and on the machine's
//! Postgres (127.0.0.1:5432, database `test`, user `postgres`, trust auth) a fresh schema. A
//! schema is dropped when its [`TestSchema`] is dropped, so also when the test panics; its name
//! carries its creation time, so schemas left behind by runs that were killed are dropped by the
//! first test of a later run once they are an hour old (younger ones may belong to a run still
//! going on). Keys a test writes to the machine's Redis (127.0.0.1:6379) go with its
//! [`RedisKeys`].

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

/// A Postgres cluster of a test's own: `initdb` in a temp dir, served on a free port of
/// 127.0.0.1 (trust auth, or a password), so a test can stop and start it, or give it settings,
/// without touching the machine's server. Stopped (immediately) and removed when dropped.
/// The server binaries are found under `/usr/lib/postgresql/*/bin`; run as root, the server runs
/// as the `postgres` user (Postgres refuses root).
pub struct PrivatePostgres {
    dir: std::path::PathBuf,
    bin: std::path::PathBuf,
    pub port: u16,
}

impl PrivatePostgres {
    /// A new cluster, running; with `password`, the `postgres` user needs it (scram-sha-256).
    pub fn start(password: Option<&str>) -> PrivatePostgres {
        let version = std::fs::read_dir("/usr/lib/postgresql")
            .expect("Postgres server binaries under /usr/lib/postgresql")
            .flatten()
            .next()
            .expect("a Postgres version under /usr/lib/postgresql");
        let dir = std::env::temp_dir().join(format!(
            "sluice_pg_cluster_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir(&dir).expect("a cluster directory");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let cluster = PrivatePostgres {
            dir,
            bin: version.path().join("bin"),
            port,
        };
        let mut initdb = vec![
            "-D".to_string(),
            cluster.data(),
            "-U".into(),
            "postgres".into(),
        ];
        if let Some(password) = password {
            let file = cluster.dir.join("pw");
            std::fs::write(&file, password).expect("the password file");
            initdb.push("--auth=scram-sha-256".into());
            initdb.push(format!("--pwfile={}", file.display()));
        } else {
            initdb.push("--auth=trust".into());
        }
        let _ = std::process::Command::new("chown")
            .args(["-R", "postgres"])
            .arg(&cluster.dir)
            .status();
        cluster.run("initdb", &initdb);
        cluster.start_again();
        cluster
    }

    /// Start the (stopped) server again on the same port and data.
    pub fn start_again(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.display()
        );
        self.run(
            "pg_ctl",
            &["-D", &self.data(), "-w", "-o", &options, "start"],
        );
    }

    /// Stop the server the way a restart does (`pg_ctl stop -m fast`: sessions are ended).
    pub fn stop(&self) {
        self.run("pg_ctl", &["-D", &self.data(), "-w", "-m", "fast", "stop"]);
    }

    /// Settings for a store in `schema` of its `postgres` database.
    pub fn config(&self, schema: &str) -> PostgresConfig {
        PostgresConfig {
            host: "127.0.0.1".into(),
            port: self.port,
            database: "postgres".into(),
            user: "postgres".into(),
            password: None,
            schema: schema.into(),
            pool_size: 4,
        }
    }

    fn data(&self) -> String {
        self.dir.join("data").display().to_string()
    }

    /// A server binary's command, run as `postgres` when this process is root.
    fn command(&self, binary: &str) -> std::process::Command {
        let program = self.bin.join(binary);
        let mut command = if is_root() {
            let mut c = std::process::Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(program);
            c
        } else {
            std::process::Command::new(program)
        };
        command
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        command
    }

    /// Run a server binary; it must succeed.
    fn run(&self, binary: &str, args: &[impl AsRef<std::ffi::OsStr>]) {
        let status = self
            .command(binary)
            .args(args)
            .status()
            .unwrap_or_else(|e| panic!("{binary} runs: {e}"));
        assert!(status.success(), "{binary} failed ({status})");
    }
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status").is_ok_and(|s| {
        s.lines()
            .find_map(|l| l.strip_prefix("Uid:"))
            .and_then(|ids| ids.split_whitespace().next())
            == Some("0")
    })
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let _ = self
            .command("pg_ctl")
            .args(["-D", &self.data(), "-m", "immediate", "stop"])
            .status();
        let _ = std::fs::remove_dir_all(&self.dir);
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

/// A test's keys in the machine's Redis: the key named by the prefix and every key under
/// `<prefix>:`, deleted when this is dropped (also when the test panics).
pub struct RedisKeys(pub String);

impl Drop for RedisKeys {
    fn drop(&mut self) {
        let prefix = self.0.clone();
        // A thread of its own: the test's runtime may be the one dropping this.
        let _ = std::thread::spawn(move || -> redis::RedisResult<()> {
            let mut conn = redis::Client::open("redis://127.0.0.1:6379/")?.get_connection()?;
            let mut keys: Vec<String> = redis::cmd("KEYS")
                .arg(format!("{prefix}:*"))
                .query(&mut conn)?;
            keys.push(prefix);
            redis::cmd("DEL").arg(keys).query::<()>(&mut conn)
        })
        .join();
    }
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
