//! Reading a template: JSON or YAML text into one JSON shape, with YAML short-form tags
//! (`!Ref`, `!Sub`, `!GetAtt`...) turned into their long form. Separate because nothing after
//! parsing needs to know which syntax the template was written in.

use saphyr::{LoadableYamlNode, Scalar, Tag, Yaml};
use serde_json::{Map, Number, Value};

use super::{MAX_DEPTH, Template, TemplateError};

/// Parse a template: JSON first (CDK's `cdk.out/*.template.json`), else YAML.
///
/// YAML short-form tags become the long form: `!Ref x` is `{"Ref": "x"}`, `!Condition c` is
/// `{"Condition": "c"}`, `!GetAtt a.b.c` is `{"Fn::GetAtt": ["a", "b.c"]}` (split at the first
/// dot, as CloudFormation does), and any other `!Name v` is `{"Fn::Name": v}`.
pub(crate) fn parse(text: &str) -> Result<Template, TemplateError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let root = match serde_json::from_str::<Value>(text) {
        Ok(root) => root,
        Err(json_error) => match yaml_to_json(text) {
            Ok(root) => root,
            // Both failed: report in the syntax the author evidently meant. Positions only:
            // a message quoting the offending text could quote a secret.
            Err(_) if text.trim_start().starts_with(['{', '[']) => {
                return Err(TemplateError::Parse(format!(
                    "invalid JSON at line {}, column {}",
                    json_error.line(),
                    json_error.column()
                )));
            }
            Err(yaml_error) => return Err(yaml_error),
        },
    };
    from_json(root)
}

/// A template from an already parsed JSON document (see [`is_template`]).
pub(crate) fn from_json(root: Value) -> Result<Template, TemplateError> {
    let Value::Object(mut root) = root else {
        return Err(TemplateError::NotATemplate(format!(
            "the top level is {}, not a mapping",
            kind_of(&root)
        )));
    };
    match root.remove("Resources") {
        Some(Value::Object(resources)) => Ok(Template { root, resources }),
        Some(other) => Err(TemplateError::NotATemplate(format!(
            "`Resources` is {}, not a mapping",
            kind_of(&other)
        ))),
        None if root.contains_key("taskDefinition")
            || root.contains_key("containerDefinitions") =>
        {
            Err(TemplateError::NotATemplate(
                "this is an ECS task definition, not a CloudFormation template".to_owned(),
            ))
        }
        None => Err(TemplateError::NotATemplate(
            "there is no top-level `Resources` mapping".to_owned(),
        )),
    }
}

/// Cheap test for "is this a CloudFormation template rather than a task definition": a
/// top-level `Resources` mapping or `AWSTemplateFormatVersion`. Parses JSON; for anything
/// else only scans for the key at the start of a line, without a YAML parse.
pub(crate) fn looks_like_template(text: &str) -> bool {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if let Ok(root) = serde_json::from_str::<Value>(text) {
        return is_template(&root);
    }
    // A top-level YAML key starts in column 0; nested keys are indented.
    text.lines().any(|line| {
        ["Resources", "AWSTemplateFormatVersion"].iter().any(|key| {
            ["", "\"", "'"].iter().any(|quote| {
                line.strip_prefix(quote)
                    .and_then(|rest| rest.strip_prefix(key))
                    .and_then(|rest| rest.strip_prefix(quote))
                    .is_some_and(|rest| rest.trim_start().starts_with(':'))
            })
        })
    })
}

/// A parsed JSON document is a template: it has `Resources` or `AWSTemplateFormatVersion`.
pub(crate) fn is_template(root: &Value) -> bool {
    let Value::Object(root) = root else {
        return false;
    };
    root.get("Resources").is_some_and(Value::is_object)
        || root.contains_key("AWSTemplateFormatVersion")
}

fn yaml_to_json(text: &str) -> Result<Value, TemplateError> {
    let docs = Yaml::load_from_str(text)
        .map_err(|e| TemplateError::Parse(crate::diagnostic::yaml_error(&e)))?;
    let Some(doc) = docs.first() else {
        return Err(TemplateError::NotATemplate("the file is empty".to_owned()));
    };
    yaml_value(doc, 0)
}

fn yaml_value(node: &Yaml<'_>, depth: usize) -> Result<Value, TemplateError> {
    if depth > MAX_DEPTH {
        return Err(TemplateError::Parse(format!(
            "nested deeper than {MAX_DEPTH} levels"
        )));
    }
    match node {
        Yaml::Value(scalar) => Ok(scalar_value(scalar)),
        // Only produced by a loader that defers scalar parsing; handled for completeness.
        Yaml::Representation(raw, style, tag) => {
            Ok(
                Scalar::parse_from_cow_and_metadata(raw.clone(), *style, tag.as_ref())
                    .map_or_else(|| Value::String(raw.to_string()), |s| scalar_value(&s)),
            )
        }
        Yaml::Sequence(items) => items
            .iter()
            .map(|item| yaml_value(item, depth + 1))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        Yaml::Mapping(entries) => {
            let mut out = Map::new();
            for (key, value) in entries {
                out.insert(yaml_key(key)?, yaml_value(value, depth + 1)?);
            }
            Ok(Value::Object(out))
        }
        Yaml::Tagged(tag, inner) => Ok(short_form(tag, yaml_value(inner, depth + 1)?)),
        Yaml::Alias(_) | Yaml::BadValue => Err(TemplateError::Parse(
            "a YAML value could not be read (an unknown alias, or a `!!` tag that does not fit \
             its value)"
                .to_owned(),
        )),
    }
}

fn yaml_key(key: &Yaml<'_>) -> Result<String, TemplateError> {
    match key {
        Yaml::Value(Scalar::String(s)) => Ok(s.to_string()),
        Yaml::Value(Scalar::Integer(i)) => Ok(i.to_string()),
        Yaml::Value(Scalar::Boolean(b)) => Ok(b.to_string()),
        Yaml::Value(Scalar::FloatingPoint(f)) => Ok(f.to_string()),
        _ => Err(TemplateError::NotATemplate(
            "a mapping key is not a plain string".to_owned(),
        )),
    }
}

fn scalar_value(scalar: &Scalar<'_>) -> Value {
    match scalar {
        Scalar::Null => Value::Null,
        Scalar::Boolean(b) => Value::Bool(*b),
        Scalar::Integer(i) => Value::Number(Number::from(*i)),
        // `.inf` and `.nan` have no JSON number; keep their YAML spelling as a string.
        Scalar::FloatingPoint(f) => Number::from_f64(f.into_inner()).map_or_else(
            || Value::String(yaml_special_float(f.into_inner()).to_owned()),
            Value::Number,
        ),
        Scalar::String(s) => Value::String(s.to_string()),
    }
}

fn yaml_special_float(f: f64) -> &'static str {
    if f.is_nan() {
        ".nan"
    } else if f > 0.0 {
        ".inf"
    } else {
        "-.inf"
    }
}

/// `!Name value` as its long form. Only the local `!` handle is CloudFormation's; a value with
/// any other tag keeps its value and loses the tag.
fn short_form(tag: &Tag, value: Value) -> Value {
    if tag.handle != "!" {
        return value;
    }
    let (key, value) = match tag.suffix.as_str() {
        "Ref" => ("Ref".to_owned(), value),
        "Condition" => ("Condition".to_owned(), value),
        "GetAtt" => {
            // `!GetAtt Db.Endpoint.Address` names attribute `Endpoint.Address` of `Db`.
            let value = match value {
                Value::String(s) => match s.split_once('.') {
                    Some((resource, attribute)) => Value::Array(vec![
                        Value::String(resource.to_owned()),
                        Value::String(attribute.to_owned()),
                    ]),
                    None => Value::String(s),
                },
                other => other,
            };
            ("Fn::GetAtt".to_owned(), value)
        }
        name => (format!("Fn::{name}"), value),
    };
    Value::Object(Map::from_iter([(key, value)]))
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}
