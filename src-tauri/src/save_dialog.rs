//! The native save and folder dialogs, opened from Rust so the webview never names a path.
//!
//! In debug builds only (what the end-to-end tests run), `VIGIL_SAVE_DIR` answers the save
//! dialog with `<dir>/<suggested name>`, and `VIGIL_OPEN_DIR` the folder dialog, instead of
//! showing them: WebDriver cannot drive a native dialog. Release builds, the ones people get,
//! have no such bypass compiled in.

use std::path::PathBuf;
use tauri_plugin_dialog::DialogExt;

pub async fn ask(app: &tauri::AppHandle, suggested: &str, extension: &str) -> Option<PathBuf> {
    #[cfg(debug_assertions)]
    if let Some(dir) = std::env::var_os("VIGIL_SAVE_DIR") {
        return Some(PathBuf::from(dir).join(suggested));
    }
    let kind = match extension {
        "png" => "PNG image",
        "svg" => "SVG image",
        "pdf" => "PDF document",
        _ => "CSV data",
    };
    let dialog = app.dialog().file().set_file_name(suggested).add_filter(kind, &[extension]);
    let picked = tauri::async_runtime::spawn_blocking(move || dialog.blocking_save_file()).await.ok().flatten()?;
    let mut path = picked.into_path().ok()?;
    if path.extension().is_none() {
        path.set_extension(extension);
    }
    Some(path)
}

/// Asks for a folder (`title` says what for); None when cancelled.
pub async fn pick_folder(app: &tauri::AppHandle, title: &str) -> Option<PathBuf> {
    #[cfg(debug_assertions)]
    if let Some(dir) = std::env::var_os("VIGIL_OPEN_DIR") {
        return Some(PathBuf::from(dir));
    }
    let dialog = app.dialog().file().set_title(title);
    let picked = tauri::async_runtime::spawn_blocking(move || dialog.blocking_pick_folder()).await.ok().flatten()?;
    picked.into_path().ok()
}
