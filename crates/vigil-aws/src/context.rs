//! One AWS context per environment: the SDK configuration (region, endpoint override, credential
//! source, timeouts, retries) built once and shared by every client until the environment's AWS
//! settings change, with a credentials cache in front of the environment's provider, so a role
//! chain or an SSO profile signs in once and not on every call.

use crate::error::{self, AwsError};
use crate::profiles::ProfileSource;
use aws_config::{AppName, BehaviorVersion, SdkConfig};
use aws_credential_types::provider::{future, ProvideCredentials, SharedCredentialsProvider};
use aws_types::region::Region;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};
use vigil_dto::Credentials;

/// The fixed keys used with `Credentials::Emulator` (moto and similar accept any keys).
const EMULATOR_KEY: &str = "vigil-emulator";

/// Credentials are fetched again this long before they expire.
const REFRESH_BEFORE_EXPIRY: Duration = Duration::from_secs(300);

/// Timeouts and retries of every call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AwsSettings {
    pub connect_timeout: Duration,
    /// One attempt (one HTTP request).
    pub attempt_timeout: Duration,
    /// The whole call, retries included.
    pub operation_timeout: Duration,
    /// Attempts per call (the first included); throttling, 5xx and transport errors are retried
    /// with the SDK's standard backoff.
    pub max_attempts: u32,
}

impl Default for AwsSettings {
    fn default() -> Self {
        AwsSettings {
            connect_timeout: Duration::from_secs(5),
            attempt_timeout: Duration::from_secs(20),
            operation_timeout: Duration::from_secs(45),
            max_attempts: 2,
        }
    }
}

/// An environment's AWS side: everything a context is built from. Two equal targets share a
/// context; any change makes a new one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub environment: String,
    pub region: String,
    pub endpoint_url: Option<String>,
    pub credentials: Credentials,
}

impl From<&vigil_dto::Environment> for Target {
    fn from(e: &vigil_dto::Environment) -> Self {
        Target { environment: e.name.clone(), region: e.region.clone(), endpoint_url: e.endpoint_url.clone(), credentials: e.credentials.clone() }
    }
}

/// The SDK configuration of one environment, cheap to clone. Clients are made from it per
/// operation (carrying that operation's id); they share its HTTP client and credentials.
#[derive(Clone, Debug)]
pub struct AwsContext {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    target: Target,
    sdk: SdkConfig,
    profiles: ProfileSource,
    credentials: Option<SharedCredentialsProvider>,
}

impl AwsContext {
    pub fn sdk(&self) -> &SdkConfig {
        &self.inner.sdk
    }

    pub fn target(&self) -> &Target {
        &self.inner.target
    }

    pub fn profiles(&self) -> &ProfileSource {
        &self.inner.profiles
    }

    /// The environment's credentials (from the cache while they are fresh), or why there are
    /// none: an SSO session to start, a profile without keys, an unreachable endpoint...
    pub async fn credentials(&self) -> Result<aws_credential_types::Credentials, AwsError> {
        let Some(provider) = &self.inner.credentials else {
            return Err(error::no_credentials(self.target()));
        };
        match provider.provide_credentials().await {
            Ok(c) => Ok(c),
            Err(e) => Err(error::credentials(self, &e).await),
        }
    }

    async fn build(target: Target, profiles: ProfileSource, settings: AwsSettings) -> AwsContext {
        let timeouts = aws_config::timeout::TimeoutConfig::builder()
            .connect_timeout(settings.connect_timeout)
            .operation_attempt_timeout(settings.attempt_timeout)
            .operation_timeout(settings.operation_timeout)
            .build();
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(target.region.clone()))
            .app_name(AppName::new("vigil").expect("a valid app name"))
            .timeout_config(timeouts)
            .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(settings.max_attempts));
        if let Some(url) = &target.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        match &target.credentials {
            Credentials::DefaultChain => {}
            Credentials::Profile { name } => {
                // Only this profile: the default chain would let environment variables win.
                // The environment's region signs a role chain's STS calls (and names its endpoint).
                let conf = aws_config::provider_config::ProviderConfig::default().with_region(Some(Region::new(target.region.clone())));
                let provider = aws_config::profile::ProfileFileCredentialsProvider::builder()
                    .configure(&conf)
                    .profile_files(profiles.files().clone())
                    .profile_name(name)
                    .build();
                loader = loader.profile_files(profiles.files().clone()).profile_name(name).credentials_provider(provider);
            }
            Credentials::Emulator => {
                let fixed = aws_credential_types::Credentials::new(EMULATOR_KEY, EMULATOR_KEY, None, None, "vigil-emulator");
                loader = loader.credentials_provider(fixed);
            }
        }
        let sdk = loader.load().await;
        // Every client of this context, and Vigil's own resolution (Check connection, IAM
        // tokens), goes through one cache.
        let credentials = sdk.credentials_provider().map(|inner| SharedCredentialsProvider::new(Cached { inner, held: Mutex::new(None) }));
        let sdk = match &credentials {
            Some(c) => sdk.to_builder().credentials_provider(c.clone()).build(),
            None => sdk,
        };
        AwsContext { inner: Arc::new(Inner { target, sdk, profiles, credentials }) }
    }
}

/// Credentials kept until shortly before they expire (static keys: for good).
#[derive(Debug)]
struct Cached {
    inner: SharedCredentialsProvider,
    held: Mutex<Option<aws_credential_types::Credentials>>,
}

impl Cached {
    fn fresh(&self) -> Option<aws_credential_types::Credentials> {
        let held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        held.as_ref().filter(|c| c.expiry().is_none_or(|t| t > SystemTime::now() + REFRESH_BEFORE_EXPIRY)).cloned()
    }
}

impl ProvideCredentials for Cached {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(async move {
            if let Some(c) = self.fresh() {
                return Ok(c);
            }
            // The lock is not held while the provider works (it may call STS or SSO).
            let c = self.inner.provide_credentials().await?;
            *self.held.lock().unwrap_or_else(|e| e.into_inner()) = Some(c.clone());
            Ok(c)
        })
    }
}

/// The contexts of every environment in use, by name.
#[derive(Debug)]
pub struct AwsContexts {
    profiles: ProfileSource,
    settings: AwsSettings,
    cache: Mutex<HashMap<String, AwsContext>>,
}

impl AwsContexts {
    pub fn new(profiles: ProfileSource, settings: AwsSettings) -> Self {
        AwsContexts { profiles, settings, cache: Mutex::new(HashMap::new()) }
    }

    pub fn profiles(&self) -> &ProfileSource {
        &self.profiles
    }

    /// The context for `target`: the cached one while the environment's AWS settings are the
    /// same, a new one (and new credentials) once they change.
    pub async fn get(&self, target: &Target) -> AwsContext {
        let key = target.environment.to_lowercase();
        if let Some(c) = self.lock().get(&key).filter(|c| c.target() == target) {
            return c.clone();
        }
        // Built without the lock: loading reads the AWS files.
        let built = AwsContext::build(target.clone(), self.profiles.clone(), self.settings).await;
        self.lock().insert(key, built.clone());
        built
    }

    /// Drops the context of `environment` (removed or renamed).
    pub fn forget(&self, environment: &str) {
        self.lock().remove(&environment.to_lowercase());
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, AwsContext>> {
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(name: &str, region: &str) -> Target {
        Target {
            environment: name.into(),
            region: region.into(),
            endpoint_url: Some("http://127.0.0.1:1".into()),
            credentials: Credentials::Emulator,
        }
    }

    #[tokio::test]
    async fn a_context_is_reused_until_its_settings_change() {
        let all = AwsContexts::new(ProfileSource::from_contents("", ""), AwsSettings::default());
        let a = all.get(&target("prod", "eu-west-1")).await;
        assert!(Arc::ptr_eq(&a.inner, &all.get(&target("prod", "eu-west-1")).await.inner));
        let moved = all.get(&target("prod", "eu-central-1")).await;
        assert!(!Arc::ptr_eq(&a.inner, &moved.inner));
        assert_eq!(moved.sdk().region().unwrap().as_ref(), "eu-central-1");
        all.forget("prod");
        assert!(!Arc::ptr_eq(&moved.inner, &all.get(&target("prod", "eu-central-1")).await.inner));
        assert_eq!(a.credentials().await.unwrap().access_key_id(), EMULATOR_KEY);
    }

    #[derive(Debug, Default)]
    struct Counting(std::sync::atomic::AtomicUsize, Option<Duration>);

    impl ProvideCredentials for Counting {
        fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
        where
            Self: 'a,
        {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let expiry = self.1.map(|d| SystemTime::now() + d);
            future::ProvideCredentials::ready(Ok(aws_credential_types::Credentials::new("a", "b", None, expiry, "test")))
        }
    }

    #[tokio::test]
    async fn credentials_are_fetched_again_only_near_expiry() {
        let long = Arc::new(Counting(Default::default(), Some(Duration::from_secs(3600))));
        let cached = Cached { inner: SharedCredentialsProvider::new(long.clone() as Arc<dyn ProvideCredentials>), held: Mutex::new(None) };
        for _ in 0..100 {
            cached.provide_credentials().await.unwrap();
        }
        assert_eq!(long.0.load(std::sync::atomic::Ordering::SeqCst), 1);
        // Credentials about to expire are not used again.
        let short = Arc::new(Counting(Default::default(), Some(Duration::from_secs(60))));
        let cached = Cached { inner: SharedCredentialsProvider::new(short.clone() as Arc<dyn ProvideCredentials>), held: Mutex::new(None) };
        cached.provide_credentials().await.unwrap();
        cached.provide_credentials().await.unwrap();
        assert_eq!(short.0.load(std::sync::atomic::Ordering::SeqCst), 2);
    }
}
