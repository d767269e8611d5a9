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
