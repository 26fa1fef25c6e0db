//! The task definition's shape: which fields of the template's task definition and of each
//! container are evaluated, under which JSON paths, and how they become the ECS API's
//! camelCase input. Separate from the intrinsics because it decides *what* is evaluated
//! (only the fields ecs-env reads, the needed containers fully, the others best effort),
//! while they decide how.

use serde_json::{Map, Value};

use super::{Res, Resolved, Resolver, intrinsic, one, scalar_string};
use crate::cloudformation::{MAX_DEPTH, UNRESOLVED, Unresolved};
use crate::taskdef::SourceName;

/// A container's list field: template key, API key, and each entry's (template, API) keys.
type EntryList = (
    &'static str,
    &'static str,
    [(&'static str, &'static str); 2],
);

/// A key of an entry that is not one CloudFormation accepts there (it rejects the template
/// with "Encountered unsupported property"), with the accepted key it most looks like.
fn unknown_key(path: &str, found: &str, accepted: &[&str]) -> Unresolved {
    let closest = accepted
        .iter()
        .map(|a| {
            (
                strsim::normalized_levenshtein(&found.to_lowercase(), &a.to_lowercase()),
                *a,
            )
        })
        .max_by(|x, y| x.0.total_cmp(&y.0))
        .filter(|(score, _)| *score >= 0.5)
        .map(|(_, a)| a);
    Unresolved {
        path: path.to_owned(),
        intrinsic: String::new(),
        hint: match closest {
            Some(a) => format!("did you mean `{a}`? (keys are case-sensitive)"),
            None => format!("the keys here are `{}`", accepted.join("` and `")),
        },
        mistake: Some(format!(
            "`{}` is not a key CloudFormation accepts here",
            crate::diagnostic::escaped(found)
        )),
    }
}

impl Resolver<'_> {
    pub(in crate::cloudformation) fn task_definition(
        &self,
        id: &str,
    ) -> Result<Value, Vec<Unresolved>> {
        let empty = Map::new();
        let props = self.template.resources()[id]
            .get("Properties")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let base = format!("$.Resources.{id}.Properties");
        let mut out = Map::new();
        let mut errors = Vec::new();

        for (key, out_key) in [
            ("Family", "family"),
            ("ExecutionRoleArn", "executionRoleArn"),
            ("TaskRoleArn", "taskRoleArn"),
        ] {
            if let Some(v) = props.get(key) {
                match self.field(v, &format!("{base}.{key}")) {
                    Ok(Some(v)) => {
                        out.insert(out_key.to_owned(), v);
                    }
                    Ok(None) => {}
                    // Best effort: ecs-env only uses these to name the task and to check that
                    // an execution role exists. CDK always writes the role as
                    // `Fn::GetAtt [Role, Arn]`, which only a deployed stack resolves; failing
                    // on it would refuse every CDK template offline. The role's presence is
                    // kept with a marker that is never used as an ARN.
                    Err(_) if out_key != "family" => {
                        out.insert(out_key.to_owned(), Value::String(UNRESOLVED.to_owned()));
                    }
                    Err(_) => {}
                }
            }
        }

        let path = format!("{base}.ContainerDefinitions");
        let containers = match props.get("ContainerDefinitions") {
            None => Ok(Some(Value::Array(Vec::new()))),
            Some(v) => self.structure(v, &path, 0),
        };
        match containers {
            Ok(Some(Value::Array(items))) => {
                let shaped: Vec<(String, Res<Option<Value>>)> = items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| {
                        let path = format!("{path}[{i}]");
                        let shape = self.structure(item, &path, 0);
                        (path, shape)
                    })
                    .collect();
                // Names first: they decide which containers' environments are needed.
                let names: Vec<Res<Option<Value>>> = shaped
                    .iter()
                    .map(|(path, shape)| match shape {
                        Ok(Some(Value::Object(c))) => c
                            .get("Name")
                            .map_or(Ok(None), |v| self.field(v, &format!("{path}.Name"))),
                        Ok(_) => Ok(None),
                        Err(e) => Err(e.clone()),
                    })
                    .collect();
                let states: Vec<SourceName> = names
                    .iter()
                    .map(|n| match n {
                        Ok(Some(Value::String(s))) => SourceName::Known(s),
                        Err(_) => SourceName::Unknown,
                        Ok(_) => SourceName::Absent,
                    })
                    .collect();
                let mut defs = Vec::new();
                match self.ctx.wanted.needed(&states) {
                    Err(()) => {
                        errors.extend(names.into_iter().filter_map(Result::err).flatten());
                    }
                    Ok(needed) => {
                        for ((path, shape), needed) in shaped.into_iter().zip(needed) {
                            match shape {
                                Ok(Some(Value::Object(c))) => {
                                    match self.container(&c, &path, needed) {
                                        Ok(c) => defs.push(c),
                                        Err(e) => errors.extend(e),
                                    }
                                }
                                // Not a mapping: passed on for `taskdef` to reject with its type.
                                Ok(Some(other)) => defs.push(other),
                                Ok(None) => {}
                                Err(e) if needed => errors.extend(e),
                                Err(_) => defs.push(serde_json::json!({"name": UNRESOLVED})),
                            }
                        }
                    }
                }
                out.insert("containerDefinitions".to_owned(), Value::Array(defs));
            }
            Ok(Some(other)) => {
                out.insert("containerDefinitions".to_owned(), other);
            }
            Ok(None) => {
                out.insert("containerDefinitions".to_owned(), Value::Array(Vec::new()));
            }
            Err(e) => errors.extend(e),
        }

        if errors.is_empty() {
            Ok(Value::Object(out))
        } else {
            Err(dedup(errors))
        }
    }

    /// A container's environment fields. Unless `needed`, what cannot be resolved is marked
    /// [`UNRESOLVED`] instead (another container's). Where needed, an overridden variable's
    /// value is not (`--override`: never evaluated).
    fn container(&self, c: &Map<String, Value>, path: &str, needed: bool) -> Res<Value> {
        const LISTS: [EntryList; 3] = [
            (
                "Environment",
                "environment",
                [("Name", "name"), ("Value", "value")],
            ),
            (
                "Secrets",
                "secrets",
                [("Name", "name"), ("ValueFrom", "valueFrom")],
            ),
            (
                "EnvironmentFiles",
                "environmentFiles",
                [("Value", "value"), ("Type", "type")],
            ),
        ];
        let mut out = Map::new();
        let mut errors = Vec::new();
        let unresolved = || Value::String(UNRESOLVED.to_owned());
        if let Some(v) = c.get("Name") {
            match self.field(v, &format!("{path}.Name")) {
                Ok(Some(v)) => {
                    out.insert("name".to_owned(), v);
                }
                Ok(None) => {}
                Err(e) if needed => errors.extend(e),
                Err(_) => {
                    out.insert("name".to_owned(), unresolved());
                }
            }
        }
        // An entry that cannot be resolved at all, in a container that is not needed.
        let unresolved_entry = |fields: [(&str, &str); 2]| {
            let entry: Map<String, Value> = fields
                .iter()
                .map(|(_, out_field)| {
                    let v = if *out_field == "type" {
                        Value::String("s3".to_owned())
                    } else {
                        unresolved()
                    };
                    ((*out_field).to_owned(), v)
                })
                .collect();
            Value::Object(entry)
        };
        for (key, out_key, fields) in LISTS {
            let Some(v) = c.get(key) else { continue };
            let list_path = format!("{path}.{key}");
            let items = match self.structure(v, &list_path, 0) {
                Ok(Some(Value::Array(items))) => items,
                Ok(Some(other)) => {
                    out.insert(out_key.to_owned(), other);
                    continue;
                }
                Ok(None) => continue,
                Err(e) if needed => {
                    errors.extend(e);
                    continue;
                }
                Err(_) => {
                    let entries = match out_key {
                        "environment" => Vec::new(),
                        _ => vec![unresolved_entry(fields)],
                    };
                    out.insert(out_key.to_owned(), Value::Array(entries));
                    continue;
                }
            };
            let mut entries = Vec::new();
            for (i, item) in items.iter().enumerate() {
                let entry_path = format!("{list_path}[{i}]");
                let entry = match self.structure(item, &entry_path, 0) {
                    Ok(Some(Value::Object(entry))) => entry,
                    Ok(Some(other)) => {
                        entries.push(other);
                        continue;
                    }
                    Ok(None) => continue,
                    Err(e) if needed => {
                        errors.extend(e);
                        continue;
                    }
                    Err(_) => {
                        entries.push(unresolved_entry(fields));
                        continue;
                    }
                };
                let accepted = [fields[0].0, fields[1].0];
                for key in entry.keys() {
                    if !accepted.contains(&key.as_str()) {
                        errors.push(unknown_key(&format!("{entry_path}.{key}"), key, &accepted));
                    }
                }
                let mut out_entry = Map::new();
                for (field, out_field) in fields {
                    let Some(v) = entry.get(field) else { continue };
                    match self.field(v, &format!("{entry_path}.{field}")) {
                        Ok(Some(v)) => {
                            out_entry.insert(out_field.to_owned(), v);
                        }
                        Ok(None) => {}
                        Err(e) if needed => {
                            // The name comes first: an overridden variable's value is not
                            // needed.
                            let overridden = out_entry
                                .get("name")
                                .and_then(Value::as_str)
                                .is_some_and(|n| self.ctx.wanted.overridden(n));
                            match out_field {
                                "value" if overridden && out_key == "environment" => {
                                    out_entry
                                        .insert(out_field.to_owned(), Value::String(String::new()));
                                }
                                "valueFrom" if overridden => {
                                    out_entry.insert(
                                        out_field.to_owned(),
                                        Value::String(crate::taskdef::OVERRIDDEN.to_owned()),
                                    );
                                }
                                _ => errors.extend(e),
                            }
                        }
                        Err(_) => {
                            out_entry.insert(out_field.to_owned(), unresolved());
                        }
                    }
                }
                entries.push(Value::Object(out_entry));
            }
            out.insert(out_key.to_owned(), Value::Array(entries));
        }
        self.execution_role_reads(c, path, &mut out);
        if errors.is_empty() {
            Ok(Value::Object(out))
        } else {
            Err(errors)
        }
    }

    /// The secrets the execution role reads for the log driver and the registry
    /// (`LogConfiguration.SecretOptions`, `RepositoryCredentials.CredentialsParameter`).
    /// They never reach the environment, so what cannot be evaluated here does not stop a
    /// run: it becomes [`UNRESOLVED`], which `check` and `policy` report.
    fn execution_role_reads(
        &self,
        c: &Map<String, Value>,
        path: &str,
        out: &mut Map<String, Value>,
    ) {
        let text = |v: Option<&Value>, path: &str| match v.map(|v| self.field(v, path)) {
            Some(Ok(Some(v @ Value::String(_)))) => Some(v),
            Some(Ok(None)) | None => None,
            Some(_) => Some(Value::String(UNRESOLVED.to_owned())),
        };
        let object = |v: &Value, path: &str| match self.structure(v, path, 0) {
            Ok(Some(Value::Object(o))) => Ok(Some(o)),
            Ok(None) => Ok(None),
            _ => Err(()),
        };
        if let Some(log) = c.get("LogConfiguration") {
            let log_path = format!("{path}.LogConfiguration");
            let options = match object(log, &log_path) {
                Ok(Some(log)) => log.get("SecretOptions").map(|options| {
                    let list_path = format!("{log_path}.SecretOptions");
                    match self.structure(options, &list_path, 0) {
                        Ok(Some(Value::Array(items))) => items
                            .iter()
                            .enumerate()
                            .filter_map(|(i, item)| {
                                let entry_path = format!("{list_path}[{i}]");
                                let entry = match object(item, &entry_path) {
                                    Ok(Some(entry)) => entry,
                                    Ok(None) => return None,
                                    Err(()) => Map::new(),
                                };
                                let unresolved = || Value::String(UNRESOLVED.to_owned());
                                Some(serde_json::json!({
                                    "name": text(entry.get("Name"), &format!("{entry_path}.Name")).unwrap_or_else(unresolved),
                                    "valueFrom": text(entry.get("ValueFrom"), &format!("{entry_path}.ValueFrom")).unwrap_or_else(unresolved),
                                }))
                            })
                            .collect(),
                        Ok(None) => Vec::new(),
                        _ => vec![serde_json::json!({"name": UNRESOLVED, "valueFrom": UNRESOLVED})],
                    }
                }),
                Ok(None) => None,
                Err(()) => Some(vec![serde_json::json!({"name": UNRESOLVED, "valueFrom": UNRESOLVED})]),
            };
            if let Some(options) = options {
                out.insert(
                    "logConfiguration".to_owned(),
                    serde_json::json!({"secretOptions": options}),
                );
            }
        }
        if let Some(creds) = c.get("RepositoryCredentials") {
            let creds_path = format!("{path}.RepositoryCredentials");
            let parameter = match object(creds, &creds_path) {
                Ok(Some(creds)) => text(
                    creds.get("CredentialsParameter"),
                    &format!("{creds_path}.CredentialsParameter"),
                ),
                Ok(None) => None,
                Err(()) => Some(Value::String(UNRESOLVED.to_owned())),
            };
            if let Some(parameter) = parameter {
                out.insert(
                    "repositoryCredentials".to_owned(),
                    serde_json::json!({"credentialsParameter": parameter}),
                );
            }
        }
    }

    /// A node whose *contents* are picked apart field by field (the container list, a
    /// container, an entry list, an entry): `Fn::If` and `AWS::NoValue` are evaluated, but a
    /// plain mapping or list is returned as is, so that its other fields are never evaluated.
    fn structure(&self, v: &Value, path: &str, depth: usize) -> Res<Option<Value>> {
        if depth > MAX_DEPTH {
            return Err(one(path, "Fn::If", "nested too deeply"));
        }
        let Some((name, arg)) = v.as_object().and_then(intrinsic) else {
            return Ok(Some(v.clone()));
        };
        match name {
            "Fn::If" => {
                let branch = self.if_branch(arg, path, depth)?;
                self.structure(branch, path, depth + 1)
            }
            _ => match self.eval(v, path, depth)? {
                Resolved::Value(v) => Ok(Some(v)),
                Resolved::NoValue => Ok(None),
            },
        }
    }

    /// A leaf field (`Name`, `Value`, `ValueFrom`, `Type`, `Family`, `ExecutionRoleArn`):
    /// fully evaluated, scalars as strings. `None` is `AWS::NoValue`. A list or mapping is
    /// passed on unchanged for `taskdef` to reject with its type.
    fn field(&self, v: &Value, path: &str) -> Res<Option<Value>> {
        Ok(match self.eval(v, path, 0)? {
            Resolved::NoValue => None,
            Resolved::Value(v) => Some(scalar_string(&v).map_or(v, Value::String)),
        })
    }
}

/// Drop repeats (a `Ref` used twice in one field), keeping the first occurrence's order.
fn dedup(errors: Vec<Unresolved>) -> Vec<Unresolved> {
    let mut out: Vec<Unresolved> = Vec::with_capacity(errors.len());
    for e in errors {
        if !out.contains(&e) {
            out.push(e);
        }
    }
    out
}
