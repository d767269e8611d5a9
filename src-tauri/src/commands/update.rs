//! Vigil's own updates (tauri-plugin-updater): check the update server, install the update the
//! operator chose, skip a version. The plugin checks the download's signature against the update
//! key built into this app; a missing or wrong signature installs nothing.

use super::Res;
use tauri::ipc::Channel;
use tauri::{AppHandle, State};
use tauri_plugin_updater::{Error as UpdateError, Update, UpdaterExt};
use vigil_core::App;
use vigil_dto::update::{AvailableUpdate, UpdateProgress, UpdateStatus};
use vigil_dto::ErrorInfo;

/// A mirror of the release manifest (e.g. inside the hospital's network). Only where to look:
/// what is installed must still be signed with the key built into this app.
pub const ENDPOINT_VAR: &str = "VIGIL_UPDATE_ENDPOINT";

/// Whether this build can update itself (it was built with an update key), and the update
/// found by the last check, installed only when the operator asks for it.
pub struct Updates {
    pub enabled: bool,
    pending: tauri::async_runtime::Mutex<Option<Update>>,
}

impl Updates {
    pub fn new(enabled: bool) -> Self {
        Updates { enabled, pending: Default::default() }
    }
}

fn updater(app: &AppHandle) -> Res<(tauri_plugin_updater::Updater, Option<String>)> {
    let mut builder = app.updater_builder();
    let mut endpoint = app.config().plugins.0.get("updater").and_then(|u| u["endpoints"].as_array()?.first()?.as_str().map(String::from));
    if let Ok(url) = std::env::var(ENDPOINT_VAR) {
        let parsed = url.parse().map_err(|e| ErrorInfo {
            kind: "validation".into(),
            message: format!("{ENDPOINT_VAR}={url:?} is not a URL ({e})"),
            hint: Some("give the address of the release manifest, e.g. https://updates.example.org/vigil/latest.json".into()),
        })?;
        builder = builder.endpoints(vec![parsed]).map_err(classify)?;
        endpoint = Some(url);
    }
    Ok((builder.build().map_err(classify)?, endpoint))
}

#[tauri::command]
pub async fn update_check(app: AppHandle, c: State<'_, App>, updates: State<'_, Updates>) -> Res<UpdateStatus> {
    let current = app.package_info().version.to_string();
    if !updates.enabled {
        let why = "this build was made without an update key, so it cannot check its updates (a development build); install a release build, or update it the way it was installed";
        return Ok(UpdateStatus { current, unavailable: Some(why.into()), endpoint: None, available: None });
    }
    let (updater, endpoint) = updater(&app)?;
    let found = updater.check().await.map_err(classify)?;
    let skipped = c.settings().skipped_update().await?;
    let available = found.as_ref().map(|u| AvailableUpdate {
        version: u.version.clone(),
        date: u.raw_json.get("pub_date").and_then(|d| d.as_str()).map(String::from),
        notes: u.body.clone().unwrap_or_default(),
        url: u.download_url.to_string(),
        skipped: skipped.as_deref() == Some(u.version.as_str()),
    });
    *updates.pending.lock().await = found;
    Ok(UpdateStatus { current, unavailable: None, endpoint, available })
}

/// Downloads the update last found (its signature checked), installs it, logs it and restarts
/// into it. On any failure the installed version is left as it was.
#[tauri::command]
pub async fn update_install(
    app: AppHandle,
    c: State<'_, App>,
    updates: State<'_, Updates>,
    version: String,
    progress: Channel<UpdateProgress>,
) -> Res<()> {
    // Kept until installed: a failed attempt (a dropped connection, a bad download) can be retried.
    let update = updates.pending.lock().await.clone().filter(|u| u.version == version).ok_or_else(|| ErrorInfo {
        kind: "update_not_checked".into(),
        message: format!("Vigil {version} is not the update found by the last check"),
        hint: Some("check for updates again".into()),
    })?;
    let mut received = 0u64;
    let bytes = update
        .download(
            |n, total| {
                received += n as u64;
                let _ = progress.send(UpdateProgress::Downloading { received, total });
            },
            || {},
        )
        .await
        .map_err(classify)?;
    let _ = progress.send(UpdateProgress::Installing);
    update.install(bytes).map_err(classify)?;
    tracing::info!(from = %update.current_version, to = %update.version, "update installed");
    c.settings().record_update(&update.current_version, &update.version, update.download_url.as_str()).await?;
    let _ = progress.send(UpdateProgress::Installed { version: update.version.clone() });
    app.restart()
}

#[tauri::command]
pub async fn update_skip(c: State<'_, App>, version: String) -> Res<()> {
    Ok(c.settings().skip_update(&version).await?)
}

/// The updater's errors as the operator needs them: what happened, and that nothing changed.
fn classify(e: UpdateError) -> ErrorInfo {
    tracing::warn!("update: {e}");
    let unchanged = "nothing was installed; this version keeps working";
    let (kind, message, hint) = match &e {
        UpdateError::Minisign(_) | UpdateError::Base64(_) | UpdateError::SignatureUtf8(_) => (
            "update_signature",
            format!("the update's signature does not match this app's update key: {unchanged}"),
            "the download or its manifest was altered, or signed with another key; tell whoever publishes your updates",
        ),
        UpdateError::SignedVersionMismatch { .. } | UpdateError::MissingSignedVersion => (
            "update_signature",
            format!("the update's signature was made for another version than the manifest announces: {unchanged}"),
            "the manifest points at another release's file; tell whoever publishes your updates",
        ),
        UpdateError::Reqwest(_) | UpdateError::Network(_) => (
            "update_unreachable",
            format!("the update server did not answer as expected ({e}): {unchanged}"),
            "check the network (and a proxy) to the update server, then try again",
        ),
        UpdateError::ReleaseNotFound | UpdateError::Serialization(_) | UpdateError::Semver(_) => (
            "update_manifest",
            format!("the update server's answer is not a release manifest ({e}): {unchanged}"),
            "the endpoint must serve latest.json as the release workflow makes it (README: Updates)",
        ),
        UpdateError::TargetNotFound(_) | UpdateError::TargetsNotFound(_) => (
            "update_no_build",
            format!("the release has no build for this system ({e}): {unchanged}"),
            "install that release from its installer for this system",
        ),
        UpdateError::InsecureTransportProtocol | UpdateError::UrlParse(_) | UpdateError::EmptyEndpoints => (
            "update_endpoint",
            format!("the update endpoint cannot be used ({e})"),
            "updates are fetched over https only; check VIGIL_UPDATE_ENDPOINT",
        ),
        UpdateError::InvalidUpdaterFormat | UpdateError::BinaryNotFoundInArchive => (
            "update_format",
            format!("the downloaded update is not an installer for this system ({e}): {unchanged}"),
            "tell whoever publishes your updates",
        ),
        UpdateError::AuthenticationFailed => (
            "update_cancelled",
            format!("the system did not allow the install (authentication failed or was cancelled): {unchanged}"),
            "try again and authorise the install",
        ),
        _ => ("update_failed", format!("the update could not be installed ({e}): {unchanged}"), "see the log; try again"),
    };
    ErrorInfo { kind: kind.into(), message, hint: Some(hint.into()) }
}
