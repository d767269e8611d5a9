//! The platform's metrics dashboard: the catalog of what to chart, the period for a range,
//! query planning (batched GetMetricData with metric math), downsampling to pixel width,
//! and the charts drawn with plotters (SVG, PNG) and exported (CSV too).

pub mod catalog;
pub mod dashboard;
pub mod export;
pub mod lttb;
pub mod period;
pub mod query;
pub mod render;
