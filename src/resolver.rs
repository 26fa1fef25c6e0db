//! The library: resolve a task definition's environment from Rust, for integration-test
//! harnesses, without the CLI and without touching the process environment.
//!
//! [`Resolver`] is a builder over the same pipeline the `ecs-env` binary runs, so a harness
//! gets exactly what `ecs-env export --format json --reveal` prints: the same variables, the
//! same values, and on failure the same [`Report`]. Nothing is printed; warnings are kept in
//! the [`Environment`]. Values stay [`SecretValue`]s, whose `Debug` is redacted, until the
//! caller asks for them.
//!
//! Unlike the CLI, the library starts the command from nothing: the merge sees no inherited
//! variables unless [`Resolver::inherit`] or [`Resolver::inherit_process_env`] says so, and
//! [`Environment`] holds only what the task sets. That is what a harness passes to
//! `Command::envs` or to a container.
//!
//! ```no_run
//! # async fn example() -> Result<(), ecs_env::Report> {
//! let env = ecs_env::Resolver::from_path("task-definition.json")
//!     .container("app")
//!     .override_var("DB_PASSWORD", "local")
//!     .resolve()
//!     .await?;
//! let mut cmd = std::process::Command::new("./server");
//! env.apply_to(&mut cmd);
//! # Ok(()) }
//! ```

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use crate::aws::Settings;
use crate::envfile::Dialect;
use crate::error::Error;
use crate::export::{Format as ExportFormat, Refusal as ExportRefusal, Rendered as Exported};
use crate::pipeline::{self, Base, LocalSpec, Pipeline, Source, SourceSpec, Warnings};
use crate::resolve::{Failure, Origin};
use crate::secret::SecretValue;

/// How environment files are parsed, as on the two ECS launch types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LaunchType {
    /// The ECS agent's rules (EC2 and external instances).
    #[default]
    Ec2,
    /// Docker's env-file rules, as documented for Fargate.
    Fargate,
}

/// Resolves one container's environment. Build it with a source, set what differs from
/// the defaults, then [`resolve`](Resolver::resolve).
///
/// Defaults: the only container (or the one named), no inherited variables, no overrides,
/// the shared AWS configuration (`AWS_PROFILE`, `AWS_REGION`, `AWS_ENDPOINT_URL`...) unless
/// [`sdk_config`](Resolver::sdk_config) gives one, a 30 s budget, and batched reads.
#[derive(Debug, Clone)]
pub struct Resolver {
    source: SourceSpec,
    local: LocalSpec,
    settings: Settings,
}

impl Resolver {
    fn with_source(source: Source) -> Resolver {
        Resolver {
            source: SourceSpec {
                source,
                ..SourceSpec::default()
            },
            local: LocalSpec {
                base: Base::Given(BTreeMap::new()),
                ..LocalSpec::default()
            },
            settings: Settings::default(),
        }
    }

    /// A source as `ecs-env -f` takes it: a task definition JSON file in any shape, a
    /// CloudFormation or CDK template, a Terraform directory or `.tf` file, `terraform show
    /// -json` output, or (when no such file exists) a deployed family, `family:revision` or
    /// task definition ARN.
    pub fn from_path(path: impl Into<PathBuf>) -> Resolver {
        Resolver::with_source(Source::Path(path.into()))
    }

    /// A task definition (or template, or `terraform show -json` output) already in memory.
    pub fn from_json(document: serde_json::Value) -> Resolver {
        Resolver::with_source(Source::Json(document))
    }

    /// A deployed task definition: family, `family:revision` or ARN
    /// (`ecs:DescribeTaskDefinition`).
    pub fn deployed(id: impl Into<String>) -> Resolver {
        Resolver::with_source(Source::Deployed(id.into()))
    }

    /// The task definition a service currently deploys (`ecs:DescribeServices`).
    pub fn service(cluster: impl Into<String>, service: impl Into<String>) -> Resolver {
        Resolver::with_source(Source::Service {
            cluster: cluster.into(),
            service: service.into(),
        })
    }

    /// No task definition: only what [`env`](Resolver::env) and
    /// [`secret`](Resolver::secret) add.
    pub fn entries_only() -> Resolver {
        Resolver::with_source(Source::None)
    }

    /// The container to use; required when the task definition has several.
    pub fn container(mut self, name: impl Into<String>) -> Resolver {
        self.source.container = Some(name.into());
        self
    }

    /// Adds an `environment` entry, as if it were in the task definition.
    pub fn env(mut self, name: impl Into<String>, value: impl Into<String>) -> Resolver {
        self.source.env.push((name.into(), value.into()));
        self
    }

    /// Adds a `secrets` entry, as if it were in the task definition.
    pub fn secret(mut self, name: impl Into<String>, value_from: impl Into<String>) -> Resolver {
        self.source.secrets.push((name.into(), value_from.into()));
        self
    }

    /// Replaces a task variable's value; an overridden secret is never fetched.
    pub fn override_var(mut self, name: impl Into<String>, value: impl Into<String>) -> Resolver {
        self.local
            .overrides
            .push((name.into(), SecretValue::new(value.into())));
        self
    }

    /// Replaces task variables' values from a dotenv file (later files win; single
    /// overrides win over files).
    pub fn override_file(mut self, path: impl Into<PathBuf>) -> Resolver {
        self.local.override_files.push(path.into());
        self
    }

    /// What the command would inherit, for the merge: the task's values override these
    /// (unless preserved), and `AWS_REGION` is injected only when neither the task nor
    /// these set it, as ECS does with the image's `ENV`.
    pub fn inherit<K, V>(mut self, vars: impl IntoIterator<Item = (K, V)>) -> Resolver
    where
        K: Into<OsString>,
        V: Into<OsString>,
    {
        self.local.base = Base::Given(
            vars.into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        );
        self
    }

    /// Inherit this process's whole environment, as the CLI does.
    pub fn inherit_process_env(mut self) -> Resolver {
        self.local.base = Base::Inherit;
        self
    }

    /// Inherit only part of this process's environment, as `--pristine` does: `PATH`,
    /// `HOME`, `USER`, `LOGNAME`, `SHELL`, `TERM`, `LANG`, `LC_*`, `TZ`, `TMPDIR`, and the
    /// names in `keep` (`--keep`).
    pub fn inherit_pristine<S: Into<String>>(
        mut self,
        keep: impl IntoIterator<Item = S>,
    ) -> Resolver {
        self.local.base = Base::Pristine {
            keep: keep.into_iter().map(Into::into).collect(),
        };
        self
    }

    /// Let these inherited variables win over the task's (`--preserve-env=A,B`); preserved
    /// secrets are not fetched.
    pub fn preserve<S: Into<String>>(mut self, names: impl IntoIterator<Item = S>) -> Resolver {
        let names: Vec<String> = names.into_iter().map(Into::into).collect();
        self.local.preserve = if names.is_empty() {
            crate::resolve::Preserve::None
        } else {
            pipeline::preserve(Some(&names))
        };
        self
    }

    /// Terraform: a variable's value (`--var`); applied in call order with
    /// [`terraform_var_file`](Resolver::terraform_var_file), the later winning.
    pub fn terraform_var(mut self, name: impl Into<String>, value: impl Into<String>) -> Resolver {
        self.source
            .terraform
            .push(crate::terraform::CliInput::Var(name.into(), value.into()));
        self
    }

    /// Terraform: a variables file (`--var-file`).
    pub fn terraform_var_file(mut self, path: impl Into<PathBuf>) -> Resolver {
        self.source
            .terraform
            .push(crate::terraform::CliInput::File(path.into()));
        self
    }

    /// Terraform: the state to read other resources' attributes from (`--tfstate`).
    pub fn terraform_state(mut self, path: impl Into<PathBuf>) -> Resolver {
        self.source.tfstate = Some(path.into());
        self
    }

    /// The resource to read when there are several: a CloudFormation logical id or a
    /// Terraform address (`--resource`).
    pub fn resource(mut self, id: impl Into<String>) -> Resolver {
        self.source.resource = Some(id.into());
        self
    }

    /// CloudFormation: a parameter's value or an `Fn::ImportValue` export (`--parameter`).
    pub fn parameter(mut self, key: impl Into<String>, value: impl Into<String>) -> Resolver {
        self.source.parameters.push((key.into(), value.into()));
        self
    }

    /// CloudFormation: the deployed stack whose physical ids resolve `Ref`s (`--stack`).
    pub fn stack(mut self, name: impl Into<String>) -> Resolver {
        self.source.stack = Some(name.into());
        self
    }

    /// How environment files are parsed (`--launch-type`).
    pub fn launch_type(mut self, launch_type: LaunchType) -> Resolver {
        self.source.dialect = match launch_type {
            LaunchType::Ec2 => Dialect::Ec2,
            LaunchType::Fargate => Dialect::Fargate,
        };
        self
    }

    /// The AWS configuration to use instead of the shared one: credentials, region and
    /// endpoint (a test points it at an emulator).
    pub fn sdk_config(mut self, config: aws_config::SdkConfig) -> Resolver {
        self.settings.sdk_config = Some(config);
        self
    }

    /// The task region (`--region`): for bare SSM names and `AWS_REGION` injection.
    pub fn region(mut self, region: impl Into<String>) -> Resolver {
        self.settings.region = Some(region.into());
        self
    }

    /// A named profile of the shared configuration (`--profile`).
    pub fn profile(mut self, name: impl Into<String>) -> Resolver {
        self.settings.profile = Some(name.into());
        self
    }

    /// Give up on AWS after this long, retries included (`--timeout`, default 30 s).
    pub fn timeout(mut self, timeout: Duration) -> Resolver {
        self.settings.timeout = timeout;
        self
    }

    /// Read every secret with its own `GetSecretValue`, as the ECS agent does (`--no-batch`).
    pub fn no_batch(mut self) -> Resolver {
        self.settings.batch = false;
        self
    }

    /// Fetch every value as the task definition's execution role (`executionRoleArn`), as
    /// ECS does (`--as-execution-role`): the role is assumed with STS AssumeRole using the
    /// configured credentials, and a denial names the role. If the role cannot be assumed,
    /// nothing is fetched as the caller instead.
    pub fn as_execution_role(mut self) -> Resolver {
        self.settings.execution_role = Some(crate::identity::RoleChoice::TaskDefinition);
        self
    }

    /// Fetch every value as this execution role (`--execution-role ARN`), whatever the task
    /// definition names.
    pub fn execution_role(mut self, role_arn: impl Into<String>) -> Resolver {
        self.settings.execution_role = Some(crate::identity::RoleChoice::Arn(role_arn.into()));
        self
    }

    /// Open no network connection at all. A reference that would have to be fetched, a
    /// deployed source or a stack lookup is then a failure in the report; overridden
    /// secrets and plain variables resolve.
    pub fn offline(mut self) -> Resolver {
        self.settings.offline = true;
        self
    }

    /// Resolve: every variable, or a [`Report`] with every failure. Never a partial
    /// environment.
    pub async fn resolve(&self) -> Result<Environment, Report> {
        let limit = pipeline::deadline(&self.settings);
        match tokio::time::timeout(limit, self.run()).await {
            Ok(result) => result,
            Err(_) => Err(Report::from_error(Error::TimedOut(limit))),
        }
    }

    /// [`resolve`](Resolver::resolve) on a runtime of its own, for synchronous code. It
    /// installs no signal handler. Do not call it from inside an async runtime.
    pub fn resolve_blocking(&self) -> Result<Environment, Report> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Report::from_error(Error::Runtime(e)))?;
        runtime.block_on(self.resolve())
    }

    async fn run(&self) -> Result<Environment, Report> {
        let local = self.local.local().map_err(Report::from_error)?;
        let mut pipeline = Pipeline::new(
            &self.source,
            &self.settings,
            local,
            Warnings::Collect(Vec::new()),
        )
        .await;
        let env = pipeline.resolve().await.map_err(Report::from_error)?;
        let warnings = match pipeline.warnings {
            Warnings::Collect(all) => all,
            Warnings::Print => Vec::new(),
        };
        Ok(Environment {
            vars: env
                .task_vars()
                .map(|(name, origin, value)| Variable {
                    name: name.to_owned(),
                    value: value.clone(),
                    origin,
                })
                .collect(),
            warnings,
        })
    }
}

/// One variable the task sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variable {
    /// The variable's name.
    pub name: String,
    /// Its value (redacted in `Debug`; [`SecretValue::expose`] reads it).
    pub value: SecretValue,
    /// Where it came from: `environment`, `secrets`, an environment file, or injected.
    pub origin: Origin,
}

/// The variables a task sets, sorted by name: what ECS would inject into the container.
#[derive(Debug, Clone, Default)]
pub struct Environment {
    vars: Vec<Variable>,
    warnings: Vec<String>,
}

impl Environment {
    /// Every variable, sorted by name.
    pub fn iter(&self) -> impl Iterator<Item = &Variable> {
        self.vars.iter()
    }

    /// One variable's value.
    pub fn get(&self, name: &str) -> Option<&SecretValue> {
        self.vars.iter().find(|v| v.name == name).map(|v| &v.value)
    }

    /// How many variables.
    pub fn len(&self) -> usize {
        self.vars.len()
    }

    /// Whether the task sets nothing.
    pub fn is_empty(&self) -> bool {
        self.vars.is_empty()
    }

    /// Sets every variable on `cmd` (the rest of its environment is as the caller set it).
    pub fn apply_to<'c>(
        &self,
        cmd: &'c mut std::process::Command,
    ) -> &'c mut std::process::Command {
        cmd.envs(self.vars.iter().map(|v| (&v.name, v.value.expose())))
    }

    /// `(name, value)` pairs with the values exposed: for APIs that take strings, such as
    /// testcontainers' `with_env_var`. The caller now holds the secrets.
    pub fn pairs(&self) -> Vec<(String, String)> {
        self.vars
            .iter()
            .map(|v| (v.name.clone(), v.value.expose().to_owned()))
            .collect()
    }

    /// The variables in one of the CLI's `export` formats, as `ecs-env export` writes them:
    /// values from `secrets` and environment files masked unless `reveal`. A variable the
    /// format cannot carry is refused (every one is named).
    pub fn export(
        &self,
        format: ExportFormat,
        reveal: bool,
    ) -> Result<Exported, Vec<ExportRefusal>> {
        let vars: Vec<crate::export::Var<'_>> = self
            .vars
            .iter()
            .map(|v| crate::export::Var {
                name: &v.name,
                value: v.value.expose(),
                secret: matches!(v.origin, Origin::Secret | Origin::EnvironmentFile),
            })
            .collect();
        crate::export::render_all(format, &vars, !reveal)
    }

    /// Things worth knowing that did not stop the resolution (names only, never values).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }
}

/// Why no environment could be resolved: every failure at once, each with the variable, the
/// reference, what was tried, a stable class and the next step. Its `Display` is the text
/// the CLI prints.
#[derive(Debug, Clone)]
pub struct Report {
    failures: Vec<Failure>,
}

impl Report {
    fn from_error(error: Error) -> Report {
        let failures = match error {
            Error::Unresolved(failures) => failures,
            other => {
                let failure = Failure::new(other.class(), other.to_string());
                vec![match other.hint() {
                    Some(hint) => failure.hint(hint),
                    None => failure,
                }]
            }
        };
        Report { failures }
    }

    /// The failures, in the order the CLI lists them.
    pub fn failures(&self) -> &[Failure] {
        &self.failures
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.failures.len() {
            1 => writeln!(f, "1 problem; the command was not started")?,
            n => writeln!(f, "{n} problems; the command was not started")?,
        }
        for failure in &self.failures {
            writeln!(f, "  - {failure}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Report {}
