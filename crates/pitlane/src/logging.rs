//! Logs go to standard output and to a daily file under `<data dir>/logs`.
//! One line per request at info; request bodies only at debug.
//!
//! Both outputs are written by background threads: a request formats its
//! line into memory and goes on, instead of waiting for a `write` to a
//! terminal or journal that may be slow. Lines are never dropped: a writer
//! that falls 128k lines behind makes logging wait, as a plain write would.
//! (Formatting the line is what costs under load; see docs/performance.md.)

use std::path::Path;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::prelude::*;
use tracing_subscriber::{fmt, EnvFilter};

fn background<W: std::io::Write + Send + 'static>(
    writer: W,
) -> (tracing_appender::non_blocking::NonBlocking, WorkerGuard) {
    tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .finish(writer)
}

/// Installs the global subscriber. Keep the returned guards alive until
/// exit so both writers flush.
pub fn init(filter: &str, data_dir: Option<&Path>) -> Vec<WorkerGuard> {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let (stdout_writer, stdout_guard) = background(std::io::stdout());
    let stdout = fmt::layer().with_target(false).with_writer(stdout_writer);
    let (file, guard) = match data_dir {
        Some(dir) if std::fs::create_dir_all(dir.join("logs")).is_ok() => {
            let appender = tracing_appender::rolling::daily(dir.join("logs"), "pitlane.log");
            let (writer, guard) = background(appender);
            (
                Some(
                    fmt::layer()
                        .with_ansi(false)
                        .with_target(false)
                        .with_writer(writer),
                ),
                Some(guard),
            )
        }
        _ => (None, None),
    };
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(stdout)
        .with(file)
        .try_init();
    std::iter::once(stdout_guard).chain(guard).collect()
}
