//! Malformed and hostile input: the corpus under tests/corpus (each `NAME.json` with the
//! exact text its error must contain in `NAME.expect`), plus inputs too big to commit,
//! generated here. Every case exits 125 without starting anything, and nothing crashes.

use std::path::Path;

use crate::util::{ecs_env_offline, empty_dir, write_file};

fn offline() -> crate::util::EcsEnv {
    ecs_env_offline().env("AWS_REGION", "us-east-1")
}

#[test]
fn corpus_of_bad_task_definitions() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut cases = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let expect = std::fs::read_to_string(path.with_extension("expect")).unwrap();
        let marker = empty_dir().join("started");
        let run = offline()
            .arg("-f")
            .arg(&path)
            .args(["--", "touch"])
            .arg(&marker)
            .output();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        assert_eq!(run.code(), Some(125), "{name}: {}", run.stderr());
        assert!(
            run.stderr().contains(expect.trim_end()),
            "{name}: stderr lacks {:?}:\n{}",
            expect.trim_end(),
            run.stderr()
        );
        assert!(!marker.exists(), "{name}");
        // The library refuses the same input with the same report.
        let report = ecs_env::Resolver::from_path(&path)
            .region("us-east-1")
            .offline()
            .resolve_blocking()
            .expect_err(&name);
        crate::library::same_report(&report, &run.stderr())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        cases += 1;
    }
    assert!(cases >= 20, "only {cases} corpus cases");
}

#[test]
fn deeply_nested_json_is_an_error_not_a_crash() {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let file = write_file("deep.json", &deep);
    let run = offline().arg("-f").arg(&file).args(["--", "true"]).output();
    run.assert_code(125)
        .assert_stderr_contains("recursion limit");
    // Inside a secret's JSON as well (JSON keys are decoded from fetched values).
    let run = offline().arg("-f").arg(&file).arg("check").output();
    assert_eq!(run.code(), Some(125), "{}", run.stderr());
}

#[test]
fn huge_and_binary_files_are_refused_before_reading_them_whole() {
    let dir = empty_dir();
    let huge = dir.join("huge.json");
    {
        use std::io::Write;
        let mut f = std::io::BufWriter::new(std::fs::File::create(&huge).unwrap());
        f.write_all(b"[{\"name\": \"app\", \"environment\": [{\"name\": \"PAD\", \"value\": \"")
            .unwrap();
        let chunk = vec![b'x'; 1 << 20];
        for _ in 0..100 {
            f.write_all(&chunk).unwrap();
        }
        f.write_all(b"\"}]}]").unwrap();
    }
    let run = offline().arg("-f").arg(&huge).args(["--", "true"]).output();
    run.assert_code(125)
        .assert_stderr_contains("larger than 16 MiB");
    let binary = dir.join("binary.json");
    std::fs::write(&binary, b"[{\"name\": \"app\xff\xfe\"}]").unwrap();
    offline()
        .arg("-f")
        .arg(&binary)
        .args(["--", "true"])
        .output()
        .assert_code(125)
        .assert_stderr_contains("not UTF-8");
}

#[test]
fn ten_thousand_variables() {
    // 10,000 secrets, all overridden locally from a file: no AWS at all.
    let secrets: Vec<String> = (0..10_000)
        .map(|i| format!(r#"{{"name": "S{i}", "valueFrom": "/app/p{i}"}}"#))
        .collect();
    let td = format!(r#"[{{"name": "app", "secrets": [{}]}}]"#, secrets.join(","));
    let overrides: String = (0..10_000).map(|i| format!("S{i}=v{i}\n")).collect();
    let file = write_file("overrides.env", &overrides);
    let env = offline()
        .task_definition(&td)
        .arg("--override-file")
        .arg(&file)
        .child_env();
    env.assert("S0", "v0");
    env.assert("S9999", "v9999");
}

#[test]
fn values_and_environments_the_kernel_cannot_take() {
    // One variable over MAX_ARG_STRLEN (128 KiB).
    // (Given through a file: the test could not even pass it to ecs-env as an argument.)
    let big = write_file("big.env", &format!("BIG={}\n", "x".repeat(200 * 1024)));
    let run = offline()
        .args(["--env", "SMALL=1", "--secret", "BIG=/p", "--override-file"])
        .arg(&big)
        .args(["--", "true"])
        .output();
    run.assert_code(125)
        .assert_stderr_contains("BIG")
        .assert_stderr_contains("MAX_ARG_STRLEN");
    assert!(!run.stderr().contains("xxxxxxxx"));
    // Many variables, each fine, together over ARG_MAX: a clear error before exec.
    let entries: Vec<String> = (0..40)
        .map(|i| format!(r#"{{"name": "V{i}", "value": "{}"}}"#, "y".repeat(100_000)))
        .collect();
    let td = format!(
        r#"[{{"name": "app", "environment": [{}]}}]"#,
        entries.join(",")
    );
    let run = offline().task_definition(&td).args(["--", "true"]).output();
    run.assert_code(125).assert_stderr_contains("ARG_MAX");
}
