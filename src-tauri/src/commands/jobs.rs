//! Jobs page: failures by class, the list, a job's detail, retries.

use super::Res;
use tauri::State;
use vigil_core::App;
use vigil_dto::{FailureGroup, JobDetail, JobFilter, JobPage, RetryReport};

#[tauri::command]
pub async fn jobs_list(c: State<'_, App>, filter: JobFilter, cursor: Option<(String, String)>, limit: u32) -> Res<JobPage> {
    Ok(c.jobs().list(&filter, cursor.as_ref(), limit).await?)
}

#[tauri::command]
pub async fn job_failures(c: State<'_, App>, filter: JobFilter) -> Res<Vec<FailureGroup>> {
    Ok(c.jobs().failures(&filter).await?)
}

#[tauri::command]
pub async fn job_detail(c: State<'_, App>, id: String) -> Res<JobDetail> {
    Ok(c.jobs().detail(&id).await?)
}

/// The ui asks for confirmation before calling this.
#[tauri::command]
pub async fn retry_jobs(c: State<'_, App>, job: Option<String>, class: Option<String>) -> Res<RetryReport> {
    Ok(c.jobs().retry(job.as_deref(), class.as_deref()).await?)
}
