//! `Fn::Sub`: `${Name}` and `${Resource.Attribute}` substituted in a string, from its own
//! variables, `Ref` or `Fn::GetAtt`, with `${!Literal}` kept literal. Separate because it
//! is a small parser of its own, reporting every variable it cannot substitute.

use serde_json::Value;

use super::{Res, Resolved, Resolver, malformed, scalar_string};

impl Resolver<'_> {
    pub(super) fn sub(&self, arg: &Value, path: &str, depth: usize) -> Res<String> {
        const NAME: &str = "Fn::Sub";
        let (text, vars) = match arg {
            Value::String(s) => (s.as_str(), None),
            Value::Array(parts) => match parts.as_slice() {
                [Value::String(s)] => (s.as_str(), None),
                [Value::String(s), Value::Object(vars)] => (s.as_str(), Some(vars)),
                _ => {
                    return Err(malformed(
                        path,
                        NAME,
                        "expected a string or [string, {variables}]",
                    ));
                }
            },
            _ => {
                return Err(malformed(
                    path,
                    NAME,
                    "expected a string or [string, {variables}]",
                ));
            }
        };
        let mut out = String::with_capacity(text.len());
        let mut errors = Vec::new();
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let Some(end) = after.find('}') else {
                // An unterminated `${` is literal text.
                out.push_str(&rest[start..]);
                rest = "";
                break;
            };
            let inner = &after[..end];
            rest = &after[end + 1..];
            if let Some(literal) = inner.strip_prefix('!') {
                // `${!Literal}` is the escape for a literal `${Literal}`.
                out.push_str("${");
                out.push_str(literal);
                out.push('}');
                continue;
            }
            let var = inner.trim();
            let expr = format!("Fn::Sub: ${{{var}}}");
            let resolved = if let Some(v) = vars.and_then(|vars| vars.get(var)) {
                self.eval_string(v, path, depth + 1, NAME)
            } else if let Some((resource, attribute)) =
                var.split_once('.').filter(|_| !var.starts_with("AWS::"))
            {
                self.get_att(resource, attribute, path, &expr, depth + 1)
            } else {
                match self.reference(var, path, &expr) {
                    Ok(Resolved::Value(v)) => scalar_string(&v).ok_or_else(|| {
                        malformed(path, NAME, &format!("`${{{var}}}` is a list, not a string"))
                    }),
                    Ok(Resolved::NoValue) => {
                        Err(malformed(path, NAME, "AWS::NoValue cannot be substituted"))
                    }
                    Err(e) => Err(e),
                }
            };
            match resolved {
                Ok(s) => out.push_str(&s),
                Err(e) => errors.extend(e),
            }
        }
        out.push_str(rest);
        if errors.is_empty() {
            Ok(out)
        } else {
            Err(errors)
        }
    }
}
