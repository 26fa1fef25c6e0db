//! The `github` format: entries for the `$GITHUB_ENV` file, plus `::add-mask::` commands.
//!
//! Body: every variable in the heredoc form, always (docs/spec.md §10.7):
//!
//! ```text
//! NAME<<ghadelimiter_<32 random hex digits>
//! <value>
//! ghadelimiter_<same>
//! ```
//!
//! The runner's parser (actions/runner `FileCommandManager.cs`, `SetEnvFileCommand`) takes
//! everything between the header line and the first line equal to the delimiter, minus the
//! final newline, so the heredoc form carries empty values, leading/trailing newlines, CR, `=`
//! and `<<`; the one-line `NAME=value` form cannot carry a newline. This is also what
//! `@actions/core` writes. The delimiter is random, and the guarantee comes from checking it:
//! it is regenerated until no value has a line equal to it (a value could otherwise end its
//! entry early and inject variables such as `LD_PRELOAD` into later steps).
//!
//! The body starts at the beginning of a line; a caller appending to an existing
//! `$GITHUB_ENV` that does not end in a newline must write one first.
//!
//! Masks: when values are revealed, every non-empty line of every *secret* value is registered
//! with `::add-mask::` (the runner masks per line, actions/runner#1521). These lines must go
//! to the job log (stdout), before the values are used, and never into `$GITHUB_ENV`, hence
//! [`Rendered::masks`]. When masking, the body holds only the mask and nothing needs
//! registering.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;

use super::{
    Format, Refusal, Rendered, Var, check_no_control, check_no_whitespace, name_contains, shown,
};

pub(super) fn github_env(vars: &[Var<'_>], mask: bool) -> Rendered {
    render_with(vars, mask, random_delimiter)
}

/// [`github_env`] with the delimiter source as a parameter, so tests can force a collision.
fn render_with(
    vars: &[Var<'_>],
    mask: bool,
    mut new_delimiter: impl FnMut() -> String,
) -> Rendered {
    // Checked against what is printed (with masking, a value is not in the body at all).
    let delimiter = loop {
        let candidate = new_delimiter();
        if !vars
            .iter()
            .any(|var| has_line(shown(var, mask), &candidate))
        {
            break candidate;
        }
    };

    let mut body = Vec::new();
    for var in vars {
        for part in [
            var.name,
            "<<",
            &delimiter,
            "\n",
            shown(var, mask),
            "\n",
            &delimiter,
            "\n",
        ] {
            body.extend_from_slice(part.as_bytes());
        }
    }

    let mut masks = Vec::new();
    if !mask {
        for var in vars.iter().filter(|var| var.secret) {
            for line in var.value.split('\n') {
                // A CRLF value's lines are masked without the CR, which is what appears in a
                // log line; a CR anywhere else stays part of the line, escaped.
                let line = line.strip_suffix('\r').unwrap_or(line);
                if line.is_empty() {
                    continue;
                }
                masks.extend_from_slice(b"::add-mask::");
                escape_command_data(line, &mut masks);
                masks.push(b'\n');
            }
        }
    }
    Rendered { body, masks }
}

/// What the runner cannot read back: see the comment on each rule.
pub(super) fn check(var: &Var<'_>) -> Result<(), Refusal> {
    let refuse = |problem: String| Err(Refusal::new(var, Format::Github, problem));
    check_no_whitespace(Format::Github, var)?;
    check_no_control(Format::Github, var)?;
    // The header is split at the first `<<` (and read as `NAME=value` if an `=` comes first,
    // which `check_common` already refuses).
    if var.name.contains("<<") {
        return refuse(name_contains("`<<`"));
    }
    // The runner fails the step rather than set NODE_OPTIONS from $GITHUB_ENV (runner
    // 2.309.0+, github/docs "workflow-commands"); it compares without regard to case.
    if var.name.eq_ignore_ascii_case("NODE_OPTIONS") {
        return refuse(
            "the runner refuses to set NODE_OPTIONS (in any letter case) from $GITHUB_ENV"
                .to_owned(),
        );
    }
    // On Windows runners the parser also treats CRLF as a line break (docs/spec.md §10.7), so
    // the last line break before the delimiter would take a final CR with it.
    if var.value.ends_with('\r') {
        return refuse("its value has a carriage return at the end".to_owned());
    }
    Ok(())
}

/// Whether `value` has a line the runner could take for `delimiter`: on Linux/macOS runners a
/// line ends at LF; on Windows runners at CRLF too, so `DELIM\r` counts.
fn has_line(value: &str, delimiter: &str) -> bool {
    value
        .split('\n')
        .any(|line| line.strip_suffix('\r').unwrap_or(line) == delimiter)
}

/// `ghadelimiter_` and 32 hex digits (128 bits), the shape `@actions/core` uses with a UUID.
///
/// The bits come from `RandomState`, whose SipHash keys std seeds from the OS random source;
/// hashing two different inputs under those keys gives 128 unpredictable bits without a new
/// dependency. Unpredictability is defence in depth only: [`has_line`] is what guarantees the
/// delimiter does not occur.
fn random_delimiter() -> String {
    let state = RandomState::new();
    let high = state.hash_one(0u8);
    let low = state.hash_one(1u8);
    format!("ghadelimiter_{high:016x}{low:016x}")
}

/// Workflow-command data escaping (actions/toolkit `command.ts` `escapeData`): `%` first, so
/// the escapes themselves survive, then CR and LF.
fn escape_command_data(data: &str, out: &mut Vec<u8>) {
    for &b in data.as_bytes() {
        match b {
            b'%' => out.extend_from_slice(b"%25"),
            b'\r' => out.extend_from_slice(b"%0D"),
            b'\n' => out.extend_from_slice(b"%0A"),
            _ => out.push(b),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Format, MASK, Var, render};
    use super::{random_delimiter, render_with};

    fn var<'a>(name: &'a str, value: &'a str, secret: bool) -> Var<'a> {
        Var {
            name,
            value,
            secret,
        }
    }

    fn fixed(delimiters: &[&str]) -> impl FnMut() -> String {
        let mut queue: Vec<String> = delimiters.iter().rev().map(|d| d.to_string()).collect();
        move || queue.pop().expect("ran out of test delimiters")
    }

    #[test]
    fn golden_body_and_masks() {
        let vars = [
            var("EMPTY", "", true),
            var("MULTI", "line1\r\nline2\n\n100%\r\na\rb\n", true),
            var("PLAIN", "public\nvalue", false),
        ];
        let out = render_with(&vars, false, fixed(&["D"]));
        assert_eq!(
            String::from_utf8(out.body).unwrap(),
            "EMPTY<<D\n\nD\n\
             MULTI<<D\nline1\r\nline2\n\n100%\r\na\rb\n\nD\n\
             PLAIN<<D\npublic\nvalue\nD\n"
        );
        assert_eq!(
            String::from_utf8(out.masks).unwrap(),
            "::add-mask::line1\n\
             ::add-mask::line2\n\
             ::add-mask::100%25\n\
             ::add-mask::a%0Db\n"
        );
    }

    #[test]
    fn masked_export_prints_no_mask_commands() {
        let vars = [var("S", "secret\nlines", true), var("P", "public", false)];
        let out = render_with(&vars, true, fixed(&["D"]));
        assert_eq!(
            String::from_utf8(out.body).unwrap(),
            format!("S<<D\n{MASK}\nD\nP<<D\npublic\nD\n")
        );
        assert!(out.masks.is_empty());
    }

    #[test]
    fn delimiter_is_regenerated_while_a_value_has_it_as_a_line() {
        // "D2\r" counts as a line equal to "D2": a Windows runner ends lines at CRLF too.
        let vars = [var("A", "x\nD1\ny", false), var("C", "D2\r\nz", false)];
        let out = render_with(&vars, false, fixed(&["D1", "D2", "D1x"]));
        // "D1x" does not equal a line ("D1" is a prefix only), so it is the one used.
        assert_eq!(
            String::from_utf8(out.body).unwrap(),
            "A<<D1x\nx\nD1\ny\nD1x\nC<<D1x\nD2\r\nz\nD1x\n"
        );
    }

    #[test]
    fn real_delimiters_are_random_and_well_formed() {
        let a = random_delimiter();
        let b = random_delimiter();
        assert_ne!(a, b);
        for d in [&a, &b] {
            let hex = d.strip_prefix("ghadelimiter_").unwrap();
            assert_eq!(hex.len(), 32);
            assert!(
                hex.bytes()
                    .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
            );
        }
        let out = render(Format::Github, &[var("A", "v", false)], false).unwrap();
        let body = String::from_utf8(out.body).unwrap();
        let (header, rest) = body.split_once('\n').unwrap();
        let delimiter = header.strip_prefix("A<<").unwrap();
        assert!(delimiter.starts_with("ghadelimiter_"));
        assert_eq!(rest, format!("v\n{delimiter}\n"));
    }

    #[test]
    fn refusals_name_the_class_never_the_value() {
        let cases: &[(&str, &str, &str)] = &[
            ("A<<B", "canary", "its name contains `<<`"),
            ("A B", "canary", "its name contains whitespace"),
            ("A\nB", "canary", "its name contains whitespace"),
            (
                "A\u{1b}B",
                "canary",
                "its name contains a control character",
            ),
            (
                "NODE_OPTIONS",
                "canary",
                "the runner refuses to set NODE_OPTIONS (in any letter case) from $GITHUB_ENV",
            ),
            (
                "node_Options",
                "canary",
                "the runner refuses to set NODE_OPTIONS (in any letter case) from $GITHUB_ENV",
            ),
            (
                "V",
                "canary\r",
                "its value has a carriage return at the end",
            ),
            ("V", "canary\0", "its value contains a NUL byte"),
        ];
        for (name, value, problem) in cases {
            for mask in [false, true] {
                let err = render(Format::Github, &[var(name, value, true)], mask).unwrap_err();
                assert_eq!(err.variable, *name);
                let msg = err.to_string();
                assert!(
                    msg.ends_with(problem),
                    "{msg:?} should end with {problem:?}"
                );
                assert!(!msg.contains("canary"), "{msg:?} leaks the value");
            }
        }
        // The escape character is shown escaped, not sent to the terminal.
        let err = render(Format::Github, &[var("A\u{1b}B", "v", false)], false).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("cannot export `A\\u{1b}B` as github")
        );
    }
}
