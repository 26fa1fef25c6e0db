//! Variable type constraints (`type = map(object({...}))`) and the conversions Terraform
//! applies to a value assigned to a typed variable: `"8080"` becomes `8080` for a `number`,
//! a set is sorted, missing `optional(...)` attributes get their defaults.

use std::collections::BTreeMap;

use hcl::edit::expr::{Expression, ObjectKey};

use super::value::{Value, make_set};

/// A type constraint.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Ty {
    Any,
    String,
    Number,
    Bool,
    List(Box<Ty>),
    Set(Box<Ty>),
    Map(Box<Ty>),
    Tuple(Vec<Ty>),
    Object(BTreeMap<String, ObjAttr>),
}

/// One attribute of an `object({...})` constraint.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ObjAttr {
    pub(crate) ty: Ty,
    pub(crate) optional: bool,
    pub(crate) default: Option<Value>,
}

impl Ty {
    /// Whether `-var` and `TF_VAR_` strings are taken literally (primitive types and
    /// untyped variables) rather than parsed as HCL (everything else, `any` included), as
    /// Terraform's `VariableParsingMode` decides.
    pub(crate) fn parses_literally(ty: Option<&Ty>) -> bool {
        matches!(ty, None | Some(Ty::String | Ty::Number | Ty::Bool))
    }
}

/// Reads a type expression. `literal` evaluates the default of an `optional(T, DEFAULT)`.
pub(crate) fn parse_type(
    expr: &Expression,
    literal: &mut dyn FnMut(&Expression) -> Result<Value, String>,
) -> Result<Ty, String> {
    match expr {
        Expression::Variable(ident) => match ident.as_str() {
            "string" => Ok(Ty::String),
            "number" => Ok(Ty::Number),
            "bool" => Ok(Ty::Bool),
            "any" => Ok(Ty::Any),
            // Bare `list` and `map` are the pre-0.12 spellings of list(any) and map(any).
            "list" => Ok(Ty::List(Box::new(Ty::Any))),
            "map" => Ok(Ty::Map(Box::new(Ty::Any))),
            other => Err(format!("`{other}` is not a type")),
        },
        // The pre-0.12 quoted forms.
        Expression::String(s) => match s.as_str() {
            "string" => Ok(Ty::String),
            "list" => Ok(Ty::List(Box::new(Ty::Any))),
            "map" => Ok(Ty::Map(Box::new(Ty::Any))),
            other => Err(format!("\"{other}\" is not a type")),
        },
        Expression::Parenthesis(p) => parse_type(p.inner(), literal),
        Expression::FuncCall(call) => {
            let name = call.name.name.as_str();
            let args: Vec<&Expression> = call.args.iter().collect();
            match (name, args.as_slice()) {
                ("list", [t]) => Ok(Ty::List(Box::new(parse_type(t, literal)?))),
                ("set", [t]) => Ok(Ty::Set(Box::new(parse_type(t, literal)?))),
                ("map", [t]) => Ok(Ty::Map(Box::new(parse_type(t, literal)?))),
                ("tuple", [Expression::Array(items)]) => Ok(Ty::Tuple(
                    items
                        .iter()
                        .map(|t| parse_type(t, literal))
                        .collect::<Result<_, _>>()?,
                )),
                ("object", [Expression::Object(obj)]) => {
                    let mut attrs = BTreeMap::new();
                    for (key, value) in obj.iter() {
                        let name = match key {
                            ObjectKey::Ident(id) => id.as_str().to_owned(),
                            ObjectKey::Expression(Expression::String(s)) => s.as_str().to_owned(),
                            ObjectKey::Expression(_) => {
                                return Err("object attribute names must be literal".to_owned());
                            }
                        };
                        attrs.insert(name, parse_attr(value.expr(), literal)?);
                    }
                    Ok(Ty::Object(attrs))
                }
                _ => Err(format!("`{name}(...)` is not a type constructor")),
            }
        }
        _ => Err("not a type expression".to_owned()),
    }
}

fn parse_attr(
    expr: &Expression,
    literal: &mut dyn FnMut(&Expression) -> Result<Value, String>,
) -> Result<ObjAttr, String> {
    if let Expression::FuncCall(call) = expr
        && call.name.name.as_str() == "optional"
    {
        let args: Vec<&Expression> = call.args.iter().collect();
        let (ty, default) = match args.as_slice() {
            [t] => (parse_type(t, literal)?, None),
            [t, d] => {
                let ty = parse_type(t, literal)?;
                let default = convert(&literal(d)?, &ty)?;
                (ty, Some(default))
            }
            _ => return Err("optional() takes a type and an optional default".to_owned()),
        };
        return Ok(ObjAttr {
            ty,
            optional: true,
            default,
        });
    }
    Ok(ObjAttr {
        ty: parse_type(expr, literal)?,
        optional: false,
        default: None,
    })
}

/// Converts a value to a type constraint, as Terraform does on assignment to a variable.
pub(crate) fn convert(value: &Value, ty: &Ty) -> Result<Value, String> {
    if *value == Value::Null {
        return Ok(Value::Null);
    }
    let want = |what: &str| format!("{what} required, got {}", value.type_name());
    match ty {
        Ty::Any => Ok(value.clone()),
        Ty::String => value
            .to_str()
            .map(Value::String)
            .ok_or_else(|| want("string")),
        Ty::Number => value
            .to_number()
            .map(Value::Number)
            .ok_or_else(|| want("number")),
        Ty::Bool => value.to_bool().map(Value::Bool).ok_or_else(|| want("bool")),
        Ty::List(elem) | Ty::Set(elem) => {
            let items = value.elements().ok_or_else(|| want("list"))?;
            let converted = items
                .iter()
                .enumerate()
                .map(|(i, v)| convert(v, elem).map_err(|e| format!("element {i}: {e}")))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(if matches!(ty, Ty::Set(_)) {
                make_set(converted)
            } else {
                Value::List(converted)
            })
        }
        Ty::Map(elem) => match value {
            Value::Object(map) => Ok(Value::Object(
                map.iter()
                    .map(|(k, v)| {
                        convert(v, elem)
                            .map(|v| (k.clone(), v))
                            .map_err(|e| format!("element \"{k}\": {e}"))
                    })
                    .collect::<Result<_, _>>()?,
            )),
            _ => Err(want("map")),
        },
        Ty::Tuple(elems) => {
            let items = value.elements().ok_or_else(|| want("tuple"))?;
            if items.len() != elems.len() {
                return Err(format!(
                    "tuple of {} elements required, got {}",
                    elems.len(),
                    items.len()
                ));
            }
            Ok(Value::List(
                items
                    .iter()
                    .zip(elems)
                    .enumerate()
                    .map(|(i, (v, t))| convert(v, t).map_err(|e| format!("element {i}: {e}")))
                    .collect::<Result<_, _>>()?,
            ))
        }
        Ty::Object(attrs) => {
            let Value::Object(map) = value else {
                return Err(want("object"));
            };
            let mut out = BTreeMap::new();
            for (name, attr) in attrs {
                let v = match map.get(name) {
                    Some(v) if *v != Value::Null => {
                        convert(v, &attr.ty).map_err(|e| format!("attribute \"{name}\": {e}"))?
                    }
                    present if attr.optional || present.is_some() => {
                        attr.default.clone().unwrap_or(Value::Null)
                    }
                    _ => return Err(format!("attribute \"{name}\" is required")),
                };
                out.insert(name.clone(), v);
            }
            // Attributes the type does not declare are dropped, as Terraform drops them.
            Ok(Value::Object(out))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ty(src: &str) -> Ty {
        let expr = hcl::edit::parser::parse_expr(src).unwrap();
        parse_type(&expr, &mut |e| match e {
            Expression::String(s) => Ok(Value::String(s.as_str().to_owned())),
            Expression::Number(n) => Ok(Value::Number(n.as_f64().unwrap())),
            _ => Err("literal".into()),
        })
        .unwrap()
    }

    #[test]
    fn conversions_follow_terraform() {
        assert_eq!(
            convert(&Value::String("8080".into()), &ty("number")),
            Ok(Value::Number(8080.0))
        );
        assert_eq!(
            convert(&Value::Number(3.0), &ty("string")),
            Ok(Value::String("3".into()))
        );
        assert!(convert(&Value::String("x".into()), &ty("bool")).is_err());
        let obj =
            ty(r#"object({ name = string, port = optional(number, 80), tag = optional(string) })"#);
        let v = Value::Object(BTreeMap::from([
            ("name".to_owned(), Value::String("web".into())),
            ("extra".to_owned(), Value::Bool(true)),
        ]));
        assert_eq!(
            convert(&v, &obj),
            Ok(Value::Object(BTreeMap::from([
                ("name".to_owned(), Value::String("web".into())),
                ("port".to_owned(), Value::Number(80.0)),
                ("tag".to_owned(), Value::Null),
            ])))
        );
        let missing = Value::Object(BTreeMap::new());
        assert!(
            convert(&missing, &obj)
                .unwrap_err()
                .contains("\"name\" is required")
        );
        assert!(Ty::parses_literally(Some(&ty("string"))));
        assert!(!Ty::parses_literally(Some(&ty("any"))));
        assert!(!Ty::parses_literally(Some(&ty("list(string)"))));
    }
}
