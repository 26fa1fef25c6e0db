//! Values ecs-env cannot know here (a resource attribute without state, a data source, an
//! impure function), kept as markers so that only the fields that reach the environment
//! need them.
//!
//! A task definition's `container_definitions` holds much that never reaches a container's
//! environment: images, log groups, health checks, other containers. When one of those cannot
//! be evaluated, Terraform's plan shows it as "known after apply" and carries on; ecs-env must
//! too, or a configuration without state fails on `image = aws_ecr_repository.app.repository_url`.
//!
//! So a *fatal* failure (a missing input, never a dynamic error `try()` could catch) inside a
//! list or object element, or in a string template's interpolation, becomes a marker string
//! that stands for the failure's problems ([`Unknowns::mark`]). Markers travel through what
//! only moves values around (collections, attribute access, `jsonencode`, templates,
//! `merge`...), and every operation that looks at a value (operators, conditions, most
//! functions, `count`/`for_each`) first asks [`Unknowns::known`], which turns any marker
//! back into its problems. At the end, `scrub` in `mod.rs` demands the fields the
//! environment needs and drops the rest.
//!
//! A marker is `⟪ecs-env:unknown:ID⟫`: printable, so that it survives being written raw into
//! JSON text (a heredoc of container definitions). A configuration can write one itself;
//! that only makes a value unknown (fail closed), never known.

use super::Problem;
use super::eval::Failure;
use super::value::Value;

const START: &str = "\u{27ea}ecs-env:unknown:";
const END: char = '\u{27eb}';

/// The problems behind each marker handed out, by id.
#[derive(Debug, Default)]
pub(crate) struct Unknowns {
    problems: Vec<Vec<Problem>>,
}

impl Unknowns {
    /// A marker standing for `problems`.
    pub(crate) fn mark(&mut self, problems: Vec<Problem>) -> Value {
        let id = self.problems.len();
        self.problems.push(problems);
        Value::String(format!("{START}{id}{END}"))
    }

    /// The problems behind the markers in `text`, in order, each once.
    pub(crate) fn in_str(&self, text: &str, out: &mut Vec<Problem>) {
        let mut rest = text;
        while let Some(at) = rest.find(START) {
            rest = &rest[at + START.len()..];
            let end = rest.find(END).unwrap_or(rest.len());
            let problems = rest[..end]
                .parse::<usize>()
                .ok()
                .and_then(|id| self.problems.get(id));
            match problems {
                Some(problems) => {
                    for p in problems {
                        if !out.contains(p) {
                            out.push(p.clone());
                        }
                    }
                }
                None => {
                    let forged = forged();
                    if !out.contains(&forged) {
                        out.push(forged);
                    }
                }
            }
            rest = &rest[end..];
        }
    }

    /// The problems behind every marker in `value`, keys included.
    pub(crate) fn in_value(&self, value: &Value) -> Vec<Problem> {
        let mut out = Vec::new();
        self.walk(value, &mut out);
        out
    }

    fn walk(&self, value: &Value, out: &mut Vec<Problem>) {
        match value {
            Value::String(s) => self.in_str(s, out),
            Value::List(items) | Value::Set(items) => {
                items.iter().for_each(|v| self.walk(v, out));
            }
            Value::Object(map) => {
                for (k, v) in map {
                    self.in_str(k, out);
                    self.walk(v, out);
                }
            }
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }

    /// The problems behind every marker in a JSON document, keys included.
    pub(crate) fn in_json(&self, value: &serde_json::Value) -> Vec<Problem> {
        let mut out = Vec::new();
        self.walk_json(value, &mut out);
        out
    }

    fn walk_json(&self, value: &serde_json::Value, out: &mut Vec<Problem>) {
        match value {
            serde_json::Value::String(s) => self.in_str(s, out),
            serde_json::Value::Array(items) => items.iter().for_each(|v| self.walk_json(v, out)),
            serde_json::Value::Object(map) => {
                for (k, v) in map {
                    self.in_str(k, out);
                    self.walk_json(v, out);
                }
            }
            _ => {}
        }
    }

    /// `value` if it holds no marker; else a fatal failure with the markers' problems.
    pub(crate) fn known(&self, value: Value) -> Result<Value, Failure> {
        let problems = self.in_value(&value);
        if problems.is_empty() {
            Ok(value)
        } else {
            Err(Failure {
                problems,
                fatal: true,
                unknown: true,
            })
        }
    }
}

/// Whether `text` holds a marker.
pub(crate) fn has_marker(text: &str) -> bool {
    text.contains(START)
}

/// Whether `value` is a marker and nothing else: an unknown value as a whole (an attribute
/// of it, or an element, is unknown too).
pub(crate) fn is_whole_marker(value: &Value) -> bool {
    matches!(value, Value::String(s) if s
        .strip_prefix(START)
        .and_then(|rest| rest.strip_suffix(END))
        .is_some_and(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit())))
}

fn forged() -> Problem {
    Problem {
        file: String::new(),
        line: None,
        expression: String::new(),
        message: "a value contains the text ecs-env uses to mark unknown values \
                  (`⟪ecs-env:unknown:`)"
            .to_owned(),
        hint: String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(message: &str) -> Problem {
        Problem {
            file: "main.tf".to_owned(),
            line: Some(1),
            expression: "x".to_owned(),
            message: message.to_owned(),
            hint: String::new(),
        }
    }

    #[test]
    fn markers_stand_for_their_problems_wherever_they_travel() {
        let mut u = Unknowns::default();
        let a = u.mark(vec![problem("a")]);
        let b = u.mark(vec![problem("b")]);
        let (Value::String(a), Value::String(b)) = (a, b) else {
            unreachable!()
        };
        assert!(is_whole_marker(&Value::String(a.clone())));
        assert!(!is_whole_marker(&Value::String(format!("{a}:latest"))));
        assert!(!is_whole_marker(&Value::String(format!("{a}{b}"))));
        let inside = Value::Object(
            [
                ("image".to_owned(), Value::String(format!("{a}:latest"))),
                ("k".to_owned(), Value::List(vec![Value::String(b.clone())])),
            ]
            .into(),
        );
        let messages: Vec<String> = u.in_value(&inside).into_iter().map(|p| p.message).collect();
        assert_eq!(messages, ["a", "b"]);
        assert!(u.known(inside).is_err());
        assert!(u.known(Value::String("plain".to_owned())).is_ok());
        // Through JSON text and back.
        let json: serde_json::Value =
            serde_json::from_str(&serde_json::to_string(&format!("x{b}")).unwrap()).unwrap();
        assert_eq!(u.in_json(&json)[0].message, "b");
        // A forged marker is unknown too, never known.
        let mut out = Vec::new();
        u.in_str(&format!("{START}99{END}"), &mut out);
        assert!(out[0].message.contains("mark unknown values"));
    }
}
