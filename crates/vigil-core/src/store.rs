//! The local SQLite store (sqlx, WAL mode, versioned migrations in `migrations/`).

use crate::error::Result;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool, Transaction};
use std::path::Path;
use std::time::Duration;

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

#[derive(Clone)]
pub struct Store {
    pool: SqlitePool,
}

impl Store {
    /// Opens (creating if needed) the store at `path` and applies pending migrations.
    pub async fn open(path: &Path) -> Result<Store> {
        if let Some(dir) = path.parent() {
            crate::paths::private_dir(dir)?;
        }
        crate::paths::private_file(path)?;
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new().max_connections(4).connect_with(options).await?;
        MIGRATOR.run(&pool).await?;
        // SQLite makes the -wal and -shm files beside it with the process umask.
        for suffix in ["-wal", "-shm"] {
            let mut side = path.as_os_str().to_owned();
            side.push(suffix);
            crate::paths::restrict(std::path::Path::new(&side))?;
        }
        Ok(Store { pool })
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// A write transaction that takes the write lock up front (`BEGIN IMMEDIATE`), so two
    /// processes (the app and the CLI) appending to the operator log queue instead of failing.
    pub async fn write(&self) -> Result<Transaction<'static, Sqlite>> {
        Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?)
    }

    pub async fn setting(&self, key: &str) -> Result<Option<String>> {
        Ok(sqlx::query_scalar("SELECT value FROM settings WHERE key = ?").bind(key).fetch_optional(&self.pool).await?)
    }

    pub async fn journal_mode(&self) -> Result<String> {
        Ok(sqlx::query_scalar("PRAGMA journal_mode").fetch_one(&self.pool).await?)
    }
}

/// Sets a setting inside a caller's transaction (so it commits with its operator-log record).
pub async fn set_setting(tx: &mut Transaction<'static, Sqlite>, key: &str, value: &str) -> Result<()> {
    sqlx::query("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value")
        .bind(key)
        .bind(value)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn open_creates_wal_store_with_all_migrations_applied() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/vigil.db");
        let store = Store::open(&path).await.unwrap();
        assert_eq!(store.journal_mode().await.unwrap(), "wal");
        let applied: Vec<i64> = sqlx::query_scalar("SELECT version FROM _sqlx_migrations ORDER BY version").fetch_all(store.pool()).await.unwrap();
        let known: Vec<i64> = MIGRATOR.iter().map(|m| m.version).collect();
        assert_eq!(applied, known);
        assert!(!known.is_empty());
        let head: (i64, String) = sqlx::query_as("SELECT seq, hash FROM oplog_head").fetch_one(store.pool()).await.unwrap();
        assert_eq!(head.0, 0);
    }

    #[tokio::test]
    async fn reopening_is_idempotent_and_keeps_data() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vigil.db");
        {
            let store = Store::open(&path).await.unwrap();
            let mut tx = store.write().await.unwrap();
            set_setting(&mut tx, "theme", "dark").await.unwrap();
            tx.commit().await.unwrap();
            store.pool().close().await;
        }
        let store = Store::open(&path).await.unwrap();
        assert_eq!(store.setting("theme").await.unwrap().as_deref(), Some("dark"));
    }

    #[tokio::test]
    async fn a_store_with_an_unknown_newer_migration_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vigil.db");
        let store = Store::open(&path).await.unwrap();
        sqlx::query("INSERT INTO _sqlx_migrations (version, description, installed_on, success, checksum, execution_time) VALUES (99990101, 'from the future', CURRENT_TIMESTAMP, 1, x'00', 0)")
            .execute(store.pool())
            .await
            .unwrap();
        store.pool().close().await;
        let err = Store::open(&path).await.err().expect("a newer store must not be opened silently");
        assert_eq!(err.kind(), "store");
    }
}
