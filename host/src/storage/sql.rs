//! The values a statement binds ([`Arg`]) and the rows it returns
//! ([`DbRow`], [`FromDbRow`]), the same for both engines.
//!
//! Write transactions run on rusqlite on SQLite (on the writer thread, see
//! `storage::sqlite_writer`) and on sqlx on PostgreSQL; reads run on sqlx.
//! Each resource's SQL is written once, against these types, and each
//! engine binds and decodes them its own way here.

use std::borrow::Cow;

use sqlx::any::{AnyArguments, AnyRow};
use sqlx::query::Query;
use sqlx::{Any, Row};

use super::{StoreError, StoreResult};

/// One bound parameter. SQL numbers its parameters `$1`, `$2`, ...: the
/// n-th `Arg` of a statement's list is `$n`.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg<'a> {
    Text(Cow<'a, str>),
    Int(i64),
    Blob(Cow<'a, [u8]>),
    /// A NULL text. NULLs are typed: PostgreSQL refuses a text-typed NULL
    /// for a `BIGINT` column.
    NullText,
    /// A NULL number.
    NullInt,
}

impl<'a> From<&'a str> for Arg<'a> {
    fn from(text: &'a str) -> Self {
        Arg::Text(Cow::Borrowed(text))
    }
}

impl<'a> From<&'a String> for Arg<'a> {
    fn from(text: &'a String) -> Self {
        Arg::Text(Cow::Borrowed(text))
    }
}

impl From<String> for Arg<'_> {
    fn from(text: String) -> Self {
        Arg::Text(Cow::Owned(text))
    }
}

impl<'a> From<&'a &'a str> for Arg<'a> {
    fn from(text: &'a &'a str) -> Self {
        Arg::Text(Cow::Borrowed(text))
    }
}

impl<'a> From<&'a [u8]> for Arg<'a> {
    fn from(bytes: &'a [u8]) -> Self {
        Arg::Blob(Cow::Borrowed(bytes))
    }
}

impl From<i64> for Arg<'_> {
    fn from(number: i64) -> Self {
        Arg::Int(number)
    }
}

impl From<bool> for Arg<'_> {
    /// Flags are stored as `BIGINT` 0 or 1 (see DEVELOPERS.md).
    fn from(flag: bool) -> Self {
        Arg::Int(i64::from(flag))
    }
}

impl<'a> From<Option<&'a str>> for Arg<'a> {
    fn from(text: Option<&'a str>) -> Self {
        text.map_or(Arg::NullText, Arg::from)
    }
}

impl<'a> From<&'a Option<String>> for Arg<'a> {
    fn from(text: &'a Option<String>) -> Self {
        text.as_deref().into()
    }
}

impl From<Option<String>> for Arg<'_> {
    fn from(text: Option<String>) -> Self {
        text.map_or(Arg::NullText, Arg::from)
    }
}

impl From<Option<i64>> for Arg<'_> {
    fn from(number: Option<i64>) -> Self {
        number.map_or(Arg::NullInt, Arg::Int)
    }
}

impl From<&Option<i64>> for Arg<'_> {
    fn from(number: &Option<i64>) -> Self {
        (*number).into()
    }
}

/// `args![a, b, c]`: a statement's parameters, `$1`, `$2`, `$3`.
macro_rules! args {
    ($($arg:expr),* $(,)?) => {
        &[$($crate::storage::sql::Arg::from($arg)),*][..]
    };
}
pub(crate) use args;

/// Binds `args` to an sqlx query, in order.
pub(crate) fn bind_all<'q>(
    mut query: Query<'q, Any, AnyArguments<'q>>,
    args: &'q [Arg<'_>],
) -> Query<'q, Any, AnyArguments<'q>> {
    for arg in args {
        query = match arg {
            Arg::Text(text) => query.bind(text.as_ref()),
            Arg::Int(number) => query.bind(*number),
            Arg::Blob(bytes) => query.bind(bytes.as_ref()),
            Arg::NullText => query.bind(None::<&str>),
            Arg::NullInt => query.bind(None::<i64>),
        };
    }
    query
}

/// Prepares (or takes from the connection's cache) an SQLite statement
/// and binds `args` to it: `$n` takes the n-th argument, wherever and
/// however often it appears.
///
/// SQLite reads `$1` as a parameter *named* "$1", and finding a named
/// parameter's index is a linear search: binding the 800 parameters of a
/// 100-row insert that way took longer than running it. The text is
/// rewritten to `?1`, which SQLite numbers directly.
pub(crate) fn prepare_sqlite<'c>(
    conn: &'c rusqlite::Connection,
    sql: &str,
    args: &[Arg<'_>],
) -> rusqlite::Result<rusqlite::CachedStatement<'c>> {
    let mut statement = conn.prepare_cached(&numbered_parameters(sql))?;
    for index in 1..=statement.parameter_count() {
        let Some(arg) = args.get(index - 1) else {
            return Err(rusqlite::Error::InvalidParameterCount(index, args.len()));
        };
        match arg {
            Arg::Text(text) => statement.raw_bind_parameter(index, text.as_ref())?,
            Arg::Int(number) => statement.raw_bind_parameter(index, number)?,
            Arg::Blob(bytes) => statement.raw_bind_parameter(index, bytes.as_ref())?,
            Arg::NullText | Arg::NullInt => {
                statement.raw_bind_parameter(index, rusqlite::types::Null)?
            }
        }
    }
    Ok(statement)
}

/// `$n` → `?n`. The SQL of this crate puts no `$` inside string literals.
fn numbered_parameters(sql: &str) -> Cow<'_, str> {
    if !sql.contains('$') {
        return Cow::Borrowed(sql);
    }
    let mut rewritten = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
            rewritten.push('?');
        } else {
            rewritten.push(c);
        }
    }
    Cow::Owned(rewritten)
}

/// A row being decoded, from either engine.
pub enum DbRow<'r, 's> {
    Sqlite(&'r rusqlite::Row<'s>),
    Any(&'r AnyRow),
}

/// Which column of a row: its index or its name.
pub trait ColumnIndex: rusqlite::RowIndex + sqlx::ColumnIndex<AnyRow> + Copy {}
impl ColumnIndex for usize {}
impl ColumnIndex for &str {}

impl DbRow<'_, '_> {
    /// The value of one column.
    pub fn get<T: Column>(&self, index: impl ColumnIndex) -> StoreResult<T> {
        match self {
            DbRow::Sqlite(row) => Ok(T::from_sqlite(row, index)?),
            DbRow::Any(row) => Ok(T::from_any(row, index)?),
        }
    }
}

/// A column type both engines decode.
pub trait Column: Sized {
    fn from_sqlite(row: &rusqlite::Row<'_>, index: impl ColumnIndex) -> rusqlite::Result<Self>;
    fn from_any(row: &AnyRow, index: impl ColumnIndex) -> Result<Self, sqlx::Error>;
}

macro_rules! column {
    ($($type:ty),*) => {$(
        impl Column for $type {
            fn from_sqlite(row: &rusqlite::Row<'_>, index: impl ColumnIndex) -> rusqlite::Result<Self> {
                row.get(index)
            }
            fn from_any(row: &AnyRow, index: impl ColumnIndex) -> Result<Self, sqlx::Error> {
                row.try_get(index)
            }
        }
    )*};
}
column!(String, Option<String>, i64, Option<i64>, Vec<u8>);

/// A type made from one row.
pub trait FromDbRow: Sized {
    fn from_db_row(row: &DbRow<'_, '_>) -> StoreResult<Self>;
}

macro_rules! tuple_from_row {
    ($($name:ident $index:tt),+) => {
        impl<$($name: Column),+> FromDbRow for ($($name,)+) {
            fn from_db_row(row: &DbRow<'_, '_>) -> StoreResult<Self> {
                Ok(($(row.get::<$name>($index)?,)+))
            }
        }
    };
}
tuple_from_row!(A 0);
tuple_from_row!(A 0, B 1);
tuple_from_row!(A 0, B 1, C 2);
tuple_from_row!(A 0, B 1, C 2, D 3);
tuple_from_row!(A 0, B 1, C 2, D 3, E 4);
tuple_from_row!(A 0, B 1, C 2, D 3, E 4, F 5);
tuple_from_row!(A 0, B 1, C 2, D 3, E 4, F 5, G 6);
tuple_from_row!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);
tuple_from_row!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8);

/// Reads every row of a query on an sqlx pool or connection (reads outside
/// write transactions), decoded as the write path decodes them.
pub async fn fetch_all<'e, R: FromDbRow>(
    executor: impl sqlx::Executor<'e, Database = Any>,
    sql: &str,
    args: &[Arg<'_>],
) -> StoreResult<Vec<R>> {
    let rows = bind_all(sqlx::query(sql), args).fetch_all(executor).await?;
    rows.iter()
        .map(|row| R::from_db_row(&DbRow::Any(row)))
        .collect()
}

/// Like [`fetch_all`], for at most one row.
pub async fn fetch_optional<'e, R: FromDbRow>(
    executor: impl sqlx::Executor<'e, Database = Any>,
    sql: &str,
    args: &[Arg<'_>],
) -> StoreResult<Option<R>> {
    let row = bind_all(sqlx::query(sql), args)
        .fetch_optional(executor)
        .await?;
    row.map(|row| R::from_db_row(&DbRow::Any(&row))).transpose()
}

impl From<rusqlite::Error> for StoreError {
    fn from(error: rusqlite::Error) -> Self {
        StoreError::Sqlite(error)
    }
}

/// True when a rusqlite error is a unique or primary-key violation.
pub(crate) fn sqlite_unique_violation(error: &rusqlite::Error) -> bool {
    matches!(error, rusqlite::Error::SqliteFailure(failure, _)
        if failure.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
            || failure.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sqlite() -> rusqlite::Connection {
        let conn = rusqlite::Connection::open_in_memory().expect("in-memory database");
        conn.execute_batch("CREATE TABLE t (a TEXT, b BIGINT, c TEXT)")
            .expect("table");
        conn
    }

    #[test]
    fn sqlite_binds_numbered_parameters_by_number_not_by_order_of_appearance() {
        let conn = sqlite();
        let mut insert = prepare_sqlite(
            &conn,
            "INSERT INTO t (c, b, a) VALUES ($3, $2, $1)",
            args!["first", 2, Option::<&str>::None],
        )
        .expect("prepare");
        insert.raw_execute().expect("insert");
        let row: (String, i64, Option<String>) = conn
            .query_row("SELECT a, b, c FROM t", [], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?))
            })
            .expect("row");
        assert_eq!(row, ("first".to_owned(), 2, None));
    }

    #[test]
    fn sqlite_binds_a_repeated_parameter_once() {
        let conn = sqlite();
        let mut insert = prepare_sqlite(
            &conn,
            "INSERT INTO t (a, b, c) VALUES ($1, $2, $1)",
            args!["same", 7],
        )
        .expect("prepare");
        insert.raw_execute().expect("insert");
        let same: i64 = conn
            .query_row(
                "SELECT COUNT(*) FROM t WHERE a = c AND a = 'same'",
                [],
                |row| row.get(0),
            )
            .expect("count");
        assert_eq!(same, 1);
    }

    #[test]
    fn too_few_arguments_are_an_error_not_a_null() {
        let conn = sqlite();
        let error = prepare_sqlite(
            &conn,
            "INSERT INTO t (a, b) VALUES ($1, $2)",
            args!["only one"],
        )
        .map(|_| ())
        .expect_err("missing $2");
        assert!(
            matches!(error, rusqlite::Error::InvalidParameterCount(2, 1)),
            "{error}"
        );
    }

    #[test]
    fn numbered_parameters_become_question_marks_and_nothing_else_changes() {
        assert_eq!(
            numbered_parameters("SELECT $1, $12 FROM t WHERE a = $2"),
            "SELECT ?1, ?12 FROM t WHERE a = ?2"
        );
        assert_eq!(numbered_parameters("SELECT 1"), "SELECT 1");
        assert_eq!(numbered_parameters("SELECT '$' || $1"), "SELECT '$' || ?1");
    }

    #[test]
    fn unique_violations_are_recognised() {
        let conn = rusqlite::Connection::open_in_memory().expect("in-memory database");
        conn.execute_batch("CREATE TABLE u (a TEXT UNIQUE); INSERT INTO u VALUES ('x')")
            .expect("table");
        let error = conn
            .execute("INSERT INTO u VALUES ('x')", [])
            .expect_err("duplicate");
        assert!(sqlite_unique_violation(&error));
        let other = conn
            .execute("INSERT INTO missing VALUES (1)", [])
            .expect_err("no table");
        assert!(!sqlite_unique_violation(&other));
    }
}
