//! Alarm names: `pj-<environment>-<component>-<what>` (deploy-bundles/cloudformation/alarms.yaml),
//! which is how Vigil groups alarms by platform component.

/// The name of the alarm `what` of `component` in `environment`.
pub fn name(environment: &str, component: &str, what: &str) -> String {
    format!("pj-{environment}-{component}-{what}")
}

/// The component in an alarm name of `environment`; `other` for names not made by [`name`].
pub fn component_of(name: &str, environment: &str) -> String {
    name.strip_prefix(&format!("pj-{environment}-")).and_then(|rest| rest.split('-').next()).filter(|c| !c.is_empty()).unwrap_or("other").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_components_round_trip_and_the_bundle_follows_them() {
        assert_eq!(component_of(&name("prod-eu", "aurora", "cpu"), "prod-eu"), "aurora");
        assert_eq!(component_of("pj-sandbox-platform-failed-jobs", "sandbox"), "platform");
        assert_eq!(component_of("someone-elses-alarm", "sandbox"), "other");
        let bundle = include_str!("../../../deploy-bundles/cloudformation/alarms.yaml");
        let names: Vec<&str> = bundle.lines().filter_map(|l| l.trim().strip_prefix("AlarmName: !Sub ")).collect();
        assert!(!names.is_empty());
        for n in names {
            assert_ne!(component_of(&n.replace("${Environment}", "prod"), "prod"), "other", "{n}");
            assert!(n.starts_with("pj-${Environment}-"), "{n} does not follow the naming");
        }
    }
}
