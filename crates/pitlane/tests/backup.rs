//! `pitlane backup` and `pitlane restore` on the embedded database.

use std::process::Command;

fn pitlane(dir: &std::path::Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_pitlane"));
    c.current_dir(dir);
    c
}

#[test]
fn backup_then_restore_brings_the_data_back() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let db = data.join("pitlane.db");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let url = format!("sqlite://{}", db.display());
    std::fs::create_dir_all(&data).unwrap();
    runtime.block_on(async {
        let store = pitlane_store::Store::open(&url).await.unwrap();
        store
            .mm_accounts()
            .login(76561198081105540, "Heatray", "t", chrono::Utc::now())
            .await
            .unwrap();
        store.close().await;
    });
    let backup = dir.path().join("backup.db");
    let out = pitlane(dir.path())
        .arg("backup")
        .arg(&backup)
        .arg("--data-dir")
        .arg(&data)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Later changes...
    runtime.block_on(async {
        let store = pitlane_store::Store::open(&url).await.unwrap();
        store
            .mm_accounts()
            .login(76561198000000001, "Later", "t", chrono::Utc::now())
            .await
            .unwrap();
        store.close().await;
    });
    // ...are undone by a restore, which needs --force over a live file.
    let refused = pitlane(dir.path())
        .arg("restore")
        .arg(&backup)
        .arg("--data-dir")
        .arg(&data)
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    let out = pitlane(dir.path())
        .arg("restore")
        .arg(&backup)
        .arg("--force")
        .arg("--data-dir")
        .arg(&data)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    runtime.block_on(async {
        let store = pitlane_store::Store::open(&url).await.unwrap();
        assert_eq!(store.mm_accounts().count().await.unwrap(), 1);
        store.close().await;
    });
    let kept = std::fs::read_dir(&data)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .contains("before-restore")
        })
        .count();
    assert_eq!(kept, 1, "the replaced database is kept");

    // Not a database: refused, nothing touched.
    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, b"not sqlite").unwrap();
    let out = pitlane(dir.path())
        .arg("restore")
        .arg(&junk)
        .arg("--force")
        .arg("--data-dir")
        .arg(&data)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a usable Pitlane database"));
}

#[test]
fn the_packaged_container_config_is_valid() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../packaging/container.toml");
    let config = pitlane_core::Config::load(&path).unwrap();
    assert_eq!(config.server.data_dir, std::path::PathBuf::from("/data"));
    assert_eq!(config.listen.https.unwrap().port(), 8443);
}
