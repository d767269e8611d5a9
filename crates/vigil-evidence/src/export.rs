//! Exports of charts: their data as CSV (one row per point; an empty value is a period
//! without data), and the picture as SVG or PNG.

use crate::chart::{self as render, Style};
use chrono::TimeZone;
use vigil_dto::{ChartData, ExportFormat};

/// CSV of `charts`: `component,chart,series,unit,time,value`, times in RFC 3339 (UTC).
pub fn csv(charts: &[ChartData]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record(["component", "chart", "series", "unit", "time", "value"]);
    for c in charts {
        for s in &c.series {
            for (t, v) in &s.points {
                let time = chrono::DateTime::from_timestamp(*t, 0).map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)).unwrap_or_default();
                let value = v.map(|v| v.to_string()).unwrap_or_default();
                let _ = w.write_record([c.component.as_str(), &c.id, &s.label, &c.unit, &time, &value]);
            }
        }
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

/// A file name for an export: `<component>-<chart>-<start>.<ext>`.
pub fn file_name(chart: &ChartData, start: i64, format: ExportFormat) -> String {
    let stamp = chrono::DateTime::from_timestamp(start, 0).map(|d| d.format("%Y%m%dT%H%MZ").to_string()).unwrap_or_default();
    let clean = |s: &str| s.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).collect::<String>();
    format!("{}-{}-{stamp}.{}", clean(&chart.component), clean(&chart.id), format.extension())
}

/// The export's bytes.
pub fn bytes<Tz: TimeZone>(chart: &ChartData, start: i64, end: i64, format: ExportFormat, dark: bool, tz: &Tz) -> Result<Vec<u8>, String>
where
    Tz::Offset: std::fmt::Display,
{
    let style = |scale| Style { width: 900, height: 320, dark, titled: true, scale, bars: false };
    Ok(match format {
        ExportFormat::Csv => csv(std::slice::from_ref(chart)).into_bytes(),
        ExportFormat::Svg => render::svg(chart, start, end, style(1.0), tz)?.image.into_bytes(),
        ExportFormat::Png => render::png(chart, start, end, style(2.0), tz)?.image,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::files::write_atomically;
    use vigil_dto::SeriesData;

    fn chart() -> ChartData {
        ChartData {
            component: "platform".into(),
            id: "latency".into(),
            title: "Latency".into(),
            unit: "Milliseconds".into(),
            period: 60,
            threshold: None,
            series: vec![SeriesData { label: "p95, \"all\"".into(), points: vec![(1_795_507_200, Some(12.5)), (1_795_507_260, None)] }],
            error: None,
        }
    }

    #[test]
    fn csv_quotes_fields_and_leaves_gaps_empty() {
        let text = csv(&[chart()]);
        let mut r = csv::Reader::from_reader(text.as_bytes());
        let rows: Vec<csv::StringRecord> = r.records().map(|r| r.unwrap()).collect();
        assert_eq!(rows.len(), 2);
        assert_eq!(&rows[0][2], "p95, \"all\"");
        assert_eq!(&rows[0][4], "2026-11-24T08:00:00Z");
        assert_eq!(&rows[0][5], "12.5");
        assert_eq!(&rows[1][5], "", "a period without data stays empty");
    }

    #[test]
    fn exports_are_written_whole() {
        let dir = tempfile::tempdir().unwrap();
        let c = chart();
        let name = file_name(&c, 1_795_507_200, ExportFormat::Png);
        assert_eq!(name, "platform-latency-20261124T0800Z.png");
        let p = dir.path().join(&name);
        let tz = chrono::FixedOffset::east_opt(0).unwrap();
        write_atomically(&p, &bytes(&c, 1_795_507_200, 1_795_510_800, ExportFormat::Png, false, &tz).unwrap()).unwrap();
        assert_eq!(&std::fs::read(&p).unwrap()[..8], b"\x89PNG\r\n\x1a\n");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "no temporary file left");
        let svg = bytes(&c, 1_795_507_200, 1_795_510_800, ExportFormat::Svg, false, &tz).unwrap();
        assert!(String::from_utf8(svg).unwrap().contains("Latency (Milliseconds, times in UTC)"));
        // A directory that does not exist fails without creating anything.
        assert!(write_atomically(&dir.path().join("missing/x.csv"), b"x").is_err());
    }
}
