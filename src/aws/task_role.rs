//! The task role's credentials, kept fresh for the credentials endpoint (`--task-role`).
//!
//! ECS hands a task's application short-lived credentials for its task role and renews them
//! long before they expire. Here the role is assumed with STS AssumeRole (the caller's
//! identity must be trusted by it), and assumed again when the credentials on hand have fewer
//! than [`MIN_REMAINING`] left, so an SDK never receives credentials about to expire: the
//! AWS SDKs refresh container credentials between 15 and 5 minutes before expiry, and would
//! otherwise ask again at once. Sessions last [`SESSION_LENGTH`], the most STS allows when
//! the caller is itself a role session (role chaining), which is how most developers sign in.

use std::time::{Duration, SystemTime};

use aws_config::sts::AssumeRoleProvider;
use aws_credential_types::Credentials;
use aws_credential_types::provider::ProvideCredentials;
use zeroize::Zeroizing;

/// How long each role session lasts.
pub(crate) const SESSION_LENGTH: Duration = Duration::from_secs(3600);

/// Credentials with less than this left are never served: the role is assumed again.
pub(crate) const MIN_REMAINING: Duration = Duration::from_secs(15 * 60);

/// How long one renewal may take before the request that needed it fails.
const RENEW_TIMEOUT: Duration = Duration::from_secs(20);

/// The task role and its current credentials.
pub(crate) struct TaskRole {
    role: String,
    provider: AssumeRoleProvider,
    current: tokio::sync::Mutex<Credentials>,
}

impl std::fmt::Debug for TaskRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TaskRole")
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

impl TaskRole {
    pub(super) fn new(role: &str, provider: AssumeRoleProvider, first: Credentials) -> TaskRole {
        TaskRole {
            role: role.to_owned(),
            provider,
            current: tokio::sync::Mutex::new(first),
        }
    }

    /// The role's ARN.
    pub(crate) fn role(&self) -> &str {
        &self.role
    }

    /// The credentials document the SDKs expect from a container credentials endpoint, with
    /// at least [`MIN_REMAINING`] left; renewed first when needed. The error is for the
    /// endpoint's answer and the warning: it never holds a credential.
    pub(crate) async fn document(&self) -> Result<Zeroizing<String>, String> {
        // One renewal at a time: requests that arrive meanwhile wait for its result.
        let mut current = self.current.lock().await;
        if !fresh_enough(current.expiry(), SystemTime::now()) {
            let renewed = tokio::time::timeout(RENEW_TIMEOUT, self.provider.provide_credentials())
                .await
                .map_err(|_| format!("renewing took longer than {RENEW_TIMEOUT:?}"))?
                .map_err(|e| super::error::assume_role_detail(&e))?;
            if !fresh_enough(renewed.expiry(), SystemTime::now()) {
                return Err(format!(
                    "STS returned credentials with less than {} minutes left",
                    MIN_REMAINING.as_secs() / 60
                ));
            }
            tracing::debug!(role = %crate::diagnostic::escaped(&self.role), "renewed the task role's credentials");
            *current = renewed;
        }
        Ok(document(&current, &self.role))
    }
}

/// Whether credentials expiring at `expiry` may still be served at `now`.
fn fresh_enough(expiry: Option<SystemTime>, now: SystemTime) -> bool {
    expiry.is_none_or(|at| {
        at.duration_since(now)
            .is_ok_and(|left| left >= MIN_REMAINING)
    })
}

/// The ECS credentials document: the fields every AWS SDK's container provider reads.
fn document(credentials: &Credentials, role: &str) -> Zeroizing<String> {
    let mut doc = serde_json::Map::new();
    doc.insert("AccessKeyId".into(), credentials.access_key_id().into());
    doc.insert(
        "SecretAccessKey".into(),
        credentials.secret_access_key().into(),
    );
    if let Some(token) = credentials.session_token() {
        doc.insert("Token".into(), token.into());
    }
    if let Some(expiry) = credentials.expiry() {
        doc.insert(
            "Expiration".into(),
            humantime::format_rfc3339_seconds(expiry).to_string().into(),
        );
    }
    doc.insert("RoleArn".into(), role.into());
    Zeroizing::new(serde_json::Value::Object(doc).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_served_only_with_fifteen_minutes_left() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        assert!(fresh_enough(None, now), "credentials that never expire");
        assert!(fresh_enough(Some(now + SESSION_LENGTH), now));
        assert!(fresh_enough(Some(now + MIN_REMAINING), now));
        assert!(!fresh_enough(
            Some(now + MIN_REMAINING - Duration::from_secs(1)),
            now
        ));
        assert!(
            !fresh_enough(Some(now - Duration::from_secs(1)), now),
            "expired"
        );
    }

    #[test]
    fn the_document_has_the_fields_the_sdks_read() {
        let expiry = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let credentials = Credentials::new(
            "ASIAEXAMPLE",
            "secret",
            Some("token".into()),
            Some(expiry),
            "test",
        );
        let doc: serde_json::Value = serde_json::from_str(&document(
            &credentials,
            "arn:aws:iam::123456789012:role/app",
        ))
        .unwrap();
        assert_eq!(
            doc,
            serde_json::json!({
                "AccessKeyId": "ASIAEXAMPLE",
                "SecretAccessKey": "secret",
                "Token": "token",
                "Expiration": "2027-01-15T08:00:00Z",
                "RoleArn": "arn:aws:iam::123456789012:role/app",
            })
        );
    }
}
