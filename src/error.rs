//! The top-level error, its exit code, and the one place errors are printed.
//!
//! Every message is lowercase, names the thing in backticks, and says what was attempted;
//! a `hint:` line follows when the next step is known. No message ever contains a value:
//! the layers below only hand up names, references and AWS's own error text.

use std::io::{self, Write};
use std::path::PathBuf;

use crate::aws::ConnectError;
use crate::diagnostic::{Class, escaped};
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

    /// A CloudFormation template that cannot be used (unparsable, no task definition, an
    /// ambiguous choice).
    #[error("template `{}`: {source}", path.display())]
    Template {
        path: PathBuf,
        source: crate::cloudformation::TemplateError,
    },

    /// Terraform state that cannot be used. `message` never holds the state's content.
    #[error("Terraform state `{}` {message}", path.display())]
    State { path: PathBuf, message: String },

    /// Watch mode cannot follow the references.
    #[error("watch mode cannot read the versions of the references: {message}")]
    Watch { message: String, hint: String },

    /// `--task-role`: the credentials endpoint could not listen on 127.0.0.1.
    #[error("the task role's credentials endpoint could not listen on 127.0.0.1: {0}")]
    Endpoint(io::Error),

    #[error("failed to read override file `{}`: {message}", path.display())]
    OverrideFile { path: PathBuf, message: String },

    #[error("{}", failures_headline(.0))]
    Unresolved(Vec<Failure>),

    #[error(transparent)]
    Connect(#[from] ConnectError),

    #[error(transparent)]
    Source(#[from] crate::aws::SourceError),

    #[error(transparent)]
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

    /// The class of a failure that is not about one reference (the library's
    /// [`Report`](crate::Report) carries it; failures of references have their own).
    pub(crate) fn class(&self) -> Class {
        match self {
            Error::ReadTaskDefinition { .. } => Class::ReadTaskDefinition,
            Error::TaskDefinition { .. } => Class::TaskDefinition,
            Error::Container { .. } => Class::Container,
            Error::Template { .. } => Class::Template,
            Error::State { .. } => Class::State,
            Error::Watch { .. } => Class::Watch,
            Error::Endpoint(_) => Class::Endpoint,
            Error::Usage { .. } => Class::Usage,
            Error::OverrideFile { .. } => Class::OverrideFile,
            // Each of its failures has its own class; this one is never reported.
            Error::Unresolved(_) => Class::Internal,
            Error::Connect(crate::aws::ConnectError::AssumeRole { .. }) => Class::AssumeRole,
            Error::Connect(_) => Class::AwsConnect,
            Error::Source(_) => Class::Source,
            Error::Exec(_) => Class::Exec,
            Error::Runtime(_) => Class::Runtime,
            Error::Interrupted(_) => Class::Interrupted,
            Error::TimedOut(_) => Class::TimedOut,
            Error::Output(_) | Error::WriteFile { .. } => Class::Output,
            Error::Refused(_) => Class::ExportRefused,
        }
    }

    pub(crate) fn hint(&self) -> Option<String> {
        match self {
            Error::Usage { hint, .. } => hint.clone(),
            Error::Watch { hint, .. } => Some(hint.clone()),
            Error::Connect(e) => Some(e.hint()),
            Error::Source(e) if !e.hint.is_empty() => Some(e.hint.clone()),
            _ => None,
        }
    }

    /// Print the error to stderr, prefixed like `env: ...`.
    pub(crate) fn report(&self) {
        let mut err = io::stderr().lock();
        match self {
            // Each failure escapes its own fields and keeps the report's line breaks.
            Error::Unresolved(failures) => {
                let _ = writeln!(err, "ecs-env: {self}");
                for f in failures {
                    let _ = writeln!(err, "  - {f}");
                }
            }
            Error::Refused(refusals) => {
                for r in refusals {
                    let _ = writeln!(err, "ecs-env: {}", escaped(&r.to_string()));
                }
            }
            // A one-line message that may hold a path, a name or AWS's text.
            _ => {
                let _ = writeln!(err, "ecs-env: {}", escaped(&self.to_string()));
            }
        }
        if let Some(hint) = self.hint() {
            let _ = writeln!(err, "  hint: {}", escaped(&hint));
        }
    }
}

/// The one way a warning or note reaches the user: `ecs-env: warning: ...` on stderr.
pub(crate) fn warn(message: &str) {
    eprintln!("ecs-env: warning: {}", escaped(message));
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
