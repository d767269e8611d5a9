//! Alarms page: the list and an alarm's history.

use super::Res;
use tauri::State;
use vigil_core::App;
use vigil_dto::{AlarmHistoryEntry, AlarmInfo};

#[tauri::command]
pub async fn list_alarms(c: State<'_, App>, state: Option<String>) -> Res<Vec<AlarmInfo>> {
    Ok(c.alarms().list(state.as_deref()).await?)
}

#[tauri::command]
pub async fn alarm_history(c: State<'_, App>, name: String) -> Res<Vec<AlarmHistoryEntry>> {
    Ok(c.alarms().history(&name, 100).await?)
}
