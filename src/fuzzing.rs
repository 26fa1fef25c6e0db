//! Entry points for the coverage-guided fuzz targets in `fuzz/` (cargo-fuzz): one per parser
//! of untrusted input, each taking raw bytes. Built only with the `fuzzing` feature and
//! hidden from the documentation: not part of the API.
//!
//! Each function must never panic, hang or allocate without bound, whatever the bytes; the
//! results are checked where a property is cheap to state (round trips of the encoders).

#![allow(missing_docs)]

use std::path::PathBuf;

use crate::envfile::Dialect;
use crate::export::{Format, Var};

fn text(data: &[u8]) -> Option<&str> {
    std::str::from_utf8(data).ok()
}

/// A `valueFrom` reference.
pub fn value_from(data: &[u8]) {
    if let Some(s) = text(data) {
        let _ = crate::reference::parse(s);
        let _ = crate::arn::Arn::parse(s);
        let _ = crate::reference::canonical_parameter_name(s);
    }
}

/// A `SecretString` and a JSON key (split at the first NUL), rendered as the agent would.
pub fn json_key(data: &[u8]) {
    if let Some(s) = text(data) {
        let (secret, key) = s.split_once('\0').unwrap_or((s, "k"));
        let _ = crate::jsonkey::extract_detailed(secret, key);
    }
}

/// A task definition in any JSON shape.
pub fn task_definition(data: &[u8]) {
    if let Some(s) = text(data)
        && let Ok(td) = crate::taskdef::parse(s)
    {
        for c in &td.containers {
            let local = crate::resolve::Local::default();
            let _ = crate::resolve::plan(c, &local);
        }
    }
}

/// An environment file, in both dialects.
pub fn env_file(data: &[u8]) {
    for dialect in [Dialect::Ec2, Dialect::Fargate] {
        let _ = crate::envfile::parse(data, dialect, "arn:aws:s3:::b/k", |_| None);
    }
}

/// An `--override-file` (dotenv), as ecs-env reads it.
pub fn override_file(data: &[u8]) {
    for item in dotenvy::from_read_iter(data) {
        let _ = item;
    }
}

/// A CloudFormation template (JSON or YAML) with intrinsics, evaluated to a task definition.
pub fn cloudformation(data: &[u8]) {
    if let Some(s) = text(data)
        && let Ok(template) = crate::cloudformation::parse(s)
    {
        let ctx = crate::cloudformation::Context {
            region: Some("us-east-1".to_owned()),
            partition: Some("aws".to_owned()),
            ..Default::default()
        };
        let _ = template.task_definition(None, &ctx);
    }
}

thread_local! {
    /// One scratch directory per fuzzing process for Terraform configurations.
    static SCRATCH: PathBuf = {
        let dir = std::env::temp_dir().join(format!("ecs-env-fuzz-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        dir
    };
}

/// A Terraform configuration (`main.tf`), evaluated; the bytes after the first NUL are a
/// `terraform.tfvars`.
pub fn terraform(data: &[u8]) {
    let Some(s) = text(data) else { return };
    let (config, tfvars) = s.split_once('\0').unwrap_or((s, ""));
    SCRATCH.with(|dir| {
        let _ = std::fs::write(dir.join("main.tf"), config);
        let _ = std::fs::write(dir.join("terraform.tfvars"), tfvars);
        let inputs = crate::terraform::Inputs {
            path: dir.clone(),
            ..Default::default()
        };
        let _ = crate::terraform::load(&inputs);
    });
}

/// Terraform's other text parsers and writers: `yamldecode`'s YAML (and `yamlencode` of what
/// it read), `base64gzip`'s compressor, `fileset`'s glob patterns (matched against the name
/// after the first NUL), and the respelling of repeated object keys and the checks after the
/// parse (the whole input as an HCL body).
pub fn terraform_text(data: &[u8]) {
    if let Some(s) = text(data) {
        crate::terraform::fuzz_text(s);
    }
}

/// Terraform state or `terraform show -json` output.
pub fn terraform_state(data: &[u8]) {
    if let Some(s) = text(data)
        && let Ok(doc) = serde_json::from_str::<serde_json::Value>(s)
    {
        let _ = crate::terraform::from_show_json(&doc, None);
    }
}

/// Every export format on one variable (name and value split at the first NUL): never a
/// panic; what is rendered reads back through dotenvy and serde_json unchanged.
pub fn export(data: &[u8]) {
    let Some(s) = text(data) else { return };
    let (name, value) = s.split_once('\0').unwrap_or(("NAME", s));
    let vars = [Var {
        name,
        value,
        secret: true,
    }];
    for format in Format::ALL {
        let _ = crate::export::render_all(format, &vars, true);
        let Ok(out) = crate::export::render_all(format, &vars, false) else {
            continue;
        };
        match format {
            Format::Json => {
                let back: std::collections::BTreeMap<String, String> =
                    serde_json::from_slice(&out.body).expect("json export reads back");
                assert_eq!(back.get(name).map(String::as_str), Some(value));
            }
            Format::Dotenv => {
                let back: Vec<(String, String)> = dotenvy::from_read_iter(&out.body[..])
                    .collect::<Result<_, _>>()
                    .expect("dotenv export reads back");
                assert_eq!(back, [(name.to_owned(), value.to_owned())]);
            }
            _ => {}
        }
    }
}
