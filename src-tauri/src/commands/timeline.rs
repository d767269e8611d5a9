//! Timeline page: the current environment's timeline over a window, from every source.

use super::Res;
use tauri::State;
use vigil_core::App;
use vigil_dto::Timeline;

#[tauri::command]
pub async fn timeline(c: State<'_, App>, hours: i64, sources: Option<Vec<String>>) -> Res<Timeline> {
    Ok(c.timeline().read(None, hours, &sources.unwrap_or_default()).await?)
}
