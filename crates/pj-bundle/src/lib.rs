//! The platform bundle's manifest and its signature.
//!
//! A bundle is a directory (deploy-bundles/ in this repository). `bundle.json` lists every other
//! file with its SHA-256 and size, the bundle's name and version, the minimum console version
//! that can deploy it, the IAM actions a deploy needs, and who signed it; `bundle.sig` is the
//! Ed25519 signature of `bundle.json`'s exact bytes, in hex. [`verify`] checks, before anything
//! is deployed, that the signer is one the console trusts, that the signature holds, that this
//! console is new enough, and that the files are exactly the listed ones, unchanged.

use ed25519_dalek::{Signature, Signer as _, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

pub const MANIFEST: &str = "bundle.json";
pub const SIGNATURE: &str = "bundle.sig";
/// The manifest format this code reads and writes.
pub const FORMAT: u32 = 1;

/// One file of the bundle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileEntry {
    /// Relative to the bundle's root, with `/` separators.
    pub path: String,
    pub sha256: String,
    pub bytes: u64,
}

/// Who signed: a name and the Ed25519 public key, in hex.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signer {
    pub name: String,
    pub public_key: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    pub name: String,
    /// Semantic version of the bundle.
    pub version: String,
    /// The oldest console version that can deploy it.
    pub min_console: String,
    /// IAM actions the deploy needs ("cloudformation:CreateChangeSet", …), checked by preflight.
    pub iam_actions: Vec<String>,
    pub signer: Signer,
    pub files: Vec<FileEntry>,
}

/// What is wrong with a bundle; each says what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("{0} has no {MANIFEST}: it is not a platform bundle (or was not built with `pj-bundle sign`)")]
    NoManifest(PathBuf),
    #[error("{MANIFEST} is not valid at line {line}, column {column}: {message}")]
    Malformed { line: usize, column: usize, message: String },
    #[error("{MANIFEST} is format {0}; this console reads format {FORMAT}: use a newer Vigil")]
    UnknownFormat(u32),
    #[error("the bundle is not signed ({SIGNATURE} is missing or not a signature)")]
    Unsigned,
    #[error("the bundle was signed by {name} (key {key}), whom this console does not trust; use a bundle from the platform's publisher")]
    UntrustedSigner { name: String, key: String },
    #[error("the signature does not match {MANIFEST}: the manifest was changed after signing; do not deploy it")]
    BadSignature,
    #[error("the bundle needs Vigil {needs} or newer (this is {have}); update Vigil first")]
    ConsoleTooOld { needs: String, have: String },
    #[error("{path} is listed in the manifest but missing from the bundle")]
    FileMissing { path: String },
    #[error("{path} was changed after signing (SHA-256 {actual}, signed {expected}); do not deploy it")]
    FileChanged { path: String, expected: String, actual: String },
    #[error("{path} is in the bundle but not in the signed manifest; remove it or use the bundle as published")]
    FileUnlisted { path: String },
    #[error("{field} is not valid: {message}")]
    Invalid { field: &'static str, message: String },
    #[error("reading the bundle: {0}")]
    Io(#[from] std::io::Error),
}

/// A bundle whose signature, signer and files were checked.
#[derive(Debug, Clone)]
pub struct Verified {
    pub root: PathBuf,
    pub manifest: Manifest,
    /// SHA-256 of `bundle.json`: the bundle's identity in records and reports.
    pub manifest_sha256: String,
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Every file under `root` except the manifest and its signature, sorted, `/`-separated.
fn files_of(root: &Path) -> Result<Vec<(String, PathBuf)>, BundleError> {
    let mut out = vec![];
    for entry in walkdir::WalkDir::new(root).sort_by_file_name() {
        let entry = entry.map_err(|e| BundleError::Io(std::io::Error::other(e.to_string())))?;
        if !entry.file_type().is_file() {
            continue;
        }
        let rel = entry.path().strip_prefix(root).expect("under the root");
        let rel = rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/");
        if rel != MANIFEST && rel != SIGNATURE {
            out.push((rel, entry.path().to_path_buf()));
        }
    }
    out.sort();
    Ok(out)
}

/// The manifest of the files now under `root`.
pub fn build(root: &Path, name: &str, version: &str, min_console: &str, iam_actions: Vec<String>, signer: Signer) -> Result<Manifest, BundleError> {
    for (field, v) in [("version", version), ("min_console", min_console)] {
        semver::Version::parse(v).map_err(|e| BundleError::Invalid { field, message: format!("{v:?}: {e}") })?;
    }
    let mut files = vec![];
    for (path, full) in files_of(root)? {
        let bytes = std::fs::read(&full)?;
        files.push(FileEntry { path, sha256: sha256_hex(&bytes), bytes: bytes.len() as u64 });
    }
    Ok(Manifest { format: FORMAT, name: name.into(), version: version.into(), min_console: min_console.into(), iam_actions, signer, files })
}

/// Writes `manifest` and its signature into `root`. The signer in the manifest must be `key`'s.
pub fn sign(root: &Path, manifest: &Manifest, key: &SigningKey) -> Result<(), BundleError> {
    if manifest.signer.public_key != hex::encode(key.verifying_key().as_bytes()) {
        return Err(BundleError::Invalid { field: "signer", message: "the manifest names another key than the one signing".into() });
    }
    let mut json = serde_json::to_vec_pretty(manifest).map_err(|e| BundleError::Io(std::io::Error::other(e)))?;
    json.push(b'\n');
    let signature = key.sign(&json);
    std::fs::write(root.join(MANIFEST), &json)?;
    std::fs::write(root.join(SIGNATURE), format!("{}\n", hex::encode(signature.to_bytes())))?;
    Ok(())
}

/// Checks the bundle at `root` for a console of version `console`, trusting only `trusted`.
pub fn verify(root: &Path, trusted: &[Signer], console: &str) -> Result<Verified, BundleError> {
    let json = match std::fs::read(root.join(MANIFEST)) {
        Ok(j) => j,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(BundleError::NoManifest(root.to_path_buf())),
        Err(e) => return Err(e.into()),
    };
    let manifest: Manifest =
        serde_json::from_slice(&json).map_err(|e| BundleError::Malformed { line: e.line(), column: e.column(), message: e.to_string() })?;
    if manifest.format != FORMAT {
        return Err(BundleError::UnknownFormat(manifest.format));
    }
    // Whom to trust is the console's decision, never the bundle's.
    let signer = trusted
        .iter()
        .find(|t| t.public_key.eq_ignore_ascii_case(&manifest.signer.public_key))
        .ok_or_else(|| BundleError::UntrustedSigner { name: manifest.signer.name.clone(), key: short(&manifest.signer.public_key) })?;
    let key = key_of(&signer.public_key)?;
    let sig = std::fs::read_to_string(root.join(SIGNATURE)).ok().and_then(|s| hex::decode(s.trim()).ok()).ok_or(BundleError::Unsigned)?;
    let sig = Signature::from_slice(&sig).map_err(|_| BundleError::Unsigned)?;
    key.verify(&json, &sig).map_err(|_| BundleError::BadSignature)?;
    let needs = semver::Version::parse(&manifest.min_console)
        .map_err(|e| BundleError::Invalid { field: "min_console", message: format!("{:?}: {e}", manifest.min_console) })?;
    let have = semver::Version::parse(console).map_err(|e| BundleError::Invalid { field: "console version", message: e.to_string() })?;
    if have < needs {
        return Err(BundleError::ConsoleTooOld { needs: manifest.min_console.clone(), have: console.into() });
    }
    let present = files_of(root)?;
    for f in &manifest.files {
        let Some((_, full)) = present.iter().find(|(p, _)| *p == f.path) else {
            return Err(BundleError::FileMissing { path: f.path.clone() });
        };
        let actual = sha256_hex(&std::fs::read(full)?);
        if actual != f.sha256 {
            return Err(BundleError::FileChanged { path: f.path.clone(), expected: f.sha256.clone(), actual });
        }
    }
    if let Some((path, _)) = present.iter().find(|(p, _)| !manifest.files.iter().any(|f| f.path == *p)) {
        return Err(BundleError::FileUnlisted { path: path.clone() });
    }
    Ok(Verified { root: root.to_path_buf(), manifest, manifest_sha256: sha256_hex(&json) })
}

/// An Ed25519 public key from hex.
pub fn key_of(public_hex: &str) -> Result<VerifyingKey, BundleError> {
    let bytes: [u8; 32] = hex::decode(public_hex)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| BundleError::Invalid { field: "public key", message: "not 32 bytes of hex".into() })?;
    VerifyingKey::from_bytes(&bytes).map_err(|e| BundleError::Invalid { field: "public key", message: e.to_string() })
}

/// A signing key from 32 bytes of hex (the release process keeps it; nothing here stores it).
pub fn signing_key(secret_hex: &str) -> Result<SigningKey, BundleError> {
    let bytes: [u8; 32] = hex::decode(secret_hex.trim())
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| BundleError::Invalid { field: "signing key", message: "not 32 bytes of hex".into() })?;
    Ok(SigningKey::from_bytes(&bytes))
}

/// How bundle version `a` compares with `b` (semantic versions).
pub fn compare_versions(a: &str, b: &str) -> Result<std::cmp::Ordering, BundleError> {
    let parse = |v: &str| semver::Version::parse(v).map_err(|e| BundleError::Invalid { field: "version", message: format!("{v:?}: {e}") });
    Ok(parse(a)?.cmp(&parse(b)?))
}

fn short(key: &str) -> String {
    key.chars().take(16).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u8) -> SigningKey {
        SigningKey::from_bytes(&[n; 32])
    }

    fn signer(k: &SigningKey, name: &str) -> Signer {
        Signer { name: name.into(), public_key: hex::encode(k.verifying_key().as_bytes()) }
    }

    /// A signed bundle of three files, and the signer a console would trust.
    fn bundle() -> (tempfile::TempDir, Signer) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("cloudformation")).unwrap();
        std::fs::write(dir.path().join("cloudformation/network.yaml"), "Resources: {}\n").unwrap();
        std::fs::write(dir.path().join("CONTRACT.md"), "# contract\n").unwrap();
        std::fs::write(dir.path().join("tiers.json"), "{}\n").unwrap();
        let k = key(7);
        let s = signer(&k, "Patient Journey releases");
        let m = build(dir.path(), "patient-journey", "1.2.0", "0.1.0", vec!["cloudformation:CreateChangeSet".into()], s.clone()).unwrap();
        sign(dir.path(), &m, &k).unwrap();
        (dir, s)
    }

    #[test]
    fn a_signed_bundle_verifies_and_names_its_files_and_signer() {
        let (dir, s) = bundle();
        let v = verify(dir.path(), std::slice::from_ref(&s), "0.1.0").unwrap();
        assert_eq!(
            v.manifest.files.iter().map(|f| f.path.as_str()).collect::<Vec<_>>(),
            ["CONTRACT.md", "cloudformation/network.yaml", "tiers.json"]
        );
        assert_eq!(v.manifest.signer.name, "Patient Journey releases");
        assert_eq!(v.manifest_sha256.len(), 64);
    }

    #[test]
    fn every_tampering_is_refused_with_what_was_found() {
        let (dir, s) = bundle();
        let trusted = std::slice::from_ref(&s);
        let p = dir.path();
        std::fs::write(p.join("tiers.json"), "{\"small\": 1}\n").unwrap();
        assert!(matches!(verify(p, trusted, "0.1.0"), Err(BundleError::FileChanged { path, .. }) if path == "tiers.json"));
        std::fs::write(p.join("tiers.json"), "{}\n").unwrap();
        std::fs::write(p.join("extra.yaml"), "x").unwrap();
        assert!(matches!(verify(p, trusted, "0.1.0"), Err(BundleError::FileUnlisted { path }) if path == "extra.yaml"));
        std::fs::remove_file(p.join("extra.yaml")).unwrap();
        std::fs::remove_file(p.join("CONTRACT.md")).unwrap();
        assert!(matches!(verify(p, trusted, "0.1.0"), Err(BundleError::FileMissing { path }) if path == "CONTRACT.md"));
        std::fs::write(p.join("CONTRACT.md"), "# contract\n").unwrap();
        verify(p, trusted, "0.1.0").unwrap();
        // The manifest edited after signing (say, a file's hash replaced to match a change).
        let json = std::fs::read_to_string(p.join(MANIFEST)).unwrap().replace("1.2.0", "1.2.1");
        std::fs::write(p.join(MANIFEST), json).unwrap();
        assert!(matches!(verify(p, trusted, "0.1.0"), Err(BundleError::BadSignature)));
    }

    #[test]
    fn only_trusted_signers_a_new_enough_console_and_a_real_signature_pass() {
        let (dir, s) = bundle();
        let p = dir.path();
        let other = signer(&key(9), "someone else");
        let e = verify(p, std::slice::from_ref(&other), "0.1.0").unwrap_err();
        assert!(matches!(&e, BundleError::UntrustedSigner { name, .. } if name == "Patient Journey releases"), "{e}");
        // Re-signed by an untrusted key that names itself as the trusted signer: the key decides.
        let m = build(p, "patient-journey", "1.2.0", "0.1.0", vec![], s.clone()).unwrap();
        assert!(matches!(sign(p, &m, &key(9)), Err(BundleError::Invalid { field: "signer", .. })));
        let (dir2, s2) = bundle();
        let m = build(dir2.path(), "patient-journey", "2.0.0", "0.5.0", vec![], s2.clone()).unwrap();
        sign(dir2.path(), &m, &key(7)).unwrap();
        let e = verify(dir2.path(), std::slice::from_ref(&s2), "0.1.0").unwrap_err();
        assert!(e.to_string().contains("needs Vigil 0.5.0 or newer"), "{e}");
        std::fs::write(p.join(SIGNATURE), "not hex\n").unwrap();
        assert!(matches!(verify(p, std::slice::from_ref(&s), "0.1.0"), Err(BundleError::Unsigned)));
    }

    #[test]
    fn a_broken_manifest_says_where() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(verify(dir.path(), &[], "0.1.0"), Err(BundleError::NoManifest(_))));
        std::fs::write(dir.path().join(MANIFEST), "{\n  \"format\": 1,\n  \"name\": \n}").unwrap();
        let e = verify(dir.path(), &[], "0.1.0").unwrap_err();
        assert!(matches!(e, BundleError::Malformed { line: 4, .. }), "{e}");
        assert!(matches!(
            build(dir.path(), "x", "one", "0.1.0", vec![], Signer { name: "n".into(), public_key: String::new() }),
            Err(BundleError::Invalid { field: "version", .. })
        ));
    }
}
