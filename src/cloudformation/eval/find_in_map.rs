//! `Fn::FindInMap`: a value from the template's `Mappings`, with the `DefaultValue` that
//! `AWS::LanguageExtensions` adds. Separate as the one intrinsic that reads `Mappings`.

use serde_json::Value;

use super::{Res, Resolved, Resolver, collect, malformed, one};

impl Resolver<'_> {
    pub(super) fn find_in_map(&self, arg: &Value, path: &str, depth: usize) -> Res<Resolved> {
        const NAME: &str = "Fn::FindInMap";
        let Some(parts) = arg.as_array().filter(|p| p.len() == 3 || p.len() == 4) else {
            return Err(malformed(
                path,
                NAME,
                "expected [MapName, TopLevelKey, SecondLevelKey]",
            ));
        };
        let keys = collect(
            parts[..3]
                .iter()
                .map(|k| self.eval_string(k, path, depth, NAME)),
        )?;
        let found = self
            .template
            .section("Mappings")
            .and_then(|m| m.get(&keys[0]))
            .and_then(|m| m.get(&keys[1]))
            .and_then(|m| m.get(&keys[2]));
        match (found, parts.get(3)) {
            // Mapping values are literals: CloudFormation allows no functions inside them.
            (Some(v), _) => Ok(Resolved::Value(v.clone())),
            // `AWS::LanguageExtensions` adds a fourth argument, `{"DefaultValue": ...}`.
            (None, Some(Value::Object(default))) if default.contains_key("DefaultValue") => {
                self.eval(&default["DefaultValue"], path, depth + 1)
            }
            (None, _) => Err(one(
                path,
                format!("Fn::FindInMap: [{}, {}, {}]", keys[0], keys[1], keys[2]),
                "the template's Mappings have no such entry",
            )),
        }
    }
}
