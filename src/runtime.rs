//! The single place a tokio runtime is built.
//!
//! A current-thread runtime: every request is I/O-bound and in flight at once, so one thread
//! is enough, and nothing is left running when the runtime is dropped before exec.

use std::future::Future;

pub(crate) fn block_on<F: Future>(future: F) -> std::io::Result<F::Output> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    Ok(runtime.block_on(future))
}
