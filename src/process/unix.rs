//! The Unix side of [`super`]: exec replaces ecs-env, so the command keeps its PID, receives
//! signals directly, and its exit status is the status. Before exec the command gets back
//! what ecs-env changed for itself at start-up: the core limits (`cores`) and the signals
//! its caller ignored (`signals`).

use std::io;
use std::os::unix::process::CommandExt;
use std::process::Command;

use super::{cores, signals};

pub(super) fn start_up() {
    cores::forbid();
    signals::record();
}

pub(super) fn after_work() {
    signals::restore_after_work();
}

/// The first of SIGINT, SIGTERM or SIGHUP.
pub(super) async fn interrupted() -> i32 {
    use tokio::signal::unix::{SignalKind, signal};
    let kinds = [
        SignalKind::interrupt(),
        SignalKind::terminate(),
        SignalKind::hangup(),
    ];
    let mut streams = Vec::new();
    for kind in kinds {
        match signal(kind) {
            Ok(stream) => streams.push((kind.as_raw_value(), stream)),
            // Without a handler the default action still stops the process.
            Err(_) => continue,
        }
    }
    let waits = streams.iter_mut().map(|(n, s)| {
        let n = *n;
        Box::pin(async move {
            s.recv().await;
            n
        })
    });
    futures_util::future::select_all(waits).await.0
}

/// Returns only on failure: `exec` does not return otherwise.
pub(super) fn exec_replace(mut cmd: Command) -> io::Error {
    prepare_child(&mut cmd, false);
    cmd.exec()
}

pub(super) fn arg_max() -> Option<usize> {
    let n = nix::unistd::sysconf(nix::unistd::SysconfVar::ARG_MAX).ok()??;
    usize::try_from(n).ok()
}

/// What the command gets back between fork and exec (or just before exec): the core limits
/// and the ignored signals ecs-env inherited; and, for a supervised child, a parent-death
/// signal, so that it is not left running with its secrets if the supervisor is killed.
pub(crate) fn prepare_child(cmd: &mut Command, supervised: bool) {
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
            // Only Linux has a parent-death signal; elsewhere a killed supervisor leaves the
            // child running (docs/watch.md).
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
