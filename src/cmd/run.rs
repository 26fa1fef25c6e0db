//! `ecs-env [run] -- COMMAND`: resolve the environment on the pipeline, then exec.

use super::args;
use crate::cli::RunArgs;
use crate::error::Error;
use crate::pipeline::{self, Pipeline, Warnings};
use crate::process;
use crate::resolve::ChildEnv;

/// Run the command; returns only when it could not be started (on success ecs-env is
/// replaced, or on Windows exits with the command's exit code).
pub(crate) fn execute(args: RunArgs) -> Result<u8, Error> {
    let (program, program_args) = super::command(&args)?;
    let env = resolve_environment(&args.source, &args.aws, &args.role, &args.local)?;
    tracing::debug!(variables = env.len(), "starting the command");
    match process::exec_replace(program, program_args, &env)? {}
}

/// Flags to the child's environment, warnings printed: shared by `run` and `export`.
pub(crate) fn resolve_environment(
    source: &crate::cli::SourceArgs,
    aws_args: &crate::cli::AwsArgs,
    role_args: &crate::cli::RoleArgs,
    local_args: &crate::cli::LocalArgs,
) -> Result<ChildEnv, Error> {
    let source = args::source(source)?;
    let local = args::local(local_args)?;
    let mut settings = args::aws_settings(aws_args);
    settings.execution_role = args::role_choice(
        role_args.execution_role.as_ref(),
        role_args.as_execution_role,
    );
    let local = local.local()?;
    crate::runtime::block_on(pipeline::deadline(&settings), async {
        Pipeline::new(&source, &settings, local, Warnings::Print)
            .await
            .resolve()
            .await
    })?
}
