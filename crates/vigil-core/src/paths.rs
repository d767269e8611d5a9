//! Where Vigil keeps its store and logs: the OS app-data and log directories, or `VIGIL_DATA_DIR`.

use std::path::PathBuf;

/// `VIGIL_DATA_DIR` overrides every location below (tests and the sandbox use it).
pub const DATA_DIR_ENV: &str = "VIGIL_DATA_DIR";

fn project_dirs() -> Option<directories::ProjectDirs> {
    directories::ProjectDirs::from("dev", "Vigil", "Vigil")
}

/// The directory holding the SQLite store (environments, settings, operator log).
pub fn data_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os(DATA_DIR_ENV).filter(|v| !v.is_empty()) {
        return PathBuf::from(dir);
    }
    project_dirs().map(|d| d.data_dir().to_path_buf()).unwrap_or_else(|| PathBuf::from(".vigil"))
}

/// The directory for rolling log files: the OS state/log location, or `<data dir>/logs`.
pub fn log_dir() -> PathBuf {
    if std::env::var_os(DATA_DIR_ENV).filter(|v| !v.is_empty()).is_some() {
        return data_dir().join("logs");
    }
    match project_dirs() {
        Some(d) if cfg!(target_os = "macos") => {
            directories::BaseDirs::new().map(|b| b.home_dir().join("Library/Logs/Vigil")).unwrap_or_else(|| d.data_local_dir().join("logs"))
        }
        Some(d) => d.state_dir().map(|s| s.to_path_buf()).unwrap_or_else(|| d.data_local_dir().join("logs")),
        None => data_dir().join("logs"),
    }
}

pub fn store_path() -> PathBuf {
    data_dir().join("vigil.db")
}

/// Creates `dir` (and its parents) and makes it readable by its owner only (0700 on Unix; on
/// Windows and macOS the per-user data directories are already private to the user).
pub fn private_dir(dir: &std::path::Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    set_mode(dir, 0o700)
}

/// Creates `file` if missing, readable and writable by its owner only (0600 on Unix).
pub fn private_file(file: &std::path::Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new().create(true).append(true).mode(0o600).open(file)?;
    }
    #[cfg(not(unix))]
    {
        std::fs::OpenOptions::new().create(true).append(true).open(file)?;
    }
    set_mode(file, 0o600)
}

/// Makes an existing file owner-only (0600 on Unix); absent is fine.
pub fn restrict(file: &std::path::Path) -> std::io::Result<()> {
    if file.exists() {
        set_mode(file, 0o600)?;
    }
    Ok(())
}

#[cfg(unix)]
fn set_mode(path: &std::path::Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_mode(_path: &std::path::Path, _mode: u32) -> std::io::Result<()> {
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    #[tokio::test]
    async fn the_store_and_its_directory_are_private() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("data");
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let store = crate::store::Store::open(&dir.join("vigil.db")).await.unwrap();
        sqlx::query("SELECT 1").execute(store.pool()).await.unwrap();
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        for f in ["vigil.db", "vigil.db-wal", "vigil.db-shm"] {
            let p = dir.join(f);
            if p.exists() {
                assert_eq!(mode(&p), 0o600, "{f}");
            }
        }
        assert_eq!(mode(&dir.join("vigil.db")), 0o600);
    }
}
