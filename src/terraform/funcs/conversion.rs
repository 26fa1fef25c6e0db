//! Type conversion functions, and the ones about sensitivity, which ecs-env does not track
//! (it never prints a value it reads from a configuration as anything but the environment).

use super::{Func, Ret, err, unify};
use crate::terraform::value::{Value, make_set, parse_number};

pub(super) const FUNCS: &[Func] = &[
    Func::pure("ephemeralasnull", 1, 1, same).passes_unknown_except(&[]),
    Func::pure("issensitive", 1, 1, issensitive),
    Func::pure("nonsensitive", 1, 1, same).passes_unknown_except(&[]),
    Func::pure("sensitive", 1, 1, same).passes_unknown_except(&[]),
    Func::pure("tobool", 1, 1, tobool),
    Func::pure("tolist", 1, 1, tolist).passes_unknown_except(&[]),
    Func::pure("tomap", 1, 1, tomap).passes_unknown_except(&[]),
    Func::pure("tonumber", 1, 1, tonumber),
    Func::pure("toset", 1, 1, toset),
    Func::pure("tostring", 1, 1, tostring).passes_unknown_except(&[]),
];

fn same(a: &[Value]) -> Ret {
    Ok(a[0].clone())
}

/// Nothing is sensitive to ecs-env: Terraform would say whether `sensitive()` or a sensitive
/// variable marked it, which ecs-env does not follow. Not guessed.
fn issensitive(_: &[Value]) -> Ret {
    Err(super::FnError {
        message: "ecs-env does not track which values are sensitive".to_owned(),
        hint: String::new(),
        fatal: true,
        unknown: true,
        nested: Vec::new(),
    })
}

fn cannot(v: &Value, to: &str) -> Ret {
    err(format!("cannot convert {} to {to}", v.type_name()))
}

fn tostring(a: &[Value]) -> Ret {
    match &a[0] {
        Value::Null => Ok(Value::Null),
        v => v
            .to_str()
            .map(Value::String)
            .map_or_else(|| cannot(v, "string"), Ok),
    }
}

fn tonumber(a: &[Value]) -> Ret {
    match &a[0] {
        Value::Null => Ok(Value::Null),
        Value::Number(n) => Ok(Value::Number(*n)),
        Value::String(t) => match parse_number(t) {
            Some(n) => Ok(Value::Number(n)),
            None => err(
                "cannot convert the string to number; given string must be a decimal representation of a number",
            ),
        },
        v => cannot(v, "number"),
    }
}

fn tobool(a: &[Value]) -> Ret {
    match &a[0] {
        Value::Null => Ok(Value::Null),
        Value::Bool(b) => Ok(Value::Bool(*b)),
        Value::String(t) => match t.as_str() {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            _ => err(
                "cannot convert the string to bool; only the strings \"true\" or \"false\" are allowed",
            ),
        },
        v => cannot(v, "bool"),
    }
}

fn tolist(a: &[Value]) -> Ret {
    match &a[0] {
        Value::Null => Ok(Value::Null),
        Value::List(items) | Value::Set(items) => Ok(Value::List(unify(items.clone()))),
        v => cannot(v, "list of any single type"),
    }
}

fn toset(a: &[Value]) -> Ret {
    match &a[0] {
        Value::Null => Ok(Value::Null),
        Value::List(items) | Value::Set(items) => Ok(make_set(unify(items.clone()))),
        v => cannot(v, "set of any single type"),
    }
}

fn tomap(a: &[Value]) -> Ret {
    match &a[0] {
        Value::Null => Ok(Value::Null),
        Value::Object(map) => {
            let keys: Vec<String> = map.keys().cloned().collect();
            let values = unify(map.values().cloned().collect());
            Ok(Value::Object(keys.into_iter().zip(values).collect()))
        }
        v => cannot(v, "map of any single type"),
    }
}
