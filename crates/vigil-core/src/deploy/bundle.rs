//! The platform bundle as the console uses it: the one this console ships with
//! (`VIGIL_BUNDLE_DIR`, else `bundle/` beside the executable or in its resources), or a newer
//! one the operator opens; verified against the publishers the console trusts (kept in the
//! store, each added as a logged change) before anything is read from it.

use super::cost::{self, Prices, Tier};
use super::templates::{Template, STACKS};
use crate::error::{Error, Result};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use vigil_dto::deploy::{BundleSummary, Publisher};

/// This console's version, as bundles name the oldest console they need.
pub const CONSOLE_VERSION: &str = env!("CARGO_PKG_VERSION");

/// A verified bundle, read.
#[derive(Debug, Clone)]
pub struct Bundle {
    pub root: PathBuf,
    pub manifest: pj_bundle::Manifest,
    pub manifest_sha256: String,
    pub tiers: BTreeMap<String, Tier>,
    pub prices: Prices,
    /// In deploy order.
    pub templates: Vec<Template>,
    /// Each tier's Kubernetes objects (k8s/rendered/<tier>.yaml), in apply order.
    pub manifests: BTreeMap<String, Vec<serde_json::Value>>,
    /// The DR runbooks (`runbooks/`, none in a bundle from before them), checked together.
    pub runbooks: pj_runbook::RunbookSet,
}

impl Bundle {
    /// Verifies the bundle at `root` (signer trusted, signature intact, console new enough,
    /// files exactly as signed), then reads its tiers, prices and templates. Blocking.
    pub fn open(root: &Path, trusted: &[Publisher]) -> Result<Bundle> {
        let trusted: Vec<pj_bundle::Signer> =
            trusted.iter().map(|p| pj_bundle::Signer { name: p.name.clone(), public_key: p.public_key.clone() }).collect();
        let verified = pj_bundle::verify(root, &trusted, CONSOLE_VERSION)?;
        let read = |rel: &str| std::fs::read_to_string(root.join(rel)).map_err(|e| Error::validation("bundle", format!("{rel}: {e}")));
        let tiers = cost::tiers(&read("tiers.json")?)?;
        let prices = cost::prices(&read("pricing.json")?)?;
        let mut templates = vec![];
        for stack in STACKS {
            templates.push(Template::parse(stack, read(&format!("cloudformation/{stack}.yaml"))?)?);
        }
        let mut manifests = BTreeMap::new();
        for tier in tiers.keys() {
            manifests.insert(tier.clone(), super::setup::parse_manifests(&read(&format!("k8s/rendered/{tier}.yaml"))?)?);
        }
        let dir = root.join("runbooks");
        let runbooks = if dir.is_dir() {
            pj_runbook::RunbookSet::load_dir(&dir, "runbooks").map_err(|e| Error::Dr {
                kind: "runbook_invalid",
                message: format!("the bundle's runbooks are not valid:\n{e}"),
                hint: "the bundle was signed with a runbook this console cannot read: use a newer Vigil, or ask the publisher for a fixed bundle"
                    .into(),
            })?
        } else {
            pj_runbook::RunbookSet::default()
        };
        Ok(Bundle {
            root: verified.root,
            runbooks,
            manifest: verified.manifest,
            manifest_sha256: verified.manifest_sha256,
            tiers,
            prices,
            templates,
            manifests,
        })
    }

    pub fn summary(&self) -> BundleSummary {
        BundleSummary {
            name: self.manifest.name.clone(),
            version: self.manifest.version.clone(),
            min_console: self.manifest.min_console.clone(),
            signer: self.manifest.signer.name.clone(),
            signer_key: self.manifest.signer.public_key.clone(),
            manifest_sha256: self.manifest_sha256.clone(),
            files: self.manifest.files.len(),
            file_hashes: self.manifest.files.iter().map(|f| (f.path.clone(), f.sha256.clone())).collect(),
            iam_actions: self.manifest.iam_actions.clone(),
            stacks: STACKS.iter().map(|s| s.to_string()).collect(),
            tiers: self.tiers.keys().cloned().collect(),
        }
    }

    pub fn template(&self, stack: &str) -> &Template {
        self.templates.iter().find(|t| t.stack == stack).expect("every stack is read")
    }

    pub fn tier(&self, name: &str) -> Result<&Tier> {
        self.tiers.get(name).ok_or_else(|| {
            Error::validation(
                "tier",
                format!("the bundle has no tier {name:?}; its tiers: {}", self.tiers.keys().cloned().collect::<Vec<_>>().join(", ")),
            )
        })
    }
}

/// Where this console's own bundle is, if it has one.
pub fn default_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("VIGIL_BUNDLE_DIR") {
        return Some(PathBuf::from(dir));
    }
    let exe = std::env::current_exe().ok()?;
    let here = exe.parent()?;
    // Beside the executable (Windows, Linux AppImage), in the app's resources (macOS), or in
    // the package's library directory (deb, rpm, the AppImage's usr/lib: Tauri's resource dir).
    [here.join("bundle"), here.join("../Resources/bundle"), here.join("../lib/Vigil/bundle")]
        .into_iter()
        .find(|d| d.join(pj_bundle::MANIFEST).is_file())
}

/// A publisher's key as given: 64 hex digits of an Ed25519 public key.
pub fn check_key(key: &str) -> Result<String> {
    let key = key.trim().to_ascii_lowercase();
    pj_bundle::key_of(&key)
        .map_err(|_| Error::validation("public key", "not an Ed25519 public key: expected 64 hex digits (pj-bundle keygen prints one)"))?;
    Ok(key)
}

pub fn check_name(name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 80 || name.chars().any(char::is_control) {
        return Err(Error::validation("publisher name", "give who signs, as consoles will show it (1–80 printable characters)"));
    }
    Ok(name.to_string())
}

pub(crate) async fn publishers(pool: &sqlx::SqlitePool) -> Result<Vec<Publisher>> {
    let rows: Vec<(String, String, String)> =
        sqlx::query_as("SELECT name, public_key, added_at FROM trusted_publishers ORDER BY added_at, public_key").fetch_all(pool).await?;
    Ok(rows.into_iter().map(|(name, public_key, added_at)| Publisher { name, public_key, added_at }).collect())
}
