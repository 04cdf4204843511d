//! Backups of the embedded SQLite database. PostgreSQL operators use
//! `pg_dump`/`pg_restore` (docs/operator-guide.md): its own tools do it
//! better than we could.

use std::path::{Path, PathBuf};

use pitlane_core::Config;
use pitlane_store::Store;

use crate::server::database_url;

/// The SQLite file behind the configured database, or an explanation of
/// why there is none.
fn sqlite_file(config: &Config) -> anyhow::Result<PathBuf> {
    let url = database_url(config);
    let Some(rest) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    else {
        anyhow::bail!(
            "the database is PostgreSQL: back it up with `pg_dump -Fc DBNAME > pitlane.dump` and restore with `pg_restore -d DBNAME pitlane.dump`"
        );
    };
    Ok(PathBuf::from(rest.split('?').next().unwrap_or(rest)))
}

pub async fn backup(config: &Config, target: &Path) -> anyhow::Result<String> {
    sqlite_file(config)?;
    if target.exists() {
        anyhow::bail!("{} already exists; choose a new file", target.display());
    }
    let store = Store::open(&database_url(config)).await?;
    let result = store.backup_to(target).await;
    store.close().await;
    result?;
    Ok(format!("backup written to {}\n", target.display()))
}

pub async fn restore(config: &Config, source: &Path, force: bool) -> anyhow::Result<String> {
    let live = sqlite_file(config)?;
    // Check the backup opens as a Pitlane database (on a scratch copy, so
    // the file itself is left as it was).
    let scratch = tempfile_path(&live, "restore-check");
    std::fs::copy(source, &scratch)?;
    let check = Store::open(&format!("sqlite://{}", scratch.display())).await;
    if let Ok(store) = &check {
        store.close().await;
    }
    let _ = std::fs::remove_file(&scratch);
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", scratch.display()));
    }
    check.map_err(|e| {
        anyhow::anyhow!("{} is not a usable Pitlane database: {e}", source.display())
    })?;

    let mut kept = String::new();
    if live.exists() {
        if !force {
            anyhow::bail!(
                "{} exists; stop the server and pass --force to replace it (it is kept as a copy)",
                live.display()
            );
        }
        let aside = tempfile_path(&live, "before-restore");
        std::fs::rename(&live, &aside)?;
        kept = format!(" (the previous database is kept as {})", aside.display());
    }
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", live.display()));
    }
    if let Some(parent) = live.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::copy(source, &live)?;
    Ok(format!(
        "restored {} to {}{kept}\n",
        source.display(),
        live.display()
    ))
}

fn tempfile_path(next_to: &Path, tag: &str) -> PathBuf {
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S");
    next_to.with_extension(format!("db.{tag}-{stamp}"))
}
