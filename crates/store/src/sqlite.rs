//! The embedded backend: one SQLite file in the data directory (WAL, so readers never block the
//! single writer). rusqlite is synchronous; every call runs on tokio's blocking pool.

use crate::sql::{Db, Dialect, Row, Stmt, Val};
use crate::StoreError;
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::Connection;
use std::path::Path;
use std::sync::{Arc, Mutex};

pub struct Sqlite {
    conn: Arc<Mutex<Connection>>,
}

impl Sqlite {
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let conn = Connection::open(path)?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;",
        )?;
        Ok(Sqlite {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    async fn with_conn<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || f(&mut conn.lock().expect("sqlite connection")))
            .await
            .map_err(|e| StoreError::Backend(e.to_string()))?
    }
}

/// `$1` (the shared dialect) becomes `?1` (SQLite's numbered parameter).
fn translate(sql: &str) -> String {
    sql.replace('$', "?")
}

impl rusqlite::ToSql for Val {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Val::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            Val::Int(i) => ToSqlOutput::Borrowed(ValueRef::Integer(*i)),
            Val::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
            Val::Bytes(b) => ToSqlOutput::Borrowed(ValueRef::Blob(b)),
        })
    }
}

fn column(value: ValueRef<'_>) -> Val {
    match value {
        ValueRef::Null => Val::Null,
        ValueRef::Integer(i) => Val::Int(i),
        ValueRef::Real(f) => Val::Int(f as i64),
        ValueRef::Text(t) => Val::Text(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => Val::Bytes(b.to_vec()),
    }
}

#[async_trait::async_trait]
impl Db for Sqlite {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    async fn query(&self, sql: &str, params: Vec<Val>) -> Result<Vec<Row>, StoreError> {
        let sql = translate(sql);
        self.with_conn(move |conn| {
            let mut stmt = conn.prepare_cached(&sql)?;
            let n = stmt.column_count();
            let rows = stmt.query_map(rusqlite::params_from_iter(params.iter()), |row| {
                (0..n).map(|i| row.get_ref(i).map(column)).collect()
            })?;
            Ok(rows.collect::<Result<Vec<Row>, _>>()?)
        })
        .await
    }

    async fn migrate(&self, statements: Vec<String>) -> Result<(), StoreError> {
        self.with_conn(move |conn| {
            let tx = conn.transaction()?;
            tx.execute_batch(&statements.join(";\n"))?;
            Ok(tx.commit()?)
        })
        .await
    }

    async fn transaction(&self, stmts: Vec<Stmt>) -> Result<Vec<u64>, StoreError> {
        self.with_conn(move |conn| {
            let tx = conn.transaction()?;
            let mut counts = Vec::with_capacity(stmts.len());
            for stmt in &stmts {
                let mut prepared = tx.prepare_cached(&translate(&stmt.sql))?;
                counts
                    .push(prepared.execute(rusqlite::params_from_iter(stmt.params.iter()))? as u64);
            }
            tx.commit()?;
            Ok(counts)
        })
        .await
    }
}
