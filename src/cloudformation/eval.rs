//! Evaluation of intrinsic functions (`Ref`, `Fn::Sub`, `Fn::If`...) in the fields ecs-env
//! reads, collecting every failure. Separate because it is most of the module and depends
//! only on the template's data, not on how the template was parsed or chosen.
//!
//! This file holds the evaluator itself: the [`Resolver`], the generic walk over values
//! (`eval`) and the dispatch to each intrinsic, with the functions short enough to read in
//! place (`Fn::Join`, `Fn::Select`, `Fn::Split`, `Fn::Base64`, `Fn::Length`). Each longer
//! intrinsic has a child module, and so has the task definition's shape, so that each can be
//! read without the others: they share only the helpers below.

mod conditions;
mod find_in_map;
mod get_att;
mod reference;
mod shape;
mod sub;

use std::cell::RefCell;
use std::collections::BTreeSet;

use serde_json::{Map, Number, Value};

use super::{Context, MAX_DEPTH, Template, USE_DEPLOYED, Unresolved};

/// The result of evaluating a value: a value, or `AWS::NoValue` ("remove this key/element").
enum Resolved {
    Value(Value),
    NoValue,
}

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
            "Fn::GetAtt" => self.get_att_function(arg, path, depth).and_then(value),
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
            "Fn::ImportValue" => self.import_value(arg, path, depth).and_then(value),
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
