//! Values `terraform plan` knows without state.
//!
//! - Data sources answered here: the region and the partition (from the task region), and
//!   `template_file` (a template rendered in-process, as `templatefile` renders it).
//! - Data sources plan reads from AWS, read the same way, read-only ([`Lookup`]): the caller's
//!   identity (`--account` answers the account offline), `terraform_remote_state` (s3),
//!   `aws_secretsmanager_secret`, `aws_secretsmanager_secret_version`, `aws_ssm_parameter`,
//!   `aws_iam_role` and `aws_kms_alias`.
//! - A managed `aws_secretsmanager_secret`, `aws_ssm_parameter`, `aws_iam_role` or
//!   `aws_kms_alias` missing from state, whose ARN follows from the `name` it is configured
//!   with: looked up by that name.
//!
//! An evaluation does not call AWS. It records what it would read (with the problem that
//! stands for the value until then); `load_asking` returns the lookups behind the problems
//! that stop the environment, and the pipeline answers them in one concurrent wave before
//! evaluating again. So a lookup that only an image or a log group needs is never made, and a
//! failed one is fatal only where its value is needed.
//!
//! Online, the data sources plan reads are read live even where the state holds a copy
//! ([`is_read_live`]): plan reads them again each time, and the state's copy is what the last
//! apply read. Offline, and for the region, partition and caller, the state wins when it has
//! them. A `template_file` is always rendered from the configuration, because plan
//! re-renders it.

use std::collections::BTreeMap;

use hcl::edit::expr::TraversalOperator;
use hcl::edit::{Decorated, Span as _};

use super::eval::{Evaluator, Failure, Iteration, Scope, ScopeKind};
use super::source::{Mode, ResourceDecl};
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
/// next one (`pipeline` reads it; [`Inputs::looked_up`](super::Inputs) holds the answer: an
/// object of the attributes Terraform would show, or why AWS could not say).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Lookup {
    /// `data "terraform_remote_state"` with the s3 backend: `{"outputs": {...}}`.
    RemoteState {
        bucket: String,
        key: String,
        region: Option<String>,
    },
    /// `data "aws_caller_identity"`: `sts:GetCallerIdentity`.
    CallerIdentity,
    /// `data "aws_secretsmanager_secret"` (by `arn` or `name`), or a managed
    /// `aws_secretsmanager_secret` by its `name`: `secretsmanager:DescribeSecret`.
    Secret { id: String },
    /// `data "aws_secretsmanager_secret_version"`: `secretsmanager:GetSecretValue`.
    SecretVersion {
        id: String,
        version_id: Option<String>,
        version_stage: Option<String>,
    },
    /// `data "aws_ssm_parameter"`, or a managed `aws_ssm_parameter` by its `name`:
    /// `ssm:GetParameter`.
    Parameter { name: String, decrypt: bool },
    /// `data "aws_iam_role"`, or a managed `aws_iam_role` by its `name`: `iam:GetRole`.
    Role { name: String },
    /// `data "aws_kms_alias"`, or a managed `aws_kms_alias` by its `name`:
    /// `kms:DescribeKey` of the alias (the key it points at; the alias's ARN follows from the
    /// key's, since an alias lives in its key's account and region).
    KmsAlias { name: String },
}

impl Lookup {
    /// The call and what it reads: `ssm:GetParameter /app/image`.
    pub(crate) fn describe(&self) -> String {
        let escaped = crate::diagnostic::escaped;
        match self {
            Lookup::RemoteState { bucket, key, .. } => {
                format!("s3:GetObject s3://{}/{}", escaped(bucket), escaped(key))
            }
            Lookup::CallerIdentity => "sts:GetCallerIdentity".to_owned(),
            Lookup::Secret { id } => format!("secretsmanager:DescribeSecret {}", escaped(id)),
            Lookup::SecretVersion { id, .. } => {
                format!("secretsmanager:GetSecretValue {}", escaped(id))
            }
            Lookup::Parameter { name, .. } => format!("ssm:GetParameter {}", escaped(name)),
            Lookup::Role { name } => format!("iam:GetRole {}", escaped(name)),
            Lookup::KmsAlias { name } => format!("kms:DescribeKey {}", escaped(name)),
        }
    }
}

/// A lookup an evaluation asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Ask {
    pub lookup: Lookup,
    /// For a managed resource missing from state: worth making only once the state is read
    /// and lacks it. The others (data sources, the caller's identity) do not depend on the
    /// state, and can be read alongside it.
    pub for_resource: bool,
}

impl Ask {
    /// A lookup for a data source or the caller's identity: it does not wait for the state.
    fn data(lookup: Lookup) -> Ask {
        Ask {
            lookup,
            for_resource: false,
        }
    }
}

/// What a built-in attribute is: known here, or what a lookup answers (with the hint for when
/// it cannot be made).
enum Found {
    Known(String),
    Live(Ask, &'static str),
}

/// Whether ecs-env knows `data.TYPE` (or a managed `TYPE`) without state.
pub(crate) fn is_builtin(mode: Mode, rtype: &str) -> bool {
    match mode {
        Mode::Data => matches!(
            rtype,
            "aws_region"
                | "aws_partition"
                | "aws_caller_identity"
                | "template_file"
                | "terraform_remote_state"
                | "aws_secretsmanager_secret"
                | "aws_secretsmanager_secret_version"
                | "aws_ssm_parameter"
                | "aws_iam_role"
                | "aws_kms_alias"
        ),
        Mode::Managed => managed_attribute(rtype, "arn").is_some(),
    }
}

/// Whether `data.TYPE` is one `terraform plan` reads again each time: read live whenever AWS
/// may be asked, whatever the state holds (the state's copy is what the last apply read).
pub(crate) fn is_read_live(mode: Mode, rtype: &str) -> bool {
    mode == Mode::Data
        && matches!(
            rtype,
            "terraform_remote_state"
                | "aws_secretsmanager_secret"
                | "aws_secretsmanager_secret_version"
                | "aws_ssm_parameter"
                | "aws_iam_role"
                | "aws_kms_alias"
        )
}

/// Where plan gets attribute `attr` of a managed resource that ecs-env looks up by name when
/// the state lacks it; `None` for a type it does not look up.
enum ByName {
    /// From the configuration: the argument of this name (plan shows what is configured).
    Configured(&'static str),
    /// From AWS, by the configured `name`.
    Looked,
    /// Known only once applied.
    Unknown,
}

/// [`ByName`] for `TYPE.attr`, or `None` when ecs-env does not look `TYPE` up by name.
fn managed_attribute(rtype: &str, attr: &str) -> Option<ByName> {
    let configured: &[&'static str] = match rtype {
        "aws_secretsmanager_secret" => &["name", "description", "kms_key_id"],
        "aws_ssm_parameter" => &[
            "name",
            "description",
            "kms_key_id",
            "type",
            "value",
            "insecure_value",
        ],
        "aws_iam_role" => &["name", "path", "description"],
        "aws_kms_alias" => &["name", "target_key_id"],
        _ => return None,
    };
    // Their `id` is the name, except a secret's, which is its ARN.
    let looked: &[&str] = match rtype {
        "aws_secretsmanager_secret" => &["arn", "id"],
        "aws_iam_role" => &["arn", "unique_id"],
        "aws_kms_alias" => &["arn", "target_key_arn"],
        _ => &["arn"],
    };
    Some(if attr == "id" && !looked.contains(&"id") {
        ByName::Configured("name")
    } else if let Some(field) = configured.iter().find(|f| **f == attr) {
        ByName::Configured(field)
    } else if looked.contains(&attr) {
        ByName::Looked
    } else {
        ByName::Unknown
    })
}

/// The hint for a value a lookup would answer.
const LOOKUP_HINT: &str = "run without --offline, so that ecs-env reads it (read-only, as terraform plan does), or pass --tfstate FILE (terraform state pull > state.json)";

/// The lookup of a `TYPE` by its name (a managed resource's configured one, or a data
/// source's `name`). A parameter looked up for its ARN is not decrypted.
fn by_name(rtype: &str, name: String) -> Lookup {
    match rtype {
        "aws_ssm_parameter" => Lookup::Parameter {
            name,
            decrypt: false,
        },
        "aws_iam_role" => Lookup::Role { name },
        "aws_kms_alias" => Lookup::KmsAlias { name },
        _ => Lookup::Secret { id: name },
    }
}

impl Evaluator {
    /// `data.TYPE.NAME.ATTR` (or `TYPE.NAME.ATTR`) for a type in [`is_builtin`], of the
    /// instance `iteration` (`ops` start after its index): the value and how many operators
    /// it used (counting the type and the name, not the index).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn builtin_data(
        &mut self,
        mode: Mode,
        rtype: &str,
        name: &str,
        decl: &ResourceDecl,
        iteration: Iteration,
        ops: &[Decorated<TraversalOperator>],
        scope: &Scope,
        span: Option<std::ops::Range<usize>>,
    ) -> Result<(Value, usize), Failure> {
        let suffix = iteration.address_suffix();
        let (addr, used) = match mode {
            Mode::Data => (format!("data.{rtype}.{name}{suffix}"), 3),
            Mode::Managed => (format!("{rtype}.{name}{suffix}"), 2),
        };
        let Some(TraversalOperator::GetAttr(attr)) = ops.first().map(|o| o.value()) else {
            return Err(Failure::error(scope.problem(
                span,
                format!("{addr} is an object: name one of its attributes"),
                "",
            )));
        };
        let attr = attr.as_str();
        let block = Scope::new(scope.inst, decl.file.clone(), iteration, ScopeKind::Config);
        let unknown = |message: String, hint: &str| {
            Err(Failure::unknown(scope.problem(span.clone(), message, hint)))
        };
        let found = match (mode, rtype, attr) {
            (_, "aws_region", "name" | "id" | "region" | "endpoint") => {
                // A block may name another region (`name` before provider 6, `region` since).
                let region = match self.setting(decl, &["region", "name"], &block)? {
                    Some(region) => Some(region),
                    None => self.region.clone(),
                };
                let Some(region) = region else {
                    return unknown(
                        format!("{addr}.{attr} is the region, and no region is configured"),
                        "pass --region REGION or set AWS_REGION",
                    );
                };
                Found::Known(match attr {
                    "endpoint" => format!(
                        "ec2.{region}.{}",
                        crate::policy::url_suffix_of(crate::policy::partition_of(&region))
                    ),
                    _ => region,
                })
            }
            (_, "aws_partition", "partition" | "id" | "dns_suffix" | "reverse_dns_prefix") => {
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
                Found::Known(match attr {
                    "dns_suffix" => suffix.to_owned(),
                    "reverse_dns_prefix" => suffix.split('.').rev().collect::<Vec<_>>().join("."),
                    _ => partition.to_owned(),
                })
            }
            (_, "aws_caller_identity", "account_id" | "id") if self.caller.account.is_some() => {
                Found::Known(self.caller.account.clone().unwrap_or_default())
            }
            (_, "aws_caller_identity", "arn") if self.caller.arn.is_some() => {
                Found::Known(self.caller.arn.clone().unwrap_or_default())
            }
            (_, "aws_caller_identity", "user_id") if self.caller.user_id.is_some() => {
                Found::Known(self.caller.user_id.clone().unwrap_or_default())
            }
            (_, "aws_caller_identity", "account_id" | "id" | "arn" | "user_id") => {
                let hint = match attr {
                    "account_id" | "id" => {
                        "pass --account ID (offline), or run without --offline so that ecs-env asks STS"
                    }
                    _ => LOOKUP_HINT,
                };
                Found::Live(Ask::data(Lookup::CallerIdentity), hint)
            }
            (_, "template_file", "rendered") => {
                return self.template_file(&addr, decl, &block).map(|v| (v, used));
            }
            (_, "terraform_remote_state", "outputs") => Found::Live(
                Ask::data(self.remote_state(&addr, decl, &block)?),
                LOOKUP_HINT,
            ),
            (Mode::Data, "aws_secretsmanager_secret", _) => {
                let Some(id) = self.setting(decl, &["arn", "name"], &block)? else {
                    return unknown(format!("{addr} has no `arn` or `name`"), "");
                };
                Found::Live(Ask::data(Lookup::Secret { id }), LOOKUP_HINT)
            }
            (Mode::Data, "aws_secretsmanager_secret_version", _) => {
                let Some(id) = self.setting(decl, &["secret_id"], &block)? else {
                    return unknown(format!("{addr} has no `secret_id`"), "");
                };
                let lookup = Lookup::SecretVersion {
                    id,
                    version_id: self.setting(decl, &["version_id"], &block)?,
                    version_stage: self.setting(decl, &["version_stage"], &block)?,
                };
                Found::Live(Ask::data(lookup), LOOKUP_HINT)
            }
            (Mode::Data, "aws_ssm_parameter", _) => {
                let Some(name) = self.setting(decl, &["name"], &block)? else {
                    return unknown(format!("{addr} has no `name`"), "");
                };
                let decrypt = self.setting(decl, &["with_decryption"], &block)?;
                let lookup = Lookup::Parameter {
                    name,
                    decrypt: decrypt.as_deref() != Some("false"),
                };
                Found::Live(Ask::data(lookup), LOOKUP_HINT)
            }
            (Mode::Data, "aws_iam_role" | "aws_kms_alias", _) => {
                let Some(name) = self.setting(decl, &["name"], &block)? else {
                    return unknown(format!("{addr} has no `name`"), "");
                };
                Found::Live(Ask::data(by_name(rtype, name)), LOOKUP_HINT)
            }
            // A managed resource not in state: what plan knows from its configuration, and
            // its ARN from AWS by the name it is configured with.
            (Mode::Managed, _, _) => match managed_attribute(rtype, attr) {
                Some(ByName::Configured(field)) => match self.setting(decl, &[field], &block)? {
                    Some(v) => Found::Known(v),
                    None => {
                        return unknown(
                            format!(
                                "{addr}.{attr} is not configured, and {addr} is not in Terraform state"
                            ),
                            super::eval::STATE_HINT,
                        );
                    }
                },
                Some(ByName::Looked) => {
                    let Some(name) = self.setting(decl, &["name"], &block)? else {
                        return unknown(
                            format!(
                                "{addr} is not in Terraform state, and has no `name` to look it up by (a name_prefix is known only after apply)"
                            ),
                            super::eval::STATE_HINT,
                        );
                    };
                    let ask = Ask {
                        lookup: by_name(rtype, name),
                        for_resource: true,
                    };
                    Found::Live(ask, LOOKUP_HINT)
                }
                Some(ByName::Unknown) | None => {
                    return unknown(
                        format!("{addr}.{attr} is not known without state"),
                        super::eval::STATE_HINT,
                    );
                }
            },
            _ => {
                return unknown(
                    format!("{addr}.{attr} is not known without state"),
                    super::eval::STATE_HINT,
                );
            }
        };
        match found {
            Found::Known(value) => Ok((Value::String(value), used)),
            Found::Live(ask, hint) => self
                .live(&addr, attr, ask, scope, span, hint)
                .map(|v| (v, used)),
        }
    }

    /// The first of `names` the block sets, as text; `None` when it sets none of them (or sets
    /// it to null).
    fn setting(
        &mut self,
        decl: &ResourceDecl,
        names: &[&str],
        block: &Scope,
    ) -> Result<Option<String>, Failure> {
        let Some(attr) = names.iter().find_map(|n| decl.attrs.get(*n)) else {
            return Ok(None);
        };
        let v = self.eval(&attr.expr, block);
        let v = self.unknowns.known(v?)?;
        match v {
            Value::Null => Ok(None),
            v => match v.to_str() {
                Some(s) => Ok(Some(s)),
                None => Err(Failure::fatal(attr.file.problem(
                    attr.expr.span(),
                    format!("must be a string, not a {}", v.type_name()),
                    "",
                ))),
            },
        }
    }

    /// Attribute `attr` of what `lookup` answered; unknown until it is answered (the lookup
    /// recorded, with the problem standing for it), or with why it failed.
    fn live(
        &mut self,
        addr: &str,
        attr: &str,
        ask: Ask,
        scope: &Scope,
        span: Option<std::ops::Range<usize>>,
        hint: &str,
    ) -> Result<Value, Failure> {
        let lookup = ask.lookup.clone();
        let problem = |message: String, hint: &str| scope.problem(span.clone(), message, hint);
        match self.looked_up.get(&lookup) {
            Some(Ok(Value::Object(map))) => match map.get(attr) {
                Some(v) => Ok(v.clone()),
                None => Err(Failure::unknown(problem(
                    format!("{addr}.{attr} is not known from {}", lookup.describe()),
                    super::eval::STATE_HINT,
                ))),
            },
            Some(Ok(_)) => Err(Failure::unknown(problem(
                format!("{addr}: {} answered no attributes", lookup.describe()),
                super::eval::STATE_HINT,
            ))),
            Some(Err(why)) => Err(Failure::unknown(problem(
                format!("{addr}: {} failed: {why}", lookup.describe()),
                "grant the identity that read-only action, or pass --tfstate FILE (terraform state pull > state.json)",
            ))),
            None => {
                let p = problem(
                    format!("{addr} is read from AWS ({})", lookup.describe()),
                    hint,
                );
                if !self.wanted.iter().any(|(a, q)| *a == ask && *q == p) {
                    self.wanted.push((ask, p.clone()));
                }
                Err(Failure::unknown(p))
            }
        }
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
