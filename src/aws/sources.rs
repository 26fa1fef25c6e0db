//! Where task definitions live in AWS: registered in ECS (`DescribeTaskDefinition`, the one a
//! service deploys via `DescribeServices`), and the physical ids of a deployed CloudFormation
//! stack (`DescribeStackResources`) for resolving `Ref`s in templates.

use std::collections::BTreeMap;

use aws_sdk_ecs::types::ContainerDefinition as EcsContainer;

use super::Session;
use super::error::classify;
use crate::taskdef::{
    ContainerDefinition, EnvironmentEntry, EnvironmentFileEntry, SecretEntry, Shape, TaskDefinition,
};

/// Why a task definition could not be read from AWS.
#[derive(Debug, thiserror::Error)]
#[error("{api} for `{what}` failed: {message}")]
pub(crate) struct SourceError {
    pub api: &'static str,
    pub what: String,
    pub message: String,
    pub hint: String,
}

impl Session {
    /// `ecs:DescribeTaskDefinition` for a family, `family:revision` or ARN.
    pub(crate) async fn describe_task_definition(
        &self,
        id: &str,
    ) -> Result<TaskDefinition, SourceError> {
        let client = aws_sdk_ecs::Client::new(&self.config);
        let out = client
            .describe_task_definition()
            .task_definition(id)
            .send()
            .await
            .map_err(|e| SourceError {
                api: "ecs:DescribeTaskDefinition",
                what: id.to_owned(),
                message: classify(&e).message,
                hint: "check the family, revision and region (--region); the identity needs \
                       `ecs:DescribeTaskDefinition`"
                    .to_owned(),
            })?;
        let td = out.task_definition().ok_or_else(|| SourceError {
            api: "ecs:DescribeTaskDefinition",
            what: id.to_owned(),
            message: "the answer holds no task definition".to_owned(),
            hint: String::new(),
        })?;
        Ok(TaskDefinition {
            shape: Shape::Described,
            family: td.family().map(str::to_owned),
            execution_role_arn: td.execution_role_arn().map(str::to_owned),
            task_role_arn: td.task_role_arn().map(str::to_owned),
            containers: td.container_definitions().iter().map(container).collect(),
        })
    }

    /// The task definition ARN a service currently deploys (`ecs:DescribeServices`): the
    /// PRIMARY deployment's, which is what new tasks start with.
    pub(crate) async fn service_task_definition(
        &self,
        cluster: &str,
        service: &str,
    ) -> Result<String, SourceError> {
        let what = format!("{cluster}/{service}");
        let fail = |message: String| SourceError {
            api: "ecs:DescribeServices",
            what: what.clone(),
            message,
            hint: "check the cluster and service names and the region (--region); the identity \
                   needs `ecs:DescribeServices`"
                .to_owned(),
        };
        let client = aws_sdk_ecs::Client::new(&self.config);
        let out = client
            .describe_services()
            .cluster(cluster)
            .services(service)
            .send()
            .await
            .map_err(|e| fail(classify(&e).message))?;
        let Some(svc) = out.services().first() else {
            let reason = out
                .failures()
                .first()
                .and_then(|f| f.reason())
                .unwrap_or("no such service");
            return Err(fail(reason.to_owned()));
        };
        svc.deployments()
            .iter()
            .find(|d| d.status() == Some("PRIMARY"))
            .and_then(|d| d.task_definition())
            .or(svc.task_definition())
            .map(str::to_owned)
            .ok_or_else(|| fail("the service has no task definition".to_owned()))
    }

    /// Logical id → physical id for every resource of a deployed stack.
    pub(crate) async fn stack_resources(
        &self,
        stack: &str,
    ) -> Result<BTreeMap<String, String>, SourceError> {
        let client = aws_sdk_cloudformation::Client::new(&self.config);
        let out = client
            .describe_stack_resources()
            .stack_name(stack)
            .send()
            .await
            .map_err(|e| SourceError {
                api: "cloudformation:DescribeStackResources",
                what: stack.to_owned(),
                message: classify(&e).message,
                hint: "check the stack name and region (--region); the identity needs \
                       `cloudformation:DescribeStackResources`"
                    .to_owned(),
            })?;
        Ok(out
            .stack_resources()
            .iter()
            .filter_map(|r| {
                Some((
                    r.logical_resource_id()?.to_owned(),
                    r.physical_resource_id()?.to_owned(),
                ))
            })
            .collect())
    }
}

impl Session {
    /// A Terraform state object from the S3 backend (`s3:GetObject`, read-only): its text, or
    /// `None` when there is none yet (nothing applied in that workspace).
    pub(crate) async fn terraform_state(
        &self,
        bucket: &str,
        key: &str,
        region: Option<&str>,
    ) -> Result<Option<String>, SourceError> {
        use aws_sdk_s3::operation::get_object::GetObjectError;
        let (region, client): (String, aws_sdk_s3::Client) = self.client_in(region);
        let what = format!("s3://{bucket}/{key} in {region}");
        let fail = |message: String| SourceError {
            api: "s3:GetObject",
            what: what.clone(),
            message,
            hint: "the state is where the backend block (and terraform init) say; the identity \
                   needs s3:GetObject on it, or pass --tfstate FILE (terraform state pull > \
                   state.json)"
                .to_owned(),
        };
        let out = match client.get_object().bucket(bucket).key(key).send().await {
            Ok(out) => out,
            Err(e) if matches!(e.as_service_error(), Some(GetObjectError::NoSuchKey(_))) => {
                return Ok(None);
            }
            Err(e) => return Err(fail(classify(&e).message)),
        };
        let limit = crate::files::MAX_STATE_BYTES;
        if out.content_length().is_some_and(|n| n > limit as i64) {
            return Err(fail(format!("the object is over {} MiB", limit >> 20)));
        }
        // Read no further than the cap, whatever the length header said.
        let mut body = out.body;
        let mut bytes = Vec::new();
        while let Some(chunk) = body
            .try_next()
            .await
            .map_err(|e| fail(format!("reading the object failed: {e}")))?
        {
            if (bytes.len() + chunk.len()) as u64 > limit {
                return Err(fail(format!("the object is over {} MiB", limit >> 20)));
            }
            bytes.extend_from_slice(&chunk);
        }
        String::from_utf8(bytes)
            .map(Some)
            .map_err(|_| fail("the object is not UTF-8 text".to_owned()))
    }
}

fn container(c: &EcsContainer) -> ContainerDefinition {
    ContainerDefinition {
        name: c.name().unwrap_or_default().to_owned(),
        environment: c
            .environment()
            .iter()
            .map(|kv| EnvironmentEntry {
                name: kv.name().unwrap_or_default().to_owned(),
                value: kv.value().unwrap_or_default().to_owned(),
            })
            .collect(),
        secrets: c
            .secrets()
            .iter()
            .map(|s| SecretEntry {
                name: s.name().to_owned(),
                value_from: s.value_from().to_owned(),
            })
            .collect(),
        environment_files: c
            .environment_files()
            .iter()
            .map(|f| EnvironmentFileEntry {
                value: f.value().to_owned(),
                kind: f.r#type().as_str().to_owned(),
            })
            .collect(),
        log_secrets: c
            .log_configuration()
            .map(|l| {
                l.secret_options()
                    .iter()
                    .map(|s| SecretEntry {
                        name: s.name().to_owned(),
                        value_from: s.value_from().to_owned(),
                    })
                    .collect()
            })
            .unwrap_or_default(),
        registry_credentials: c
            .repository_credentials()
            .map(|r| r.credentials_parameter().to_owned()),
    }
}
