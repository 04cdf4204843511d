//! Throw-away databases for tests: every test gets its own SQLite file, and
//! its own PostgreSQL database when `PITLANE_TEST_DATABASE_URL` points at a
//! server (CI sets it). Tests loop over [`databases`] so the same assertions
//! run on both backends.

use rand::Rng;
use sqlx::Connection;

/// Environment variable naming a PostgreSQL server (any database on it) on
/// which tests may create and drop their own databases.
pub const ENV: &str = "PITLANE_TEST_DATABASE_URL";

/// One fresh, empty database; removed when dropped.
pub struct TestDatabase {
    pub url: String,
    pub label: &'static str,
    _dir: Option<tempfile::TempDir>,
    pg_cleanup: Option<(String, String)>,
}

impl TestDatabase {
    pub fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let url = format!("sqlite://{}", dir.path().join("pitlane.db").display());
        Self {
            url,
            label: "sqlite",
            _dir: Some(dir),
            pg_cleanup: None,
        }
    }

    /// A new database on the server named by [`ENV`], or `None` when unset.
    pub async fn postgres() -> Option<Self> {
        let admin_url = std::env::var(ENV).ok().filter(|v| !v.is_empty())?;
        let name = format!(
            "pitlane_t_{}_{:08x}",
            std::process::id(),
            rand::thread_rng().gen::<u32>()
        );
        let mut conn = sqlx::PgConnection::connect(&admin_url)
            .await
            .unwrap_or_else(|e| panic!("{ENV} is set but PostgreSQL is unreachable: {e}"));
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .expect("create test database");
        let _ = conn.close().await;
        let url = replace_database(&admin_url, &name);
        Some(Self {
            url,
            label: "postgres",
            _dir: None,
            pg_cleanup: Some((admin_url, name)),
        })
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some((admin_url, name)) = self.pg_cleanup.take() {
            // Drop runs outside async context; a short-lived runtime on its
            // own thread does the cleanup without blocking the test's.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build();
                if let Ok(rt) = rt {
                    rt.block_on(async move {
                        if let Ok(mut conn) = sqlx::PgConnection::connect(&admin_url).await {
                            let _ = sqlx::query(&format!(
                                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                            ))
                            .execute(&mut conn)
                            .await;
                        }
                    });
                }
            })
            .join();
        }
    }
}

/// SQLite always, plus PostgreSQL when configured.
pub async fn databases() -> Vec<TestDatabase> {
    let mut all = vec![TestDatabase::sqlite()];
    if let Some(pg) = TestDatabase::postgres().await {
        all.push(pg);
    }
    all
}

fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let after_scheme = base.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match base[after_scheme..].find('/') {
        Some(slash) => &base[..after_scheme + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

#[cfg(test)]
mod tests {
    use super::replace_database;

    #[test]
    fn database_name_is_swapped() {
        assert_eq!(
            replace_database("postgres://u@127.0.0.1:5432/test", "x"),
            "postgres://u@127.0.0.1:5432/x"
        );
        assert_eq!(
            replace_database("postgres://u@h/test?sslmode=disable", "x"),
            "postgres://u@h/x?sslmode=disable"
        );
        assert_eq!(replace_database("postgres://h", "x"), "postgres://h/x");
    }
}
