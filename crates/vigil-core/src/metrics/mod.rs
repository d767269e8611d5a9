//! The platform's metrics dashboard: the catalog of what to chart, the period for a range,
//! query planning (batched GetMetricData with metric math), and downsampling to pixel width.

pub mod catalog;
pub mod dashboard;
pub mod lttb;
pub mod period;
pub mod query;
