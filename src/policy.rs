//! The least-privilege IAM policy a task execution role needs to resolve its references.
//!
//! - `secretsmanager:GetSecretValue` on each secret's ARN. A partial ARN (no `-XXXXXX`
//!   suffix) gets the `-??????` wildcard, which matches exactly the six characters Secrets
//!   Manager appends; the JSON key, stage and version id are not part of the resource.
//! - `ssm:GetParameters` on each parameter's ARN. A bare name is read from the task region of
//!   the caller's account, so both are needed to write its ARN. The
//!   `/aws/reference/secretsmanager/NAME` path also needs `GetSecretValue` on the secret.
//! - `kms:Decrypt` on customer-managed keys (AWS-managed keys need no grant).
//! - `s3:GetObject` on environment files and `s3:GetBucketLocation` on their buckets.
//! - With `--batch`, `secretsmanager:BatchGetSecretValue` on `*`: that action has no
//!   resource type, and it grants nothing by itself (each secret still needs
//!   `GetSecretValue`). It lets ecs-env read twenty current versions per request.
//!
//! Pure: the caller supplies the account, region and discovered keys.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use crate::arn::SECRETS_MANAGER_REFERENCE;
use crate::reference::{ParameterRef, SecretRef};

/// The DNS suffix of a partition's endpoints (`AWS::URLSuffix`, `data.aws_partition`).
pub(crate) fn url_suffix_of(partition: &str) -> &'static str {
    match partition {
        "aws-cn" => "amazonaws.com.cn",
        "aws-iso" => "c2s.ic.gov",
        "aws-iso-b" => "sc2s.sgov.gov",
        "aws-iso-e" => "cloud.adc-e.uk",
        "aws-iso-f" => "csp.hci.ic.gov",
        "aws-eusc" => "amazonaws.eu",
        _ => "amazonaws.com",
    }
}

/// The partition a region belongs to.
pub(crate) fn partition_of(region: &str) -> &'static str {
    // `us-isob-`/`us-isof-` do not start with `us-iso-`, so the order does not matter.
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else if region.starts_with("us-iso-") {
        "aws-iso"
    } else if region.starts_with("us-isob-") {
        "aws-iso-b"
    } else if region.starts_with("us-isof-") {
        "aws-iso-f"
    } else if region.starts_with("eu-isoe-") {
        "aws-iso-e"
    } else if region.starts_with("eusc-") {
        "aws-eusc"
    } else {
        "aws"
    }
}

/// The IAM resource that grants `GetSecretValue` on this secret.
pub(crate) fn secret_resource(secret_id: &str) -> String {
    if crate::arn::has_secret_suffix(secret_id) {
        secret_id.to_owned()
    } else {
        format!("{secret_id}-??????")
    }
}

/// Where a bare name's ARN comes from.
#[derive(Debug, Clone, Default)]
pub(crate) struct Context {
    pub task_region: Option<String>,
    pub account: Option<String>,
}

/// Why a resource cannot be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Unresolvable {
    pub reference: String,
    pub missing: &'static str,
}

/// The ARN of a parameter, and for a Secrets Manager reference path, the secret it reads.
fn parameter_resources(
    p: &ParameterRef,
    ctx: &Context,
) -> Result<Vec<(Action, String)>, Unresolvable> {
    let (partition, region, account, name) = if p.name.starts_with("arn:") {
        let name = crate::arn::parameter_name(&p.name);
        (
            p.partition.clone().unwrap_or_default(),
            p.region.clone().unwrap_or_default(),
            p.account.clone().unwrap_or_default(),
            name.to_owned(),
        )
    } else {
        let unresolvable = |missing| Unresolvable {
            reference: p.name.clone(),
            missing,
        };
        let region = ctx
            .task_region
            .clone()
            .ok_or_else(|| unresolvable("region"))?;
        let account = ctx.account.clone().ok_or_else(|| unresolvable("account"))?;
        let name = if p.name.starts_with('/') {
            p.name.clone()
        } else {
            format!("/{}", p.name)
        };
        (partition_of(&region).to_owned(), region, account, name)
    };
    let mut out = vec![(
        Action::GetParameters,
        crate::arn::build(
            &partition,
            "ssm",
            &region,
            &account,
            &format!("parameter{name}"),
        ),
    )];
    if let Some(secret) = name.strip_prefix(SECRETS_MANAGER_REFERENCE) {
        out.push((
            Action::GetSecretValue,
            crate::arn::build(
                &partition,
                "secretsmanager",
                &region,
                &account,
                &format!("secret:{secret}-??????"),
            ),
        ));
    }
    Ok(out)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Action {
    GetSecretValue,
    BatchGetSecretValue,
    GetParameters,
    Decrypt,
    GetObject,
    GetBucketLocation,
}

impl Action {
    fn name(self) -> &'static str {
        match self {
            Action::GetSecretValue => "secretsmanager:GetSecretValue",
            Action::BatchGetSecretValue => "secretsmanager:BatchGetSecretValue",
            Action::GetParameters => "ssm:GetParameters",
            Action::Decrypt => "kms:Decrypt",
            Action::GetObject => "s3:GetObject",
            Action::GetBucketLocation => "s3:GetBucketLocation",
        }
    }

    fn sid(self) -> &'static str {
        match self {
            Action::GetSecretValue => "ReadSecrets",
            Action::BatchGetSecretValue => "ReadSecretsInBatches",
            Action::GetParameters => "ReadParameters",
            Action::Decrypt => "DecryptWithCustomerManagedKeys",
            Action::GetObject => "ReadEnvironmentFiles",
            Action::GetBucketLocation => "LocateEnvironmentFileBuckets",
        }
    }
}

/// An IAM policy document: one Allow statement per action, resources sorted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Policy {
    statements: BTreeMap<Action, BTreeSet<String>>,
}

impl Policy {
    /// The policy for these references, KMS keys (ARNs) and environment files (S3 ARNs).
    pub(crate) fn build(
        references: &[SecretRef],
        kms_keys: &[String],
        environment_files: &[String],
        ctx: &Context,
    ) -> Result<Policy, Vec<Unresolvable>> {
        let mut policy = Policy::default();
        let mut unresolvable = Vec::new();
        for r in references {
            match r {
                SecretRef::SecretsManager(s) => {
                    policy.grant(Action::GetSecretValue, secret_resource(&s.secret_id))
                }
                SecretRef::Parameter(p) => match parameter_resources(p, ctx) {
                    Ok(grants) => grants.into_iter().for_each(|(a, res)| policy.grant(a, res)),
                    Err(e) => unresolvable.push(e),
                },
            }
        }
        for key in kms_keys {
            policy.grant(Action::Decrypt, key.clone());
        }
        for file in environment_files {
            policy.grant(Action::GetObject, file.clone());
            if let Some(bucket) = crate::arn::s3_bucket(file) {
                policy.grant(Action::GetBucketLocation, bucket);
            }
        }
        if unresolvable.is_empty() {
            Ok(policy)
        } else {
            Err(unresolvable)
        }
    }

    /// Also allow `BatchGetSecretValue`, when any secret is read at all.
    pub(crate) fn allow_batch(&mut self) {
        if self.statements.contains_key(&Action::GetSecretValue) {
            self.grant(Action::BatchGetSecretValue, "*".to_owned());
        }
    }

    fn grant(&mut self, action: Action, resource: String) {
        self.statements.entry(action).or_default().insert(resource);
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.statements.is_empty()
    }

    /// The policy as an IAM policy document (JSON).
    pub(crate) fn to_json(&self) -> String {
        let statements: Vec<serde_json::Value> = self
            .statements
            .iter()
            .map(|(action, resources)| {
                serde_json::json!({
                    "Sid": action.sid(),
                    "Effect": "Allow",
                    "Action": action.name(),
                    "Resource": resources.iter().collect::<Vec<_>>(),
                })
            })
            .collect();
        let doc = serde_json::json!({"Version": "2012-10-17", "Statement": statements});
        let mut out = crate::diagnostic::json_for_terminal(
            serde_json::to_string_pretty(&doc).expect("a JSON value serialises"),
        );
        out.push('\n');
        out
    }

    /// The policy as a Terraform `aws_iam_policy_document` data block.
    pub(crate) fn to_terraform(&self, name: &str) -> String {
        let mut out = format!("data \"aws_iam_policy_document\" \"{name}\" {{\n");
        for (action, resources) in &self.statements {
            let _ = writeln!(out, "  statement {{");
            let _ = writeln!(out, "    sid       = {}", hcl_string(action.sid()));
            let _ = writeln!(out, "    effect    = \"Allow\"");
            let _ = writeln!(out, "    actions   = [{}]", hcl_string(action.name()));
            let _ = writeln!(out, "    resources = [");
            for r in resources {
                let _ = writeln!(out, "      {},", hcl_string(r));
            }
            let _ = writeln!(out, "    ]");
            let _ = writeln!(out, "  }}");
        }
        out.push_str("}\n");
        out
    }
}

/// A Terraform string literal: escapes quotes and backslashes, and `${` / `%{`, which would
/// start an interpolation or a directive.
fn hcl_string(s: &str) -> String {
    let mut escaped = String::with_capacity(s.len() + 2);
    for c in s.chars() {
        match c {
            '\\' => escaped.push_str("\\\\"),
            '"' => escaped.push_str("\\\""),
            '\n' => escaped.push_str("\\n"),
            '\r' => escaped.push_str("\\r"),
            '\t' => escaped.push_str("\\t"),
            // Any other control character as HCL's \uNNNN escape: never raw in the file.
            c if c.is_control() => escaped.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => escaped.push(c),
        }
    }
    let escaped = escaped.replace("${", "$${").replace("%{", "%%{");
    format!("\"{escaped}\"")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reference::parse;

    fn ctx() -> Context {
        Context {
            task_region: Some("us-east-1".into()),
            account: Some("123456789012".into()),
        }
    }

    #[test]
    fn resources_follow_iam_rules() {
        let refs: Vec<SecretRef> = [
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf:password::",
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf:username::",
            "arn:aws:secretsmanager:eu-west-1:123456789012:secret:shared/token:key:AWSPREVIOUS:",
            "/prod/api-key",
            "simple",
            "arn:aws:ssm:eu-west-1:123456789012:parameter/a/b",
            "/aws/reference/secretsmanager/legacy",
        ]
        .iter()
        .map(|v| parse(v).unwrap())
        .collect();
        let p = Policy::build(
            &refs,
            &[],
            &["arn:aws:s3:::cfg-bucket/app/prod.env".into()],
            &ctx(),
        )
        .unwrap();
        let json: serde_json::Value = serde_json::from_str(&p.to_json()).unwrap();
        let statements = json["Statement"].as_array().unwrap();
        let by_action = |a: &str| -> Vec<String> {
            statements
                .iter()
                .find(|s| s["Action"] == a)
                .map(|s| {
                    s["Resource"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|r| r.as_str().unwrap().to_owned())
                        .collect()
                })
                .unwrap_or_default()
        };
        assert_eq!(
            by_action("secretsmanager:GetSecretValue"),
            [
                "arn:aws:secretsmanager:eu-west-1:123456789012:secret:shared/token-??????",
                "arn:aws:secretsmanager:us-east-1:123456789012:secret:legacy-??????",
                "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf",
            ]
        );
        assert_eq!(
            by_action("ssm:GetParameters"),
            [
                "arn:aws:ssm:eu-west-1:123456789012:parameter/a/b",
                "arn:aws:ssm:us-east-1:123456789012:parameter/aws/reference/secretsmanager/legacy",
                "arn:aws:ssm:us-east-1:123456789012:parameter/prod/api-key",
                "arn:aws:ssm:us-east-1:123456789012:parameter/simple",
            ]
        );
        assert_eq!(
            by_action("s3:GetObject"),
            ["arn:aws:s3:::cfg-bucket/app/prod.env"]
        );
        assert_eq!(
            by_action("s3:GetBucketLocation"),
            ["arn:aws:s3:::cfg-bucket"]
        );
    }

    #[test]
    fn bare_names_need_account_and_region() {
        let refs = vec![parse("/p").unwrap()];
        let err = Policy::build(&refs, &[], &[], &Context::default()).unwrap_err();
        assert_eq!(err[0].missing, "region");
        let ctx = Context {
            task_region: Some("us-east-1".into()),
            account: None,
        };
        assert_eq!(
            Policy::build(&refs, &[], &[], &ctx).unwrap_err()[0].missing,
            "account"
        );
    }

    #[test]
    fn partitions_and_terraform() {
        assert_eq!(partition_of("cn-north-1"), "aws-cn");
        assert_eq!(partition_of("us-gov-west-1"), "aws-us-gov");
        let refs = vec![parse("/p").unwrap()];
        let ctx = Context {
            task_region: Some("cn-north-1".into()),
            account: Some("1".into()),
        };
        let p = Policy::build(
            &refs,
            &["arn:aws-cn:kms:cn-north-1:1:key/k".into()],
            &[],
            &ctx,
        )
        .unwrap();
        let tf = p.to_terraform("exec");
        assert!(
            tf.contains("\"arn:aws-cn:ssm:cn-north-1:1:parameter/p\","),
            "{tf}"
        );
        assert!(tf.contains("actions   = [\"kms:Decrypt\"]"), "{tf}");
        assert_eq!(hcl_string("a${b}%{c}\"\\"), r#""a$${b}%%{c}\"\\""#);
    }
}
