//! Root-module variable values, from every place Terraform takes them, in its precedence
//! order (later wins): `TF_VAR_NAME` environment variables, `terraform.tfvars`,
//! `terraform.tfvars.json`, `*.auto.tfvars` and `*.auto.tfvars.json` in lexical order, then
//! `--var-file` files, then `--var` values. Declared defaults sit below all of these.
//!
//! Terraform applies `-var-file` and `-var` in the order they appear on its command line;
//! [`Inputs`](super::Inputs) keeps them in two lists, so all files apply before all `--var`
//! values (the usual intent: a `--var` overrides a file).
//!
//! `--var` and `TF_VAR_` values are strings; whether one is taken literally or parsed as
//! HCL depends on the variable's type, so they are kept as text until the variable is read.

use std::path::Path;
use std::sync::Arc;

use super::eval::{Evaluator, Failure};
use super::source::{SourceFile, display_join, parse_problem};
use super::value::Value;
use super::{CliInput, Inputs, Problem};

/// A value as assigned, before the variable's type is applied.
#[derive(Debug, Clone)]
pub(crate) enum Raw {
    /// A `--var` or `TF_VAR_` string.
    Text(String),
    /// A value from a variables file.
    Parsed(Result<Value, Failure>),
}

/// The winning assignment of one variable, and where it came from (for messages).
#[derive(Debug, Clone)]
pub(crate) struct Assigned {
    pub(crate) raw: Raw,
    pub(crate) origin: String,
}

/// Collects the root module's variable assignments into `ev.root_vars`, and the
/// workspace. Returns the problems that Terraform would stop on before evaluating anything:
/// unreadable or invalid variable files, malformed or undeclared `--var`.
pub(crate) fn assign(ev: &mut Evaluator, inputs: &Inputs, root_display: &str) -> Vec<Problem> {
    let mut problems = Vec::new();
    let root_dir = ev.root_dir.clone();

    for (key, value) in &inputs.env_vars {
        if let Some(name) = key.strip_prefix("TF_VAR_") {
            ev.root_vars.insert(
                name.to_owned(),
                Assigned {
                    raw: Raw::Text(value.clone()),
                    origin: key.clone(),
                },
            );
        }
    }
    ev.workspace = super::backend::workspace(&root_dir, &inputs.env_vars);

    let mut auto_files: Vec<String> = Vec::new();
    for fixed in ["terraform.tfvars", "terraform.tfvars.json"] {
        if root_dir.join(fixed).is_file() {
            auto_files.push(fixed.to_owned());
        }
    }
    let mut auto: Vec<String> = std::fs::read_dir(&root_dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".auto.tfvars") || n.ends_with(".auto.tfvars.json"))
                .collect()
        })
        .unwrap_or_default();
    auto.sort();
    auto_files.extend(auto);
    for name in auto_files {
        let display = display_join(root_display, &name);
        read_var_file(ev, &root_dir.join(&name), display, &mut problems);
    }
    let declared = ev.insts[0].module.variables.clone();
    for input in &inputs.cli {
        let (name, value) = match input {
            CliInput::File(path) => {
                read_var_file(ev, path, path.to_string_lossy().into_owned(), &mut problems);
                continue;
            }
            CliInput::Var(name, value) => (name, value),
        };
        if !declared.contains_key(name) {
            problems.push(Problem {
                file: "--var".to_owned(),
                line: None,
                expression: name.clone(),
                message: format!("the root module declares no variable named `{name}`"),
                hint: format!("declare it (variable \"{name}\" {{}}) or check the spelling"),
            });
            continue;
        }
        ev.root_vars.insert(
            name.clone(),
            Assigned {
                raw: Raw::Text(value.clone()),
                origin: "--var".to_owned(),
            },
        );
    }
    problems
}

/// Reads a `.tfvars` (HCL) or `.tfvars.json` file into the assignments.
fn read_var_file(ev: &mut Evaluator, path: &Path, display: String, problems: &mut Vec<Problem>) {
    let problem = |message: String| Problem {
        file: display.clone(),
        line: None,
        expression: String::new(),
        message,
        hint: String::new(),
    };
    let text = match crate::files::read_text(path, crate::files::MAX_SOURCE_BYTES) {
        Ok(text) => text,
        Err(e) => {
            problems.push(problem(format!("cannot read the variables file: {e}")));
            return;
        }
    };
    if display.ends_with(".json") {
        let doc = match serde_json::from_str::<serde_json::Value>(&text) {
            Ok(serde_json::Value::Object(map)) => map,
            Ok(_) => {
                problems.push(problem(
                    "a .tfvars.json file must hold one JSON object".to_owned(),
                ));
                return;
            }
            Err(e) => {
                problems.push(problem(format!(
                    "not valid JSON: {}",
                    crate::diagnostic::json_error(&e)
                )));
                return;
            }
        };
        for (name, value) in doc {
            ev.root_vars.insert(
                name,
                Assigned {
                    raw: Raw::Parsed(Ok(Value::from_json(&value))),
                    origin: display.clone(),
                },
            );
        }
        return;
    }
    if let Some(hazard) = super::source::parse_hazard(&text, false) {
        problems.push(hazard.problem(&display));
        return;
    }
    let (body, text) = match super::respell::parse(text, hcl::edit::parser::parse_body) {
        Ok(parsed) => parsed,
        Err(e) => {
            problems.push(parse_problem(&display, &e));
            return;
        }
    };
    let file = Arc::new(SourceFile::new(display.clone(), text));
    let refused = super::strict::check(&body, &file);
    if !refused.is_empty() {
        problems.extend(refused);
        return;
    }
    for block in body.blocks() {
        problems.push(file.problem(
            hcl::edit::Span::span(&block.ident),
            "a variables file holds only `NAME = value` lines, not blocks",
            "",
        ));
    }
    for attr in body.attributes() {
        let value = ev.eval_literal(&attr.value, file.clone());
        ev.root_vars.insert(
            attr.key.as_str().to_owned(),
            Assigned {
                raw: Raw::Parsed(value),
                origin: display.clone(),
            },
        );
    }
}
