//! The identities ECS uses, and how a developer's identity is allowed to act as them.
//!
//! On ECS, the agent reads a task's secrets, parameters and environment files as the task's
//! **execution role**; a local run reads them as the developer, usually a broader identity,
//! so a missing grant shows only after deploy. `--as-execution-role` closes that gap by
//! assuming the role (the AWS layer does that); this module is the pure part: which role is
//! meant, what a role ARN looks like, and the trust-policy statement a caller needs before it
//! may assume one. Execution roles usually trust only `ecs-tasks.amazonaws.com`, so the first
//! run is expected to fail with that statement as its next step. The same holds for the
//! **task role** the application runs as (`--task-role`, served by `credentials_endpoint`):
//! [`RoleKind`] says which of the two a message is about.

use crate::arn::Arn;

/// Which of the task's two roles: the one ECS fetches values as, or the one it gives the
/// application.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RoleKind {
    /// `executionRoleArn`: the agent reads secrets, parameters and env files as it.
    Execution,
    /// `taskRoleArn`: the application's own AWS identity.
    Task,
}

impl RoleKind {
    /// `execution role` / `task role`, for messages.
    pub(crate) fn noun(self) -> &'static str {
        match self {
            RoleKind::Execution => "execution role",
            RoleKind::Task => "task role",
        }
    }

    /// The task definition's field.
    fn field(self) -> &'static str {
        match self {
            RoleKind::Execution => "executionRoleArn",
            RoleKind::Task => "taskRoleArn",
        }
    }

    /// The flag that acts as the task definition's role, and the one that names another.
    pub(crate) fn flags(self) -> (&'static str, &'static str) {
        match self {
            RoleKind::Execution => ("--as-execution-role", "--execution-role ARN"),
            RoleKind::Task => ("--task-role", "--task-role-arn ARN"),
        }
    }
}

/// Which role to act as, chosen before the task definition is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RoleChoice {
    /// The task definition's role (`executionRoleArn` or `taskRoleArn`).
    TaskDefinition,
    /// A role named on the command line (`--execution-role ARN`, `--task-role-arn ARN`).
    Arn(String),
}

impl RoleChoice {
    /// The role ARN, from the choice and the task definition's field for `kind`; an error
    /// says what is missing or malformed.
    pub(crate) fn resolve(
        &self,
        kind: RoleKind,
        from_task: Option<&str>,
    ) -> Result<String, String> {
        let (flag, named) = kind.flags();
        let field = kind.field();
        let arn = match self {
            RoleChoice::Arn(arn) => arn.as_str(),
            RoleChoice::TaskDefinition if from_task == Some(crate::cloudformation::UNRESOLVED) => {
                return Err(format!(
                    "{flag}: the task definition's `{field}` is an expression ecs-env cannot \
                     evaluate here (a CloudFormation intrinsic only a deployed stack resolves, or \
                     a Terraform value only state knows); pass --stack NAME or --tfstate FILE, or \
                     name the role with {named}"
                ));
            }
            RoleChoice::TaskDefinition => from_task.ok_or_else(|| {
                format!("{flag}: the task definition has no `{field}`; name the role with {named}")
            })?,
        };
        role_arn_problem(arn).map_or(Ok(arn.to_owned()), |problem| {
            Err(format!(
                "{flag}: `{}` is {problem}",
                crate::diagnostic::escaped(arn)
            ))
        })
    }
}

/// What is wrong with `arn` as an IAM role ARN (`arn:PARTITION:iam::ACCOUNT:role/[PATH/]NAME`),
/// if anything.
pub(crate) fn role_arn_problem(arn: &str) -> Option<&'static str> {
    let Some(parsed) = Arn::of(arn) else {
        return Some("not an ARN (expected arn:aws:iam::ACCOUNT:role/NAME)");
    };
    let name = parsed
        .resource_of("role")
        .and_then(|r| r.rsplit('/').next());
    let account_ok =
        parsed.account.len() == 12 && parsed.account.bytes().all(|b| b.is_ascii_digit());
    if parsed.service != "iam" || !parsed.region.is_empty() || !account_ok {
        Some("not an IAM role ARN (expected arn:aws:iam::ACCOUNT:role/NAME)")
    } else if name.is_none_or(str::is_empty) || !parsed.resource.starts_with("role/") {
        Some("not a role ARN (the resource must be role/NAME)")
    } else {
        None
    }
}

/// How a role's trust policy names a caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Principal {
    /// An ARN the policy can name directly.
    Exact(String),
    /// A role whose name carries a random suffix that changes when it is re-created (IAM
    /// Identity Center permission sets, CloudFormation-generated names): the account as the
    /// principal, narrowed by `aws:PrincipalArn` with `ArnLike`.
    Pattern { account: String, pattern: String },
}

/// The principal a trust policy should name for the caller `caller_arn` (from
/// `sts:GetCallerIdentity`). A session ARN (`assumed-role/ROLE/SESSION`) becomes its role's
/// ARN: sessions change on every login, roles do not.
pub(crate) fn caller_principal(caller_arn: &str) -> Option<Principal> {
    let arn = Arn::of(caller_arn)?;
    let iam = |resource: &str| crate::arn::build(arn.partition, "iam", "", arn.account, resource);
    let pattern = |resource: String| Principal::Pattern {
        account: iam("root"),
        pattern: iam(&resource),
    };
    match arn.service {
        "iam" if arn.resource == "root" || arn.resource.starts_with("user/") => {
            Some(Principal::Exact(caller_arn.to_owned()))
        }
        "sts" if arn.resource.starts_with("federated-user/") => {
            Some(Principal::Exact(caller_arn.to_owned()))
        }
        "sts" => {
            let role = arn
                .resource
                .strip_prefix("assumed-role/")?
                .split('/')
                .next()?;
            Some(if let Some(permission_set) = sso_permission_set(role) {
                pattern(format!(
                    "role/aws-reserved/sso.amazonaws.com/*AWSReservedSSO_{permission_set}_*"
                ))
            } else if let Some(stem) = generated_stem(role) {
                pattern(format!("role/*{stem}-*"))
            } else {
                Principal::Exact(iam(&format!("role/{role}")))
            })
        }
        _ => None,
    }
}

/// `AWSReservedSSO_NAME_0123456789abcdef` → `NAME`.
fn sso_permission_set(role: &str) -> Option<&str> {
    let rest = role.strip_prefix("AWSReservedSSO_")?;
    let (name, suffix) = rest.rsplit_once('_')?;
    (suffix.len() == 16 && suffix.bytes().all(|b| b.is_ascii_hexdigit()) && !name.is_empty())
        .then_some(name)
}

/// `Stack-LogicalId-1A2B3C4D5E6F` → `Stack-LogicalId`: CloudFormation (and so CDK) names a
/// role without a `RoleName` with a random suffix of upper-case letters and digits.
fn generated_stem(role: &str) -> Option<&str> {
    let (stem, suffix) = role.rsplit_once('-')?;
    let random = (8..=13).contains(&suffix.len())
        && suffix
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        && suffix.bytes().any(|b| b.is_ascii_digit())
        && suffix.bytes().any(|b| b.is_ascii_uppercase());
    (random && !stem.is_empty()).then_some(stem)
}

/// The trust-policy statement that lets `caller_arn` assume a role, as one line of JSON to
/// paste into the role's `AssumeRolePolicyDocument`.
pub(crate) fn trust_statement(caller_arn: &str) -> Option<String> {
    let statement = match caller_principal(caller_arn)? {
        Principal::Exact(arn) => serde_json::json!({
            "Effect": "Allow",
            "Principal": {"AWS": arn},
            "Action": "sts:AssumeRole",
        }),
        Principal::Pattern { account, pattern } => serde_json::json!({
            "Effect": "Allow",
            "Principal": {"AWS": account},
            "Action": "sts:AssumeRole",
            "Condition": {"ArnLike": {"aws:PrincipalArn": pattern}},
        }),
    };
    Some(statement.to_string())
}

/// The next step after AssumeRole of `role` (the task's `kind` of role) failed for
/// `caller` (if known).
pub(crate) fn assume_role_hint(kind: RoleKind, role: &str, caller: Option<&str>) -> String {
    let trust = caller.and_then(trust_statement);
    let add = match trust {
        Some(statement) => {
            format!("add this statement to the trust policy of `{role}`: {statement}")
        }
        None => format!(
            "let your identity assume `{role}`: add it as a principal with `sts:AssumeRole` in \
             the role's trust policy"
        ),
    };
    let (flag, _) = kind.flags();
    let instead = match kind {
        RoleKind::Execution => "drop --as-execution-role to fetch as yourself",
        RoleKind::Task => "drop --task-role to give the command your own credentials",
    };
    format!(
        "{add}; {noun}s usually trust only `ecs-tasks.amazonaws.com`, so this is a \
         deliberate change (make it in a development account). When the trust policy names the \
         account rather than you, your own policy must also allow `sts:AssumeRole` on the role. \
         Or {instead} (without {flag})",
        noun = kind.noun()
    )
}

/// A value the execution role reads that never reaches the environment: a log driver's
/// secret option, or the registry credentials for a private image. ECS fails the task with
/// "unable to pull secrets or registry auth" when the role cannot read one, so `check`
/// verifies them and `policy` grants them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RoleRead {
    /// What it is, for messages: ``log driver secret option `NAME` `` or `registry credentials`.
    pub label: String,
    /// Its name in a table row: the secret option's name, or `repositoryCredentials`.
    pub name: String,
    /// Whether it is `repositoryCredentials.credentialsParameter`.
    pub registry: bool,
    /// The reference as a `valueFrom`: a registry secret given by name is a partial ARN in
    /// the task's region and account.
    pub value_from: String,
}

/// The row name of registry credentials.
pub(crate) const REGISTRY: &str = "repositoryCredentials";

/// The role reads of a container. A reference that cannot be written (a CloudFormation
/// intrinsic only a stack resolves; a registry secret by name without region or account) is
/// a failure, so that nothing is silently left out of a policy or a check.
pub(crate) fn role_reads(
    container: &crate::taskdef::ContainerDefinition,
    region: Option<&str>,
    account: Option<&str>,
) -> (Vec<RoleRead>, Vec<crate::resolve::Failure>) {
    use crate::diagnostic::Class;
    use crate::resolve::Failure;
    let mut reads = Vec::new();
    let mut failures = Vec::new();
    let unresolved = |label: &str| {
        Failure::new(
            Class::UnresolvedIntrinsic,
            format!("the {label} is an intrinsic function only a deployed stack resolves"),
        )
        .hint("pass --stack NAME (or --parameter), or use the deployed task definition")
    };
    for option in &container.log_secrets {
        let label = format!(
            "log driver secret option `{}`",
            crate::diagnostic::escaped(&option.name)
        );
        if option.value_from == crate::cloudformation::UNRESOLVED
            || option.name == crate::cloudformation::UNRESOLVED
        {
            failures.push(unresolved(&label).variable(&option.name));
            continue;
        }
        reads.push(RoleRead {
            label,
            name: option.name.clone(),
            registry: false,
            value_from: option.value_from.clone(),
        });
    }
    if let Some(parameter) = &container.registry_credentials {
        let label = "registry credentials".to_owned();
        let name = REGISTRY;
        if parameter == crate::cloudformation::UNRESOLVED {
            failures.push(unresolved(&label).variable(name));
        } else if parameter.starts_with("arn:") {
            if Arn::of(parameter).is_some_and(|a| a.service == "secretsmanager") {
                reads.push(RoleRead {
                    label,
                    name: name.to_owned(),
                    registry: true,
                    value_from: parameter.clone(),
                });
            } else {
                failures.push(
                    Failure::new(
                        Class::RegisterRejected,
                        "repositoryCredentials.credentialsParameter must be a Secrets Manager \
                         secret",
                    )
                    .variable(name)
                    .reference(parameter),
                );
            }
        } else {
            // ECS takes a secret's name when it is in the task's region (and so account).
            match (region, account) {
                (Some(region), Some(account)) => reads.push(RoleRead {
                    label,
                    name: name.to_owned(),
                    registry: true,
                    value_from: crate::arn::build(
                        crate::policy::partition_of(region),
                        "secretsmanager",
                        region,
                        account,
                        &format!("secret:{parameter}"),
                    ),
                }),
                (None, _) => failures.push(
                    Failure::new(
                        Class::NoRegion,
                        "registry credentials given by secret name are read in the task \
                         region, and none is set",
                    )
                    .variable(name)
                    .reference(parameter)
                    .hint("pass --region REGION or set AWS_REGION"),
                ),
                (_, None) => failures.push(
                    Failure::new(
                        Class::NoAccount,
                        "registry credentials given by secret name need the account to \
                         write the secret's ARN",
                    )
                    .variable(name)
                    .reference(parameter)
                    .hint("pass --account ID, or drop --offline"),
                ),
            }
        }
    }
    (reads, failures)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callers_become_the_principals_a_trust_policy_names() {
        let exact = |s: &str| Some(Principal::Exact(s.to_owned()));
        let cases = [
            (
                "arn:aws:iam::123456789012:user/dev",
                exact("arn:aws:iam::123456789012:user/dev"),
            ),
            (
                "arn:aws:iam::123456789012:user/team/dev",
                exact("arn:aws:iam::123456789012:user/team/dev"),
            ),
            ("arn:aws:iam::123456789012:root", exact("arn:aws:iam::123456789012:root")),
            // A session of a role is the role.
            (
                "arn:aws:sts::123456789012:assumed-role/Developer/alice",
                exact("arn:aws:iam::123456789012:role/Developer"),
            ),
            (
                "arn:aws-cn:sts::123456789012:assumed-role/Developer/alice",
                exact("arn:aws-cn:iam::123456789012:role/Developer"),
            ),
            (
                "arn:aws:sts::123456789012:federated-user/bob",
                exact("arn:aws:sts::123456789012:federated-user/bob"),
            ),
            // IAM Identity Center: the suffix changes when the permission set is re-provisioned.
            (
                "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_PowerUser_0a1b2c3d4e5f6789/alice@example.com",
                Some(Principal::Pattern {
                    account: "arn:aws:iam::123456789012:root".to_owned(),
                    pattern: "arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/*AWSReservedSSO_PowerUser_*".to_owned(),
                }),
            ),
            // A CloudFormation-generated role name.
            (
                "arn:aws:sts::123456789012:assumed-role/ci-stack-DeployRole-1A2B3C4D5E6F/gh",
                Some(Principal::Pattern {
                    account: "arn:aws:iam::123456789012:root".to_owned(),
                    pattern: "arn:aws:iam::123456789012:role/*ci-stack-DeployRole-*".to_owned(),
                }),
            ),
            // Words in capitals are not a random suffix.
            (
                "arn:aws:sts::123456789012:assumed-role/team-ADMINISTRATORS/x",
                exact("arn:aws:iam::123456789012:role/team-ADMINISTRATORS"),
            ),
            ("not an arn", None),
            ("arn:aws:s3:::bucket", None),
        ];
        for (caller, want) in cases {
            assert_eq!(caller_principal(caller), want, "{caller}");
        }
    }

    #[test]
    fn the_trust_statement_is_json_to_paste() {
        let s = trust_statement("arn:aws:sts::123456789012:assumed-role/Developer/alice").unwrap();
        let v: serde_json::Value = serde_json::from_str(&s).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"Effect": "Allow", "Action": "sts:AssumeRole",
                "Principal": {"AWS": "arn:aws:iam::123456789012:role/Developer"}})
        );
        let s = trust_statement(
            "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Dev_0123456789abcdef/a",
        )
        .unwrap();
        let v: serde_json::Value = serde_json::from_str(&s).unwrap();
        assert_eq!(v["Principal"]["AWS"], "arn:aws:iam::123456789012:root");
        assert_eq!(
            v["Condition"]["ArnLike"]["aws:PrincipalArn"],
            "arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/*AWSReservedSSO_Dev_*"
        );
    }

    #[test]
    fn role_reads_are_written_as_references_or_say_what_they_need() {
        use crate::diagnostic::Class;
        use crate::taskdef::{ContainerDefinition, SecretEntry};
        let container = |log: &[(&str, &str)], registry: Option<&str>| ContainerDefinition {
            name: "app".into(),
            log_secrets: log
                .iter()
                .map(|(n, v)| SecretEntry {
                    name: (*n).into(),
                    value_from: (*v).into(),
                })
                .collect(),
            registry_credentials: registry.map(str::to_owned),
            ..Default::default()
        };
        let arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:reg-AbCdEf";
        let (reads, failures) = role_reads(
            &container(&[("token", "/logs/token")], Some(arn)),
            None,
            None,
        );
        assert!(failures.is_empty());
        assert_eq!(
            reads
                .iter()
                .map(|r| (r.name.as_str(), r.registry, r.value_from.as_str()))
                .collect::<Vec<_>>(),
            vec![("token", false, "/logs/token"), (REGISTRY, true, arn)]
        );
        // A registry secret by name is in the task's region and account.
        let (reads, _) = role_reads(
            &container(&[], Some("registry")),
            Some("eu-west-1"),
            Some("123456789012"),
        );
        assert_eq!(
            reads[0].value_from,
            "arn:aws:secretsmanager:eu-west-1:123456789012:secret:registry"
        );
        let classes = |c: ContainerDefinition, region, account| {
            role_reads(&c, region, account)
                .1
                .iter()
                .map(|f| (f.variable.clone().unwrap(), f.class))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            classes(container(&[], Some("registry")), None, Some("1")),
            vec![(REGISTRY.to_owned(), Class::NoRegion)]
        );
        assert_eq!(
            classes(container(&[], Some("registry")), Some("eu-west-1"), None),
            vec![(REGISTRY.to_owned(), Class::NoAccount)]
        );
        assert_eq!(
            classes(
                container(&[], Some("arn:aws:ssm:us-east-1:123456789012:parameter/x")),
                None,
                None
            ),
            vec![(REGISTRY.to_owned(), Class::RegisterRejected)]
        );
        let unresolved = crate::cloudformation::UNRESOLVED;
        assert_eq!(
            classes(
                container(&[("t", unresolved)], Some(unresolved)),
                None,
                None
            ),
            vec![
                ("t".to_owned(), Class::UnresolvedIntrinsic),
                (REGISTRY.to_owned(), Class::UnresolvedIntrinsic)
            ]
        );
    }

    #[test]
    fn role_arns_are_checked_before_any_request() {
        assert_eq!(
            role_arn_problem("arn:aws:iam::123456789012:role/exec"),
            None
        );
        assert_eq!(
            role_arn_problem("arn:aws:iam::123456789012:role/service-role/exec"),
            None
        );
        for bad in [
            "exec",
            "arn:aws:iam::123456789012:user/dev",
            "arn:aws:iam::123456789012:role/",
            "arn:aws:sts::123456789012:assumed-role/exec/x",
            "arn:aws:iam::12345:role/exec",
            "arn:aws:iam:us-east-1:123456789012:role/exec",
        ] {
            assert!(role_arn_problem(bad).is_some(), "{bad}");
        }
        assert_eq!(
            RoleChoice::TaskDefinition.resolve(
                RoleKind::Execution,
                Some("arn:aws:iam::123456789012:role/exec")
            ),
            Ok("arn:aws:iam::123456789012:role/exec".to_owned())
        );
        assert!(
            RoleChoice::TaskDefinition
                .resolve(RoleKind::Execution, None)
                .unwrap_err()
                .contains("--execution-role ARN")
        );
        let task = RoleChoice::TaskDefinition
            .resolve(RoleKind::Task, None)
            .unwrap_err();
        assert!(
            task.contains("`taskRoleArn`") && task.contains("--task-role-arn ARN"),
            "{task}"
        );
        let unresolved = RoleChoice::TaskDefinition
            .resolve(RoleKind::Task, Some(crate::cloudformation::UNRESOLVED))
            .unwrap_err();
        assert!(unresolved.starts_with("--task-role:"), "{unresolved}");
        // The flag wins over the task definition.
        assert_eq!(
            RoleChoice::Arn("arn:aws:iam::123456789012:role/other".into())
                .resolve(RoleKind::Task, Some("arn:aws:iam::123456789012:role/exec")),
            Ok("arn:aws:iam::123456789012:role/other".to_owned())
        );
    }
}
