//! Redis connections shared by every execution in the process: one multiplexed
//! `ConnectionManager` per distinct credential (it reconnects by itself), created on first use.
//! Commands of many items are pipelined over it instead of one round trip each.
//!
//! The process's own Redis ([`RedisConfig`], from `SLUICE_REDIS_URL` or n8n's
//! `QUEUE_BULL_REDIS_*`) is where queue mode keeps its jobs and where state every process must
//! share lives: global rate-limit buckets and shared response caches.

use ::redis::aio::{ConnectionManager, ConnectionManagerConfig};
use ::redis::{ConnectionAddr, IntoConnectionInfo, RedisConnectionInfo};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;
use tokio::runtime::Id as RuntimeId;

/// How to reach the process's own Redis, and the prefix of its keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RedisConfig {
    pub url: String,
    /// Keys start with `<prefix>:sluice:` (`QUEUE_BULL_PREFIX`, default `bull`).
    pub prefix: String,
}

impl RedisConfig {
    /// From `SLUICE_REDIS_URL`, or n8n's `QUEUE_BULL_REDIS_HOST`, `_PORT`, `_DB`, `_USERNAME`,
    /// `_PASSWORD` and `_TLS`; the prefix from `QUEUE_BULL_PREFIX`.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let prefix = lookup("QUEUE_BULL_PREFIX").unwrap_or_else(|| "bull".into());
        if let Some(url) = lookup("SLUICE_REDIS_URL") {
            return Ok(RedisConfig { url, prefix });
        }
        let host = lookup("QUEUE_BULL_REDIS_HOST").unwrap_or_else(|| "localhost".into());
        let number = |name: &str, default: u32| -> Result<u32, String> {
            lookup(name).map_or(Ok(default), |v| {
                v.trim()
                    .parse()
                    .map_err(|_| format!("{name}: not a number: '{v}'"))
            })
        };
        let port = number("QUEUE_BULL_REDIS_PORT", 6379)?;
        let db = number("QUEUE_BULL_REDIS_DB", 0)?;
        let tls = matches!(
            lookup("QUEUE_BULL_REDIS_TLS").as_deref(),
            Some("true" | "1")
        );
        let user = lookup("QUEUE_BULL_REDIS_USERNAME").unwrap_or_default();
        let password = lookup("QUEUE_BULL_REDIS_PASSWORD");
        let auth = match (user.is_empty(), password) {
            (true, None) => String::new(),
            (_, password) => format!(
                "{}:{}@",
                percent_encode(&user),
                percent_encode(password.as_deref().unwrap_or(""))
            ),
        };
        let scheme = if tls { "rediss" } else { "redis" };
        Ok(RedisConfig {
            url: format!("{scheme}://{auth}{host}:{port}/{db}"),
            prefix,
        })
    }

    /// From the process's environment.
    pub fn from_env() -> Result<Self, String> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// The URL without its password (for messages).
    pub fn display_url(&self) -> String {
        match (self.url.find("://"), self.url.rfind('@')) {
            (Some(scheme), Some(at)) => {
                format!("{}***{}", &self.url[..scheme + 3], &self.url[at..])
            }
            _ => self.url.clone(),
        }
    }

    /// `<prefix>:sluice:<name>`.
    pub fn key(&self, name: &str) -> String {
        format!("{}:sluice:{name}", self.prefix)
    }
}

fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// n8n's `redis` credential, parsed.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RedisCredential {
    pub host: String,
    pub port: u16,
    pub database: i64,
    pub user: Option<String>,
    pub password: Option<String>,
    /// `ssl`: connect with TLS.
    pub tls: bool,
    /// `disableTlsVerification`: accept any server certificate.
    pub accept_invalid_certs: bool,
}

impl RedisCredential {
    /// Parse the `data` object of a `redis` credential, with n8n's defaults. Errors name the
    /// field, never its value.
    pub fn from_n8n(data: &Value) -> Result<Self, String> {
        let text = |key: &str| -> Result<Option<String>, String> {
            match data.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) if s.is_empty() => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(Value::Number(n)) => Ok(Some(n.to_string())),
                Some(_) => Err(format!("the credential's '{key}' must be text")),
            }
        };
        let number = |key: &str, default: i64| -> Result<i64, String> {
            match data.get(key) {
                None | Some(Value::Null) => Ok(default),
                Some(Value::Number(n)) => n
                    .as_i64()
                    .ok_or_else(|| format!("the credential's '{key}' must be a whole number")),
                Some(Value::String(s)) => s
                    .trim()
                    .parse()
                    .map_err(|_| format!("the credential's '{key}' must be a whole number")),
                Some(_) => Err(format!("the credential's '{key}' must be a whole number")),
            }
        };
        let flag = |key: &str| matches!(data.get(key), Some(Value::Bool(true)));
        let port = u16::try_from(number("port", 6379)?)
            .map_err(|_| "the credential's 'port' is out of range")?;
        Ok(RedisCredential {
            host: text("host")?.unwrap_or_else(|| "localhost".into()),
            port,
            database: number("database", 0)?,
            user: text("user")?,
            password: text("password")?,
            tls: flag("ssl"),
            accept_invalid_certs: flag("disableTlsVerification"),
        })
    }

    /// `host:port/db`: names the server in errors without the password.
    pub fn describe(&self) -> String {
        format!("{}:{}/{}", self.host, self.port, self.database)
    }

    fn connect(&self) -> Result<ConnectionManager, String> {
        let mut settings = RedisConnectionInfo::default().set_db(self.database);
        if let Some(user) = &self.user {
            settings = settings.set_username(user);
        }
        if let Some(password) = &self.password {
            settings = settings.set_password(password);
        }
        let address = if self.tls {
            crate::tls::use_ring_provider();
            ConnectionAddr::TcpTls {
                host: self.host.clone(),
                port: self.port,
                insecure: self.accept_invalid_certs,
                tls_params: None,
            }
        } else {
            ConnectionAddr::Tcp(self.host.clone(), self.port)
        };
        let info = address
            .into_connection_info()
            .map_err(|e| e.to_string())?
            .set_redis_settings(settings);
        manager(::redis::Client::open(info).map_err(|e| e.to_string())?)
    }
}

/// A lazily connecting manager on `client` with the timeouts every shared connection uses.
fn manager(client: ::redis::Client) -> Result<ConnectionManager, String> {
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(Duration::from_secs(5)))
        // Large pipelines (a whole node run's items) may take longer than the 500 ms default.
        .set_response_timeout(Some(Duration::from_secs(60)))
        .set_number_of_retries(1);
    ConnectionManager::new_lazy_with_config(client, config).map_err(|e| e.to_string())
}

/// Which server a shared connection talks to.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Server {
    Credential(RedisCredential),
    Process(String),
}

type Connections = HashMap<(RuntimeId, Server), ConnectionManager>;

/// The process's connections, by server (and by Tokio runtime, whose task drives each).
fn connections() -> &'static Mutex<Connections> {
    static CONNECTIONS: OnceLock<Mutex<Connections>> = OnceLock::new();
    CONNECTIONS.get_or_init(Default::default)
}

/// The shared connection for `credential` (cheap to clone; it connects on first use). Call it
/// inside a Tokio runtime.
pub fn redis_connection(credential: &RedisCredential) -> Result<ConnectionManager, String> {
    shared_connection(Server::Credential(credential.clone()), || {
        credential.connect()
    })
}

fn shared_connection(
    server: Server,
    connect: impl FnOnce() -> Result<ConnectionManager, String>,
) -> Result<ConnectionManager, String> {
    let key = (tokio::runtime::Handle::current().id(), server);
    let mut connections = connections().lock().expect("redis connections lock");
    if let Some(connection) = connections.get(&key) {
        return Ok(connection.clone());
    }
    let connection = connect()?;
    connections.insert(key, connection.clone());
    Ok(connection)
}

/// The process's own Redis (read from the environment once) and a shared connection to it, for
/// state every process must see. The error says how to configure it.
pub fn process_redis() -> Result<(&'static RedisConfig, ConnectionManager), String> {
    static CONFIG: OnceLock<Result<RedisConfig, String>> = OnceLock::new();
    let config = CONFIG
        .get_or_init(RedisConfig::from_env)
        .as_ref()
        .map_err(|e| format!("the process's Redis is misconfigured: {e}"))?;
    let connection = shared_connection(Server::Process(config.url.clone()), || {
        if config.url.starts_with("rediss:") {
            crate::tls::use_ring_provider();
        }
        manager(::redis::Client::open(config.url.as_str()).map_err(|e| e.to_string())?)
    })
    .map_err(|e| format!("Redis at {}: {e}", config.display_url()))?;
    Ok((config, connection))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn credential_fields_and_defaults() {
        let c = RedisCredential::from_n8n(
            &json!({"host": "cache", "port": 6380, "database": 2, "password": "p", "user": ""}),
        )
        .unwrap();
        assert_eq!(c.describe(), "cache:6380/2");
        assert_eq!(c.password.as_deref(), Some("p"));
        assert_eq!(c.user, None);
        assert!(!c.tls);
        let tls = RedisCredential::from_n8n(&json!({"ssl": true, "disableTlsVerification": true}))
            .unwrap();
        assert!(tls.tls && tls.accept_invalid_certs);
    }

    #[test]
    fn n8n_variables_make_the_url() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.to_string())
            }
        };
        let plain = RedisConfig::from_lookup(env(&[])).unwrap();
        assert_eq!(plain.url, "redis://localhost:6379/0");
        assert_eq!(plain.key("x"), "bull:sluice:x");
        let full = RedisConfig::from_lookup(env(&[
            ("QUEUE_BULL_REDIS_HOST", "redis.internal"),
            ("QUEUE_BULL_REDIS_PORT", "6380"),
            ("QUEUE_BULL_REDIS_DB", "2"),
            ("QUEUE_BULL_REDIS_USERNAME", "n8n"),
            ("QUEUE_BULL_REDIS_PASSWORD", "p@ss word"),
            ("QUEUE_BULL_REDIS_TLS", "true"),
            ("QUEUE_BULL_PREFIX", "acme"),
        ]))
        .unwrap();
        assert_eq!(full.url, "rediss://n8n:p%40ss%20word@redis.internal:6380/2");
        assert_eq!(full.display_url(), "rediss://***@redis.internal:6380/2");
        assert_eq!(full.prefix, "acme");
        let url = RedisConfig::from_lookup(env(&[("SLUICE_REDIS_URL", "redis://h:1/3")])).unwrap();
        assert_eq!(url.url, "redis://h:1/3");
        let bad = RedisConfig::from_lookup(env(&[("QUEUE_BULL_REDIS_PORT", "x")]));
        assert!(bad.is_err());
    }
}
