//! Every place a task definition lives: deployed ECS, CloudFormation/CDK templates and
//! stacks, Terraform, and environment files in S3, each read by the real binary.

use std::path::Path;

use crate::emulator::{emulator, unique};
use crate::util::{ecs_env, empty_dir, write_file};

const REGION: &str = "us-east-1";

#[test]
fn deployed_task_definitions_by_family_revision_arn_and_service() {
    let e = emulator();
    let arn = e.create_secret(REGION, &unique("deployed"), r#"{"pw":"from-ecs"}"#);
    let family = unique("fam");
    let secret = format!("{arn}:pw::");
    let rev1 = e.register_task_definition(
        REGION,
        &family,
        &[("app", &[("REV", "1")], &[("PW", &secret)])],
    );
    let rev2 = e.register_task_definition(
        REGION,
        &family,
        &[("app", &[("REV", "2")], &[("PW", &secret)])],
    );
    for (source, rev) in [
        (family.clone(), "2"),
        (format!("{family}:1"), "1"),
        (rev1.clone(), "1"),
        (rev2.clone(), "2"),
    ] {
        let env = ecs_env().args(["-f", &source]).child_env();
        env.assert("REV", rev);
        env.assert("PW", "from-ecs");
    }
    let cluster = unique("cluster");
    e.create_service(REGION, &cluster, "web", &rev1);
    let env = ecs_env()
        .args(["--service", &format!("{cluster}/web")])
        .child_env();
    env.assert("REV", "1");
    // An existing file wins over a family of the same name.
    let dir = empty_dir();
    std::fs::write(
        dir.join(&family),
        r#"[{"name": "app", "environment": [{"name": "REV", "value": "file"}]}]"#,
    )
    .unwrap();
    let mut cmd = ecs_env().args(["-f", &family]);
    cmd.command().current_dir(&dir);
    cmd.child_env().assert("REV", "file");
    // Unknown family: a clear error naming the API.
    let run = ecs_env()
        .args(["-f", &unique("nosuchfamily"), "--", "true"])
        .output();
    run.assert_code(125)
        .assert_stderr_contains("ecs:DescribeTaskDefinition");
}

#[test]
fn cdk_and_yaml_templates_resolve_offline_and_with_a_stack() {
    let e = emulator();
    let p = unique("cfn");
    let param = format!("/{p}/api-key");
    e.put_parameter(REGION, &param, "key-from-stack", true);
    let db = e.create_secret(REGION, &format!("{p}/db"), r#"{"password":"pw-cdk"}"#);
    // CDK's shape: Join of a Ref, SSM ARNs built from pseudo parameters.
    let cdk = serde_json::json!({
        "Parameters": {"Stage": {"Type": "String", "Default": "dev"}},
        "Resources": {
            "DbSecretA1B2C3": {"Type": "AWS::SecretsManager::Secret"},
            "TaskDef54694570": {"Type": "AWS::ECS::TaskDefinition", "Properties": {
                "ExecutionRoleArn": {"Fn::GetAtt": ["TaskDefExecutionRole", "Arn"]},
                "ContainerDefinitions": [{
                    "Name": "web",
                    "Environment": [{"Name": "STAGE", "Value": {"Ref": "Stage"}}, {"Name": "PORT", "Value": 8080}],
                    "Secrets": [
                        {"Name": "DB_PASSWORD", "ValueFrom": {"Fn::Join": ["", [{"Ref": "DbSecretA1B2C3"}, ":password::"]]}},
                        {"Name": "API_KEY", "ValueFrom": {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":ssm:", {"Ref": "AWS::Region"}, ":", {"Ref": "AWS::AccountId"}, &format!(":parameter{param}")]]}}
                    ]
                }]
            }}
        }
    });
    let file = write_file("Stack.template.json", &cdk.to_string());
    // Without the stack, the Ref of the secret resource cannot be known: say which flag.
    let run = ecs_env().arg("-f").arg(&file).args(["--", "true"]).output();
    run.assert_code(125)
        .assert_stderr_contains("Ref: DbSecretA1B2C3")
        .assert_stderr_contains("--stack");
    // A deployed stack: `Ref` of its SSM parameter is read from DescribeStackResources. (The
    // emulator cannot deploy AWS::SecretsManager::Secret, so the secret is named directly.)
    let yaml = format!(
        "AWSTemplateFormatVersion: '2010-09-09'\n\
         Parameters:\n  Env:\n    Type: String\n    Default: dev\n\
         Resources:\n\
         \x20 ApiKey:\n    Type: AWS::SSM::Parameter\n    Properties:\n      Name: /{p}/stack-key\n      Type: String\n      Value: from-the-stack\n\
         \x20 Task:\n    Type: AWS::ECS::TaskDefinition\n    Properties:\n      ContainerDefinitions:\n\
         \x20       - Name: app\n          Image: app:latest\n          Memory: 512\n          Environment:\n            - Name: ENV\n              Value: !Ref Env\n            - Name: WHERE\n              Value: !Sub '${{AWS::Region}}-${{Env}}'\n\
         \x20         Secrets:\n            - Name: STACK_KEY\n              ValueFrom: !Ref ApiKey\n            - Name: DB\n              ValueFrom: !Sub '{db}:password::'\n"
    );
    let stack = unique("stack");
    e.create_stack(REGION, &stack, &yaml);
    let yaml_file = write_file("service.yaml", &yaml);
    let env = ecs_env()
        .arg("-f")
        .arg(&yaml_file)
        .args(["--stack", &stack, "--parameter", "Env=prod"])
        .child_env();
    env.assert("ENV", "prod");
    env.assert("WHERE", "us-east-1-prod");
    env.assert("STACK_KEY", "from-the-stack");
    env.assert("DB", "pw-cdk");
    // A misspelt parameter is refused, not ignored in favour of the default.
    ecs_env()
        .arg("-f")
        .arg(&yaml_file)
        .args(["--stack", &stack, "--parameter", "Envv=prod", "--", "true"])
        .output()
        .assert_code(125)
        .assert_stderr_contains("--parameter `Envv`: not a parameter of the template")
        .assert_stderr_contains("did you mean `Env`?");
    // The CDK template with every Ref known, AWS::AccountId from sts:GetCallerIdentity.
    let cdk_text = cdk.to_string().replace(
        r#"{"Ref":"DbSecretA1B2C3"}"#,
        &serde_json::json!(db).to_string(),
    );
    let cdk_file = write_file("Stack2.template.json", &cdk_text);
    let env = ecs_env().arg("-f").arg(&cdk_file).child_env();
    env.assert("STAGE", "dev");
    env.assert("PORT", "8080");
    env.assert("DB_PASSWORD", "pw-cdk");
    env.assert("API_KEY", "key-from-stack");
}

/// Copy a Terraform fixture and point its state at real emulator ARNs.
fn terraform_fixture(name: &str, replace: &[(&str, &str)]) -> std::path::PathBuf {
    let from = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/terraform")
        .join(name);
    let to = empty_dir().join(name);
    copy_dir(&from, &to);
    for entry in walk(&to) {
        let text = std::fs::read_to_string(&entry).unwrap();
        let mut new = text.clone();
        for (a, b) in replace {
            new = new.replace(a, b);
        }
        if new != text {
            std::fs::write(&entry, new).unwrap();
        }
    }
    to
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn terraform_configuration_with_state() {
    let e = emulator();
    let state: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures/terraform/inline/state.json"),
        )
        .unwrap(),
    )
    .unwrap();
    // The secret ARN the state records; create a secret and substitute its real ARN.
    let recorded = state["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["type"] == "aws_secretsmanager_secret")
        .unwrap()["instances"][0]["attributes"]["arn"]
        .as_str()
        .unwrap()
        .to_owned();
    let real = e.create_secret(
        REGION,
        &unique("tf/db"),
        r#"{"password":"tf-pw","username":"tf-user"}"#,
    );
    let dir = terraform_fixture("inline", &[(&recorded, &real)]);
    let env = ecs_env()
        .arg("-f")
        .arg(&dir)
        .args(["--tfstate"])
        .arg(dir.join("state.json"))
        .child_env();
    env.assert("DB_PASSWORD", "tf-pw");
    env.assert("DB_USER", "tf-user");
    // Without state: every unknown attribute is named, with the flag that resolves it.
    let run = ecs_env().arg("-f").arg(&dir).args(["--", "true"]).output();
    run.assert_code(125)
        .assert_stderr_contains("aws_secretsmanager_secret.db.arn")
        .assert_stderr_contains("--tfstate");
}

#[test]
fn environment_files_from_s3_merge_as_ecs_does() {
    let e = emulator();
    let bucket = unique("envfiles").to_lowercase();
    let eu_bucket = unique("eu-envfiles").to_lowercase();
    let first = e.put_object(
        REGION,
        &bucket,
        "app/first.env",
        b"SHARED=first\nONLY_FIRST=1\nK=file\nDUP=a\nDUP=b\n",
    );
    // In another region: the bucket's region is discovered.
    let second = e.put_object(
        "eu-west-1",
        &eu_bucket,
        "second.env",
        b"SHARED=second\nONLY_SECOND=2\n  # x=y\n",
    );
    let arn = e.create_secret(REGION, &unique("envf"), "secret-wins");
    let td = serde_json::json!({"containerDefinitions": [{
        "name": "app",
        "environment": [{"name": "K", "value": "env-wins"}],
        "secrets": [{"name": "ONLY_FIRST", "valueFrom": arn}],
        "environmentFiles": [{"value": first, "type": "s3"}, {"value": second, "type": "s3"}]
    }]})
    .to_string();
    let run = ecs_env()
        .task_definition(&td)
        .args(["--", "env", "-0"])
        .output();
    run.assert_code(0);
    // The line the two parsers read differently is named, without its value.
    run.assert_stderr_contains("second.env line 3: the EC2 agent sets a variable but Fargate");
    let env = ecs_env().task_definition(&td).child_env();
    env.assert("SHARED", "first");
    env.assert("ONLY_SECOND", "2");
    env.assert("K", "env-wins");
    env.assert("ONLY_FIRST", "secret-wins");
    env.assert("DUP", "b");
    env.assert("  # x", "y");
    // Fargate's Docker rules skip the indented comment.
    let env = ecs_env()
        .task_definition(&td)
        .args(["--launch-type", "fargate"])
        .child_env();
    assert_eq!(env.get("  # x"), None);
    // A missing object: fail closed, with the permission to grant.
    let missing = format!("arn:aws:s3:::{bucket}/missing.env");
    let td = serde_json::json!({"containerDefinitions": [{"name": "app", "environmentFiles": [{"value": missing, "type": "s3"}]}]}).to_string();
    let run = ecs_env().task_definition(&td).args(["--", "true"]).output();
    run.assert_code(125)
        .assert_stderr_contains("envfile_read")
        .assert_stderr_contains("missing.env");
    // policy covers environment files.
    let td = serde_json::json!({"containerDefinitions": [{"name": "app", "environmentFiles": [{"value": first, "type": "s3"}]}]}).to_string();
    let run = ecs_env().arg("policy").task_definition(&td).output();
    run.assert_code(0);
    assert!(
        run.stdout().contains("s3:GetObject")
            && run.stdout().contains(&format!("arn:aws:s3:::{bucket}\"")),
        "{}",
        run.stdout()
    );
}

#[test]
fn terraform_var_and_var_file_apply_in_command_line_order() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/terraform/variables");
    let file = dir.join("extra.tfvars");
    let run = |later_wins: &[&std::ffi::OsStr]| {
        crate::util::ecs_env_offline()
            .env("AWS_REGION", "us-east-1")
            .arg("-f")
            .arg(&dir)
            .args([
                "--var",
                "port=80",
                "--var",
                "labels={}",
                "--var",
                "replicas=1",
            ])
            .args(later_wins)
            // The fixture's one secret is overridden: no AWS call.
            .args(["--override", "REPLICAS=x"])
            .child_env()
    };
    // `g` is set by --var and by extra.tfvars: the later one wins, as in Terraform.
    let var = std::ffi::OsStr::new("g=from-var");
    let flag = |s: &'static str| std::ffi::OsStr::new(s);
    run(&[flag("--var"), var, flag("--var-file"), file.as_os_str()]).assert("G", "extra.tfvars");
    run(&[flag("--var-file"), file.as_os_str(), flag("--var"), var]).assert("G", "from-var");
}

#[test]
fn terraform_before_the_first_apply_needs_only_what_the_environment_uses() {
    // No state: the image, log group, roles and the sidecar's secret are unknown, and none
    // of them reaches the app's environment. Only DB_HOST does.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/terraform/before-apply");
    let run = |extra: &[&str]| {
        crate::util::ecs_env_offline()
            .env("AWS_REGION", "eu-west-1")
            .arg("-f")
            .arg(&dir)
            .args(["-c", "app"])
            .args(extra)
    };
    let failed = run(&["-v", "--", "true"]).output();
    failed
        .assert_code(125)
        .assert_stderr_contains("`aws_db_instance.db.address`")
        .assert_stderr_contains("not in Terraform state")
        .assert_stderr_contains("the command was not started");
    for unneeded in [
        "aws_ssm_parameter",
        "DD_API_KEY",
        "aws_cloudwatch_log_group",
    ] {
        assert!(
            !failed.stderr().contains(unneeded),
            "{unneeded}: {}",
            failed.stderr()
        );
    }

    // An override is the user saying "I know this one": it is never evaluated.
    let ran = run(&[
        "--override",
        "DB_HOST=db.internal",
        "--",
        "sh",
        "-c",
        "echo \"$APP_ENV $DB_HOST\"",
    ])
    .output();
    ran.assert_code(0)
        .assert_stderr_contains(
            "`execution_role_arn` and `task_role_arn` are not known here (`aws_iam_role.execution.arn`: aws_iam_role.execution is read from AWS (iam:GetRole before-apply-execution); `aws_iam_role.task.arn`: aws_iam_role.task is read from AWS (iam:GetRole before-apply-task))",
        );
    assert_eq!(ran.stdout(), "production db.internal\n");
    // -v names what was left out and why.
    let verbose = run(&["-v", "--override", "DB_HOST=db.internal", "--", "true"]).output();
    verbose
        .assert_code(0)
        .assert_stderr_contains("container `app`: `image` is not known here");
}

#[test]
fn terraform_region_partition_and_account_without_state() {
    let dir =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/terraform/caller-identity");
    let arn = |account: &str| format!("arn:aws:ssm:eu-west-1:{account}:parameter/app/db-password");
    // Offline, the account is the one thing to say.
    let policy = |extra: &[&str]| {
        crate::util::ecs_env_offline()
            .env("AWS_REGION", "eu-west-1")
            .args(["policy", "--offline", "-f"])
            .arg(&dir)
            .args(extra)
            .output()
    };
    let refused = policy(&[]);
    refused
        .assert_code(125)
        .assert_stderr_contains("data.aws_caller_identity.current.account_id")
        .assert_stderr_contains("pass --account ID");
    let given = policy(&["--account", "111122223333"]);
    given.assert_code(0);
    assert!(
        given.stdout().contains(&arn("111122223333")),
        "{}",
        given.stdout()
    );
    policy(&["--account", "12345"])
        .assert_code(125)
        .assert_stderr_contains("--account expects a 12-digit account id");

    // Online, STS says (the emulator's account).
    let online = crate::util::ecs_env()
        .env("AWS_REGION", "eu-west-1")
        .args(["policy", "-f"])
        .arg(&dir)
        .output();
    online.assert_code(0);
    assert!(
        online.stdout().contains(&arn("123456789012")),
        "{}",
        online.stdout()
    );
}

#[test]
fn cloudformation_account_id_offline_from_the_account_flag() {
    // Copilot writes secrets as ARNs built with ${AWS::AccountId}; offline, --account says it.
    let template = crate::util::write_file(
        "copilot.yml",
        "Resources:\n  TaskDefinition:\n    Type: AWS::ECS::TaskDefinition\n    Properties:\n      \
         ContainerDefinitions:\n        - Name: web\n          Secrets:\n            - Name: DB\n              \
         ValueFrom: !Sub 'arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/copilot/db'\n",
    );
    let check = |extra: &[&str]| {
        crate::util::ecs_env_offline()
            .env("AWS_REGION", "eu-west-1")
            .args(["check", "--offline", "--format", "json", "-f"])
            .arg(&template)
            .args(extra)
            .output()
    };
    check(&[])
        .assert_code(125)
        .assert_stderr_contains("AWS::AccountId");
    let given = check(&["--account", "111122223333"]);
    given.assert_code(0);
    assert!(
        given
            .stdout()
            .contains("arn:aws:ssm:eu-west-1:111122223333:parameter/copilot/db"),
        "{}",
        given.stdout()
    );
}

#[test]
fn offline_sources_open_no_socket_even_when_they_would_ask_aws() {
    // A listener that would see any connection; every source that could ask AWS (a stack's
    // resources, the account for AWS::AccountId and data.aws_caller_identity) is refused.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let template = crate::util::write_file(
        "stack.yml",
        "Resources:\n  Bucket:\n    Type: AWS::S3::Bucket\n  T:\n    Type: AWS::ECS::TaskDefinition\n    \
         Properties:\n      ContainerDefinitions:\n        - Name: web\n          Environment:\n            \
         - Name: BUCKET\n              Value: !Ref Bucket\n            - Name: ACCOUNT\n              \
         Value: !Ref AWS::AccountId\n",
    );
    let tf = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/terraform/caller-identity");
    let run = |args: &[&std::ffi::OsStr]| {
        crate::util::ecs_env_offline()
            .env("AWS_ENDPOINT_URL", &endpoint)
            .env("AWS_REGION", "eu-west-1")
            .env("AWS_ACCESS_KEY_ID", "x")
            .env("AWS_SECRET_ACCESS_KEY", "x")
            .args(args)
            .output()
    };
    let os = |s: &'static str| std::ffi::OsStr::new(s);
    run(&[
        os("check"),
        os("--offline"),
        os("--stack"),
        os("s"),
        os("-f"),
        template.as_os_str(),
    ])
    .assert_code(125)
    .assert_stderr_contains("--stack s reads the deployed stack")
    .assert_stderr_contains("which --offline forbids");
    run(&[os("check"), os("--offline"), os("-f"), template.as_os_str()])
        .assert_code(125)
        .assert_stderr_contains("AWS::AccountId");
    for command in ["check", "policy"] {
        run(&[os(command), os("--offline"), os("-f"), tf.as_os_str()])
            .assert_code(125)
            .assert_stderr_contains("pass --account ID");
    }
    assert!(
        matches!(listener.accept(), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "offline mode connected"
    );
}

#[test]
fn terraform_state_from_an_s3_backend_and_workspace() {
    // The state of workspace `staging` in the s3 backend, where `terraform workspace new
    // staging` and `apply` put it: env:/staging/KEY. The bucket comes from --backend-config,
    // as teams pass it to terraform init.
    let e = emulator();
    let bucket = unique("tfstate").to_lowercase();
    let arn = e.create_secret(REGION, &unique("tf-db"), r#"{"password":"from-s3-state"}"#);
    let state = serde_json::json!({"version": 4, "resources": [{
        "mode": "managed", "type": "aws_secretsmanager_secret", "name": "db",
        "instances": [{"attributes": {"arn": arn}}]
    }]});
    e.put_object(
        REGION,
        &bucket,
        "env:/staging/app/terraform.tfstate",
        state.to_string().as_bytes(),
    );
    let dir = crate::util::empty_dir();
    std::fs::write(
        dir.join("main.tf"),
        r#"terraform {
  backend "s3" {
    key    = "app/terraform.tfstate"
    region = "us-east-1"
  }
}

resource "aws_secretsmanager_secret" "db" {
  name = "db"
}

resource "aws_ecs_task_definition" "app" {
  family = "app"
  container_definitions = jsonencode([{
    name    = "app"
    secrets = [{ name = "DB_PASSWORD", valueFrom = "${aws_secretsmanager_secret.db.arn}:password::" }]
  }])
}
"#,
    )
    .unwrap();
    let run = |workspace: &str| {
        let backend = format!("bucket={bucket}");
        ecs_env()
            .env("TF_WORKSPACE", workspace)
            .arg("-f")
            .arg(&dir)
            .args(["--backend-config", &backend])
    };
    let ran = run("staging")
        .args(["--", "sh", "-c", "echo \"$DB_PASSWORD\""])
        .output();
    ran.assert_code(0);
    assert_eq!(ran.stdout(), "from-s3-state\n");

    // The default workspace has no state yet: said, and what needs it is unknown.
    run("default")
        .args(["--", "true"])
        .output()
        .assert_code(125)
        .assert_stderr_contains(&format!(
            "no Terraform state at s3://{bucket}/app/terraform.tfstate yet"
        ))
        .assert_stderr_contains("`aws_secretsmanager_secret.db.arn`");

    // Without the bucket anywhere, the flag that supplies it is named.
    ecs_env()
        .arg("-f")
        .arg(&dir)
        .args(["--", "true"])
        .output()
        .assert_code(125)
        .assert_stderr_contains("the s3 backend has no `bucket`")
        .assert_stderr_contains("--backend-config bucket=VALUE");
}

#[test]
fn terraform_remote_state_outputs_from_s3() {
    // A service configuration that takes the database secret's ARN from the platform
    // team's state, as `data "terraform_remote_state"` does; read in the same wave as STS.
    let e = emulator();
    let bucket = unique("platform-state").to_lowercase();
    let arn = e.create_secret(REGION, &unique("remote-db"), "from-remote-state");
    let platform = serde_json::json!({"version": 4, "outputs": {
        "db_secret_arn": {"value": arn, "type": "string"},
        "vpc_id": {"value": "vpc-123", "type": "string"}
    }, "resources": []});
    e.put_object(
        REGION,
        &bucket,
        "env:/prod/platform.tfstate",
        platform.to_string().as_bytes(),
    );
    let dir = crate::util::empty_dir();
    std::fs::write(
        dir.join("main.tf"),
        format!(
            r#"data "terraform_remote_state" "platform" {{
  backend   = "s3"
  workspace = "prod"
  config = {{
    bucket = "{bucket}"
    key    = "platform.tfstate"
    region = "us-east-1"
  }}
}}

data "aws_caller_identity" "current" {{}}

resource "aws_ecs_task_definition" "app" {{
  container_definitions = jsonencode([{{
    name        = "app"
    environment = [{{ name = "ACCOUNT", value = data.aws_caller_identity.current.account_id }}]
    secrets     = [{{ name = "DB", valueFrom = data.terraform_remote_state.platform.outputs.db_secret_arn }}]
  }}])
}}
"#
        ),
    )
    .unwrap();
    let ran = ecs_env()
        .arg("-f")
        .arg(&dir)
        .args(["--", "sh", "-c", "echo \"$ACCOUNT $DB\""])
        .output();
    ran.assert_code(0);
    assert_eq!(ran.stdout(), "123456789012 from-remote-state\n");

    // Offline, it stays unknown, and the message names where it would be read.
    crate::util::ecs_env_offline()
        .env("AWS_REGION", REGION)
        .args(["check", "--offline", "--account", "123456789012", "-f"])
        .arg(&dir)
        .output()
        .assert_code(125)
        .assert_stderr_contains(&format!(
            "data.terraform_remote_state.platform is read from AWS (s3:GetObject s3://{bucket}/env:/prod/platform.tfstate)"
        ));
}

#[test]
fn terraform_data_sources_and_resources_by_name_are_read_as_plan_reads_them() {
    // A configuration as teams write it: the secret found by name, its JSON read through a
    // secret version and jsondecode, an SSM parameter, a managed parameter's ARN from its
    // name, and an image from a parameter that does not exist, which nothing needs.
    let e = emulator();
    let name = unique("tf-lookup");
    let secret_arn = e.create_secret(REGION, &name, r#"{"host":"db.internal","port":5432}"#);
    let param = format!("/{name}/feature");
    e.put_parameter(REGION, &param, "on", true);
    let managed = format!("/{name}/api-key");
    e.put_parameter(REGION, &managed, "key-from-ssm", true);
    let dir = crate::util::empty_dir();
    std::fs::write(
        dir.join("main.tf"),
        format!(
            r#"data "aws_secretsmanager_secret" "db" {{
  name = "{name}"
}}

data "aws_secretsmanager_secret_version" "db" {{
  secret_id = data.aws_secretsmanager_secret.db.id
}}

data "aws_ssm_parameter" "feature" {{
  name = "{param}"
}}

data "aws_ssm_parameter" "image" {{
  name = "/nowhere/{name}/image"
}}

resource "aws_ssm_parameter" "api_key" {{
  name  = "{managed}"
  type  = "SecureString"
  value = var.api_key
}}

variable "api_key" {{
  type      = string
  sensitive = true
}}

locals {{
  db = jsondecode(data.aws_secretsmanager_secret_version.db.secret_string)
}}

resource "aws_ecs_task_definition" "app" {{
  family = "app"
  container_definitions = jsonencode([{{
    name  = "app"
    image = data.aws_ssm_parameter.image.value
    environment = [
      {{ name = "DB_HOST", value = local.db.host }},
      {{ name = "DB_PORT", value = tostring(local.db.port) }},
      {{ name = "FEATURE", value = data.aws_ssm_parameter.feature.value }},
    ]
    secrets = [
      {{ name = "DB_PASSWORD", valueFrom = "${{data.aws_secretsmanager_secret.db.arn}}:host::" }},
      {{ name = "API_KEY", valueFrom = aws_ssm_parameter.api_key.arn }},
    ]
  }}])
}}
"#
        ),
    )
    .unwrap();
    let ran = ecs_env()
        .arg("-f")
        .arg(&dir)
        .args([
            "-v",
            "--",
            "sh",
            "-c",
            "echo \"$DB_HOST $DB_PORT $FEATURE $DB_PASSWORD $API_KEY\"",
        ])
        .output();
    ran.assert_code(0);
    assert_eq!(
        ran.stdout(),
        "db.internal 5432 on db.internal key-from-ssm\n"
    );
    // Each lookup is named at -v; the image's parameter, which nothing needs, is never read.
    for read in [
        format!("secretsmanager:DescribeSecret {name}"),
        format!("secretsmanager:GetSecretValue {secret_arn}"),
        format!("ssm:GetParameter {param}"),
        format!("ssm:GetParameter {managed}"),
    ] {
        ran.assert_stderr_contains(&read);
    }
    assert!(
        !ran.stderr().contains("lookup=ssm:GetParameter /nowhere"),
        "{}",
        ran.stderr()
    );

    // check names them too.
    let checked = ecs_env().args(["check", "-f"]).arg(&dir).output();
    checked.assert_code(0);
    assert!(
        checked.stdout().contains(&format!(
            "Read from AWS to evaluate the configuration (as terraform plan reads them):\n  secretsmanager:DescribeSecret {name}\n"
        )) && checked.stdout().contains(&format!("  ssm:GetParameter {managed}\n")),
        "{}",
        checked.stdout()
    );

    // Offline, nothing is read, and each value needed says where it would come from.
    crate::util::ecs_env_offline()
        .env("AWS_REGION", REGION)
        .args(["check", "--offline", "-f"])
        .arg(&dir)
        .output()
        .assert_code(125)
        .assert_stderr_contains(&format!(
            "data.aws_secretsmanager_secret.db is read from AWS (secretsmanager:DescribeSecret {name})"
        ))
        .assert_stderr_contains("run without --offline");

    // A lookup AWS refuses is fatal where its value is needed, with AWS's reason.
    refused_lookup_is_fatal(
        &dir,
        "aws_ssm_parameter",
        &format!("/nowhere/{name}"),
        "value",
        &format!("data.aws_ssm_parameter.missing: ssm:GetParameter /nowhere/{name} failed"),
    );
}

/// `data "TYPE" "missing" { name = NAME }`, whose `ATTR` is the one variable's value, run
/// in `dir`: refused with `message`.
fn refused_lookup_is_fatal(dir: &Path, rtype: &str, name: &str, attr: &str, message: &str) {
    std::fs::write(
        dir.join("main.tf"),
        format!(
            r#"data "{rtype}" "missing" {{
  name = "{name}"
}}

resource "aws_ecs_task_definition" "app" {{
  container_definitions = jsonencode([{{
    name        = "app"
    environment = [{{ name = "X", value = data.{rtype}.missing.{attr} }}]
  }}])
}}
"#
        ),
    )
    .unwrap();
    ecs_env()
        .arg("-f")
        .arg(dir)
        .args(["--", "true"])
        .output()
        .assert_code(125)
        .assert_stderr_contains(message);
}

#[test]
fn terraform_roles_and_kms_aliases_are_read_by_name_as_plan_reads_them() {
    // The execution role's ARN for --as-execution-role-style checks, and a key's ARN for a
    // client-side decryptor, from `data "aws_iam_role"` and `data "aws_kms_alias"`.
    let e = emulator();
    let role = unique("tf-role");
    let role_arn = e.create_role(&role, "/service/");
    assert!(
        role_arn.ends_with(&format!(":role/service/{role}")),
        "{role_arn}"
    );
    let alias = format!("alias/{}", unique("tf-key"));
    let key_arn = e.create_key_alias(REGION, &alias);
    let dir = crate::util::empty_dir();
    std::fs::write(
        dir.join("main.tf"),
        format!(
            r#"data "aws_iam_role" "task" {{
  name = "{role}"
}}

data "aws_kms_alias" "app" {{
  name = "{alias}"
}}

resource "aws_ecs_task_definition" "app" {{
  container_definitions = jsonencode([{{
    name = "app"
    environment = [
      {{ name = "ROLE", value = data.aws_iam_role.task.arn }},
      {{ name = "ROLE_PATH", value = data.aws_iam_role.task.path }},
      {{ name = "KEY", value = data.aws_kms_alias.app.target_key_arn }},
      {{ name = "ALIAS", value = data.aws_kms_alias.app.arn }},
    ]
  }}])
}}
"#
        ),
    )
    .unwrap();
    let ran = ecs_env()
        .arg("-f")
        .arg(&dir)
        .args([
            "-v",
            "--",
            "sh",
            "-c",
            "printf '%s\\n' \"$ROLE\" \"$ROLE_PATH\" \"$KEY\" \"$ALIAS\"",
        ])
        .output();
    ran.assert_code(0);
    let account = key_arn.split(':').nth(4).unwrap();
    assert_eq!(
        ran.stdout(),
        format!("{role_arn}\n/service/\n{key_arn}\narn:aws:kms:{REGION}:{account}:{alias}\n")
    );
    ran.assert_stderr_contains(&format!("iam:GetRole {role}"))
        .assert_stderr_contains(&format!("kms:DescribeKey {alias}"));

    // Offline, each says which call would read it.
    crate::util::ecs_env_offline()
        .env("AWS_REGION", REGION)
        .args(["check", "--offline", "-f"])
        .arg(&dir)
        .output()
        .assert_code(125)
        .assert_stderr_contains(&format!(
            "data.aws_iam_role.task is read from AWS (iam:GetRole {role})"
        ))
        .assert_stderr_contains(&format!(
            "data.aws_kms_alias.app is read from AWS (kms:DescribeKey {alias})"
        ));

    // A role that does not exist is fatal where its ARN is needed, with AWS's reason.
    let missing = unique("tf-no-role");
    refused_lookup_is_fatal(
        &dir,
        "aws_iam_role",
        &missing,
        "arn",
        &format!("data.aws_iam_role.missing: iam:GetRole {missing} failed"),
    );
}

#[test]
fn terraform_lookups_of_count_and_for_each_instances_are_read_per_instance() {
    // Parameters made with for_each from a map of secrets, and a data source with for_each:
    // each instance is read by its own name, as plan reads it.
    let e = emulator();
    let name = unique("tf-each");
    e.put_parameter(REGION, &format!("/{name}/db_password"), "pw-from-ssm", true);
    e.put_parameter(REGION, &format!("/{name}/api_key"), "key-from-ssm", true);
    e.put_parameter(REGION, &format!("/{name}/flags/a"), "on", false);
    let dir = crate::util::empty_dir();
    std::fs::write(
        dir.join("main.tf"),
        format!(
            r#"variable "secrets" {{
  type    = map(string)
  default = {{ DB_PASSWORD = "set-elsewhere", API_KEY = "set-elsewhere" }}
}}

resource "aws_ssm_parameter" "this" {{
  for_each = var.secrets
  name     = "/{name}/${{lower(each.key)}}"
  type     = "SecureString"
  value    = each.value
}}

data "aws_ssm_parameter" "flags" {{
  for_each = toset(["a"])
  name     = "/{name}/flags/${{each.key}}"
}}

resource "aws_ecs_task_definition" "app" {{
  container_definitions = jsonencode([{{
    name        = "app"
    environment = [{{ name = "FLAG_A", value = data.aws_ssm_parameter.flags["a"].value }}]
    secrets     = [for k, v in var.secrets : {{ name = k, valueFrom = aws_ssm_parameter.this[k].arn }}]
  }}])
}}
"#
        ),
    )
    .unwrap();
    let ran = ecs_env()
        .arg("-f")
        .arg(&dir)
        .args([
            "-v",
            "--",
            "sh",
            "-c",
            "echo \"$FLAG_A $DB_PASSWORD $API_KEY\"",
        ])
        .output();
    ran.assert_code(0);
    assert_eq!(ran.stdout(), "on pw-from-ssm key-from-ssm\n");
    for read in ["db_password", "api_key", "flags/a"] {
        ran.assert_stderr_contains(&format!("ssm:GetParameter /{name}/{read}"));
    }
}

#[test]
fn an_error_in_what_terraform_evaluated_names_the_tf_file_and_line() {
    let dir = crate::util::empty_dir();
    std::fs::write(
        dir.join("main.tf"),
        "locals {\n  name = \"app\"\n}\n\nresource \"aws_ecs_task_definition\" \"app\" {\n  family = \"app\"\n  container_definitions = jsonencode([{\n    name        = local.name\n    environment = [{ name = \"C\" }]\n  }])\n}\n",
    )
    .unwrap();
    crate::util::ecs_env_offline()
        .env("AWS_REGION", REGION)
        .args(["check", "--offline", "-f"])
        .arg(dir.join("main.tf"))
        .output()
        .assert_code(125)
        .assert_stderr_contains(&format!(
            "{}:7 (aws_ecs_task_definition.app, container_definitions)`: at `$.containerDefinitions[0].environment[0].value`: required field is missing or null",
            dir.join("main.tf").display()
        ));
}
