//! CloudFormation and CDK templates: find an `AWS::ECS::TaskDefinition`, resolve its
//! intrinsic functions, and hand back the task definition in the ECS API's camelCase shape.
//!
//! This module owns everything template-specific (spec section 8, CloudFormation and CDK
//! rows):
//! - reading a template as JSON or YAML, turning YAML short-form tags (`!Ref x`, `!Sub ...`,
//!   `!GetAtt a.b`, ...) into their long form (`{"Ref": "x"}`, `{"Fn::Sub": ...}`,
//!   `{"Fn::GetAtt": ["a", "b"]}`), so that everything after parsing sees one shape;
//! - choosing the task-definition resource (the only one, or the one named by logical id);
//! - evaluating `Ref`, `Fn::Sub`, `Fn::Join`, `Fn::Select`, `Fn::Split`, `Fn::If` (with the
//!   template's `Conditions`), `Fn::FindInMap`, `Fn::GetAtt` (where a physical id decides it),
//!   `Fn::Base64` and `Fn::Length`, from the pseudo parameters, parameters and stack resources
//!   the caller supplies in a [`Context`];
//! - reporting every expression it cannot evaluate, all at once, each with the flag that would
//!   resolve it.
//!
//! Only the fields ecs-env reads are evaluated: `Family`, `ExecutionRoleArn`, and each
//! container's `Name`, `Environment`, `Secrets` and `EnvironmentFiles`. Everything else (the
//! image, log configuration, port mappings...) is never looked at, so an intrinsic there that
//! cannot be evaluated offline does no harm.
//!
//! The result is register-task-definition input (`{"family", "executionRoleArn",
//! "containerDefinitions": [...]}`), which `taskdef::parse` reads like any other file; values
//! CloudFormation would turn into strings (numbers, booleans) are turned into strings here.
//!
//! Nothing here prints a template value: errors carry JSON paths, logical ids, parameter names
//! and the failing intrinsic expression (`Ref: DbSecret`, `Fn::Sub: ${DbHost}`), never a literal
//! from the template, because environment values are often sensitive.
//!
//! Pure: no I/O and no AWS calls. The caller reads the file and fills [`Context`] (region,
//! account, `--parameter` values, and the stack's physical ids from
//! `cloudformation:DescribeStackResources` when `--stack` is given).

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use saphyr::{LoadableYamlNode, Scalar, Tag, Yaml};
use serde_json::{Map, Number, Value};

use crate::taskdef::SourceName;

const TASK_DEFINITION_TYPE: &str = "AWS::ECS::TaskDefinition";
const SECRET_TYPE: &str = "AWS::SecretsManager::Secret";
const ROLE_TYPE: &str = "AWS::IAM::Role";

/// Deepest nesting accepted, in the YAML conversion and in evaluation. serde_json stops at 128
/// too; past it a hostile file could overflow the stack through recursion.
const MAX_DEPTH: usize = 128;

/// The workaround offered when an expression depends on something only the deployed stack
/// knows.
const USE_DEPLOYED: &str = "use the deployed task definition instead \
    (`aws ecs describe-task-definition --task-definition FAMILY`)";

/// Stands for a field that is present but cannot be evaluated offline, where the field never
/// reaches the environment (`ExecutionRoleArn`, a log driver's or registry's secret): run
/// goes on, and `check` and `policy`, which do use it, say what it needs.
pub(crate) const UNRESOLVED: &str = "(unresolved intrinsic)";

/// A parsed CloudFormation or CDK template (JSON or YAML), with YAML short-form tags already
/// turned into their long form.
#[derive(Clone)]
pub(crate) struct Template {
    /// The top-level mapping, less `Resources`.
    root: Map<String, Value>,
    /// The `Resources` mapping, taken out so that its presence is a matter of type.
    resources: Map<String, Value>,
}

// Not derived: the template holds environment values, which may be sensitive.
impl fmt::Debug for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Template")
            .field("resources", &self.resources().len())
            .field("task_definitions", &self.task_definition_ids())
            .finish_non_exhaustive()
    }
}

/// Why a template could not be read, or no task definition could be chosen from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TemplateError {
    /// Neither valid JSON nor valid YAML. Holds the position only, never content.
    Parse(String),
    /// Parsed, but not a CloudFormation template (no top-level `Resources` mapping...).
    NotATemplate(String),
    /// The template has no `AWS::ECS::TaskDefinition` resource.
    NoTaskDefinition,
    /// Several task definitions and none chosen: their logical ids, sorted.
    Ambiguous(Vec<String>),
    /// The chosen logical id is not a task definition of the template.
    UnknownResource {
        wanted: String,
        available: Vec<String>,
    },
    /// `--parameter` names that are neither parameters of the template nor exports its task
    /// definition imports (a typo would otherwise leave the default in place, silently).
    UnknownParameters {
        unknown: Vec<String>,
        declared: Vec<String>,
    },
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TemplateError::Parse(at) => write!(f, "not a valid JSON or YAML template: {at}"),
            TemplateError::NotATemplate(why) => write!(f, "not a CloudFormation template: {why}"),
            TemplateError::NoTaskDefinition => {
                write!(f, "the template has no {TASK_DEFINITION_TYPE} resource")
            }
            TemplateError::Ambiguous(ids) => write!(
                f,
                "the template has {} {TASK_DEFINITION_TYPE} resources ({}); choose one with \
                 --resource LOGICAL_ID",
                ids.len(),
                quoted_list(ids)
            ),
            TemplateError::UnknownResource { wanted, available } => {
                write!(
                    f,
                    "the template has no {TASK_DEFINITION_TYPE} named `{wanted}`"
                )?;
                if available.is_empty() {
                    f.write_str(" (it has none)")
                } else {
                    write!(f, "; it has {}", quoted_list(available))
                }
            }
            TemplateError::UnknownParameters { unknown, declared } => {
                write!(
                    f,
                    "--parameter {}: not a parameter of the template, nor an export that its \
                     task definition imports with Fn::ImportValue",
                    quoted_list(unknown)
                )?;
                // The closest name for each, rather than every parameter: a Copilot template
                // declares dozens.
                let guesses: Vec<String> = unknown
                    .iter()
                    .filter_map(|u| {
                        declared
                            .iter()
                            .map(|d| (strsim::normalized_levenshtein(u, d), d))
                            .max_by(|x, y| x.0.total_cmp(&y.0))
                            .filter(|(score, _)| *score >= 0.6)
                            .map(|(_, d)| d.clone())
                    })
                    .collect();
                const LISTED: usize = 8;
                if declared.is_empty() {
                    f.write_str(" (the template declares no parameters)")
                } else if !guesses.is_empty() {
                    write!(f, "; did you mean {}?", quoted_list(&guesses))
                } else if declared.len() <= LISTED {
                    write!(f, "; its parameters are {}", quoted_list(declared))
                } else {
                    write!(
                        f,
                        "; it has {} parameters, among them {}",
                        declared.len(),
                        quoted_list(&declared[..LISTED])
                    )
                }
            }
        }
    }
}

impl std::error::Error for TemplateError {}

fn quoted_list(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What the template cannot know by itself: pseudo parameters, `--parameter` values and the
/// deployed stack's physical ids. The caller fills it from flags and AWS calls.
#[derive(Debug, Clone, Default)]
pub(crate) struct Context {
    /// `AWS::Region`.
    pub region: Option<String>,
    /// `AWS::AccountId`.
    pub account: Option<String>,
    /// `AWS::Partition`; derived from `region` when absent (`cn-` is `aws-cn`, `us-gov-` is
    /// `aws-us-gov`, ...). `AWS::URLSuffix` follows from the partition.
    pub partition: Option<String>,
    /// `--parameter KEY=VALUE`: overrides the template's `Parameters` defaults. A key that
    /// names an export also answers `Fn::ImportValue` of that export.
    pub parameters: BTreeMap<String, String>,
    /// `AWS::StackName`.
    pub stack_name: Option<String>,
    /// Logical id to physical id, from `cloudformation:DescribeStackResources` (`--stack NAME`).
    pub stack_resources: Option<BTreeMap<String, String>>,
    /// What the caller reads: the other containers, and overridden variables' values, may
    /// stay unresolved.
    pub wanted: crate::taskdef::Wanted,
}

/// One intrinsic function that could not be evaluated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Unresolved {
    /// JSON path of the field being evaluated, e.g.
    /// `$.Resources.Task.Properties.ContainerDefinitions[0].Secrets[1].ValueFrom`.
    pub path: String,
    /// The expression that failed, e.g. `Ref: DbSecret`, `Fn::GetAtt: [Db, Arn]`,
    /// `Fn::Sub: ${DbHost}`.
    pub intrinsic: String,
    /// What would resolve it, e.g. `pass --parameter Env=VALUE`.
    pub hint: String,
    /// Not an intrinsic but a mistake in the template itself (a misspelt key): what is
    /// wrong, instead of "cannot resolve".
    pub mistake: Option<String>,
}

impl Unresolved {
    /// What is wrong, as a failure's message.
    pub(crate) fn message(&self) -> String {
        match &self.mistake {
            Some(m) => m.clone(),
            None => format!("cannot resolve `{}`", self.intrinsic),
        }
    }
}

impl fmt::Display for Unresolved {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at `{}`: {}: {}", self.path, self.message(), self.hint)
    }
}

// ---------------------------------------------------------------------------------------------
// Parsing

/// Parse a template: JSON first (CDK's `cdk.out/*.template.json`), else YAML.
///
/// YAML short-form tags become the long form: `!Ref x` is `{"Ref": "x"}`, `!Condition c` is
/// `{"Condition": "c"}`, `!GetAtt a.b.c` is `{"Fn::GetAtt": ["a", "b.c"]}` (split at the first
/// dot, as CloudFormation does), and any other `!Name v` is `{"Fn::Name": v}`.
pub(crate) fn parse(text: &str) -> Result<Template, TemplateError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let root = match serde_json::from_str::<Value>(text) {
        Ok(root) => root,
        Err(json_error) => match yaml_to_json(text) {
            Ok(root) => root,
            // Both failed: report in the syntax the author evidently meant. Positions only:
            // a message quoting the offending text could quote a secret.
            Err(_) if text.trim_start().starts_with(['{', '[']) => {
                return Err(TemplateError::Parse(format!(
                    "invalid JSON at line {}, column {}",
                    json_error.line(),
                    json_error.column()
                )));
            }
            Err(yaml_error) => return Err(yaml_error),
        },
    };
    from_json(root)
}

/// A template from an already parsed JSON document (see [`is_template`]).
pub(crate) fn from_json(root: Value) -> Result<Template, TemplateError> {
    let Value::Object(mut root) = root else {
        return Err(TemplateError::NotATemplate(format!(
            "the top level is {}, not a mapping",
            kind_of(&root)
        )));
    };
    match root.remove("Resources") {
        Some(Value::Object(resources)) => Ok(Template { root, resources }),
        Some(other) => Err(TemplateError::NotATemplate(format!(
            "`Resources` is {}, not a mapping",
            kind_of(&other)
        ))),
        None if root.contains_key("taskDefinition")
            || root.contains_key("containerDefinitions") =>
        {
            Err(TemplateError::NotATemplate(
                "this is an ECS task definition, not a CloudFormation template".to_owned(),
            ))
        }
        None => Err(TemplateError::NotATemplate(
            "there is no top-level `Resources` mapping".to_owned(),
        )),
    }
}

/// Cheap test for "is this a CloudFormation template rather than a task definition": a
/// top-level `Resources` mapping or `AWSTemplateFormatVersion`. Parses JSON; for anything
/// else only scans for the key at the start of a line, without a YAML parse.
pub(crate) fn looks_like_template(text: &str) -> bool {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if let Ok(root) = serde_json::from_str::<Value>(text) {
        return is_template(&root);
    }
    // A top-level YAML key starts in column 0; nested keys are indented.
    text.lines().any(|line| {
        ["Resources", "AWSTemplateFormatVersion"].iter().any(|key| {
            ["", "\"", "'"].iter().any(|quote| {
                line.strip_prefix(quote)
                    .and_then(|rest| rest.strip_prefix(key))
                    .and_then(|rest| rest.strip_prefix(quote))
                    .is_some_and(|rest| rest.trim_start().starts_with(':'))
            })
        })
    })
}

/// A parsed JSON document is a template: it has `Resources` or `AWSTemplateFormatVersion`.
pub(crate) fn is_template(root: &Value) -> bool {
    let Value::Object(root) = root else {
        return false;
    };
    root.get("Resources").is_some_and(Value::is_object)
        || root.contains_key("AWSTemplateFormatVersion")
}

fn yaml_to_json(text: &str) -> Result<Value, TemplateError> {
    let docs = Yaml::load_from_str(text).map_err(|e| {
        let at = e.marker();
        // saphyr's columns are 0-based; editors (and serde_json) count from 1.
        TemplateError::Parse(format!(
            "invalid YAML at line {}, column {}",
            at.line(),
            at.col() + 1
        ))
    })?;
    let Some(doc) = docs.first() else {
        return Err(TemplateError::NotATemplate("the file is empty".to_owned()));
    };
    yaml_value(doc, 0)
}

fn yaml_value(node: &Yaml<'_>, depth: usize) -> Result<Value, TemplateError> {
    if depth > MAX_DEPTH {
        return Err(TemplateError::Parse(format!(
            "nested deeper than {MAX_DEPTH} levels"
        )));
    }
    match node {
        Yaml::Value(scalar) => Ok(scalar_value(scalar)),
        // Only produced by a loader that defers scalar parsing; handled for completeness.
        Yaml::Representation(raw, style, tag) => {
            Ok(
                Scalar::parse_from_cow_and_metadata(raw.clone(), *style, tag.as_ref())
                    .map_or_else(|| Value::String(raw.to_string()), |s| scalar_value(&s)),
            )
        }
        Yaml::Sequence(items) => items
            .iter()
            .map(|item| yaml_value(item, depth + 1))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        Yaml::Mapping(entries) => {
            let mut out = Map::new();
            for (key, value) in entries {
                out.insert(yaml_key(key)?, yaml_value(value, depth + 1)?);
            }
            Ok(Value::Object(out))
        }
        Yaml::Tagged(tag, inner) => Ok(short_form(tag, yaml_value(inner, depth + 1)?)),
        Yaml::Alias(_) | Yaml::BadValue => Err(TemplateError::Parse(
            "a YAML value could not be read (an unknown alias, or a `!!` tag that does not fit \
             its value)"
                .to_owned(),
        )),
    }
}

fn yaml_key(key: &Yaml<'_>) -> Result<String, TemplateError> {
    match key {
        Yaml::Value(Scalar::String(s)) => Ok(s.to_string()),
        Yaml::Value(Scalar::Integer(i)) => Ok(i.to_string()),
        Yaml::Value(Scalar::Boolean(b)) => Ok(b.to_string()),
        Yaml::Value(Scalar::FloatingPoint(f)) => Ok(f.to_string()),
        _ => Err(TemplateError::NotATemplate(
            "a mapping key is not a plain string".to_owned(),
        )),
    }
}

fn scalar_value(scalar: &Scalar<'_>) -> Value {
    match scalar {
        Scalar::Null => Value::Null,
        Scalar::Boolean(b) => Value::Bool(*b),
        Scalar::Integer(i) => Value::Number(Number::from(*i)),
        // `.inf` and `.nan` have no JSON number; keep their YAML spelling as a string.
        Scalar::FloatingPoint(f) => Number::from_f64(f.into_inner()).map_or_else(
            || Value::String(yaml_special_float(f.into_inner()).to_owned()),
            Value::Number,
        ),
        Scalar::String(s) => Value::String(s.to_string()),
    }
}

fn yaml_special_float(f: f64) -> &'static str {
    if f.is_nan() {
        ".nan"
    } else if f > 0.0 {
        ".inf"
    } else {
        "-.inf"
    }
}

/// `!Name value` as its long form. Only the local `!` handle is CloudFormation's; a value with
/// any other tag keeps its value and loses the tag.
fn short_form(tag: &Tag, value: Value) -> Value {
    if tag.handle != "!" {
        return value;
    }
    let (key, value) = match tag.suffix.as_str() {
        "Ref" => ("Ref".to_owned(), value),
        "Condition" => ("Condition".to_owned(), value),
        "GetAtt" => {
            // `!GetAtt Db.Endpoint.Address` names attribute `Endpoint.Address` of `Db`.
            let value = match value {
                Value::String(s) => match s.split_once('.') {
                    Some((resource, attribute)) => Value::Array(vec![
                        Value::String(resource.to_owned()),
                        Value::String(attribute.to_owned()),
                    ]),
                    None => Value::String(s),
                },
                other => other,
            };
            ("Fn::GetAtt".to_owned(), value)
        }
        name => (format!("Fn::{name}"), value),
    };
    Value::Object(Map::from_iter([(key, value)]))
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

// ---------------------------------------------------------------------------------------------
// The template

impl Template {
    fn section(&self, name: &str) -> Option<&Map<String, Value>> {
        self.root.get(name).and_then(Value::as_object)
    }

    fn resources(&self) -> &Map<String, Value> {
        &self.resources
    }

    fn resource_type(&self, logical_id: &str) -> Option<&str> {
        self.resources()
            .get(logical_id)?
            .get("Type")
            .and_then(Value::as_str)
    }

    /// Logical ids of the `AWS::ECS::TaskDefinition` resources, sorted.
    pub(crate) fn task_definition_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .resources()
            .keys()
            .filter(|id| self.resource_type(id) == Some(TASK_DEFINITION_TYPE))
            .cloned()
            .collect();
        ids.sort();
        ids
    }

    /// Names of the template's `Parameters`, sorted.
    pub(crate) fn parameter_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .section("Parameters")
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default();
        names.sort();
        names
    }

    /// The chosen AWS::ECS::TaskDefinition (the only one, or `logical_id`), with intrinsics
    /// resolved, as `{"family"?, "executionRoleArn"?, "containerDefinitions": [{"name",
    /// "environment": [{"name","value"}], "secrets": [{"name","valueFrom"}],
    /// "environmentFiles": [{"value","type"}]}]}` (camelCase; only these fields; absent lists
    /// are omitted).
    ///
    /// Only the fields ecs-env needs are resolved (`Family`, `ExecutionRoleArn`, and in each
    /// `ContainerDefinitions` entry `Name`, `Environment`, `Secrets`, `EnvironmentFiles`);
    /// other properties may hold unresolvable intrinsics without causing errors. Every
    /// unresolvable intrinsic in those fields is collected: the inner `Err` lists them all.
    pub(crate) fn task_definition(
        &self,
        logical_id: Option<&str>,
        ctx: &Context,
    ) -> Result<Result<Value, Vec<Unresolved>>, TemplateError> {
        let ids = self.task_definition_ids();
        let id = match logical_id {
            Some(wanted) => {
                if !ids.iter().any(|id| id == wanted) {
                    return Err(TemplateError::UnknownResource {
                        wanted: wanted.to_owned(),
                        available: ids,
                    });
                }
                wanted.to_owned()
            }
            None => match ids.as_slice() {
                [] => return Err(TemplateError::NoTaskDefinition),
                [only] => only.clone(),
                _ => return Err(TemplateError::Ambiguous(ids)),
            },
        };
        let resolver = Resolver::new(self, ctx);
        let resolved = resolver.task_definition(&id);
        if resolved.is_ok() {
            // Checked only after a complete resolution: only then has every Fn::ImportValue
            // of the task definition asked for its export.
            let declared = self.parameter_names();
            let imported = resolver.imports.into_inner();
            let unknown: Vec<String> = ctx
                .parameters
                .keys()
                .filter(|k| !declared.contains(k) && !imported.contains(*k))
                .cloned()
                .collect();
            if !unknown.is_empty() {
                return Err(TemplateError::UnknownParameters { unknown, declared });
            }
        }
        Ok(resolved)
    }
}

// ---------------------------------------------------------------------------------------------
// Evaluation

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

struct Resolver<'a> {
    template: &'a Template,
    ctx: &'a Context,
    partition: Option<String>,
    /// The export names `Fn::ImportValue` asked for (they are passed with `--parameter` too).
    imports: RefCell<BTreeSet<String>>,
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
    fn new(template: &'a Template, ctx: &'a Context) -> Self {
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

    fn task_definition(&self, id: &str) -> Result<Value, Vec<Unresolved>> {
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

#[cfg(test)]
mod tests;
