//! Terraform's own judgement of HCL forms, compared with ecs-env's reader:
//! `tests/vectors/terraform-syntax.json` holds, for each case of
//! `tests/vectors/terraform-syntax.txt` (a whole `.tf` file), whether `terraform validate`
//! (1.11) called it valid (`scripts/record-terraform-syntax` records them again).
//!
//! Each case is read here as a one-file configuration, the way `-f DIR` reads one. A form
//! Terraform accepts must be read; a form it rejects must be refused, so that ecs-env never
//! gives a meaning to a file Terraform would not run. Where the two knowingly disagree, the
//! case is in [`DIFFERENCES`] with why, and must still disagree (so that a fix is noticed).

use serde_json::Value as Json;

/// Cases where ecs-env's reader and Terraform disagree, with why.
const DIFFERENCES: &[(&str, &str)] = &[];

#[test]
fn the_reader_accepts_what_terraform_accepts_and_nothing_else() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors");
    let recorded: Json =
        serde_json::from_str(&std::fs::read_to_string(dir.join("terraform-syntax.json")).unwrap())
            .unwrap();
    // The recording is of the current cases: a case edited without recording again is stale.
    let listed = std::fs::read_to_string(dir.join("terraform-syntax.txt")).unwrap();
    let cases = recorded["cases"].as_array().unwrap();
    let names: Vec<&str> = listed
        .lines()
        .filter_map(|l| l.strip_prefix("### "))
        .collect();
    let recorded_names: Vec<&str> = cases.iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, recorded_names, "run scripts/record-terraform-syntax");

    let mut differ = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        let name = case["name"].as_str().unwrap();
        let valid = case["valid"].as_bool().unwrap();
        let dir = super::tests::Scratch::new(
            &format!("syntax-{i}"),
            &[("main.tf", case["text"].as_str().unwrap())],
        );
        let ours = super::Configuration::read(&dir.0);
        if ours.is_ok() != valid {
            differ.push(format!(
                "{name}\n    terraform {}, ecs-env {}",
                if valid {
                    "accepts".to_owned()
                } else {
                    format!("rejects ({})", case["errors"])
                },
                match &ours {
                    Ok(_) => "reads it".to_owned(),
                    Err(p) => format!("refuses it ({})", p[0].message),
                }
            ));
        }
    }
    crate::terraform::funcs::vectors::assert_only_known(&differ, DIFFERENCES, "files", cases.len());
}
