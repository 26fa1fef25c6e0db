//! The source and load stages: the task definition from wherever it lives (a file, stdin, a
//! Terraform configuration, a CloudFormation template, an in-memory document, the deployed
//! one) and the selected container with the `--env`/`--secret` entries added.

use std::io::Read;
use std::path::{Path, PathBuf};

use super::{Source, SourceSpec};
use crate::aws::LazySession;
use crate::cloudformation;
use crate::diagnostic::Class;
use crate::error::Error;
use crate::resolve::Failure;
use crate::taskdef::{self, ContainerDefinition, EnvironmentEntry, SecretEntry, TaskDefinition};
use crate::terraform;

/// The task definition the spec names, if any, from wherever it lives. `wanted` says what
/// will be read of it (an evaluated source may leave the rest unknown); `warnings` gets what
/// was left unknown that some feature may need; `reads` what a configuration read from AWS
/// to evaluate itself (Terraform lookups), for `check`.
pub(super) async fn task_definition(
    source: &SourceSpec,
    wanted: &taskdef::Wanted,
    warnings: &mut Vec<String>,
    reads: &mut Vec<String>,
    aws: &mut LazySession<'_>,
    task_region: Option<&str>,
) -> Result<Option<TaskDefinition>, Error> {
    let td = match &source.source {
        Source::None => return Ok(None),
        Source::Service { cluster, service } => {
            let session = aws.get().await?;
            let arn = session.service_task_definition(cluster, service).await?;
            tracing::debug!(cluster = %crate::diagnostic::escaped(cluster), service = %crate::diagnostic::escaped(service), task_definition = %crate::diagnostic::escaped(&arn), "service deploys");
            session.describe_task_definition(&arn).await?
        }
        Source::Deployed(id) => aws.get().await?.describe_task_definition(id).await?,
        Source::Json(doc) => {
            let path = Path::new("(in-memory task definition)");
            from_doc(path, doc.clone(), source, wanted, aws, task_region).await?
        }
        Source::Path(path) if path == Path::new("-") => {
            if std::io::IsTerminal::is_terminal(&std::io::stdin()) {
                eprintln!(
                    "ecs-env: reading the task definition from standard input (a terminal); end it with Ctrl-D"
                );
            }
            let text = read_off_the_runtime(path.clone(), None).await?;
            from_text(path, &text, source, wanted, aws, task_region).await?
        }
        Source::Path(path) if terraform::is_terraform_path(path) => {
            from_terraform(path, source, wanted, warnings, reads, aws, task_region).await?
        }
        Source::Path(path) if path.exists() => {
            let text = read_off_the_runtime(path.clone(), Some(path.clone())).await?;
            from_text(path, &text, source, wanted, aws, task_region).await?
        }
        Source::Path(path) => match path.to_str().filter(|s| is_deployed_id(s)) {
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
const MAX_SOURCE_BYTES: u64 = crate::files::MAX_SOURCE_BYTES;

/// Reads the source (`file`, else standard input) on a blocking thread: a FIFO or a terminal
/// may wait forever, and the runtime thread must stay free to see a signal or `--timeout`.
async fn read_off_the_runtime(path: PathBuf, file: Option<PathBuf>) -> Result<String, Error> {
    let display = path.clone();
    tokio::task::spawn_blocking(move || match file {
        Some(f) => {
            let opened = std::fs::File::open(&f).map_err(|e| Error::ReadTaskDefinition {
                path: f.clone(),
                source: e,
            })?;
            read_bounded(&path, opened)
        }
        None => read_bounded(&path, std::io::stdin().lock()),
    })
    .await
    .map_err(|e| Error::ReadTaskDefinition {
        path: display,
        source: std::io::Error::other(e.to_string()),
    })?
}

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
        return crate::arn::Arn::of(s)
            .is_some_and(|a| a.service == "ecs" && a.resource_of("task-definition").is_some());
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
    source: &SourceSpec,
    wanted: &taskdef::Wanted,
    aws: &mut LazySession<'_>,
    task_region: Option<&str>,
) -> Result<TaskDefinition, Error> {
    // The text is parsed once; each JSON source shape looks at the same value. Text that is
    // not JSON may still be a YAML template (or a JSON one behind a byte-order mark).
    let doc = match taskdef::parse_json(text) {
        Ok(doc) => doc,
        Err(_) if cloudformation::looks_like_template(text) => {
            let template = cloudformation::parse(text);
            return from_template(path, template, source, wanted, aws, task_region).await;
        }
        Err(e) => {
            return Err(Error::TaskDefinition {
                path: path.to_owned(),
                source: e,
            });
        }
    };
    from_doc(path, doc, source, wanted, aws, task_region).await
}

/// A parsed JSON document: a CloudFormation template, `terraform show -json` output, or a
/// task definition in any of its shapes.
async fn from_doc(
    path: &Path,
    doc: serde_json::Value,
    source: &SourceSpec,
    wanted: &taskdef::Wanted,
    aws: &mut LazySession<'_>,
    task_region: Option<&str>,
) -> Result<TaskDefinition, Error> {
    if cloudformation::is_template(&doc) {
        let template = cloudformation::from_json(doc);
        return from_template(path, template, source, wanted, aws, task_region).await;
    }
    if terraform::looks_like_show_json(&doc) {
        let loaded = terraform::from_show_json(&doc, source.resource.as_deref())
            .map_err(terraform_failures)?;
        return from_terraform_loaded(path, loaded);
    }
    taskdef::from_value(&doc).map_err(|e| Error::TaskDefinition {
        path: path.to_owned(),
        source: e,
    })
}

async fn from_template(
    path: &Path,
    template: Result<cloudformation::Template, cloudformation::TemplateError>,
    source: &SourceSpec,
    wanted: &taskdef::Wanted,
    aws: &mut LazySession<'_>,
    task_region: Option<&str>,
) -> Result<TaskDefinition, Error> {
    let template_error = |source: cloudformation::TemplateError| Error::Template {
        path: path.to_owned(),
        source,
    };
    let template = template.map_err(template_error)?;
    let mut ctx = cloudformation::Context {
        region: task_region.map(str::to_owned),
        partition: task_region.map(|r| crate::policy::partition_of(r).to_owned()),
        stack_name: source.stack.clone(),
        account: source.account.clone(),
        wanted: wanted.clone(),
        ..Default::default()
    };
    for (k, v) in &source.parameters {
        ctx.parameters.insert(k.clone(), v.clone());
    }
    if let Some(stack) = &source.stack {
        if aws.is_offline() {
            return Err(Error::usage(format!(
                "--stack {} reads the deployed stack (cloudformation:DescribeStackResources), \
                 which --offline forbids: drop --offline, or give the values with --parameter \
                 instead of --stack",
                crate::diagnostic::escaped(stack)
            )));
        }
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
        && !aws.is_offline()
        && let Ok(session) = aws.get().await
        && let Some(identity) = session.identity_for_source().await
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
                    let class = match u.mistake {
                        Some(_) => Class::Template,
                        None => Class::UnresolvedIntrinsic,
                    };
                    Failure::new(class, u.message())
                        .reference(&u.path)
                        .hint(u.hint)
                })
                .collect(),
        )),
    }
}

async fn from_terraform(
    path: &Path,
    source: &SourceSpec,
    wanted: &taskdef::Wanted,
    warnings: &mut Vec<String>,
    reads: &mut Vec<String>,
    aws: &mut LazySession<'_>,
    task_region: Option<&str>,
) -> Result<TaskDefinition, Error> {
    let env_vars: Vec<(String, String)> = std::env::vars()
        .filter(|(k, _)| k.starts_with("TF_VAR_") || k == "TF_WORKSPACE")
        .collect();
    let mut inputs = terraform::Inputs {
        path: path.to_owned(),
        resource: source.resource.clone(),
        cli: source.terraform.clone(),
        env_vars,
        state: None,
        wanted: wanted.clone(),
        region: task_region.map(str::to_owned),
        caller: terraform::Caller {
            account: source.account.clone(),
            ..Default::default()
        },
        looked_up: Default::default(),
        live: !aws.is_offline(),
    };
    // Parsed once: the state's location and every evaluation below share it.
    let config = terraform::Configuration::read(&inputs.path).map_err(terraform_failures)?;
    let remote = match state_source(&config, source, &inputs.env_vars, warnings, aws)? {
        StateSource::Ready(state) => {
            inputs.state = state;
            None
        }
        StateSource::Remote(remote) => Some(remote),
    };
    // What only AWS can answer (data sources plan reads, resources looked up by name, remote
    // states, the caller's identity), asked only for what stops the environment, in
    // concurrent waves, each followed by one more evaluation. The first wave reads a remote
    // state together with what does not depend on it (data sources, the caller's identity:
    // an evaluation without the state finds them), so that the state costs no round trip of
    // its own. A wave can reveal the next (a resource the state lacks, looked up by name; a
    // secret version whose secret_id is a secret data source's id). Offline they stay
    // unknown, and the problems say which flag supplies them.
    let (mut loaded, mut asks) = config.load_asking(&inputs);
    if let Some(remote) = remote {
        let session = aws.get().await?;
        let independent: Vec<terraform::Lookup> = asks
            .into_iter()
            .filter(|a| !a.for_resource)
            .map(|a| a.lookup)
            .collect();
        let (state, answers) = tokio::join!(
            remote_state(session, &remote),
            answer_all(session, independent, task_region)
        );
        inputs.state = match state? {
            Some(state) => Some(state),
            None => {
                warnings.push(format!(
                    "no Terraform state at {} yet (nothing applied in this workspace?)",
                    remote.at
                ));
                None
            }
        };
        record(&mut inputs, reads, answers);
        (loaded, asks) = config.load_asking(&inputs);
    }
    let mut waves = 0;
    while !asks.is_empty() && !aws.is_offline() && waves < MAX_LOOKUP_WAVES {
        waves += 1;
        let session = aws.get().await?;
        let lookups = asks.into_iter().map(|a| a.lookup).collect();
        let answers = answer_all(session, lookups, task_region).await;
        record(&mut inputs, reads, answers);
        (loaded, asks) = config.load_asking(&inputs);
    }
    let loaded = loaded.map_err(terraform_failures)?;
    for note in &loaded.notes {
        tracing::debug!(note = %note, "Terraform value not needed");
    }
    warnings.extend(loaded.warnings.iter().cloned());
    from_terraform_loaded(path, loaded)
}

/// Where the state document comes from.
enum StateSource {
    /// Read already, or none: `--tfstate FILE`, a local backend's file, none yet, a backend
    /// ecs-env does not read, or a remote one offline.
    Ready(Option<serde_json::Value>),
    /// An S3 object, read in the first wave of lookups.
    Remote(RemoteState),
}

/// An S3 backend's state object.
struct RemoteState {
    bucket: String,
    key: String,
    region: Option<String>,
    /// `s3://BUCKET/KEY`, for messages.
    at: String,
}

/// The state document: `--tfstate FILE`, else the backend's (a local file now, or an S3
/// object to read), else none. A local state that does not exist yet (nothing applied) is
/// none; offline, a remote one is not read (said in a warning).
fn state_source(
    config: &terraform::Configuration,
    source: &SourceSpec,
    env_vars: &[(String, String)],
    warnings: &mut Vec<String>,
    aws: &LazySession<'_>,
) -> Result<StateSource, Error> {
    let read_file = |f: &Path| -> Result<StateSource, Error> {
        let text = crate::files::read_text(f, crate::files::MAX_STATE_BYTES).map_err(|e| {
            Error::ReadTaskDefinition {
                path: f.to_owned(),
                source: e,
            }
        })?;
        state_json(&text, f).map(|doc| StateSource::Ready(Some(doc)))
    };
    if let Some(f) = &source.tfstate {
        return read_file(f);
    }
    let settings =
        terraform::backend_config_args(&source.backend_config).map_err(terraform_failures)?;
    match config
        .state_location(&settings, env_vars)
        .map_err(terraform_failures)?
    {
        terraform::StateLocation::Local(f) => match f.exists() {
            true => read_file(&f),
            false => Ok(StateSource::Ready(None)),
        },
        terraform::StateLocation::S3 {
            bucket,
            key,
            region,
            ignored,
        } => {
            let at = format!("s3://{bucket}/{key}");
            if aws.is_offline() {
                warnings.push(format!(
                    "the Terraform state is in {at}, which --offline does not read; values only \
                     it knows are unknown (pass --tfstate FILE to give it)"
                ));
                return Ok(StateSource::Ready(None));
            }
            if !ignored.is_empty() {
                warnings.push(format!(
                    "the s3 backend sets {}, which ecs-env does not apply: it reads {at} as your \
                     own identity",
                    ignored.join(", ")
                ));
            }
            Ok(StateSource::Remote(RemoteState {
                bucket,
                key,
                region,
                at,
            }))
        }
        terraform::StateLocation::Other(kind) => {
            warnings.push(format!(
                "the configuration keeps its state in a `{kind}` backend, which ecs-env does not \
                 read; pass --tfstate FILE (terraform state pull > state.json)"
            ));
            Ok(StateSource::Ready(None))
        }
    }
}

/// One S3 `GetObject` of the state; `None` when there is none yet.
async fn remote_state(
    session: &crate::aws::Session,
    remote: &RemoteState,
) -> Result<Option<serde_json::Value>, Error> {
    tracing::debug!(state = %crate::diagnostic::escaped(&remote.at), "reading Terraform state");
    match session
        .terraform_state(&remote.bucket, &remote.key, remote.region.as_deref())
        .await?
    {
        Some(text) => state_json(&text, Path::new(&remote.at)).map(Some),
        None => Ok(None),
    }
}

/// AWS's answers to `lookups`, all at once.
async fn answer_all(
    session: &crate::aws::Session,
    lookups: Vec<terraform::Lookup>,
    task_region: Option<&str>,
) -> Vec<(terraform::Lookup, Result<serde_json::Value, String>)> {
    futures_util::future::join_all(lookups.into_iter().map(|lookup| async move {
        let answer = answer(session, &lookup, task_region).await;
        (lookup, answer)
    }))
    .await
}

/// Keeps the answers for the next evaluation, and names each read for `check`.
fn record(
    inputs: &mut terraform::Inputs,
    reads: &mut Vec<String>,
    answers: Vec<(terraform::Lookup, Result<serde_json::Value, String>)>,
) {
    for (lookup, answer) in answers {
        reads.push(lookup.describe());
        inputs.looked_up.insert(lookup, answer);
    }
}

/// A state document's JSON; `at` names it in the error (a file, or `s3://BUCKET/KEY`). The
/// error gives the position and class only: a state holds values.
fn state_json(text: &str, at: &Path) -> Result<serde_json::Value, Error> {
    serde_json::from_str(text).map_err(|e| Error::State {
        path: at.to_owned(),
        message: format!("is not valid JSON: {}", crate::diagnostic::json_error(&e)),
    })
}

/// How many rounds of lookups one configuration may take: each round answers what the
/// previous evaluation could not know. Real configurations chain two at most (a secret, then
/// its version); a deeper chain stays unknown, and says so.
const MAX_LOOKUP_WAVES: usize = 4;

/// AWS's answer to one lookup: the attributes Terraform would show, or why not.
async fn answer(
    session: &crate::aws::Session,
    lookup: &terraform::Lookup,
    task_region: Option<&str>,
) -> Result<serde_json::Value, String> {
    use terraform::Lookup as L;
    tracing::debug!(lookup = %lookup.describe(), "Terraform lookup (as terraform plan reads it)");
    match lookup {
        L::RemoteState {
            bucket,
            key,
            region,
        } => {
            let text = session
                .terraform_state(bucket, key, region.as_deref())
                .await
                .map_err(|e| e.message)?;
            remote_outputs(text.as_deref(), &format!("s3://{bucket}/{key}"))
                .map(|outputs| serde_json::json!({ "outputs": outputs }))
                .map_err(|e| e.to_string())
        }
        L::CallerIdentity => session.identity().await.map(|i| {
            serde_json::json!({"account_id": i.account, "id": i.account, "arn": i.arn, "user_id": i.user_id})
        }),
        L::Secret { id } => session.secret_attributes(id, task_region).await,
        L::SecretVersion {
            id,
            version_id,
            version_stage,
        } => {
            session
                .secret_version_attributes(
                    id,
                    version_id.as_deref(),
                    version_stage.as_deref(),
                    task_region,
                )
                .await
        }
        L::Parameter { name, decrypt } => {
            session
                .parameter_attributes(name, *decrypt, task_region)
                .await
        }
        L::Role { name } => session.role_attributes(name, task_region).await,
        L::KmsAlias { name } => session.kms_alias_attributes(name, task_region).await,
    }
}

/// A remote state's outputs, as `data.terraform_remote_state.X.outputs` shows them: each
/// output's `value`. No state (nothing applied) has no outputs.
fn remote_outputs(text: Option<&str>, at: &str) -> Result<serde_json::Value, Error> {
    let Some(text) = text else {
        return Ok(serde_json::Value::Object(Default::default()));
    };
    let doc = state_json(text, Path::new(at))?;
    let outputs = doc
        .get("outputs")
        .and_then(serde_json::Value::as_object)
        .map(|o| {
            o.iter()
                .map(|(k, v)| (k.clone(), v.get("value").cloned().unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default();
    Ok(serde_json::Value::Object(outputs))
}

fn from_terraform_loaded(path: &Path, loaded: terraform::Loaded) -> Result<TaskDefinition, Error> {
    tracing::debug!(address = %crate::diagnostic::escaped(&loaded.address), "evaluated Terraform resource");
    let doc = serde_json::json!({
        "family": loaded.family,
        "executionRoleArn": loaded.execution_role_arn,
        "taskRoleArn": loaded.task_role_arn,
        "containerDefinitions": loaded.container_definitions,
    });
    // An error in what the configuration evaluated to names where it is written.
    let written = match loaded.container_definitions_at.as_str() {
        "" => path.to_owned(),
        at => PathBuf::from(format!(
            "{at} ({}, container_definitions)",
            crate::diagnostic::escaped(&loaded.address)
        )),
    };
    taskdef::parse(&doc.to_string()).map_err(|e| Error::TaskDefinition {
        path: written,
        source: e,
    })
}

fn terraform_failures(problems: Vec<terraform::Problem>) -> Error {
    Error::Unresolved(
        problems
            .into_iter()
            .map(|p| {
                let mut f = Failure::new(Class::Terraform, p.message.clone());
                if !p.file.is_empty() {
                    let at = match p.line {
                        Some(line) => format!("{}:{line}", p.file),
                        None => p.file.clone(),
                    };
                    f = f.tried(if p.expression.is_empty() {
                        format!("reading {at}")
                    } else {
                        format!("evaluating `{}` at {at}", p.expression)
                    });
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
    source: &SourceSpec,
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
    Ok(with_flag_entries(container, source))
}

/// How to name the task definition's source in messages.
fn origin(source: &SourceSpec) -> PathBuf {
    match &source.source {
        Source::Path(p) => p.clone(),
        Source::Deployed(id) => PathBuf::from(id),
        Source::Service { cluster, service } => {
            PathBuf::from(format!("service {cluster}/{service}"))
        }
        Source::Json(_) => PathBuf::from("(in-memory task definition)"),
        Source::None => PathBuf::from("(none)"),
    }
}

/// Append `--env` and `--secret` entries, as if they were in the task definition.
pub(super) fn with_flag_entries(
    mut container: ContainerDefinition,
    source: &SourceSpec,
) -> ContainerDefinition {
    for (name, value) in &source.env {
        container.environment.push(EnvironmentEntry {
            name: name.clone(),
            value: value.clone(),
        });
    }
    for (name, value_from) in &source.secrets {
        container.secrets.push(SecretEntry {
            name: name.clone(),
            value_from: value_from.clone(),
        });
    }
    container
}
