//! The `json` format: one flat object, `{"NAME":"value",…}`, compact, ending in a newline.
//!
//! JSON string escaping represents every Unicode string (docs/spec.md §10.6), so nothing is
//! refused here beyond the rules common to every format. The shape is the one chamber's
//! `export --format json` emits. Keys keep the caller's (sorted) order; the object is written
//! by hand rather than through `serde_json::Map`, whose order depends on serde_json's
//! features. The strings themselves are escaped by serde_json.

use super::{Var, shown};

pub(super) fn object(vars: &[Var<'_>], mask: bool) -> Vec<u8> {
    let mut out = vec![b'{'];
    for (i, var) in vars.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        push_string(&mut out, var.name);
        out.push(b':');
        push_string(&mut out, shown(var, mask));
    }
    // A trailing newline, so the output is a well-formed text file and a shell prompt does not
    // land on the same line.
    out.extend_from_slice(b"}\n");
    out
}

fn push_string(out: &mut Vec<u8>, s: &str) {
    // Serializing a `str` into a `Vec` has no failure path: no I/O error, no non-string key.
    serde_json::to_writer(out, s).expect("a str always serializes to JSON");
}

#[cfg(test)]
mod tests {
    use super::super::{Format, MASK, Var, render};

    #[test]
    fn golden() {
        let vars = [
            Var {
                name: "A",
                value: "q\"b\\ \n\r\t\u{1} é ✓ $x",
                secret: false,
            },
            Var {
                name: "B",
                value: "",
                secret: true,
            },
            Var {
                name: "a-b.c",
                value: "{\"a\":1}",
                secret: false,
            },
        ];
        let out = render(Format::Json, &vars, false).unwrap();
        assert_eq!(
            String::from_utf8(out.body).unwrap(),
            "{\"A\":\"q\\\"b\\\\ \\n\\r\\t\\u0001 é ✓ $x\",\"B\":\"\",\"a-b.c\":\"{\\\"a\\\":1}\"}\n"
        );
        assert!(out.masks.is_empty());
        let masked = render(Format::Json, &vars, true).unwrap();
        assert!(
            String::from_utf8(masked.body)
                .unwrap()
                .contains(&format!("\"B\":\"{MASK}\""))
        );
    }

    #[test]
    fn keeps_the_given_order_and_handles_no_vars() {
        let vars = [
            Var {
                name: "Z",
                value: "1",
                secret: false,
            },
            Var {
                name: "A",
                value: "2",
                secret: false,
            },
        ];
        let out = render(Format::Json, &vars, false).unwrap();
        assert_eq!(out.body, b"{\"Z\":\"1\",\"A\":\"2\"}\n");
        assert_eq!(render(Format::Json, &[], false).unwrap().body, b"{}\n");
    }
}
