//! Evidence, CPU only (no async, no network): charts drawn with plotters (SVG, PNG), chart data
//! as CSV, PDF documents laid out and drawn with krilla (PDF/A-2u), and files written whole.
//! Used by the metrics exports and the audit report, and later by deploy and drill evidence.
//! Text is measured and drawn with the bundled DejaVu fonts, so no system font is needed.

pub mod chart;
pub mod export;
pub mod files;
pub mod pdf;
