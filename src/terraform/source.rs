//! Reading a module's `.tf` files into the declarations the evaluator needs.
//!
//! Only what can reach `container_definitions` is kept: variables, locals, outputs, module
//! calls, and the top-level attributes of resources and data sources (nested blocks such
//! as `volume` or `lifecycle` are skipped). Expressions stay unevaluated, with the file they
//! came from, so that a problem found later can name its file, line and text.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use hcl::edit::Span;
use hcl::edit::expr::Expression;
use hcl::edit::structure::{Block, Body};

use super::Problem;

/// One file's text, kept to turn byte spans into line numbers and expression text.
#[derive(Debug)]
pub(crate) struct SourceFile {
    /// The path as shown in problems (joined onto the path the caller gave, not absolute).
    pub(crate) display: String,
    pub(crate) text: String,
    line_starts: Vec<usize>,
}

impl SourceFile {
    pub(crate) fn new(display: String, text: String) -> SourceFile {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        SourceFile {
            display,
            text,
            line_starts,
        }
    }

    /// The 1-based line holding byte `offset`.
    pub(crate) fn line_of(&self, offset: usize) -> usize {
        self.line_starts.partition_point(|&start| start <= offset)
    }

    /// The source text of a span, whitespace runs collapsed to one space and cut to a length
    /// that fits in one line of an error message.
    pub(crate) fn snippet(&self, span: Range<usize>) -> String {
        let raw = self.text.get(span).unwrap_or_default();
        let collapsed = raw.split_whitespace().collect::<Vec<_>>().join(" ");
        const MAX: usize = 100;
        if collapsed.chars().count() > MAX {
            let cut: String = collapsed.chars().take(MAX - 1).collect();
            format!("{cut}…")
        } else {
            collapsed
        }
    }

    /// A problem located at a span of this file.
    pub(crate) fn problem(
        &self,
        span: Option<Range<usize>>,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) -> Problem {
        Problem {
            file: self.display.clone(),
            line: span.as_ref().map(|s| self.line_of(s.start)),
            expression: span.map(|s| self.snippet(s)).unwrap_or_default(),
            message: message.into(),
            hint: hint.into(),
        }
    }
}

/// An expression together with the file it is written in.
#[derive(Debug, Clone)]
pub(crate) struct Attr {
    pub(crate) file: Arc<SourceFile>,
    pub(crate) expr: Expression,
}

/// `variable "NAME" {}`.
#[derive(Debug, Clone)]
pub(crate) struct VariableDecl {
    pub(crate) file: Arc<SourceFile>,
    pub(crate) span: Option<Range<usize>>,
    pub(crate) type_expr: Option<Attr>,
    pub(crate) default: Option<Attr>,
    pub(crate) nullable: Option<Attr>,
}

/// Whether a resource block is `resource` or `data`; named as in the state's `mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Mode {
    Managed,
    Data,
}

/// A `resource` or `data` block: where it is, and its top-level attributes.
#[derive(Debug, Clone)]
pub(crate) struct ResourceDecl {
    pub(crate) file: Arc<SourceFile>,
    pub(crate) span: Option<Range<usize>>,
    pub(crate) count: Option<Attr>,
    pub(crate) for_each: Option<Attr>,
    pub(crate) attrs: BTreeMap<String, Attr>,
}

/// A `module "NAME" {}` call.
#[derive(Debug, Clone)]
pub(crate) struct ModuleCall {
    pub(crate) file: Arc<SourceFile>,
    pub(crate) span: Option<Range<usize>>,
    pub(crate) source: Option<Attr>,
    pub(crate) count: Option<Attr>,
    pub(crate) for_each: Option<Attr>,
    /// The input variables: every attribute that is not a meta-argument.
    pub(crate) inputs: BTreeMap<String, Attr>,
}

/// The declarations of one module directory.
#[derive(Debug, Default)]
pub(crate) struct Module {
    pub(crate) dir: PathBuf,
    pub(crate) display_dir: String,
    pub(crate) variables: BTreeMap<String, VariableDecl>,
    pub(crate) locals: BTreeMap<String, Attr>,
    pub(crate) outputs: BTreeMap<String, Attr>,
    pub(crate) resources: BTreeMap<(Mode, String, String), ResourceDecl>,
    pub(crate) calls: BTreeMap<String, ModuleCall>,
    /// `.tf.json` files seen and not read (named in "not found" hints).
    pub(crate) json_files: Vec<String>,
    /// `terraform { backend "TYPE" { ... } }`: where the state lives.
    pub(crate) backend: Option<BackendDecl>,
}

/// A `backend` block: its type and its (literal) settings.
#[derive(Debug, Clone)]
pub(crate) struct BackendDecl {
    pub(crate) kind: String,
    pub(crate) attrs: BTreeMap<String, Attr>,
}

/// Joins a display path the way a person would write it: `infra` + `main.tf` is
/// `infra/main.tf`, `.` + `main.tf` is `main.tf`, `./` components are dropped and
/// `infra` + `../modules/x` is `modules/x`. For display only: lexically, `..` after a
/// symbolic link is not where the link's parent is (files are read by their real paths).
pub(crate) fn display_join(base: &str, rel: &str) -> String {
    use std::path::Component;
    let joined = if base.is_empty() || base == "." {
        PathBuf::from(rel)
    } else {
        Path::new(base).join(rel)
    };
    let mut parts: Vec<Component> = Vec::new();
    for c in joined.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir if matches!(parts.last(), Some(Component::Normal(_))) => {
                parts.pop();
            }
            // `/..` is `/`.
            Component::ParentDir if matches!(parts.last(), Some(Component::RootDir)) => {}
            c => parts.push(c),
        }
    }
    let cleaned: PathBuf = parts.iter().collect();
    let s = cleaned.to_string_lossy().into_owned();
    if s.is_empty() { ".".to_owned() } else { s }
}

/// Editor leftovers Terraform skips: dotfiles, `name~` backups, `#name#` autosaves.
fn is_ignored(name: &str) -> bool {
    name.starts_with('.') || name.ends_with('~') || (name.starts_with('#') && name.ends_with('#'))
}

fn is_override(name: &str) -> bool {
    name == "override.tf" || name.ends_with("_override.tf")
}

/// Reads a module: every `*.tf` file of `dir` in lexical order (override files last, merged
/// into what they override, as Terraform does). Terraform has no one-file modules: a file
/// is always read with its directory.
pub(crate) fn load_module(dir: &Path, display_dir: &str) -> Result<Module, Vec<Problem>> {
    let mut module = Module {
        dir: dir.to_path_buf(),
        display_dir: display_dir.to_owned(),
        ..Module::default()
    };
    let mut problems = Vec::new();
    let mut names: Vec<String> = Vec::new();
    match std::fs::read_dir(dir) {
        Ok(entries) => {
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                let is_file = entry.file_type().map(|t| !t.is_dir()).unwrap_or(false);
                if is_file && is_ignored(&name) {
                    continue;
                }
                if is_file && name.ends_with(".tf") {
                    names.push(name);
                } else if is_file && name.ends_with(".tf.json") {
                    module.json_files.push(display_join(display_dir, &name));
                }
            }
        }
        Err(e) => {
            return Err(vec![Problem {
                file: display_dir.to_owned(),
                line: None,
                expression: String::new(),
                message: format!("cannot read the directory: {e}"),
                hint: String::new(),
            }]);
        }
    }
    // Terraform reads files in lexical order and applies override files after all others.
    names.sort_by(|a, b| (is_override(a), a).cmp(&(is_override(b), b)));
    if names.is_empty() {
        problems.push(Problem {
            file: display_dir.to_owned(),
            line: None,
            expression: String::new(),
            message: "no .tf files in this directory".to_owned(),
            hint: "point at the directory that holds the Terraform configuration".to_owned(),
        });
    }
    for name in names {
        let display = display_join(display_dir, &name);
        let text = match crate::files::read_text(&dir.join(&name), crate::files::MAX_SOURCE_BYTES) {
            // A byte-order mark is not HCL; editors on Windows write one.
            Ok(text) => match text.strip_prefix('\u{feff}') {
                Some(rest) => rest.to_owned(),
                None => text,
            },
            Err(e) => {
                problems.push(Problem {
                    file: display,
                    line: None,
                    expression: String::new(),
                    message: format!("cannot read the file: {e}"),
                    hint: String::new(),
                });
                continue;
            }
        };
        if let Some(hazard) = parse_hazard(&text, false) {
            problems.push(hazard.problem(&display));
            continue;
        }
        let (body, text) = match super::respell::parse(text, hcl::edit::parser::parse_body) {
            Ok(parsed) => parsed,
            Err(e) => {
                problems.push(parse_problem(&display, &e));
                continue;
            }
        };
        let file = Arc::new(SourceFile::new(display, text));
        let refused = super::strict::check(&body, &file);
        if !refused.is_empty() {
            problems.extend(refused);
            continue;
        }
        add_file(&mut module, &file, &body, is_override(&name), &mut problems);
    }
    if problems.is_empty() {
        Ok(module)
    } else {
        Err(problems)
    }
}

/// The deepest nesting of brackets and template interpolations an HCL file may have. The
/// HCL parser backtracks on unclosed nesting in time that grows exponentially with depth
/// (fuzzing found a 681-byte file at depth 33 that took 5 s, and each level adds about 40 %);
/// real configurations stay far below this (a `jsonencode` of container definitions inside a
/// resource is about 8 deep).
pub(crate) const MAX_NESTING: usize = 32;

/// The most brackets, strings, interpolations and heredocs a file may leave open at its end.
/// Where the input ends inside an expression, the HCL parser backtracks out of each enclosing
/// construct and, in many of them (a chain of binary operators, a negative number, a template
/// directive), parses what follows twice. Open constructs nest, so the time doubles with each
/// one: fuzzing found 557- and 681-byte files with about 30 of them (mostly `a / b / (`) that
/// took a second each, minutes under instrumentation. Balanced input showed no such growth.
/// A file that leaves anything open is a syntax error anyway; up to this many, the parser's
/// own message, which names the place, costs at most a few hundred reparses.
pub(crate) const MAX_UNCLOSED: usize = 8;

/// Why [`parse_hazard`] refuses a file before the HCL parser sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hazard {
    /// Nested deeper than [`MAX_NESTING`], first on this 1-based line.
    TooDeep { line: usize },
    /// More than [`MAX_UNCLOSED`] constructs never closed; the outermost opens on this line.
    Unclosed { line: usize, open: usize },
}

impl Hazard {
    /// The problem that reports this hazard for the file named `display`.
    pub(crate) fn problem(self, display: &str) -> Problem {
        let (line, message) = match self {
            Hazard::TooDeep { line } => (
                line,
                format!(
                    "nested more than {MAX_NESTING} brackets deep; ecs-env refuses it rather \
                     than spend minutes parsing it"
                ),
            ),
            Hazard::Unclosed { line, open } => (
                line,
                format!(
                    "{open} brackets, strings or heredocs are never closed, the first on this \
                     line; ecs-env refuses more than {MAX_UNCLOSED} rather than spend minutes \
                     parsing them"
                ),
            ),
        };
        Problem {
            file: display.to_owned(),
            line: Some(line),
            expression: String::new(),
            message,
            hint: "check for unclosed brackets; `terraform validate` shows where".to_owned(),
        }
    }
}

/// Whether the text would make the HCL parser take exponential time: nesting deeper than
/// [`MAX_NESTING`], or more than [`MAX_UNCLOSED`] constructs left open at the end (see
/// [`Hazard`]). `template` starts in template mode (a `templatefile()` file). Comments, quoted
/// strings (except their `${`/`%{` interpolations) and heredoc bodies do not count towards the
/// depth; the scan is approximate where HCL is ambiguous, erring towards counting.
pub(crate) fn parse_hazard(text: &str, template: bool) -> Option<Hazard> {
    #[derive(Clone, Copy, PartialEq)]
    enum Kind {
        Bracket,
        String,
        /// A heredoc whose closing marker never comes: its body is a template to the end.
        OpenHeredoc,
        Interpolation,
    }
    struct Frame {
        kind: Kind,
        line: usize,
    }
    let bytes = text.as_bytes();
    let mut stack: Vec<Frame> = Vec::new();
    let mut depth = 0usize;
    let mut line = 1usize;
    let mut i = 0;
    let in_string = |stack: &[Frame]| match stack.last() {
        Some(frame) => matches!(frame.kind, Kind::String | Kind::OpenHeredoc),
        None => template,
    };
    while i < bytes.len() {
        let c = bytes[i];
        if c == b'\n' {
            line += 1;
        }
        if in_string(&stack) {
            match c {
                b'\\' => i += 1,
                b'"' if stack.last().is_some_and(|f| f.kind == Kind::String) => {
                    stack.pop();
                }
                // `$${` and `%%{` are a literal `${` and `%{`.
                b'$' | b'%' if bytes.get(i + 1) == Some(&c) && bytes.get(i + 2) == Some(&b'{') => {
                    i += 2;
                }
                b'$' | b'%' if bytes.get(i + 1) == Some(&b'{') => {
                    stack.push(Frame {
                        kind: Kind::Interpolation,
                        line,
                    });
                    depth += 1;
                    i += 1;
                }
                _ => {}
            }
        } else {
            match c {
                b'"' => stack.push(Frame {
                    kind: Kind::String,
                    line,
                }),
                b'{' | b'(' | b'[' => {
                    stack.push(Frame {
                        kind: Kind::Bracket,
                        line,
                    });
                    depth += 1;
                }
                b'}' | b')' | b']'
                    if stack
                        .last()
                        .is_some_and(|f| matches!(f.kind, Kind::Bracket | Kind::Interpolation)) =>
                {
                    stack.pop();
                    depth -= 1;
                }
                b'#' => {
                    while i < bytes.len() && bytes[i] != b'\n' {
                        i += 1;
                    }
                    continue;
                }
                b'/' if bytes.get(i + 1) == Some(&b'/') => {
                    while i < bytes.len() && bytes[i] != b'\n' {
                        i += 1;
                    }
                    continue;
                }
                b'/' if bytes.get(i + 1) == Some(&b'*') => {
                    i += 2;
                    while i < bytes.len() && !(bytes[i] == b'*' && bytes.get(i + 1) == Some(&b'/'))
                    {
                        if bytes[i] == b'\n' {
                            line += 1;
                        }
                        i += 1;
                    }
                    i += 2;
                    continue;
                }
                b'<' if bytes.get(i + 1) == Some(&b'<') => {
                    // A heredoc: skip its body, up to the line that is only its marker.
                    let rest = &text[i + 2..];
                    let rest = rest.strip_prefix('-').unwrap_or(rest);
                    let marker: String = rest
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect();
                    if !marker.is_empty() {
                        let opened = line;
                        let start = text[i..].find('\n').map_or(bytes.len(), |n| i + n + 1);
                        let mut at = start;
                        let mut lines = 1;
                        let mut end = None;
                        for body_line in text[start..].split_inclusive('\n') {
                            at += body_line.len();
                            if body_line.trim() == marker {
                                end = Some(at);
                                lines += 1;
                                break;
                            }
                            lines += 1;
                        }
                        if let Some(end) = end {
                            line += lines;
                            i = end;
                        } else {
                            // Never closed: scan the rest as its template body.
                            stack.push(Frame {
                                kind: Kind::OpenHeredoc,
                                line: opened,
                            });
                            i = start;
                            line += 1;
                        }
                        continue;
                    }
                }
                _ => {}
            }
        }
        if depth > MAX_NESTING {
            return Some(Hazard::TooDeep { line });
        }
        i += 1;
    }
    let first = stack.first()?.line;
    (stack.len() > MAX_UNCLOSED).then_some(Hazard::Unclosed {
        line: first,
        open: stack.len(),
    })
}

/// A syntax error as a problem.
pub(crate) fn parse_problem(display: &str, e: &hcl::edit::parser::Error) -> Problem {
    Problem {
        file: display.to_owned(),
        line: Some(e.location().line()),
        expression: e.line().trim().to_owned(),
        message: format!("HCL syntax error: {}", e.message()),
        hint: "fix the syntax (`terraform validate` checks it)".to_owned(),
    }
}

fn attr(file: &Arc<SourceFile>, expr: &Expression) -> Attr {
    Attr {
        file: file.clone(),
        expr: expr.clone(),
    }
}

fn body_attrs(file: &Arc<SourceFile>, body: &Body) -> BTreeMap<String, Attr> {
    body.attributes()
        .map(|a| (a.key.as_str().to_owned(), attr(file, &a.value)))
        .collect()
}

fn block_span(block: &Block) -> Option<Range<usize>> {
    block.ident.span()
}

fn add_file(
    module: &mut Module,
    file: &Arc<SourceFile>,
    body: &Body,
    overriding: bool,
    problems: &mut Vec<Problem>,
) {
    for block in body.blocks() {
        let labels: Vec<&str> = block.labels.iter().map(|l| l.as_str()).collect();
        let duplicate = |what: String| {
            file.problem(
                block_span(block),
                format!("duplicate {what}"),
                "Terraform rejects a configuration that declares it twice",
            )
        };
        match (block.ident.as_str(), labels.as_slice()) {
            ("terraform", []) => {
                for inner in block.body.blocks() {
                    let labels: Vec<&str> = inner.labels.iter().map(|l| l.as_str()).collect();
                    let kind = match (inner.ident.as_str(), labels.as_slice()) {
                        ("backend", [kind]) => *kind,
                        // HCP Terraform / Terraform Enterprise.
                        ("cloud", []) => "cloud",
                        _ => continue,
                    };
                    module.backend = Some(BackendDecl {
                        kind: kind.to_owned(),
                        attrs: body_attrs(file, &inner.body),
                    });
                }
            }
            ("variable", [name]) => {
                let attrs = body_attrs(file, &block.body);
                let decl = VariableDecl {
                    file: file.clone(),
                    span: block_span(block),
                    type_expr: attrs.get("type").cloned(),
                    default: attrs.get("default").cloned(),
                    nullable: attrs.get("nullable").cloned(),
                };
                match module.variables.get_mut(*name) {
                    Some(existing) if overriding => {
                        existing.type_expr = decl.type_expr.or(existing.type_expr.take());
                        existing.default = decl.default.or(existing.default.take());
                        existing.nullable = decl.nullable.or(existing.nullable.take());
                    }
                    Some(_) => problems.push(duplicate(format!("variable \"{name}\""))),
                    None => {
                        module.variables.insert((*name).to_owned(), decl);
                    }
                }
            }
            ("locals", []) => {
                for a in block.body.attributes() {
                    let name = a.key.as_str();
                    if module.locals.contains_key(name) && !overriding {
                        problems.push(file.problem(
                            a.key.span(),
                            format!("duplicate local value `{name}`"),
                            "Terraform rejects a configuration that declares it twice",
                        ));
                        continue;
                    }
                    module.locals.insert(name.to_owned(), attr(file, &a.value));
                }
            }
            ("output", [name]) => {
                if let Some(value) = block.body.get_attribute("value") {
                    if module.outputs.contains_key(*name) && !overriding {
                        problems.push(duplicate(format!("output \"{name}\"")));
                        continue;
                    }
                    module
                        .outputs
                        .insert((*name).to_owned(), attr(file, &value.value));
                }
            }
            (kind @ ("resource" | "data"), [rtype, rname]) => {
                let mode = if kind == "resource" {
                    Mode::Managed
                } else {
                    Mode::Data
                };
                let key = (mode, (*rtype).to_owned(), (*rname).to_owned());
                let mut attrs = body_attrs(file, &block.body);
                let count = attrs.remove("count");
                let for_each = attrs.remove("for_each");
                match module.resources.get_mut(&key) {
                    Some(existing) if overriding => {
                        existing.count = count.or(existing.count.take());
                        existing.for_each = for_each.or(existing.for_each.take());
                        existing.attrs.extend(attrs);
                    }
                    Some(_) => {
                        let what = if mode == Mode::Data { "data." } else { "" };
                        problems.push(duplicate(format!("resource {what}{rtype}.{rname}")));
                    }
                    None => {
                        module.resources.insert(
                            key,
                            ResourceDecl {
                                file: file.clone(),
                                span: block_span(block),
                                count,
                                for_each,
                                attrs,
                            },
                        );
                    }
                }
            }
            ("module", [name]) => {
                let mut attrs = body_attrs(file, &block.body);
                let source = attrs.remove("source");
                let count = attrs.remove("count");
                let for_each = attrs.remove("for_each");
                for meta in ["version", "providers", "depends_on"] {
                    attrs.remove(meta);
                }
                match module.calls.get_mut(*name) {
                    Some(existing) if overriding => {
                        existing.source = source.or(existing.source.take());
                        existing.count = count.or(existing.count.take());
                        existing.for_each = for_each.or(existing.for_each.take());
                        existing.inputs.extend(attrs);
                    }
                    Some(_) => problems.push(duplicate(format!("module \"{name}\""))),
                    None => {
                        module.calls.insert(
                            (*name).to_owned(),
                            ModuleCall {
                                file: file.clone(),
                                span: block_span(block),
                                source,
                                count,
                                for_each,
                                inputs: attrs,
                            },
                        );
                    }
                }
            }
            // terraform, provider, moved, import, check, removed...: nothing in them decides
            // a container definition.
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_snippets() {
        let f = SourceFile::new("x.tf".into(), "a = 1\nb = [\n  1,\n  2]\n".into());
        assert_eq!(f.line_of(0), 1);
        assert_eq!(f.line_of(6), 2);
        assert_eq!(f.line_of(12), 3);
        assert_eq!(f.snippet(10..21), "[ 1, 2]");
    }

    #[test]
    fn display_paths() {
        assert_eq!(display_join("infra", "main.tf"), "infra/main.tf");
        assert_eq!(display_join(".", "main.tf"), "main.tf");
        assert_eq!(display_join("infra", "./modules/x"), "infra/modules/x");
        assert_eq!(display_join("", "./modules/x"), "modules/x");
    }
}
