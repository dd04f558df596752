//! [`Statement`]: SQL text and its arguments built side by side, so that
//! the n-th argument pushed is always `$n`. It is to the write path's
//! [`Arg`] lists what `sqlx::QueryBuilder` is to sqlx: multi-row `VALUES`
//! and `IN (...)` lists without hand-counted parameter numbers.

use super::sql::Arg;

/// A statement being built.
#[derive(Debug, Clone, Default)]
pub(crate) struct Statement<'a> {
    sql: String,
    args: Vec<Arg<'a>>,
}

impl<'a> Statement<'a> {
    /// A statement starting with `sql` (which binds nothing).
    pub(crate) fn new(sql: &str) -> Self {
        Self {
            sql: sql.to_owned(),
            args: Vec::new(),
        }
    }

    /// Appends SQL text.
    pub(crate) fn push(&mut self, sql: &str) -> &mut Self {
        self.sql.push_str(sql);
        self
    }

    /// Appends a parameter (`$n`) bound to `arg`.
    pub(crate) fn push_bind(&mut self, arg: impl Into<Arg<'a>>) -> &mut Self {
        self.args.push(arg.into());
        self.sql.push('$');
        self.sql.push_str(&self.args.len().to_string());
        self
    }

    /// Appends `$n, $n+1, ...`, one parameter per item: the inside of an
    /// `IN (...)` list.
    pub(crate) fn push_list<T: Into<Arg<'a>>>(
        &mut self,
        items: impl IntoIterator<Item = T>,
    ) -> &mut Self {
        for (index, item) in items.into_iter().enumerate() {
            if index > 0 {
                self.sql.push_str(", ");
            }
            self.push_bind(item);
        }
        self
    }

    /// Appends `(…), (…), …`: one row per item, its values pushed by `row`
    /// (each [`Row::bind`] adds one comma-separated parameter).
    pub(crate) fn push_values<T>(
        &mut self,
        items: impl IntoIterator<Item = T>,
        mut row: impl FnMut(&mut Row<'_, 'a>, T),
    ) -> &mut Self {
        for (index, item) in items.into_iter().enumerate() {
            self.sql.push_str(if index > 0 { ", (" } else { "(" });
            row(
                &mut Row {
                    statement: self,
                    empty: true,
                },
                item,
            );
            self.sql.push(')');
        }
        self
    }

    pub(crate) fn sql(&self) -> &str {
        &self.sql
    }

    pub(crate) fn args(&self) -> &[Arg<'a>] {
        &self.args
    }
}

/// One row of [`Statement::push_values`].
pub(crate) struct Row<'s, 'a> {
    statement: &'s mut Statement<'a>,
    empty: bool,
}

impl<'a> Row<'_, 'a> {
    /// The row's next value.
    pub(crate) fn bind(&mut self, arg: impl Into<Arg<'a>>) -> &mut Self {
        if !self.empty {
            self.statement.sql.push_str(", ");
        }
        self.empty = false;
        self.statement.push_bind(arg);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binds_are_numbered_in_the_order_they_are_pushed() {
        let mut statement = Statement::new("UPDATE t SET a = ");
        statement
            .push_bind("x")
            .push(", b = ")
            .push_bind(2)
            .push(" WHERE id IN (")
            .push_list(["p", "q", "r"])
            .push(")");
        assert_eq!(
            statement.sql(),
            "UPDATE t SET a = $1, b = $2 WHERE id IN ($3, $4, $5)"
        );
        assert_eq!(
            statement.args(),
            [
                Arg::from("x"),
                Arg::from(2),
                Arg::from("p"),
                Arg::from("q"),
                Arg::from("r")
            ]
        );
    }

    #[test]
    fn values_rows_hold_each_item_in_its_own_parentheses() {
        let mut statement = Statement::new("INSERT INTO t (a, b) VALUES ");
        statement.push_values([("x", 1), ("y", 2)], |row, (a, b)| {
            row.bind(a).bind(b);
        });
        assert_eq!(
            statement.sql(),
            "INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4)"
        );
        assert_eq!(
            statement.args(),
            [Arg::from("x"), Arg::from(1), Arg::from("y"), Arg::from(2)]
        );
    }

    #[test]
    fn an_sql_statement_built_runs_on_sqlite() {
        let conn = rusqlite::Connection::open_in_memory().expect("in-memory database");
        conn.execute_batch("CREATE TABLE t (a TEXT, b BIGINT)")
            .expect("table");
        let mut insert = Statement::new("INSERT INTO t (a, b) VALUES ");
        insert.push_values(["x", "y", "z"], |row, a| {
            row.bind(a).bind(7);
        });
        super::super::sql::prepare_sqlite(&conn, insert.sql(), insert.args())
            .expect("prepare")
            .raw_execute()
            .expect("insert");
        let mut select = Statement::new("SELECT COUNT(*) FROM t WHERE b = ");
        select
            .push_bind(7)
            .push(" AND a IN (")
            .push_list(["x", "z"])
            .push(")");
        let count: i64 = super::super::sql::prepare_sqlite(&conn, select.sql(), select.args())
            .expect("prepare")
            .raw_query()
            .next()
            .expect("step")
            .expect("a row")
            .get(0)
            .expect("count");
        assert_eq!(count, 2);
    }
}
