//! Watch mode's cheap change detection: a fingerprint of every referenced version, without
//! reading a single value.
//!
//! Per poll: one `DescribeSecret` per distinct secret (its version ids and stages), one
//! `GetParameters` per ten parameter names per region *without* decryption (versions only; no
//! `kms:Decrypt`), and `GetBucketLocation` + `HeadObject` per environment file (its ETag).
//! A fingerprint that differs means something rotated; only then is everything fetched again.
//! The lookups of one poll run concurrently.

use std::collections::{BTreeMap, BTreeSet};

use aws_config::Region;
use futures_util::StreamExt;
use futures_util::future::BoxFuture;

use super::Session;
use super::clients::Clients;
use super::error::classify;
use super::plan::{self, Request};
use crate::resolve::{FetchKey, SecretVersion};

/// Lookups in flight at once per poll: a poll runs in the background of a running app, so it
/// needs no more than this to finish within a few round trips.
const POLL_IN_FLIGHT: usize = 32;

/// One lookup's parts of the fingerprint.
type Lookup<'a> = BoxFuture<'a, Result<Vec<(String, String)>, String>>;

impl Session {
    /// One string that changes when any referenced version changes. Every lookup is in
    /// flight at once (up to [`POLL_IN_FLIGHT`]), with one client per service and region.
    pub(crate) async fn fingerprint(&self, fetches: &[FetchKey]) -> Result<String, String> {
        let mut parts: BTreeMap<String, String> = BTreeMap::new();
        let mut secrets: Clients<aws_sdk_secretsmanager::Client> =
            Clients::new(&self.config, self.custom_endpoint);
        let mut ssm: Clients<aws_sdk_ssm::Client> =
            Clients::new(&self.config, self.custom_endpoint);
        let mut lookups: Vec<Lookup<'_>> = Vec::new();
        // The same grouping as a fetch, one request per secret (no batch).
        for request in plan::requests(fetches, false, &BTreeSet::new()) {
            match request {
                Request::Secret(SecretVersion {
                    region,
                    secret_id,
                    version_stage,
                    version_id,
                }) => {
                    if let Some(id) = version_id {
                        // A pinned version never changes.
                        parts.insert(format!("{region} {secret_id} {id}"), id.clone());
                        continue;
                    }
                    let client = secrets.get(&region);
                    let stage = version_stage.unwrap_or_else(|| "AWSCURRENT".to_owned());
                    lookups.push(Box::pin(async move {
                        let out = client
                            .describe_secret()
                            .secret_id(&secret_id)
                            .send()
                            .await
                            .map_err(|e| {
                                format!("DescribeSecret `{secret_id}`: {}", classify(&e).message)
                            })?;
                        let current = out
                            .version_ids_to_stages()
                            .into_iter()
                            .flatten()
                            .find(|(_, stages)| stages.contains(&stage))
                            .map(|(id, _)| id.clone())
                            .unwrap_or_default();
                        Ok(vec![(format!("{region} {secret_id} {stage}"), current)])
                    }));
                }
                // Not made when batching is off.
                Request::SecretBatch { .. } => {}
                Request::Parameters { region, names } => {
                    let client = ssm.get(&region);
                    lookups.push(Box::pin(async move {
                        let out = client
                            .get_parameters()
                            .set_names(Some(names))
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
                            out.invalid_parameters().iter().map(|missing| {
                                (format!("{region} {missing}"), "missing".to_owned())
                            }),
                        );
                        Ok(found)
                    }));
                }
                Request::File { arn, object } => {
                    lookups.push(Box::pin(async move {
                        let etag = self
                            .etag(&object.bucket, &object.key)
                            .await
                            .map_err(|e| format!("HeadObject `{arn}`: {e}"))?;
                        Ok(vec![(arn, etag)])
                    }));
                }
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
