//! Store settings from n8n's environment variable names: which database (`DB_TYPE`,
//! `DB_POSTGRESDB_*`), the encryption key, and the execution saving and pruning policies.

use crate::postgres::PostgresConfig;
use crate::StoreError;
use serde_json::{Map, Value};
use std::path::PathBuf;

#[derive(Clone, Debug)]
pub enum Backend {
    /// The embedded default: `<data_dir>/database.sqlite`.
    Sqlite(PathBuf),
    Postgres(PostgresConfig),
}

/// Which finished executions are kept (`EXECUTIONS_DATA_SAVE_ON_SUCCESS/ON_ERROR`,
/// `EXECUTIONS_DATA_SAVE_MANUAL_EXECUTIONS`), unless the workflow's settings say otherwise.
#[derive(Clone, Debug)]
pub struct SavingPolicy {
    pub on_success: bool,
    pub on_error: bool,
    pub manual: bool,
}

impl SavingPolicy {
    /// Whether an execution that ended in `status` is saved, given the workflow's `settings`
    /// (`saveDataSuccessExecution` / `saveDataErrorExecution` "all"|"none",
    /// `saveManualExecutions`).
    pub fn keeps(&self, status: &str, mode: &str, settings: &Map<String, Value>) -> bool {
        let setting = |name: &str, default: bool| match settings.get(name) {
            Some(Value::String(s)) if s == "all" => true,
            Some(Value::String(s)) if s == "none" => false,
            Some(Value::Bool(b)) => *b,
            _ => default,
        };
        if mode == "manual" && !setting("saveManualExecutions", self.manual) {
            return false;
        }
        if status == "success" {
            setting("saveDataSuccessExecution", self.on_success)
        } else {
            setting("saveDataErrorExecution", self.on_error)
        }
    }
}

/// `EXECUTIONS_DATA_PRUNE`, `EXECUTIONS_DATA_MAX_AGE` (hours), `EXECUTIONS_DATA_PRUNE_MAX_COUNT`
/// (0 = no limit).
#[derive(Clone, Debug)]
pub struct PruningPolicy {
    pub enabled: bool,
    pub max_age_hours: u64,
    pub max_count: u64,
    /// Most executions one delete statement removes: a prune of millions of rows is many short
    /// transactions, so execution writes are never held up for long.
    pub batch_rows: u64,
}

/// Executions removed per delete statement by default: a few milliseconds of SQLite's time
/// (10,000 took ~260 ms, long enough to hold up webhooks whose executions wait to be written).
pub const PRUNE_BATCH_ROWS: u64 = 1_000;

#[derive(Clone, Debug)]
pub struct StoreConfig {
    pub backend: Backend,
    pub data_dir: PathBuf,
    pub encryption_key: Option<String>,
    pub saving: SavingPolicy,
    pub pruning: PruningPolicy,
    /// Most execution writes committed in one transaction.
    pub batch_size: usize,
}

impl StoreConfig {
    /// SQLite in `data_dir` with n8n's defaults.
    pub fn sqlite(data_dir: PathBuf) -> Self {
        StoreConfig {
            backend: Backend::Sqlite(data_dir.join("database.sqlite")),
            data_dir,
            encryption_key: None,
            saving: SavingPolicy {
                on_success: true,
                on_error: true,
                manual: true,
            },
            pruning: PruningPolicy {
                enabled: true,
                max_age_hours: 336,
                max_count: 10_000,
                batch_rows: PRUNE_BATCH_ROWS,
            },
            batch_size: 256,
        }
    }

    /// Settings from the process environment.
    pub fn from_env(data_dir: PathBuf) -> Result<Self, StoreError> {
        Self::from_lookup(data_dir, |name| std::env::var(name).ok())
    }

    /// Settings from `lookup` (an environment).
    pub fn from_lookup(
        data_dir: PathBuf,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, StoreError> {
        let mut config = StoreConfig::sqlite(data_dir);
        let flag = |name: &str, default: bool| -> Result<bool, StoreError> {
            match lookup(name).as_deref() {
                None => Ok(default),
                Some("all" | "true" | "1") => Ok(true),
                Some("none" | "false" | "0") => Ok(false),
                Some(other) => Err(StoreError::Config(format!(
                    "{name}: unexpected value '{other}'"
                ))),
            }
        };
        let number = |name: &str, default: u64| -> Result<u64, StoreError> {
            lookup(name).map_or(Ok(default), |v| {
                v.trim()
                    .parse()
                    .map_err(|_| StoreError::Config(format!("{name}: not a number: '{v}'")))
            })
        };
        config.encryption_key = lookup("N8N_ENCRYPTION_KEY");
        config.saving = SavingPolicy {
            on_success: flag("EXECUTIONS_DATA_SAVE_ON_SUCCESS", true)?,
            on_error: flag("EXECUTIONS_DATA_SAVE_ON_ERROR", true)?,
            manual: flag("EXECUTIONS_DATA_SAVE_MANUAL_EXECUTIONS", true)?,
        };
        config.pruning = PruningPolicy {
            enabled: flag("EXECUTIONS_DATA_PRUNE", true)?,
            max_age_hours: number("EXECUTIONS_DATA_MAX_AGE", 336)?,
            max_count: number("EXECUTIONS_DATA_PRUNE_MAX_COUNT", 10_000)?,
            batch_rows: PRUNE_BATCH_ROWS,
        };
        match lookup("DB_TYPE").as_deref() {
            None | Some("sqlite") => {}
            Some("postgresdb") => {
                let get = |name: &str, default: &str| {
                    lookup(&format!("DB_POSTGRESDB_{name}")).unwrap_or_else(|| default.into())
                };
                config.backend = Backend::Postgres(PostgresConfig {
                    host: get("HOST", "localhost"),
                    port: number("DB_POSTGRESDB_PORT", 5432)? as u16,
                    database: get("DATABASE", "n8n"),
                    user: get("USER", "postgres"),
                    password: lookup("DB_POSTGRESDB_PASSWORD"),
                    schema: get("SCHEMA", "public"),
                    pool_size: number("DB_POSTGRESDB_POOL_SIZE", 4)? as usize,
                });
            }
            Some(other) => {
                return Err(StoreError::Config(format!(
                    "DB_TYPE: unsupported database '{other}' (sqlite or postgresdb)"
                )))
            }
        }
        Ok(config)
    }
}
