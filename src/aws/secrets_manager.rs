//! `GetSecretValue`, one call per distinct secret version, as the agent makes it.

use std::collections::HashMap;
use std::time::Instant;

use aws_config::{Region, SdkConfig};
use aws_sdk_secretsmanager::Client;

use super::error::{Kind, classify, common_hint};
use crate::reference::SecretsManagerRef;
use crate::resolve::{Failure, FetchKey, Fetched};
use crate::secret::SecretValue;

/// One client per region, built on first use.
#[derive(Default)]
pub(super) struct Clients(HashMap<String, Client>);

impl Clients {
    pub(super) fn get(&mut self, config: &SdkConfig, region: &str) -> Client {
        self.0
            .entry(region.to_owned())
            .or_insert_with(|| {
                let conf = aws_sdk_secretsmanager::config::Builder::from(config)
                    .region(Region::new(region.to_owned()))
                    .build();
                Client::from_conf(conf)
            })
            .clone()
    }
}

/// Fetch one secret version. The request carries exactly what the agent sends: the
/// `SecretId`, and the stage and version id only when they are non-empty.
pub(super) async fn fetch(
    client: Client,
    key: FetchKey,
    reference: SecretsManagerRef,
) -> Vec<(FetchKey, Result<Fetched, Failure>)> {
    let started = Instant::now();
    let result = client
        .get_secret_value()
        .secret_id(&reference.secret_id)
        .set_version_stage(reference.version_stage.clone())
        .set_version_id(reference.version_id.clone())
        .send()
        .await;
    tracing::debug!(
        secret_id = %reference.secret_id,
        region = %reference.region,
        version_stage = ?reference.version_stage,
        version_id = ?reference.version_id,
        ok = result.is_ok(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "GetSecretValue"
    );
    let outcome = match result {
        Ok(out) => match (out.secret_string, out.secret_binary) {
            (Some(s), _) => Ok(Fetched::SecretString(SecretValue::new(s))),
            (None, _) => Ok(Fetched::SecretBinary),
        },
        Err(err) => {
            let c = classify(&err);
            Err(failure(c.kind, c.message, &reference))
        }
    };
    vec![(key, outcome)]
}

fn failure(kind: Kind, message: String, r: &SecretsManagerRef) -> Failure {
    let tried = format!(
        "GetSecretValue in {} for SecretId `{}`",
        r.region, r.secret_id
    );
    let (class, hint) = match kind {
        Kind::NotFound => (
            "asm_not_found",
            Some(format!(
                "check that the secret exists in {} and that the ARN is right; a partial ARN \
                 (without the 6-character suffix) whose name itself ends in `-` and six \
                 characters is read as a complete ARN and is not found",
                r.region
            )),
        ),
        Kind::AccessDenied => (
            "asm_api_error",
            Some(format!(
                "grant `secretsmanager:GetSecretValue` on `{}` to the identity in use (on ECS, \
                 the task execution role)",
                crate::policy::secret_resource(r)
            )),
        ),
        Kind::Kms => (
            "asm_api_error",
            Some(
                "grant `kms:Decrypt` on the secret's KMS key to the identity in use (on ECS, \
                 the task execution role)"
                    .to_owned(),
            ),
        ),
        other => ("asm_api_error", common_hint(other)),
    };
    let f = Failure::new(class, message)
        .tried(tried)
        .outcome(kind.label());
    match hint {
        Some(h) => f.hint(h),
        None => f,
    }
}
