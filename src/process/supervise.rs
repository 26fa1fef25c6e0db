//! Watch mode: run the command as a child, keep it running, and restart it when its
//! environment changes.
//!
//! # Theory of operation
//!
//! One loop waits for whichever comes first:
//! - **SIGCHLD**: reap with `waitpid(-1, WNOHANG)` until nothing is left. That reaps our
//!   child, and also orphans re-parented to us when we run as PID 1 in a container (an init
//!   must, or they stay zombies). When our child exits on its own, so do we, with its status.
//! - **A forwarded signal** (TERM, HUP, QUIT, USR1, USR2, WINCH, and INT unless stdin is a
//!   terminal): sent on to the child. A terminal already delivers Ctrl-C to the whole
//!   foreground process group, so forwarding SIGINT there would deliver it twice (uv's rule).
//! - **The poll tick**, in watch mode (the interval, with up to 10% jitter so many supervisors do not poll in
//!   step): the caller's `poll` reports whether a new environment is ready. On a change the
//!   child gets the restart signal, `grace` to exit, then SIGKILL; it is reaped, and the new
//!   child starts with the new environment. A failed refresh is the caller's to report; the
//!   running child keeps its environment.
//!
//! When the child dies of a signal, ecs-env re-raises that signal on itself (default action
//! restored first), so its own parent sees the same death; as PID 1, where the kernel ignores
//! default-action signals, it exits with 128+n instead.
//!
//! ecs-env itself stays non-dumpable (`cores`); each child gets the inherited core limits.
//!
//! The only `unsafe` here restores a signal's default disposition before re-raising it.

use std::ffi::{OsStr, OsString};
use std::io::IsTerminal;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{self, Signal};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;
use tokio::signal::unix::{SignalKind, signal as listen};

use crate::resolve::ChildEnv;

/// What to do when the environment changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OnChange {
    /// Stop the child (restart signal, grace, SIGKILL) and start it again.
    Restart,
    /// Send the child this signal and let it reload by itself (its environment cannot change).
    Signal(Signal),
    /// Stop the child and exit with [`crate::exit::CHANGED`], for an outer supervisor to
    /// restart.
    Exit,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Options {
    /// How often to poll; `None` never polls (`--task-role` without `--watch`: supervised
    /// only so that the credentials endpoint outlives ecs-env's own work).
    pub interval: Option<Duration>,
    pub restart_signal: Signal,
    pub grace: Duration,
    pub on_change: OnChange,
}

/// How the child ended, for our own exit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ended {
    Exited(i32),
    Signaled(Signal),
    /// `--on-change exit` stopped it.
    Changed,
}

/// Signals passed on to the child.
const FORWARDED: [Signal; 6] = [
    Signal::SIGTERM,
    Signal::SIGHUP,
    Signal::SIGQUIT,
    Signal::SIGUSR1,
    Signal::SIGUSR2,
    Signal::SIGWINCH,
];

/// Asked at every tick whether the environment changed; `Some` is the new environment.
pub(crate) trait Poller {
    fn poll(&mut self) -> impl std::future::Future<Output = Option<ChildEnv>>;
}

/// Run `program` with `env`, acting on every new environment `poller` reports.
pub(crate) async fn supervise(
    program: &OsStr,
    args: &[OsString],
    env: ChildEnv,
    options: Options,
    mut poller: impl Poller,
) -> std::io::Result<Ended> {
    let mut sigchld = listen(SignalKind::child())?;
    let mut forwarded = Vec::new();
    for s in FORWARDED {
        forwarded.push((s, listen(SignalKind::from_raw(s as i32))?));
    }
    // Ctrl-C from a terminal already reaches the child through the process group.
    let forward_int = !std::io::stdin().is_terminal();
    let mut sigint = listen(SignalKind::interrupt())?;

    let mut child = spawn(program, args, &env)?;
    let mut next_poll = options.interval.map(|i| Instant::now() + jittered(i));
    loop {
        let forwarded_signal = async {
            let waits = forwarded.iter_mut().map(|(s, stream)| {
                let s = *s;
                Box::pin(async move {
                    stream.recv().await;
                    s
                })
            });
            futures_util::future::select_all(waits).await.0
        };
        tokio::select! {
            _ = sigchld.recv() => {
                if let Some(ended) = reap(child) {
                    return Ok(ended);
                }
            }
            s = forwarded_signal => {
                let _ = signal::kill(child, s);
            }
            _ = sigint.recv() => {
                if forward_int {
                    let _ = signal::kill(child, Signal::SIGINT);
                }
            }
            () = sleep_until(next_poll), if next_poll.is_some() => {
                next_poll = options.interval.map(|i| Instant::now() + jittered(i));
                let Some(new_env) = poller.poll().await else { continue };
                match options.on_change {
                    OnChange::Signal(s) => {
                        tracing::info!(signal = %s, "environment changed: signalling the command");
                        let _ = signal::kill(child, s);
                    }
                    OnChange::Restart | OnChange::Exit => {
                        eprintln!("ecs-env: a referenced value changed: stopping the command");
                        if let Some(ended) = stop(child, &mut sigchld, options).await {
                            // It exited by itself while we were about to stop it.
                            if options.on_change == OnChange::Restart && !matches!(ended, Ended::Changed) {
                                tracing::debug!(?ended, "the command ended during the restart");
                            }
                        }
                        if options.on_change == OnChange::Exit {
                            return Ok(Ended::Changed);
                        }
                        eprintln!("ecs-env: restarting the command with the new values");
                        child = spawn(program, args, &new_env)?;
                    }
                }
            }
        }
    }
}

fn spawn(program: &OsStr, args: &[OsString], env: &ChildEnv) -> std::io::Result<Pid> {
    let mut cmd = Command::new(program);
    cmd.args(args)
        .env_clear()
        .envs(env.iter())
        .stdin(Stdio::inherit());
    super::prepare_child(&mut cmd, true);
    let child = cmd.spawn()?;
    Ok(Pid::from_raw(child.id() as i32))
}

/// Reap every exited child (ours and, as PID 1, orphans); our child's end if it ended.
fn reap(child: Pid) -> Option<Ended> {
    let mut ours = None;
    loop {
        match waitpid(None::<Pid>, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::Exited(pid, code)) if pid == child => ours = Some(Ended::Exited(code)),
            Ok(WaitStatus::Signaled(pid, s, _)) if pid == child => ours = Some(Ended::Signaled(s)),
            Ok(WaitStatus::StillAlive) | Err(_) => return ours,
            Ok(_) => {}
        }
    }
}

/// Restart signal, up to `grace` to exit, then SIGKILL; reaped either way.
async fn stop(
    child: Pid,
    sigchld: &mut tokio::signal::unix::Signal,
    options: Options,
) -> Option<Ended> {
    let _ = signal::kill(child, options.restart_signal);
    let deadline = tokio::time::Instant::now() + options.grace;
    loop {
        if let Some(ended) = reap(child) {
            return Some(ended);
        }
        tokio::select! {
            _ = sigchld.recv() => {}
            () = tokio::time::sleep_until(deadline) => break,
        }
    }
    eprintln!(
        "ecs-env: the command did not stop within {:?} of {}: sending SIGKILL",
        options.grace, options.restart_signal
    );
    let _ = signal::kill(child, Signal::SIGKILL);
    loop {
        if let Some(ended) = reap(child) {
            return Some(ended);
        }
        sigchld.recv().await;
    }
}

/// Until `at`; never without one (the branch is disabled then, and this is never polled).
async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}

fn jittered(interval: Duration) -> Duration {
    use std::hash::{BuildHasher, Hasher};
    // OS-seeded randomness without a dependency.
    let random = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    let tenth = interval.as_millis() as u64 / 10;
    interval + Duration::from_millis(if tenth == 0 { 0 } else { random % tenth })
}

/// Our own exit for the child's end: its code; for a signal death, the same death (or 128+n
/// as PID 1).
pub(crate) fn exit_like(ended: Ended) -> u8 {
    match ended {
        Ended::Exited(code) => crate::exit::child(code),
        Ended::Changed => crate::exit::CHANGED,
        Ended::Signaled(s) => {
            if std::process::id() != 1 {
                // SAFETY: SIG_DFL installs no handler function, so no code of ours can run in
                // signal context; the signal is then raised to end this process as the child
                // ended. (SIGKILL and SIGSTOP cannot be changed, and need no change.)
                #[allow(unsafe_code)]
                let _ = unsafe { signal::signal(s, signal::SigHandler::SigDfl) };
                let _ = signal::raise(s);
            }
            // PID 1 ignores default-action signals, and a signal may be blocked: 128+n.
            crate::exit::signal(s as i32)
        }
    }
}
