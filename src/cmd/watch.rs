//! `ecs-env --watch -- COMMAND`: supervise instead of exec, restart on rotation.
//!
//! Start-up is `run`'s (fail closed: nothing starts without the whole environment). Then every
//! interval the referenced versions are fingerprinted without reading values
//! (`aws::poll`); only a changed fingerprint fetches everything again. A refresh that fails
//! (network down, access revoked) keeps the running command and its old environment, warns,
//! and retries with exponential backoff; it never restarts into a partial environment.

use std::ffi::OsString;
use std::str::FromStr;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

use super::load;
use super::run::{FetchedMap, plan};
use crate::aws::{self, LazySession, Settings};
use crate::cli::{RunArgs, SourceArgs};
use crate::error::Error;
use crate::process::supervise::{self, OnChange, Options, Poller};
use crate::resolve::{self, ChildEnv, FetchKey, Local, Target};

/// Backoff after failed refreshes: interval × 2^failures, at most this.
const MAX_BACKOFF: Duration = Duration::from_secs(600);

pub(super) fn execute(
    args: &RunArgs,
    program: &OsString,
    program_args: &[OsString],
) -> Result<u8, Error> {
    let interval = args
        .watch
        .watch_interval
        .or(args.watch.watch)
        .expect("watch mode was asked for");
    let options = Options {
        interval,
        restart_signal: signal(&args.watch.restart_signal, "--restart-signal")?,
        grace: args.watch.grace,
        on_change: on_change(&args.watch.on_change)?,
    };
    let mut settings = load::aws_settings(&args.aws);
    // Hours of polling outlive any pinned credential: keep the SDK's refreshing provider.
    settings.refresh_credentials = true;
    let mut local = load::local(&args.local, &args.source)?;

    let ended = crate::runtime::run(async {
        let mut aws = LazySession::new(&settings);
        let (env, fetches, fingerprint) = crate::runtime::interruptible(load::deadline(&settings), async {
            local.task_region = aws::task_region(&settings).await;
            let plan = plan(&args.source, &mut aws, &local).await?;
            let fetches = plan.fetches();
            // Fingerprint before fetching: a rotation in between is then seen at the first
            // poll instead of being missed.
            let fingerprint = if fetches.is_empty() {
                String::new()
            } else {
                aws.get().await?.fingerprint(&fetches).await.map_err(|e| Error::Usage {
                    message: format!("watch mode cannot read the versions of the references: {e}"),
                    hint: Some("watching needs secretsmanager:DescribeSecret, ssm:GetParameters and s3:GetObject (HeadObject) besides what running needs".to_owned()),
                })?
            };
            let fetched = if fetches.is_empty() {
                FetchedMap::default()
            } else {
                aws.get().await?.fetch_all(&fetches, local.task_region.as_deref()).await
            };
            let env = assemble(&plan, &local, &fetched)?;
            Ok::<_, Error>((env, fetches, fingerprint))
        })
        .await??;
        if fetches.is_empty() {
            eprintln!("ecs-env: warning: --watch: the task references nothing to watch");
        }
        let poller = Refresh {
            source: &args.source,
            settings: &settings,
            local: &local,
            aws,
            fetches,
            fingerprint,
            interval,
            failures: 0,
            retry_at: None,
        };
        supervise::supervise(program, program_args, env, options, poller)
            .await
            .map_err(|e| Error::Exec(crate::process::ExecError::from_spawn(program, e)))
    })??;
    Ok(supervise::exit_like(ended))
}

fn assemble(plan: &resolve::Plan, local: &Local, fetched: &FetchedMap) -> Result<ChildEnv, Error> {
    let evaluation = resolve::evaluate(plan, local, fetched);
    for w in &evaluation.warnings {
        eprintln!("ecs-env: warning: {w}");
    }
    resolve::assemble(evaluation.vars, local).map_err(Error::Unresolved)
}

fn signal(name: &str, flag: &str) -> Result<Signal, Error> {
    let upper = name.to_ascii_uppercase();
    let full = if upper.starts_with("SIG") {
        upper
    } else {
        format!("SIG{upper}")
    };
    Signal::from_str(&full).map_err(|_| {
        Error::usage(format!(
            "{flag}: `{name}` is not a signal name (e.g. TERM, HUP, INT, USR1)"
        ))
    })
}

fn on_change(value: &str) -> Result<OnChange, Error> {
    match value {
        "restart" => Ok(OnChange::Restart),
        "exit" => Ok(OnChange::Exit),
        v => match v.strip_prefix("signal:") {
            Some(name) => Ok(OnChange::Signal(signal(name, "--on-change")?)),
            None => Err(Error::usage(format!(
                "--on-change: `{v}` is not restart, signal:NAME or exit"
            ))),
        },
    }
}

/// The poller: fingerprints on every tick, resolves again only on a change.
struct Refresh<'a> {
    source: &'a SourceArgs,
    settings: &'a Settings,
    local: &'a Local,
    aws: LazySession<'a>,
    fetches: Vec<(FetchKey, Target)>,
    fingerprint: String,
    interval: Duration,
    failures: u32,
    retry_at: Option<Instant>,
}

impl Refresh<'_> {
    fn failed(&mut self, what: &str) {
        self.failures += 1;
        let wait = self
            .interval
            .saturating_mul(1 << self.failures.min(10))
            .min(MAX_BACKOFF);
        self.retry_at = Some(Instant::now() + wait);
        eprintln!(
            "ecs-env: warning: {what}; the command keeps running with its current environment; retrying in {wait:?}"
        );
    }
}

impl Poller for Refresh<'_> {
    async fn poll(&mut self) -> Option<ChildEnv> {
        if self.fetches.is_empty() || self.retry_at.is_some_and(|t| Instant::now() < t) {
            return None;
        }
        let limit = load::deadline(self.settings);
        let fingerprint = match tokio::time::timeout(limit, async {
            let session = self.aws.get().await.map_err(|e| e.to_string())?;
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
        let resolved = tokio::time::timeout(limit, async {
            let plan = plan(self.source, &mut self.aws, self.local).await?;
            let fetched = self
                .aws
                .get()
                .await?
                .fetch_all(&plan.fetches(), self.local.task_region.as_deref())
                .await;
            assemble(&plan, self.local, &fetched)
        })
        .await;
        match resolved {
            Ok(Ok(env)) => {
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
