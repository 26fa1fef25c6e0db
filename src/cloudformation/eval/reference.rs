//! `Ref` and what it can name (pseudo parameters, the template's parameters, resources' physical
//! ids), and `Fn::ImportValue`, which names another stack's export. Separate because these are
//! the values that come from outside the template, from the caller's [`Context`]
//! (`--parameter`, `--stack`, the region and account), and so carry the hints saying which flag
//! supplies each.
//!
//! [`Context`]: crate::cloudformation::Context

use serde_json::Value;

use super::{Res, Resolved, Resolver, one, scalar_string};
use crate::cloudformation::USE_DEPLOYED;

impl Resolver<'_> {
    /// `Ref` (also `${Name}` in `Fn::Sub`): a pseudo parameter, a parameter, or a resource's
    /// physical id. `expr` is how the failing expression is reported.
    pub(super) fn reference(&self, target: &str, path: &str, expr: &str) -> Res<Resolved> {
        let string = |s: String| Ok(Resolved::Value(Value::String(s)));
        if target.starts_with("AWS::") {
            return self.pseudo(target, path, expr);
        }
        if let Some(decl) = self
            .template
            .section("Parameters")
            .and_then(|p| p.get(target))
        {
            return self.parameter(target, decl, path, expr);
        }
        if self.template.resources().contains_key(target) {
            return self.physical_id(target, path, expr).and_then(string);
        }
        Err(one(
            path,
            expr,
            format!("the template has no parameter or resource named `{target}`"),
        ))
    }

    fn pseudo(&self, name: &str, path: &str, expr: &str) -> Res<Resolved> {
        let known = |v: Option<&str>, missing: &str| match v {
            Some(v) => Ok(Resolved::Value(Value::String(v.to_owned()))),
            None => Err(one(path, expr, missing)),
        };
        match name {
            "AWS::NoValue" => Ok(Resolved::NoValue),
            "AWS::Region" => known(
                self.ctx.region.as_deref(),
                "AWS::Region is not known: configure a region (--region)",
            ),
            "AWS::AccountId" => known(
                self.ctx.account.as_deref(),
                "AWS::AccountId is not known: pass --account ACCOUNT_ID (or allow \
                 sts:GetCallerIdentity so it can be read)",
            ),
            "AWS::Partition" => known(
                self.partition.as_deref(),
                "AWS::Partition is not known: configure a region (--region) to derive it",
            ),
            "AWS::URLSuffix" => known(
                self.partition.as_deref().map(crate::policy::url_suffix_of),
                "AWS::URLSuffix is not known: configure a region (--region) to derive it",
            ),
            "AWS::StackName" => known(
                self.ctx.stack_name.as_deref(),
                "AWS::StackName is not known: pass --stack STACK_NAME",
            ),
            "AWS::StackId" | "AWS::NotificationARNs" => Err(one(
                path,
                expr,
                format!("{name} is only known to the deployed stack; {USE_DEPLOYED}"),
            )),
            _ => Err(one(
                path,
                expr,
                format!("{name} is not a pseudo parameter CloudFormation defines"),
            )),
        }
    }

    fn parameter(&self, name: &str, decl: &Value, path: &str, expr: &str) -> Res<Resolved> {
        let ty = decl.get("Type").and_then(Value::as_str).unwrap_or("String");
        let raw = if let Some(v) = self.ctx.parameters.get(name) {
            v.clone()
        } else if ty.starts_with("AWS::SSM::Parameter::Value<") {
            // The default of an SSM-typed parameter is the *name* of a Parameter Store entry;
            // CloudFormation substitutes that entry's value at deploy time.
            return Err(one(
                path,
                expr,
                format!(
                    "parameter `{name}` is read from SSM Parameter Store at deploy time; pass \
                     --parameter {name}=VALUE"
                ),
            ));
        } else {
            match decl.get("Default") {
                Some(Value::Array(items)) => items
                    .iter()
                    .filter_map(scalar_string)
                    .collect::<Vec<_>>()
                    .join(","),
                Some(v) if scalar_string(v).is_some() => scalar_string(v).unwrap_or_default(),
                _ => {
                    return Err(one(path, expr, format!("pass --parameter {name}=VALUE")));
                }
            }
        };
        // List types are lists of strings to `Ref`; CloudFormation trims each member.
        if ty == "CommaDelimitedList"
            || ty.contains("List<")
            || ty.ends_with("<CommaDelimitedList>")
        {
            Ok(Resolved::Value(Value::Array(
                raw.split(',')
                    .map(|s| Value::String(s.trim().to_owned()))
                    .collect(),
            )))
        } else {
            Ok(Resolved::Value(Value::String(raw)))
        }
    }

    pub(super) fn physical_id(&self, logical_id: &str, path: &str, expr: &str) -> Res<String> {
        match &self.ctx.stack_resources {
            None => Err(one(
                path,
                expr,
                "pass --stack STACK_NAME so the physical id can be read (Ref of a resource is \
                 its physical id)",
            )),
            Some(ids) => ids.get(logical_id).cloned().ok_or_else(|| {
                one(
                    path,
                    expr,
                    format!(
                        "the stack has no resource `{logical_id}` (not created yet, or skipped \
                         because its Condition is false)"
                    ),
                )
            }),
        }
    }

    /// `Fn::ImportValue`: another stack's export, known offline only from `--parameter`. The
    /// export's name is kept: a `--parameter` naming it is then not an unknown parameter.
    pub(super) fn import_value(&self, arg: &Value, path: &str, depth: usize) -> Res<String> {
        const NAME: &str = "Fn::ImportValue";
        let export = self.eval_string(arg, path, depth, NAME)?;
        self.imports.borrow_mut().insert(export.clone());
        match self.ctx.parameters.get(&export) {
            Some(v) => Ok(v.clone()),
            None => Err(one(
                path,
                format!("Fn::ImportValue: {export}"),
                format!(
                    "Fn::ImportValue is not supported; pass the export's value with \
                     --parameter {export}=VALUE"
                ),
            )),
        }
    }
}
