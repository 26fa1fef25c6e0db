//! `GetParameters` with decryption, ten names per call, each answer matched back to exactly
//! one request.
//!
//! The agent reads results back under the exact string it sent, so a spelling difference
//! between the request and AWS's answer (`x` vs `/x`, an ARN vs the name) silently yields an
//! empty variable. Matching more loosely is only safe when no two requests in one call could
//! claim the same answer: two ARNs of one name in different accounts, an ARN beside the bare
//! name, `/aws/reference/secretsmanager/x` beside a parameter `x`. So requests are grouped
//! ([`batches`]) so that no call holds two requests with the same [`answer_key`]; within a
//! call an answer matches a request by exact `Name` or `ARN`, else by that key, and never an
//! answer whose ARN is not the ARN requested ([`match_answers`]). A request listed in
//! `InvalidParameters`, matched by nothing, or matched by two different answers is a failure:
//! the child never starts on a value it did not ask for.
//!
//! Names are not de-duplicated by the agent; here each distinct name is requested once
//! (fewer requests, same values).

use std::time::Instant;

use aws_sdk_ssm::Client;

use super::error::{GRANTEE, Kind, classify, common_hint};
use crate::arn::SECRETS_MANAGER_REFERENCE;
use crate::diagnostic::Class;
use crate::resolve::{Failure, FetchKey, Fetched};
use crate::secret::SecretValue;

/// One `GetParameters` call for up to ten names of one region.
pub(super) async fn fetch_batch(
    client: Client,
    secrets_manager: aws_sdk_secretsmanager::Client,
    region: String,
    names: Vec<String>,
) -> Vec<(FetchKey, Result<Fetched, Failure>)> {
    let key = |name: &str| FetchKey::Parameter {
        region: region.clone(),
        name: name.to_owned(),
    };
    let started = Instant::now();
    let result = client
        .get_parameters()
        .set_names(Some(names.clone()))
        .with_decryption(true)
        .send()
        .await;
    tracing::debug!(
        region = %crate::diagnostic::escaped(&region),
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
            return names
                .iter()
                .map(|name| {
                    let f = api_failure(c.kind, &c.message, name, &region).tried(tried(name));
                    (key(name), Err(f))
                })
                .collect();
        }
    };

    let answers: Vec<Answer<'_>> = out
        .parameters()
        .iter()
        .map(|p| Answer {
            name: p.name(),
            arn: p.arn(),
            value: p.value(),
        })
        .collect();
    let invalid = out.invalid_parameters();
    let matched = match_answers(&names, &answers, invalid);

    let mut results = Vec::with_capacity(names.len());
    for (name, found) in names.iter().zip(matched) {
        let outcome = match found {
            Matched::Value(v) => Ok(Fetched::Parameter(SecretValue::new(v.to_owned()))),
            Matched::Ambiguous => Err(Failure::new(
                Class::SsmInvalidParameters,
                format!(
                    "Parameter Store in {region} answered `{name}` with two different parameters"
                ),
            )
            .hint("name the parameter by its full ARN")
            .tried(tried(name))),
            Matched::Missing { listed } => {
                let hint = secrets_manager_hint(&secrets_manager, name).await;
                Err(invalid_failure(name, &region, listed, hint).tried(tried(name)))
            }
        };
        results.push((key(name), outcome));
    }
    results
}

/// The one identity an answer for `name` can be matched by, whatever spelling AWS echoes:
/// the parameter name without an ARN prefix, without the Secrets Manager reference path
/// (some endpoints answer that path with the secret's own name) and without leading slashes
/// (`x` and `/x` are one parameter). Two requests with the same key never share a call.
pub(super) fn answer_key(name: &str) -> &str {
    let name = crate::arn::parameter_name(name);
    let name = name.strip_prefix(SECRETS_MANAGER_REFERENCE).unwrap_or(name);
    name.trim_start_matches('/')
}

/// Groups distinct names into `GetParameters` calls of at most `size`, no two names with the
/// same [`answer_key`] in one call. Order is kept within the groups.
pub(super) fn batches<T>(items: Vec<T>, name: impl Fn(&T) -> &str, size: usize) -> Vec<Vec<T>> {
    let mut out: Vec<Vec<T>> = Vec::new();
    for item in items {
        let key = answer_key(name(&item)).to_owned();
        let slot = out
            .iter()
            .position(|b| b.len() < size && b.iter().all(|o| answer_key(name(o)) != key));
        match slot {
            Some(i) => out[i].push(item),
            None => out.push(vec![item]),
        }
    }
    out
}

/// One parameter in a `GetParameters` answer.
#[derive(Clone, Copy)]
pub(super) struct Answer<'a> {
    pub(super) name: Option<&'a str>,
    pub(super) arn: Option<&'a str>,
    pub(super) value: Option<&'a str>,
}

/// What a request got from one call's answers.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Matched<'a> {
    Value(&'a str),
    /// Nothing answered it; `listed` when AWS named it in `InvalidParameters`.
    Missing {
        listed: bool,
    },
    /// Two answers with different values claim it.
    Ambiguous,
}

/// Matches one call's answers to its requests (whose [`answer_key`]s are distinct, see
/// [`batches`]), one result per request, in order. Pure: the order AWS answers in changes
/// nothing.
pub(super) fn match_answers<'a>(
    requests: &[String],
    answers: &[Answer<'a>],
    invalid: &[String],
) -> Vec<Matched<'a>> {
    requests
        .iter()
        .map(|request| {
            if invalid.iter().any(|i| i == request) {
                return Matched::Missing { listed: true };
            }
            let is_arn = request.starts_with("arn:");
            let mut found: Option<&'a str> = None;
            for a in answers {
                let exact = a.name == Some(request.as_str()) || a.arn == Some(request.as_str());
                // An answer that carries an ARN other than the one requested is another
                // parameter (another account or region), however alike the names are.
                let other_arn = is_arn && a.arn.is_some_and(|arn| arn != request);
                let by_key =
                    !other_arn && a.name.is_some_and(|n| answer_key(n) == answer_key(request));
                if !(exact || by_key) {
                    continue;
                }
                let Some(value) = a.value else { continue };
                match found {
                    Some(v) if v != value => return Matched::Ambiguous,
                    _ => found = Some(value),
                }
            }
            match found {
                Some(v) => Matched::Value(v),
                None => Matched::Missing { listed: false },
            }
        })
        .collect()
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
    Failure::new(Class::SsmInvalidParameters, message).hint(hint)
}

fn api_failure(kind: Kind, message: &str, name: &str, region: &str) -> Failure {
    let message = format!("fetching secret data from SSM Parameter Store in {region}: {message}");
    let hint = match kind {
        Kind::AccessDenied => Some(format!(
            "grant `ssm:GetParameters` on `{}` to {GRANTEE}",
            parameter_arn_pattern(name, region)
        )),
        Kind::Kms => Some(format!(
            "grant `kms:Decrypt` on the parameter's KMS key to {GRANTEE}"
        )),
        other => common_hint(other),
    };
    let f = Failure::new(Class::SsmApiError, message).outcome(kind.label());
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
    crate::arn::build(
        partition,
        "ssm",
        region,
        "ACCOUNT_ID",
        &format!("parameter/{path}"),
    )
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

#[cfg(test)]
mod tests {
    use super::*;

    fn answer<'a>(name: &'a str, arn: Option<&'a str>, value: &'a str) -> Answer<'a> {
        Answer {
            name: Some(name),
            arn,
            value: Some(value),
        }
    }

    fn strings(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| (*n).to_owned()).collect()
    }

    const A111: &str = "arn:aws:ssm:us-east-1:111111111111:parameter/db";
    const A222: &str = "arn:aws:ssm:us-east-1:222222222222:parameter/db";

    #[test]
    fn colliding_names_never_share_a_call() {
        let names = [
            A111,
            A222,
            "db",
            "/db",
            "/aws/reference/secretsmanager/db",
            "other",
            "/a/b",
            "a/b",
        ];
        let groups = batches(names.to_vec(), |n| n, 10);
        for g in &groups {
            for (i, a) in g.iter().enumerate() {
                for b in &g[i + 1..] {
                    assert_ne!(answer_key(a), answer_key(b), "{a} and {b} share a call");
                }
            }
        }
        assert_eq!(groups.len(), 5, "{groups:?}");
        assert_eq!(groups.iter().map(Vec::len).sum::<usize>(), names.len());
        // Size still bounds a call.
        let many: Vec<String> = (0..25).map(|i| format!("p{i}")).collect();
        let sizes: Vec<usize> = batches(many, |n| n.as_str(), 10)
            .iter()
            .map(Vec::len)
            .collect();
        assert_eq!(sizes, [10, 10, 5]);
    }

    #[test]
    fn an_invalid_arn_never_takes_another_accounts_value() {
        // Account 222's ARN is invalid; 111's answer must not be taken for it, whatever the
        // answer's order or spelling of `Name`.
        for name in [A111, "db", "/db"] {
            let answers = [answer(name, Some(A111), "from-111")];
            for invalid in [strings(&[A222]), vec![]] {
                let got = match_answers(&strings(&[A222]), &answers, &invalid);
                assert_eq!(
                    got,
                    [Matched::Missing {
                        listed: !invalid.is_empty()
                    }]
                );
            }
            let got = match_answers(&strings(&[A111]), &answers, &[]);
            assert_eq!(got, [Matched::Value("from-111")]);
        }
    }

    #[test]
    fn a_listed_request_fails_even_when_an_answer_looks_like_it() {
        let answers = [answer("db", Some(A111), "param-db")];
        for request in ["/aws/reference/secretsmanager/db", A111, "db"] {
            let got = match_answers(&strings(&[request]), &answers, &strings(&[request]));
            assert_eq!(got, [Matched::Missing { listed: true }], "{request}");
        }
    }

    #[test]
    fn spellings_aws_echoes_are_matched() {
        let answers = [
            answer("/x", Some("arn:aws:ssm:us-east-1:1:parameter/x"), "vx"),
            answer("arn:aws:ssm:us-east-1:1:parameter/a/b", None, "vab"),
            answer("secret", None, "vs"),
        ];
        let requests = strings(&[
            "x",
            "/a/b",
            "/aws/reference/secretsmanager/secret",
            "missing",
        ]);
        let got = match_answers(&requests, &answers, &[]);
        assert_eq!(
            got,
            [
                Matched::Value("vx"),
                Matched::Value("vab"),
                Matched::Value("vs"),
                Matched::Missing { listed: false }
            ]
        );
        // An ARN request is matched by its own ARN, whatever `Name` says.
        let arn = "arn:aws:ssm:us-east-1:1:parameter/x";
        assert_eq!(
            match_answers(&strings(&[arn]), &answers, &[]),
            [Matched::Value("vx")]
        );
    }

    #[test]
    fn two_different_answers_for_one_request_are_a_failure() {
        let answers = [answer("x", None, "one"), answer("/x", None, "two")];
        assert_eq!(
            match_answers(&strings(&["x"]), &answers, &[]),
            [Matched::Ambiguous]
        );
        let same = [answer("x", None, "one"), answer("/x", None, "one")];
        assert_eq!(
            match_answers(&strings(&["x"]), &same, &[]),
            [Matched::Value("one")]
        );
    }
}
