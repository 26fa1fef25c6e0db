//! Where text is the product, it is pinned whole: `--help`, the `check` table and JSON, the
//! failure report, and `policy` as JSON and Terraform, each compared with a file in
//! `tests/golden/`. After a deliberate change, `ECS_ENV_BLESS=1 cargo test golden` rewrites
//! the files; review the diff like code.
//!
//! Everything here runs offline, with fixed names and ARNs, so the output is the same on
//! every machine.

use std::path::PathBuf;

use crate::util::{EcsEnv, ecs_env_offline};

fn golden(name: &str, actual: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("ECS_ENV_BLESS").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (ECS_ENV_BLESS=1 writes it)", path.display()));
    if expected != actual {
        panic!(
            "{} differs from the output (ECS_ENV_BLESS=1 rewrites it after a deliberate change):\n--- expected\n{expected}\n--- actual\n{actual}",
            path.display()
        );
    }
}

fn offline() -> EcsEnv {
    ecs_env_offline().env("AWS_REGION", "us-east-1")
}

/// A task definition with one of each outcome `check --offline` can tell, and hostile text.
const TASK: &str = r#"{"family": "app", "executionRoleArn": "arn:aws:iam::123456789012:role/exec",
 "containerDefinitions": [{"name": "app", "image": "app:1",
  "environment": [{"name": "APP_MODE", "value": "production"}, {"name": "DUP", "value": "x"},
                  {"name": "EVIL\u001b[2K", "value": "x"}],
  "secrets": [
    {"name": "DB_PASSWORD", "valueFrom": "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf:password::"},
    {"name": "API_KEY", "valueFrom": "/prod/api-key"},
    {"name": "LEGACY", "valueFrom": "arn:aws:ssm:eu-west-1:123456789012:parameter/legacy/token"},
    {"name": "DUP", "valueFrom": "/dup"},
    {"name": "PINNED", "valueFrom": "/prod/x:3"},
    {"name": "SHORT", "valueFrom": "arn:aws:secretsmanager:us-east-1:123456789012:secret:a:b"}],
  "environmentFiles": [{"value": "arn:aws:s3:::config-bucket/app.env", "type": "s3"}]}]}"#;

#[test]
fn help_texts() {
    for (file, args) in [
        ("help.txt", &["--help"][..]),
        ("help-check.txt", &["check", "--help"]),
        ("help-export.txt", &["export", "--help"]),
        ("help-policy.txt", &["policy", "--help"]),
    ] {
        let run = offline().args(args).env("COLUMNS", "100").output();
        run.assert_code(0);
        golden(file, &run.stdout());
    }
}

#[test]
fn check_table_and_json() {
    let table = offline()
        .arg("check")
        .task_definition(TASK)
        .arg("--offline")
        .output();
    table.assert_code(1);
    golden("check-offline.txt", &table.stdout());
    let json = offline()
        .arg("check")
        .task_definition(TASK)
        .args(["--offline", "--format", "json"])
        .output();
    json.assert_code(1);
    golden("check-offline.json", &json.stdout());
}

#[test]
fn failure_report() {
    let run = offline()
        .task_definition(TASK)
        .args(["--", "true"])
        .output();
    run.assert_code(125);
    golden("failure-report.txt", &run.stderr());
}

/// The valid references of [`TASK`], in two containers: the policy is written for what can
/// be read.
const POLICY_TASK: &str = r#"{"family": "app", "executionRoleArn": "arn:aws:iam::123456789012:role/exec",
 "containerDefinitions": [{"name": "app", "image": "app:1",
  "secrets": [
    {"name": "DB_PASSWORD", "valueFrom": "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf:password::"},
    {"name": "API_KEY", "valueFrom": "/prod/api-key"},
    {"name": "LEGACY", "valueFrom": "arn:aws:ssm:eu-west-1:123456789012:parameter/legacy/token"},
    {"name": "VIA_SSM", "valueFrom": "/aws/reference/secretsmanager/prod/shared"}],
  "environmentFiles": [{"value": "arn:aws:s3:::config-bucket/app.env", "type": "s3"}]},
  {"name": "sidecar", "image": "sidecar:1",
   "secrets": [{"name": "PARTIAL", "valueFrom": "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/sidecar"}]}]}"#;

#[test]
fn policies() {
    for (file, format) in [("policy.json", "json"), ("policy.tf", "terraform")] {
        let run = offline()
            .arg("policy")
            .task_definition(POLICY_TASK)
            .args([
                "--all-containers",
                "--offline",
                "--account",
                "123456789012",
                "--format",
                format,
            ])
            .output();
        assert_eq!(run.code(), Some(0), "{}", run.stderr());
        golden(file, &run.stdout());
    }
}
