//! Terraform's built-in functions: one table ([`TABLES`], a slice per category module) that
//! gives each function its name, the number of arguments it takes, which arguments may hold
//! values not known here, and its implementation.
//!
//! Each function behaves as Terraform 1.11's does for the arguments it accepts, and an
//! argument Terraform rejects is an error here too: `tests/vectors/terraform-functions.json`
//! records Terraform's own answers (`scripts/record-terraform-functions`) and the test in
//! `vectors.rs` compares. The AWS provider's ARN functions (`provider::aws::arn_parse`...)
//! are in the table too; `core::NAME` is the built-in `NAME`. A function not in the table
//! (another provider's) is a problem naming it, never a guess. The impure functions
//! (`timestamp`, `uuid`, `bcrypt`, `plantimestamp`) are in the table as values known only at
//! apply: unknown here, which is fatal only where the environment needs them. `try` and `can`
//! are listed but evaluated by the evaluator, which sees their arguments unevaluated.
//!
//! Errors name the argument's type and what is wrong with it, never its text, where
//! Terraform's would quote it: an argument can be a secret read from state
//! (`base64decode(aws_secretsmanager_secret_version.x.secret_string)`).

mod collections;
mod conversion;
mod datetime;
mod encoding;
mod filesystem;
mod glob;
mod gozip;
mod hash;
mod ipnet;
mod numeric;
mod provider_aws;
mod rsadecrypt;
mod strings;
#[cfg(test)]
pub(crate) mod vectors;
mod yaml;
mod yamlencode;

use std::collections::BTreeMap;

use super::Problem;
use super::eval::Evaluator;
use super::value::Value;

/// Why a function call failed.
#[derive(Debug)]
pub(crate) struct FnError {
    /// What is wrong with the call (prefixed with the function's name by the caller).
    pub(crate) message: String,
    /// What would fix it; may be empty.
    pub(crate) hint: String,
    /// Not a dynamic error but something ecs-env cannot evaluate: `try()` must not hide it.
    pub(crate) fatal: bool,
    /// A value not known here (an impure function): Terraform knows it only at apply.
    pub(crate) unknown: bool,
    /// Problems found inside a template file, reported as they are (they name the
    /// template's own file and line) instead of `message`.
    pub(crate) nested: Vec<Problem>,
}

/// The result of a function.
pub(crate) type Ret = Result<Value, FnError>;

/// A dynamic error with a message: `try()` falls back on it.
pub(crate) fn err<T>(message: impl Into<String>) -> Result<T, FnError> {
    Err(FnError {
        message: message.into(),
        hint: String::new(),
        fatal: false,
        unknown: false,
        nested: Vec::new(),
    })
}

/// How a function is evaluated.
pub(crate) enum Imp {
    /// From its arguments alone.
    Pure(fn(&[Value]) -> Ret),
    /// Reads the configuration's files, or renders a template, through the evaluator.
    Evaluator(fn(&mut Evaluator, &[Value]) -> Ret),
    /// Terraform computes the value at apply (`timestamp`, `uuid`): never known here.
    Impure,
    /// `try` and `can`: the evaluator evaluates their arguments itself.
    Lazy,
}

/// One built-in function.
pub(crate) struct Func {
    pub(crate) name: &'static str,
    /// The fewest arguments it takes.
    min: usize,
    /// The most arguments it takes (`usize::MAX`: any number).
    max: usize,
    /// The arguments that must be known, by position (they decide what the result is); the
    /// others may hold values not known here, which the result carries on (`jsonencode`,
    /// `merge`, the map of `lookup`). `None`: every argument.
    known: Option<&'static [usize]>,
    imp: Imp,
}

/// Any number of arguments.
pub(crate) const MANY: usize = usize::MAX;

impl Func {
    /// A function taking `min` to `max` arguments, all of which must be known.
    const fn new(name: &'static str, min: usize, max: usize, imp: Imp) -> Func {
        Func {
            name,
            min,
            max,
            known: None,
            imp,
        }
    }

    /// A function of its arguments alone, taking `min` to `max` of them.
    pub(crate) const fn pure(
        name: &'static str,
        min: usize,
        max: usize,
        f: fn(&[Value]) -> Ret,
    ) -> Func {
        Func::new(name, min, max, Imp::Pure(f))
    }

    /// A function that needs the evaluator (files, templates).
    pub(crate) const fn evaluator(
        name: &'static str,
        min: usize,
        max: usize,
        f: fn(&mut Evaluator, &[Value]) -> Ret,
    ) -> Func {
        Func::new(name, min, max, Imp::Evaluator(f))
    }

    /// A function whose value only apply knows.
    pub(crate) const fn impure(name: &'static str, min: usize, max: usize) -> Func {
        Func::new(name, min, max, Imp::Impure)
    }

    /// Only the arguments at `deciding` must be known: the function moves the others' values
    /// around without looking at them.
    pub(crate) const fn passes_unknown_except(mut self, deciding: &'static [usize]) -> Func {
        self.known = Some(deciding);
        self
    }
}

/// Every function, by category.
const TABLES: &[&[Func]] = &[
    strings::FUNCS,
    collections::FUNCS,
    encoding::FUNCS,
    filesystem::FUNCS,
    numeric::FUNCS,
    conversion::FUNCS,
    ipnet::FUNCS,
    hash::FUNCS,
    datetime::FUNCS,
    yaml::FUNCS,
    yamlencode::FUNCS,
    rsadecrypt::FUNCS,
    provider_aws::FUNCS,
    &[
        Func::new("can", 1, 1, Imp::Lazy),
        Func::new("try", 1, MANY, Imp::Lazy),
    ],
];

/// For the `terraform_text` fuzz target: the parsers of text beside HCL's own, the
/// writers of text (`yamlencode` of what `yamldecode` read, `base64gzip`'s compressor), and
/// the checks after an HCL parse.
#[cfg(feature = "fuzzing")]
pub(crate) fn fuzz_text(s: &str) {
    if let Ok(v) = yaml::decode(s) {
        let _ = yamlencode::encode(&v);
    }
    // The gzip trailer ends with the input's length: a stream cut short or run on shows here.
    let gz = gozip::gzip(s.as_bytes());
    assert_eq!(gz[gz.len() - 4..], (s.len() as u32).to_le_bytes());
    let (pattern, name) = s.split_once('\0').unwrap_or((s, "name"));
    let _ = glob::matches(pattern, name);
    let _ = glob::expand(pattern);
    if crate::terraform::source::parse_hazard(s, false).is_none()
        && let Ok((body, text)) =
            crate::terraform::respell::parse(s.to_owned(), hcl::edit::parser::parse_body)
    {
        let file = crate::terraform::source::SourceFile::new("fuzz.tf".to_owned(), text);
        let _ = crate::terraform::strict::check(&body, &file);
    }
}

/// The function called `name`.
fn find(name: &str) -> Option<&'static Func> {
    TABLES
        .iter()
        .flat_map(|t| t.iter())
        .find(|f| f.name == name)
}

/// Whether ecs-env evaluates the function `name`.
pub(crate) fn is_known(name: &str) -> bool {
    find(name).is_some()
}

/// Which arguments of `name` must be known, by position (`None`: all of them).
pub(crate) fn must_know(name: &str) -> Option<&'static [usize]> {
    find(name).and_then(|f| f.known)
}

/// Calls a known function other than `try`/`can`.
pub(crate) fn call(ev: &mut Evaluator, name: &str, args: Vec<Value>) -> Ret {
    let Some(f) = find(name) else {
        return Err(FnError {
            message: format!("function `{name}` is not supported"),
            hint: String::new(),
            fatal: true,
            unknown: false,
            nested: Vec::new(),
        });
    };
    if args.len() < f.min || args.len() > f.max {
        let want = match (f.min, f.max) {
            (min, max) if min == max => format!("{min}"),
            (min, MANY) => format!("at least {min}"),
            (min, max) => format!("{min} to {max}"),
        };
        let plural = if want == "1" { "" } else { "s" };
        return err(format!("takes {want} argument{plural}, got {}", args.len()));
    }
    match f.imp {
        Imp::Pure(imp) => imp(&args),
        Imp::Evaluator(imp) => imp(ev, &args),
        Imp::Impure => Err(FnError {
            message: "the value is only known at apply: Terraform computes it then".to_owned(),
            hint: "fix the value with a variable or a literal, or read the applied task definition (-f FAMILY)"
                .to_owned(),
            fatal: true,
            unknown: true,
            nested: Vec::new(),
        }),
        Imp::Lazy => err("is evaluated by the evaluator"),
    }
}

/// A string value.
pub(crate) fn s(text: impl Into<String>) -> Value {
    Value::String(text.into())
}

/// The message for an argument of the wrong type.
fn wrong(what: &str, want: &str, v: &Value) -> FnError {
    let message = match v {
        Value::Null => format!("{what} must not be null"),
        v => format!("{what} must be {want}, not a {}", v.type_name()),
    };
    FnError {
        message,
        hint: String::new(),
        fatal: false,
        unknown: false,
        nested: Vec::new(),
    }
}

/// An argument converted to a string.
pub(crate) fn string(v: &Value, what: &str) -> Result<String, FnError> {
    v.to_str().ok_or_else(|| wrong(what, "a string", v))
}

/// An argument converted to a number.
pub(crate) fn number(v: &Value, what: &str) -> Result<f64, FnError> {
    v.to_number().ok_or_else(|| wrong(what, "a number", v))
}

/// An argument converted to a whole number.
pub(crate) fn whole(v: &Value, what: &str) -> Result<i64, FnError> {
    let n = number(v, what)?;
    if n.fract() != 0.0 || !n.is_finite() {
        return err(format!("{what} must be a whole number"));
    }
    if n.abs() >= 9.2e18 {
        return err(format!("{what} is too large"));
    }
    Ok(n as i64)
}

/// An argument that must be a list or a set.
pub(crate) fn list<'a>(v: &'a Value, what: &str) -> Result<&'a [Value], FnError> {
    v.elements().ok_or_else(|| wrong(what, "a list", v))
}

/// An argument that must be a map or an object.
pub(crate) fn object<'a>(v: &'a Value, what: &str) -> Result<&'a BTreeMap<String, Value>, FnError> {
    match v {
        Value::Object(map) => Ok(map),
        other => Err(wrong(what, "a map or object", other)),
    }
}

/// A list of strings (`list(string)` parameters): each element converted.
pub(crate) fn strings(v: &Value, what: &str) -> Result<Vec<String>, FnError> {
    list(v, what)?
        .iter()
        .map(|item| string(item, "each element"))
        .collect()
}

/// Terraform converts the elements of a collection to one type: for mixed primitives that
/// type is string (`toset(["a", 1])` is `["1", "a"]`), and lists and objects are unified
/// element by element, attribute by attribute (`tolist([[1], ["a"]])` is `[["1"], ["a"]]`).
pub(crate) fn unify(items: Vec<Value>) -> Vec<Value> {
    let present = || items.iter().filter(|v| **v != Value::Null);
    if present().all(|v| matches!(v, Value::List(_))) && present().count() > 0 {
        // Every element of every list, unified together, then put back.
        let lens: Vec<Option<usize>> = items
            .iter()
            .map(|v| v.elements().map(<[Value]>::len))
            .collect();
        let inner: Vec<Value> = items
            .iter()
            .flat_map(|v| v.elements().unwrap_or_default().to_vec())
            .collect();
        let mut inner = unify(inner).into_iter();
        return lens
            .into_iter()
            .map(|n| match n {
                Some(n) => Value::List(inner.by_ref().take(n).collect()),
                None => Value::Null,
            })
            .collect();
    }
    if present().all(|v| matches!(v, Value::Object(_))) && present().count() > 0 {
        let mut keys: Vec<String> = Vec::new();
        for v in present() {
            if let Value::Object(map) = v {
                keys.extend(
                    map.keys()
                        .filter(|k| !keys.contains(k))
                        .cloned()
                        .collect::<Vec<_>>(),
                );
            }
        }
        let mut out = items.clone();
        for key in keys {
            let column: Vec<Value> = items
                .iter()
                .filter_map(|v| match v {
                    Value::Object(map) => map.get(&key).cloned(),
                    _ => None,
                })
                .collect();
            let mut column = unify(column).into_iter();
            for v in &mut out {
                if let Value::Object(map) = v
                    && let Some(slot) = map.get_mut(&key)
                {
                    *slot = column.next().unwrap_or(Value::Null);
                }
            }
        }
        return out;
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_names_each_function_once() {
        let mut names: Vec<&str> = TABLES
            .iter()
            .flat_map(|t| t.iter())
            .map(|f| f.name)
            .collect();
        let count = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), count, "a function is in the table twice");
        for f in TABLES.iter().flat_map(|t| t.iter()) {
            assert!(f.min <= f.max, "{}", f.name);
        }
    }
}
