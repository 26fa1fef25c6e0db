//! The configuration step: parsed flags become validated pipeline settings before any file
//! is read or request sent (the shape of fd's `cli.rs` → `config.rs`). A malformed
//! `NAME=VALUE`, `--service` without a cluster and the like are usage errors here.

use crate::aws;
use crate::cli::{AwsArgs, LaunchType, LocalArgs, SourceArgs, TfInput};
use crate::envfile::Dialect;
use crate::error::Error;
use crate::identity::RoleChoice;
use crate::pipeline::{Base, LocalSpec, Source, SourceSpec};
use crate::secret::SecretValue;
use crate::terraform;

/// The source flags as a [`SourceSpec`].
pub(super) fn source(args: &SourceArgs) -> Result<SourceSpec, Error> {
    let source = match (&args.task_definition, &args.service) {
        (Some(path), _) => Source::Path(path.clone()),
        (None, Some(service)) => match service.split_once('/') {
            Some((cluster, service)) if !cluster.is_empty() && !service.is_empty() => {
                Source::Service {
                    cluster: cluster.to_owned(),
                    service: service.to_owned(),
                }
            }
            _ => return Err(Error::usage("--service expects CLUSTER/SERVICE")),
        },
        (None, None) => Source::None,
    };
    Ok(SourceSpec {
        source,
        resource: args.resource.clone(),
        parameters: assignments("--parameter", &args.parameters)?,
        stack: args.stack.clone(),
        terraform: terraform_inputs(args)?,
        tfstate: args.tfstate.clone(),
        backend_config: args.backend_config.clone(),
        account: match &args.account {
            Some(id) if id.len() != 12 || !id.bytes().all(|b| b.is_ascii_digit()) => {
                return Err(Error::usage(format!(
                    "--account expects a 12-digit account id, not `{}`",
                    crate::diagnostic::escaped(id)
                )));
            }
            account => account.clone(),
        },
        container: args.container.clone(),
        env: assignments("--env", &args.env)?,
        secrets: assignments("--secret", &args.secrets)?,
        dialect: match args.launch_type {
            LaunchType::Ec2 => Dialect::Ec2,
            LaunchType::Fargate => Dialect::Fargate,
        },
    })
}

/// The local flags as a [`LocalSpec`]; the override files are read later, by the pipeline.
pub(super) fn local(args: &LocalArgs) -> Result<LocalSpec, Error> {
    Ok(LocalSpec {
        base: if args.pristine {
            Base::Pristine {
                keep: args.keep.clone(),
            }
        } else {
            Base::Inherit
        },
        preserve: crate::pipeline::preserve(args.preserve_env.as_deref()),
        override_files: args.override_file.clone(),
        overrides: assignments("--override", &args.overrides)?
            .into_iter()
            .map(|(name, value)| (name, SecretValue::new(value)))
            .collect(),
    })
}

/// The AWS flags as the AWS layer's settings.
pub(super) fn aws_settings(args: &AwsArgs) -> aws::Settings {
    aws::Settings {
        profile: args.profile.clone(),
        region: args.region.clone(),
        endpoint_url: args.endpoint_url.clone(),
        timeout: args.timeout,
        batch: !args.no_batch,
        ..aws::Settings::default()
    }
}

/// A role flag pair (`--execution-role ARN`/`--as-execution-role`, `--task-role-arn
/// ARN`/`--task-role`): the named ARN wins; the switch alone means the task definition's.
pub(super) fn role_choice(arn: Option<&String>, from_task: bool) -> Option<RoleChoice> {
    match (arn, from_task) {
        (Some(arn), _) => Some(RoleChoice::Arn(arn.clone())),
        (None, true) => Some(RoleChoice::TaskDefinition),
        (None, false) => None,
    }
}

/// `--var` and `--var-file` in command-line order. Without a recorded order (arguments not
/// from [`Cli::parse_args`](crate::cli::Cli::parse_args)), files come first.
fn terraform_inputs(source: &SourceArgs) -> Result<Vec<terraform::CliInput>, Error> {
    let order: Vec<TfInput> = if source.tf_order.is_empty() {
        (0..source.tf_var_files.len())
            .map(TfInput::File)
            .chain((0..source.tf_vars.len()).map(TfInput::Var))
            .collect()
    } else {
        source.tf_order.clone()
    };
    order
        .into_iter()
        .map(|input| match input {
            TfInput::Var(n) => {
                let (name, value) = split_assignment("--var", &source.tf_vars[n])?;
                Ok(terraform::CliInput::Var(name, value))
            }
            TfInput::File(n) => Ok(terraform::CliInput::File(source.tf_var_files[n].clone())),
        })
        .collect()
}

fn assignments(flag: &str, items: &[String]) -> Result<Vec<(String, String)>, Error> {
    items.iter().map(|i| split_assignment(flag, i)).collect()
}

/// `NAME=VALUE` → (NAME, VALUE). The message never repeats the argument: it may be a value.
fn split_assignment(flag: &str, item: &str) -> Result<(String, String), Error> {
    match item.split_once('=') {
        Some((name, value)) if !name.is_empty() => Ok((name.to_owned(), value.to_owned())),
        _ => Err(Error::usage(format!(
            "{flag} expects NAME=VALUE with a non-empty NAME before the first `=`"
        ))),
    }
}
