//! Terraform's built-in functions, the subset that task definitions use.
//!
//! Each behaves as Terraform's does for the arguments it accepts; an argument Terraform
//! would reject is an error here too. A function not in [`KNOWN`] is a problem naming it,
//! never a guess. `try` and `can` are listed but evaluated by the evaluator, which sees
//! their arguments unevaluated.

use std::collections::BTreeMap;

use super::Problem;
use super::eval::Evaluator;
use super::value::{Value, format_number, make_set, quote_json};

/// Why a function call failed.
#[derive(Debug)]
pub(crate) struct FnError {
    /// What is wrong with the call (prefixed with the function's name by the caller).
    pub(crate) message: String,
    /// What would fix it; may be empty.
    pub(crate) hint: String,
    /// Not a dynamic error but something ecs-env cannot evaluate: `try()` must not hide it.
    pub(crate) fatal: bool,
    /// Problems found inside a template file, reported as they are (they name the
    /// template's own file and line) instead of `message`.
    pub(crate) nested: Vec<Problem>,
}

/// A dynamic error with a message.
fn err<T>(message: impl Into<String>) -> Result<T, FnError> {
    Err(FnError {
        message: message.into(),
        hint: String::new(),
        fatal: false,
        nested: Vec::new(),
    })
}

/// The functions ecs-env evaluates.
pub(crate) const KNOWN: &[&str] = &[
    "abs",
    "base64decode",
    "base64encode",
    "basename",
    "can",
    "ceil",
    "chomp",
    "coalesce",
    "coalescelist",
    "compact",
    "concat",
    "contains",
    "dirname",
    "distinct",
    "element",
    "endswith",
    "file",
    "fileexists",
    "flatten",
    "floor",
    "format",
    "indent",
    "index",
    "join",
    "jsondecode",
    "jsonencode",
    "keys",
    "length",
    "lookup",
    "lower",
    "max",
    "merge",
    "min",
    "nonsensitive",
    "one",
    "range",
    "replace",
    "reverse",
    "sensitive",
    "setunion",
    "slice",
    "sort",
    "split",
    "startswith",
    "strcontains",
    "substr",
    "sum",
    "templatefile",
    "tobool",
    "tolist",
    "tomap",
    "tonumber",
    "toset",
    "tostring",
    "trim",
    "trimprefix",
    "trimspace",
    "trimsuffix",
    "try",
    "upper",
    "values",
    "zipmap",
];

/// Whether ecs-env evaluates the function `name`.
pub(crate) fn is_known(name: &str) -> bool {
    KNOWN.contains(&name)
}

/// Checks the argument count.
fn arity(args: &[Value], min: usize, max: usize) -> Result<(), FnError> {
    if args.len() < min || args.len() > max {
        let want = if min == max {
            format!("{min}")
        } else if max == usize::MAX {
            format!("at least {min}")
        } else {
            format!("{min} to {max}")
        };
        return err(format!("takes {want} arguments, got {}", args.len()));
    }
    Ok(())
}

/// An argument converted to a string.
fn string(v: &Value, what: &str) -> Result<String, FnError> {
    v.to_str().ok_or_else(|| FnError {
        message: format!("{what} must be a string, not a {}", v.type_name()),
        hint: String::new(),
        fatal: false,
        nested: Vec::new(),
    })
}

/// An argument converted to a number.
fn number(v: &Value, what: &str) -> Result<f64, FnError> {
    v.to_number().ok_or_else(|| FnError {
        message: format!("{what} must be a number, not a {}", v.type_name()),
        hint: String::new(),
        fatal: false,
        nested: Vec::new(),
    })
}

/// An argument converted to a whole number.
fn whole(v: &Value, what: &str) -> Result<i64, FnError> {
    let n = number(v, what)?;
    if n.fract() != 0.0 {
        return err(format!("{what} must be a whole number"));
    }
    Ok(n as i64)
}

/// An argument that must be a list or a set.
fn list<'a>(v: &'a Value, what: &str) -> Result<&'a [Value], FnError> {
    v.elements().ok_or_else(|| FnError {
        message: format!("{what} must be a list, not a {}", v.type_name()),
        hint: String::new(),
        fatal: false,
        nested: Vec::new(),
    })
}

/// An argument that must be a map or an object.
fn object<'a>(v: &'a Value, what: &str) -> Result<&'a BTreeMap<String, Value>, FnError> {
    match v {
        Value::Object(map) => Ok(map),
        other => err(format!(
            "{what} must be a map or object, not a {}",
            other.type_name()
        )),
    }
}

/// Terraform converts the elements of a collection to one type; for mixed primitives that
/// type is string (`toset(["a", 1])` is `["1", "a"]`).
fn unify(items: Vec<Value>) -> Vec<Value> {
    let has_string = items.iter().any(|v| matches!(v, Value::String(_)));
    let mixed = items
        .iter()
        .any(|v| matches!(v, Value::Number(_) | Value::Bool(_)));
    if has_string && mixed {
        items
            .into_iter()
            .map(|v| match v.to_str() {
                Some(s) => Value::String(s),
                None => v,
            })
            .collect()
    } else {
        items
    }
}

/// Calls a known function other than `try`/`can`.
pub(crate) fn call(ev: &mut Evaluator, name: &str, args: Vec<Value>) -> Result<Value, FnError> {
    let a = &args;
    match name {
        "jsonencode" => {
            arity(a, 1, 1)?;
            a[0].to_json().map(Value::String).or_else(err)
        }
        "jsondecode" => {
            arity(a, 1, 1)?;
            let text = string(&a[0], "the argument")?;
            match serde_json::from_str::<serde_json::Value>(&text) {
                Ok(json) => Ok(Value::from_json(&json)),
                Err(e) => err(format!(
                    "the string is not valid JSON: {}",
                    crate::diagnostic::json_error(&e)
                )),
            }
        }
        "file" | "fileexists" | "templatefile" => files(ev, name, a),
        "format" => {
            arity(a, 1, usize::MAX)?;
            let spec = string(&a[0], "the format")?;
            format(&spec, &a[1..]).map(Value::String)
        }
        "join" => {
            arity(a, 2, usize::MAX)?;
            let sep = string(&a[0], "the separator")?;
            let mut parts = Vec::new();
            for l in &a[1..] {
                for item in list(l, "each list")? {
                    parts.push(string(item, "each element")?);
                }
            }
            Ok(Value::String(parts.join(&sep)))
        }
        "split" => {
            arity(a, 2, 2)?;
            let sep = string(&a[0], "the separator")?;
            let s = string(&a[1], "the string")?;
            let parts: Vec<Value> = if sep.is_empty() {
                s.chars().map(|c| Value::String(c.to_string())).collect()
            } else {
                s.split(sep.as_str())
                    .map(|p| Value::String(p.to_owned()))
                    .collect()
            };
            Ok(Value::List(parts))
        }
        "concat" => {
            let mut out = Vec::new();
            for l in a {
                out.extend(list(l, "each argument")?.iter().cloned());
            }
            Ok(Value::List(out))
        }
        "merge" => {
            let mut out = BTreeMap::new();
            for m in a {
                if *m == Value::Null {
                    continue;
                }
                out.extend(object(m, "each argument")?.clone());
            }
            Ok(Value::Object(out))
        }
        "lookup" => {
            arity(a, 2, 3)?;
            let map = object(&a[0], "the first argument")?;
            let key = string(&a[1], "the key")?;
            match (map.get(&key), a.get(2)) {
                (Some(v), _) => Ok(v.clone()),
                (None, Some(default)) => Ok(default.clone()),
                (None, None) => err(format!(
                    "the map has no key \"{key}\" and no default was given"
                )),
            }
        }
        "tostring" => {
            arity(a, 1, 1)?;
            match &a[0] {
                Value::Null => Ok(Value::Null),
                v => string(v, "the argument").map(Value::String),
            }
        }
        "tonumber" => {
            arity(a, 1, 1)?;
            match &a[0] {
                Value::Null => Ok(Value::Null),
                v => number(v, "the argument").map(Value::Number),
            }
        }
        "tobool" => {
            arity(a, 1, 1)?;
            match &a[0] {
                Value::Null => Ok(Value::Null),
                v => v
                    .to_bool()
                    .map(Value::Bool)
                    .ok_or(())
                    .or_else(|_| err(format!("a {} cannot become a bool", v.type_name()))),
            }
        }
        "tolist" => {
            arity(a, 1, 1)?;
            Ok(Value::List(unify(list(&a[0], "the argument")?.to_vec())))
        }
        "toset" => {
            arity(a, 1, 1)?;
            Ok(make_set(unify(list(&a[0], "the argument")?.to_vec())))
        }
        "tomap" => {
            arity(a, 1, 1)?;
            let map = object(&a[0], "the argument")?;
            let keys: Vec<String> = map.keys().cloned().collect();
            let values = unify(map.values().cloned().collect());
            Ok(Value::Object(keys.into_iter().zip(values).collect()))
        }
        "replace" => {
            arity(a, 3, 3)?;
            let s = string(&a[0], "the string")?;
            let from = string(&a[1], "the substring")?;
            let to = string(&a[2], "the replacement")?;
            if from.len() >= 2 && from.starts_with('/') && from.ends_with('/') {
                return Err(FnError {
                    message: "a regular-expression replacement (/.../) is not supported".to_owned(),
                    hint: "render the configuration with Terraform (terraform show -json) instead"
                        .to_owned(),
                    fatal: true,
                    nested: Vec::new(),
                });
            }
            if from.is_empty() {
                return err("the substring must not be empty");
            }
            Ok(Value::String(s.replace(&from, &to)))
        }
        // Lexical, as Go's filepath.Base and filepath.Dir (what Terraform calls).
        "basename" | "dirname" => {
            arity(a, 1, 1)?;
            let s = string(&a[0], "the path")?;
            Ok(Value::String(match name {
                "basename" => basename(&s),
                _ => dirname(&s),
            }))
        }
        "lower" | "upper" | "trimspace" | "chomp" => {
            arity(a, 1, 1)?;
            let s = string(&a[0], "the argument")?;
            Ok(Value::String(match name {
                "lower" => s.to_lowercase(),
                "upper" => s.to_uppercase(),
                "trimspace" => s.trim().to_owned(),
                _ => s.trim_end_matches(['\n', '\r']).to_owned(),
            }))
        }
        "trim" | "trimprefix" | "trimsuffix" | "startswith" | "endswith" | "strcontains" => {
            arity(a, 2, 2)?;
            let s = string(&a[0], "the string")?;
            let t = string(&a[1], "the second argument")?;
            Ok(match name {
                "trim" => Value::String(s.trim_matches(|c| t.contains(c)).to_owned()),
                "trimprefix" => Value::String(s.strip_prefix(t.as_str()).unwrap_or(&s).to_owned()),
                "trimsuffix" => Value::String(s.strip_suffix(t.as_str()).unwrap_or(&s).to_owned()),
                "startswith" => Value::Bool(s.starts_with(t.as_str())),
                "endswith" => Value::Bool(s.ends_with(t.as_str())),
                _ => Value::Bool(s.contains(t.as_str())),
            })
        }
        "substr" => {
            arity(a, 3, 3)?;
            let chars: Vec<char> = string(&a[0], "the string")?.chars().collect();
            let len = chars.len() as i64;
            let mut offset = whole(&a[1], "the offset")?;
            let length = whole(&a[2], "the length")?;
            if offset < 0 {
                offset += len;
            }
            let start = offset.clamp(0, len) as usize;
            let end = if length < 0 {
                len
            } else {
                (offset + length).clamp(0, len)
            } as usize;
            Ok(Value::String(chars[start..end.max(start)].iter().collect()))
        }
        "indent" => {
            arity(a, 2, 2)?;
            let n = whole(&a[0], "the number of spaces")?.max(0) as usize;
            let s = string(&a[1], "the string")?;
            Ok(Value::String(
                s.replace('\n', &format!("\n{}", " ".repeat(n))),
            ))
        }
        "length" => {
            arity(a, 1, 1)?;
            match &a[0] {
                Value::String(s) => Ok(Value::Number(s.chars().count() as f64)),
                Value::List(items) | Value::Set(items) => Ok(Value::Number(items.len() as f64)),
                Value::Object(map) => Ok(Value::Number(map.len() as f64)),
                other => err(format!("a {} has no length", other.type_name())),
            }
        }
        "coalesce" => {
            for v in unify(a.clone()) {
                match &v {
                    Value::Null => {}
                    Value::String(s) if s.is_empty() => {}
                    _ => return Ok(v),
                }
            }
            err("all arguments are null or empty strings")
        }
        "coalescelist" => {
            for v in a {
                if !list(v, "each argument")?.is_empty() {
                    return Ok(v.clone());
                }
            }
            Ok(Value::List(Vec::new()))
        }
        "keys" | "values" => {
            arity(a, 1, 1)?;
            let map = object(&a[0], "the argument")?;
            Ok(Value::List(if name == "keys" {
                map.keys().map(|k| Value::String(k.clone())).collect()
            } else {
                map.values().cloned().collect()
            }))
        }
        "contains" => {
            arity(a, 2, 2)?;
            Ok(Value::Bool(
                list(&a[0], "the first argument")?.contains(&a[1]),
            ))
        }
        "index" => {
            arity(a, 2, 2)?;
            match list(&a[0], "the first argument")?
                .iter()
                .position(|v| *v == a[1])
            {
                Some(i) => Ok(Value::Number(i as f64)),
                None => err("the value is not in the list"),
            }
        }
        "element" => {
            arity(a, 2, 2)?;
            let items = list(&a[0], "the first argument")?;
            let i = whole(&a[1], "the index")?;
            if items.is_empty() {
                return err("cannot take an element of an empty list");
            }
            if i < 0 {
                return err("the index must not be negative");
            }
            Ok(items[(i as usize) % items.len()].clone())
        }
        "flatten" => {
            arity(a, 1, 1)?;
            fn flat(items: &[Value], out: &mut Vec<Value>) {
                for v in items {
                    match v.elements() {
                        Some(inner) => flat(inner, out),
                        None => out.push(v.clone()),
                    }
                }
            }
            let mut out = Vec::new();
            flat(list(&a[0], "the argument")?, &mut out);
            Ok(Value::List(out))
        }
        "zipmap" => {
            arity(a, 2, 2)?;
            let keys = list(&a[0], "the keys")?;
            let values = list(&a[1], "the values")?;
            if keys.len() != values.len() {
                return err(format!("{} keys but {} values", keys.len(), values.len()));
            }
            let mut out = BTreeMap::new();
            for (k, v) in keys.iter().zip(values) {
                out.insert(string(k, "each key")?, v.clone());
            }
            Ok(Value::Object(out))
        }
        "compact" => {
            arity(a, 1, 1)?;
            Ok(Value::List(
                list(&a[0], "the argument")?
                    .iter()
                    .filter(|v| !matches!(v, Value::Null) && v.to_str().as_deref() != Some(""))
                    .cloned()
                    .collect(),
            ))
        }
        "distinct" => {
            arity(a, 1, 1)?;
            let mut out: Vec<Value> = Vec::new();
            for v in list(&a[0], "the argument")? {
                if !out.contains(v) {
                    out.push(v.clone());
                }
            }
            Ok(Value::List(out))
        }
        "setunion" => {
            let mut out = Vec::new();
            for l in a {
                out.extend(list(l, "each argument")?.iter().cloned());
            }
            Ok(make_set(unify(out)))
        }
        "reverse" => {
            arity(a, 1, 1)?;
            let mut items = list(&a[0], "the argument")?.to_vec();
            items.reverse();
            Ok(Value::List(items))
        }
        "sort" => {
            arity(a, 1, 1)?;
            let mut items = list(&a[0], "the argument")?
                .iter()
                .map(|v| string(v, "each element"))
                .collect::<Result<Vec<_>, _>>()?;
            items.sort();
            Ok(Value::List(items.into_iter().map(Value::String).collect()))
        }
        "slice" => {
            arity(a, 3, 3)?;
            let items = list(&a[0], "the list")?;
            let start = whole(&a[1], "the start index")?;
            let end = whole(&a[2], "the end index")?;
            if start < 0 || end < start || end as usize > items.len() {
                return err(format!(
                    "indexes {start} to {end} do not fit a list of {}",
                    items.len()
                ));
            }
            Ok(Value::List(items[start as usize..end as usize].to_vec()))
        }
        "range" => {
            arity(a, 1, 3)?;
            let n: Vec<f64> = a
                .iter()
                .map(|v| number(v, "each argument"))
                .collect::<Result<_, _>>()?;
            let (start, end, step) = match n.as_slice() {
                [end] => (0.0, *end, 1.0),
                [start, end] => (*start, *end, if end >= start { 1.0 } else { -1.0 }),
                [start, end, step] => (*start, *end, *step),
                _ => unreachable!("arity checked"),
            };
            if step == 0.0 || ((step > 0.0) != (end >= start) && start != end) {
                return err("the step does not move from the start towards the end");
            }
            let mut out = Vec::new();
            let mut x = start;
            while (step > 0.0 && x < end) || (step < 0.0 && x > end) {
                out.push(Value::Number(x));
                x += step;
                if out.len() > 1024 {
                    return err("more than 1024 elements");
                }
            }
            Ok(Value::List(out))
        }
        "max" | "min" | "sum" => {
            let items: Vec<Value> = if name == "sum" {
                arity(a, 1, 1)?;
                list(&a[0], "the argument")?.to_vec()
            } else {
                arity(a, 1, usize::MAX)?;
                a.clone()
            };
            let nums: Vec<f64> = items
                .iter()
                .map(|v| number(v, "each argument"))
                .collect::<Result<_, _>>()?;
            if nums.is_empty() {
                return err("needs at least one number");
            }
            Ok(Value::Number(match name {
                "max" => nums.iter().copied().fold(f64::MIN, f64::max),
                "min" => nums.iter().copied().fold(f64::MAX, f64::min),
                _ => nums.iter().sum(),
            }))
        }
        "abs" | "ceil" | "floor" => {
            arity(a, 1, 1)?;
            let n = number(&a[0], "the argument")?;
            Ok(Value::Number(match name {
                "abs" => n.abs(),
                "ceil" => n.ceil(),
                _ => n.floor(),
            }))
        }
        "one" => {
            arity(a, 1, 1)?;
            match list(&a[0], "the argument")? {
                [] => Ok(Value::Null),
                [v] => Ok(v.clone()),
                more => err(format!(
                    "the list has {} elements; one() needs 0 or 1",
                    more.len()
                )),
            }
        }
        "sensitive" | "nonsensitive" => {
            arity(a, 1, 1)?;
            Ok(a[0].clone())
        }
        "base64encode" => {
            arity(a, 1, 1)?;
            Ok(Value::String(crate::base64::encode(
                string(&a[0], "the argument")?.as_bytes(),
            )))
        }
        "base64decode" => {
            arity(a, 1, 1)?;
            let bytes = crate::base64::decode(&string(&a[0], "the argument")?)
                .ok_or(())
                .or_else(|_| err("the string is not valid base64"))?;
            String::from_utf8(bytes)
                .map(Value::String)
                .or_else(|_| err("the decoded bytes are not UTF-8"))
        }
        other => Err(FnError {
            message: format!("function `{other}` is not supported"),
            hint: String::new(),
            fatal: true,
            nested: Vec::new(),
        }),
    }
}

/// `file`, `fileexists`, `templatefile`: paths relative to the directory Terraform runs in
/// (the root module), which is why modules write `"${path.module}/x.json"`. Confined to the
/// configuration's own directories (`files`): a refusal names the path as written and never
/// quotes the file.
fn files(ev: &mut Evaluator, name: &str, a: &[Value]) -> Result<Value, FnError> {
    let path = match a.first() {
        Some(v) => string(v, "the path")?,
        None => return err("takes a path"),
    };
    let resolved = ev.resolve_path(&path);
    let refused = |r: super::files::Refusal| FnError {
        message: format!("{path}: {}", r.message()),
        hint: r.hint().to_owned(),
        fatal: !matches!(
            r,
            super::files::Refusal::Io(_) | super::files::Refusal::NotText
        ),
        nested: Vec::new(),
    };
    if name == "fileexists" {
        arity(a, 1, 1)?;
        return ev.files.exists(&resolved).map(Value::Bool).map_err(refused);
    }
    arity(
        a,
        if name == "file" { 1 } else { 2 },
        if name == "file" { 1 } else { 2 },
    )?;
    let text = ev.files.read(&resolved).map_err(refused)?;
    if name == "file" {
        return Ok(Value::String(text));
    }
    let vars = object(&a[1], "the variables")?.clone();
    if let Some(bad) = vars.keys().find(|k| !is_identifier(k)) {
        return err(format!("\"{bad}\" is not a valid template variable name"));
    }
    let display = ev.display_path(&path);
    // A problem inside the template names the template file, so it is reported as is.
    ev.render_template_file(display, text, vars)
        .map_err(|f| FnError {
            message: String::new(),
            hint: String::new(),
            fatal: f.fatal,
            nested: f.problems,
        })
}

/// Whether a `templatefile` variable name is a valid HCL identifier.
fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || c == '_' || c == '-')
}

/// `format()`: the verbs `%s %d %f %t %q %v %%`, with flags `-` and `0`, a width, a
/// precision, and `%[N]` argument indexes.
fn format(spec: &str, args: &[Value]) -> Result<String, FnError> {
    let mut out = String::new();
    let mut chars = spec.chars().peekable();
    let mut next_arg = 0usize;
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        if chars.peek() == Some(&'%') {
            chars.next();
            out.push('%');
            continue;
        }
        let (mut left, mut zero) = (false, false);
        while let Some(&f) = chars.peek() {
            match f {
                '-' => left = true,
                '0' => zero = true,
                '+' | ' ' | '#' => {}
                _ => break,
            }
            chars.next();
        }
        if chars.peek() == Some(&'[') {
            chars.next();
            let digits: String = chars.by_ref().take_while(|c| *c != ']').collect();
            match digits.parse::<usize>() {
                Ok(n) if n >= 1 => next_arg = n - 1,
                _ => return err(format!("invalid argument index [{digits}]")),
            }
        }
        let mut width = String::new();
        while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit()) {
            width.push(d);
            chars.next();
        }
        let mut precision: Option<usize> = None;
        if chars.peek() == Some(&'.') {
            chars.next();
            let mut p = String::new();
            while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                p.push(d);
                chars.next();
            }
            precision = Some(p.parse().unwrap_or(0));
        }
        let Some(verb) = chars.next() else {
            return err("the format ends in the middle of a verb");
        };
        let Some(arg) = args.get(next_arg) else {
            return err(format!(
                "not enough arguments for the format (verb %{verb})"
            ));
        };
        next_arg += 1;
        let text = match verb {
            's' => match arg {
                Value::Null => return err("%s cannot format null"),
                v => string(v, "the argument for %s")?,
            },
            'd' => {
                let n = number(arg, "the argument for %d")?;
                if n.fract() != 0.0 {
                    return err("%d needs a whole number");
                }
                format_number(n)
            }
            'f' => format!(
                "{:.*}",
                precision.unwrap_or(6),
                number(arg, "the argument for %f")?
            ),
            't' => match arg.to_bool() {
                Some(b) => b.to_string(),
                None => return err("%t needs a bool"),
            },
            'q' => {
                let mut q = String::new();
                quote_json(&string(arg, "the argument for %q")?, &mut q);
                q
            }
            'v' => match arg {
                Value::String(s) => s.clone(),
                Value::List(_) | Value::Set(_) | Value::Object(_) | Value::Null => {
                    arg.to_json().or_else(err)?
                }
                other => other.to_str().unwrap_or_default(),
            },
            other => return err(format!("the verb %{other} is not supported")),
        };
        let text = match (verb, precision) {
            ('s' | 'q' | 'v', Some(p)) => text.chars().take(p).collect(),
            _ => text,
        };
        let width: usize = width.parse().unwrap_or(0);
        let pad = width.saturating_sub(text.chars().count());
        if left {
            out.push_str(&text);
            out.push_str(&" ".repeat(pad));
        } else if zero && matches!(verb, 'd' | 'f') {
            let (sign, digits) = match text.strip_prefix('-') {
                Some(rest) => ("-", rest),
                None => ("", text.as_str()),
            };
            out.push_str(sign);
            out.push_str(&"0".repeat(pad));
            out.push_str(digits);
        } else {
            out.push_str(&" ".repeat(pad));
            out.push_str(&text);
        }
    }
    Ok(out)
}

/// Go's `filepath.Base` on Unix paths: the last element, trailing slashes ignored.
fn basename(path: &str) -> String {
    if path.is_empty() {
        return ".".to_owned();
    }
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        return "/".to_owned();
    }
    trimmed.rsplit('/').next().unwrap_or(trimmed).to_owned()
}

/// Go's `filepath.Dir` on Unix paths: all but the last element, cleaned.
fn dirname(path: &str) -> String {
    let dir = match path.rfind('/') {
        Some(i) => &path[..=i],
        None => "",
    };
    clean(dir)
}

/// Go's `filepath.Clean`: the shortest equivalent path, lexically.
fn clean(path: &str) -> String {
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => match parts.last() {
                Some(&last) if last != ".." => {
                    parts.pop();
                }
                _ if rooted => {}
                _ => parts.push(".."),
            },
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_owned(),
        (false, false) => joined,
    }
}

#[cfg(test)]
mod tests {
    use super::super::value::parse_number;
    use super::*;

    fn s(v: &str) -> Value {
        Value::String(v.to_owned())
    }

    #[test]
    fn format_verbs() {
        let out = format(
            "%s-%d %q %v %% %05d %-4s| %.2f %t %[1]s",
            &[
                s("a"),
                Value::Number(7.0),
                s("x\"y"),
                Value::List(vec![Value::Number(1.0)]),
                Value::Number(42.0),
                s("ab"),
                Value::Number(1.234),
                Value::Bool(true),
            ],
        )
        .unwrap();
        assert_eq!(out, "a-7 \"x\\\"y\" [1] % 00042 ab  | 1.23 true a");
        assert!(format("%d", &[Value::Number(1.5)]).is_err());
        assert!(format("%s %s", &[s("a")]).is_err());
        assert!(format("%x", &[Value::Number(1.0)]).is_err());
    }

    #[test]
    fn unify_mixed_primitives_to_strings() {
        assert_eq!(
            make_set(unify(vec![s("a"), Value::Number(1.0)])),
            Value::Set(vec![s("1"), s("a")])
        );
        assert_eq!(parse_number("12"), Some(12.0));
    }

    #[test]
    fn basename_and_dirname_as_terraform() {
        // Recorded with `terraform console` (1.11).
        let cases = [
            ("", ".", "."),
            ("/", "/", "/"),
            ("a/b/", "b", "a/b"),
            ("a//b", "b", "a"),
            ("/a", "a", "/"),
            ("a", "a", "."),
            ("a//b/../c", "c", "a"),
            ("./x", "x", "."),
            ("../x/y", "y", "../x"),
            ("/../a", "a", "/"),
        ];
        for (path, base, dir) in cases {
            assert_eq!(basename(path), base, "basename({path:?})");
            assert_eq!(dirname(path), dir, "dirname({path:?})");
        }
    }
}
