//! The GitHub Action (action.yml): its step script, `scripts/action/run.sh`, run as the runner
//! would run it, with a temporary `$GITHUB_ENV` and `$GITHUB_OUTPUT`, and this build's binary
//! in place of a downloaded release (`ECS_ENV_ACTION_BINARY`). No AWS: the task definitions
//! hold only `environment` entries, or a secret that `--override` replaces (never fetched).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::util::{BIN, empty_dir};

const ENVIRONMENT_ONLY: &str = r#"{"family": "web", "containerDefinitions": [
    {"name": "app", "environment": [
        {"name": "GREETING", "value": "hello world"},
        {"name": "TRICKY", "value": "a=b<<c $HOME `id`"},
        {"name": "MULTI", "value": "line one\nline two"}]},
    {"name": "sidecar", "environment": [{"name": "OTHER", "value": "x"}]}]}"#;

struct Step {
    dir: PathBuf,
    github_env: PathBuf,
    github_output: PathBuf,
    output: Output,
}

/// Runs the action's script in a fresh directory holding `task-definition.json`, with a
/// clean environment: PATH, the runner's file variables, the inputs, and an AWS endpoint
/// nothing listens on (any request would fail loudly).
fn run_step(task_definition: &str, github_env_before: &str, inputs: &[(&str, &str)]) -> Step {
    let dir = empty_dir();
    std::fs::write(dir.join("task-definition.json"), task_definition).unwrap();
    let github_env = dir.join("github_env");
    let github_output = dir.join("github_output");
    std::fs::write(&github_env, github_env_before).unwrap();
    std::fs::write(&github_output, "").unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/action/run.sh");
    let mut cmd = Command::new(script);
    cmd.current_dir(&dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", &dir)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
        .env("GITHUB_ENV", &github_env)
        .env("GITHUB_OUTPUT", &github_output)
        .env("ECS_ENV_ACTION_BINARY", BIN)
        .env("INPUT_TASK_DEFINITION", "task-definition.json");
    for (name, value) in inputs {
        cmd.env(name, value);
    }
    let output = cmd.output().unwrap();
    Step {
        dir,
        github_env,
        github_output,
        output,
    }
}

impl Step {
    fn github_env(&self) -> String {
        std::fs::read_to_string(&self.github_env).unwrap()
    }
    fn github_output(&self) -> String {
        std::fs::read_to_string(&self.github_output).unwrap()
    }
    fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }
    fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }
    fn code(&self) -> Option<i32> {
        self.output.status.code()
    }
    fn assert_code(&self, code: i32) {
        assert_eq!(
            self.code(),
            Some(code),
            "exit status\nstdout:\n{}\nstderr:\n{}",
            self.stdout(),
            self.stderr()
        );
    }
}

/// The one random delimiter ecs-env used in the entries appended after `before`.
fn delimiter(github_env: &str, before: &str) -> String {
    let appended = &github_env[before.len()..];
    let header = appended
        .lines()
        .find(|l| l.contains("<<ghadelimiter_"))
        .expect("no heredoc entry appended");
    let delimiter = header.split_once("<<").unwrap().1.to_owned();
    assert!(
        delimiter.len() == "ghadelimiter_".len() + 32
            && delimiter["ghadelimiter_".len()..]
                .chars()
                .all(|c| c.is_ascii_hexdigit()),
        "{delimiter}"
    );
    delimiter
}

fn entries(delimiter: &str, vars: &[(&str, &str)]) -> String {
    vars.iter()
        .map(|(name, value)| format!("{name}<<{delimiter}\n{value}\n{delimiter}\n"))
        .collect()
}

#[test]
fn export_appends_the_containers_variables_to_github_env() {
    // A file that does not end in a newline, as another step may leave it.
    let before = "EARLIER=1";
    let step = run_step(
        ENVIRONMENT_ONLY,
        before,
        &[("INPUT_CONTAINER", "app"), ("INPUT_REGION", "eu-west-1")],
    );
    step.assert_code(0);
    let env = step.github_env();
    let d = delimiter(&env, before);
    let expected = format!(
        "EARLIER=1\n{}",
        entries(
            &d,
            &[
                ("AWS_DEFAULT_REGION", "eu-west-1"),
                ("AWS_REGION", "eu-west-1"),
                ("GREETING", "hello world"),
                ("MULTI", "line one\nline two"),
                ("TRICKY", "a=b<<c $HOME `id`"),
            ]
        )
    );
    assert_eq!(env, expected);
    assert_eq!(
        step.github_output(),
        format!("path={BIN}\ncount=5\nnames=AWS_DEFAULT_REGION,AWS_REGION,GREETING,MULTI,TRICKY\n")
    );
    // Plain `environment` values are not secrets: no mask lines, nothing else in the log.
    assert_eq!(step.stdout(), "");
    // The sidecar's variable is not exported.
    assert!(!env.contains("OTHER"));
}

#[test]
fn export_masks_each_secret_value_before_it_reaches_github_env() {
    let task_definition = r#"{"family": "web",
        "executionRoleArn": "arn:aws:iam::123456789012:role/exec",
        "containerDefinitions": [{"name": "app",
            "environment": [{"name": "MODE", "value": "ci"}],
            "secrets": [{"name": "DB_PASSWORD", "valueFrom": "/prod/db/password"}]}]}"#;
    let step = run_step(
        task_definition,
        "",
        &[
            ("INPUT_REGION", "us-east-1"),
            // An overridden secret is never fetched, and is still a secret.
            ("INPUT_ARGS", "--override DB_PASSWORD=pw-line-1"),
        ],
    );
    step.assert_code(0);
    assert_eq!(step.stdout(), "::add-mask::pw-line-1\n");
    let env = step.github_env();
    let d = delimiter(&env, "");
    assert_eq!(
        env,
        entries(
            &d,
            &[
                ("AWS_DEFAULT_REGION", "us-east-1"),
                ("AWS_REGION", "us-east-1"),
                ("DB_PASSWORD", "pw-line-1"),
                ("MODE", "ci"),
            ]
        )
    );
    assert_eq!(
        step.github_output(),
        format!("path={BIN}\ncount=4\nnames=AWS_DEFAULT_REGION,AWS_REGION,DB_PASSWORD,MODE\n")
    );
}

#[test]
fn check_mode_passes_and_fails_with_ecs_env_and_writes_no_variable() {
    let good = run_step(
        ENVIRONMENT_ONLY,
        "",
        &[
            ("INPUT_MODE", "check"),
            ("INPUT_OFFLINE", "true"),
            ("INPUT_CONTAINER", "app"),
            ("INPUT_REGION", "eu-west-1"),
        ],
    );
    good.assert_code(0);
    assert!(good.stdout().contains("GREETING"), "{}", good.stdout());
    assert_eq!(good.github_env(), "");
    assert_eq!(good.github_output(), format!("path={BIN}\nresult=passed\n"));

    // Trailing colons are required after a JSON key (`:password::`): a registration error.
    let bad_td = r#"{"family": "web",
        "executionRoleArn": "arn:aws:iam::123456789012:role/exec",
        "containerDefinitions": [{"name": "app", "secrets": [{"name": "DB_PASSWORD",
            "valueFrom": "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf:password"}]}]}"#;
    let bad = run_step(
        bad_td,
        "",
        &[
            ("INPUT_MODE", "check"),
            ("INPUT_OFFLINE", "true"),
            ("INPUT_REGION", "us-east-1"),
        ],
    );
    bad.assert_code(1);
    assert!(
        bad.stdout().contains("asm_invalid_format"),
        "{}",
        bad.stdout()
    );
    assert_eq!(bad.github_env(), "");
    assert_eq!(bad.github_output(), format!("path={BIN}\nresult=failed\n"));
}

#[test]
fn a_bad_input_fails_the_step_with_an_annotation_and_writes_nothing() {
    let step = run_step(ENVIRONMENT_ONLY, "", &[("INPUT_MODE", "print")]);
    step.assert_code(1);
    assert_eq!(
        step.stdout(),
        "::error::ecs-env action: mode must be export or check, not 'print'\n"
    );
    assert_eq!(step.github_env(), "");
    assert_eq!(step.github_output(), "");
    assert!(step.dir.join("task-definition.json").exists());
}
