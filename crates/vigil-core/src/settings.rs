//! Settings of this Vigil: the theme (System, Light, Dark). Operator-log action: `settings.theme`.

use crate::app::area;
use crate::core::Record;
use crate::error::Result;
use crate::store;
use serde_json::json;
use vigil_dto::Theme;

pub const THEME_KEY: &str = "theme";

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
}
