//! The `names` format: just the names, one per line, no values.
//!
//! For pass-through without writing values anywhere (docs/spec.md §10.2 and §10.9): a bare
//! `NAME` line in `docker run --env-file`, `docker run -e NAME`, or Compose
//! `environment: [NAME]` takes the value from the environment of the process that runs
//! docker, i.e. `ecs-env -- docker compose up`. So a name must survive
//! docker's kvfile line reader (§10.1): no whitespace (an error there), no leading `#` (a
//! comment there, and in YAML), no leading byte-order mark; and, being a line of its own, no
//! control characters. Masking does not apply: no value is printed.

use super::{Format, Refusal, Var, check_line_start, check_no_control, check_no_whitespace};

pub(super) fn check(var: &Var<'_>) -> Result<(), Refusal> {
    check_no_whitespace(Format::Names, var)?;
    check_no_control(Format::Names, var)?;
    check_line_start(Format::Names, var)
}

pub(super) fn names(vars: &[Var<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    for var in vars {
        out.extend_from_slice(var.name.as_bytes());
        out.push(b'\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::{Format, Var, render};

    fn var(name: &str) -> Var<'_> {
        Var {
            name,
            value: "canary\n",
            secret: true,
        }
    }

    #[test]
    fn golden_never_prints_values() {
        // Values are not this format's business: a NUL in one is still refused (every
        // format refuses it), but a line feed is not.
        let vars = [
            Var {
                name: "A",
                value: "multi\nline",
                secret: true,
            },
            Var {
                name: "b.c-d",
                value: "",
                secret: false,
            },
        ];
        for mask in [false, true] {
            let out = render(Format::Names, &vars, mask).unwrap();
            assert_eq!(out.body, b"A\nb.c-d\n");
            assert!(out.masks.is_empty());
        }
        assert_eq!(render(Format::Names, &[], false).unwrap().body, b"");
    }

    #[test]
    fn refusals() {
        let cases: &[(&str, &str)] = &[
            ("A B", "its name contains whitespace"),
            ("A\tB", "its name contains whitespace"),
            ("A\r", "its name contains whitespace"),
            ("A\u{7f}", "its name contains a control character"),
            ("#A", "its name starts with `#`"),
            ("\u{feff}A", "its name starts with a byte-order mark"),
            ("", "its name is empty"),
            ("A=B", "its name contains an equals sign"),
            ("A\0", "its name contains a NUL byte"),
        ];
        for (name, problem) in cases {
            let err = render(Format::Names, &[var(name)], false).unwrap_err();
            assert_eq!(err.variable, *name);
            let msg = err.to_string();
            assert!(
                msg.ends_with(problem),
                "{msg:?} should end with {problem:?}"
            );
            assert!(!msg.contains("canary"));
        }
    }
}
