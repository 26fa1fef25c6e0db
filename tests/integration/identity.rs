//! `--as-execution-role`: values are fetched as the task's execution role, as ECS fetches
//! them, against the emulator with IAM enforcement on (its own server: enforcement is
//! server-wide). The emulator checks a role's trust policy against the caller's exact ARN
//! and a role's inline policy by action, which is what these tests rely on.

use serde_json::Value;

use crate::emulator::{Emulator, private_emulator, unique};
use crate::proxy::Proxy;
use crate::util::{EcsEnv, ecs_env, ecs_env_offline};

const REGION: &str = "us-east-1";

/// A developer who may do anything, and the caller's ARN the emulator reports for them.
pub(crate) struct Developer {
    pub(crate) key: String,
    pub(crate) secret: String,
    pub(crate) arn: String,
}

impl Developer {
    /// ecs-env run as this developer, against `endpoint` (the emulator or a proxy before it).
    pub(crate) fn ecs_env(&self, endpoint: &str) -> EcsEnv {
        ecs_env()
            .env("AWS_ENDPOINT_URL", endpoint)
            .env("AWS_ACCESS_KEY_ID", &self.key)
            .env("AWS_SECRET_ACCESS_KEY", &self.secret)
    }
}

pub(crate) fn developer(e: &Emulator) -> Developer {
    let name = unique("dev");
    let (key, secret) = e.iam_user(&name, &["*"]);
    Developer {
        key,
        secret,
        arn: format!("arn:aws:iam::123456789012:user/{name}"),
    }
}

/// A role trusting `trusted`, allowed `actions`; its ARN.
pub(crate) fn role(e: &Emulator, trusted: &str, actions: &[&str]) -> String {
    let name = unique("exec");
    let out = e.python(
        "moto_role.py",
        &[
            &e.endpoint,
            &name,
            trusted,
            &serde_json::to_string(actions).unwrap(),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

fn task_definition(role: Option<&str>, secrets: &[(&str, &str)]) -> String {
    let secrets: Vec<Value> = secrets
        .iter()
        .map(|(n, v)| serde_json::json!({"name": n, "valueFrom": v}))
        .collect();
    let mut td = serde_json::json!({
        "family": "app",
        "containerDefinitions": [{"name": "app", "image": "app", "secrets": secrets}],
    });
    if let Some(role) = role {
        td["executionRoleArn"] = role.into();
    }
    td.to_string()
}

/// Whether a request reads a value.
fn reads_value(r: &crate::proxy::Request) -> bool {
    matches!(
        r.api(),
        "GetSecretValue" | "BatchGetSecretValue" | "GetParameters" | "GetParameter"
    )
}

#[test]
fn values_are_fetched_as_the_execution_role_and_its_missing_grant_fails_here() {
    let e = private_emulator();
    let secret = e.create_secret(REGION, &unique("db"), "sm-value");
    let parameter = format!("/{}", unique("key"));
    e.put_parameter(REGION, &parameter, "ssm-value", false);
    let dev = developer(&e);
    // The role ECS uses can read parameters but not secrets; a second one can read both.
    let narrow = role(&e, &dev.arn, &["ssm:GetParameters"]);
    let enough = role(
        &e,
        &dev.arn,
        &["ssm:GetParameters", "secretsmanager:GetSecretValue"],
    );
    let td = task_definition(Some(&narrow), &[("DB", &secret), ("KEY", &parameter)]);
    e.enforce_iam();
    let proxy = Proxy::start(&e.endpoint, vec![]);
    let as_dev = || dev.ecs_env(&proxy.endpoint);

    // As the developer, everything resolves: the gap ECS would hit after deploy.
    let env = as_dev().task_definition(&td).child_env();
    env.assert("DB", "sm-value");
    env.assert("KEY", "ssm-value");

    // As the execution role, the missing grant fails now, naming the role and the action;
    // the parameter the role may read is not reported.
    let before = proxy.requests().len();
    let run = as_dev()
        .arg("--as-execution-role")
        .task_definition(&td)
        .args(["--", "true"])
        .output();
    run.assert_code(125)
        .assert_stderr_contains("secretsmanager:GetSecretValue")
        .assert_stderr_contains(&format!("the execution role `{narrow}`"));
    assert!(!run.stderr().contains("KEY"), "{}", run.stderr());
    // The role was assumed with the developer's key, and every value was asked for with
    // the role's temporary key, never the developer's.
    let requests = &proxy.requests()[before..];
    let assumed: Vec<_> = requests
        .iter()
        .filter(|r| r.raw.contains("Action=AssumeRole"))
        .collect();
    assert_eq!(assumed.len(), 1, "{requests:?}");
    assert_eq!(assumed[0].access_key, dev.key);
    let values: Vec<_> = requests.iter().filter(|r| reads_value(r)).collect();
    assert!(!values.is_empty());
    for r in values {
        assert_ne!(r.access_key, dev.key, "{} was sent as the caller", r.api());
    }

    // check reports both identities, and the failing row names the role.
    let check = as_dev()
        .args(["check", "--as-execution-role", "--format", "json"])
        .task_definition(&td)
        .output();
    check.assert_code(1);
    let report: Value = serde_json::from_str(&check.stdout()).unwrap();
    assert_eq!(report["identity"], dev.arn.as_str());
    assert_eq!(report["execution_role"], narrow.as_str());
    let rows = report["variables"].as_array().unwrap();
    let row = |name: &str| rows.iter().find(|r| r["variable"] == name).unwrap();
    assert_eq!(row("KEY")["ok"], true);
    assert_eq!(row("DB")["ok"], false);
    let hint = row("DB")["error"]["hint"].as_str().unwrap();
    assert!(hint.contains(&narrow), "{hint}");
    assert!(
        row("DB")["error"]["tried"]
            .as_str()
            .unwrap()
            .ends_with(&format!("as `{narrow}`")),
        "{report:#}"
    );
    let table = as_dev()
        .args(["check", "--as-execution-role"])
        .task_definition(&td)
        .output();
    assert!(
        table.stdout().contains(&format!("identity: {}\n", dev.arn)),
        "{}",
        table.stdout()
    );
    assert!(table.stdout().contains("acting as: "), "{}", table.stdout());

    // --execution-role names another role: with the grant, the child starts.
    let env = as_dev()
        .args(["--execution-role", &enough])
        .task_definition(&td)
        .child_env();
    env.assert("DB", "sm-value");
    env.assert("KEY", "ssm-value");
}

#[test]
fn a_role_that_does_not_trust_the_caller_fetches_nothing() {
    let e = private_emulator();
    let secret = e.create_secret(REGION, &unique("db"), "sm-value");
    let dev = developer(&e);
    let other = role(
        &e,
        "arn:aws:iam::123456789012:user/someone-else",
        &["secretsmanager:GetSecretValue"],
    );
    let td = task_definition(Some(&other), &[("DB", &secret)]);
    e.enforce_iam();
    let proxy = Proxy::start(&e.endpoint, vec![]);
    for command in [
        &["--as-execution-role", "--", "true"][..],
        &["check", "--as-execution-role"],
    ] {
        let run = dev
            .ecs_env(&proxy.endpoint)
            .args(command.iter().take_while(|a| **a != "--"))
            .task_definition(&td)
            .args(command.iter().skip_while(|a| **a != "--"))
            .output();
        // Fail closed, with the statement that would let this caller in.
        run.assert_code(125)
            .assert_stderr_contains(&format!(
                "could not assume the execution role `{other}` as {}",
                dev.arn
            ))
            .assert_stderr_contains(&format!(r#""Principal":{{"AWS":"{}"}}"#, dev.arn))
            .assert_stderr_contains("ecs-tasks.amazonaws.com")
            .assert_stderr_contains("nothing was fetched");
    }
    let values: Vec<_> = proxy.requests().into_iter().filter(reads_value).collect();
    assert!(values.is_empty(), "values were asked for: {values:?}");
    assert!(
        proxy
            .requests()
            .iter()
            .any(|r| r.raw.contains("Action=AssumeRole"))
    );
}

#[test]
fn the_role_to_act_as_is_checked_before_any_request() {
    // No executionRoleArn: the message names the flag that supplies one; nothing is sent
    // (the endpoint is a closed port).
    let td = task_definition(
        None,
        &[(
            "DB",
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf",
        )],
    );
    ecs_env_offline()
        .env("AWS_ACCESS_KEY_ID", "x")
        .env("AWS_SECRET_ACCESS_KEY", "x")
        .env("AWS_REGION", REGION)
        .arg("--as-execution-role")
        .task_definition(&td)
        .args(["--", "true"])
        .output()
        .assert_code(125)
        .assert_stderr_contains("no `executionRoleArn`; name the role with --execution-role ARN");
    // Not a role ARN.
    ecs_env_offline()
        .args(["--execution-role", "arn:aws:iam::123456789012:user/dev"])
        .task_definition(&td)
        .args(["--", "true"])
        .output()
        .assert_code(125)
        .assert_stderr_contains("not a role ARN");
    // Offline checks cannot act as anyone.
    ecs_env_offline()
        .args(["check", "--offline", "--as-execution-role"])
        .task_definition(&td)
        .output()
        .assert_code(125)
        .assert_stderr_contains("--as-execution-role needs AWS");
}

#[test]
fn check_verifies_and_policy_grants_what_the_role_reads_for_logs_and_the_registry() {
    let e = private_emulator();
    let registry = e.create_secret(
        REGION,
        &unique("registry"),
        r#"{"username": "CANARY-USER", "password": "CANARY-PASS"}"#,
    );
    let malformed = e.create_secret(REGION, &unique("registry"), r#"{"user": "CANARY-USER"}"#);
    let log_token = format!("/{}", unique("splunk"));
    e.put_parameter(REGION, &log_token, "CANARY-TOKEN", true);
    let dev = developer(&e);
    let narrow = role(&e, &dev.arn, &["ssm:GetParameters"]);
    let td = |registry: &str| {
        serde_json::json!({
            "family": "app",
            "executionRoleArn": narrow,
            "containerDefinitions": [{
                "name": "app", "image": "registry.example.com/app",
                "environment": [{"name": "A", "value": "1"}],
                "repositoryCredentials": {"credentialsParameter": registry},
                "logConfiguration": {"logDriver": "splunk", "options": {"splunk-url": "https://splunk"},
                    "secretOptions": [{"name": "splunk-token", "valueFrom": log_token}]},
            }],
        })
        .to_string()
    };
    e.enforce_iam();
    let as_dev = || dev.ecs_env(&e.endpoint);
    let check = |extra: &[&str], td: &str| {
        let run = as_dev()
            .args(["check", "--format", "json"])
            .args(extra)
            .task_definition(td)
            .output();
        assert!(!run.stdout().contains("CANARY"), "{}", run.stdout());
        assert!(!run.stderr().contains("CANARY"), "{}", run.stderr());
        let report: Value = serde_json::from_str(&run.stdout()).unwrap();
        (run.code(), report)
    };
    let row = |report: &Value, name: &str| {
        report["role_reads"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["variable"] == name)
            .unwrap_or_else(|| panic!("no {name} in {report:#}"))
            .clone()
    };

    // As the developer: both reads are verified.
    let (code, report) = check(&[], &td(&registry));
    assert_eq!(code, Some(0), "{report:#}");
    assert_eq!(row(&report, "repositoryCredentials")["ok"], true);
    assert_eq!(row(&report, "repositoryCredentials")["source"], "registry");
    assert_eq!(row(&report, "splunk-token")["ok"], true);
    assert_eq!(row(&report, "splunk-token")["source"], "log secret");

    // As the execution role: the registry secret is what ECS could not pull with.
    let (code, report) = check(&["--as-execution-role"], &td(&registry));
    assert_eq!(code, Some(1), "{report:#}");
    let failed = row(&report, "repositoryCredentials");
    assert_eq!(failed["ok"], false);
    assert!(
        failed["error"]["hint"].as_str().unwrap().contains(&narrow),
        "{failed:#}"
    );
    assert_eq!(row(&report, "splunk-token")["ok"], true);
    // The environment itself was fine.
    assert!(
        report["variables"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["ok"] == true)
    );

    // Registry credentials ECS cannot use, named without their content.
    let (code, report) = check(&[], &td(&malformed));
    assert_eq!(code, Some(1));
    let failed = row(&report, "repositoryCredentials");
    assert_eq!(failed["error"]["class"], "json_key_missing");

    // The policy grants both reads.
    let policy = as_dev()
        .arg("policy")
        .task_definition(&td(&registry))
        .output();
    policy.assert_code(0);
    let policy: Value = serde_json::from_str(&policy.stdout()).unwrap();
    let resources = |action: &str| -> Vec<String> {
        policy["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["Action"] == action)
            .flat_map(|s| s["Resource"].as_array().unwrap().clone())
            .map(|r| r.as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        resources("secretsmanager:GetSecretValue"),
        vec![registry.clone()]
    );
    assert_eq!(
        resources("ssm:GetParameters"),
        vec![format!(
            "arn:aws:ssm:{REGION}:123456789012:parameter{log_token}"
        )]
    );
}
