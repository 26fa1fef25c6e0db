//! Shared by every subcommand: the task definition and container from the flags, the
//! laptop's side of the merge, and the AWS settings.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::aws::{self, LazySession};
use crate::cli::{AwsArgs, LaunchType, LocalArgs, SourceArgs, TfInput};
use crate::cloudformation;
use crate::envfile::Dialect;
use crate::error::Error;
use crate::resolve::Failure;
use crate::resolve::{Local, Preserve};
use crate::secret::SecretValue;
use crate::taskdef::{self, ContainerDefinition, EnvironmentEntry, SecretEntry, TaskDefinition};
use crate::terraform;

/// Inherited variables kept by `--pristine` (plus every `LC_*`).
const PRISTINE_ALLOWLIST: [&str; 9] = [
    "PATH", "HOME", "USER", "LOGNAME", "SHELL", "TERM", "LANG", "TZ", "TMPDIR",
];

/// The task definition named by `-f` or `--service`, if any, from wherever it lives.
pub(super) async fn task_definition(
    source: &SourceArgs,
    aws: &mut LazySession<'_>,
    task_region: Option<&str>,
) -> Result<Option<TaskDefinition>, Error> {
    let td = match (&source.task_definition, &source.service) {
        (None, None) => return Ok(None),
        (None, Some(service)) => {
            let Some((cluster, name)) = service.split_once('/') else {
                return Err(Error::usage("--service expects CLUSTER/SERVICE"));
            };
            let session = aws.get().await?;
            let arn = session.service_task_definition(cluster, name).await?;
            tracing::debug!(service = %service, task_definition = %arn, "service deploys");
            session.describe_task_definition(&arn).await?
        }
        (Some(path), _) if path == Path::new("-") => {
            let text = read_bounded(path, std::io::stdin().lock())?;
            from_text(path, &text, source, aws, task_region).await?
        }
        (Some(path), _) if terraform::is_terraform_path(path) => from_terraform(path, source)?,
        (Some(path), _) if path.exists() => {
            let file = std::fs::File::open(path).map_err(|e| Error::ReadTaskDefinition {
                path: path.clone(),
                source: e,
            })?;
            let text = read_bounded(path, file)?;
            from_text(path, &text, source, aws, task_region).await?
        }
        (Some(path), _) => match path.to_str().filter(|s| is_deployed_id(s)) {
            // Not a file: a family, family:revision or task definition ARN.
            Some(id) => aws.get().await?.describe_task_definition(id).await?,
            None => {
                return Err(Error::ReadTaskDefinition {
                    path: path.clone(),
                    source: std::io::Error::new(
                        std::io::ErrorKind::NotFound,
                        "no such file or directory (and not a task definition family or ARN)",
                    ),
                });
            }
        },
    };
    tracing::debug!(shape = %td.shape, containers = td.containers.len(), "loaded task definition");
    Ok(Some(td))
}

/// Task definitions are at most 64 KiB when registered, templates at most 1 MB; a file many
/// times larger is a mistake, refused before it is read into memory.
const MAX_SOURCE_BYTES: u64 = 16 * 1024 * 1024;

fn read_bounded(path: &Path, reader: impl Read) -> Result<String, Error> {
    let fail = |source| Error::ReadTaskDefinition {
        path: path.to_owned(),
        source,
    };
    let mut bytes = Vec::new();
    reader
        .take(MAX_SOURCE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(fail)?;
    if bytes.len() as u64 > MAX_SOURCE_BYTES {
        return Err(fail(std::io::Error::other(format!(
            "larger than {} MiB, which no task definition or template is",
            MAX_SOURCE_BYTES / 1024 / 1024
        ))));
    }
    String::from_utf8(bytes).map_err(|e| {
        fail(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "not UTF-8 (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            ),
        ))
    })
}

/// `family`, `family:revision` or `arn:...:ecs:...:task-definition/family:revision`.
fn is_deployed_id(s: &str) -> bool {
    if s.starts_with("arn:") {
        return s.split(':').nth(2) == Some("ecs") && s.contains(":task-definition/");
    }
    let (family, revision) = match s.split_once(':') {
        Some((f, r)) => (f, Some(r)),
        None => (s, None),
    };
    !family.is_empty()
        && family.len() <= 255
        && family
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        && revision.is_none_or(|r| !r.is_empty() && r.chars().all(|c| c.is_ascii_digit()))
}

/// A file's text: task definition JSON, `terraform show -json` output, or a CloudFormation
/// template (JSON or YAML).
async fn from_text(
    path: &Path,
    text: &str,
    source: &SourceArgs,
    aws: &mut LazySession<'_>,
    task_region: Option<&str>,
) -> Result<TaskDefinition, Error> {
    let invalid = |e| Error::TaskDefinition {
        path: path.to_owned(),
        source: e,
    };
    // The text is parsed once; each JSON source shape looks at the same value. Text that is
    // not JSON may still be a YAML template (or a JSON one behind a byte-order mark).
    let doc = match taskdef::parse_json(text) {
        Ok(doc) => doc,
        Err(_) if cloudformation::looks_like_template(text) => {
            let template = cloudformation::parse(text);
            return from_template(path, template, source, aws, task_region).await;
        }
        Err(e) => return Err(invalid(e)),
    };
    if cloudformation::is_template(&doc) {
        let template = cloudformation::from_json(doc);
        return from_template(path, template, source, aws, task_region).await;
    }
    if terraform::looks_like_show_json(&doc) {
        let loaded = terraform::from_show_json(&doc, source.resource.as_deref())
            .map_err(terraform_failures)?;
        return from_terraform_loaded(path, loaded);
    }
    taskdef::from_value(&doc).map_err(invalid)
}

async fn from_template(
    path: &Path,
    template: Result<cloudformation::Template, cloudformation::TemplateError>,
    source: &SourceArgs,
    aws: &mut LazySession<'_>,
    task_region: Option<&str>,
) -> Result<TaskDefinition, Error> {
    let template_error = |e: cloudformation::TemplateError| Error::Usage {
        message: format!("template `{}`: {e}", path.display()),
        hint: None,
    };
    let template = template.map_err(template_error)?;
    let mut ctx = cloudformation::Context {
        region: task_region.map(str::to_owned),
        partition: task_region.map(|r| crate::policy::partition_of(r).to_owned()),
        stack_name: source.stack.clone(),
        ..Default::default()
    };
    for item in &source.parameters {
        let (k, v) = split_assignment("--parameter", item)?;
        ctx.parameters.insert(k, v);
    }
    if let Some(stack) = &source.stack {
        ctx.stack_resources = Some(aws.get().await?.stack_resources(stack).await?);
    }
    let mut resolved = template
        .task_definition(source.resource.as_deref(), &ctx)
        .map_err(template_error)?;
    // AWS::AccountId comes from sts:GetCallerIdentity, asked only when the template needs it.
    if let Err(unresolved) = &resolved
        && unresolved
            .iter()
            .any(|u| u.intrinsic.contains("AWS::AccountId"))
        && let Ok(session) = aws.get().await
        && let Ok(identity) = session.identity().await
    {
        ctx.account = Some(identity.account);
        resolved = template
            .task_definition(source.resource.as_deref(), &ctx)
            .map_err(template_error)?;
    }
    match resolved {
        Ok(doc) => taskdef::parse(&doc.to_string()).map_err(|e| Error::TaskDefinition {
            path: path.to_owned(),
            source: e,
        }),
        Err(unresolved) => Err(Error::Unresolved(
            unresolved
                .into_iter()
                .map(|u| {
                    Failure::new(
                        "unresolved_intrinsic",
                        format!("cannot resolve `{}`", u.intrinsic),
                    )
                    .reference(&u.path)
                    .hint(u.hint)
                })
                .collect(),
        )),
    }
}

fn from_terraform(path: &Path, source: &SourceArgs) -> Result<TaskDefinition, Error> {
    let dir = if path.is_dir() {
        path.to_owned()
    } else {
        path.parent().map(Path::to_owned).unwrap_or_default()
    };
    let state_file = source.tfstate.clone().or_else(|| {
        let default = dir.join("terraform.tfstate");
        default.exists().then_some(default)
    });
    let state = match &state_file {
        Some(f) => {
            let text = std::fs::read_to_string(f).map_err(|e| Error::ReadTaskDefinition {
                path: f.clone(),
                source: e,
            })?;
            let doc = serde_json::from_str(&text).map_err(|e| Error::Usage {
                message: format!("Terraform state `{}` is not valid JSON: {e}", f.display()),
                hint: None,
            })?;
            Some(doc)
        }
        None => None,
    };
    let inputs = terraform::Inputs {
        path: path.to_owned(),
        resource: source.resource.clone(),
        cli: terraform_inputs(source)?,
        env_vars: std::env::vars()
            .filter(|(k, _)| k.starts_with("TF_VAR_"))
            .collect(),
        state,
    };
    let loaded = terraform::load(&inputs).map_err(terraform_failures)?;
    from_terraform_loaded(path, loaded)
}

fn from_terraform_loaded(path: &Path, loaded: terraform::Loaded) -> Result<TaskDefinition, Error> {
    tracing::debug!(address = %loaded.address, "evaluated Terraform resource");
    let doc = serde_json::json!({
        "family": loaded.family,
        "executionRoleArn": loaded.execution_role_arn,
        "containerDefinitions": loaded.container_definitions,
    });
    taskdef::parse(&doc.to_string()).map_err(|e| Error::TaskDefinition {
        path: path.to_owned(),
        source: e,
    })
}

fn terraform_failures(problems: Vec<terraform::Problem>) -> Error {
    Error::Unresolved(
        problems
            .into_iter()
            .map(|p| {
                let mut f = Failure::new("terraform", p.message.clone());
                if !p.file.is_empty() {
                    let at = match p.line {
                        Some(line) => format!("{}:{line}", p.file),
                        None => p.file.clone(),
                    };
                    f = f.tried(format!("evaluating `{}` at {at}", p.expression));
                } else if !p.expression.is_empty() {
                    f = f.tried(format!("evaluating `{}`", p.expression));
                }
                if p.hint.is_empty() { f } else { f.hint(p.hint) }
            })
            .collect(),
    )
}

/// The selected container plus the `--env` / `--secret` entries.
pub(super) fn container(
    source: &SourceArgs,
    task: Option<&TaskDefinition>,
) -> Result<ContainerDefinition, Error> {
    let container = match task {
        Some(td) => td
            .container(source.container.as_deref())
            .map_err(|e| Error::Container {
                path: origin(source),
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

/// How to name the task definition's source in messages.
fn origin(source: &SourceArgs) -> PathBuf {
    match (&source.task_definition, &source.service) {
        (Some(p), _) => p.clone(),
        (None, Some(s)) => PathBuf::from(format!("service {s}")),
        (None, None) => PathBuf::from("(none)"),
    }
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
        timeout: args.timeout,
        refresh_credentials: false,
        batch: !args.no_batch,
    }
}

/// How long the whole AWS phase may take: the budget plus a little for local work, so that
/// the per-request timeouts report which reference was slow before this overall limit hits.
pub(super) fn deadline(settings: &aws::Settings) -> std::time::Duration {
    settings.timeout + std::time::Duration::from_secs(2)
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
