//! Hash functions over a string's UTF-8 bytes (hexadecimal, or base64 of the raw digest),
//! and `uuidv5`. The `file*` variants are in `filesystem`; `bcrypt` and `uuid` are impure
//! (random at each apply).

use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha512};

use super::{Func, Ret, err, s, string};
use crate::terraform::value::Value;

pub(super) const FUNCS: &[Func] = &[
    Func::pure("base64sha256", 1, 1, |a| text(a, Algo::Sha256, true)),
    Func::pure("base64sha512", 1, 1, |a| text(a, Algo::Sha512, true)),
    // Salted at random: a new value at every apply.
    Func::impure("bcrypt", 1, 2),
    Func::pure("md5", 1, 1, |a| text(a, Algo::Md5, false)),
    Func::pure("sha1", 1, 1, |a| text(a, Algo::Sha1, false)),
    Func::pure("sha256", 1, 1, |a| text(a, Algo::Sha256, false)),
    Func::pure("sha512", 1, 1, |a| text(a, Algo::Sha512, false)),
    Func::impure("uuid", 0, 0),
    Func::pure("uuidv5", 2, 2, uuidv5),
];

/// A digest algorithm.
#[derive(Clone, Copy)]
pub(super) enum Algo {
    Md5,
    Sha1,
    Sha256,
    Sha512,
}

/// The raw digest of `bytes`.
fn digest(algo: Algo, bytes: &[u8]) -> Vec<u8> {
    match algo {
        Algo::Md5 => Md5::digest(bytes).to_vec(),
        Algo::Sha1 => Sha1::digest(bytes).to_vec(),
        Algo::Sha256 => Sha256::digest(bytes).to_vec(),
        Algo::Sha512 => Sha512::digest(bytes).to_vec(),
    }
}

/// The digest of `bytes`, in hexadecimal or base64.
pub(super) fn hash(algo: Algo, bytes: &[u8], base64: bool) -> Value {
    let d = digest(algo, bytes);
    if base64 {
        s(crate::base64::encode(&d))
    } else {
        s(d.iter().map(|b| format!("{b:02x}")).collect::<String>())
    }
}

fn text(a: &[Value], algo: Algo, base64: bool) -> Ret {
    Ok(hash(
        algo,
        string(&a[0], "the argument")?.as_bytes(),
        base64,
    ))
}

/// A UUID's 16 bytes from its text (`6ba7b810-9dad-11d1-80b4-00c04fd430c8`, with or without
/// hyphens, braces or a `urn:uuid:` prefix, as Go's `uuid.Parse` reads them).
fn parse_uuid(text: &str) -> Option<[u8; 16]> {
    let t = text.strip_prefix("urn:uuid:").unwrap_or(text);
    let t = t
        .strip_prefix('{')
        .and_then(|t| t.strip_suffix('}'))
        .unwrap_or(t);
    let hex: String = match t.len() {
        36 => {
            let b = t.as_bytes();
            if [8, 13, 18, 23].iter().any(|&i| b[i] != b'-') {
                return None;
            }
            t.chars().filter(|c| *c != '-').collect()
        }
        32 => t.to_owned(),
        _ => return None,
    };
    let mut out = [0u8; 16];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// `uuidv5`: the name-based UUID (SHA-1) of `name` in a namespace (`dns`, `url`, `oid`,
/// `x500`, or a UUID).
fn uuidv5(a: &[Value]) -> Ret {
    let ns = string(&a[0], "the namespace")?;
    let name = string(&a[1], "the name")?;
    let ns_text = match ns.as_str() {
        "dns" => "6ba7b810-9dad-11d1-80b4-00c04fd430c8",
        "url" => "6ba7b811-9dad-11d1-80b4-00c04fd430c8",
        "oid" => "6ba7b812-9dad-11d1-80b4-00c04fd430c8",
        "x500" => "6ba7b814-9dad-11d1-80b4-00c04fd430c8",
        other => other,
    };
    let Some(ns_bytes) = parse_uuid(ns_text) else {
        return err(format!(
            "uuidv5() doesn't support namespace {ns} (invalid UUID)"
        ));
    };
    let mut input = ns_bytes.to_vec();
    input.extend_from_slice(name.as_bytes());
    let d = digest(Algo::Sha1, &input);
    let mut u = [0u8; 16];
    u.copy_from_slice(&d[..16]);
    u[6] = (u[6] & 0x0f) | 0x50;
    u[8] = (u[8] & 0x3f) | 0x80;
    let hex: String = u.iter().map(|b| format!("{b:02x}")).collect();
    Ok(s(format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )))
}
