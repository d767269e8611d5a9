//! Environments page: list, add, edit, remove, use, Check connection, profiles, deployment parameters.

use super::Res;
use tauri::State;
use vigil_core::App;
use vigil_dto::{CheckReport, DeploymentParameter, Environment, EnvironmentInput, ProfileList};

#[tauri::command]
pub async fn list_environments(c: State<'_, App>) -> Res<Vec<Environment>> {
    Ok(c.environments().list().await?)
}

#[tauri::command]
pub async fn add_environment(c: State<'_, App>, input: EnvironmentInput) -> Res<Environment> {
    Ok(c.environments().add(&input).await?)
}

#[tauri::command]
pub async fn update_environment(c: State<'_, App>, name: String, input: EnvironmentInput) -> Res<Environment> {
    Ok(c.environments().update(&name, &input).await?)
}

#[tauri::command]
pub async fn remove_environment(c: State<'_, App>, name: String) -> Res<Environment> {
    Ok(c.environments().remove(&name).await?)
}

#[tauri::command]
pub async fn select_environment(c: State<'_, App>, name: String) -> Res<Environment> {
    Ok(c.environments().select(&name).await?)
}

#[tauri::command]
pub async fn check_environment(c: State<'_, App>, name: String) -> Res<CheckReport> {
    Ok(c.environments().check(&name).await?)
}

#[tauri::command]
pub async fn list_profiles(c: State<'_, App>) -> Res<ProfileList> {
    Ok(c.environments().profiles_list().await)
}

#[tauri::command]
pub fn deployment_parameters(c: State<'_, App>) -> Vec<DeploymentParameter> {
    c.environments().deployment_parameters()
}
