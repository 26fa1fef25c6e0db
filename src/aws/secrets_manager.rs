//! `GetSecretValue`, one call per distinct secret version, as the agent makes it; and
//! `BatchGetSecretValue`, twenty current versions per call, where the agent would make
//! twenty calls.
//!
//! A batch is only a faster way to the same answers. Its entries are matched back to the
//! requested ids strictly (an ARN by ARN, a partial ARN by ARN prefix and name, a name by
//! name, and only when exactly one entry matches). Every id the batch did not answer that way,
//! and every id it reported in `Errors`, is fetched again with its own `GetSecretValue`, so a
//! failure has exactly the class, message and hint it has without batching. A batch call that
//! fails as a whole falls back to `GetSecretValue` for all its ids, and a denial is reported to
//! the caller to remember (`capabilities.rs`).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::types::SecretValueEntry;

use tokio::sync::Semaphore;
use zeroize::Zeroize;

use super::error::{Classified, GRANTEE, Kind, classify, common_hint};
use crate::diagnostic::Class;
use crate::resolve::{Failure, FetchKey, Fetched, SecretVersion};
use crate::secret::SecretValue;

/// Fetch one secret version. The request carries exactly what the agent sends: the
/// `SecretId`, and the stage and version id only when they are non-empty.
pub(super) async fn fetch(
    client: Client,
    reference: SecretVersion,
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
        secret_id = %crate::diagnostic::escaped(&reference.secret_id),
        region = %crate::diagnostic::escaped(&reference.region),
        version_stage = ?reference.version_stage,
        version_id = ?reference.version_id,
        ok = result.is_ok(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "GetSecretValue"
    );
    let outcome = match result {
        Ok(out) => match (out.secret_string, out.secret_binary) {
            (Some(s), _) => Ok(Fetched::SecretString(SecretValue::new(s))),
            (None, Some(_)) => Ok(Fetched::SecretBinary),
            // A success status with neither field is not a secret version at all (an error
            // body sent with 200, a proxy's page): said as such, not as a binary secret.
            (None, None) => Err(Failure::new(
                Class::AsmApiError,
                "the answer has neither SecretString nor SecretBinary: it is not a secret version",
            )
            .tried(format!(
                "GetSecretValue in {} for SecretId `{}`",
                reference.region, reference.secret_id
            ))
            .hint("check --endpoint-url and any proxy between ecs-env and AWS")),
        },
        Err(err) => {
            let c = classify(&err);
            Err(failure(c.kind, c.message, &reference))
        }
    };
    vec![(FetchKey::Secret(reference), outcome)]
}

/// One `BatchGetSecretValue` call: up to twenty current versions of one region.
pub(super) struct Batch {
    pub(super) client: Client,
    pub(super) region: String,
    /// Current versions (no stage, no version id).
    pub(super) versions: Vec<SecretVersion>,
    /// The region's `BatchGetSecretValue` limit, held during the batch call.
    pub(super) batch_permits: Arc<Semaphore>,
    /// The region's `GetSecretValue` limit, for the ids fetched one by one.
    pub(super) single_permits: Arc<Semaphore>,
    /// Set when the identity may not call `BatchGetSecretValue` here (or the endpoint does
    /// not know it), for the caller to remember.
    pub(super) unavailable: Arc<AtomicBool>,
}

/// Fetch the batch's ids with one call, and the ones it did not answer one by one.
pub(super) async fn fetch_batch(batch: Batch) -> Vec<(FetchKey, Result<Fetched, Failure>)> {
    let Batch {
        client,
        region,
        versions,
        batch_permits,
        single_permits,
        unavailable,
    } = batch;
    let ids: Vec<String> = versions.iter().map(|v| v.secret_id.clone()).collect();
    let started = Instant::now();
    let answer = {
        let _permit = batch_permits.acquire().await;
        call_batch(&client, &ids).await
    };
    let mut results = Vec::with_capacity(versions.len());
    let mut one_by_one = Vec::new();
    match answer {
        Ok((mut entries, errors)) => {
            tracing::debug!(
                region = %crate::diagnostic::escaped(&region),
                ids = ?ids,
                answered = entries.len(),
                errors = ?errors,
                elapsed_ms = started.elapsed().as_millis() as u64,
                "BatchGetSecretValue"
            );
            for version in versions {
                let mut found = entries
                    .iter()
                    .filter(|e| answers(&version.secret_id, e.arn(), e.name()));
                match (found.next(), found.next()) {
                    // An entry with neither value is asked again, for GetSecretValue's answer.
                    (Some(entry), None) => match fetched(entry) {
                        Some(value) => results.push((FetchKey::Secret(version), Ok(value))),
                        None => one_by_one.push(version),
                    },
                    // Not answered, reported in Errors, or ambiguous: ask the way the agent
                    // does, for the agent's answer or failure.
                    _ => one_by_one.push(version),
                }
            }
            // The values now live in `SecretValue`s (wiped on drop); wipe the SDK's copies too.
            for entry in &mut entries {
                if let Some(s) = entry.secret_string.as_mut() {
                    s.zeroize();
                }
            }
        }
        Err(c) => {
            tracing::debug!(
                region = %crate::diagnostic::escaped(&region),
                ids = ?ids,
                error = %crate::diagnostic::escaped(&c.message),
                elapsed_ms = started.elapsed().as_millis() as u64,
                "BatchGetSecretValue failed; fetching each secret with GetSecretValue"
            );
            if unavailable_here(&c) {
                unavailable.store(true, Ordering::Relaxed);
            }
            one_by_one = versions;
        }
    }
    let singles = one_by_one
        .into_iter()
        .map(|version| super::limited(single_permits.clone(), fetch(client.clone(), version)));
    for outcome in futures_util::future::join_all(singles).await {
        results.extend(outcome);
    }
    results
}

/// The entries and the error codes of one batch, all pages.
async fn call_batch(
    client: &Client,
    ids: &[String],
) -> Result<(Vec<SecretValueEntry>, Vec<String>), Classified> {
    let mut entries = Vec::new();
    let mut errors = Vec::new();
    let mut token = None;
    // With twenty ids AWS answers in one page; the bound keeps a misbehaving endpoint that
    // keeps sending tokens from looping (what is left unanswered is fetched one by one).
    for _ in 0..=ids.len() {
        let out = client
            .batch_get_secret_value()
            .set_secret_id_list(Some(ids.to_vec()))
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| classify(&e))?;
        // Codes and ids only: an error message never holds a value, but it is not needed.
        errors.extend(out.errors().iter().map(|e| {
            format!(
                "{}: {}",
                e.secret_id().unwrap_or_default(),
                e.error_code().unwrap_or_default()
            )
        }));
        token = out.next_token.clone();
        entries.extend(out.secret_values.unwrap_or_default());
        if token.is_none() {
            break;
        }
    }
    Ok((entries, errors))
}

/// Whether a batch entry (its ARN and name) is the secret `GetSecretValue` would return for
/// this `SecretId`.
fn answers(secret_id: &str, arn: Option<&str>, name: Option<&str>) -> bool {
    if !secret_id.starts_with("arn:") {
        return name == Some(secret_id);
    }
    let Some(arn) = arn else { return false };
    if arn == secret_id {
        return true;
    }
    // A partial ARN: the entry's ARN is the request plus `-` and the six-character suffix,
    // and its name is the request's last segment. Secrets Manager reads an ARN that already
    // ends in `-` and six characters as complete (spec: asm-017), so such an id matches only
    // exactly.
    if crate::arn::has_secret_suffix(secret_id) {
        return false;
    }
    let (Some(name), Some(suffix)) = (name, arn.strip_prefix(secret_id)) else {
        return false;
    };
    suffix.len() == 7 && suffix.starts_with('-') && crate::arn::secret_name(secret_id) == name
}

fn fetched(entry: &SecretValueEntry) -> Option<Fetched> {
    match (entry.secret_string(), entry.secret_binary()) {
        (Some(s), _) => Some(Fetched::SecretString(SecretValue::new(s.to_owned()))),
        (None, Some(_)) => Some(Fetched::SecretBinary),
        (None, None) => None,
    }
}

/// A whole-call failure that will recur on every run: the identity lacks
/// `secretsmanager:BatchGetSecretValue`, or the endpoint does not implement it.
fn unavailable_here(c: &Classified) -> bool {
    c.kind == Kind::AccessDenied
        || [
            "UnknownOperation",
            "InvalidAction",
            "NotImplemented",
            "HTTP 404",
            "HTTP 501",
        ]
        .iter()
        .any(|code| c.message.starts_with(code))
}

fn failure(kind: Kind, message: String, r: &SecretVersion) -> Failure {
    let tried = format!(
        "GetSecretValue in {} for SecretId `{}`",
        r.region, r.secret_id
    );
    let (class, hint) = match kind {
        Kind::NotFound => (
            Class::AsmNotFound,
            Some(format!(
                "check that the secret exists in {} and that the ARN is right; a partial ARN \
                 (without the 6-character suffix) whose name itself ends in `-` and six \
                 characters is read as a complete ARN and is not found",
                r.region
            )),
        ),
        Kind::AccessDenied => (
            Class::AsmApiError,
            Some(format!(
                "grant `secretsmanager:GetSecretValue` on `{}` to {GRANTEE}",
                crate::policy::secret_resource(&r.secret_id)
            )),
        ),
        Kind::Kms => (
            Class::AsmApiError,
            Some(format!(
                "grant `kms:Decrypt` on the secret's KMS key to {GRANTEE}"
            )),
        ),
        other => (Class::AsmApiError, common_hint(other)),
    };
    let f = Failure::new(class, message)
        .tried(tried)
        .outcome(kind.label());
    match hint {
        Some(h) => f.hint(h),
        None => f,
    }
}

#[cfg(test)]
mod tests {
    use super::answers;

    const ARN: &str = "arn:aws:secretsmanager:us-east-1:111122223333:secret:app-AbCdEf";

    #[test]
    fn batch_entries_answer_only_the_id_they_are_for() {
        // A complete ARN, a partial ARN and a name all find the secret `app`.
        assert!(answers(ARN, Some(ARN), Some("app")));
        let partial = "arn:aws:secretsmanager:us-east-1:111122223333:secret:app";
        assert!(answers(partial, Some(ARN), Some("app")));
        assert!(answers("app", Some(ARN), Some("app")));

        // Not another secret's entry.
        assert!(!answers("app-AbCdEf", Some(ARN), Some("app")));
        assert!(!answers("ap", Some(ARN), Some("app")));
        let other = "arn:aws:secretsmanager:us-east-1:111122223333:secret:ap";
        assert!(!answers(other, Some(ARN), Some("app")));
        // A partial ARN whose name is a prefix of the entry's name plus a suffix-like tail.
        let nested = "arn:aws:secretsmanager:us-east-1:111122223333:secret:app-AbCdEf-123456";
        assert!(!answers(ARN, Some(nested), Some("app-AbCdEf-123456")));
        // asm-017: an id ending in `-` and six characters is a complete ARN to Secrets
        // Manager, even when a secret of that name exists.
        assert!(!answers(ARN, Some(nested), Some("app-AbCdEf")));
        let server = "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/api-server";
        let real = "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/api-server-Ab12Cd";
        assert!(!answers(server, Some(real), Some("prod/api-server")));
        assert!(answers(real, Some(real), Some("prod/api-server")));
        // A slash is never part of the suffix: `team-12/api` is a partial ARN.
        let slash = "arn:aws:secretsmanager:us-east-1:123456789012:secret:team-12/api";
        let found = "arn:aws:secretsmanager:us-east-1:123456789012:secret:team-12/api-Zz9Yy8";
        assert!(answers(slash, Some(found), Some("team-12/api")));
        // Another account's secret of the same name, requested by ARN.
        let foreign = "arn:aws:secretsmanager:us-east-1:444455556666:secret:app-AbCdEf";
        assert!(!answers(foreign, Some(ARN), Some("app")));
        assert!(!answers(ARN, None, Some("app")));
        assert!(!answers("app", Some(ARN), None));
    }
}
