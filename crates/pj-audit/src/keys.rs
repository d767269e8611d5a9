//! The worker's keys, kept in Secrets Manager (a file in the sandbox) as JSON:
//! `{"audit_signing_key": "<64 hex>", "deid_key": "<64 hex>"}`. The signing key signs audit
//! checkpoints; the de-identification key makes date offsets and surrogates unguessable.
//! The worker reads them; Vigil's deploy makes them (and pins the public key).

use crate::Ed25519SigningKey;

pub struct Keys {
    pub signing: Ed25519SigningKey,
    pub deid: Vec<u8>,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keys").field("key_id", &crate::key_id(&self.signing.verifying_key())).finish_non_exhaustive()
    }
}

pub fn parse(json: &str) -> Result<Keys, String> {
    let v: serde_json::Value = serde_json::from_str(json).map_err(|e| format!("the keys are not JSON ({e})"))?;
    let field = |name: &str| v.get(name).and_then(|x| x.as_str()).ok_or_else(|| format!("the keys have no `{name}`"));
    let signing = crate::signing_key_from_hex(field("audit_signing_key")?)?;
    let deid = hex::decode(field("deid_key")?).map_err(|e| format!("deid_key is not hex ({e})"))?;
    if deid.len() < 32 {
        return Err("deid_key must be at least 32 bytes (64 hex digits)".into());
    }
    Ok(Keys { signing, deid })
}

/// New random keys as the JSON the worker reads, and the public key to publish.
pub fn generate() -> Result<(String, String), String> {
    let mut seed = [0u8; 32];
    let mut deid = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| e.to_string())?;
    getrandom::fill(&mut deid).map_err(|e| e.to_string())?;
    let signing = Ed25519SigningKey::from_bytes(&seed);
    let json = serde_json::json!({"audit_signing_key": hex::encode(seed), "deid_key": hex::encode(deid)}).to_string();
    Ok((json, hex::encode(signing.verifying_key().as_bytes())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_parse_and_bad_ones_say_why() {
        let (json, public) = generate().unwrap();
        let k = parse(&json).unwrap();
        assert_eq!(hex::encode(k.signing.verifying_key().as_bytes()), public);
        assert!(parse("{}").unwrap_err().contains("audit_signing_key"));
        assert!(parse(r#"{"audit_signing_key":"zz","deid_key":"00"}"#).unwrap_err().contains("not hex"));
        // The Debug form never shows key material.
        assert!(!format!("{k:?}").contains(&json[22..40]));
    }
}
