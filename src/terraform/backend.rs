//! Where a configuration's state lives: its backend and workspace, as `terraform init` and
//! `terraform workspace select` leave them.
//!
//! The settings are merged as Terraform merges them: the `backend` block, then what `init`
//! recorded in `.terraform/terraform.tfstate` (which holds the block merged with the
//! `-backend-config` given to `init`), then `--backend-config` given to ecs-env. The workspace
//! is `TF_WORKSPACE`, else `.terraform/environment`, else `default`.
//!
//! Pure: this says where to read; `pipeline` reads it (a local file, or one S3 `GetObject`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::Problem;
use super::eval::Evaluator;
use super::source::Module;

/// Where the state is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StateLocation {
    /// The local backend: this file (it may not exist: nothing applied yet).
    Local(PathBuf),
    /// The S3 backend.
    S3 {
        bucket: String,
        key: String,
        /// The backend's `region`; `None`: the configured one.
        region: Option<String>,
        /// Settings ecs-env does not apply (it reads as your own identity), to say so.
        ignored: Vec<String>,
    },
    /// A backend ecs-env does not read (`remote`, `gcs`, a `cloud` block...).
    Other(String),
}

/// The workspace Terraform would use in `root_dir` with these environment variables.
pub(crate) fn workspace(root_dir: &Path, env_vars: &[(String, String)]) -> String {
    if let Some((_, ws)) = env_vars
        .iter()
        .find(|(k, v)| k == "TF_WORKSPACE" && !v.is_empty())
    {
        return ws.clone();
    }
    // `terraform workspace select` records the choice here.
    let recorded = root_dir.join(".terraform").join("environment");
    match crate::files::read_text(&recorded, 4096) {
        Ok(name) if !name.trim().is_empty() => name.trim().to_owned(),
        _ => "default".to_owned(),
    }
}

/// The state's location for the configuration whose root module is `root`.
/// `backend_config`: the `--backend-config KEY=VALUE` pairs, in order (a later one wins).
pub(crate) fn locate(
    root: &Arc<Module>,
    backend_config: &[(String, String)],
    env_vars: &[(String, String)],
) -> Result<StateLocation, Vec<Problem>> {
    let root_dir = root.dir.as_path();
    let display = root.display_dir.clone();
    let (mut kind, mut settings) = declared(root)?;
    // What `init` recorded: the block merged with its -backend-config.
    let recorded_file = root_dir.join(".terraform").join("terraform.tfstate");
    if let Ok(text) = crate::files::read_text(&recorded_file, crate::files::MAX_STATE_BYTES)
        && let Ok(doc) = serde_json::from_str::<serde_json::Value>(&text)
        && let Some(backend) = doc.get("backend")
    {
        if let Some(t) = backend.get("type").and_then(|t| t.as_str()) {
            kind = t.to_owned();
        }
        if let Some(config) = backend.get("config").and_then(|c| c.as_object()) {
            for (k, v) in config {
                if let Some(v) = scalar(v) {
                    settings.insert(k.clone(), v);
                }
            }
        }
    }
    for (k, v) in backend_config {
        settings.insert(k.clone(), v.clone());
    }
    let workspace = workspace(root_dir, env_vars);
    match kind.as_str() {
        "local" => {
            let path = settings
                .get("path")
                .map_or_else(|| PathBuf::from("terraform.tfstate"), PathBuf::from);
            let path = if workspace == "default" {
                path
            } else {
                let dir = settings
                    .get("workspace_dir")
                    .map_or("terraform.tfstate.d", String::as_str);
                Path::new(dir)
                    .join(&workspace)
                    .join(path.file_name().unwrap_or_default())
            };
            Ok(StateLocation::Local(root_dir.join(path)))
        }
        "s3" => {
            let need = |name: &str| {
                settings.get(name).cloned().ok_or_else(|| {
                    vec![Problem {
                        file: display.clone(),
                        line: None,
                        expression: String::new(),
                        message: format!(
                            "the s3 backend has no `{name}` (not in the backend block, not recorded by `terraform init`)"
                        ),
                        hint: format!("pass --backend-config {name}=VALUE, as to terraform init"),
                    }]
                })
            };
            let bucket = need("bucket")?;
            let key = need("key")?;
            let key = s3_workspace_key(
                key,
                &workspace,
                settings.get("workspace_key_prefix").map(String::as_str),
            );
            let ignored = [
                "profile",
                "role_arn",
                "assume_role",
                "shared_credentials_file",
            ]
            .iter()
            .filter(|k| settings.contains_key(**k))
            .map(|k| (*k).to_owned())
            .collect();
            Ok(StateLocation::S3 {
                bucket,
                key,
                region: settings.get("region").cloned(),
                ignored,
            })
        }
        other => Ok(StateLocation::Other(other.to_owned())),
    }
}

/// The S3 key of `workspace`'s state: `key` itself for `default`, else
/// `{workspace_key_prefix}/{workspace}/{key}`, the prefix defaulting to `env:`. The backend and
/// `terraform_remote_state` share this rule.
pub(crate) fn s3_workspace_key(key: String, workspace: &str, prefix: Option<&str>) -> String {
    match workspace {
        "default" => key,
        ws => format!("{}/{ws}/{key}", prefix.unwrap_or("env:")),
    }
}

/// The backend block's type and literal settings (`local` when there is none).
fn declared(module: &Arc<Module>) -> Result<(String, BTreeMap<String, String>), Vec<Problem>> {
    let Some(backend) = module.backend.clone() else {
        return Ok(("local".to_owned(), BTreeMap::new()));
    };
    let mut ev = Evaluator::new(module.clone(), None);
    let mut settings = BTreeMap::new();
    let mut problems = Vec::new();
    for (name, attr) in &backend.attrs {
        // Terraform allows only literals here; a nested object (`assume_role`) is kept as
        // present, for the note that it is not applied.
        match ev.eval_literal(&attr.expr, attr.file.clone()) {
            Ok(v) => {
                let text = v.to_str().unwrap_or_default();
                settings.insert(name.clone(), text);
            }
            Err(f) => problems.extend(f.problems),
        }
    }
    if problems.is_empty() {
        Ok((backend.kind, settings))
    } else {
        Err(problems)
    }
}

/// A recorded setting as text; `null` is unset.
fn scalar(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        other => Some(other.to_string()),
    }
}

/// `--backend-config` arguments as settings: `KEY=VALUE`, or a file of `key = "value"`
/// lines (what `terraform init -backend-config=FILE` takes), in order.
pub(crate) fn config_args(args: &[String]) -> Result<Vec<(String, String)>, Vec<Problem>> {
    let mut settings = Vec::new();
    let mut problems = Vec::new();
    for arg in args {
        match arg.split_once('=') {
            Some((k, v)) if is_identifier(k) => settings.push((k.to_owned(), v.to_owned())),
            _ => match config_file(Path::new(arg)) {
                Ok(pairs) => settings.extend(pairs),
                Err(p) => problems.extend(p),
            },
        }
    }
    if problems.is_empty() {
        Ok(settings)
    } else {
        Err(problems)
    }
}

fn is_identifier(k: &str) -> bool {
    !k.is_empty() && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

fn config_file(path: &Path) -> Result<Vec<(String, String)>, Vec<Problem>> {
    let display = path.to_string_lossy().into_owned();
    let problem = |message: String| Problem {
        file: display.clone(),
        line: None,
        expression: String::new(),
        message,
        hint: "--backend-config takes KEY=VALUE or a file of key = \"value\" lines".to_owned(),
    };
    let text = crate::files::read_text(path, crate::files::MAX_SOURCE_BYTES)
        .map_err(|e| vec![problem(format!("cannot read the file: {e}"))])?;
    if let Some(hazard) = super::source::parse_hazard(&text, false) {
        return Err(vec![hazard.problem(&display)]);
    }
    let (body, text) = super::respell::parse(text, hcl::edit::parser::parse_body)
        .map_err(|e| vec![super::source::parse_problem(&display, &e)])?;
    let file = std::sync::Arc::new(super::source::SourceFile::new(display.clone(), text));
    let mut ev = Evaluator::new(Arc::default(), None);
    let mut out = Vec::new();
    for attr in body.attributes() {
        let v = ev
            .eval_literal(&attr.value, file.clone())
            .map_err(|f| f.problems)?;
        out.push((attr.key.as_str().to_owned(), v.to_str().unwrap_or_default()));
    }
    Ok(out)
}
