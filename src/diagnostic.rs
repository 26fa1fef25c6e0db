//! Failure classes: the stable names every failure report, `check --format json` and the
//! library's [`Report`](crate::Report) carry. One table, so a name cannot drift between the
//! places that print it; docs/errors.md explains each (a test checks that it lists them all).

use std::borrow::Cow;
use std::fmt;

macro_rules! classes {
    ($($(#[doc = $doc:literal])* $variant:ident => $name:literal,)*) => {
        /// Why a variable (or the whole run) failed. Its [`name`](Class::name) is stable.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum Class {
            $($(#[doc = $doc])* $variant,)*
        }

        impl Class {
            /// Every class, in the order docs/errors.md lists them.
            pub const ALL: &'static [Class] = &[$(Class::$variant,)*];

            /// The stable name, as printed after `class:`.
            pub fn name(self) -> &'static str {
                match self {
                    $(Class::$variant => $name,)*
                }
            }
        }
    };
}

classes! {
    /// ECS would refuse the task definition at registration.
    RegisterRejected => "register_rejected",
    /// A Secrets Manager ARN with the wrong number of colon fields.
    AsmInvalidFormat => "asm_invalid_format",
    /// Not a valid ARN.
    ArnParse => "arn_parse",
    /// A reference that still holds a placeholder or an unrendered template.
    Placeholder => "placeholder",
    /// Secrets Manager has no such secret (or version).
    AsmNotFound => "asm_not_found",
    /// Any other `GetSecretValue` failure.
    AsmApiError => "asm_api_error",
    /// The secret holds only `SecretBinary`.
    AsmBinary => "asm_binary",
    /// The same, with a JSON key.
    AsmBinaryWithKey => "asm_binary_with_key",
    /// A JSON key was asked of a secret that is not a JSON object.
    JsonParse => "json_parse",
    /// The JSON object has no such key.
    JsonKeyMissing => "json_key_missing",
    /// Parameter Store listed the name as invalid or returned nothing for it.
    SsmInvalidParameters => "ssm_invalid_parameters",
    /// `GetParameters` failed, or Parameter Store would reject the name.
    SsmApiError => "ssm_api_error",
    /// An environment file could not be read or parsed.
    EnvfileRead => "envfile_read",
    /// An override names a variable the container does not define.
    UnknownOverride => "unknown_override",
    /// No region to read a bare parameter name in, or to inject.
    NoRegion => "no_region",
    /// `policy`: no account to write a parameter's ARN with.
    NoAccount => "no_account",
    /// A CloudFormation intrinsic that needs more input.
    UnresolvedIntrinsic => "unresolved_intrinsic",
    /// A Terraform expression that cannot be evaluated.
    Terraform => "terraform",
    /// A variable name the kernel cannot carry.
    InvalidName => "invalid_name",
    /// A value the kernel cannot carry.
    InvalidValue => "invalid_value",
    /// Offline, a value would have to be fetched.
    Offline => "offline",
    /// A bug in ecs-env.
    Internal => "internal",
    /// The task definition could not be read.
    ReadTaskDefinition => "read_task_definition",
    /// The task definition is not one ecs-env can read.
    TaskDefinition => "task_definition",
    /// No such container, or a choice is needed.
    Container => "container",
    /// A CloudFormation template that cannot be used.
    Template => "template",
    /// Terraform state that cannot be used.
    State => "state",
    /// Bad arguments.
    Usage => "usage",
    /// An override file that cannot be read.
    OverrideFile => "override_file",
    /// No AWS credentials, or offline.
    AwsConnect => "aws_connect",
    /// The role to act as (`--as-execution-role`) could not be assumed; nothing was fetched.
    AssumeRole => "assume_role",
    /// A deployed source (task definition, service, stack) could not be read.
    Source => "source",
    /// Watch mode cannot follow the references.
    Watch => "watch",
    /// `--task-role`: the credentials endpoint could not listen.
    Endpoint => "credentials_endpoint",
    /// The command could not be started.
    Exec => "exec",
    /// The async runtime could not start.
    Runtime => "runtime",
    /// Stopped by a signal.
    Interrupted => "interrupted",
    /// `--timeout` ran out.
    TimedOut => "timed_out",
    /// Output could not be written.
    Output => "output",
    /// The export format cannot carry a variable.
    ExportRefused => "export_refused",
}

/// Characters that would be invisible, move the cursor or reorder text in a terminal: C0 and
/// C1 controls (line breaks, escape sequences, carriage returns), zero-width and
/// bidirectional formatting characters, the byte-order mark.
pub(crate) fn is_invisible(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2069}' | '\u{feff}')
}

/// Text from a task definition, a configuration, the command line or AWS, safe to print: every
/// invisible character written as a `\u{…}` escape, so that no input can move the cursor,
/// hide a line or recolour the terminal. Applied wherever such text is printed (the failure
/// report, `check`, warnings), one field at a time, so the report's own line breaks stay.
pub(crate) fn escaped(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_invisible) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if is_invisible(c) {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// JSON text for a terminal: serde_json already escapes control characters; the other
/// invisible ones (bidirectional and zero-width formatting) become `\uXXXX` escapes too, which
/// JSON readers decode to the same strings.
pub(crate) fn json_for_terminal(json: String) -> String {
    if !json.chars().any(is_invisible) {
        return json;
    }
    let mut out = String::with_capacity(json.len() + 8);
    for c in json.chars() {
        if is_invisible(c) && !matches!(c, '\n' | '\t') {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// A YAML parse error as its position only (`invalid YAML at line 3, column 7`): the text
/// may be a secret, so the scanner's own words, which can quote it, are not shown. saphyr's
/// columns are 0-based; editors (and serde_json) count from 1.
pub(crate) fn yaml_error(e: &saphyr::ScanError) -> String {
    let at = e.marker();
    format!(
        "invalid YAML at line {}, column {}",
        at.line(),
        at.col() + 1
    )
}

/// A JSON parse error as its kind and position only. serde_json's own message names the
/// token it met, and the text being parsed may be a secret (a `SecretString`, a value read by
/// `jsondecode`), so no parser text is ever shown: `a syntax error at line 1, column 13`.
pub(crate) fn json_error(e: &serde_json::Error) -> String {
    let kind = match e.classify() {
        serde_json::error::Category::Io => "a read error",
        // A fixed message of serde_json's, which quotes nothing.
        serde_json::error::Category::Syntax
            if e.to_string().starts_with("recursion limit exceeded") =>
        {
            "nesting past the recursion limit (128 levels)"
        }
        serde_json::error::Category::Syntax => "a syntax error",
        serde_json::error::Category::Data => "a value out of range",
        serde_json::error::Category::Eof => "an unexpected end of input",
    };
    format!("{kind} at line {}, column {}", e.line(), e.column())
}

impl fmt::Display for Class {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invisible_characters_are_escaped() {
        assert_eq!(escaped("LD_PRELOAD"), "LD_PRELOAD");
        assert_eq!(
            escaped("A\rB\x1b[2KC\u{202e}D\nE"),
            "A\\u{d}B\\u{1b}[2KC\\u{202e}D\\u{a}E"
        );
        assert_eq!(escaped("é✓"), "é✓");
    }

    #[test]
    fn json_for_a_terminal_reads_back_the_same() {
        let value = serde_json::json!({"k\u{202e}": "a\u{200b}b\u{1b}"});
        let text = json_for_terminal(serde_json::to_string_pretty(&value).unwrap());
        assert!(
            !text.chars().any(|c| is_invisible(c) && c != '\n'),
            "{text}"
        );
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&text).unwrap(),
            value
        );
    }

    #[test]
    fn json_errors_name_position_and_kind_only() {
        for (text, want) in [
            (
                r#"{"k":"\uD800CANARY"}"#,
                "a syntax error at line 1, column 13",
            ),
            (r#"{"k":tCANARY}"#, "a syntax error at line 1, column 7"),
            (
                r#"{"k":"CANARY"#,
                "an unexpected end of input at line 1, column 12",
            ),
        ] {
            let e = serde_json::from_str::<serde_json::Value>(text).unwrap_err();
            assert_eq!(json_error(&e), want, "{text}");
        }
    }

    #[test]
    fn names_are_unique_snake_case_and_documented() {
        let errors = include_str!("../docs/errors.md");
        let mut seen = std::collections::BTreeSet::new();
        for class in Class::ALL {
            let name = class.name();
            assert!(seen.insert(name), "{name} twice");
            assert!(
                name.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{name}"
            );
            assert!(
                errors.contains(&format!("`{name}`")),
                "docs/errors.md does not explain `{name}`"
            );
        }
    }
}
