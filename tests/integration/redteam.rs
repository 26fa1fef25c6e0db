//! Regression tests for the red-team findings (issue 14), each through the real binary: a
//! hostile configuration, a hostile or ambiguous AWS answer, a fatal signal while values are
//! in memory. Each test failed before its fix.

use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::emulator::{emulator, unique};
use crate::proxy::{Action, Fault, Proxy};
use crate::util::{EcsEnv, ecs_env, ecs_env_offline, empty_dir, task_definition};

const REGION: &str = "us-east-1";
/// Planted in ecs-env's own environment and in a file outside the configuration.
const CANARY: &str = "CANARY-redteam-5b1d0c";

/// A Terraform task definition whose container reads `name` and `value_from` expressions.
fn terraform_reading(name: &str, value_from: &str) -> String {
    format!(
        r#"resource "aws_ecs_task_definition" "app" {{
  family = "app"
  container_definitions = jsonencode([{{
    name        = "app"
    image       = "app:latest"
    environment = [{{ name = {name}, value = "x" }}]
    secrets     = [{{ name = "S", valueFrom = {value_from} }}]
  }}])
}}
"#
    )
}

/// Finding 1: `file()` and friends read only inside the configuration's directories. Before,
/// `check --offline` printed `/proc/self/environ` (with this canary) as a variable name.
#[test]
fn a_configuration_cannot_print_local_files() {
    let root = empty_dir();
    let config = root.join("infra");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(
        root.join("outside.txt"),
        format!("arn:aws:ssm:us-east-1:1:parameter/{CANARY}"),
    )
    .unwrap();
    std::os::unix::fs::symlink(root.join("outside.txt"), config.join("link.txt")).unwrap();
    let cases = [
        ("file(\"/proc/self/environ\")", "\"/p\""),
        ("\"N\"", "file(\"../outside.txt\")"),
        ("\"N\"", "file(\"${path.module}/link.txt\")"),
        ("\"N\"", "templatefile(\"/proc/self/environ\", {})"),
        (
            "fileexists(\"/proc/self/environ\") ? \"A\" : \"B\"",
            "\"/p\"",
        ),
        ("\"N\"", "file(\"/dev/zero\")"),
        ("\"N\"", "join(\",\", fileset(\"..\", \"**\"))"),
        ("\"N\"", "join(\",\", fileset(\"/proc/self\", \"*\"))"),
    ];
    for (name, value_from) in cases {
        std::fs::write(config.join("main.tf"), terraform_reading(name, value_from)).unwrap();
        let marker = empty_dir().join("started");
        let invocations: [&[&str]; 4] = [
            &["check", "--offline"],
            &["check", "--offline", "--format", "json"],
            &["policy", "--offline", "--account", "123456789012"],
            &["run", "--override", "S=x", "--", "touch"],
        ];
        for args in invocations {
            let mut cmd: EcsEnv = ecs_env_offline()
                .env("AWS_REGION", REGION)
                .env("CI_TOKEN", CANARY)
                .arg(args[0])
                .arg("-f")
                .arg(&config)
                .args(&args[1..]);
            if args[0] == "run" {
                cmd = cmd.arg(&marker);
            }
            let run = cmd.output();
            let all = format!("{}{}", run.stdout(), run.stderr());
            assert!(
                !all.contains(CANARY),
                "{name} / {value_from} / {args:?} printed a file:\n{all}"
            );
            assert_eq!(
                run.code(),
                Some(125),
                "{name} / {value_from} / {args:?}:\n{all}"
            );
            assert!(
                all.contains("refused"),
                "{name} / {value_from} / {args:?}:\n{all}"
            );
            assert!(!marker.exists());
        }
    }
    // A file inside the configuration's tree still reads.
    std::fs::write(config.join("name.txt"), "FROM_FILE").unwrap();
    std::fs::write(
        config.join("main.tf"),
        terraform_reading("trimspace(file(\"name.txt\"))", "\"/p\""),
    )
    .unwrap();
    let run = ecs_env_offline()
        .env("AWS_REGION", REGION)
        .arg("-f")
        .arg(&config)
        .args(["--override", "S=x", "--", "env"])
        .output();
    run.assert_code(0);
    assert!(run.stdout().contains("FROM_FILE=x"), "{}", run.stdout());

    // fileset lists only the tree's own files: a linked directory that leads out of it is
    // not walked into, so a file name there (the canary) is never listed.
    let out = root.join("out");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join(format!("{CANARY}.txt")), "x").unwrap();
    std::os::unix::fs::symlink(&out, config.join("outlink")).unwrap();
    std::fs::write(
        config.join("main.tf"),
        terraform_reading(
            "\"N\"",
            "\"/p/${join(\"-\", [for f in fileset(path.module, \"{*,*/*}\") : replace(f, \".\", \"_\")])}\"",
        ),
    )
    .unwrap();
    let run = ecs_env_offline()
        .env("AWS_REGION", REGION)
        .args(["check", "--offline", "-f"])
        .arg(&config)
        .output();
    let all = format!("{}{}", run.stdout(), run.stderr());
    assert!(all.contains("/p/main_tf-name_txt"), "{all}");
    assert!(!all.contains(CANARY), "{all}");
}

/// Finding 2: an SSM reference AWS cannot answer never takes the value of another parameter
/// in the same request. Before, `/aws/reference/secretsmanager/X` (no such secret) took the
/// value of a parameter `X`, and an ARN in another account took the local one's; the child
/// started with exit 0.
#[test]
fn ssm_never_takes_another_parameters_value() {
    let e = emulator();
    let name = unique("shadow");
    e.put_parameter(REGION, &name, "the-parameter", true);
    let foreign = format!("arn:aws:ssm:{REGION}:222222222222:parameter/{name}");
    let reference = format!("/aws/reference/secretsmanager/{name}");
    for (label, wrong) in [("reference", &reference), ("other account", &foreign)] {
        let marker = empty_dir().join("started");
        let run = ecs_env()
            .task_definition(&task_definition(&[], &[("GOOD", &name), ("WRONG", wrong)]))
            .args(["--", "touch"])
            .arg(&marker)
            .output();
        assert_eq!(run.code(), Some(125), "{label}: {}", run.stderr());
        assert!(
            run.stderr().contains(wrong.as_str()),
            "{label}: {}",
            run.stderr()
        );
        assert!(
            !run.stderr().contains("GOOD"),
            "{label}: only WRONG fails: {}",
            run.stderr()
        );
        assert!(!marker.exists(), "{label}: the child started");
    }
    // Both spellings of one parameter still resolve, together.
    let arn = format!("arn:aws:ssm:{REGION}:123456789012:parameter/{name}");
    let env = ecs_env()
        .task_definition(&task_definition(
            &[],
            &[("A", &name), ("B", &arn), ("C", &format!("/{name}"))],
        ))
        .child_env();
    env.assert("A", "the-parameter");
    env.assert("B", "the-parameter");
    env.assert("C", "the-parameter");
}

/// `/proc/PID/limits`' "Max core file size" soft limit.
fn core_limit(pid: u32) -> String {
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).unwrap();
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max core file size"))
        .unwrap()
        .to_owned();
    line.split_whitespace().nth(4).unwrap().to_owned()
}

/// Runs `cmd` with cores enabled (soft limit unlimited), in a fresh working directory.
fn with_cores(cmd: &mut EcsEnv, cwd: &Path) {
    use std::os::unix::process::CommandExt;
    let c = cmd.command();
    c.current_dir(cwd)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // SAFETY: setrlimit is async-signal-safe and the closure allocates nothing.
    #[allow(unsafe_code)]
    unsafe {
        c.pre_exec(|| {
            let (_, hard) =
                nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_CORE)?;
            nix::sys::resource::setrlimit(nix::sys::resource::Resource::RLIMIT_CORE, hard, hard)?;
            Ok(())
        });
    }
}

/// Finding 3: a fatal signal while values are in memory writes no core. Before, SIGQUIT
/// during a fetch and SIGABRT to the `--watch` supervisor dumped core in the working
/// directory. The command still gets the core limit ecs-env was given.
#[test]
fn no_core_dump_holds_values() {
    // During a fetch: the request hangs, and SIGQUIT arrives.
    let e = emulator();
    let arn = e.create_secret(REGION, &unique("core/s"), CANARY);
    let name = arn.rsplit(':').next().unwrap().to_owned();
    let proxy = Proxy::start(
        &e.endpoint,
        vec![Fault {
            api: "GetSecretValue",
            needle: name,
            action: Action::Hang,
            ..Default::default()
        }],
    );
    let cwd = empty_dir();
    let mut cmd = ecs_env().env("AWS_ENDPOINT_URL", &proxy.endpoint).args([
        "--no-batch",
        "--secret",
        &format!("S={arn}"),
        "--",
        "true",
    ]);
    with_cores(&mut cmd, &cwd);
    let mut child = cmd.command().spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while proxy.calls("GetSecretValue").is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(core_limit(child.id()), "0");
    kill(Pid::from_raw(child.id() as i32), Signal::SIGQUIT).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(
        status.signal(),
        Some(Signal::SIGQUIT as i32),
        "{status:?}; the proxy saw {} GetSecretValue calls",
        proxy.calls("GetSecretValue").len()
    );
    assert!(!status.core_dumped(), "a core was dumped during the fetch");
    assert_eq!(
        std::fs::read_dir(&cwd).unwrap().count(),
        0,
        "a file appeared in the working directory"
    );

    // The --watch supervisor holds values for its whole life; its child gets the limit back.
    let plain = e.create_secret(REGION, &unique("core/w"), CANARY);
    let cwd = empty_dir();
    let limit_file = cwd.join("child-limit");
    let pid_file = empty_dir().join("pid");
    let mut cmd = ecs_env()
        .args([
            "--watch=60s",
            "--secret",
            &format!("S={plain}"),
            "--",
            "sh",
            "-c",
        ])
        .arg(format!(
            "echo $$ > {}; ulimit -c > {}; exec sleep 30",
            pid_file.display(),
            limit_file.display()
        ));
    with_cores(&mut cmd, &cwd);
    let mut child = cmd.command().spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::fs::read_to_string(&limit_file)
        .unwrap_or_default()
        .is_empty()
        && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        std::fs::read_to_string(&limit_file).unwrap().trim(),
        "unlimited"
    );
    assert_eq!(core_limit(child.id()), "0");
    kill(Pid::from_raw(child.id() as i32), Signal::SIGABRT).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.signal(), Some(Signal::SIGABRT as i32));
    assert!(!status.core_dumped(), "the supervisor dumped core");
    let left: Vec<_> = std::fs::read_dir(&cwd)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, ["child-limit"], "a core file appeared");
    // The orphaned command (finding 13) is ended here.
    let pid: i32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);

    // Run mode: the command gets the limit ecs-env was started with.
    let mut cmd = ecs_env().args([
        "--secret",
        &format!("S={plain}"),
        "--",
        "sh",
        "-c",
        "ulimit -c",
    ]);
    with_cores(&mut cmd, &empty_dir());
    let out = cmd.command().output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "unlimited");
}

/// Finding 4: an answer the SDK cannot parse is reported by status and size, never by the
/// parser's text, which quoted the body (`got CANARY as the low word`).
#[test]
fn an_unreadable_answer_is_never_quoted() {
    let e = emulator();
    let arn = e.create_secret(REGION, &unique("redteam/escape"), "unused");
    let name = arn.rsplit(':').next().unwrap().to_owned();
    // A lone high surrogate followed by six bytes of the value: the SDK's JSON reader names
    // those six bytes in its error.
    let body = format!(
        r#"{{"ARN":"{arn}","Name":"{name}","SecretString":"\uD800{}x","VersionId":"v"}}"#,
        &CANARY[..6]
    );
    let proxy = Proxy::start(
        &e.endpoint,
        vec![Fault {
            api: "GetSecretValue",
            needle: name,
            status: 200,
            body: Some(body),
            ..Default::default()
        }],
    );
    let run = ecs_env()
        .env("AWS_ENDPOINT_URL", &proxy.endpoint)
        .args(["--no-batch", "--secret", &format!("S={arn}"), "--", "true"])
        .output();
    run.assert_code(125);
    let stderr = run.stderr();
    assert!(!stderr.contains(&CANARY[..6]), "{stderr}");
    assert!(stderr.contains("HTTP 200"), "{stderr}");
}

/// Finding 5: a missing JSON key's report lists only the keys that read like field names; a
/// key that may be secret-derived is counted, not printed (run, export and check alike).
#[test]
fn json_keys_that_may_be_secret_are_not_listed() {
    let e = emulator();
    let secret_key = format!("{CANARY}-8f14e45fceea167a");
    let arn = e.create_secret(
        REGION,
        &unique("redteam/keys"),
        &serde_json::json!({"password": "p", (secret_key.as_str()): "v"}).to_string(),
    );
    let td = task_definition(&[], &[("S", &format!("{arn}:nope::"))]);
    for sub in [&["run"][..], &["export"], &["check"]] {
        let mut cmd = ecs_env().arg(sub[0]).task_definition(&td);
        if sub[0] == "run" {
            cmd = cmd.args(["--", "true"]);
        }
        let run = cmd.output();
        let all = format!("{}{}", run.stdout(), run.stderr());
        assert!(!all.contains(CANARY), "{sub:?}: {all}");
        assert!(all.contains("`password`"), "{sub:?}: {all}");
        assert!(all.contains("1 more key is not shown"), "{sub:?}: {all}");
    }
}

/// Finding 6: text from a task definition or AWS never reaches the terminal raw. A name that
/// moves the cursor up and erases a line cannot hide the `LD_PRELOAD` row from `check`, and
/// no control or bidi character reaches the failure report, the table, the JSON or `-v`.
#[test]
fn input_cannot_drive_the_terminal() {
    let hostile = "B\r\x1b[1A\x1b[2K\u{202e}";
    let td = serde_json::json!({"containerDefinitions": [{
        "name": "app\x1b]0;title\x07",
        "environment": [{"name": "LD_PRELOAD", "value": "/tmp/x.so"}, {"name": hostile, "value": "v"}],
        "secrets": [{"name": "S\x1b[8m", "valueFrom": "/p\x1b[31m\u{202e}"}],
    }]})
    .to_string();
    let raw = |text: &str| {
        text.chars()
            .any(|c| c == '\x1b' || c == '\r' || c == '\x07' || c == '\u{202e}')
    };
    for args in [
        &["check", "--offline"][..],
        &["check", "--offline", "--format", "json"],
        &["run", "-v"],
    ] {
        let mut cmd: EcsEnv = ecs_env_offline()
            .env("AWS_REGION", REGION)
            .arg(args[0])
            .task_definition(&td)
            .args(&args[1..]);
        if args[0] == "run" {
            cmd = cmd.args(["--", "true"]);
        }
        let run = cmd.output();
        let all = format!("{}{}", run.stdout(), run.stderr());
        assert!(!raw(&all), "{args:?} printed a control character:\n{all:?}");
        if args[0] == "check" {
            assert!(all.contains("LD_PRELOAD"), "{args:?}:\n{all}");
        }
        if args == ["check", "--offline"] {
            assert!(
                all.contains("\\u{1b}[1A"),
                "{args:?}: the name is shown escaped:\n{all}"
            );
        }
    }
}

/// Finding 7: `export -o` writes a device or FIFO as such (before, as root, `-o /dev/null`
/// replaced the device with a 0600 file holding the values), writes `>(cmd)`, and the
/// `github` append never follows a link.
#[test]
fn export_output_to_devices_pipes_and_links() {
    use std::os::unix::fs::FileTypeExt;
    let dir = empty_dir();
    let td = task_definition(&[("A", "1")], &[]);
    let export = |extra: &[&str]| {
        ecs_env_offline()
            .env("AWS_REGION", REGION)
            .arg("export")
            .task_definition(&td)
            .args(extra)
            .output()
    };
    // A private null device, so the machine's own /dev/null is never at risk.
    let null = dir.join("null");
    let made = std::process::Command::new("mknod")
        .arg(&null)
        .args(["c", "1", "3"])
        .status()
        .unwrap();
    assert!(made.success(), "mknod needs root, as CI has");
    export(&["-o", null.to_str().unwrap()]).assert_code(0);
    assert!(
        std::fs::symlink_metadata(&null)
            .unwrap()
            .file_type()
            .is_char_device(),
        "the device was replaced"
    );

    // A FIFO is written, not replaced by a file on disk.
    let fifo = dir.join("fifo");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
    };
    export(&["-o", fifo.to_str().unwrap()]).assert_code(0);
    assert_eq!(reader.join().unwrap(), "A=\"1\"\n");
    assert!(
        std::fs::symlink_metadata(&fifo)
            .unwrap()
            .file_type()
            .is_fifo()
    );

    // Process substitution: /dev/fd/N, a link to a pipe.
    let out = dir.join("substituted");
    let bin = crate::util::BIN;
    let script = format!(
        "'{bin}' export -f '{}' -o >(cat > '{}'); wait",
        crate::util::write_file("td.json", &td).display(),
        out.display()
    );
    let status = std::process::Command::new("bash")
        .args(["-c", &script])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap())
        .env("AWS_REGION", REGION)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(5);
    while std::fs::read_to_string(&out).unwrap_or_default().is_empty() && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(std::fs::read_to_string(&out).unwrap().contains("A=\"1\""));

    // --format github -o never appends through a link.
    let target = dir.join("victim");
    std::fs::write(&target, "keep\n").unwrap();
    std::os::unix::fs::symlink(&target, dir.join("github_env")).unwrap();
    let run = export(&[
        "--format",
        "github",
        "-o",
        dir.join("github_env").to_str().unwrap(),
    ]);
    run.assert_code(125).assert_stderr_contains("symbolic link");
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep\n");
}

/// Finding 8: the remembered-denial file is never written through a link planted in the
/// cache directory, and a cache directory of ours that others could write to is narrowed.
#[test]
fn the_capability_memory_never_follows_a_planted_link() {
    use std::os::unix::fs::PermissionsExt;
    let e = emulator();
    let cache = empty_dir().join("cache");
    std::fs::create_dir_all(&cache).unwrap();
    std::fs::set_permissions(&cache, std::fs::Permissions::from_mode(0o777)).unwrap();
    let victim = empty_dir().join("victim");
    std::fs::write(&victim, "precious\n").unwrap();
    std::os::unix::fs::symlink(&victim, cache.join("capabilities.json")).unwrap();
    // Two current secrets: a batch, which the proxy denies, so the denial is remembered.
    let a = e.create_secret(REGION, &unique("redteam/cap-a"), "a");
    let b = e.create_secret(REGION, &unique("redteam/cap-b"), "b");
    let proxy = Proxy::start(
        &e.endpoint,
        vec![Fault {
            api: "BatchGetSecretValue",
            needle: String::new(),
            status: 400,
            code: "AccessDeniedException",
            message: "denied by the test proxy".into(),
            ..Default::default()
        }],
    );
    let env = ecs_env()
        .env("AWS_ENDPOINT_URL", &proxy.endpoint)
        .env("ECS_ENV_CACHE_DIR", &cache)
        .args(["--secret", &format!("A={a}"), "--secret", &format!("B={b}")])
        .child_env();
    env.assert("A", "a");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
    let mode = std::fs::metadata(&cache).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700);
}

/// Finding 9: every read of untrusted input is capped. A 17 MiB environment file in S3 was
/// read whole and the child started; `/dev/zero` as Terraform state, `--tfstate`,
/// `--var-file` or `--override-file` was read until memory ran out.
#[test]
fn untrusted_input_is_read_with_a_cap() {
    let e = emulator();
    let big = vec![b'#'; 17 << 20];
    let file = e.put_object(
        REGION,
        &unique("redteam-big").to_lowercase(),
        "big.env",
        &big,
    );
    let td = serde_json::json!({"containerDefinitions": [{
        "name": "app",
        "environmentFiles": [{"value": file, "type": "s3"}],
    }]})
    .to_string();
    let marker = empty_dir().join("started");
    let run = ecs_env()
        .task_definition(&td)
        .args(["--", "touch"])
        .arg(&marker)
        .output();
    run.assert_code(125)
        .assert_stderr_contains("larger than 16 MiB");
    assert!(!marker.exists());

    // Local files that are not regular files: refused at once, whatever they would yield.
    let dir = empty_dir();
    std::fs::write(dir.join("main.tf"), terraform_reading("\"N\"", "\"/p\"")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", dir.join("terraform.tfstate")).unwrap();
    let clean = empty_dir();
    std::fs::copy(dir.join("main.tf"), clean.join("main.tf")).unwrap();
    let offline = || ecs_env_offline().env("AWS_REGION", REGION);
    let cases: Vec<(&str, EcsEnv)> = vec![
        (
            "terraform.tfstate -> /dev/zero",
            offline().arg("-f").arg(&dir),
        ),
        (
            "--tfstate /dev/zero",
            offline()
                .arg("-f")
                .arg(dir.join("main.tf"))
                .args(["--tfstate", "/dev/zero"]),
        ),
        (
            "--var-file /dev/zero",
            offline()
                .arg("-f")
                .arg(&clean)
                .args(["--var-file", "/dev/zero"]),
        ),
        (
            "--override-file /dev/zero",
            offline().args(["--env", "A=1", "--override-file", "/dev/zero"]),
        ),
    ];
    for (label, cmd) in cases {
        let started = Instant::now();
        let run = cmd.args(["--override", "S=x", "--", "true"]).output();
        assert_eq!(run.code(), Some(125), "{label}: {}", run.stderr());
        assert!(
            run.stderr().contains("not a regular file"),
            "{label}: {}",
            run.stderr()
        );
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{label}: read for {:?}",
            started.elapsed()
        );
    }
}

/// Finding 10: values that made the SDK or the clock panic are errors that name them.
#[test]
fn bad_endpoints_and_durations_are_errors_not_panics() {
    let cases: Vec<(&str, EcsEnv)> = vec![
        ("AWS_ENDPOINT_URL", ecs_env().env("AWS_ENDPOINT_URL", "")),
        (
            "AWS_ENDPOINT_URL_SSM",
            ecs_env().env("AWS_ENDPOINT_URL_SSM", ""),
        ),
        (
            "AWS_ENDPOINT_URL",
            ecs_env().env("AWS_ENDPOINT_URL", "http://"),
        ),
        ("--endpoint-url", ecs_env().args(["--endpoint-url", ""])),
        (
            "--timeout",
            ecs_env().args(["--timeout", "18446744073709551615s"]),
        ),
        ("--watch", ecs_env().arg("--watch=18446744073709551615s")),
        (
            "--grace",
            ecs_env().args(["--watch", "--grace", "18446744073709551615s"]),
        ),
    ];
    for (name, cmd) in cases {
        let run = cmd
            .args(["--secret", "S=/redteam/x", "--", "true"])
            .output();
        let stderr = run.stderr();
        assert_eq!(run.code(), Some(125), "{name}: {stderr}");
        assert!(
            !stderr.contains("panicked") && !stderr.contains("internal error"),
            "{name}: {stderr}"
        );
        assert!(stderr.contains(name), "{name}: {stderr}");
    }
}

/// Finding 11: a source that never delivers (a FIFO with no writer) is bounded by
/// `--timeout`, and a signal ends the run with its code at any time. Before, the read blocked
/// the runtime thread: past the timeout, and deaf to SIGTERM.
#[test]
fn a_source_that_never_delivers_is_bounded_and_interruptible() {
    let fifo = empty_dir().join("td.json");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let started = Instant::now();
    let run = ecs_env_offline()
        .env("AWS_REGION", REGION)
        .args(["--timeout", "1s", "-f"])
        .arg(&fifo)
        .args(["--", "true"])
        .output();
    run.assert_code(125).assert_stderr_contains("--timeout");
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "{:?}",
        started.elapsed()
    );

    for (signal, code) in [(Signal::SIGTERM, 143), (Signal::SIGINT, 130)] {
        let mut cmd = ecs_env_offline()
            .env("AWS_REGION", REGION)
            .arg("-f")
            .arg(&fifo)
            .args(["--", "true"]);
        let mut child = cmd
            .command()
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(300));
        let sent = Instant::now();
        kill(Pid::from_raw(child.id() as i32), signal).unwrap();
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(code), "{signal}");
        assert!(
            sent.elapsed() < Duration::from_secs(3),
            "{signal}: {:?}",
            sent.elapsed()
        );
    }
}

/// Finding 12: after resolving, `export` blocked on a full pipe ends on SIGTERM (before, the
/// runtime's handler, with nobody listening any more, swallowed it).
#[test]
fn export_blocked_on_a_full_pipe_still_ends_on_a_signal() {
    let big = "x".repeat(100_000);
    let env: Vec<(String, String)> = (0..4).map(|i| (format!("V{i}"), big.clone())).collect();
    let refs: Vec<(&str, &str)> = env.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    let td = task_definition(&refs, &[]);
    let mut cmd = ecs_env_offline()
        .env("AWS_REGION", REGION)
        .arg("export")
        .task_definition(&td);
    // Nobody reads stdout: the 64 KiB pipe fills and the write blocks.
    let mut child = cmd
        .command()
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        child.try_wait().unwrap().is_none(),
        "export should be blocked on the pipe"
    );
    let sent = Instant::now();
    kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM).unwrap();
    let deadline = Instant::now() + Duration::from_secs(3);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let status = status.expect("SIGTERM was swallowed");
    assert_eq!(
        status.signal(),
        Some(Signal::SIGTERM as i32),
        "{status:?} after {:?}",
        sent.elapsed()
    );
}

/// The `SigIgn` mask of the process that printed `/proc/self/status`.
fn ignored_mask(status: &str) -> u64 {
    let line = status.lines().find(|l| l.starts_with("SigIgn:")).unwrap();
    u64::from_str_radix(line.split_whitespace().nth(1).unwrap(), 16).unwrap()
}

/// Finding 13: a signal the caller ignores (`nohup`) stays ignored in the command, with and
/// without `--watch`; and a supervised command does not outlive a supervisor killed by a
/// signal.
#[test]
fn the_command_keeps_ignored_signals_and_dies_with_its_supervisor() {
    use std::os::unix::process::CommandExt;
    let hup = 1u64 << (Signal::SIGHUP as u64 - 1);
    let out = empty_dir().join("status");
    for watch in [false, true] {
        let mut cmd = ecs_env_offline()
            .env("AWS_REGION", REGION)
            .args(["--env", "A=1"]);
        if watch {
            cmd = cmd.arg("--watch=60s");
        }
        cmd = cmd
            .args(["--", "sh", "-c"])
            .arg(format!("cat /proc/self/status > {}", out.display()));
        // SAFETY: signal(SIG_IGN) is async-signal-safe and the closure allocates nothing.
        #[allow(unsafe_code)]
        unsafe {
            cmd.command().pre_exec(|| {
                nix::sys::signal::signal(Signal::SIGHUP, nix::sys::signal::SigHandler::SigIgn)?;
                Ok(())
            });
        }
        let run = cmd.output();
        assert_eq!(run.code(), Some(0), "watch {watch}: {}", run.stderr());
        let status = std::fs::read_to_string(&out).unwrap();
        assert_ne!(
            ignored_mask(&status) & hup,
            0,
            "watch {watch}: SIGHUP is no longer ignored"
        );
    }

    // Killed supervisor: the command gets SIGTERM instead of running on, orphaned.
    let pid_file = empty_dir().join("pid");
    let mut cmd = ecs_env_offline()
        .env("AWS_REGION", REGION)
        .args(["--env", "A=1", "--watch=60s", "--", "sh", "-c"])
        .arg(format!("echo $$ > {}; exec sleep 30", pid_file.display()));
    let mut supervisor = cmd
        .command()
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::fs::read_to_string(&pid_file)
        .unwrap_or_default()
        .trim()
        .is_empty()
        && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(20));
    }
    let app: i32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    kill(Pid::from_raw(supervisor.id() as i32), Signal::SIGKILL).unwrap();
    let _ = supervisor.wait();
    let gone = |pid: i32| {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map_or(true, |s| s.split_whitespace().nth(2) == Some("Z"))
    };
    let deadline = Instant::now() + Duration::from_secs(3);
    while !gone(app) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let orphaned = !gone(app);
    let _ = kill(Pid::from_raw(app), Signal::SIGKILL);
    assert!(!orphaned, "the command outlived its supervisor");
}

/// Finding 14: messages that said the wrong thing, or too much.
#[test]
fn unclear_answers_get_clear_messages() {
    let e = emulator();
    let arn = e.create_secret(REGION, &unique("redteam/unclear"), "v");
    let name = arn.rsplit(':').next().unwrap().to_owned();
    let through = |status: u16, body: Option<String>, code: &'static str| {
        let proxy = Proxy::start(
            &e.endpoint,
            vec![Fault {
                api: "GetSecretValue",
                needle: name.clone(),
                status,
                body,
                code,
                ..Default::default()
            }],
        );
        ecs_env()
            .env("AWS_ENDPOINT_URL", &proxy.endpoint)
            .args(["--no-batch", "--secret", &format!("S={arn}"), "--", "true"])
            .output()
    };
    // A 200 answer with an error body was "the secret holds SecretBinary".
    let run = through(
        200,
        Some(r#"{"__type":"InternalFailure","message":"oops"}"#.to_owned()),
        "",
    );
    run.assert_code(125)
        .assert_stderr_contains("neither SecretString nor SecretBinary");
    assert!(
        !run.stderr().contains("binary secret") && !run.stderr().contains("asm_binary"),
        "{}",
        run.stderr()
    );
    // A redirect was "unhandled error: Error".
    let run = through(301, Some(String::new()), "");
    run.assert_code(125)
        .assert_stderr_contains("redirect (HTTP 301)");
    assert!(
        !run.stderr().contains("unhandled error"),
        "{}",
        run.stderr()
    );

    // 10,000 containers made one 89 KB line.
    let containers: Vec<_> = (0..10_000)
        .map(|i| serde_json::json!({"name": format!("c{i}"), "image": "x"}))
        .collect();
    let td = serde_json::json!({"containerDefinitions": containers}).to_string();
    let run = ecs_env_offline()
        .env("AWS_REGION", REGION)
        .task_definition(&td)
        .args(["--", "true"])
        .output();
    run.assert_code(125).assert_stderr_contains("and 9980 more");
    assert!(
        run.stderr().lines().all(|l| l.len() < 1000),
        "{}",
        &run.stderr()[..200]
    );

    // A region that is no region name: before, an endpoint-parameter error from the SDK.
    let run = ecs_env()
        .args(["--region", "us east", "--secret", "S=/x", "--", "true"])
        .output();
    run.assert_code(125)
        .assert_stderr_contains("not a region name");
    let run = ecs_env()
        .args([
            "--secret",
            "S=arn:aws:secretsmanager:us east:1:secret:x",
            "--",
            "true",
        ])
        .output();
    run.assert_code(125)
        .assert_stderr_contains("not a region name");

    // policy --format terraform wrote a raw line feed inside an HCL string.
    let td = serde_json::json!({"containerDefinitions": [{
        "name": "app",
        "environmentFiles": [{"value": "arn:aws:s3:::bucket/a\nb.env", "type": "s3"}],
    }]})
    .to_string();
    let run = ecs_env_offline()
        .env("AWS_REGION", REGION)
        .arg("policy")
        .task_definition(&td)
        .args([
            "--offline",
            "--account",
            "123456789012",
            "--format",
            "terraform",
        ])
        .output();
    run.assert_code(0);
    assert!(
        run.stdout().contains(r"bucket/a\nb.env"),
        "{}",
        run.stdout()
    );
    assert!(!run.stdout().contains("a\nb.env"), "{}", run.stdout());
}

/// Finding 15: `export` names every variable a format cannot carry, at once.
#[test]
fn export_names_every_refused_variable_at_once() {
    let td = task_definition(
        &[("A B", "1"), ("#C", "2"), ("D", "3"), ("E", "two\nlines")],
        &[],
    );
    let run = ecs_env_offline()
        .env("AWS_REGION", REGION)
        .arg("export")
        .task_definition(&td)
        .args(["--format", "docker"])
        .output();
    run.assert_code(125);
    assert_eq!(run.stdout(), "");
    for name in ["`A B`", "`#C`", "`E`"] {
        assert!(
            run.stderr()
                .contains(&format!("cannot export {name} as docker")),
            "{name}: {}",
            run.stderr()
        );
    }
    assert!(!run.stderr().contains("`D`"), "{}", run.stderr());
}
