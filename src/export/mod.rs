//! Export encoders: turn resolved variables into text that another tool reads back exactly.
//!
//! This module owns every byte `ecs-env` prints when asked to *export* an environment instead
//! of exec'ing a command: one encoder per [`Format`], each paired with a validator that
//! **refuses** a variable the target cannot carry instead of emitting something that reads
//! back differently (docs/spec.md §10). The facts behind each rule are in docs/spec.md
//! §10.1–10.9 and are cited where the rule lives:
//!
//! | format | target | file |
//! |---|---|---|
//! | `dotenv`, `docker` | env files (dotenvy / Compose `env_file`; `docker run --env-file`) | `envfile.rs` |
//! | `shell`, `fish`, `powershell` | shell source code | `shell.rs` |
//! | `json` | a flat JSON object | `json.rs` |
//! | `github` | `$GITHUB_ENV` plus `::add-mask::` commands | `github.rs` |
//! | `names` | names only, for pass-through (`docker run -e NAME`, Compose `environment: [NAME]`) | `names.rs` |
//!
//! The module is pure: no I/O, no process handling, no clock. The caller decides where
//! [`Rendered::body`] and [`Rendered::masks`] go.
//!
//! Values are secrets. A [`Refusal`] names the variable and the *class* of the offending
//! character ("a line feed"), never the value or any part of it, and [`Rendered`]'s `Debug`
//! shows only lengths.
//!
//! Rules common to every format (docs/spec.md §10.8):
//! a NUL byte cannot be passed to a process, and a name must be non-empty and free of `=`
//! (`env(1)` splits on the first `=`), so those are refused everywhere, even though callers
//! refuse them too.

use std::fmt;

mod envfile;
mod github;
mod json;
mod names;
mod nextest;
mod shell;

#[cfg(test)]
mod tests;

/// An output format of `ecs-env export`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `NAME="…"`, the dialect dotenvy 0.15 and Docker Compose `env_file` both read exactly.
    Dotenv,
    /// `export NAME='…'` for POSIX shells (bash, dash, zsh…).
    Shell,
    /// `set -gx NAME '…'` for fish.
    Fish,
    /// `$env:NAME = '…'` for PowerShell.
    Powershell,
    /// `NAME=value`, raw, for `docker run --env-file` and Compose `format: raw`.
    Docker,
    /// One flat JSON object.
    Json,
    /// Heredoc entries for `$GITHUB_ENV`, plus `::add-mask::` commands for the job log.
    Github,
    /// Names only, one per line.
    Names,
    /// `NAME=value` lines for a cargo-nextest setup script's `$NEXTEST_ENV`.
    Nextest,
}

impl Format {
    /// Every format, in the order `--help` lists them.
    pub(crate) const ALL: [Format; 9] = [
        Format::Dotenv,
        Format::Shell,
        Format::Fish,
        Format::Powershell,
        Format::Docker,
        Format::Json,
        Format::Github,
        Format::Names,
        Format::Nextest,
    ];

    /// The name used on the command line and in messages.
    pub fn name(self) -> &'static str {
        match self {
            Format::Dotenv => "dotenv",
            Format::Shell => "shell",
            Format::Fish => "fish",
            Format::Powershell => "powershell",
            Format::Docker => "docker",
            Format::Json => "json",
            Format::Github => "github",
            Format::Names => "names",
            Format::Nextest => "nextest",
        }
    }
}

/// One variable to export. Deliberately not `Debug`: it holds a value.
pub(crate) struct Var<'a> {
    pub name: &'a str,
    pub value: &'a str,
    /// The value came from Secrets Manager or SSM (or a local override of one), as opposed to
    /// the task definition's plain `environment`. Decides masking and `::add-mask::`.
    pub secret: bool,
}

/// What a masked secret is printed as. Plain ASCII with no quote, `$`, `\`, `#`, `=` or
/// whitespace, so it is valid unquoted or quoted in every format.
pub(crate) const MASK: &str = "********";

/// The output of an export: what `Environment::export` and `ecs-env export` write.
#[derive(Default)]
pub struct Rendered {
    /// The payload: what goes to stdout or to the -o file.
    pub body: Vec<u8>,
    /// github only: `::add-mask::` lines, which must go to stdout (the job log), never into $GITHUB_ENV.
    pub masks: Vec<u8>,
}

/// Both fields hold secret values, so `Debug` shows their lengths only.
impl fmt::Debug for Rendered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rendered")
            .field("body", &format_args!("<{} bytes>", self.body.len()))
            .field("masks", &format_args!("<{} bytes>", self.masks.len()))
            .finish()
    }
}

/// A variable that `format` cannot carry exactly.
///
/// `problem` describes the offending character class or shape ("its value contains a line
/// feed"); it never quotes the value, so the refusal can be printed as-is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The variable the format cannot carry.
    pub variable: String,
    /// The format asked for.
    pub format: Format,
    /// Why not (never the value).
    pub problem: String,
}

impl Refusal {
    fn new(var: &Var<'_>, format: Format, problem: impl Into<String>) -> Self {
        Refusal {
            variable: var.name.to_owned(),
            format,
            problem: problem.into(),
        }
    }
}

/// ``cannot export `NAME` as FORMAT: PROBLEM``. A name that is itself the problem may hold
/// control characters (a line feed, an escape sequence), so those are written as `\u{…}`
/// escapes rather than sent raw to the user's terminal.
impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("cannot export `")?;
        for c in self.variable.chars() {
            if crate::diagnostic::is_invisible(c) {
                write!(f, "\\u{{{:x}}}", u32::from(c))?;
            } else {
                fmt::Write::write_char(f, c)?;
            }
        }
        write!(f, "` as {}: {}", self.format.name(), self.problem)
    }
}

impl std::error::Error for Refusal {}

/// Render `vars` in `format`.
///
/// `vars` are already sorted by name; the output keeps their order. When `mask` is true, every
/// var with `secret == true` is printed as [`MASK`]. Validation always runs on the real value,
/// so a masked export refuses exactly what the revealed one would: masking never hides a
/// problem that `--reveal` would then hit.
///
/// Every variable the format cannot carry is refused at once (each a [`Refusal`], in the
/// given order); nothing partial is returned.
pub(crate) fn render_all(
    format: Format,
    vars: &[Var<'_>],
    mask: bool,
) -> Result<Rendered, Vec<Refusal>> {
    // Validation is a pass of its own over the real values; the encoders below never refuse
    // and are the only code that looks at `mask`.
    let refused: Vec<Refusal> = vars
        .iter()
        .filter_map(|var| check(format, var).err())
        .collect();
    if !refused.is_empty() {
        return Err(refused);
    }
    let body = match format {
        Format::Dotenv => envfile::dotenv(vars, mask),
        Format::Docker => envfile::docker(vars, mask),
        Format::Shell => shell::posix(vars, mask),
        Format::Fish => shell::fish(vars, mask),
        Format::Powershell => shell::powershell(vars, mask),
        Format::Json => json::object(vars, mask),
        Format::Github => return Ok(github::github_env(vars, mask)),
        Format::Names => names::names(vars),
        // The same verbatim `NAME=value` lines; only what each reader refuses differs.
        Format::Nextest => envfile::docker(vars, mask),
    };
    Ok(Rendered {
        body,
        masks: Vec::new(),
    })
}

/// [`render_all`], stopping at the first refusal (the unit tests' view of one variable).
#[cfg(test)]
pub(crate) fn render(format: Format, vars: &[Var<'_>], mask: bool) -> Result<Rendered, Refusal> {
    render_all(format, vars, mask).map_err(|mut refused| refused.remove(0))
}

/// Whether `format` can carry `var`, judged on the real value.
fn check(format: Format, var: &Var<'_>) -> Result<(), Refusal> {
    check_common(format, var)?;
    match format {
        Format::Dotenv | Format::Shell | Format::Fish => check_identifier(format, var),
        Format::Powershell => shell::check_powershell(var),
        Format::Docker => envfile::check_docker(var),
        Format::Json => Ok(()),
        Format::Github => github::check(var),
        Format::Names => names::check(var),
        Format::Nextest => nextest::check(var),
    }
}

/// The value as printed: the mask for a secret when masking, else the value itself.
fn shown<'v>(var: &Var<'v>, mask: bool) -> &'v str {
    if mask && var.secret { MASK } else { var.value }
}

// Problem phrases. Each names a class of character or a shape, never the offending text.

const NUL: &str = "a NUL byte";
const LINE_FEED: &str = "a line feed";
const WHITESPACE: &str = "whitespace";
const CONTROL: &str = "a control character";
const NOT_IDENTIFIER_CHAR: &str = "a character that is not a letter, digit or underscore";

fn name_is_empty() -> String {
    "its name is empty".to_owned()
}

fn name_contains(class: &str) -> String {
    format!("its name contains {class}")
}

fn name_starts_with(class: &str) -> String {
    format!("its name starts with {class}")
}

fn value_contains(class: &str) -> String {
    format!("its value contains {class}")
}

/// Refusals shared by every format (docs/spec.md §10.8): NUL cannot reach a process
/// environment, and `NAME=VALUE` pairs cannot have an empty name or an `=` in it.
fn check_common(format: Format, var: &Var<'_>) -> Result<(), Refusal> {
    if var.name.contains('\0') {
        return Err(Refusal::new(var, format, name_contains(NUL)));
    }
    if var.name.is_empty() {
        return Err(Refusal::new(var, format, name_is_empty()));
    }
    if var.name.contains('=') {
        return Err(Refusal::new(var, format, name_contains("an equals sign")));
    }
    if var.value.contains('\0') {
        return Err(Refusal::new(var, format, value_contains(NUL)));
    }
    Ok(())
}

/// Names that are written unquoted into source code (shell, fish, PowerShell, dotenv) must be
/// portable identifiers, `[A-Za-z_][A-Za-z0-9_]*` (docs/spec.md §10.4: `export a-b=…` is a
/// shell syntax error; §10.3: dotenvy's keys start with a letter or `_`).
fn check_identifier(format: Format, var: &Var<'_>) -> Result<(), Refusal> {
    let name = var.name;
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        return Err(Refusal::new(var, format, name_starts_with("a digit")));
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(Refusal::new(
            var,
            format,
            name_contains(NOT_IDENTIFIER_CHAR),
        ));
    }
    Ok(())
}

/// Names in line-oriented files that are not source code (docker env files, `$GITHUB_ENV`,
/// the names list) need no quoting, but whitespace is refused: docker's kvfile rejects a key
/// containing whitespace (docs/spec.md §10.1), and a line break would end the line. Unicode
/// whitespace counts too (`char::is_whitespace` is the same set as Go's `unicode.IsSpace`).
fn check_no_whitespace(format: Format, var: &Var<'_>) -> Result<(), Refusal> {
    if var.name.contains(char::is_whitespace) {
        return Err(Refusal::new(var, format, name_contains(WHITESPACE)));
    }
    Ok(())
}

/// Control characters in a name are refused where the name is a line of its own in a file
/// another program parses (`$GITHUB_ENV`, the names list): they are never meant, and an
/// escape sequence in a name would reach the user's terminal.
fn check_no_control(format: Format, var: &Var<'_>) -> Result<(), Refusal> {
    if var.name.contains(char::is_control) {
        return Err(Refusal::new(var, format, name_contains(CONTROL)));
    }
    Ok(())
}

/// A name that, at the start of a line, docker's kvfile reader (docs/spec.md §10.1) would not
/// read as a key: a leading `#` makes the line a comment, and a leading byte-order mark is
/// stripped from the first line of a file.
fn check_line_start(format: Format, var: &Var<'_>) -> Result<(), Refusal> {
    if var.name.starts_with('#') {
        return Err(Refusal::new(var, format, name_starts_with("`#`")));
    }
    if var.name.starts_with('\u{feff}') {
        return Err(Refusal::new(
            var,
            format,
            name_starts_with("a byte-order mark"),
        ));
    }
    Ok(())
}
