//! `check`, `policy`, completions and the man page, through the real binary.

use serde_json::Value;

use crate::emulator::{emulator, private_emulator, unique};
use crate::proxy::Proxy;
use crate::util::{ecs_env, ecs_env_offline, task_definition, write_file};

const REGION: &str = "us-east-1";
const CANARY: &str = "CANARY-inspect-51c2";

#[test]
fn check_reports_every_reference_without_values() {
    let e = emulator();
    let arn = e.create_secret(
        REGION,
        &unique("chk/db"),
        &format!(r#"{{"password":"{CANARY}","big":1000000,"o":{{}}}}"#),
    );
    let param = format!("/{}/key", unique("chk"));
    e.put_parameter(REGION, &param, CANARY, true);
    let td = task_definition(
        &[("MODE", "dev")],
        &[
            ("PW", &format!("{arn}:password::")),
            ("BIG", &format!("{arn}:big::")),
            ("MISSING_KEY", &format!("{arn}:Password::")),
            ("KEY", &param),
            ("GONE", &format!("/{}/gone", unique("chk"))),
            ("BAD", "name:3"),
        ],
    );
    for format in ["table", "json"] {
        let run = ecs_env()
            .arg("check")
            .task_definition(&td)
            .args(["--format", format])
            .output();
        run.assert_code(1);
        assert!(
            !run.stdout().contains("CANARY") && !run.stderr().contains("CANARY"),
            "{}",
            run.stdout()
        );
        if format == "table" {
            let out = run.stdout();
            assert!(
                out.starts_with("identity: arn:aws:sts::123456789012:user/moto\n"),
                "{out}"
            );
            assert!(out.lines().all(|l| l.chars().count() <= 80), "{out}");
            for needle in [
                "JSON key missing",
                "not found",
                "invalid format",
                "1e+06",
                "`big`, `o`, `password`",
            ] {
                assert!(out.contains(needle), "table lacks {needle:?}:\n{out}");
            }
            assert!(out.contains("7 variables: 4 ok, 3 failed"), "{out}");
        } else {
            let doc: Value = serde_json::from_str(&run.stdout()).unwrap();
            assert_eq!(doc["ok"], false);
            let outcome = |v: &str| {
                doc["variables"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|r| r["variable"] == v)
                    .unwrap()["outcome"]
                    .clone()
            };
            assert_eq!(outcome("PW"), "ok");
            assert_eq!(outcome("KEY"), "ok");
            assert_eq!(outcome("MISSING_KEY"), "JSON key missing");
            assert_eq!(outcome("GONE"), "not found");
            assert_eq!(outcome("BAD"), "invalid format");
            let big = doc["variables"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["variable"] == "BIG")
                .unwrap();
            assert!(big["warnings"][0].as_str().unwrap().contains("1e+06"));
        }
    }
    // All fine: exit 0.
    let good = task_definition(&[], &[("PW", &format!("{arn}:password::"))]);
    ecs_env()
        .arg("check")
        .task_definition(&good)
        .output()
        .assert_code(0);
}

#[test]
fn check_offline_makes_no_call_and_lints() {
    let td = task_definition(
        &[("K", "v")],
        &[("K", "/dup"), ("OK", "/fine"), ("SEL", "/p:live")],
    );
    let run = ecs_env_offline()
        .env("AWS_REGION", REGION)
        .arg("check")
        .task_definition(&td)
        .arg("--offline")
        .output();
    run.assert_code(1);
    let out = run.stdout();
    assert!(out.contains("identity: none (offline"), "{out}");
    assert!(out.contains("register_rejected"), "{out}");
    let fine = task_definition(&[("K", "v")], &[("OK", "/fine")]);
    ecs_env_offline()
        .env("AWS_REGION", REGION)
        .arg("check")
        .task_definition(&fine)
        .arg("--offline")
        .output()
        .assert_code(0);
    // No credentials online: the check itself cannot run.
    ecs_env_offline()
        .env("AWS_REGION", REGION)
        .arg("check")
        .task_definition(&fine)
        .output()
        .assert_code(125);
}

#[test]
fn check_offline_names_placeholders_left_in_references() {
    // Task definitions as application repositories keep them, before a deploy tool renders
    // them: each placeholder is named with its variable and what looks wrong.
    let td = task_definition(
        &[],
        &[
            (
                "DB",
                "arn:aws:secretsmanager:us-east-1:ACCOUNT_ID:secret:db-AbCdEf",
            ),
            ("API", "arn:aws:ssm:REGION:123456789012:parameter/api"),
            (
                "TOKEN",
                "arn:aws:ssm:us-east-1:{{must_env `AWS_ACCOUNT_ID`}}:parameter/token",
            ),
            ("KEY", "arn:aws:ssm:us-east-1:<account_id>:parameter/key"),
            ("FINE", "arn:aws:ssm:us-east-1:123456789012:parameter/fine"),
        ],
    );
    let run = ecs_env_offline()
        .env("AWS_REGION", REGION)
        .args(["check", "--offline", "--format", "json"])
        .task_definition(&td)
        .output();
    run.assert_code(1);
    let report: Value = serde_json::from_str(&run.stdout()).unwrap();
    let rows = report["variables"].as_array().unwrap();
    let class_of = |name: &str| {
        rows.iter()
            .find(|r| r["variable"] == name)
            .map(|r| r["error"]["class"].clone())
    };
    for name in ["DB", "API", "TOKEN", "KEY"] {
        assert_eq!(
            class_of(name),
            Some(Value::from("placeholder")),
            "{name}: {report:#}"
        );
    }
    assert_eq!(class_of("FINE"), Some(Value::Null), "{report:#}");
    let text = run.stdout();
    for what in [
        "account `ACCOUNT_ID` is not a 12-digit account id",
        "region `REGION` is not a region name",
        "contains `{{`",
        "contains `<account_id>`",
    ] {
        assert!(text.contains(what), "{what}: {text}");
    }
    // Overridden, a placeholder does not matter: its reference is never used.
    ecs_env_offline()
        .env("AWS_REGION", REGION)
        .args([
            "--override",
            "DB=x",
            "--override",
            "API=x",
            "--override",
            "TOKEN=x",
        ])
        .args(["--override", "KEY=x", "--override", "FINE=x"])
        .task_definition(&td)
        .args(["--", "true"])
        .output()
        .assert_code(0);
}

/// The references of a task with several kinds of secrets, plus decoys it must not reach.
struct PolicyWorld {
    td: String,
    must: Vec<(String, String)>,
    must_not: Vec<(String, String)>,
}

fn policy_world(e: &crate::emulator::Emulator) -> PolicyWorld {
    let p = unique("pol");
    let full = e.create_secret(REGION, &format!("{p}/db"), r#"{"password":"x"}"#);
    let partial_name = format!("{p}/api");
    let partial = e.create_secret(REGION, &partial_name, "tok");
    // Decoys: a secret whose name extends the partial name, and a sibling.
    let decoy_longer = e.create_secret(REGION, &format!("{p}/api-extra"), "no");
    let decoy_sibling = e.create_secret(REGION, &format!("{p}/dbx"), "no");
    let param = format!("/{p}/key");
    e.put_parameter(REGION, &param, "v", true);
    let eu_param_name = format!("/{p}/eu");
    e.put_parameter("eu-west-1", &eu_param_name, "v", false);
    let eu_param = format!("arn:aws:ssm:eu-west-1:123456789012:parameter{eu_param_name}");
    let partial_ref = format!("arn:aws:secretsmanager:{REGION}:123456789012:secret:{partial_name}");
    let td = task_definition(
        &[],
        &[
            ("DB", &format!("{full}:password::")),
            ("API", &partial_ref),
            ("KEY", &param),
            ("EU", &eu_param),
        ],
    );
    let ssm_arn =
        |name: &str, region: &str| format!("arn:aws:ssm:{region}:123456789012:parameter{name}");
    PolicyWorld {
        td,
        must: vec![
            ("secretsmanager:GetSecretValue".into(), full),
            ("secretsmanager:GetSecretValue".into(), partial),
            ("ssm:GetParameters".into(), ssm_arn(&param, REGION)),
            ("ssm:GetParameters".into(), eu_param),
        ],
        must_not: vec![
            ("secretsmanager:GetSecretValue".into(), decoy_longer),
            ("secretsmanager:GetSecretValue".into(), decoy_sibling),
            (
                "ssm:GetParameters".into(),
                ssm_arn(&format!("/{p}/other"), REGION),
            ),
            ("ssm:GetParameters".into(), ssm_arn(&param, "eu-west-1")),
        ],
    }
}

#[test]
fn policy_is_least_privilege_by_independent_tools() {
    let e = emulator();
    let world = policy_world(e);
    let run = ecs_env().arg("policy").task_definition(&world.td).output();
    run.assert_code(0);
    let policy = write_file("policy.json", &run.stdout());
    let grants = serde_json::json!({"must": world.must, "must_not": world.must_not}).to_string();
    let audit = e.python("policy_audit.py", &[policy.to_str().unwrap(), &grants]);
    assert!(
        audit.status.success(),
        "policy audit failed:\n{}{}\npolicy:\n{}",
        String::from_utf8_lossy(&audit.stdout),
        String::from_utf8_lossy(&audit.stderr),
        run.stdout()
    );
    // With --batch: the same grants (decoys still refused), plus BatchGetSecretValue, which
    // has no resource type, and still no parliament finding.
    let batch = ecs_env()
        .arg("policy")
        .task_definition(&world.td)
        .arg("--batch")
        .output();
    batch.assert_code(0);
    let batch_policy = write_file("policy-batch.json", &batch.stdout());
    let mut must = world.must.clone();
    must.push(("secretsmanager:BatchGetSecretValue".into(), "*".into()));
    let grants = serde_json::json!({"must": must, "must_not": world.must_not}).to_string();
    let audit = e.python(
        "policy_audit.py",
        &[batch_policy.to_str().unwrap(), &grants],
    );
    assert!(
        audit.status.success(),
        "policy audit (--batch) failed:\n{}{}\npolicy:\n{}",
        String::from_utf8_lossy(&audit.stdout),
        String::from_utf8_lossy(&audit.stderr),
        batch.stdout()
    );
    assert!(
        !run.stdout().contains("BatchGetSecretValue"),
        "only on request"
    );
    // Two current-version secrets in us-east-1: the note suggests --batch, once not given.
    assert!(
        run.stderr().contains("--batch also allows"),
        "{}",
        run.stderr()
    );
    assert!(!batch.stderr().contains("--batch also allows"));
    // Terraform: the same resources in an aws_iam_policy_document block.
    let tf = ecs_env()
        .arg("policy")
        .task_definition(&world.td)
        .args(["--format", "terraform"])
        .output();
    tf.assert_code(0);
    assert!(tf.stdout().starts_with("data \"aws_iam_policy_document\""));
    for (_, arn) in &world.must[2..] {
        assert!(tf.stdout().contains(arn.as_str()), "{}", tf.stdout());
    }
    // Offline, a bare parameter name needs --account.
    let run = ecs_env_offline()
        .env("AWS_REGION", REGION)
        .arg("policy")
        .task_definition(&world.td)
        .arg("--offline")
        .output();
    run.assert_code(125).assert_stderr_contains("--account");
    let run = ecs_env_offline()
        .env("AWS_REGION", REGION)
        .arg("policy")
        .task_definition(&world.td)
        .args(["--offline", "--account", "123456789012"])
        .output();
    run.assert_code(0);
}

#[test]
fn generated_actions_are_enough_to_run_the_task() {
    // Its own emulator: IAM enforcement is server-wide.
    let e = private_emulator();
    let world = policy_world(&e);
    let td = write_file("td.json", &world.td);
    let base = || ecs_env().env("AWS_ENDPOINT_URL", &e.endpoint);
    let policy = base().arg("policy").arg("-f").arg(&td).output();
    let policy: Value = serde_json::from_str(&policy.stdout()).unwrap();
    let actions: Vec<String> = policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["Action"].as_str().unwrap().to_owned())
        .collect();
    let key = |user: &str, actions: &[String]| e.iam_user(user, actions);
    let enough = key("enough", &actions);
    let mut with_batch = actions.clone();
    with_batch.push("secretsmanager:BatchGetSecretValue".into());
    let batched = key("batched", &with_batch);
    let without_ssm: Vec<String> = actions
        .iter()
        .filter(|a| !a.starts_with("ssm:"))
        .cloned()
        .collect();
    let short = key("short", &without_ssm);
    e.enforce_iam();

    // The policy without --batch is enough: the emulator's IAM denies the batch, and each
    // secret is read with GetSecretValue. With --batch, one batch reads both secrets.
    for (user, batches, singles) in [(&enough, 1, 2), (&batched, 1, 0)] {
        let proxy = Proxy::start(&e.endpoint, vec![]);
        let run = base()
            .env("AWS_ENDPOINT_URL", &proxy.endpoint)
            .env("AWS_ACCESS_KEY_ID", &user.0)
            .env("AWS_SECRET_ACCESS_KEY", &user.1)
            .arg("-f")
            .arg(&td)
            .args(["--", "true"])
            .output();
        run.assert_code(0);
        assert_eq!(
            proxy.calls("BatchGetSecretValue").len(),
            batches,
            "{}",
            user.0
        );
        assert_eq!(proxy.calls("GetSecretValue").len(), singles, "{}", user.0);
    }
    let run = base()
        .env("AWS_ACCESS_KEY_ID", &short.0)
        .env("AWS_SECRET_ACCESS_KEY", &short.1)
        .arg("-f")
        .arg(&td)
        .args(["--", "true"])
        .output();
    run.assert_code(125)
        .assert_stderr_contains("ssm_api_error")
        .assert_stderr_contains("grant `ssm:GetParameters`");
}

#[test]
fn completions_and_man_page() {
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let run = ecs_env_offline().args(["completions", shell]).output();
        run.assert_code(0);
        assert!(run.stdout().contains("task-definition"), "{shell}");
    }
    let man = ecs_env_offline().arg("man").output();
    man.assert_code(0);
    assert!(man.stdout().contains(".TH ecs-env"), "{}", man.stdout());
}
