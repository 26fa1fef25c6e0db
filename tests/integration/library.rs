//! The library (`ecs_env::Resolver`) against the same emulator as the binary: it resolves
//! what the CLI resolves, fails with the same report, never hands back a partial
//! environment, never shows a value in `Debug` or `Display`, and offline opens no socket.
//!
//! `library_matches_cli` is also run for every conformance vector (`vectors.rs`).

use std::collections::BTreeMap;

use aws_config::{BehaviorVersion, Region, SdkConfig};

use crate::emulator::{emulator, unique};
use crate::util::{ecs_env, empty_dir, task_definition};

const REGION: &str = "us-east-1";
const CANARY: &str = "CANARY-library-93c1e7";

/// A configuration for an endpoint, with the emulator's static credentials.
pub fn sdk_config(endpoint: &str, region: &str) -> SdkConfig {
    let creds = aws_credential_types::Credentials::new("testing", "testing", None, None, "tests");
    emulator().block_on(
        aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(region.to_owned()))
            .endpoint_url(endpoint)
            .credentials_provider(creds)
            .load(),
    )
}

/// The library's result for `td` equals the CLI's: `export --format json --reveal` on
/// success; on failure, the CLI's stderr holds the library's whole report.
pub fn library_matches_cli(td: &str, endpoint: &str, region: &str) -> Result<(), String> {
    let doc: serde_json::Value = serde_json::from_str(td).unwrap();
    let library = ecs_env::Resolver::from_json(doc)
        .sdk_config(sdk_config(endpoint, region))
        .region(region)
        .resolve_blocking();
    let cli = ecs_env()
        .env_remove("AWS_REGION")
        .env("AWS_ENDPOINT_URL", endpoint)
        .arg("export")
        .task_definition(td)
        .args(["--format", "json", "--reveal", "--region", region])
        .output();
    match library {
        Ok(env) => {
            if cli.code() != Some(0) {
                return Err(format!(
                    "the library resolved, the CLI did not:\n{}",
                    cli.stderr()
                ));
            }
            let exported = env.export(ecs_env::ExportFormat::Json, true).unwrap();
            if exported.body != cli.stdout().as_bytes() {
                return Err("the library's JSON export differs from the CLI's".to_owned());
            }
            let from_cli: BTreeMap<String, String> = serde_json::from_str(&cli.stdout()).unwrap();
            let from_library: BTreeMap<String, String> = env.pairs().into_iter().collect();
            if from_cli != from_library {
                return Err(format!(
                    "the library's variables differ from the CLI's:\nlibrary {:?}\ncli     {:?}",
                    from_library.keys(),
                    from_cli.keys()
                ));
            }
        }
        Err(report) => {
            if cli.code() != Some(125) {
                return Err(format!(
                    "the CLI succeeded, the library reported:\n{report}"
                ));
            }
            same_report(&report, &cli.stderr())?;
        }
    }
    Ok(())
}

/// The CLI's stderr says what the library's report says: the whole list of failures, or,
/// for a failure that is not about one reference, the same message.
pub fn same_report(report: &ecs_env::Report, stderr: &str) -> Result<(), String> {
    let whole = format!("ecs-env: {report}");
    let single = match report.failures() {
        [one] => Some(format!("ecs-env: {}\n", one.message)),
        _ => None,
    };
    if stderr.contains(&whole) || single.is_some_and(|s| stderr.contains(&s)) {
        Ok(())
    } else {
        Err(format!(
            "the CLI's report differs from the library's:\nlibrary:\n{whole}\ncli:\n{stderr}"
        ))
    }
}

/// What a harness does: resolve, then start its command with the result.
#[test]
fn a_harness_resolves_and_starts_its_command() {
    let e = emulator();
    let arn = e.create_secret(
        REGION,
        &unique("lib/db"),
        r#"{"password":"pw-1","user":"app"}"#,
    );
    let param = format!("/{}/api-key", unique("lib"));
    e.put_parameter(REGION, &param, "key-1", true);
    let td = task_definition(
        &[("APP_MODE", "test")],
        &[
            ("DB_PASSWORD", &format!("{arn}:password::")),
            ("API_KEY", &param),
            ("LOCAL_ONLY", "/not/fetched/because/overridden"),
        ],
    );
    let env = ecs_env::Resolver::from_json(serde_json::from_str(&td).unwrap())
        .container("app")
        .override_var("LOCAL_ONLY", "local")
        .sdk_config(sdk_config(&e.endpoint, REGION))
        .resolve_blocking()
        .unwrap();
    let names: Vec<&str> = env.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "API_KEY",
            "APP_MODE",
            "AWS_DEFAULT_REGION",
            "AWS_REGION",
            "DB_PASSWORD",
            "LOCAL_ONLY"
        ]
    );
    assert_eq!(env.get("DB_PASSWORD").unwrap().expose(), "pw-1");
    assert_eq!(env.get("API_KEY").unwrap().expose(), "key-1");
    assert_eq!(env.get("AWS_REGION").unwrap().expose(), REGION);
    assert!(
        env.iter()
            .any(|v| v.name == "DB_PASSWORD" && v.origin == ecs_env::Origin::Secret)
    );

    let mut cmd = std::process::Command::new("sh");
    cmd.args([
        "-c",
        "printf '%s|%s|%s' \"$DB_PASSWORD\" \"$API_KEY\" \"$LOCAL_ONLY\"",
    ]);
    let out = env.apply_to(&mut cmd).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "pw-1|key-1|local");

    // Async, inside a harness's own runtime, on a task of its own: `tokio::spawn` needs the
    // future to be `Send`.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let resolver = ecs_env::Resolver::from_json(serde_json::from_str(&td).unwrap())
        .override_var("LOCAL_ONLY", "local")
        .sdk_config(sdk_config(&e.endpoint, REGION));
    let again = rt
        .block_on(async move { tokio::spawn(async move { resolver.resolve().await }).await })
        .unwrap()
        .unwrap();
    assert_eq!(again.pairs(), env.pairs());
    // Inheriting: a task value overrides an inherited one, and an inherited AWS_REGION is not
    // replaced by the injected one (ECS's rule for the image's ENV).
    let merged = ecs_env::Resolver::from_json(serde_json::from_str(&td).unwrap())
        .override_var("LOCAL_ONLY", "local")
        .inherit([("APP_MODE", "inherited"), ("AWS_REGION", "eu-west-1")])
        .sdk_config(sdk_config(&e.endpoint, REGION))
        .resolve_blocking()
        .unwrap();
    assert_eq!(merged.get("APP_MODE").unwrap().expose(), "test");
    assert!(
        merged.get("AWS_REGION").is_none(),
        "inherited, so not injected"
    );
    // The same through the CLI.
    library_matches_cli(
        &td.replace("/not/fetched/because/overridden", &param),
        &e.endpoint,
        REGION,
    )
    .unwrap();
}

/// On any failure: the whole report, each failure named, and no environment at all.
#[test]
fn a_failure_is_the_whole_report() {
    let e = emulator();
    let good = e.create_secret(REGION, &unique("lib/good"), "fine");
    let missing = format!(
        "arn:aws:secretsmanager:{REGION}:123456789012:secret:{}-AbCdEf",
        unique("lib/none")
    );
    let param = format!("/{}/none", unique("lib"));
    let td = task_definition(
        &[],
        &[
            ("GOOD", &good),
            ("NO_SECRET", &missing),
            ("NO_PARAM", &param),
        ],
    );
    let report = ecs_env::Resolver::from_json(serde_json::from_str(&td).unwrap())
        .sdk_config(sdk_config(&e.endpoint, REGION))
        .resolve_blocking()
        .unwrap_err();
    let failed: Vec<(&str, &str)> = report
        .failures()
        .iter()
        .map(|f| (f.variable.as_deref().unwrap(), f.class.name()))
        .collect();
    assert_eq!(
        failed,
        [
            ("NO_SECRET", "asm_not_found"),
            ("NO_PARAM", "ssm_invalid_parameters")
        ]
    );
    assert!(
        report
            .to_string()
            .starts_with("2 problems; the command was not started\n")
    );
    library_matches_cli(&td, &e.endpoint, REGION).unwrap();

    // Failures before any fetch (a bad reference, a missing file) come as a report too.
    let bad = task_definition(&[], &[("BAD", "arn:aws:secretsmanager:us-east-1:1:secret")]);
    let report = ecs_env::Resolver::from_json(serde_json::from_str(&bad).unwrap())
        .offline()
        .resolve_blocking()
        .unwrap_err();
    assert_eq!(report.failures()[0].variable.as_deref(), Some("BAD"));
    let report = ecs_env::Resolver::from_path(empty_dir().join("none.json"))
        .offline()
        .resolve_blocking()
        .unwrap_err();
    assert_eq!(
        report.failures()[0].class,
        ecs_env::Class::ReadTaskDefinition
    );
}

/// A canary value passed through the library appears in no `Debug`, `Display` or error text.
#[test]
fn values_never_show_in_debug_or_display() {
    let e = emulator();
    let arn = e.create_secret(
        REGION,
        &unique("lib/canary"),
        &format!(r#"{{"k":"{CANARY}"}}"#),
    );
    let plain = e.create_secret(REGION, &unique("lib/canary-plain"), CANARY);
    let td = task_definition(&[], &[("K", &format!("{arn}:k::")), ("P", &plain)]);
    let resolver = ecs_env::Resolver::from_json(serde_json::from_str(&td).unwrap())
        .env("O", "placeholder")
        .override_var("O", CANARY)
        .sdk_config(sdk_config(&e.endpoint, REGION));
    assert!(!format!("{resolver:?}").contains(CANARY));
    let env = resolver.resolve_blocking().unwrap();
    assert_eq!(env.get("K").unwrap().expose(), CANARY);
    let shown = format!(
        "{env:?} {:?} {:?}",
        env.iter().collect::<Vec<_>>(),
        env.get("P")
    );
    assert!(!shown.contains(CANARY), "{shown}");

    // Failures built from secrets: a missing key, a non-JSON secret with a key.
    let td = task_definition(
        &[],
        &[
            ("A", &format!("{arn}:nope::")),
            ("B", &format!("{plain}:k::")),
        ],
    );
    let report = ecs_env::Resolver::from_json(serde_json::from_str(&td).unwrap())
        .sdk_config(sdk_config(&e.endpoint, REGION))
        .resolve_blocking()
        .unwrap_err();
    let shown = format!("{report} {report:?}");
    assert_eq!(report.failures().len(), 2, "{shown}");
    assert!(!shown.contains(CANARY), "{shown}");
}

/// Offline opens no socket: a listener that would see any connection sees none, and only
/// what needs no fetch resolves.
#[test]
fn offline_opens_no_socket() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let td = task_definition(&[("A", "1")], &[("S", "/some/param"), ("T", "/other")]);
    let resolve = |overrides: &[(&str, &str)]| {
        let mut r = ecs_env::Resolver::from_json(serde_json::from_str(&td).unwrap())
            .sdk_config(sdk_config(&endpoint, REGION))
            .offline();
        for (k, v) in overrides {
            r = r.override_var(*k, *v);
        }
        r.resolve_blocking()
    };
    let report = resolve(&[("S", "x")]).unwrap_err();
    assert_eq!(report.failures().len(), 1, "{report}");
    assert!(report.to_string().contains("offline"), "{report}");
    let env = resolve(&[("S", "x"), ("T", "y")]).unwrap();
    assert_eq!(env.get("T").unwrap().expose(), "y");
    let report = ecs_env::Resolver::deployed("family:1")
        .sdk_config(sdk_config(&endpoint, REGION))
        .offline()
        .resolve_blocking()
        .unwrap_err();
    assert!(report.to_string().contains("offline"), "{report}");
    assert!(
        matches!(listener.accept(), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "offline mode connected"
    );
}

/// docs/library.md's nextest setup script, run by the real cargo-nextest on a scratch crate
/// whose test asserts it sees the secret's value.
#[test]
fn a_nextest_setup_script_hands_values_to_the_tests() {
    let e = emulator();
    let value = "it's \"$ecret\" = x";
    let arn = e.create_secret(REGION, &unique("lib/nextest"), value);
    let dir = empty_dir();
    let files = [
        ("Cargo.toml", "[package]\nname = \"harness\"\nversion = \"0.1.0\"\nedition = \"2021\"\n".to_owned()),
        ("src/lib.rs", String::new()),
        (
            "tests/env.rs",
            format!(
                "#[test]\nfn sees_the_secret() {{\n    assert_eq!(std::env::var(\"DB_PASSWORD\").unwrap(), {value:?});\n}}\n"
            ),
        ),
        (
            ".config/nextest.toml",
            r#"experimental = ["setup-scripts"]

[scripts.setup.ecs-env]
command = ["sh", "-c", "ecs-env export -f task-definition.json --format nextest --reveal >> \"$NEXTEST_ENV\""]

[[profile.default.scripts]]
filter = "all()"
setup = "ecs-env"
"#
            .to_owned(),
        ),
        ("task-definition.json", task_definition(&[], &[("DB_PASSWORD", &arn)])),
    ];
    for (path, text) in files {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    let bin_dir = std::path::Path::new(crate::util::BIN).parent().unwrap();
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap());
    let mut cmd = std::process::Command::new("cargo");
    cmd.args(["nextest", "run", "--no-fail-fast"])
        .current_dir(&dir)
        .env_clear()
        .env("PATH", path)
        .env("HOME", std::env::var_os("HOME").unwrap_or_default())
        .env("CARGO_TARGET_DIR", dir.join("target"))
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ENDPOINT_URL", &e.endpoint)
        .env("AWS_REGION", REGION);
    for keep in ["RUSTUP_HOME", "CARGO_HOME", "RUSTUP_TOOLCHAIN"] {
        if let Some(v) = std::env::var_os(keep) {
            cmd.env(keep, v);
        }
    }
    let out = cmd
        .output()
        .expect("cargo nextest (scripts/install-test-tools installs it)");
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{all}");
    assert!(all.contains("1 passed"), "{all}");
}
