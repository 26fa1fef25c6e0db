//! Forms hcl-edit's parser reads but Terraform's refuses, refused after the parse.
//!
//! `tests/vectors/terraform-syntax.txt` records which forms `terraform validate` accepts; two
//! that it refuses, hcl-edit reads and gives a meaning:
//!
//! - an object key that is a reference with more than one step (`{ local.k = 1 }`): Terraform
//!   calls it ambiguous, since `local.k` could mean the reference or a name with a dot;
//! - a line break in a quoted string's literal text (`"a⏎b"`): Terraform allows one only
//!   inside an interpolation, or in a heredoc.
//!
//! A file holding either is refused here, as Terraform refuses it, rather than read with a
//! meaning Terraform would never give it.

use hcl::edit::Span;
use hcl::edit::expr::{Expression, ObjectKey};
use hcl::edit::structure::Body;
use hcl::edit::template::{HeredocTemplate, Interpolation, StringTemplate};
use hcl::edit::visit::{self, Visit};
use hcl::edit::{Decorated, Spanned};

use super::Problem;
use super::source::SourceFile;

/// The problems of `body`, parsed from `file`: one per form Terraform refuses.
pub(crate) fn check(body: &Body, file: &SourceFile) -> Vec<Problem> {
    let mut checker = Checker {
        file,
        quoted: false,
        problems: Vec::new(),
    };
    checker.visit_body(body);
    checker.problems
}

struct Checker<'a> {
    file: &'a SourceFile,
    /// Whether the literal text being visited is a quoted string's (not a heredoc's, and not
    /// inside an interpolation).
    quoted: bool,
    problems: Vec<Problem>,
}

impl Checker<'_> {
    /// With `quoted` set to `to` while `walk` runs.
    fn within(&mut self, to: bool, walk: impl FnOnce(&mut Self)) {
        let was = std::mem::replace(&mut self.quoted, to);
        walk(self);
        self.quoted = was;
    }

    /// Refuses a quoted string whose source text in `span` has a line break.
    fn line_break(&mut self, span: Option<std::ops::Range<usize>>) {
        let raw = span
            .clone()
            .and_then(|r| self.file.text.get(r))
            .unwrap_or_default();
        if raw.contains('\n') {
            // The line only: the string may be a value someone wrote into the file (a
            // `.tfvars` password), and a problem never quotes one.
            self.problems.push(Problem {
                expression: String::new(),
                ..self.file.problem(
                    span,
                    "invalid multi-line string: a quoted string cannot span lines",
                    "write the line break as \\n, or use a heredoc (<<-EOT ... EOT); terraform refuses it too",
                )
            });
        }
    }
}

impl Visit for Checker<'_> {
    fn visit_object_key(&mut self, key: &ObjectKey) {
        if let ObjectKey::Expression(Expression::Traversal(t)) = key {
            self.problems.push(self.file.problem(
                t.span(),
                "ambiguous object key: a reference with more than one step",
                "write (local.k) to use the reference's value as the key, or \"local.k\" for a name with a dot; terraform refuses it too",
            ));
        }
        visit::visit_object_key(self, key);
    }

    fn visit_string(&mut self, s: &Decorated<String>) {
        self.line_break(s.span());
    }

    fn visit_literal(&mut self, literal: &Spanned<String>) {
        if self.quoted {
            self.line_break(literal.span());
        }
    }

    fn visit_string_template(&mut self, t: &StringTemplate) {
        self.within(true, |c| visit::visit_string_template(c, t));
    }

    fn visit_heredoc_template(&mut self, t: &HeredocTemplate) {
        self.within(false, |c| visit::visit_heredoc_template(c, t));
    }

    fn visit_interpolation(&mut self, i: &Interpolation) {
        self.within(false, |c| visit::visit_interpolation(c, i));
    }
}
