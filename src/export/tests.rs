//! Round trips: every format's output read back by the program that will read it, on the
//! hostile round-trip values of docs/spec.md §10.10 plus a few more.
//!
//! Readers actually run here: **bash** and **dash** (`shell`), **fish** (`fish`), the
//! **dotenvy** crate (`dotenv`), **serde_json** (`json`). Where the real reader cannot run in
//! a unit test, a test-only *port* of its parsing rules stands in, and says so: docker/cli's
//! `pkg/kvfile` (`docker`; no docker engine or Go toolchain here) and actions/runner's
//! `$GITHUB_ENV` parser (`github`). PowerShell has neither (no `pwsh` here): its encoder has
//! golden tests only, in `shell.rs`.
//!
//! A missing shell fails its test with instructions; it is never skipped, because a skipped
//! round trip would look like a passing one.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::{Format, MASK, Refusal, Var, render};

/// The round-trip values of docs/spec.md §10.10, all 28 of them, in the order given there.
const APPENDIX_A: [(&str, &str); 28] = [
    ("SIMPLE", "simple"),
    ("SPACE_IN", "with space"),
    ("LEAD_TRAIL", "  padded  "),
    ("NEWLINE", "multi\nline"),
    ("TRAIL_NL", "trailing newline\n"),
    ("DOLLAR_VAR", "cost $HOME"),
    ("DOLLAR_BRACE", "x ${HOME} y"),
    ("DOLLAR_DEFAULT", "${UNSET_ZZ:-dflt}"),
    ("DOLLAR_DOUBLE", "pa$$word"),
    ("BACKSLASH", "back\\slash"),
    ("BACKSLASH_END", "ends\\"),
    ("BACKSLASH_N", "literal\\n"),
    ("DQUOTE", "say \"hi\""),
    ("SQUOTE", "it's"),
    ("HASH_MID", "a #b"),
    ("HASH_NOSPACE", "a#b"),
    ("HASH_START", "#start"),
    ("EQUALS", "a=b=c"),
    ("CRLF", "cr\r\nlf"),
    ("TAB", "tab\there"),
    ("EMPTY", ""),
    ("BACKTICK_CMD", "`id` $(id)"),
    ("UNICODE", "héllo ✓"),
    ("JSON", "{\"a\":\"b\",\"c\":[1,2]}"),
    ("PEM", "-----BEGIN KEY-----\nAbC+/=\n-----END KEY-----\n"),
    ("MIXED", "all '\"`$\\ # mix"),
    ("QUOTED_WHOLE_D", "\"wrapped\""),
    ("QUOTED_WHOLE_S", "'wrapped'"),
];

/// More hostile values, aimed at specific readers.
const EXTRA: &[(&str, &str)] = &[
    ("ONLY_LF", "\n"),
    ("LEADING_LF", "\nlead"),
    ("CR_MID", "a\rb"),
    ("CRLF_END", "x\r\n"),
    // PowerShell's single quotes, and the double ones it does not treat as quotes.
    (
        "CURLY_QUOTES",
        "\u{2018}\u{2019}\u{201a}\u{201b}\u{201c}\u{201d}\u{201e}",
    ),
    // fish: both of its single-quote escapes, adjacent.
    ("BACKSLASH_QUOTE", "\\'"),
    ("QUOTE_BACKSLASH", "'\\"),
    ("DOUBLE_BACKSLASH_N", "\\\\n"),
    // dotenvy substitutes earlier *file* values too, not only the process environment.
    ("DOLLAR_FILE_VAR", "$BACKSLASH ${BACKTICK_CMD} $"),
    ("DOLLAR_END", "end$"),
    // github: lines that look like heredoc syntax or a delimiter.
    ("HEREDOC_LIKE", "EOF\nx<<EOF\nEOF"),
    ("DELIM_LIKE", "ghadelimiter_0123\nghadelimiter_"),
    ("PERCENT", "100%0A %25"),
    ("SPACES_ONLY", "   "),
    ("CONTROL", "\u{1}\u{7}\u{1b}[31m\u{7f}"),
    ("UNICODE_SPACE", "\u{a0}x\u{3000}\u{85}\u{2028}"),
    // fish keeps some code points for internal use (wildcards, undecodable bytes).
    ("FISH_RESERVED", "\u{f600}\u{f6ff}\u{fdd0}\u{fdef}\u{fffd}"),
    ("EMOJI", "🦀"),
    ("GLOB", "* ? [a] ~root"),
    ("SEMICOLON", "a; exit 3"),
    ("BRACES", "}{ $((1+1)) !! !$"),
];

/// The §10.10 set + [`EXTRA`], sorted by name as the caller sorts, every other one secret (so a
/// masked run masks some and not others).
fn hostile() -> Vec<Var<'static>> {
    let mut all: Vec<(&str, &str)> = APPENDIX_A.iter().chain(EXTRA).copied().collect();
    all.sort();
    let names: BTreeSet<&str> = all.iter().map(|(n, _)| *n).collect();
    assert_eq!(names.len(), all.len(), "duplicate test names");
    all.into_iter()
        .enumerate()
        .map(|(i, (name, value))| Var {
            name,
            value,
            secret: i % 2 == 0,
        })
        .collect()
}

/// The hostile vars `format` accepts, each checked alone.
fn accepted(format: Format) -> Vec<Var<'static>> {
    hostile()
        .into_iter()
        .filter(|v| render(format, &[copy(v)], false).is_ok())
        .collect()
}

fn copy<'a>(v: &Var<'a>) -> Var<'a> {
    Var {
        name: v.name,
        value: v.value,
        secret: v.secret,
    }
}

/// What a reader must see: name and value, or the mask for a secret when masking.
fn expected(vars: &[Var<'_>], mask: bool) -> Vec<(String, String)> {
    vars.iter()
        .map(|v| {
            let value = if mask && v.secret { MASK } else { v.value };
            (v.name.to_owned(), value.to_owned())
        })
        .collect()
}

fn body(format: Format, vars: &[Var<'_>], mask: bool) -> Vec<u8> {
    render(format, vars, mask).unwrap().body
}

/// A variable that is not a secret, for the golden tests of the encoders.
pub(super) fn plain<'a>(name: &'a str, value: &'a str) -> Var<'a> {
    Var {
        name,
        value,
        secret: false,
    }
}

/// The rendered text.
pub(super) fn text(format: Format, vars: &[Var<'_>], mask: bool) -> String {
    String::from_utf8(body(format, vars, mask)).unwrap()
}

// ---------------------------------------------------------------------------------------------
// Which values each format refuses, and that masking never changes it.

#[test]
fn appendix_a_refusals_are_exactly_the_expected_ones() {
    let refused_by = |format: Format| -> BTreeSet<&str> {
        APPENDIX_A
            .iter()
            .filter(|(name, value)| {
                let var = Var {
                    name,
                    value,
                    secret: false,
                };
                render(format, &[var], false).is_err()
            })
            .map(|(name, _)| *name)
            .collect()
    };
    // docker: no line feeds, and the two values whose outer quotes docker versions disagree on.
    assert_eq!(
        refused_by(Format::Docker),
        BTreeSet::from([
            "CRLF",
            "NEWLINE",
            "PEM",
            "QUOTED_WHOLE_D",
            "QUOTED_WHOLE_S",
            "TRAIL_NL"
        ])
    );
    // powershell: the empty value (deleted by PowerShell before 7.5).
    assert_eq!(refused_by(Format::Powershell), BTreeSet::from(["EMPTY"]));
    for format in [
        Format::Dotenv,
        Format::Shell,
        Format::Fish,
        Format::Json,
        Format::Github,
        Format::Names,
    ] {
        assert_eq!(refused_by(format), BTreeSet::new(), "{}", format.name());
    }
}

const ALL_FORMATS: [Format; 9] = Format::ALL;

#[test]
fn masked_export_refuses_exactly_what_the_revealed_one_would() {
    let long = "x".repeat(70_000);
    let mut values: Vec<&str> = APPENDIX_A.iter().chain(EXTRA).map(|(_, v)| *v).collect();
    values.extend(["x\r", "a\0b", &long, "''", "\"\""]);
    let names = [
        "OK",
        "a-b",
        "A B",
        "",
        "A=B",
        "#A",
        "A<<B",
        "NODE_OPTIONS",
        "A\0",
    ];
    for format in ALL_FORMATS {
        for name in names {
            for value in &values {
                let var = || Var {
                    name,
                    value,
                    secret: true,
                };
                let revealed = render(format, &[var()], false).map(|_| ());
                let masked = render(format, &[var()], true).map(|_| ());
                assert_eq!(revealed, masked, "{} {name:?}", format.name());
            }
        }
    }
}

#[test]
fn every_format_refuses_nul_empty_names_and_equals_in_names() {
    let cases: &[(&str, &str, &str)] = &[
        ("V", "canary\0x", "its value contains a NUL byte"),
        ("V\0", "canary", "its name contains a NUL byte"),
        ("", "canary", "its name is empty"),
        ("A=B", "canary", "its name contains an equals sign"),
    ];
    for format in ALL_FORMATS {
        for (name, value, problem) in cases {
            let var = Var {
                name,
                value,
                secret: false,
            };
            let err = render(format, &[var], false).unwrap_err();
            assert_eq!(
                err,
                Refusal {
                    variable: name.to_string(),
                    format,
                    problem: problem.to_string(),
                }
            );
            let msg = err.to_string();
            assert!(
                msg.contains(format.name()) && msg.ends_with(problem),
                "{msg}"
            );
            assert!(!msg.contains("canary"));
        }
    }
}

#[test]
fn refusal_display_is_exact_and_escapes_the_name() {
    let var = Var {
        name: "DB_PASSWORD",
        value: "canary\nsecond line",
        secret: true,
    };
    let err = render(Format::Docker, &[var], true).unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot export `DB_PASSWORD` as docker: its value contains a line feed"
    );
    let var = Var {
        name: "A\nB\u{202e}",
        value: "canary",
        secret: false,
    };
    let err = render(Format::Shell, &[var], false).unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot export `A\\u{a}B\\u{202e}` as shell: its name contains a character that is not a letter, digit or underscore"
    );
}

#[test]
fn the_first_refused_variable_in_order_is_reported() {
    let vars = [
        Var {
            name: "A",
            value: "ok",
            secret: false,
        },
        Var {
            name: "B-1",
            value: "ok",
            secret: false,
        },
        Var {
            name: "C",
            value: "nul\0",
            secret: false,
        },
    ];
    assert_eq!(
        render(Format::Shell, &vars, false).unwrap_err().variable,
        "B-1"
    );
}

#[test]
fn format_names() {
    let names: Vec<&str> = ALL_FORMATS.iter().map(|f| f.name()).collect();
    assert_eq!(
        names,
        [
            "dotenv",
            "shell",
            "fish",
            "powershell",
            "docker",
            "json",
            "github",
            "names",
            "nextest"
        ]
    );
}

#[test]
fn rendered_debug_shows_no_values() {
    let var = Var {
        name: "A",
        value: "canary",
        secret: true,
    };
    let out = render(Format::Github, &[var], false).unwrap();
    let debug = format!("{out:?}");
    assert!(
        !debug.contains("canary") && debug.contains("bytes"),
        "{debug}"
    );
}

// ---------------------------------------------------------------------------------------------
// Real shells: bash, dash, fish.

/// A private temporary directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "ecs-env-export-test-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir(&path).unwrap();
        TempDir(path)
    }

    fn write(&self, name: &str, contents: &[u8]) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, contents).unwrap();
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[derive(Clone, Copy, Debug)]
enum Shell {
    Bash,
    Dash,
    Fish,
}

/// Source `script` in a fresh `shell` with an almost empty environment, then print the
/// environment with `env -0`, so values with line feeds come back intact.
fn sourced_env(
    shell: Shell,
    script: &Path,
    home: &Path,
    locale: &str,
) -> BTreeMap<String, Vec<u8>> {
    let mut cmd = match shell {
        // `set -a` as documented for users (`set -a; . ./file`); the `export` makes it moot.
        Shell::Bash => Command::new("bash"),
        Shell::Dash => Command::new("dash"),
        Shell::Fish => Command::new("fish"),
    };
    match shell {
        Shell::Bash | Shell::Dash => {
            cmd.arg("-c").arg("set -a; . \"$1\"; exec env -0").arg("sh");
        }
        Shell::Fish => {
            cmd.arg("--no-config")
                .arg("-c")
                .arg("source $argv[1]; and exec env -0");
        }
    }
    cmd.arg(script)
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home)
        .env("XDG_DATA_HOME", home)
        .env("LC_ALL", locale);
    let output = match cmd.output() {
        Ok(output) => output,
        Err(e) => panic!(
            "cannot run {shell:?} ({e}): this round trip needs it installed \
             (`apt-get install -y bash dash fish`); it is not skipped on purpose"
        ),
    };
    assert!(
        output.status.success() && output.stderr.is_empty(),
        "{shell:?} failed on {}: {}\n{}",
        script.display(),
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    output
        .stdout
        .split(|&b| b == 0)
        .filter(|entry| !entry.is_empty())
        .map(|entry| {
            let eq = entry
                .iter()
                .position(|&b| b == b'=')
                .expect("env entry without =");
            (
                String::from_utf8(entry[..eq].to_vec()).unwrap(),
                entry[eq + 1..].to_vec(),
            )
        })
        .collect()
}

/// Render `vars`, source the result in `shell`, and require exactly the expected variables:
/// each value byte for byte, and no other variable appearing (a value that escaped its quotes
/// could define one).
fn shell_round_trip(format: Format, shell: Shell, vars: &[Var<'_>], mask: bool, locale: &str) {
    let dir = TempDir::new();
    let baseline = sourced_env(shell, &dir.write("empty", b""), &dir.0, locale);
    let script = dir.write("vars", &body(format, vars, mask));
    let env = sourced_env(shell, &script, &dir.0, locale);

    let want = expected(vars, mask);
    for (name, value) in &want {
        let got = env
            .get(name)
            .map(|v| String::from_utf8_lossy(v).into_owned());
        assert_eq!(
            got.as_deref(),
            Some(value.as_str()),
            "{shell:?} ({locale}) read {name} wrongly"
        );
    }
    let new: BTreeSet<&str> = env
        .keys()
        .filter(|k| !baseline.contains_key(*k))
        .map(String::as_str)
        .collect();
    let want_names: BTreeSet<&str> = want.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        new, want_names,
        "{shell:?} ({locale}): unexpected variables"
    );
}

/// All accepted hostile values in one file (catches quoting that leaks into the next line),
/// then each in a file of its own (catches errors that a neighbour happens to repair); revealed
/// and masked.
fn shell_round_trips(format: Format, shell: Shell, locale: &str) {
    let vars = accepted(format);
    assert_eq!(vars.len(), APPENDIX_A.len() + EXTRA.len());
    for mask in [false, true] {
        shell_round_trip(format, shell, &vars, mask, locale);
    }
    for var in &vars {
        shell_round_trip(format, shell, std::slice::from_ref(var), false, locale);
    }
}

#[test]
fn shell_format_round_trips_in_bash() {
    shell_round_trips(Format::Shell, Shell::Bash, "C.UTF-8");
    shell_round_trips(Format::Shell, Shell::Bash, "C");
}

#[test]
fn shell_format_round_trips_in_dash() {
    shell_round_trips(Format::Shell, Shell::Dash, "C.UTF-8");
}

#[test]
fn fish_format_round_trips_in_fish() {
    shell_round_trips(Format::Fish, Shell::Fish, "C.UTF-8");
    shell_round_trips(Format::Fish, Shell::Fish, "C");
}

#[test]
fn fish_needs_its_own_format() {
    // Why `fish` exists (docs/spec.md §10.5): the POSIX encoding of a backslash value is read
    // differently by fish. Guards against the test harness silently running another shell.
    let vars = [Var {
        name: "B",
        value: "ends\\",
        secret: false,
    }];
    let dir = TempDir::new();
    let posix = dir.write("posix", &body(Format::Shell, &vars, false));
    let mut cmd = Command::new("fish");
    cmd.args(["--no-config", "-c", "source $argv[1]; and printf %s $B"])
        .arg(&posix)
        .env_clear()
        .env("HOME", &dir.0)
        .env("PATH", "/usr/bin:/bin");
    let out = cmd
        .output()
        .expect("fish must be installed (`apt-get install -y fish`)");
    assert_ne!(
        (out.status.success(), out.stdout.as_slice()),
        (true, b"ends\\".as_slice())
    );
}

// ---------------------------------------------------------------------------------------------
// dotenv: the real dotenvy crate.

fn dotenvy_read(bytes: &[u8]) -> Vec<(String, String)> {
    dotenvy::from_read_iter(bytes)
        .collect::<Result<Vec<_>, _>>()
        .unwrap_or_else(|e| panic!("dotenvy rejected the output: {e}"))
}

#[test]
fn dotenv_round_trips_in_dotenvy() {
    // dotenvy substitutes `$NAME` from the process environment first: make sure the names the
    // values mention are set, so a missing `\$` escape would show.
    assert!(
        std::env::var_os("HOME").is_some(),
        "HOME must be set for this test"
    );
    // (Braced: dotenvy 0.15.7 cannot parse `"$HOME"`, an unbraced name right before the
    // closing quote, which is one more reason to escape every `$`.)
    let live = dotenvy_read(b"X=\"${HOME}\"\n");
    assert_ne!(live[0].1, "${HOME}", "dotenvy's substitution is not active");

    let vars = accepted(Format::Dotenv);
    assert_eq!(vars.len(), APPENDIX_A.len() + EXTRA.len());
    for mask in [false, true] {
        assert_eq!(
            dotenvy_read(&body(Format::Dotenv, &vars, mask)),
            expected(&vars, mask)
        );
    }
    for var in &vars {
        let one = std::slice::from_ref(var);
        assert_eq!(
            dotenvy_read(&body(Format::Dotenv, one, false)),
            expected(one, false),
            "{}",
            var.name
        );
    }
}

// ---------------------------------------------------------------------------------------------
// json: serde_json.

#[test]
fn json_round_trips_in_serde_json() {
    let vars = accepted(Format::Json);
    assert_eq!(vars.len(), APPENDIX_A.len() + EXTRA.len());
    for mask in [false, true] {
        let out = body(Format::Json, &vars, mask);
        // Compact: one line, then the newline.
        assert_eq!(out.iter().filter(|&&b| b == b'\n').count(), 1);
        assert_eq!(out.last(), Some(&b'\n'));
        let parsed: serde_json::Value = serde_json::from_slice(&out).unwrap();
        let object = parsed.as_object().unwrap();
        let got: BTreeMap<&str, &str> = object
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str().unwrap()))
            .collect();
        let want = expected(&vars, mask);
        let want: BTreeMap<&str, &str> =
            want.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(got, want);
    }
}

// ---------------------------------------------------------------------------------------------
// docker: a PORT of docker/cli `pkg/kvfile`, not the real reader.

/// Go's `bufio.MaxScanTokenSize`, the buffer docker's line scanner uses.
const MAX_SCAN_TOKEN_SIZE: usize = 64 * 1024;

/// Test-only port of docker/cli `pkg/kvfile` `parseKeyValueFile` (used by `docker run
/// --env-file` and Compose `format: raw`). This is a port, not the real reader: there is no
/// docker engine or Go toolchain on this machine. Rules, from the source:
/// * lines come from `bufio.Scanner` (`ScanLines`): split at LF, one CR before it dropped, a
///   line that does not fit the 64 KiB buffer together with its LF is an error;
/// * each line must be UTF-8; a BOM is removed from line 1; leading whitespace
///   (`unicode.IsSpace`, the same set as `char::is_whitespace`) is removed;
/// * empty lines and lines starting with `#` are skipped;
/// * `KEY=VALUE` is split at the first `=`; the key must be non-empty and free of
///   whitespace; the value is used as-is;
/// * `trim_quotes`: the variant found in some docker/cli snapshots (proposed upstream in
///   docker/cli#6805) that strips one pair of matching outer `"` or `'`.
///
/// A line without `=` would be looked up in docker's environment; ecs-env never writes one,
/// so the port reports it as an error.
fn kvfile_parse(input: &[u8], trim_quotes: bool) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    let mut rest = input;
    let mut number = 0;
    while !rest.is_empty() {
        number += 1;
        let (raw, next) = match rest.iter().position(|&b| b == b'\n') {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (rest, &rest[rest.len()..]),
        };
        rest = next;
        if raw.len() >= MAX_SCAN_TOKEN_SIZE {
            return Err("bufio.Scanner: token too long".to_owned());
        }
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let line =
            std::str::from_utf8(raw).map_err(|_| format!("invalid utf8 at line {number}"))?;
        let line = if number == 1 {
            line.strip_prefix('\u{feff}').unwrap_or(line)
        } else {
            line
        };
        let line = line.trim_start_matches(char::is_whitespace);
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            return Err(format!("line {number} has no `=` (would be looked up)"));
        };
        if key.is_empty() {
            return Err(format!("no variable name on line {number}"));
        }
        if key.contains(char::is_whitespace) {
            return Err(format!("variable on line {number} contains whitespaces"));
        }
        let value = if trim_quotes {
            strip_matching_quotes(value)
        } else {
            value
        };
        out.push((key.to_owned(), value.to_owned()));
    }
    Ok(out)
}

/// kvfile's `trimQuotes`: byte-wise, length at least 2, same `'` or `"` at both ends.
fn strip_matching_quotes(value: &str) -> &str {
    let b = value.as_bytes();
    if b.len() >= 2 && matches!(b[0], b'"' | b'\'') && b[0] == b[b.len() - 1] {
        &value[1..value.len() - 1]
    } else {
        value
    }
}

#[test]
fn docker_round_trips_in_a_port_of_kvfile() {
    let vars = accepted(Format::Docker);
    // The §10.10 set minus its six refusals; EXTRA minus the ones with a line feed.
    assert_eq!(vars.len(), APPENDIX_A.len() - 6 + EXTRA.len() - 5);
    for trim_quotes in [false, true] {
        for mask in [false, true] {
            let out = body(Format::Docker, &vars, mask);
            assert_eq!(
                kvfile_parse(&out, trim_quotes).unwrap(),
                expected(&vars, mask)
            );
        }
        for var in &vars {
            let one = std::slice::from_ref(var);
            let out = body(Format::Docker, one, false);
            assert_eq!(
                kvfile_parse(&out, trim_quotes).unwrap(),
                expected(one, false)
            );
        }
    }
    // The longest accepted line is read; names docker accepts but identifiers do not, too.
    let long = "y".repeat(MAX_SCAN_TOKEN_SIZE - 1 - "lower.dot-dash=".len());
    let vars = [Var {
        name: "lower.dot-dash",
        value: &long,
        secret: false,
    }];
    let out = body(Format::Docker, &vars, false);
    assert_eq!(kvfile_parse(&out, false).unwrap(), expected(&vars, false));
}

#[test]
fn docker_refusals_are_values_kvfile_reads_back_wrongly() {
    // What the encoder would write if it did not refuse, and what the reader makes of it.
    let wrong = |raw: &str| {
        (
            kvfile_parse(raw.as_bytes(), false),
            kvfile_parse(raw.as_bytes(), true),
        )
    };
    // A trailing CR is eaten with the line break.
    assert_eq!(
        wrong("V=x\r\n").0.unwrap(),
        [("V".to_owned(), "x".to_owned())]
    );
    // A line feed splits the value; the rest is a line of its own.
    assert!(wrong("V=a\nb\n").0.is_err());
    assert_eq!(
        wrong("V=a\n#b\n").0.unwrap(),
        [("V".to_owned(), "a".to_owned())]
    );
    // Matching outer quotes: the two variants disagree.
    let (plain, trimmed) = wrong("V=\"x\"\n");
    assert_ne!(plain.unwrap(), trimmed.unwrap());
    // Over 64 KiB: a reader error.
    let long = format!("V={}\n", "x".repeat(MAX_SCAN_TOKEN_SIZE - 2));
    assert!(kvfile_parse(long.as_bytes(), false).is_err());
    // Name problems.
    assert!(wrong("A B=x\n").0.is_err());
    assert_eq!(wrong("#A=x\n").0.unwrap(), Vec::<(String, String)>::new());
    assert_eq!(
        wrong("\u{feff}A=x\n").0.unwrap(),
        [("A".to_owned(), "x".to_owned())]
    );
}

// ---------------------------------------------------------------------------------------------
// github: a PORT of the runner's `$GITHUB_ENV` parser, not the real runner.

/// actions/runner `ReadLine`: a line ends at LF; on Windows runners (`#if OS_WINDOWS`) at a
/// CRLF that comes first. Returns the line and the line break that ended it ("" at the end of
/// the text).
fn runner_read_line<'t>(
    text: &'t str,
    index: &mut usize,
    windows: bool,
) -> Option<(&'t str, &'static str)> {
    if *index >= text.len() {
        return None;
    }
    let start = *index;
    let Some(lf) = text[start..].find('\n').map(|i| start + i) else {
        *index = text.len();
        return Some((&text[start..], ""));
    };
    if windows
        && let Some(crlf) = text[start..].find("\r\n").map(|i| start + i)
        && crlf < lf
    {
        *index = crlf + 2;
        return Some((&text[start..crlf], "\r\n"));
    }
    *index = lf + 1;
    Some((&text[start..lf], "\n"))
}

/// Test-only port of actions/runner `SetEnvFileCommand.ProcessCommand`
/// (`src/Runner.Worker/FileCommandManager.cs`); not the real runner, which is a .NET service.
/// Rules: skip empty lines; `=` before any `<<` means `NAME=VALUE` (rest of the line);
/// otherwise `NAME<<DELIM` (both non-empty) and the value is the text from the next line up to
/// the first line equal to DELIM, minus the line break before it.
fn runner_parse_env_file(text: &str, windows: bool) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    let mut index = 0;
    while let Some((line, _)) = runner_read_line(text, &mut index, windows) {
        if line.is_empty() {
            continue;
        }
        let equals = line.find('=');
        let heredoc = line.find("<<");
        match (equals, heredoc) {
            (Some(e), h) if h.is_none_or(|h| e < h) => {
                out.push((line[..e].to_owned(), line[e + 1..].to_owned()));
            }
            (_, Some(h)) => {
                let (name, delimiter) = (&line[..h], &line[h + 2..]);
                if name.is_empty() || delimiter.is_empty() {
                    return Err("name and delimiter must not be empty".to_owned());
                }
                let start = index;
                let mut end = index;
                loop {
                    match runner_read_line(text, &mut index, windows) {
                        None => return Err("matching delimiter not found".to_owned()),
                        Some((l, _)) if l == delimiter => break,
                        Some((_, newline)) => end = index - newline.len(),
                    }
                }
                let value = if end > start { &text[start..end] } else { "" };
                out.push((name.to_owned(), value.to_owned()));
            }
            _ => return Err("invalid format".to_owned()),
        }
    }
    Ok(out)
}

#[test]
fn github_round_trips_in_a_port_of_the_runner_parser() {
    let vars = accepted(Format::Github);
    assert_eq!(vars.len(), APPENDIX_A.len() + EXTRA.len());
    for windows in [false, true] {
        for mask in [false, true] {
            let out = render(Format::Github, &vars, mask).unwrap();
            let text = String::from_utf8(out.body).unwrap();
            assert_eq!(
                runner_parse_env_file(&text, windows).unwrap(),
                expected(&vars, mask)
            );
            // Masks never go into the env file; with masking there are none.
            assert!(!text.contains("::add-mask::"));
            assert_eq!(out.masks.is_empty(), mask);
        }
        for var in &vars {
            let one = std::slice::from_ref(var);
            let text = String::from_utf8(body(Format::Github, one, false)).unwrap();
            assert_eq!(
                runner_parse_env_file(&text, windows).unwrap(),
                expected(one, false)
            );
        }
    }
}

#[test]
fn github_masks_cover_every_line_of_every_secret() {
    let vars = hostile();
    let out = render(Format::Github, &vars, false).unwrap();
    let masks = String::from_utf8(out.masks).unwrap();
    // Undo the command-data escaping, as the runner does, and collect the registered masks.
    let registered: BTreeSet<String> = masks
        .lines()
        .map(|l| {
            l.strip_prefix("::add-mask::")
                .unwrap()
                .replace("%0D", "\r")
                .replace("%0A", "\n")
                .replace("%25", "%")
        })
        .collect();
    for var in &vars {
        for line in var.value.split('\n') {
            let line = line.strip_suffix('\r').unwrap_or(line);
            if line.is_empty() {
                continue;
            }
            assert_eq!(registered.contains(line), var.secret, "{}", var.name);
        }
    }
}

#[test]
fn github_trailing_cr_is_refused_because_windows_runners_drop_it() {
    let text = "V<<D\nx\r\nD\n";
    assert_eq!(runner_parse_env_file(text, false).unwrap()[0].1, "x\r");
    assert_eq!(runner_parse_env_file(text, true).unwrap()[0].1, "x");
}
