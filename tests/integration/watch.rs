//! `--watch`: real processes, real rotations in the emulator.

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::emulator::{emulator, unique};
use crate::util::{EcsEnv, ecs_env, empty_dir};

const REGION: &str = "us-east-1";

/// A child that appends `START $S $P` to `log` when it starts, handles TERM (and USR1, HUP)
/// by logging them, and otherwise sleeps.
const CHILD: &str = r#"echo "START $S $P" >> "$LOG"
trap 'echo TERM >> "$LOG"; exit 0' TERM
trap 'echo USR1 >> "$LOG"' USR1
trap 'echo HUP >> "$LOG"' HUP
while true; do sleep 0.1; done"#;

fn start(cmd: EcsEnv) -> Child {
    let mut cmd = cmd;
    cmd.command()
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// `ecs-env --watch=1s OPTIONS --secret S=ARN -- sh -c CHILD`, logging to `log`.
fn watch_one(log: &std::path::Path, arn: &str, options: &[&str]) -> Child {
    start(
        ecs_env()
            .env("LOG", log)
            .arg("--watch=1s")
            .args(options)
            .args(["--secret", &format!("S={arn}"), "--", "sh", "-c", CHILD]),
    )
}

fn wait_for(log: &std::path::Path, needle: &str, within: Duration) -> String {
    let deadline = Instant::now() + within;
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if text.contains(needle) || Instant::now() > deadline {
            return text;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn pid(child: &Child) -> Pid {
    Pid::from_raw(child.id() as i32)
}

fn stderr_of(child: Child) -> String {
    String::from_utf8_lossy(&child.wait_with_output().unwrap().stderr).into_owned()
}

#[test]
fn rotation_restarts_the_command_with_the_new_values() {
    let e = emulator();
    let arn = e.create_secret(REGION, &unique("watch/s"), "s-one");
    let param = format!("/{}/p", unique("watch"));
    e.put_parameter(REGION, &param, "p-one", true);
    let log = empty_dir().join("log");
    let child = start(ecs_env().env("LOG", &log).args([
        "--watch=1s",
        "--secret",
        &format!("S={arn}"),
        "--secret",
        &format!("P={param}"),
        "--",
        "sh",
        "-c",
        CHILD,
    ]));
    wait_for(&log, "START s-one p-one", Duration::from_secs(10));
    e.put_secret_value(
        REGION,
        &arn,
        "s-two",
        "watch-version-2-000000000000000000000",
    );
    let text = wait_for(&log, "START s-two p-one", Duration::from_secs(10));
    assert!(
        text.contains("START s-one p-one\nTERM\nSTART s-two p-one"),
        "{text}"
    );
    // A parameter overwrite is a new version too.
    let client = e.ssm(REGION);
    e.block_on(
        client
            .put_parameter()
            .name(&param)
            .value("p-two")
            .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
            .overwrite(true)
            .send(),
    )
    .unwrap();
    let text = wait_for(&log, "START s-two p-two", Duration::from_secs(10));
    assert!(text.contains("START s-two p-two"), "{text}");
    // SIGTERM to ecs-env reaches the command, and ecs-env exits with its status.
    kill(pid(&child), Signal::SIGTERM).unwrap();
    let mut child = child;
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    assert!(std::fs::read_to_string(&log).unwrap().ends_with("TERM\n"));
}

#[test]
fn a_command_that_ignores_the_restart_signal_is_killed_after_the_grace() {
    let e = emulator();
    let arn = e.create_secret(REGION, &unique("watch/k"), "one");
    let log = empty_dir().join("log");
    let stubborn = r#"echo "START $S $$" >> "$LOG"; trap '' TERM; while true; do sleep 0.1; done"#;
    let child = start(ecs_env().env("LOG", &log).args([
        "--watch=1s",
        "--grace",
        "1s",
        "--secret",
        &format!("S={arn}"),
        "--",
        "sh",
        "-c",
        stubborn,
    ]));
    wait_for(&log, "START one", Duration::from_secs(10));
    let rotated = Instant::now();
    e.put_secret_value(REGION, &arn, "two", "watch-version-k-000000000000000000000");
    let text = wait_for(&log, "START two", Duration::from_secs(15));
    assert!(text.contains("START two"), "{text}");
    // One interval to notice, one second of grace, then SIGKILL.
    assert!(
        rotated.elapsed() >= Duration::from_millis(900),
        "{:?}",
        rotated.elapsed()
    );
    // End the (stubborn) command itself; ecs-env then ends with it.
    let command = text
        .lines()
        .last()
        .unwrap()
        .rsplit(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    kill(Pid::from_raw(command), Signal::SIGKILL).unwrap();
    let stderr = stderr_of(child);
    assert!(stderr.contains("sending SIGKILL"), "{stderr}");
}

#[test]
fn signals_are_forwarded_and_exit_codes_passed_on() {
    let log = empty_dir().join("log");
    let base = || {
        ecs_env()
            .env("LOG", &log)
            .args(["--watch=60s", "--env", "S=x"])
    };
    let child = start(base().args(["--", "sh", "-c", CHILD]));
    wait_for(&log, "START", Duration::from_secs(10));
    for (signal, mark) in [(Signal::SIGUSR1, "USR1"), (Signal::SIGHUP, "HUP")] {
        kill(pid(&child), signal).unwrap();
        // Generous: a loaded CI machine can take seconds to schedule the shell's trap.
        let text = wait_for(&log, mark, Duration::from_secs(30));
        assert!(text.contains(mark), "{text}");
    }
    kill(pid(&child), Signal::SIGTERM).unwrap();
    let mut child = child;
    assert_eq!(child.wait().unwrap().code(), Some(0));
    // The command's own exit code.
    let run = base().args(["--", "sh", "-c", "exit 7"]).output();
    run.assert_code(7);
    // A signal death is passed on as the same death.
    let run = base().args(["--", "sh", "-c", "kill -KILL $$"]).output();
    assert_eq!(
        run.signal(),
        Some(Signal::SIGKILL as i32),
        "{:?}",
        run.0.status
    );
}

#[test]
fn a_failed_refresh_keeps_the_running_command() {
    let e = emulator();
    let name = unique("watch/gone");
    let arn = e.create_secret(REGION, &name, "kept");
    let log = empty_dir().join("log");
    let child = watch_one(&log, &arn, &[]);
    wait_for(&log, "START kept", Duration::from_secs(10));
    // Access to the secret disappears.
    e.block_on(
        e.secrets(REGION)
            .delete_secret()
            .secret_id(&arn)
            .force_delete_without_recovery(true)
            .send(),
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(3500));
    let text = std::fs::read_to_string(&log).unwrap();
    assert_eq!(text, "START kept \n", "no restart, no stop");
    kill(pid(&child), Signal::SIGTERM).unwrap();
    let stderr = stderr_of(child);
    assert!(stderr.contains("checking for changes failed"), "{stderr}");
    assert!(
        stderr.contains("keeps running with its current environment"),
        "{stderr}"
    );
}

#[test]
fn on_change_exit_and_signal() {
    let e = emulator();
    let arn = e.create_secret(REGION, &unique("watch/x"), "one");
    let log = empty_dir().join("log");
    let child = watch_one(&log, &arn, &["--on-change", "exit"]);
    wait_for(&log, "START one", Duration::from_secs(10));
    e.put_secret_value(REGION, &arn, "two", "watch-version-x-000000000000000000000");
    let mut child = child;
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(75));
    assert!(std::fs::read_to_string(&log).unwrap().contains("TERM"));

    let arn = e.create_secret(REGION, &unique("watch/h"), "one");
    let log = empty_dir().join("log");
    let child = watch_one(&log, &arn, &["--on-change", "signal:HUP"]);
    wait_for(&log, "START one", Duration::from_secs(10));
    e.put_secret_value(REGION, &arn, "two", "watch-version-h-000000000000000000000");
    let text = wait_for(&log, "HUP", Duration::from_secs(30));
    assert_eq!(text, "START one \nHUP\n", "signalled, not restarted");
    kill(pid(&child), Signal::SIGTERM).unwrap();
    stderr_of(child);
}
