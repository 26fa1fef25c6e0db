//! Tests over the fixture configurations in `tests/fixtures/terraform/`, shaped like real
//! ones, and over small configurations written to a temporary directory.

use std::path::{Path, PathBuf};

use serde_json::{Value as Json, json};

use super::*;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/terraform")
        .join(name)
}

fn read_json(path: PathBuf) -> Json {
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn var(name: &str, value: &str) -> CliInput {
    CliInput::Var(name.to_owned(), value.to_owned())
}

fn inputs(name: &str) -> Inputs {
    let dir = fixture(name);
    let state = dir.join("state.json");
    Inputs {
        state: state.is_file().then(|| read_json(state)),
        path: dir,
        ..Inputs::default()
    }
}

/// The 1-based line of the first line of `file` containing `needle`.
fn line_of(file: &Path, needle: &str) -> usize {
    std::fs::read_to_string(file)
        .unwrap()
        .lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle} not in {}", file.display()))
        + 1
}

/// The problems, and the lookups that would answer them.
fn asking(inputs: &Inputs) -> (Vec<Problem>, Vec<Ask>) {
    match Configuration::read(&inputs.path)
        .unwrap()
        .load_asking(inputs)
    {
        (Ok(loaded), _) => panic!("expected problems, got {loaded:?}"),
        (Err(p), lookups) => (p, lookups),
    }
}

fn problems(inputs: &Inputs) -> Vec<Problem> {
    match load(inputs) {
        Ok(loaded) => panic!("expected problems, got {loaded:?}"),
        Err(p) => p,
    }
}

/// A configuration written to a fresh temporary directory, removed on drop.
pub(super) struct Scratch(pub(super) PathBuf);

impl Scratch {
    pub(super) fn new(name: &str, files: &[(&str, &str)]) -> Scratch {
        let dir = std::env::temp_dir().join(format!("ecs-env-tf-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        for (path, text) in files {
            let p = dir.join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        Scratch(dir)
    }

    fn inputs(&self) -> Inputs {
        Inputs {
            path: self.0.clone(),
            ..Inputs::default()
        }
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const SECRET_ARN: &str =
    "arn:aws:secretsmanager:eu-west-1:123456789012:secret:shop-staging/db-AbCdEf";

// (1) inline jsonencode, with the secret's ARN from the state.
#[test]
fn inline_jsonencode_with_state() {
    let loaded = load(&inputs("inline")).unwrap();
    assert_eq!(loaded.address, "aws_ecs_task_definition.app");
    assert_eq!(loaded.family.as_deref(), Some("shop-staging"));
    assert_eq!(
        loaded.execution_role_arn.as_deref(),
        Some("arn:aws:iam::123456789012:role/shop-staging-execution")
    );
    assert_eq!(
        loaded.container_definitions,
        json!([{
            "name": "app",
            "image": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop:latest",
            "essential": true,
            "portMappings": [{"containerPort": 8080, "protocol": "tcp"}],
            "environment": [
                {"name": "APP_ENV", "value": "staging"},
                {"name": "APP_NAME", "value": "shop-staging"},
                {"name": "FEATURES", "value": "SEARCH,BILLING"},
                {"name": "PORT", "value": "8080"}
            ],
            "secrets": [
                {"name": "DB_PASSWORD", "valueFrom": format!("{SECRET_ARN}:password::")},
                {"name": "DB_USER", "valueFrom": format!("{SECRET_ARN}:username::")}
            ],
            "logConfiguration": {
                "logDriver": "awslogs",
                "options": {
                    "awslogs-group": "/ecs/shop-staging",
                    "awslogs-region": "eu-west-1",
                    "awslogs-stream-prefix": "app"
                }
            }
        }])
    );
}

#[test]
fn inline_with_cli_and_environment_variables() {
    let mut i = inputs("inline");
    i.cli = vec![var("environment", "production")];
    i.env_vars = vec![
        ("TF_VAR_debug".into(), "true".into()),
        ("HOME".into(), "/root".into()),
    ];
    let loaded = load(&i).unwrap();
    assert_eq!(loaded.family.as_deref(), Some("shop-production"));
    assert_eq!(
        loaded.container_definitions[0]["environment"],
        json!([
            {"name": "APP_ENV", "value": "production"},
            {"name": "APP_NAME", "value": "shop-production"},
            {"name": "FEATURES", "value": "SEARCH,BILLING"},
            {"name": "LOG_LEVEL", "value": "debug"},
            {"name": "PORT", "value": "8080"}
        ])
    );
}

// (9) missing state: every reference the environment needs is reported, located; the log
// group and the execution role, which it does not need, are not. The secret's ARN follows from
// its configured name: it is looked up, as plan would.
#[test]
fn missing_state_reports_every_reference() {
    let mut i = inputs("inline");
    i.state = None;
    let (p, lookups) = asking(&i);
    let main = fixture("inline").join("main.tf");
    let exprs: Vec<&str> = p.iter().map(|p| p.expression.as_str()).collect();
    assert_eq!(
        exprs,
        [
            "aws_secretsmanager_secret.db.arn",
            "aws_secretsmanager_secret.db.arn",
        ]
    );
    assert_eq!(
        p[0].to_string(),
        format!(
            "{}:{}: `aws_secretsmanager_secret.db.arn`: aws_secretsmanager_secret.db is read from AWS (secretsmanager:DescribeSecret shop-staging/db); hint: run without --offline, so that ecs-env reads it (read-only, as terraform plan does), or pass --tfstate FILE (terraform state pull > state.json)",
            main.display(),
            line_of(&main, ":password::")
        )
    );
    assert_eq!(p[1].line, Some(line_of(&main, ":username::")));
    // Asked once, though needed twice; the execution role's lookup is not asked (not needed).
    // For a managed resource: made only once the state is known to lack it.
    assert_eq!(
        lookups,
        [Ask {
            lookup: Lookup::Secret {
                id: "shop-staging/db".to_owned()
            },
            for_resource: true,
        }]
    );
    // Answered, the ARN is AWS's; refused, the refusal is the problem.
    let arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:shop-staging/db-AbCdEf";
    i.looked_up.insert(
        lookups[0].lookup.clone(),
        Ok(json!({"arn": arn, "id": arn})),
    );
    let loaded = load(&i).unwrap();
    assert!(
        loaded
            .container_definitions
            .to_string()
            .contains(&format!("{arn}:password::")),
        "{loaded:?}"
    );
    i.looked_up.insert(
        lookups[0].lookup.clone(),
        Err("AccessDeniedException: not authorized".to_owned()),
    );
    let p = problems(&i);
    assert_eq!(
        p[0].message,
        "aws_secretsmanager_secret.db: secretsmanager:DescribeSecret shop-staging/db failed: AccessDeniedException: not authorized"
    );
}

#[test]
fn state_without_the_resource() {
    let mut i = inputs("inline");
    let state = i.state.as_mut().unwrap();
    let resources = state["resources"].as_array_mut().unwrap();
    resources.retain(|r| r["type"] != "aws_iam_role");
    // Not needed: a warning, not a problem. A role is looked up by its configured name (plan
    // reads it so), and only where a feature needs the role's ARN.
    let config = Configuration::read(&i.path).unwrap();
    let (loaded, lookups) = config.load_asking(&i);
    assert!(lookups.is_empty(), "{lookups:?}");
    assert_eq!(
        loaded.unwrap().warnings,
        [
            "aws_ecs_task_definition.app: `execution_role_arn` is not known here (`aws_iam_role.execution.arn`: aws_iam_role.execution is read from AWS (iam:GetRole shop-staging-execution)); only --as-execution-role, --task-role and check's role checks need it"
        ]
    );
    // Assumed (`--as-execution-role`): asked, and AWS's answer is the ARN.
    i.wanted.roles = true;
    let (_, lookups) = config.load_asking(&i);
    let role = Lookup::Role {
        name: "shop-staging-execution".to_owned(),
    };
    assert_eq!(
        lookups,
        [Ask {
            lookup: role.clone(),
            for_resource: true,
        }]
    );
    let arn = "arn:aws:iam::123456789012:role/service/shop-staging-execution";
    i.looked_up.insert(role, Ok(json!({ "arn": arn })));
    assert_eq!(load(&i).unwrap().execution_role_arn.as_deref(), Some(arn));
}

#[test]
fn state_without_the_attribute() {
    let mut i = inputs("inline");
    let state = i.state.as_mut().unwrap();
    for r in state["resources"].as_array_mut().unwrap() {
        if r["type"] == "aws_iam_role" {
            r["instances"][0]["attributes"]
                .as_object_mut()
                .unwrap()
                .remove("arn");
        }
    }
    // Only a feature acting as the execution role needs its ARN: a warning, and a marker
    // that feature reports.
    let loaded = load(&i).unwrap();
    assert_eq!(
        loaded.execution_role_arn.as_deref(),
        Some(crate::cloudformation::UNRESOLVED)
    );
    assert_eq!(loaded.warnings.len(), 1, "{:?}", loaded.warnings);
    assert_eq!(
        loaded.warnings[0],
        "aws_ecs_task_definition.app: `execution_role_arn` is not known here \
         (`aws_iam_role.execution.arn`: attribute `arn` of aws_iam_role.execution is not in \
         Terraform state); only --as-execution-role, --task-role and check's role checks need it"
    );
}

// (2) file("containers.json"), also with the one file given instead of the directory.
#[test]
fn file_function() {
    let expected = read_json(fixture("file").join("containers.json"));
    let loaded = load(&inputs("file")).unwrap();
    assert_eq!(loaded.container_definitions, expected);
    assert_eq!(loaded.family.as_deref(), Some("billing-worker"));

    let one_file = Inputs {
        path: fixture("file").join("main.tf"),
        ..Inputs::default()
    };
    assert_eq!(load(&one_file).unwrap().container_definitions, expected);
}

// (3) templatefile() with %{ for } and %{ if } directives.
#[test]
fn templatefile_with_directives() {
    let loaded = load(&inputs("templatefile")).unwrap();
    assert_eq!(loaded.family.as_deref(), Some("api-prod"));
    assert_eq!(
        loaded.container_definitions,
        json!([{
            "name": "api",
            "image": "nginx:1.25",
            "cpu": 256,
            "essential": true,
            "environment": [
                {"name": "APP_ENV", "value": "prod"},
                {"name": "QUEUE_URL", "value": "https://sqs.eu-west-1.amazonaws.com/123456789012/prod-jobs"},
                {"name": "WORKERS", "value": "4"}
            ],
            "secrets": [
                {"name": "STRIPE_KEY", "valueFrom": "arn:aws:ssm:eu-west-1:123456789012:parameter/prod/stripe_key"}
            ],
            "stopTimeout": 30
        }])
    );
}

// (4) variable precedence and typed conversion of string inputs.
#[test]
fn variable_precedence() {
    let mut i = inputs("variables");
    i.cli = vec![
        CliInput::File(fixture("variables").join("extra.tfvars")),
        var("e", "--var"),
        var("port", "9090"),
    ];
    i.env_vars = vec![
        ("TF_VAR_b".into(), "TF_VAR_b".into()),
        ("TF_VAR_f".into(), "TF_VAR_f".into()),
        ("TF_VAR_replicas".into(), "3".into()),
        (
            "TF_VAR_labels".into(),
            r#"{ team = "payments", tier = "backend" }"#.into(),
        ),
    ];
    let loaded = load(&i).unwrap();
    let c = &loaded.container_definitions[0];
    let env: Vec<(String, String)> = c["environment"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["name"].as_str().unwrap().to_owned(),
                e["value"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let want = [
        ("A", "default"),
        ("B", "terraform.tfvars"),
        ("C", "a.auto.tfvars"),
        ("D", "b.auto.tfvars"),
        ("E", "--var"),
        ("F", "TF_VAR_f"),
        ("G", "extra.tfvars"),
        ("H", "c.auto.tfvars.json"),
    ];
    let want: Vec<(String, String)> = want
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    assert_eq!(env, want);
    assert_eq!(c["portMappings"], json!([{"containerPort": 9090}]));
    assert_eq!(
        c["dockerLabels"],
        json!({"team": "payments", "tier": "backend"})
    );
    assert_eq!(
        c["secrets"],
        json!([{"name": "REPLICAS", "valueFrom": "3"}])
    );
}

#[test]
fn var_and_var_file_apply_in_command_line_order() {
    let value_of_g = |cli: Vec<CliInput>| {
        let mut i = inputs("variables");
        i.cli = [var("port", "80"), var("labels", "{}"), var("replicas", "1")]
            .into_iter()
            .chain(cli)
            .collect();
        let loaded = load(&i).unwrap();
        let env = loaded.container_definitions[0]["environment"].clone();
        env.as_array()
            .unwrap()
            .iter()
            .find(|e| e["name"] == "G")
            .map(|e| e["value"].as_str().unwrap().to_owned())
            .unwrap()
    };
    let file = || CliInput::File(fixture("variables").join("extra.tfvars"));
    // As `terraform plan -var g=cli -var-file extra.tfvars`: the file comes later and wins.
    assert_eq!(value_of_g(vec![var("g", "cli"), file()]), "extra.tfvars");
    assert_eq!(value_of_g(vec![file(), var("g", "cli")]), "cli");
}

#[test]
fn variable_input_problems() {
    let mut i = inputs("variables");
    i.cli = vec![var("port", "eighty"), var("nope", "x")];
    i.env_vars = vec![("TF_VAR_replicas".into(), "3".into())];
    // Undeclared --var stops everything first, as in Terraform.
    let p = problems(&i);
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].expression, "nope");
    assert!(p[0].message.contains("no variable named `nope`"));

    i.cli.pop();
    i.env_vars
        .push(("TF_VAR_labels".into(), "{ team = ".into()));
    let p = problems(&i);
    let messages: Vec<&str> = p.iter().map(|p| p.message.as_str()).collect();
    assert_eq!(p.len(), 2, "{messages:?}");
    assert!(
        messages[0].contains("variable `port` (from --var) does not fit its type: number required")
    );
    assert!(messages[1].contains("the value of `labels` is not a valid HCL expression"));
    // A value is never echoed: it may be a secret.
    assert!(p.iter().all(|p| !p.to_string().contains("eighty")));
}

// (5) for_each over a service map, instances chosen by key.
#[test]
fn for_each_instances() {
    let mut i = inputs("for_each");
    i.resource = Some(r#"aws_ecs_task_definition.svc["api"]"#.into());
    let loaded = load(&i).unwrap();
    assert_eq!(loaded.address, r#"aws_ecs_task_definition.svc["api"]"#);
    assert_eq!(loaded.family.as_deref(), Some("shop-api"));
    assert_eq!(
        loaded.container_definitions,
        json!([{
            "name": "api",
            "image": "registry.example.com/shop/api:1.4.2",
            "portMappings": [{"containerPort": 8080}],
            "environment": [{"name": "SERVICE", "value": "api"}],
            "secrets": [
                {"name": "API_KEY", "valueFrom": "arn:aws:ssm:eu-west-1:123456789012:parameter/shop/api_key"},
                {"name": "DATABASE_URL", "valueFrom": "arn:aws:ssm:eu-west-1:123456789012:parameter/shop/database_url"}
            ]
        }])
    );

    i.resource = Some(r#"svc["worker"]"#.into());
    let worker = load(&i).unwrap();
    assert_eq!(worker.container_definitions[0]["portMappings"], json!([]));
    assert_eq!(worker.address, r#"aws_ecs_task_definition.svc["worker"]"#);
}

// (9) several instances and none chosen; a key that does not exist.
#[test]
fn for_each_ambiguous_and_unknown_keys() {
    let mut i = inputs("for_each");
    let p = problems(&i);
    assert_eq!(p.len(), 1);
    assert_eq!(
        p[0].message,
        r#"aws_ecs_task_definition.svc has 2 instances: aws_ecs_task_definition.svc["api"], aws_ecs_task_definition.svc["worker"]"#
    );
    assert_eq!(
        p[0].hint,
        r#"name one of them, e.g. aws_ecs_task_definition.svc["api"]"#
    );
    let main = fixture("for_each").join("main.tf");
    assert_eq!(
        p[0].line,
        Some(line_of(&main, r#"resource "aws_ecs_task_definition""#))
    );

    i.resource = Some(r#"aws_ecs_task_definition.svc["cron"]"#.into());
    let p = problems(&i);
    assert!(
        p[0].message.contains(r#"has no instance ["cron"]"#),
        "{}",
        p[0]
    );

    i.resource = Some("aws_ecs_task_definition.nope".into());
    let p = problems(&i);
    assert!(p[0].message.contains("is not declared"));
    assert_eq!(
        p[0].hint,
        "its task definitions: aws_ecs_task_definition.svc"
    );
}

// (6) a local module, its input variables evaluated in the caller, a sibling module's
// output, a registry module that holds no task definition.
#[test]
fn local_module() {
    let i = inputs("module");
    let loaded = load(&i).unwrap();
    assert_eq!(loaded.address, "module.web.aws_ecs_task_definition.this");
    assert_eq!(loaded.family.as_deref(), Some("shop-staging"));
    assert_eq!(
        loaded.container_definitions,
        json!([{
            "name": "shop-staging",
            "image": "registry.example.com/shop/web:2.0.0",
            "essential": true,
            "environment": [
                {"name": "APP_ENV", "value": "staging"},
                {"name": "LOG_FORMAT", "value": "json"}
            ],
            "secrets": [
                {"name": "DB_PASSWORD", "valueFrom": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:shop-staging/db-Zx9Yw8:password::"},
                {"name": "API_TOKEN", "valueFrom": "arn:aws:ssm:eu-west-1:123456789012:parameter/shop-staging/api_token"}
            ]
        }])
    );
    let mut named = inputs("module");
    named.resource = Some("module.web.aws_ecs_task_definition.this".into());
    assert_eq!(load(&named).unwrap(), loaded);
}

#[test]
fn module_problems_name_the_module_file() {
    let mut i = inputs("module");
    i.state = None;
    let p = problems(&i);
    let files: Vec<String> = p
        .iter()
        .map(|p| p.file.rsplit("module/").next().unwrap().to_owned())
        .collect();
    // The secret ARN is passed by the root (main.tf); the token is the module's own.
    assert_eq!(files, ["main.tf", "modules/ecs-service/main.tf"]);
    assert_eq!(p[0].expression, "aws_secretsmanager_secret.db.arn");
    assert_eq!(p[1].expression, "aws_ssm_parameter.token.arn");
}

// (7) data sources, and a count-indexed resource, from state.
#[test]
fn data_sources_from_state() {
    let loaded = load(&inputs("data_sources")).unwrap();
    assert_eq!(
        loaded.execution_role_arn.as_deref(),
        Some("arn:aws:iam::123456789012:role/shop-execution")
    );
    assert_eq!(
        loaded.container_definitions,
        json!([{
            "name": "app",
            "image": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop:latest",
            "environment": [{"name": "AWS_ACCOUNT_ID", "value": "123456789012"}],
            "secrets": [
                {"name": "DB_PASSWORD", "valueFrom": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:shop/db-Hj7Kl9:password::"},
                {"name": "API_KEY", "valueFrom": "arn:aws:ssm:eu-west-1:123456789012:parameter/shop/api_key"},
                {"name": "LEGACY_TOKEN", "valueFrom": "arn:aws:ssm:eu-west-1:123456789012:parameter/shop/legacy_token"}
            ]
        }])
    );

    let mut i = inputs("data_sources");
    i.state = None;
    let exprs: Vec<String> = problems(&i).into_iter().map(|p| p.expression).collect();
    // A failed local is reported once, where it is defined, however often it is used.
    assert_eq!(
        exprs,
        [
            "data.aws_caller_identity.current.account_id",
            "data.aws_region.current.name",
            "data.aws_secretsmanager_secret.db.arn",
            "aws_ssm_parameter.legacy[0].arn"
        ]
    );
}

// (8) terraform show -json output as a source.
#[test]
fn show_json_state_and_plan() {
    let state = read_json(fixture("show").join("show-state.json"));
    assert!(looks_like_show_json(&state));
    let p = from_show_json(&state, None).unwrap_err();
    assert_eq!(
        p[0].message,
        "2 task definitions: aws_ecs_task_definition.cron, module.web.aws_ecs_task_definition.this"
    );
    let web = from_show_json(&state, Some("module.web.aws_ecs_task_definition.this")).unwrap();
    assert_eq!(web.family.as_deref(), Some("shop-staging"));
    assert_eq!(
        web.execution_role_arn.as_deref(),
        Some("arn:aws:iam::123456789012:role/shop-staging-execution")
    );
    assert_eq!(
        web.container_definitions[0]["secrets"][0]["name"],
        "DB_PASSWORD"
    );
    let cron = from_show_json(&state, Some("cron")).unwrap();
    assert_eq!(cron.container_definitions[0]["secrets"], Json::Null);

    let plan = read_json(fixture("show").join("show-plan.json"));
    assert!(looks_like_show_json(&plan));
    let api = from_show_json(&plan, Some(r#"aws_ecs_task_definition.svc["api"]"#)).unwrap();
    assert_eq!(api.address, r#"aws_ecs_task_definition.svc["api"]"#);
    assert_eq!(api.container_definitions[0]["name"], "api");
    let worker =
        from_show_json(&plan, Some(r#"aws_ecs_task_definition.svc["worker"]"#)).unwrap_err();
    assert!(worker[0].message.contains("not known in this output"));
    let ambiguous = from_show_json(&plan, Some("aws_ecs_task_definition.svc")).unwrap_err();
    assert!(ambiguous[0].message.starts_with("2 task definitions"));

    assert!(!looks_like_show_json(
        &json!({"version": 4, "resources": []})
    ));
    assert!(!looks_like_show_json(&json!([{"name": "app"}])));
}

#[test]
fn show_json_serves_as_state() {
    // The module fixture's root secret, read from `terraform show -json` output instead.
    let mut i = inputs("module");
    let mut show = read_json(fixture("show").join("show-state.json"));
    show["values"]["root_module"]["child_modules"][0]["resources"]
        .as_array_mut()
        .unwrap()
        .push(json!({
            "address": "module.web.aws_ssm_parameter.token", "mode": "managed",
            "type": "aws_ssm_parameter", "name": "token",
            "values": {"arn": "arn:aws:ssm:eu-west-1:123456789012:parameter/shop-staging/api_token"}
        }));
    let from_state = load(&i).unwrap();
    i.state = Some(show);
    assert_eq!(load(&i).unwrap(), from_state);
}

// (9) unknown functions, each named; not even their arguments are evaluated.
#[test]
fn unknown_functions() {
    let p = problems(&inputs("problems/unknown_function"));
    let messages: Vec<&str> = p.iter().map(|p| p.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "function `provider::corefunc::str_snake` is not supported by ecs-env's Terraform evaluator",
            "function `provider::time::rfc3339_parse` is not supported by ecs-env's Terraform evaluator"
        ]
    );
    assert!(
        p[0].expression
            .starts_with("provider::corefunc::str_snake(file(")
    );
    assert!(p[0].hint.contains("terraform show -json"));
}

// (9) a variable with no value; the unused required one is not demanded.
#[test]
fn missing_variable() {
    let i = inputs("problems/missing_var");
    let p = problems(&i);
    assert_eq!(p.len(), 1);
    let main = fixture("problems/missing_var").join("main.tf");
    assert_eq!(
        p[0].line,
        Some(line_of(&main, r#"variable "db_secret_arn""#))
    );
    assert_eq!(p[0].expression, "var.db_secret_arn");
    assert_eq!(p[0].hint, "pass --var db_secret_arn=VALUE");

    let mut given = i.clone();
    given.cli = vec![var(
        "db_secret_arn",
        "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf",
    )];
    let loaded = load(&given).unwrap();
    assert_eq!(
        loaded.container_definitions[0]["secrets"][0]["valueFrom"],
        "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf:password::"
    );
}

// (9) registry and git modules are out of reach.
#[test]
fn registry_module() {
    let mut i = inputs("problems/registry_module");
    let p = problems(&i);
    let messages: Vec<&str> = p.iter().map(|p| p.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "module source git::https://example.com/shop/terraform-config.git?ref=v1.2.0 is not a local path; its source is out of reach",
            "module source terraform-aws-modules/ecs/aws//modules/service is not a local path; its source is out of reach"
        ]
    );
    assert!(p[0].hint.contains("terraform init"));

    i.resource = Some("module.ecs_service.aws_ecs_task_definition.this".into());
    let p = problems(&i);
    assert_eq!(p.len(), 1);
    assert!(
        p[0].message
            .contains("terraform-aws-modules/ecs/aws//modules/service is not a local path")
    );
    let main = fixture("problems/registry_module").join("main.tf");
    assert_eq!(p[0].line, Some(line_of(&main, "terraform-aws-modules/ecs")));
}

/// `terraform init` installs registry modules under `.terraform/modules`; they are read
/// from there.
#[test]
fn installed_registry_module() {
    let s = Scratch::new(
        "installed",
        &[
            (
                "main.tf",
                "module \"svc\" {\n  source = \"acme/service/aws\"\n  name = \"web\"\n}\n",
            ),
            (
                ".terraform/modules/modules.json",
                r#"{"Modules":[{"Key":"","Source":"","Dir":"."},{"Key":"svc","Source":"registry.terraform.io/acme/service/aws","Version":"1.0.0","Dir":".terraform/modules/svc"}]}"#,
            ),
            (
                ".terraform/modules/svc/main.tf",
                "variable \"name\" {}\nresource \"aws_ecs_task_definition\" \"this\" {\n  family = var.name\n  container_definitions = jsonencode([{ name = var.name, image = \"x\", environment = [{ name = \"MODULE\", value = path.module }] }])\n}\n",
            ),
        ],
    );
    let loaded = load(&s.inputs()).unwrap();
    assert_eq!(loaded.address, "module.svc.aws_ecs_task_definition.this");
    assert_eq!(
        loaded.container_definitions[0]["environment"][0]["value"],
        ".terraform/modules/svc"
    );
}

// (9) a template that refers to a variable it was not given: named in the template file.
#[test]
fn template_variable_missing() {
    let p = problems(&inputs("problems/template_var"));
    assert_eq!(p.len(), 1);
    assert!(
        p[0].file.ends_with("templates/app.json.tpl"),
        "{}",
        p[0].file
    );
    assert_eq!(p[0].line, Some(5));
    assert_eq!(p[0].expression, "region");
    assert!(
        p[0].message
            .contains("not one of the variables passed to templatefile()")
    );
}

#[test]
fn problem_display_forms() {
    let mut p = Problem {
        file: "infra/main.tf".into(),
        line: Some(12),
        expression: "aws_secretsmanager_secret.db.arn".into(),
        message: "not in Terraform state".into(),
        hint: "pass --tfstate FILE (terraform state pull > state.json)".into(),
    };
    assert_eq!(
        p.to_string(),
        "infra/main.tf:12: `aws_secretsmanager_secret.db.arn`: not in Terraform state; hint: pass --tfstate FILE (terraform state pull > state.json)"
    );
    p.line = None;
    p.hint.clear();
    assert_eq!(
        p.to_string(),
        "infra/main.tf: `aws_secretsmanager_secret.db.arn`: not in Terraform state"
    );
    p.file.clear();
    p.expression.clear();
    assert_eq!(p.to_string(), "not in Terraform state");
}

#[test]
fn terraform_paths() {
    assert!(is_terraform_path(&fixture("inline")));
    assert!(is_terraform_path(&fixture("inline").join("main.tf")));
    assert!(!is_terraform_path(&fixture("show")));
    assert!(!is_terraform_path(&fixture("file").join("containers.json")));
    assert!(!is_terraform_path(&fixture("does-not-exist")));
    assert!(!is_terraform_path(&fixture("does-not-exist.tf")));
}

fn one_container(body: &str) -> Scratch {
    Scratch::new(
        &format!("c{}", body.len()),
        &[(
            "main.tf",
            &format!("resource \"aws_ecs_task_definition\" \"t\" {{\n{body}\n}}\n"),
        )],
    )
}

#[test]
fn try_and_can_do_not_hide_unknown_values() {
    let s = Scratch::new(
        "try",
        &[(
            "main.tf",
            r#"
locals {
  m = { a = "1" }
}
resource "aws_ecs_task_definition" "t" {
  container_definitions = jsonencode([{
    name = try(local.m.b, "fallback")
    ok   = can(local.m.a)
    bad  = can(local.m.b)
    environment = [{ name = "ARN", value = try(aws_s3_bucket.b.arn, "never used") }]
  }])
}
resource "aws_s3_bucket" "b" {}
"#,
        )],
    );
    let p = problems(&s.inputs());
    // The state is missing: try() must not turn that into its fallback.
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].expression, "aws_s3_bucket.b.arn");

    let mut with_state = s.inputs();
    with_state.state = Some(json!({"version": 4, "resources": [
        {"mode": "managed", "type": "aws_s3_bucket", "name": "b", "instances": [{"attributes": {"arn": "arn:aws:s3:::b"}}]}
    ]}));
    let loaded = load(&with_state).unwrap();
    assert_eq!(
        loaded.container_definitions,
        json!([{"name": "fallback", "ok": true, "bad": false,
                "environment": [{"name": "ARN", "value": "arn:aws:s3:::b"}]}])
    );
}

#[test]
fn local_cycles_are_reported() {
    let s = Scratch::new(
        "cycle",
        &[(
            "main.tf",
            "locals {\n  a = local.b\n  b = \"${local.a}x\"\n}\nresource \"aws_ecs_task_definition\" \"t\" {\n  container_definitions = local.a\n}\n",
        )],
    );
    let p = problems(&s.inputs());
    assert!(
        p.iter().any(|p| p.message.contains("depends on itself")),
        "{p:?}"
    );
}

#[test]
fn count_and_module_for_each() {
    let s = Scratch::new(
        "modfe",
        &[
            (
                "main.tf",
                r#"
module "svc" {
  source   = "./svc"
  for_each = { api = 8080, admin = 9000 }
  name     = each.key
  port     = each.value
}
"#,
            ),
            (
                "svc/main.tf",
                r#"
variable "name" { type = string }
variable "port" { type = string }
resource "aws_ecs_task_definition" "t" {
  count  = 2
  family = "${var.name}-${count.index}"
  container_definitions = jsonencode([{ name = var.name, port = var.port, replica = count.index }])
}
"#,
            ),
        ],
    );
    let mut i = s.inputs();
    let p = problems(&i);
    assert!(
        p[0].message
            .starts_with("4 task definitions: module.svc[\"admin\"].aws_ecs_task_definition.t[0]"),
        "{}",
        p[0]
    );

    i.resource = Some(r#"module.svc["api"].aws_ecs_task_definition.t[1]"#.into());
    let loaded = load(&i).unwrap();
    assert_eq!(loaded.family.as_deref(), Some("api-1"));
    // `port` is declared `string`: the number from for_each is converted.
    assert_eq!(
        loaded.container_definitions,
        json!([{"name": "api", "port": "8080", "replica": 1}])
    );

    i.resource = Some(r#"module.svc.aws_ecs_task_definition.t[0]"#.into());
    let p = problems(&i);
    assert!(
        p[0].message.contains("module.svc has 2 instances"),
        "{}",
        p[0]
    );
}

#[test]
fn container_definitions_must_be_a_json_string() {
    let s = one_container("container_definitions = [{ name = \"a\" }]");
    let p = problems(&s.inputs());
    assert_eq!(p[0].hint, "wrap the list in jsonencode([...])");

    let s = one_container("container_definitions = \"[{\\\"name\\\": \"");
    let p = problems(&s.inputs());
    assert!(
        p[0].message
            .starts_with("container_definitions is not valid JSON")
    );
    assert_eq!(p[0].line, Some(2));
    assert_eq!(p[0].expression, r#""[{\"name\": ""#);

    let s = one_container("family = \"x\"");
    let p = problems(&s.inputs());
    assert!(p[0].message.ends_with("has no container_definitions"));
}

#[test]
fn expressions_and_functions() {
    let s = one_container(
        r#"
  container_definitions = jsonencode([{
    name = lower(replace(" Web App ", " ", "-"))
    t    = trimspace("  x  ")
    fmt  = format("%s:%03d %q %v", "a", 7, "q", [1, "b"])
    keys = keys({ b = 1, a = 2 })
    vals = values({ b = 1, a = 2 })
    flat = flatten([[1, 2], [3, [4]]])
    zip  = zipmap(["a", "b"], [1, 2])
    el   = element(["x", "y"], 3)
    con  = contains(["a"], "a")
    co   = coalesce(null, "", "z")
    cat  = concat(["a"], ["b", "c"])
    len  = length({ a = 1 })
    spl  = split(",", "a,b")
    set  = toset(["b", "a", "b"])
    num  = tonumber("42") + 1
    str  = tostring(1.5)
    lkp  = lookup({ a = 1 }, "z", "default")
    dec  = jsondecode("{\"k\": [true, null]}")
    splat = [{ n = 1 }, { n = 2 }][*].n
    grouped = { for s in ["ab", "ac", "b"] : substr(s, 0, 1) => s... }
    cond = 1 > 2 ? "no" : "yes"
    heredoc = <<-EOT
      line one
        line two
    EOT
    tmpl = "%{ for i in [1, 2] ~}${i}%{ endfor ~} done"
    esc  = "$${literal} %%{x}"
    trimmed = trim("--x--", "-")
  }])
"#,
    );
    let loaded = load(&s.inputs()).unwrap();
    assert_eq!(
        loaded.container_definitions,
        json!([{
            "name": "-web-app-",
            "t": "x",
            "fmt": "a:007 \"q\" [1,\"b\"]",
            "keys": ["a", "b"],
            "vals": [2, 1],
            "flat": [1, 2, 3, 4],
            "zip": {"a": 1, "b": 2},
            "el": "y",
            "con": true,
            "co": "z",
            "cat": ["a", "b", "c"],
            "len": 1,
            "spl": ["a", "b"],
            "set": ["a", "b"],
            "num": 43,
            "str": "1.5",
            "lkp": "default",
            "dec": {"k": [true, null]},
            "splat": [1, 2],
            "grouped": {"a": ["ab", "ac"], "b": ["b"]},
            "cond": "yes",
            "heredoc": "line one\n  line two\n",
            "tmpl": "12done",
            "esc": "${literal} %{x}",
            "trimmed": "x"
        }])
    );
}

#[test]
fn dynamic_errors_are_located() {
    let s = one_container(
        "container_definitions = jsonencode([{\n  a = lookup({}, \"k\")\n  b = [1][3]\n  c = \"x${null}\"\n  d = file(\"nope.json\")\n}])",
    );
    let p = problems(&s.inputs());
    let lines: Vec<Option<usize>> = p.iter().map(|p| p.line).collect();
    assert_eq!(lines, [Some(3), Some(4), Some(5), Some(6)], "{p:?}");
    // The key is not quoted (it may come from state); the expression shows it.
    assert!(
        p[0].message
            .starts_with("lookup(): the map has no such key")
    );
    assert_eq!(p[0].expression, "lookup({}, \"k\")");
    assert!(p[1].message.contains("out of range"));
    assert!(p[2].message.contains("null"));
    assert!(p[3].hint.contains("path.module"));
}

#[test]
fn syntax_errors_and_var_files() {
    let s = Scratch::new(
        "syntax",
        &[
            (
                "main.tf",
                "resource \"aws_ecs_task_definition\" \"t\" {\n  family = \n}\n",
            ),
            ("bad.tfvars", "x = [\n"),
        ],
    );
    let p = problems(&s.inputs());
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].line, Some(2));
    assert!(p[0].message.starts_with("HCL syntax error"));

    let s = Scratch::new(
        "varfile",
        &[
            (
                "main.tf",
                "variable \"x\" {}\nresource \"aws_ecs_task_definition\" \"t\" {\n  container_definitions = jsonencode([{ name = var.x }])\n}\n",
            ),
            ("bad.tfvars", "x = upper(\"a\")\n"),
        ],
    );
    let mut i = s.inputs();
    i.cli = vec![
        CliInput::File(s.0.join("bad.tfvars")),
        CliInput::File(s.0.join("missing.tfvars")),
    ];
    let p = problems(&i);
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(p[0].message.starts_with("cannot read the variables file"));
    i.cli.pop();
    let p = problems(&i);
    assert!(
        p[0].message.contains("functions may not be called here"),
        "{p:?}"
    );
}

#[test]
fn workspace_from_the_environment_or_terraform_dir() {
    let s = Scratch::new(
        "ws",
        &[
            (
                "main.tf",
                "resource \"aws_ecs_task_definition\" \"t\" {\n  family = \"app-${terraform.workspace}\"\n  container_definitions = \"[]\"\n}\n",
            ),
            (".terraform/environment", "staging\n"),
        ],
    );
    let mut i = s.inputs();
    assert_eq!(load(&i).unwrap().family.as_deref(), Some("app-staging"));
    i.env_vars = vec![("TF_WORKSPACE".into(), "prod".into())];
    assert_eq!(load(&i).unwrap().family.as_deref(), Some("app-prod"));
}

#[test]
fn override_files_bom_and_editor_leftovers() {
    let s = Scratch::new(
        "override",
        &[
            (
                "main.tf",
                "\u{feff}variable \"tag\" { default = \"v1\" }\nresource \"aws_ecs_task_definition\" \"t\" {\n  family = \"base\"\n  container_definitions = jsonencode([{ name = \"app\", image = \"app:${var.tag}\" }])\n}\n",
            ),
            (
                "override.tf",
                "variable \"tag\" { default = \"v2\" }\nresource \"aws_ecs_task_definition\" \"t\" {\n  family = \"overridden\"\n}\n",
            ),
            (".#main.tf", "this is not HCL"),
            ("main.tf~", "neither is this"),
        ],
    );
    let loaded = load(&s.inputs()).unwrap();
    assert_eq!(loaded.family.as_deref(), Some("overridden"));
    assert_eq!(
        loaded.container_definitions,
        json!([{"name": "app", "image": "app:v2"}])
    );
}

#[test]
fn module_outputs_whole_and_cyclic() {
    let s = Scratch::new(
        "modout",
        &[
            (
                "main.tf",
                r#"
module "p" {
  source   = "./p"
  for_each = toset(["a", "b"])
  name     = each.key
}
module "loop" {
  source   = "./p"
  for_each = module.loop
  name     = "x"
}
resource "aws_ecs_task_definition" "t" {
  container_definitions = jsonencode([{
    name  = "app"
    paths = [for k, m in module.p : "${k}=${m.path}"]
    one   = module.p["b"].path
  }])
  family = length(module.loop)
}
"#,
            ),
            (
                "p/main.tf",
                "variable \"name\" {}\noutput \"path\" { value = \"/app/${var.name}\" }\n",
            ),
        ],
    );
    let p = problems(&s.inputs());
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(
        p[0].message.contains("depends on the module itself"),
        "{}",
        p[0]
    );
    assert_eq!(p[0].expression, "module.loop");

    let main = s.0.join("main.tf");
    let text = std::fs::read_to_string(&main).unwrap();
    std::fs::write(&main, text.replace("  family = length(module.loop)\n", "")).unwrap();
    let loaded = load(&s.inputs()).unwrap();
    assert_eq!(
        loaded.container_definitions,
        json!([{"name": "app", "paths": ["a=/app/a", "b=/app/b"], "one": "/app/b"}])
    );
}

/// The pre-0.12 style still common in the wild: a heredoc of JSON with interpolations, and
/// a map of containers merged with their names.
#[test]
fn heredoc_and_merged_container_maps() {
    let s = Scratch::new(
        "heredoc",
        &[(
            "main.tf",
            r#"
variable "containers" {
  type = map(object({
    image = string
    cpu   = optional(number, 128)
    env   = optional(map(string), {})
  }))
  default = {
    web = { image = "nginx", env = { A = "1" } }
  }
}

resource "aws_ecs_task_definition" "legacy" {
  family                = "legacy"
  container_definitions = <<DEFINITION
[
  {
    "name": "app",
    "image": "${var.containers["web"].image}:latest",
    "secrets": [{"name": "X", "valueFrom": "${aws_ssm_parameter.x.arn}"}]
  }
]
DEFINITION
}

resource "aws_ecs_task_definition" "modern" {
  family = "modern"
  container_definitions = jsonencode([
    for name, c in var.containers : merge(c, {
      name        = name
      env         = null
      environment = [for k, v in c.env : { name = k, value = v }]
    })
  ])
}

resource "aws_ssm_parameter" "x" {}
"#,
        )],
    );
    let mut i = s.inputs();
    i.state = Some(json!({"version": 4, "resources": [
        {"mode": "managed", "type": "aws_ssm_parameter", "name": "x",
         "instances": [{"attributes": {"arn": "arn:aws:ssm:eu-west-1:1:parameter/x"}}]}
    ]}));
    i.resource = Some("aws_ecs_task_definition.legacy".into());
    assert_eq!(
        load(&i).unwrap().container_definitions,
        json!([{"name": "app", "image": "nginx:latest",
                "secrets": [{"name": "X", "valueFrom": "arn:aws:ssm:eu-west-1:1:parameter/x"}]}])
    );
    i.resource = Some("modern".into());
    assert_eq!(
        load(&i).unwrap().container_definitions,
        json!([{"name": "web", "image": "nginx", "cpu": 128, "env": null,
                "environment": [{"name": "A", "value": "1"}]}])
    );
    i.resource = None;
    let p = problems(&i);
    assert_eq!(
        p[0].message,
        "2 task definitions: aws_ecs_task_definition.legacy, aws_ecs_task_definition.modern"
    );
}

#[test]
fn deep_nesting_is_refused_before_the_parser_backtracks_on_it() {
    // Found by the `terraform` fuzz target: 681 bytes of unclosed brackets, 33 deep, took the
    // HCL parser 5 s (each level about 40 % more); one more level per few bytes made it
    // minutes. It is refused at once, naming the line.
    let p = problems(&inputs("fuzz-deep-nesting"));
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(
        p[0].message.contains("nested more than 32"),
        "{}",
        p[0].message
    );
    assert_eq!(p[0].line, Some(1));
}

#[test]
fn nesting_counts_code_and_interpolations_not_strings_comments_or_heredocs() {
    use super::source::{Hazard, MAX_NESTING, parse_hazard};
    let deep = |n: usize| format!("a = {}{}", "[".repeat(n), "]".repeat(n));
    assert_eq!(parse_hazard(&deep(MAX_NESTING), false), None);
    assert_eq!(
        parse_hazard(&deep(MAX_NESTING + 1), false),
        Some(Hazard::TooDeep { line: 1 })
    );
    // Closed brackets do not add up.
    assert_eq!(parse_hazard(&"a = [[]]\n".repeat(100), false), None);
    let many = "(".repeat(100);
    for text in [
        format!("a = \"{many}\""),
        format!("# {many}\na = 1"),
        format!("// {many}\na = 1"),
        format!("/* {many} */ a = 1"),
        format!("a = <<EOT\n{many}\nEOT\nb = 1"),
        format!("a = <<-EOT\n  {many}\n  EOT\n"),
        // `$${` is a literal `${`, not an interpolation.
        "a = \"$${\"\n".repeat(20),
    ] {
        assert_eq!(parse_hazard(&text, false), None, "{text}");
    }
    // Interpolations inside strings do count, and so do the lines before the deep one.
    let nested = format!("x = 1\na = \"{}\"", "${(".repeat(20));
    assert_eq!(
        parse_hazard(&nested, false),
        Some(Hazard::TooDeep { line: 2 })
    );
    // A template file is text around interpolations.
    assert_eq!(parse_hazard(&many, true), None);
    assert_eq!(
        parse_hazard(&"%{ if (".repeat(20), true),
        Some(Hazard::TooDeep { line: 1 })
    );
}

#[test]
fn more_than_a_few_constructs_left_open_at_the_end_are_refused() {
    use super::source::{Hazard, MAX_UNCLOSED, parse_hazard};
    // `a / b / (` left open: the HCL parser's time doubles with each one.
    let parens = |n: usize| format!("a = {}", "x / y / (".repeat(n));
    assert_eq!(parse_hazard(&parens(MAX_UNCLOSED), false), None);
    assert_eq!(
        parse_hazard(&parens(MAX_UNCLOSED + 1), false),
        Some(Hazard::Unclosed { line: 1, open: 9 })
    );
    // Every kind of construct counts, and the line is the outermost one's.
    for (text, open) in [
        (format!("a = 1\nb = (\n{}", "[\n".repeat(8)), 9),
        (format!("a = {}", "\"${".repeat(5)), 10),
        (format!("a = <<E\n${{{}", "x / y / (".repeat(8)), 10),
        (format!("a = -{}", "{ b = -1 - ".repeat(9)), 9),
    ] {
        let line = if text.starts_with("a = 1\n") { 2 } else { 1 };
        assert_eq!(
            parse_hazard(&text, false),
            Some(Hazard::Unclosed { line, open }),
            "{text}"
        );
    }
    // Lines after a closed heredoc are counted from its marker line on.
    let after_heredoc = format!("a = <<E\nx\nE\nb = {}", "(".repeat(9));
    assert_eq!(
        parse_hazard(&after_heredoc, false),
        Some(Hazard::Unclosed { line: 4, open: 9 })
    );
    // In a template file, an unclosed directive counts too.
    assert_eq!(
        parse_hazard(&"%{ if -x".repeat(9), true),
        Some(Hazard::Unclosed { line: 1, open: 9 })
    );
}

#[test]
fn constructs_left_open_by_fuzzed_files_are_refused_before_the_parser_backtracks() {
    // Found by the `terraform` fuzz target (locally and in CI's short run): 557 and 681 bytes
    // of `a / b / (` and `{!!` left open, about 30 deep but under the nesting cap. The HCL
    // parser took over a second on each (minutes under instrumentation), doubling per level.
    for fixture in ["fuzz-unclosed-mixed", "fuzz-unclosed-parens"] {
        let p = problems(&inputs(fixture));
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(
            p[0].message.contains("are never closed"),
            "{}",
            p[0].message
        );
        assert_eq!(p[0].line, Some(1));
    }
}

/// A task whose app container needs two unknown values (`DB_HOST`, `API_KEY`), with unknown
/// values in fields the environment never needs: the image, a log option, the execution role,
/// a sidecar's secret. Written as terraform-aws-modules examples write it, without state.
const PARTLY_UNKNOWN: &str = r#"
data "aws_region" "current" {}
data "aws_ssm_parameter" "image" { name = "/app/image" }
resource "aws_iam_role" "exec" { name = "exec" }
resource "aws_db_instance" "db" {}
resource "aws_secretsmanager_secret" "token" { name = "token" }
resource "aws_ecs_task_definition" "app" {
  family             = "app-${basename(path.cwd)}"
  execution_role_arn = aws_iam_role.exec.arn
  container_definitions = jsonencode([
    {
      name  = "app"
      image = "${data.aws_ssm_parameter.image.value}:latest"
      logConfiguration = {
        logDriver = "awslogs"
        options   = { "awslogs-region" = data.aws_region.current.name }
      }
      environment = [
        { name = "PLAIN", value = "x" },
        { name = "DB_HOST", value = aws_db_instance.db.address },
      ]
      secrets = [
        { name = "DB_PASSWORD", valueFrom = "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf" },
        { name = "API_KEY", valueFrom = "${aws_secretsmanager_secret.token.arn}:key::" },
      ]
      dependsOn = [{ containerName = "sidecar", condition = "START" }]
    },
    {
      name    = "sidecar"
      image   = "envoy"
      secrets = [{ name = "TOKEN", valueFrom = aws_secretsmanager_secret.token.arn }]
    },
  ])
}
"#;

fn wanted(container: Option<&str>, overrides: &[&str]) -> super::Wanted {
    super::Wanted {
        container: container.map(str::to_owned),
        all_containers: false,
        overrides: overrides.iter().map(|s| (*s).to_owned()).collect(),
        ..Default::default()
    }
}

#[test]
fn only_the_selected_containers_environment_must_be_known() {
    let s = Scratch::new("partly", &[("main.tf", PARTLY_UNKNOWN)]);
    let mut i = s.inputs();
    i.wanted = wanted(Some("app"), &[]);
    // Exactly the values the app's environment needs; nothing about the image, the log
    // region, the execution role or the sidecar.
    let p = problems(&i);
    let exprs: Vec<&str> = p.iter().map(|p| p.expression.as_str()).collect();
    assert_eq!(
        exprs,
        [
            "aws_db_instance.db.address",
            "aws_secretsmanager_secret.token.arn"
        ],
        "{p:?}"
    );
    assert_eq!(p[0].message, "not in Terraform state");

    // Every container's environment (`policy --all-containers`): the sidecar's too, which
    // shares the app's unknown reference (reported once).
    i.wanted.all_containers = true;
    let all: Vec<usize> = problems(&i).iter().filter_map(|p| p.line).collect();
    assert_eq!(all.len(), 3, "{all:?}");
}

#[test]
fn an_override_means_its_value_is_never_evaluated() {
    let s = Scratch::new("override", &[("main.tf", PARTLY_UNKNOWN)]);
    let mut i = s.inputs();
    i.wanted = wanted(Some("app"), &["DB_HOST", "API_KEY"]);
    let loaded = load(&i).unwrap();
    let app = &loaded.container_definitions[0];
    assert_eq!(
        app["environment"],
        json!([{"name": "PLAIN", "value": "x"}, {"name": "DB_HOST", "value": ""}])
    );
    assert_eq!(app["secrets"][1]["valueFrom"], crate::taskdef::OVERRIDDEN);
    assert_eq!(
        app["secrets"][0]["valueFrom"],
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf"
    );
    // What the environment does not need is left out, or marked for `check` and `policy`.
    assert!(app.get("image").is_none(), "{app}");
    assert_eq!(app["dependsOn"][0]["containerName"], "sidecar");
    assert_eq!(
        app["logConfiguration"]["options"]["awslogs-region"],
        crate::cloudformation::UNRESOLVED
    );
    let sidecar = &loaded.container_definitions[1];
    assert_eq!(sidecar["image"], "envoy");
    assert_eq!(
        sidecar["secrets"][0]["valueFrom"],
        crate::cloudformation::UNRESOLVED
    );
    assert_eq!(
        loaded.family,
        Some(format!("app-ecs-env-tf-{}-override", std::process::id()))
    );
    assert_eq!(
        loaded.execution_role_arn.as_deref(),
        Some(crate::cloudformation::UNRESOLVED)
    );
    assert!(
        loaded.warnings[0].contains("`execution_role_arn` is not known here"),
        "{:?}",
        loaded.warnings
    );
    let notes = loaded.notes.join("\n");
    assert!(
        notes.contains("container `app`: `image` is not known here"),
        "{notes}"
    );
    assert!(
        notes.contains("`logConfiguration` is partly unknown here"),
        "{notes}"
    );
    // An override of a known variable changes nothing here: `resolve` applies it.
    i.wanted = wanted(Some("app"), &["PLAIN", "DB_HOST", "API_KEY"]);
    assert_eq!(
        load(&i).unwrap().container_definitions[0]["environment"][0]["value"],
        "x"
    );
}

#[test]
fn unknown_names_block_only_the_choice_they_could_change() {
    let s = Scratch::new(
        "names",
        &[(
            "main.tf",
            r#"
resource "aws_ecs_task_definition" "t" {
  container_definitions = jsonencode([
    { name = "app", environment = [{ name = "A", value = "1" }] },
    { name = "${data.aws_region.current.name}-agent" },
  ])
}
data "aws_region" "current" {}
"#,
        )],
    );
    let mut i = s.inputs();
    // `app` is known, so the other one is not it.
    i.wanted = wanted(Some("app"), &[]);
    let loaded = load(&i).unwrap();
    assert_eq!(
        loaded.container_definitions[1]["name"],
        crate::cloudformation::UNRESOLVED
    );
    // `us-east-1-agent` could be the unknown one; and without a choice, the names are
    // listed, so they must be known.
    for choice in [Some("us-east-1-agent"), None] {
        i.wanted = wanted(choice, &[]);
        let p = problems(&i);
        assert_eq!(p[0].expression, "data.aws_region.current.name", "{p:?}");
    }
}

#[test]
fn unknown_values_in_templates_and_functions_are_reported_as_unknown() {
    let s = Scratch::new(
        "heredoc",
        &[(
            "main.tf",
            r#"
variable "cpu" {}
resource "aws_ecs_task_definition" "t" {
  container_definitions = <<JSON
[{"name": "app", "image": "${aws_ecr_repository.app.repository_url}:latest",
  "environment": [{"name": "A", "value": "1"}]}]
JSON
}
resource "aws_ecs_task_definition" "u" {
  container_definitions = <<JSON
[{"name": "app", "cpu": ${var.cpu}}]
JSON
}
resource "aws_ecs_task_definition" "v" {
  container_definitions = jsonencode([{
    name        = "app"
    environment = [
      { name = "UPPER", value = upper(data.aws_region.current.name) },
      { name = "CUT", value = format("%.3s", data.aws_region.current.id) },
      { name = "KEPT", value = format("%s-x", data.aws_region.current.endpoint) },
    ]
  }])
}
resource "aws_ecr_repository" "app" {}
data "aws_region" "current" {}
"#,
        )],
    );
    let mut i = s.inputs();
    // A heredoc of JSON with an unknown image: the image is not needed.
    i.resource = Some("aws_ecs_task_definition.t".to_owned());
    let loaded = load(&i).unwrap();
    assert_eq!(
        loaded.container_definitions,
        json!([{"name": "app", "environment": [{"name": "A", "value": "1"}]}])
    );
    // Unknown where the JSON needs a number: the missing variable, not a syntax error.
    i.resource = Some("aws_ecs_task_definition.u".to_owned());
    let p = problems(&i);
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(
        p[0].message.starts_with("variable `cpu` has no value"),
        "{}",
        p[0]
    );
    // A function that looks at an unknown value reports that value, whichever function.
    i.resource = Some("aws_ecs_task_definition.v".to_owned());
    let exprs: Vec<String> = problems(&i).into_iter().map(|p| p.expression).collect();
    assert_eq!(
        exprs,
        [
            "data.aws_region.current.name",
            "data.aws_region.current.id",
            "data.aws_region.current.endpoint"
        ]
    );
}

#[test]
fn data_sources_plan_knows_without_state() {
    let s = Scratch::new(
        "plan-knows",
        &[
            (
                "main.tf",
                r#"
data "aws_region" "current" {}
data "aws_region" "replica" { region = "cn-north-1" }
data "aws_partition" "current" {}
data "aws_caller_identity" "current" {}
data "template_file" "env" {
  template = file("${path.module}/env.json.tpl")
  vars = {
    stage  = var.stage
    region = data.aws_region.current.name
  }
}
variable "stage" { default = "prod" }
locals {
  prefix = "arn:${data.aws_partition.current.partition}:ssm:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:parameter"
}
resource "aws_ecs_task_definition" "app" {
  container_definitions = jsonencode([{
    name        = "app"
    environment = concat(jsondecode(data.template_file.env.rendered), [
      { name = "SUFFIX", value = data.aws_partition.current.dns_suffix },
      { name = "REPLICA", value = data.aws_region.replica.name },
      { name = "EC2", value = data.aws_region.current.endpoint },
    ])
    secrets = [{ name = "DB", valueFrom = "${local.prefix}/db" }]
  }])
}
"#,
            ),
            (
                "env.json.tpl",
                r#"[{"name": "STAGE", "value": "${stage}"}, {"name": "AREA", "value": "${region}"}]"#,
            ),
        ],
    );
    let mut i = s.inputs();
    i.region = Some("eu-west-1".to_owned());
    // The account is the one thing neither the configuration nor the region says.
    let p = problems(&i);
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(
        p[0].expression,
        "data.aws_caller_identity.current.account_id"
    );
    assert!(p[0].hint.contains("--account ID"), "{}", p[0].hint);

    i.caller.account = Some("111122223333".to_owned());
    let loaded = load(&i).unwrap();
    let app = &loaded.container_definitions[0];
    assert_eq!(
        app["environment"],
        json!([
            {"name": "STAGE", "value": "prod"},
            {"name": "AREA", "value": "eu-west-1"},
            {"name": "SUFFIX", "value": "amazonaws.com"},
            {"name": "REPLICA", "value": "cn-north-1"},
            {"name": "EC2", "value": "ec2.eu-west-1.amazonaws.com"}
        ])
    );
    assert_eq!(
        app["secrets"][0]["valueFrom"],
        "arn:aws:ssm:eu-west-1:111122223333:parameter/db"
    );
    // Without a region, what follows from it is unknown, and says so.
    i.region = None;
    let p = problems(&i);
    assert!(
        p.iter()
            .any(|p| p.message.contains("no region is configured")),
        "{p:?}"
    );
    // State still wins for the AWS ones: it records what the last plan read.
    i.region = Some("eu-west-1".to_owned());
    i.state = Some(json!({"version": 4, "resources": [
        {"mode": "data", "type": "aws_caller_identity", "name": "current",
         "instances": [{"attributes": {"account_id": "444455556666"}}]}
    ]}));
    let loaded = load(&i).unwrap();
    assert_eq!(
        loaded.container_definitions[0]["secrets"][0]["valueFrom"],
        "arn:aws:ssm:eu-west-1:444455556666:parameter/db"
    );
}

#[test]
fn a_file_stands_for_its_directory_and_chooses_what_it_declares() {
    let s = Scratch::new(
        "one-file",
        &[
            (
                "variables.tf",
                "variable \"stage\" { default = \"prod\" }\n",
            ),
            (
                "api.tf",
                "resource \"aws_ecs_task_definition\" \"api\" {\n  container_definitions = jsonencode([{ name = \"api\", environment = [{ name = \"STAGE\", value = var.stage }] }])\n}\n",
            ),
            (
                "worker.tf",
                "resource \"aws_ecs_task_definition\" \"worker\" {\n  container_definitions = jsonencode([{ name = \"worker\" }])\n}\n",
            ),
        ],
    );
    // The variable is declared in another file of the module: still declared.
    let mut i = s.inputs();
    i.path = s.0.join("api.tf");
    let loaded = load(&i).unwrap();
    assert_eq!(loaded.address, "aws_ecs_task_definition.api");
    assert_eq!(
        loaded.container_definitions[0]["environment"][0]["value"],
        "prod"
    );
    i.path = s.0.join("worker.tf");
    assert_eq!(load(&i).unwrap().address, "aws_ecs_task_definition.worker");
    // The directory has two; a file with none says so.
    i.path = s.0.clone();
    assert!(problems(&i)[0].message.starts_with("2 task definitions"));
    i.path = s.0.join("variables.tf");
    let p = problems(&i);
    assert!(
        p[0].message
            .starts_with("no aws_ecs_task_definition resource in")
            && p[0].message.contains("variables.tf"),
        "{}",
        p[0]
    );
    // An address still names any of them.
    i.resource = Some("aws_ecs_task_definition.worker".to_owned());
    assert_eq!(load(&i).unwrap().address, "aws_ecs_task_definition.worker");
}

#[test]
fn display_paths_are_written_as_a_person_would() {
    use super::source::display_join;
    for (base, rel, shown) in [
        ("infra", "main.tf", "infra/main.tf"),
        (".", "main.tf", "main.tf"),
        ("infra", "./modules/x", "infra/modules/x"),
        ("infra/envs/prod", "../../modules/svc", "infra/modules/svc"),
        ("infra", "../../common", "../common"),
        (".", "../x", "../x"),
        ("/", "../etc", "/etc"),
        ("infra", "..", "."),
    ] {
        assert_eq!(display_join(base, rel), shown, "{base} + {rel}");
    }
}

#[test]
fn the_state_is_where_the_backend_and_workspace_say() {
    use super::backend::{StateLocation, config_args};
    fn locate(
        dir: &Path,
        backend_config: &[(String, String)],
        env_vars: &[(String, String)],
    ) -> Result<StateLocation, Vec<Problem>> {
        super::Configuration::read(dir)?.state_location(backend_config, env_vars)
    }
    let s = Scratch::new(
        "backend",
        &[
            (
                "main.tf",
                "terraform {\n  backend \"s3\" {\n    bucket = \"from-block\"\n    key = \"app.tfstate\"\n    workspace_key_prefix = \"ws\"\n    role_arn = \"arn:aws:iam::123456789012:role/tf\"\n  }\n}\n",
            ),
            (
                "backend.hcl",
                "bucket = \"from-file\"\nregion = \"eu-west-1\"\n",
            ),
        ],
    );
    let s3 = |bucket: &str, key: &str, region: Option<&str>| StateLocation::S3 {
        bucket: bucket.to_owned(),
        key: key.to_owned(),
        region: region.map(str::to_owned),
        ignored: vec!["role_arn".to_owned()],
    };
    let env = |ws: &str| vec![("TF_WORKSPACE".to_owned(), ws.to_owned())];
    assert_eq!(
        locate(&s.0, &[], &[]).unwrap(),
        s3("from-block", "app.tfstate", None)
    );
    // A workspace: under the prefix the block sets.
    assert_eq!(
        locate(&s.0, &[], &env("staging")).unwrap(),
        s3("from-block", "ws/staging/app.tfstate", None)
    );
    // What init recorded overrides the block; --backend-config (pairs or a file) overrides both,
    // a later one winning.
    std::fs::create_dir_all(s.0.join(".terraform")).unwrap();
    std::fs::write(
        s.0.join(".terraform/terraform.tfstate"),
        r#"{"version": 3, "backend": {"type": "s3", "config": {"bucket": "from-init", "key": "app.tfstate", "region": "us-west-2", "workspace_key_prefix": null, "role_arn": null}}}"#,
    )
    .unwrap();
    std::fs::write(s.0.join(".terraform/environment"), "prod\n").unwrap();
    assert_eq!(
        locate(&s.0, &[], &[]).unwrap(),
        s3("from-init", "ws/prod/app.tfstate", Some("us-west-2"))
    );
    let args = config_args(&[
        s.0.join("backend.hcl").to_string_lossy().into_owned(),
        "key=other.tfstate".to_owned(),
    ])
    .unwrap();
    assert_eq!(
        locate(&s.0, &args, &env("default")).unwrap(),
        s3("from-file", "other.tfstate", Some("eu-west-1"))
    );
    // A bad --backend-config file is a problem naming it.
    let missing = config_args(&["no-such-file.hcl".to_owned()]).unwrap_err();
    assert!(
        missing[0].message.contains("cannot read the file"),
        "{missing:?}"
    );

    // The local backend: terraform.tfstate, or terraform.tfstate.d/WS/ for a workspace.
    let local = Scratch::new("local-backend", &[("main.tf", "locals {}\n")]);
    assert_eq!(
        locate(&local.0, &[], &[]).unwrap(),
        StateLocation::Local(local.0.join("terraform.tfstate"))
    );
    assert_eq!(
        locate(&local.0, &[], &env("dev")).unwrap(),
        StateLocation::Local(local.0.join("terraform.tfstate.d/dev/terraform.tfstate"))
    );
    // Other backends are named, not guessed at.
    let cloud = Scratch::new(
        "cloud-backend",
        &[(
            "main.tf",
            "terraform {\n  cloud {\n    organization = \"acme\"\n  }\n}\n",
        )],
    );
    assert_eq!(
        locate(&cloud.0, &[], &[]).unwrap(),
        StateLocation::Other("cloud".to_owned())
    );
}

#[test]
fn a_collection_with_an_unknown_element_still_yields_its_known_ones() {
    let s = Scratch::new(
        "lookup-known",
        &[(
            "main.tf",
            r#"
locals {
  settings = { stage = "prod", image = data.aws_ssm_parameter.image.value }
  names    = ["web", data.aws_region.current.name]
}
data "aws_ssm_parameter" "image" { name = "/image" }
data "aws_region" "current" {}
resource "aws_ecs_task_definition" "t" {
  container_definitions = jsonencode([{
    name        = element(local.names, 0)
    environment = [
      { name = "STAGE", value = lookup(local.settings, "stage", "dev") },
      { name = "BOTH", value = join(",", local.names) },
    ]
  }])
}
"#,
        )],
    );
    // The known element and key resolve; the join of an unknown one is its problem.
    let p = problems(&s.inputs());
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(p[0].expression, "data.aws_region.current.name");
    let mut i = s.inputs();
    i.region = Some("eu-west-1".to_owned());
    let loaded = load(&i).unwrap();
    assert_eq!(
        loaded.container_definitions,
        json!([{"name": "web", "environment": [
            {"name": "STAGE", "value": "prod"},
            {"name": "BOTH", "value": "web,eu-west-1"}
        ]}])
    );
}

#[test]
fn hcl_forms_terraform_accepts_evaluate_as_terraform_evaluates_them() {
    // What `terraform apply` (1.11.4) printed for the fixture's `all` output.
    let terraform = r#"[{"a":"1","b":"2"},{"a":"1","b":"2"},["a=1","b=2"],{"a":"1","c":"3"},{"a":["1"],"b":["2"]},{"a":"second","b":"only"}]"#;
    let loaded = load(&inputs("hcl-forms")).unwrap();
    assert_eq!(
        loaded.container_definitions[0]["environment"][0]["value"],
        terraform
    );
}

#[test]
fn templatestring_renders_a_template_held_elsewhere_as_terraform_does() {
    // Each expected value is what `terraform console` (1.11.4) printed for the same
    // configuration; None where Terraform refused it.
    let cases: [(&str, Option<&str>); 8] = [
        (
            "templatestring(local.tpl, {name = \"Ann\", xs = [1, 2]})",
            Some("Hello, Ann! [1][2]"),
        ),
        (
            "templatestring(local.tpl2, {name = \"ann\", xs = [1]})",
            Some("ANN-1"),
        ),
        ("templatestring(local.m.t, {v = 1})", Some("v=1")),
        ("templatestring(local.m[\"t\"], {v = 2})", Some("v=2")),
        (
            "templatestring(local.tpl, {name = \"a\", xs = [], extra = 1})",
            Some("Hello, a! "),
        ),
        ("templatestring(local.bad, {})", None),
        ("templatestring(\"x\", {})", None),
        (
            "templatestring(lower(local.tpl2), {name = \"a\", xs = []})",
            None,
        ),
    ];
    for (expr, want) in cases {
        let s = Scratch::new(
            "templatestring",
            &[(
                "main.tf",
                &format!(
                    r#"locals {{
  tpl  = "Hello, $${{name}}! %%{{ for x in xs }}[$${{x}}]%%{{ endfor }}"
  tpl2 = "$${{upper(name)}}-$${{length(xs)}}"
  bad  = "$${{nope}}"
  m    = {{ t = "v=$${{v}}" }}
}}
resource "aws_ecs_task_definition" "t" {{
  container_definitions = jsonencode([{{ name = "app", environment = [{{ name = "X", value = {expr} }}] }}])
}}
"#
                ),
            )],
        );
        match (load(&s.inputs()), want) {
            (Ok(loaded), Some(want)) => assert_eq!(
                loaded.container_definitions[0]["environment"][0]["value"], want,
                "{expr}"
            ),
            (Err(_), None) => {}
            (got, want) => panic!("{expr}: want {want:?}, got {got:?}"),
        }
    }
}

#[test]
fn a_role_and_a_kms_alias_are_looked_up_by_name_as_plan_reads_them() {
    let s = Scratch::new(
        "role-alias",
        &[(
            "main.tf",
            r#"
data "aws_iam_role" "deploy" { name = "deploy" }
data "aws_kms_alias" "app" { name = "alias/app" }
resource "aws_kms_alias" "own" {
  name          = "alias/own"
  target_key_id = "1234abcd-12ab-34cd-56ef-1234567890ab"
}
resource "aws_ecs_task_definition" "t" {
  container_definitions = jsonencode([{
    name        = "app"
    environment = [
      { name = "DEPLOY", value = data.aws_iam_role.deploy.arn },
      { name = "KEY", value = data.aws_kms_alias.app.target_key_arn },
      { name = "OWN_ID", value = aws_kms_alias.own.id },
      { name = "OWN_TARGET", value = aws_kms_alias.own.target_key_id },
      { name = "OWN_ARN", value = aws_kms_alias.own.arn },
    ]
  }])
}
"#,
        )],
    );
    // Offline: each is named with the call that would read it; what the configuration says
    // (a managed alias's name and target) is known without AWS.
    let mut i = s.inputs();
    let p = problems(&i);
    let messages: Vec<&str> = p.iter().map(|p| p.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "data.aws_iam_role.deploy is read from AWS (iam:GetRole deploy)",
            "data.aws_kms_alias.app is read from AWS (kms:DescribeKey alias/app)",
            "aws_kms_alias.own is read from AWS (kms:DescribeKey alias/own)",
        ],
        "{p:?}"
    );
    // Live: the three lookups are one wave, and their answers are the values.
    i.live = true;
    let config = Configuration::read(&i.path).unwrap();
    let (_, lookups) = config.load_asking(&i);
    let asked: Vec<&Lookup> = lookups.iter().map(|a| &a.lookup).collect();
    let role = Lookup::Role {
        name: "deploy".to_owned(),
    };
    let alias = |name: &str| Lookup::KmsAlias {
        name: name.to_owned(),
    };
    assert_eq!(asked, [&role, &alias("alias/app"), &alias("alias/own")]);
    let key = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    i.looked_up.insert(
        role,
        Ok(json!({"arn": "arn:aws:iam::123456789012:role/ci/deploy"})),
    );
    for name in ["alias/app", "alias/own"] {
        i.looked_up.insert(
            alias(name),
            Ok(json!({
                "arn": format!("arn:aws:kms:eu-west-1:123456789012:{name}"),
                "target_key_arn": key,
            })),
        );
    }
    let loaded = load(&i).unwrap();
    assert_eq!(
        loaded.container_definitions[0]["environment"],
        json!([
            {"name": "DEPLOY", "value": "arn:aws:iam::123456789012:role/ci/deploy"},
            {"name": "KEY", "value": key},
            {"name": "OWN_ID", "value": "alias/own"},
            {"name": "OWN_TARGET", "value": "1234abcd-12ab-34cd-56ef-1234567890ab"},
            {"name": "OWN_ARN", "value": "arn:aws:kms:eu-west-1:123456789012:alias/own"},
        ])
    );
}

/// An in-process fake of the configuration's files, held in a map: nothing of it is on disk,
/// so what the file functions return can only have come through `FileAccess`.
#[derive(Debug)]
struct InMemoryFiles(std::collections::BTreeMap<PathBuf, &'static str>);

impl files::FileAccess for InMemoryFiles {
    fn stat(&self, path: &Path) -> Result<files::Kind, files::Refusal> {
        Ok(if self.0.contains_key(path) {
            files::Kind::File
        } else if self.0.keys().any(|p| p.starts_with(path)) {
            files::Kind::Dir
        } else {
            files::Kind::Missing
        })
    }

    fn read_bytes(&self, path: &Path) -> Result<Vec<u8>, files::Refusal> {
        self.0
            .get(path)
            .map(|text| text.as_bytes().to_vec())
            .ok_or(files::Refusal::Io(std::io::ErrorKind::NotFound))
    }

    fn list(&self, dir: &Path) -> Result<files::Entries<'_>, files::Refusal> {
        let names: std::collections::BTreeSet<std::ffi::OsString> = self
            .0
            .keys()
            .filter_map(|p| p.strip_prefix(dir).ok()?.iter().next())
            .map(ToOwned::to_owned)
            .collect();
        let entries: Vec<files::Entry> = names
            .into_iter()
            .map(|name| files::Entry {
                kind: self.stat(&dir.join(&name)).unwrap(),
                name,
            })
            .collect();
        Ok(Box::new(entries.into_iter().map(Ok)))
    }
}

#[test]
fn file_functions_read_only_through_the_evaluators_file_access() {
    let root = PathBuf::from("/ecs-env-in-memory-configuration");
    let module = source::Module {
        dir: root.clone(),
        display_dir: ".".to_owned(),
        ..source::Module::default()
    };
    let mut ev = Evaluator::new(Arc::new(module), None);
    ev.files = Box::new(InMemoryFiles(
        [
            (root.join("conf/app.json"), "{\"name\": \"app\"}"),
            (root.join("conf/db/db.json"), "{}"),
            (root.join("conf/notes.txt"), "notes"),
        ]
        .into_iter()
        .collect(),
    ));
    for (text, want) in [
        ("file(\"conf/app.json\")", r#""{\"name\": \"app\"}""#),
        (
            "fileset(path.module, \"conf/**/*.json\")",
            r#"["conf/app.json","conf/db/db.json"]"#,
        ),
        ("fileset(\"conf\", \"*\")", r#"["app.json","notes.txt"]"#),
        ("fileexists(\"conf/none.json\")", "false"),
    ] {
        let expr = hcl::edit::parser::parse_expr(text).unwrap();
        let file = Arc::new(source::SourceFile::new("test".to_owned(), text.to_owned()));
        let scope = eval::Scope::new(0, file, eval::Iteration::None, eval::ScopeKind::Config);
        let got = ev.eval(&expr, &scope).unwrap().to_json().unwrap();
        assert_eq!(got, want, "{text}");
    }
}

#[test]
fn forms_terraform_refuses_are_refused_without_quoting_a_value() {
    // A line break in a quoted string, in the configuration and in a variables file: refused
    // at its line, the string never quoted (it may be a password). An ambiguous object key is
    // named with the fix.
    let canary = "canary-7f3a9";
    let s = Scratch::new(
        "strict",
        &[
            (
                "main.tf",
                &format!(
                    "variable \"x\" {{}}\nlocals {{\n  k = \"a\"\n  m = {{ local.k = 1 }}\n  s = \"{canary}\n{canary}\"\n}}\nresource \"aws_ecs_task_definition\" \"t\" {{\n  container_definitions = jsonencode([{{ name = var.x }}])\n}}\n"
                ),
            ),
            ("secret.tfvars", &format!("x = \"{canary}\n{canary}\"\n")),
        ],
    );
    let p = problems(&s.inputs());
    assert_eq!(p.len(), 2, "{p:?}");
    assert_eq!((p[0].line, p[0].expression.as_str()), (Some(4), "local.k"));
    assert!(p[0].message.starts_with("ambiguous object key"), "{p:?}");
    assert_eq!((p[1].line, p[1].expression.as_str()), (Some(5), ""));
    assert!(
        p[1].message.starts_with("invalid multi-line string"),
        "{p:?}"
    );
    assert!(!format!("{p:?}").contains(canary), "{p:?}");

    std::fs::write(
        s.0.join("main.tf"),
        "variable \"x\" {}\nresource \"aws_ecs_task_definition\" \"t\" {\n  container_definitions = jsonencode([{ name = var.x }])\n}\n",
    )
    .unwrap();
    let mut i = s.inputs();
    i.cli = vec![CliInput::File(s.0.join("secret.tfvars"))];
    let p = problems(&i);
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(
        p[0].message.starts_with("invalid multi-line string"),
        "{p:?}"
    );
    assert!(!format!("{} {p:?}", p[0]).contains(canary), "{p:?}");
}

#[test]
fn a_module_chain_as_the_most_used_ecs_module_writes_it_works_without_state() {
    // tests/fixtures/terraform/ecs-modules-chain: the name from basename(path.cwd), a map of
    // containers handed to a service module, one container-definition module instance per
    // container (for_each), a log group's configured name, a sidecar image from SSM.
    let mut i = inputs("ecs-modules-chain");
    i.region = Some("eu-west-1".to_owned());
    i.caller.account = Some("123456789012".to_owned());
    i.wanted = wanted(Some("ecsdemo-frontend"), &[]);
    let loaded = load(&i).unwrap();
    assert_eq!(
        loaded.address,
        "module.ecs_service.aws_ecs_task_definition.this[0]"
    );
    let app = &loaded.container_definitions[0];
    assert_eq!(
        (&app["environment"], &app["secrets"]),
        (
            &json!([
                {"name": "NODE_ENV", "value": "production"},
                {"name": "APP_NAME", "value": "ex-ecs-modules-chain"},
                {"name": "PORT", "value": "3000"}
            ]),
            &json!([
                {"name": "DB_PASSWORD", "valueFrom": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:ex-ecs-modules-chain/db-AbCdEf:password::"},
                {"name": "API_TOKEN", "valueFrom": "arn:aws:ssm:eu-west-1:123456789012:parameter/ex-ecs-modules-chain/api-token"}
            ])
        )
    );
    // What plan knows of a log group the state lacks: its configured name. The app's own
    // log configuration replaces the module's default (merge is shallow).
    assert_eq!(app["logConfiguration"]["logDriver"], "awsfirelens");
    assert_eq!(app["readonlyRootFilesystem"], false);
    // The sidecar's image is read from SSM: without it (offline), the sidecar is unknown
    // as a whole (its `if v != null` filter looks at the image), which only blocks a choice
    // it could change.
    assert_eq!(
        loaded.container_definitions[1]["name"],
        crate::cloudformation::UNRESOLVED
    );
    assert!(
        loaded
            .notes
            .iter()
            .any(|n| n.starts_with("a container is not known here (")
                && n.contains("data.aws_ssm_parameter.fluentbit is read from AWS")),
        "{:?}",
        loaded.notes
    );
    i.wanted = wanted(None, &[]);
    assert_eq!(
        problems(&i)[0].expression,
        "data.aws_ssm_parameter.fluentbit.value"
    );
    // Read (as plan reads it), the sidecar is known too.
    i.live = true;
    i.looked_up.insert(
        Lookup::Parameter {
            name: "/aws/service/aws-for-fluent-bit/stable".to_owned(),
            decrypt: true,
        },
        Ok(json!({"value": "public.ecr.aws/aws-observability/aws-for-fluent-bit:stable"})),
    );
    i.wanted = wanted(Some("fluent-bit"), &[]);
    let loaded = load(&i).unwrap();
    let sidecar = &loaded.container_definitions[1];
    assert_eq!(
        (&sidecar["name"], &sidecar["image"], &sidecar["user"]),
        (
            &json!("fluent-bit"),
            &json!("public.ecr.aws/aws-observability/aws-for-fluent-bit:stable"),
            &json!("0")
        )
    );
    assert_eq!(
        sidecar["logConfiguration"]["options"]["awslogs-group"],
        "/aws/ecs/ex-ecs-modules-chain/fluent-bit"
    );
}

#[test]
fn a_resource_the_state_lacks_has_its_configured_arguments_as_plan_shows_them() {
    let s = Scratch::new(
        "planned",
        &[(
            "main.tf",
            r#"
variable "stage" { default = "prod" }
resource "aws_cloudwatch_log_group" "one" { name = "/ecs/${var.stage}" }
resource "aws_cloudwatch_log_group" "counted" {
  count = 2
  name  = "/ecs/n${count.index}"
}
resource "aws_sqs_queue" "each" {
  for_each    = toset(["jobs", "mail"])
  name        = "${var.stage}-${each.key}"
  name_prefix = null
}
resource "aws_ecs_task_definition" "t" {
  container_definitions = jsonencode([{
    name        = "app"
    environment = [
      { name = "ONE", value = aws_cloudwatch_log_group.one.name },
      { name = "SECOND", value = aws_cloudwatch_log_group.counted[1].name },
      { name = "MAIL", value = aws_sqs_queue.each["mail"].name },
      { name = "X", value = var.x },
    ]
  }])
}
variable "x" { default = "" }
"#,
        )],
    );
    assert_eq!(
        load(&s.inputs()).unwrap().container_definitions[0]["environment"],
        json!([
            {"name": "ONE", "value": "/ecs/prod"},
            {"name": "SECOND", "value": "/ecs/n1"},
            {"name": "MAIL", "value": "prod-mail"},
            {"name": "X", "value": ""}
        ])
    );
    // Known only after apply: a computed attribute, an argument set to null, the whole
    // resource; an instance the configuration does not make is an error.
    for (expr, message) in [
        ("aws_cloudwatch_log_group.one.arn", "not in Terraform state"),
        (
            "aws_sqs_queue.each[\"jobs\"].name_prefix",
            "not in Terraform state",
        ),
        (
            "jsonencode(aws_cloudwatch_log_group.one)",
            "not in Terraform state",
        ),
        (
            "aws_cloudwatch_log_group.counted[2].name",
            "aws_cloudwatch_log_group.counted has no instance [2]",
        ),
        (
            "aws_sqs_queue.each[\"web\"].name",
            "aws_sqs_queue.each has no instance [\"web\"]",
        ),
    ] {
        let s2 = Scratch::new(
            "planned-x",
            &[(
                "main.tf",
                &std::fs::read_to_string(s.0.join("main.tf"))
                    .unwrap()
                    .replace("value = var.x", &format!("value = {expr}")),
            )],
        );
        let p = problems(&s2.inputs());
        assert_eq!(p[0].message, message, "{expr}: {p:?}");
    }
}

#[test]
fn a_label_module_and_a_registry_container_module_work_without_state() {
    // tests/fixtures/terraform/label-and-container-modules: the name from a label module,
    // environment and secrets as maps (sorted by the module), an image from a repository
    // not yet created, both modules installed under .terraform/modules; a wrapper's inputs
    // as TF_VAR_ variables (a map in JSON).
    let mut i = inputs("label-and-container-modules");
    i.region = Some("us-east-2".to_owned());
    i.env_vars = vec![
        ("TF_VAR_stage".to_owned(), "prod".to_owned()),
        (
            "TF_VAR_extra_environment".to_owned(),
            r#"{"FEATURE_X": "on", "LOG_LEVEL": "debug"}"#.to_owned(),
        ),
    ];
    // The secret's ARN (its random suffix) is AWS's to say: the one thing not known.
    let (p, lookups) = asking(&i);
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(p[0].expression, "aws_secretsmanager_secret.stripe.arn");
    assert_eq!(
        lookups[0].lookup,
        Lookup::Secret {
            id: "eg-prod-web-api/stripe".to_owned()
        }
    );
    let arn = "arn:aws:secretsmanager:us-east-2:111122223333:secret:eg-prod-web-api/stripe-a1B2c3";
    i.looked_up.insert(
        lookups[0].lookup.clone(),
        Ok(json!({"arn": arn, "id": arn})),
    );
    let loaded = load(&i).unwrap();
    assert_eq!(loaded.family.as_deref(), Some("eg-prod-web-api"));
    let web = &loaded.container_definitions[0];
    assert_eq!(
        (&web["name"], &web["environment"], &web["secrets"]),
        (
            &json!("eg-prod-web-api"),
            &json!([
                {"name": "FEATURE_X", "value": "on"},
                {"name": "LOG_LEVEL", "value": "debug"},
                {"name": "SERVICE_NAME", "value": "eg-prod-web-api"},
                {"name": "STAGE", "value": "prod"}
            ]),
            &json!([
                {"name": "DATABASE_URL", "valueFrom": "arn:aws:ssm:us-east-2:111122223333:parameter/eg-prod-web-api/database-url"},
                {"name": "STRIPE_KEY", "valueFrom": format!("{arn}:key::")}
            ])
        )
    );
    // The image waits for a repository not yet created: left out, and said so.
    assert!(web.get("image").is_none(), "{web}");
    assert!(
        loaded
            .notes
            .iter()
            .any(|n| n.contains("`image` is not known here")),
        "{:?}",
        loaded.notes
    );
    assert_eq!(
        web["logConfiguration"]["options"]["awslogs-group"],
        "/ecs/eg-prod-web-api"
    );
}

#[test]
fn a_partly_unknown_value_is_still_known_not_to_be_null() {
    // As Terraform refines them: a template's result and a collection are never null, even
    // with an unknown piece; an unknown value as a whole may be.
    let s = Scratch::new(
        "not-null",
        &[(
            "main.tf",
            r#"
resource "aws_ecr_repository" "r" { name = "r" }
locals {
  image = "${aws_ecr_repository.r.repository_url}:1"
  m     = { image = local.image, list = [aws_ecr_repository.r.arn], none = null, name = "app" }
  kept  = { for k, v in local.m : k => v if v != null }
}
resource "aws_ecs_task_definition" "t" {
  container_definitions = jsonencode([{
    name        = local.kept.name
    environment = [
      { name = "KEYS", value = join(",", keys(local.kept)) },
      { name = "EQ", value = tostring(local.image == null) },
      { name = "WHOLE", value = tostring(aws_ecr_repository.r.arn != null) },
    ]
  }])
}
"#,
        )],
    );
    let p = problems(&s.inputs());
    // Only the comparison of a wholly unknown value is unknown.
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(p[0].expression, "aws_ecr_repository.r.arn");
    let s2 = Scratch::new(
        "not-null-2",
        &[(
            "main.tf",
            &std::fs::read_to_string(s.0.join("main.tf"))
                .unwrap()
                .replace(
                    "      { name = \"WHOLE\", value = tostring(aws_ecr_repository.r.arn != null) },\n",
                    "",
                ),
        )],
    );
    assert_eq!(
        load(&s2.inputs()).unwrap().container_definitions[0]["environment"],
        json!([
            {"name": "KEYS", "value": "image,list,name"},
            {"name": "EQ", "value": "false"}
        ])
    );
}

#[test]
fn the_aws_providers_functions_and_core_spellings_evaluate() {
    let s = Scratch::new(
        "provider-functions",
        &[(
            "main.tf",
            r#"
locals {
  role = "arn:aws:iam::123456789012:role/service/app-task"
}
resource "aws_ecs_task_definition" "t" {
  container_definitions = jsonencode([{
    name        = "app"
    environment = [
      { name = "ACCOUNT", value = provider::aws::arn_parse(local.role).account_id },
      { name = "ROLE", value = provider::aws::trim_iam_role_path(local.role) },
      { name = "BIGGER", value = tostring(core::max(1, 2)) },
    ]
    secrets = [{
      name      = "TOKEN"
      valueFrom = provider::aws::arn_build("aws", "ssm", "eu-west-1", "123456789012", "parameter/app/token")
    }]
  }])
}
"#,
        )],
    );
    let app = &load(&s.inputs()).unwrap().container_definitions[0];
    assert_eq!(
        app["environment"],
        json!([
            {"name": "ACCOUNT", "value": "123456789012"},
            {"name": "ROLE", "value": "arn:aws:iam::123456789012:role/app-task"},
            {"name": "BIGGER", "value": "2"}
        ])
    );
    assert_eq!(
        app["secrets"][0]["valueFrom"],
        "arn:aws:ssm:eu-west-1:123456789012:parameter/app/token"
    );
}

#[test]
fn text_reaches_the_task_definition_in_nfc_as_terraform_holds_it() {
    // `e` + U+0301 (written as an escape, and raw in a heredoc) is `é` in the task
    // definition Terraform registers; a value already composed is unchanged.
    let s = Scratch::new(
        "nfc",
        &[(
            "main.tf",
            "resource \"aws_ecs_task_definition\" \"t\" {\n  container_definitions = jsonencode([{\n    name        = \"app\"\n    environment = [\n      { name = \"ESCAPED\", value = \"Cafe\\u0301\" },\n      { name = \"RAW\", value = trimspace(<<EOT\nnai\u{0308}ve\nEOT\n) },\n      { name = \"COMPOSED\", value = \"\u{e9}t\u{e9}\" },\n    ]\n  }])\n}\n",
        )],
    );
    assert_eq!(
        load(&s.inputs()).unwrap().container_definitions[0]["environment"],
        json!([
            {"name": "ESCAPED", "value": "Caf\u{e9}"},
            {"name": "RAW", "value": "na\u{ef}ve"},
            {"name": "COMPOSED", "value": "\u{e9}t\u{e9}"}
        ])
    );
}
