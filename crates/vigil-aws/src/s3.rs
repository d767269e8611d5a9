//! S3: a bucket's protections as a deploy's validation reads them (default encryption,
//! versioning, the public access block, the bucket policy, the tags AWS Backup selects by), and
//! the validation's smoke-test upload, the objects a restore brought back, a restore test's
//! bucket deleted with every version in it, and small objects written only on a condition (S3's
//! conditional writes: If-None-Match to create, If-Match to replace or delete), which the DR
//! runbooks' lease is made of.
//!
//! With an endpoint override (the emulator, an S3-compatible store) buckets are addressed by
//! path, as virtual-host names would not resolve there.

use crate::error::{AwsError, Kind};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// What protects a bucket. A setting the bucket does not have is None / false / empty.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BucketPosture {
    pub name: String,
    /// The default encryption's algorithm (aws:kms, aws:kms:dsse, AES256) and its KMS key.
    pub encryption: Option<(String, Option<String>)>,
    /// Enabled, Suspended, or None (never enabled).
    pub versioning: Option<String>,
    /// BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy, RestrictPublicBuckets — all four.
    pub public_access_blocked: bool,
    /// The bucket policy's JSON.
    pub policy: Option<String>,
    pub tags: Vec<(String, String)>,
}

service_client!(
    /// S3 for one operation of one environment.
    S3,
    aws_sdk_s3,
    |builder, ctx| builder.force_path_style(ctx.target().endpoint_url.is_some())
);

/// Whether S3 answered that the bucket has no such configuration (not an error for a posture).
fn absent<E: ProvideErrorMetadata>(e: &aws_sdk_s3::error::SdkError<E>, codes: &[&str]) -> bool {
    e.as_service_error().and_then(|s| s.code()).is_some_and(|c| codes.contains(&c))
}

/// S3's answer that a conditional write's condition did not hold: 412 PreconditionFailed, or
/// 409 ConditionalRequestConflict when another conditional write to the key was under way.
fn lost_condition<E: ProvideErrorMetadata>(e: &aws_sdk_s3::error::SdkError<E, aws_smithy_runtime_api::client::orchestrator::HttpResponse>) -> bool {
    let status = e.raw_response().map(|r| r.status().as_u16());
    absent(e, &["PreconditionFailed", "ConditionalRequestConflict"]) || matches!(status, Some(412))
}

impl S3 {
    /// The bucket's posture, or None when there is no such bucket.
    pub async fn posture(&self, bucket: &str) -> Result<Option<BucketPosture>, AwsError> {
        let encryption = match self.client.get_bucket_encryption().bucket(bucket).send().await {
            Ok(out) => out
                .server_side_encryption_configuration()
                .and_then(|c| c.rules().first())
                .and_then(|r| r.apply_server_side_encryption_by_default())
                .map(|d| (d.sse_algorithm().as_str().to_string(), d.kms_master_key_id().map(str::to_string))),
            Err(e) if absent(&e, &["NoSuchBucket"]) => return Ok(None),
            Err(e) if absent(&e, &["ServerSideEncryptionConfigurationNotFoundError"]) => None,
            Err(e) => return Err(self.fail("GetBucketEncryption", e).await),
        };
        let versioning = match self.client.get_bucket_versioning().bucket(bucket).send().await {
            Ok(out) => out.status().map(|s| s.as_str().to_string()),
            Err(e) => return Err(self.fail("GetBucketVersioning", e).await),
        };
        let public_access_blocked = match self.client.get_public_access_block().bucket(bucket).send().await {
            Ok(out) => out.public_access_block_configuration().is_some_and(|c| {
                c.block_public_acls() == Some(true)
                    && c.ignore_public_acls() == Some(true)
                    && c.block_public_policy() == Some(true)
                    && c.restrict_public_buckets() == Some(true)
            }),
            Err(e) if absent(&e, &["NoSuchPublicAccessBlockConfiguration"]) => false,
            Err(e) => return Err(self.fail("GetPublicAccessBlock", e).await),
        };
        let policy = match self.client.get_bucket_policy().bucket(bucket).send().await {
            Ok(out) => out.policy().map(str::to_string),
            Err(e) if absent(&e, &["NoSuchBucketPolicy"]) => None,
            Err(e) => return Err(self.fail("GetBucketPolicy", e).await),
        };
        let tags = self.tags(bucket).await?.unwrap_or_default();
        Ok(Some(BucketPosture { name: bucket.to_string(), encryption, versioning, public_access_blocked, policy, tags }))
    }

    /// The bucket's tags, or None when there is no such bucket.
    pub async fn tags(&self, bucket: &str) -> Result<Option<Vec<(String, String)>>, AwsError> {
        match self.client.get_bucket_tagging().bucket(bucket).send().await {
            Ok(out) => Ok(Some(out.tag_set().iter().map(|t| (t.key().to_string(), t.value().to_string())).collect())),
            Err(e) if absent(&e, &["NoSuchTagSet", "NoSuchTagSetError"]) => Ok(Some(vec![])),
            Err(e) if absent(&e, &["NoSuchBucket"]) => Ok(None),
            Err(e) => Err(self.fail("GetBucketTagging", e).await),
        }
    }

    /// How many objects are in the bucket under `prefix`, or None when there is no such bucket.
    pub async fn count(&self, bucket: &str, prefix: &str) -> Result<Option<u64>, AwsError> {
        let mut n = 0u64;
        let mut pages = self.client.list_objects_v2().bucket(bucket).prefix(prefix).into_paginator().send();
        while let Some(page) = pages.next().await {
            match page {
                Ok(p) => n += p.contents().len() as u64,
                Err(e) if absent(&e, &["NoSuchBucket"]) => return Ok(None),
                Err(e) => return Err(self.fail("ListObjectsV2", e).await),
            }
        }
        Ok(Some(n))
    }

    /// Writes `body` as the object `key` (the bucket's default encryption applies).
    pub async fn put_text(&self, bucket: &str, key: &str, body: &str) -> Result<(), AwsError> {
        let req = self.client.put_object().bucket(bucket).key(key).content_type("text/plain; charset=utf-8");
        match req.body(aws_sdk_s3::primitives::ByteStream::from(body.as_bytes().to_vec())).send().await {
            Ok(_) => Ok(()),
            Err(e) => Err(self.fail("PutObject", e).await),
        }
    }

    /// Deletes every version of every object in `bucket` (delete markers too), then the bucket
    /// (a restore test's); a bucket already gone is no error. Returns how many were deleted.
    pub async fn delete_bucket(&self, bucket: &str) -> Result<u64, AwsError> {
        use aws_sdk_s3::types::{Delete, ObjectIdentifier};
        let mut deleted = 0u64;
        // ListObjectVersions has no paginator: its markers are followed by hand.
        let mut markers: (Option<String>, Option<String>) = (None, None);
        loop {
            let req = self.client.list_object_versions().bucket(bucket).set_key_marker(markers.0.take()).set_version_id_marker(markers.1.take());
            let page = match req.send().await {
                Ok(p) => p,
                Err(e) if absent(&e, &["NoSuchBucket"]) => return Ok(deleted),
                Err(e) => return Err(self.fail("ListObjectVersions", e).await),
            };
            if page.is_truncated() == Some(true) {
                markers = (page.next_key_marker().map(str::to_string), page.next_version_id_marker().map(str::to_string));
            }
            let ids = page
                .versions()
                .iter()
                .map(|v| (v.key(), v.version_id()))
                .chain(page.delete_markers().iter().map(|m| (m.key(), m.version_id())))
                .filter_map(|(k, v)| ObjectIdentifier::builder().key(k?).set_version_id(v.map(str::to_string)).build().ok())
                .collect::<Vec<_>>();
            let more = markers.0.is_some();
            if ids.is_empty() {
                if more {
                    continue;
                }
                break;
            }
            let n = ids.len() as u64;
            let delete = Delete::builder()
                .set_objects(Some(ids))
                .quiet(true)
                .build()
                .map_err(|e| AwsError::new(Kind::Validation, format!("a DeleteObjects request could not be made: {e}"), "report this"))?;
            match self.client.delete_objects().bucket(bucket).delete(delete).send().await {
                Ok(out) if out.errors().is_empty() => deleted += n,
                Ok(out) => {
                    let first = &out.errors()[0];
                    return Err(AwsError::new(
                        Kind::AccessDenied,
                        format!(
                            "{} objects of {bucket} could not be deleted ({}: {})",
                            out.errors().len(),
                            first.key().unwrap_or_default(),
                            first.message().unwrap_or_default()
                        ),
                        "check s3:DeleteObject and s3:DeleteObjectVersion on the bucket, then clean up again",
                    ));
                }
                Err(e) => return Err(self.fail("DeleteObjects", e).await),
            }
            if !more {
                break;
            }
        }
        match self.client.delete_bucket().bucket(bucket).send().await {
            Ok(_) => Ok(deleted),
            Err(e) if absent(&e, &["NoSuchBucket"]) => Ok(deleted),
            Err(e) => Err(self.fail("DeleteBucket", e).await),
        }
    }

    /// The object `key` and its ETag, or None when there is none.
    pub async fn get_text(&self, bucket: &str, key: &str) -> Result<Option<(String, String)>, AwsError> {
        let out = match self.client.get_object().bucket(bucket).key(key).send().await {
            Ok(out) => out,
            Err(e) if absent(&e, &["NoSuchKey"]) => return Ok(None),
            Err(e) => return Err(self.fail("GetObject", e).await),
        };
        let etag = out.e_tag().unwrap_or_default().to_string();
        let bytes = out
            .body
            .collect()
            .await
            .map_err(|e| AwsError::new(Kind::Unreachable, format!("s3://{bucket}/{key} could not be read: {e}"), "try again"))?;
        let text = String::from_utf8(bytes.to_vec())
            .map_err(|_| AwsError::new(Kind::Service, format!("s3://{bucket}/{key} is not text"), "remove the object"))?;
        Ok(Some((text, etag)))
    }

    /// Writes `body` as `key` only if no such object exists (`None`), or only if the object's
    /// ETag is still `if_match`. Returns the new ETag, or None when the condition failed
    /// (another writer got there first, or the object changed or is gone).
    pub async fn put_text_if(&self, bucket: &str, key: &str, body: &str, if_match: Option<&str>) -> Result<Option<String>, AwsError> {
        let mut req = self.client.put_object().bucket(bucket).key(key).content_type("application/json");
        req = match if_match {
            None => req.if_none_match("*"),
            Some(etag) => req.if_match(etag),
        };
        match req.body(aws_sdk_s3::primitives::ByteStream::from(body.as_bytes().to_vec())).send().await {
            Ok(out) => Ok(Some(out.e_tag().unwrap_or_default().to_string())),
            Err(e) if lost_condition(&e) => Ok(None),
            // If-Match on an object that is gone: S3 answers 404 NoSuchKey.
            Err(e) if if_match.is_some() && absent(&e, &["NoSuchKey"]) => Ok(None),
            Err(e) => Err(self.fail("PutObject", e).await),
        }
    }

    /// Deletes `key` only while its ETag is `etag`; false when it changed. An object already
    /// gone is no error.
    pub async fn delete_if(&self, bucket: &str, key: &str, etag: &str) -> Result<bool, AwsError> {
        match self.client.delete_object().bucket(bucket).key(key).if_match(etag).send().await {
            Ok(_) => Ok(true),
            Err(e) if absent(&e, &["NoSuchKey"]) => Ok(true),
            Err(e) if lost_condition(&e) => Ok(false),
            Err(e) => Err(self.fail("DeleteObject", e).await),
        }
    }

    async fn fail<E>(&self, action: &str, e: aws_sdk_s3::error::SdkError<E, aws_smithy_runtime_api::client::orchestrator::HttpResponse>) -> AwsError
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        crate::error::classify(&self.ctx, "s3", action, &e).await
    }
}
