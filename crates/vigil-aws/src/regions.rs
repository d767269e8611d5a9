//! AWS region names: shape validation, and the known regions (kept in vigil-dto so the ui can
//! suggest them) used to tell "wrong region" from "endpoint unreachable".

pub use vigil_dto::KNOWN_REGIONS;

pub fn is_known(region: &str) -> bool {
    KNOWN_REGIONS.contains(&region)
}

/// `xx-name-N` or `xx-gov-name-N`: lowercase letters and dashes, ending in a number.
pub fn is_well_formed(region: &str) -> bool {
    let parts: Vec<&str> = region.split('-').collect();
    parts.len() >= 3
        && parts.len() <= 4
        && parts[..parts.len() - 1].iter().all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase()))
        && parts[0].len() == 2
        && parts.last().is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_regions_are_well_formed() {
        for r in KNOWN_REGIONS {
            assert!(is_well_formed(r), "{r}");
        }
    }

    #[test]
    fn malformed_regions_are_rejected() {
        for r in ["", "eu-west", "EU-WEST-1", "eu west 1", "euwest1", "eu-west-1a", "europe-west-1", "https://eu-west-1"] {
            assert!(!is_well_formed(r), "{r}");
        }
        assert!(is_well_formed("xx-fake-9"));
        assert!(!is_known("xx-fake-9"));
    }
}
