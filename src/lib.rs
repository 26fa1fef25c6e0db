//! ecs-env: run a command with exactly the environment Amazon ECS would inject.
//!
//! The `ecs-env` binary reads an ECS task definition (JSON, CloudFormation/CDK, Terraform, or
//! the deployed one), resolves the container's `environment`, `environmentFiles` and
//! `secrets` (S3, Secrets Manager, SSM Parameter Store) as ECS does, byte for byte, and execs
//! a command with them. This crate is also a library for integration-test harnesses: the same
//! resolution, handed back as a value instead of a process environment.
//!
//! # The library
//!
//! [`Resolver`] builds a resolution; [`Resolver::resolve`] (async) or
//! [`Resolver::resolve_blocking`] returns an [`Environment`] (the task's variables, each a
//! [`SecretValue`] whose `Debug` is redacted) or a [`Report`] listing every failure, never a
//! partial environment. Give it an [`aws_config::SdkConfig`] to point it at an emulator.
//!
//! ```no_run
//! # fn main() -> Result<(), ecs_env::Report> {
//! let env = ecs_env::Resolver::from_path("task-definition.json")
//!     .override_var("DB_PASSWORD", "local")
//!     .resolve_blocking()?;
//! let status = env
//!     .apply_to(&mut std::process::Command::new("cargo"))
//!     .args(["test", "--test", "integration"])
//!     .status();
//! # let _ = status;
//! # Ok(()) }
//! ```
//!
//! [`Environment::export`] renders the variables in the CLI's `export` formats (dotenv,
//! shell, JSON, a nextest setup script's `NAME=VALUE` lines...).
//!
//! # Features
//!
//! - `cli` (default): the command line ([`run`]), with clap, man page and completion
//!   generators, and the log subscriber. `default-features = false` builds the library
//!   alone.
//!
//! # How it works
//!
//! One pipeline (`pipeline`) serves every subcommand and the library: source and load
//! (`taskdef`, `cloudformation`, `terraform`), plan (`resolve::plan`: what ECS would reject
//! at registration, before any request), fetch (`aws`: one credential resolution, every
//! request at once), evaluate and assemble (`resolve`, in the ECS agent's order). The core is
//! pure; secret values live in `SecretValue` and never reach a log line or an error.

#![warn(missing_docs)]
// Without the CLI, the code only the subcommands reach (check's report, policy, watch's
// polling, the export encoders' refusals...) is compiled but unused; it is not dead in the
// crate's real build. Likewise on Windows, where `--watch` and `--task-role` are refused
// (no supervisor without Unix signals, `cmd::no_supervisor`): their portable halves
// (polling, the task role's session, their errors) stay compiled, so the pipeline has one
// shape on every platform, but nothing reaches them.
#![cfg_attr(any(not(feature = "cli"), not(unix)), allow(dead_code))]

#[cfg(feature = "cli")]
mod app;
mod arn;
mod aws;
mod base64;
mod check;
#[cfg(feature = "cli")]
mod cli;
mod cloudformation;
#[cfg(feature = "cli")]
mod cmd;
#[cfg(unix)]
mod credentials_endpoint;
mod diagnostic;
mod envfile;
mod error;
mod exit;
mod export;
mod files;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod identity;
mod jsonkey;
mod pipeline;
mod policy;
mod process;
#[cfg(test)]
mod properties;
mod reference;
mod resolve;
mod resolver;
mod runtime;
mod secret;
mod taskdef;
mod terraform;

#[cfg(feature = "cli")]
pub use app::run;
pub use diagnostic::Class;
pub use export::{Format as ExportFormat, Refusal as ExportRefusal, Rendered as Exported};
pub use resolve::{Failure, Origin};
pub use resolver::{Environment, LaunchType, Report, Resolver, Variable};
pub use secret::SecretValue;
