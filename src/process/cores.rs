//! Keeping secret values out of core dumps.
//!
//! Between start-up and exec (and for the whole life of a `--watch` supervisor) ecs-env holds
//! secret values in memory. A fatal signal in that window, a Ctrl-\ (SIGQUIT) during a fetch
//! for instance, would write them to `./core` wherever cores are enabled. So the first thing
//! ecs-env does is lower its own soft core limit to 0 and, on Linux, mark itself
//! non-dumpable (`PR_SET_DUMPABLE`), which also covers a core handler that ignores the limit.
//! The command it starts must not be changed by this: the limits ecs-env inherited are put
//! back in the child just before `execve` (which itself resets the dumpable flag).

use std::sync::OnceLock;

use nix::sys::resource::{Resource, getrlimit, rlim_t, setrlimit};

/// The core limits (soft, hard) ecs-env was started with, to be given back to the command.
static INHERITED: OnceLock<(rlim_t, rlim_t)> = OnceLock::new();

/// Forbid core dumps of this process. Call before any value is read. Failures are ignored on
/// purpose: each step only ever lowers what a dump could hold, and none can be refused to an
/// unprivileged process on the platforms ecs-env runs on.
pub(crate) fn forbid() {
    if let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_CORE) {
        let _ = INHERITED.set((soft, hard));
        // Lowering the soft limit keeps the hard one, so the child's can be raised back.
        let _ = setrlimit(Resource::RLIMIT_CORE, 0, hard);
    }
    #[cfg(any(target_os = "linux", target_os = "android"))]
    let _ = nix::sys::prctl::set_dumpable(false);
}

/// The core limits ecs-env inherited, to give back to the command between fork and exec
/// (or in this process just before exec, where it is still non-dumpable), so ecs-env itself
/// never runs with them again.
pub(crate) fn inherited() -> Option<(rlim_t, rlim_t)> {
    INHERITED.get().copied()
}

/// In the child: the inherited core limits. Async-signal-safe: `setrlimit` only.
pub(crate) fn restore(limits: Option<(rlim_t, rlim_t)>) -> std::io::Result<()> {
    match limits {
        Some((soft, hard)) => setrlimit(Resource::RLIMIT_CORE, soft, hard).map_err(Into::into),
        None => Ok(()),
    }
}
