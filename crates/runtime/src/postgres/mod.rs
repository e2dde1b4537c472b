//! Postgres connection pools shared by every execution in the process: one deadpool pool per
//! distinct credential, created on first use and kept for the life of the process, so a
//! workflow that runs a thousand times opens its connections once (no node connects per run).
//! The credential is n8n's `postgres` credential (host, port, database, user, password, ssl,
//! allowUnauthorizedCerts, maxConnections); TLS goes through rustls with the ring provider.

mod tls;

use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};
use tokio::runtime::Id as RuntimeId;
use tokio_postgres::config::SslMode;

/// Pool size when neither the credential nor `SLUICE_PG_POOL_MAX` sets one.
const DEFAULT_POOL_MAX: usize = 10;

/// How a connection uses TLS (n8n's `ssl` field).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PostgresSsl {
    /// `disable`: plain TCP.
    Disable,
    /// `allow`: TLS when the server offers it, plain TCP otherwise.
    Allow,
    /// `require`: TLS or no connection.
    Require,
}

/// n8n's `postgres` credential, parsed.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PostgresCredential {
    pub host: String,
    pub port: u16,
    pub database: String,
    pub user: String,
    pub password: String,
    pub ssl: PostgresSsl,
    /// Accept any server certificate (self-signed, wrong host name).
    pub allow_unauthorized_certs: bool,
    /// The most connections the pool opens; `None`: `SLUICE_PG_POOL_MAX`, else 10.
    pub max_connections: Option<usize>,
    /// How long to wait for a new connection to be established.
    pub connect_timeout: Duration,
}

impl PostgresCredential {
    /// Parse the `data` object of a `postgres` credential, with n8n's defaults for absent
    /// fields. Errors name the field, never its value.
    pub fn from_n8n(data: &Value) -> Result<Self, String> {
        let text = |key: &str, default: &str| -> Result<String, String> {
            match data.get(key) {
                None | Some(Value::Null) => Ok(default.to_string()),
                Some(Value::String(s)) => Ok(s.clone()),
                Some(Value::Number(n)) => Ok(n.to_string()),
                Some(_) => Err(format!("the credential's '{key}' must be text")),
            }
        };
        let number = |key: &str| -> Result<Option<u64>, String> {
            match data.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::Number(n)) => n
                    .as_u64()
                    .map(Some)
                    .ok_or_else(|| format!("the credential's '{key}' must be a whole number")),
                Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
                Some(Value::String(s)) => s
                    .trim()
                    .parse()
                    .map(Some)
                    .map_err(|_| format!("the credential's '{key}' must be a whole number")),
                Some(_) => Err(format!("the credential's '{key}' must be a whole number")),
            }
        };
        let ssl = match text("ssl", "disable")?.as_str() {
            "disable" | "" => PostgresSsl::Disable,
            "allow" | "prefer" => PostgresSsl::Allow,
            "require" | "verify-ca" | "verify-full" => PostgresSsl::Require,
            other => return Err(format!("unsupported ssl mode '{other}' in the credential")),
        };
        let port = number("port")?.unwrap_or(5432);
        let port = u16::try_from(port).map_err(|_| "the credential's 'port' is out of range")?;
        let max_connections = number("maxConnections")?
            .filter(|n| *n > 0)
            .map(|n| n as usize);
        Ok(PostgresCredential {
            host: text("host", "localhost")?,
            port,
            database: text("database", "postgres")?,
            user: text("user", "postgres")?,
            password: text("password", "")?,
            ssl,
            allow_unauthorized_certs: matches!(
                data.get("allowUnauthorizedCerts"),
                Some(Value::Bool(true))
            ),
            max_connections,
            connect_timeout: Duration::from_secs(10),
        })
    }

    fn pool_max(&self) -> usize {
        self.max_connections
            .or_else(|| {
                std::env::var("SLUICE_PG_POOL_MAX")
                    .ok()
                    .and_then(|v| v.trim().parse().ok())
                    .filter(|n: &usize| *n > 0)
            })
            .unwrap_or(DEFAULT_POOL_MAX)
    }

    /// `user@host:port/database`: names the server in errors without the password.
    pub fn describe(&self) -> String {
        format!(
            "{}@{}:{}/{}",
            self.user, self.host, self.port, self.database
        )
    }

    fn build_pool(&self) -> Result<Pool, String> {
        let mut config = tokio_postgres::Config::new();
        config
            .host(&self.host)
            .port(self.port)
            .dbname(&self.database)
            .user(&self.user)
            .application_name("sluice")
            .connect_timeout(self.connect_timeout);
        if !self.password.is_empty() {
            config.password(&self.password);
        }
        let manager_config = ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        };
        let manager = match self.ssl {
            PostgresSsl::Disable => {
                config.ssl_mode(SslMode::Disable);
                Manager::from_config(config, tokio_postgres::NoTls, manager_config)
            }
            PostgresSsl::Allow | PostgresSsl::Require => {
                config.ssl_mode(if self.ssl == PostgresSsl::Allow {
                    SslMode::Prefer
                } else {
                    SslMode::Require
                });
                let connector = tls::connector(self.allow_unauthorized_certs)?;
                Manager::from_config(config, connector, manager_config)
            }
        };
        Pool::builder(manager)
            .max_size(self.pool_max())
            .runtime(Runtime::Tokio1)
            .create_timeout(Some(self.connect_timeout))
            .build()
            .map_err(|e| e.to_string())
    }
}

type Pools = HashMap<(RuntimeId, PostgresCredential), Pool>;

/// The process's pools, by credential (and by Tokio runtime: a connection is driven by a task
/// on the runtime that opened it, so a second runtime in the process gets its own pool).
fn pools() -> &'static Mutex<Pools> {
    static POOLS: OnceLock<Mutex<Pools>> = OnceLock::new();
    POOLS.get_or_init(Default::default)
}

/// The pool for `credential`, created on first use. Call it inside a Tokio runtime.
pub fn postgres_pool(credential: &PostgresCredential) -> Result<Pool, String> {
    let key = (tokio::runtime::Handle::current().id(), credential.clone());
    let mut pools = pools().lock().expect("postgres pools lock");
    if let Some(pool) = pools.get(&key) {
        return Ok(pool.clone());
    }
    let pool = credential.build_pool()?;
    pools.insert(key, pool.clone());
    Ok(pool)
}

/// A pooled connection and how long the caller waited for it (a new connection's handshake
/// included).
pub async fn postgres_connection(
    credential: &PostgresCredential,
) -> Result<(Object, Duration), String> {
    let pool = postgres_pool(credential)?;
    let started = Instant::now();
    let client = pool
        .get()
        .await
        .map_err(|e| connection_error(credential, e))?;
    Ok((client, started.elapsed()))
}

/// One line saying why no connection could be had, naming the server but not the password.
fn connection_error(credential: &PostgresCredential, e: deadpool_postgres::PoolError) -> String {
    use deadpool_postgres::PoolError;
    let server = credential.describe();
    match e {
        PoolError::Backend(e) => match e.as_db_error() {
            Some(db) => format!("could not connect to Postgres {server}: {}", db.message()),
            None => {
                let cause = std::error::Error::source(&e)
                    .map(|s| s.to_string())
                    .unwrap_or_else(|| e.to_string());
                format!("could not connect to Postgres {server}: {cause}")
            }
        },
        PoolError::Timeout(_) => {
            format!("could not connect to Postgres {server}: timed out")
        }
        other => format!("could not connect to Postgres {server}: {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn credential_fields_and_defaults() {
        let c = PostgresCredential::from_n8n(&json!({
            "host": "db", "port": 6543, "database": "app", "user": "u", "password": "p",
            "ssl": "require", "allowUnauthorizedCerts": true, "maxConnections": 7
        }))
        .unwrap();
        assert_eq!(c.port, 6543);
        assert_eq!(c.ssl, PostgresSsl::Require);
        assert!(c.allow_unauthorized_certs);
        assert_eq!(c.pool_max(), 7);
        assert_eq!(c.describe(), "u@db:6543/app");
        let d = PostgresCredential::from_n8n(&json!({})).unwrap();
        assert_eq!(
            (d.host.as_str(), d.port, d.ssl),
            ("localhost", 5432, PostgresSsl::Disable)
        );
        let err = PostgresCredential::from_n8n(&json!({"ssl": "sometimes"})).unwrap_err();
        assert!(err.contains("sometimes"), "{err}");
    }

    #[tokio::test]
    async fn one_pool_per_credential() {
        let c = PostgresCredential::from_n8n(&json!({"host": "127.0.0.1", "database": "test"}))
            .unwrap();
        let (client, _) = postgres_connection(&c).await.unwrap();
        let row = client.query_one("SELECT 1::int4", &[]).await.unwrap();
        assert_eq!(row.get::<_, i32>(0), 1);
        drop(client);
        let a = postgres_pool(&c).unwrap();
        let b = postgres_pool(&c).unwrap();
        assert_eq!(a.status().size, 1);
        assert_eq!(
            b.status().size,
            1,
            "the second lookup reuses the open connection"
        );
    }
}
