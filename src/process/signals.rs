//! The signal dispositions ecs-env was started with, kept for the command and restored when
//! ecs-env's own handlers have no listener any more.
//!
//! While it works, ecs-env handles SIGINT, SIGTERM and SIGHUP (and, supervising, the signals
//! it forwards). Those handlers would otherwise leak out in two ways:
//! - exec resets a handled signal to its default, so a signal the caller *ignored* (`nohup`,
//!   a shell's `trap '' HUP`) would stop being ignored in the command: [`restore_ignored`]
//!   sets those back to ignored in the child, just before exec;
//! - after the work, a handler with nobody listening swallows the signal, so an `export`
//!   blocked on a full pipe could not be interrupted: [`restore_after_work`] puts back the
//!   dispositions ecs-env started with.

use std::sync::OnceLock;

use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, sigaction};

/// The signals ecs-env ever handles.
const HANDLED: [Signal; 8] = [
    Signal::SIGINT,
    Signal::SIGTERM,
    Signal::SIGHUP,
    Signal::SIGQUIT,
    Signal::SIGUSR1,
    Signal::SIGUSR2,
    Signal::SIGWINCH,
    Signal::SIGCHLD,
];

/// Which of [`HANDLED`] were ignored when ecs-env started.
static IGNORED: OnceLock<Vec<Signal>> = OnceLock::new();

/// Records the inherited dispositions. Call first thing, before any handler is installed.
pub(crate) fn record() {
    let ignored = HANDLED
        .iter()
        .copied()
        .filter(|&s| current(s).is_some_and(|a| matches!(a.handler(), SigHandler::SigIgn)))
        .collect();
    let _ = IGNORED.set(ignored);
}

/// The disposition of `signal`, read by setting it to itself.
fn current(signal: Signal) -> Option<SigAction> {
    let probe = SigAction::new(SigHandler::SigDfl, SaFlags::empty(), SigSet::empty());
    // SAFETY: called once at start-up, before any thread or handler exists: the disposition
    // is set to the default and at once back to what it was, with no handler function of ours
    // involved, so no code can run in signal context.
    #[allow(unsafe_code)]
    let old = unsafe { sigaction(signal, &probe) }.ok()?;
    // SAFETY: as above; this restores the value just read.
    #[allow(unsafe_code)]
    let _ = unsafe { sigaction(signal, &old) };
    Some(old)
}

/// In the child, between fork and exec: the signals the caller ignored are ignored again.
/// Async-signal-safe: `sigaction` only, on values computed before the fork.
pub(crate) fn restore_ignored(ignored: &[Signal]) -> std::io::Result<()> {
    let ignore = SigAction::new(SigHandler::SigIgn, SaFlags::empty(), SigSet::empty());
    for &s in ignored {
        // SAFETY: SIG_IGN installs no handler function; sigaction is async-signal-safe.
        #[allow(unsafe_code)]
        unsafe { sigaction(s, &ignore) }?;
    }
    Ok(())
}

/// The signals to ignore again in the command.
pub(crate) fn ignored() -> Vec<Signal> {
    IGNORED.get().cloned().unwrap_or_default()
}

/// After the runtime is gone: SIGINT, SIGTERM and SIGHUP go back to what they were when
/// ecs-env started (the default, or ignored), so they act on whatever ecs-env still does
/// (writing `export` output to a full pipe).
pub(crate) fn restore_after_work() {
    let ignored = ignored();
    for s in [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP] {
        let handler = if ignored.contains(&s) {
            SigHandler::SigIgn
        } else {
            SigHandler::SigDfl
        };
        let action = SigAction::new(handler, SaFlags::empty(), SigSet::empty());
        // SAFETY: the default or ignore disposition installs no handler function, so no code
        // of ours runs in signal context; the runtime whose handlers these replace is gone.
        #[allow(unsafe_code)]
        let _ = unsafe { sigaction(s, &action) };
    }
}
