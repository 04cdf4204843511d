//! Logs go to standard output and to a daily file under `<data dir>/logs`.
//! One line per request at info; request bodies only at debug.

use std::path::Path;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::prelude::*;
use tracing_subscriber::{fmt, EnvFilter};

/// Installs the global subscriber. Keep the returned guard alive until exit
/// so the file writer flushes.
pub fn init(filter: &str, data_dir: Option<&Path>) -> Option<WorkerGuard> {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let stdout = fmt::layer().with_target(false);
    let (file, guard) = match data_dir {
        Some(dir) if std::fs::create_dir_all(dir.join("logs")).is_ok() => {
            let appender = tracing_appender::rolling::daily(dir.join("logs"), "pitlane.log");
            let (writer, guard) = tracing_appender::non_blocking(appender);
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
    guard
}
