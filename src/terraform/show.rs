//! `terraform show -json` output (of a state or of a saved plan) as a source on its own.
//!
//! Terraform has already evaluated everything there: each `aws_ecs_task_definition` in
//! `values.root_module` (state) or `planned_values.root_module` (plan), and in their
//! `child_modules`, carries `container_definitions` as a JSON string. In a plan, an
//! attribute not known until apply is left out of `planned_values`; that is reported, not
//! guessed.

use serde_json::Value as Json;

use super::select::TASK_DEFINITION;
use super::{Loaded, Problem};

struct Found<'a> {
    address: String,
    values: &'a Json,
}

fn collect<'a>(module: &'a Json, out: &mut Vec<Found<'a>>) {
    for r in module
        .get("resources")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
    {
        let is_td = r.get("type").and_then(Json::as_str) == Some(TASK_DEFINITION)
            && r.get("mode").and_then(Json::as_str).unwrap_or("managed") == "managed";
        if let (true, Some(address)) = (is_td, r.get("address").and_then(Json::as_str)) {
            out.push(Found {
                address: address.to_owned(),
                values: r.get("values").unwrap_or(&Json::Null),
            });
        }
    }
    for child in module
        .get("child_modules")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
    {
        collect(child, out);
    }
}

fn problem(expression: &str, message: String, hint: &str) -> Problem {
    Problem {
        file: String::new(),
        line: None,
        expression: expression.to_owned(),
        message,
        hint: hint.to_owned(),
    }
}

/// Strips a trailing instance key: `a.b["x"]` → `a.b`. Keys inside module steps stay.
fn without_key(address: &str) -> &str {
    if !address.ends_with(']') {
        return address;
    }
    for (open, _) in address.rmatch_indices('[') {
        let key = &address[open + 1..address.len() - 1];
        let is_key = key.parse::<u64>().is_ok()
            || (key.starts_with('"') && serde_json::from_str::<String>(key).is_ok());
        if is_key {
            return &address[..open];
        }
    }
    address
}

/// See [`super::from_show_json`].
pub(crate) fn load(doc: &Json, resource: Option<&str>) -> Result<Loaded, Vec<Problem>> {
    let root = doc
        .pointer("/planned_values/root_module")
        .or_else(|| doc.pointer("/values/root_module"));
    let mut found = Vec::new();
    if let Some(root) = root {
        collect(root, &mut found);
    }
    let chosen: Vec<&Found> = match resource {
        None => found.iter().collect(),
        Some(wanted) => {
            // A bare name means aws_ecs_task_definition.NAME.
            let wanted = if wanted.contains('.') {
                wanted.to_owned()
            } else {
                format!("{TASK_DEFINITION}.{wanted}")
            };
            let exact: Vec<&Found> = found.iter().filter(|f| f.address == wanted).collect();
            if exact.is_empty() {
                found
                    .iter()
                    .filter(|f| without_key(&f.address) == wanted)
                    .collect()
            } else {
                exact
            }
        }
    };
    let all: Vec<&str> = found.iter().map(|f| f.address.as_str()).collect();
    let target = match chosen.as_slice() {
        [one] => *one,
        [] => {
            let (expression, message) = match resource {
                Some(r) => (
                    r,
                    format!("no such {TASK_DEFINITION} in the terraform show output"),
                ),
                None => (
                    "",
                    format!("the terraform show output has no {TASK_DEFINITION}"),
                ),
            };
            let hint = if all.is_empty() {
                "for a plan, write it with `terraform show -json tfplan`; for the state, `terraform show -json`".to_owned()
            } else {
                format!("it has: {}", all.join(", "))
            };
            return Err(vec![problem(expression, message, &hint)]);
        }
        many => {
            let list: Vec<&str> = many.iter().map(|f| f.address.as_str()).collect();
            return Err(vec![problem(
                resource.unwrap_or_default(),
                format!("{} task definitions: {}", list.len(), list.join(", ")),
                &format!("name one of them, e.g. {}", list[0]),
            )]);
        }
    };
    let text_attr = |name: &str| {
        target
            .values
            .get(name)
            .and_then(Json::as_str)
            .map(str::to_owned)
    };
    let container_definitions = match target.values.get("container_definitions") {
        Some(Json::String(text)) => match serde_json::from_str::<Json>(text) {
            Ok(json @ Json::Array(_)) => json,
            Ok(_) => {
                return Err(vec![problem(
                    &target.address,
                    "container_definitions is not a JSON array".to_owned(),
                    "",
                )]);
            }
            Err(e) => {
                return Err(vec![problem(
                    &target.address,
                    format!(
                        "container_definitions is not valid JSON: {}",
                        crate::diagnostic::json_error(&e)
                    ),
                    "",
                )]);
            }
        },
        // Already decoded by some tool: accept the array itself.
        Some(json @ Json::Array(_)) => json.clone(),
        _ => {
            return Err(vec![problem(
                &target.address,
                "container_definitions is not known in this output (a plan leaves out values known only after apply)".to_owned(),
                "apply first and use `terraform show -json` of the state, or read the configuration with --tfstate",
            )]);
        }
    };
    Ok(Loaded {
        container_definitions,
        family: text_attr("family"),
        execution_role_arn: text_attr("execution_role_arn"),
        task_role_arn: text_attr("task_role_arn"),
        address: target.address.clone(),
        // `terraform show -json` has no source file to point into.
        container_definitions_at: String::new(),
        notes: Vec::new(),
        warnings: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_stripped_only_from_the_resource() {
        assert_eq!(
            without_key("aws_ecs_task_definition.app[\"web\"]"),
            "aws_ecs_task_definition.app"
        );
        assert_eq!(
            without_key("module.m[\"a\"].aws_ecs_task_definition.app"),
            "module.m[\"a\"].aws_ecs_task_definition.app"
        );
        assert_eq!(
            without_key("aws_ecs_task_definition.app[0]"),
            "aws_ecs_task_definition.app"
        );
        assert_eq!(
            without_key("aws_ecs_task_definition.app[\"a.b\"]"),
            "aws_ecs_task_definition.app"
        );
    }
}
