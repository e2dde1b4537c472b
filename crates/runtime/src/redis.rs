//! Redis connections shared by every execution in the process: one multiplexed
//! `ConnectionManager` per distinct credential (it reconnects by itself), created on first use.
//! Commands of many items are pipelined over it instead of one round trip each.

use ::redis::aio::{ConnectionManager, ConnectionManagerConfig};
use ::redis::{ConnectionAddr, IntoConnectionInfo, RedisConnectionInfo};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;
use tokio::runtime::Id as RuntimeId;

/// n8n's `redis` credential, parsed.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RedisCredential {
    pub host: String,
    pub port: u16,
    pub database: i64,
    pub user: Option<String>,
    pub password: Option<String>,
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
        if matches!(data.get("ssl"), Some(Value::Bool(true))) {
            return Err(
                "TLS connections to Redis (the credential's 'ssl') are not supported".into(),
            );
        }
        let port = u16::try_from(number("port", 6379)?)
            .map_err(|_| "the credential's 'port' is out of range")?;
        Ok(RedisCredential {
            host: text("host")?.unwrap_or_else(|| "localhost".into()),
            port,
            database: number("database", 0)?,
            user: text("user")?,
            password: text("password")?,
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
        let info = ConnectionAddr::Tcp(self.host.clone(), self.port)
            .into_connection_info()
            .map_err(|e| e.to_string())?
            .set_redis_settings(settings);
        let client = ::redis::Client::open(info).map_err(|e| e.to_string())?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(5)))
            // Large pipelines (a whole node run's items) may take longer than the 500 ms default.
            .set_response_timeout(Some(Duration::from_secs(60)))
            .set_number_of_retries(1);
        ConnectionManager::new_lazy_with_config(client, config).map_err(|e| e.to_string())
    }
}

type Connections = HashMap<(RuntimeId, RedisCredential), ConnectionManager>;

/// The process's connections, by credential (and by Tokio runtime, whose task drives each).
fn connections() -> &'static Mutex<Connections> {
    static CONNECTIONS: OnceLock<Mutex<Connections>> = OnceLock::new();
    CONNECTIONS.get_or_init(Default::default)
}

/// The shared connection for `credential` (cheap to clone; it connects on first use). Call it
/// inside a Tokio runtime.
pub fn redis_connection(credential: &RedisCredential) -> Result<ConnectionManager, String> {
    let key = (tokio::runtime::Handle::current().id(), credential.clone());
    let mut connections = connections().lock().expect("redis connections lock");
    if let Some(connection) = connections.get(&key) {
        return Ok(connection.clone());
    }
    let connection = credential.connect()?;
    connections.insert(key, connection.clone());
    Ok(connection)
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
        let err = RedisCredential::from_n8n(&json!({"ssl": true})).unwrap_err();
        assert!(err.contains("ssl"), "{err}");
    }
}
