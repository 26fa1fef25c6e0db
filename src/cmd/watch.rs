//! `ecs-env --watch -- COMMAND`: supervise instead of exec, restart on rotation; and
//! `--task-role`, which supervises so that its credentials endpoint outlives start-up.
//!
//! Start-up is `run`'s (fail closed: nothing starts without the whole environment). Then every
//! interval the referenced versions are fingerprinted without reading values
//! (`aws::poll`); only a changed fingerprint fetches everything again. A refresh that fails
//! (network down, access revoked) keeps the running command and its old environment, warns,
//! and retries with exponential backoff; it never restarts into a partial environment.

use std::str::FromStr;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

use super::args;
use crate::cli::{OnChangeArg, RunArgs, SignalName};
use crate::credentials_endpoint;
use crate::error::Error;
use crate::pipeline::{self, Pipeline, Warnings};
use crate::process::supervise::{self, OnChange, Options, Poller};
use crate::resolve::{ChildEnv, FetchKey};

/// Backoff after failed refreshes: interval × 2^failures, at most this.
const MAX_BACKOFF: Duration = Duration::from_secs(600);

pub(crate) fn execute(args: &RunArgs) -> Result<u8, Error> {
    let (program, program_args) = super::command(args)?;
    let interval = args.watch.watch_interval.or(args.watch.watch);
    let options = Options {
        interval,
        restart_signal: signal(&args.watch.restart_signal)?,
        grace: args.watch.grace,
        on_change: match &args.watch.on_change {
            OnChangeArg::Restart => OnChange::Restart,
            OnChangeArg::Exit => OnChange::Exit,
            OnChangeArg::Signal(name) => OnChange::Signal(signal(name)?),
        },
    };
    let source = args::source(&args.source)?;
    let local = args::local(&args.local)?;
    let mut settings = args::aws_settings(&args.aws);
    settings.execution_role = args::role_choice(
        args.role.execution_role.as_ref(),
        args.role.as_execution_role,
    );
    settings.task_role = args::role_choice(
        args.task_role.task_role_arn.as_ref(),
        args.task_role.task_role,
    );
    // Hours of polling, or of serving the task role, outlive any pinned credential: keep the
    // SDK's refreshing provider.
    settings.refresh_credentials = true;
    let mut local = local.local()?;
    if settings.task_role.is_some() {
        let removed = credentials_endpoint::strip_inherited(&mut local.base);
        tracing::debug!(
            ?removed,
            "--task-role: not passing on your own AWS credential variables"
        );
    }

    let ended = crate::runtime::run(async {
        let mut pipeline = Pipeline::new(&source, &settings, local, Warnings::Print).await;
        let watching = interval.is_some();
        let (mut env, fetches, fingerprint, task_role) = crate::runtime::interruptible(pipeline::deadline(&settings), async {
            let plan = pipeline.planned().await?;
            let fetches = if watching { plan.fetches() } else { Vec::new() };
            // Fingerprint before fetching: a rotation in between is then seen at the first
            // poll instead of being missed.
            let fingerprint = if fetches.is_empty() {
                String::new()
            } else {
                pipeline.aws.get().await?.fingerprint(&fetches).await.map_err(|message| Error::Watch {
                    message,
                    hint: "watching needs secretsmanager:DescribeSecret, ssm:GetParameters and s3:GetObject (HeadObject) besides what running needs".to_owned(),
                })?
            };
            let fetched = pipeline.fetch(&plan).await?;
            let env = pipeline.assemble(&plan, &fetched)?;
            // Fail closed: a task role that cannot be assumed starts nothing.
            let task_role = pipeline.assume_task_role().await?;
            Ok::<_, Error>((env, fetches, fingerprint, task_role))
        })
        .await??;
        if watching && fetches.is_empty() {
            crate::error::warn("--watch: the task references nothing to watch");
        }
        // The task role's endpoint, bound before the command starts so that its address can
        // be in the command's environment.
        let served = match task_role {
            Some(role) => Some((
                credentials_endpoint::Endpoint::bind()
                    .await
                    .map_err(Error::Endpoint)?,
                role,
            )),
            None => None,
        };
        let pointer = served.as_ref().map(|(e, _)| (e.url.clone(), e.token()));
        if let Some((url, token)) = &pointer {
            for warning in credentials_endpoint::point_child_at(&mut env, url, token) {
                crate::error::warn(&warning);
            }
        }
        let poller = Refresh {
            pipeline,
            limit: pipeline::deadline(&settings),
            fetches,
            fingerprint,
            interval: interval.unwrap_or(MAX_BACKOFF),
            failures: 0,
            retry_at: None,
            pointer,
        };
        let supervised = supervise::supervise(program, program_args, env, options, poller);
        let result = match served {
            Some((endpoint, role)) => {
                tracing::debug!(role = %crate::diagnostic::escaped(role.role()), port = endpoint.port, "serving the task role's credentials on 127.0.0.1");
                tokio::select! {
                    ended = supervised => ended,
                    () = endpoint.serve(std::sync::Arc::new(role)) => unreachable!("the endpoint serves until the runtime stops"),
                }
            }
            None => supervised.await,
        };
        result.map_err(|e| Error::Exec(crate::process::ExecError::from_spawn(program, e)))
    })??;
    Ok(supervise::exit_like(ended))
}

/// A name the CLI validated, as this platform's signal.
fn signal(name: &SignalName) -> Result<Signal, Error> {
    Signal::from_str(&name.0)
        .map_err(|_| Error::usage(format!("`{}` is not a signal on this platform", name.0)))
}

/// The poller: fingerprints on every tick, resolves again only on a change.
struct Refresh<'a> {
    pipeline: Pipeline<'a>,
    /// How long one poll may take.
    limit: Duration,
    fetches: Vec<FetchKey>,
    fingerprint: String,
    interval: Duration,
    failures: u32,
    retry_at: Option<Instant>,
    /// The credentials endpoint's URL and token (`--task-role`): every new environment is
    /// pointed at it too.
    pointer: Option<(String, crate::secret::SecretValue)>,
}

impl Refresh<'_> {
    fn failed(&mut self, what: &str) {
        self.failures += 1;
        let wait = self
            .interval
            .saturating_mul(1 << self.failures.min(10))
            .min(MAX_BACKOFF);
        self.retry_at = Some(Instant::now() + wait);
        crate::error::warn(&format!(
            "{what}; the command keeps running with its current environment; retrying in {wait:?}"
        ));
    }
}

impl Poller for Refresh<'_> {
    async fn poll(&mut self) -> Option<ChildEnv> {
        if self.fetches.is_empty() || self.retry_at.is_some_and(|t| Instant::now() < t) {
            return None;
        }
        let limit = self.limit;
        let fingerprint = match tokio::time::timeout(limit, async {
            let session = self.pipeline.aws.get().await.map_err(|e| e.to_string())?;
            session.fingerprint(&self.fetches).await
        })
        .await
        {
            Ok(Ok(f)) => f,
            Ok(Err(e)) => {
                self.failed(&format!("checking for changes failed: {e}"));
                return None;
            }
            Err(_) => {
                self.failed(&format!("checking for changes took longer than {limit:?}"));
                return None;
            }
        };
        if fingerprint == self.fingerprint {
            self.failures = 0;
            self.retry_at = None;
            return None;
        }
        tracing::debug!("a referenced version changed: resolving again");
        let resolved = tokio::time::timeout(limit, self.pipeline.resolve()).await;
        match resolved {
            Ok(Ok(mut env)) => {
                if let Some((url, token)) = &self.pointer {
                    // Warned about at start-up already.
                    let _ = credentials_endpoint::point_child_at(&mut env, url, token);
                }
                self.fingerprint = fingerprint;
                self.failures = 0;
                self.retry_at = None;
                Some(env)
            }
            Ok(Err(e)) => {
                let detail = match &e {
                    Error::Unresolved(failures) => failures
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join("; "),
                    other => other.to_string(),
                };
                self.failed(&format!("a referenced value changed, but the new environment could not be resolved: {detail}"));
                None
            }
            Err(_) => {
                self.failed(&format!(
                    "resolving the changed environment took longer than {limit:?}"
                ));
                None
            }
        }
    }
}
