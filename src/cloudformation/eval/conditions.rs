//! `Fn::If` and the template's `Conditions`: named conditions (self-reference reported, not
//! followed), `Fn::Equals`, `Fn::Not`, `Fn::And` and `Fn::Or`. Separate because conditions
//! evaluate to a choice, not a value, and `Fn::If` also chooses between containers and entries
//! in the task definition's shape.

use serde_json::Value;

use super::{Res, Resolved, Resolver, both, collect, fixed_args, malformed, one, scalar_string};
use crate::cloudformation::MAX_DEPTH;

/// Scalars as strings, recursively: the canonical form `Fn::Equals` compares.
fn stringified(v: Value) -> Value {
    match v {
        Value::Number(_) | Value::Bool(_) => Value::String(scalar_string(&v).unwrap_or_default()),
        Value::Array(items) => Value::Array(items.into_iter().map(stringified).collect()),
        other => other,
    }
}

impl Resolver<'_> {
    pub(super) fn if_branch<'v>(&self, arg: &'v Value, path: &str, depth: usize) -> Res<&'v Value> {
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

    pub(super) fn condition_expr(
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
