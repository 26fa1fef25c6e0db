//! The run path: shapes, resolution, precedence, overrides, failures.

use std::time::Instant;

use crate::emulator::{emulator, unique};
use crate::proxy::Proxy;
use crate::util::{ecs_env, ecs_env_offline, empty_dir, task_definition, write_file};

const REGION: &str = "us-east-1";

#[test]
fn injects_secrets_parameters_and_environment_byte_for_byte() {
    let e = emulator();
    let name = unique("app/db");
    let arn = e.create_secret(
        REGION,
        &name,
        r#"{"username":"admin","password":"p@ss w0rd\n$HOME `x`","port":5432}"#,
    );
    let param = format!("/{}/api-key", unique("svc"));
    e.put_parameter(REGION, &param, "key-123", true);
    let td = task_definition(
        &[("MODE", "dev"), ("EMPTY", "")],
        &[
            ("DB_USER", &format!("{arn}:username::")),
            ("DB_PASSWORD", &format!("{arn}:password::")),
            ("DB_PORT", &format!("{arn}:port::")),
            ("DB_JSON", &arn),
            ("API_KEY", &param),
        ],
    );
    let env = ecs_env().task_definition(&td).child_env();
    env.assert("MODE", "dev");
    env.assert("EMPTY", "");
    env.assert("DB_USER", "admin");
    env.assert("DB_PASSWORD", "p@ss w0rd\n$HOME `x`");
    env.assert("DB_PORT", "5432");
    env.assert(
        "DB_JSON",
        r#"{"username":"admin","password":"p@ss w0rd\n$HOME `x`","port":5432}"#,
    );
    env.assert("API_KEY", "key-123");
    // AWS_REGION is inherited here, so the agent's rule injects neither variable.
    env.assert("AWS_REGION", "us-east-1");
    assert_eq!(env.get("AWS_DEFAULT_REGION"), None);
}

#[test]
fn every_task_definition_shape_and_stdin() {
    let container = r#"{"name": "app", "image": "x", "cpu": null, "environment": [{"name": "A", "value": "1"}], "secrets": null, "environmentFiles": null}"#;
    let shapes = [
        format!(
            r#"{{"taskDefinition": {{"family": "f", "revision": 4, "status": "ACTIVE", "containerDefinitions": [{container}]}}, "tags": []}}"#
        ),
        format!(r#"{{"family": "f", "containerDefinitions": [{container}]}}"#),
        format!("[{container}]"),
    ];
    for td in &shapes {
        ecs_env_offline()
            .env("AWS_REGION", "eu-west-1")
            .task_definition(td)
            .child_env()
            .assert("A", "1");
        let env = ecs_env_offline()
            .env("AWS_REGION", "eu-west-1")
            .args(["-f", "-"])
            .stdin(td)
            .child_env();
        env.assert("A", "1");
    }
    let run = ecs_env_offline()
        .task_definition(r#"{"services": []}"#)
        .args(["--", "true"])
        .output();
    run.assert_code(125)
        .assert_stderr_contains("accepted shapes are");
}

#[test]
fn container_selection() {
    let td = r#"[{"name": "app", "environment": [{"name": "WHO", "value": "app"}]},
                 {"name": "worker", "environment": [{"name": "WHO", "value": "worker"}]}]"#;
    let run = ecs_env_offline()
        .env("AWS_REGION", REGION)
        .task_definition(td)
        .args(["--", "true"])
        .output();
    run.assert_code(125)
        .assert_stderr_contains("`app`, `worker`")
        .assert_stderr_contains("--container");
    ecs_env_offline()
        .env("AWS_REGION", REGION)
        .task_definition(td)
        .args(["-c", "worker"])
        .child_env()
        .assert("WHO", "worker");
    ecs_env_offline()
        .env("AWS_REGION", REGION)
        .env("ECS_ENV_CONTAINER", "app")
        .task_definition(td)
        .child_env()
        .assert("WHO", "app");
}

#[test]
fn references_from_flags_without_a_file() {
    let e = emulator();
    let arn = e.create_secret(REGION, &unique("flag"), r#"{"token":"t0k"}"#);
    let env = ecs_env()
        .args([
            "--secret",
            &format!("TOKEN={arn}:token::"),
            "--env",
            "PLAIN=a=b",
        ])
        .child_env();
    env.assert("TOKEN", "t0k");
    env.assert("PLAIN", "a=b");
    // Validated exactly like task-definition entries: a bad field count fails before any call.
    let run = ecs_env_offline()
        .env("AWS_REGION", REGION)
        .args(["--secret", &format!("TOKEN={arn}:token"), "--", "true"])
        .output();
    run.assert_code(125)
        .assert_stderr_contains("asm_invalid_format");
}

#[test]
fn cross_region_arn_is_read_from_its_own_region() {
    let e = emulator();
    let name = unique("shared/token");
    let arn = e.create_secret("eu-west-1", &name, "eu-value");
    let proxy = Proxy::start(&e.endpoint, vec![]);
    let env = ecs_env()
        .env("AWS_ENDPOINT_URL", &proxy.endpoint)
        .args(["--secret", &format!("T={arn}")])
        .child_env();
    env.assert("T", "eu-value");
    let calls = proxy.calls("GetSecretValue");
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].region, "eu-west-1");
}

#[test]
fn keys_of_one_secret_cost_one_request_and_ssm_is_batched() {
    let e = emulator();
    let arn = e.create_secret(REGION, &unique("multi"), r#"{"a":"1","b":"2","c":"3"}"#);
    let prefix = format!("/{}", unique("batch"));
    let mut secrets: Vec<(String, String)> = ["a", "b", "c"]
        .iter()
        .map(|k| (k.to_uppercase(), format!("{arn}:{k}::")))
        .collect();
    for i in 0..23 {
        let name = format!("{prefix}/p{i:02}");
        e.put_parameter(REGION, &name, &format!("v{i}"), i % 2 == 0);
        secrets.push((format!("P{i:02}"), name));
    }
    let refs: Vec<(&str, &str)> = secrets
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let proxy = Proxy::start(&e.endpoint, vec![]);
    let env = ecs_env()
        .env("AWS_ENDPOINT_URL", &proxy.endpoint)
        .task_definition(&task_definition(&[], &refs))
        .child_env();
    env.assert("A", "1");
    env.assert("C", "3");
    env.assert("P00", "v0");
    env.assert("P22", "v22");
    assert_eq!(proxy.calls("GetSecretValue").len(), 1);
    let batches = proxy.calls("GetParameters");
    let mut sizes: Vec<usize> = batches
        .iter()
        .map(|r| r.body["Names"].as_array().unwrap().len())
        .collect();
    sizes.sort_unstable();
    assert_eq!(sizes, [3, 10, 10]);
    assert!(batches.iter().all(|r| r.body["WithDecryption"] == true));
}

#[test]
fn overridden_secrets_need_no_aws_at_all() {
    let td = task_definition(
        &[("MODE", "prod")],
        &[
            (
                "DB_PASSWORD",
                "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf:password::",
            ),
            ("API_KEY", "/prod/api-key"),
        ],
    );
    let file = write_file("local.env", "API_KEY=\"from file\"\nMODE=staging\n");
    // No credentials, and the endpoint is a closed port: any request would fail.
    let env = ecs_env_offline()
        .env("AWS_REGION", REGION)
        .task_definition(&td)
        .args(["--override", "DB_PASSWORD=local-pw", "--override-file"])
        .arg(&file)
        .child_env();
    env.assert("DB_PASSWORD", "local-pw");
    env.assert("API_KEY", "from file");
    env.assert("MODE", "staging");

    let run = ecs_env_offline()
        .env("AWS_REGION", REGION)
        .task_definition(&td)
        .args(["--override", "NOT_THERE=x", "--", "true"])
        .output();
    run.assert_code(125)
        .assert_stderr_contains("unknown_override")
        .assert_stderr_contains("--env");
}

#[test]
fn precedence_preserve_env_and_pristine() {
    let td = task_definition(&[("A", "task"), ("B", "task")], &[("S", "/never/fetched")]);
    // Default: the task definition beats inherited values.
    let env = ecs_env_offline()
        .env("AWS_REGION", REGION)
        .env("A", "mine")
        .task_definition(&td)
        .args(["--override", "S=x"])
        .child_env();
    env.assert("A", "task");

    // --preserve-env=A,S: inherited A and S win, and S is not fetched (the endpoint is dead).
    let env = ecs_env_offline()
        .env("AWS_REGION", REGION)
        .env("A", "mine")
        .env("S", "my-secret")
        .task_definition(&td)
        .arg("--preserve-env=A,S")
        .child_env();
    env.assert("A", "mine");
    env.assert("B", "task");
    env.assert("S", "my-secret");

    // --pristine: only the allowlist and --keep survive; inherited AWS_REGION is dropped, so
    // the agent's rule injects the task region (from --region).
    let env = ecs_env_offline()
        .env("AWS_REGION", REGION)
        .env("LC_ALL", "C")
        .env("SECRET_TOKEN_ON_LAPTOP", "x")
        .env("KEEP_ME", "k")
        .task_definition(&td)
        .args([
            "--pristine",
            "--keep",
            "KEEP_ME",
            "--region",
            "eu-central-1",
            "--override",
            "S=x",
        ])
        .child_env();
    env.assert("LC_ALL", "C");
    env.assert("KEEP_ME", "k");
    env.assert("AWS_REGION", "eu-central-1");
    env.assert("AWS_DEFAULT_REGION", "eu-central-1");
    assert_eq!(env.get("SECRET_TOKEN_ON_LAPTOP"), None);
    assert!(env.get("PATH").is_some());
}

#[test]
fn region_is_injected_when_nothing_sets_it() {
    let env = ecs_env_offline()
        .env_remove("AWS_REGION")
        .args(["--env", "X=1", "--region", "ap-south-1"])
        .child_env();
    env.assert("AWS_REGION", "ap-south-1");
    env.assert("AWS_DEFAULT_REGION", "ap-south-1");
    // A profile's region is the task region too.
    let home = empty_dir();
    std::fs::create_dir_all(home.join(".aws")).unwrap();
    std::fs::write(
        home.join(".aws/config"),
        "[profile dev]\nregion = sa-east-1\n",
    )
    .unwrap();
    let env = ecs_env_offline()
        .env("HOME", &home)
        .args(["--profile", "dev", "--env", "X=1"])
        .child_env();
    env.assert("AWS_REGION", "sa-east-1");
    // No region anywhere: refuse rather than start without it.
    let run = ecs_env_offline()
        .args(["--env", "X=1", "--", "true"])
        .output();
    run.assert_code(125)
        .assert_stderr_contains("no_region")
        .assert_stderr_contains("--region");
}

#[test]
fn every_failure_is_reported_at_once_and_nothing_starts() {
    let e = emulator();
    let arn = e.create_secret(REGION, &unique("partial"), r#"{"present":"1"}"#);
    let marker = empty_dir().join("started");
    let td = task_definition(
        &[],
        &[
            ("OK", &format!("{arn}:present::")),
            ("NO_KEY", &format!("{arn}:absent::")),
            (
                "NO_SECRET",
                "arn:aws:secretsmanager:us-east-1:123456789012:secret:does-not-exist-AbCdEf",
            ),
            ("NO_PARAM", &format!("/{}/missing", unique("p"))),
        ],
    );
    let run = ecs_env()
        .task_definition(&td)
        .args(["--", "touch"])
        .arg(&marker)
        .output();
    run.assert_code(125)
        .assert_stderr_contains("3 problems; the command was not started")
        .assert_stderr_contains("NO_KEY")
        .assert_stderr_contains("json_key_missing")
        .assert_stderr_contains("`present`")
        .assert_stderr_contains("asm_not_found")
        .assert_stderr_contains("GetSecretValue in us-east-1")
        .assert_stderr_contains("ssm_invalid_parameters");
    assert!(!marker.exists(), "the command must not start");
}

#[test]
fn bare_name_of_a_secrets_manager_secret_gets_a_hint() {
    let e = emulator();
    let name = unique("my-db-secret");
    let arn = e.create_secret(REGION, &name, "x");
    let run = ecs_env()
        .args(["--secret", &format!("DB={name}"), "--", "true"])
        .output();
    run.assert_code(125)
        .assert_stderr_contains("ssm_invalid_parameters")
        .assert_stderr_contains(&format!("full ARN `{arn}`"));
}

#[test]
fn access_denied_names_the_iam_action() {
    let e = emulator();
    let arn = e.create_secret(REGION, &unique("denied"), "x");
    let param = format!("/{}/denied", unique("p"));
    e.put_parameter(REGION, &param, "v", false);
    let proxy = Proxy::start(
        &e.endpoint,
        vec![
            crate::proxy::Fault {
                api: "GetSecretValue",
                needle: "denied".into(),
                status: 400,
                code: "AccessDeniedException",
                message: "User: arn:aws:sts::123456789012:assumed-role/dev is not authorized to perform: secretsmanager:GetSecretValue".into(),
                ..Default::default()
            },
            crate::proxy::Fault {
                api: "GetParameters",
                needle: "denied".into(),
                status: 400,
                code: "AccessDeniedException",
                message: "not authorized to perform: ssm:GetParameters".into(),
                ..Default::default()
            },
        ],
    );
    let run = ecs_env()
        .env("AWS_ENDPOINT_URL", &proxy.endpoint)
        .args([
            "--secret",
            &format!("S={arn}"),
            "--secret",
            &format!("P={param}"),
            "--",
            "true",
        ])
        .output();
    run.assert_code(125)
        .assert_stderr_contains("asm_api_error")
        .assert_stderr_contains(&format!("grant `secretsmanager:GetSecretValue` on `{arn}`"))
        .assert_stderr_contains("ssm_api_error")
        .assert_stderr_contains("grant `ssm:GetParameters`");
}

#[test]
fn no_credentials_fails_fast_with_a_clear_message() {
    // No credentials anywhere, and "instance metadata" is a closed loopback port (never the
    // real metadata address). The SDK's chain must give up quickly, not hang.
    let started = Instant::now();
    let run = ecs_env_offline()
        .env_remove("AWS_EC2_METADATA_DISABLED")
        .env("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:1")
        .env("AWS_REGION", REGION)
        .args(["--secret", "S=/some/param", "--", "true"])
        .output();
    let elapsed = started.elapsed();
    run.assert_code(125)
        .assert_stderr_contains("no usable AWS credentials")
        .assert_stderr_contains("hint:");
    // A hang guard only; the figure itself is reported by the benchmark.
    assert!(elapsed.as_secs() < 10, "took {elapsed:?}");
}

/// A HOME whose `~/.aws/config` holds `config`.
fn home_with_config(config: &str) -> std::path::PathBuf {
    let home = empty_dir();
    std::fs::create_dir_all(home.join(".aws")).unwrap();
    std::fs::write(home.join(".aws/config"), config).unwrap();
    home
}

#[test]
fn credential_process_profiles_work_and_profile_beats_environment_keys() {
    let e = emulator();
    let arn = e.create_secret(REGION, &unique("proc"), "via-process");
    let home = home_with_config(
        "[profile proc]\nregion = us-east-1\ncredential_process = printf '{\"Version\": 1, \"AccessKeyId\": \"AKIDFROMPROCESS\", \"SecretAccessKey\": \"x\"}'\n",
    );
    let proxy = Proxy::start(&e.endpoint, vec![]);
    // Environment keys are present too: `--profile`, as in the AWS CLI, wins over them.
    let env = ecs_env()
        .env("HOME", &home)
        .env("AWS_ENDPOINT_URL", &proxy.endpoint)
        .args(["--profile", "proc", "--secret", &format!("S={arn}")])
        .child_env();
    env.assert("S", "via-process");
    let calls = proxy.calls("GetSecretValue");
    assert_eq!(calls[0].access_key, "AKIDFROMPROCESS");
}

/// ecs-env with `AWS_PROFILE=profile` from `home`'s configuration and no keys in the
/// environment, its requests going through `proxy`.
fn as_profile(home: &std::path::Path, profile: &str, proxy: &Proxy) -> crate::util::EcsEnv {
    ecs_env()
        .env("HOME", home)
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env("AWS_PROFILE", profile)
        .env("AWS_ENDPOINT_URL", &proxy.endpoint)
}

/// The session `aws login` leaves: a `login_session` profile, and the token cached under
/// `~/.aws/login/cache/` (named by the SHA-256 of the session ARN) holding short-term
/// credentials that expire at `expires_at`. The DPoP key is only read to refresh.
fn home_with_login_session(expires_at: &str) -> std::path::PathBuf {
    use sha2::{Digest, Sha256};
    let session = "arn:aws:iam::123456789012:user/dev";
    let home = home_with_config(&format!(
        "[profile console]\nregion = us-east-1\nlogin_session = {session}\n"
    ));
    let cache = home.join(".aws/login/cache");
    std::fs::create_dir_all(&cache).unwrap();
    let name: String = Sha256::digest(session.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let token = format!(
        r#"{{"accessToken": {{"accessKeyId": "AKIDFROMLOGIN", "secretAccessKey": "x",
             "sessionToken": "session", "accountId": "123456789012", "expiresAt": "{expires_at}"}},
            "tokenType": "aws_sigv4", "refreshToken": "refresh",
            "clientId": "arn:aws:signin:::devtools/same-device", "dpopKey": "not a key"}}"#
    );
    std::fs::write(cache.join(format!("{name}.json")), token).unwrap();
    home
}

#[test]
fn login_session_profiles_work() {
    let e = emulator();
    let arn = e.create_secret(REGION, &unique("login"), "via-login");
    let home = home_with_login_session("2099-01-01T00:00:00Z");
    let proxy = Proxy::start(&e.endpoint, vec![]);
    let env = as_profile(&home, "console", &proxy)
        .args(["--secret", &format!("S={arn}")])
        .child_env();
    env.assert("S", "via-login");
    let calls = proxy.calls("GetSecretValue");
    assert_eq!(calls[0].access_key, "AKIDFROMLOGIN");
}

#[test]
fn an_expired_or_missing_login_session_names_aws_login() {
    // Expired: the SDK tries to refresh it, which fails here (the key is not one, and nothing
    // listens on the endpoint). Missing: `aws login` was never run for this HOME.
    let expired = home_with_login_session("2020-01-01T00:00:00Z");
    let missing = home_with_config(
        "[profile console]\nregion = us-east-1\nlogin_session = arn:aws:iam::123456789012:user/dev\n",
    );
    for home in [expired, missing] {
        let run = ecs_env_offline()
            .env("HOME", &home)
            .env("AWS_PROFILE", "console")
            .args(["--secret", "S=/some/param", "--", "true"])
            .output();
        run.assert_code(125)
            .assert_stderr_contains("no usable AWS credentials")
            .assert_stderr_contains("hint: the console login session has expired or was never started: run `aws login --profile console`");
    }
}

#[test]
fn assume_role_profiles_work() {
    let e = emulator();
    let arn = e.create_secret(REGION, &unique("role"), "via-role");
    let home = home_with_config(
        "[profile base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = x\n\n\
         [profile dev]\nregion = us-east-1\nrole_arn = arn:aws:iam::123456789012:role/dev\nsource_profile = base\n",
    );
    let proxy = Proxy::start(&e.endpoint, vec![]);
    let env = as_profile(&home, "dev", &proxy)
        .args(["--secret", &format!("S={arn}")])
        .child_env();
    env.assert("S", "via-role");
    let requests = proxy.requests();
    let assume = requests
        .iter()
        .find(|r| r.raw.contains("Action=AssumeRole"))
        .expect("an AssumeRole call");
    assert_eq!(assume.access_key, "AKIDBASE");
    let get = proxy.calls("GetSecretValue");
    assert_ne!(
        get[0].access_key, "AKIDBASE",
        "the secret is read with the role's credentials"
    );
    // The child inherits ecs-env's environment, not the resolved credentials.
    assert_eq!(env.get("AWS_ACCESS_KEY_ID"), None);
}
