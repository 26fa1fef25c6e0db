//! Evaluation of intrinsic functions (`Ref`, `Fn::Sub`, `Fn::If`...) in the fields ecs-env
//! reads, collecting every failure. Separate because it is most of the module and depends
//! only on the template's data, not on how the template was parsed or chosen.

use std::cell::RefCell;
use std::collections::BTreeSet;

use serde_json::{Map, Number, Value};

use super::{
    Context, MAX_DEPTH, ROLE_TYPE, SECRET_TYPE, Template, UNRESOLVED, USE_DEPLOYED, Unresolved,
};
use crate::taskdef::SourceName;

/// The result of evaluating a value: a value, or `AWS::NoValue` ("remove this key/element").
enum Resolved {
    Value(Value),
    NoValue,
}

/// A container's list field: template key, API key, and each entry's (template, API) keys.
type EntryList = (
    &'static str,
    &'static str,
    [(&'static str, &'static str); 2],
);

/// Evaluation either succeeds or lists everything that failed underneath.
type Res<T> = Result<T, Vec<Unresolved>>;

pub(super) struct Resolver<'a> {
    template: &'a Template,
    ctx: &'a Context,
    partition: Option<String>,
    /// The export names `Fn::ImportValue` asked for (they are passed with `--parameter` too).
    pub(super) imports: RefCell<BTreeSet<String>>,
}

fn one(path: &str, intrinsic: impl Into<String>, hint: impl Into<String>) -> Vec<Unresolved> {
    vec![Unresolved {
        path: path.to_owned(),
        intrinsic: intrinsic.into(),
        hint: hint.into(),
        mistake: None,
    }]
}

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

/// An intrinsic whose arguments do not have the shape CloudFormation requires. Named by the
/// function alone: its arguments may hold literal values.
fn malformed(path: &str, function: &str, expected: &str) -> Vec<Unresolved> {
    one(
        path,
        function,
        format!("malformed {function}: {expected} (CloudFormation would reject the template)"),
    )
}

/// The single key of an intrinsic-function object (`Ref` or `Fn::*`), with its argument.
fn intrinsic(obj: &Map<String, Value>) -> Option<(&str, &Value)> {
    if obj.len() != 1 {
        return None;
    }
    let (key, arg) = obj.iter().next()?;
    (key == "Ref" || key.starts_with("Fn::")).then_some((key.as_str(), arg))
}

/// A scalar as CloudFormation turns it into a string (`5432` is `"5432"`, `true` is
/// `"true"`). With serde_json's `arbitrary_precision`, a JSON number keeps its spelling.
fn scalar_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Scalars as strings, recursively: the canonical form `Fn::Equals` compares.
fn stringified(v: Value) -> Value {
    match v {
        Value::Number(_) | Value::Bool(_) => Value::String(scalar_string(&v).unwrap_or_default()),
        Value::Array(items) => Value::Array(items.into_iter().map(stringified).collect()),
        other => other,
    }
}

/// Run every evaluation, keep going after failures, and fail with all of them.
fn collect<T>(results: impl IntoIterator<Item = Res<T>>) -> Res<Vec<T>> {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for result in results {
        match result {
            Ok(v) => out.push(v),
            Err(e) => errors.extend(e),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

impl<'a> Resolver<'a> {
    pub(super) fn new(template: &'a Template, ctx: &'a Context) -> Self {
        let partition = ctx.partition.clone().or_else(|| {
            ctx.region
                .as_deref()
                .map(|r| crate::policy::partition_of(r).to_owned())
        });
        Resolver {
            template,
            ctx,
            partition,
            imports: RefCell::default(),
        }
    }

    // --- the task definition's shape ------------------------------------------------------

    pub(super) fn task_definition(&self, id: &str) -> Result<Value, Vec<Unresolved>> {
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

    // --- generic evaluation ---------------------------------------------------------------

    fn eval(&self, v: &Value, path: &str, depth: usize) -> Res<Resolved> {
        if depth > MAX_DEPTH {
            return Err(one(
                path,
                "(nesting)",
                format!("nested deeper than {MAX_DEPTH} levels"),
            ));
        }
        match v {
            Value::Array(items) => {
                let items = collect(items.iter().map(|i| self.eval(i, path, depth + 1)))?;
                Ok(Resolved::Value(Value::Array(
                    items
                        .into_iter()
                        .filter_map(|r| match r {
                            Resolved::Value(v) => Some(v),
                            Resolved::NoValue => None,
                        })
                        .collect(),
                )))
            }
            Value::Object(obj) => {
                if let Some((name, arg)) = intrinsic(obj) {
                    return self.function(name, arg, path, depth + 1);
                }
                let entries = collect(
                    obj.iter()
                        .map(|(k, v)| self.eval(v, path, depth + 1).map(|r| (k.clone(), r))),
                )?;
                Ok(Resolved::Value(Value::Object(
                    entries
                        .into_iter()
                        .filter_map(|(k, r)| match r {
                            Resolved::Value(v) => Some((k, v)),
                            Resolved::NoValue => None,
                        })
                        .collect(),
                )))
            }
            other => Ok(Resolved::Value(other.clone())),
        }
    }

    /// Evaluate to a string (scalars are stringified). `what` names the argument in errors.
    fn eval_string(&self, v: &Value, path: &str, depth: usize, what: &str) -> Res<String> {
        match self.eval(v, path, depth)? {
            Resolved::Value(v) => {
                scalar_string(&v).ok_or_else(|| malformed(path, what, "expected a string"))
            }
            Resolved::NoValue => Err(malformed(
                path,
                what,
                "AWS::NoValue where a value is needed",
            )),
        }
    }

    /// Evaluate to a list (`AWS::NoValue` elements removed).
    fn eval_list(&self, v: &Value, path: &str, depth: usize, what: &str) -> Res<Vec<Value>> {
        match self.eval(v, path, depth)? {
            Resolved::Value(Value::Array(items)) => Ok(items),
            _ => Err(malformed(path, what, "expected a list")),
        }
    }

    fn function(&self, name: &str, arg: &Value, path: &str, depth: usize) -> Res<Resolved> {
        let value = |s: String| Ok(Resolved::Value(Value::String(s)));
        match name {
            "Ref" => match arg {
                Value::String(target) => self.reference(target, path, &format!("Ref: {target}")),
                _ => Err(malformed(
                    path,
                    "Ref",
                    "expected a logical id or parameter name",
                )),
            },
            "Fn::GetAtt" => {
                let (resource, attribute) = match arg {
                    Value::Array(parts) if parts.len() == 2 => {
                        let Some(resource) = parts[0].as_str() else {
                            return Err(malformed(path, name, "expected a logical id"));
                        };
                        // The attribute name may itself be a `Ref`.
                        let attribute = self.eval_string(&parts[1], path, depth, name)?;
                        (resource.to_owned(), attribute)
                    }
                    Value::String(s) => match s.split_once('.') {
                        Some((r, a)) => (r.to_owned(), a.to_owned()),
                        None => {
                            return Err(malformed(path, name, "expected [LogicalId, Attribute]"));
                        }
                    },
                    _ => return Err(malformed(path, name, "expected [LogicalId, Attribute]")),
                };
                let expr = format!("Fn::GetAtt: [{resource}, {attribute}]");
                self.get_att(&resource, &attribute, path, &expr, depth)
                    .and_then(value)
            }
            "Fn::Sub" => self.sub(arg, path, depth).and_then(value),
            "Fn::Join" => {
                let Some([delimiter, list]) = fixed_args(arg) else {
                    return Err(malformed(path, name, "expected [delimiter, [values...]]"));
                };
                let (delimiter, items) = both(
                    self.eval_string(delimiter, path, depth, name),
                    self.eval_list(list, path, depth, name),
                )?;
                let parts = items
                    .iter()
                    .map(scalar_string)
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| malformed(path, name, "expected a list of strings"))?;
                value(parts.join(&delimiter))
            }
            "Fn::Select" => {
                let Some([index, list]) = fixed_args(arg) else {
                    return Err(malformed(path, name, "expected [index, [values...]]"));
                };
                let (index, items) = both(
                    self.eval_string(index, path, depth, name),
                    self.eval_list(list, path, depth, name),
                )?;
                let index: usize = index.trim().parse().map_err(|_| {
                    malformed(path, name, "the index is not a non-negative integer")
                })?;
                let len = items.len();
                items
                    .into_iter()
                    .nth(index)
                    .map(Resolved::Value)
                    .ok_or_else(|| {
                        malformed(
                            path,
                            name,
                            &format!("index {index} is out of range for a list of {len}"),
                        )
                    })
            }
            "Fn::Split" => {
                let Some([delimiter, source]) = fixed_args(arg) else {
                    return Err(malformed(path, name, "expected [delimiter, string]"));
                };
                let (delimiter, source) = both(
                    self.eval_string(delimiter, path, depth, name),
                    self.eval_string(source, path, depth, name),
                )?;
                if delimiter.is_empty() {
                    return Err(malformed(path, name, "the delimiter is empty"));
                }
                Ok(Resolved::Value(Value::Array(
                    source
                        .split(delimiter.as_str())
                        .map(|s| Value::String(s.to_owned()))
                        .collect(),
                )))
            }
            "Fn::If" => {
                let branch = self.if_branch(arg, path, depth)?;
                self.eval(branch, path, depth + 1)
            }
            "Fn::FindInMap" => self.find_in_map(arg, path, depth),
            "Fn::ImportValue" => {
                let export = self.eval_string(arg, path, depth, name)?;
                self.imports.borrow_mut().insert(export.clone());
                match self.ctx.parameters.get(&export) {
                    Some(v) => value(v.clone()),
                    None => Err(one(
                        path,
                        format!("Fn::ImportValue: {export}"),
                        format!(
                            "Fn::ImportValue is not supported; pass the export's value with \
                             --parameter {export}=VALUE"
                        ),
                    )),
                }
            }
            "Fn::Base64" => value(crate::base64::encode(
                self.eval_string(arg, path, depth, name)?.as_bytes(),
            )),
            "Fn::Length" => {
                let items = self.eval_list(arg, path, depth, name)?;
                Ok(Resolved::Value(Value::Number(Number::from(items.len()))))
            }
            "Fn::Equals" | "Fn::And" | "Fn::Or" | "Fn::Not" => {
                let wrapped = Value::Object(Map::from_iter([(name.to_owned(), arg.clone())]));
                let b = self.condition_expr(&wrapped, path, depth, &mut Vec::new())?;
                Ok(Resolved::Value(Value::Bool(b)))
            }
            _ => Err(one(
                path,
                name,
                format!("{name} is not supported by ecs-env's template reader; {USE_DEPLOYED}"),
            )),
        }
    }

    // --- Ref -------------------------------------------------------------------------------

    /// `Ref` (also `${Name}` in `Fn::Sub`): a pseudo parameter, a parameter, or a resource's
    /// physical id. `expr` is how the failing expression is reported.
    fn reference(&self, target: &str, path: &str, expr: &str) -> Res<Resolved> {
        let string = |s: String| Ok(Resolved::Value(Value::String(s)));
        if target.starts_with("AWS::") {
            return self.pseudo(target, path, expr);
        }
        if let Some(decl) = self
            .template
            .section("Parameters")
            .and_then(|p| p.get(target))
        {
            return self.parameter(target, decl, path, expr);
        }
        if self.template.resources().contains_key(target) {
            return self.physical_id(target, path, expr).and_then(string);
        }
        Err(one(
            path,
            expr,
            format!("the template has no parameter or resource named `{target}`"),
        ))
    }

    fn pseudo(&self, name: &str, path: &str, expr: &str) -> Res<Resolved> {
        let known = |v: Option<&str>, missing: &str| match v {
            Some(v) => Ok(Resolved::Value(Value::String(v.to_owned()))),
            None => Err(one(path, expr, missing)),
        };
        match name {
            "AWS::NoValue" => Ok(Resolved::NoValue),
            "AWS::Region" => known(
                self.ctx.region.as_deref(),
                "AWS::Region is not known: configure a region (--region)",
            ),
            "AWS::AccountId" => known(
                self.ctx.account.as_deref(),
                "AWS::AccountId is not known: pass --account ACCOUNT_ID (or allow \
                 sts:GetCallerIdentity so it can be read)",
            ),
            "AWS::Partition" => known(
                self.partition.as_deref(),
                "AWS::Partition is not known: configure a region (--region) to derive it",
            ),
            "AWS::URLSuffix" => known(
                self.partition.as_deref().map(crate::policy::url_suffix_of),
                "AWS::URLSuffix is not known: configure a region (--region) to derive it",
            ),
            "AWS::StackName" => known(
                self.ctx.stack_name.as_deref(),
                "AWS::StackName is not known: pass --stack STACK_NAME",
            ),
            "AWS::StackId" | "AWS::NotificationARNs" => Err(one(
                path,
                expr,
                format!("{name} is only known to the deployed stack; {USE_DEPLOYED}"),
            )),
            _ => Err(one(
                path,
                expr,
                format!("{name} is not a pseudo parameter CloudFormation defines"),
            )),
        }
    }

    fn parameter(&self, name: &str, decl: &Value, path: &str, expr: &str) -> Res<Resolved> {
        let ty = decl.get("Type").and_then(Value::as_str).unwrap_or("String");
        let raw = if let Some(v) = self.ctx.parameters.get(name) {
            v.clone()
        } else if ty.starts_with("AWS::SSM::Parameter::Value<") {
            // The default of an SSM-typed parameter is the *name* of a Parameter Store entry;
            // CloudFormation substitutes that entry's value at deploy time.
            return Err(one(
                path,
                expr,
                format!(
                    "parameter `{name}` is read from SSM Parameter Store at deploy time; pass \
                     --parameter {name}=VALUE"
                ),
            ));
        } else {
            match decl.get("Default") {
                Some(Value::Array(items)) => items
                    .iter()
                    .filter_map(scalar_string)
                    .collect::<Vec<_>>()
                    .join(","),
                Some(v) if scalar_string(v).is_some() => scalar_string(v).unwrap_or_default(),
                _ => {
                    return Err(one(path, expr, format!("pass --parameter {name}=VALUE")));
                }
            }
        };
        // List types are lists of strings to `Ref`; CloudFormation trims each member.
        if ty == "CommaDelimitedList"
            || ty.contains("List<")
            || ty.ends_with("<CommaDelimitedList>")
        {
            Ok(Resolved::Value(Value::Array(
                raw.split(',')
                    .map(|s| Value::String(s.trim().to_owned()))
                    .collect(),
            )))
        } else {
            Ok(Resolved::Value(Value::String(raw)))
        }
    }

    fn physical_id(&self, logical_id: &str, path: &str, expr: &str) -> Res<String> {
        match &self.ctx.stack_resources {
            None => Err(one(
                path,
                expr,
                "pass --stack STACK_NAME so the physical id can be read (Ref of a resource is \
                 its physical id)",
            )),
            Some(ids) => ids.get(logical_id).cloned().ok_or_else(|| {
                one(
                    path,
                    expr,
                    format!(
                        "the stack has no resource `{logical_id}` (not created yet, or skipped \
                         because its Condition is false)"
                    ),
                )
            }),
        }
    }

    // --- Fn::GetAtt --------------------------------------------------------------------------

    fn get_att(
        &self,
        resource: &str,
        attribute: &str,
        path: &str,
        expr: &str,
        depth: usize,
    ) -> Res<String> {
        match (self.template.resource_type(resource), attribute) {
            // A secret's physical id is its ARN.
            (Some(SECRET_TYPE), "Arn" | "Id") => self.physical_id(resource, path, expr),
            // A role's physical id is its name; the ARN adds partition, account and path.
            (Some(ROLE_TYPE), "Arn") => {
                let role_path = self.template.resources()[resource]
                    .get("Properties")
                    .and_then(|p| p.get("Path"));
                let role_path = match role_path {
                    Some(p) => self.eval_string(p, path, depth, "Path").map(Some),
                    None => Ok(None),
                };
                // One report for the expression, naming everything it still needs.
                let mut needs = Vec::new();
                if self.partition.is_none() {
                    needs.push("AWS::Partition: configure a region (--region)");
                }
                if self.ctx.account.is_none() {
                    needs.push("AWS::AccountId: pass --account ACCOUNT_ID");
                }
                let name = match (self.physical_id(resource, path, expr), needs.is_empty()) {
                    (Ok(name), true) => Ok(name),
                    (Ok(_), false) => Err(one(
                        path,
                        expr,
                        format!("the role's ARN needs {}", needs.join(" and ")),
                    )),
                    (Err(mut e), false) => {
                        e[0].hint = format!(
                            "{}; the role's ARN also needs {}",
                            e[0].hint,
                            needs.join(" and ")
                        );
                        Err(e)
                    }
                    (Err(e), true) => Err(e),
                };
                let (name, role_path) = both(name, role_path)?;
                let partition = self.partition.as_deref().unwrap_or_default();
                let account = self.ctx.account.as_deref().unwrap_or_default();
                let role_path = role_path.unwrap_or_else(|| "/".to_owned());
                Ok(crate::arn::build(
                    partition,
                    "iam",
                    "",
                    account,
                    &format!("role{role_path}{name}"),
                ))
            }
            (None, _) => Err(one(
                path,
                expr,
                format!("the template has no resource named `{resource}`"),
            )),
            (Some(ty), _) => Err(one(
                path,
                expr,
                format!(
                    "attribute `{attribute}` of a {ty} is only known to the deployed stack \
                     (ecs-env resolves Arn/Id of a {SECRET_TYPE} and Arn of an {ROLE_TYPE}, \
                     with --stack); {USE_DEPLOYED}"
                ),
            )),
        }
    }

    // --- Fn::Sub -----------------------------------------------------------------------------

    fn sub(&self, arg: &Value, path: &str, depth: usize) -> Res<String> {
        const NAME: &str = "Fn::Sub";
        let (text, vars) = match arg {
            Value::String(s) => (s.as_str(), None),
            Value::Array(parts) => match parts.as_slice() {
                [Value::String(s)] => (s.as_str(), None),
                [Value::String(s), Value::Object(vars)] => (s.as_str(), Some(vars)),
                _ => {
                    return Err(malformed(
                        path,
                        NAME,
                        "expected a string or [string, {variables}]",
                    ));
                }
            },
            _ => {
                return Err(malformed(
                    path,
                    NAME,
                    "expected a string or [string, {variables}]",
                ));
            }
        };
        let mut out = String::with_capacity(text.len());
        let mut errors = Vec::new();
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let Some(end) = after.find('}') else {
                // An unterminated `${` is literal text.
                out.push_str(&rest[start..]);
                rest = "";
                break;
            };
            let inner = &after[..end];
            rest = &after[end + 1..];
            if let Some(literal) = inner.strip_prefix('!') {
                // `${!Literal}` is the escape for a literal `${Literal}`.
                out.push_str("${");
                out.push_str(literal);
                out.push('}');
                continue;
            }
            let var = inner.trim();
            let expr = format!("Fn::Sub: ${{{var}}}");
            let resolved = if let Some(v) = vars.and_then(|vars| vars.get(var)) {
                self.eval_string(v, path, depth + 1, NAME)
            } else if let Some((resource, attribute)) =
                var.split_once('.').filter(|_| !var.starts_with("AWS::"))
            {
                self.get_att(resource, attribute, path, &expr, depth + 1)
            } else {
                match self.reference(var, path, &expr) {
                    Ok(Resolved::Value(v)) => scalar_string(&v).ok_or_else(|| {
                        malformed(path, NAME, &format!("`${{{var}}}` is a list, not a string"))
                    }),
                    Ok(Resolved::NoValue) => {
                        Err(malformed(path, NAME, "AWS::NoValue cannot be substituted"))
                    }
                    Err(e) => Err(e),
                }
            };
            match resolved {
                Ok(s) => out.push_str(&s),
                Err(e) => errors.extend(e),
            }
        }
        out.push_str(rest);
        if errors.is_empty() {
            Ok(out)
        } else {
            Err(errors)
        }
    }

    // --- Fn::FindInMap -----------------------------------------------------------------------

    fn find_in_map(&self, arg: &Value, path: &str, depth: usize) -> Res<Resolved> {
        const NAME: &str = "Fn::FindInMap";
        let Some(parts) = arg.as_array().filter(|p| p.len() == 3 || p.len() == 4) else {
            return Err(malformed(
                path,
                NAME,
                "expected [MapName, TopLevelKey, SecondLevelKey]",
            ));
        };
        let keys = collect(
            parts[..3]
                .iter()
                .map(|k| self.eval_string(k, path, depth, NAME)),
        )?;
        let found = self
            .template
            .section("Mappings")
            .and_then(|m| m.get(&keys[0]))
            .and_then(|m| m.get(&keys[1]))
            .and_then(|m| m.get(&keys[2]));
        match (found, parts.get(3)) {
            // Mapping values are literals: CloudFormation allows no functions inside them.
            (Some(v), _) => Ok(Resolved::Value(v.clone())),
            // `AWS::LanguageExtensions` adds a fourth argument, `{"DefaultValue": ...}`.
            (None, Some(Value::Object(default))) if default.contains_key("DefaultValue") => {
                self.eval(&default["DefaultValue"], path, depth + 1)
            }
            (None, _) => Err(one(
                path,
                format!("Fn::FindInMap: [{}, {}, {}]", keys[0], keys[1], keys[2]),
                "the template's Mappings have no such entry",
            )),
        }
    }

    // --- Fn::If and Conditions ---------------------------------------------------------------

    fn if_branch<'v>(&self, arg: &'v Value, path: &str, depth: usize) -> Res<&'v Value> {
        let Some([condition, then, otherwise]) = fixed_args(arg) else {
            return Err(malformed(
                path,
                "Fn::If",
                "expected [ConditionName, then, else]",
            ));
        };
        let Some(condition) = condition.as_str() else {
            return Err(malformed(
                path,
                "Fn::If",
                "the condition must be a condition name",
            ));
        };
        let chosen = self.named_condition(condition, path, depth, &mut Vec::new())?;
        Ok(if chosen { then } else { otherwise })
    }

    fn named_condition(
        &self,
        name: &str,
        path: &str,
        depth: usize,
        visiting: &mut Vec<String>,
    ) -> Res<bool> {
        if visiting.iter().any(|v| v == name) {
            return Err(one(
                path,
                format!("Condition: {name}"),
                "the condition refers to itself (CloudFormation would reject the template)",
            ));
        }
        let Some(definition) = self
            .template
            .section("Conditions")
            .and_then(|c| c.get(name))
        else {
            return Err(one(
                path,
                format!("Condition: {name}"),
                "the template has no condition of that name",
            ));
        };
        visiting.push(name.to_owned());
        let result = self.condition_expr(definition, path, depth + 1, visiting);
        visiting.pop();
        result
    }

    fn condition_expr(
        &self,
        v: &Value,
        path: &str,
        depth: usize,
        visiting: &mut Vec<String>,
    ) -> Res<bool> {
        if depth > MAX_DEPTH {
            return Err(one(path, "Condition", "nested too deeply"));
        }
        let single = v
            .as_object()
            .filter(|o| o.len() == 1)
            .and_then(|o| o.iter().next());
        match single {
            Some((key, Value::String(name))) if key == "Condition" => {
                self.named_condition(name, path, depth, visiting)
            }
            Some((key, Value::Array(args))) if key == "Fn::Equals" => {
                let [a, b] = args.as_slice() else {
                    return Err(malformed(path, key, "expected [value, value]"));
                };
                let (a, b) = both(self.eval(a, path, depth + 1), self.eval(b, path, depth + 1))?;
                match (a, b) {
                    (Resolved::Value(a), Resolved::Value(b)) => {
                        Ok(stringified(a) == stringified(b))
                    }
                    _ => Err(malformed(path, key, "AWS::NoValue cannot be compared")),
                }
            }
            Some((key, Value::Array(args))) if key == "Fn::Not" => {
                let [inner] = args.as_slice() else {
                    return Err(malformed(path, key, "expected [condition]"));
                };
                Ok(!self.condition_expr(inner, path, depth + 1, visiting)?)
            }
            Some((key, Value::Array(args))) if key == "Fn::And" || key == "Fn::Or" => {
                // A known `false` decides an `And` (a known `true` an `Or`) even when other
                // operands cannot be evaluated, as evaluation order does not matter.
                let decisive = key == "Fn::Or";
                let results: Vec<Res<bool>> = args
                    .iter()
                    .map(|a| self.condition_expr(a, path, depth + 1, visiting))
                    .collect();
                if results.iter().any(|r| matches!(r, Ok(b) if *b == decisive)) {
                    return Ok(decisive);
                }
                collect(results).map(|_| !decisive)
            }
            _ => match self.eval(v, path, depth + 1)? {
                Resolved::Value(Value::Bool(b)) => Ok(b),
                Resolved::Value(Value::String(s)) if s == "true" || s == "false" => Ok(s == "true"),
                _ => Err(malformed(
                    path,
                    "Condition",
                    "expected a condition function",
                )),
            },
        }
    }
}

/// The arguments of a function that takes exactly `N`.
fn fixed_args<const N: usize>(arg: &Value) -> Option<&[Value; N]> {
    arg.as_array()?.as_slice().try_into().ok()
}

/// Both results, or the failures of either (both when both fail).
fn both<A, B>(a: Res<A>, b: Res<B>) -> Res<(A, B)> {
    match (a, b) {
        (Ok(a), Ok(b)) => Ok((a, b)),
        (Err(mut e), Err(f)) => {
            e.extend(f);
            Err(e)
        }
        (Err(e), _) | (_, Err(e)) => Err(e),
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
