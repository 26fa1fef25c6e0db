//! `ecs-env [run] -- COMMAND`: load, plan, fetch, assemble, exec.

use super::load;
use crate::aws::{self, LazySession};
use crate::cli::{AwsArgs, LocalArgs, RunArgs, SourceArgs};
use crate::error::Error;
use crate::process;
use crate::resolve::{self, ChildEnv};

/// Run the command; returns only when it could not be started (Unix) or with its status.
pub(crate) fn execute(args: RunArgs) -> Result<u8, Error> {
    let Some((program, program_args)) = args.command.split_first() else {
        return Err(Error::Usage {
            message: "no command given".to_owned(),
            hint: Some("put the command after `--`: `ecs-env -f task-definition.json -- COMMAND [ARGS...]`".to_owned()),
        });
    };
    if args.watch.watch.is_some() || args.watch.watch_interval.is_some() {
        #[cfg(unix)]
        return super::watch::execute(&args, program, program_args);
        #[cfg(not(unix))]
        return Err(Error::usage("--watch is supported on Unix only"));
    }
    let env = resolve_environment(&args.source, &args.aws, &args.local)?;
    tracing::debug!(variables = env.len(), "starting the command");
    Ok(process::exec_replace(program, program_args, &env)?)
}

/// Everything up to the child's environment: shared by `run` and `export`.
pub(crate) fn resolve_environment(
    source: &SourceArgs,
    aws_args: &AwsArgs,
    local_args: &LocalArgs,
) -> Result<ChildEnv, Error> {
    let settings = load::aws_settings(aws_args);
    let mut local = load::local(local_args, source)?;

    crate::runtime::block_on(load::deadline(&settings), async {
        let mut aws = LazySession::new(&settings);
        local.task_region = aws::task_region(&settings).await;
        resolve_with(source, &mut aws, &local).await
    })?
}

/// Load, plan, fetch, evaluate and assemble, with a session that may be reused (watch mode
/// resolves again on every change). Warnings go to stderr.
pub(crate) async fn resolve_with(
    source: &SourceArgs,
    aws: &mut LazySession<'_>,
    local: &resolve::Local,
) -> Result<ChildEnv, Error> {
    let (plan, fetched) = plan_and_fetch(source, aws, local).await?;
    let evaluation = resolve::evaluate(&plan, local, &fetched);
    for w in &evaluation.warnings {
        eprintln!("ecs-env: warning: {w}");
    }
    resolve::assemble(evaluation.vars, local).map_err(Error::Unresolved)
}

/// The validated plan and everything fetched for it.
pub(crate) async fn plan_and_fetch(
    source: &SourceArgs,
    aws: &mut LazySession<'_>,
    local: &resolve::Local,
) -> Result<(resolve::Plan, FetchedMap), Error> {
    let plan = plan(source, aws, local).await?;
    let fetches = plan.fetches();
    let fetched = if fetches.is_empty() {
        tracing::debug!("nothing to fetch: no AWS call");
        FetchedMap::default()
    } else {
        aws.get()
            .await?
            .fetch_all(&fetches, local.task_region.as_deref())
            .await
    };
    Ok((plan, fetched))
}

/// Load the task definition and validate it into a plan; nothing is fetched yet.
pub(crate) async fn plan(
    source: &SourceArgs,
    aws: &mut LazySession<'_>,
    local: &resolve::Local,
) -> Result<resolve::Plan, Error> {
    let task = load::task_definition(source, aws, local.task_region.as_deref()).await?;
    let container = load::container(source, task.as_ref())?;
    tracing::debug!(task_region = ?local.task_region, container = %container.name, "planning");
    let plan = resolve::plan(&container, local);
    for w in &plan.warnings {
        eprintln!("ecs-env: warning: {w}");
    }
    if !plan.problems.is_empty() {
        // Everything ECS would refuse at registration stops here, before any API call.
        return Err(Error::Unresolved(plan.problems));
    }
    for s in &plan.secrets {
        tracing::debug!(variable = %s.name, reference = %s.value_from, source = ?s.source, "secret");
    }
    Ok(plan)
}

/// What the AWS layer fetched, by key.
pub(crate) type FetchedMap =
    std::collections::HashMap<resolve::FetchKey, Result<resolve::Fetched, resolve::Failure>>;
