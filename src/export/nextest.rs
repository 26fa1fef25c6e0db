//! The `nextest` format: `NAME=value` lines for the file a cargo-nextest setup script writes
//! to `$NEXTEST_ENV`.
//!
//! nextest reads that file line by line (a line ends at a line feed, and a carriage return
//! before it is dropped), splits each line at its first `=`, takes the rest verbatim as the
//! value, and refuses keys that start with `NEXTEST` (reserved for itself); newer versions
//! also accept only letters, digits and underscores in keys. So a value with a line feed,
//! or ending in a carriage return, cannot be carried; nor can a name outside
//! `[A-Za-z_][A-Za-z0-9_]*` or one starting with `NEXTEST`. The lines themselves are
//! docker's (`envfile::docker`): `NAME=value`, verbatim.

use super::{Format, LINE_FEED, Refusal, Var, check_identifier, name_starts_with, value_contains};

pub(super) fn check(var: &Var<'_>) -> Result<(), Refusal> {
    check_identifier(Format::Nextest, var)?;
    if var.name.starts_with("NEXTEST") {
        return Err(Refusal::new(
            var,
            Format::Nextest,
            name_starts_with("`NEXTEST`, which nextest reserves"),
        ));
    }
    if var.value.contains('\n') {
        return Err(Refusal::new(
            var,
            Format::Nextest,
            value_contains(LINE_FEED),
        ));
    }
    if var.value.ends_with('\r') {
        return Err(Refusal::new(
            var,
            Format::Nextest,
            "its value ends with a carriage return, which nextest drops".to_owned(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::{Format, Var, render_all};

    fn var<'a>(name: &'a str, value: &'a str) -> Var<'a> {
        Var {
            name,
            value,
            secret: true,
        }
    }

    #[test]
    fn golden() {
        let vars = [var("A", "x=y z"), var("B", ""), var("C", "tab\there\r!")];
        let out = render_all(Format::Nextest, &vars, false).unwrap();
        assert_eq!(out.body, b"A=x=y z\nB=\nC=tab\there\r!\n");
        let masked = render_all(Format::Nextest, &vars, true).unwrap();
        assert_eq!(masked.body, b"A=********\nB=********\nC=********\n");
    }

    #[test]
    fn every_variable_it_cannot_carry_is_named_at_once() {
        let vars = [
            var("A", "ok"),
            var("B", "two\nlines"),
            var("NEXTEST_X", "v"),
            var("NEXTESTY", "v"),
            var("a-b", "v"),
            var("E", "ends\r"),
        ];
        let refused = render_all(Format::Nextest, &vars, true).unwrap_err();
        let text: Vec<String> = refused.iter().map(ToString::to_string).collect();
        assert_eq!(
            text,
            [
                "cannot export `B` as nextest: its value contains a line feed",
                "cannot export `NEXTEST_X` as nextest: its name starts with `NEXTEST`, which nextest reserves",
                "cannot export `NEXTESTY` as nextest: its name starts with `NEXTEST`, which nextest reserves",
                "cannot export `a-b` as nextest: its name contains a character that is not a letter, digit or underscore",
                "cannot export `E` as nextest: its value ends with a carriage return, which nextest drops",
            ]
        );
    }
}
