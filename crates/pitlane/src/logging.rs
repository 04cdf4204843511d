//! Logs go to standard output and to a daily file under `<data dir>/logs`.
//! One line per request at info; request bodies only at debug.
//!
//! Both outputs are written by background threads: a request formats its
//! line into memory and goes on, instead of waiting for a `write` to a
//! terminal or journal that may be slow. Lines are never dropped: a writer
//! that falls 16k lines behind makes logging wait, as a plain write would.
//! The thread writes in blocks of up to 64 KiB and flushes whenever it has
//! written every waiting line, instead of one `write` per line and output:
//! under load that is tens of thousands of system calls a second fewer,
//! and a line still reaches its output as soon as the thread has caught
//! up.
//!
//! Formatting is what costs under load (see docs/performance.md), so a line
//! is formatted once and one background thread writes the same bytes to
//! both outputs. Only a terminal gets its own, coloured, copy: someone is
//! watching it, and a terminal is never where a loaded server's output goes.

use std::io::{IsTerminal, Write};
use std::path::Path;

use tracing_appender::non_blocking::{NonBlocking, WorkerGuard};
use tracing_subscriber::prelude::*;
use tracing_subscriber::{fmt, EnvFilter};

fn background<W: Write + Send + 'static>(writer: W) -> (NonBlocking, WorkerGuard) {
    // The worker flushes after draining its queue (and when it stops).
    tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .buffered_lines_limit(BUFFERED_LINES)
        .finish(std::io::BufWriter::with_capacity(WRITE_BLOCK, writer))
}

/// Bytes written to an output at once, at most.
const WRITE_BLOCK: usize = 64 * 1024;

/// Lines waiting for a writer before logging waits; the queue's memory is
/// taken up front (32 bytes a line), so it is sized for a burst, not for a
/// stalled terminal.
const BUFFERED_LINES: usize = 16 * 1024;

/// Writes every line to both outputs, on the one background thread.
struct Both<A, B>(A, B);

impl<A: Write, B: Write> Write for Both<A, B> {
    fn write(&mut self, line: &[u8]) -> std::io::Result<usize> {
        self.0.write_all(line)?;
        self.1.write_all(line)?;
        Ok(line.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()?;
        self.1.flush()
    }
}

/// Installs the global subscriber. Keep the returned guards alive until
/// exit so both writers flush.
pub fn init(filter: &str, data_dir: Option<&Path>) -> Vec<WorkerGuard> {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let file = data_dir
        .filter(|dir| std::fs::create_dir_all(dir.join("logs")).is_ok())
        .map(|dir| tracing_appender::rolling::daily(dir.join("logs"), "pitlane.log"));
    let plain = |writer: NonBlocking| {
        fmt::layer()
            .with_ansi(false)
            .with_target(false)
            .with_writer(writer)
    };
    let mut guards = Vec::new();
    let mut queue = |writer: Box<dyn Write + Send>| {
        let (writer, guard) = background(writer);
        guards.push(guard);
        writer
    };
    let (coloured, plain) = if std::io::stdout().is_terminal() {
        let coloured = fmt::layer()
            .with_target(false)
            .with_writer(queue(Box::new(std::io::stdout())));
        (Some(coloured), file.map(|f| plain(queue(Box::new(f)))))
    } else {
        let out: Box<dyn Write + Send> = match file {
            Some(file) => Box::new(Both(std::io::stdout(), file)),
            None => Box::new(std::io::stdout()),
        };
        (None, Some(plain(queue(out))))
    };
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(coloured)
        .with(plain)
        .try_init();
    guards
}
