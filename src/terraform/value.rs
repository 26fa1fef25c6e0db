//! The values the evaluator computes: Terraform's value model, reduced to what JSON output
//! needs.
//!
//! Terraform distinguishes lists from tuples and maps from objects; only the shape matters
//! for `container_definitions`, so each pair is one variant here. Sets stay separate, because
//! `for_each` accepts a set of strings but not a list. Objects keep their keys sorted
//! (`BTreeMap`), which is the order Terraform iterates them in and `jsonencode` writes them in.
//!
//! Numbers are `f64`: Terraform's are arbitrary-precision, but the numbers in a task
//! definition (ports, CPU units, memory) are small integers, exact in a double.

use std::collections::BTreeMap;
use std::fmt::Write as _;

/// One Terraform value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Null,
    Bool(bool),
    Number(f64),
    String(String),
    /// A list or a tuple.
    List(Vec<Value>),
    /// A set: distinct elements, strings in lexical order, numbers in ascending order.
    Set(Vec<Value>),
    /// An object or a map.
    Object(BTreeMap<String, Value>),
}

impl Value {
    /// The type name Terraform's messages use.
    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::List(_) => "list",
            Value::Set(_) => "set",
            Value::Object(_) => "object",
        }
    }

    /// The elements of a list or a set.
    pub(crate) fn elements(&self) -> Option<&[Value]> {
        match self {
            Value::List(items) | Value::Set(items) => Some(items),
            _ => None,
        }
    }

    /// Terraform's automatic conversion to string: primitives only (a null is not a string).
    pub(crate) fn to_str(&self) -> Option<String> {
        match self {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(format_number(*n)),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    /// Terraform's automatic conversion to number: a number, or a string that parses as one.
    pub(crate) fn to_number(&self) -> Option<f64> {
        match self {
            Value::Number(n) => Some(*n),
            Value::String(s) => parse_number(s),
            _ => None,
        }
    }

    /// Terraform's automatic conversion to bool: a bool, or the strings "true" and "false".
    pub(crate) fn to_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            Value::String(s) if s == "true" => Some(true),
            Value::String(s) if s == "false" => Some(false),
            _ => None,
        }
    }

    /// Converts decoded JSON (state attributes, `.tfvars.json`, `jsondecode`).
    pub(crate) fn from_json(json: &serde_json::Value) -> Value {
        match json {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            // Every JSON number is finite; `as_f64` only fails on out-of-range values that
            // serde_json's `arbitrary_precision` keeps as text, which become infinite here.
            serde_json::Value::Number(n) => Value::Number(n.as_f64().unwrap_or(f64::INFINITY)),
            serde_json::Value::String(s) => Value::String(s.clone()),
            serde_json::Value::Array(items) => {
                Value::List(items.iter().map(Value::from_json).collect())
            }
            serde_json::Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), Value::from_json(v)))
                    .collect(),
            ),
        }
    }

    /// `jsonencode`, byte for byte as Terraform writes it: no spaces, object keys sorted,
    /// and Go's escaping of `<`, `>` and `&`. Fails on a non-finite number.
    pub(crate) fn to_json(&self) -> Result<String, String> {
        let mut out = String::new();
        self.write_json(&mut out)?;
        Ok(out)
    }

    fn write_json(&self, out: &mut String) -> Result<(), String> {
        match self {
            Value::Null => out.push_str("null"),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Number(n) => {
                if !n.is_finite() {
                    return Err("a number that is not finite cannot be encoded".to_owned());
                }
                out.push_str(&format_number(*n));
            }
            Value::String(s) => quote_json(s, out),
            Value::List(items) | Value::Set(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write_json(out)?;
                }
                out.push(']');
            }
            Value::Object(map) => {
                out.push('{');
                for (i, (k, v)) in map.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    quote_json(k, out);
                    out.push(':');
                    v.write_json(out)?;
                }
                out.push('}');
            }
        }
        Ok(())
    }
}

/// Builds a set: duplicates removed; strings sorted lexically and numbers ascending, the
/// order Terraform iterates sets in. Other element types keep their first-seen order.
pub(crate) fn make_set(items: Vec<Value>) -> Value {
    let mut out: Vec<Value> = Vec::with_capacity(items.len());
    for item in items {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    if out.iter().all(|v| matches!(v, Value::String(_))) {
        out.sort_by(|a, b| match (a, b) {
            (Value::String(a), Value::String(b)) => a.cmp(b),
            _ => std::cmp::Ordering::Equal,
        });
    } else if out.iter().all(|v| matches!(v, Value::Number(_))) {
        out.sort_by(|a, b| match (a, b) {
            (Value::Number(a), Value::Number(b)) => a.total_cmp(b),
            _ => std::cmp::Ordering::Equal,
        });
    }
    Value::Set(out)
}

/// A number as Terraform prints it: integers without a fraction, other values in the
/// shortest form that reads back the same, never in exponent notation.
pub(crate) fn format_number(n: f64) -> String {
    if n == 0.0 {
        // Also turns -0 into 0, as Terraform prints it.
        return "0".to_owned();
    }
    // Rust's `Display` for f64 is the shortest round-trip form without an exponent.
    format!("{n}")
}

/// Parses a number the way Terraform converts a string to one (decimal, optional sign,
/// fraction and exponent; no hex, no surrounding spaces, no `inf`/`nan`).
pub(crate) fn parse_number(s: &str) -> Option<f64> {
    let body = s
        .strip_prefix('-')
        .or_else(|| s.strip_prefix('+'))
        .unwrap_or(s);
    let digits = body.strip_prefix('.').unwrap_or(body);
    let valid = digits.starts_with(|c: char| c.is_ascii_digit())
        && body
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-'));
    if !valid {
        return None;
    }
    s.parse::<f64>().ok().filter(|n| n.is_finite())
}

/// Writes a JSON string literal with Go's `encoding/json` escaping, which Terraform's
/// `jsonencode` uses: `<`, `>`, `&`, U+2028 and U+2029 are escaped too.
pub(crate) fn quote_json(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// `text` in Unicode Normalization Form C, as Terraform holds every string (its `cty`
/// strings are normalized when made).
pub(crate) fn nfc(text: String) -> String {
    match icu_normalizer::ComposingNormalizerBorrowed::new_nfc().normalize(&text) {
        std::borrow::Cow::Borrowed(_) => text,
        std::borrow::Cow::Owned(composed) => composed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_print_as_terraform_prints_them() {
        assert_eq!(format_number(512.0), "512");
        assert_eq!(format_number(1.5), "1.5");
        assert_eq!(format_number(-0.0), "0");
        assert_eq!(format_number(1e21), "1000000000000000000000");
        assert_eq!(parse_number("0.25"), Some(0.25));
        assert_eq!(parse_number(".5"), Some(0.5));
        assert_eq!(parse_number("."), None);
        assert_eq!(parse_number(" 1"), None);
        assert_eq!(parse_number("inf"), None);
        assert_eq!(parse_number("0x10"), None);
    }

    #[test]
    fn jsonencode_sorts_keys_and_escapes_like_go() {
        let v = Value::Object(BTreeMap::from([
            ("b".to_owned(), Value::String("<a&b>\n".to_owned())),
            (
                "a".to_owned(),
                Value::List(vec![Value::Number(1.0), Value::Null]),
            ),
        ]));
        assert_eq!(
            v.to_json().unwrap(),
            r#"{"a":[1,null],"b":"\u003ca\u0026b\u003e\n"}"#
        );
    }

    #[test]
    fn sets_are_distinct_and_ordered() {
        let s = make_set(vec![
            Value::String("b".into()),
            Value::String("a".into()),
            Value::String("b".into()),
        ]);
        assert_eq!(
            s,
            Value::Set(vec![Value::String("a".into()), Value::String("b".into())])
        );
    }
}
