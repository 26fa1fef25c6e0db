//! Object constructors that repeat a key, which Terraform accepts and hcl-edit refuses.
//!
//! `{ a = 1, a = 2 }` is valid HCL: Terraform evaluates both items and the later one wins
//! (`terraform console` prints `{ "a" = 2 }`; `tests/vectors/terraform-functions.txt` records
//! it). hcl-edit's parser refuses it ("expected unique object key; found redefined object
//! key"), because its syntax tree holds an object's items in a map keyed by the key as
//! written. It tells apart keys written differently, though: the identifier `a`, the string
//! `"a"` and the expression `("a")` are three keys to it and one key to Terraform.
//!
//! So where the parser reports a repeated key, that key is respelt in the next form, `a` →
//! `"a"`, any other key `K` → `(K)`, and the text is parsed again. The evaluator builds an
//! object item by item, so the later item wins, as in Terraform. The respelt text is the one
//! kept: line numbers are unchanged, and an expression quoted in a problem shows the key as
//! respelt. At most [`MAX_RESPELT`] keys per file are respelt, so that a hostile file cannot
//! make the parser run without bound.

use hcl::edit::parser::Error;

/// How many repeated keys one file may have: each costs one more parse of the whole file.
pub(crate) const MAX_RESPELT: usize = 32;

/// `parse(text)`, with each repeated object key respelt until it parses; the value and the
/// text it was parsed from.
pub(crate) fn parse<T>(
    text: String,
    parse: impl Fn(&str) -> Result<T, Error>,
) -> Result<(T, String), Error> {
    let mut text = text;
    let mut respelt = 0;
    loop {
        match parse(&text) {
            Ok(parsed) => return Ok((parsed, text)),
            Err(e) if respelt < MAX_RESPELT && e.message().contains("redefined object key") => {
                match respell_key(&text, e.location().offset()) {
                    Some(next) => {
                        text = next;
                        respelt += 1;
                    }
                    None => return Err(e),
                }
            }
            Err(e) => return Err(e),
        }
    }
}

/// `text` with the object key that starts at byte `at` respelt; `None` when no key the
/// scanner knows starts there.
fn respell_key(text: &str, at: usize) -> Option<String> {
    let rest = text.get(at..)?;
    let len = key_len(rest)?;
    let key = &rest[..len];
    let respelt = if key.starts_with(is_ident_start) {
        format!("\"{key}\"")
    } else {
        format!("({key})")
    };
    Some(format!("{}{respelt}{}", &text[..at], &rest[len..]))
}

fn is_ident_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

/// The length of the object key at the start of `s`: an identifier, a quoted string (with
/// its escapes and `${...}` interpolations) or a parenthesized expression.
fn key_len(s: &str) -> Option<usize> {
    let first = s.chars().next()?;
    if is_ident_start(first) {
        return Some(
            s.find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'))
                .unwrap_or(s.len()),
        );
    }
    match first {
        '"' => string_len(s),
        '(' => bracket_len(s, b'(', b')'),
        _ => None,
    }
}

/// The length of the quoted string at the start of `s`, closing quote included.
fn string_len(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let mut i = 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            b'$' | b'%' if b.get(i + 1) == Some(&b'{') => {
                i += 1 + bracket_len(&s[i + 1..], b'{', b'}')?
            }
            b'\n' => return None,
            _ => i += 1,
        }
    }
    None
}

/// The length of the bracketed text at the start of `s` (which opens with `open`), strings
/// inside it skipped.
fn bracket_len(s: &str, open: u8, close: u8) -> Option<usize> {
    let b = s.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' => {
                i += string_len(&s[i..])?;
                continue;
            }
            c if c == open => depth += 1,
            c if c == close => {
                depth -= 1;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn respelt(text: &str) -> String {
        parse(text.to_owned(), hcl::edit::parser::parse_body)
            .map(|(_, t)| t)
            .unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn each_repetition_gets_a_spelling_hcl_edit_tells_apart() {
        assert_eq!(
            respelt("x = { a = 1, a = 2 }\n"),
            "x = { a = 1, \"a\" = 2 }\n"
        );
        assert_eq!(
            respelt("x = { a = 1, a = 2, a = 3 }\n"),
            "x = { a = 1, \"a\" = 2, (\"a\") = 3 }\n"
        );
        assert_eq!(
            respelt("x = { \"a-b\" = 1\n  \"a-b\" = 2 }\n"),
            "x = { \"a-b\" = 1\n  (\"a-b\") = 2 }\n"
        );
        assert_eq!(
            respelt("x = { \"${k}\" = 1, \"${k}\" = { y = \"}\" } }\n"),
            "x = { \"${k}\" = 1, (\"${k}\") = { y = \"}\" } }\n"
        );
        assert_eq!(
            respelt("x = { (k) = 1, (k) = 2 }\n"),
            "x = { (k) = 1, ((k)) = 2 }\n"
        );
        // Not an object: left alone.
        assert_eq!(respelt("a = 1\nb = 2\n"), "a = 1\nb = 2\n");
    }

    #[test]
    fn a_repeated_attribute_is_still_an_error_and_respelling_is_bounded() {
        assert!(parse("a = 1\na = 2\n".to_owned(), hcl::edit::parser::parse_body).is_err());
        let many = format!("x = {{ {} }}\n", "a = 1, ".repeat(MAX_RESPELT + 3));
        let e = parse(many, hcl::edit::parser::parse_body).unwrap_err();
        assert!(e.message().contains("redefined object key"), "{e}");
    }
}
