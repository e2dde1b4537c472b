//! The small SQL interface both backends implement. Every query of the store is written once, in
//! the SQL subset SQLite and Postgres share (`$n` parameters, `BIGINT`/`TEXT` columns,
//! `ON CONFLICT`, `RETURNING`), so the two backends cannot drift apart in behaviour.

use crate::StoreError;
use std::borrow::Cow;

/// A column value or a statement parameter.
#[derive(Clone, Debug, PartialEq)]
pub enum Val {
    Null,
    Int(i64),
    Text(String),
    Bytes(Vec<u8>),
}

impl Val {
    pub fn int(&self) -> Option<i64> {
        match self {
            Val::Int(i) => Some(*i),
            _ => None,
        }
    }

    pub fn into_text(self) -> Option<String> {
        match self {
            Val::Text(s) => Some(s),
            _ => None,
        }
    }

    pub fn into_bytes(self) -> Option<Vec<u8>> {
        match self {
            Val::Bytes(b) => Some(b),
            _ => None,
        }
    }
}

impl From<i64> for Val {
    fn from(v: i64) -> Self {
        Val::Int(v)
    }
}

impl From<bool> for Val {
    fn from(v: bool) -> Self {
        Val::Int(i64::from(v))
    }
}

impl From<&str> for Val {
    fn from(v: &str) -> Self {
        Val::Text(v.to_string())
    }
}

impl From<String> for Val {
    fn from(v: String) -> Self {
        Val::Text(v)
    }
}

impl From<Vec<u8>> for Val {
    fn from(v: Vec<u8>) -> Self {
        Val::Bytes(v)
    }
}

impl<T: Into<Val>> From<Option<T>> for Val {
    fn from(v: Option<T>) -> Self {
        v.map_or(Val::Null, Into::into)
    }
}

pub type Row = Vec<Val>;

/// One statement with its parameters.
#[derive(Clone, Debug)]
pub struct Stmt {
    pub sql: Cow<'static, str>,
    pub params: Vec<Val>,
}

impl Stmt {
    pub fn new(sql: impl Into<Cow<'static, str>>, params: Vec<Val>) -> Self {
        Stmt {
            sql: sql.into(),
            params,
        }
    }
}

/// Which SQL dialect a backend speaks (only the migrations' column types differ).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

#[async_trait::async_trait]
pub trait Db: Send + Sync {
    fn dialect(&self) -> Dialect;

    async fn query(&self, sql: &str, params: Vec<Val>) -> Result<Vec<Row>, StoreError>;

    /// Run the statements in one transaction; returns the rows each one affected.
    async fn transaction(&self, stmts: Vec<Stmt>) -> Result<Vec<u64>, StoreError>;

    /// Run parameterless statements (DDL) in one transaction, in order.
    async fn migrate(&self, statements: Vec<String>) -> Result<(), StoreError>;

    async fn execute(&self, sql: &str, params: Vec<Val>) -> Result<u64, StoreError> {
        let counts = self
            .transaction(vec![Stmt::new(sql.to_string(), params)])
            .await?;
        Ok(counts[0])
    }
}
