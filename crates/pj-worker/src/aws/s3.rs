//! S3: read a source object, write de-identified text, copy failures to quarantine.

use super::describe;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::Client;
use std::collections::HashMap;

#[derive(Clone)]
pub struct S3 {
    client: Client,
}

/// Why an object could not be read.
#[derive(Debug, thiserror::Error)]
pub enum GetError {
    #[error("the object does not exist (deleted after it was queued?)")]
    Missing,
    #[error("the object is larger than the {0} byte limit")]
    TooLarge(u64),
    #[error("S3 read failed: {0}")]
    Unavailable(String),
}

pub struct Object {
    pub bytes: Vec<u8>,
    pub metadata: HashMap<String, String>,
}

impl S3 {
    pub fn new(config: &aws_config::SdkConfig, force_path_style: bool) -> S3 {
        let conf = aws_sdk_s3::config::Builder::from(config).force_path_style(force_path_style).build();
        S3 { client: Client::from_conf(conf) }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub async fn get(&self, bucket: &str, key: &str, max_bytes: u64) -> Result<Object, GetError> {
        let out = self.client.get_object().bucket(bucket).key(key).send().await.map_err(|e| {
            if e.as_service_error().is_some_and(|s| s.is_no_such_key()) {
                GetError::Missing
            } else {
                GetError::Unavailable(describe(&e))
            }
        })?;
        if out.content_length().unwrap_or(0) as u64 > max_bytes {
            return Err(GetError::TooLarge(max_bytes));
        }
        let metadata = out.metadata().cloned().unwrap_or_default();
        let bytes = out.body.collect().await.map_err(|e| GetError::Unavailable(e.to_string()))?.into_bytes().to_vec();
        Ok(Object { bytes, metadata })
    }

    pub async fn put(&self, bucket: &str, key: &str, body: Vec<u8>, content_type: &str, metadata: &[(&str, &str)]) -> Result<(), String> {
        let mut req = self.client.put_object().bucket(bucket).key(key).content_type(content_type).body(ByteStream::from(body));
        for (k, v) in metadata {
            req = req.metadata(*k, *v);
        }
        req.send().await.map(|_| ()).map_err(|e| describe(&e))
    }

    /// Copies a failed source to `dest_key` and writes the reason beside it (`.reason.json`).
    pub async fn quarantine(&self, bucket: &str, key: &str, dest_bucket: &str, dest_key: &str, reason: &serde_json::Value) -> Result<(), String> {
        self.client
            .copy_object()
            .copy_source(format!("{bucket}/{}", encode_key(key)))
            .bucket(dest_bucket)
            .key(dest_key)
            .send()
            .await
            .map_err(|e| describe(&e))?;
        let body = serde_json::to_vec_pretty(reason).expect("JSON serializes");
        self.put(dest_bucket, &format!("{dest_key}.reason.json"), body, "application/json", &[]).await
    }
}

/// Percent-encodes a key for `x-amz-copy-source` (slashes stay).
fn encode_key(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for b in key.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Decodes an S3 event notification key (`+` for space, then percent-encoding).
pub fn decode_event_key(key: &str) -> String {
    let bytes = key.replace('+', " ").into_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz"), 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_keys_decode() {
        assert_eq!(decode_event_key("input/notes/a+b%2Bc%C3%A9.txt"), "input/notes/a b+cé.txt");
        assert_eq!(decode_event_key("x%2"), "x%2");
        assert_eq!(encode_key("in/a b+c.txt"), "in/a%20b%2Bc.txt");
    }
}
