//! Env-file formats: `dotenv` and `docker`.
//!
//! There is no single `.env` grammar (docs/spec.md §10.3), so each format here
//! names the reader it is exact for:
//!
//! * `dotenv` is the dialect that **dotenvy 0.15** and **Docker Compose `env_file`**
//!   (compose-go) both decode to the same bytes: `NAME="…"` escaping `\`, `"`, `$` and LF,
//!   with TAB and CR left raw. It is the only encoding that round-tripped all of the values
//!   of docs/spec.md §10.10 in both readers (§10.2, §10.3). It is *not* what python-dotenv
//!   or npm dotenv read (python-dotenv keeps the `\` of `\$`; npm dotenv unescapes nothing),
//!   and it is not safe to `source` in a shell (backticks run): use `shell` for that.
//! * `docker` is `NAME=value` with no quoting at all, for `docker run --env-file` and Compose
//!   `format: raw`, whose reader (docker/cli `pkg/kvfile`, §10.1) takes everything after the
//!   first `=` as-is. Having no escapes, it cannot carry some values and refuses them.

use super::{
    Format, LINE_FEED, Refusal, Var, check_line_start, check_no_control, check_no_whitespace,
    shown, value_contains,
};

/// `NAME="…"` per variable, one per line.
///
/// Escapes, and why each one:
/// * `\` → `\\` and `"` → `\"`: the quoting itself.
/// * `$` → `\$`: both readers substitute `$NAME`/`${NAME}` inside double quotes (dotenvy from
///   the process environment first, Compose from the project environment), which would
///   silently change `pa$$word` or `cost $HOME` (§10.2, §10.3). Both decode `\$` to `$`.
/// * LF → `\n`: keeps one variable per line; both decode it.
///
/// TAB and CR stay raw: dotenvy rejects `\t` and `\r` escapes as a parse error (§10.3), and
/// both readers keep raw TAB/CR inside double quotes.
///
/// Names are checked by `check_identifier`: dotenvy keys are `[A-Za-z_][A-Za-z0-9_.]*`,
/// Compose's a different superset; the portable identifier fits both.
pub(super) fn dotenv(vars: &[Var<'_>], mask: bool) -> Vec<u8> {
    let mut out = Vec::new();
    for var in vars {
        out.extend_from_slice(var.name.as_bytes());
        out.extend_from_slice(b"=\"");
        // Every escaped character is ASCII, so a byte loop never splits a UTF-8 sequence.
        for &b in shown(var, mask).as_bytes() {
            match b {
                b'\\' => out.extend_from_slice(b"\\\\"),
                b'"' => out.extend_from_slice(b"\\\""),
                b'$' => out.extend_from_slice(b"\\$"),
                b'\n' => out.extend_from_slice(b"\\n"),
                _ => out.push(b),
            }
        }
        out.extend_from_slice(b"\"\n");
    }
    out
}

/// docker/cli reads lines with Go's `bufio.Scanner`, whose buffer is
/// `bufio.MaxScanTokenSize` = 64 KiB. A line is read only if it fits in that buffer *with*
/// its newline, so the line without its newline must be shorter than this.
const DOCKER_MAX_LINE: usize = 64 * 1024;

/// `NAME=value` per variable, verbatim, one per line. See [`check_docker`] for what it
/// cannot carry.
pub(super) fn docker(vars: &[Var<'_>], mask: bool) -> Vec<u8> {
    let mut out = Vec::new();
    for var in vars {
        out.extend_from_slice(var.name.as_bytes());
        out.push(b'=');
        out.extend_from_slice(shown(var, mask).as_bytes());
        out.push(b'\n');
    }
    out
}

/// The reader (docs/spec.md §10.1) strips leading whitespace, skips empty and `#` lines,
/// splits on the first `=` and keeps the rest as-is: no escapes, no interpolation. So:
/// * an LF in a value would end the line: refused;
/// * a CR at the end of a value is eaten by the scanner's CRLF handling: refused (a CR
///   anywhere else is kept, and allowed);
/// * a line that does not fit the scanner's 64 KiB buffer is an error: refused;
/// * a value that starts and ends with the same quote character (`"x"`, `'x'`) is read with
///   the quotes by the docker/cli master snapshot but without them by the quote-trimming
///   variant proposed in docker/cli#6805 (and found in the wild): refused, since no encoding
///   means the same thing to both;
/// * a name with whitespace is a reader error; a name starting with `#` would make a comment,
///   one starting with a byte-order mark would lose it on line 1: refused; so is a name with
///   a control character, which no one means and which would reach the terminal raw.
///
/// Values are otherwise carried exactly: leading/trailing spaces, `#` after the first byte,
/// `=`, quotes inside, `$`, backslashes.
pub(super) fn check_docker(var: &Var<'_>) -> Result<(), Refusal> {
    let refuse = |problem: String| Err(Refusal::new(var, Format::Docker, problem));
    check_no_whitespace(Format::Docker, var)?;
    check_no_control(Format::Docker, var)?;
    check_line_start(Format::Docker, var)?;
    let value = var.value.as_bytes();
    if value.contains(&b'\n') {
        return refuse(value_contains(LINE_FEED));
    }
    if value.ends_with(b"\r") {
        return refuse("its value has a carriage return at the end".to_owned());
    }
    if value.len() >= 2 && matches!(value[0], b'"' | b'\'') && value[0] == value[value.len() - 1] {
        return refuse("its value has matching quotes at both ends".to_owned());
    }
    // Checked on the real value even when masking, like every rule here.
    if var.name.len() + 1 + value.len() >= DOCKER_MAX_LINE {
        return refuse("it would need a line over 64 KiB".to_owned());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::tests::{plain as var, text as body};
    use super::super::{Format, MASK, Var, render};

    fn refusal(format: Format, name: &str, value: &str) -> String {
        let err = render(format, &[var(name, value)], false).unwrap_err();
        assert_eq!(err.variable, name);
        assert_eq!(err.format, format);
        err.to_string()
    }

    #[test]
    fn dotenv_golden() {
        let vars = [
            var("A", "plain"),
            var("B", "back\\slash \"q\" $HOME ${X} `id` it's"),
            var("C", "l1\nl2\r\n\ttab"),
            var("EMPTY", ""),
            var("U", "héllo ✓ #x"),
        ];
        assert_eq!(
            body(Format::Dotenv, &vars, false),
            "A=\"plain\"\n\
             B=\"back\\\\slash \\\"q\\\" \\$HOME \\${X} `id` it's\"\n\
             C=\"l1\\nl2\r\\n\ttab\"\n\
             EMPTY=\"\"\n\
             U=\"héllo ✓ #x\"\n"
        );
    }

    #[test]
    fn dotenv_masks_secrets_only() {
        let vars = [
            Var {
                name: "S",
                value: "hunter2",
                secret: true,
            },
            var("P", "public"),
        ];
        assert_eq!(
            body(Format::Dotenv, &vars, true),
            format!("S=\"{MASK}\"\nP=\"public\"\n")
        );
        assert_eq!(
            body(Format::Dotenv, &vars, false),
            "S=\"hunter2\"\nP=\"public\"\n"
        );
    }

    #[test]
    fn dotenv_refuses_non_identifier_names() {
        let msg = refusal(Format::Dotenv, "a-b", "v");
        assert_eq!(
            msg,
            "cannot export `a-b` as dotenv: its name contains a character that is not a letter, digit or underscore"
        );
        let msg = refusal(Format::Dotenv, "9LIVES", "v");
        assert_eq!(
            msg,
            "cannot export `9LIVES` as dotenv: its name starts with a digit"
        );
        // dotenvy accepts `.` in keys, Compose does too, but the portable set is the rule.
        refusal(Format::Dotenv, "a.b", "v");
        refusal(Format::Dotenv, "é", "v");
    }

    #[test]
    fn docker_golden() {
        let vars = [
            var("A", "  padded  "),
            var("B", "a=b=c"),
            var("C", "#not a comment"),
            var("D", "cr\rmid"),
            var("E", ""),
            var("F", "\"half"),
            var("G", "it's \"x\" $HOME \\"),
            var("lower.dot-dash", "any key without whitespace"),
        ];
        assert_eq!(
            body(Format::Docker, &vars, false),
            "A=  padded  \n\
             B=a=b=c\n\
             C=#not a comment\n\
             D=cr\rmid\n\
             E=\n\
             F=\"half\n\
             G=it's \"x\" $HOME \\\n\
             lower.dot-dash=any key without whitespace\n"
        );
    }

    #[test]
    fn docker_refusals_name_the_class_never_the_value() {
        let cases: &[(&str, &str, &str)] = &[
            ("V", "canary\nvalue", "its value contains a line feed"),
            (
                "V",
                "canary\r",
                "its value has a carriage return at the end",
            ),
            (
                "V",
                "\"canary\"",
                "its value has matching quotes at both ends",
            ),
            (
                "V",
                "'canary'",
                "its value has matching quotes at both ends",
            ),
            ("V", "''", "its value has matching quotes at both ends"),
            ("A B", "canary", "its name contains whitespace"),
            ("A\u{a0}B", "canary", "its name contains whitespace"),
            ("A\tB", "canary", "its name contains whitespace"),
            ("#A", "canary", "its name starts with `#`"),
            (
                "\u{feff}A",
                "canary",
                "its name starts with a byte-order mark",
            ),
        ];
        for (name, value, problem) in cases {
            let msg = refusal(Format::Docker, name, value);
            assert!(
                msg.ends_with(problem),
                "{msg:?} should end with {problem:?}"
            );
            assert!(!msg.contains("canary"), "{msg:?} leaks the value");
        }
    }

    #[test]
    fn docker_allows_what_only_looks_risky() {
        // One quote character, or different ones at each end, reads the same in every
        // docker version; so does a CR that is not last.
        for value in ["\"", "'", "\"x'", "'x\"", "x\"", "\r\rx", "\"x\"y"] {
            render(Format::Docker, &[var("V", value)], false).unwrap();
        }
    }

    #[test]
    fn docker_line_limit_is_bufio_max_scan_token_size() {
        // "V=" + value: 65535 bytes plus the newline fill the 64 KiB buffer exactly.
        let fits = "x".repeat(65535 - 2);
        render(Format::Docker, &[var("V", &fits)], false).unwrap();
        let too_long = "x".repeat(65536 - 2);
        let msg = refusal(Format::Docker, "V", &too_long);
        assert!(msg.ends_with("it would need a line over 64 KiB"), "{msg}");
        // Masking shortens the line but does not lift the refusal.
        let secret = Var {
            name: "V",
            value: &too_long,
            secret: true,
        };
        assert!(render(Format::Docker, &[secret], true).is_err());
    }

    #[test]
    fn docker_masked_output_refuses_like_revealed() {
        let secret = Var {
            name: "V",
            value: "multi\nline",
            secret: true,
        };
        let masked = render(Format::Docker, &[secret], true).unwrap_err();
        let secret = Var {
            name: "V",
            value: "multi\nline",
            secret: true,
        };
        let revealed = render(Format::Docker, &[secret], false).unwrap_err();
        assert_eq!(masked, revealed);
    }
}
