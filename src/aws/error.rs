//! Classifying SDK errors into a few kinds that decide the message and the next step.
//!
//! Reads error codes through `ProvideErrorMetadata`, like the Secrets Manager caching agent's
//! `svc_err`. Some endpoints answer a denial with an XML body and HTTP 403 where AWS sends a
//! JSON `AccessDeniedException` (the emulator does, docs/testing.md); the SDK then has no code, so
//! the HTTP status and the body's `<Code>`/`<Message>` decide. AWS error messages name
//! identities, actions and resources, never secret values.

use aws_sdk_secretsmanager::config::http::HttpResponse;
use aws_sdk_secretsmanager::error::{ProvideErrorMetadata, SdkError};

/// Who a denial's hint asks to be granted the permission. When values are fetched as the
/// execution role, [`as_role`] names that role instead.
pub(crate) const GRANTEE: &str = "the identity in use (on ECS, the task execution role)";

/// A failure of a request made as `role`: the hint names the role that lacks the permission,
/// and what was tried says who tried it.
pub(crate) fn as_role(failure: &mut crate::resolve::Failure, role: &str) {
    if let Some(hint) = &mut failure.hint {
        *hint = hint.replace(
            GRANTEE,
            &format!("the execution role `{role}` (ECS would be denied the same way)"),
        );
    }
    failure.tried = Some(match failure.tried.take() {
        Some(tried) => format!("{tried}, as `{role}`"),
        None => format!("as `{role}`"),
    });
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    NotFound,
    AccessDenied,
    Kms,
    Throttled,
    Credentials,
    Transport,
    Other,
}

#[derive(Debug, Clone)]
pub(crate) struct Classified {
    pub(crate) kind: Kind,
    /// One line: the AWS error code and message, or the transport failure.
    pub(crate) message: String,
}

pub(crate) fn classify<E>(err: &SdkError<E, HttpResponse>) -> Classified
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let code = err
        .as_service_error()
        .and_then(ProvideErrorMetadata::code)
        .map(str::to_owned);
    match (err, code, err.raw_response()) {
        (SdkError::TimeoutError(_), _, _) => Classified {
            kind: Kind::Transport,
            message: "the request timed out".to_owned(),
        },
        (SdkError::DispatchFailure(_), _, _) => {
            let mut message = chain(err);
            if message.contains("invalid peer certificate") {
                // Typically a scratch image without a CA bundle.
                message.push_str(
                    " (no trusted CA certificate: add /etc/ssl/certs/ca-certificates.crt, or set \
                     SSL_CERT_FILE to a CA bundle)",
                );
            }
            Classified {
                kind: Kind::Transport,
                message,
            }
        }
        (_, Some(code), Some(raw)) => {
            let message = err
                .as_service_error()
                .and_then(ProvideErrorMetadata::message)
                .unwrap_or_default()
                .to_owned();
            service_error(code, message, raw.status().as_u16())
        }
        // An error answer the SDK could not parse (an XML body where JSON was expected):
        // the status and the body's own <Code>/<Message> still say what happened.
        (_, None, Some(raw)) if raw.status().as_u16() >= 400 => {
            let status = raw.status().as_u16();
            let (code, message) = xml_error(raw).unwrap_or_else(|| {
                (
                    format!("HTTP {status}"),
                    "unrecognised error response".to_owned(),
                )
            });
            service_error(code, message, status)
        }
        // A success status whose body the SDK could not read (or an error body without a
        // code): the parser's text can quote the body, and the body can hold a value, so
        // only the status and the size are said.
        (_, _, Some(raw)) if (300..400).contains(&raw.status().as_u16()) => Classified {
            kind: Kind::Other,
            message: format!(
                "the endpoint answered with a redirect (HTTP {}), which AWS sends when the \
                 request went to the wrong region or endpoint",
                raw.status().as_u16()
            ),
        },
        (_, _, Some(raw)) => Classified {
            kind: Kind::Other,
            message: format!(
                "the answer (HTTP {}, {} bytes) is not the response the API defines, and was \
                 not read",
                raw.status().as_u16(),
                raw.body().bytes().map_or(0, <[u8]>::len)
            ),
        },
        _ => Classified {
            kind: Kind::Other,
            message: chain(err),
        },
    }
}

fn service_error(code: String, message: String, status: u16) -> Classified {
    let kind = kind_of(&code, &message, status);
    let message = if message.is_empty() {
        code
    } else {
        format!("{code}: {message}")
    };
    Classified { kind, message }
}

/// An error and its sources as one line of `Display` texts joined by ": ", skipping a
/// source whose text the previous one already contains. (The SDK's `DisplayErrorContext`
/// appends a `Debug` dump, which is no message for a person.)
/// Why AssumeRole failed, in one line: the classified STS error where the provider kept it
/// (`AccessDenied: User ... is not authorized to perform: sts:AssumeRole on resource ...`),
/// else the error chain.
pub(crate) fn assume_role_detail(
    err: &aws_credential_types::provider::error::CredentialsError,
) -> String {
    use aws_sdk_sts::operation::assume_role::AssumeRoleError;
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = next {
        if let Some(sdk) = e.downcast_ref::<SdkError<AssumeRoleError, HttpResponse>>() {
            return classify(sdk).message;
        }
        next = e.source();
    }
    chain(err)
}

pub(crate) fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(err);
    while let Some(e) = next {
        let text = e.to_string();
        if !parts.last().is_some_and(|last| last.contains(&text)) {
            parts.push(text);
        }
        next = e.source();
    }
    parts.join(": ")
}

fn kind_of(code: &str, message: &str, status: u16) -> Kind {
    let mentions_kms = message.to_ascii_lowercase().contains("kms");
    match code {
        "ResourceNotFoundException"
        | "ParameterNotFound"
        | "NoSuchKey"
        | "NoSuchBucket"
        | "NotFound" => Kind::NotFound,
        "DecryptionFailure" => Kind::Kms,
        c if c.starts_with("KMS") => Kind::Kms,
        "AccessDeniedException" | "AccessDenied" if mentions_kms => Kind::Kms,
        "AccessDeniedException" | "AccessDenied" => Kind::AccessDenied,
        "ThrottlingException"
        | "Throttling"
        | "TooManyRequestsException"
        | "RequestLimitExceeded" => Kind::Throttled,
        "ExpiredTokenException"
        | "ExpiredToken"
        | "UnrecognizedClientException"
        | "InvalidSignatureException"
        | "InvalidClientTokenId"
        | "SignatureDoesNotMatch" => Kind::Credentials,
        _ if status == 403 => Kind::AccessDenied,
        _ if status == 429 || status == 503 => Kind::Throttled,
        _ => Kind::Other,
    }
}

/// `<Code>` and `<Message>` from an XML error body, when there is one.
fn xml_error(raw: &HttpResponse) -> Option<(String, String)> {
    let body = std::str::from_utf8(raw.body().bytes()?).ok()?;
    let tag = |name: &str| {
        let open = format!("<{name}>");
        let start = body.find(&open)? + open.len();
        let end = body[start..].find(&format!("</{name}>"))?;
        Some(body[start..start + end].trim().to_owned())
    };
    Some((tag("Code")?, tag("Message").unwrap_or_default()))
}

impl Kind {
    /// The outcome label `check` shows.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Kind::NotFound => "not found",
            Kind::AccessDenied => "access denied",
            Kind::Kms => "KMS denied",
            Kind::Throttled => "throttled",
            Kind::Credentials => "credentials rejected",
            Kind::Transport => "network error",
            Kind::Other => "error",
        }
    }
}

/// The hint for failures that do not depend on the service.
pub(crate) fn common_hint(kind: Kind) -> Option<String> {
    match kind {
        Kind::Credentials => Some(
            "the credentials were rejected or have expired: refresh them (`aws login`, `aws sso \
             login`, a new session token) and retry"
                .to_owned(),
        ),
        Kind::Throttled => {
            Some("AWS throttled the request after the SDK's retries; retry in a moment".to_owned())
        }
        Kind::Transport => {
            Some("check the network, --region and --endpoint-url (or AWS_ENDPOINT_URL)".to_owned())
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds() {
        assert_eq!(
            kind_of("ResourceNotFoundException", "", 400),
            Kind::NotFound
        );
        assert_eq!(
            kind_of("AccessDeniedException", "not authorized", 400),
            Kind::AccessDenied
        );
        assert_eq!(
            kind_of("AccessDeniedException", "Access to KMS is not allowed", 400),
            Kind::Kms
        );
        assert_eq!(kind_of("DecryptionFailure", "", 400), Kind::Kms);
        assert_eq!(kind_of("HTTP 403", "", 403), Kind::AccessDenied);
        assert_eq!(kind_of("ThrottlingException", "", 400), Kind::Throttled);
        assert_eq!(kind_of("ExpiredTokenException", "", 400), Kind::Credentials);
        assert_eq!(kind_of("InternalServiceError", "", 500), Kind::Other);
    }
}
