//! Watch mode's cheap change detection: a fingerprint of every referenced version, without
//! reading a single value.
//!
//! Per poll: one `DescribeSecret` per distinct secret (its version ids and stages), one
//! `GetParameters` per ten parameter names per region *without* decryption (versions only; no
//! `kms:Decrypt`), and `GetBucketLocation` + `HeadObject` per environment file (its ETag).
//! A fingerprint that differs means something rotated; only then is everything fetched again.

use std::collections::BTreeMap;

use aws_config::Region;

use super::Session;
use super::error::classify;
use crate::resolve::{FetchKey, Target};

impl Session {
    /// One string that changes when any referenced version changes.
    pub async fn fingerprint(&self, fetches: &[(FetchKey, Target)]) -> Result<String, String> {
        let mut parts: BTreeMap<String, String> = BTreeMap::new();
        let mut parameters: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for (key, target) in fetches {
            match (key, target) {
                (
                    FetchKey::Secret {
                        region,
                        secret_id,
                        version_stage,
                        version_id,
                    },
                    _,
                ) => {
                    if let Some(id) = version_id {
                        // A pinned version never changes.
                        parts.insert(format!("{region} {secret_id} {id}"), id.clone());
                        continue;
                    }
                    let client = aws_sdk_secretsmanager::Client::from_conf(
                        aws_sdk_secretsmanager::config::Builder::from(&self.config)
                            .region(Region::new(region.clone()))
                            .build(),
                    );
                    let out = client
                        .describe_secret()
                        .secret_id(secret_id)
                        .send()
                        .await
                        .map_err(|e| {
                            format!("DescribeSecret `{secret_id}`: {}", classify(&e).message)
                        })?;
                    let stage = version_stage.as_deref().unwrap_or("AWSCURRENT");
                    let current = out
                        .version_ids_to_stages()
                        .into_iter()
                        .flatten()
                        .find(|(_, stages)| stages.iter().any(|s| s == stage))
                        .map(|(id, _)| id.clone())
                        .unwrap_or_default();
                    parts.insert(format!("{region} {secret_id} {stage}"), current);
                }
                (FetchKey::Parameter { region, name }, _) => {
                    parameters.entry(region).or_default().push(name);
                }
                (FetchKey::EnvironmentFile { arn }, Target::File(object)) => {
                    let etag = self
                        .etag(&object.bucket, &object.key)
                        .await
                        .map_err(|e| format!("HeadObject `{arn}`: {e}"))?;
                    parts.insert(arn.clone(), etag);
                }
                (FetchKey::EnvironmentFile { .. }, _) => {}
            }
        }
        for (region, names) in parameters {
            let client = aws_sdk_ssm::Client::from_conf(
                aws_sdk_ssm::config::Builder::from(&self.config)
                    .region(Region::new(region.to_owned()))
                    .build(),
            );
            for batch in names.chunks(super::PARAMETER_BATCH) {
                let out = client
                    .get_parameters()
                    .set_names(Some(batch.iter().map(|n| (*n).to_owned()).collect()))
                    .with_decryption(false)
                    .send()
                    .await
                    .map_err(|e| format!("GetParameters in {region}: {}", classify(&e).message))?;
                for p in out.parameters() {
                    parts.insert(
                        format!("{region} {}", p.name().unwrap_or_default()),
                        p.version().to_string(),
                    );
                }
                for missing in out.invalid_parameters() {
                    parts.insert(format!("{region} {missing}"), "missing".to_owned());
                }
            }
        }
        Ok(parts
            .into_iter()
            .map(|(k, v)| format!("{k}={v}\n"))
            .collect())
    }

    async fn etag(&self, bucket: &str, key: &str) -> Result<String, String> {
        let client = |region: &str| {
            aws_sdk_s3::Client::from_conf(
                aws_sdk_s3::config::Builder::from(&self.config)
                    .region(Region::new(region.to_owned()))
                    .force_path_style(self.custom_endpoint)
                    .build(),
            )
        };
        let region = client(self.config.region().map_or("us-east-1", |r| r.as_ref()))
            .get_bucket_location()
            .bucket(bucket)
            .send()
            .await
            .map_err(|e| classify(&e).message)?
            .location_constraint()
            .map(|c| c.as_str().to_owned())
            .filter(|c| !c.is_empty())
            .unwrap_or_else(|| "us-east-1".to_owned());
        let out = client(&region)
            .head_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| classify(&e).message)?;
        Ok(out.e_tag().unwrap_or_default().to_owned())
    }
}
