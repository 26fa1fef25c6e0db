//! `ecs-env [run] -- COMMAND`: load, plan, fetch, assemble, exec.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::aws::{self, Session};
use crate::cli::{AwsArgs, LocalArgs, RunArgs, SourceArgs};
use crate::error::Error;
use crate::process;
use crate::resolve::{self, ChildEnv, Local, Preserve};
use crate::secret::SecretValue;
use crate::taskdef::{self, ContainerDefinition, EnvironmentEntry, SecretEntry};

/// Inherited variables kept by `--pristine` (plus every `LC_*`).
const PRISTINE_ALLOWLIST: [&str; 9] = [
    "PATH", "HOME", "USER", "LOGNAME", "SHELL", "TERM", "LANG", "TZ", "TMPDIR",
];

/// Run the command; returns only when it could not be started (Unix) or with its status.
pub(crate) fn execute(args: RunArgs) -> Result<u8, Error> {
    let Some((program, program_args)) = args.command.split_first() else {
        return Err(Error::Usage {
            message: "no command given".to_owned(),
            hint: Some("put the command after `--`: `ecs-env -f task-definition.json -- COMMAND [ARGS...]`".to_owned()),
        });
    };
    let env = resolve_environment(&args.source, &args.aws, &args.local)?;
    tracing::debug!(variables = env.len(), "starting the command");
    Ok(process::exec_replace(program, program_args, &env)?)
}

/// Everything up to the child's environment: shared by every subcommand that needs values.
pub(crate) fn resolve_environment(
    source: &SourceArgs,
    aws_args: &AwsArgs,
    local_args: &LocalArgs,
) -> Result<ChildEnv, Error> {
    let container = load_container(source)?;
    let settings = aws::Settings {
        profile: aws_args.profile.clone(),
        region: aws_args.region.clone(),
        endpoint_url: aws_args.endpoint_url.clone(),
    };
    let mut local = Local {
        base: base_environment(local_args),
        preserve: match &local_args.preserve_env {
            None => Preserve::None,
            Some(names) if names.is_empty() => Preserve::All,
            Some(names) => Preserve::Names(names.iter().cloned().collect()),
        },
        overrides: overrides(local_args)?,
        task_region: None,
    };

    crate::runtime::block_on(async {
        local.task_region = aws::task_region(&settings).await;
        tracing::debug!(task_region = ?local.task_region, container = %container.name, "planning");
        let plan = resolve::plan(&container, &local);
        if !plan.problems.is_empty() {
            // Everything ECS would refuse at registration stops here, before any API call.
            return Err(Error::Unresolved(plan.problems));
        }
        for w in &plan.warnings {
            eprintln!("ecs-env: warning: {w}");
        }
        for s in &plan.secrets {
            tracing::debug!(variable = %s.name, reference = %s.value_from, source = ?s.source, "secret");
        }
        let fetches = plan.fetches();
        let fetched = if fetches.is_empty() {
            tracing::debug!("nothing to fetch: no AWS call");
            Default::default()
        } else {
            let session = Session::connect(&settings).await?;
            session.fetch_all(&fetches, local.task_region.as_deref()).await
        };
        resolve::assemble(resolve::evaluate(&plan, &local, &fetched), &local)
            .map_err(Error::Unresolved)
    })
    .map_err(Error::Runtime)?
}

/// The container definition, from the task definition file plus `--env` / `--secret`.
fn load_container(source: &SourceArgs) -> Result<ContainerDefinition, Error> {
    let mut container = match &source.task_definition {
        Some(path) => {
            let text = read_task_definition(path)?;
            let td = taskdef::parse(&text).map_err(|e| Error::TaskDefinition {
                path: path.clone(),
                source: e,
            })?;
            tracing::debug!(shape = %td.shape, containers = td.containers.len(), "loaded task definition");
            td.container(source.container.as_deref())
                .map_err(|e| Error::Container {
                    path: path.clone(),
                    source: e,
                })?
                .clone()
        }
        None if source.secrets.is_empty() && source.env.is_empty() => {
            return Err(Error::Usage {
                message: "no task definition given".to_owned(),
                hint: Some("pass -f PATH (or set ECS_ENV_TASK_DEFINITION), or give variables with --secret NAME=VALUEFROM / --env NAME=VALUE".to_owned()),
            });
        }
        None if source.container.is_some() => {
            return Err(Error::usage(
                "--container needs a task definition (-f PATH)",
            ));
        }
        None => ContainerDefinition {
            name: "command-line".to_owned(),
            ..Default::default()
        },
    };
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
