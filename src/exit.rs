//! Every exit status ecs-env can end with, decided here and nowhere else.
//!
//! As env(1): 125 when ecs-env itself failed (bad arguments, a reference that could not be
//! resolved, no credentials, an internal error), 126 when the command was found but could not
//! be run, 127 when it was not found; otherwise the command's own status. A death by signal
//! is 128+n, as a shell reports it. `check` uses 1 for "something would not resolve", and
//! `--watch --on-change exit` uses 75 (EX_TEMPFAIL, "try again").
//!
//! The one exception is Windows, where a command's exit code is 32 bits: `process` exits with
//! it whole, never cut to the 8 bits of [`child`].

use crate::error::Error;
use crate::process::ExecError;

/// Everything worked (or `--help`, `--version`).
pub(crate) const SUCCESS: u8 = 0;
/// `check`: some reference would not resolve.
pub(crate) const CHECK_FAILED: u8 = 1;
/// `--on-change exit` stopped the command for an outer supervisor to restart.
pub(crate) const CHANGED: u8 = 75;
/// ecs-env's own failure.
pub(crate) const OWN_FAILURE: u8 = 125;
/// The command exists but cannot be executed.
pub(crate) const CANNOT_EXECUTE: u8 = 126;
/// The command was not found.
pub(crate) const NOT_FOUND: u8 = 127;

/// A death by signal `n`, as a shell reports it.
pub(crate) fn signal(n: i32) -> u8 {
    u8::try_from(128 + n).unwrap_or(u8::MAX)
}

/// The command's own exit code, as the low 8 bits a parent sees on Unix.
pub(crate) fn child(code: i32) -> u8 {
    (code & 0xff) as u8
}

/// The status for an error that ended the run.
pub(crate) fn of_error(error: &Error) -> u8 {
    match error {
        Error::Exec(ExecError::NotFound { .. }) => NOT_FOUND,
        Error::Exec(ExecError::CannotExecute { .. }) => CANNOT_EXECUTE,
        Error::Interrupted(n) => signal(*n),
        _ => OWN_FAILURE,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses() {
        assert_eq!(signal(15), 143);
        assert_eq!(signal(200), 255);
        assert_eq!(child(256 + 3), 3);
        assert_eq!(of_error(&Error::Interrupted(2)), 130);
        assert_eq!(of_error(&Error::usage("x")), 125);
        let exec = |e| of_error(&Error::Exec(e));
        assert_eq!(
            exec(ExecError::TooLarge { bytes: 2, limit: 1 }),
            OWN_FAILURE
        );
        let missing = std::io::Error::from(std::io::ErrorKind::NotFound);
        assert_eq!(
            exec(ExecError::NotFound {
                program: "x".into(),
                source: missing
            }),
            NOT_FOUND
        );
    }
}
