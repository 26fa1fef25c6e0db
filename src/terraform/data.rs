//! Data sources whose values `terraform plan` knows without state: the region, the
//! partition and the caller's account (from the task region and `--account` or STS), and
//! `template_file` (a template rendered in-process, as `templatefile` renders it).
//!
//! State still wins for the AWS ones when it has them (it records what the last plan read);
//! a `template_file` is always rendered from the configuration, because plan re-renders it.

use std::collections::BTreeMap;

use hcl::edit::expr::TraversalOperator;
use hcl::edit::{Decorated, Span as _};

use super::eval::{Evaluator, Failure, Iteration, Scope, ScopeKind};
use super::source::ResourceDecl;
use super::value::Value;

/// Who runs the configuration, as `data.aws_caller_identity` reports it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Caller {
    /// `--account ID`, or the account STS reported.
    pub account: Option<String>,
    /// From STS only.
    pub arn: Option<String>,
    pub user_id: Option<String>,
}

/// Something only AWS can answer, asked for by the evaluation and answered before the
/// next one (`pipeline` reads it; [`Inputs::looked_up`](super::Inputs) holds the answer).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Lookup {
    /// `data "terraform_remote_state"` with the s3 backend: the state object's outputs.
    RemoteState {
        bucket: String,
        key: String,
        region: Option<String>,
    },
}

/// Whether ecs-env knows `data.TYPE` without state.
pub(crate) fn is_builtin(rtype: &str) -> bool {
    matches!(
        rtype,
        "aws_region"
            | "aws_partition"
            | "aws_caller_identity"
            | "template_file"
            | "terraform_remote_state"
    )
}

impl Evaluator {
    /// `data.TYPE.NAME.ATTR` for a data source in [`is_builtin`]: the value and how many
    /// operators it used (counting the type and the name).
    pub(crate) fn builtin_data(
        &mut self,
        rtype: &str,
        name: &str,
        decl: &ResourceDecl,
        ops: &[Decorated<TraversalOperator>],
        scope: &Scope,
        span: Option<std::ops::Range<usize>>,
    ) -> Result<(Value, usize), Failure> {
        let addr = format!("data.{rtype}.{name}");
        let Some(TraversalOperator::GetAttr(attr)) = ops.first().map(|o| o.value()) else {
            return Err(Failure::error(scope.problem(
                span,
                format!("{addr} is an object: name one of its attributes"),
                "",
            )));
        };
        let attr = attr.as_str();
        let block = Scope::new(
            scope.inst,
            decl.file.clone(),
            Iteration::None,
            ScopeKind::Config,
        );
        let unknown = |message: String, hint: &str| {
            Err(Failure::unknown(scope.problem(span.clone(), message, hint)))
        };
        let value = match (rtype, attr) {
            ("aws_region", "name" | "id" | "region" | "endpoint") => {
                // A block may name another region (`name` before provider 6, `region` since).
                let named = match decl.attrs.get("region").or_else(|| decl.attrs.get("name")) {
                    Some(a) => Some(self.eval(&a.expr, &block)?),
                    None => None,
                };
                let region = match named {
                    Some(v) => self.unknowns.known(v)?.to_str(),
                    None => self.region.clone(),
                };
                let Some(region) = region else {
                    return unknown(
                        format!("{addr}.{attr} is the region, and no region is configured"),
                        "pass --region REGION or set AWS_REGION",
                    );
                };
                match attr {
                    "endpoint" => format!(
                        "ec2.{region}.{}",
                        crate::policy::url_suffix_of(crate::policy::partition_of(&region))
                    ),
                    _ => region,
                }
            }
            ("aws_partition", "partition" | "id" | "dns_suffix" | "reverse_dns_prefix") => {
                let Some(region) = self.region.clone() else {
                    return unknown(
                        format!(
                            "{addr}.{attr} follows from the region, and no region is configured"
                        ),
                        "pass --region REGION or set AWS_REGION",
                    );
                };
                let partition = crate::policy::partition_of(&region);
                let suffix = crate::policy::url_suffix_of(partition);
                match attr {
                    "dns_suffix" => suffix.to_owned(),
                    "reverse_dns_prefix" => suffix.split('.').rev().collect::<Vec<_>>().join("."),
                    _ => partition.to_owned(),
                }
            }
            ("aws_caller_identity", "account_id" | "id") => match self.caller.account.clone() {
                Some(account) => account,
                None => {
                    return unknown(
                        format!("{addr}.{attr} is the account of the credentials in use"),
                        "pass --account ID (offline), or let ecs-env ask STS (sts:GetCallerIdentity)",
                    );
                }
            },
            ("aws_caller_identity", "arn" | "user_id") => {
                let known = if attr == "arn" {
                    self.caller.arn.clone()
                } else {
                    self.caller.user_id.clone()
                };
                match known {
                    Some(v) => v,
                    None => {
                        return unknown(
                            format!("{addr}.{attr} is known only from STS"),
                            "run without --offline, so that ecs-env asks sts:GetCallerIdentity",
                        );
                    }
                }
            }
            ("template_file", "rendered") => {
                return self.template_file(&addr, decl, &block).map(|v| (v, 3));
            }
            ("terraform_remote_state", "outputs") => {
                let lookup = self.remote_state(&addr, decl, &block)?;
                return match self.looked_up.get(&lookup) {
                    Some(outputs) => Ok((outputs.clone(), 3)),
                    None => {
                        let Lookup::RemoteState { bucket, key, .. } = &lookup;
                        let message = format!("{addr} is read from s3://{bucket}/{key}");
                        if !self.wanted.contains(&lookup) {
                            self.wanted.push(lookup);
                        }
                        unknown(
                            message,
                            "run without --offline, so that ecs-env reads it (s3:GetObject)",
                        )
                    }
                };
            }
            _ => {
                return unknown(
                    format!("{addr}.{attr} is not known without state"),
                    "pass --tfstate FILE (terraform state pull > state.json)",
                );
            }
        };
        Ok((Value::String(value), 3))
    }

    /// Where a `terraform_remote_state` reads: its `backend` (s3 only), `config` and
    /// `workspace`.
    fn remote_state(
        &mut self,
        addr: &str,
        decl: &ResourceDecl,
        block: &Scope,
    ) -> Result<Lookup, Failure> {
        let mut setting = |name: &str| -> Result<Option<Value>, Failure> {
            match decl.attrs.get(name) {
                Some(a) => {
                    let v = self.eval(&a.expr, block);
                    self.unknowns.known(v?).map(Some)
                }
                None => Ok(None),
            }
        };
        let backend = setting("backend")?.and_then(|v| v.to_str());
        let config = setting("config")?;
        let workspace = setting("workspace")?.and_then(|v| v.to_str());
        let unsupported = |message: String| {
            Err(Failure::unknown(decl.file.problem(
                decl.span.clone(),
                message,
                super::RENDER_WITH_TERRAFORM,
            )))
        };
        if backend.as_deref() != Some("s3") {
            return unsupported(format!(
                "{addr}: only the s3 backend is read, not `{}`",
                backend.unwrap_or_default()
            ));
        }
        let get = |name: &str| match &config {
            Some(Value::Object(map)) => map.get(name).and_then(Value::to_str),
            _ => None,
        };
        let (Some(bucket), Some(key)) = (get("bucket"), get("key")) else {
            return unsupported(format!("{addr}: its config has no `bucket` or `key`"));
        };
        let key = super::backend::s3_workspace_key(
            key,
            workspace.as_deref().unwrap_or("default"),
            get("workspace_key_prefix").as_deref(),
        );
        Ok(Lookup::RemoteState {
            bucket,
            key,
            region: get("region"),
        })
    }

    /// `data "template_file"` (the retired `template` provider): its `template` rendered with
    /// its `vars`, exactly as `templatefile` renders a file.
    fn template_file(
        &mut self,
        addr: &str,
        decl: &ResourceDecl,
        block: &Scope,
    ) -> Result<Value, Failure> {
        let Some(template) = decl.attrs.get("template") else {
            return Err(Failure::fatal(decl.file.problem(
                decl.span.clone(),
                format!("{addr} has no `template`"),
                "",
            )));
        };
        let text = self.eval(&template.expr, block);
        let text = self.unknowns.known(text?)?;
        let Some(text) = text.to_str() else {
            return Err(Failure::fatal(template.file.problem(
                template.expr.span(),
                format!(
                    "the template of {addr} must be a string, not a {}",
                    text.type_name()
                ),
                "",
            )));
        };
        let vars = match decl.attrs.get("vars") {
            None => BTreeMap::new(),
            Some(a) => match self.eval(&a.expr, block)? {
                Value::Object(map) => map,
                Value::Null => BTreeMap::new(),
                other => {
                    return Err(Failure::fatal(a.file.problem(
                        a.expr.span(),
                        format!(
                            "the vars of {addr} must be a map, not a {}",
                            other.type_name()
                        ),
                        "",
                    )));
                }
            },
        };
        let display = format!("{} ({addr})", template.file.display);
        self.render_template_file(display, text, vars)
    }
}
