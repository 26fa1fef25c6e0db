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
