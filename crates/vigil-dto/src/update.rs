//! This Vigil's own updates: what the update server offers and how an install goes.

use serde::{Deserialize, Serialize};

/// Whether this build can update itself, and what its update server offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateStatus {
    pub current: String,
    /// Why this build cannot update itself (a build without an update key, or a package the
    /// system's package manager updates), when it cannot.
    pub unavailable: Option<String>,
    /// Where it looks for updates.
    pub endpoint: Option<String>,
    pub available: Option<AvailableUpdate>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AvailableUpdate {
    pub version: String,
    /// RFC 3339, when the manifest gives it.
    pub date: Option<String>,
    /// What is new, as the release's manifest says it.
    pub notes: String,
    pub url: String,
    /// The operator chose to skip this version (not offered at start again).
    pub skipped: bool,
}

/// An install's progress, pushed to the page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "stage", rename_all = "snake_case")]
pub enum UpdateProgress {
    Downloading {
        received: u64,
        total: Option<u64>,
    },
    /// Downloaded and its signature checked; replacing the installed app.
    Installing,
    /// Installed; the app restarts into it.
    Installed {
        version: String,
    },
}
