//! JSON-key extraction from a `SecretString`, rendered the way the ECS agent renders it.
//!
//! The agent decodes the secret with Go's `encoding/json` into `map[string]interface{}` and
//! formats the selected value with `fmt.Sprintf("%v", v)` (spec section 2). So every number is
//! a `float64` printed in Go's shortest `%g` form (`1000000` becomes `1e+06`), `null` becomes
//! `<nil>`, objects become `map[k:v ...]` with keys sorted by bytes, and arrays become
//! `[a b c]`. This module reproduces that byte for byte.
//!
//! Errors never contain the secret's content: a JSON syntax error names only the position,
//! and a missing key lists the keys that do exist (key names are not values).
//!
//! Pure: no I/O.

use crate::diagnostic::Class;
use std::fmt::Write as _;

use serde_json::{Map, Value};

/// Why a JSON key could not be extracted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum JsonKeyError {
    /// The `SecretString` is not valid JSON. The text names the position only.
    Parse(String),
    /// Valid JSON, but not an object (Go: `cannot unmarshal array into Go value of type
    /// map[string]interface {}`).
    NotAnObject(&'static str),
    /// The object has no such top-level key. Carries the keys it does have, sorted.
    Missing { available: Vec<String> },
}

impl JsonKeyError {
    /// The spec's error class.
    pub(crate) fn class(&self) -> Class {
        match self {
            JsonKeyError::Parse(_) | JsonKeyError::NotAnObject(_) => Class::JsonParse,
            JsonKeyError::Missing { .. } => Class::JsonKeyMissing,
        }
    }
}

/// Where the agent's `%v` rendering of a JSON value is not the JSON a reader might expect.
/// `ecs-env check` warns about each (spec section 9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Quirk {
    /// A number printed differently from its JSON text (`1000000` becomes `1e+06`, or
    /// digits lost through float64).
    NumberReformatted,
    /// `null` becomes `<nil>`.
    Nil,
    /// An object becomes `map[k:v ...]`.
    Map,
    /// An array becomes `[a b c]`.
    Array,
}

impl Quirk {
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Quirk::NumberReformatted => {
                "a JSON number is rendered as Go's float64 `%v` (e.g. 1000000 becomes 1e+06)"
            }
            Quirk::Nil => "a JSON null is rendered as `<nil>`",
            Quirk::Map => "a JSON object is rendered in Go map syntax `map[k:v]`, not as JSON",
            Quirk::Array => "a JSON array is rendered as `[a b c]`, not as JSON",
        }
    }
}

/// A rendered value and the quirks its rendering went through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Extracted {
    pub value: String,
    pub quirks: Vec<Quirk>,
}

/// Extract `key` from `secret_string` and render it as the agent would.
#[cfg(test)]
pub(crate) fn extract(secret_string: &str, key: &str) -> Result<String, JsonKeyError> {
    extract_detailed(secret_string, key).map(|e| e.value)
}

/// [`extract`], also reporting the rendering quirks.
pub(crate) fn extract_detailed(secret_string: &str, key: &str) -> Result<Extracted, JsonKeyError> {
    let value: Value = serde_json::from_str(secret_string).map_err(|e| {
        // Kind and position only: a parser's message can quote the secret.
        if secret_string.trim().is_empty() {
            JsonKeyError::Parse("the secret is empty, not a JSON object".to_owned())
        } else {
            JsonKeyError::Parse(format!(
                "the secret is not valid JSON ({})",
                crate::diagnostic::json_error(&e)
            ))
        }
    })?;
    let object = match value {
        Value::Object(map) => map,
        // Go decodes a top-level `null` into a nil map without error; the lookup then fails.
        Value::Null => Map::new(),
        Value::Array(_) => return Err(JsonKeyError::NotAnObject("an array")),
        Value::String(_) => return Err(JsonKeyError::NotAnObject("a string")),
        Value::Number(_) => return Err(JsonKeyError::NotAnObject("a number")),
        Value::Bool(_) => return Err(JsonKeyError::NotAnObject("a boolean")),
    };
    match object.get(key) {
        Some(v) => {
            let mut quirks = Vec::new();
            let mut value = String::new();
            render_into(v, &mut value, &mut quirks).map_err(JsonKeyError::Parse)?;
            quirks.sort_unstable();
            quirks.dedup();
            Ok(Extracted { value, quirks })
        }
        None => Err(JsonKeyError::Missing {
            available: object.keys().cloned().collect(),
        }),
    }
}

/// Go's `fmt.Sprintf("%v", v)` of a value decoded by `encoding/json` into `interface{}`.
fn render_into(value: &Value, out: &mut String, quirks: &mut Vec<Quirk>) -> Result<(), String> {
    match value {
        Value::Null => {
            quirks.push(Quirk::Nil);
            out.push_str("<nil>");
        }
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::String(s) => out.push_str(s),
        Value::Number(n) => {
            // With `arbitrary_precision`, `as_f64` parses the literal as written (correctly
            // rounded, `-0` keeps its sign), like Go's decoder. It is `None` when the number
            // overflows float64, which Go reports as an unmarshal error.
            let f = n
                .as_f64()
                .ok_or_else(|| "a number in the secret does not fit in a float64".to_owned())?;
            let text = go_float(f);
            if text != n.to_string() {
                quirks.push(Quirk::NumberReformatted);
            }
            out.push_str(&text);
        }
        Value::Array(items) => {
            quirks.push(Quirk::Array);
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                render_into(item, out, quirks)?;
            }
            out.push(']');
        }
        Value::Object(map) => {
            // serde_json's default map is a BTreeMap: keys come out sorted by bytes, as Go's
            // fmt sorts map keys, and a duplicate key keeps its last occurrence, as Go does.
            quirks.push(Quirk::Map);
            out.push_str("map[");
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                out.push_str(k);
                out.push(':');
                render_into(v, out, quirks)?;
            }
            out.push(']');
        }
    }
    Ok(())
}

/// Go's `strconv.FormatFloat(f, 'g', -1, 64)`, which is what `%v` prints for a float64.
///
/// Go takes the shortest digits that round-trip, then uses exponent form when the decimal
/// exponent is below -4 or at least 6 ("if precision was the shortest possible, use
/// precision 6 for this decision", `strconv/ftoa.go`), with a sign and at least two
/// exponent digits.
pub(crate) fn go_float(f: f64) -> String {
    if f.is_nan() {
        return "NaN".to_owned();
    }
    if f.is_infinite() {
        return if f > 0.0 { "+Inf" } else { "-Inf" }.to_owned();
    }
    // Rust's `{:e}` prints the shortest round-tripping digits, e.g. `-1.5e7`, `1e-5`, `0e0`.
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').expect("`{:e}` always has an exponent");
    let exp: i32 = exp.parse().expect("`{:e}` exponent is an integer");
    let (neg, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => (true, m),
        None => (false, mantissa),
    };
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    if !(-4..6).contains(&exp) {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        let sign = if exp < 0 { '-' } else { '+' };
        let _ = write!(out, "e{sign}{:02}", exp.abs());
    } else if exp < 0 {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', (-exp - 1) as usize));
        out.push_str(&digits);
    } else {
        let int_len = exp as usize + 1;
        if digits.len() <= int_len {
            out.push_str(&digits);
            out.extend(std::iter::repeat_n('0', int_len - digits.len()));
        } else {
            out.push_str(&digits[..int_len]);
            out.push('.');
            out.push_str(&digits[int_len..]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(json: &str, k: &str) -> String {
        extract(json, k).unwrap_or_else(|e| panic!("{json}: {e:?}"))
    }

    #[test]
    fn numbers_follow_go_shortest_g() {
        for (json, want) in [
            ("5432", "5432"),
            ("1.5", "1.5"),
            ("1.0", "1"),
            ("5e2", "500"),
            ("100000", "100000"),
            ("999999.5", "999999.5"),
            ("0.0001", "0.0001"),
            ("1000000", "1e+06"),
            ("123456789", "1.23456789e+08"),
            ("0.00001", "1e-05"),
            ("9007199254740993", "9.007199254740992e+15"),
            ("44687433279601380", "4.468743327960138e+16"),
            ("-0", "-0"),
            ("0", "0"),
            ("-1.5e7", "-1.5e+07"),
            ("1e300", "1e+300"),
            ("0.000123", "0.000123"),
            ("123456.7", "123456.7"),
        ] {
            assert_eq!(key(&format!("{{\"n\":{json}}}"), "n"), want, "{json}");
        }
    }

    #[test]
    fn composite_values_use_go_syntax() {
        assert_eq!(key(r#"{"v":null}"#, "v"), "<nil>");
        assert_eq!(key(r#"{"b":false}"#, "b"), "false");
        assert_eq!(key(r#"{"l":["a","b",3]}"#, "l"), "[a b 3]");
        assert_eq!(key(r#"{"o":{}}"#, "o"), "map[]");
        assert_eq!(key(r#"{"a":[]}"#, "a"), "[]");
        assert_eq!(
            key(r#"{"x":{"z":1.5e7,"a":[true,null,"s p"]}}"#, "x"),
            "map[a:[true <nil> s p] z:1.5e+07]"
        );
        assert_eq!(key(r#"{"k":"first","k":"second"}"#, "k"), "second");
        assert_eq!(key(r#"{"k":"l1\nl2\t\u00e9"}"#, "k"), "l1\nl2\té");
        assert_eq!(key(r#"{"k":""}"#, "k"), "");
    }

    #[test]
    fn quirks_are_reported() {
        let q = |json: &str| extract_detailed(json, "k").unwrap().quirks;
        assert_eq!(q(r#"{"k":"s"}"#), []);
        assert_eq!(q(r#"{"k":5432}"#), []);
        assert_eq!(q(r#"{"k":1000000}"#), [Quirk::NumberReformatted]);
        assert_eq!(q(r#"{"k":1.0}"#), [Quirk::NumberReformatted]);
        assert_eq!(q(r#"{"k":null}"#), [Quirk::Nil]);
        assert_eq!(
            q(r#"{"k":{"a":[null]}}"#),
            [Quirk::Nil, Quirk::Map, Quirk::Array]
        );
    }

    #[test]
    fn errors_are_classified_without_content() {
        let canary = "hunter2-canary";
        let e = extract(canary, "password").unwrap_err();
        assert_eq!(e.class(), Class::JsonParse);
        assert!(!format!("{e:?}").contains("hunter"));
        assert_eq!(extract("", "k").unwrap_err().class(), Class::JsonParse);
        assert_eq!(
            extract("[1]", "k").unwrap_err(),
            JsonKeyError::NotAnObject("an array")
        );
        assert_eq!(
            extract("null", "password").unwrap_err(),
            JsonKeyError::Missing { available: vec![] }
        );
        assert_eq!(
            extract(r#"{"password":"pw","user":"u"}"#, "Password").unwrap_err(),
            JsonKeyError::Missing {
                available: vec!["password".into(), "user".into()]
            }
        );
        // A dot is part of the key, not a path.
        assert_eq!(
            extract(r#"{"db":{"password":"x"}}"#, "db.password")
                .unwrap_err()
                .class(),
            Class::JsonKeyMissing
        );
        assert_eq!(
            extract(r#"{"a":1} x"#, "a").unwrap_err().class(),
            Class::JsonParse
        );
    }
}
