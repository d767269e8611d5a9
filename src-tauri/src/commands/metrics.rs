//! Metrics page: the dashboard and chart exports.

use super::{Res, CHART_HEIGHT};
use tauri::State;
use vigil_core::App;
use vigil_dto::{DashboardView, ExportFormat, TimeRange};

#[tauri::command]
pub async fn metrics_dashboard(c: State<'_, App>, selection: Vec<String>, range: TimeRange, width: u32, dark: bool) -> Res<DashboardView> {
    Ok(c.metrics().dashboard(&selection, range, width, CHART_HEIGHT, dark).await?)
}

/// Asks where to save (a native dialog), then fetches the chart's data again and writes the
/// export; `None` when cancelled. The webview names the chart, never its data or a path.
#[tauri::command]
#[allow(clippy::too_many_arguments)]
pub async fn export_chart(
    app: tauri::AppHandle,
    c: State<'_, App>,
    chart: String,
    start: i64,
    end: i64,
    width: u32,
    format: ExportFormat,
    dark: bool,
) -> Res<Option<String>> {
    let name = c.metrics().file_name(&chart, start, format)?;
    let Some(path) = crate::save_dialog::ask(&app, &name, format.extension()).await else { return Ok(None) };
    c.metrics().export_chart(&chart, start, end, width, format, dark, &path).await?;
    Ok(Some(path.display().to_string()))
}
