//! The Windows side of [`super`]. Windows has no exec: the command runs as a child, ecs-env
//! waits for it and exits with its exit code, as cargo-util's `exec_replace` does for
//! `cargo run`. Two things make the wrapper invisible:
//! - **the whole exit code**: a Windows exit code is 32 bits (`0xC0000005`, an access
//!   violation, for one). It is passed to `std::process::exit` as it is, never cut to the 8
//!   bits of a Unix status.
//! - **Ctrl-C**: the console sends it to every process attached to it, ecs-env included. While
//!   the command runs, ecs-env ignores it, so the command alone decides what Ctrl-C means
//!   (a REPL keeps running, a server shuts down cleanly) and ecs-env still reports its real
//!   exit code afterwards.
//!
//! Nothing needs restoring here: Windows has no core limits or signal dispositions that a
//! child inherits.

use std::io;
use std::process::Command;

use windows_sys::Win32::Foundation::{FALSE, TRUE};
use windows_sys::Win32::System::Console::SetConsoleCtrlHandler;
use windows_sys::core::BOOL;

pub(super) fn start_up() {}

pub(super) fn after_work() {}

/// Ctrl-C, reported as SIGINT (2) so that the exit status is 130, as on Unix.
pub(super) async fn interrupted() -> i32 {
    // If no handler can be installed, Ctrl-C keeps its default action: the process stops.
    match tokio::signal::ctrl_c().await {
        Ok(()) => 2,
        Err(_) => std::future::pending().await,
    }
}

/// Runs the command and exits with its exit code; returns only if it could not be started.
pub(super) fn exec_replace(mut cmd: Command) -> io::Error {
    if let Err(e) = ignore_console_control() {
        return e;
    }
    match cmd.status() {
        // `code()` is always set on Windows, and is the whole exit code (an `i32` holding
        // the `u32`); `exit` hands it to `ExitProcess` unchanged.
        Ok(status) => std::process::exit(status.code().unwrap_or(1)),
        Err(e) => e,
    }
}

/// Windows limits the command line (32,767 characters), which `Command` reports as an error
/// of its own; there is no combined limit to check first.
pub(super) fn arg_max() -> Option<usize> {
    None
}

/// From now on Ctrl-C and Ctrl-Break do not stop ecs-env: the command, attached to the same
/// console, receives them too and decides. (Closing the console still ends both: Windows
/// ends the process once any handler returns.) Handlers run newest first, so this one
/// answers before the runtime's, which outlives the runtime.
fn ignore_console_control() -> io::Result<()> {
    // SAFETY: `ignore` is a plain function that touches no state, valid for the life of the
    // process; registering it has no other precondition.
    #[allow(unsafe_code)]
    let added = unsafe { SetConsoleCtrlHandler(Some(ignore), TRUE) };
    if added == FALSE {
        let e = io::Error::last_os_error();
        return Err(io::Error::new(
            e.kind(),
            format!("could not keep Ctrl-C for the command alone: {e}"),
        ));
    }
    Ok(())
}

/// The console control handler: handled (TRUE), so the default handler, which would end
/// ecs-env, is not called.
#[allow(unsafe_code)]
unsafe extern "system" fn ignore(_event: u32) -> BOOL {
    TRUE
}
