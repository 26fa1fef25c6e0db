//! The top-level error, its exit code, and the one place errors are printed.
//!
//! Every message is lowercase, names the thing in backticks, and says what was attempted;
//! a `hint:` line follows when the next step is known. No message ever contains a value:
//! the layers below only hand up names, references and AWS's own error text.

use std::io::{self, Write};
use std::path::PathBuf;

use crate::aws::ConnectError;
use crate::process::ExecError;
use crate::resolve::Failure;
use crate::taskdef::{ContainerError, LoadError};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("failed to read task definition `{}`: {source}", path.display())]
    ReadTaskDefinition { path: PathBuf, source: io::Error },

    #[error("task definition `{}`: {source}", path.display())]
    TaskDefinition { path: PathBuf, source: LoadError },

    #[error("task definition `{}`: {source}", path.display())]
    Container {
        path: PathBuf,
        source: ContainerError,
    },

    #[error("{message}")]
    Usage {
        message: String,
        hint: Option<String>,
    },

    #[error("failed to read override file `{}`: {message}", path.display())]
    OverrideFile { path: PathBuf, message: String },

    #[error("{}", failures_headline(.0))]
    Unresolved(Vec<Failure>),

    #[error("{0}")]
    Connect(#[from] ConnectError),

    #[error("{0}")]
    Source(#[from] crate::aws::SourceError),

    #[error("{0}")]
    Exec(#[from] ExecError),

    #[error("failed to start the async runtime: {0}")]
    Runtime(io::Error),

    #[error("stopped by signal {0}; the command was not started")]
    Interrupted(i32),

    #[error("gave up after {0:?} (--timeout); the command was not started")]
    TimedOut(std::time::Duration),

    #[error("failed to write output: {0}")]
    Output(io::Error),

    #[error("failed to write `{}`: {source}", path.display())]
    WriteFile { path: PathBuf, source: io::Error },

    #[error("{0}")]
    Refused(#[from] crate::export::Refusal),
}

fn failures_headline(failures: &[Failure]) -> String {
    match failures.len() {
        1 => "1 problem; the command was not started".to_owned(),
        n => format!("{n} problems; the command was not started"),
    }
}

impl Error {
    pub fn usage(message: impl Into<String>) -> Self {
        Error::Usage {
            message: message.into(),
            hint: None,
        }
    }

    /// env(1)'s convention: 126/127 when the command cannot be run, 125 for everything that
    /// is ecs-env's own failure.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Exec(e) => e.exit_code(),
            // As a shell reports a death by that signal.
            Error::Interrupted(n) => u8::try_from(128 + n).unwrap_or(125),
            _ => 125,
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            Error::Usage { hint, .. } => hint.clone(),
            Error::Connect(e) => Some(e.hint()),
            Error::Source(e) if !e.hint.is_empty() => Some(e.hint.clone()),
            _ => None,
        }
    }

    /// Print the error to stderr, prefixed like `env: ...`.
    pub fn report(&self) {
        let mut err = io::stderr().lock();
        let _ = writeln!(err, "ecs-env: {self}");
        if let Error::Unresolved(failures) = self {
            for f in failures {
                let _ = writeln!(err, "  - {f}");
            }
        }
        if let Some(hint) = self.hint() {
            let _ = writeln!(err, "  hint: {hint}");
        }
    }
}

impl From<crate::runtime::Stopped> for Error {
    fn from(stopped: crate::runtime::Stopped) -> Self {
        match stopped {
            crate::runtime::Stopped::Runtime(e) => Error::Runtime(e),
            crate::runtime::Stopped::Signal(n) => Error::Interrupted(n),
            crate::runtime::Stopped::TimedOut(limit) => Error::TimedOut(limit),
        }
    }
}
