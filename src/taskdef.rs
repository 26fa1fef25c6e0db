//! Task definitions: detect which JSON shape a file is, normalise it, pick a container.
//!
//! Accepted shapes (spec section 8):
//! - `aws ecs describe-task-definition` / `register-task-definition` output:
//!   `{"taskDefinition": {...}}`;
//! - `register-task-definition --cli-input-json` input: `{"family": ..., "containerDefinitions": [...]}`
//!   (read-only fields from describe output are tolerated);
//! - a bare container-definitions array, as Terraform's `jsonencode([...])` produces, where
//!   modules emit `null` for unset fields.
//!
//! Only the fields that decide the environment are read; everything else is ignored. Values
//! must be JSON strings, as the ECS API requires: a number or boolean where a string belongs is
//! an error that names its JSON path, never a silent conversion.
//!
//! Pure: parsing works on text; reading the file or stdin is the caller's job.

use std::fmt;

use serde_json::{Map, Value};

/// What a caller will read of a task definition, so that a source that evaluates expressions
/// (Terraform, CloudFormation) needs to know only that: the selected container's `name`,
/// `environment`, `environmentFiles` and `secrets`, except the values of overridden
/// variables.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Wanted {
    /// `--container NAME`; `None`: the only one.
    pub container: Option<String>,
    /// Every container's environment (`policy --all-containers`).
    pub all_containers: bool,
    /// The variables overridden locally (`--override`): their values are never needed.
    pub overrides: Vec<String>,
    /// The task's role ARNs too: a role is assumed (`--as-execution-role`, `--task-role`).
    pub roles: bool,
}

/// The `valueFrom` an overridden secret whose own `valueFrom` cannot be evaluated gets: a
/// valid reference that is never fetched (overridden secrets are not).
pub(crate) const OVERRIDDEN: &str = "/ecs-env/overridden-not-evaluated";

/// A container's name as an evaluating source sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SourceName<'a> {
    Known(&'a str),
    /// An expression that cannot be evaluated here.
    Unknown,
    Absent,
}

impl Wanted {
    /// Which containers' environments must be known, by position. `Err`: the choice depends
    /// on names that are unknown (the wanted one is not among the known names, or there is
    /// no choice and several containers, whose names the caller will list).
    pub(crate) fn needed(&self, names: &[SourceName]) -> Result<Vec<bool>, ()> {
        if self.all_containers {
            return Ok(vec![true; names.len()]);
        }
        let chosen = match &self.container {
            Some(want) => names
                .iter()
                .position(|n| *n == SourceName::Known(want.as_str())),
            None if names.len() == 1 => Some(0),
            None => None,
        };
        if chosen.is_none() && names.contains(&SourceName::Unknown) {
            return Err(());
        }
        Ok((0..names.len()).map(|i| Some(i) == chosen).collect())
    }

    /// Whether `name`'s value is overridden locally.
    pub(crate) fn overridden(&self, name: &str) -> bool {
        self.overrides.iter().any(|o| o == name)
    }
}

/// The part of a task definition that decides a container's environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TaskDefinition {
    pub shape: Shape,
    pub family: Option<String>,
    pub execution_role_arn: Option<String>,
    /// `taskRoleArn`: the identity ECS gives the application (`--task-role`).
    pub task_role_arn: Option<String>,
    pub containers: Vec<ContainerDefinition>,
}

/// Which JSON shape the task definition came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    /// `{"taskDefinition": {...}}` (describe-task-definition or register output).
    Described,
    /// A top-level task definition object (register-task-definition input).
    Registration,
    /// A bare array of container definitions (Terraform `container_definitions`).
    ContainerArray,
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Shape::Described => "describe-task-definition output",
            Shape::Registration => "register-task-definition input",
            Shape::ContainerArray => "container definitions array",
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct ContainerDefinition {
    pub name: String,
    pub environment: Vec<EnvironmentEntry>,
    pub secrets: Vec<SecretEntry>,
    pub environment_files: Vec<EnvironmentFileEntry>,
    /// `logConfiguration.secretOptions`: values the execution role reads for the log driver.
    /// They never reach the environment; `check` verifies them and `policy` grants them.
    pub log_secrets: Vec<SecretEntry>,
    /// `repositoryCredentials.credentialsParameter`: the secret the execution role reads to
    /// pull a private image. Like `log_secrets`, verified and granted, never injected.
    pub registry_credentials: Option<String>,
}

/// One `environment` entry: a literal value, visible in the task definition itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EnvironmentEntry {
    pub name: String,
    pub value: String,
}

/// One `secrets` entry: a name and a reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SecretEntry {
    pub name: String,
    pub value_from: String,
}

/// One `environmentFiles` entry (an S3 object ARN).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EnvironmentFileEntry {
    pub value: String,
    pub kind: String,
}

/// Why a task definition could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LoadError {
    Json(String),
    UnknownShape(String),
    Invalid { path: String, problem: String },
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::Json(e) => write!(f, "not valid JSON: {e}"),
            LoadError::UnknownShape(found) => write!(
                f,
                "unrecognised task definition shape ({found}); accepted shapes are \
                 describe-task-definition output (`{{\"taskDefinition\": {{...}}}}`), \
                 register-task-definition input (`{{\"family\": ..., \"containerDefinitions\": [...]}}`) \
                 and a bare container definitions array (`[{{\"name\": ...}}]`, as Terraform's \
                 `container_definitions`)"
            ),
            LoadError::Invalid { path, problem } => write!(f, "at `{path}`: {problem}"),
        }
    }
}

impl std::error::Error for LoadError {}

/// Parse a task definition in any accepted shape.
pub(crate) fn parse(text: &str) -> Result<TaskDefinition, LoadError> {
    from_value(&parse_json(text)?)
}

/// The text as JSON. serde_json's messages name a position, never content: safe even if
/// someone pastes a value into the file.
pub(crate) fn parse_json(text: &str) -> Result<Value, LoadError> {
    serde_json::from_str(text).map_err(|e| LoadError::Json(crate::diagnostic::json_error(&e)))
}

/// A task definition from an already parsed JSON document (the loader parses a file once and
/// tries each source shape on the same value).
pub(crate) fn from_value(root: &Value) -> Result<TaskDefinition, LoadError> {
    match root {
        Value::Array(items) => Ok(TaskDefinition {
            shape: Shape::ContainerArray,
            family: None,
            execution_role_arn: None,
            task_role_arn: None,
            containers: containers(items, "$")?,
        }),
        Value::Object(obj) => {
            if let Some(inner) = obj.get("taskDefinition") {
                let Value::Object(inner) = inner else {
                    return Err(invalid("$.taskDefinition", "expected an object", inner));
                };
                task_definition(inner, "$.taskDefinition", Shape::Described)
            } else if obj.contains_key("containerDefinitions") {
                task_definition(obj, "$", Shape::Registration)
            } else {
                Err(LoadError::UnknownShape(describe_object(obj)))
            }
        }
        other => Err(LoadError::UnknownShape(format!(
            "the top level is {}",
            kind_of(other)
        ))),
    }
}

fn describe_object(obj: &Map<String, Value>) -> String {
    if obj.contains_key("ContainerDefinitions") || obj.contains_key("Resources") {
        return "this looks like CloudFormation (PascalCase keys), which is not supported yet"
            .to_owned();
    }
    let mut keys: Vec<&str> = obj.keys().map(String::as_str).take(8).collect();
    keys.sort_unstable();
    if keys.is_empty() {
        "an empty object".to_owned()
    } else {
        format!("an object with keys {}", keys.join(", "))
    }
}

fn task_definition(
    obj: &Map<String, Value>,
    path: &str,
    shape: Shape,
) -> Result<TaskDefinition, LoadError> {
    let defs_path = format!("{path}.containerDefinitions");
    let items = match obj.get("containerDefinitions") {
        Some(Value::Array(items)) => items.as_slice(),
        Some(other) => return Err(invalid(&defs_path, "expected an array", other)),
        None => return Err(invalid_missing(&defs_path)),
    };
    Ok(TaskDefinition {
        shape,
        family: optional_string(obj, "family", path)?,
        execution_role_arn: optional_string(obj, "executionRoleArn", path)?,
        task_role_arn: optional_string(obj, "taskRoleArn", path)?,
        containers: containers(items, &defs_path)?,
    })
}

fn containers(items: &[Value], path: &str) -> Result<Vec<ContainerDefinition>, LoadError> {
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let path = format!("{path}[{i}]");
            match item {
                Value::Object(obj) => container(obj, &path),
                other => Err(invalid(
                    &path,
                    "expected a container definition object",
                    other,
                )),
            }
        })
        .collect()
}

fn container(obj: &Map<String, Value>, path: &str) -> Result<ContainerDefinition, LoadError> {
    let name = optional_string(obj, "name", path)?
        .ok_or_else(|| invalid_missing(&format!("{path}.name")))?;
    Ok(ContainerDefinition {
        name,
        environment: entries(obj, "environment", path, |o, p| {
            Ok(EnvironmentEntry {
                name: required_string(o, "name", p)?,
                value: required_string(o, "value", p)?,
            })
        })?,
        secrets: entries(obj, "secrets", path, |o, p| {
            Ok(SecretEntry {
                name: required_string(o, "name", p)?,
                value_from: required_string(o, "valueFrom", p)?,
            })
        })?,
        environment_files: entries(obj, "environmentFiles", path, |o, p| {
            Ok(EnvironmentFileEntry {
                value: required_string(o, "value", p)?,
                kind: optional_string(o, "type", p)?.unwrap_or_else(|| "s3".to_owned()),
            })
        })?,
        log_secrets: match optional_object(obj, "logConfiguration", path)? {
            Some(log) => entries(
                log,
                "secretOptions",
                &format!("{path}.logConfiguration"),
                |o, p| {
                    Ok(SecretEntry {
                        name: required_string(o, "name", p)?,
                        value_from: required_string(o, "valueFrom", p)?,
                    })
                },
            )?,
            None => Vec::new(),
        },
        registry_credentials: match optional_object(obj, "repositoryCredentials", path)? {
            Some(creds) => optional_string(
                creds,
                "credentialsParameter",
                &format!("{path}.repositoryCredentials"),
            )?,
            None => None,
        },
    })
}

/// An object field; absent or `null` is `None`.
fn optional_object<'a>(
    obj: &'a Map<String, Value>,
    field: &str,
    path: &str,
) -> Result<Option<&'a Map<String, Value>>, LoadError> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(o)) => Ok(Some(o)),
        Some(other) => Err(invalid(
            &format!("{path}.{field}"),
            "expected an object",
            other,
        )),
    }
}

/// A list field of a container; absent or `null` (Terraform modules emit it) is empty.
fn entries<T>(
    obj: &Map<String, Value>,
    field: &str,
    path: &str,
    each: impl Fn(&Map<String, Value>, &str) -> Result<T, LoadError>,
) -> Result<Vec<T>, LoadError> {
    let path = format!("{path}.{field}");
    match obj.get(field) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                let path = format!("{path}[{i}]");
                match item {
                    Value::Object(o) => each(o, &path),
                    other => Err(invalid(&path, "expected an object", other)),
                }
            })
            .collect(),
        Some(other) => Err(invalid(&path, "expected an array", other)),
    }
}

fn required_string(obj: &Map<String, Value>, field: &str, path: &str) -> Result<String, LoadError> {
    optional_string(obj, field, path)?.ok_or_else(|| invalid_missing(&format!("{path}.{field}")))
}

fn optional_string(
    obj: &Map<String, Value>,
    field: &str,
    path: &str,
) -> Result<Option<String>, LoadError> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(invalid(
            &format!("{path}.{field}"),
            "expected a string (the ECS API takes only strings here; quote the value)",
            other,
        )),
    }
}

fn invalid(path: &str, expected: &str, found: &Value) -> LoadError {
    // Only the JSON type is named, never the content: an `environment` value may be sensitive.
    LoadError::Invalid {
        path: path.to_owned(),
        problem: format!("{expected}, found {}", kind_of(found)),
    }
}

fn invalid_missing(path: &str) -> LoadError {
    LoadError::Invalid {
        path: path.to_owned(),
        problem: "required field is missing or null".to_owned(),
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

impl TaskDefinition {
    /// The container to run: the named one, or the only one.
    pub(crate) fn container(
        &self,
        name: Option<&str>,
    ) -> Result<&ContainerDefinition, ContainerError> {
        let names = || self.containers.iter().map(|c| c.name.clone()).collect();
        match name {
            Some(name) => self
                .containers
                .iter()
                .find(|c| c.name == name)
                .ok_or_else(|| ContainerError::NotFound {
                    wanted: name.to_owned(),
                    available: names(),
                }),
            None => match self.containers.as_slice() {
                [only] => Ok(only),
                [] => Err(ContainerError::Empty),
                _ => Err(ContainerError::Ambiguous { available: names() }),
            },
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ContainerError {
    Empty,
    NotFound {
        wanted: String,
        available: Vec<String>,
    },
    Ambiguous {
        available: Vec<String>,
    },
}

impl fmt::Display for ContainerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // At most 20 names: a task definition with thousands of containers made one line of
        // tens of kilobytes.
        let list = |names: &[String]| {
            const SHOWN: usize = 20;
            let mut text = names
                .iter()
                .take(SHOWN)
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ");
            if names.len() > SHOWN {
                text.push_str(&format!(" and {} more", names.len() - SHOWN));
            }
            text
        };
        match self {
            ContainerError::Empty => f.write_str("the task definition has no containers"),
            ContainerError::NotFound { wanted, available } => write!(
                f,
                "no container named `{wanted}`; the task definition has {}",
                list(available)
            ),
            ContainerError::Ambiguous { available } => write!(
                f,
                "the task definition has {} containers ({}); choose one with --container NAME",
                available.len(),
                list(available)
            ),
        }
    }
}

impl std::error::Error for ContainerError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_execution_roles_other_reads_are_read() {
        let td = parse(
            r#"[{"name": "app",
                "logConfiguration": {"logDriver": "splunk", "options": {"splunk-url": "u"},
                    "secretOptions": [{"name": "splunk-token", "valueFrom": "/logs/token"}]},
                "repositoryCredentials": {"credentialsParameter": "arn:aws:secretsmanager:us-east-1:123456789012:secret:reg-AbCdEf"}}]"#,
        )
        .unwrap();
        let c = &td.containers[0];
        assert_eq!(
            c.log_secrets,
            vec![SecretEntry {
                name: "splunk-token".into(),
                value_from: "/logs/token".into()
            }]
        );
        assert_eq!(
            c.registry_credentials.as_deref(),
            Some("arn:aws:secretsmanager:us-east-1:123456789012:secret:reg-AbCdEf")
        );
        // Terraform modules write null for what is unset.
        let td = parse(
            r#"[{"name": "app", "logConfiguration": {"logDriver": "awslogs", "secretOptions": null},
                "repositoryCredentials": null}]"#,
        )
        .unwrap();
        assert!(td.containers[0].log_secrets.is_empty());
        assert_eq!(td.containers[0].registry_credentials, None);
        // A wrong type names its path, as everywhere else.
        let err = parse(r#"[{"name": "app", "logConfiguration": "awslogs"}]"#).unwrap_err();
        assert!(
            err.to_string()
                .contains("containerDefinitions[0].logConfiguration")
                || err.to_string().contains("[0].logConfiguration"),
            "{err}"
        );
    }

    const CONTAINER: &str = r#"{"name": "app", "image": "x",
        "environment": [{"name": "A", "value": "1"}],
        "secrets": [{"name": "S", "valueFrom": "/p"}]}"#;

    #[test]
    fn every_shape_yields_the_same_container() {
        let inputs = [
            (
                format!(
                    r#"{{"taskDefinition": {{"family": "f", "containerDefinitions": [{CONTAINER}]}}, "tags": []}}"#
                ),
                Shape::Described,
            ),
            (
                format!(
                    r#"{{"family": "f", "revision": 3, "containerDefinitions": [{CONTAINER}]}}"#
                ),
                Shape::Registration,
            ),
            (format!("[{CONTAINER}]"), Shape::ContainerArray),
        ];
        for (text, shape) in inputs {
            let td = parse(&text).unwrap();
            assert_eq!(td.shape, shape);
            let c = td.container(None).unwrap();
            assert_eq!(c.name, "app");
            assert_eq!(c.environment[0].value, "1");
            assert_eq!(c.secrets[0].value_from, "/p");
        }
    }

    #[test]
    fn terraform_nulls_are_empty_lists() {
        let td = parse(r#"[{"name": "app", "environment": null, "secrets": null, "environmentFiles": null, "cpu": null}]"#).unwrap();
        let c = td.container(None).unwrap();
        assert!(c.environment.is_empty() && c.secrets.is_empty() && c.environment_files.is_empty());
    }

    #[test]
    fn non_string_values_name_the_path_not_the_value() {
        let err = parse(r#"[{"name": "app", "environment": [{"name": "PORT", "value": 8080}]}]"#)
            .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("$[0].environment[0].value"), "{text}");
        assert!(
            text.contains("a number") && !text.contains("8080"),
            "{text}"
        );
    }

    #[test]
    fn unknown_shapes_list_the_accepted_ones() {
        for text in [r#"{"foo": 1}"#, "42", r#"{"Resources": {}}"#] {
            let err = parse(text).unwrap_err();
            assert!(matches!(err, LoadError::UnknownShape(_)), "{text}");
            assert!(err.to_string().contains("describe-task-definition output"));
        }
        assert!(matches!(parse("{"), Err(LoadError::Json(_))));
    }

    #[test]
    fn container_choice() {
        let td = parse(r#"[{"name": "app"}, {"name": "sidecar"}]"#).unwrap();
        let err = td.container(None).unwrap_err().to_string();
        assert!(
            err.contains("`app`, `sidecar`") && err.contains("--container"),
            "{err}"
        );
        assert_eq!(td.container(Some("sidecar")).unwrap().name, "sidecar");
        assert!(matches!(
            td.container(Some("web")),
            Err(ContainerError::NotFound { .. })
        ));
    }
}
