//! The native save dialog, opened from Rust so the webview never names a path to write.
//!
//! `VIGIL_SAVE_DIR` (tests only) answers the dialog with `<dir>/<suggested name>` instead of
//! showing it: WebDriver cannot drive a native dialog.

use std::path::PathBuf;
use tauri_plugin_dialog::DialogExt;

pub async fn ask(app: &tauri::AppHandle, suggested: &str, extension: &str) -> Option<PathBuf> {
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
