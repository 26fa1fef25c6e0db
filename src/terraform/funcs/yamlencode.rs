//! `yamlencode`: a value as the YAML text Terraform writes for it, byte for byte.
//!
//! Terraform's encoder (go-cty-yaml, a port of libyaml's emitter) is driven with fixed
//! choices, and this writes what that emitter writes for them; every rule below is checked by
//! the `yamlencode` vectors in `tests/vectors/terraform-functions.json`:
//!
//! - block style with 2-space indentation; a sequence that is a mapping's value starts at the
//!   mapping's own column (`"a":\n- 1`); a collection inside a sequence item starts on the
//!   item's line (`- - 1`, `- "a": 1`); an empty list is `[]`, an empty map `{}`;
//! - every string is double-quoted, keys included, except one holding `\n` that can be a
//!   literal block (`|-`, `|`, `|+` by its trailing newlines, `|2` when it starts with a space
//!   or a newline); escapes are the emitter's own (`\t`, `\x01`, `\u2028` as `\L`, characters
//!   beyond U+FFFF as `\U0001F600`); a string starting with U+FEFF has every character
//!   escaped, as that emitter does;
//! - a double-quoted string is folded at a space once its line passes 80 columns (counted in
//!   characters), the next line indented 2 more than the string's parent;
//! - a key longer than 128 bytes or holding a line break is a complex key (`? KEY` then
//!   `: VALUE` on the next line);
//! - numbers, bools and null are plain (an infinite number as `+Inf`, `-Inf`); a document
//!   that is only one of them ends with `...`;
//! - no `---`, and a final newline.
//!
//! Numbers are written as Terraform writes its arbitrary-precision numbers. ecs-env's are
//! 64-bit floats, which give the same digits only when the value needs few of them: a number
//! needing more than 15 significant digits (`1/3`, `0.1 + 0.2`, `2^60`) is refused, since
//! Terraform's digits for it depend on how it was computed.

use std::collections::BTreeMap;

use super::{Func, Ret, err, s};
use crate::terraform::value::{Value, format_number};

pub(super) const FUNCS: &[Func] = &[Func::pure("yamlencode", 1, 1, yamlencode)];

/// The emitter's line width: a double-quoted string folds at a space past this column.
const WIDTH: usize = 80;

/// The emitter's indentation step.
const INDENT: isize = 2;

/// A key longer than this many bytes is written as a complex key (`? KEY`).
const SIMPLE_KEY_MAX: usize = 128;

/// How deep a value may nest: the emitter recurses, and a value this deep is not YAML anyone
/// writes by hand.
const MAX_DEPTH: usize = 256;

fn yamlencode(a: &[Value]) -> Ret {
    encode(&a[0]).map(s)
}

/// The YAML text of `v`.
pub(super) fn encode(v: &Value) -> Result<String, super::FnError> {
    let mut e = Emitter {
        out: String::new(),
        column: 0,
        indent: -1,
        indents: Vec::new(),
        whitespace: true,
        indention: true,
    };
    e.node(v, Context::Root, 0)?;
    // The document's end: back to column 0.
    e.indent = -1;
    e.write_indent();
    // The emitter closes a document that is a bare plain scalar with `...`; Terraform's
    // output shows it for nothing else (not even a `|+` block).
    if matches!(v, Value::Null | Value::Bool(_) | Value::Number(_)) {
        e.indicator("...", true, false, false);
        e.write_indent();
    }
    Ok(e.out)
}

/// Where a node is written, as the emitter tells its states apart.
#[derive(Clone, Copy, PartialEq)]
enum Context {
    Root,
    SequenceItem,
    /// A mapping's value, or a complex key.
    MappingValue,
    /// A key on the line of its value (`KEY: VALUE`).
    SimpleKey,
}

/// The emitter's state between writes.
struct Emitter {
    out: String,
    /// The column of the next character, in characters.
    column: usize,
    /// The current indentation; -1 before the document's root collection.
    indent: isize,
    indents: Vec<isize>,
    /// Whether the last character written separates (a space, a newline, an indicator that
    /// needs no space after it).
    whitespace: bool,
    /// Whether only indentation and indicators (`- `, `? `) are on the line so far.
    indention: bool,
}

impl Emitter {
    fn put(&mut self, c: char) {
        self.out.push(c);
        self.column += 1;
    }

    fn newline(&mut self) {
        self.out.push('\n');
        self.column = 0;
    }

    /// Moves to the current indentation, on a new line unless the line holds only
    /// indentation and indicators short of it.
    fn write_indent(&mut self) {
        let indent = self.indent.max(0) as usize;
        if !self.indention || self.column > indent || (self.column == indent && !self.whitespace) {
            self.newline();
        }
        while self.column < indent {
            self.put(' ');
        }
        self.whitespace = true;
        self.indention = true;
    }

    fn indicator(&mut self, text: &str, need_space: bool, is_space: bool, is_indention: bool) {
        if need_space && !self.whitespace {
            self.put(' ');
        }
        for c in text.chars() {
            self.put(c);
        }
        self.whitespace = is_space;
        self.indention = self.indention && is_indention;
    }

    /// Opens a level: `flow` is a scalar's (its continuation lines), `indentless` a sequence
    /// at its mapping's column.
    fn increase_indent(&mut self, flow: bool, indentless: bool) {
        self.indents.push(self.indent);
        if self.indent < 0 {
            self.indent = if flow { INDENT } else { 0 };
        } else if !indentless {
            self.indent += INDENT;
        }
    }

    fn decrease_indent(&mut self) {
        self.indent = self.indents.pop().unwrap_or(-1);
    }

    fn node(&mut self, v: &Value, ctx: Context, depth: usize) -> Result<(), super::FnError> {
        if depth > MAX_DEPTH {
            return err(format!(
                "the value is nested deeper than {MAX_DEPTH} levels"
            ));
        }
        match v {
            Value::Null => self.plain("null"),
            Value::Bool(b) => self.plain(if *b { "true" } else { "false" }),
            Value::Number(n) => self.plain(&number(*n)?),
            Value::String(text) => self.string(text, ctx),
            Value::List(items) | Value::Set(items) => self.sequence(items, ctx, depth)?,
            Value::Object(map) => self.mapping(map, depth)?,
        }
        Ok(())
    }

    fn sequence(
        &mut self,
        items: &[Value],
        ctx: Context,
        depth: usize,
    ) -> Result<(), super::FnError> {
        if items.is_empty() {
            self.empty("[", "]");
            return Ok(());
        }
        // A mapping's value on the line of its key starts at the key's column (`"a":\n- 1`);
        // after `? ` or `: ` alone on a line, it is indented.
        self.increase_indent(false, ctx == Context::MappingValue && !self.indention);
        for item in items {
            self.write_indent();
            self.indicator("-", true, false, true);
            self.node(item, Context::SequenceItem, depth + 1)?;
        }
        self.decrease_indent();
        Ok(())
    }

    fn mapping(
        &mut self,
        map: &BTreeMap<String, Value>,
        depth: usize,
    ) -> Result<(), super::FnError> {
        if map.is_empty() {
            self.empty("{", "}");
            return Ok(());
        }
        self.increase_indent(false, false);
        // BTreeMap's order is by bytes, as cty orders object attributes and map keys.
        for (key, value) in map {
            self.write_indent();
            if key.len() <= SIMPLE_KEY_MAX && !key.chars().any(is_break) {
                self.string(key, Context::SimpleKey);
                self.indicator(":", false, false, false);
            } else {
                self.indicator("?", true, false, true);
                self.string(key, Context::MappingValue);
                self.write_indent();
                self.indicator(":", true, false, true);
            }
            self.node(value, Context::MappingValue, depth + 1)?;
        }
        self.decrease_indent();
        Ok(())
    }

    /// An empty collection: block style has no way to write one, so the emitter writes it in
    /// flow style (`[]`, `{}`).
    fn empty(&mut self, open: &str, close: &str) {
        self.indicator(open, true, true, false);
        self.indicator(close, false, false, false);
    }

    fn plain(&mut self, text: &str) {
        self.increase_indent(true, false);
        if !self.whitespace {
            self.put(' ');
        }
        for c in text.chars() {
            self.put(c);
        }
        self.whitespace = false;
        self.indention = false;
        self.decrease_indent();
    }

    fn string(&mut self, text: &str, ctx: Context) {
        self.increase_indent(true, false);
        if text.contains('\n') && ctx != Context::SimpleKey && literal_allowed(text) {
            self.literal(text);
        } else {
            self.double_quoted(text, ctx != Context::SimpleKey);
        }
        self.decrease_indent();
    }

    fn double_quoted(&mut self, text: &str, may_fold: bool) {
        self.indicator("\"", true, false, false);
        // libyaml's check for a byte-order mark looks at the string's start, not at the
        // character in hand: after one, every character is escaped.
        let bom = text.starts_with('\u{feff}');
        let mut after_space = false;
        let mut chars = text.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            if bom || !printable(c) || is_break(c) || c == '"' || c == '\\' {
                self.escape(c);
                after_space = false;
            } else if c == ' ' {
                let last = i + 1 == text.len();
                if may_fold && !after_space && self.column > WIDTH && i > 0 && !last {
                    // The space becomes the line break (a break folds to a space when read);
                    // a space after it must be escaped, or it would be read as indentation.
                    self.write_indent();
                    if chars.peek().is_some_and(|&(_, next)| next == ' ') {
                        self.put('\\');
                    }
                } else {
                    self.put(' ');
                }
                after_space = true;
            } else {
                self.put(c);
                after_space = false;
            }
        }
        self.indicator("\"", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn escape(&mut self, c: char) {
        self.put('\\');
        let short = match c {
            '\0' => Some('0'),
            '\u{7}' => Some('a'),
            '\u{8}' => Some('b'),
            '\t' => Some('t'),
            '\n' => Some('n'),
            '\u{b}' => Some('v'),
            '\u{c}' => Some('f'),
            '\r' => Some('r'),
            '\u{1b}' => Some('e'),
            '"' => Some('"'),
            '\\' => Some('\\'),
            '\u{85}' => Some('N'),
            '\u{a0}' => Some('_'),
            '\u{2028}' => Some('L'),
            '\u{2029}' => Some('P'),
            _ => None,
        };
        if let Some(short) = short {
            self.put(short);
            return;
        }
        let code = u32::from(c);
        let hex = match code {
            0..=0xFF => format!("x{code:02X}"),
            0x100..=0xFFFF => format!("u{code:04X}"),
            _ => format!("U{code:08X}"),
        };
        for h in hex.chars() {
            self.put(h);
        }
    }

    fn literal(&mut self, text: &str) {
        self.indicator("|", true, false, false);
        if text.starts_with(|c: char| c == ' ' || is_break(c)) {
            // The content's indentation, which its first line cannot show.
            self.indicator(&INDENT.to_string(), false, false, false);
        }
        let mut rev = text.chars().rev();
        let chomp = match (rev.next(), rev.next()) {
            (Some(last), _) if !is_break(last) => Some("-"),
            (Some(_), None) => Some("+"),
            (Some(_), Some(before)) if is_break(before) => Some("+"),
            _ => None,
        };
        if let Some(chomp) = chomp {
            self.indicator(chomp, false, false, false);
        }
        self.newline();
        self.indention = true;
        self.whitespace = true;
        let mut at_break = true;
        for c in text.chars() {
            if is_break(c) {
                if c == '\n' {
                    self.newline();
                } else {
                    // U+2028 and U+2029 are written as they are and end the line too.
                    self.out.push(c);
                    self.column = 0;
                }
                self.indention = true;
                at_break = true;
            } else {
                if at_break {
                    self.write_indent();
                }
                self.put(c);
                self.indention = false;
                at_break = false;
            }
        }
    }
}

/// The characters libyaml writes as they are: not tabs, not U+0085, nothing beyond the
/// Basic Multilingual Plane.
fn printable(c: char) -> bool {
    matches!(u32::from(c), 0x0A | 0x20..=0x7E | 0xA0..=0xD7FF | 0xE000..=0xFFFD) && c != '\u{feff}'
}

fn is_break(c: char) -> bool {
    matches!(c, '\n' | '\r' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

/// Whether a multi-line string can be a literal block: nothing to escape, and no space that
/// a block would lose (at its end, or before a line break).
fn literal_allowed(text: &str) -> bool {
    let mut previous_space = false;
    for c in text.chars() {
        if !printable(c) || (previous_space && is_break(c)) {
            return false;
        }
        previous_space = c == ' ';
    }
    !previous_space
}

/// A number as Terraform writes it: all its digits, no exponent.
fn number(n: f64) -> Result<String, super::FnError> {
    if n.is_infinite() {
        // `pow(10, 400)`: Terraform's number is infinite too, and written so.
        return Ok(if n > 0.0 { "+Inf" } else { "-Inf" }.to_owned());
    }
    if n.is_nan() {
        return err("the number is not a number (NaN)");
    }
    if n == 0.0 {
        // Terraform keeps the sign of zero (`0 * -1`, `tonumber("-0")`).
        return Ok(if n.is_sign_negative() { "-0" } else { "0" }.to_owned());
    }
    // A 64-bit float holds any decimal of up to 15 significant digits exactly enough to give
    // it back, so then its digits are the ones Terraform's number has. With more, the float
    // may be a rounding of Terraform's number (which has up to ~150 digits), and the digits
    // written would be a guess. Whole numbers below 2^53 are exact.
    let scientific = format!("{n:e}");
    let mantissa = scientific.split('e').next().unwrap_or_default();
    let digits = mantissa.bytes().filter(u8::is_ascii_digit).count();
    let exact_whole = n.fract() == 0.0 && n.abs() < 9_007_199_254_740_992.0;
    if digits > 15 && !exact_whole {
        // Fatal: Terraform succeeds, so `try()` must not replace the value with its fallback.
        return Err(super::FnError {
            message: "a number needs more significant digits than ecs-env keeps (64-bit \
                      floats), and Terraform writes every digit of its own"
                .to_owned(),
            hint: crate::terraform::RENDER_WITH_TERRAFORM.to_owned(),
            fatal: true,
            unknown: false,
            nested: Vec::new(),
        });
    }
    Ok(format_number(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_with_too_many_digits_are_refused() {
        assert!(number(1.0 / 3.0).is_err_and(|e| e.fatal));
        assert!(number(0.1 + 0.2).is_err());
        assert_eq!(number(1e20).unwrap(), "100000000000000000000");
        assert_eq!(number(1_234_567_890_123_456.0).unwrap(), "1234567890123456");
        assert_eq!(number(-0.0).unwrap(), "-0");
        assert!(number(f64::NAN).is_err());
    }

    #[test]
    fn deep_values_are_refused() {
        let mut v = Value::Null;
        for _ in 0..=MAX_DEPTH + 1 {
            v = Value::List(vec![v]);
        }
        assert!(encode(&v).is_err());
    }
}
