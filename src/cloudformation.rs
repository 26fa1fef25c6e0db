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

use std::collections::BTreeMap;
use std::fmt;

use serde_json::{Map, Value};

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

// The accessors that both `template` and `eval` use, kept beside the struct so that neither
// of those modules depends on the other for them.
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

mod parse;

pub(crate) use parse::{from_json, is_template, looks_like_template, parse};

// ---------------------------------------------------------------------------------------------
// The template

mod template;

// ---------------------------------------------------------------------------------------------
// Evaluation

mod eval;

#[cfg(test)]
mod tests;
