use super::*;
use serde_json::json;

/// Shaped like `cdk synth` output (`cdk.out/AppStack.template.json`, CDK v2, Fargate task with
/// a generated secret, an SSM parameter and a secret imported by name).
const CDK: &str = include_str!("fixtures/cdk-app-stack.template.json");
/// A hand-written YAML template using the short-form tags.
const YAML: &str = include_str!("fixtures/service.yaml");

const ACCOUNT: &str = "123456789012";
const DB_SECRET_ARN: &str =
    "arn:aws:secretsmanager:us-east-1:123456789012:secret:DbSecret685A0FA5-AbCdEf";

fn ctx(region: &str) -> Context {
    Context {
        region: Some(region.to_owned()),
        account: Some(ACCOUNT.to_owned()),
        ..Context::default()
    }
}

/// [`ctx`] in eu-west-1, with a container chosen and variables overridden.
fn wanting(container: Option<&str>, overrides: &[&str]) -> Context {
    Context {
        wanted: crate::taskdef::Wanted {
            container: container.map(str::to_owned),
            all_containers: false,
            overrides: overrides.iter().map(|s| (*s).to_owned()).collect(),
            ..Default::default()
        },
        ..ctx("eu-west-1")
    }
}

fn ids(pairs: &[(&str, &str)]) -> Option<BTreeMap<String, String>> {
    Some(
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    )
}

fn params(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    ids(pairs).unwrap_or_default()
}

fn resolve(template: &Template, ctx: &Context) -> Result<Value, Vec<Unresolved>> {
    template
        .task_definition(None, ctx)
        .expect("one task definition")
}

fn resolved(template: &Template, ctx: &Context) -> Value {
    match resolve(template, ctx) {
        Ok(v) => v,
        Err(e) => panic!("unresolved: {e:#?}"),
    }
}

fn unresolved(template: &Template, ctx: &Context) -> Vec<Unresolved> {
    match resolve(template, ctx) {
        Ok(v) => panic!("unexpectedly resolved: {v}"),
        Err(e) => e,
    }
}

/// A template whose one task definition has one environment entry `V` holding `value`;
/// `extra` adds top-level sections, and resources under `"Resources"`.
fn with_value(extra: Value, value: Value) -> Template {
    let mut root = json!({
        "Resources": {
            "Task": {
                "Type": "AWS::ECS::TaskDefinition",
                "Properties": {
                    "ContainerDefinitions": [
                        {"Name": "app", "Environment": [{"Name": "V", "Value": value}]}
                    ]
                }
            }
        }
    });
    if let Value::Object(extra) = extra {
        for (k, v) in extra {
            if k == "Resources" {
                let resources = root["Resources"].as_object_mut().unwrap();
                resources.extend(v.as_object().unwrap().clone());
            } else {
                root[k] = v;
            }
        }
    }
    parse(&root.to_string()).unwrap()
}

const VALUE_PATH: &str = "$.Resources.Task.Properties.ContainerDefinitions[0].Environment[0].Value";

/// Evaluate `value` as the environment value `V`.
fn eval(extra: Value, value: Value, ctx: &Context) -> Result<String, Vec<Unresolved>> {
    let template = with_value(extra, value);
    resolve(&template, ctx).map(|td| {
        let v = &td["containerDefinitions"][0]["environment"][0]["value"];
        v.as_str()
            .unwrap_or_else(|| panic!("not a string: {v}"))
            .to_owned()
    })
}

fn eval_err(extra: Value, value: Value, ctx: &Context) -> Vec<Unresolved> {
    match eval(extra, value, ctx) {
        Ok(v) => panic!("unexpectedly resolved to {v:?}"),
        Err(e) => e,
    }
}

fn u(path: &str, intrinsic: &str, hint: &str) -> Unresolved {
    Unresolved {
        path: path.to_owned(),
        intrinsic: intrinsic.to_owned(),
        hint: hint.to_owned(),
        mistake: None,
    }
}

const HINT_STACK: &str =
    "pass --stack STACK_NAME so the physical id can be read (Ref of a resource is its physical id)";

// --- parsing ---------------------------------------------------------------------------------

#[test]
fn yaml_short_forms_become_the_long_form() {
    let yaml = r#"
Resources:
  X:
    Type: Custom::Thing
    Properties:
      Ref: !Ref Param
      GetAttDotted: !GetAtt Db.Endpoint.Address
      GetAttList: !GetAtt [Db, Arn]
      Sub: !Sub "${AWS::Region}-x"
      SubList: !Sub ["${A}", {A: !Ref B}]
      Join: !Join [":", [a, b]]
      Select: !Select [0, !Split [",", "a,b"]]
      If: !If [Cond, yes, no]
      Import: !ImportValue exported
      Find: !FindInMap [M, a, b]
      Cond: !Condition C
      Eq: !Equals [a, b]
      B64: !Base64 text
      Azs: !GetAZs ''
"#;
    let t = parse(yaml).unwrap();
    assert_eq!(
        t.resources["X"]["Properties"],
        json!({
            "Ref": {"Ref": "Param"},
            "GetAttDotted": {"Fn::GetAtt": ["Db", "Endpoint.Address"]},
            "GetAttList": {"Fn::GetAtt": ["Db", "Arn"]},
            "Sub": {"Fn::Sub": "${AWS::Region}-x"},
            "SubList": {"Fn::Sub": ["${A}", {"A": {"Ref": "B"}}]},
            "Join": {"Fn::Join": [":", ["a", "b"]]},
            "Select": {"Fn::Select": [0, {"Fn::Split": [",", "a,b"]}]},
            "If": {"Fn::If": ["Cond", "yes", "no"]},
            "Import": {"Fn::ImportValue": "exported"},
            "Find": {"Fn::FindInMap": ["M", "a", "b"]},
            "Cond": {"Condition": "C"},
            "Eq": {"Fn::Equals": ["a", "b"]},
            "B64": {"Fn::Base64": "text"},
            "Azs": {"Fn::GetAZs": ""},
        })
    );
}

#[test]
fn json_and_yaml_forms_of_a_template_are_the_same_tree() {
    let json = r#"{"Resources": {"T": {"Type": "AWS::ECS::TaskDefinition", "Properties": {
        "ContainerDefinitions": [{"Name": "app", "Secrets": [
            {"Name": "S", "ValueFrom": {"Fn::Join": ["", [{"Ref": "Sec"}, ":k::"]]}}]}]}},
        "Sec": {"Type": "AWS::SecretsManager::Secret"}}}"#;
    let yaml = "
Resources:
  T:
    Type: AWS::ECS::TaskDefinition
    Properties:
      ContainerDefinitions:
        - Name: app
          Secrets:
            - Name: S
              ValueFrom: !Join ['', [!Ref Sec, ':k::']]
  Sec:
    Type: AWS::SecretsManager::Secret
";
    assert_eq!(
        parse(json).unwrap().resources,
        parse(yaml).unwrap().resources
    );
}

#[test]
fn a_byte_order_mark_is_ignored() {
    let text = format!("\u{feff}{}", r#"{"Resources": {}}"#);
    assert!(parse(&text).is_ok());
    assert!(looks_like_template(&text));
    assert!(parse("\u{feff}Resources: {}\n").is_ok());
}

#[test]
fn parse_errors_give_a_position_and_never_content() {
    let cases = [
        (
            "{\"Resources\": {\"X\": {\"Value\": \"hunter2\",,}}}",
            "invalid JSON at line 1, column",
        ),
        (
            "Resources:\n  X:\n    Value: \"hunter2\n  Y: [unclosed, hunter2\n",
            "invalid YAML at line",
        ),
        (
            "Resources:\n  X: 1\n  X: hunter2\n",
            "invalid YAML at line 3",
        ),
        ("a: &x hunter2\nb: *y\n", "invalid YAML at line"),
    ];
    for (text, expected) in cases {
        let err = parse(text).unwrap_err();
        let shown = format!("{err} {err:?}");
        assert!(matches!(err, TemplateError::Parse(_)), "{shown}");
        assert!(shown.contains(expected), "{shown}");
        assert!(!shown.contains("hunter2"), "{shown}");
    }
}

#[test]
fn very_deep_nesting_is_an_error_not_a_crash() {
    let deep = format!("Resources: {}{}", "[".repeat(500), "]".repeat(500));
    assert!(matches!(parse(&deep), Err(TemplateError::Parse(_))));
}

#[test]
fn files_that_are_not_templates_say_why() {
    let cases = [
        (
            r#"{"family": "f", "containerDefinitions": []}"#,
            "ECS task definition",
        ),
        (
            r#"{"taskDefinition": {"containerDefinitions": []}}"#,
            "ECS task definition",
        ),
        (r#"[{"name": "app"}]"#, "the top level is a list"),
        ("just text", "the top level is a string"),
        ("Resources: [a, b]", "`Resources` is a list"),
        ("Resources:\n", "`Resources` is null"),
        ("Outputs: {}\n", "no top-level `Resources`"),
        ("", "the file is empty"),
    ];
    for (text, expected) in cases {
        match parse(text) {
            Err(TemplateError::NotATemplate(why)) => assert!(why.contains(expected), "{why}"),
            other => panic!("{text:?}: {other:?}"),
        }
    }
}

#[test]
fn looks_like_template_is_about_the_top_level() {
    assert!(looks_like_template(CDK));
    assert!(looks_like_template(YAML));
    assert!(looks_like_template(
        "AWSTemplateFormatVersion: '2010-09-09'\n"
    ));
    assert!(looks_like_template("\"Resources\": {}\n"));
    assert!(looks_like_template(
        r#"{"AWSTemplateFormatVersion": "2010-09-09"}"#
    ));
    assert!(!looks_like_template(
        r#"{"family": "f", "containerDefinitions": [{"name": "Resources"}]}"#
    ));
    assert!(!looks_like_template(r#"[{"name": "app"}]"#));
    assert!(!looks_like_template(r#"{"Resources": "not a mapping"}"#));
    assert!(!looks_like_template("Outputs:\n  Resources: {}\n"));
    assert!(!looks_like_template("ResourcesExtra: {}\n"));
}

// --- choosing the task definition -----------------------------------------------------------

const TWO_TASKS: &str = r#"{
  "Parameters": {"Zeta": {"Type": "String"}, "Alpha": {"Type": "String"}},
  "Resources": {
    "WorkerTask": {"Type": "AWS::ECS::TaskDefinition",
                   "Properties": {"ContainerDefinitions": [{"Name": "worker"}]}},
    "ApiTask": {"Type": "AWS::ECS::TaskDefinition",
                "Properties": {"ContainerDefinitions": [{"Name": "api"}]}},
    "Queue": {"Type": "AWS::SQS::Queue"}
  }
}"#;

#[test]
fn ids_and_parameter_names_are_sorted() {
    let t = parse(TWO_TASKS).unwrap();
    assert_eq!(t.task_definition_ids(), ["ApiTask", "WorkerTask"]);
    assert_eq!(t.parameter_names(), ["Alpha", "Zeta"]);
    let cdk = parse(CDK).unwrap();
    assert_eq!(cdk.task_definition_ids(), ["TaskDef54694570"]);
    assert_eq!(cdk.parameter_names(), ["BootstrapVersion"]);
    let yaml = parse(YAML).unwrap();
    assert_eq!(
        yaml.parameter_names(),
        ["DbPort", "Env", "ImageTag", "Subnets"]
    );
}

#[test]
fn several_task_definitions_need_a_choice() {
    let t = parse(TWO_TASKS).unwrap();
    let err = t.task_definition(None, &Context::default()).unwrap_err();
    assert_eq!(
        err,
        TemplateError::Ambiguous(vec!["ApiTask".to_owned(), "WorkerTask".to_owned()])
    );
    assert_eq!(
        err.to_string(),
        "the template has 2 AWS::ECS::TaskDefinition resources (`ApiTask`, `WorkerTask`); \
         choose one with --resource LOGICAL_ID"
    );
    let worker = t
        .task_definition(Some("WorkerTask"), &Context::default())
        .unwrap()
        .unwrap();
    assert_eq!(
        worker,
        json!({"containerDefinitions": [{"name": "worker"}]})
    );
}

#[test]
fn an_unknown_logical_id_lists_the_task_definitions() {
    let t = parse(TWO_TASKS).unwrap();
    for wanted in ["Nope", "Queue"] {
        let err = t
            .task_definition(Some(wanted), &Context::default())
            .unwrap_err();
        assert_eq!(
            err,
            TemplateError::UnknownResource {
                wanted: wanted.to_owned(),
                available: vec!["ApiTask".to_owned(), "WorkerTask".to_owned()],
            }
        );
        assert_eq!(
            err.to_string(),
            format!(
                "the template has no AWS::ECS::TaskDefinition named `{wanted}`; it has \
                 `ApiTask`, `WorkerTask`"
            )
        );
    }
}

#[test]
fn a_template_without_task_definitions_says_so() {
    let t = parse("Resources:\n  Q:\n    Type: AWS::SQS::Queue\n").unwrap();
    let err = t.task_definition(None, &Context::default()).unwrap_err();
    assert_eq!(err, TemplateError::NoTaskDefinition);
    assert_eq!(
        err.to_string(),
        "the template has no AWS::ECS::TaskDefinition resource"
    );
    let err = t
        .task_definition(Some("Q"), &Context::default())
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "the template has no AWS::ECS::TaskDefinition named `Q` (it has none)"
    );
}

// --- CDK output ------------------------------------------------------------------------------

#[test]
fn cdk_template_resolves_with_the_stack_resources() {
    let t = parse(CDK).unwrap();
    let ctx = Context {
        stack_resources: ids(&[
            ("DbSecret685A0FA5", DB_SECRET_ARN),
            (
                "TaskDefExecutionRoleB4775C97",
                "AppStack-TaskDefExecutionRoleB4775C97-1A2B3C4D5E6F",
            ),
        ]),
        ..ctx("us-east-1")
    };
    assert_eq!(
        resolved(&t, &ctx),
        json!({
            "family": "AppStackTaskDef1C55E3D6",
            "executionRoleArn":
                "arn:aws:iam::123456789012:role/AppStack-TaskDefExecutionRoleB4775C97-1A2B3C4D5E6F",
            // The task role is not among the stack resources given: its presence is kept
            // with the marker, which only --task-role reads, and reports.
            "taskRoleArn": crate::cloudformation::UNRESOLVED,
            "containerDefinitions": [{
                "name": "web",
                "environment": [
                    {"name": "PORT", "value": "8080"},
                    {"name": "NODE_ENV", "value": "production"}
                ],
                "secrets": [
                    {"name": "DB_PASSWORD", "valueFrom": format!("{DB_SECRET_ARN}:password::")},
                    {"name": "DB_SECRET", "valueFrom": DB_SECRET_ARN},
                    {"name": "API_KEY",
                     "valueFrom": "arn:aws:ssm:us-east-1:123456789012:parameter/prod/api-key"},
                    {"name": "STRIPE_KEY",
                     "valueFrom":
                        "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/stripe:secret_key::"}
                ]
            }]
        })
    );
}

#[test]
fn cdk_template_without_the_stack_reports_every_resource_reference() {
    let t = parse(CDK).unwrap();
    let base = "$.Resources.TaskDef54694570.Properties";
    assert_eq!(
        unresolved(&t, &ctx("us-east-1")),
        vec![
            u(
                &format!("{base}.ContainerDefinitions[0].Secrets[0].ValueFrom"),
                "Ref: DbSecret685A0FA5",
                HINT_STACK
            ),
            u(
                &format!("{base}.ContainerDefinitions[0].Secrets[1].ValueFrom"),
                "Ref: DbSecret685A0FA5",
                HINT_STACK
            ),
        ]
    );
}

#[test]
fn cdk_template_with_nothing_known_reports_all_at_once() {
    let t = parse(CDK).unwrap();
    let errors = unresolved(&t, &Context::default());
    let summary: Vec<(String, String)> = errors
        .iter()
        .map(|e| {
            let field = e.path.rsplit("Properties.").next().unwrap().to_owned();
            (field, e.intrinsic.clone())
        })
        .collect();
    let expected = [
        (
            "ContainerDefinitions[0].Secrets[0].ValueFrom",
            "Ref: DbSecret685A0FA5",
        ),
        (
            "ContainerDefinitions[0].Secrets[1].ValueFrom",
            "Ref: DbSecret685A0FA5",
        ),
        (
            "ContainerDefinitions[0].Secrets[2].ValueFrom",
            "Ref: AWS::Partition",
        ),
        (
            "ContainerDefinitions[0].Secrets[2].ValueFrom",
            "Ref: AWS::Region",
        ),
        (
            "ContainerDefinitions[0].Secrets[2].ValueFrom",
            "Ref: AWS::AccountId",
        ),
        (
            "ContainerDefinitions[0].Secrets[3].ValueFrom",
            "Ref: AWS::Partition",
        ),
        (
            "ContainerDefinitions[0].Secrets[3].ValueFrom",
            "Ref: AWS::Region",
        ),
        (
            "ContainerDefinitions[0].Secrets[3].ValueFrom",
            "Ref: AWS::AccountId",
        ),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect();
    assert_eq!(summary, expected, "{errors:#?}");
    let region = errors
        .iter()
        .find(|e| e.intrinsic == "Ref: AWS::Region")
        .unwrap();
    assert_eq!(
        region.hint,
        "AWS::Region is not known: configure a region (--region)"
    );
}

#[test]
fn properties_ecs_env_does_not_read_are_never_evaluated() {
    // The CDK fixture's Image (`Fn::Sub` with AWS::AccountId), log group (`Ref` of a resource)
    // and TaskRoleArn (`Fn::GetAtt`) cannot be resolved without an account or stack; the
    // report above does not mention them, and here they do not stop resolution (the task
    // role is kept as a marker, for --task-role to report).
    let t = parse(CDK).unwrap();
    let ctx = Context {
        stack_resources: ids(&[
            ("DbSecret685A0FA5", DB_SECRET_ARN),
            ("TaskDefExecutionRoleB4775C97", "ExecRole"),
        ]),
        ..ctx("us-east-1")
    };
    let td = resolved(&t, &ctx);
    let container = td["containerDefinitions"][0].as_object().unwrap();
    let keys: Vec<&str> = container.keys().map(String::as_str).collect();
    assert_eq!(keys, ["environment", "name", "secrets"]);
    let top: Vec<&str> = td.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        top,
        [
            "containerDefinitions",
            "executionRoleArn",
            "family",
            "taskRoleArn"
        ]
    );
    assert_eq!(td["taskRoleArn"], crate::cloudformation::UNRESOLVED);
}

// --- the YAML fixture ------------------------------------------------------------------------

fn yaml_ctx(region: &str, env: &str) -> Context {
    Context {
        stack_name: Some("svc".to_owned()),
        parameters: params(&[
            ("Env", env),
            (
                "shared-ApiKeyArn",
                "arn:aws:secretsmanager:eu-west-1:123456789012:secret:shared/api-AbCdEf",
            ),
        ]),
        stack_resources: ids(&[
            (
                "DbSecret",
                "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-XyZ123",
            ),
            ("ExecutionRole", "svc-ExecutionRole-ABC123"),
        ]),
        ..ctx(region)
    }
}

#[test]
fn yaml_template_with_short_tags_resolves() {
    let t = parse(YAML).unwrap();
    let td = resolved(&t, &yaml_ctx("eu-west-1", "prod"));
    assert_eq!(
        td,
        json!({
            "family": "svc-app",
            "executionRoleArn": "arn:aws:iam::123456789012:role/service/svc-ExecutionRole-ABC123",
            "containerDefinitions": [
                {
                    "name": "app",
                    "environment": [
                        {"name": "DB_PORT", "value": "5432"},
                        {"name": "LOG_LEVEL", "value": "warn"},
                        {"name": "REPLICAS", "value": "3"},
                        {"name": "REGION_AREA", "value": "eu"},
                        {"name": "SECOND_SUBNET", "value": "subnet-b"},
                        {"name": "DEBUG", "value": "false"},
                        {"name": "GDPR", "value": "strict"},
                        {"name": "TEMPLATE_LITERAL", "value": "${NotAVariable}-prod"},
                        {"name": "JOINED", "value": "a,prod,b"},
                        {"name": "PORT", "value": "8080"},
                        {"name": "ENABLED", "value": "true"},
                        {"name": "STATIC_TOKEN", "value": "hunter2-literal"}
                    ],
                    "secrets": [
                        {"name": "DB_PASSWORD", "valueFrom":
                            "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-XyZ123:password::"},
                        {"name": "DB_SECRET", "valueFrom":
                            "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-XyZ123"},
                        {"name": "SHARED_KEY", "valueFrom":
                            "arn:aws:secretsmanager:eu-west-1:123456789012:secret:shared/api-AbCdEf"},
                        {"name": "SSM_KEY", "valueFrom":
                            "arn:aws:ssm:eu-west-1:123456789012:parameter/prod/api-key"}
                    ],
                    "environmentFiles": [
                        {"value": "arn:aws:s3:::prod-config/app.env", "type": "s3"}
                    ]
                },
                {"name": "sidecar"}
            ]
        })
    );
}

#[test]
fn yaml_template_conditions_follow_the_parameters() {
    let t = parse(YAML).unwrap();
    let td = resolved(&t, &yaml_ctx("us-east-1", "dev"));
    let env = td["containerDefinitions"][0]["environment"]
        .as_array()
        .unwrap();
    let get = |name: &str| {
        env.iter()
            .find(|e| e["name"] == name)
            .map(|e| e["value"].as_str().unwrap().to_owned())
    };
    assert_eq!(get("DEBUG").as_deref(), Some("true"));
    assert_eq!(get("DEV_ONLY").as_deref(), Some("1"));
    assert_eq!(get("GDPR").as_deref(), Some("relaxed"));
    assert_eq!(get("LOG_LEVEL").as_deref(), Some("debug"));
    assert_eq!(get("REGION_AREA").as_deref(), Some("us"));
    assert_eq!(
        td["containerDefinitions"][0]["secrets"][3]["valueFrom"],
        "arn:aws:ssm:us-east-1:123456789012:parameter/dev/api-key"
    );
}

#[test]
fn yaml_template_without_parameters_reports_each_use() {
    let t = parse(YAML).unwrap();
    let errors = unresolved(&t, &wanting(Some("app"), &[]));
    let env_hint = "pass --parameter Env=VALUE";
    let c = "$.Resources.AppTask.Properties.ContainerDefinitions[0]";
    let expected = vec![
        u(&format!("{c}.Environment[1].Value"), "Ref: Env", env_hint),
        u(&format!("{c}.Environment[2].Value"), "Ref: Env", env_hint),
        u(&format!("{c}.Environment[5].Value"), "Ref: Env", env_hint),
        // The entry that is there only in dev depends on the condition, so on Env.
        u(&format!("{c}.Environment[6]"), "Ref: Env", env_hint),
        u(&format!("{c}.Environment[7].Value"), "Ref: Env", env_hint),
        u(
            &format!("{c}.Environment[8].Value"),
            "Fn::Sub: ${Env}",
            env_hint,
        ),
        u(&format!("{c}.Environment[9].Value"), "Ref: Env", env_hint),
        u(
            &format!("{c}.Secrets[0].ValueFrom"),
            "Fn::Sub: ${DbSecret}",
            HINT_STACK,
        ),
        u(
            &format!("{c}.Secrets[1].ValueFrom"),
            "Fn::GetAtt: [DbSecret, Arn]",
            HINT_STACK,
        ),
        u(
            &format!("{c}.Secrets[2].ValueFrom"),
            "Fn::ImportValue: shared-ApiKeyArn",
            "Fn::ImportValue is not supported; pass the export's value with --parameter \
             shared-ApiKeyArn=VALUE",
        ),
        u(
            &format!("{c}.Secrets[3].ValueFrom"),
            "Fn::Sub: ${Env}",
            env_hint,
        ),
        u(
            &format!("{c}.EnvironmentFiles[0].Value"),
            "Fn::Sub: ${Env}",
            env_hint,
        ),
    ];
    assert_eq!(errors, expected, "{errors:#?}");
}

// --- Ref -------------------------------------------------------------------------------------

#[test]
fn ref_of_a_parameter_uses_the_flag_then_the_default() {
    let sections = json!({"Parameters": {
        "WithDefault": {"Type": "String", "Default": "from-default"},
        "NoDefault": {"Type": "String"},
        "Port": {"Type": "Number", "Default": 5432}
    }});
    let none = Context::default();
    let flagged = Context {
        parameters: params(&[("WithDefault", "from-flag"), ("NoDefault", "given")]),
        ..Context::default()
    };
    let r = |name: &str| json!({"Ref": name});
    assert_eq!(
        eval(sections.clone(), r("WithDefault"), &none).unwrap(),
        "from-default"
    );
    assert_eq!(
        eval(sections.clone(), r("WithDefault"), &flagged).unwrap(),
        "from-flag"
    );
    assert_eq!(
        eval(sections.clone(), r("NoDefault"), &flagged).unwrap(),
        "given"
    );
    assert_eq!(eval(sections.clone(), r("Port"), &none).unwrap(), "5432");
    assert_eq!(
        eval_err(sections, r("NoDefault"), &none),
        vec![u(
            VALUE_PATH,
            "Ref: NoDefault",
            "pass --parameter NoDefault=VALUE"
        )]
    );
}

#[test]
fn an_ssm_typed_parameter_default_is_a_name_not_the_value() {
    let sections = json!({"Parameters": {
        "Tag": {"Type": "AWS::SSM::Parameter::Value<String>", "Default": "/app/tag"}
    }});
    let errors = eval_err(sections.clone(), json!({"Ref": "Tag"}), &Context::default());
    assert_eq!(
        errors,
        vec![u(
            VALUE_PATH,
            "Ref: Tag",
            "parameter `Tag` is read from SSM Parameter Store at deploy time; pass --parameter \
             Tag=VALUE"
        )]
    );
    let ctx = Context {
        parameters: params(&[("Tag", "v1.2.3")]),
        ..Context::default()
    };
    assert_eq!(
        eval(sections, json!({"Ref": "Tag"}), &ctx).unwrap(),
        "v1.2.3"
    );
}

#[test]
fn list_parameters_are_trimmed_lists() {
    let sections = json!({"Parameters": {
        "Names": {"Type": "CommaDelimitedList", "Default": "a, b ,c"},
        "Subnets": {"Type": "List<AWS::EC2::Subnet::Id>"}
    }});
    let join = |name: &str| json!({"Fn::Join": ["|", {"Ref": name}]});
    assert_eq!(
        eval(sections.clone(), join("Names"), &Context::default()).unwrap(),
        "a|b|c"
    );
    let ctx = Context {
        parameters: params(&[("Subnets", "subnet-1,subnet-2")]),
        ..Context::default()
    };
    assert_eq!(
        eval(sections.clone(), join("Subnets"), &ctx).unwrap(),
        "subnet-1|subnet-2"
    );
    // Used directly, a list is passed on, for the task-definition reader to reject by type.
    let td = resolve(
        &with_value(sections, json!({"Ref": "Names"})),
        &Context::default(),
    )
    .unwrap();
    assert_eq!(
        td["containerDefinitions"][0]["environment"][0]["value"],
        json!(["a", "b", "c"])
    );
}

#[test]
fn pseudo_parameters_come_from_the_context() {
    let none = json!({});
    let r = |name: &str| json!({"Ref": name});
    let us = Context {
        stack_name: Some("my-stack".to_owned()),
        ..ctx("us-east-1")
    };
    assert_eq!(
        eval(none.clone(), r("AWS::Region"), &us).unwrap(),
        "us-east-1"
    );
    assert_eq!(
        eval(none.clone(), r("AWS::AccountId"), &us).unwrap(),
        ACCOUNT
    );
    assert_eq!(eval(none.clone(), r("AWS::Partition"), &us).unwrap(), "aws");
    assert_eq!(
        eval(none.clone(), r("AWS::URLSuffix"), &us).unwrap(),
        "amazonaws.com"
    );
    assert_eq!(
        eval(none.clone(), r("AWS::StackName"), &us).unwrap(),
        "my-stack"
    );
    for (region, partition, suffix) in [
        ("cn-north-1", "aws-cn", "amazonaws.com.cn"),
        ("us-gov-west-1", "aws-us-gov", "amazonaws.com"),
        ("us-iso-east-1", "aws-iso", "c2s.ic.gov"),
        ("us-isob-east-1", "aws-iso-b", "sc2s.sgov.gov"),
        ("eu-isoe-west-1", "aws-iso-e", "cloud.adc-e.uk"),
        ("us-isof-south-1", "aws-iso-f", "csp.hci.ic.gov"),
        ("eusc-de-east-1", "aws-eusc", "amazonaws.eu"),
        ("eu-central-1", "aws", "amazonaws.com"),
    ] {
        let c = ctx(region);
        assert_eq!(
            eval(none.clone(), r("AWS::Partition"), &c).unwrap(),
            partition
        );
        assert_eq!(eval(none.clone(), r("AWS::URLSuffix"), &c).unwrap(), suffix);
    }
    // An explicit partition wins over the region's.
    let explicit = Context {
        partition: Some("aws-cn".to_owned()),
        ..ctx("us-east-1")
    };
    assert_eq!(
        eval(none.clone(), r("AWS::Partition"), &explicit).unwrap(),
        "aws-cn"
    );
    assert_eq!(
        eval(none, r("AWS::URLSuffix"), &explicit).unwrap(),
        "amazonaws.com.cn"
    );
}

#[test]
fn missing_pseudo_parameters_say_which_one() {
    let r = |name: &str| json!({"Ref": name});
    let hint = |name: &str| {
        eval_err(json!({}), r(name), &Context::default())[0]
            .hint
            .clone()
    };
    assert_eq!(
        hint("AWS::Region"),
        "AWS::Region is not known: configure a region (--region)"
    );
    assert_eq!(
        hint("AWS::AccountId"),
        "AWS::AccountId is not known: pass --account ACCOUNT_ID (or allow \
         sts:GetCallerIdentity so it can be read)"
    );
    assert!(hint("AWS::Partition").starts_with("AWS::Partition is not known"));
    assert!(hint("AWS::URLSuffix").starts_with("AWS::URLSuffix is not known"));
    assert_eq!(
        hint("AWS::StackName"),
        "AWS::StackName is not known: pass --stack STACK_NAME"
    );
    assert!(hint("AWS::StackId").starts_with("AWS::StackId is only known to the deployed stack"));
    assert_eq!(
        hint("AWS::Nonsense"),
        "AWS::Nonsense is not a pseudo parameter CloudFormation defines"
    );
}

#[test]
fn no_value_removes_the_key_or_the_element() {
    let t = parse(
        r#"{"Resources": {"T": {"Type": "AWS::ECS::TaskDefinition", "Properties": {
            "Family": {"Ref": "AWS::NoValue"},
            "ContainerDefinitions": [
              {"Name": "app",
               "Environment": [
                 {"Name": "A", "Value": {"Ref": "AWS::NoValue"}},
                 {"Ref": "AWS::NoValue"},
                 {"Name": "B", "Value": "b"}],
               "Secrets": {"Ref": "AWS::NoValue"}},
              {"Ref": "AWS::NoValue"}]}}}}"#,
    )
    .unwrap();
    assert_eq!(
        resolved(&t, &Context::default()),
        json!({"containerDefinitions": [{"name": "app",
            "environment": [{"name": "A"}, {"name": "B", "value": "b"}]}]})
    );
}

#[test]
fn ref_of_a_resource_is_its_physical_id_from_the_stack() {
    let sections = json!({"Resources": {"Param": {"Type": "AWS::SSM::Parameter"}}});
    let r = json!({"Ref": "Param"});
    assert_eq!(
        eval_err(sections.clone(), r.clone(), &Context::default()),
        vec![u(VALUE_PATH, "Ref: Param", HINT_STACK)]
    );
    let deployed = Context {
        stack_resources: ids(&[("Param", "/app/config")]),
        ..Context::default()
    };
    assert_eq!(
        eval(sections.clone(), r.clone(), &deployed).unwrap(),
        "/app/config"
    );
    let elsewhere = Context {
        stack_resources: ids(&[("Other", "x")]),
        ..Context::default()
    };
    assert_eq!(
        eval_err(sections, r, &elsewhere)[0].hint,
        "the stack has no resource `Param` (not created yet, or skipped because its Condition \
         is false)"
    );
    assert_eq!(
        eval_err(json!({}), json!({"Ref": "Ghost"}), &Context::default())[0].hint,
        "the template has no parameter or resource named `Ghost`"
    );
}

// --- Fn::GetAtt -----------------------------------------------------------------------------

#[test]
fn get_att_of_a_secret_arn_or_id_is_its_physical_id() {
    let sections = json!({"Resources": {"Db": {"Type": "AWS::SecretsManager::Secret"}}});
    let ctx = Context {
        stack_resources: ids(&[("Db", DB_SECRET_ARN)]),
        ..Context::default()
    };
    for attr in ["Arn", "Id"] {
        let v = json!({"Fn::GetAtt": ["Db", attr]});
        assert_eq!(
            eval(sections.clone(), v.clone(), &ctx).unwrap(),
            DB_SECRET_ARN
        );
        assert_eq!(
            eval_err(sections.clone(), v, &Context::default()),
            vec![u(
                VALUE_PATH,
                &format!("Fn::GetAtt: [Db, {attr}]"),
                HINT_STACK
            )]
        );
    }
    // The attribute name may be a Ref.
    let sections = json!({
        "Resources": {"Db": {"Type": "AWS::SecretsManager::Secret"}},
        "Parameters": {"Attr": {"Type": "String", "Default": "Arn"}}
    });
    let v = json!({"Fn::GetAtt": ["Db", {"Ref": "Attr"}]});
    assert_eq!(eval(sections, v, &ctx).unwrap(), DB_SECRET_ARN);
}

#[test]
fn get_att_of_a_role_arn_is_built_from_its_name_and_path() {
    let sections = json!({"Resources": {
        "Plain": {"Type": "AWS::IAM::Role", "Properties": {}},
        "Pathed": {"Type": "AWS::IAM::Role", "Properties": {"Path": "/ecs/"}}
    }});
    let ctx = Context {
        stack_resources: ids(&[("Plain", "plain-role"), ("Pathed", "pathed-role")]),
        ..ctx("cn-north-1")
    };
    let att = |r: &str| json!({"Fn::GetAtt": [r, "Arn"]});
    assert_eq!(
        eval(sections.clone(), att("Plain"), &ctx).unwrap(),
        "arn:aws-cn:iam::123456789012:role/plain-role"
    );
    assert_eq!(
        eval(sections.clone(), att("Pathed"), &ctx).unwrap(),
        "arn:aws-cn:iam::123456789012:role/ecs/pathed-role"
    );
    let no_account = Context {
        account: None,
        ..ctx
    };
    assert_eq!(
        eval_err(sections, att("Plain"), &no_account),
        vec![u(
            VALUE_PATH,
            "Fn::GetAtt: [Plain, Arn]",
            "the role's ARN needs AWS::AccountId: pass --account ACCOUNT_ID"
        )]
    );
}

#[test]
fn other_get_atts_name_the_type_and_attribute() {
    let sections = json!({"Resources": {"Db": {"Type": "AWS::RDS::DBInstance"}}});
    let ctx = Context {
        stack_resources: ids(&[("Db", "db-1")]),
        ..Context::default()
    };
    let errors = eval_err(
        sections.clone(),
        json!({"Fn::GetAtt": ["Db", "Endpoint.Address"]}),
        &ctx,
    );
    assert_eq!(errors[0].intrinsic, "Fn::GetAtt: [Db, Endpoint.Address]");
    assert!(
        errors[0]
            .hint
            .starts_with("attribute `Endpoint.Address` of a AWS::RDS::DBInstance is only known"),
        "{}",
        errors[0].hint
    );
    assert_eq!(
        eval_err(sections, json!({"Fn::GetAtt": ["Nope", "Arn"]}), &ctx)[0].hint,
        "the template has no resource named `Nope`"
    );
}

// --- Fn::Sub --------------------------------------------------------------------------------

#[test]
fn sub_substitutes_parameters_pseudo_parameters_and_resources() {
    let sections = json!({
        "Parameters": {"Env": {"Type": "String", "Default": "prod"}},
        "Resources": {"Db": {"Type": "AWS::SecretsManager::Secret"}}
    });
    let ctx = Context {
        stack_resources: ids(&[("Db", DB_SECRET_ARN)]),
        ..ctx("eu-west-1")
    };
    let sub = |v: Value| json!({"Fn::Sub": v});
    assert_eq!(
        eval(
            sections.clone(),
            sub(json!("${Env}/${AWS::Region}/${AWS::AccountId}")),
            &ctx
        )
        .unwrap(),
        "prod/eu-west-1/123456789012"
    );
    assert_eq!(
        eval(sections.clone(), sub(json!("${Db}:password::")), &ctx).unwrap(),
        format!("{DB_SECRET_ARN}:password::")
    );
    assert_eq!(
        eval(sections.clone(), sub(json!("${Db.Arn}")), &ctx).unwrap(),
        DB_SECRET_ARN
    );
    // The variable map wins over parameters, and its values may be intrinsics.
    assert_eq!(
        eval(
            sections.clone(),
            sub(json!(["${Env}-${Name}", {"Env": "staging", "Name": {"Fn::Join": ["-", ["a", "b"]]}}])),
            &ctx
        )
        .unwrap(),
        "staging-a-b"
    );
    assert_eq!(
        eval(sections.clone(), sub(json!(["plain"])), &ctx).unwrap(),
        "plain"
    );
    // `${!Literal}` is the escape; an unterminated `${` and a lone `$` are text.
    assert_eq!(
        eval(
            sections.clone(),
            sub(json!("${!Env} $5 ${Env} ${unterminated")),
            &ctx
        )
        .unwrap(),
        "${Env} $5 prod ${unterminated"
    );
    // Spaces inside the braces are tolerated.
    assert_eq!(
        eval(sections, sub(json!("${ Env }")), &ctx).unwrap(),
        "prod"
    );
}

#[test]
fn sub_reports_every_unresolvable_variable() {
    let sections = json!({
        "Parameters": {"Env": {"Type": "String"}, "Names": {"Type": "CommaDelimitedList", "Default": "a,b"}},
        "Resources": {"Db": {"Type": "AWS::SecretsManager::Secret"}}
    });
    let errors = eval_err(
        sections.clone(),
        json!({"Fn::Sub": "${Env}:${AWS::Region}:${Db}:${Db.Arn}:${Ghost}"}),
        &Context::default(),
    );
    let intrinsics: Vec<&str> = errors.iter().map(|e| e.intrinsic.as_str()).collect();
    assert_eq!(
        intrinsics,
        [
            "Fn::Sub: ${Env}",
            "Fn::Sub: ${AWS::Region}",
            "Fn::Sub: ${Db}",
            "Fn::Sub: ${Db.Arn}",
            "Fn::Sub: ${Ghost}"
        ]
    );
    let errors = eval_err(
        sections,
        json!({"Fn::Sub": "${Names}"}),
        &Context::default(),
    );
    assert_eq!(errors[0].intrinsic, "Fn::Sub");
    assert!(
        errors[0].hint.contains("is a list, not a string"),
        "{}",
        errors[0].hint
    );
}

// --- Fn::Join, Fn::Select, Fn::Split -------------------------------------------------------

#[test]
fn join_select_and_split() {
    let none = Context::default();
    let e = json!({});
    assert_eq!(
        eval(
            e.clone(),
            json!({"Fn::Join": [":", ["a", 1, true, {"Ref": "AWS::NoValue"}, "b"]]}),
            &none
        )
        .unwrap(),
        "a:1:true:b"
    );
    assert_eq!(
        eval(e.clone(), json!({"Fn::Join": ["", []]}), &none).unwrap(),
        ""
    );
    assert_eq!(
        eval(
            e.clone(),
            json!({"Fn::Select": [1, ["a", "b", "c"]]}),
            &none
        )
        .unwrap(),
        "b"
    );
    assert_eq!(
        eval(
            e.clone(),
            json!({"Fn::Select": ["2", {"Fn::Split": ["/", "x/y/z"]}]}),
            &none
        )
        .unwrap(),
        "z"
    );
    assert_eq!(
        eval(
            e.clone(),
            json!({"Fn::Join": ["-", {"Fn::Split": [",", "a,,b"]}]}),
            &none
        )
        .unwrap(),
        "a--b"
    );
    let errors = eval_err(e.clone(), json!({"Fn::Select": [3, ["a", "b"]]}), &none);
    assert_eq!(errors[0].intrinsic, "Fn::Select");
    assert!(
        errors[0]
            .hint
            .contains("index 3 is out of range for a list of 2")
    );
    let errors = eval_err(e.clone(), json!({"Fn::Join": ["", "not-a-list"]}), &none);
    assert_eq!(errors[0].intrinsic, "Fn::Join");
    assert!(errors[0].hint.starts_with("malformed Fn::Join"));
    let errors = eval_err(e, json!({"Fn::Select": [-1, ["a"]]}), &none);
    assert!(errors[0].hint.contains("not a non-negative integer"));
}

#[test]
fn join_reports_every_unresolvable_piece() {
    let errors = eval_err(
        json!({"Parameters": {"A": {"Type": "String"}, "B": {"Type": "String"}}}),
        json!({"Fn::Join": ["/", [{"Ref": "A"}, "literal", {"Fn::Join": ["", [{"Ref": "B"}]]}]]}),
        &Context::default(),
    );
    assert_eq!(
        errors,
        vec![
            u(VALUE_PATH, "Ref: A", "pass --parameter A=VALUE"),
            u(VALUE_PATH, "Ref: B", "pass --parameter B=VALUE"),
        ]
    );
}

// --- Fn::If and Conditions -----------------------------------------------------------------

fn conditions() -> Value {
    json!({
        "Parameters": {
            "Env": {"Type": "String", "Default": "prod"},
            "Unknown": {"Type": "String"}
        },
        "Conditions": {
            "IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]},
            "IsDev": {"Fn::Not": [{"Condition": "IsProd"}]},
            "Both": {"Fn::And": [{"Condition": "IsProd"}, {"Fn::Equals": ["1", 1]}]},
            "Either": {"Fn::Or": [{"Condition": "IsDev"}, {"Fn::Equals": [true, "true"]}]},
            "UnknownIsX": {"Fn::Equals": [{"Ref": "Unknown"}, "x"]},
            "ProdOrUnknown": {"Fn::Or": [{"Condition": "IsProd"}, {"Condition": "UnknownIsX"}]},
            "DevAndUnknown": {"Fn::And": [{"Condition": "IsDev"}, {"Condition": "UnknownIsX"}]},
            "ProdAndUnknown": {"Fn::And": [{"Condition": "IsProd"}, {"Condition": "UnknownIsX"}]},
            "Loop": {"Fn::Not": [{"Condition": "Loop"}]}
        }
    })
}

fn when(condition: &str) -> Value {
    json!({"Fn::If": [condition, "yes", "no"]})
}

#[test]
fn if_follows_the_conditions() {
    let none = Context::default();
    assert_eq!(eval(conditions(), when("IsProd"), &none).unwrap(), "yes");
    assert_eq!(eval(conditions(), when("IsDev"), &none).unwrap(), "no");
    assert_eq!(eval(conditions(), when("Both"), &none).unwrap(), "yes");
    assert_eq!(eval(conditions(), when("Either"), &none).unwrap(), "yes");
    let dev = Context {
        parameters: params(&[("Env", "dev")]),
        ..Context::default()
    };
    assert_eq!(eval(conditions(), when("IsProd"), &dev).unwrap(), "no");
    assert_eq!(eval(conditions(), when("IsDev"), &dev).unwrap(), "yes");
}

#[test]
fn a_known_operand_decides_and_or_without_the_unknown_one() {
    let none = Context::default();
    assert_eq!(
        eval(conditions(), when("ProdOrUnknown"), &none).unwrap(),
        "yes"
    );
    assert_eq!(
        eval(conditions(), when("DevAndUnknown"), &none).unwrap(),
        "no"
    );
    assert_eq!(
        eval_err(conditions(), when("ProdAndUnknown"), &none),
        vec![u(
            VALUE_PATH,
            "Ref: Unknown",
            "pass --parameter Unknown=VALUE"
        )]
    );
}

#[test]
fn only_the_chosen_branch_is_evaluated() {
    let v = json!({"Fn::If": ["IsProd", "fine", {"Ref": "Unknown"}]});
    assert_eq!(eval(conditions(), v, &Context::default()).unwrap(), "fine");
}

#[test]
fn broken_conditions_are_reported() {
    let none = Context::default();
    assert_eq!(
        eval_err(conditions(), when("Nope"), &none),
        vec![u(
            VALUE_PATH,
            "Condition: Nope",
            "the template has no condition of that name"
        )]
    );
    let errors = eval_err(conditions(), when("Loop"), &none);
    assert_eq!(errors[0].intrinsic, "Condition: Loop");
    assert!(errors[0].hint.contains("refers to itself"));
    let errors = eval_err(conditions(), json!({"Fn::If": ["IsProd", "a"]}), &none);
    assert_eq!(errors[0].intrinsic, "Fn::If");
}

#[test]
fn if_chooses_whole_lists_and_entries() {
    let t = parse(
        r#"{"Conditions": {"On": {"Fn::Equals": ["a", "a"]}},
            "Resources": {"T": {"Type": "AWS::ECS::TaskDefinition", "Properties": {
              "ContainerDefinitions": {"Fn::If": ["On",
                [{"Name": "app",
                  "Image": {"Fn::GetAtt": ["Repo", "RepositoryUri"]},
                  "Secrets": {"Fn::If": ["On",
                      [{"Name": "S", "ValueFrom": "/p"},
                       {"Fn::If": ["On", {"Ref": "AWS::NoValue"}, {"Name": "X", "ValueFrom": "/x"}]}],
                      {"Ref": "AWS::NoValue"}]}}],
                []]}}}}}"#,
    )
    .unwrap();
    assert_eq!(
        resolved(&t, &Context::default()),
        json!({"containerDefinitions": [{"name": "app",
            "secrets": [{"name": "S", "valueFrom": "/p"}]}]})
    );
}

// --- Fn::FindInMap, Fn::ImportValue, others -------------------------------------------------

#[test]
fn find_in_map_looks_up_mappings() {
    let sections = json!({
        "Parameters": {"Env": {"Type": "String", "Default": "prod"}},
        "Mappings": {"Config": {"prod": {"Level": "warn", "Count": 3}}}
    });
    let none = Context::default();
    assert_eq!(
        eval(
            sections.clone(),
            json!({"Fn::FindInMap": ["Config", {"Ref": "Env"}, "Level"]}),
            &none
        )
        .unwrap(),
        "warn"
    );
    assert_eq!(
        eval(
            sections.clone(),
            json!({"Fn::FindInMap": ["Config", "prod", "Count"]}),
            &none
        )
        .unwrap(),
        "3"
    );
    assert_eq!(
        eval(
            sections.clone(),
            json!({"Fn::FindInMap": ["Config", "dev", "Level", {"DefaultValue": "info"}]}),
            &none
        )
        .unwrap(),
        "info"
    );
    assert_eq!(
        eval_err(
            sections,
            json!({"Fn::FindInMap": ["Config", "dev", "Level"]}),
            &none
        ),
        vec![u(
            VALUE_PATH,
            "Fn::FindInMap: [Config, dev, Level]",
            "the template's Mappings have no such entry"
        )]
    );
}

#[test]
fn import_value_is_unresolved_unless_given_as_a_parameter() {
    let v = json!({"Fn::ImportValue": {"Fn::Sub": "${AWS::Region}-DbSecretArn"}});
    let errors = eval_err(json!({}), v.clone(), &ctx("eu-west-1"));
    assert_eq!(
        errors,
        vec![u(
            VALUE_PATH,
            "Fn::ImportValue: eu-west-1-DbSecretArn",
            "Fn::ImportValue is not supported; pass the export's value with --parameter \
             eu-west-1-DbSecretArn=VALUE"
        )]
    );
    let given = Context {
        parameters: params(&[("eu-west-1-DbSecretArn", "arn:x")]),
        ..ctx("eu-west-1")
    };
    assert_eq!(eval(json!({}), v.clone(), &given).unwrap(), "arn:x");
    // When the export name itself cannot be worked out, that is what is reported.
    assert_eq!(
        eval_err(json!({}), v, &Context::default())[0].intrinsic,
        "Fn::Sub: ${AWS::Region}"
    );
}

#[test]
fn base64_length_and_unsupported_functions() {
    let none = Context::default();
    for (text, encoded) in [
        ("", ""),
        ("f", "Zg=="),
        ("fo", "Zm8="),
        ("foo", "Zm9v"),
        ("foob", "Zm9vYg=="),
    ] {
        assert_eq!(
            eval(json!({}), json!({"Fn::Base64": text}), &none).unwrap(),
            encoded
        );
    }
    assert_eq!(
        eval(json!({}), json!({"Fn::Length": ["a", "b"]}), &none).unwrap(),
        "2"
    );
    let errors = eval_err(
        json!({}),
        json!({"Fn::Select": [0, {"Fn::GetAZs": ""}]}),
        &none,
    );
    assert_eq!(errors[0].intrinsic, "Fn::GetAZs");
    assert!(errors[0].hint.starts_with("Fn::GetAZs is not supported"));
}

// --- values and safety ---------------------------------------------------------------------

#[test]
fn numbers_and_booleans_become_strings() {
    let t = parse(
        r#"{"Resources": {"T": {"Type": "AWS::ECS::TaskDefinition", "Properties": {
            "ContainerDefinitions": [{"Name": 7, "Environment": [
              {"Name": "PORT", "Value": 5432},
              {"Name": "VERSION", "Value": 1.10},
              {"Name": "BIG", "Value": 123456789012345678901234567890},
              {"Name": "ON", "Value": false}]}]}}}}"#,
    )
    .unwrap();
    assert_eq!(
        resolved(&t, &Context::default()),
        json!({"containerDefinitions": [{"name": "7", "environment": [
            {"name": "PORT", "value": "5432"},
            {"name": "VERSION", "value": "1.10"},
            {"name": "BIG", "value": "123456789012345678901234567890"},
            {"name": "ON", "value": "false"}]}]})
    );
    let t = parse(
        "Resources:\n  T:\n    Type: AWS::ECS::TaskDefinition\n    Properties:\n      \
         ContainerDefinitions:\n        - Name: app\n          Environment:\n            \
         - {Name: PORT, Value: 5432}\n            - {Name: ON, Value: true}\n            \
         - {Name: QUOTED, Value: '007'}\n",
    )
    .unwrap();
    assert_eq!(
        resolved(&t, &Context::default())["containerDefinitions"][0]["environment"],
        json!([{"name": "PORT", "value": "5432"}, {"name": "ON", "value": "true"},
               {"name": "QUOTED", "value": "007"}])
    );
}

#[test]
fn all_containers_and_fields_are_reported_together() {
    let t = parse(
        r#"{"Parameters": {"A": {"Type": "String"}},
            "Resources": {"T": {"Type": "AWS::ECS::TaskDefinition", "Properties": {
              "Family": {"Ref": "A"},
              "ContainerDefinitions": [
                {"Name": {"Ref": "A"}, "Environment": [{"Name": "X", "Value": {"Ref": "A"}}]},
                {"Name": "two", "EnvironmentFiles": [{"Value": {"Fn::ImportValue": "bucket"}, "Type": "s3"}]}]}}}}"#,
    )
    .unwrap();
    let all = Context {
        wanted: crate::taskdef::Wanted {
            all_containers: true,
            ..Default::default()
        },
        ..Context::default()
    };
    let paths: Vec<String> = unresolved(&t, &all)
        .into_iter()
        .map(|e| e.path.replace("$.Resources.T.Properties.", ""))
        .collect();
    assert_eq!(
        paths,
        [
            // Family is best effort: an unresolvable one is left out, not reported.
            "ContainerDefinitions[0].Name",
            "ContainerDefinitions[0].Environment[0].Value",
            "ContainerDefinitions[1].EnvironmentFiles[0].Value"
        ]
    );
}

#[test]
fn errors_never_show_template_values() {
    // Literal values sit next to every kind of failing expression; no report may show them.
    let secret = "hunter2";
    let t = parse(&format!(
        r#"{{"Parameters": {{"P": {{"Type": "String"}},
                            "Ssm": {{"Type": "AWS::SSM::Parameter::Value<String>", "Default": "/{secret}/name"}}}},
            "Mappings": {{"M": {{"k": {{"v": "{secret}-mapped"}}}}}},
            "Conditions": {{"C": {{"Fn::Equals": [{{"Ref": "P"}}, "{secret}"]}}}},
            "Resources": {{
              "Db": {{"Type": "AWS::RDS::DBInstance", "Properties": {{"MasterUserPassword": "{secret}"}}}},
              "T": {{"Type": "AWS::ECS::TaskDefinition", "Properties": {{
                "ContainerDefinitions": [{{"Name": "app", "Environment": [
                  {{"Name": "A", "Value": {{"Fn::Join": ["{secret}", [{{"Ref": "P"}}, "{secret}"]]}}}},
                  {{"Name": "B", "Value": {{"Fn::Sub": "{secret}${{P}}{secret}${{Db.Endpoint}}"}}}},
                  {{"Name": "C", "Value": {{"Fn::If": ["C", "{secret}", "{secret}"]}}}},
                  {{"Name": "D", "Value": {{"Fn::Select": [9, ["{secret}"]]}}}},
                  {{"Name": "E", "Value": {{"Fn::FindInMap": ["M", "k", "missing"]}}}},
                  {{"Name": "F", "Value": {{"Ref": "Ssm"}}}},
                  {{"Name": "G", "Value": {{"Fn::Join": ["", "{secret}"]}}}},
                  {{"Name": "H", "Value": {{"Fn::Cidr": ["{secret}", 1, 1]}}}},
                  {{"Name": "I", "Value": "{secret}"}}
                ]}}]}}}}}}}}"#
    ))
    .unwrap();
    let errors = unresolved(&t, &Context::default());
    assert_eq!(errors.len(), 9, "{errors:#?}");
    for e in &errors {
        let shown = format!("{e} {e:?}");
        assert!(!shown.contains(secret), "{shown}");
    }
    assert!(!format!("{t:?}").contains(secret));
}

#[test]
fn unresolved_displays_path_expression_and_hint() {
    let e = u(VALUE_PATH, "Ref: Env", "pass --parameter Env=VALUE");
    assert_eq!(
        e.to_string(),
        format!("at `{VALUE_PATH}`: cannot resolve `Ref: Env`: pass --parameter Env=VALUE")
    );
}

#[test]
fn a_parameter_the_template_does_not_use_is_an_error_not_ignored() {
    let sections = json!({"Parameters": {"Env": {"Type": "String", "Default": "prod"}}});
    let template = with_value(
        sections,
        json!({"Fn::Join": ["-", [{"Ref": "Env"}, {"Fn::ImportValue": "shared-Url"}]]}),
    );
    // A declared parameter and an imported export are both used.
    let ctx = Context {
        parameters: params(&[("Env", "dev"), ("shared-Url", "u")]),
        ..Context::default()
    };
    let td = resolved(&template, &ctx);
    assert_eq!(
        td["containerDefinitions"][0]["environment"][0]["value"],
        "dev-u"
    );

    // A typo would leave the default in place: it is refused, with the real names.
    let ctx = Context {
        parameters: params(&[("Envv", "dev"), ("shared-Url", "u")]),
        ..Context::default()
    };
    let err = template.task_definition(None, &ctx).unwrap_err();
    assert_eq!(
        err,
        TemplateError::UnknownParameters {
            unknown: vec!["Envv".to_owned()],
            declared: vec!["Env".to_owned()],
        }
    );
    assert_eq!(
        err.to_string(),
        "--parameter `Envv`: not a parameter of the template, nor an export that its task \
         definition imports with Fn::ImportValue; did you mean `Env`?"
    );
}

#[test]
fn log_and_registry_secrets_are_read_and_never_stop_a_run() {
    let template = parse(
        r#"
Resources:
  Task:
    Type: AWS::ECS::TaskDefinition
    Properties:
      ContainerDefinitions:
        - Name: app
          Environment: [{Name: A, Value: "1"}]
          RepositoryCredentials:
            CredentialsParameter: !Sub "arn:aws:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:registry-AbCdEf"
          LogConfiguration:
            LogDriver: splunk
            SecretOptions:
              - Name: splunk-token
                ValueFrom: !Sub "/${AWS::Region}/splunk"
              - Name: other
                ValueFrom: !ImportValue shared-log-secret
        - Name: sidecar
          RepositoryCredentials:
            CredentialsParameter: !ImportValue registry-secret
"#,
    )
    .unwrap();
    let td = resolved(&template, &ctx("eu-west-1"));
    let app = &td["containerDefinitions"][0];
    assert_eq!(
        app["repositoryCredentials"]["credentialsParameter"],
        "arn:aws:secretsmanager:eu-west-1:123456789012:secret:registry-AbCdEf"
    );
    assert_eq!(
        app["logConfiguration"]["secretOptions"],
        json!([
            {"name": "splunk-token", "valueFrom": "/eu-west-1/splunk"},
            {"name": "other", "valueFrom": UNRESOLVED},
        ])
    );
    // An import only a deployed stack resolves is kept as a marker, not an error.
    assert_eq!(
        td["containerDefinitions"][1]["repositoryCredentials"]["credentialsParameter"],
        UNRESOLVED
    );
}

/// A Copilot-style task: the app's database host is imported from another stack, and so is
/// everything the log router sidecar uses.
const WITH_SIDECAR: &str = r#"
Resources:
  TaskDefinition:
    Type: AWS::ECS::TaskDefinition
    Properties:
      ContainerDefinitions:
        - Name: app
          Environment:
            - Name: COPILOT_ENVIRONMENT_NAME
              Value: test
            - Name: DB_HOST
              Value: !ImportValue test-db-host
          Secrets:
            - Name: DB_PASSWORD
              ValueFrom: !ImportValue test-db-secret
        - Name: firelens_log_router
          Environment:
            - Name: REGION
              Value: !ImportValue test-log-region
          Secrets:
            - Name: LOG_TOKEN
              ValueFrom: !Sub "arn:aws:ssm:${AWS::Region}:${AWS::AccountId}:parameter/${LogTokenName}"
"#;

#[test]
fn only_the_chosen_containers_environment_must_resolve() {
    let t = parse(WITH_SIDECAR).unwrap();
    let c = "$.Resources.TaskDefinition.Properties.ContainerDefinitions";
    let paths = |ctx: &Context| -> Vec<String> {
        unresolved(&t, ctx).into_iter().map(|u| u.path).collect()
    };
    // The app's two imports; nothing of the sidecar's.
    assert_eq!(
        paths(&wanting(Some("app"), &[])),
        [
            format!("{c}[0].Environment[1].Value"),
            format!("{c}[0].Secrets[0].ValueFrom")
        ]
    );
    // Overridden, they are never evaluated; the sidecar's unknowns are marked unresolved.
    let done = resolved(&t, &wanting(Some("app"), &["DB_HOST", "DB_PASSWORD"]));
    let app = &done["containerDefinitions"][0];
    assert_eq!(
        app["environment"][1],
        json!({"name": "DB_HOST", "value": ""})
    );
    assert_eq!(
        app["secrets"][0],
        json!({"name": "DB_PASSWORD", "valueFrom": crate::taskdef::OVERRIDDEN})
    );
    let sidecar = &done["containerDefinitions"][1];
    assert_eq!(sidecar["environment"][0]["value"], UNRESOLVED);
    assert_eq!(sidecar["secrets"][0]["valueFrom"], UNRESOLVED);
    // The sidecar chosen: its own unknowns, not the app's.
    assert_eq!(
        paths(&wanting(Some("firelens_log_router"), &[])),
        [
            format!("{c}[1].Environment[0].Value"),
            format!("{c}[1].Secrets[0].ValueFrom")
        ]
    );
}

#[test]
fn an_unknown_container_name_blocks_only_the_choice_it_could_change() {
    let t = parse(
        r#"{"Parameters": {"Svc": {"Type": "String"}},
            "Resources": {"T": {"Type": "AWS::ECS::TaskDefinition", "Properties": {
              "ContainerDefinitions": [
                {"Name": "app", "Environment": [{"Name": "A", "Value": "1"}]},
                {"Name": {"Fn::Sub": "${Svc}-agent"}, "Environment": [{"Name": "B", "Value": {"Ref": "Svc"}}]}]}}}}"#,
    )
    .unwrap();
    let done = resolved(&t, &wanting(Some("app"), &[]));
    assert_eq!(done["containerDefinitions"][1]["name"], UNRESOLVED);
    for choice in [Some("web-agent"), None] {
        let paths: Vec<String> = unresolved(&t, &wanting(choice, &[]))
            .into_iter()
            .map(|u| u.path.replace("$.Resources.T.Properties.", ""))
            .collect();
        assert_eq!(paths, ["ContainerDefinitions[1].Name"]);
    }
}

#[test]
fn a_misspelt_key_is_named_where_it_is_written() {
    let t = parse(
        "Resources:\n  Task:\n    Type: AWS::ECS::TaskDefinition\n    Properties:\n      \
         ContainerDefinitions:\n        - Name: app\n          Secrets:\n            \
         - Name: DB\n              ValueFRom: arn:aws:ssm:us-east-1:123456789012:parameter/db\n            \
         - Name: OTHER\n              Source: x\n",
    )
    .unwrap();
    let found = unresolved(&t, &wanting(Some("app"), &[]));
    let c = "$.Resources.Task.Properties.ContainerDefinitions[0]";
    assert_eq!(found.len(), 2, "{found:#?}");
    assert_eq!(found[0].path, format!("{c}.Secrets[0].ValueFRom"));
    assert_eq!(
        found[0].message(),
        "`ValueFRom` is not a key CloudFormation accepts here"
    );
    assert_eq!(
        found[0].hint,
        "did you mean `ValueFrom`? (keys are case-sensitive)"
    );
    assert_eq!(found[1].hint, "the keys here are `Name` and `ValueFrom`");
}

#[test]
fn an_unknown_parameter_gets_a_guess_not_every_name() {
    let declared: String = (0..30)
        .map(|i| format!("\"P{i}\": {{\"Type\": \"String\", \"Default\": \"x\"}},"))
        .collect();
    let t = parse(&format!(
        r#"{{"Parameters": {{{declared} "DatabaseHost": {{"Type": "String"}}}},
            "Resources": {{"T": {{"Type": "AWS::ECS::TaskDefinition", "Properties": {{
              "ContainerDefinitions": [{{"Name": "app", "Environment": [{{"Name": "H", "Value": {{"Ref": "DatabaseHost"}}}}]}}]}}}}}}}}"#
    ))
    .unwrap();
    let mut ctx = wanting(Some("app"), &[]);
    ctx.parameters = params(&[("DatabaseHost", "db"), ("DatabseHost", "db")]);
    let e = t.task_definition(None, &ctx).unwrap_err().to_string();
    assert!(e.contains("did you mean `DatabaseHost`?"), "{e}");
    ctx.parameters = params(&[("DatabaseHost", "db"), ("Zzz", "db")]);
    let e = t.task_definition(None, &ctx).unwrap_err().to_string();
    assert!(e.contains("it has 31 parameters, among them"), "{e}");
    assert!(!e.contains("P29"), "{e}");
}
