//! `GetParameters` with decryption, ten names per call, results matched back robustly.
//!
//! The agent reads results back under the exact string it sent, so a spelling difference
//! between the request and AWS's answer (`x` vs `/x`, an ARN vs the name) silently yields an
//! empty variable. Here each result is matched by `Name`, then by `ARN`, then by the
//! canonical name (spec decision 2); a requested name that matches nothing is a failure.
//!
//! Names are not de-duplicated by the agent; here each distinct name is requested once
//! (fewer requests, same values).

use std::collections::HashMap;
use std::time::Instant;

use aws_config::{Region, SdkConfig};
use aws_sdk_ssm::Client;

use super::error::{Kind, classify, common_hint};
use crate::reference::canonical_parameter_name;
use crate::resolve::{Failure, FetchKey, Fetched};
use crate::secret::SecretValue;

/// The SSM path that reads a Secrets Manager secret (spec 1.1).
const SECRETS_MANAGER_REFERENCE: &str = "/aws/reference/secretsmanager/";

/// One client per region, built on first use.
#[derive(Default)]
pub(super) struct Clients(HashMap<String, Client>);

impl Clients {
    pub(super) fn get(&mut self, config: &SdkConfig, region: &str) -> Client {
        self.0
            .entry(region.to_owned())
            .or_insert_with(|| {
                let conf = aws_sdk_ssm::config::Builder::from(config)
                    .region(Region::new(region.to_owned()))
                    .build();
                Client::from_conf(conf)
            })
            .clone()
    }
}

/// One `GetParameters` call for up to ten keys of one region.
pub(super) async fn fetch_batch(
    client: Client,
    secrets_manager: aws_sdk_secretsmanager::Client,
    region: String,
    keys: Vec<FetchKey>,
) -> Vec<(FetchKey, Result<Fetched, Failure>)> {
    let names: Vec<String> = keys
        .iter()
        .map(|k| match k {
            FetchKey::Parameter { name, .. } => name.clone(),
            _ => unreachable!("only parameter keys are batched"),
        })
        .collect();
    let started = Instant::now();
    let result = client
        .get_parameters()
        .set_names(Some(names.clone()))
        .with_decryption(true)
        .send()
        .await;
    tracing::debug!(
        region = %region,
        names = ?names,
        ok = result.is_ok(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "GetParameters"
    );
    let tried = |n: &str| format!("GetParameters in {region} for `{n}` (WithDecryption)");

    let out = match result {
        Ok(out) => out,
        Err(err) => {
            let c = classify(&err);
            return keys
                .into_iter()
                .zip(&names)
                .map(|(key, name)| {
                    let f = api_failure(c.kind, &c.message, name, &region).tried(tried(name));
                    (key, Err(f))
                })
                .collect();
        }
    };

    let mut by_name: HashMap<&str, &str> = HashMap::new();
    let mut by_canonical: HashMap<String, &str> = HashMap::new();
    for p in out.parameters() {
        let Some(value) = p.value() else { continue };
        if let Some(n) = p.name() {
            by_name.insert(n, value);
            by_canonical.insert(canonical_parameter_name(n), value);
        }
        if let Some(arn) = p.arn() {
            by_name.insert(arn, value);
        }
    }
    let invalid: Vec<&str> = out
        .invalid_parameters()
        .iter()
        .map(String::as_str)
        .collect();

    let mut results = Vec::with_capacity(keys.len());
    for (key, name) in keys.into_iter().zip(&names) {
        let found = by_name
            .get(name.as_str())
            .or_else(|| by_canonical.get(&canonical_parameter_name(name)))
            .or_else(|| {
                // Some endpoints (the emulator) answer a Secrets Manager reference with the
                // secret's own name instead of the requested path.
                let secret = name.strip_prefix(SECRETS_MANAGER_REFERENCE)?;
                by_name.get(secret)
            });
        let outcome = match found {
            Some(v) => Ok(Fetched::Parameter(SecretValue::new((*v).to_owned()))),
            None => {
                let listed = invalid.contains(&name.as_str());
                let hint = secrets_manager_hint(&secrets_manager, name).await;
                Err(invalid_failure(name, &region, listed, hint).tried(tried(name)))
            }
        };
        results.push((key, outcome));
    }
    results
}

fn invalid_failure(name: &str, region: &str, listed: bool, secret_hint: Option<String>) -> Failure {
    let message = if listed {
        format!(
            "fetching secret data from SSM Parameter Store in {region}: invalid parameters: {name}"
        )
    } else {
        format!("Parameter Store in {region} returned no value for `{name}`")
    };
    let hint = secret_hint.unwrap_or_else(|| {
        format!(
            "check that the parameter exists in {region} (a bare name is read from the task \
             region; use the parameter's ARN for another region)"
        )
    });
    Failure::new("ssm_invalid_parameters", message).hint(hint)
}

fn api_failure(kind: Kind, message: &str, name: &str, region: &str) -> Failure {
    let message = format!("fetching secret data from SSM Parameter Store in {region}: {message}");
    let hint = match kind {
        Kind::AccessDenied => Some(format!(
            "grant `ssm:GetParameters` on `{}` to the identity in use (on ECS, the task \
             execution role)",
            parameter_arn_pattern(name, region)
        )),
        Kind::Kms => Some(
            "grant `kms:Decrypt` on the parameter's KMS key to the identity in use (on ECS, \
             the task execution role)"
                .to_owned(),
        ),
        other => common_hint(other),
    };
    let f = Failure::new("ssm_api_error", message).outcome(kind.label());
    match hint {
        Some(h) => f.hint(h),
        None => f,
    }
}

/// The parameter's ARN for an IAM policy; the account is unknown for a bare name.
fn parameter_arn_pattern(name: &str, region: &str) -> String {
    if name.starts_with("arn:") {
        return name.to_owned();
    }
    let path = name.strip_prefix('/').unwrap_or(name);
    let partition = crate::policy::partition_of(region);
    format!("arn:{partition}:ssm:{region}:ACCOUNT_ID:parameter/{path}")
}

/// Spec decision 4: a bare name that is not a parameter but is the name of a Secrets Manager
/// secret is a common mistake; say so, with the ARN ECS needs. One `DescribeSecret`, only on
/// this failure path; if it fails for any reason there is simply no hint.
async fn secrets_manager_hint(
    client: &aws_sdk_secretsmanager::Client,
    name: &str,
) -> Option<String> {
    if name.starts_with("arn:") {
        return None;
    }
    let out = client.describe_secret().secret_id(name).send().await.ok()?;
    let arn = out.arn()?;
    Some(format!(
        "a Secrets Manager secret named `{name}` exists, but ECS reads a bare name as an SSM \
         parameter: use the secret's full ARN `{arn}` in `valueFrom` (or \
         `/aws/reference/secretsmanager/{name}`)"
    ))
}
