//! The platform's own PostgreSQL, which the audit and jobs areas read: where it is (per
//! environment), its password (the OS keychain only), one pool per environment, and the check.
//! Operator-log actions: `platform_db.set`, `platform_db.password`, `platform_db.forget_password`.
//!
//! `connect` validates settings, secures and classifies connections; `roots` is the OS trust
//! store for TLS.

pub mod connect;
pub mod roots;

use crate::app::area;
use crate::core::{Core, Record};
use crate::environments::rows;
use crate::error::{Error, Result};
use crate::policy::Change;
use crate::secrets::db_password_account;
use connect::DbCheck;
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use vigil_dto::{DbAuth, Environment, PlatformDb as DbSettings};

/// Pools are reused while their settings hold. IAM tokens live 15 minutes: an IAM pool's
/// connections are closed before that (`connect::IAM_CONNECTION_LIFE`), and new ones get a token
/// minted within the last 10 minutes (`made` is when the current token was made).
pub struct CachedPool {
    settings: DbSettings,
    made: Instant,
    pool: sqlx::PgPool,
}

/// The pools of every environment in use, by lower-case name. The lock is held only to look up
/// or store a pool, never while connecting or signing.
pub type Pools = Arc<tokio::sync::Mutex<HashMap<String, CachedPool>>>;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const IAM_TOKEN_REFRESH: Duration = Duration::from_secs(600);

fn keychain_error(message: String) -> Error {
    Error::PlatformDb {
        kind: "keychain",
        message,
        hint: "Vigil keeps database passwords only in the OS keychain (Keychain, Credential Manager, Secret Service); on Linux a Secret Service such as GNOME Keyring must be running, or use IAM authentication".into(),
    }
}

area!(
    /// The platform database area (`app.platform_db()`).
    PlatformDb
);

impl PlatformDb<'_> {
    /// Sets (or with `None` removes) where `env`'s platform database is.
    pub async fn set(&self, env: &str, db: Option<DbSettings>) -> Result<Environment> {
        self.policy().require(Change::SetPlatformDb)?;
        let before = self.environment(env).await?;
        let mut input = rows::to_input(&before);
        input.platform_db = db.as_ref().map(connect::validate).transpose()?;
        let mut tx = self.begin().await?;
        let after = rows::update(&mut tx, before.id, &input).await?;
        let details = json!({ "before": before.platform_db, "after": input.platform_db });
        self.commit(tx, Record::new("platform_db.set", &before.name, details)).await?;
        self.pools.lock().await.remove(&before.name.to_lowercase());
        Ok(after)
    }

    /// Keeps `password` in the OS keychain for `env`'s platform database (never on disk).
    pub async fn set_password(&self, env: &str, password: &str) -> Result<()> {
        self.policy().require(Change::StorePassword)?;
        let env = self.environment(env).await?;
        if password.is_empty() {
            return Err(Error::validation("password", "the password is empty"));
        }
        self.put_password(&env.name, Some(password)).await?;
        self.log(Record::new("platform_db.password", &env.name, json!({ "stored_in": "os_keychain" }))).await?;
        self.pools.lock().await.remove(&env.name.to_lowercase());
        Ok(())
    }

    /// Removes the keychain password of `env`'s platform database.
    pub async fn forget_password(&self, env: &str) -> Result<()> {
        self.policy().require(Change::ForgetPassword)?;
        let env = self.environment(env).await?;
        self.put_password(&env.name, None).await?;
        self.log(Record::new("platform_db.forget_password", &env.name, json!({}))).await?;
        self.pools.lock().await.remove(&env.name.to_lowercase());
        Ok(())
    }

    /// The keychain password of `env`, if one is kept. Keychain calls block (D-Bus, the
    /// Security framework): they run on a blocking thread.
    pub(crate) async fn password(&self, env: &str) -> Result<Option<String>> {
        let (secrets, account) = (self.secrets.clone(), db_password_account(env));
        tokio::task::spawn_blocking(move || secrets.get(&account))
            .await
            .map_err(|e| keychain_error(format!("the keychain call failed: {e}")))?
            .map_err(keychain_error)
    }

    /// Stores (`Some`) or removes (`None`) the keychain password of `env`.
    pub(crate) async fn put_password(&self, env: &str, password: Option<&str>) -> Result<()> {
        let (secrets, account, password) = (self.secrets.clone(), db_password_account(env), password.map(String::from));
        tokio::task::spawn_blocking(move || match password {
            Some(p) => secrets.set(&account, &p),
            None => secrets.delete(&account),
        })
        .await
        .map_err(|e| keychain_error(format!("the keychain call failed: {e}")))?
        .map_err(keychain_error)
    }

    /// Connects to the current environment's platform database and says what it can read.
    pub async fn check(&self) -> Result<DbCheck> {
        with_db(self.core, |env, pool| async move {
            let db = env.platform_db.expect("pool() checked it");
            connect::check(&pool, &db).await
        })
        .await
    }

    /// A connection pool to the current environment's platform database, with the environment.
    /// The cache's lock is never held while connecting or signing.
    pub async fn pool(&self) -> Result<(Environment, sqlx::PgPool)> {
        let env = self.current().await?;
        let db = env.platform_db.clone().ok_or_else(|| Error::PlatformDb {
            kind: "db_not_configured",
            message: format!("no platform database is set for {}", env.name),
            hint: format!("set it on the Audit page (Database) or with `vigil db set --host … --database … --user …` for {}", env.name),
        })?;
        let key = env.name.to_lowercase();
        let cached = self.pools.lock().await.get(&key).filter(|c| c.settings == db).map(|c| (c.pool.clone(), c.made));
        if let Some((pool, made)) = cached {
            if db.auth != DbAuth::Iam || made.elapsed() < IAM_TOKEN_REFRESH {
                return Ok((env, pool));
            }
            // Connections made from now on sign in with a fresh token; open ones stay.
            let token = self.iam_token(&env, &db).await?;
            pool.set_connect_options(connect::options(&db, Some(&token)));
            if let Some(c) = self.pools.lock().await.get_mut(&key) {
                c.made = Instant::now();
            }
            return Ok((env, pool));
        }
        let password = match db.auth {
            DbAuth::Trust => None,
            DbAuth::Password => Some(self.password(&env.name).await?.ok_or_else(|| Error::PlatformDb {
                kind: "db_no_password",
                message: format!("no password is stored for {}'s platform database", env.name),
                hint: format!("enter it on the Audit page (Database) or with `vigil db password {}`; it is kept in the OS keychain", env.name),
            })?),
            DbAuth::Iam => Some(self.iam_token(&env, &db).await?),
        };
        let pool = connect::pool(&db, password.as_deref(), CONNECT_TIMEOUT).await?;
        self.pools.lock().await.insert(key, CachedPool { settings: db, made: Instant::now(), pool: pool.clone() });
        Ok((env, pool))
    }

    /// An RDS IAM token for `db`, signed for the region in its endpoint name (the environment's
    /// region when the host is not an RDS endpoint, e.g. a tunnel).
    async fn iam_token(&self, env: &Environment, db: &DbSettings) -> Result<String> {
        let ctx = self.aws_context(env).await;
        crate::aws::rds::connect_token(&ctx, &db.host, db.port, &db.user).await.map_err(|e| Error::PlatformDb {
            kind: "db_iam",
            message: e.message,
            hint: e.hint.unwrap_or_else(|| "check the environment's credentials (Check connection)".into()),
        })
    }
}

/// Runs `f` on the current environment's platform database. A sign-in refused (`db_auth`: an
/// expired IAM token, a changed password) drops the cached pool, so the next call signs in
/// afresh. The audit and jobs areas read the database through this.
pub(crate) async fn with_db<T, F, Fut>(core: &Core, f: F) -> Result<T>
where
    F: FnOnce(Environment, sqlx::PgPool) -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    let (env, pool) = PlatformDb::new(core).pool().await?;
    let key = env.name.to_lowercase();
    let r = f(env, pool).await;
    if let Err(Error::PlatformDb { kind: "db_auth", .. }) = &r {
        core.pools.lock().await.remove(&key);
    }
    r
}
