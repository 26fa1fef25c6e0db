//! The one resolution pipeline every subcommand and the library run on.
//!
//! Stages, each with typed input and output:
//!
//! | stage | input | output | where |
//! |---|---|---|---|
//! | source + load | [`SourceSpec`] | the task definition and the selected container ([`Loaded`]) | `source.rs` |
//! | local | [`LocalSpec`] | the laptop's side of the merge ([`Local`]) | `local.rs` |
//! | plan | container, `Local` | a validated [`Plan`] | [`crate::resolve::plan`] |
//! | fetch | `Plan` | every value, or a failure per reference ([`FetchedMap`]) | [`crate::aws`] |
//! | evaluate | `Plan`, fetched | each variable's outcome | [`crate::resolve::evaluate`] |
//! | assemble | evaluated | the child's environment ([`ChildEnv`]) | [`crate::resolve::assemble`] |
//!
//! [`Pipeline`] owns what the stages share: the source, one lazily connected AWS session,
//! the `Local` side and where warnings go (printed by the CLI, collected by the library).
//! `run` and `export` call [`Pipeline::resolve`]; `--watch` calls the same stages again on
//! every change; `check` and `policy` stop after plan, or after fetch and evaluate, and
//! report instead of assembling. Nothing here prints except through [`Warnings::Print`].

mod local;
mod source;

use std::path::PathBuf;
use std::time::Duration;

use crate::aws::{self, LazySession, Settings};
use crate::diagnostic::Class;
use crate::envfile::Dialect;
use crate::error::Error;
use crate::identity::RoleKind;
use crate::resolve::{self, ChildEnv, Failure, Local, Plan, SecretSource};
use crate::taskdef::{ContainerDefinition, TaskDefinition};

pub(crate) use local::{Base, LocalSpec, preserve};

/// What the AWS layer fetched, by key.
pub(crate) type FetchedMap =
    std::collections::HashMap<resolve::FetchKey, Result<resolve::Fetched, resolve::Failure>>;

/// Where the task definition comes from.
#[derive(Debug, Clone, Default)]
pub(crate) enum Source {
    /// None: only the `--env`/`--secret` entries.
    #[default]
    None,
    /// A path as `-f` takes it: `-` (stdin), a Terraform directory or `.tf` file, a JSON or
    /// YAML file; a path that does not exist but reads as a family, `family:revision` or
    /// task definition ARN is the deployed one.
    Path(PathBuf),
    /// A JSON document already in memory, in any shape a file may have.
    Json(serde_json::Value),
    /// A deployed task definition: family, `family:revision` or ARN.
    Deployed(String),
    /// The task definition a service currently deploys.
    Service { cluster: String, service: String },
}

/// Everything that selects the container and its entries: validated, with no I/O done yet.
#[derive(Debug, Clone, Default)]
pub(crate) struct SourceSpec {
    pub(crate) source: Source,
    /// A CloudFormation logical id or Terraform address, when there are several.
    pub(crate) resource: Option<String>,
    /// CloudFormation parameters and imports.
    pub(crate) parameters: Vec<(String, String)>,
    /// CloudFormation: the deployed stack whose physical ids resolve `Ref`s.
    pub(crate) stack: Option<String>,
    /// Terraform `--var` and `--var-file`, in command-line order.
    pub(crate) terraform: Vec<crate::terraform::CliInput>,
    /// Terraform state, instead of `terraform.tfstate` in the directory.
    pub(crate) tfstate: Option<PathBuf>,
    /// Terraform `--backend-config` arguments, as given.
    pub(crate) backend_config: Vec<String>,
    /// `--account`: the account id, instead of asking STS.
    pub(crate) account: Option<String>,
    pub(crate) container: Option<String>,
    /// Extra `environment` entries, as if in the task definition.
    pub(crate) env: Vec<(String, String)>,
    /// Extra `secrets` entries, as if in the task definition.
    pub(crate) secrets: Vec<(String, String)>,
    /// How environment files are parsed.
    pub(crate) dialect: Dialect,
}

/// The load stage's output.
#[derive(Debug)]
pub(crate) struct Loaded {
    pub(crate) task: Option<TaskDefinition>,
    pub(crate) container: ContainerDefinition,
}

/// Where warnings go.
#[derive(Debug)]
pub(crate) enum Warnings {
    /// To stderr, as `ecs-env: warning: ...`, when they happen (the CLI).
    Print,
    /// Kept for the caller (the library).
    Collect(Vec<String>),
}

impl Warnings {
    fn push(&mut self, warning: String) {
        match self {
            Warnings::Print => crate::error::warn(&warning),
            Warnings::Collect(all) => all.push(warning),
        }
    }
}

/// How long the whole AWS phase may take: the budget plus a little for local work, so that
/// the per-request timeouts report which reference was slow before this overall limit hits.
pub(crate) fn deadline(settings: &Settings) -> Duration {
    settings.timeout + Duration::from_secs(2)
}

/// The stages, with what they share.
pub(crate) struct Pipeline<'a> {
    pub(crate) source: &'a SourceSpec,
    pub(crate) aws: LazySession<'a>,
    pub(crate) local: Local,
    pub(crate) warnings: Warnings,
    /// The loaded task definition's `executionRoleArn`, for `--as-execution-role`.
    task_execution_role: Option<String>,
    /// The loaded task definition's `taskRoleArn`, for `--task-role`.
    task_role_arn: Option<String>,
    /// What the source read from AWS to evaluate itself (Terraform's lookups), for `check`.
    pub(crate) source_reads: Vec<String>,
}

impl<'a> Pipeline<'a> {
    /// A pipeline whose task region comes from the AWS configuration (`--region`,
    /// `AWS_REGION`, the profile), as ECS's comes from where the task runs.
    pub(crate) async fn new(
        source: &'a SourceSpec,
        settings: &'a Settings,
        mut local: Local,
        warnings: Warnings,
    ) -> Pipeline<'a> {
        local.task_region = aws::task_region(settings).await;
        local.dialect = source.dialect;
        Pipeline {
            source,
            aws: LazySession::new(settings),
            local,
            warnings,
            task_execution_role: None,
            task_role_arn: None,
            source_reads: Vec::new(),
        }
    }

    /// Source and load: the task definition and the selected container, with the extra
    /// entries added.
    pub(crate) async fn load(&mut self) -> Result<Loaded, Error> {
        let task = self.load_task(false).await?;
        self.task_execution_role = task.as_ref().and_then(|t| t.execution_role_arn.clone());
        self.task_role_arn = task.as_ref().and_then(|t| t.task_role_arn.clone());
        let container = source::container(self.source, task.as_ref())?;
        tracing::debug!(task_region = ?self.local.task_region, container = %crate::diagnostic::escaped(&container.name), "loaded");
        Ok(Loaded { task, container })
    }

    /// The task definition alone, if the source names one; the selected container's
    /// environment is what must be known, or every container's (`all_containers`).
    async fn load_task(&mut self, all_containers: bool) -> Result<Option<TaskDefinition>, Error> {
        let wanted = crate::taskdef::Wanted {
            container: self.source.container.clone(),
            all_containers,
            overrides: self.local.overrides.keys().cloned().collect(),
            roles: self.aws.settings().execution_role.is_some()
                || self.aws.settings().task_role.is_some(),
        };
        let mut warnings = Vec::new();
        let task = source::task_definition(
            self.source,
            &wanted,
            &mut warnings,
            &mut self.source_reads,
            &mut self.aws,
            self.local.task_region.as_deref(),
        )
        .await;
        for w in warnings {
            self.warnings.push(w);
        }
        task
    }

    /// Every container of the task (`policy --all-containers`), no choice needed; the extra
    /// entries join the first. Without a task definition, the one container the entries make.
    pub(crate) async fn load_all_containers(&mut self) -> Result<Vec<ContainerDefinition>, Error> {
        match self.load_task(true).await? {
            Some(td) => Ok(td
                .containers
                .iter()
                .enumerate()
                .map(|(i, c)| match i {
                    0 => source::with_flag_entries(c.clone(), self.source),
                    _ => c.clone(),
                })
                .collect()),
            None => Ok(vec![source::container(self.source, None)?]),
        }
    }

    /// Plan: validated as ECS validates at registration, with its warnings passed on. The
    /// plan's problems are the caller's to judge (`check` reports them).
    pub(crate) fn plan(&mut self, loaded: &Loaded) -> Plan {
        let plan = resolve::plan(&loaded.container, &self.local);
        for w in &plan.warnings {
            self.warnings.push(w.clone());
        }
        for s in &plan.secrets {
            tracing::debug!(variable = %crate::diagnostic::escaped(&s.name), reference = %crate::diagnostic::escaped(&s.value_from), source = ?s.source, "secret");
        }
        plan
    }

    /// Load and plan; anything ECS would refuse at registration stops here, before any
    /// request for a value.
    pub(crate) async fn planned(&mut self) -> Result<Plan, Error> {
        let loaded = self.load().await?;
        let plan = self.plan(&loaded);
        if !plan.problems.is_empty() {
            return Err(Error::Unresolved(plan.problems));
        }
        Ok(plan)
    }

    /// Fetch every distinct reference once; no AWS call at all when nothing is fetched.
    pub(crate) async fn fetch(&mut self, plan: &Plan) -> Result<FetchedMap, Error> {
        let fetches = plan.fetches();
        if fetches.is_empty() {
            tracing::debug!("nothing to fetch: no AWS call");
            return Ok(FetchedMap::default());
        }
        if self.aws.is_offline() {
            // Each reference that needed a request is named, as every other failure is.
            let offline = |f: Failure| {
                f.hint("override it (--override / --override-file), or drop --offline")
            };
            let mut failures: Vec<Failure> = plan
                .secrets
                .iter()
                .filter(|s| matches!(s.source, SecretSource::Fetch(_)))
                .map(|s| {
                    offline(
                        Failure::new(
                            Class::Offline,
                            "offline: this value would be fetched from AWS",
                        )
                        .variable(&s.name)
                        .reference(&s.value_from),
                    )
                })
                .collect();
            failures.extend(plan.environment_files.iter().map(|(arn, _)| {
                offline(
                    Failure::new(
                        Class::Offline,
                        "offline: this environment file would be read from S3",
                    )
                    .reference(arn),
                )
            }));
            return Err(Error::Unresolved(failures));
        }
        let region = self.local.task_region.clone();
        let role = self.role(RoleKind::Execution)?;
        Ok(self
            .aws
            .for_values(role.as_deref(), region.as_deref())
            .await?
            .fetch_all(&fetches, region.as_deref())
            .await)
    }

    /// The role of `kind` chosen by its flags, if any: the flag's ARN, else the loaded task
    /// definition's (`executionRoleArn` for values fetched with `--as-execution-role`,
    /// `taskRoleArn` for the command's `--task-role`).
    pub(crate) fn role(&self, kind: RoleKind) -> Result<Option<String>, Error> {
        let settings = self.aws.settings();
        let (choice, from_task) = match kind {
            RoleKind::Execution => (&settings.execution_role, &self.task_execution_role),
            RoleKind::Task => (&settings.task_role, &self.task_role_arn),
        };
        choice
            .as_ref()
            .map(|choice| choice.resolve(kind, from_task.as_deref()))
            .transpose()
            .map_err(Error::usage)
    }

    /// Assume the chosen execution role now (`check` reports it even when nothing is
    /// fetched); the role's ARN, or `None` when values are fetched as the caller.
    pub(crate) async fn act_as_execution_role(&mut self) -> Result<Option<String>, Error> {
        let role = self.role(RoleKind::Execution)?;
        if role.is_some() {
            let region = self.local.task_region.clone();
            self.aws
                .for_values(role.as_deref(), region.as_deref())
                .await?;
        }
        Ok(role)
    }

    /// Assume the chosen task role now, so that a role that cannot be assumed stops the run
    /// before the command starts; `None` when no task role is chosen.
    pub(crate) async fn assume_task_role(
        &mut self,
    ) -> Result<Option<crate::aws::task_role::TaskRole>, Error> {
        let Some(role) = self.role(RoleKind::Task)? else {
            return Ok(None);
        };
        let settings = self.aws.settings();
        let region = self.local.task_region.clone();
        Ok(Some(
            self.aws
                .get()
                .await?
                .task_role(&role, settings, region.as_deref())
                .await?,
        ))
    }

    /// Evaluate and assemble: the child's environment, or every failure at once.
    pub(crate) fn assemble(
        &mut self,
        plan: &Plan,
        fetched: &FetchedMap,
    ) -> Result<ChildEnv, Error> {
        let evaluation = resolve::evaluate(plan, &self.local, fetched);
        for w in evaluation.warnings {
            self.warnings.push(w);
        }
        resolve::assemble(evaluation.vars, &self.local).map_err(Error::Unresolved)
    }

    /// The whole pipeline: source to the child's environment.
    pub(crate) async fn resolve(&mut self) -> Result<ChildEnv, Error> {
        let plan = self.planned().await?;
        let fetched = self.fetch(&plan).await?;
        self.assemble(&plan, &fetched)
    }
}
