//! The platform's metrics dashboard: the catalog of what to chart, the period for a range,
//! query planning (batched GetMetricData with metric math), downsampling to pixel width,
//! and the charts drawn with plotters (SVG, PNG) and exported (CSV too). Operator-log action:
//! `metrics.export`.

pub mod catalog;
pub mod dashboard;
pub mod lttb;
pub mod period;
pub mod query;

/// Drawing and exporting live in the evidence crate (CPU only), shared with the audit report.
pub use vigil_evidence::{chart as render, export};

/// Refuses a chart size the webview asks for outside what is drawn.
pub fn check_size(width: u32, height: u32) -> Result<()> {
    render::check_size(width, height).map_err(|e| Error::validation("size", e))
}

use crate::app::area;
use crate::aws;
use crate::core::Record;
use crate::error::{Error, Result};
use serde_json::json;
use std::collections::HashMap;
use std::path::Path;

area!(
    /// The metrics area (`app.metrics()`).
    Metrics
);

impl Metrics<'_> {
    /// The platform dashboard for the current environment: `selection` names components or
    /// charts (all when empty); the environment's deployment parameters fill the catalog,
    /// `params` adds to or overrides them (the platform environment name defaults to the
    /// Vigil environment's name).
    pub async fn fetch(
        &self,
        selection: &[String],
        range: vigil_dto::TimeRange,
        width: u32,
        params: &HashMap<String, String>,
    ) -> Result<vigil_dto::DashboardData> {
        let env = self.current().await?;
        let catalog = catalog::load();
        let known: Vec<&str> =
            catalog.components.iter().flat_map(|c| std::iter::once(c.id.as_str()).chain(c.charts.iter().map(|ch| ch.id.as_str()))).collect();
        if let Some(bad) = selection.iter().find(|s| !known.contains(&s.as_str())) {
            return Err(Error::validation("selection", format!("no component or chart `{bad}`; choose from {}", known.join(", "))));
        }
        let mut all = HashMap::from([("environment".to_string(), env.name.clone())]);
        all.extend(env.deployment.clone());
        all.extend(params.clone());
        let (resolved, unavailable) = catalog.resolve(&all);
        let op_id = aws::new_op_id();
        let cw = aws::cloudwatch::CloudWatch::new(&self.aws_context(&env).await, &op_id);
        let mut data = dashboard::fetch(&cw, &resolved, selection, range, width, chrono::Utc::now().timestamp()).await?;
        // Only what the selection would have shown.
        data.unavailable = unavailable
            .into_iter()
            .filter(|u| {
                let (comp, chart) = u.split_once(' ').map(|x| x.0).unwrap_or(u).split_once('/').unwrap_or((u, ""));
                selection.is_empty() || selection.iter().any(|s| s == comp || s == chart)
            })
            .collect();
        tracing::info!(environment = %env.name, charts = data.charts.len(), api_calls = data.api_calls, op_id = %op_id, "metrics refreshed");
        Ok(data)
    }

    /// The dashboard page: [`Metrics::fetch`] with every chart drawn as SVG, `width` pixels
    /// wide and `height` high, with its time axis in the local time zone.
    pub async fn dashboard(
        &self,
        selection: &[String],
        range: vigil_dto::TimeRange,
        width: u32,
        height: u32,
        dark: bool,
    ) -> Result<vigil_dto::DashboardView> {
        check_size(width, height)?;
        let data = self.fetch(selection, range, width, &Default::default()).await?;
        let components = catalog::load().components.into_iter().map(|c| (c.id, c.title)).collect();
        let now = chrono::Utc::now().timestamp();
        Ok(render::dashboard_view(data, components, width, height, dark, &chrono::Local, now))
    }

    /// The file name offered for an export of `chart` (a catalog chart id).
    pub fn file_name(&self, chart: &str, start: i64, format: vigil_dto::ExportFormat) -> Result<String> {
        let catalog = catalog::load();
        let component = catalog
            .components
            .iter()
            .find(|c| c.charts.iter().any(|ch| ch.id == chart))
            .ok_or_else(|| Error::validation("chart", format!("no chart `{chart}` in the catalog")))?;
        let stub = vigil_dto::ChartData {
            component: component.id.clone(),
            id: chart.to_string(),
            title: String::new(),
            unit: String::new(),
            period: 60,
            threshold: None,
            series: vec![],
            error: None,
        };
        Ok(export::file_name(&stub, start, format))
    }

    /// Writes one chart of the current environment to `path` as PNG, SVG (drawn in the local
    /// time zone) or CSV, and records the export in the operator log. The data is fetched here,
    /// for `start`..`end` at the period a chart `width` pixels wide gets: the evidence is what
    /// CloudWatch answered, never what the caller says it shows.
    #[allow(clippy::too_many_arguments)]
    pub async fn export_chart(
        &self,
        chart: &str,
        start: i64,
        end: i64,
        width: u32,
        format: vigil_dto::ExportFormat,
        dark: bool,
        path: &Path,
    ) -> Result<()> {
        check_size(width, *render::HEIGHTS.start())?;
        if end <= start {
            return Err(Error::validation("range", "the range must end after it starts"));
        }
        let data = self.fetch(&[chart.to_string()], vigil_dto::TimeRange::Between { start, end }, width, &Default::default()).await?;
        let fetched =
            data.charts.into_iter().find(|c| c.id == chart).ok_or_else(|| {
                Error::validation("chart", format!("`{chart}` is not available for this environment: {}", data.unavailable.join("; ")))
            })?;
        if let Some(e) = &fetched.error {
            return Err(Error::validation("chart", format!("`{chart}` could not be fetched: {e}")));
        }
        self.write_chart(&fetched, data.start, data.end, format, dark, path).await
    }

    /// Writes `chart` (fetched by the core) and its operator-log record.
    pub(crate) async fn write_chart(
        &self,
        chart: &vigil_dto::ChartData,
        start: i64,
        end: i64,
        format: vigil_dto::ExportFormat,
        dark: bool,
        path: &Path,
    ) -> Result<()> {
        // Drawing and writing block: off the async threads.
        let (owned, target) = (chart.clone(), path.to_path_buf());
        let bytes = crate::error::blocking(move || {
            let bytes = export::bytes(&owned, start, end, format, dark, &chrono::Local).map_err(|e| Error::validation("chart", e))?;
            vigil_evidence::files::write_atomically(&target, &bytes)?;
            Ok(bytes)
        })
        .await?;
        let details = json!({
            "format": format.extension(), "path": path.display().to_string(), "bytes": bytes.len(),
            "start": start, "end": end, "period": chart.period,
            "sha256": hex::encode(sha2::Digest::finalize(<sha2::Sha256 as sha2::Digest>::new_with_prefix(&bytes))),
        });
        self.log(Record::new("metrics.export", format!("{}/{}", chart.component, chart.id), details)).await
    }
}

#[cfg(test)]
mod tests {

    use crate::testing::app as console;

    #[tokio::test]
    async fn a_chart_export_is_written_and_logged_and_a_failed_one_is_not() {
        let (d, c) = console().await;
        let chart = vigil_dto::ChartData {
            component: "platform".into(),
            id: "documents".into(),
            title: "Documents".into(),
            unit: "Count".into(),
            period: 60,
            threshold: None,
            series: vec![vigil_dto::SeriesData { label: "ingested".into(), points: vec![(1_795_507_200, Some(3.0))] }],
            error: None,
        };
        let path = d.path().join("docs.csv");
        c.metrics().write_chart(&chart, 1_795_507_200, 1_795_510_800, vigil_dto::ExportFormat::Csv, false, &path).await.unwrap();
        assert!(std::fs::read_to_string(&path).unwrap().contains("platform,documents,ingested,Count,2026-11-24T08:00:00Z,3"));
        let log = c.oplog().list(10, None).await.unwrap();
        assert_eq!((log[0].action.as_str(), log[0].target.as_str()), ("metrics.export", "platform/documents"));
        let details: serde_json::Value = serde_json::from_str(&log[0].details).unwrap();
        assert!(details["path"].as_str().unwrap().ends_with("docs.csv"));
        assert_eq!(details["sha256"].as_str().unwrap().len(), 64);
        // Into a directory that does not exist: an error, no record.
        assert!(c.metrics().write_chart(&chart, 0, 60, vigil_dto::ExportFormat::Csv, false, &d.path().join("no/such.csv")).await.is_err());
        assert_eq!(c.oplog().list(10, None).await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn chart_sizes_and_names_from_the_webview_are_checked_before_anything_runs() {
        let (d, c) = console().await;
        let range = vigil_dto::TimeRange::Last { seconds: 3600 };
        for (w, h) in [(100_000, 320), (900, 0), (0, 0), (u32::MAX, u32::MAX)] {
            let e = c.metrics().dashboard(&[], range, w, h, false).await.unwrap_err();
            assert_eq!(e.kind(), "validation", "{w}×{h}: {e}");
        }
        assert_eq!(c.metrics().dashboard(&[], range, 900, 320, false).await.unwrap_err().kind(), "no_current_environment");
        let e =
            c.metrics().export_chart("documents", 0, 60, 1_000_000, vigil_dto::ExportFormat::Png, false, &d.path().join("x.png")).await.unwrap_err();
        assert_eq!(e.kind(), "validation");
        assert!(c.metrics().file_name("no-such-chart", 0, vigil_dto::ExportFormat::Csv).is_err());
        assert!(!d.path().join("x.png").exists());
    }
}
