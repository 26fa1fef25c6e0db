//! Watch mode's cheap change detection: a fingerprint of every referenced version, without
//! reading a single value.
//!
//! Per poll: one `DescribeSecret` per distinct secret (its version ids and stages), one
//! `GetParameters` per ten parameter names per region *without* decryption (versions only; no
//! `kms:Decrypt`), and `GetBucketLocation` + `HeadObject` per environment file (its ETag).
//! A fingerprint that differs means something rotated; only then is everything fetched again.
//! The lookups of one poll run concurrently.

use std::collections::BTreeMap;

use aws_config::Region;
use futures_util::StreamExt;
use futures_util::future::BoxFuture;

use super::error::classify;
use super::{Session, secrets_manager, ssm};
use crate::resolve::{FetchKey, Target};

/// Lookups in flight at once per poll: a poll runs in the background of a running app, so it
/// needs no more than this to finish within a few round trips.
const POLL_IN_FLIGHT: usize = 32;

/// One lookup's parts of the fingerprint.
type Lookup<'a> = BoxFuture<'a, Result<Vec<(String, String)>, String>>;

impl Session {
    /// One string that changes when any referenced version changes. Every lookup is in
    /// flight at once (up to [`POLL_IN_FLIGHT`]), with one client per service and region.
    pub(crate) async fn fingerprint(
        &self,
        fetches: &[(FetchKey, Target)],
    ) -> Result<String, String> {
        let mut parts: BTreeMap<String, String> = BTreeMap::new();
        let mut parameters: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        let mut secrets = secrets_manager::Clients::default();
        let mut lookups: Vec<Lookup<'_>> = Vec::new();
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
                    let client = secrets.get(&self.config, region);
                    let stage = version_stage.as_deref().unwrap_or("AWSCURRENT");
                    lookups.push(Box::pin(async move {
                        let out = client
                            .describe_secret()
                            .secret_id(secret_id)
                            .send()
                            .await
                            .map_err(|e| {
                                format!("DescribeSecret `{secret_id}`: {}", classify(&e).message)
                            })?;
                        let current = out
                            .version_ids_to_stages()
                            .into_iter()
                            .flatten()
                            .find(|(_, stages)| stages.iter().any(|s| s == stage))
                            .map(|(id, _)| id.clone())
                            .unwrap_or_default();
                        Ok(vec![(format!("{region} {secret_id} {stage}"), current)])
                    }));
                }
                (FetchKey::Parameter { region, name }, _) => {
                    parameters.entry(region).or_default().push(name);
                }
                (FetchKey::EnvironmentFile { arn }, Target::File(object)) => {
                    lookups.push(Box::pin(async move {
                        let etag = self
                            .etag(&object.bucket, &object.key)
                            .await
                            .map_err(|e| format!("HeadObject `{arn}`: {e}"))?;
                        Ok(vec![(arn.clone(), etag)])
                    }));
                }
                (FetchKey::EnvironmentFile { .. }, _) => {}
            }
        }
        let mut ssm = ssm::Clients::default();
        for (region, names) in &parameters {
            let client = ssm.get(&self.config, region);
            for batch in names.chunks(super::PARAMETER_BATCH) {
                let client = client.clone();
                let batch: Vec<String> = batch.iter().map(|n| (*n).to_owned()).collect();
                lookups.push(Box::pin(async move {
                    let out = client
                        .get_parameters()
                        .set_names(Some(batch))
                        .with_decryption(false)
                        .send()
                        .await
                        .map_err(|e| {
                            format!("GetParameters in {region}: {}", classify(&e).message)
                        })?;
                    let mut found: Vec<(String, String)> = out
                        .parameters()
                        .iter()
                        .map(|p| {
                            (
                                format!("{region} {}", p.name().unwrap_or_default()),
                                p.version().to_string(),
                            )
                        })
                        .collect();
                    found.extend(
                        out.invalid_parameters()
                            .iter()
                            .map(|missing| (format!("{region} {missing}"), "missing".to_owned())),
                    );
                    Ok(found)
                }));
            }
        }
        let results: Vec<_> = futures_util::stream::iter(lookups)
            .buffer_unordered(POLL_IN_FLIGHT)
            .collect()
            .await;
        for result in results {
            parts.extend(result?);
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
