//! Parsing a secret's `valueFrom` into a typed reference, exactly as ECS reads it.
//!
//! The rules are those of the ECS control plane and agent (spec sections 1 and 4):
//!
//! - An ARN whose service is `secretsmanager` goes to Secrets Manager; an ARN whose service is
//!   `ssm`, or anything that is not an ARN, goes to SSM Parameter Store. A Secrets Manager secret
//!   given by bare name is therefore looked up as an SSM parameter, as on ECS.
//! - A Secrets Manager ARN is split like the AWS SDK's ARN parser (first five colons), then its
//!   resource is split on *every* colon: two fields is a whole-secret reference sent verbatim,
//!   five fields is `secret:name:json-key:version-stage:version-id` with the `SecretId` rebuilt
//!   from the first two; any other count is the agent's "invalid ARN format".
//! - SSM version and label selectors (`name:3`) are rejected as ECS rejects them at
//!   registration.
//!
//! Pure: no I/O. Errors carry the `valueFrom` (a reference, never a value).

use crate::arn::Arn;
use crate::diagnostic::Class;
use std::fmt;

/// Where a secret's value comes from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum SecretRef {
    SecretsManager(SecretsManagerRef),
    Parameter(ParameterRef),
}

/// A Secrets Manager reference, in the form the agent sends to `GetSecretValue`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct SecretsManagerRef {
    /// The `SecretId` actually sent: the valueFrom verbatim for the two-field form, the
    /// rebuilt `arn:partition:service:region:account:secret:name` for the five-field form.
    pub secret_id: String,
    pub partition: String,
    pub region: String,
    pub account: String,
    /// Top-level JSON key to extract; `None` means the whole `SecretString`.
    pub json_key: Option<String>,
    pub version_stage: Option<String>,
    pub version_id: Option<String>,
}

/// An SSM Parameter Store reference.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct ParameterRef {
    /// The string sent in `GetParameters.Names`: the valueFrom verbatim.
    pub name: String,
    /// The region of an ARN reference; `None` for a bare name (the task region is used).
    pub region: Option<String>,
    /// The account of an ARN reference.
    pub account: Option<String>,
    pub partition: Option<String>,
}

impl SecretRef {
    /// The region this reference is fetched from, given the task region for bare names.
    pub(crate) fn region<'a>(&'a self, task_region: Option<&'a str>) -> Option<&'a str> {
        match self {
            SecretRef::SecretsManager(r) => Some(&r.region),
            SecretRef::Parameter(p) => p.region.as_deref().or(task_region),
        }
    }

    /// The API call that fetches it.
    pub(crate) fn api(&self) -> &'static str {
        match self {
            SecretRef::SecretsManager(_) => "GetSecretValue",
            SecretRef::Parameter(_) => "GetParameters",
        }
    }
}

/// The canonical parameter name: the ARN prefix removed, and a single-level name without its
/// optional leading `/` (Parameter Store treats `x` and `/x` as the same parameter).
pub(crate) fn canonical_parameter_name(name_or_arn: &str) -> String {
    let name = crate::arn::parameter_name(name_or_arn);
    match name.strip_prefix('/') {
        Some(rest) if !rest.contains('/') => rest.to_owned(),
        _ => name.to_owned(),
    }
}

/// Why a `valueFrom` cannot be used. Each kind maps to one of the spec's error classes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ParseError {
    /// The agent's "invalid ARN format": a Secrets Manager resource with a colon-field
    /// count other than 2 or 5.
    AsmInvalidFormat { fields: usize },
    /// Not parseable as an ARN on the Secrets Manager path.
    ArnParse(&'static str),
    /// ECS would refuse the task definition at registration.
    RegisterRejected(String),
    /// Parameter Store itself would reject the name (ValidationException); ECS accepts it at
    /// registration and the task fails when it starts.
    ParameterValidation(String),
}

impl ParseError {
    /// The spec's stable error class.
    pub(crate) fn class(&self) -> Class {
        match self {
            ParseError::AsmInvalidFormat { .. } => Class::AsmInvalidFormat,
            ParseError::ArnParse(_) => Class::ArnParse,
            ParseError::RegisterRejected(_) => Class::RegisterRejected,
            ParseError::ParameterValidation(_) => Class::SsmApiError,
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::AsmInvalidFormat { fields } => write!(
                f,
                "invalid Secrets Manager ARN format: the part after the account has {fields} \
                 colon-separated fields; ECS accepts `secret:NAME` (whole secret) or \
                 `secret:NAME:JSON_KEY:VERSION_STAGE:VERSION_ID` with every colon present, \
                 e.g. `...:secret:NAME:password::`"
            ),
            ParseError::ArnParse(why) => write!(f, "not a valid ARN: {why}"),
            ParseError::RegisterRejected(why) | ParseError::ParameterValidation(why) => {
                f.write_str(why)
            }
        }
    }
}

impl std::error::Error for ParseError {}

/// The longest parameter name Parameter Store accepts.
const MAX_PARAMETER_NAME: usize = 2048;

/// Parse a `valueFrom` into a reference.
pub(crate) fn parse(value_from: &str) -> Result<SecretRef, ParseError> {
    let arn = Arn::parse(value_from).map_err(|_| {
        ParseError::ArnParse(
            "not enough sections (expected arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE)",
        )
    })?;
    let Some(arn) = arn else {
        return parse_parameter_name(value_from).map(SecretRef::Parameter);
    };
    match arn.service {
        "secretsmanager" => parse_secrets_manager(value_from, &arn).map(SecretRef::SecretsManager),
        "ssm" => parse_parameter_arn(value_from, &arn).map(SecretRef::Parameter),
        other => Err(ParseError::RegisterRejected(format!(
            "ARN service `{other}` cannot be used in `valueFrom`: ECS reads secrets from \
             Secrets Manager (`arn:...:secretsmanager:...`) or SSM Parameter Store \
             (`arn:...:ssm:...` or a parameter name)"
        ))),
    }
}

fn parse_secrets_manager(value_from: &str, arn: &Arn<'_>) -> Result<SecretsManagerRef, ParseError> {
    let fields: Vec<&str> = arn.resource.split(':').collect();
    let (secret_id, json_key, version_stage, version_id) = match fields[..] {
        [_, _] => (value_from.to_owned(), None, None, None),
        [kind, name, key, stage, id] => (
            crate::arn::build(
                arn.partition,
                arn.service,
                arn.region,
                arn.account,
                &format!("{kind}:{name}"),
            ),
            non_empty(key),
            non_empty(stage),
            non_empty(id),
        ),
        _ => {
            return Err(ParseError::AsmInvalidFormat {
                fields: fields.len(),
            });
        }
    };
    if arn.region.is_empty() {
        return Err(ParseError::ArnParse(
            "the Secrets Manager ARN has no region (arn:PARTITION:secretsmanager:REGION:...)",
        ));
    }
    check_region(arn.region)?;
    Ok(SecretsManagerRef {
        secret_id,
        partition: arn.partition.to_owned(),
        region: arn.region.to_owned(),
        account: arn.account.to_owned(),
        json_key,
        version_stage,
        version_id,
    })
}

/// A region name as AWS writes them (`us-east-1`, `cn-north-1`, `us-gov-west-1`): the SDK
/// would otherwise fail with an endpoint-parameter error that names none of this.
pub(crate) fn is_region(region: &str) -> bool {
    !region.is_empty()
        && region.len() <= 63
        && region
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !region.starts_with('-')
        && !region.ends_with('-')
}

fn check_region(region: &str) -> Result<(), ParseError> {
    if is_region(region) {
        Ok(())
    } else {
        Err(ParseError::ArnParse(
            "the ARN's region is not a region name (lower-case letters, digits and `-`, like us-east-1)",
        ))
    }
}

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_owned())
}

fn parse_parameter_arn(value_from: &str, arn: &Arn<'_>) -> Result<ParameterRef, ParseError> {
    let Some(name) = arn.resource.strip_prefix("parameter/") else {
        return Err(ParseError::RegisterRejected(
            "an SSM ARN in `valueFrom` must name a parameter: \
             arn:PARTITION:ssm:REGION:ACCOUNT:parameter/NAME"
                .to_owned(),
        ));
    };
    if name.starts_with('/') {
        return Err(ParseError::RegisterRejected(
            "the SSM parameter ARN has a doubled `/` after `parameter`: the ARN of `/a/b` is \
             `...:parameter/a/b`"
                .to_owned(),
        ));
    }
    if arn.region.is_empty() {
        return Err(ParseError::ArnParse(
            "the SSM parameter ARN has no region (arn:PARTITION:ssm:REGION:ACCOUNT:parameter/NAME)",
        ));
    }
    check_region(arn.region)?;
    check_parameter_chars(name)?;
    Ok(ParameterRef {
        name: value_from.to_owned(),
        region: Some(arn.region.to_owned()),
        account: Some(arn.account.to_owned()),
        partition: Some(arn.partition.to_owned()),
    })
}

fn parse_parameter_name(name: &str) -> Result<ParameterRef, ParseError> {
    check_parameter_chars(name)?;
    // Parameter Store requires a hierarchy to start with `/`; ECS does not check this, so
    // the task would fail at start with a ValidationException. The emulator is lenient here
    // (docs/testing.md), so the rule is enforced locally.
    if !name.starts_with('/') && name.contains('/') {
        return Err(ParseError::ParameterValidation(format!(
            "Parameter Store rejects a hierarchical name without a leading `/` \
             (ValidationException): use `/{name}`"
        )));
    }
    Ok(ParameterRef {
        name: name.to_owned(),
        region: None,
        account: None,
        partition: None,
    })
}

/// The registration check ECS applies to SSM names (containers-roadmap#859).
fn check_parameter_chars(name: &str) -> Result<(), ParseError> {
    let ecs_text = "The parameter name can be up to 2048 characters and include the following \
                    letters and symbols: a-zA-Z0-9_.-";
    if name
        .get(..4)
        .is_some_and(|p| p.eq_ignore_ascii_case("arn:"))
    {
        return Err(ParseError::RegisterRejected(
            "this looks like an ARN, but an ARN must start with lowercase `arn:`; as written, \
             ECS reads it as an SSM parameter name, and names cannot contain `:`"
                .to_owned(),
        ));
    }
    if name.contains(':') {
        return Err(ParseError::RegisterRejected(format!(
            "SSM parameter versions and labels (`name:3`, `name:label`) are rejected by ECS; \
             only Secrets Manager references can pin a version. {ecs_text}"
        )));
    }
    let bad = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | '/')));
    if name.is_empty() || name.len() > MAX_PARAMETER_NAME || bad.is_some() {
        let why = match bad {
            Some(c) => format!("it contains {}", describe_char(c)),
            None if name.is_empty() => "it is empty".to_owned(),
            None => format!("it is longer than {MAX_PARAMETER_NAME} characters"),
        };
        return Err(ParseError::RegisterRejected(format!(
            "not a valid SSM parameter name ({why}). {ecs_text} (and `/`)"
        )));
    }
    Ok(())
}

/// Names a character class for an error message; a `valueFrom` is a reference, not a value,
/// so quoting the character is safe.
fn describe_char(c: char) -> String {
    if c.is_whitespace() || c.is_control() {
        format!("the character U+{:04X}", u32::from(c))
    } else {
        format!("the character `{c}`")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/app/db-AbCdEf";

    fn asm(vf: &str) -> SecretsManagerRef {
        match parse(vf) {
            Ok(SecretRef::SecretsManager(r)) => r,
            other => panic!("{vf}: {other:?}"),
        }
    }

    #[test]
    fn whole_secret_is_sent_verbatim() {
        let r = asm(BASE);
        assert_eq!(r.secret_id, BASE);
        assert_eq!(r.region, "us-east-1");
        assert_eq!(
            (r.json_key, r.version_stage, r.version_id),
            (None, None, None)
        );
    }

    #[test]
    fn five_fields_rebuild_the_secret_id() {
        let r = asm(&format!("{BASE}:password:AWSPREVIOUS:vid"));
        assert_eq!(r.secret_id, BASE);
        assert_eq!(r.json_key.as_deref(), Some("password"));
        assert_eq!(r.version_stage.as_deref(), Some("AWSPREVIOUS"));
        assert_eq!(r.version_id.as_deref(), Some("vid"));
        let all_empty = asm(&format!("{BASE}:::"));
        assert_eq!(all_empty.secret_id, BASE);
        assert_eq!(all_empty.json_key, None);
    }

    #[test]
    fn trailing_colons_count() {
        for (suffix, fields) in [(":key", 3), (":key:", 4), (":", 3), ("::", 4), ("::::", 6)] {
            assert_eq!(
                parse(&format!("{BASE}{suffix}")),
                Err(ParseError::AsmInvalidFormat { fields }),
                "{suffix}"
            );
        }
    }

    #[test]
    fn partial_arn_and_other_partitions() {
        let r = asm("arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/app/db:password::");
        assert_eq!(
            r.secret_id,
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/app/db"
        );
        let cn = asm("arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:app-AbCdEf:pw::");
        assert_eq!(
            cn.secret_id,
            "arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:app-AbCdEf"
        );
        assert_eq!(cn.region, "cn-north-1");
    }

    #[test]
    fn short_arns_do_not_parse() {
        assert!(matches!(
            parse("arn:aws:secretsmanager:us-east-1"),
            Err(ParseError::ArnParse(_))
        ));
        // A missing account shifts the fields: `x-AbCdEf` becomes a one-field resource.
        assert_eq!(
            parse("arn:aws:secretsmanager:us-east-1:secret:x-AbCdEf"),
            Err(ParseError::AsmInvalidFormat { fields: 1 })
        );
    }

    #[test]
    fn bare_names_and_ssm_arns_are_parameters() {
        for (vf, region) in [
            ("my-param", None),
            ("/prod/db/password", None),
            ("/aws/reference/secretsmanager/prod/app/db", None),
            (
                "arn:aws:ssm:eu-west-1:123456789012:parameter/a/b",
                Some("eu-west-1"),
            ),
        ] {
            match parse(vf) {
                Ok(SecretRef::Parameter(p)) => {
                    assert_eq!(p.name, vf);
                    assert_eq!(p.region.as_deref(), region);
                }
                other => panic!("{vf}: {other:?}"),
            }
        }
    }

    #[test]
    fn registration_rejects() {
        for vf in [
            "my-param:3",
            "/prod/db:live",
            "ARN:aws:secretsmanager:us-east-1:123456789012:secret:x-AbCdEf",
            "arn:aws:ssm:us-east-1:123456789012:parameter/x:3",
            "arn:aws:ssm:us-east-1:123456789012:parameter//a/b",
            "arn:aws:s3:::bucket/key",
            "has space",
            "",
        ] {
            assert_eq!(
                parse(vf).map_err(|e| e.class()),
                Err(Class::RegisterRejected),
                "{vf}"
            );
        }
    }

    #[test]
    fn hierarchy_without_leading_slash_is_a_validation_error() {
        assert_eq!(
            parse("prod/db/password").map_err(|e| e.class()),
            Err(Class::SsmApiError)
        );
    }

    #[test]
    fn canonical_names_match_across_spellings() {
        for (a, b) in [
            ("x", "/x"),
            ("arn:aws:ssm:us-east-1:1:parameter/x", "x"),
            ("arn:aws:ssm:us-east-1:1:parameter/a/b", "/a/b"),
        ] {
            assert_eq!(canonical_parameter_name(a), canonical_parameter_name(b));
        }
        assert_ne!(
            canonical_parameter_name("/a/b"),
            canonical_parameter_name("a/b")
        );
    }
}
