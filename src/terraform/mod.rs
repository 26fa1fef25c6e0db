//! Terraform configurations as a task definition source: the `container_definitions` of an
//! `aws_ecs_task_definition` resource, evaluated as Terraform would evaluate it.
//!
//! # What this module owns
//!
//! - Reading a configuration directory (every `*.tf`, override files merged last), with
//!   `hcl-rs`'s parser (`hcl::edit`, which keeps source positions). A `.tf` file stands for
//!   its directory, as in Terraform, and chooses the task definitions it declares.
//! - Variable values from defaults, `TF_VAR_*`, `terraform.tfvars(.json)`,
//!   `*.auto.tfvars(.json)`, `--var-file` and `--var`, in Terraform's precedence, converted
//!   to each variable's declared type (`type = number`, `map(object({...}))`, `optional`).
//! - Evaluating expressions: `var.*`, `local.*` (lazily, in dependency order, cycles
//!   reported), string templates and heredocs with `%{ for }`/`%{ if }` and `~` strip
//!   markers, conditionals, `for` expressions, splats, arithmetic and comparison, and the
//!   built-in functions in `funcs`' table (among them `jsonencode`, `file`, `templatefile`,
//!   `format`, `merge`, `lookup`, `try`, `can`).
//! - `count`/`for_each` on the task definition and on module calls: an instance is chosen
//!   by its key, with `count.index`, `each.key` and `each.value` in scope.
//! - Attributes of other resources and data sources, from the state (a state file, `terraform
//!   state pull` output, or `terraform show -json` output). Without state, what plan knows
//!   without it (`data`): `data.aws_region`, `data.aws_partition` (the task region),
//!   `data.aws_caller_identity` (`--account`, or STS), and `data.template_file`, always
//!   rendered in-process. `data.terraform_remote_state` (s3) is a [`Lookup`]: the evaluation
//!   asks for it, `pipeline` reads it, and a second evaluation has it.
//! - Local modules (`source = "./modules/x"`), and registry or git modules that `terraform
//!   init` has installed (found through `.terraform/modules/modules.json`).
//! - `path.module`/`path.root`/`path.cwd`, and `terraform.workspace` (`TF_WORKSPACE`, else
//!   `.terraform/environment`, else `default`, as Terraform decides it).
//! - `terraform show -json` output as a source on its own ([`from_show_json`]).
//!
//! Relative paths in `file()`/`templatefile()` start at the root module's directory, where
//! Terraform runs; that is why modules write `"${path.module}/x.json"`, and why it works
//! here too. They read only inside the configuration's own directories (the root module's
//! and each loaded module's, after resolving links), never devices, FIFOs or `/proc`, and at
//! most 16 MiB (`files`): a configuration from someone else's branch cannot print local
//! files through a variable name.
//!
//! Without a named resource, the only task definition instance is chosen. Modules whose
//! source is out of reach are skipped in that search (configurations usually call registry
//! modules such as a VPC that hold none) and reported only when nothing else is found.
//!
//! Only the selected container's environment must be known (`needed`): a value ecs-env
//! lacks elsewhere (an image, a log group, a role ARN, another container) is carried as a
//! marker (`unknown`) and left out at the end, as Terraform's plan carries "known after
//! apply". An `--override`n variable's value is never needed.
//!
//! # Limits
//!
//! - A value the environment needs that Terraform would only know after apply, or that needs
//!   an input not given, is a [`Problem`] naming file, line, expression and the flag that
//!   would supply it. Nothing is guessed: not an ARN from a resource's arguments, not an
//!   account ID, not a region.
//! - Functions outside the supported set are a problem naming them (the hint says how to
//!   let Terraform render the configuration instead), as are provider-defined functions
//!   (`provider::aws::...`). Regular-expression `replace` is not supported. `length` counts
//!   characters, not grapheme clusters.
//! - JSON-syntax configuration files (`*.tf.json`) are not read; they are named in the
//!   "not found" hints.
//! - Numbers are 64-bit floats (Terraform's are arbitrary precision); integers are exact
//!   up to 2^53.
//! - Lists and tuples, maps and objects are not told apart; only sets are. Type mismatches
//!   that Terraform reports when unifying branch types are not reported.
//! - Variable `validation` blocks, `precondition`s and `check` blocks are not evaluated.
//! - A required variable without a value is reported only when the task definition needs
//!   it (Terraform would refuse to plan at all).
//! - `&&` and `||` evaluate both sides, as Terraform does; a conditional evaluates only the
//!   branch it takes (a problem in the other branch is not one in the result).
//!
//! Problems never contain a value: variables may hold secrets, so only names and the
//! configuration's own text appear.

mod backend;
mod data;
mod eval;
mod files;
mod funcs;
mod modules;
mod needed;
mod respell;
mod select;
mod show;
mod source;
mod state;
mod strict;
mod template;
mod types;
mod unknown;
mod value;
mod vars;

#[cfg(test)]
mod syntax_vectors;
#[cfg(test)]
mod tests;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub(crate) use crate::taskdef::Wanted;
pub(crate) use backend::{StateLocation, config_args as backend_config_args};
pub(crate) use data::{Ask, Caller, Lookup};
#[cfg(feature = "fuzzing")]
pub(crate) use funcs::fuzz_text;

use eval::Evaluator;
use state::StateIndex;
use value::Value;

/// The hint where ecs-env cannot evaluate something Terraform can: let Terraform render it.
pub(crate) const RENDER_WITH_TERRAFORM: &str = "render the configuration with Terraform instead: terraform plan -out=tfplan && terraform show -json tfplan > plan.json, then read plan.json";

/// Everything that decides how a configuration evaluates.
#[derive(Debug, Clone, Default)]
pub(crate) struct Inputs {
    /// A configuration directory (all `*.tf` in it) or one `.tf` file.
    pub path: PathBuf,
    /// `aws_ecs_task_definition.NAME`, optionally with an instance key (`...NAME[0]`,
    /// `...NAME["web"]`) and module steps (`module.svc["api"].aws_ecs_task_definition.X`).
    /// `None`: the configuration's only task definition instance.
    pub resource: Option<String>,
    /// `--var` and `--var-file`, in command-line order: a later one wins, as in Terraform.
    pub cli: Vec<CliInput>,
    /// The process environment, or only its `TF_VAR_*` entries. `TF_VAR_NAME` sets
    /// variable `NAME`; `TF_WORKSPACE` sets `terraform.workspace`. Other entries are ignored.
    pub env_vars: Vec<(String, String)>,
    /// A state document: `terraform.tfstate`, `terraform state pull` output, or
    /// `terraform show -json` output. The caller loads it (`--tfstate FILE`, or
    /// `terraform.tfstate` in the directory).
    pub state: Option<serde_json::Value>,
    /// What the caller reads: values it does not need may stay unknown.
    pub wanted: Wanted,
    /// The task region, for `data.aws_region` and `data.aws_partition`.
    pub region: Option<String>,
    /// The caller, for `data.aws_caller_identity` (`--account`, or STS).
    pub caller: Caller,
    /// Whether AWS may be asked (not `--offline`): the data sources plan reads are then read
    /// live, as plan reads them; offline, the state's copy is used.
    pub live: bool,
    /// Answers to the [`Lookup`]s an earlier evaluation asked for: an object of the
    /// attributes Terraform would show, or why AWS could not answer.
    pub looked_up: std::collections::BTreeMap<Lookup, Result<serde_json::Value, String>>,
}

/// A variable input given on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CliInput {
    /// `--var NAME=VALUE`. Values are strings; a variable whose type is not a primitive (a
    /// list, map, object, or `any`) parses its value as HCL, as Terraform does.
    Var(String, String),
    /// `--var-file PATH` (`.tfvars` in HCL, or `.tfvars.json`).
    File(PathBuf),
}

/// An evaluated task definition.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Loaded {
    /// The `container_definitions` JSON array: the string Terraform would send, decoded.
    pub container_definitions: serde_json::Value,
    /// `family`, when the resource sets it.
    pub family: Option<String>,
    /// `execution_role_arn`, when the resource sets it.
    pub execution_role_arn: Option<String>,
    /// `task_role_arn`, when the resource sets it; [`crate::cloudformation::UNRESOLVED`]
    /// when it cannot be evaluated (only `--task-role` uses it, and says so then).
    pub task_role_arn: Option<String>,
    /// The resource instance's address, e.g. `aws_ecs_task_definition.app["web"]`.
    pub address: String,
    /// Where `container_definitions` is written: `infra/main.tf:12`, for errors in what it
    /// evaluated to.
    pub container_definitions_at: String,
    /// Fields left out or marked unresolved because they are unknown and not needed (for
    /// `-v`).
    pub notes: Vec<String>,
    /// Unknown role ARNs: only the features that use them need them.
    pub warnings: Vec<String>,
}

/// Something that stops the configuration from evaluating, located as precisely as the
/// source allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Problem {
    /// The file, as a path joined onto [`Inputs::path`] (or the flag, e.g. `--var`). Empty for
    /// `terraform show -json` input, which has no source file.
    pub file: String,
    /// The 1-based line, where the problem has one (configuration and template files).
    pub line: Option<usize>,
    /// The expression's source text (whitespace collapsed), or the address concerned.
    pub expression: String,
    /// What is wrong.
    pub message: String,
    /// What would resolve it: a flag, a file, a command. May be empty.
    pub hint: String,
}

impl fmt::Display for Problem {
    /// `infra/main.tf:12: `aws_secretsmanager_secret.db.arn`: not in Terraform state;
    /// hint: pass --tfstate FILE (terraform state pull > state.json)`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.file.is_empty() {
            f.write_str(&self.file)?;
            if let Some(line) = self.line {
                write!(f, ":{line}")?;
            }
            f.write_str(": ")?;
        }
        if !self.expression.is_empty() {
            write!(f, "`{}`: ", self.expression)?;
        }
        f.write_str(&self.message)?;
        if !self.hint.is_empty() {
            write!(f, "; hint: {}", self.hint)?;
        }
        Ok(())
    }
}

impl std::error::Error for Problem {}

/// Whether `path` is a Terraform configuration: a `*.tf` file, or a directory holding one.
pub(crate) fn is_terraform_path(path: &Path) -> bool {
    let is_tf = |p: &Path| p.extension().is_some_and(|e| e == "tf");
    if path.is_dir() {
        std::fs::read_dir(path).is_ok_and(|entries| {
            entries
                .flatten()
                .any(|e| is_tf(&e.path()) && e.file_type().is_ok_and(|t| !t.is_dir()))
        })
    } else {
        path.is_file() && is_tf(path)
    }
}

/// A configuration read and parsed once: its root module, and the `.tf` file that names the
/// task definitions to choose from, when one was given. Locating its state and evaluating it
/// (more than once, when lookups answer what failed) share this one parse.
#[derive(Debug, Clone)]
pub(crate) struct Configuration {
    root: Arc<source::Module>,
    /// The given file, joined onto the root's display path.
    in_file: Option<String>,
}

impl Configuration {
    /// Reads the configuration at `path`: a directory (all `*.tf` in it), or a `.tf` file,
    /// which loads its whole directory.
    pub(crate) fn read(path: &Path) -> Result<Configuration, Vec<Problem>> {
        let (root_dir, only_file) = if path.is_dir() {
            (path, None)
        } else {
            let parent = path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            (parent, Some(path))
        };
        let root_display = root_dir.to_string_lossy().into_owned();
        let root = source::load_module(root_dir, &root_display).map_err(dedupe)?;
        let in_file = only_file
            .and_then(Path::file_name)
            .map(|name| source::display_join(&root_display, &name.to_string_lossy()));
        Ok(Configuration {
            root: Arc::new(root),
            in_file,
        })
    }

    /// Where the state lives: the backend (with `--backend-config` pairs applied) and the
    /// workspace.
    pub(crate) fn state_location(
        &self,
        backend_config: &[(String, String)],
        env_vars: &[(String, String)],
    ) -> Result<StateLocation, Vec<Problem>> {
        backend::locate(&self.root, backend_config, env_vars).map_err(dedupe)
    }

    /// Evaluates the chosen task definition (`inputs.path` is not read again), and returns
    /// the lookups the evaluation wanted and did not have in [`Inputs::looked_up`]: answered,
    /// they may resolve what failed.
    pub(crate) fn load_asking(&self, inputs: &Inputs) -> (Result<Loaded, Vec<Problem>>, Vec<Ask>) {
        let mut wanted = Vec::new();
        let loaded = self.load_inner(inputs, &mut wanted).map_err(dedupe);
        (loaded, wanted)
    }

    fn load_inner(&self, inputs: &Inputs, wanted: &mut Vec<Ask>) -> Result<Loaded, Vec<Problem>> {
        let root_display = self.root.display_dir.clone();
        let in_file = self.in_file.clone();
        let module = self.root.clone();
        let state = match &inputs.state {
        None => None,
        Some(doc) => Some(StateIndex::new(doc).ok_or_else(|| {
            vec![Problem {
                file: "--tfstate".to_owned(),
                line: None,
                expression: String::new(),
                message: "not a Terraform state: no `resources` (state file) and no `values` (terraform show -json)".to_owned(),
                hint: "write it with `terraform state pull > state.json`".to_owned(),
            }]
        })?),
    };
        let mut ev = Evaluator::new(module, state);
        ev.region = inputs.region.clone();
        ev.caller = inputs.caller.clone();
        ev.live = inputs.live;
        ev.looked_up = inputs
            .looked_up
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    v.as_ref().map(Value::from_json).map_err(Clone::clone),
                )
            })
            .collect();
        let result = evaluate(&mut ev, inputs, &root_display, in_file.as_deref());
        // Only the lookups behind what stops the caller: a value nobody needs is not read.
        let blocking: Vec<&Problem> = match &result {
            Err(problems) => problems.iter().chain(&ev.blocking).collect(),
            Ok(_) => ev.blocking.iter().collect(),
        };
        for (ask, problem) in &ev.wanted {
            if !blocking.contains(&problem) {
                continue;
            }
            match wanted.iter_mut().find(|a| a.lookup == ask.lookup) {
                // Asked for a data source too: it does not wait for the state.
                Some(known) => known.for_resource &= ask.for_resource,
                None => wanted.push(ask.clone()),
            }
        }
        result
    }
}

/// Reads the configuration at [`Inputs::path`] and evaluates the chosen task definition: the
/// task definition, or every problem found (deduplicated, in the order found).
#[cfg(any(test, feature = "fuzzing"))]
pub(crate) fn load(inputs: &Inputs) -> Result<Loaded, Vec<Problem>> {
    Configuration::read(&inputs.path)?.load_asking(inputs).0
}

/// Selects the task definition and evaluates what the caller reads of it.
fn evaluate(
    ev: &mut Evaluator,
    inputs: &Inputs,
    root_display: &str,
    in_file: Option<&str>,
) -> Result<Loaded, Vec<Problem>> {
    let problems = vars::assign(ev, inputs, root_display);
    if !problems.is_empty() {
        return Err(problems);
    }
    let target = select::select(ev, inputs.resource.as_deref(), root_display, in_file)?;
    let decl = target.decl.clone();
    let mut problems = Vec::new();
    // A string attribute: `Ok(None)` when unset.
    let text_attr = |ev: &mut Evaluator, name: &str| -> Result<Option<String>, eval::Failure> {
        let Some(attr) = decl.attrs.get(name) else {
            return Ok(None);
        };
        let v = ev.eval_attr(target.inst, attr, target.iteration.clone())?;
        match ev.unknowns.known(v)? {
            Value::Null => Ok(None),
            v => match v.to_str() {
                Some(s) => Ok(Some(s)),
                None => Err(eval::Failure::fatal(attr.file.problem(
                    hcl::edit::Span::span(&attr.expr),
                    format!("{name} must be a string, not a {}", v.type_name()),
                    "",
                ))),
            },
        }
    };
    let mut container_definitions_at = String::new();
    let container_definitions = match decl.attrs.get("container_definitions") {
        None => {
            problems.push(decl.file.problem(
                decl.span.clone(),
                format!("{} has no container_definitions", target.address),
                "",
            ));
            None
        }
        Some(attr) => {
            let span = hcl::edit::Span::span(&attr.expr);
            let written = attr.file.problem(span.clone(), "", "");
            container_definitions_at = match written.line {
                Some(line) => format!("{}:{line}", written.file),
                None => written.file,
            };
            // Terraform holds every string in Unicode NFC (`e` + U+0301 is `é`), so the task
            // definition it registers has its text composed: the variables' bytes too.
            let evaluated = ev.eval_attr(target.inst, attr, target.iteration.clone());
            match evaluated.map(|v| match v {
                Value::String(text) => Value::String(value::nfc(text)),
                v => v,
            }) {
                // Unknown as a whole, or unknown where the JSON would need it (a number, a
                // key): its problems, not a JSON syntax error.
                Ok(Value::String(text))
                    if unknown::has_marker(&text)
                        && !matches!(
                            serde_json::from_str::<serde_json::Value>(&text),
                            Ok(serde_json::Value::Array(_))
                        ) =>
                {
                    problems.extend(ev.unknowns.in_value(&Value::String(text)));
                    None
                }
                Ok(Value::String(text)) => match serde_json::from_str::<serde_json::Value>(&text) {
                    Ok(json @ serde_json::Value::Array(_)) => {
                        match needed::scrub(json, &ev.unknowns, &inputs.wanted) {
                            Ok(scrubbed) => Some(scrubbed),
                            Err(p) => {
                                problems.extend(p);
                                None
                            }
                        }
                    }
                    Ok(_) => {
                        problems.push(attr.file.problem(
                            span,
                            "container_definitions is not a JSON array",
                            "",
                        ));
                        None
                    }
                    Err(e) => {
                        problems.push(attr.file.problem(
                            span,
                            format!(
                                "container_definitions is not valid JSON: {}",
                                crate::diagnostic::json_error(&e)
                            ),
                            "",
                        ));
                        None
                    }
                },
                Ok(v) => {
                    problems.push(attr.file.problem(
                        span,
                        format!(
                            "container_definitions must be a JSON string, not a {}",
                            v.type_name()
                        ),
                        "wrap the list in jsonencode([...])",
                    ));
                    None
                }
                Err(f) => {
                    problems.extend(f.problems);
                    None
                }
            }
        }
    };
    // Best effort: the family only names the task, and the role ARNs matter only to the
    // features that act as those roles (which report the marker when they need it).
    let family = match text_attr(ev, "family") {
        Ok(family) => family,
        Err(f) if f.unknown => None,
        Err(f) => {
            problems.extend(f.problems);
            None
        }
    };
    let mut unknown_roles: Vec<(&str, Problem)> = Vec::new();
    let mut role = |name: &'static str| match text_attr(ev, name) {
        Ok(arn) => arn,
        Err(f) if !f.unknown => {
            problems.extend(f.problems);
            None
        }
        Err(f) => {
            if inputs.wanted.roles {
                ev.blocking.extend(f.problems.iter().cloned());
            }
            if let Some(p) = f.problems.into_iter().next() {
                unknown_roles.push((name, p));
            }
            Some(crate::cloudformation::UNRESOLVED.to_owned())
        }
    };
    let execution_role_arn = role("execution_role_arn");
    let task_role_arn = role("task_role_arn");
    let warnings = match unknown_roles.as_slice() {
        [] => Vec::new(),
        roles => vec![format!(
            "{}: {} {} not known here ({}); only --as-execution-role, --task-role and check's \
             role checks need {}",
            target.address,
            roles
                .iter()
                .map(|(name, _)| format!("`{name}`"))
                .collect::<Vec<_>>()
                .join(" and "),
            if roles.len() == 1 { "is" } else { "are" },
            roles
                .iter()
                .map(|(_, p)| format!("`{}`: {}", p.expression, p.message))
                .collect::<Vec<_>>()
                .join("; "),
            if roles.len() == 1 { "it" } else { "them" },
        )],
    };
    match container_definitions {
        Some((container_definitions, notes)) if problems.is_empty() => Ok(Loaded {
            container_definitions,
            family,
            execution_role_arn,
            task_role_arn,
            address: target.address,
            container_definitions_at,
            notes,
            warnings,
        }),
        _ => Err(problems),
    }
}

/// Removes repeated problems (a failed local referenced twice reports once).
fn dedupe(problems: Vec<Problem>) -> Vec<Problem> {
    let mut out: Vec<Problem> = Vec::with_capacity(problems.len());
    for p in problems {
        if !out.contains(&p) {
            out.push(p);
        }
    }
    out
}

/// `terraform show -json` output (state or plan) as a source on its own: the
/// `aws_ecs_task_definition` resources in `values.root_module` (or `planned_values`), and
/// in their `child_modules`, where `container_definitions` is a JSON string. `resource`
/// names one by address (or bare name) when there are several.
pub(crate) fn from_show_json(
    doc: &serde_json::Value,
    resource: Option<&str>,
) -> Result<Loaded, Vec<Problem>> {
    show::load(doc, resource)
}

/// Whether a JSON document is `terraform show -json` output: it has `format_version` and
/// `values` (state) or `planned_values` (plan).
pub(crate) fn looks_like_show_json(doc: &serde_json::Value) -> bool {
    doc.get("format_version").is_some()
        && (doc.get("values").is_some() || doc.get("planned_values").is_some())
}
