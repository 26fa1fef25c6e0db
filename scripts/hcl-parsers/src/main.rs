//! Measures HCL parsers against what Terraform itself accepts, to choose the one ecs-env's
//! Terraform reader is built on (see docs/sources.md, "Which HCL parser").
//!
//! Two sets of Terraform's answers, both recorded by scripts in the repository:
//! - `tests/vectors/terraform-syntax.json`: whole `.tf` files and whether `terraform validate`
//!   accepts each (`scripts/record-terraform-syntax`);
//! - `tests/vectors/terraform-functions.json`: expressions `terraform console` evaluated, so
//!   each one Terraform gave a value for is valid syntax (`scripts/record-terraform-functions`).
//!
//! For each parser it prints how many files it judges as Terraform does (accepting the valid,
//! refusing the invalid) and how many of the valid expressions it parses, then every case it
//! gets wrong. Run: `cargo run --release --manifest-path scripts/hcl-parsers/Cargo.toml`.

use std::path::Path;

use serde_json::Value;

/// A parser's verdict on a whole file: whether it parsed without error.
type Parser = fn(&str) -> bool;

fn hcl_edit(text: &str) -> bool {
    hcl_edit::parser::parse_body(text).is_ok()
}

fn tree_sitter_hcl(text: &str) -> bool {
    let mut parser = tree_sitter::Parser::new();
    parser
        .set_language(&tree_sitter_hcl::LANGUAGE.into())
        .expect("the grammar matches the tree-sitter version");
    parser
        .parse(text, None)
        .is_some_and(|tree| !tree.root_node().has_error())
}

fn read(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("vectors file")).expect("JSON")
}

fn main() {
    let vectors = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors");
    let syntax = read(&vectors.join("terraform-syntax.json"));
    let functions = read(&vectors.join("terraform-functions.json"));
    let cases = syntax["cases"].as_array().expect("cases");
    // Expressions Terraform evaluated: valid syntax, each the value of a local.
    let expressions: Vec<String> = functions["vectors"]
        .as_array()
        .expect("vectors")
        .iter()
        .filter(|v| v.get("json").is_some())
        .map(|v| {
            format!(
                "locals {{\n  x = {}\n}}\n",
                v["expr"].as_str().expect("expr")
            )
        })
        .collect();
    let parsers: [(&str, Parser); 2] = [
        ("hcl-edit 0.10", hcl_edit),
        ("tree-sitter-hcl 1.1", tree_sitter_hcl),
    ];
    println!(
        "{:<22} {:>24} {:>28}",
        "parser", "files judged as terraform", "valid expressions parsed"
    );
    let mut wrong = Vec::new();
    for (name, parse) in parsers {
        let mut agree = 0;
        for case in cases {
            let valid = case["valid"].as_bool().expect("valid");
            if parse(case["text"].as_str().expect("text")) == valid {
                agree += 1;
            } else {
                wrong.push(format!(
                    "{name}: {} {} (terraform: {})",
                    if valid { "refuses" } else { "accepts" },
                    case["name"].as_str().expect("name"),
                    if valid {
                        "valid".to_owned()
                    } else {
                        case["errors"].to_string()
                    }
                ));
            }
        }
        let parsed = expressions.iter().filter(|e| parse(e)).count();
        for e in expressions.iter().filter(|e| !parse(e)) {
            wrong.push(format!(
                "{name}: refuses the expression {}",
                e.lines().nth(1).unwrap_or("").trim()
            ));
        }
        println!(
            "{name:<22} {:>24} {:>28}",
            format!("{agree} of {}", cases.len()),
            format!("{parsed} of {}", expressions.len())
        );
    }
    println!();
    for w in wrong {
        println!("{w}");
    }
}
