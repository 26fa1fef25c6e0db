//! Starting the command: exec on Unix, spawn-and-wait elsewhere.
//!
//! One portable entry point, [`exec_replace`], with a private implementation per platform
//! (the shape of cargo-util's `process_builder.rs`). On Unix the process is replaced: the
//! command keeps ecs-env's PID, receives signals directly, and its exit status is the status.
//! std's `CommandExt::exec` is used rather than `nix::unistd::execvpe` because it already
//! does what an exec wrapper must: it resets SIGPIPE to its default (Rust ignores it at
//! start-up, and an ignored signal survives exec), clears the signal mask, takes `OsStr`
//! arguments unchanged, and searches the *child's* PATH.
//!
//! The environment is passed as a value; ecs-env never mutates its own environment.
//!
//! Depends on std, nix (`sysconf`, core limits) and the core's `ChildEnv` only.

#[cfg(unix)]
pub(crate) mod cores;
#[cfg(unix)]
pub(crate) mod signals;
#[cfg(unix)]
pub(crate) mod supervise;

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
    #[cfg(unix)]
    prepare_child(&mut cmd, false);
    cmd
}

/// What the command gets back between fork and exec (or just before exec): the core limits
/// and the ignored signals ecs-env inherited; and, for a supervised child, a parent-death
/// signal, so that it is not left running with its secrets if the supervisor is killed.
#[cfg(unix)]
pub(crate) fn prepare_child(cmd: &mut Command, supervised: bool) {
    use std::os::unix::process::CommandExt;
    let limits = cores::inherited();
    let ignored = signals::ignored();
    let parent = nix::unistd::getpid();
    // SAFETY: the closure runs between fork and exec. It calls only setrlimit, sigaction,
    // prctl, getppid and kill, all async-signal-safe, on values computed before the fork; it
    // allocates nothing and takes no lock.
    #[allow(unsafe_code)]
    unsafe {
        cmd.pre_exec(move || {
            cores::restore(limits)?;
            signals::restore_ignored(&ignored)?;
            #[cfg(any(target_os = "linux", target_os = "android"))]
            if supervised {
                use nix::sys::signal::Signal;
                nix::sys::prctl::set_pdeathsig(Signal::SIGTERM)?;
                // The supervisor may have died before the line above: then nobody would send it.
                if nix::unistd::getppid() != parent {
                    let _ = nix::sys::signal::raise(Signal::SIGTERM);
                }
            }
            #[cfg(not(any(target_os = "linux", target_os = "android")))]
            let _ = (supervised, parent);
            Ok(())
        });
    }
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

/// Replace this process with the command. Returns only on failure (Unix), or with the
/// command's exit code (other platforms).
pub(crate) fn exec_replace(
    program: &OsStr,
    args: &[OsString],
    env: &ChildEnv,
) -> Result<u8, ExecError> {
    check_size(program, args, env)?;
    imp::exec_replace(command(program, args, env)).map_err(|e| exec_error(program, e))
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

#[cfg(unix)]
mod imp {
    use std::io;
    use std::os::unix::process::CommandExt;
    use std::process::Command;

    pub(super) fn exec_replace(mut cmd: Command) -> io::Result<u8> {
        // `exec` only returns on failure.
        Err(cmd.exec())
    }

    pub(super) fn arg_max() -> Option<usize> {
        let n = nix::unistd::sysconf(nix::unistd::SysconfVar::ARG_MAX).ok()??;
        usize::try_from(n).ok()
    }
}

#[cfg(not(unix))]
mod imp {
    use std::io;
    use std::process::Command;

    /// No exec here: spawn, wait, and pass the status on.
    pub(super) fn exec_replace(mut cmd: Command) -> io::Result<u8> {
        let status = cmd.status()?;
        Ok(status.code().map_or(1, crate::exit::child))
    }

    pub(super) fn arg_max() -> Option<usize> {
        None
    }
}
