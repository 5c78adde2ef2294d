//! The store's connection: one small rusqlite-shaped surface (`prepare_cached`,
//! `execute`, `query_row`, `query_map`, `exists`) over SQLite or PostgreSQL.
//!
//! SQL is written once, in the dialect both accept (`?N` placeholders,
//! `ON CONFLICT`, `RETURNING`, `IS NOT DISTINCT FROM`); for PostgreSQL each
//! statement's `?N` become `$N` once, when it is first prepared on a
//! connection, and the prepared statement is cached there. Parameters are
//! [`ToValue`]s (see [`params!`]); columns are read with [`Row::get`].

use std::cell::RefCell;
use std::collections::HashMap;

use bytes::BytesMut;
use postgres::types::{IsNull, Type};

/// A store error: from either database, or a row that was not there.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("postgres: {}", with_causes(.0))]
    Pg(#[from] postgres::Error),
    #[error("query returned no rows")]
    NoRows,
    #[error("column {0}: {1}")]
    Column(usize, String),
    #[error("encoding: {0}")]
    Encode(String),
}

pub type Result<T> = std::result::Result<T, Error>;

/// An error and what caused it ("error connecting to server: Connection refused").
fn with_causes(e: &postgres::Error) -> String {
    let mut text = e.to_string();
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        text.push_str(&format!(": {c}"));
        cause = c.source();
    }
    text
}

impl Error {
    /// Whether the database could not be reached (a dropped connection, a
    /// server shutting down or starting): the request may be retried later.
    pub fn is_unavailable(&self) -> bool {
        match self {
            Error::Pg(e) => match e.code() {
                None => true, // not the server's answer: the connection failed
                Some(code) => code.code().starts_with("08") || code.code().starts_with("57P"),
            },
            _ => false,
        }
    }
    /// Whether the write failed for want of disk space (SQLite's SQLITE_FULL,
    /// PostgreSQL's 53100 disk_full): nothing was kept; a retry may succeed.
    pub fn is_disk_full(&self) -> bool {
        match self {
            Error::Sqlite(e) => e.sqlite_error_code() == Some(rusqlite::ErrorCode::DiskFull),
            Error::Pg(e) => e.code().is_some_and(|c| c.code() == "53100"),
            _ => false,
        }
    }
}

/// `Option` for a row that may be missing, as rusqlite's extension trait.
pub trait OptionalExtension<T> {
    fn optional(self) -> Result<Option<T>>;
}

impl<T> OptionalExtension<T> for Result<T> {
    fn optional(self) -> Result<Option<T>> {
        match self {
            Ok(v) => Ok(Some(v)),
            Err(Error::NoRows) | Err(Error::Sqlite(rusqlite::Error::QueryReturnedNoRows)) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// Which database a connection talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Sqlite,
    Postgres,
}

/// One parameter value, borrowed from the caller.
#[derive(Debug, Clone, Copy)]
pub enum Value<'a> {
    Null,
    Int(i64),
    Real(f64),
    Text(&'a str),
    Blob(&'a [u8]),
}

/// Anything that binds as a parameter.
pub trait ToValue {
    fn to_value(&self) -> Value<'_>;
}

macro_rules! int_values {
    ($($t:ty),*) => {$(
        impl ToValue for $t {
            fn to_value(&self) -> Value<'_> {
                // Every integer we store fits i64 (counts, indexes, Unix seconds).
                Value::Int(i64::try_from(*self).unwrap_or(i64::MAX))
            }
        }
    )*};
}
int_values!(i64, i32, u32, u64, usize);

impl ToValue for bool {
    fn to_value(&self) -> Value<'_> {
        Value::Int(i64::from(*self))
    }
}
impl ToValue for f64 {
    fn to_value(&self) -> Value<'_> {
        Value::Real(*self)
    }
}
impl ToValue for str {
    fn to_value(&self) -> Value<'_> {
        Value::Text(self)
    }
}
impl ToValue for String {
    fn to_value(&self) -> Value<'_> {
        Value::Text(self)
    }
}
impl<T: ToValue + ?Sized> ToValue for &T {
    fn to_value(&self) -> Value<'_> {
        (**self).to_value()
    }
}
impl<T: ToValue> ToValue for Option<T> {
    fn to_value(&self) -> Value<'_> {
        self.as_ref().map_or(Value::Null, ToValue::to_value)
    }
}

/// A parameter list: `params![a, b]`, or `[x]` / `[x, y]` of one type.
pub trait Params {
    fn values(&self) -> Vec<Value<'_>>;
}

impl Params for &[&dyn ToValue] {
    fn values(&self) -> Vec<Value<'_>> {
        self.iter().map(|v| v.to_value()).collect()
    }
}
impl<T: ToValue, const N: usize> Params for [T; N] {
    fn values(&self) -> Vec<Value<'_>> {
        self.iter().map(ToValue::to_value).collect()
    }
}

/// `params![a, b, c]`: a parameter list of mixed types.
macro_rules! params {
    () => { &[] as &[&dyn $crate::server::store::db::ToValue] };
    ($($p:expr),+ $(,)?) => { &[$(&$p as &dyn $crate::server::store::db::ToValue),+] as &[&dyn $crate::server::store::db::ToValue] };
}
pub(crate) use params;

impl rusqlite::ToSql for Value<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(match *self {
            Value::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            Value::Int(i) => ToSqlOutput::Borrowed(ValueRef::Integer(i)),
            Value::Real(f) => ToSqlOutput::Borrowed(ValueRef::Real(f)),
            Value::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
            Value::Blob(b) => ToSqlOutput::Borrowed(ValueRef::Blob(b)),
        })
    }
}

type BoxError = Box<dyn std::error::Error + Sync + Send>;

impl postgres::types::ToSql for Value<'_> {
    /// Integers go out in the width PostgreSQL inferred for the parameter.
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> std::result::Result<IsNull, BoxError> {
        match *self {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(i) => match *ty {
                Type::INT2 => i16::try_from(i)?.to_sql(ty, out),
                Type::INT4 => i32::try_from(i)?.to_sql(ty, out),
                Type::BOOL => (i != 0).to_sql(ty, out),
                Type::FLOAT8 => (i as f64).to_sql(ty, out),
                _ => i.to_sql(ty, out),
            },
            Value::Real(f) => f.to_sql(ty, out),
            Value::Text(s) => s.to_sql(ty, out),
            Value::Blob(b) => b.to_sql(ty, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    fn to_sql_checked(&self, ty: &Type, out: &mut BytesMut) -> std::result::Result<IsNull, BoxError> {
        self.to_sql(ty, out)
    }
}

/// One result row.
pub enum Row<'a> {
    Sqlite(&'a rusqlite::Row<'a>),
    Pg(&'a postgres::Row),
}

impl Row<'_> {
    /// Column `i` (from 0) as `T`.
    pub fn get<T: FromColumn>(&self, i: usize) -> Result<T> {
        match self {
            Row::Sqlite(r) => T::from_sqlite(r, i).map_err(Error::Sqlite),
            Row::Pg(r) => T::from_pg(r, i),
        }
    }
}

/// A type a column can be read as.
pub trait FromColumn: Sized {
    fn from_sqlite(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Self>;
    fn from_pg(r: &postgres::Row, i: usize) -> Result<Self>;
}

/// An integer column of any width (`count(*)` is BIGINT, `SELECT 1` INTEGER).
fn pg_int(r: &postgres::Row, i: usize) -> Result<Option<i64>> {
    let ty = r.columns().get(i).map(|c| c.type_().clone()).ok_or_else(|| Error::Column(i, "no such column".into()))?;
    Ok(match ty {
        Type::INT2 => r.try_get::<_, Option<i16>>(i)?.map(i64::from),
        Type::INT4 => r.try_get::<_, Option<i32>>(i)?.map(i64::from),
        Type::BOOL => r.try_get::<_, Option<bool>>(i)?.map(i64::from),
        _ => r.try_get::<_, Option<i64>>(i)?,
    })
}

impl FromColumn for Option<i64> {
    fn from_sqlite(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Self> {
        r.get(i)
    }
    fn from_pg(r: &postgres::Row, i: usize) -> Result<Self> {
        pg_int(r, i)
    }
}
impl FromColumn for i64 {
    fn from_sqlite(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Self> {
        r.get(i)
    }
    fn from_pg(r: &postgres::Row, i: usize) -> Result<Self> {
        pg_int(r, i)?.ok_or_else(|| Error::Column(i, "is NULL".into()))
    }
}
impl FromColumn for bool {
    fn from_sqlite(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Self> {
        r.get(i)
    }
    fn from_pg(r: &postgres::Row, i: usize) -> Result<Self> {
        Ok(i64::from_pg(r, i)? != 0)
    }
}
impl FromColumn for Option<String> {
    fn from_sqlite(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Self> {
        r.get(i)
    }
    fn from_pg(r: &postgres::Row, i: usize) -> Result<Self> {
        Ok(r.try_get(i)?)
    }
}
impl FromColumn for String {
    fn from_sqlite(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Self> {
        r.get(i)
    }
    fn from_pg(r: &postgres::Row, i: usize) -> Result<Self> {
        Ok(r.try_get(i)?)
    }
}
impl FromColumn for f64 {
    fn from_sqlite(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Self> {
        r.get(i)
    }
    fn from_pg(r: &postgres::Row, i: usize) -> Result<Self> {
        Ok(r.try_get(i)?)
    }
}

/// `?N` placeholders to PostgreSQL's `$N` (string literals left alone).
pub fn to_pg_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut quoted = false;
    for ch in sql.chars() {
        match ch {
            '\'' => {
                quoted = !quoted;
                out.push(ch);
            }
            '?' if !quoted => out.push('$'),
            _ => out.push(ch),
        }
    }
    out
}

/// A PostgreSQL connection with its statement cache.
pub struct PgConn {
    client: RefCell<postgres::Client>,
    statements: RefCell<HashMap<String, postgres::Statement>>,
}

impl PgConn {
    pub fn new(client: postgres::Client) -> Self {
        Self { client: RefCell::new(client), statements: RefCell::new(HashMap::new()) }
    }

    fn statement(&self, sql: &str) -> Result<postgres::Statement> {
        if let Some(s) = self.statements.borrow().get(sql) {
            return Ok(s.clone());
        }
        let prepared = self.client.borrow_mut().prepare(&to_pg_placeholders(sql))?;
        self.statements.borrow_mut().insert(sql.to_owned(), prepared.clone());
        Ok(prepared)
    }

    fn query(&self, stmt: &postgres::Statement, values: &[Value<'_>]) -> Result<Vec<postgres::Row>> {
        let refs: Vec<&(dyn postgres::types::ToSql + Sync)> =
            values.iter().map(|v| v as &(dyn postgres::types::ToSql + Sync)).collect();
        Ok(self.client.borrow_mut().query(stmt, &refs)?)
    }

    fn execute(&self, stmt: &postgres::Statement, values: &[Value<'_>]) -> Result<usize> {
        let refs: Vec<&(dyn postgres::types::ToSql + Sync)> =
            values.iter().map(|v| v as &(dyn postgres::types::ToSql + Sync)).collect();
        let n = self.client.borrow_mut().execute(stmt, &refs)?;
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }

    /// Whether the connection to the server is gone (it must be replaced).
    pub fn is_closed(&self) -> bool {
        self.client.borrow().is_closed()
    }
}

/// A connection to either store. (Few exist and they are never copied, so the
/// variants' sizes do not matter.)
#[allow(clippy::large_enum_variant)]
pub enum Connection {
    Sqlite(rusqlite::Connection),
    Pg(PgConn),
}

impl Connection {
    pub fn kind(&self) -> Kind {
        match self {
            Connection::Sqlite(_) => Kind::Sqlite,
            Connection::Pg(_) => Kind::Postgres,
        }
    }

    /// A statement, prepared once per connection and then reused.
    pub fn prepare_cached(&self, sql: &str) -> Result<Statement<'_>> {
        Ok(match self {
            Connection::Sqlite(c) => Statement::Sqlite(c.prepare_cached(sql)?),
            Connection::Pg(c) => Statement::Pg(c, c.statement(sql)?),
        })
    }

    /// As [`prepare_cached`](Self::prepare_cached): every statement is cached.
    pub fn prepare(&self, sql: &str) -> Result<Statement<'_>> {
        self.prepare_cached(sql)
    }

    /// A statement for this one use, never cached on PostgreSQL (dropped, it is
    /// closed there): for SQL that differs call by call. SQLite's cache is bounded.
    pub fn prepare_uncached(&self, sql: &str) -> Result<Statement<'_>> {
        Ok(match self {
            Connection::Sqlite(c) => Statement::Sqlite(c.prepare_cached(sql)?),
            Connection::Pg(c) => Statement::Pg(c, c.client.borrow_mut().prepare(&to_pg_placeholders(sql))?),
        })
    }

    pub fn execute<P: Params>(&self, sql: &str, params: P) -> Result<usize> {
        self.prepare_cached(sql)?.execute(params)
    }

    pub fn query_row<T, P: Params, F: FnOnce(&Row<'_>) -> Result<T>>(&self, sql: &str, params: P, f: F) -> Result<T> {
        self.prepare_cached(sql)?.query_row(params, f)
    }

    /// Runs several statements without parameters (schema, transaction control).
    pub fn execute_batch(&self, sql: &str) -> Result<()> {
        match self {
            Connection::Sqlite(c) => Ok(c.execute_batch(sql)?),
            Connection::Pg(c) => Ok(c.client.borrow_mut().batch_execute(sql)?),
        }
    }

    /// The row id (SQLite) or identity value (PostgreSQL's `lastval()`) the
    /// last insert on this connection made; 0 when there is none.
    pub fn last_insert_rowid(&self) -> i64 {
        match self {
            Connection::Sqlite(c) => c.last_insert_rowid(),
            Connection::Pg(_) => self.query_row("SELECT lastval()", params![], |r| r.get(0)).unwrap_or_else(|e| {
                tracing::error!("lastval: {e}");
                0
            }),
        }
    }

    /// Whether this connection can no longer be used (PostgreSQL went away).
    pub fn is_closed(&self) -> bool {
        match self {
            Connection::Sqlite(_) => false,
            Connection::Pg(c) => c.is_closed(),
        }
    }
}

/// A prepared statement of either store.
pub enum Statement<'c> {
    Sqlite(rusqlite::CachedStatement<'c>),
    Pg(&'c PgConn, postgres::Statement),
}

impl Statement<'_> {
    pub fn execute<P: Params>(&mut self, params: P) -> Result<usize> {
        let values = params.values();
        match self {
            Statement::Sqlite(s) => Ok(s.execute(rusqlite::params_from_iter(values.iter()))?),
            Statement::Pg(c, s) => c.execute(s, &values),
        }
    }

    /// The first row mapped by `f`; [`Error::NoRows`] when there is none.
    pub fn query_row<T, P: Params, F: FnOnce(&Row<'_>) -> Result<T>>(&mut self, params: P, f: F) -> Result<T> {
        let values = params.values();
        match self {
            Statement::Sqlite(s) => {
                let mut rows = s.query(rusqlite::params_from_iter(values.iter()))?;
                match rows.next()? {
                    Some(r) => f(&Row::Sqlite(r)),
                    None => Err(Error::NoRows),
                }
            }
            Statement::Pg(c, s) => match c.query(s, &values)?.first() {
                Some(r) => f(&Row::Pg(r)),
                None => Err(Error::NoRows),
            },
        }
    }

    /// Every row mapped by `f` (read in full, then handed out).
    pub fn query_map<T, P: Params, F: FnMut(&Row<'_>) -> Result<T>>(
        &mut self,
        params: P,
        mut f: F,
    ) -> Result<std::vec::IntoIter<Result<T>>> {
        let values = params.values();
        let mut out = Vec::new();
        match self {
            Statement::Sqlite(s) => {
                let mut rows = s.query(rusqlite::params_from_iter(values.iter()))?;
                while let Some(r) = rows.next()? {
                    out.push(f(&Row::Sqlite(r)));
                }
            }
            Statement::Pg(c, s) => {
                for r in c.query(s, &values)? {
                    out.push(f(&Row::Pg(&r)));
                }
            }
        }
        Ok(out.into_iter())
    }

    /// Whether the query returns at least one row.
    pub fn exists<P: Params>(&mut self, params: P) -> Result<bool> {
        self.query_row(params, |_| Ok(())).optional().map(|found| found.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_become_dollars_outside_string_literals() {
        assert_eq!(
            to_pg_placeholders("SELECT '?' FROM t WHERE a = ?1 AND b = ?12"),
            "SELECT '?' FROM t WHERE a = $1 AND b = $12"
        );
    }

    #[test]
    fn sqlite_surface_binds_and_reads_every_type() {
        let conn = Connection::Sqlite(rusqlite::Connection::open_in_memory().unwrap());
        conn.execute_batch("CREATE TABLE t (a INTEGER, b TEXT, c TEXT)").unwrap();
        conn.execute("INSERT INTO t VALUES (?1, ?2, ?3)", params![7, "x", None::<String>]).unwrap();
        let (a, b, c): (i64, String, Option<String>) =
            conn.query_row("SELECT a, b, c FROM t", params![], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).unwrap();
        assert_eq!((a, b.as_str(), c), (7, "x", None));
        assert!(conn.prepare_cached("SELECT 1 FROM t WHERE a = ?1").unwrap().exists([7]).unwrap());
        let none = conn.query_row("SELECT a FROM t WHERE a = 8", params![], |r| r.get::<i64>(0)).optional().unwrap();
        assert_eq!(none, None);
    }
}
