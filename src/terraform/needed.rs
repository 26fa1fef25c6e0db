//! What of an evaluated `container_definitions` the environment needs, and what it does not.
//!
//! The selected container's `name`, `environment`, `environmentFiles` and `secrets` must be known
//! exactly: an unknown value there is a problem, as before. An entry whose variable is
//! overridden locally (`--override`) is the exception: the override replaces its value, so
//! its value or `valueFrom` is never needed. Everything else (images, log groups, ports,
//! other containers) is not needed to build the environment: an unknown value there is
//! dropped, or, where `check` and `policy` read it (log driver secrets, registry
//! credentials, other containers' entries), replaced by
//! [`UNRESOLVED`](crate::cloudformation::UNRESOLVED), which they report when they need it.

use serde_json::{Map, Value as Json};

use super::Problem;
use super::unknown::{Unknowns, has_marker};
use crate::cloudformation::UNRESOLVED;
use crate::taskdef::{OVERRIDDEN, SourceName, Wanted};

/// The fields of a container that make its environment.
const ENVIRONMENT_FIELDS: [&str; 3] = ["environment", "environmentFiles", "secrets"];

/// `defs` (a JSON array) with every unknown value that is not needed dropped or marked
/// unresolved, plus one note per dropped or marked field; or the problems behind the unknown
/// values the environment needs.
pub(crate) fn scrub(
    mut defs: Json,
    unknowns: &Unknowns,
    wanted: &Wanted,
) -> Result<(Json, Vec<String>), Vec<Problem>> {
    let Json::Array(containers) = &mut defs else {
        return Ok((defs, Vec::new()));
    };
    // A container unknown as a whole (a marker where its object would be) has an unknown
    // name: its problems stand for the name.
    let names: Vec<Option<&Json>> = containers
        .iter()
        .map(|c| match c {
            Json::String(s) if has_marker(s) => Some(c),
            _ => c.get("name"),
        })
        .collect();
    let states: Vec<SourceName> = names
        .iter()
        .map(|n| match n {
            Some(n) if !unknowns.in_json(n).is_empty() => SourceName::Unknown,
            Some(Json::String(s)) => SourceName::Known(s),
            _ => SourceName::Absent,
        })
        .collect();
    let Ok(needed) = wanted.needed(&states) else {
        return Err(names
            .iter()
            .flat_map(|n| unknowns.in_json(n.unwrap_or(&Json::Null)))
            .collect());
    };
    let mut problems = Vec::new();
    let mut notes = Vec::new();
    for (c, needed) in containers.iter_mut().zip(needed) {
        if let Json::String(marker) = c
            && has_marker(marker)
        {
            let found = unknowns.in_json(c);
            if needed {
                problems.extend(found);
            } else if let Some(first) = found.first() {
                notes.push(format!(
                    "a container is not known here ({first}); marked unresolved"
                ));
                *c = unknown_container(c.clone());
            }
            continue;
        }
        let Json::Object(c) = c else { continue };
        let label = match c.get("name").and_then(Json::as_str) {
            Some(name) if !has_marker(name) => {
                format!("container `{}`", crate::diagnostic::escaped(name))
            }
            _ => "a container".to_owned(),
        };
        if needed {
            if let Some(name) = c.get("name") {
                problems.extend(unknowns.in_json(name));
            }
            for field in ENVIRONMENT_FIELDS {
                if let Some(entries) = c.get_mut(field) {
                    skip_overridden(entries, field, wanted);
                    problems.extend(unknowns.in_json(entries));
                }
            }
        }
        let fields: Vec<String> = c.keys().cloned().collect();
        for field in fields {
            let value = &c[&field];
            let found = unknowns.in_json(value);
            let Some(first) = found.first() else { continue };
            let reason = format!("{first}");
            match field.as_str() {
                "name"
                | "environment"
                | "environmentFiles"
                | "secrets"
                | "logConfiguration"
                | "repositoryCredentials" => {
                    let replaced = unresolved(&field, value.clone());
                    c.insert(field.clone(), replaced);
                    notes.push(format!(
                        "{label}: `{field}` is partly unknown here ({reason}); marked unresolved"
                    ));
                }
                _ => {
                    c.remove(&field);
                    notes.push(format!(
                        "{label}: `{field}` is not known here ({reason}); the environment does not need it"
                    ));
                }
            }
        }
    }
    if problems.is_empty() {
        Ok((defs, notes))
    } else {
        // In source order: JSON objects come back with sorted keys.
        let mut unique: Vec<Problem> = Vec::new();
        for p in problems {
            if !unique.contains(&p) {
                unique.push(p);
            }
        }
        unique.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
        Err(unique)
    }
}

/// A container unknown as a whole, as `check` and `policy` read one: every field they
/// read unresolved, so that they report it where they need it.
fn unknown_container(marker: Json) -> Json {
    let fields = [
        "name",
        "environment",
        "environmentFiles",
        "secrets",
        "logConfiguration",
        "repositoryCredentials",
    ];
    Json::Object(
        fields
            .into_iter()
            .map(|f| (f.to_owned(), unresolved(f, marker.clone())))
            .collect(),
    )
}

/// Clears the unknown value of each entry whose variable is overridden.
fn skip_overridden(entries: &mut Json, field: &str, wanted: &Wanted) {
    let key = match field {
        "environment" => "value",
        "secrets" => "valueFrom",
        _ => return,
    };
    let Json::Array(entries) = entries else {
        return;
    };
    for entry in entries {
        let Json::Object(entry) = entry else { continue };
        let overridden = entry
            .get("name")
            .and_then(Json::as_str)
            .is_some_and(|name| !has_marker(name) && wanted.overridden(name));
        if overridden
            && entry
                .get(key)
                .and_then(Json::as_str)
                .is_some_and(has_marker)
        {
            let placeholder = if key == "value" { "" } else { OVERRIDDEN };
            entry.insert(key.to_owned(), Json::String(placeholder.to_owned()));
        }
    }
}

/// A field with its unknown strings replaced by [`UNRESOLVED`]; a field unknown as a whole
/// gets the shape its readers expect, with unresolved contents.
fn unresolved(field: &str, value: Json) -> Json {
    match value {
        Json::String(s) if has_marker(&s) => match field {
            "name" => Json::String(UNRESOLVED.to_owned()),
            "secrets" => serde_json::json!([{"name": UNRESOLVED, "valueFrom": UNRESOLVED}]),
            "environmentFiles" => serde_json::json!([{"value": UNRESOLVED, "type": "s3"}]),
            "logConfiguration" => serde_json::json!({
                "secretOptions": [{"name": UNRESOLVED, "valueFrom": UNRESOLVED}]
            }),
            "repositoryCredentials" => serde_json::json!({"credentialsParameter": UNRESOLVED}),
            _ => Json::Array(Vec::new()),
        },
        other => replace_markers(other),
    }
}

fn replace_markers(value: Json) -> Json {
    match value {
        Json::String(s) if has_marker(&s) => Json::String(UNRESOLVED.to_owned()),
        Json::Array(items) => Json::Array(items.into_iter().map(replace_markers).collect()),
        Json::Object(map) => Json::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let k = if has_marker(&k) {
                        UNRESOLVED.to_owned()
                    } else {
                        k
                    };
                    (k, replace_markers(v))
                })
                .collect::<Map<String, Json>>(),
        ),
        other => other,
    }
}
