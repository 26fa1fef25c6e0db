//! Every conformance vector of the spec this build covers, through the real binary against
//! the emulator (behind the recording proxy, which checks the requests the vector expects).
//!
//! The emulator names secrets with its own random suffix and is shared with other tests, so
//! each vector's secret and parameter names get a unique prefix and the vector's `valueFrom`
//! is rewritten to the real names; the shape of every reference (full or partial ARN, bare or
//! hierarchical name, trailing colons) is kept exactly.
//!
//! Failures the emulator cannot produce are injected by the proxy, and each is named here:
//! - `asm-017`: the emulator resolves a partial ARN whose name ends in `-` plus six
//!   characters (real Secrets Manager reads it as a complete ARN and answers
//!   ResourceNotFoundException), so that answer is injected;
//! - `ssm-012`: AccessDeniedException is injected (the emulator's IAM checks only actions);
//! - `asm-json-031`: the emulator keeps no version for an empty `SecretString`, so the
//!   empty answer is served by the proxy.
//!
//! Environment-file vectors upload their content to S3 in the emulator and list it in
//! `environmentFiles`; their Fargate expectations run again with `--launch-type fargate`.
//!
//! One deliberate difference from the agent: ecs-env requests each distinct parameter name
//! once (`ssm-015` expects the agent's duplicate name in the batch); the values are the same.

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

use crate::emulator::{emulator, unique};
use crate::proxy::{Fault, Proxy};
use crate::util::ecs_env;

/// Every vector is covered.
fn covered(_case: &Value) -> bool {
    true
}

fn vectors() -> Value {
    let text = include_str!("../vectors/ecs-conformance.json");
    serde_json::from_str(text).unwrap()
}

#[test]
fn vendored_vectors_match_shared() {
    // The vectors are vendored so a clone builds on its own; when the shared spec sits beside
    // the project (as in CI), it must be the same file.
    let shared = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/vectors/ecs-conformance.json");
    if let Ok(text) = std::fs::read_to_string(&shared) {
        assert_eq!(
            text,
            include_str!("../vectors/ecs-conformance.json"),
            "tests/vectors/ecs-conformance.json differs from {}: copy it over and make the new vectors pass",
            shared.display()
        );
    }
}

#[test]
fn conformance_vectors_pass_through_the_binary() {
    let doc = vectors();
    let mut passed = Vec::new();
    let mut failed = Vec::new();
    for case in doc["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| covered(c))
    {
        let id = case["id"].as_str().unwrap().to_owned();
        match run_case(case) {
            Ok(()) => passed.push(id),
            Err(e) => failed.push(format!("{id}: {e}")),
        }
    }
    eprintln!("{} vectors passed: {}", passed.len(), passed.join(" "));
    assert!(
        failed.is_empty(),
        "{} vectors failed:\n{}",
        failed.len(),
        failed.join("\n\n")
    );
    // Guard against a vector silently dropping out of the covered set.
    assert_eq!(passed.len(), 77, "covered vectors: {passed:?}");
}

/// One case's world: the emulator state it needs and the rewritten references.
struct World {
    prefix: String,
    /// Original secret name in the vector → name in the emulator's ARN form.
    secrets: HashMap<String, String>,
    faults: Vec<Fault>,
}

const VECTOR_SUFFIXES: [&str; 2] = ["-AbCdEf", "-Qw3rTy"];

impl World {
    fn rename_parameter(&self, name: &str) -> String {
        if let Some((head, rest)) = name.split_once(":parameter/") {
            format!("{head}:parameter/{}{rest}", self.prefix)
        } else if let Some(rest) = name.strip_prefix("/aws/reference/secretsmanager/") {
            format!("/aws/reference/secretsmanager/{}{rest}", self.prefix)
        } else if let Some(rest) = name.strip_prefix('/') {
            format!("/{}{rest}", self.prefix)
        } else {
            format!("{}{name}", self.prefix)
        }
    }

    /// Rewrite a Secrets Manager ARN (valueFrom or SecretId) to the emulator's names.
    fn rename_secret_arn(&self, arn: &str) -> String {
        let mut parts: Vec<String> = arn.splitn(6, ':').map(str::to_owned).collect();
        let mut fields: Vec<String> = parts[5].split(':').map(str::to_owned).collect();
        fields[1] = self
            .secrets
            .get(&fields[1])
            .cloned()
            .unwrap_or_else(|| format!("{}{}", self.prefix, fields[1]));
        parts[5] = fields.join(":");
        parts.join(":")
    }

    fn rename(&self, value_from: &str) -> String {
        if is_secrets_manager(value_from) {
            self.rename_secret_arn(value_from)
        } else {
            self.rename_parameter(value_from)
        }
    }
}

fn is_secrets_manager(value_from: &str) -> bool {
    value_from.starts_with("arn:") && value_from.split(':').nth(2) == Some("secretsmanager")
}

fn value_froms(case: &Value) -> Vec<String> {
    match &case["valueFrom"] {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect(),
        _ => vec![],
    }
}

fn set_up(case: &Value) -> World {
    let e = emulator();
    let mut world = World {
        prefix: format!("{}-", unique("v")),
        secrets: HashMap::new(),
        faults: vec![],
    };
    let served = &case["served"];
    let expect = &case["expect"];
    let request = expect.get("request").unwrap_or(&Value::Null);

    for vf in value_froms(case) {
        if is_secrets_manager(&vf) {
            let region = vf.split(':').nth(3).unwrap().to_owned();
            let original = vf
                .splitn(6, ':')
                .nth(5)
                .unwrap()
                .split(':')
                .nth(1)
                .unwrap()
                .to_owned();
            if world.secrets.contains_key(&original) {
                continue;
            }
            let full = VECTOR_SUFFIXES.iter().any(|s| original.ends_with(s));
            let base = if full {
                &original[..original.len() - 7]
            } else {
                original.as_str()
            };
            let name = format!("{}{base}", world.prefix);
            let api_error = served.get("api_error").and_then(Value::as_str);
            let arn = match (served, api_error) {
                (Value::Null, _) => continue,
                (_, Some("ResourceNotFoundException")) if full => continue,
                (_, Some(code)) => {
                    // The secret exists; the emulator would return it, so the failure is injected.
                    let arn = e.create_secret(&region, &name, "unused");
                    world.faults.push(Fault {
                        api: "GetSecretValue",
                        needle: name.clone(),
                        status: 400,
                        code: leak(code),
                        message: "injected by the test proxy".into(),
                        ..Default::default()
                    });
                    arn
                }
                _ if served["SecretString"] == "" => {
                    // The emulator stores no version for an empty SecretString, so the
                    // answer is served by the proxy.
                    let arn = e.create_secret(&region, &name, "placeholder");
                    world.faults.push(Fault {
                        api: "GetSecretValue",
                        needle: name.clone(),
                        status: 200,
                        body: Some(serde_json::json!({"ARN": arn, "Name": name, "SecretString": "", "VersionId": "empty-version-00000000000000000000000", "VersionStages": ["AWSCURRENT"]}).to_string()),
                        ..Default::default()
                    });
                    arn
                }
                _ => create_served_secret(&region, &name, served, request),
            };
            let resource = if full {
                arn.rsplit(":secret:").next().unwrap().to_owned()
            } else {
                name
            };
            world.secrets.insert(original, resource);
        } else {
            let region = case["task_region"].as_str().unwrap();
            if let Some(secret) = vf.strip_prefix("/aws/reference/secretsmanager/") {
                if let Some(p) = served["parameters"].get(&vf) {
                    e.create_secret(
                        region,
                        &format!("{}{secret}", world.prefix),
                        p["Value"].as_str().unwrap(),
                    );
                }
            } else if served.get("ssm_invalid").is_some()
                && served
                    .get("note")
                    .is_some_and(|n| n.as_str().unwrap().contains("Secrets Manager secret"))
            {
                // asm-023: a Secrets Manager secret of that name exists, no parameter.
                e.create_secret(
                    region,
                    &world.rename_parameter(&vf),
                    "a secret, not a parameter",
                );
            }
            if let Some(code) = served.get("api_error").and_then(Value::as_str) {
                world.faults.push(Fault {
                    api: "GetParameters",
                    needle: world.rename_parameter(&vf),
                    status: 400,
                    code: leak(code),
                    message: "User: arn:aws:sts::123456789012:assumed-role/exec is not authorized to perform: ssm:GetParameters (injected by the test proxy)".into(),
                    ..Default::default()
                });
            }
        }
    }
    if let Some(Value::Object(params)) = served.get("parameters") {
        let region = case["task_region"].as_str().unwrap();
        for (name, p) in params {
            if name.starts_with("/aws/reference/") {
                continue;
            }
            let renamed = world.rename_parameter(name);
            e.put_parameter(
                region,
                &renamed,
                p["Value"].as_str().unwrap(),
                p["Type"] == "SecureString",
            );
        }
    }
    world
}

fn leak(s: &str) -> &'static str {
    Box::leak(s.to_owned().into_boxed_str())
}

/// Create the secret so that the version the vector selects holds the served value, and a
/// different version is current where that makes the selection observable.
fn create_served_secret(region: &str, name: &str, served: &Value, request: &Value) -> String {
    let e = emulator();
    let stage = request["VersionStage"].as_str();
    let version_id = request["VersionId"].as_str();
    if let Some(b64) = served["SecretBinary"].as_str() {
        assert_eq!(b64, "AAEC");
        return e.create_secret_version_binary(region, name, &[0, 1, 2]);
    }
    let value = served["SecretString"]
        .as_str()
        .expect("served SecretString");
    match (stage, version_id) {
        (Some("AWSPREVIOUS"), None) => {
            let arn = e.create_secret(region, name, value);
            e.put_secret_value(
                region,
                &arn,
                "current-decoy",
                "decoy-version-0000000000000000000000",
            );
            arn
        }
        (Some("AWSCURRENT"), Some(id)) => e.create_secret_version(region, name, value, id),
        (None, Some(id)) => {
            let arn = e.create_secret_version(region, name, value, id);
            e.put_secret_value(
                region,
                &arn,
                "current-decoy",
                "decoy-version-0000000000000000000000",
            );
            arn
        }
        (None, None) => e.create_secret(region, name, value),
        other => panic!("no set-up for {other:?}"),
    }
}

fn run_case(case: &Value) -> Result<(), String> {
    let world = set_up(case);
    let proxy = Proxy::start(&emulator().endpoint, world.faults.clone());
    let expect = &case["expect"];
    let region = case["task_region"]
        .as_str()
        .or_else(|| case["input"]["agent_region"].as_str())
        .unwrap_or("us-east-1");

    // Variables: MY_VAR for one reference (the name in the ECS texts), V0.. for several.
    let vfs = value_froms(case);
    let mut secrets: Vec<(String, String)> = match vfs.len() {
        1 => vec![("MY_VAR".to_owned(), world.rename(&vfs[0]))],
        _ => vfs
            .iter()
            .enumerate()
            .map(|(i, vf)| (format!("V{i}"), world.rename(vf)))
            .collect(),
    };
    let mut environment: Vec<(String, String)> = Vec::new();
    // Environment files: one per `file_content` or `env_files` entry, uploaded to S3.
    let bucket = unique("vectors").to_lowercase();
    let mut files: Vec<String> = Vec::new();
    let mut contents: Vec<String> = Vec::new();
    if let Some(content) = case["file_content"].as_str() {
        contents.push(content.replace("<70000 x characters>", &"x".repeat(70_000)));
    }
    for lines in case["input"]["env_files"].as_array().into_iter().flatten() {
        let lines: Vec<&str> = lines
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l.as_str().unwrap())
            .collect();
        contents.push(format!("{}\n", lines.join("\n")));
    }
    for (i, content) in contents.iter().enumerate() {
        files.push(emulator().put_object(
            "us-east-1",
            &bucket,
            &format!("{i}.env"),
            content.as_bytes(),
        ));
    }
    if let Some(input) = case.get("input") {
        for entry in input["environment"].as_array().into_iter().flatten() {
            environment.push((
                entry["name"].as_str().unwrap().into(),
                entry["value"].as_str().unwrap().into(),
            ));
        }
        for entry in input["secrets"].as_array().into_iter().flatten() {
            secrets.push((
                entry["name"].as_str().unwrap().into(),
                world.rename(entry["valueFrom"].as_str().unwrap()),
            ));
        }
        for (name, value) in input["secrets_resolved"].as_object().into_iter().flatten() {
            let param = world.rename_parameter(&format!("/resolved/{name}"));
            emulator().put_parameter(region, &param, value.as_str().unwrap(), true);
            secrets.push((name.clone(), param));
        }
    }
    let td = serde_json::json!({"containerDefinitions": [{
        "name": "app",
        "environment": environment.iter().map(|(n, v)| serde_json::json!({"name": n, "value": v})).collect::<Vec<_>>(),
        "secrets": secrets.iter().map(|(n, v)| serde_json::json!({"name": n, "valueFrom": v})).collect::<Vec<_>>(),
        "environmentFiles": files.iter().map(|f| serde_json::json!({"value": f, "type": "s3"})).collect::<Vec<_>>(),
    }]})
    .to_string();
    if let Some(fargate) = case.get("fargate_expect") {
        check_fargate(&td, &proxy, fargate)?;
    }

    // The task region comes from --region; nothing is inherited, so the agent's region rule
    // applies as on a bare container.
    let run = ecs_env()
        .env_remove("AWS_REGION")
        .env("AWS_ENDPOINT_URL", &proxy.endpoint)
        .task_definition(&td)
        .args(["--region", region, "--", "env", "-0"])
        .output();
    let stdout = run.0.stdout.clone();
    let env: BTreeMap<String, String> = String::from_utf8_lossy(&stdout)
        .split('\0')
        .filter_map(|kv| {
            kv.split_once('=')
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
        })
        .collect();

    if let Some(class) = expect.get("error").and_then(Value::as_str) {
        if run.code() != Some(125) || !stdout.is_empty() {
            return Err(format!(
                "expected {class}, got {:?}, stderr:\n{}",
                run.0.status,
                run.stderr()
            ));
        }
        let stderr = run.stderr();
        if !stderr.contains(&format!("class: {class}")) {
            return Err(format!("expected class {class}:\n{stderr}"));
        }
        for (name, _) in &secrets {
            if !stderr.contains(name.as_str()) && class != "register_rejected" {
                return Err(format!("stderr does not name {name}:\n{stderr}"));
            }
        }
        // The agent's own wording where ecs-env keeps it.
        let texts: Vec<String> =
            match (expect.get("message"), expect.get("message_parts_any_order")) {
                (_, Some(Value::Array(parts))) => parts
                    .iter()
                    .map(|p| p.as_str().unwrap().to_owned())
                    .collect(),
                (Some(Value::String(m)), _) => vec![m.clone()],
                _ => vec![],
            };
        if matches!(class, "json_key_missing" | "ssm_invalid_parameters") {
            for text in texts {
                let text = vfs
                    .iter()
                    .fold(text, |t, vf| t.replace(vf.as_str(), &world.rename(vf)));
                if !stderr.contains(&text) {
                    return Err(format!("stderr lacks the agent's text {text:?}:\n{stderr}"));
                }
            }
        }
        if case.get("served").is_some_and(Value::is_null) && !proxy.requests().is_empty() {
            return Err(format!(
                "no request may be made, saw {:?}",
                proxy.requests()
            ));
        }
    } else {
        if run.code() != Some(0) {
            return Err(format!(
                "expected success, got {:?}, stderr:\n{}",
                run.0.status,
                run.stderr()
            ));
        }
        if let Some(value) = expect.get("value").and_then(Value::as_str)
            && env.get("MY_VAR").map(String::as_str) != Some(value)
        {
            return Err(format!("MY_VAR = {:?}, want {value:?}", env.get("MY_VAR")));
        }
        if let Some(Value::Object(values)) = expect.get("values") {
            for (i, vf) in vfs.iter().enumerate() {
                let want = values[vf].as_str().unwrap();
                if env.get(&format!("V{i}")).map(String::as_str) != Some(want) {
                    return Err(format!(
                        "V{i} = {:?}, want {want:?}",
                        env.get(&format!("V{i}"))
                    ));
                }
            }
        }
        for (name, value) in expect
            .get("env_subset")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            if env.get(name).map(String::as_str) != value.as_str() {
                return Err(format!("{name} = {:?}, want {value}", env.get(name)));
            }
        }
        if let Some(Value::Object(vars)) = expect.get("vars") {
            // Exactly the file's variables: nothing more than the emulator settings and the
            // injected region.
            let harness = [
                "PATH",
                "HOME",
                "AWS_ACCESS_KEY_ID",
                "AWS_SECRET_ACCESS_KEY",
                "AWS_EC2_METADATA_DISABLED",
                "AWS_ENDPOINT_URL",
                "AWS_REGION",
                "AWS_DEFAULT_REGION",
            ];
            let got: BTreeMap<&str, &str> = env
                .iter()
                .filter(|(k, _)| !harness.contains(&k.as_str()))
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            let want: BTreeMap<&str, &str> = vars
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str().unwrap()))
                .collect();
            if got != want {
                return Err(format!("file variables {got:?}, want {want:?}"));
            }
        }
        for name in expect
            .get("absent")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(v) = env.get(name.as_str().unwrap()) {
                return Err(format!("{name} must be absent, is {v:?}"));
            }
        }
    }
    check_requests(case, &world, &proxy)?;
    // The library resolves the same, through a fresh proxy with the same faults.
    let proxy = Proxy::start(&emulator().endpoint, world.faults.clone());
    crate::library::library_matches_cli(&td, &proxy.endpoint, region)
        .map_err(|e| format!("library: {e}"))
}

fn check_requests(case: &Value, world: &World, proxy: &Proxy) -> Result<(), String> {
    let expect = &case["expect"];
    let mut wanted: Vec<&Value> = Vec::new();
    if let Some(r) = expect.get("request") {
        wanted.push(r);
    }
    if let Some(Value::Array(rs)) = expect.get("requests") {
        wanted.extend(rs);
    }
    let Some(first) = wanted.first() else {
        return Ok(());
    };
    let api = first["api"].as_str().unwrap();
    let calls = proxy.calls(api);
    match api {
        "GetSecretValue" => {
            let r = first;
            if calls.len() != 1 {
                return Err(format!("expected one GetSecretValue, saw {}", calls.len()));
            }
            let body = &calls[0].body;
            let want_id = world.rename_secret_arn(r["SecretId"].as_str().unwrap());
            if body["SecretId"] != want_id.as_str() {
                return Err(format!("SecretId {} != {want_id}", body["SecretId"]));
            }
            for field in ["VersionStage", "VersionId"] {
                let sent = body.get(field).cloned().unwrap_or(Value::Null);
                if sent != r[field] {
                    return Err(format!("{field}: sent {sent}, want {}", r[field]));
                }
            }
            if calls[0].region != r["region"] {
                return Err(format!("region {} != {}", calls[0].region, r["region"]));
            }
        }
        "GetParameters" => {
            let mut want: Vec<Vec<String>> = wanted
                .iter()
                .map(|r| {
                    let mut names: Vec<String> = r["Names"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|n| world.rename_parameter(n.as_str().unwrap()))
                        .collect();
                    names.sort();
                    names.dedup(); // ecs-env asks for each distinct name once
                    names
                })
                .collect();
            let mut got: Vec<Vec<String>> = calls
                .iter()
                .map(|c| {
                    let mut names: Vec<String> = c.body["Names"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|n| n.as_str().unwrap().to_owned())
                        .collect();
                    names.sort();
                    names
                })
                .collect();
            want.sort();
            got.sort();
            if want != got {
                return Err(format!("GetParameters batches {got:?}, want {want:?}"));
            }
            if calls
                .iter()
                .any(|c| c.body["WithDecryption"] != true || c.region != first["region"])
            {
                return Err(format!(
                    "GetParameters must decrypt, in {}: {calls:?}",
                    first["region"]
                ));
            }
        }
        other => return Err(format!("unknown api {other}")),
    }
    Ok(())
}

/// The Fargate expectation of an env-file vector: Docker env-file rules (--launch-type fargate).
fn check_fargate(td: &str, proxy: &Proxy, fargate: &Value) -> Result<(), String> {
    let run = ecs_env()
        .env("AWS_ENDPOINT_URL", &proxy.endpoint)
        .env("JUSTNAME", "from-the-host")
        .task_definition(td)
        .args(["--launch-type", "fargate", "--", "env", "-0"])
        .output();
    if fargate.get("error").is_some() {
        if run.code() != Some(125) || !run.stderr().contains("class: envfile_read") {
            return Err(format!(
                "fargate: expected envfile_read, got {:?}:\n{}",
                run.0.status,
                run.stderr()
            ));
        }
    } else if fargate["note"]
        .as_str()
        .is_some_and(|n| n.contains("JUSTNAME"))
    {
        let passed = run
            .stdout()
            .split('\0')
            .any(|kv| kv == "JUSTNAME=from-the-host");
        if run.code() != Some(0) || !passed {
            return Err(format!(
                "fargate: JUSTNAME should pass through from the host:\n{}",
                run.stderr()
            ));
        }
    }
    Ok(())
}
