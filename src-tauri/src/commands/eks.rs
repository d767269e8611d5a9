//! Services page: the platform's EKS cluster and a refresh of its upgrade insights.

use super::Res;
use tauri::State;
use vigil_core::App;
use vigil_dto::eks::ClusterOverview;

#[tauri::command]
pub async fn eks_overview(c: State<'_, App>) -> Res<ClusterOverview> {
    Ok(c.eks().overview().await?)
}

#[tauri::command]
pub async fn eks_refresh_insights(c: State<'_, App>) -> Res<bool> {
    Ok(c.eks().refresh_insights().await?)
}
