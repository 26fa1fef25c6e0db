//! Shared by every subcommand: the task definition and container from the flags, the
//! laptop's side of the merge, and the AWS settings.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::aws;
use crate::cli::{AwsArgs, LaunchType, LocalArgs, SourceArgs};
use crate::envfile::Dialect;
use crate::error::Error;
use crate::resolve::{Local, Preserve};
use crate::secret::SecretValue;
use crate::taskdef::{self, ContainerDefinition, EnvironmentEntry, SecretEntry, TaskDefinition};

/// Inherited variables kept by `--pristine` (plus every `LC_*`).
const PRISTINE_ALLOWLIST: [&str; 9] = [
    "PATH", "HOME", "USER", "LOGNAME", "SHELL", "TERM", "LANG", "TZ", "TMPDIR",
];

/// The task definition named by `-f`, if any.
pub(super) fn task_definition(source: &SourceArgs) -> Result<Option<TaskDefinition>, Error> {
    let Some(path) = &source.task_definition else {
        return Ok(None);
    };
    let text = read_task_definition(path)?;
    let td = taskdef::parse(&text).map_err(|e| Error::TaskDefinition {
        path: path.clone(),
        source: e,
    })?;
    tracing::debug!(shape = %td.shape, containers = td.containers.len(), "loaded task definition");
    Ok(Some(td))
}

/// The selected container plus the `--env` / `--secret` entries.
pub(super) fn container(
    source: &SourceArgs,
    task: Option<&TaskDefinition>,
) -> Result<ContainerDefinition, Error> {
    let container = match (task, &source.task_definition) {
        (Some(td), Some(path)) => td
            .container(source.container.as_deref())
            .map_err(|e| Error::Container {
                path: path.clone(),
                source: e,
            })?
            .clone(),
        _ if source.secrets.is_empty() && source.env.is_empty() => {
            return Err(Error::Usage {
                message: "no task definition given".to_owned(),
                hint: Some("pass -f PATH (or set ECS_ENV_TASK_DEFINITION), or give variables with --secret NAME=VALUEFROM / --env NAME=VALUE".to_owned()),
            });
        }
        _ => {
            if let Some(name) = &source.container {
                eprintln!(
                    "ecs-env: warning: --container `{name}` is ignored: there is no task definition (-f)"
                );
            }
            ContainerDefinition {
                name: "command-line".to_owned(),
                ..Default::default()
            }
        }
    };
    with_flag_entries(container, source)
}

/// Append `--env` and `--secret` entries, as if they were in the task definition.
pub(super) fn with_flag_entries(
    mut container: ContainerDefinition,
    source: &SourceArgs,
) -> Result<ContainerDefinition, Error> {
    for item in &source.env {
        let (name, value) = split_assignment("--env", item)?;
        container.environment.push(EnvironmentEntry { name, value });
    }
    for item in &source.secrets {
        let (name, value_from) = split_assignment("--secret", item)?;
        container.secrets.push(SecretEntry { name, value_from });
    }
    Ok(container)
}

fn read_task_definition(path: &Path) -> Result<String, Error> {
    let read_error = |source| Error::ReadTaskDefinition {
        path: path.to_owned(),
        source,
    };
    if path == Path::new("-") {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(read_error)?;
        Ok(text)
    } else {
        std::fs::read_to_string(path).map_err(read_error)
    }
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

pub(super) fn aws_settings(args: &AwsArgs) -> aws::Settings {
    aws::Settings {
        profile: args.profile.clone(),
        region: args.region.clone(),
        endpoint_url: args.endpoint_url.clone(),
    }
}

/// The laptop's side of the merge, from the local-environment flags. The task region is
/// filled in later, by the AWS configuration.
pub(super) fn local(args: &LocalArgs, source: &SourceArgs) -> Result<Local, Error> {
    Ok(Local {
        dialect: dialect(source),
        base: base_environment(args),
        preserve: match &args.preserve_env {
            None => Preserve::None,
            Some(names) => {
                let names: BTreeSet<String> =
                    names.iter().filter(|n| !n.is_empty()).cloned().collect();
                if names.is_empty() {
                    Preserve::All
                } else {
                    Preserve::Names(names)
                }
            }
        },
        overrides: overrides(args)?,
        task_region: None,
    })
}

/// The environment-file dialect from `--launch-type`.
pub(super) fn dialect(source: &SourceArgs) -> Dialect {
    match source.launch_type {
        LaunchType::Ec2 => Dialect::Ec2,
        LaunchType::Fargate => Dialect::Fargate,
    }
}

/// What the command would inherit: everything, or the `--pristine` allowlist.
fn base_environment(local: &LocalArgs) -> BTreeMap<OsString, OsString> {
    let keep: BTreeSet<&str> = local.keep.iter().map(String::as_str).collect();
    std::env::vars_os()
        .filter(|(name, _)| {
            if !local.pristine {
                return true;
            }
            let name = name.to_string_lossy();
            PRISTINE_ALLOWLIST.contains(&name.as_ref())
                || name.starts_with("LC_")
                || keep.contains(name.as_ref())
        })
        .collect()
}

/// `--override-file`s in order, then `--override`s: the later one wins.
fn overrides(local: &LocalArgs) -> Result<BTreeMap<String, SecretValue>, Error> {
    let mut out = BTreeMap::new();
    for path in &local.override_file {
        for (name, value) in read_override_file(path)? {
            out.insert(name, value);
        }
    }
    for item in &local.overrides {
        let (name, value) = split_assignment("--override", item)?;
        out.insert(name, SecretValue::new(value));
    }
    Ok(out)
}

fn read_override_file(path: &PathBuf) -> Result<Vec<(String, SecretValue)>, Error> {
    let file_error = |message: String| Error::OverrideFile {
        path: path.clone(),
        message,
    };
    let iter = dotenvy::from_path_iter(path).map_err(|e| file_error(dotenv_error(&e)))?;
    iter.map(|item| {
        item.map(|(k, v)| (k, SecretValue::new(v)))
            .map_err(|e| file_error(dotenv_error(&e)))
    })
    .collect()
}

/// dotenvy's parse errors quote the offending line, which holds a value: keep only where.
fn dotenv_error(e: &dotenvy::Error) -> String {
    match e {
        dotenvy::Error::LineParse(_, index) => {
            format!(
                "dotenv syntax error at character {index} of a line (the line is not shown: it may hold a value)"
            )
        }
        dotenvy::Error::Io(io) => io.to_string(),
        _ => "a variable it refers to could not be read".to_owned(),
    }
}
