//! Largest-Triangle-Three-Buckets downsampling to a chart's pixel width, gap-aware: runs of
//! data between missing periods are downsampled separately and the gaps stay gaps (never
//! interpolated across).

/// A point in time (seconds) and its value; `None` is a period without data.
pub type Point = (f64, Option<f64>);

/// LTTB on gap-free data: at most `threshold` points, first and last kept.
pub fn lttb(data: &[(f64, f64)], threshold: usize) -> Vec<(f64, f64)> {
    let n = data.len();
    if threshold >= n || n <= 2 {
        return data.to_vec();
    }
    if threshold < 3 {
        return vec![data[0], data[n - 1]][..threshold.clamp(1, 2)].to_vec();
    }
    let every = (n - 2) as f64 / (threshold - 2) as f64;
    let mut out = Vec::with_capacity(threshold);
    out.push(data[0]);
    let mut a = 0usize;
    for i in 0..threshold - 2 {
        // The average of the next bucket is the third corner of the triangle.
        let next_start = ((i + 1) as f64 * every) as usize + 1;
        let next_end = (((i + 2) as f64 * every) as usize + 1).min(n);
        let (mut avg_x, mut avg_y) = (0.0, 0.0);
        let len = (next_end.saturating_sub(next_start)).max(1) as f64;
        for p in &data[next_start.min(n - 1)..next_end.max(next_start.min(n - 1) + 1).min(n)] {
            avg_x += p.0;
            avg_y += p.1;
        }
        avg_x /= len;
        avg_y /= len;
        let from = (i as f64 * every) as usize + 1;
        let to = (((i + 1) as f64 * every) as usize + 1).min(n - 1);
        let (ax, ay) = data[a];
        let mut best = (from, -1.0f64);
        for (j, p) in data.iter().enumerate().take(to.max(from + 1)).skip(from) {
            let area = ((ax - avg_x) * (p.1 - ay) - (ax - p.0) * (avg_y - ay)).abs();
            if area > best.1 {
                best = (j, area);
            }
        }
        out.push(data[best.0]);
        a = best.0;
    }
    out.push(data[n - 1]);
    out
}

/// Downsamples a series with gaps to about `width` points. Each run of data gets a share of
/// the budget by its length; a `None` between runs keeps the gap.
pub fn downsample(points: &[Point], width: usize) -> Vec<Point> {
    let runs: Vec<Vec<(f64, f64)>> =
        points.split(|p| p.1.is_none()).filter(|r| !r.is_empty()).map(|r| r.iter().map(|(t, v)| (*t, v.expect("split at None"))).collect()).collect();
    let total: usize = runs.iter().map(Vec::len).sum();
    if total <= width {
        return points.to_vec();
    }
    // Gap markers use up budget too.
    let budget = width.saturating_sub(runs.len().saturating_sub(1)).max(runs.len() * 2);
    let mut out = Vec::with_capacity(width);
    for (i, r) in runs.iter().enumerate() {
        if i > 0 {
            out.push((r[0].0, None));
        }
        let share = ((r.len() as f64 / total as f64) * budget as f64).floor() as usize;
        out.extend(lttb(r, share.max(2)).into_iter().map(|(t, v)| (t, Some(v))));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wave(n: usize) -> Vec<(f64, f64)> {
        (0..n).map(|i| (i as f64, (i as f64 / 50.0).sin() * 10.0)).collect()
    }

    #[test]
    fn output_is_bounded_and_keeps_the_ends() {
        let d = wave(10_000);
        for t in [3, 10, 500, 800] {
            let s = lttb(&d, t);
            assert_eq!(s.len(), t);
            assert_eq!((s[0], s[t - 1]), (d[0], d[9_999]));
            assert!(s.windows(2).all(|w| w[0].0 < w[1].0), "time stays ordered");
        }
        assert_eq!(lttb(&d[..5], 10), d[..5].to_vec());
    }

    #[test]
    fn extremes_survive() {
        let mut d: Vec<(f64, f64)> = (0..5000).map(|i| (i as f64, 1.0)).collect();
        d[1234].1 = 500.0;
        d[4321].1 = -300.0;
        let s = lttb(&d, 100);
        assert!(s.iter().any(|p| p.1 == 500.0) && s.iter().any(|p| p.1 == -300.0));
    }

    #[test]
    fn gaps_stay_gaps() {
        let mut pts: Vec<Point> = (0..3000).map(|i| (i as f64, Some(i as f64))).collect();
        for p in &mut pts[1000..1100] {
            p.1 = None;
        }
        let s = downsample(&pts, 300);
        assert!(s.len() <= 300, "{}", s.len());
        let gaps: Vec<&Point> = s.iter().filter(|p| p.1.is_none()).collect();
        assert_eq!(gaps.len(), 1);
        // Nothing is drawn inside the gap.
        assert!(s.iter().filter(|p| p.1.is_some()).all(|p| p.0 < 1000.0 || p.0 >= 1100.0));
        // Small inputs come back as they are.
        assert_eq!(downsample(&pts[..50], 300), pts[..50].to_vec());
    }
}
