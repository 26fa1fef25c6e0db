//! `--task-role`: the command gets the task role's credentials from a credentials endpoint
//! on 127.0.0.1, as an application on ECS does. The command is a real AWS SDK (boto3, from
//! the test environment), and the emulator runs with IAM enforcement on, so the identity it
//! reports is the one the role's credentials really carry.

use serde_json::Value;

use crate::emulator::{Emulator, private_emulator};
use crate::identity::{developer, role};
use crate::util::{ecs_env_offline, empty_dir};

fn task_definition(task_role: Option<&str>) -> String {
    let mut td = serde_json::json!({
        "family": "app",
        "containerDefinitions": [{
            "name": "app",
            "image": "app",
            "environment": [{"name": "APP", "value": "1"}],
        }],
    });
    if let Some(role) = task_role {
        td["taskRoleArn"] = role.into();
    }
    td.to_string()
}

fn child_script() -> String {
    format!(
        "{}/tests/support/task_role_child.py",
        env!("CARGO_MANIFEST_DIR")
    )
}

#[test]
fn the_command_runs_as_the_task_role_through_the_endpoint() {
    let e = private_emulator();
    let dev = developer(&e);
    let task_role = role(&e, &dev.arn, &["secretsmanager:GetSecretValue"]);
    let role_name = task_role.rsplit('/').next().unwrap().to_owned();
    e.enforce_iam();
    let out = empty_dir().join("child.json");
    let run = dev
        .ecs_env(&e.endpoint)
        .env("NO_PROXY", "localhost")
        // boto3 reads AWS_DEFAULT_REGION only; inherited, it plays the image's ENV.
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .args(["-vv", "--task-role"])
        .task_definition(&task_definition(Some(&task_role)))
        .arg("--")
        .arg(Emulator::python_path())
        .arg(child_script())
        .arg(&out)
        .output();
    run.assert_code(0);
    let child: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();

    // The SDK used the container provider, and STS sees the task role's session.
    assert_eq!(child["method"], "container-role", "{child:#}");
    assert_eq!(
        child["identity"],
        format!("arn:aws:sts::123456789012:assumed-role/{role_name}/ecs-env"),
        "{child:#}"
    );
    // The developer's keys are gone, the profile files are empty, the endpoint is on
    // loopback and bypasses any proxy; the task's own variables are all there.
    let env = &child["env"];
    assert_eq!(env["AWS_ACCESS_KEY_ID"], Value::Null);
    assert_eq!(env["AWS_SECRET_ACCESS_KEY"], Value::Null);
    assert_eq!(env["AWS_CONFIG_FILE"], "/dev/null");
    assert_eq!(env["AWS_SHARED_CREDENTIALS_FILE"], "/dev/null");
    assert_eq!(env["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"], Value::Null);
    assert!(
        env["AWS_CONTAINER_CREDENTIALS_FULL_URI"]
            .as_str()
            .unwrap()
            .starts_with("http://127.0.0.1:"),
        "{child:#}"
    );
    assert_eq!(env["NO_PROXY"], "localhost,127.0.0.1");
    assert_eq!(env["APP"], "1");
    assert_eq!(child["token_is_set"], true);
    // Without the token, or with another, the endpoint refuses.
    assert_eq!(child["no_token"], 403);
    assert_eq!(child["wrong_token"], 403);
    // Canary: neither the credentials served nor the endpoint's random path reach ecs-env's
    // own output, even with -vv (which does log that the endpoint serves, and its port).
    let secret = child["secret_access_key"].as_str().unwrap();
    assert!(secret.len() > 8);
    let url = env["AWS_CONTAINER_CREDENTIALS_FULL_URI"].as_str().unwrap();
    let path = &url[url.rfind('/').unwrap()..];
    assert!(path.len() > 16, "{url}");
    assert!(run.stderr().contains("serving the task role's credentials"));
    for leak in [secret, path] {
        assert!(!run.stderr().contains(leak), "{}", run.stderr());
        assert!(!run.stdout().contains(leak));
    }
}

#[test]
fn the_commands_exit_status_passes_through() {
    let e = private_emulator();
    let dev = developer(&e);
    let task_role = role(&e, &dev.arn, &[]);
    let run = dev
        .ecs_env(&e.endpoint)
        .args(["--task-role-arn", &task_role])
        .task_definition(&task_definition(None))
        .args(["--", "sh", "-c", "exit 7"])
        .output();
    run.assert_code(7);
}

#[test]
fn a_task_role_that_does_not_trust_the_caller_starts_nothing() {
    let e = private_emulator();
    let dev = developer(&e);
    let other = role(&e, "arn:aws:iam::123456789012:user/someone-else", &[]);
    e.enforce_iam();
    let marker = empty_dir().join("started");
    let run = dev
        .ecs_env(&e.endpoint)
        .arg("--task-role")
        .task_definition(&task_definition(Some(&other)))
        .arg("--")
        .arg("touch")
        .arg(&marker)
        .output();
    run.assert_code(125)
        .assert_stderr_contains(&format!(
            "could not assume the task role `{other}` as {}",
            dev.arn
        ))
        .assert_stderr_contains("the command was not started")
        .assert_stderr_contains(&format!(r#""Principal":{{"AWS":"{}"}}"#, dev.arn))
        .assert_stderr_contains("task roles usually trust only `ecs-tasks.amazonaws.com`");
    assert!(!marker.exists(), "the command started");
}

#[test]
fn the_task_role_is_checked_before_any_request() {
    // No taskRoleArn: the message names the flag that supplies one; nothing is sent (the
    // endpoint is a closed port).
    ecs_env_offline()
        .env("AWS_ACCESS_KEY_ID", "x")
        .env("AWS_SECRET_ACCESS_KEY", "x")
        .env("AWS_REGION", "us-east-1")
        .arg("--task-role")
        .task_definition(&task_definition(None))
        .args(["--", "true"])
        .output()
        .assert_code(125)
        .assert_stderr_contains("--task-role: the task definition has no `taskRoleArn`")
        .assert_stderr_contains("--task-role-arn ARN");
    ecs_env_offline()
        .args([
            "--task-role-arn",
            "arn:aws:iam::123456789012:user/dev",
            "--",
            "true",
        ])
        .output()
        .assert_code(125)
        .assert_stderr_contains("not a role ARN");
}
