//! Environment files (`environmentFiles`), parsed as ECS parses them (spec 5.3).
//!
//! Two dialects:
//! - **EC2** (the default: the only open-source ground truth, `readEnvVarsFromFile` in the
//!   agent): lines end at `\n` with a trailing `\r` removed; a line over 64 KiB fails the read;
//!   a line starting with `#` in column 1 is a comment; a line without `=` is ignored; the
//!   rest splits at the first `=`, name and value verbatim (no trimming, no quotes, no
//!   `export`); an empty name is skipped. A BOM stays part of the first name.
//! - **Fargate**, documented as "handled like a native Docker env-file" (docker/cli
//!   `opts/file.go`): a BOM is dropped, leading whitespace is trimmed (so indented `#` lines are
//!   comments), a name with whitespace or an empty name is an error, and a bare `NAME` takes
//!   its value from the host environment.
//!
//! Within one file the last line wins; across files the first file wins (merging is in
//! `resolve`). Every line where the two dialects disagree gets a warning naming the file and
//! line, never the value.
//!
//! Pure: the caller downloads the file and supplies host lookups.

use crate::diagnostic::Class;
use std::collections::BTreeMap;
use std::fmt;

/// Go's `bufio.Scanner` default limit: a line (without its newline) must be shorter.
pub(crate) const MAX_LINE: usize = 64 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Dialect {
    #[default]
    Ec2,
    Fargate,
}

/// A parsed file: variables in a map (the last line wins) and dialect warnings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Parsed {
    pub vars: BTreeMap<String, String>,
    /// Names only, never values.
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum EnvFileError {
    /// A line at least [`MAX_LINE`] bytes long (Go: "bufio.Scanner: token too long").
    LineTooLong { line: usize },
    /// Not UTF-8 (the ECS docs require UTF-8; Docker refuses it).
    InvalidUtf8 { line: usize },
    /// Fargate (Docker) rejects the line.
    BadLine { line: usize, problem: String },
}

impl EnvFileError {
    pub(crate) fn class(&self) -> Class {
        Class::EnvfileRead
    }
}

impl fmt::Display for EnvFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EnvFileError::LineTooLong { line } => write!(
                f,
                "line {line} is {MAX_LINE} bytes or longer; the ECS agent fails the read \
                 (bufio.Scanner: token too long)"
            ),
            EnvFileError::InvalidUtf8 { line } => {
                write!(
                    f,
                    "line {line} is not valid UTF-8; environment files must be UTF-8"
                )
            }
            EnvFileError::BadLine { line, problem } => {
                write!(
                    f,
                    "line {line}: {problem} (Docker env-file rules, --launch-type fargate)"
                )
            }
        }
    }
}

impl std::error::Error for EnvFileError {}

/// What one line means in one dialect.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Line {
    Skip(&'static str),
    Var(String, String),
    /// A bare `NAME` (Fargate): the host's value, if it has one.
    Host(String),
    Error(String),
}

fn ec2_line(line: &str) -> Line {
    if line.starts_with('#') {
        return Line::Skip("a comment");
    }
    match line.split_once('=') {
        None => Line::Skip("a line without `=`"),
        Some(("", _)) => Line::Skip("a line with an empty name"),
        Some((name, value)) => Line::Var(name.to_owned(), value.to_owned()),
    }
}

fn fargate_line(line: &str) -> Line {
    let line = line.trim_start();
    if line.is_empty() {
        return Line::Skip("an empty line");
    }
    if line.starts_with('#') {
        return Line::Skip("a comment");
    }
    let (name, value) = match line.split_once('=') {
        Some((n, v)) => (n, Some(v)),
        None => (line, None),
    };
    // The line is not quoted: without `=`, or before it, it may be a piece of a value (a
    // multi-line key pasted into the file).
    if name.chars().any(char::is_whitespace) {
        return Line::Error("the name contains whitespace".to_owned());
    }
    if name.is_empty() {
        return Line::Error("no variable name before `=`".to_owned());
    }
    match value {
        Some(v) => Line::Var(name.to_owned(), v.to_owned()),
        None => Line::Host(name.to_owned()),
    }
}

/// Describe a line's meaning for a warning. Never the line's text: what looks like a name
/// may be a piece of a value (a multi-line key pasted into the file), so only the line number
/// says where.
fn meaning(line: &Line) -> String {
    match line {
        Line::Skip(why) => format!("skips it ({why})"),
        Line::Var(..) => "sets a variable".to_owned(),
        Line::Host(..) => "passes a variable through from the host".to_owned(),
        Line::Error(why) => format!("rejects it ({why})"),
    }
}

/// Parse one file. `file` names it in warnings; `host` looks up bare names (Fargate).
pub(crate) fn parse(
    content: &[u8],
    dialect: Dialect,
    file: &str,
    host: impl Fn(&str) -> Option<String>,
) -> Result<Parsed, EnvFileError> {
    let mut parsed = Parsed::default();
    let mut rest = content;
    let mut number = 0;
    while !rest.is_empty() {
        number += 1;
        let (raw, next) = match rest.iter().position(|b| *b == b'\n') {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (rest, &rest[rest.len()..]),
        };
        rest = next;
        if raw.len() >= MAX_LINE {
            return Err(EnvFileError::LineTooLong { line: number });
        }
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let text =
            std::str::from_utf8(raw).map_err(|_| EnvFileError::InvalidUtf8 { line: number })?;
        let fargate_text = if number == 1 {
            text.strip_prefix('\u{feff}').unwrap_or(text)
        } else {
            text
        };
        let ec2 = ec2_line(text);
        let fargate = fargate_line(fargate_text);
        // Blank lines are skipped by both, for different stated reasons: not a difference.
        let same = ec2 == fargate || matches!((&ec2, &fargate), (Line::Skip(_), Line::Skip(_)));
        if !same {
            parsed.warnings.push(format!(
                "{file} line {number}: the EC2 agent {} but Fargate (Docker env-file rules) {}",
                meaning(&ec2),
                meaning(&fargate)
            ));
        }
        match if dialect == Dialect::Ec2 {
            ec2
        } else {
            fargate
        } {
            Line::Var(name, value) => {
                parsed.vars.insert(name, value);
            }
            Line::Host(name) => {
                if let Some(value) = host(&name) {
                    parsed.vars.insert(name, value);
                }
            }
            Line::Skip(_) => {}
            Line::Error(problem) => {
                return Err(EnvFileError::BadLine {
                    line: number,
                    problem,
                });
            }
        }
    }
    Ok(parsed)
}

/// An environment file's S3 location, from `arn:PARTITION:s3:::BUCKET/KEY`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct S3Object {
    pub bucket: String,
    pub key: String,
}

/// Parse an `environmentFiles` value as the agent does; keys that climb out of their prefix
/// (`..`) are refused as in agent 1.105.1.
pub(crate) fn parse_s3_arn(arn: &str) -> Result<S3Object, String> {
    let invalid = || {
        format!(
            "unable to parse bucket and key from s3 ARN specified in environmentFile {arn}: \
             expected arn:PARTITION:s3:::BUCKET/KEY"
        )
    };
    let rest = crate::arn::Arn::of(arn)
        .filter(|a| a.service == "s3" && a.region.is_empty() && a.account.is_empty())
        .map(|a| a.resource)
        .ok_or_else(invalid)?;
    let (bucket, key) = rest.split_once('/').ok_or_else(invalid)?;
    if bucket.is_empty() || key.is_empty() {
        return Err(invalid());
    }
    if key.split('/').any(|part| part == "..") {
        return Err(format!(
            "the key of {arn} contains `..`, which the ECS agent refuses"
        ));
    }
    Ok(S3Object {
        bucket: bucket.to_owned(),
        key: key.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ec2(text: &str) -> BTreeMap<String, String> {
        parse(text.as_bytes(), Dialect::Ec2, "f.env", |_| None)
            .unwrap()
            .vars
    }

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect()
    }

    #[test]
    fn ec2_rules() {
        assert_eq!(ec2("KEY=value\n"), map(&[("KEY", "value")]));
        assert_eq!(ec2("KEY=a=b=c\n"), map(&[("KEY", "a=b=c")]));
        assert_eq!(ec2("=value\n"), map(&[]));
        assert_eq!(ec2("# comment=ignored\n"), map(&[]));
        assert_eq!(ec2("export KEY=v\n"), map(&[("export KEY", "v")]));
        assert_eq!(
            ec2("KEY=\"quoted value\"\n"),
            map(&[("KEY", "\"quoted value\"")])
        );
        assert_eq!(ec2("KEY=value   \n"), map(&[("KEY", "value   ")]));
        assert_eq!(ec2("JUSTNAME\n"), map(&[]));
        assert_eq!(ec2("\n   \nKEY=v\n\n"), map(&[("KEY", "v")]));
        assert_eq!(ec2("KEY=first\nKEY=second\n"), map(&[("KEY", "second")]));
        assert_eq!(
            ec2("KEY=value # not a comment\n"),
            map(&[("KEY", "value # not a comment")])
        );
        assert_eq!(ec2("KEY=multi\nline\n"), map(&[("KEY", "multi")]));
        assert_eq!(ec2("my.key-1=v\r\n"), map(&[("my.key-1", "v")]));
        assert_eq!(ec2("   # x=y"), map(&[("   # x", "y")]));
        assert_eq!(ec2("\u{feff}A=1"), map(&[("\u{feff}A", "1")]));
    }

    #[test]
    fn long_lines_fail_the_read() {
        let text = format!("KEY={}\n", "x".repeat(70_000));
        assert_eq!(
            parse(text.as_bytes(), Dialect::Ec2, "f", |_| None),
            Err(EnvFileError::LineTooLong { line: 1 })
        );
        let ok = format!("K={}\n", "x".repeat(MAX_LINE - 3));
        assert!(parse(ok.as_bytes(), Dialect::Ec2, "f", |_| None).is_ok());
    }

    #[test]
    fn fargate_rules_and_warnings() {
        let host = |n: &str| (n == "FROM_HOST").then(|| "h".to_owned());
        let text = "\u{feff}A=1\n  # indented=comment\nFROM_HOST\nB=2\n";
        let p = parse(text.as_bytes(), Dialect::Fargate, "f.env", host).unwrap();
        assert_eq!(p.vars, map(&[("A", "1"), ("B", "2"), ("FROM_HOST", "h")]));
        // Line 1 (BOM) and line 2 (indented comment) differ; line 3 is skipped by EC2.
        assert_eq!(p.warnings.len(), 3, "{:?}", p.warnings);
        assert_eq!(
            p.warnings[1],
            "f.env line 2: the EC2 agent sets a variable but Fargate (Docker env-file rules) skips it (a comment)"
        );
        // A value's continuation line never appears in a warning or an error.
        let pem = "KEY=-----BEGIN KEY-----\nMIIB canary-line+/=\ncanary2 x\n";
        let p = parse(pem.as_bytes(), Dialect::Ec2, "f", |_| None).unwrap();
        assert!(
            p.warnings.iter().all(|w| !w.contains("canary")),
            "{:?}",
            p.warnings
        );
        let err = parse(pem.as_bytes(), Dialect::Fargate, "f", |_| None).unwrap_err();
        assert!(!err.to_string().contains("canary"), "{err}");
        for bad in ["export KEY=v\n", "=value\n", "A B=1\n"] {
            let err = parse(bad.as_bytes(), Dialect::Fargate, "f", |_| None).unwrap_err();
            assert!(
                matches!(err, EnvFileError::BadLine { line: 1, .. }),
                "{bad}"
            );
        }
        assert_eq!(
            parse(b"A=\xff\n", Dialect::Fargate, "f", |_| None),
            Err(EnvFileError::InvalidUtf8 { line: 1 })
        );
    }

    #[test]
    fn s3_arns() {
        assert_eq!(
            parse_s3_arn("arn:aws:s3:::bucket/dir/app.env").unwrap(),
            S3Object {
                bucket: "bucket".into(),
                key: "dir/app.env".into()
            }
        );
        for bad in [
            "s3://bucket/key",
            "arn:aws:s3:::bucket",
            "arn:aws:s3:::/key",
            "arn:aws:s3:::b/../x.env",
        ] {
            assert!(parse_s3_arn(bad).is_err(), "{bad}");
        }
    }
}
