//! Starting the command: exec on Unix, spawn-and-wait on Windows.
//!
//! One portable entry point, [`exec_replace`], with a private implementation per platform
//! (the shape of cargo-util's `process_builder.rs`): `unix.rs` and `windows.rs`, each
//! compiled only on its platform. On Unix the process is replaced: the command keeps
//! ecs-env's PID, receives signals directly, and its exit status is the status. std's
//! `CommandExt::exec` is used rather than `nix::unistd::execvpe` because it already does what
//! an exec wrapper must: it resets SIGPIPE to its default (Rust ignores it at start-up, and an
//! ignored signal survives exec), clears the signal mask, takes `OsStr` arguments unchanged,
//! and searches the *child's* PATH. On Windows the command runs as a child while ecs-env
//! ignores Ctrl-C, and ecs-env exits with the child's whole 32-bit exit code.
//!
//! The environment is passed as a value; ecs-env never mutates its own environment.
//!
//! The supervisor (`supervise`: `--watch`, `--task-role`) and what it needs (`cores`,
//! `signals`) are Unix only: it forwards, waits for and re-raises signals, which Windows does
//! not have.
//!
//! Depends on std, nix (`sysconf`, core limits), windows-sys (the console's Ctrl-C handler)
//! and the core's `ChildEnv` only.

#[cfg(unix)]
pub(crate) mod cores;
#[cfg(unix)]
pub(crate) mod signals;
#[cfg(unix)]
pub(crate) mod supervise;
#[cfg(unix)]
mod unix;
#[cfg(windows)]
mod windows;

#[cfg(unix)]
use unix as imp;
#[cfg(unix)]
pub(crate) use unix::prepare_child;
#[cfg(windows)]
use windows as imp;

use std::convert::Infallible;
use std::ffi::{OsStr, OsString};
use std::fmt;
use std::io;
use std::process::Command;

use crate::resolve::ChildEnv;

/// Why the command could not be started, with env(1)'s exit codes.
#[derive(Debug)]
pub(crate) enum ExecError {
    /// 125: the environment and arguments together exceed the kernel's limit (`ARG_MAX`);
    /// checked before exec, which would only say "Argument list too long" (E2BIG).
    TooLarge { bytes: usize, limit: usize },
    /// 127: no such command.
    NotFound {
        program: OsString,
        source: io::Error,
    },
    /// 126: found, but it cannot be executed (permissions, a directory, a bad format).
    CannotExecute {
        program: OsString,
        source: io::Error,
    },
}

impl fmt::Display for ExecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // GNU env's wording: `env: 'cmd': No such file or directory`.
            ExecError::NotFound { program, source }
            | ExecError::CannotExecute { program, source } => {
                write!(f, "'{}': {}", program.to_string_lossy(), os_message(source))
            }
            ExecError::TooLarge { bytes, limit } => write!(
                f,
                "the environment and arguments take {bytes} bytes, over the kernel's limit of \
                 {limit} (ARG_MAX); the command was not started (use --pristine, or fewer or \
                 smaller variables)"
            ),
        }
    }
}

impl std::error::Error for ExecError {}

/// The OS's text without Rust's " (os error N)" suffix.
fn os_message(e: &io::Error) -> String {
    let text = e.to_string();
    match text.find(" (os error") {
        Some(i) => text[..i].to_owned(),
        None => text,
    }
}

fn command(program: &OsStr, args: &[OsString], env: &ChildEnv) -> Command {
    let mut cmd = Command::new(program);
    cmd.args(args).env_clear().envs(env.iter());
    cmd
}

/// First thing at start-up, before any value is read: on Unix, no core dump may hold one, and
/// the signal dispositions ecs-env inherited are recorded for the command.
pub(crate) fn start_up() {
    imp::start_up();
}

/// After ecs-env's own work (the runtime is gone): signals act on ecs-env as they did when it
/// started.
pub(crate) fn after_work() {
    imp::after_work();
}

/// The first request to stop while ecs-env works (SIGINT, SIGTERM, SIGHUP; Ctrl-C on
/// Windows), as the signal number its exit status reports (128+n).
pub(crate) async fn interrupted() -> i32 {
    imp::interrupted().await
}

impl ExecError {
    /// A failed spawn of `program`, with env(1)'s codes.
    pub(crate) fn from_spawn(program: &OsStr, source: io::Error) -> ExecError {
        exec_error(program, source)
    }
}

fn exec_error(program: &OsStr, source: io::Error) -> ExecError {
    let program = program.to_owned();
    match source.kind() {
        io::ErrorKind::NotFound => ExecError::NotFound { program, source },
        _ => ExecError::CannotExecute { program, source },
    }
}

/// Replace this process with the command, or (Windows) run it and exit with its exit code.
/// Returns only when the command could not be started.
pub(crate) fn exec_replace(
    program: &OsStr,
    args: &[OsString],
    env: &ChildEnv,
) -> Result<Infallible, ExecError> {
    check_size(program, args, env)?;
    Err(exec_error(
        program,
        imp::exec_replace(command(program, args, env)),
    ))
}

/// What execve counts against ARG_MAX: every argument and `NAME=value` string with its NUL,
/// and a pointer for each.
fn check_size(program: &OsStr, args: &[OsString], env: &ChildEnv) -> Result<(), ExecError> {
    let Some(limit) = imp::arg_max() else {
        return Ok(());
    };
    let pointer = std::mem::size_of::<usize>();
    let strings = std::iter::once(program.len())
        .chain(args.iter().map(|a| a.len()))
        .chain(env.iter().map(|(k, v)| k.len() + 1 + v.len()));
    let bytes: usize = strings.map(|n| n + 1 + pointer).sum();
    if bytes > limit {
        return Err(ExecError::TooLarge { bytes, limit });
    }
    Ok(())
}
