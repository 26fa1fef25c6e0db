//! Amazon Resource Names: the one parser and writer every module uses (references,
//! environment files, policies, deployed sources, the AWS layer), and the few rules about
//! ARNs that more than one place needs.
//!
//! An ARN is split as the AWS SDKs split it: on the first five colons, so the resource keeps
//! its own colons (`secret:NAME:KEY:STAGE:ID`).

use std::fmt;

/// The SSM parameter path that reads a Secrets Manager secret through Parameter Store.
pub(crate) const SECRETS_MANAGER_REFERENCE: &str = "/aws/reference/secretsmanager/";

/// The six sections of an ARN, borrowed from the string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Arn<'a> {
    pub(crate) partition: &'a str,
    pub(crate) service: &'a str,
    pub(crate) region: &'a str,
    pub(crate) account: &'a str,
    pub(crate) resource: &'a str,
}

/// A string that starts with `arn:` but has fewer than six sections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TooFewSections;

impl<'a> Arn<'a> {
    /// `Ok(None)` when the string is not an ARN at all (no exact, lower-case `arn:` prefix).
    pub(crate) fn parse(s: &'a str) -> Result<Option<Arn<'a>>, TooFewSections> {
        if !s.starts_with("arn:") {
            return Ok(None);
        }
        let mut sections = s.splitn(6, ':').skip(1);
        let mut next = || sections.next().ok_or(TooFewSections);
        Ok(Some(Arn {
            partition: next()?,
            service: next()?,
            region: next()?,
            account: next()?,
            resource: next()?,
        }))
    }

    /// The ARN, if `s` is a well-formed one.
    pub(crate) fn of(s: &'a str) -> Option<Arn<'a>> {
        Arn::parse(s).ok().flatten()
    }

    /// The resource after `TYPE/` or `TYPE:` (`parameter/x` → `x`), if it is of that type.
    pub(crate) fn resource_of(&self, kind: &str) -> Option<&'a str> {
        let rest = self.resource.strip_prefix(kind)?;
        rest.strip_prefix('/').or_else(|| rest.strip_prefix(':'))
    }
}

impl fmt::Display for Arn<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "arn:{}:{}:{}:{}:{}",
            self.partition, self.service, self.region, self.account, self.resource
        )
    }
}

/// Writes an ARN from its sections.
pub(crate) fn build(
    partition: &str,
    service: &str,
    region: &str,
    account: &str,
    resource: &str,
) -> String {
    Arn {
        partition,
        service,
        region,
        account,
        resource,
    }
    .to_string()
}

/// A parameter's name from its ARN or name: `arn:...:parameter/a/b` → `a/b`; anything else
/// unchanged. (The ARN of `/a/b` does not double the slash, so the leading `/` is lost.)
pub(crate) fn parameter_name(name_or_arn: &str) -> &str {
    match Arn::of(name_or_arn) {
        Some(arn) => arn
            .resource
            .strip_prefix("parameter")
            .unwrap_or(arn.resource),
        None => name_or_arn,
    }
}

/// A Secrets Manager secret's name from its ARN (`...:secret:NAME`), or the id unchanged
/// when it is a name.
pub(crate) fn secret_name(secret_id: &str) -> &str {
    Arn::of(secret_id)
        .and_then(|arn| arn.resource_of("secret"))
        .unwrap_or(secret_id)
}

/// Whether a secret's name ends like the six-character suffix Secrets Manager appends
/// (`name-AbCdEf`). A partial ARN whose name happens to end that way is indistinguishable
/// from a complete one, which is why Secrets Manager itself reads it as complete.
pub(crate) fn has_secret_suffix(secret_id: &str) -> bool {
    secret_name(secret_id)
        .rsplit_once('-')
        .is_some_and(|(_, s)| s.len() == 6 && s.chars().all(|c| c.is_ascii_alphanumeric()))
}

/// `arn:aws:s3:::bucket/key` → `arn:aws:s3:::bucket`.
pub(crate) fn s3_bucket(object_arn: &str) -> Option<String> {
    let arn = Arn::of(object_arn)?;
    let bucket = arn.resource.split('/').next()?;
    Some(build(
        arn.partition,
        arn.service,
        arn.region,
        arn.account,
        bucket,
    ))
}

/// What makes a reference look like a placeholder someone forgot to fill in: an unrendered
/// template (`{{must_env `X`}}`, `${ACCOUNT}`, `<account_id>`), or an ARN whose account is not
/// 12 digits or whose region is not a region name (`ACCOUNT_ID`, `REGION`). Such a reference
/// never resolves; said up front, it is found by `check --offline`, not by a failed fetch.
pub(crate) fn placeholder(reference: &str) -> Option<String> {
    for marker in ["{{", "}}", "${", "$(", "%{"] {
        if reference.contains(marker) {
            return Some(format!("it contains `{marker}`, an unrendered template"));
        }
    }
    if let Some(open) = reference.find('<')
        && let Some(len) = reference[open + 1..].find('>')
        && len > 0
    {
        let inner = &reference[open..open + len + 2];
        return Some(format!("it contains `{inner}`, a placeholder"));
    }
    let arn = Arn::of(reference)?;
    if !arn.region.is_empty() && !is_region_name(arn.region) {
        return Some(format!("its region `{}` is not a region name", arn.region));
    }
    if !arn.account.is_empty()
        && (arn.account.len() != 12 || !arn.account.bytes().all(|b| b.is_ascii_digit()))
    {
        return Some(format!(
            "its account `{}` is not a 12-digit account id",
            arn.account
        ));
    }
    None
}

/// `us-east-1`, `us-gov-west-1`, `eu-isoe-west-1`, `eusc-de-east-1`: lowercase parts joined by
/// `-`, letters first, a number last.
fn is_region_name(region: &str) -> bool {
    let parts: Vec<&str> = region.split('-').collect();
    parts.len() >= 3
        && parts[0].len() >= 2
        && parts[0].bytes().all(|b| b.is_ascii_lowercase())
        && parts[1..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts[parts.len() - 1].bytes().all(|b| b.is_ascii_digit())
        && !parts[parts.len() - 1].is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_write() {
        let s = "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf:password::";
        let arn = Arn::of(s).unwrap();
        assert_eq!(
            (arn.partition, arn.service, arn.region, arn.account),
            ("aws", "secretsmanager", "us-east-1", "123456789012")
        );
        assert_eq!(arn.resource, "secret:db-AbCdEf:password::");
        assert_eq!(arn.resource_of("secret"), Some("db-AbCdEf:password::"));
        assert_eq!(arn.to_string(), s);
        assert_eq!(Arn::parse("name"), Ok(None));
        assert_eq!(Arn::parse("ARN:aws:ssm:r:a:parameter/x"), Ok(None));
        assert_eq!(Arn::parse("arn:aws:ssm:r"), Err(TooFewSections));
        assert_eq!(Arn::of("arn:aws:s3:::b/k").unwrap().resource, "b/k");
    }

    #[test]
    fn rules() {
        assert_eq!(parameter_name("arn:aws:ssm:r:1:parameter/a/b"), "/a/b");
        assert_eq!(parameter_name("arn:aws:ssm:r:1:parameter/x"), "/x");
        assert_eq!(parameter_name("/x"), "/x");
        assert_eq!(
            secret_name("arn:aws:secretsmanager:r:1:secret:app/db"),
            "app/db"
        );
        assert!(has_secret_suffix(
            "arn:aws:secretsmanager:r:1:secret:db-AbCdEf"
        ));
        assert!(has_secret_suffix("db-AbCdEf"));
        assert!(!has_secret_suffix("arn:aws:secretsmanager:r:1:secret:db"));
        assert!(!has_secret_suffix(
            "arn:aws:secretsmanager:r:1:secret:db-AbCd"
        ));
        assert_eq!(
            s3_bucket("arn:aws:s3:::b/k/x.env").as_deref(),
            Some("arn:aws:s3:::b")
        );
        assert_eq!(
            build("aws", "kms", "r", "1", "key/k"),
            "arn:aws:kms:r:1:key/k"
        );
    }

    #[test]
    fn placeholders_are_named() {
        for (reference, what) in [
            (
                "arn:aws:ssm:us-east-1:ACCOUNT_ID:parameter/db",
                "account `ACCOUNT_ID`",
            ),
            (
                "arn:aws:ssm:REGION:123456789012:parameter/db",
                "region `REGION`",
            ),
            (
                "arn:aws:secretsmanager:us-east-1:<account_id>:secret:db",
                "`<account_id>`",
            ),
            (
                "arn:aws:ssm:us-east-1:{{must_env `ACCOUNT`}}:parameter/db",
                "`{{`",
            ),
            (
                "arn:aws:ssm:${AWS_REGION}:123456789012:parameter/db",
                "`${`",
            ),
            ("/app/{{ .Env }}/db", "`{{`"),
            (
                "arn:aws:ssm:us-east-1:12345678901:parameter/db",
                "account `12345678901`",
            ),
        ] {
            let found = placeholder(reference).unwrap_or_default();
            assert!(found.contains(what), "{reference}: {found}");
        }
        for fine in [
            "arn:aws:ssm:us-east-1:123456789012:parameter/db",
            "arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:db-AbCdEf:pw::",
            "arn:aws:ssm:eu-isoe-west-1:123456789012:parameter/x",
            "arn:aws:ssm:eusc-de-east-1:123456789012:parameter/x",
            "arn:aws:s3:::bucket/app.env",
            "/plain/parameter-name",
            "db-password",
        ] {
            assert_eq!(placeholder(fine), None, "{fine}");
        }
    }
}
