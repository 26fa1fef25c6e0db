//! `yamldecode`: YAML read as Terraform reads it.
//!
//! Terraform's YAML library resolves plain (unquoted) scalars by YAML 1.1's rules, not the
//! 1.2 core schema most parsers use now, so `yes`, `on` and `y` are `true` and `2001-12-14`
//! is a timestamp. saphyr parses the text (its loader keeps each scalar as written, with its
//! style and tag); the resolution here follows Terraform's answers recorded in
//! `tests/vectors/terraform-functions.json`:
//!
//! - null: empty, `~`, `null`, `Null`, `NULL`;
//! - bool: `y`, `yes`, `true`, `on` and `n`, `no`, `false`, `off`, each lower case,
//!   capitalised or upper case;
//! - numbers: decimal integers (`017` is 17), `0x` hexadecimal, `0o` octal, decimal
//!   fractions and exponents; `.inf` and `.nan` are errors (a Terraform number is finite);
//! - timestamps (`2001-12-14`, `2001-12-14T21:59:43.1-05:00`, `2001-12-14 21:59:43`): RFC
//!   3339 strings, to the second;
//! - everything else, and every quoted or block scalar: a string.
//!
//! Keys must be strings; `<<` merges a mapping (explicit keys win); a repeated key takes the
//! later value; one document only; a tag other than YAML's own (`!!str`, `!!int`...) is an
//! error. Errors give the position, never the text: the YAML may be a secret.

use std::collections::BTreeMap;

use saphyr::{Scalar, ScalarStyle, Tag, Yaml, YamlLoader};

use super::{Func, Ret, err, string};
use crate::terraform::value::Value;

pub(super) const FUNCS: &[Func] = &[Func::pure("yamldecode", 1, 1, yamldecode)];

/// How deep a document may nest: deeper is refused, not recursed into.
const MAX_DEPTH: usize = 128;

/// How many nodes anchors may expand to (a few nested aliases can otherwise expand
/// exponentially).
const MAX_ALIAS_NODES: usize = 100_000;

fn yamldecode(a: &[Value]) -> Ret {
    decode(&string(&a[0], "the argument")?)
}

/// YAML text as Terraform decodes it.
pub(super) fn decode(text: &str) -> Ret {
    if let Some(version) = text
        .lines()
        .find_map(|l| l.strip_prefix("%YAML"))
        .map(str::trim)
        && version != "1.1"
    {
        return err(
            "only YAML 1.1 documents can be decoded (a %YAML directive names another version)",
        );
    }
    // saphyr reads a tab that starts a line as separation; Terraform's YAML library, as
    // YAML says, refuses tabs in indentation.
    if let Some(line) = text.lines().position(|l| l.starts_with('\t')) {
        return err(format!(
            "invalid YAML at line {}, column 1: a tab indents the line (YAML indents with spaces)",
            line + 1
        ));
    }
    let mut loader: YamlLoader<'_, Yaml<'_>> = YamlLoader::default();
    loader.early_parse(false);
    loader.allow_duplicate_keys(true);
    loader.alias_limit(MAX_ALIAS_NODES);
    let mut parser = saphyr_parser::Parser::new_from_str(text);
    let scanned = parser.load(&mut loader, true).err();
    if let Some(e) = scanned.as_ref().or(loader.error()) {
        return err(crate::diagnostic::yaml_error(e));
    }
    let docs = loader.into_documents();
    match docs.as_slice() {
        [] => err("the YAML holds no document"),
        [doc] => value(doc, 0),
        _ => err("the YAML holds more than one document; yamldecode reads one"),
    }
}

fn value(node: &Yaml<'_>, depth: usize) -> Ret {
    if depth > MAX_DEPTH {
        return err(format!("the YAML is nested deeper than {MAX_DEPTH} levels"));
    }
    match node {
        Yaml::Representation(raw, style, tag) => scalar(raw, *style, tag.as_deref()),
        Yaml::Value(v) => Ok(match v {
            Scalar::Null => Value::Null,
            Scalar::Boolean(b) => Value::Bool(*b),
            Scalar::Integer(i) => Value::Number(*i as f64),
            Scalar::FloatingPoint(f) => Value::Number(f.into_inner()),
            Scalar::String(s) => Value::String(s.to_string()),
        }),
        Yaml::Sequence(items) => items
            .iter()
            .map(|item| value(item, depth + 1))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::List),
        Yaml::Mapping(entries) => {
            let mut explicit = BTreeMap::new();
            let mut merged = BTreeMap::new();
            for (k, v) in entries {
                if matches!(k, Yaml::Representation(raw, ScalarStyle::Plain, None) if raw == "<<") {
                    match value(v, depth + 1)? {
                        Value::Object(map) => merged.extend(map),
                        _ => return err("a merge key (<<) must be given a mapping"),
                    }
                    continue;
                }
                explicit.insert(key(k)?, value(v, depth + 1)?);
            }
            merged.extend(explicit);
            Ok(Value::Object(merged))
        }
        // The document of `---` alone.
        Yaml::BadValue if depth == 0 => Ok(Value::Null),
        Yaml::Tagged(..) => {
            err("a YAML tag other than YAML's own (!!str, !!map...) cannot be decoded")
        }
        Yaml::Alias(_) | Yaml::BadValue => {
            err("a YAML value could not be read (an unknown alias, or too many expanded)")
        }
    }
}

/// A mapping key: it must decode to a string.
fn key(node: &Yaml<'_>) -> Result<String, super::FnError> {
    match value(node, MAX_DEPTH)? {
        Value::String(s) => Ok(s),
        other => err(format!(
            "a YAML mapping key must be a string, not a {}",
            other.type_name()
        )),
    }
}

/// A scalar as written: its text, quoting style and tag.
fn scalar(raw: &str, style: ScalarStyle, tag: Option<&Tag>) -> Ret {
    let plain = style == ScalarStyle::Plain;
    let Some(tag) = tag else {
        return Ok(if plain {
            resolve(raw)?
        } else {
            Value::String(raw.to_owned())
        });
    };
    if !tag.is_yaml_core_schema() {
        return err("a YAML tag other than YAML's own (!!str, !!int...) cannot be decoded");
    }
    let wrong = |kind: &str| {
        err(format!(
            "a YAML scalar tagged !!{kind} is not a valid {kind}"
        ))
    };
    match tag.suffix.as_str() {
        "str" | "binary" => Ok(Value::String(raw.to_owned())),
        // A quoted scalar stays a string whatever its tag says.
        _ if !plain => Ok(Value::String(raw.to_owned())),
        "int" | "float" => match resolve(raw)? {
            v @ Value::Number(_) => Ok(v),
            _ => wrong(&tag.suffix),
        },
        "bool" => bool_of(raw)
            .map(Value::Bool)
            .map_or_else(|| wrong("bool"), Ok),
        "null" => Ok(Value::Null),
        "timestamp" => timestamp(raw)
            .map(Value::String)
            .map_or_else(|| wrong("timestamp"), Ok),
        _ => err("a YAML scalar has a tag that does not fit it"),
    }
}

fn bool_of(raw: &str) -> Option<bool> {
    let spellings = |word: &str| [word.to_owned(), capitalised(word), word.to_uppercase()];
    let is = |words: &[&str]| words.iter().any(|w| spellings(w).iter().any(|s| s == raw));
    if is(&["y", "yes", "true", "on"]) {
        Some(true)
    } else if is(&["n", "no", "false", "off"]) {
        Some(false)
    } else {
        None
    }
}

fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// A plain scalar's value.
fn resolve(raw: &str) -> Ret {
    if matches!(raw, "" | "~" | "null" | "Null" | "NULL") {
        return Ok(Value::Null);
    }
    if let Some(b) = bool_of(raw) {
        return Ok(Value::Bool(b));
    }
    let digits = |s: &str, radix: u32| !s.is_empty() && s.chars().all(|c| c.is_digit(radix));
    if let Some(hex) = raw.strip_prefix("0x").filter(|h| digits(h, 16)) {
        return Ok(Value::Number(radix_value(hex, 16)));
    }
    if let Some(oct) = raw.strip_prefix("0o").filter(|o| digits(o, 8)) {
        return Ok(Value::Number(radix_value(oct, 8)));
    }
    if is_decimal(raw) {
        // Every decimal form parses as an f64 (`017` as 17, `1.` as 1). One too large for an
        // f64 is refused: Terraform's numbers have arbitrary precision, and rounding to
        // infinity would be a guess.
        match raw.parse::<f64>() {
            Ok(n) if n.is_finite() => return Ok(Value::Number(n)),
            Ok(_) => return err("a YAML number is too large for ecs-env (64-bit floats)"),
            Err(_) => {}
        }
    }
    let special = raw.trim_start_matches(['-', '+']);
    if matches!(special, ".inf" | ".Inf" | ".INF" | ".nan" | ".NaN" | ".NAN") {
        return err("a YAML infinity or NaN cannot be a Terraform number");
    }
    if let Some(t) = timestamp(raw) {
        return Ok(Value::String(t));
    }
    Ok(Value::String(raw.to_owned()))
}

fn radix_value(digits: &str, radix: u32) -> f64 {
    digits.chars().fold(0.0, |n, c| {
        n * f64::from(radix) + f64::from(c.to_digit(radix).unwrap_or(0))
    })
}

/// `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`
fn is_decimal(raw: &str) -> bool {
    let s = raw.strip_prefix(['-', '+']).unwrap_or(raw);
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let all_digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match mantissa.split_once('.') {
        None => !mantissa.is_empty() && all_digits(mantissa),
        Some(("", frac)) => !frac.is_empty() && all_digits(frac),
        Some((int, frac)) => all_digits(int) && all_digits(frac) && !int.is_empty(),
    };
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && all_digits(e)
    });
    mantissa_ok && exponent_ok
}

/// A YAML 1.1 timestamp as RFC 3339 to the second: `YYYY-M-D`, optionally followed by `T`,
/// `t` or a space and `H:M:S` with an optional fraction and, unless a space separates them,
/// `Z` or `±HH:MM`. `None` when `raw` is not one (or names an impossible date).
fn timestamp(raw: &str) -> Option<String> {
    let number = |t: &str, min: usize, max: usize| -> Option<u32> {
        (t.len() >= min && t.len() <= max && t.bytes().all(|b| b.is_ascii_digit()))
            .then(|| t.parse().ok())
            .flatten()
    };
    let (date, rest) = match raw.find(['T', 't', ' ']) {
        Some(i) => (&raw[..i], Some((&raw[i..i + 1], &raw[i + 1..]))),
        None => (raw, None),
    };
    let mut parts = date.splitn(3, '-');
    let year = number(parts.next()?, 4, 4)?;
    let month = number(parts.next()?, 1, 2)?;
    let day = number(parts.next()?, 1, 2)?;
    if !(1..=12).contains(&month)
        || day == 0
        || day > super::datetime::days_in_month(i64::from(year), month)
    {
        return None;
    }
    let (mut h, mut mi, mut sec, mut zone) = (0, 0, 0, "Z".to_owned());
    if let Some((sep, time)) = rest {
        let (clock, offset) = match sep {
            " " => (time, None),
            _ => match time.find(['Z', '+', '-']) {
                Some(i) => (&time[..i], Some(&time[i..])),
                None => return None,
            },
        };
        let clock = clock.split_once('.').map_or(clock, |(whole, frac)| {
            if !frac.is_empty() && frac.bytes().all(|b| b.is_ascii_digit()) {
                whole
            } else {
                ""
            }
        });
        let mut hms = clock.splitn(3, ':');
        h = number(hms.next()?, 1, 2)?;
        mi = number(hms.next()?, 1, 2)?;
        sec = number(hms.next()?, 1, 2)?;
        if h > 23 || mi > 59 || sec > 59 {
            return None;
        }
        zone = match offset {
            None | Some("Z") => "Z".to_owned(),
            Some(o) => {
                let (sign, hhmm) = o.split_at(1);
                let (oh, om) = hhmm.split_once(':')?;
                let (oh, om) = (number(oh, 2, 2)?, number(om, 2, 2)?);
                if oh > 23 || om > 59 {
                    return None;
                }
                if oh == 0 && om == 0 {
                    "Z".to_owned()
                } else {
                    format!("{sign}{oh:02}:{om:02}")
                }
            }
        };
    }
    Some(format!(
        "{year:04}-{month:02}-{day:02}T{h:02}:{mi:02}:{sec:02}{zone}"
    ))
}
