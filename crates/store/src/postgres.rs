//! The server backend: Postgres through a deadpool connection pool, in its own schema
//! (`DB_POSTGRESDB_SCHEMA`). Statements of one transaction are pipelined on one connection.

use crate::sql::{Db, Dialect, Row, Stmt, Val};
use crate::StoreError;
use bytes::BytesMut;
use deadpool_postgres::{Pool, Runtime};
use futures_util::future::try_join_all;
use tokio_postgres::types::{to_sql_checked, IsNull, ToSql, Type};
use tokio_postgres::NoTls;

/// Connection settings (n8n's `DB_POSTGRESDB_*`).
#[derive(Clone, Debug)]
pub struct PostgresConfig {
    pub host: String,
    pub port: u16,
    pub database: String,
    pub user: String,
    pub password: Option<String>,
    pub schema: String,
    pub pool_size: usize,
}

/// How long opening (or checking) a connection may take.
const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);
/// How long a query may wait for a free connection of the pool.
const POOL_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

pub struct Postgres {
    pool: Pool,
}

impl Postgres {
    pub async fn connect(config: &PostgresConfig) -> Result<Self, StoreError> {
        if !config
            .schema
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return Err(StoreError::Config(format!(
                "invalid Postgres schema name '{}'",
                config.schema
            )));
        }
        let mut cfg = deadpool_postgres::Config::new();
        cfg.host = Some(config.host.clone());
        cfg.port = Some(config.port);
        cfg.dbname = Some(config.database.clone());
        cfg.user = Some(config.user.clone());
        cfg.password = config.password.clone();
        // Bounded waits, so a database that is away gives an error to answer 503 with, not a
        // request that hangs.
        let mut pool = deadpool_postgres::PoolConfig::new(config.pool_size.max(1));
        pool.timeouts = deadpool_postgres::Timeouts {
            wait: Some(POOL_WAIT),
            create: Some(CONNECT_TIMEOUT),
            recycle: Some(CONNECT_TIMEOUT),
        };
        cfg.pool = Some(pool);
        cfg.connect_timeout = Some(CONNECT_TIMEOUT);
        let bootstrap = cfg
            .create_pool(Some(Runtime::Tokio1), NoTls)
            .map_err(|e| StoreError::Config(e.to_string()))?;
        bootstrap
            .get()
            .await?
            .batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {}", config.schema))
            .await?;
        bootstrap.close();
        cfg.options = Some(format!("-c search_path={}", config.schema));
        let pool = cfg
            .create_pool(Some(Runtime::Tokio1), NoTls)
            .map_err(|e| StoreError::Config(e.to_string()))?;
        Ok(Postgres { pool })
    }
}

impl ToSql for Val {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            Val::Null => Ok(IsNull::Yes),
            Val::Int(i) if *ty == Type::INT4 => i32::try_from(*i)?.to_sql(ty, out),
            Val::Int(i) => i.to_sql(ty, out),
            Val::Text(s) => s.to_sql(ty, out),
            Val::Bytes(b) => b.to_sql(ty, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

fn params(values: &[Val]) -> Vec<&(dyn ToSql + Sync)> {
    values.iter().map(|v| v as &(dyn ToSql + Sync)).collect()
}

fn row(row: &tokio_postgres::Row) -> Result<Row, StoreError> {
    (0..row.len())
        .map(|i| {
            let ty = row.columns()[i].type_();
            Ok(if *ty == Type::INT8 {
                row.try_get::<_, Option<i64>>(i)?.into()
            } else if *ty == Type::INT4 {
                row.try_get::<_, Option<i32>>(i)?.map(i64::from).into()
            } else if *ty == Type::BYTEA {
                row.try_get::<_, Option<Vec<u8>>>(i)?.into()
            } else {
                row.try_get::<_, Option<String>>(i)?.into()
            })
        })
        .collect()
}

#[async_trait::async_trait]
impl Db for Postgres {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    async fn query(&self, sql: &str, values: Vec<Val>) -> Result<Vec<Row>, StoreError> {
        let client = self.pool.get().await?;
        let stmt = client.prepare_cached(sql).await?;
        let rows = client.query(&stmt, &params(&values)).await?;
        rows.iter().map(row).collect()
    }

    async fn migrate(&self, statements: Vec<String>) -> Result<(), StoreError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        tx.batch_execute(&statements.join(";\n")).await?;
        Ok(tx.commit().await?)
    }

    async fn transaction(&self, stmts: Vec<Stmt>) -> Result<Vec<u64>, StoreError> {
        let mut client = self.pool.get().await?;
        if let [stmt] = stmts.as_slice() {
            // One statement is atomic on its own: no BEGIN and COMMIT round trips.
            let prepared = client.prepare_cached(&stmt.sql).await?;
            return Ok(vec![
                client.execute(&prepared, &params(&stmt.params)).await?,
            ]);
        }
        let tx = client.transaction().await?;
        let prepared = try_join_all(stmts.iter().map(|s| tx.prepare_cached(&s.sql))).await?;
        let param_lists: Vec<_> = stmts.iter().map(|s| params(&s.params)).collect();
        let counts = try_join_all(
            prepared
                .iter()
                .zip(&param_lists)
                .map(|(p, values)| tx.execute(p, values)),
        )
        .await?;
        tx.commit().await?;
        Ok(counts)
    }
}
