//! A distinctive value planted in secrets must never appear on stderr, whatever happens.

use crate::emulator::{emulator, unique};
use crate::util::{ecs_env, task_definition};

const CANARY: &str = "CANARY-7f3e9a-do-not-print";

#[test]
fn canary_never_reaches_stderr() {
    let e = emulator();
    let region = "us-east-1";
    let json = e.create_secret(
        region,
        &unique("canary/json"),
        &format!(r#"{{"k":"{CANARY}","n":1}}"#),
    );
    let plain = e.create_secret(region, &unique("canary/plain"), CANARY);
    let nul = e.create_secret(
        region,
        &unique("canary/nul"),
        &format!(r#"{{"k":"{CANARY}\u0000"}}"#),
    );
    let binary = e.create_binary_secret(region, &unique("canary/bin"), CANARY.as_bytes());
    let param = format!("/{}/p", unique("canary"));
    e.put_parameter(region, &param, CANARY, true);

    // (label, secrets, expected exit code)
    type Case<'a> = (&'a str, Vec<(&'a str, String)>, i32);
    let cases: Vec<Case> = vec![
        (
            "success",
            vec![
                ("A", format!("{json}:k::")),
                ("B", plain.clone()),
                ("C", param.clone()),
            ],
            0,
        ),
        ("missing key", vec![("A", format!("{json}:nope::"))], 125),
        ("not json", vec![("A", format!("{plain}:k::"))], 125),
        ("nul byte", vec![("A", format!("{nul}:k::"))], 125),
        ("binary", vec![("A", binary.clone())], 125),
        ("binary with key", vec![("A", format!("{binary}:k::"))], 125),
        (
            "mixed",
            vec![
                ("A", format!("{json}:k::")),
                ("B", format!("{json}:zz::")),
                ("C", param.clone()),
            ],
            125,
        ),
    ];
    for (label, secrets, code) in cases {
        let refs: Vec<(&str, &str)> = secrets.iter().map(|(n, v)| (*n, v.as_str())).collect();
        for verbosity in ["-v", "-vv"] {
            let run = ecs_env()
                .task_definition(&task_definition(&[("PLAIN", "p")], &refs))
                .args([verbosity, "--", "true"])
                .output();
            run.assert_code(code);
            assert!(
                !run.stderr().contains("CANARY"),
                "{label} {verbosity}: canary on stderr:\n{}",
                run.stderr()
            );
            assert!(
                !run.stdout().contains("CANARY"),
                "{label} {verbosity}: canary on stdout"
            );
            if code == 0 {
                assert!(
                    run.stderr().contains("GetSecretValue"),
                    "{label}: -v logs the calls"
                );
            }
        }
    }
    // Overrides are values too.
    let run = ecs_env()
        .args([
            "--secret",
            "X=/p",
            "--override",
            &format!("X={CANARY}"),
            "--override",
            &format!("=={CANARY}"),
            "-vv",
            "--",
            "true",
        ])
        .output();
    run.assert_code(125);
    assert!(!run.stderr().contains("CANARY"), "{}", run.stderr());
}

/// Terraform state holds secret values (`secret_string`, a parameter's `value`, outputs). Read
/// from a local file or from S3, passed through functions that reject them, or left broken,
/// none of them reaches the output. The canary is the text a function would quote, the text a
/// JSON parser would quote, and a value the environment never needs.
#[test]
fn canary_in_terraform_state_never_reaches_the_output() {
    let e = emulator();
    let region = "us-east-1";
    let secret = e.create_secret(region, &unique("canary/tf"), "not-the-canary");
    let state = |outputs: serde_json::Value| {
        serde_json::json!({"version": 4, "outputs": outputs, "resources": [
            {"mode": "managed", "type": "aws_secretsmanager_secret_version", "name": "db",
             "instances": [{"attributes": {"secret_string": format!("{{\"password\": \"{CANARY}\""), "arn": secret}}]},
            {"mode": "managed", "type": "aws_ssm_parameter", "name": "token",
             "instances": [{"attributes": {"value": CANARY, "arn": "arn:aws:ssm:us-east-1:123456789012:parameter/token"}}]}
        ]})
        .to_string()
    };
    let bucket = unique("canary-state").to_lowercase();
    e.put_object(
        region,
        &bucket,
        "platform.tfstate",
        state(serde_json::json!({"secret_output": {"value": CANARY, "type": "string"}})).as_bytes(),
    );
    e.put_object(
        region,
        &bucket,
        "broken.tfstate",
        format!("{{\"outputs\": {{\"x\": \"{CANARY}\\u12").as_bytes(),
    );
    let dir = crate::util::empty_dir();
    std::fs::write(dir.join("terraform.tfstate"), state(serde_json::json!({}))).unwrap();
    // One task definition per way a value can be rejected; each is chosen with --resource.
    let uses = [
        (
            "jsondecode",
            "jsondecode(aws_secretsmanager_secret_version.db.secret_string).password",
        ),
        ("tonumber", "tonumber(aws_ssm_parameter.token.value)"),
        ("tobool", "tobool(aws_ssm_parameter.token.value)"),
        (
            "base64decode",
            "base64decode(aws_ssm_parameter.token.value)",
        ),
        ("parseint", "parseint(aws_ssm_parameter.token.value, 10)"),
        ("timeadd", "timeadd(aws_ssm_parameter.token.value, \"1h\")"),
        (
            "duration",
            "timeadd(\"2024-01-01T00:00:00Z\", aws_ssm_parameter.token.value)",
        ),
        ("cidrhost", "cidrhost(aws_ssm_parameter.token.value, 1)"),
        (
            "formatdate",
            "formatdate(aws_ssm_parameter.token.value, \"2024-01-01T00:00:00Z\")",
        ),
        ("index", "{ a = 1 }[aws_ssm_parameter.token.value]"),
        (
            "yamldecode",
            "yamldecode(\"[${aws_ssm_parameter.token.value}\")",
        ),
        ("interpolate", "\"${[aws_ssm_parameter.token.value]}\""),
        (
            "remote_output",
            "data.terraform_remote_state.platform.outputs.missing",
        ),
        (
            "broken_remote",
            "data.terraform_remote_state.broken.outputs.x",
        ),
    ];
    let mut tf = format!(
        r#"data "terraform_remote_state" "platform" {{
  backend = "s3"
  config  = {{ bucket = "{bucket}", key = "platform.tfstate", region = "{region}" }}
}}
data "terraform_remote_state" "broken" {{
  backend = "s3"
  config  = {{ bucket = "{bucket}", key = "broken.tfstate", region = "{region}" }}
}}
resource "aws_secretsmanager_secret_version" "db" {{}}
resource "aws_ssm_parameter" "token" {{}}
"#
    );
    for (name, expr) in uses {
        tf.push_str(&format!(
            r#"resource "aws_ecs_task_definition" "{name}" {{
  family = "{name}"
  container_definitions = jsonencode([{{
    name        = "app"
    image       = data.terraform_remote_state.platform.outputs.secret_output
    environment = [{{ name = "X", value = {expr} }}]
    secrets     = [{{ name = "S", valueFrom = "{secret}" }}]
  }}])
}}
"#
        ));
    }
    std::fs::write(dir.join("main.tf"), tf).unwrap();
    for (name, _) in uses {
        let resource = format!("aws_ecs_task_definition.{name}");
        for args in [
            vec!["-vv", "--", "true"],
            vec!["check", "-vv"],
            vec!["export", "-vv", "--format", "json"],
        ] {
            let (sub, rest) = match args[0] {
                "check" | "export" => (vec![args[0]], &args[1..]),
                _ => (vec![], &args[..]),
            };
            let run = ecs_env()
                .args(&sub)
                .arg("-f")
                .arg(&dir)
                .args(["--resource", &resource])
                .args(rest)
                .output();
            run.assert_code(125);
            for (stream, text) in [("stderr", run.stderr()), ("stdout", run.stdout())] {
                assert!(
                    !text.contains("CANARY"),
                    "{name} {args:?}: canary on {stream}:\n{text}"
                );
            }
        }
    }
    // The state itself broken, from S3: the parser's position, never its text.
    let s3 = crate::util::empty_dir();
    std::fs::write(
        s3.join("main.tf"),
        format!(
            "terraform {{\n  backend \"s3\" {{\n    bucket = \"{bucket}\"\n    key = \"broken.tfstate\"\n    region = \"{region}\"\n  }}\n}}\nresource \"aws_ecs_task_definition\" \"app\" {{\n  container_definitions = jsonencode([{{ name = \"app\" }}])\n}}\n"
        ),
    )
    .unwrap();
    let run = ecs_env()
        .arg("-f")
        .arg(&s3)
        .args(["-vv", "--", "true"])
        .output();
    run.assert_code(125)
        .assert_stderr_contains(&format!("s3://{bucket}/broken.tfstate"))
        .assert_stderr_contains("is not valid JSON");
    assert!(!run.stderr().contains("CANARY"), "{}", run.stderr());
}
