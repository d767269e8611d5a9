//! Human formatting of metric values by CloudWatch unit, shared by the charts (core), the
//! hover read-out (ui) and the CLI, so a value reads the same everywhere.

/// `1 stream`, `2 streams`: a count and its noun (plural with `s`).
pub fn counted(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("{n} {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// `v` in `unit` (a CloudWatch unit name) as a short label: `42.5 %`, `1.5 GiB`, `850 ms`,
/// `2.4 min`, `12.3 K`, `4.2/s`.
pub fn format_value(v: f64, unit: &str) -> String {
    if !v.is_finite() {
        return "–".into();
    }
    match unit {
        "Percent" => format!("{} %", num(v)),
        "Bytes" => scaled(v, 1024.0, &["B", "KiB", "MiB", "GiB", "TiB", "PiB"]),
        "Kilobytes" => scaled(v * 1024.0, 1024.0, &["B", "KiB", "MiB", "GiB", "TiB", "PiB"]),
        "Megabytes" => scaled(v * 1024.0 * 1024.0, 1024.0, &["B", "KiB", "MiB", "GiB", "TiB", "PiB"]),
        "Bytes/Second" => format!("{}/s", scaled(v, 1024.0, &["B", "KiB", "MiB", "GiB", "TiB"])),
        "Microseconds" => duration(v / 1e6),
        "Milliseconds" => duration(v / 1e3),
        "Seconds" => duration(v),
        "Count/Second" => format!("{}/s", count(v)),
        _ => count(v),
    }
}

/// Up to three significant digits, no trailing zeros: 0.123, 1.23, 12.3, 123, 1234.
fn num(v: f64) -> String {
    let a = v.abs();
    let s = if a == 0.0 || a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else if a >= 0.001 {
        format!("{v:.3}")
    } else {
        return format!("{v:.1e}");
    };
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

fn scaled(v: f64, step: f64, names: &[&str]) -> String {
    let mut x = v;
    let mut i = 0;
    while x.abs() >= step && i + 1 < names.len() {
        x /= step;
        i += 1;
    }
    format!("{} {}", num(x), names[i])
}

fn count(v: f64) -> String {
    let a = v.abs();
    if a < 1000.0 {
        return num(v);
    }
    scaled(v, 1000.0, &["", "K", "M", "G", "T"])
}

fn duration(secs: f64) -> String {
    let a = secs.abs();
    if a == 0.0 {
        "0 s".into()
    } else if a < 1e-3 {
        format!("{} µs", num(secs * 1e6))
    } else if a < 1.0 {
        format!("{} ms", num(secs * 1e3))
    } else if a < 120.0 {
        format!("{} s", num(secs))
    } else if a < 7200.0 {
        format!("{} min", num(secs / 60.0))
    } else if a < 172_800.0 {
        format!("{} h", num(secs / 3600.0))
    } else {
        format!("{} d", num(secs / 86_400.0))
    }
}

#[cfg(test)]
mod tests {
    use super::format_value as f;

    #[test]
    fn units_read_naturally() {
        assert_eq!(f(42.5, "Percent"), "42.5 %");
        assert_eq!(f(100.0, "Percent"), "100 %");
        assert_eq!(f(0.0, "Percent"), "0 %");
        assert_eq!(f(512.0, "Bytes"), "512 B");
        assert_eq!(f(1536.0, "Bytes"), "1.5 KiB");
        assert_eq!(f(3.0 * 1024.0 * 1024.0 * 1024.0, "Bytes"), "3 GiB");
        assert_eq!(f(850.0, "Milliseconds"), "850 ms");
        assert_eq!(f(1250.0, "Milliseconds"), "1.25 s");
        assert_eq!(f(150_000.0, "Milliseconds"), "2.5 min");
        assert_eq!(f(0.25, "Milliseconds"), "250 µs");
        assert_eq!(f(7.0, "Count"), "7");
        assert_eq!(f(12_345.0, "Count"), "12.3 K");
        assert_eq!(f(2_500_000.0, "Count"), "2.5 M");
        assert_eq!(f(4.25, "Count/Second"), "4.25/s");
        assert_eq!(f(-12.0, "Count"), "-12");
        assert_eq!(f(0.5, "None"), "0.5");
        assert_eq!(f(f64::NAN, "Count"), "–");
    }

    #[test]
    fn counts_take_their_plural() {
        assert_eq!(super::counted(1, "stream"), "1 stream");
        assert_eq!(super::counted(0, "stream"), "0 streams");
        assert_eq!(super::counted(1000, "record"), "1000 records");
    }
}
