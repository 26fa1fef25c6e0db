//! env(1)'s exit codes, exec semantics, signals.

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::process::Stdio;

use crate::util::{ecs_env_offline, write_file};

fn offline() -> crate::util::EcsEnv {
    ecs_env_offline()
        .env("AWS_REGION", "us-east-1")
        .args(["--env", "X=1"])
}

#[test]
fn command_not_found_is_127() {
    offline()
        .args(["--", "no-such-command-ecs-env-test"])
        .output()
        .assert_code(127)
        .assert_stderr_contains("'no-such-command-ecs-env-test': No such file or directory");
}

#[test]
fn command_not_executable_is_126() {
    let script = write_file("not-executable.sh", "#!/bin/sh\nexit 0\n");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o644)).unwrap();
    offline()
        .arg("--")
        .arg(&script)
        .output()
        .assert_code(126)
        .assert_stderr_contains("Permission denied");
    // A directory cannot be executed either.
    offline()
        .arg("--")
        .arg(script.parent().unwrap())
        .output()
        .assert_code(126);
}

#[test]
fn own_failures_are_125() {
    offline()
        .args(["--no-such-flag", "--", "true"])
        .output()
        .assert_code(125);
    offline()
        .args(["true"])
        .output()
        .assert_code(125)
        .assert_stderr_contains("the command goes after `--`");
    // A subcommand that runs no command gets no hint about one.
    let check = ecs_env_offline()
        .args(["check", "--override", "A=1"])
        .output();
    check.assert_code(125);
    assert!(!check.stderr().contains("--`"), "{}", check.stderr());
    ecs_env_offline()
        .args(["--", "true"])
        .output()
        .assert_code(125)
        .assert_stderr_contains("no task definition given");
    offline()
        .output()
        .assert_code(125)
        .assert_stderr_contains("no command given");
    ecs_env_offline()
        .args(["-f", "/no/such/task-definition.json", "--", "true"])
        .output()
        .assert_code(125)
        .assert_stderr_contains("failed to read task definition `/no/such/task-definition.json`");
    offline()
        .args(["--env", "=x", "--", "true"])
        .output()
        .assert_code(125);
}

#[test]
fn help_and_version_exit_0() {
    let run = ecs_env_offline().arg("--help").output();
    run.assert_code(0);
    assert!(
        run.stdout().contains("127  the command was not found"),
        "{}",
        run.stdout()
    );
    ecs_env_offline().arg("--version").output().assert_code(0);
    ecs_env_offline()
        .args(["run", "--help"])
        .output()
        .assert_code(0);
}

#[test]
fn the_childs_own_status_passes_through() {
    offline()
        .args(["--", "sh", "-c", "exit 42"])
        .output()
        .assert_code(42);
    ecs_env_offline()
        .env("AWS_REGION", "us-east-1")
        .args(["run", "--env", "Y=2", "--", "sh", "-c", "exit 3"])
        .output()
        .assert_code(3);
}

#[test]
fn a_signal_death_is_the_childs_own() {
    let run = offline().args(["--", "sh", "-c", "kill -TERM $$"]).output();
    assert_eq!(run.signal(), Some(libc_sigterm()), "{:?}", run.0.status);
}

fn libc_sigterm() -> i32 {
    nix::sys::signal::Signal::SIGTERM as i32
}

#[test]
fn exec_keeps_the_pid() {
    let mut cmd = offline().args(["--", "sh", "-c", "echo $$"]);
    let child = cmd.command().stdout(Stdio::piped()).spawn().unwrap();
    let pid = child.id();
    let out = child.wait_with_output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), pid.to_string());
}

#[test]
fn sigpipe_is_back_to_default_in_the_child() {
    // `yes | head -1`: when the reader goes away, `yes` must die of SIGPIPE, not spin on EPIPE
    // (Rust ignores SIGPIPE, and an ignored signal would survive exec).
    let mut cmd = offline().args(["--", "yes"]);
    let mut child = cmd
        .command()
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line, "y\n");
    // The reader is dropped here.
    let status = child.wait().unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(
        status.signal(),
        Some(nix::sys::signal::Signal::SIGPIPE as i32),
        "{status:?}"
    );
}

#[test]
fn the_child_inherits_no_ecs_env_internals() {
    // No extra file descriptors: the child has exactly the ones the same probe has when the
    // test starts it directly (whatever the test runner itself passes down).
    let probe = "for f in /proc/$$/fd/*; do echo ${f##*/}; done";
    let run = offline().args(["--", "dash", "-c", probe]).output();
    run.assert_code(0);
    let direct = std::process::Command::new("dash")
        .args(["-c", probe])
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert_eq!(run.stdout(), String::from_utf8_lossy(&direct.stdout));
    // No variables of ecs-env's own: exactly the inherited ones plus the task's.
    let env = ecs_env_offline()
        .env("AWS_REGION", "us-east-1")
        .env("INHERITED", "1")
        .args(["--env", "X=1"])
        .child_env();
    let mut names: Vec<String> = env
        .0
        .keys()
        .map(|k| k.to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "AWS_EC2_METADATA_DISABLED",
            "AWS_ENDPOINT_URL",
            "AWS_REGION",
            "HOME",
            "INHERITED",
            "PATH",
            "X"
        ]
    );
}
