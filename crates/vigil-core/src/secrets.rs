//! Secrets (database passwords) in the OS keychain: macOS Keychain, Windows Credential
//! Manager, the Secret Service on Linux. Vigil never writes them anywhere else. Tests use the
//! in-memory store.

use std::collections::HashMap;
use std::sync::Mutex;

const SERVICE: &str = "dev.vigil.console";

pub trait SecretStore: Send + Sync {
    fn get(&self, account: &str) -> Result<Option<String>, String>;
    fn set(&self, account: &str, secret: &str) -> Result<(), String>;
    /// Removes it; absent is not an error.
    fn delete(&self, account: &str) -> Result<(), String>;
}

/// The OS keychain through the keyring crate.
pub struct Keychain;

fn entry(account: &str) -> Result<keyring::Entry, String> {
    keyring::Entry::new(SERVICE, account).map_err(|e| format!("the OS keychain cannot be used: {e}"))
}

impl SecretStore for Keychain {
    fn get(&self, account: &str) -> Result<Option<String>, String> {
        match entry(account)?.get_password() {
            Ok(p) => Ok(Some(p)),
            Err(keyring::Error::NoEntry) => Ok(None),
            // No keychain service at all: nothing can have been stored in it.
            Err(keyring::Error::PlatformFailure(e)) => {
                tracing::warn!("no OS keychain service answers ({e}); no password is kept for {account}");
                Ok(None)
            }
            Err(e) => Err(format!("the OS keychain could not be read: {e}")),
        }
    }
    fn set(&self, account: &str, secret: &str) -> Result<(), String> {
        entry(account)?.set_password(secret).map_err(|e| format!("the OS keychain could not store the password: {e}"))
    }
    fn delete(&self, account: &str) -> Result<(), String> {
        match entry(account)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            // No keychain service on this machine at all (a server, CI): nothing can have been
            // stored in it, so there is nothing to remove. A locked keychain is still an error.
            Err(keyring::Error::PlatformFailure(e)) => {
                tracing::warn!("no OS keychain service answers ({e}); no password for {account} can be stored, so none is removed");
                Ok(())
            }
            Err(e) => Err(format!("the OS keychain entry could not be removed: {e}")),
        }
    }
}

/// Process memory only (tests, and a machine without a keychain service).
#[derive(Default)]
pub struct MemoryStore(Mutex<HashMap<String, String>>);

impl SecretStore for MemoryStore {
    fn get(&self, account: &str) -> Result<Option<String>, String> {
        Ok(self.0.lock().map_err(|e| e.to_string())?.get(account).cloned())
    }
    fn set(&self, account: &str, secret: &str) -> Result<(), String> {
        self.0.lock().map_err(|e| e.to_string())?.insert(account.into(), secret.into());
        Ok(())
    }
    fn delete(&self, account: &str) -> Result<(), String> {
        self.0.lock().map_err(|e| e.to_string())?.remove(account);
        Ok(())
    }
}

/// The keychain account of an environment's platform database password.
pub fn db_password_account(environment: &str) -> String {
    format!("platform-db/{}", environment.to_lowercase())
}
