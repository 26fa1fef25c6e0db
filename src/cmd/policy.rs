//! `ecs-env policy`: the least-privilege IAM policy for the task execution role.

use std::io::Write;

use super::args;
use crate::cli::{PolicyArgs, PolicyFormat};
use crate::diagnostic::Class;
use crate::error::Error;
use crate::pipeline::{self, Pipeline, Warnings};
use crate::policy::{Context, Policy};
use crate::reference::{self, SecretRef};
use crate::resolve::{Failure, Local};
use crate::taskdef::ContainerDefinition;

pub(crate) fn execute(args: &PolicyArgs) -> Result<u8, Error> {
    let source = args::source(&args.source)?;
    let mut settings = args::aws_settings(&args.aws);
    // Offline means no socket, also for the lookups a source may want.
    settings.offline = args.offline;
    let (references, environment_files, ctx, kms_keys, notes) =
        crate::runtime::block_on(pipeline::deadline(&settings), async {
            let mut pipeline =
                Pipeline::new(&source, &settings, Local::default(), Warnings::Print).await;
            let containers = if args.all_containers {
                pipeline.load_all_containers().await?
            } else {
                vec![pipeline.load().await?.container]
            };
            let (mut references, environment_files) = references(&containers)?;
            let mut ctx = Context {
                task_region: pipeline.local.task_region.clone(),
                account: args.source.account.clone(),
            };
            let mut kms_keys = args.kms_keys.clone();
            let mut notes = Vec::new();
            if !args.offline {
                // Role reads by bare name: a registry secret or a log driver's parameter.
                let by_name =
                    |r: &str| !r.starts_with("arn:") && r != crate::cloudformation::UNRESOLVED;
                let registry_by_name = containers.iter().any(|c| {
                    c.registry_credentials.as_deref().is_some_and(by_name)
                        || c.log_secrets.iter().any(|s| by_name(&s.value_from))
                });
                let needs_account = ctx.account.is_none()
                    && (registry_by_name
                        || references
                            .iter()
                            .any(|r| matches!(r, SecretRef::Parameter(p) if p.region.is_none())));
                let session = pipeline.aws.get().await?;
                if needs_account {
                    match session.identity().await {
                        Ok(identity) => ctx.account = Some(identity.account),
                        Err(e) => notes.push(format!(
                            "could not read the account (sts:GetCallerIdentity): {e}"
                        )),
                    }
                }
            }
            // What the execution role reads besides the environment: log driver secrets and
            // registry credentials.
            references.extend(role_references(&containers, &ctx)?);
            references.sort_by_key(|r| format!("{r:?}"));
            references.dedup();
            if !args.offline {
                let session = pipeline.aws.get().await?;
                let (discovered, lookup_notes) = session
                    .kms_keys(
                        &references,
                        ctx.task_region.as_deref(),
                        ctx.account.as_deref(),
                    )
                    .await;
                kms_keys.extend(discovered);
                notes.extend(lookup_notes);
            }
            Ok::<_, Error>((references, environment_files, ctx, kms_keys, notes))
        })??;
    for note in &notes {
        crate::error::warn(note);
    }

    let mut kms_keys = kms_keys;
    kms_keys.sort();
    kms_keys.dedup();
    let mut policy = Policy::build(&references, &kms_keys, &environment_files, &ctx).map_err(|missing| {
        Error::Unresolved(
            missing
                .into_iter()
                .map(|m| {
                    let (class, hint) = match m.missing {
                        "account" => (Class::NoAccount, "pass --account ID (or drop --offline to read it from sts:GetCallerIdentity)"),
                        _ => (Class::NoRegion, "pass --region REGION or set AWS_REGION"),
                    };
                    Failure::new(
                        class,
                        format!("a parameter given by bare name needs the task's {} to write its ARN", m.missing),
                    )
                    .reference(&m.reference)
                    .hint(hint)
                })
                .collect(),
        )
    })?;
    if args.batch {
        policy.allow_batch();
    } else if batches_would_help(&references) {
        eprintln!(
            "ecs-env: note: two or more secrets of one region are read at their current version; \
             --batch also allows secretsmanager:BatchGetSecretValue, so that ecs-env reads them \
             20 per request instead of one each"
        );
    }
    if policy.is_empty() {
        // IAM rejects a policy without statements, so there is no document to print.
        eprintln!(
            "ecs-env: note: the selected container(s) reference no secrets or environment files: no permission is needed"
        );
        return Ok(crate::exit::SUCCESS);
    }
    let text = match args.format {
        PolicyFormat::Json => policy.to_json(),
        PolicyFormat::Terraform => policy.to_terraform("ecs_env_execution_role"),
    };
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .map_err(Error::Output)?;
    Ok(crate::exit::SUCCESS)
}

/// The distinct references and environment files of the selected container(s).
fn references(containers: &[ContainerDefinition]) -> Result<(Vec<SecretRef>, Vec<String>), Error> {
    let mut references = Vec::new();
    let mut environment_files = Vec::new();
    let mut problems = Vec::new();
    for c in containers {
        for s in &c.secrets {
            match reference::parse(&s.value_from) {
                Ok(r) => references.push(r),
                Err(e) => problems.push(
                    Failure::new(e.class(), e.to_string())
                        .variable(&s.name)
                        .reference(&s.value_from),
                ),
            }
        }
        environment_files.extend(c.environment_files.iter().map(|f| f.value.clone()));
    }
    if !problems.is_empty() {
        return Err(Error::Unresolved(problems));
    }
    references.sort_by_key(|r| format!("{r:?}"));
    references.dedup();
    Ok((references, environment_files))
}

/// The references of what the execution role reads for the log driver and the registry
/// (`identity::role_reads`); every one that cannot be written is a failure.
fn role_references(
    containers: &[ContainerDefinition],
    ctx: &Context,
) -> Result<Vec<SecretRef>, Error> {
    let mut references = Vec::new();
    let mut problems = Vec::new();
    for c in containers {
        let (reads, failures) =
            crate::identity::role_reads(c, ctx.task_region.as_deref(), ctx.account.as_deref());
        problems.extend(failures);
        for read in reads {
            match reference::parse(&read.value_from) {
                Ok(r) => references.push(r),
                Err(e) => problems.push(
                    Failure::new(e.class(), format!("{}: {e}", read.label))
                        .reference(&read.value_from),
                ),
            }
        }
    }
    if problems.is_empty() {
        Ok(references)
    } else {
        Err(Error::Unresolved(problems))
    }
}

/// Whether `run` would use `BatchGetSecretValue` for these references: the fetch planner's
/// own rule, on the same keys.
fn batches_would_help(references: &[SecretRef]) -> bool {
    let keys: Vec<_> = references
        .iter()
        .filter_map(|r| crate::resolve::fetch_key(r, None))
        .collect();
    !crate::aws::plan::batch_regions(&keys).is_empty()
}
