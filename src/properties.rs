//! Property-based fuzzing of the parsers and encoders (proptest; bounded, so it runs in
//! every test run and in CI). `cargo fuzz` needs a nightly toolchain, which this project's
//! machines cannot fetch; these properties are the fuzz targets. A failure prints the
//! minimal input: commit it as a regression test next to the property.

use crate::export::{self, Format, Var};
use crate::jsonkey::go_float;
use crate::reference::{self, SecretRef};
use crate::{envfile, taskdef};
use proptest::prelude::*;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 512,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn task_definition_loader_never_panics(text in ".{0,400}") {
        let _ = taskdef::parse(&text);
    }

    #[test]
    fn task_definition_loader_never_panics_on_json_like_input(text in r#"[\[\]{}",:a-z0-9 nul]{0,200}"#) {
        let _ = taskdef::parse(&text);
    }

    #[test]
    fn value_from_parser_never_panics(text in ".{0,200}") {
        let _ = reference::parse(&text);
    }

    #[test]
    fn five_field_references_keep_their_parts(
        name in "[A-Za-z0-9/_+=.@-]{1,40}",
        key in "[^:\u{0}]{0,20}",
        stage in "[A-Za-z0-9_]{0,12}",
        id in "[A-Za-z0-9-]{0,36}",
    ) {
        let base = format!("arn:aws:secretsmanager:us-east-1:123456789012:secret:{name}");
        match reference::parse(&format!("{base}:{key}:{stage}:{id}")) {
            Ok(SecretRef::SecretsManager(r)) => {
                prop_assert_eq!(r.secret_id, base);
                prop_assert_eq!(r.json_key.unwrap_or_default(), key);
                prop_assert_eq!(r.version_stage.unwrap_or_default(), stage);
                prop_assert_eq!(r.version_id.unwrap_or_default(), id);
            }
            other => prop_assert!(false, "{:?}", other),
        }
    }

    #[test]
    fn env_file_parser_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        for dialect in [envfile::Dialect::Ec2, envfile::Dialect::Fargate] {
            if let Ok(parsed) = envfile::parse(&bytes, dialect, "f", |_| None) {
                // Whatever was read can be carried: no `=` in a name, no newline anywhere.
                for (k, v) in &parsed.vars {
                    prop_assert!(!k.contains('=') && !k.contains('\n') && !v.contains('\n'));
                }
            }
        }
    }

    #[test]
    fn env_file_last_line_wins(values in proptest::collection::vec("[^\n\r\u{0}]{0,30}", 1..6)) {
        let text: String = values.iter().map(|v| format!("KEY={v}\n")).collect();
        let parsed = envfile::parse(text.as_bytes(), envfile::Dialect::Ec2, "f", |_| None).unwrap();
        prop_assert_eq!(parsed.vars.get("KEY"), values.last());
    }

    #[test]
    fn go_float_round_trips(f in any::<f64>().prop_filter("finite", |f| f.is_finite())) {
        let text = go_float(f);
        prop_assert_eq!(text.parse::<f64>().unwrap().to_bits(), f.to_bits(), "{}", text);
    }

    #[test]
    fn dotenv_export_round_trips_through_dotenvy(value in "[^\u{0}]{0,60}") {
        let vars = [Var { name: "V", value: &value, secret: true }];
        if let Ok(out) = export::render(Format::Dotenv, &vars, false) {
            let read: Vec<(String, String)> = dotenvy::from_read_iter(&out.body[..]).collect::<Result<_, _>>().unwrap();
            prop_assert_eq!(read, vec![("V".to_owned(), value.clone())]);
        }
    }

    #[test]
    fn json_export_round_trips(value in "[^\u{0}]{0,60}", name in "[A-Za-z_][A-Za-z0-9_]{0,10}") {
        let vars = [Var { name: &name, value: &value, secret: false }];
        let out = export::render(Format::Json, &vars, false).unwrap();
        let doc: serde_json::Value = serde_json::from_slice(&out.body).unwrap();
        prop_assert_eq!(doc[name.as_str()].as_str(), Some(value.as_str()));
    }

    #[test]
    fn masked_and_revealed_exports_refuse_the_same(value in ".{0,40}") {
        let vars = [Var { name: "V", value: &value, secret: true }];
        for format in [Format::Dotenv, Format::Shell, Format::Fish, Format::Powershell, Format::Docker, Format::Json, Format::Github, Format::Names] {
            let masked = export::render(format, &vars, true).is_ok();
            let revealed = export::render(format, &vars, false).is_ok();
            prop_assert_eq!(masked, revealed, "{:?}", format);
        }
    }
}
