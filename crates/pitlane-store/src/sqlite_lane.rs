//! The SQLite hot paths' own connection, on its own thread.
//!
//! sqlx runs every SQLite connection on a worker thread and hands each
//! statement there and back (two thread wake-ups, plus the `Any` driver's
//! row conversion). Under load those hand-offs, not SQL, were most of a
//! Login's cost (docs/performance.md). Here one thread owns one rusqlite
//! connection with cached prepared statements and takes whole jobs from a
//! queue: a job is one statement or one all-or-nothing group of them.
//!
//! Group commit: the thread takes every job waiting (up to [`MAX_GROUP`]),
//! runs each in its own savepoint inside one transaction and commits once;
//! only then does any job get its answer. A job that fails is rolled back
//! alone; a commit that fails fails every job of the group. So nothing is
//! acknowledged before it is in the WAL, exactly as with one commit per
//! statement, but a busy server writes each hot page once per group
//! instead of once per request.
//!
//! It is also the only connection the Micro Machines hot paths write with,
//! so those writers queue here in order instead of meeting `SQLITE_BUSY`
//! (the reason the earlier one-connection writer pool existed).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;

use rusqlite::types::Value;
use rusqlite::Connection;

use crate::{Result, StoreError};

/// Jobs committed together at most. Large enough that a burst from
/// thousands of players needs few commits, small enough that the first
/// job of a group does not wait long for the last.
const MAX_GROUP: usize = 128;

/// Work for the lane's thread, run inside the group's transaction and
/// answered once the group's commit is known.
trait Job: Send {
    fn run(&mut self, conn: &mut Connection);
    fn settle(self: Box<Self>, commit: std::result::Result<(), &rusqlite::Error>);
}

struct Pending<T, F> {
    work: Option<F>,
    outcome: Option<Result<T>>,
    answer: tokio::sync::oneshot::Sender<Result<T>>,
}

impl<T, F> Job for Pending<T, F>
where
    T: Send,
    F: FnOnce(&mut Connection) -> Result<T> + Send,
{
    fn run(&mut self, conn: &mut Connection) {
        if let Some(work) = self.work.take() {
            self.outcome = Some(in_savepoint(conn, work));
        }
    }

    fn settle(self: Box<Self>, commit: std::result::Result<(), &rusqlite::Error>) {
        let result = match (commit, self.outcome) {
            (Ok(()), Some(outcome)) => outcome,
            (Ok(()), None) => Err(closed()),
            (Err(e), _) => Err(crate::database_error(format!(
                "the transaction could not be committed: {e}"
            ))),
        };
        let _ = self.answer.send(result);
    }
}

/// One job's statements, undone alone if it fails.
fn in_savepoint<T>(
    conn: &mut Connection,
    work: impl FnOnce(&mut Connection) -> Result<T>,
) -> Result<T> {
    conn.prepare_cached("SAVEPOINT job")?.execute([])?;
    match work(conn) {
        Ok(value) => {
            conn.prepare_cached("RELEASE job")?.execute([])?;
            Ok(value)
        }
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK TO job; RELEASE job");
            Err(e)
        }
    }
}

enum Message {
    Job(Box<dyn Job>),
    /// Close the connection (SQLite checkpoints the WAL) and confirm.
    Close(tokio::sync::oneshot::Sender<()>),
}

#[derive(Debug)]
pub(crate) struct SqliteLane {
    queue: mpsc::Sender<Message>,
    counts: Arc<Counts>,
    checkpoints: Checkpointer,
}

/// How often the checkpointer copies the WAL into the database.
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(200);

/// Copies committed WAL pages into the database file on a thread of its
/// own. SQLite's automatic checkpoint runs inside whichever commit crosses
/// the threshold, with an fsync of the database, and the lane's commit is
/// every hot-path request's: under load a tenth of the lane's time went
/// there. A PASSIVE checkpoint on another connection waits for nobody and
/// blocks nobody; the lane then starts the WAL over on its next commit.
///
/// Every sync of the database happens here, none in the lane (whose
/// connection runs `synchronous = OFF`, see [`SqliteLane::open`]): the
/// checkpointer's connection is `NORMAL`, so each checkpoint syncs the WAL
/// before it copies frames into the database file and syncs the database
/// file before the WAL may be started over. Only PASSIVE checkpoints: a
/// stronger one takes the write lock while it waits for readers, and a
/// long reader (a live backup) would then stall every hot-path write.
#[derive(Debug)]
struct Checkpointer {
    stop: std::sync::Mutex<Option<mpsc::Sender<tokio::sync::oneshot::Sender<()>>>>,
}

impl Checkpointer {
    fn start(path: &str) -> Result<Self> {
        let conn = Connection::open(path)?;
        conn.busy_handler(Some(wait_for_lock))?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        let (stop, stopped) = mpsc::channel::<tokio::sync::oneshot::Sender<()>>();
        thread::Builder::new()
            .name("pitlane-checkpoint".into())
            .spawn(move || loop {
                match stopped.recv_timeout(CHECKPOINT_EVERY) {
                    Err(mpsc::RecvTimeoutError::Timeout) => {
                        if let Err(e) = checkpoint(&conn) {
                            tracing::warn!(error = %e, "WAL checkpoint failed");
                        }
                    }
                    Ok(done) => {
                        drop(conn);
                        let _ = done.send(());
                        return;
                    }
                    Err(mpsc::RecvTimeoutError::Disconnected) => return,
                }
            })
            .map_err(|e| {
                StoreError::Unavailable(format!("cannot start the SQLite checkpoint thread: {e}"))
            })?;
        Ok(Self {
            stop: std::sync::Mutex::new(Some(stop)),
        })
    }

    /// Stops the thread and closes its connection.
    async fn stop(&self) {
        let stop = self.stop.lock().ok().and_then(|mut s| s.take());
        if let Some(stop) = stop {
            let (done, stopped) = tokio::sync::oneshot::channel();
            if stop.send(done).is_ok() {
                let _ = stopped.await;
            }
        }
    }
}

/// One PASSIVE checkpoint: copies what no reader still needs, waits for
/// nobody.
fn checkpoint(conn: &Connection) -> rusqlite::Result<()> {
    conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
}

/// What the lane has done since it opened, for `/metrics`.
#[derive(Debug, Default)]
struct Counts {
    sent: AtomicU64,
    done: AtomicU64,
    commits: AtomicU64,
}

/// A reading of the lane's counters: jobs waiting now, and running totals
/// of jobs answered and of commits (jobs per commit is the group size).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LaneStats {
    pub waiting: u64,
    pub done: u64,
    pub commits: u64,
}

/// Prepared statements kept per connection; the hot paths use a few dozen.
const STATEMENT_CACHE: usize = 128;

impl SqliteLane {
    /// Opens the database file (already migrated) on a new thread.
    pub(crate) fn open(path: &str) -> Result<Self> {
        let conn = Connection::open(path)?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        // The same settings as the sqlx pools (see `sqlite_pool`).
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.busy_handler(Some(wait_for_lock))?;
        // `OFF` here changes one thing against the pools' `NORMAL` (commits
        // are not synced in WAL mode either way, and reach the operating
        // system before they are acknowledged, so they survive the process
        // being killed): starting the WAL over no longer syncs it inside a
        // commit. That sync waited for every page the WAL had been given
        // since the last one, 15 to 50 ms on this machine's disk every few
        // hundred milliseconds, while every hot-path request waited behind
        // it. The syncs that keep the file sound across a power loss are
        // the checkpointer's (it syncs the WAL before copying it and the
        // database after); a new WAL header that did not reach the disk
        // only makes SQLite ignore the frames written after it, as with any
        // commit that was not yet synced.
        conn.pragma_update(None, "synchronous", "OFF")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        // This connection never checkpoints: with `synchronous = OFF` its
        // checkpoints would not be synced. The checkpointer does them all.
        conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        let (queue, jobs) = mpsc::channel::<Message>();
        let counts = Arc::new(Counts::default());
        let served = counts.clone();
        thread::Builder::new()
            .name("pitlane-sqlite".into())
            .spawn(move || serve(conn, jobs, &served))
            .map_err(|e| StoreError::Unavailable(format!("cannot start the SQLite thread: {e}")))?;
        let checkpoints = Checkpointer::start(path)?;
        Ok(Self {
            queue,
            counts,
            checkpoints,
        })
    }

    pub(crate) fn stats(&self) -> LaneStats {
        let done = self.counts.done.load(Ordering::Relaxed);
        LaneStats {
            waiting: self
                .counts
                .sent
                .load(Ordering::Relaxed)
                .saturating_sub(done),
            done,
            commits: self.counts.commits.load(Ordering::Relaxed),
        }
    }

    /// Runs `work` on the lane's connection, all of it or none, and waits
    /// until it is committed.
    pub(crate) async fn run<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    {
        let (answer, answered) = tokio::sync::oneshot::channel();
        let job = Pending {
            work: Some(work),
            outcome: None,
            answer,
        };
        self.queue
            .send(Message::Job(Box::new(job)))
            .map_err(|_| closed())?;
        self.counts.sent.fetch_add(1, Ordering::Relaxed);
        answered.await.map_err(|_| closed())?
    }

    /// Finishes the queued jobs, then closes the connection.
    pub(crate) async fn close(&self) {
        // First, so that the lane's connection is the last one open and
        // SQLite checkpoints and removes the WAL as it closes.
        self.checkpoints.stop().await;
        let (done, closed) = tokio::sync::oneshot::channel();
        if self.queue.send(Message::Close(done)).is_ok() {
            let _ = closed.await;
        }
    }
}

/// While another connection (MCO, the dashboard, a points claim) holds
/// SQLite's write lock, this whole lane waits: retry in steps of 50 µs, not
/// SQLite's default 1 ms and more, since those writers hold the lock for
/// well under a millisecond. Gives up after about ten seconds, as the sqlx
/// pools' `busy_timeout` does.
fn wait_for_lock(tries: i32) -> bool {
    const FINE_TRIES: i32 = 200;
    const MAX_TRIES: i32 = FINE_TRIES + 10_000;
    if tries >= MAX_TRIES {
        return false;
    }
    let pause = if tries < FINE_TRIES {
        std::time::Duration::from_micros(50)
    } else {
        std::time::Duration::from_millis(1)
    };
    thread::sleep(pause);
    true
}

fn closed() -> StoreError {
    StoreError::Unavailable("the database has been closed".into())
}

fn serve(mut conn: Connection, queue: mpsc::Receiver<Message>, counts: &Counts) {
    let mut group: Vec<Box<dyn Job>> = Vec::with_capacity(MAX_GROUP);
    while let Ok(first) = queue.recv() {
        let mut close = None;
        match first {
            Message::Job(job) => group.push(job),
            Message::Close(done) => close = Some(done),
        }
        while close.is_none() && group.len() < MAX_GROUP {
            match queue.try_recv() {
                Ok(Message::Job(job)) => group.push(job),
                Ok(Message::Close(done)) => close = Some(done),
                Err(_) => break,
            }
        }
        let jobs = group.len() as u64;
        commit_group(&mut conn, &mut group);
        if jobs > 0 {
            counts.commits.fetch_add(1, Ordering::Relaxed);
            counts.done.fetch_add(jobs, Ordering::Relaxed);
        }
        if let Some(done) = close {
            // The last connection to close checkpoints the WAL into the
            // database and deletes it: synced, as every checkpoint is.
            if let Err(e) = conn.pragma_update(None, "synchronous", "NORMAL") {
                tracing::warn!(error = %e, "could not restore synchronous=NORMAL before closing");
            }
            drop(conn);
            let _ = done.send(());
            return;
        }
    }
}

fn abort(why: &str) -> rusqlite::Error {
    rusqlite::Error::SqliteFailure(
        rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_ABORT),
        Some(why.into()),
    )
}

/// Runs the group in one transaction and answers every job.
fn commit_group(conn: &mut Connection, group: &mut Vec<Box<dyn Job>>) {
    if group.is_empty() {
        return;
    }
    let committed = conn.execute_batch("BEGIN IMMEDIATE").and_then(|()| {
        for job in group.iter_mut() {
            // A bug in one job's logic must not take the lane (and every
            // later request) down, nor commit half of that job: the whole
            // group is rolled back and fails.
            let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job.run(conn)));
            if ran.is_err() {
                return Err(abort("a job panicked; the group was rolled back"));
            }
            // Some errors (disk full, I/O) make SQLite roll back the whole
            // transaction, not only the job's savepoint: then the jobs
            // before this one are gone too and none may be acknowledged.
            if conn.is_autocommit() {
                return Err(abort("SQLite rolled back the group's transaction"));
            }
        }
        conn.execute_batch("COMMIT")
    });
    if let Err(e) = &committed {
        tracing::error!(error = %e, jobs = group.len(), "SQLite group commit failed");
        let _ = conn.execute_batch("ROLLBACK");
    }
    for job in group.drain(..) {
        job.settle(committed.as_ref().map(|_| ()));
    }
}

/// One result row, owned, so it can leave the lane's thread.
#[derive(Debug, Clone)]
pub(crate) struct LaneRow {
    names: std::sync::Arc<[String]>,
    values: Vec<Value>,
}

impl LaneRow {
    pub(crate) fn value(&self, name: &str) -> Option<&Value> {
        let i = self.names.iter().position(|n| n == name)?;
        self.values.get(i)
    }
}

/// Binds `$n` placeholders by their number, as sqlx does: SQLite numbers
/// named parameters in order of first appearance, which need not be `n`.
fn bind(stmt: &mut rusqlite::Statement<'_>, args: &[Value]) -> rusqlite::Result<()> {
    for index in 1..=stmt.parameter_count() {
        let number = stmt
            .parameter_name(index)
            .and_then(|name| name.strip_prefix('$'))
            .and_then(|n| n.parse::<usize>().ok())
            .unwrap_or(index);
        let value = args
            .get(number - 1)
            .ok_or(rusqlite::Error::InvalidParameterCount(number, args.len()))?;
        stmt.raw_bind_parameter(index, value)?;
    }
    Ok(())
}

/// Runs one statement and collects its rows.
pub(crate) fn query(
    conn: &Connection,
    sql: &str,
    args: &[Value],
) -> rusqlite::Result<Vec<LaneRow>> {
    let mut stmt = conn.prepare_cached(sql)?;
    bind(&mut stmt, args)?;
    let names: std::sync::Arc<[String]> =
        stmt.column_names().into_iter().map(String::from).collect();
    let width = names.len();
    let mut rows = stmt.raw_query();
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let mut values = Vec::with_capacity(width);
        for i in 0..width {
            values.push(row.get::<_, Value>(i)?);
        }
        out.push(LaneRow {
            names: names.clone(),
            values,
        });
    }
    Ok(out)
}

/// Runs one statement that returns no rows; the number of rows it changed.
pub(crate) fn execute(conn: &Connection, sql: &str, args: &[Value]) -> rusqlite::Result<u64> {
    let mut stmt = conn.prepare_cached(sql)?;
    bind(&mut stmt, args)?;
    Ok(stmt.raw_execute()? as u64)
}
