//! Choosing the `aws_ecs_task_definition` instance to read: the one the caller named, or
//! the only one the configuration has.
//!
//! Addresses are Terraform's: `aws_ecs_task_definition.app`, `...app[0]`, `...app["web"]`,
//! `module.svc["api"].aws_ecs_task_definition.this`; the bare resource name (`app`) is
//! accepted too. Without a name, every task definition in the root module and in the
//! modules it calls (followed when their source is on disk) is a candidate; modules out of
//! reach are skipped unless nothing else is found, because a configuration usually calls
//! registry modules (VPC, load balancer) that hold no task definition.

use std::sync::Arc;

use super::Problem;
use super::eval::{Evaluator, Failure, Iteration, iteration_matches, key_suffix, prefix};
use super::source::{Mode, Module, ResourceDecl};
use super::value::Value;

/// The resource type ecs-env reads.
pub(crate) const TASK_DEFINITION: &str = "aws_ecs_task_definition";

/// The chosen instance.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub(crate) inst: usize,
    pub(crate) decl: ResourceDecl,
    pub(crate) iteration: Iteration,
    pub(crate) address: String,
}

/// One step of an address: a name and an optional instance key.
#[derive(Debug, Clone, PartialEq)]
struct Step {
    name: String,
    key: Option<Value>,
}

/// Parses `module.a["k"].aws_ecs_task_definition.b[0]` into module steps and the resource
/// step.
fn parse_address(text: &str) -> Result<(Vec<Step>, Step), String> {
    let mut tokens: Vec<(String, Option<Value>)> = Vec::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        let end = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'))
            .unwrap_or(rest.len());
        if end == 0 {
            return Err(format!(
                "unexpected `{}`",
                rest.chars().next().unwrap_or(' ')
            ));
        }
        let name = rest[..end].to_owned();
        rest = &rest[end..];
        let mut key = None;
        if let Some(after) = rest.strip_prefix('[') {
            let close = if after.starts_with('"') {
                // A JSON string: find its closing quote, skipping escapes.
                let mut escaped = false;
                after
                    .char_indices()
                    .skip(1)
                    .find(|&(_, c)| {
                        let done = c == '"' && !escaped;
                        escaped = c == '\\' && !escaped;
                        done
                    })
                    .map(|(i, _)| i + 1)
            } else {
                after.find(']')
            }
            .ok_or("an instance key is not closed")?;
            let raw = &after[..close];
            key = Some(if raw.starts_with('"') {
                Value::String(
                    serde_json::from_str::<String>(raw).map_err(|_| format!("bad key {raw}"))?,
                )
            } else {
                Value::Number(
                    raw.trim()
                        .parse::<u64>()
                        .map_err(|_| format!("bad key [{raw}]"))? as f64,
                )
            });
            rest = after[close..]
                .strip_prefix(']')
                .ok_or("an instance key is not closed")?;
        }
        tokens.push((name, key));
        match rest.strip_prefix('.') {
            Some(r) if !r.is_empty() => rest = r,
            Some(_) => return Err("the address ends with `.`".to_owned()),
            None if rest.is_empty() => {}
            None => return Err(format!("unexpected `{rest}`")),
        }
    }
    let mut modules = Vec::new();
    let mut i = 0;
    while i + 1 < tokens.len() && tokens[i].0 == "module" && tokens[i].1.is_none() {
        let (name, key) = tokens[i + 1].clone();
        modules.push(Step { name, key });
        i += 2;
    }
    match &tokens[i..] {
        [(t, None), (name, key)] if t == TASK_DEFINITION => Ok((
            modules,
            Step {
                name: name.clone(),
                key: key.clone(),
            },
        )),
        [(t, None), _] => Err(format!("`{t}` is not {TASK_DEFINITION}")),
        [(name, key)] => Ok((
            modules,
            Step {
                name: name.clone(),
                key: key.clone(),
            },
        )),
        _ => Err(format!("expected {TASK_DEFINITION}.NAME")),
    }
}

/// Picks the instance with `key` among `instances` (`None`: no count/for_each).
fn pick(
    instances: Option<Vec<Iteration>>,
    key: Option<&Value>,
    base: &str,
    locate: &dyn Fn(String, String) -> Problem,
) -> Result<Iteration, Problem> {
    match (instances, key) {
        (None, None) => Ok(Iteration::None),
        (None, Some(k)) => Err(locate(
            format!(
                "{base} has no count or for_each, so it has no instance {}",
                key_suffix(k)
            ),
            format!("name it without a key: {base}"),
        )),
        (Some(list), Some(k)) => {
            let listing = list_addresses(base, &list);
            list.into_iter()
                .find(|it| iteration_matches(it, k))
                .ok_or_else(|| {
                    locate(
                        format!(
                            "{base} has no instance {}; it has: {listing}",
                            key_suffix(k)
                        ),
                        String::new(),
                    )
                })
        }
        (Some(mut list), None) => match list.len() {
            1 => Ok(list.remove(0)),
            0 => Err(locate(
                format!("{base} has no instances (its count or for_each is empty)"),
                String::new(),
            )),
            n => Err(locate(
                format!("{base} has {n} instances: {}", list_addresses(base, &list)),
                format!("name one of them, e.g. {base}{}", list[0].address_suffix()),
            )),
        },
    }
}

fn list_addresses(base: &str, list: &[Iteration]) -> String {
    if list.is_empty() {
        return "none".to_owned();
    }
    list.iter()
        .map(|it| format!("{base}{}", it.address_suffix()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn failure_problems(f: Failure) -> Vec<Problem> {
    f.problems
}

/// Chooses the task definition instance.
pub(crate) fn select(
    ev: &mut Evaluator,
    wanted: Option<&str>,
    root_display: &str,
    in_file: Option<&str>,
) -> Result<Target, Vec<Problem>> {
    match wanted {
        Some(text) => select_named(ev, text, root_display),
        None => select_only(ev, root_display, in_file),
    }
}

fn general(root_display: &str, expression: &str, message: String, hint: String) -> Problem {
    Problem {
        file: root_display.to_owned(),
        line: None,
        expression: expression.to_owned(),
        message,
        hint,
    }
}

fn select_named(
    ev: &mut Evaluator,
    text: &str,
    root_display: &str,
) -> Result<Target, Vec<Problem>> {
    let (modules, resource) = parse_address(text).map_err(|m| {
        vec![general(
            root_display,
            text,
            format!("not a resource address: {m}"),
            format!("write it as {TASK_DEFINITION}.NAME, {TASK_DEFINITION}.NAME[\"KEY\"] or module.M.{TASK_DEFINITION}.NAME"),
        )]
    })?;
    let mut inst = 0;
    for step in &modules {
        let module = ev.insts[inst].module.clone();
        let base = format!("{}module.{}", prefix(&ev.insts[inst].address), step.name);
        let Some(call) = module.calls.get(&step.name) else {
            let known: Vec<&str> = module.calls.keys().map(String::as_str).collect();
            return Err(vec![general(
                &module.display_dir,
                text,
                format!(
                    "there is no module \"{}\" in {}",
                    step.name, module.display_dir
                ),
                if known.is_empty() {
                    String::new()
                } else {
                    format!("its modules: {}", known.join(", "))
                },
            )]);
        };
        let instances = ev
            .expand(
                inst,
                call.count.as_ref(),
                call.for_each.as_ref(),
                &Iteration::None,
            )
            .map_err(failure_problems)?;
        let locate = |m: String, h: String| call.file.problem(call.span.clone(), m, h);
        let iteration = pick(instances, step.key.as_ref(), &base, &locate).map_err(|p| vec![p])?;
        inst = ev
            .instantiate(inst, &step.name, call, iteration)
            .map_err(failure_problems)?;
    }
    let module = ev.insts[inst].module.clone();
    let base = format!(
        "{}{TASK_DEFINITION}.{}",
        prefix(&ev.insts[inst].address),
        resource.name
    );
    let Some(decl) = module
        .resources
        .get(&(
            Mode::Managed,
            TASK_DEFINITION.to_owned(),
            resource.name.clone(),
        ))
        .cloned()
    else {
        let known = task_definitions(&module);
        return Err(vec![general(
            &module.display_dir,
            text,
            format!("{base} is not declared in {}", module.display_dir),
            match (known.is_empty(), module.json_files.is_empty()) {
                (false, _) => format!("its task definitions: {}", known.join(", ")),
                (true, false) => format!(
                    "ecs-env does not read JSON-syntax files ({})",
                    module.json_files.join(", ")
                ),
                (true, true) => String::new(),
            },
        )]);
    };
    let instances = ev
        .expand(
            inst,
            decl.count.as_ref(),
            decl.for_each.as_ref(),
            &Iteration::None,
        )
        .map_err(failure_problems)?;
    let locate = |m: String, h: String| decl.file.problem(decl.span.clone(), m, h);
    let iteration = pick(instances, resource.key.as_ref(), &base, &locate).map_err(|p| vec![p])?;
    Ok(Target {
        inst,
        address: format!("{base}{}", iteration.address_suffix()),
        decl,
        iteration,
    })
}

fn task_definitions(module: &Module) -> Vec<String> {
    module
        .resources
        .keys()
        .filter(|(mode, t, _)| *mode == Mode::Managed && t == TASK_DEFINITION)
        .map(|(_, _, n)| format!("{TASK_DEFINITION}.{n}"))
        .collect()
}

/// Whether a module, or a module it calls on disk, declares a task definition. Unreachable
/// sources count as "no": they are reported only when nothing is found at all.
fn contains_task_definition(
    ev: &mut Evaluator,
    module: &Arc<Module>,
    manifest_key: &str,
    depth: usize,
) -> bool {
    if !task_definitions(module).is_empty() {
        return true;
    }
    if depth > 32 {
        return false;
    }
    for (name, call) in &module.calls {
        let key = if manifest_key.is_empty() {
            name.clone()
        } else {
            format!("{manifest_key}.{name}")
        };
        let Ok((dir, display, _)) = ev.locate(module, ".", name, call, &key) else {
            continue;
        };
        // A module that does not parse is reported when (and if) it is instantiated.
        let Ok(child) = ev.load(&dir, &display) else {
            return true;
        };
        if contains_task_definition(ev, &child, &key, depth + 1) {
            return true;
        }
    }
    false
}

/// Gathers every task definition instance reachable from module instance `inst`.
fn gather(
    ev: &mut Evaluator,
    inst: usize,
    in_file: Option<&str>,
    found: &mut Vec<Target>,
    unreachable: &mut Vec<Problem>,
    problems: &mut Vec<Problem>,
) {
    let module = ev.insts[inst].module.clone();
    for ((mode, rtype, name), decl) in &module.resources {
        if *mode != Mode::Managed
            || rtype != TASK_DEFINITION
            || in_file.is_some_and(|f| decl.file.display != f)
        {
            continue;
        }
        let base = format!(
            "{}{TASK_DEFINITION}.{name}",
            prefix(&ev.insts[inst].address)
        );
        match ev.expand(
            inst,
            decl.count.as_ref(),
            decl.for_each.as_ref(),
            &Iteration::None,
        ) {
            Ok(None) => found.push(Target {
                inst,
                decl: decl.clone(),
                iteration: Iteration::None,
                address: base,
            }),
            Ok(Some(list)) => {
                for iteration in list {
                    found.push(Target {
                        inst,
                        decl: decl.clone(),
                        address: format!("{base}{}", iteration.address_suffix()),
                        iteration,
                    });
                }
            }
            Err(f) => problems.extend(f.problems),
        }
    }
    for (name, call) in &module.calls {
        if in_file.is_some_and(|f| call.file.display != f) {
            continue;
        }
        let key = if ev.insts[inst].manifest_key.is_empty() {
            name.clone()
        } else {
            format!("{}.{name}", ev.insts[inst].manifest_key)
        };
        let path_module = ".";
        let child = match ev.locate(&module, path_module, name, call, &key) {
            Ok((dir, display, _)) => ev.load(&dir, &display),
            Err(f) => {
                unreachable.extend(f.problems);
                continue;
            }
        };
        let child = match child {
            Ok(child) => child,
            Err(f) => {
                problems.extend(f.problems);
                continue;
            }
        };
        if !contains_task_definition(ev, &child, &key, 0) {
            continue;
        }
        let instances = match ev.expand(
            inst,
            call.count.as_ref(),
            call.for_each.as_ref(),
            &Iteration::None,
        ) {
            Ok(None) => vec![Iteration::None],
            Ok(Some(list)) => list,
            Err(f) => {
                problems.extend(f.problems);
                continue;
            }
        };
        for iteration in instances {
            match ev.instantiate(inst, name, call, iteration) {
                Ok(child_inst) => gather(ev, child_inst, None, found, unreachable, problems),
                Err(f) => problems.extend(f.problems),
            }
        }
    }
}

/// The only task definition instance: in the root module and the modules it calls, or, with
/// `in_file` (a `.tf` file given for its directory), in what that file declares and calls.
fn select_only(
    ev: &mut Evaluator,
    root_display: &str,
    in_file: Option<&str>,
) -> Result<Target, Vec<Problem>> {
    let mut found = Vec::new();
    let mut unreachable = Vec::new();
    let mut problems = Vec::new();
    gather(ev, 0, in_file, &mut found, &mut unreachable, &mut problems);
    if !problems.is_empty() {
        return Err(problems);
    }
    match found.len() {
        1 => Ok(found.remove(0)),
        0 if !unreachable.is_empty() => Err(unreachable),
        0 => {
            let json = &ev.insts[0].module.json_files;
            let place = in_file.unwrap_or(root_display);
            Err(vec![general(
                place,
                "",
                format!("no {TASK_DEFINITION} resource in {place} or the local modules it calls"),
                if json.is_empty() {
                    String::new()
                } else {
                    format!(
                        "ecs-env does not read JSON-syntax files ({})",
                        json.join(", ")
                    )
                },
            )])
        }
        n => {
            let addresses: Vec<&str> = found.iter().map(|t| t.address.as_str()).collect();
            let hint = format!("name one of them, e.g. {}", addresses[0]);
            let first = &found[0];
            let same_block = found.iter().all(|t| {
                t.inst == first.inst
                    && Arc::ptr_eq(&t.decl.file, &first.decl.file)
                    && t.decl.span == first.decl.span
            });
            Err(vec![if same_block {
                // One resource with several instances: point at its block.
                let base = first.address
                    [..first.address.len() - first.iteration.address_suffix().len()]
                    .to_owned();
                let message = format!("{base} has {n} instances: {}", addresses.join(", "));
                let mut p = first
                    .decl
                    .file
                    .problem(first.decl.span.clone(), message, hint);
                p.expression = base;
                p
            } else {
                general(
                    root_display,
                    "",
                    format!("{n} task definitions: {}", addresses.join(", ")),
                    hint,
                )
            }])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        let (m, r) = parse_address("module.svc[\"a.b\"].aws_ecs_task_definition.this[0]").unwrap();
        assert_eq!(
            m,
            vec![Step {
                name: "svc".into(),
                key: Some(Value::String("a.b".into()))
            }]
        );
        assert_eq!(
            r,
            Step {
                name: "this".into(),
                key: Some(Value::Number(0.0))
            }
        );
        let (m, r) = parse_address("app").unwrap();
        assert!(m.is_empty());
        assert_eq!(r.name, "app");
        assert!(parse_address("aws_ecs_service.app").is_err());
        assert!(parse_address("aws_ecs_task_definition.app[").is_err());
        assert!(parse_address("aws_ecs_task_definition.").is_err());
    }
}
