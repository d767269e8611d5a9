//! Settings page: the theme, and the operator log (Activity).

use super::Res;
use tauri::State;
use vigil_core::App;
use vigil_dto::{OplogEntry, Theme, VerifyReport};

#[tauri::command]
pub async fn list_oplog(c: State<'_, App>, limit: u32, before: Option<i64>) -> Res<Vec<OplogEntry>> {
    Ok(c.oplog().list(limit, before).await?)
}

#[tauri::command]
pub async fn verify_oplog(c: State<'_, App>) -> Res<VerifyReport> {
    Ok(c.oplog().verify().await?)
}

#[tauri::command]
pub async fn get_theme(c: State<'_, App>) -> Res<Theme> {
    Ok(c.settings().theme().await?)
}

#[tauri::command]
pub async fn set_theme(c: State<'_, App>, theme: Theme) -> Res<Theme> {
    Ok(c.settings().set_theme(theme).await?)
}
