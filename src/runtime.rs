//! The single place a tokio runtime is built.
//!
//! A current-thread runtime: every request is I/O-bound and in flight at once, so one thread
//! is enough, and nothing is left running when the runtime is dropped before exec.
//!
//! While ecs-env itself is working (loading, fetching), SIGINT, SIGTERM and SIGHUP (Ctrl-C on
//! Windows; `process::interrupted`) stop it promptly with 128+n and nothing is started. Handling them, rather than leaving the default
//! action, matters as PID 1 in a container, where the kernel ignores signals that have no
//! handler. The handlers do not survive exec: the command starts with default dispositions.

use std::future::Future;
use std::time::Duration;

/// How a [`block_on`] ended early.
#[derive(Debug)]
pub(crate) enum Stopped {
    /// The runtime could not be built.
    Runtime(std::io::Error),
    /// A signal arrived (its number).
    Signal(i32),
    /// The work took longer than its limit.
    TimedOut(Duration),
}

/// Run `future` to completion, unless a signal arrives or `limit` passes first.
pub(crate) fn block_on<F: Future>(limit: Duration, future: F) -> Result<F::Output, Stopped> {
    run(interruptible(limit, future))?
}

/// Run `future` to completion on a fresh runtime (watch mode's long life; it handles signals
/// itself).
pub(crate) fn run<F: Future>(future: F) -> Result<F::Output, Stopped> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(Stopped::Runtime)?;
    let output = runtime.block_on(future);
    // A read still blocked on a FIFO or a terminal (the source, on a blocking thread) must not
    // keep the process alive after a signal or `--timeout` ended the run.
    runtime.shutdown_background();
    crate::process::after_work();
    Ok(output)
}

/// `future`, unless a signal arrives or `limit` passes first.
pub(crate) async fn interruptible<F: Future>(
    limit: Duration,
    future: F,
) -> Result<F::Output, Stopped> {
    tokio::select! {
        output = tokio::time::timeout(limit, future) => output.map_err(|_| Stopped::TimedOut(limit)),
        signal = crate::process::interrupted() => Err(Stopped::Signal(signal)),
    }
}
