//! `ecs-env export` end to end: masking, real readers, refusals, files.

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use crate::emulator::{emulator, unique};
use crate::util::{ecs_env, empty_dir, task_definition};

const REGION: &str = "us-east-1";
const CANARY: &str = "CANARY-export-9d1";

/// A task with a multi-line secret full of shell metacharacters, a plain variable, and the
/// injected region.
fn world() -> (String, String) {
    let e = emulator();
    let hostile = format!("{CANARY} 'q' \"d\" $HOME `id` $(id) \\ #x\nsecond line\r\n");
    let arn = e.create_secret(
        REGION,
        &unique("exp"),
        &serde_json::json!({"v": hostile}).to_string(),
    );
    let td = task_definition(
        &[("MODE", "dev mode")],
        &[("SECRET", &format!("{arn}:v::"))],
    );
    (td, hostile)
}

fn export() -> crate::util::EcsEnv {
    // No inherited region: the injected AWS_REGION/AWS_DEFAULT_REGION are exported too.
    ecs_env()
        .env_remove("AWS_REGION")
        .arg("export")
        .args(["--region", REGION])
}

#[test]
fn masked_by_default_and_sorted() {
    let (td, _) = world();
    let run = export().task_definition(&td).output();
    run.assert_code(0);
    assert_eq!(
        run.stdout(),
        "AWS_DEFAULT_REGION=\"us-east-1\"\nAWS_REGION=\"us-east-1\"\nMODE=\"dev mode\"\nSECRET=\"********\"\n"
    );
    assert!(!run.stderr().contains("CANARY"));
    let names = export()
        .task_definition(&td)
        .args(["--format", "names"])
        .output();
    assert_eq!(
        names.stdout(),
        "AWS_DEFAULT_REGION\nAWS_REGION\nMODE\nSECRET\n"
    );
}

#[test]
fn revealed_shell_export_round_trips_through_bash_and_dash() {
    let (td, hostile) = world();
    let run = export()
        .task_definition(&td)
        .args(["--reveal", "--format", "shell"])
        .output();
    run.assert_code(0);
    for shell in ["bash", "dash"] {
        let out = Command::new(shell)
            .args(["-c", "eval \"$0\"; printf '%s' \"$SECRET\""])
            .arg(run.stdout())
            .env_clear()
            .output()
            .unwrap();
        assert_eq!(String::from_utf8(out.stdout).unwrap(), hostile, "{shell}");
    }
    let json = export()
        .task_definition(&td)
        .args(["--reveal", "--format", "json"])
        .output();
    let doc: serde_json::Value = serde_json::from_str(&json.stdout()).unwrap();
    assert_eq!(doc["SECRET"], hostile.as_str());
    assert_eq!(doc["MODE"], "dev mode");
}

#[test]
fn a_value_the_format_cannot_carry_is_refused_without_showing_it() {
    let (td, _) = world();
    for reveal in [false, true] {
        let mut cmd = export().task_definition(&td).args(["--format", "docker"]);
        if reveal {
            cmd = cmd.arg("--reveal");
        }
        let run = cmd.output();
        run.assert_code(125)
            .assert_stderr_contains("SECRET")
            .assert_stderr_contains("line feed");
        assert!(run.stdout().is_empty());
        assert!(!run.stderr().contains("CANARY") && !run.stderr().contains("second line"));
    }
}

#[test]
fn output_files_are_private_and_github_masks_go_to_stdout() {
    let (td, hostile) = world();
    let dir = empty_dir();
    let file = dir.join("app.env");
    export()
        .task_definition(&td)
        .args(["--reveal", "-o"])
        .arg(&file)
        .output()
        .assert_code(0);
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("MODE=\"dev mode\"\n"), "{text}");
    // Nothing but the file was written.
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);

    let github_env = dir.join("github_env");
    std::fs::write(&github_env, "EARLIER=1").unwrap(); // no final newline
    let run = export()
        .task_definition(&td)
        .args(["--reveal", "--format", "github", "-o"])
        .arg(&github_env)
        .output();
    run.assert_code(0);
    let masks = run.stdout();
    for line in hostile
        .lines()
        .filter(|l| !l.trim_end_matches('\r').is_empty())
    {
        let escaped = line.trim_end_matches('\r').replace('%', "%25");
        assert!(
            masks.contains(&format!("::add-mask::{escaped}\n")),
            "{masks}"
        );
    }
    assert!(!masks.contains("<<"), "heredocs go to the file, not stdout");
    let env_file = std::fs::read_to_string(&github_env).unwrap();
    assert!(
        env_file.starts_with("EARLIER=1\nAWS_DEFAULT_REGION<<ghadelimiter_"),
        "{env_file}"
    );
    assert!(env_file.contains("SECRET<<ghadelimiter_"));
}

/// `--format nextest`: `NAME=value` lines for `$NEXTEST_ENV`; every variable the format
/// cannot carry is named at once, without its value, and nothing is written.
#[test]
fn nextest_lines_and_every_refusal_at_once() {
    let e = emulator();
    let plain = e.create_secret(REGION, &unique("exp/nextest"), "p=1 two");
    let td = task_definition(&[("MODE", "dev")], &[("S", &plain)]);
    let run = export()
        .task_definition(&td)
        .args(["--format", "nextest", "--reveal"])
        .output();
    run.assert_code(0);
    assert_eq!(
        run.stdout(),
        "AWS_DEFAULT_REGION=us-east-1\nAWS_REGION=us-east-1\nMODE=dev\nS=p=1 two\n"
    );

    let (td, _) = world();
    let td = td.replace("\"MODE\"", "\"NEXTEST_MODE\"");
    let run = export()
        .task_definition(&td)
        .args(["--format", "nextest"])
        .output();
    run.assert_code(125);
    assert_eq!(run.stdout(), "");
    let stderr = run.stderr();
    assert!(
        stderr.contains("cannot export `NEXTEST_MODE` as nextest: its name starts with `NEXTEST`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("cannot export `SECRET` as nextest: its value contains a line feed"),
        "{stderr}"
    );
    assert!(!stderr.contains(CANARY), "{stderr}");
}
