//! One way to run a hot-path statement on either backend: through the
//! SQLite lane's own thread (see `sqlite_lane`) or through an sqlx pool
//! (PostgreSQL). The SQL text is the same for both; so is the code that
//! reads the rows, written once against [`Columns`].

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use rusqlite::types::Value;
use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row as _};

use crate::sqlite_lane::{self, LaneRow, SqliteLane};
use crate::{Result, StoreError};

/// A statement argument, typed so PostgreSQL infers the same parameter
/// types as when the value is bound directly.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Arg {
    Int(i64),
    Text(String),
    /// A NULL in an integer column.
    NoInt,
}

impl From<i64> for Arg {
    fn from(v: i64) -> Self {
        Arg::Int(v)
    }
}

impl From<&str> for Arg {
    fn from(v: &str) -> Self {
        Arg::Text(v.to_owned())
    }
}

impl From<String> for Arg {
    fn from(v: String) -> Self {
        Arg::Text(v)
    }
}

impl From<Option<i64>> for Arg {
    fn from(v: Option<i64>) -> Self {
        v.map_or(Arg::NoInt, Arg::Int)
    }
}

impl Arg {
    fn to_sqlite(&self) -> Value {
        match self {
            Arg::Int(v) => Value::Integer(*v),
            Arg::Text(v) => Value::Text(v.clone()),
            Arg::NoInt => Value::Null,
        }
    }
}

/// The arguments of a statement, `$1` first.
macro_rules! args {
    ($($arg:expr),* $(,)?) => {
        vec![$($crate::exec::Arg::from($arg)),*]
    };
}
pub(crate) use args;

/// Reading a row by column name, whichever backend it came from.
pub(crate) trait Columns {
    fn int(&self, name: &str) -> Result<i64>;
    fn opt_int(&self, name: &str) -> Result<Option<i64>>;
    fn text(&self, name: &str) -> Result<String>;
}

impl Columns for AnyRow {
    fn int(&self, name: &str) -> Result<i64> {
        Ok(self.try_get(name)?)
    }

    fn opt_int(&self, name: &str) -> Result<Option<i64>> {
        Ok(self.try_get(name)?)
    }

    fn text(&self, name: &str) -> Result<String> {
        Ok(self.try_get(name)?)
    }
}

fn wrong_type(name: &str, value: Option<&Value>) -> StoreError {
    StoreError::Corrupt(format!("column {name}: unexpected {value:?}"))
}

impl Columns for LaneRow {
    fn int(&self, name: &str) -> Result<i64> {
        match self.value(name) {
            Some(Value::Integer(v)) => Ok(*v),
            other => Err(wrong_type(name, other)),
        }
    }

    fn opt_int(&self, name: &str) -> Result<Option<i64>> {
        match self.value(name) {
            Some(Value::Integer(v)) => Ok(Some(*v)),
            Some(Value::Null) => Ok(None),
            other => Err(wrong_type(name, other)),
        }
    }

    fn text(&self, name: &str) -> Result<String> {
        match self.value(name) {
            Some(Value::Text(v)) => Ok(v.clone()),
            other => Err(wrong_type(name, other)),
        }
    }
}

/// A row from either backend.
pub(crate) enum Row {
    Any(AnyRow),
    Lane(LaneRow),
}

impl Columns for Row {
    fn int(&self, name: &str) -> Result<i64> {
        match self {
            Row::Any(r) => r.int(name),
            Row::Lane(r) => r.int(name),
        }
    }

    fn opt_int(&self, name: &str) -> Result<Option<i64>> {
        match self {
            Row::Any(r) => r.opt_int(name),
            Row::Lane(r) => r.opt_int(name),
        }
    }

    fn text(&self, name: &str) -> Result<String> {
        match self {
            Row::Any(r) => r.text(name),
            Row::Lane(r) => r.text(name),
        }
    }
}

pub(crate) type Sql = Cow<'static, str>;

fn sqlx_query<'q>(
    sql: &'q str,
    args: &[Arg],
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    let mut q = sqlx::query(sql);
    for arg in args {
        q = match arg {
            Arg::Int(v) => q.bind(*v),
            Arg::Text(v) => q.bind(v.clone()),
            Arg::NoInt => q.bind(None::<i64>),
        };
    }
    q
}

fn to_sqlite(args: &[Arg]) -> Vec<Value> {
    args.iter().map(Arg::to_sqlite).collect()
}

pub(crate) type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Statements of one piece of store logic, whichever backend runs them.
/// The logic is written once, as async code against this trait: on
/// PostgreSQL each call is a round trip; in the SQLite lane each call runs
/// at once on the lane's thread, so the whole piece is one lane job.
pub(crate) trait Statements: Send {
    fn all<'s>(&'s mut self, sql: Sql, args: Vec<Arg>) -> BoxFuture<'s, Result<Vec<Row>>>;
    fn execute<'s>(&'s mut self, sql: Sql, args: Vec<Arg>) -> BoxFuture<'s, Result<u64>>;
}

impl dyn Statements + '_ {
    pub(crate) async fn optional(
        &mut self,
        sql: impl Into<Sql>,
        args: Vec<Arg>,
    ) -> Result<Option<Row>> {
        Ok(self.all(sql.into(), args).await?.into_iter().next())
    }

    pub(crate) async fn one(&mut self, sql: impl Into<Sql>, args: Vec<Arg>) -> Result<Row> {
        self.optional(sql, args)
            .await?
            .ok_or_else(|| StoreError::from(sqlx::Error::RowNotFound))
    }

    pub(crate) async fn run(&mut self, sql: impl Into<Sql>, args: Vec<Arg>) -> Result<u64> {
        self.execute(sql.into(), args).await
    }
}

/// Statements on an sqlx pool, each on its own (autocommit).
struct PoolStatements<'p>(&'p AnyPool);

/// Statements inside an sqlx transaction.
struct TxStatements<'t>(&'t mut sqlx::Transaction<'static, sqlx::Any>);

/// Statements on the lane's connection, inside the lane job's savepoint.
struct LaneStatements<'c>(&'c mut rusqlite::Connection);

impl Statements for PoolStatements<'_> {
    fn all<'s>(&'s mut self, sql: Sql, args: Vec<Arg>) -> BoxFuture<'s, Result<Vec<Row>>> {
        Box::pin(async move {
            let rows = sqlx_query(&sql, &args).fetch_all(self.0).await?;
            Ok(rows.into_iter().map(Row::Any).collect())
        })
    }

    fn execute<'s>(&'s mut self, sql: Sql, args: Vec<Arg>) -> BoxFuture<'s, Result<u64>> {
        Box::pin(async move {
            Ok(sqlx_query(&sql, &args)
                .execute(self.0)
                .await?
                .rows_affected())
        })
    }
}

impl Statements for TxStatements<'_> {
    fn all<'s>(&'s mut self, sql: Sql, args: Vec<Arg>) -> BoxFuture<'s, Result<Vec<Row>>> {
        Box::pin(async move {
            let rows = sqlx_query(&sql, &args).fetch_all(&mut **self.0).await?;
            Ok(rows.into_iter().map(Row::Any).collect())
        })
    }

    fn execute<'s>(&'s mut self, sql: Sql, args: Vec<Arg>) -> BoxFuture<'s, Result<u64>> {
        Box::pin(async move {
            Ok(sqlx_query(&sql, &args)
                .execute(&mut **self.0)
                .await?
                .rows_affected())
        })
    }
}

impl Statements for LaneStatements<'_> {
    fn all<'s>(&'s mut self, sql: Sql, args: Vec<Arg>) -> BoxFuture<'s, Result<Vec<Row>>> {
        let rows = sqlite_lane::query(self.0, &sql, &to_sqlite(&args));
        Box::pin(std::future::ready(
            rows.map(|rows| rows.into_iter().map(Row::Lane).collect())
                .map_err(StoreError::from),
        ))
    }

    fn execute<'s>(&'s mut self, sql: Sql, args: Vec<Arg>) -> BoxFuture<'s, Result<u64>> {
        let changed = sqlite_lane::execute(self.0, &sql, &to_sqlite(&args));
        Box::pin(std::future::ready(changed.map_err(StoreError::from)))
    }
}

/// Drives store logic on the lane's thread. Every [`LaneStatements`] call
/// is ready at once, so the logic finishes in one poll; logic that waited
/// on anything else is refused rather than blocking the lane.
fn finish_on_lane<T>(mut work: BoxFuture<'_, Result<T>>) -> Result<T> {
    let mut cx = Context::from_waker(Waker::noop());
    match work.as_mut().poll(&mut cx) {
        Poll::Ready(outcome) => outcome,
        Poll::Pending => Err(StoreError::Unavailable(
            "store logic in the SQLite lane waited on something other than SQLite".into(),
        )),
    }
}

/// Store logic to run with [`Exec::run`] or [`Exec::transaction`].
pub(crate) trait Logic<T>:
    for<'c> FnOnce(&'c mut dyn Statements) -> BoxFuture<'c, Result<T>> + Send + 'static
{
}

impl<T, F> Logic<T> for F where
    F: for<'c> FnOnce(&'c mut dyn Statements) -> BoxFuture<'c, Result<T>> + Send + 'static
{
}

/// Where a hot-path statement runs.
#[derive(Clone, Copy)]
pub(crate) enum Exec<'a> {
    Pool(&'a AnyPool),
    Lane(&'a SqliteLane),
}

impl Exec<'_> {
    /// Runs store logic: in the SQLite lane as one job (all or nothing);
    /// on PostgreSQL statement by statement, each committed on its own, as
    /// separate calls would be.
    pub(crate) async fn run<T: Send + 'static>(self, logic: impl Logic<T>) -> Result<T> {
        match self {
            Exec::Pool(pool) => logic(&mut PoolStatements(pool)).await,
            Exec::Lane(lane) => {
                lane.run(move |conn| finish_on_lane(logic(&mut LaneStatements(conn))))
                    .await
            }
        }
    }

    /// Runs store logic all or nothing on either backend.
    pub(crate) async fn transaction<T: Send + 'static>(self, logic: impl Logic<T>) -> Result<T> {
        match self {
            Exec::Pool(pool) => {
                let mut tx = pool.begin().await?;
                let outcome = logic(&mut TxStatements(&mut tx)).await;
                match outcome {
                    Ok(value) => {
                        tx.commit().await?;
                        Ok(value)
                    }
                    Err(e) => {
                        let _ = tx.rollback().await;
                        Err(e)
                    }
                }
            }
            Exec::Lane(_) => self.run(logic).await,
        }
    }

    pub(crate) async fn optional(self, sql: impl Into<Sql>, args: Vec<Arg>) -> Result<Option<Row>> {
        let sql = sql.into();
        self.run(move |st| Box::pin(async move { st.optional(sql, args).await }))
            .await
    }

    pub(crate) async fn one(self, sql: impl Into<Sql>, args: Vec<Arg>) -> Result<Row> {
        let sql = sql.into();
        self.run(move |st| Box::pin(async move { st.one(sql, args).await }))
            .await
    }

    /// Runs a statement that returns no rows; how many rows it changed.
    pub(crate) async fn execute(self, sql: impl Into<Sql>, args: Vec<Arg>) -> Result<u64> {
        let sql = sql.into();
        self.run(move |st| st.execute(sql, args)).await
    }

    /// Runs statements that return no rows in one transaction: all of
    /// them or none. How many rows each changed.
    pub(crate) async fn batch(self, statements: Vec<(Sql, Vec<Arg>)>) -> Result<Vec<u64>> {
        self.transaction(move |st| {
            Box::pin(async move {
                let mut changed = Vec::with_capacity(statements.len());
                for (sql, args) in statements {
                    changed.push(st.execute(sql, args).await?);
                }
                Ok(changed)
            })
        })
        .await
    }
}

#[cfg(all(test, feature = "testing"))]
mod tests {
    use super::*;
    use crate::testing::databases;
    use crate::Store;

    async fn session_counter(store: &Store) -> i64 {
        store
            .hot()
            .one(
                "SELECT value FROM mm_counters WHERE name = $1",
                args!["session_id"],
            )
            .await
            .unwrap()
            .int("value")
            .unwrap()
    }

    #[tokio::test]
    async fn placeholders_bind_by_number_not_by_position() {
        for db in databases().await {
            let store = Store::open(&db.url).await.unwrap();
            let row = store
                .hot()
                .one(
                    "SELECT $2 AS second, $1 AS first, $3 AS absent",
                    args!["one", 2, None::<i64>],
                )
                .await
                .unwrap();
            assert_eq!(row.int("second").unwrap(), 2, "{}", db.label);
            assert_eq!(row.text("first").unwrap(), "one");
            assert_eq!(row.opt_int("absent").unwrap(), None);
            assert!(row.int("first").is_err(), "a text column is not an int");
            store.close().await;
        }
    }

    #[tokio::test]
    async fn a_batch_is_all_or_nothing() {
        for db in databases().await {
            let store = Store::open(&db.url).await.unwrap();
            let before = session_counter(&store).await;
            let bump: (Sql, Vec<Arg>) = (
                "UPDATE mm_counters SET value = value + $1 WHERE name = 'session_id'".into(),
                args![5],
            );
            let failed = store
                .hot()
                .batch(vec![
                    bump.clone(),
                    ("INSERT INTO no_such_table VALUES ($1)".into(), args![1]),
                ])
                .await;
            assert!(failed.is_err(), "{}", db.label);
            assert_eq!(session_counter(&store).await, before, "rolled back");
            let changed = store.hot().batch(vec![bump.clone(), bump]).await.unwrap();
            assert_eq!(changed, vec![1, 1]);
            assert_eq!(session_counter(&store).await, before + 10);
            store.close().await;
        }
    }

    /// Jobs sent together share one SQLite commit (group commit): a failing
    /// one is undone alone and the others are stored and acknowledged.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn jobs_committed_together_succeed_or_fail_alone() {
        for db in databases().await {
            let store = Store::open(&db.url).await.unwrap();
            let before = session_counter(&store).await;
            let jobs = (0..64).map(|i| {
                let store = store.clone();
                tokio::spawn(async move {
                    let mut statements: Vec<(Sql, Vec<Arg>)> = vec![(
                        "UPDATE mm_counters SET value = value + 1 WHERE name = 'session_id'".into(),
                        vec![],
                    )];
                    if i % 3 == 0 {
                        statements.push(("INSERT INTO no_such_table VALUES (1)".into(), vec![]));
                    }
                    store.hot().batch(statements).await.is_ok()
                })
            });
            let mut ok = 0;
            for (i, job) in jobs.collect::<Vec<_>>().into_iter().enumerate() {
                let succeeded = job.await.unwrap();
                assert_eq!(succeeded, i % 3 != 0, "job {i} on {}", db.label);
                ok += i64::from(succeeded);
            }
            assert_eq!(session_counter(&store).await, before + ok, "{}", db.label);
            store.close().await;
        }
    }

    #[tokio::test]
    async fn a_panicking_job_fails_alone_and_the_lane_carries_on() {
        let db = crate::testing::TestDatabase::sqlite();
        let store = Store::open(&db.url).await.unwrap();
        let before = session_counter(&store).await;
        let failed = store
            .hot()
            .run(move |st| {
                Box::pin(async move {
                    st.run(
                        "UPDATE mm_counters SET value = value + 1 WHERE name = 'session_id'",
                        vec![],
                    )
                    .await?;
                    if before >= 0 {
                        panic!("a bug in store logic");
                    }
                    Ok(())
                })
            })
            .await;
        assert!(failed.is_err());
        assert_eq!(session_counter(&store).await, before, "nothing committed");
        store.close().await;
    }

    #[tokio::test]
    async fn a_closed_store_refuses_instead_of_hanging() {
        let db = crate::testing::TestDatabase::sqlite();
        let store = Store::open(&db.url).await.unwrap();
        store.close().await;
        let err = store
            .hot()
            .one("SELECT 1 AS n", vec![])
            .await
            .err()
            .expect("closed");
        assert!(err.to_string().contains("closed"), "{err}");
    }
}
