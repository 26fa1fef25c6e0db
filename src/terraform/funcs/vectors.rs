//! Terraform's own answers, compared with ecs-env's: `tests/vectors/terraform-functions.json`
//! holds what `terraform console` (1.11) printed for `jsonencode(EXPR)` for each expression
//! of `tests/vectors/terraform-functions.txt`, or that it was an error
//! (`scripts/record-terraform-functions` records them again). Each expression is evaluated
//! here with the project's evaluator, its root module being
//! `tests/vectors/terraform-functions-files/` (the directory Terraform ran in).
//!
//! Strings, bools, nulls and shapes must be identical; numbers equal as 64-bit floats (to
//! within a few units in the last place: Terraform computes with 512-bit floats). An
//! expression Terraform rejects must fail here too. The few where ecs-env knowingly differs
//! are listed in [`DIFFERENCES`], with why, and must still differ (so a fix is noticed).

use std::path::Path;
use std::sync::Arc;

use serde_json::Value as Json;

use crate::terraform::eval::{Evaluator, Iteration, Scope, ScopeKind};
use crate::terraform::source::{Module, SourceFile};

/// Expressions whose result ecs-env knowingly does not match, and why.
const DIFFERENCES: &[(&str, &str)] = &[
    (
        r#"strrev("e\u0301x")"#,
        "Terraform normalizes every string to NFC (e + U+0301 becomes é); ecs-env keeps strings as written",
    ),
    (
        r#"substr("e\u0301x", 0, 1)"#,
        "Terraform normalizes every string to NFC; ecs-env keeps strings as written",
    ),
    (
        r#"yamldecode("1e400")"#,
        "Terraform's numbers have arbitrary precision; ecs-env's are 64-bit floats, in which 1e400 is infinite",
    ),
    (
        r#"yamlencode("e\u0301")"#,
        "Terraform normalizes every string to NFC; ecs-env keeps strings as written",
    ),
    (
        "yamlencode(9007199254740992)",
        "2^53 is exact in a 64-bit float, but so is the rounding of 2^53 + 1: ecs-env refuses whole numbers from 2^53 up",
    ),
    (
        "yamlencode(9007199254740993)",
        "a 64-bit float cannot hold 2^53 + 1: ecs-env refuses rather than write 9007199254740992",
    ),
    (
        "yamlencode(12345678901234567890)",
        "a 64-bit float cannot hold 20 significant digits: ecs-env refuses rather than write a rounding",
    ),
    (
        "yamlencode(1/3)",
        "Terraform divides with 512-bit floats and writes every digit; ecs-env's 64-bit quotient would give other digits, so it refuses",
    ),
    (
        "yamlencode(0.1 + 0.2)",
        "Terraform's 512-bit sum is written 0.3; the 64-bit sum is 0.30000000000000004, so ecs-env refuses",
    ),
    (
        "yamlencode(pow(2, 60))",
        "Terraform's pow gives a 64-bit float and writes its shortest digits; ecs-env cannot tell such a number from a 512-bit one needing all its digits, so refuses any needing more than 15",
    ),
    (
        "yamlencode(1.0000000000000000001)",
        "the literal has more significant digits than a 64-bit float holds: ecs-env reads it as 1 and writes 1",
    ),
    (
        r#"rsadecrypt("ZhXaqOCQDLneUvsKd63oNZrb3SoJReqpWMGIcF6gSOvSCHRQkpBRU8g/M/2bUkdwpu+dsiPNP18IBRziF/DV3t9/ZRMq6KH/DmgOTdXas/UBr1Vl46gsOCdBVZ45ph8dOjGFw2pMKxl8uiixaXmqpEaL9Gyi1IJ5vRQ1YFywNPE=", file("rsa-test-only-pkcs1-1024.pem"))"#,
        "aws-lc (ecs-env's RSA, chosen over the rsa crate and its unfixed Marvin timing attack, RUSTSEC-2023-0071) takes RSA keys of 2048 to 8192 bits; Terraform also decrypts with this 1024-bit key, ecs-env refuses it",
    ),
    (
        r#"rsadecrypt("pcnqrI9tOt39F7HL1F7fDxIbd/iZ7pg4AmNY26D8sQMiWgNhpV4ywDD1iR+CJ8n3s/DP0MrUpXfcYXxtzW914Zj3rIaQ5/goAUyn8tx04PoZAC+nNwrj/EEB5QzdlJ2yc6DAkSHjerYScbhn565ER8iUo4KHI1PQLxk7bFn37Nk=", file("rsa-test-only-openssh-1024"))"#,
        "aws-lc (ecs-env's RSA, chosen over the rsa crate and its unfixed Marvin timing attack, RUSTSEC-2023-0071) takes RSA keys of 2048 to 8192 bits; Terraform also decrypts with this 1024-bit key, ecs-env refuses it",
    ),
    (
        r#"rsadecrypt("OPxuRCo2JCg+yKbqSCYptn+KUlsQhQgfa5+a/OQiVgHWv4wj3Hmil3L9INNlYp79ADmeyPn7xZb152Jkq3jwgpEgG1FjeKZ9mQmddsAB6IibbbQSIef2ZfmnOufG8ejX2BgEBZyCf7CICDrv8k/QMBMxRx2AS6rWz9prOTAOlFs=", file("rsa-test-only-pkcs8-1024.pem"))"#,
        "aws-lc (ecs-env's RSA, chosen over the rsa crate and its unfixed Marvin timing attack, RUSTSEC-2023-0071) takes RSA keys of 2048 to 8192 bits; Terraform also decrypts with this 1024-bit key, ecs-env refuses it",
    ),
    (
        r#"rsadecrypt("Hg9gusISNIHsZsZwMKxeBszkmqqn+yEIH7j7oAT3xLoKvf7xDl2r3kRS54EdzFmo1YFPc7EBnHN3M52IsOjolf82iv5lTAGh7Xsu9aJJRrqXlokOx4c6PtpVUjxIlyIgbiDO57tnJIpLLw1i623hbKgD/Tay90wn1f/T/RMkyALx7iab9yFaZ/PaEHTWTFeHlj6GfK1aFjAyRBUpY0Eh6svZYf3rB+HUs9UMbhPKSo+Wh96r4+y8y8cA05JeSSzTMVPi+YnsQG4Tidg8k8+vQlL0tJRNBddNbZ38/XGdf3ijx86nWa4NHwy3CBl5YGej0wxtPhb7NPq//lXo3EdjCA==", file("rsa-test-only-pkcs1-2048.pem"))"#,
        "the plaintext is e + U+0301: Terraform normalizes every string to NFC; ecs-env keeps strings as written",
    ),
];

/// Whether two JSON texts' values are the same, numbers compared as 64-bit floats.
fn same(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Number(x), Json::Number(y)) => {
            let x: f64 = x.to_string().parse().unwrap_or(f64::NAN);
            let y: f64 = y.to_string().parse().unwrap_or(f64::NAN);
            x == y || (x - y).abs() <= 4.0 * f64::EPSILON * x.abs().max(y.abs())
        }
        (Json::Array(x), Json::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y))
        }
        (Json::Object(x), Json::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

/// What ecs-env makes of `expr`: `Ok(jsonencode(value))`, or the failure's first message.
fn evaluate(ev: &mut Evaluator, text: &str) -> Result<String, String> {
    let (expr, text) =
        crate::terraform::respell::parse(text.to_owned(), hcl::edit::parser::parse_expr)
            .map_err(|e| format!("parse: {e}"))?;
    let file = Arc::new(SourceFile::new("vector".to_owned(), text));
    let scope = Scope::new(0, file, Iteration::None, ScopeKind::Config);
    let value = ev
        .eval(&expr, &scope)
        .and_then(|v| ev.unknowns.known(v))
        .map_err(|f| {
            f.problems
                .first()
                .map(|p| p.message.clone())
                .unwrap_or_default()
        })?;
    value.to_json()
}

#[test]
fn functions_match_terraform() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors");
    let recorded: Json = serde_json::from_str(
        &std::fs::read_to_string(dir.join("terraform-functions.json")).unwrap(),
    )
    .unwrap();
    let module = Module {
        dir: dir.join("terraform-functions-files"),
        display_dir: ".".to_owned(),
        ..Module::default()
    };
    let mut ev = Evaluator::new(Arc::new(module), None);
    let mut differ = Vec::new();
    let vectors = recorded["vectors"].as_array().unwrap();
    for v in vectors {
        let expr = v["expr"].as_str().unwrap();
        let ours = evaluate(&mut ev, expr);
        let matches = match (v.get("json").and_then(Json::as_str), &ours) {
            (Some(theirs), Ok(ours)) => {
                let theirs: Json = serde_json::from_str(theirs).unwrap();
                serde_json::from_str::<Json>(ours).is_ok_and(|ours| same(&ours, &theirs))
            }
            (Some(_), Err(_)) => false,
            (None, ours) => ours.is_err(),
        };
        if !matches {
            differ.push(format!(
                "{expr}\n    terraform: {}\n    ecs-env:   {ours:?}",
                v.get("json").and_then(Json::as_str).unwrap_or("an error")
            ));
        }
    }
    assert_only_known(&differ, DIFFERENCES, "expressions", vectors.len());
}

/// Fails unless the cases in `differ` (each `KEY\n...`, the key on its first line) are
/// exactly those `known` lists: one not listed is a regression, and one listed that no
/// longer differs is a fix to record by removing it from the list.
pub(crate) fn assert_only_known(
    differ: &[String],
    known: &[(&str, &str)],
    what: &str,
    total: usize,
) {
    let key = |d: &String| d.split('\n').next().unwrap_or_default().to_owned();
    let unexpected: Vec<&String> = differ
        .iter()
        .filter(|d| !known.iter().any(|(k, _)| key(d) == *k))
        .collect();
    let fixed: Vec<&str> = known
        .iter()
        .map(|(k, _)| *k)
        .filter(|k| !differ.iter().any(|d| key(d) == *k))
        .collect();
    assert!(
        unexpected.is_empty() && fixed.is_empty(),
        "{} of {total} {what} differ from Terraform:\n{}\nlisted as differing but now matching: {fixed:?}",
        unexpected.len(),
        unexpected
            .iter()
            .map(|d| d.as_str())
            .collect::<Vec<_>>()
            .join("\n"),
    );
}

#[test]
fn impure_functions_are_unknown_values() {
    let module = Module {
        dir: std::env::temp_dir(),
        ..Module::default()
    };
    let mut ev = Evaluator::new(Arc::new(module), None);
    for text in ["timestamp()", "uuid()", "bcrypt(\"x\")", "plantimestamp()"] {
        let expr = hcl::edit::parser::parse_expr(text).unwrap();
        let file = Arc::new(SourceFile::new("vector".to_owned(), text.to_owned()));
        let scope = Scope::new(0, file, Iteration::None, ScopeKind::Config);
        let failure = ev.eval(&expr, &scope).unwrap_err();
        assert!(failure.unknown && failure.fatal, "{text}");
        assert!(
            failure.problems[0].message.contains("only known at apply"),
            "{text}: {}",
            failure.problems[0].message
        );
    }
}
