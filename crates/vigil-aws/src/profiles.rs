//! Reads the standard AWS config and credentials files (with aws-config's own parser, so Vigil
//! sees exactly what the SDK sees) and explains each profile: where its credentials come from,
//! the role chain it follows, and what is wrong with it. Secret values are never copied out.

/// Why profiles could not be had.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProfileError {
    #[error("profile '{name}' is not in the AWS config or credentials files")]
    Unknown { name: String, available: Vec<String> },
    #[error("the AWS config files could not be read: {0}")]
    File(String),
}

type Result<T> = std::result::Result<T, ProfileError>;

impl ProfileError {
    pub fn hint(&self) -> String {
        match self {
            ProfileError::Unknown { available, .. } if available.is_empty() => {
                "no profiles were found; create one with `aws configure` or `aws configure sso`".into()
            }
            ProfileError::Unknown { available, .. } => format!("profiles found: {}", available.join(", ")),
            ProfileError::File(_) => "fix the file (its line is named above) or point AWS_CONFIG_FILE elsewhere".into(),
        }
    }

    pub fn kind(&self) -> crate::Kind {
        match self {
            ProfileError::Unknown { .. } => crate::Kind::UnknownProfile,
            ProfileError::File(_) => crate::Kind::ProfileFile,
        }
    }
}

impl From<ProfileError> for crate::AwsError {
    fn from(e: ProfileError) -> Self {
        crate::AwsError::new(e.kind(), e.to_string(), e.hint())
    }
}
use aws_config::profile::{Profile, ProfileSet};
use aws_runtime::env_config::file::{EnvConfigFileKind, EnvConfigFiles};
use aws_types::os_shim_internal::{Env, Fs};
use vigil_dto::{ProfileKind, ProfileList, ProfileSummary};

/// Where profiles are read from: the real files (honouring AWS_CONFIG_FILE and
/// AWS_SHARED_CREDENTIALS_FILE), or given contents in tests.
#[derive(Clone, Debug)]
pub struct ProfileSource {
    files: EnvConfigFiles,
    fs: Fs,
    env: Env,
}

impl ProfileSource {
    pub fn standard() -> Self {
        ProfileSource { files: EnvConfigFiles::default(), fs: Fs::real(), env: Env::real() }
    }

    /// Profiles from the given file contents only (nothing from disk or the environment).
    pub fn from_contents(config: &str, credentials: &str) -> Self {
        let files = EnvConfigFiles::builder()
            .include_default_config_file(false)
            .include_default_credentials_file(false)
            .with_contents(EnvConfigFileKind::Config, config.to_string())
            .with_contents(EnvConfigFileKind::Credentials, credentials.to_string())
            .build();
        ProfileSource { files, fs: Fs::from_slice(&[]), env: Env::from_slice(&[]) }
    }

    pub fn files(&self) -> &EnvConfigFiles {
        &self.files
    }

    pub async fn load(&self) -> Result<ProfileSet> {
        aws_config::profile::load(&self.fs, &self.env, &self.files, None).await.map_err(|e| ProfileError::File(crate::error_chain(&e)))
    }

    /// Every profile, explained; a file that cannot be parsed is reported, not fatal.
    pub async fn list(&self) -> ProfileList {
        match self.load().await {
            Ok(set) => {
                let mut names: Vec<&str> = set.profiles().collect();
                names.sort_unstable();
                ProfileList { profiles: names.into_iter().map(|n| summarize(&set, n)).collect(), file_error: None }
            }
            Err(e) => ProfileList { profiles: vec![], file_error: Some(e.to_string()) },
        }
    }

    /// Fails with `UnknownProfile` (listing the known names) unless `name` exists.
    pub async fn require(&self, name: &str) -> Result<ProfileSummary> {
        let set = self.load().await?;
        if set.get_profile(name).is_none() {
            let mut available: Vec<String> = set.profiles().map(String::from).collect();
            available.sort();
            return Err(ProfileError::Unknown { name: name.to_string(), available });
        }
        Ok(summarize(&set, name))
    }
}

/// Explains one profile of `set`. `name` must exist in it.
pub fn summarize(set: &ProfileSet, name: &str) -> ProfileSummary {
    let profile = set.get_profile(name).expect("summarize is called with a listed profile");
    let mut problems = Vec::new();
    let (kind, detail) = source_of(set, profile, &mut problems);
    let chain = role_chain(set, name, &mut problems);
    let mfa_serial = profile.get("mfa_serial").map(String::from);
    if let Some(serial) = &mfa_serial {
        problems.push(format!(
            "needs an MFA code from {serial}; Vigil cannot prompt for one — use an SSO profile, or a credential_process that returns MFA session credentials"
        ));
    }
    ProfileSummary { name: name.to_string(), kind, region: profile.get("region").map(String::from), detail, chain, mfa_serial, problems }
}

fn source_of(set: &ProfileSet, p: &Profile, problems: &mut Vec<String>) -> (ProfileKind, String) {
    if let Some(role) = p.get("role_arn") {
        if p.get("web_identity_token_file").is_some() {
            return (ProfileKind::WebIdentity, format!("web identity token → role {role}"));
        }
        let from = match (p.get("source_profile"), p.get("credential_source")) {
            (Some(src), None) => format!("from profile {src}"),
            (None, Some(cs)) => {
                if !matches!(cs, "Environment" | "Ec2InstanceMetadata" | "EcsContainer") {
                    problems.push(format!("credential_source '{cs}' is not one of Environment, Ec2InstanceMetadata, EcsContainer"));
                }
                format!("from {cs}")
            }
            (Some(_), Some(_)) => {
                problems.push("sets both source_profile and credential_source; keep one".into());
                "ambiguous source".into()
            }
            (None, None) => {
                problems.push("role_arn needs a source_profile or a credential_source".into());
                "no source".into()
            }
        };
        return (ProfileKind::AssumeRole, format!("assume role {role} {from}"));
    }
    if let Some(session) = p.get("sso_session") {
        match set.sso_session(session) {
            None => problems.push(format!("refers to [sso-session {session}], which is not in the config file")),
            Some(s) => {
                for key in ["sso_start_url", "sso_region"] {
                    if s.get(key).is_none() {
                        problems.push(format!("[sso-session {session}] has no {key}"));
                    }
                }
            }
        }
        require(p, &["sso_account_id", "sso_role_name"], problems);
        return (
            ProfileKind::Sso,
            format!("SSO session {session}, account {}, role {}", p.get("sso_account_id").unwrap_or("?"), p.get("sso_role_name").unwrap_or("?")),
        );
    }
    if let Some(url) = p.get("sso_start_url") {
        require(p, &["sso_region", "sso_account_id", "sso_role_name"], problems);
        return (
            ProfileKind::Sso,
            format!("SSO (legacy) {url}, account {}, role {}", p.get("sso_account_id").unwrap_or("?"), p.get("sso_role_name").unwrap_or("?")),
        );
    }
    if let Some(cmd) = p.get("credential_process") {
        // Show only the program: arguments may carry sensitive values.
        let program = cmd.split_whitespace().next().unwrap_or("");
        return (ProfileKind::CredentialProcess, format!("credential_process {program}"));
    }
    if let Some(key_id) = p.get("aws_access_key_id") {
        require(p, &["aws_secret_access_key"], problems);
        let session = if p.get("aws_session_token").is_some() { " with session token" } else { "" };
        return (ProfileKind::StaticKeys, format!("access key {}{session}", mask(key_id)));
    }
    (ProfileKind::NoCredentials, "no credentials of its own".into())
}

fn require(p: &Profile, keys: &[&str], problems: &mut Vec<String>) {
    for key in keys {
        if p.get(key).is_none() {
            problems.push(format!("missing {key}"));
        }
    }
}

/// The profiles followed through `source_profile`, with cycles and dangling links reported.
fn role_chain(set: &ProfileSet, start: &str, problems: &mut Vec<String>) -> Vec<String> {
    let mut chain = vec![start.to_string()];
    let mut current = start.to_string();
    while let Some(p) = set.get_profile(&current) {
        if p.get("role_arn").is_none() {
            break;
        }
        let Some(next) = p.get("source_profile") else { break };
        // A profile may name itself as source when it also holds static keys.
        if next == current && p.get("aws_access_key_id").is_some() {
            break;
        }
        if chain.iter().any(|c| c == next) {
            problems.push(format!("source_profile chain loops: {} → {next}", chain.join(" → ")));
            break;
        }
        chain.push(next.to_string());
        if set.get_profile(next).is_none() {
            problems.push(format!("source_profile '{next}' does not exist"));
            break;
        }
        current = next.to_string();
    }
    chain
}

/// `AKIAIOSFODNN7EXAMPLE` → `AKIA…MPLE`.
fn mask(key_id: &str) -> String {
    if key_id.len() <= 8 {
        return "…".into();
    }
    format!("{}…{}", &key_id[..4], &key_id[key_id.len() - 4..])
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = r#"
[default]
region = eu-west-1

[sso-session corp]
sso_start_url = https://corp.awsapps.com/start
sso_region = eu-west-1
sso_registration_scopes = sso:account:access

[profile dev-sso]
sso_session = corp
sso_account_id = 111122223333
sso_role_name = PlatformAdmin
region = eu-central-1

[profile legacy-sso]
sso_start_url = https://old.awsapps.com/start
sso_region = us-east-1
sso_account_id = 444455556666
sso_role_name = ReadOnly

[profile base]
region = us-east-1

[profile ops]
role_arn = arn:aws:iam::111122223333:role/Ops
source_profile = base
mfa_serial = arn:aws:iam::999999999999:mfa/alice

[profile prod]
role_arn = arn:aws:iam::777788889999:role/Deploy
source_profile = ops

[profile loop-a]
role_arn = arn:aws:iam::1:role/A
source_profile = loop-b

[profile loop-b]
role_arn = arn:aws:iam::1:role/B
source_profile = loop-a

[profile dangling]
role_arn = arn:aws:iam::1:role/X
source_profile = nowhere

[profile broken-sso]
sso_session = missing-session
sso_account_id = 1

[profile ec2]
role_arn = arn:aws:iam::1:role/Y
credential_source = Ec2InstanceMetadata

[profile proc]
credential_process = /usr/local/bin/get-creds --secret hunter2
"#;

    const CREDENTIALS: &str = r#"
[base]
aws_access_key_id = AKIAIOSFODNN7EXAMPLE
aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY

[half]
aws_access_key_id = AKIAIOSFODNN7EXAMPLE
"#;

    async fn listed() -> ProfileList {
        ProfileSource::from_contents(CONFIG, CREDENTIALS).list().await
    }

    fn get<'a>(l: &'a ProfileList, name: &str) -> &'a ProfileSummary {
        l.profiles.iter().find(|p| p.name == name).unwrap_or_else(|| panic!("{name} not listed"))
    }

    #[tokio::test]
    async fn lists_profiles_from_both_files_sorted() {
        let l = listed().await;
        assert!(l.file_error.is_none());
        let names: Vec<&str> = l.profiles.iter().map(|p| p.name.as_str()).collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted);
        for n in ["default", "dev-sso", "legacy-sso", "base", "ops", "prod", "half", "proc"] {
            assert!(names.contains(&n), "{n} missing from {names:?}");
        }
        // sso-session sections are not profiles.
        assert!(!names.contains(&"corp"));
    }

    #[tokio::test]
    async fn sso_session_profiles_are_recognised() {
        let l = listed().await;
        let p = get(&l, "dev-sso");
        assert_eq!(p.kind, ProfileKind::Sso);
        assert_eq!(p.region.as_deref(), Some("eu-central-1"));
        assert!(p.detail.contains("corp") && p.detail.contains("111122223333") && p.detail.contains("PlatformAdmin"), "{}", p.detail);
        assert!(p.problems.is_empty(), "{:?}", p.problems);
        let legacy = get(&l, "legacy-sso");
        assert_eq!(legacy.kind, ProfileKind::Sso);
        assert!(legacy.problems.is_empty(), "{:?}", legacy.problems);
    }

    #[tokio::test]
    async fn sso_profile_with_a_missing_session_is_reported() {
        let l = listed().await;
        let p = get(&l, "broken-sso");
        assert_eq!(p.kind, ProfileKind::Sso);
        assert!(p.problems.iter().any(|m| m.contains("missing-session")), "{:?}", p.problems);
        assert!(p.problems.iter().any(|m| m.contains("sso_role_name")), "{:?}", p.problems);
    }

    #[tokio::test]
    async fn assume_role_chains_are_followed() {
        let l = listed().await;
        let prod = get(&l, "prod");
        assert_eq!(prod.kind, ProfileKind::AssumeRole);
        assert_eq!(prod.chain, vec!["prod", "ops", "base"]);
        assert!(prod.problems.is_empty(), "{:?}", prod.problems);
        let ops = get(&l, "ops");
        assert_eq!(ops.mfa_serial.as_deref(), Some("arn:aws:iam::999999999999:mfa/alice"));
        assert!(ops.problems.iter().any(|m| m.contains("MFA")), "{:?}", ops.problems);
        let ec2 = get(&l, "ec2");
        assert_eq!(ec2.kind, ProfileKind::AssumeRole);
        assert!(ec2.detail.contains("Ec2InstanceMetadata"));
        assert!(ec2.problems.is_empty());
    }

    #[tokio::test]
    async fn role_chain_loops_and_dangling_sources_are_reported() {
        let l = listed().await;
        let a = get(&l, "loop-a");
        assert!(a.problems.iter().any(|m| m.contains("loops")), "{:?}", a.problems);
        let d = get(&l, "dangling");
        assert!(d.problems.iter().any(|m| m.contains("'nowhere' does not exist")), "{:?}", d.problems);
    }

    #[tokio::test]
    async fn static_keys_are_masked_and_never_copied() {
        let l = listed().await;
        let base = get(&l, "base");
        assert_eq!(base.kind, ProfileKind::StaticKeys);
        assert!(base.detail.contains("AKIA…MPLE"), "{}", base.detail);
        let everything = format!("{l:?}");
        assert!(!everything.contains("wJalrXUtnFEMI"), "secret key leaked");
        assert!(!everything.contains("AKIAIOSFODNN7EXAMPLE"), "full key id leaked");
        assert!(!everything.contains("hunter2"), "credential_process arguments leaked");
        let half = get(&l, "half");
        assert!(half.problems.iter().any(|m| m.contains("aws_secret_access_key")));
    }

    #[tokio::test]
    async fn credential_process_profiles_are_recognised() {
        let l = listed().await;
        let p = get(&l, "proc");
        assert_eq!(p.kind, ProfileKind::CredentialProcess);
        assert_eq!(p.detail, "credential_process /usr/local/bin/get-creds");
    }

    #[tokio::test]
    async fn a_malformed_file_is_reported_with_its_line() {
        let src = ProfileSource::from_contents("[profile ok]\nregion = eu-west-1\nthis line is not a key value pair\n", "");
        let l = src.list().await;
        let err = l.file_error.expect("a bad file is reported");
        assert!(err.contains("line 3"), "{err}");
        assert!(matches!(src.require("ok").await, Err(ProfileError::File(_))));
    }

    #[tokio::test]
    async fn requiring_an_unknown_profile_lists_the_known_ones() {
        let src = ProfileSource::from_contents(CONFIG, CREDENTIALS);
        match src.require("nope").await {
            Err(ProfileError::Unknown { name, available }) => {
                assert_eq!(name, "nope");
                assert!(available.contains(&"dev-sso".to_string()));
            }
            other => panic!("expected UnknownProfile, got {other:?}"),
        }
        assert_eq!(src.require("prod").await.unwrap().kind, ProfileKind::AssumeRole);
    }

    #[tokio::test]
    async fn empty_files_give_no_profiles_and_no_error() {
        let l = ProfileSource::from_contents("", "").list().await;
        assert!(l.profiles.is_empty());
        assert!(l.file_error.is_none());
    }
}
