//! Running the real `ecs-env` binary: a builder with a clean, known environment.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use crate::emulator::{emulator, unique};

pub const BIN: &str = env!("CARGO_BIN_EXE_ecs-env");

pub struct EcsEnv {
    cmd: Command,
    stdin: Option<Vec<u8>>,
}

/// `ecs-env` with an empty environment plus PATH, static test credentials, the emulator as
/// endpoint, and `us-east-1` as region: nothing from the developer's machine leaks in.
/// The signals the tests send, back to their default action in ecs-env. A test runner
/// started in the background or under `nohup` ignores SIGINT, SIGQUIT or SIGHUP, and
/// ecs-env (rightly) keeps an ignored signal ignored for its command: a shell's `trap`
/// would then never fire, and SIGQUIT would not end ecs-env. Tests that want a signal
/// ignored set that up after this (`pre_exec` closures run in order).
fn default_signals(cmd: &mut Command) {
    use nix::sys::signal::{SigHandler, Signal, signal};
    use std::os::unix::process::CommandExt;
    // SAFETY: signal(SIG_DFL) is async-signal-safe, and the closure allocates nothing.
    #[allow(unsafe_code)]
    unsafe {
        cmd.pre_exec(|| {
            for s in [
                Signal::SIGHUP,
                Signal::SIGINT,
                Signal::SIGQUIT,
                Signal::SIGTERM,
                Signal::SIGUSR1,
                Signal::SIGUSR2,
            ] {
                signal(s, SigHandler::SigDfl)?;
            }
            Ok(())
        });
    }
}

pub fn ecs_env() -> EcsEnv {
    let mut cmd = Command::new(BIN);
    default_signals(&mut cmd);
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", empty_dir())
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ENDPOINT_URL", &emulator().endpoint)
        .env("AWS_REGION", "us-east-1");
    EcsEnv { cmd, stdin: None }
}

/// ecs-env with no AWS configuration at all: for paths that must not touch AWS.
pub fn ecs_env_offline() -> EcsEnv {
    let mut cmd = Command::new(BIN);
    default_signals(&mut cmd);
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", empty_dir())
        .env("AWS_EC2_METADATA_DISABLED", "true")
        // Nothing listens on port 1: any request would fail loudly.
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:1");
    EcsEnv { cmd, stdin: None }
}

/// A fresh empty directory under the target dir.
pub fn empty_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(unique("dir"));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Write `contents` to a fresh file and return its path.
pub fn write_file(name: &str, contents: &str) -> PathBuf {
    let path = empty_dir().join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

/// A describe-task-definition document with one container `app`.
pub fn task_definition(environment: &[(&str, &str)], secrets: &[(&str, &str)]) -> String {
    let env: Vec<_> = environment
        .iter()
        .map(|(n, v)| serde_json::json!({"name": n, "value": v}))
        .collect();
    let sec: Vec<_> = secrets
        .iter()
        .map(|(n, v)| serde_json::json!({"name": n, "valueFrom": v}))
        .collect();
    serde_json::json!({"taskDefinition": {
        "family": "test",
        "executionRoleArn": "arn:aws:iam::123456789012:role/exec",
        "containerDefinitions": [{"name": "app", "image": "app:latest", "environment": env, "secrets": sec}]
    }})
    .to_string()
}

impl EcsEnv {
    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.cmd.arg(arg);
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.cmd.args(args);
        self
    }

    pub fn env(mut self, key: &str, value: impl AsRef<OsStr>) -> Self {
        self.cmd.env(key, value);
        self
    }

    pub fn env_remove(mut self, key: &str) -> Self {
        self.cmd.env_remove(key);
        self
    }

    /// `-f FILE` with this task definition text.
    pub fn task_definition(self, text: &str) -> Self {
        let path = write_file("task-definition.json", text);
        self.arg("-f").arg(path)
    }

    pub fn stdin(mut self, data: &str) -> Self {
        self.stdin = Some(data.as_bytes().to_vec());
        self
    }

    pub fn command(&mut self) -> &mut Command {
        &mut self.cmd
    }

    pub fn output(mut self) -> Run {
        self.cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        self.cmd.stdin(if self.stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
        let mut child = self.cmd.spawn().expect("spawn ecs-env");
        if let Some(data) = self.stdin.take() {
            child.stdin.take().unwrap().write_all(&data).unwrap();
        }
        Run(child.wait_with_output().unwrap())
    }

    /// Run `env -0` as the command and return the child's whole environment.
    pub fn child_env(self) -> ChildEnv {
        let run = self.args(["--", "env", "-0"]).output();
        run.assert_code(0);
        ChildEnv::parse(&run.0.stdout)
    }
}

pub struct Run(pub Output);

impl Run {
    pub fn code(&self) -> Option<i32> {
        self.0.status.code()
    }

    pub fn signal(&self) -> Option<i32> {
        self.0.status.signal()
    }

    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.0.stdout).into_owned()
    }

    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.0.stderr).into_owned()
    }

    #[track_caller]
    pub fn assert_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code(),
            Some(code),
            "exit status {:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.0.status,
            self.stdout(),
            self.stderr()
        );
        self
    }

    #[track_caller]
    pub fn assert_stderr_contains(&self, needle: &str) -> &Self {
        let stderr = self.stderr();
        assert!(
            stderr.contains(needle),
            "stderr lacks {needle:?}:\n{stderr}"
        );
        self
    }
}

/// The environment the child saw, byte for byte.
#[derive(Debug)]
pub struct ChildEnv(pub BTreeMap<OsString, OsString>);

impl ChildEnv {
    fn parse(bytes: &[u8]) -> ChildEnv {
        let mut vars = BTreeMap::new();
        for entry in bytes.split(|b| *b == 0).filter(|e| !e.is_empty()) {
            let eq = entry.iter().position(|b| *b == b'=').expect("NAME=value");
            vars.insert(
                OsStr::from_bytes(&entry[..eq]).to_owned(),
                OsStr::from_bytes(&entry[eq + 1..]).to_owned(),
            );
        }
        ChildEnv(vars)
    }

    pub fn get(&self, name: &str) -> Option<String> {
        self.0
            .get(OsStr::new(name))
            .map(|v| v.to_str().expect("UTF-8 value").to_owned())
    }

    #[track_caller]
    pub fn assert(&self, name: &str, value: &str) {
        assert_eq!(self.get(name).as_deref(), Some(value), "variable {name}");
    }
}
