//! The period of a chart's data points: long enough that the chart never gets more points than
//! it has pixels, and never shorter than CloudWatch keeps for data that old (1-minute data for
//! 15 days, 5-minute for 63 days, 1-hour for 455 days).

/// Periods a dashboard uses, in seconds (all multiples of 60, as CloudWatch requires for
/// standard-resolution metrics).
const STEPS: [u32; 12] = [60, 120, 300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200, 86_400];

/// The shortest period CloudWatch still has for data starting `age_secs` ago.
pub fn retention_floor(age_secs: i64) -> u32 {
    const DAY: i64 = 86_400;
    if age_secs <= 15 * DAY {
        60
    } else if age_secs <= 63 * DAY {
        300
    } else {
        3600
    }
}

/// The period for a range of `range_secs` that starts `age_secs` ago, drawn `max_points` wide,
/// and at least `min_period` (metrics published less often).
pub fn choose(range_secs: i64, age_secs: i64, max_points: u32, min_period: u32) -> u32 {
    let max_points = max_points.max(1) as i64;
    let needed = ((range_secs.max(1) + max_points - 1) / max_points) as u32;
    let floor = retention_floor(age_secs).max(min_period).max(needed);
    match STEPS.iter().find(|s| **s >= floor) {
        Some(s) => *s,
        // Beyond a day per point: whole days.
        None => floor.div_ceil(86_400) * 86_400,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    const H: i64 = 3600;
    const D: i64 = 86_400;

    #[test]
    fn short_recent_ranges_get_one_minute() {
        assert_eq!(choose(H, H, 800, 0), 60);
        assert_eq!(choose(3 * H, 3 * H, 800, 0), 60);
    }

    #[test]
    fn never_more_points_than_pixels() {
        for (range, width) in [(12 * H, 800), (D, 800), (7 * D, 800), (7 * D, 300), (D, 100)] {
            let p = choose(range, range, width, 0) as i64;
            assert!(range / p <= width as i64, "{range} s at {p} s = {} points > {width}", range / p);
        }
        assert_eq!(choose(D, D, 800, 0), 120);
        assert_eq!(choose(7 * D, 7 * D, 800, 0), 900);
    }

    #[test]
    fn old_data_is_only_kept_coarser() {
        assert_eq!(choose(H, 20 * D, 800, 0), 300);
        assert_eq!(choose(H, 100 * D, 800, 0), 3600);
        assert_eq!(retention_floor(15 * D), 60);
        assert_eq!(retention_floor(63 * D + 1), 3600);
    }

    #[test]
    fn daily_metrics_and_very_long_ranges() {
        assert_eq!(choose(H, H, 800, 86_400), 86_400);
        assert_eq!(choose(400 * D, 400 * D, 100, 0), 4 * 86_400);
    }
}
