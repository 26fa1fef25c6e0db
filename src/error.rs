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
pub(crate) enum Error {
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

    /// Every variable the export format cannot carry.
    #[error("{}", refusals(.0))]
    Refused(Vec<crate::export::Refusal>),
}

/// One refusal as it always read; several, one per line.
fn refusals(all: &[crate::export::Refusal]) -> String {
    let lines: Vec<String> = all.iter().map(ToString::to_string).collect();
    lines.join("\n  ")
}

fn failures_headline(failures: &[Failure]) -> String {
    match failures.len() {
        1 => "1 problem; the command was not started".to_owned(),
        n => format!("{n} problems; the command was not started"),
    }
}

impl Error {
    pub(crate) fn usage(message: impl Into<String>) -> Self {
        Error::Usage {
            message: message.into(),
            hint: None,
        }
    }

    /// A stable name for the kind of failure (the library's [`Report`](crate::Report) carries
    /// it; failures of single references have their own, finer classes).
    pub(crate) fn class(&self) -> &'static str {
        match self {
            Error::ReadTaskDefinition { .. } => "read_task_definition",
            Error::TaskDefinition { .. } => "task_definition",
            Error::Container { .. } => "container",
            Error::Usage { .. } => "usage",
            Error::OverrideFile { .. } => "override_file",
            Error::Unresolved(_) => "unresolved",
            Error::Connect(_) => "aws_connect",
            Error::Source(_) => "source",
            Error::Exec(_) => "exec",
            Error::Runtime(_) => "runtime",
            Error::Interrupted(_) => "interrupted",
            Error::TimedOut(_) => "timed_out",
            Error::Output(_) => "output",
            Error::WriteFile { .. } => "write_file",
            Error::Refused(_) => "export_refused",
        }
    }

    pub(crate) fn hint(&self) -> Option<String> {
        match self {
            Error::Usage { hint, .. } => hint.clone(),
            Error::Connect(e) => Some(e.hint()),
            Error::Source(e) if !e.hint.is_empty() => Some(e.hint.clone()),
            _ => None,
        }
    }

    /// Print the error to stderr, prefixed like `env: ...`.
    pub(crate) fn report(&self) {
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

/// The one way a warning or note reaches the user: `ecs-env: warning: ...` on stderr.
pub(crate) fn warn(message: &str) {
    eprintln!("ecs-env: warning: {message}");
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
