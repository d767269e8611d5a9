//! The OS trust store for the platform database's TLS, so a corporate CA installed on the
//! machine works as it does for the AWS CLI. What a verified connection trusts: the Mozilla root
//! set that sqlx bundles (webpki-roots), plus these OS certificates, plus the CA file when one is
//! set. Loaded once (rustls-native-certs: the macOS keychain, the Windows certificate store, the
//! distribution's CA bundle on Linux), as one PEM bundle for sqlx's `ssl_root_cert_from_pem`;
//! certificates rustls cannot use as trust anchors are left out (and logged).

use std::sync::OnceLock;

static SYSTEM: OnceLock<Option<Vec<u8>>> = OnceLock::new();

/// The OS's trusted certificates as PEM, or `None` when the store has none or cannot be read
/// (then sqlx's bundled Mozilla roots are what is trusted). Reads files on first use: call it
/// from a blocking thread first (see `connect::pool_with`).
pub fn system_pem() -> Option<&'static [u8]> {
    SYSTEM
        .get_or_init(|| {
            let found = rustls_native_certs::load_native_certs();
            for e in &found.errors {
                tracing::warn!("a certificate of the OS trust store was skipped: {e}");
            }
            let usable: Vec<_> = found
                .certs
                .into_iter()
                .filter(|c| {
                    let ok = rustls::RootCertStore::empty().add(c.clone()).is_ok();
                    if !ok {
                        tracing::warn!("a certificate of the OS trust store is not usable as a trust anchor and was left out");
                    }
                    ok
                })
                .collect();
            (!usable.is_empty()).then(|| to_pem(usable.iter().map(|c| c.as_ref())))
        })
        .as_deref()
}

/// DER certificates as one PEM bundle.
pub fn to_pem<'a>(certs: impl Iterator<Item = &'a [u8]>) -> Vec<u8> {
    use base64::Engine;
    let mut out = String::new();
    for der in certs {
        out.push_str("-----BEGIN CERTIFICATE-----\n");
        let b64 = base64::engine::general_purpose::STANDARD.encode(der);
        for line in b64.as_bytes().chunks(64) {
            out.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
            out.push('\n');
        }
        out.push_str("-----END CERTIFICATE-----\n");
    }
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    #[test]
    fn pem_bundles_wrap_each_certificate() {
        let pem = String::from_utf8(super::to_pem([&[1u8; 100][..], &[2u8; 3][..]].into_iter())).unwrap();
        assert_eq!(pem.matches("-----BEGIN CERTIFICATE-----").count(), 2);
        assert!(pem.lines().all(|l| l.len() <= 64 || l.starts_with("-----")));
        assert!(pem.contains("AgIC"), "{pem}");
    }

    #[test]
    fn this_machine_has_a_trust_store() {
        // Debian's ca-certificates (scripts/test installs it) is what a Linux desktop has.
        let pem = super::system_pem().expect("the OS trust store has certificates");
        assert!(pem.starts_with(b"-----BEGIN CERTIFICATE-----"));
    }
}
