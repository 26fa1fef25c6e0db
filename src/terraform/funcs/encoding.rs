//! Encoding functions: JSON, base64 (of UTF-8 text, of other character encodings and of
//! gzipped text), URL query escaping and CSV.

use std::collections::BTreeMap;

use super::{Func, Ret, err, s, string};
use crate::terraform::value::Value;

pub(super) const FUNCS: &[Func] = &[
    Func::pure("base64decode", 1, 1, base64decode),
    Func::pure("base64encode", 1, 1, base64encode),
    Func::pure("base64gzip", 1, 1, base64gzip),
    Func::pure("csvdecode", 1, 1, csvdecode),
    Func::pure("jsondecode", 1, 1, jsondecode).passes_unknown_except(&[]),
    Func::pure("jsonencode", 1, 1, jsonencode).passes_unknown_except(&[]),
    Func::pure("textdecodebase64", 2, 2, textdecodebase64),
    Func::pure("textencodebase64", 2, 2, textencodebase64),
    Func::pure("urlencode", 1, 1, urlencode),
];

fn jsonencode(a: &[Value]) -> Ret {
    a[0].to_json().map(Value::String).or_else(err)
}

fn jsondecode(a: &[Value]) -> Ret {
    let text = string(&a[0], "the argument")?;
    match serde_json::from_str::<serde_json::Value>(&text) {
        Ok(json) => Ok(Value::from_json(&json)),
        Err(e) => err(format!(
            "the string is not valid JSON: {}",
            crate::diagnostic::json_error(&e)
        )),
    }
}

fn base64encode(a: &[Value]) -> Ret {
    Ok(s(crate::base64::encode(
        string(&a[0], "the argument")?.as_bytes(),
    )))
}

/// The string's UTF-8 gzipped with the bytes Go's compressor writes, in base64.
fn base64gzip(a: &[Value]) -> Ret {
    let text = string(&a[0], "the argument")?;
    Ok(s(crate::base64::encode(&super::gozip::gzip(
        text.as_bytes(),
    ))))
}

/// Decoded base64, or Terraform's error.
fn decode64(text: &str) -> Result<Vec<u8>, super::FnError> {
    crate::base64::decode(text)
        .ok_or(())
        .or_else(|_| err("failed to decode base64 data"))
}

fn base64decode(a: &[Value]) -> Ret {
    let bytes = decode64(&string(&a[0], "the argument")?)?;
    String::from_utf8(bytes)
        .map(Value::String)
        .or_else(|_| err("the result of decoding the provided string is not valid UTF-8"))
}

/// Go's `url.QueryEscape`: letters, digits and `-_.~` kept, a space as `+`, every other
/// byte as `%XX`.
fn urlencode(a: &[Value]) -> Ret {
    let mut out = String::new();
    for b in string(&a[0], "the argument")?.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char);
            }
            b' ' => out.push('+'),
            b => out.push_str(&format!("%{b:02X}")),
        }
    }
    Ok(s(out))
}

/// The character encodings ecs-env converts text to and from.
#[derive(Clone, Copy)]
enum Encoding {
    Utf8,
    Utf16Le,
    Utf16Be,
    Latin1,
    Ascii,
}

/// An IANA encoding name or alias. Terraform knows many more (Go's `ianaindex`); those are
/// not supported here, and not guessed.
fn encoding(name: &str) -> Result<Encoding, super::FnError> {
    let e = match name.to_ascii_lowercase().as_str() {
        "utf-8" | "utf8" | "csutf8" => Encoding::Utf8,
        "utf-16le" | "csutf16le" => Encoding::Utf16Le,
        "utf-16be" | "csutf16be" => Encoding::Utf16Be,
        "iso-8859-1" | "iso_8859-1" | "iso_8859-1:1987" | "latin1" | "l1" | "ibm819" | "cp819"
        | "csisolatin1" | "iso-ir-100" => Encoding::Latin1,
        "us-ascii" | "ascii" | "iso646-us" | "us" | "csascii" | "ansi_x3.4-1968" => Encoding::Ascii,
        _ => {
            return Err(super::FnError {
                message: format!("the encoding \"{name}\" is not supported"),
                hint: "ecs-env converts UTF-8, UTF-16LE, UTF-16BE, ISO-8859-1 and US-ASCII"
                    .to_owned(),
                fatal: true,
                unknown: false,
                nested: Vec::new(),
            });
        }
    };
    Ok(e)
}

fn textencodebase64(a: &[Value]) -> Ret {
    let text = string(&a[0], "the string")?;
    let enc = encoding(&string(&a[1], "the encoding")?)?;
    let bytes: Vec<u8> = match enc {
        Encoding::Utf8 => text.into_bytes(),
        Encoding::Utf16Le => text.encode_utf16().flat_map(u16::to_le_bytes).collect(),
        Encoding::Utf16Be => text.encode_utf16().flat_map(u16::to_be_bytes).collect(),
        Encoding::Latin1 | Encoding::Ascii => {
            let limit = if matches!(enc, Encoding::Latin1) {
                0xFF
            } else {
                0x7F
            };
            let mut out = Vec::new();
            for c in text.chars() {
                if c as u32 > limit {
                    return err(
                        "the given string contains characters that cannot be represented in the encoding",
                    );
                }
                out.push(c as u8);
            }
            out
        }
    };
    Ok(s(crate::base64::encode(&bytes)))
}

fn textdecodebase64(a: &[Value]) -> Ret {
    let bytes = decode64(&string(&a[0], "the source")?)?;
    let enc = encoding(&string(&a[1], "the encoding")?)?;
    let text = match enc {
        Encoding::Utf8 => String::from_utf8_lossy(&bytes).into_owned(),
        Encoding::Utf16Le | Encoding::Utf16Be => {
            let units: Vec<u16> = bytes
                .chunks(2)
                .map(|c| {
                    let pair = [c[0], *c.get(1).unwrap_or(&0)];
                    if matches!(enc, Encoding::Utf16Le) {
                        u16::from_le_bytes(pair)
                    } else {
                        u16::from_be_bytes(pair)
                    }
                })
                .collect();
            if bytes.len() % 2 == 1 {
                return err("the given value is has an invalid base64 symbol");
            }
            String::from_utf16_lossy(&units)
        }
        Encoding::Latin1 => bytes.iter().map(|b| char::from(*b)).collect(),
        Encoding::Ascii => bytes
            .iter()
            .map(|b| {
                if *b < 0x80 {
                    char::from(*b)
                } else {
                    '\u{FFFD}'
                }
            })
            .collect(),
    };
    Ok(s(text))
}

/// Go's `encoding/csv` reader: RFC 4180 fields, every record as long as the header.
fn csvdecode(a: &[Value]) -> Ret {
    let text = string(&a[0], "the argument")?;
    let records = csv_records(&text)?;
    let Some((header, rows)) = records.split_first() else {
        return err("missing header line");
    };
    let mut out = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        if row.len() != header.len() {
            return err(format!(
                "CSV parse error on line {}: wrong number of fields",
                i + 2
            ));
        }
        let obj: BTreeMap<String, Value> = header
            .iter()
            .cloned()
            .zip(row.iter().map(|f| s(f.clone())))
            .collect();
        out.push(Value::Object(obj));
    }
    if header.is_empty() {
        return err("missing header line");
    }
    Ok(Value::List(out))
}

/// The records of a CSV text; blank lines are skipped, as Go's reader skips them.
fn csv_records(text: &str) -> Result<Vec<Vec<String>>, super::FnError> {
    let mut records = Vec::new();
    let mut chars = text.chars().peekable();
    let mut line = 1;
    while chars.peek().is_some() {
        if matches!(chars.peek(), Some('\n')) {
            chars.next();
            line += 1;
            continue;
        }
        if matches!(chars.peek(), Some('\r')) {
            chars.next();
            continue;
        }
        let mut fields = Vec::new();
        loop {
            let mut field = String::new();
            if chars.peek() == Some(&'"') {
                chars.next();
                loop {
                    match chars.next() {
                        Some('"') if chars.peek() == Some(&'"') => {
                            chars.next();
                            field.push('"');
                        }
                        Some('"') => break,
                        Some(c) => {
                            if c == '\n' {
                                line += 1;
                            }
                            field.push(c);
                        }
                        None => {
                            return err(format!(
                                "CSV parse error on line {line}: extraneous or missing \" in quoted-field"
                            ));
                        }
                    }
                }
                match chars.peek() {
                    None | Some(',' | '\n' | '\r') => {}
                    Some(_) => {
                        return err(format!(
                            "CSV parse error on line {line}: extraneous or missing \" in quoted-field"
                        ));
                    }
                }
            } else {
                while let Some(&c) = chars.peek() {
                    if matches!(c, ',' | '\n') || (c == '\r' && field_end(&chars)) {
                        break;
                    }
                    if c == '"' {
                        return err(format!(
                            "CSV parse error on line {line}: bare \" in non-quoted-field"
                        ));
                    }
                    field.push(c);
                    chars.next();
                }
            }
            fields.push(field);
            match chars.next() {
                Some(',') => continue,
                Some('\r') => {
                    if chars.peek() == Some(&'\n') {
                        chars.next();
                    }
                    line += 1;
                    break;
                }
                Some('\n') => {
                    line += 1;
                    break;
                }
                _ => break,
            }
        }
        records.push(fields);
    }
    Ok(records)
}

/// Whether a `\r` ends the field: only as part of `\r\n` or at the end of the text.
fn field_end(chars: &std::iter::Peekable<std::str::Chars<'_>>) -> bool {
    let mut ahead = chars.clone();
    ahead.next();
    matches!(ahead.peek(), None | Some('\n'))
}
