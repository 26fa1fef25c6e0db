//! `Fn::GetAtt` (also `${Resource.Attribute}` in `Fn::Sub`): the few attributes a physical id
//! decides (a secret's ARN, a role's ARN), and for every other one a failure saying only the
//! deployed stack knows it. Separate because it is where the resource types ecs-env knows are
//! named, and which attributes of them it can build.

use serde_json::Value;

use super::{Res, Resolver, both, malformed, one};
use crate::cloudformation::{ROLE_TYPE, SECRET_TYPE, USE_DEPLOYED};

impl Resolver<'_> {
    /// `Fn::GetAtt`, long form `[LogicalId, Attribute]` or short form `LogicalId.Attribute`.
    pub(super) fn get_att_function(&self, arg: &Value, path: &str, depth: usize) -> Res<String> {
        const NAME: &str = "Fn::GetAtt";
        let (resource, attribute) = match arg {
            Value::Array(parts) if parts.len() == 2 => {
                let Some(resource) = parts[0].as_str() else {
                    return Err(malformed(path, NAME, "expected a logical id"));
                };
                // The attribute name may itself be a `Ref`.
                let attribute = self.eval_string(&parts[1], path, depth, NAME)?;
                (resource.to_owned(), attribute)
            }
            Value::String(s) => match s.split_once('.') {
                Some((r, a)) => (r.to_owned(), a.to_owned()),
                None => {
                    return Err(malformed(path, NAME, "expected [LogicalId, Attribute]"));
                }
            },
            _ => return Err(malformed(path, NAME, "expected [LogicalId, Attribute]")),
        };
        let expr = format!("Fn::GetAtt: [{resource}, {attribute}]");
        self.get_att(&resource, &attribute, path, &expr, depth)
    }

    pub(super) fn get_att(
        &self,
        resource: &str,
        attribute: &str,
        path: &str,
        expr: &str,
        depth: usize,
    ) -> Res<String> {
        match (self.template.resource_type(resource), attribute) {
            // A secret's physical id is its ARN.
            (Some(SECRET_TYPE), "Arn" | "Id") => self.physical_id(resource, path, expr),
            // A role's physical id is its name; the ARN adds partition, account and path.
            (Some(ROLE_TYPE), "Arn") => {
                let role_path = self.template.resources()[resource]
                    .get("Properties")
                    .and_then(|p| p.get("Path"));
                let role_path = match role_path {
                    Some(p) => self.eval_string(p, path, depth, "Path").map(Some),
                    None => Ok(None),
                };
                // One report for the expression, naming everything it still needs.
                let mut needs = Vec::new();
                if self.partition.is_none() {
                    needs.push("AWS::Partition: configure a region (--region)");
                }
                if self.ctx.account.is_none() {
                    needs.push("AWS::AccountId: pass --account ACCOUNT_ID");
                }
                let name = match (self.physical_id(resource, path, expr), needs.is_empty()) {
                    (Ok(name), true) => Ok(name),
                    (Ok(_), false) => Err(one(
                        path,
                        expr,
                        format!("the role's ARN needs {}", needs.join(" and ")),
                    )),
                    (Err(mut e), false) => {
                        e[0].hint = format!(
                            "{}; the role's ARN also needs {}",
                            e[0].hint,
                            needs.join(" and ")
                        );
                        Err(e)
                    }
                    (Err(e), true) => Err(e),
                };
                let (name, role_path) = both(name, role_path)?;
                let partition = self.partition.as_deref().unwrap_or_default();
                let account = self.ctx.account.as_deref().unwrap_or_default();
                let role_path = role_path.unwrap_or_else(|| "/".to_owned());
                Ok(crate::arn::build(
                    partition,
                    "iam",
                    "",
                    account,
                    &format!("role{role_path}{name}"),
                ))
            }
            (None, _) => Err(one(
                path,
                expr,
                format!("the template has no resource named `{resource}`"),
            )),
            (Some(ty), _) => Err(one(
                path,
                expr,
                format!(
                    "attribute `{attribute}` of a {ty} is only known to the deployed stack \
                     (ecs-env resolves Arn/Id of a {SECRET_TYPE} and Arn of an {ROLE_TYPE}, \
                     with --stack); {USE_DEPLOYED}"
                ),
            )),
        }
    }
}
