//! Shell formats: `shell` (POSIX sh, bash, dash, zsh), `fish`, `powershell`.
//!
//! Each writes one assignment per variable, the value in the shell's *single-quoted* string,
//! the one quoting form in each shell where nothing is expanded (no `$`, backticks, `$(…)`,
//! globbing), so the output is safe to `eval`/`source`. The three shells escape differently
//! inside single quotes, and using one shell's escaping in another corrupts values
//! (docs/spec.md §10.5: POSIX `'\''` output fed to fish mangles backslashes), hence three
//! encoders.
//!
//! Names are written unquoted, so they must be identifiers `[A-Za-z_][A-Za-z0-9_]*`
//! (§10.4: `export a-b=…` is a syntax error).

use super::{Format, Refusal, Var, check_identifier, shown};

/// `export NAME='…'`. Inside POSIX single quotes every byte is literal and `'` cannot appear,
/// so a `'` closes the quote, adds an escaped `\'` and reopens: `'\''` (bash manual "Single
/// Quotes", POSIX §2.2.2). Round-trips all the values of docs/spec.md §10.10 in bash and dash
/// (§10.4): LF, CR, backslashes, `$()`, backticks, the empty value.
pub(super) fn posix(vars: &[Var<'_>], mask: bool) -> Vec<u8> {
    let mut out = String::new();
    for var in vars {
        out.push_str("export ");
        out.push_str(var.name);
        out.push_str("='");
        for c in shown(var, mask).chars() {
            if c == '\'' {
                out.push_str("'\\''");
            } else {
                out.push(c);
            }
        }
        out.push_str("'\n");
    }
    out.into_bytes()
}

/// `set -gx NAME '…'`. fish's single quotes do have two escapes, `\\` and `\'` (fish
/// `doc_src/language.rst`), so `\` is doubled first and then `'` is escaped; every other
/// character, LF and CR included, is literal (docs/spec.md §10.5, round-tripped in fish 3.6).
pub(super) fn fish(vars: &[Var<'_>], mask: bool) -> Vec<u8> {
    let mut out = String::new();
    for var in vars {
        out.push_str("set -gx ");
        out.push_str(var.name);
        out.push_str(" '");
        for c in shown(var, mask).chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '\'' => out.push_str("\\'"),
                _ => out.push(c),
            }
        }
        out.push_str("'\n");
    }
    out.into_bytes()
}

/// An identifier name, and a non-empty value: before PowerShell 7.5, assigning `''` to
/// `$env:NAME` *removes* the variable (about_Environment_Variables, changed in 7.5), and the
/// output cannot know which PowerShell will run it.
pub(super) fn check_powershell(var: &Var<'_>) -> Result<(), Refusal> {
    check_identifier(Format::Powershell, var)?;
    if var.value.is_empty() {
        return Err(Refusal::new(
            var,
            Format::Powershell,
            "its value is empty (PowerShell before 7.5 deletes the variable instead)",
        ));
    }
    Ok(())
}

/// The characters PowerShell accepts as a single quote (about_Quoting_Rules): the ASCII
/// apostrophe and the typographic U+2018–U+201B. Any of them would end the string.
fn is_powershell_single_quote(c: char) -> bool {
    matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201a}' | '\u{201b}')
}

/// `$env:NAME = '…'`. PowerShell single-quoted strings are verbatim except that a quote
/// character is written by doubling it, and every typographic single quote counts as one
/// (docs/spec.md §10.5), so each of them is doubled too.
///
/// Not verified against a real PowerShell (none on the build machine): golden tests only.
pub(super) fn powershell(vars: &[Var<'_>], mask: bool) -> Vec<u8> {
    let mut out = String::new();
    for var in vars {
        out.push_str("$env:");
        out.push_str(var.name);
        out.push_str(" = '");
        for c in shown(var, mask).chars() {
            out.push(c);
            if is_powershell_single_quote(c) {
                out.push(c);
            }
        }
        out.push_str("'\n");
    }
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::super::tests::{plain as var, text as body};
    use super::super::{Format, MASK, Var, render};

    const TRICKY: &str = "it's \\ \"q\" $HOME `id` $(id)\nl2\r\n\ttab";

    #[test]
    fn shell_golden() {
        let vars = [var("A", TRICKY), var("EMPTY", ""), var("_u", "héllo ✓ ‘’")];
        assert_eq!(
            body(Format::Shell, &vars, false),
            "export A='it'\\''s \\ \"q\" $HOME `id` $(id)\nl2\r\n\ttab'\n\
             export EMPTY=''\n\
             export _u='héllo ✓ ‘’'\n"
        );
    }

    #[test]
    fn fish_golden() {
        let vars = [
            var("A", TRICKY),
            var("EMPTY", ""),
            var("B", "ends\\"),
            var("C", "\\'"),
        ];
        assert_eq!(
            body(Format::Fish, &vars, false),
            "set -gx A 'it\\'s \\\\ \"q\" $HOME `id` $(id)\nl2\r\n\ttab'\n\
             set -gx EMPTY ''\n\
             set -gx B 'ends\\\\'\n\
             set -gx C '\\\\\\''\n"
        );
    }

    #[test]
    fn powershell_golden() {
        let vars = [
            var("A", TRICKY),
            var("Q", "'\u{2018}\u{2019}\u{201a}\u{201b}\u{201c}\u{201d}`"),
        ];
        assert_eq!(
            body(Format::Powershell, &vars, false),
            "$env:A = 'it''s \\ \"q\" $HOME `id` $(id)\nl2\r\n\ttab'\n\
             $env:Q = '''\u{2018}\u{2018}\u{2019}\u{2019}\u{201a}\u{201a}\u{201b}\u{201b}\u{201c}\u{201d}`'\n"
        );
    }

    #[test]
    fn powershell_refuses_empty_values_even_when_masked() {
        for mask in [false, true] {
            let v = Var {
                name: "E",
                value: "",
                secret: true,
            };
            let err = render(Format::Powershell, &[v], mask).unwrap_err();
            assert_eq!(
                err.to_string(),
                "cannot export `E` as powershell: its value is empty (PowerShell before 7.5 deletes the variable instead)"
            );
        }
    }

    #[test]
    fn masking_keeps_the_syntax() {
        let vars = [
            Var {
                name: "S",
                value: "it's secret",
                secret: true,
            },
            var("P", "it's public"),
        ];
        assert_eq!(
            body(Format::Shell, &vars, true),
            format!("export S='{MASK}'\nexport P='it'\\''s public'\n")
        );
        assert_eq!(
            body(Format::Fish, &vars, true),
            format!("set -gx S '{MASK}'\nset -gx P 'it\\'s public'\n")
        );
        assert_eq!(
            body(Format::Powershell, &vars, true),
            format!("$env:S = '{MASK}'\n$env:P = 'it''s public'\n")
        );
    }

    #[test]
    fn all_three_refuse_non_identifier_names() {
        for format in [Format::Shell, Format::Fish, Format::Powershell] {
            for name in ["a-b", "a b", "a.b", "1A", "é", "a\nb", "$(id)"] {
                let err = render(format, &[var(name, "canary")], false).unwrap_err();
                assert_eq!(err.variable, name);
                let msg = err.to_string();
                assert!(
                    msg.ends_with(
                        "its name contains a character that is not a letter, digit or underscore"
                    ) || msg.ends_with("its name starts with a digit"),
                    "{msg}"
                );
                assert!(!msg.contains("canary"));
                // The name's control characters are escaped, not printed raw.
                assert!(!msg.contains('\n'), "{msg:?}");
            }
        }
    }
}
