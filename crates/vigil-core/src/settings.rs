//! Settings of this Vigil: the theme (System, Light, Dark) and its own updates (a version the
//! operator chose to skip; an installed update, recorded before the app restarts into it).
//! Operator-log actions: `settings.theme`, `update.skip`, `update.install`.

use crate::app::area;
use crate::core::Record;
use crate::error::Result;
use crate::store;
use serde_json::json;
use vigil_dto::Theme;

pub const THEME_KEY: &str = "theme";
pub const SKIPPED_UPDATE_KEY: &str = "update.skipped";

area!(
    /// The settings area (`app.settings()`).
    Settings
);

impl Settings<'_> {
    pub async fn theme(&self) -> Result<Theme> {
        Ok(self.store().setting(THEME_KEY).await?.as_deref().and_then(Theme::parse).unwrap_or_default())
    }

    pub async fn set_theme(&self, theme: Theme) -> Result<Theme> {
        let mut tx = self.begin().await?;
        store::set_setting(&mut tx, THEME_KEY, theme.as_str()).await?;
        self.commit(tx, Record::new("settings.theme", theme.as_str(), json!({}))).await?;
        Ok(theme)
    }

    /// The update version the operator chose to skip: not offered at start again (a newer one is).
    pub async fn skipped_update(&self) -> Result<Option<String>> {
        self.store().setting(SKIPPED_UPDATE_KEY).await
    }

    pub async fn skip_update(&self, version: &str) -> Result<()> {
        let version = check_version(version)?;
        let mut tx = self.begin().await?;
        store::set_setting(&mut tx, SKIPPED_UPDATE_KEY, &version).await?;
        self.commit(tx, Record::new("update.skip", version, json!({}))).await
    }

    /// Recorded once the update's signature was checked and it is installed, before the restart.
    pub async fn record_update(&self, from: &str, to: &str, url: &str) -> Result<()> {
        let to = check_version(to)?;
        let tx = self.begin().await?;
        self.commit(tx, Record::new("update.install", to, json!({ "from": from, "url": url }))).await
    }
}

fn check_version(v: &str) -> Result<String> {
    let v = v.trim();
    let semver = |v: &str| {
        let core = v.split(['-', '+']).next().unwrap_or_default();
        core.split('.').count() == 3 && core.split('.').all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
    };
    if v.len() > 64 || !semver(v) {
        return Err(crate::error::Error::validation("version", "expected a version such as 1.4.2"));
    }
    Ok(v.to_string())
}

#[cfg(test)]
mod tests {
    use vigil_dto::Theme;

    use crate::testing::app as console;

    use crate::testing::actions;

    #[tokio::test]
    async fn theme_defaults_to_system_and_is_kept() {
        let (_d, c) = console().await;
        assert_eq!(c.settings().theme().await.unwrap(), Theme::System);
        c.settings().set_theme(Theme::Dark).await.unwrap();
        assert_eq!(c.settings().theme().await.unwrap(), Theme::Dark);
        assert_eq!(actions(&c).await, vec!["settings.theme dark"]);
    }

    #[tokio::test]
    async fn a_skipped_update_is_kept_and_updates_are_logged() {
        let (_d, c) = console().await;
        assert_eq!(c.settings().skipped_update().await.unwrap(), None);
        c.settings().skip_update(" 0.2.0 ").await.unwrap();
        assert_eq!(c.settings().skipped_update().await.unwrap().as_deref(), Some("0.2.0"));
        assert!(c.settings().skip_update("latest").await.is_err());
        assert!(c.settings().record_update("0.1.0", "0.2", "https://example.com").await.is_err());
        c.settings().record_update("0.1.0", "0.2.0-rc.1", "https://updates.example.com/Vigil.AppImage").await.unwrap();
        assert_eq!(actions(&c).await, vec!["update.skip 0.2.0", "update.install 0.2.0-rc.1"]);
    }
}
