//! String templates: `${...}` interpolations and `%{ for }`/`%{ if }` directives with `~`
//! strip markers, in expressions and heredocs, and `templatefile()`-style template files.

use std::collections::BTreeMap;
use std::sync::Arc;

use hcl::edit::Span;
use hcl::edit::template::{Directive, Element, Strip, Template};

use super::eval::{Collect, Eval, Evaluator, Failure, Iteration, Scope, ScopeKind};
use super::source::SourceFile;
use super::value::Value;

impl Evaluator {
    /// A template: a single interpolation yields its value unconverted (HCL's
    /// "interpolation unwrapping"); anything else renders to a string.
    pub(crate) fn eval_template(&mut self, t: &Template, scope: &Scope) -> Eval {
        let elements: Vec<&Element> = t.iter().collect();
        if let [Element::Interpolation(i)] = elements.as_slice() {
            return self.eval(&i.expr, scope);
        }
        let mut out = String::new();
        self.render(t, scope, Strip::None, Strip::None, &mut out)?;
        Ok(Value::String(out))
    }

    /// Renders template elements, applying `~` strip markers to the literals next to them.
    fn render(
        &mut self,
        t: &Template,
        scope: &Scope,
        prev_strip: Strip,
        next_strip: Strip,
        out: &mut String,
    ) -> Result<(), Failure> {
        let elements: Vec<&Element> = t.iter().collect();
        let mut collect = Collect::default();
        for (i, element) in elements.iter().enumerate() {
            let prev = if i == 0 {
                prev_strip
            } else {
                element_strip(elements[i - 1])
            };
            let next = if i + 1 == elements.len() {
                next_strip
            } else {
                element_strip(elements[i + 1])
            };
            match element {
                Element::Literal(lit) => out.push_str(strip_literal(lit.value(), prev, next)),
                Element::Interpolation(interp) => {
                    let r = self.eval(&interp.expr, scope);
                    let r = self.soften(r, scope).and_then(|v| {
                        interpolate(&v)
                            .map_err(|m| Failure::error(scope.problem(interp.expr.span(), m, "")))
                    });
                    if let Some(s) = collect.take(r) {
                        out.push_str(&s);
                    }
                }
                Element::Directive(d) => match &**d {
                    Directive::If(d) => {
                        let cond = self.eval(&d.if_expr.cond_expr, scope);
                        let cond = self.known(cond).and_then(|c| {
                            c.to_bool().ok_or_else(|| {
                                Failure::error(scope.problem(
                                    d.if_expr.cond_expr.span(),
                                    format!(
                                        "the %{{if}} condition is a {}, not a bool",
                                        c.type_name()
                                    ),
                                    "",
                                ))
                            })
                        });
                        match collect.take(cond) {
                            Some(true) => {
                                let end = match &d.else_expr {
                                    Some(e) => e.strip,
                                    None => d.endif_expr.strip,
                                };
                                let r = self.render(
                                    &d.if_expr.template,
                                    scope,
                                    d.if_expr.strip,
                                    end,
                                    out,
                                );
                                collect.take(r);
                            }
                            Some(false) => {
                                if let Some(e) = &d.else_expr {
                                    let r = self.render(
                                        &e.template,
                                        scope,
                                        e.strip,
                                        d.endif_expr.strip,
                                        out,
                                    );
                                    collect.take(r);
                                }
                            }
                            None => {}
                        }
                    }
                    Directive::For(d) => {
                        let f = &d.for_expr;
                        let coll = self.eval(&f.collection_expr, scope);
                        let coll = coll.and_then(|c| self.whole(c));
                        let Some(coll) = collect.take(coll) else {
                            continue;
                        };
                        let pairs: Vec<(Value, Value)> = match coll {
                            Value::List(items) => items
                                .into_iter()
                                .enumerate()
                                .map(|(i, v)| (Value::Number(i as f64), v))
                                .collect(),
                            Value::Set(items) => {
                                items.into_iter().map(|v| (v.clone(), v)).collect()
                            }
                            Value::Object(map) => map
                                .into_iter()
                                .map(|(k, v)| (Value::String(k), v))
                                .collect(),
                            other => {
                                collect.add(Failure::error(scope.problem(
                                    f.collection_expr.span(),
                                    format!(
                                        "%{{for}} needs a collection, not a {}",
                                        other.type_name()
                                    ),
                                    "",
                                )));
                                continue;
                            }
                        };
                        for (k, v) in pairs {
                            let mut inner = scope.bind(f.value_var.as_str(), v);
                            if let Some(key_var) = &f.key_var {
                                inner = inner.bind(key_var.as_str(), k);
                            }
                            let r =
                                self.render(&f.template, &inner, f.strip, d.endfor_expr.strip, out);
                            collect.take(r);
                        }
                    }
                },
            }
        }
        collect.finish(())
    }

    /// Renders a `templatefile()` template with only `vars` in scope.
    pub(crate) fn render_template_file(
        &mut self,
        display: String,
        text: String,
        vars: BTreeMap<String, Value>,
    ) -> Eval {
        if let Some(hazard) = super::source::parse_hazard(&text, true) {
            return Err(Failure::fatal(hazard.problem(&display)));
        }
        let (template, text) = match super::respell::parse(text, hcl::edit::parser::parse_template)
        {
            Ok(parsed) => parsed,
            Err(e) => {
                return Err(Failure::fatal(super::source::parse_problem(&display, &e)));
            }
        };
        let file = Arc::new(SourceFile::new(display, text));
        let mut scope = Scope::new(0, file, Iteration::None, ScopeKind::Template);
        for (k, v) in vars {
            scope = scope.bind(&k, v);
        }
        self.eval_template(&template, &scope)
    }
}

/// The strip markers a template element imposes on its neighbours.
fn element_strip(e: &Element) -> Strip {
    match e {
        Element::Literal(_) => Strip::None,
        Element::Interpolation(i) => i.strip,
        Element::Directive(d) => match &**d {
            Directive::If(d) => Strip::from((
                d.if_expr.strip.strip_start(),
                d.endif_expr.strip.strip_end(),
            )),
            Directive::For(d) => Strip::from((
                d.for_expr.strip.strip_start(),
                d.endfor_expr.strip.strip_end(),
            )),
        },
    }
}

/// Strips the spaces and the one line break next to a `~` marker, as HCL does.
fn strip_literal(mut literal: &str, prev: Strip, next: Strip) -> &str {
    let is_space = |c: char| c.is_whitespace() && c != '\r' && c != '\n';
    if prev.strip_end() {
        literal = literal.trim_start_matches(is_space);
        literal = literal
            .strip_prefix("\r\n")
            .or_else(|| literal.strip_prefix('\n'))
            .unwrap_or(literal);
    }
    if next.strip_start() {
        literal = literal.trim_end_matches(is_space);
        literal = literal
            .strip_suffix("\r\n")
            .or_else(|| literal.strip_suffix('\n'))
            .unwrap_or(literal);
    }
    literal
}

/// A value inside `${...}`: primitives become strings; null and collections are errors.
fn interpolate(v: &Value) -> Result<String, String> {
    match v {
        Value::Null => Err("the value is null; a string template cannot include null".to_owned()),
        Value::List(_) | Value::Set(_) | Value::Object(_) => Err(format!(
            "a {} cannot be included in a string template; use jsonencode() or join()",
            v.type_name()
        )),
        other => Ok(other.to_str().unwrap_or_default()),
    }
}
