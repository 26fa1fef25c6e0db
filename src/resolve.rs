//! From a container definition and the laptop's own environment to the child's environment.
//!
//! Two pure steps around the network:
//!
//! 1. [`plan`] validates the container's `environment` and `secrets` exactly as ECS would at
//!    registration (spec decision 3), parses every `valueFrom`, and decides for each secret
//!    whether it must be fetched, is replaced by a local override, or is kept from the
//!    inherited environment (`--preserve-env`). Every problem is collected, not just the first.
//! 2. [`assemble`] takes what the AWS layer fetched and builds the environment in the agent's
//!    order (spec 5.2): `environment` (a map: the later entry wins), then `secrets`
//!    (overwrite), then `AWS_REGION`/`AWS_DEFAULT_REGION` when neither is set by the task nor
//!    by the inherited environment, which plays the image's `ENV` (decision 5). The task's
//!    values then override inherited ones, unless `--preserve-env` says otherwise.
//!
//! Any failure means no environment at all: the caller must not start the child (fail
//! closed). Messages name variables and references, never values.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ffi::{OsStr, OsString};
use std::fmt;

use zeroize::Zeroizing;

use crate::diagnostic::Class;
use crate::envfile::{self, Dialect, S3Object};
use crate::jsonkey::{self, JsonKeyError, Quirk};
use crate::reference::{self, SecretRef};
use crate::secret::SecretValue;
use crate::taskdef::ContainerDefinition;

/// Linux refuses to exec when one `NAME=value` string exceeds `MAX_ARG_STRLEN` (32 pages,
/// including the terminating NUL). Checked up front for a clear error instead of E2BIG.
pub(crate) const MAX_VARIABLE_BYTES: usize = 32 * 4096 - 1;

/// The region variables the agent injects (spec 5.2 step 5).
const REGION_VARIABLES: [&str; 2] = ["AWS_REGION", "AWS_DEFAULT_REGION"];

/// Which inherited variables win over the task definition's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) enum Preserve {
    /// The task definition wins (ECS: `environment` overrides the image's `ENV`).
    #[default]
    None,
    /// Every inherited variable wins.
    All,
    /// Only these inherited variables win.
    Names(BTreeSet<String>),
}

impl Preserve {
    fn covers(&self, name: &str) -> bool {
        match self {
            Preserve::None => false,
            Preserve::All => true,
            Preserve::Names(names) => names.contains(name),
        }
    }
}

/// The laptop side of the merge.
#[derive(Debug, Default)]
pub(crate) struct Local {
    /// What the child would inherit before the task definition is applied: the whole
    /// environment, or the `--pristine` allowlist.
    pub base: BTreeMap<OsString, OsString>,
    pub preserve: Preserve,
    /// `--override` / `--override-file`: replace a variable's value; a secret is not fetched.
    pub overrides: BTreeMap<String, SecretValue>,
    /// The region for bare SSM names and for `AWS_REGION` injection.
    pub task_region: Option<String>,
    /// How environment files are parsed (`--launch-type`).
    pub dialect: Dialect,
}

impl Local {
    fn inherits(&self, name: &str) -> bool {
        self.base.contains_key(OsStr::new(name))
    }
}

/// One secret version to read: what a `GetSecretValue` call (or one entry of a
/// `BatchGetSecretValue` call) asks for. JSON keys of the same version share it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct SecretVersion {
    /// Where it is read: the ARN's region.
    pub region: String,
    /// The `SecretId` sent.
    pub secret_id: String,
    pub version_stage: Option<String>,
    pub version_id: Option<String>,
}

impl SecretVersion {
    /// Neither a stage nor a version id is pinned: the current version, which
    /// `BatchGetSecretValue` can read.
    pub(crate) fn is_current(&self) -> bool {
        self.version_stage.is_none() && self.version_id.is_none()
    }
}

/// One fetch, with everything needed to make it: the planner builds these and the AWS layer
/// executes them, and requests with equal keys are made once.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum FetchKey {
    /// A secret version.
    Secret(SecretVersion),
    /// One name in a `GetParameters` call, in a region.
    Parameter { region: String, name: String },
    /// One environment file (`GetObject`, after finding the bucket's region).
    EnvironmentFile { arn: String, object: S3Object },
}

impl FetchKey {
    /// The region a secret or parameter is read in (an environment file's is found later).
    pub(crate) fn region(&self) -> Option<&str> {
        match self {
            FetchKey::Secret(v) => Some(&v.region),
            FetchKey::Parameter { region, .. } => Some(region),
            FetchKey::EnvironmentFile { .. } => None,
        }
    }
}

/// What the AWS layer hands back for one [`FetchKey`].
#[derive(Debug)]
pub(crate) enum Fetched {
    /// A Secrets Manager version with a `SecretString`.
    SecretString(SecretValue),
    /// A Secrets Manager version with only `SecretBinary`, which ECS cannot inject.
    SecretBinary,
    /// An SSM parameter value (SecureStrings decrypted).
    Parameter(SecretValue),
    /// An environment file's bytes (wiped when dropped: it may hold secrets).
    File(Zeroizing<Vec<u8>>),
}

/// One reason the child cannot start, tied to a variable where there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The variable concerned, where there is one.
    pub variable: Option<String>,
    /// The `valueFrom` (or environment file ARN, or source expression) concerned.
    pub reference: Option<String>,
    /// A stable error class (the spec's, plus ecs-env's own).
    pub class: Class,
    /// What was tried, e.g. "GetSecretValue in us-east-1".
    pub tried: Option<String>,
    /// What went wrong (never a value).
    pub message: String,
    /// The next step, when it is known.
    pub hint: Option<String>,
    /// A short outcome for reports ("access denied", "KMS denied"...), where the class alone
    /// does not say it.
    pub outcome: Option<&'static str>,
}

impl Failure {
    pub(crate) fn new(class: Class, message: impl Into<String>) -> Self {
        Failure {
            variable: None,
            reference: None,
            class,
            tried: None,
            message: message.into(),
            hint: None,
            outcome: None,
        }
    }

    pub(crate) fn outcome(mut self, outcome: &'static str) -> Self {
        self.outcome = Some(outcome);
        self
    }

    /// A short label for the outcome, for `check`'s table.
    pub fn label(&self) -> &'static str {
        if let Some(o) = self.outcome {
            return o;
        }
        match self.class {
            Class::AsmNotFound | Class::SsmInvalidParameters => "not found",
            Class::JsonKeyMissing => "JSON key missing",
            Class::JsonParse => "not JSON",
            Class::AsmBinary | Class::AsmBinaryWithKey => "binary secret",
            Class::RegisterRejected
            | Class::AsmInvalidFormat
            | Class::ArnParse
            | Class::InvalidName => "invalid format",
            Class::SsmApiError => "invalid name",
            Class::InvalidValue => "invalid value",
            Class::NoRegion => "no region",
            Class::UnknownOverride => "unknown override",
            _ => "error",
        }
    }

    pub(crate) fn variable(mut self, name: &str) -> Self {
        self.variable = Some(name.to_owned());
        self
    }

    pub(crate) fn reference(mut self, value_from: &str) -> Self {
        self.reference = Some(value_from.to_owned());
        self
    }

    pub(crate) fn tried(mut self, tried: impl Into<String>) -> Self {
        self.tried = Some(tried.into());
        self
    }

    pub(crate) fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Every field may come from input or from AWS: escaped, so that none can forge a line.
        let e = crate::diagnostic::escaped;
        match (&self.variable, &self.reference) {
            (Some(v), Some(r)) => write!(f, "{} (from `{}`): ", e(v), e(r))?,
            (Some(v), None) => write!(f, "{}: ", e(v))?,
            (None, Some(r)) => write!(f, "`{}`: ", e(r))?,
            (None, None) => {}
        }
        f.write_str(&e(&self.message))?;
        if let Some(tried) = &self.tried {
            write!(f, "\n    tried: {}", e(tried))?;
        }
        write!(f, "\n    class: {}", self.class)?;
        if let Some(hint) = &self.hint {
            write!(f, "\n    hint:  {}", e(hint))?;
        }
        Ok(())
    }
}

/// How a secret gets its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SecretSource {
    Fetch(FetchKey),
    /// Replaced by `--override`/`--override-file`: never fetched.
    Overridden,
    /// Kept from the inherited environment (`--preserve-env`): never fetched.
    Preserved,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PlannedSecret {
    pub name: String,
    pub value_from: String,
    pub reference: SecretRef,
    pub source: SecretSource,
}

/// A validated container, ready to fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Plan {
    /// `environment` in task-definition order (duplicates kept: the later one wins).
    pub environment: Vec<(String, String)>,
    /// The secrets whose reference is valid, in task-definition order.
    pub secrets: Vec<PlannedSecret>,
    /// The valid `environmentFiles`, in order (the first file wins across files).
    pub environment_files: Vec<(String, S3Object)>,
    /// What ECS would reject at registration, or what can never work: reported before any
    /// API call. `run` stops here; `check` reports them next to the online results.
    pub problems: Vec<Failure>,
    /// Things worth knowing that do not stop the run. Names only, never values.
    pub warnings: Vec<String>,
}

impl Plan {
    /// Each distinct fetch, once, in a stable order.
    pub(crate) fn fetches(&self) -> Vec<FetchKey> {
        let mut seen = BTreeSet::new();
        for s in &self.secrets {
            if let SecretSource::Fetch(key) = &s.source {
                seen.insert(key.clone());
            }
        }
        for (arn, object) in &self.environment_files {
            seen.insert(FetchKey::EnvironmentFile {
                arn: arn.clone(),
                object: object.clone(),
            });
        }
        seen.into_iter().collect()
    }
}

/// Validate the container and decide where each secret's value comes from.
pub(crate) fn plan(container: &ContainerDefinition, local: &Local) -> Plan {
    let mut problems = Vec::new();
    let mut warnings = Vec::new();

    let environment_files = plan_environment_files(container, &mut problems, &mut warnings);

    let env_names: BTreeSet<&str> = container
        .environment
        .iter()
        .map(|e| e.name.as_str())
        .collect();
    for e in &container.environment {
        check_name(&e.name, "environment", &mut problems);
        if e.value.contains('\0') {
            problems.push(nul_failure(&e.name));
        }
    }

    let mut secrets = Vec::new();
    for s in &container.secrets {
        check_name(&s.name, "secrets", &mut problems);
        if env_names.contains(s.name.as_str()) {
            problems.push(
                Failure::new(
                    Class::RegisterRejected,
                    "the name is in both `environment` and `secrets`; ECS rejects this at \
                     registration: \"The secret name must be unique and not shared with any new \
                     or existing environment variables set on the container\"",
                )
                .variable(&s.name)
                .hint("remove one of the two entries"),
            );
        }
        // An overridden secret's reference is never used.
        if let Some(what) = crate::arn::placeholder(&s.value_from)
            .filter(|_| !local.overrides.contains_key(&s.name))
        {
            problems.push(
                Failure::new(
                    Class::Placeholder,
                    format!("the reference looks like a placeholder: {what}"),
                )
                .variable(&s.name)
                .reference(&s.value_from)
                .hint("render the task definition first (the tool that fills it in), or fix the reference"),
            );
            continue;
        }
        let overridden = local.overrides.contains_key(&s.name);
        let reference = match reference::parse(&s.value_from) {
            Ok(r) => r,
            // An overridden secret's reference is never used: "I know this one".
            Err(e) => match reference::parse(crate::taskdef::OVERRIDDEN) {
                Ok(r) if overridden => r,
                _ => {
                    problems.push(
                        Failure::new(e.class(), e.to_string())
                            .variable(&s.name)
                            .reference(&s.value_from),
                    );
                    continue;
                }
            },
        };
        let source = if overridden {
            SecretSource::Overridden
        } else if local.preserve.covers(&s.name) && local.inherits(&s.name) {
            SecretSource::Preserved
        } else {
            match fetch_key(&reference, local.task_region.as_deref()) {
                Some(key) => SecretSource::Fetch(key),
                None => {
                    problems.push(
                        Failure::new(
                            Class::NoRegion,
                            "a parameter given by name is read from the task region, and no \
                             region is configured",
                        )
                        .variable(&s.name)
                        .reference(&s.value_from)
                        .hint(
                            "pass --region REGION, set AWS_REGION, or use the parameter's full ARN",
                        ),
                    );
                    continue;
                }
            }
        };
        secrets.push(PlannedSecret {
            name: s.name.clone(),
            value_from: s.value_from.clone(),
            reference,
            source,
        });
    }

    let secret_names: BTreeSet<&str> = container.secrets.iter().map(|s| s.name.as_str()).collect();
    let task_sets_region = REGION_VARIABLES
        .iter()
        .any(|n| env_names.contains(n) || secret_names.contains(n));
    let inherited_region = REGION_VARIABLES.iter().find_map(|n| {
        local
            .base
            .get(OsStr::new(n))
            .map(|v| (*n, v.to_string_lossy()))
    });
    match (&local.task_region, task_sets_region, inherited_region) {
        // Checked before any API call: the agent's rule would need a region.
        (None, false, None) => problems.push(
            Failure::new(
                Class::NoRegion,
                "ECS sets AWS_REGION and AWS_DEFAULT_REGION to the task's region, and no \
                 region is configured",
            )
            .hint("pass --region REGION or set AWS_REGION"),
        ),
        (Some(task), false, Some((name, inherited))) if inherited != task.as_str() => {
            warnings.push(format!(
                "the task region is {task}, but the command inherits {name}={inherited}, which \
                 suppresses ECS's region injection (as an image's ENV would); use --pristine or \
                 unset it to get {task}"
            ));
        }
        _ => {}
    }
    // With environment files, their names are known only once they are read: `evaluate`
    // checks the overrides then.
    for name in local
        .overrides
        .keys()
        .filter(|_| environment_files.is_empty())
    {
        if !env_names.contains(name.as_str()) && !secret_names.contains(name.as_str()) {
            problems.push(
                Failure::new(
                    Class::UnknownOverride,
                    format!(
                        "an override is given for `{name}`, which container `{}` does not define",
                        container.name
                    ),
                )
                .variable(name)
                .hint("overrides replace task-definition variables; add a new one with --env NAME=VALUE"),
            );
        }
    }
    if let Preserve::Names(names) = &local.preserve {
        for name in names {
            if !env_names.contains(name.as_str()) && !secret_names.contains(name.as_str()) {
                warnings.push(format!(
                    "--preserve-env names `{name}`, which container `{}` does not define",
                    container.name
                ));
            }
        }
    }

    Plan {
        environment: container
            .environment
            .iter()
            .map(|e| (e.name.clone(), e.value.clone()))
            .collect(),
        secrets,
        environment_files,
        problems,
        warnings,
    }
}

/// ECS's limits on `environmentFiles` (spec 5.1, 5.4): at most ten, of type `s3`, each an S3
/// object ARN.
fn plan_environment_files(
    container: &ContainerDefinition,
    problems: &mut Vec<Failure>,
    warnings: &mut Vec<String>,
) -> Vec<(String, S3Object)> {
    const MAX_FILES: usize = 10;
    if container.environment_files.len() > MAX_FILES {
        problems.push(Failure::new(
            Class::RegisterRejected,
            format!(
                "container `{}` lists {} environment files; ECS allows at most {MAX_FILES}",
                container.name,
                container.environment_files.len()
            ),
        ));
    }
    let mut files = Vec::new();
    for f in &container.environment_files {
        if f.kind != "s3" {
            problems.push(
                Failure::new(
                    Class::RegisterRejected,
                    format!(
                        "environment file type `{}` is not supported; ECS accepts only `s3`",
                        f.kind
                    ),
                )
                .reference(&f.value),
            );
            continue;
        }
        if let Some(what) = crate::arn::placeholder(&f.value) {
            problems.push(
                Failure::new(
                    Class::Placeholder,
                    format!("the environment file looks like a placeholder: {what}"),
                )
                .reference(&f.value)
                .hint(
                    "render the task definition first (the tool that fills it in), or fix the ARN",
                ),
            );
            continue;
        }
        match envfile::parse_s3_arn(&f.value) {
            Ok(object) => {
                if !object.key.ends_with(".env") {
                    warnings.push(format!(
                        "environment file `{}` does not have the `.env` extension ECS requires",
                        f.value
                    ));
                }
                files.push((f.value.clone(), object));
            }
            Err(why) => problems.push(Failure::new(Class::EnvfileRead, why).reference(&f.value)),
        }
    }
    files
}

/// What fetches a reference; `None` when its region is unknown.
pub(crate) fn fetch_key(reference: &SecretRef, task_region: Option<&str>) -> Option<FetchKey> {
    let region = reference.region(task_region)?.to_owned();
    Some(match reference {
        SecretRef::SecretsManager(r) => FetchKey::Secret(SecretVersion {
            region,
            secret_id: r.secret_id.clone(),
            version_stage: r.version_stage.clone(),
            version_id: r.version_id.clone(),
        }),
        SecretRef::Parameter(p) => FetchKey::Parameter {
            region,
            name: p.name.clone(),
        },
    })
}

/// A name the kernel can carry in an environment: non-empty, no `=`, no NUL.
fn check_name(name: &str, list: &str, failures: &mut Vec<Failure>) {
    let problem = if name.is_empty() {
        "is empty"
    } else if name.contains('=') {
        "contains `=`"
    } else if name.contains('\0') {
        "contains a NUL byte"
    } else {
        return;
    };
    failures.push(
        Failure::new(
            Class::InvalidName,
            format!("a variable name in `{list}` {problem}, which no environment can carry"),
        )
        .variable(&name.replace('\0', "\\0")),
    );
}

fn nul_failure(name: &str) -> Failure {
    Failure::new(
        Class::InvalidValue,
        "the value contains a NUL byte, which cannot be passed in an environment variable",
    )
    .variable(name)
}

/// Where a task variable comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The container's `environment`: a literal in the task definition.
    Environment,
    /// The container's `secrets`: fetched (or overridden locally).
    Secret,
    /// Injected by the agent's rule (`AWS_REGION`, `AWS_DEFAULT_REGION`).
    Injected,
    /// A line of one of the container's `environmentFiles`.
    EnvironmentFile,
}

impl Origin {
    /// A short name: `environment`, `secret`, `injected`, `environment file`.
    pub fn label(self) -> &'static str {
        match self {
            Origin::Environment => "environment",
            Origin::Secret => "secret",
            Origin::Injected => "injected",
            Origin::EnvironmentFile => "environment file",
        }
    }
}

/// What became of one variable of the task definition.
#[derive(Debug)]
pub(crate) struct Evaluated {
    pub name: String,
    pub origin: Origin,
    /// The `valueFrom` of a secret.
    pub reference: Option<String>,
    pub status: Status,
}

#[derive(Debug)]
pub(crate) enum Status {
    /// Resolved; the rendering quirks of a JSON key, if any.
    Value(SecretValue, Vec<Quirk>),
    /// Replaced by a local override.
    Overridden(SecretValue),
    /// The inherited value is kept (`--preserve-env`).
    Preserved,
    Failed(Failure),
}

/// The evaluated variables and what reading the environment files taught.
#[derive(Debug, Default)]
pub(crate) struct Evaluation {
    /// Environment-file lines (file order; a failed file is one entry with an empty name),
    /// then `environment`, then `secrets`, in task-definition order.
    pub vars: Vec<Evaluated>,
    /// Lines the EC2 and Fargate parsers read differently. Names only.
    pub warnings: Vec<String>,
}

/// Every variable of the plan, evaluated against what was fetched.
pub(crate) fn evaluate(
    plan: &Plan,
    local: &Local,
    fetched: &HashMap<FetchKey, Result<Fetched, Failure>>,
) -> Evaluation {
    let mut out = Vec::new();
    let mut warnings = Vec::new();
    let mut file_names = BTreeSet::new();
    for (arn, object) in &plan.environment_files {
        let key = FetchKey::EnvironmentFile {
            arn: arn.clone(),
            object: object.clone(),
        };
        let parsed = match fetched.get(&key) {
            Some(Ok(Fetched::File(bytes))) => {
                let host = |name: &str| {
                    local.base.get(OsStr::new(name)).and_then(|v| v.to_str()).map(str::to_owned)
                };
                envfile::parse(bytes, local.dialect, arn, host).map_err(|e| {
                    Failure::new(e.class(), e.to_string()).reference(arn)
                })
            }
            Some(Ok(_)) | None => Err(Failure::new(
                Class::Internal,
                "the environment file was never fetched; this is a bug in ecs-env, please report it",
            )
            .reference(arn)),
            Some(Err(e)) => Err(e.clone().reference(arn)),
        };
        let parsed = match parsed {
            Ok(p) => p,
            Err(f) => {
                out.push(Evaluated {
                    name: String::new(),
                    origin: Origin::EnvironmentFile,
                    reference: Some(arn.clone()),
                    status: Status::Failed(f),
                });
                continue;
            }
        };
        warnings.extend(parsed.warnings);
        for (name, value) in parsed.vars {
            file_names.insert(name.clone());
            let status = if let Some(v) = local.overrides.get(&name) {
                Status::Overridden(v.clone())
            } else if local.preserve.covers(&name) && local.inherits(&name) {
                Status::Preserved
            } else if value.contains('\0') {
                Status::Failed(nul_failure(&name).reference(arn))
            } else {
                Status::Value(SecretValue::new(value), Vec::new())
            };
            out.push(Evaluated {
                name,
                origin: Origin::EnvironmentFile,
                reference: Some(arn.clone()),
                status,
            });
        }
    }
    for (name, value) in &plan.environment {
        // As for secrets: an explicit override beats --preserve-env.
        let status = if let Some(v) = local.overrides.get(name) {
            Status::Overridden(v.clone())
        } else if local.preserve.covers(name) && local.inherits(name) {
            Status::Preserved
        } else {
            Status::Value(SecretValue::new(value.clone()), Vec::new())
        };
        out.push(Evaluated {
            name: name.clone(),
            origin: Origin::Environment,
            reference: None,
            status,
        });
    }
    for s in &plan.secrets {
        let status = match &s.source {
            SecretSource::Preserved => Status::Preserved,
            SecretSource::Overridden => Status::Overridden(
                local
                    .overrides
                    .get(&s.name)
                    .cloned()
                    .unwrap_or_else(|| SecretValue::new(String::new())),
            ),
            SecretSource::Fetch(key) => match fetched.get(key) {
                Some(Ok(f)) => match value_of(f, &s.reference) {
                    Ok((v, quirks)) => Status::Value(v, quirks),
                    Err(e) => Status::Failed(e.variable(&s.name).reference(&s.value_from)),
                },
                Some(Err(e)) => {
                    let mut e = e.clone().variable(&s.name).reference(&s.value_from);
                    if e.tried.is_none() {
                        e.tried = Some(tried(&s.reference, key));
                    }
                    Status::Failed(e)
                }
                None => Status::Failed(
                    Failure::new(
                        Class::Internal,
                        "the value was never fetched; this is a bug in ecs-env, please report it",
                    )
                    .variable(&s.name)
                    .reference(&s.value_from),
                ),
            },
        };
        out.push(Evaluated {
            name: s.name.clone(),
            origin: Origin::Secret,
            reference: Some(s.value_from.clone()),
            status,
        });
    }
    // `plan` could not check overrides against names that only environment files define.
    if !plan.environment_files.is_empty() {
        for name in local.overrides.keys() {
            let known = file_names.contains(name)
                || plan.environment.iter().any(|(n, _)| n == name)
                || plan.secrets.iter().any(|s| &s.name == name);
            if !known {
                out.push(Evaluated {
                    name: name.clone(),
                    origin: Origin::EnvironmentFile,
                    reference: None,
                    status: Status::Failed(
                        Failure::new(
                            Class::UnknownOverride,
                            "an override is given for a variable that neither the container nor its environment files define",
                        )
                        .variable(name)
                        .hint("overrides replace task-definition variables; add a new one with --env NAME=VALUE"),
                    ),
                });
            }
        }
    }
    Evaluation {
        vars: out,
        warnings,
    }
}

/// The child's environment. Values set by the task are [`SecretValue`]s.
#[derive(Debug, Default)]
pub(crate) struct ChildEnv {
    vars: BTreeMap<OsString, EnvValue>,
    /// The variables the task sets, by name, with where each came from.
    task: BTreeMap<String, Origin>,
}

#[derive(Debug)]
enum EnvValue {
    Inherited(OsString),
    Task(SecretValue),
}

impl EnvValue {
    fn as_os_str(&self) -> &OsStr {
        match self {
            EnvValue::Inherited(v) => v.as_os_str(),
            EnvValue::Task(v) => OsStr::new(v.expose()),
        }
    }
}

impl ChildEnv {
    /// Every variable, for building the child process.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&OsStr, &OsStr)> {
        self.vars
            .iter()
            .map(|(k, v)| (k.as_os_str(), v.as_os_str()))
    }

    /// The variables the task definition sets (not inherited ones), sorted by name.
    pub(crate) fn task_vars(&self) -> impl Iterator<Item = (&str, Origin, &SecretValue)> {
        self.task
            .iter()
            .filter_map(|(name, origin)| match self.vars.get(OsStr::new(name)) {
                Some(EnvValue::Task(v)) => Some((name.as_str(), *origin, v)),
                _ => None,
            })
    }

    #[cfg(test)]
    pub(crate) fn get(&self, name: &str) -> Option<&OsStr> {
        self.iter().find(|(k, _)| *k == name).map(|(_, v)| v)
    }

    /// The variable's value, whoever set it.
    pub(crate) fn value(&self, name: &str) -> Option<&OsStr> {
        self.vars.get(OsStr::new(name)).map(EnvValue::as_os_str)
    }

    /// Whether the task definition (or an override of one of its variables) set it.
    pub(crate) fn set_by_task(&self, name: &str) -> bool {
        matches!(self.vars.get(OsStr::new(name)), Some(EnvValue::Task(_)))
    }

    /// Set a variable of ecs-env's own (the credentials endpoint's), replacing any value.
    pub(crate) fn set_own(&mut self, name: &str, value: SecretValue) {
        self.task.remove(name);
        self.vars
            .insert(OsString::from(name), EnvValue::Task(value));
    }

    /// Remove a variable, whoever set it.
    pub(crate) fn remove(&mut self, name: &str) {
        self.task.remove(name);
        self.vars.remove(OsStr::new(name));
    }

    pub(crate) fn len(&self) -> usize {
        self.vars.len()
    }
}

/// Build the child's environment from the evaluated variables: any failure means no
/// environment.
pub(crate) fn assemble(evaluated: Vec<Evaluated>, local: &Local) -> Result<ChildEnv, Vec<Failure>> {
    let mut failures = Vec::new();
    // The task's own map, in the agent's order: environment (later entry wins), then secrets
    // (overwrite). `None` marks a name whose inherited value is preserved.
    let mut task: BTreeMap<String, (Origin, Option<SecretValue>)> = BTreeMap::new();
    for e in evaluated {
        let value = match e.status {
            Status::Value(v, _) | Status::Overridden(v) => Some(v),
            Status::Preserved => None,
            Status::Failed(f) => {
                failures.push(f);
                continue;
            }
        };
        // Environment files only fill gaps, so across files the first one wins; within a
        // file the parser already kept the last line. `environment` and `secrets` come later
        // and overwrite (spec 5.2).
        if e.origin == Origin::EnvironmentFile && task.contains_key(&e.name) {
            continue;
        }
        task.insert(e.name, (e.origin, value));
    }

    // AWS_REGION / AWS_DEFAULT_REGION: only when neither comes from the task nor from the
    // inherited environment (the image's ENV on ECS). Setting one suppresses both.
    let region_set = REGION_VARIABLES
        .iter()
        .any(|n| task.contains_key(*n) || local.inherits(n));
    // Without a task region `plan` has already reported `no_region`.
    if let (false, Some(region)) = (region_set, &local.task_region) {
        for n in REGION_VARIABLES {
            task.insert(
                n.to_owned(),
                (Origin::Injected, Some(SecretValue::new(region.clone()))),
            );
        }
    }

    let mut env = ChildEnv::default();
    for (k, v) in &local.base {
        env.vars.insert(k.clone(), EnvValue::Inherited(v.clone()));
    }
    for (name, (origin, value)) in task {
        let Some(value) = value else { continue };
        if value.expose().contains('\0') {
            failures.push(nul_failure(&name));
            continue;
        }
        if name.len() + 1 + value.len() > MAX_VARIABLE_BYTES {
            failures.push(
                Failure::new(
                    Class::InvalidValue,
                    format!(
                        "NAME=value is {} bytes; Linux refuses to start a process with a \
                         variable over {MAX_VARIABLE_BYTES} bytes (MAX_ARG_STRLEN)",
                        name.len() + 1 + value.len()
                    ),
                )
                .variable(&name),
            );
            continue;
        }
        env.vars
            .insert(OsString::from(&name), EnvValue::Task(value));
        env.task.insert(name, origin);
    }

    if failures.is_empty() {
        Ok(env)
    } else {
        Err(failures)
    }
}

fn tried(reference: &SecretRef, key: &FetchKey) -> String {
    match key {
        FetchKey::Secret(SecretVersion { region, .. }) | FetchKey::Parameter { region, .. } => {
            format!("{} in {region}", reference.api())
        }
        FetchKey::EnvironmentFile { .. } => "GetObject".to_owned(),
    }
}

/// The variable's value from a fetched secret: the whole string or one JSON key.
fn value_of(
    fetched: &Fetched,
    reference: &SecretRef,
) -> Result<(SecretValue, Vec<Quirk>), Failure> {
    let json_key = match reference {
        SecretRef::SecretsManager(r) => r.json_key.as_deref(),
        SecretRef::Parameter(_) => None,
    };
    match (fetched, json_key) {
        (Fetched::Parameter(v) | Fetched::SecretString(v), None) => Ok((v.clone(), Vec::new())),
        (Fetched::SecretString(v), Some(key)) => jsonkey::extract_detailed(v.expose(), key)
            .map(|e| (SecretValue::new(e.value), e.quirks))
            .map_err(|e| json_failure(&e, key)),
        (Fetched::SecretBinary, key) => Err(Failure::new(
            if key.is_some() { Class::AsmBinaryWithKey } else { Class::AsmBinary },
            "the secret holds SecretBinary and no SecretString; ECS can inject only text \
             secrets (the EC2 agent would silently inject an empty string, or crash with a JSON key)",
        )
        .hint("store the value as a SecretString, or override it locally with --override NAME=VALUE")),
        (Fetched::Parameter(_), Some(_)) | (Fetched::File(_), _) => Err(Failure::new(
            Class::Internal,
            "a value of the wrong kind was fetched; this is a bug in ecs-env, please report it",
        )),
    }
}

/// Whether a JSON key of a secret reads like a field name (`password`, `db_host`,
/// `api.key`), so that listing it cannot print something secret: ASCII letters, digits,
/// `_`, `-` and `.`, starting with a letter or `_`, at most 32 characters and 4 digits. A key
/// that may itself be secret-derived (a token, a hash, an e-mail address) is not listed.
fn looks_like_a_name(key: &str) -> bool {
    key.len() <= 32
        && key.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        && key.chars().filter(char::is_ascii_digit).count() <= 4
}

/// `it has `a`, `b`` for the keys that look like names, and how many others are not shown.
fn listed_keys(available: &[String]) -> String {
    if available.is_empty() {
        return "it has no keys".to_owned();
    }
    let (shown, hidden): (Vec<&String>, Vec<&String>) =
        available.iter().partition(|k| looks_like_a_name(k));
    let mut out = String::from("it has ");
    out.push_str(
        &shown
            .iter()
            .map(|k| format!("`{k}`"))
            .collect::<Vec<_>>()
            .join(", "),
    );
    match (shown.is_empty(), hidden.len()) {
        (_, 0) => {}
        (true, 1) => out.push_str("1 key, not shown: it does not look like a name"),
        (true, n) => out.push_str(&format!("{n} keys, not shown: they do not look like names")),
        (false, 1) => out.push_str("; 1 more key is not shown: it does not look like a name"),
        (false, n) => out.push_str(&format!(
            "; {n} more keys are not shown: they do not look like names"
        )),
    }
    out
}

fn json_failure(e: &JsonKeyError, key: &str) -> Failure {
    match e {
        JsonKeyError::Missing { available } => {
            let keys = listed_keys(available);
            Failure::new(
                e.class(),
                format!(
                    "retrieved secret from Secrets Manager did not contain json key {key} ({keys})"
                ),
            )
            .hint(
                "JSON keys are exact and case-sensitive, top level only (a `.` is part of the key)",
            )
        }
        JsonKeyError::Parse(why) => Failure::new(
            e.class(),
            format!("a JSON key `{key}` is requested but {why}"),
        )
        .hint("drop the JSON key (`ARN` or `ARN:::`) to inject the whole secret"),
        JsonKeyError::NotAnObject(kind) => Failure::new(
            e.class(),
            format!("a JSON key `{key}` is requested but the secret is {kind}, not a JSON object"),
        )
        .hint("drop the JSON key (`ARN` or `ARN:::`) to inject the whole secret"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::taskdef::{EnvironmentEntry, SecretEntry};

    const ARN: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf";

    fn container(env: &[(&str, &str)], secrets: &[(&str, &str)]) -> ContainerDefinition {
        ContainerDefinition {
            name: "app".into(),
            environment: env
                .iter()
                .map(|(n, v)| EnvironmentEntry {
                    name: (*n).into(),
                    value: (*v).into(),
                })
                .collect(),
            secrets: secrets
                .iter()
                .map(|(n, v)| SecretEntry {
                    name: (*n).into(),
                    value_from: (*v).into(),
                })
                .collect(),
            ..Default::default()
        }
    }

    fn ok_plan(c: &ContainerDefinition, l: &Local) -> Plan {
        let p = plan(c, l);
        assert!(p.problems.is_empty(), "{:?}", p.problems);
        p
    }

    fn problems(c: &ContainerDefinition, l: &Local) -> Vec<Failure> {
        plan(c, l).problems
    }

    fn build(
        p: &Plan,
        l: &Local,
        f: &HashMap<FetchKey, Result<Fetched, Failure>>,
    ) -> Result<ChildEnv, Vec<Failure>> {
        assemble(evaluate(p, l, f).vars, l)
    }

    fn local() -> Local {
        Local {
            task_region: Some("us-east-1".into()),
            ..Local::default()
        }
    }

    fn fetched(pairs: Vec<(FetchKey, Fetched)>) -> HashMap<FetchKey, Result<Fetched, Failure>> {
        pairs.into_iter().map(|(k, v)| (k, Ok(v))).collect()
    }

    fn secret_key() -> FetchKey {
        FetchKey::Secret(SecretVersion {
            region: "us-east-1".into(),
            secret_id: ARN.into(),
            version_stage: None,
            version_id: None,
        })
    }

    fn get(env: &ChildEnv, name: &str) -> Option<String> {
        env.get(name).map(|v| v.to_string_lossy().into_owned())
    }

    #[test]
    fn missing_key_lists_only_keys_that_look_like_names() {
        let keys = |k: &[&str]| listed_keys(&k.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>());
        assert_eq!(keys(&[]), "it has no keys");
        assert_eq!(
            keys(&["password", "db_host"]),
            "it has `password`, `db_host`"
        );
        assert_eq!(
            keys(&["password", "sk_live_4eC39HqLyjWDarjtT1zdp7dc", "a@b.c"]),
            "it has `password`; 2 more keys are not shown: they do not look like names"
        );
        assert_eq!(
            keys(&["8f14e45fceea167a5a36dedd4bea2543"]),
            "it has 1 key, not shown: it does not look like a name"
        );
    }

    #[test]
    fn keys_of_one_secret_are_fetched_once() {
        let c = container(
            &[],
            &[
                ("U", &format!("{ARN}:user::")),
                ("P", &format!("{ARN}:pass::")),
            ],
        );
        let plan = ok_plan(&c, &local());
        assert_eq!(plan.fetches().len(), 1);
        let f = fetched(vec![(
            secret_key(),
            Fetched::SecretString(SecretValue::new(r#"{"user":"u","pass":"p"}"#.into())),
        )]);
        let env = build(&plan, &local(), &f).unwrap();
        assert_eq!(get(&env, "U").as_deref(), Some("u"));
        assert_eq!(get(&env, "P").as_deref(), Some("p"));
    }

    #[test]
    fn same_name_in_environment_and_secrets_is_rejected() {
        let c = container(&[("K", "env")], &[("K", "/p")]);
        let failures = problems(&c, &local());
        assert_eq!(failures[0].class, Class::RegisterRejected);
    }

    #[test]
    fn all_problems_are_reported_at_once() {
        let c = container(
            &[("A=B", "x")],
            &[("S1", "p:3"), ("S2", &format!("{ARN}:key"))],
        );
        let classes: Vec<_> = problems(&c, &local()).iter().map(|f| f.class).collect();
        assert_eq!(
            classes,
            [
                Class::InvalidName,
                Class::RegisterRejected,
                Class::AsmInvalidFormat
            ]
        );
    }

    #[test]
    fn later_environment_entry_wins_and_task_beats_inherited() {
        let c = container(&[("K", "1"), ("K", "2")], &[]);
        let mut l = local();
        l.base.insert("K".into(), "inherited".into());
        let p = ok_plan(&c, &l);
        let env = build(&p, &l, &HashMap::new()).unwrap();
        assert_eq!(get(&env, "K").as_deref(), Some("2"));
    }

    #[test]
    fn preserve_env_keeps_inherited_and_skips_the_fetch() {
        let c = container(&[("K", "task")], &[("S", "/p")]);
        let mut l = local();
        l.base.insert("K".into(), "mine".into());
        l.base.insert("S".into(), "my-secret".into());
        l.preserve = Preserve::All;
        let p = ok_plan(&c, &l);
        assert!(p.fetches().is_empty());
        let env = build(&p, &l, &HashMap::new()).unwrap();
        assert_eq!(get(&env, "K").as_deref(), Some("mine"));
        assert_eq!(get(&env, "S").as_deref(), Some("my-secret"));
    }

    #[test]
    fn overridden_secret_is_not_fetched() {
        let c = container(&[], &[("S", ARN)]);
        let mut l = local();
        l.overrides
            .insert("S".into(), SecretValue::new("local".into()));
        let p = ok_plan(&c, &l);
        assert!(p.fetches().is_empty());
        let env = build(&p, &l, &HashMap::new()).unwrap();
        assert_eq!(get(&env, "S").as_deref(), Some("local"));
    }

    #[test]
    fn unknown_override_is_an_error() {
        let mut l = local();
        l.overrides
            .insert("NOPE".into(), SecretValue::new("x".into()));
        let failures = problems(&container(&[], &[]), &l);
        assert_eq!(failures[0].class, Class::UnknownOverride);
    }

    #[test]
    fn region_injection_follows_the_agent() {
        // Neither set anywhere: both injected (merge-008).
        let p = ok_plan(&container(&[], &[]), &local());
        let env = build(&p, &local(), &HashMap::new()).unwrap();
        assert_eq!(get(&env, "AWS_REGION").as_deref(), Some("us-east-1"));
        assert_eq!(
            get(&env, "AWS_DEFAULT_REGION").as_deref(),
            Some("us-east-1")
        );
        // One set by a secret suppresses both (merge-013).
        let c = container(&[], &[("AWS_REGION", "/r")]);
        let p = ok_plan(&c, &local());
        let f = fetched(vec![(
            FetchKey::Parameter {
                region: "us-east-1".into(),
                name: "/r".into(),
            },
            Fetched::Parameter(SecretValue::new("eu-west-1".into())),
        )]);
        let env = build(&p, &local(), &f).unwrap();
        assert_eq!(get(&env, "AWS_REGION").as_deref(), Some("eu-west-1"));
        assert_eq!(get(&env, "AWS_DEFAULT_REGION"), None);
        // Inherited (the image's ENV) suppresses injection too.
        let mut l = local();
        l.base
            .insert("AWS_DEFAULT_REGION".into(), "ap-south-1".into());
        let env = build(&ok_plan(&container(&[], &[]), &l), &l, &HashMap::new()).unwrap();
        assert_eq!(get(&env, "AWS_REGION"), None);
    }

    #[test]
    fn binary_secrets_and_nul_values_are_refused() {
        let c = container(&[], &[("B", ARN)]);
        let p = ok_plan(&c, &local());
        let f = fetched(vec![(secret_key(), Fetched::SecretBinary)]);
        assert_eq!(
            build(&p, &local(), &f).unwrap_err()[0].class,
            Class::AsmBinary
        );
        let f = fetched(vec![(
            secret_key(),
            Fetched::SecretString(SecretValue::new("a\0b".into())),
        )]);
        let failures = build(&p, &local(), &f).unwrap_err();
        assert_eq!(failures[0].class, Class::InvalidValue);
        assert_eq!(failures[0].variable.as_deref(), Some("B"));
    }

    #[test]
    fn failures_never_carry_values() {
        let c = container(&[], &[("P", &format!("{ARN}:missing::"))]);
        let p = ok_plan(&c, &local());
        let f = fetched(vec![(
            secret_key(),
            Fetched::SecretString(SecretValue::new(r#"{"user":"canary-value-77"}"#.into())),
        )]);
        let failures = build(&p, &local(), &f).unwrap_err();
        let text = format!("{failures:?} {}", failures[0]);
        assert!(!text.contains("canary-value-77"), "{text}");
        assert!(text.contains("`user`"), "{text}");
    }
}
