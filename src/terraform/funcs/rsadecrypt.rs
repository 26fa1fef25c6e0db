//! `rsadecrypt(ciphertext, private_key)`, as Terraform 1.11 computes it: the ciphertext in
//! standard base64, the key in PEM read as Go's `ssh.ParseRawPrivateKey` reads it (`RSA
//! PRIVATE KEY` = PKCS#1, `PRIVATE KEY` = PKCS#8, `OPENSSH PRIVATE KEY`; unencrypted, RSA),
//! RSA PKCS#1 v1.5 decryption, and the plaintext as a string.
//!
//! The RSA itself is aws-lc's (`aws-lc-rs`, already built as rustls's crypto provider), not
//! the `rsa` crate's, whose decryption has a known timing leak (RUSTSEC-2023-0071, the Marvin
//! attack) and no fixed version. aws-lc reads PKCS#8 only, so a PKCS#1 key is wrapped in a
//! PKCS#8 envelope, and an OpenSSH key (n, e, d, 1/q mod p, p, q) is first written as PKCS#1,
//! with the two exponents it lacks (d mod p-1, d mod q-1) computed here. aws-lc takes keys of
//! 2048 to 8192 bits; Terraform also takes smaller ones (a 1024-bit key): ecs-env refuses
//! those, naming the limit, rather than do the RSA itself.
//!
//! Neither the ciphertext, the key nor the plaintext ever appears in an error: the errors say
//! what is wrong (not base64, not a key, encrypted, not RSA, not for this key) and nothing
//! more. The decoded key, its re-encodings and the plaintext are kept in buffers zeroed when
//! dropped; the plaintext's last copy is the string value Terraform would return.

use aws_lc_rs::rsa::{Pkcs1PrivateDecryptingKey, PrivateDecryptingKey};
use zeroize::Zeroizing;

use super::{FnError, Func, Ret, err, s, string};
use crate::terraform::value::Value;

pub(super) const FUNCS: &[Func] = &[Func::pure("rsadecrypt", 2, 2, rsadecrypt)];

/// Secret bytes, zeroed when dropped.
type Secret = Zeroizing<Vec<u8>>;

fn rsadecrypt(a: &[Value]) -> Ret {
    let ciphertext = string(&a[0], "the ciphertext")?;
    let pem = Zeroizing::new(string(&a[1], "the private key")?);
    let Some(ciphertext) = crate::base64::decode(&ciphertext) else {
        return err("the ciphertext is not base64 (standard alphabet, with padding)");
    };
    let pkcs8 = private_key(pem.as_bytes())?;
    let plaintext = decrypt(&pkcs8, &ciphertext)?;
    Ok(s(go_string(&plaintext)))
}

/// A failure that is ecs-env's limit, not Terraform's: `try()` must not hide it.
fn unsupported(message: &str, hint: &str) -> FnError {
    FnError {
        message: message.to_owned(),
        hint: hint.to_owned(),
        fatal: true,
        unknown: false,
        nested: Vec::new(),
    }
}

/// The key as PKCS#8 DER, from PEM text as `ssh.ParseRawPrivateKey` reads it.
fn private_key(pem: &[u8]) -> Result<Secret, FnError> {
    let Some(block) = pem_decode(pem) else {
        return err("the private key is not PEM (no -----BEGIN ...----- block)");
    };
    if block.encrypted {
        return err("the private key is encrypted: rsadecrypt takes an unencrypted key");
    }
    match block.label.as_slice() {
        b"RSA PRIVATE KEY" => Ok(pkcs8_of_pkcs1(&block.der)),
        b"PRIVATE KEY" => Ok(block.der),
        b"OPENSSH PRIVATE KEY" => openssh(&block.der).map(|pkcs1| pkcs8_of_pkcs1(&pkcs1)),
        b"EC PRIVATE KEY" | b"DSA PRIVATE KEY" => {
            err("the private key is not an RSA key: rsadecrypt needs one")
        }
        // The label is not quoted: the text need not be a key at all.
        _ => err(
            "the PEM block is not a private key rsadecrypt reads (RSA PRIVATE KEY, PRIVATE KEY or OPENSSH PRIVATE KEY)",
        ),
    }
}

/// PKCS#1 v1.5 decryption of `ciphertext` with the PKCS#8 key `pkcs8`.
fn decrypt(pkcs8: &[u8], ciphertext: &[u8]) -> Result<Secret, FnError> {
    let key = PrivateDecryptingKey::from_pkcs8(pkcs8).map_err(|e| match e.description_() {
        "TooSmall" => unsupported(
            "the RSA key is smaller than 2048 bits: Terraform decrypts with it, ecs-env does not",
            "ecs-env's RSA (aws-lc) takes keys of 2048 to 8192 bits; encrypt the value for a key of 2048 bits or more",
        ),
        "TooLarge" => unsupported(
            "the RSA key is larger than 8192 bits: Terraform decrypts with it, ecs-env does not",
            "ecs-env's RSA (aws-lc) takes keys of 2048 to 8192 bits",
        ),
        _ => FnError {
            message: "the private key is not a valid RSA private key".to_owned(),
            hint: String::new(),
            fatal: false,
            unknown: false,
            nested: Vec::new(),
        },
    })?;
    let bits = key.key_size_bits();
    let key = Pkcs1PrivateDecryptingKey::new(key)
        .or_else(|_| err("the private key is not a valid RSA private key"))?;
    let failed = || err("failed to decrypt: the ciphertext is not RSA PKCS#1 v1.5 for this key");
    // Go reads the ciphertext as a number into as many 64-bit words as the modulus takes: a
    // shorter one is that number (its leading zero bytes left out), a longer one is refused
    // unless the extra bytes are zeros that still fit those words. aws-lc wants exactly the
    // modulus's length.
    let k = key.key_size_bytes();
    if ciphertext.len() > bits.div_ceil(64) * 8 {
        return failed();
    }
    let extra = ciphertext.len().saturating_sub(k);
    if ciphertext[..extra].iter().any(|&b| b != 0) {
        return failed();
    }
    let mut padded = vec![0u8; k - (ciphertext.len() - extra)];
    padded.extend_from_slice(&ciphertext[extra..]);
    let mut out = Zeroizing::new(vec![0u8; key.min_output_size()]);
    let n = match key.decrypt(&padded, &mut out[..]) {
        Ok(plaintext) => plaintext.len(),
        Err(_) => return failed(),
    };
    out.truncate(n);
    Ok(out)
}

/// The plaintext as Terraform's string: Go keeps the bytes, and they reach JSON (and so a
/// task definition) with each byte that is not part of valid UTF-8 as U+FFFD.
fn go_string(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        // An invalid sequence is one lead byte and the continuation bytes that followed it;
        // Go's decoder rejects each byte on its own.
        out.extend(chunk.invalid().iter().map(|_| char::REPLACEMENT_CHARACTER));
    }
    out
}

/// A PEM block as Go's `pem.Decode` finds it.
struct Block {
    label: Vec<u8>,
    /// A `Proc-Type: 4,ENCRYPTED` header: an OpenSSL passphrase-protected key.
    encrypted: bool,
    der: Secret,
}

/// A line as Go's `pem.getLine` cuts it (without `\n`, one `\r`, and trailing spaces and
/// tabs), and what follows it.
fn get_line(data: &[u8]) -> (&[u8], &[u8]) {
    let (mut line, rest) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &data[data.len()..]),
    };
    if data.len() > line.len() {
        line = line.strip_suffix(b"\r").unwrap_or(line);
    }
    while let [head @ .., b' ' | b'\t'] = line {
        line = head;
    }
    (line, rest)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn trim(b: &[u8]) -> &[u8] {
    b.trim_ascii()
}

/// The first well-formed PEM block of `data`, by Go's `pem.Decode` rules: `-----BEGIN
/// LABEL-----` at the start or after a newline (text before it is skipped), `Key: value`
/// header lines, base64 (spaces, tabs and line breaks ignored), `-----END LABEL-----` alone
/// on its line. A malformed candidate is skipped for the next `-----BEGIN`.
fn pem_decode(data: &[u8]) -> Option<Block> {
    const START: &[u8] = b"\n-----BEGIN ";
    const END: &[u8] = b"\n-----END ";
    const DASHES: &[u8] = b"-----";
    let mut rest = data;
    loop {
        if rest.starts_with(&START[1..]) {
            rest = &rest[START.len() - 1..];
        } else if let Some(i) = find(rest, START) {
            rest = &rest[i + START.len()..];
        } else {
            return None;
        }
        let (type_line, after) = get_line(rest);
        rest = after;
        let Some(label) = type_line.strip_suffix(DASHES) else {
            continue;
        };
        let mut headers = false;
        let mut proc_type: &[u8] = b"";
        loop {
            if rest.is_empty() {
                return None;
            }
            let (line, next) = get_line(rest);
            let Some(colon) = line.iter().position(|&b| b == b':') else {
                break;
            };
            headers = true;
            if trim(&line[..colon]) == b"Proc-Type" {
                proc_type = trim(&line[colon + 1..]);
            }
            rest = next;
        }
        let (end, trailer) = if !headers && rest.starts_with(&END[1..]) {
            (0, END.len() - 1)
        } else {
            match find(rest, END) {
                Some(i) => (i, i + END.len()),
                None => continue,
            }
        };
        let trailer = &rest[trailer..];
        let trailer_len = label.len() + DASHES.len();
        if trailer.len() < trailer_len {
            continue;
        }
        let (end_line, after_end) = trailer.split_at(trailer_len);
        if !end_line.starts_with(label)
            || !end_line.ends_with(DASHES)
            || !get_line(after_end).0.is_empty()
        {
            continue;
        }
        let body: Secret = Zeroizing::new(
            rest[..end]
                .iter()
                .copied()
                .filter(|b| !matches!(b, b' ' | b'\t'))
                .collect(),
        );
        let Some(der) = std::str::from_utf8(&body)
            .ok()
            .and_then(crate::base64::decode_secret)
        else {
            continue;
        };
        return Some(Block {
            label: label.to_vec(),
            encrypted: find(proc_type, b"4,ENCRYPTED").is_some(),
            der,
        });
    }
}

/// Reads the SSH wire format (RFC 4251): `uint32` and length-prefixed strings.
struct Wire<'a>(&'a [u8]);

impl<'a> Wire<'a> {
    fn u32(&mut self) -> Option<u32> {
        let (head, rest) = self.0.split_first_chunk::<4>()?;
        self.0 = rest;
        Some(u32::from_be_bytes(*head))
    }

    fn string(&mut self) -> Option<&'a [u8]> {
        let n = usize::try_from(self.u32()?).ok()?;
        if n > self.0.len() {
            return None;
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(head)
    }

    /// An `mpint`, as its magnitude without leading zeros; `None` if negative.
    fn mpint(&mut self) -> Option<&'a [u8]> {
        let b = self.string()?;
        if b.first().is_some_and(|&x| x & 0x80 != 0) {
            return None;
        }
        let zeros = b.iter().take_while(|&&x| x == 0).count();
        Some(&b[zeros..])
    }
}

/// An unencrypted `openssh-key-v1` RSA key, as PKCS#1 DER.
fn openssh(blob: &[u8]) -> Result<Secret, FnError> {
    let malformed = || err("the private key is not a valid OpenSSH private key");
    let Some(body) = blob.strip_prefix(b"openssh-key-v1\0") else {
        return malformed();
    };
    let mut w = Wire(body);
    let (Some(cipher), Some(kdf), Some(kdf_options), Some(count), Some(_public), Some(private)) = (
        w.string(),
        w.string(),
        w.string(),
        w.u32(),
        w.string(),
        w.string(),
    ) else {
        return malformed();
    };
    if count != 1 {
        return err("the OpenSSH private key file holds more than one key");
    }
    if cipher != b"none" || kdf != b"none" {
        return err("the private key is encrypted: rsadecrypt takes an unencrypted key");
    }
    if !kdf_options.is_empty() {
        return malformed();
    }
    let mut w = Wire(private);
    let (Some(check1), Some(check2), Some(kind)) = (w.u32(), w.u32(), w.string()) else {
        return malformed();
    };
    if check1 != check2 {
        return malformed();
    }
    if kind != b"ssh-rsa" {
        return err("the private key is not an RSA key: rsadecrypt needs one");
    }
    let (Some(n), Some(e), Some(d), Some(iqmp), Some(p), Some(q), Some(_comment)) = (
        w.mpint(),
        w.mpint(),
        w.mpint(),
        w.mpint(),
        w.mpint(),
        w.mpint(),
        w.string(),
    ) else {
        return malformed();
    };
    // What is left is padding: 1, 2, 3, ...
    if w.0
        .iter()
        .enumerate()
        .any(|(i, &b)| usize::from(b) != i + 1)
    {
        return malformed();
    }
    let (Some(p1), Some(q1)) = (minus_one(p), minus_one(q)) else {
        return malformed();
    };
    let dp = modulo(d, &p1);
    let dq = modulo(d, &q1);
    // PKCS#1's RSAPrivateKey: version 0, n, e, d, p, q, d mod (p-1), d mod (q-1), 1/q mod p.
    let parts: [&[u8]; 9] = [&[], n, e, d, p, q, &dp, &dq, iqmp];
    let mut content = Zeroizing::new(Vec::with_capacity(
        parts.iter().map(|x| x.len() + 8).sum::<usize>(),
    ));
    for part in parts {
        der_integer(&mut content, part);
    }
    let mut out = Zeroizing::new(Vec::with_capacity(content.len() + 8));
    der(&mut out, 0x30, &content);
    Ok(out)
}

/// `x - 1` for an odd `x` greater than 1 (a prime), as a big-endian magnitude.
fn minus_one(x: &[u8]) -> Option<Secret> {
    let (&last, _) = x.split_last()?;
    if last & 1 == 0 || (x.len() == 1 && last == 1) {
        return None;
    }
    let mut out = Zeroizing::new(x.to_vec());
    if let Some(last) = out.last_mut() {
        *last -= 1;
    }
    Some(out)
}

/// `x mod m` for big-endian magnitudes (`m` not zero), a bit of `x` at a time: shift it into
/// the remainder and subtract `m` when the remainder reaches it. The steps and the branches
/// depend on the lengths only, not on the values, which are the key's secret.
fn modulo(x: &[u8], m: &[u8]) -> Secret {
    let width = m.len() + 1;
    let mut m_wide = Zeroizing::new(vec![0u8; width]);
    m_wide[1..].copy_from_slice(m);
    let mut r = Zeroizing::new(vec![0u8; width]);
    let mut t = Zeroizing::new(vec![0u8; width]);
    for byte in x {
        for bit in (0..8).rev() {
            // r = 2r + bit; r < m before, so r < 2m fits `width` bytes.
            let mut carry = (byte >> bit) & 1;
            for v in r.iter_mut().rev() {
                let next = *v >> 7;
                *v = (*v << 1) | carry;
                carry = next;
            }
            // t = r - m; keep it where there was no borrow (r >= m).
            let mut borrow = 0u16;
            for i in (0..width).rev() {
                let diff = u16::from(r[i])
                    .wrapping_sub(u16::from(m_wide[i]))
                    .wrapping_sub(borrow);
                t[i] = diff as u8;
                borrow = (diff >> 15) & 1;
            }
            let keep_t = (borrow as u8).wrapping_sub(1);
            for i in 0..width {
                r[i] = (t[i] & keep_t) | (r[i] & !keep_t);
            }
        }
    }
    r
}

/// Appends a DER length.
fn der_length(out: &mut Vec<u8>, n: usize) {
    if n < 0x80 {
        out.push(n as u8);
    } else {
        let bytes = n.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
}

/// Appends a DER element: tag, length, content.
fn der(out: &mut Vec<u8>, tag: u8, content: &[u8]) {
    out.push(tag);
    der_length(out, content.len());
    out.extend_from_slice(content);
}

/// Appends a DER INTEGER of a non-negative big-endian magnitude.
fn der_integer(out: &mut Vec<u8>, magnitude: &[u8]) {
    let zeros = magnitude.iter().take_while(|&&b| b == 0).count();
    let m = &magnitude[zeros..];
    out.push(0x02);
    match m.first() {
        None => out.extend_from_slice(&[1, 0]),
        Some(&high) if high & 0x80 != 0 => {
            der_length(out, m.len() + 1);
            out.push(0);
            out.extend_from_slice(m);
        }
        Some(_) => {
            der_length(out, m.len());
            out.extend_from_slice(m);
        }
    }
}

/// A PKCS#1 RSAPrivateKey in PKCS#8's PrivateKeyInfo: version 0, the rsaEncryption algorithm
/// (OID 1.2.840.113549.1.1.1, NULL parameters), the key as an OCTET STRING.
fn pkcs8_of_pkcs1(pkcs1: &[u8]) -> Secret {
    const VERSION_AND_ALGORITHM: &[u8] = &[
        0x02, 0x01, 0x00, // INTEGER 0
        0x30, 0x0d, // SEQUENCE
        0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, // rsaEncryption
        0x05, 0x00, // NULL
    ];
    let mut content = Zeroizing::new(Vec::with_capacity(pkcs1.len() + 32));
    content.extend_from_slice(VERSION_AND_ALGORITHM);
    der(&mut content, 0x04, pkcs1);
    let mut out = Zeroizing::new(Vec::with_capacity(content.len() + 8));
    der(&mut out, 0x30, &content);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> String {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/vectors/terraform-functions-files")
            .join(name);
        std::fs::read_to_string(path).unwrap()
    }

    fn call(ciphertext: &str, key: &str) -> Ret {
        rsadecrypt(&[s(ciphertext), s(key)])
    }

    #[test]
    fn modulo_matches_small_numbers() {
        for (x, m) in [
            (0u64, 7u64),
            (6, 7),
            (7, 7),
            (1000, 7),
            (u64::MAX, 65521),
            (12345, 300),
        ] {
            let r = modulo(&x.to_be_bytes(), &m.to_be_bytes());
            let r = r.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
            assert_eq!(r, x % m, "{x} mod {m}");
        }
    }

    #[test]
    fn pem_decoding_follows_go() {
        let key = fixture("rsa-test-only-pkcs1-2048.pem");
        assert_eq!(
            pem_decode(key.as_bytes()).unwrap().label,
            b"RSA PRIVATE KEY"
        );
        // Text before the block, CRLF line ends, no final newline: all accepted.
        let framed = format!("junk\n{}", key.replace('\n', "\r\n"));
        assert!(pem_decode(framed.trim_end().as_bytes()).is_some());
        // A mismatched END line, or text after it on its line: not a block.
        assert!(pem_decode(key.replace("END RSA", "END EC").as_bytes()).is_none());
        assert!(pem_decode(key.replace("KEY-----\n", "KEY----- x\n").as_bytes()).is_none());
        let encrypted = fixture("rsa-test-only-pkcs1-encrypted-2048.pem");
        assert!(pem_decode(encrypted.as_bytes()).unwrap().encrypted);
    }

    /// Failing calls name none of their arguments: not the ciphertext, not a line of the key,
    /// not the plaintext the ciphertext holds.
    #[test]
    fn errors_quote_no_secret() {
        let pkcs1 = fixture("rsa-test-only-pkcs1-2048.pem");
        let pkcs8 = fixture("rsa-test-only-pkcs8-2048.pem");
        let openssh = fixture("rsa-test-only-openssh-1024");
        let small = fixture("rsa-test-only-pkcs1-1024.pem");
        let garbage = fixture("rsa-test-only-garbage.pem");
        let encrypted = fixture("rsa-test-only-pkcs1-encrypted-2048.pem");
        // "hello", encrypted for the PKCS#1 key (the first rsadecrypt vector).
        let vectors = fixture("../terraform-functions.txt");
        let hello = vectors
            .lines()
            .find_map(|l| {
                l.strip_prefix("rsadecrypt(\"")?
                    .strip_suffix("\", file(\"rsa-test-only-pkcs1-2048.pem\"))")
            })
            .unwrap();
        assert_eq!(call(hello, &pkcs1).unwrap(), s("hello"));
        let truncated = &hello[..hello.len() - 8];
        let cases: [(&str, &str); 9] = [
            (hello, &pkcs8),
            (hello, &small),
            (hello, &openssh),
            (hello, &garbage),
            (hello, &encrypted),
            (hello, "secret-looking text, not a key"),
            (&format!("{hello}!secret"), &pkcs1),
            (truncated, &pkcs1),
            (hello, &pkcs1.replace("RSA PRIVATE KEY", "SECRET THING")),
        ];
        for (i, (ciphertext, key)) in cases.iter().enumerate() {
            let e = call(ciphertext, key).unwrap_err();
            let shown = format!("{} {} {e:?}", e.message, e.hint);
            let mut secrets: Vec<&str> = vec![ciphertext, "hello", "secret"];
            secrets.extend(
                key.lines()
                    .filter(|l| !l.starts_with("-----") && l.len() > 8)
                    .collect::<Vec<_>>(),
            );
            secrets.extend(
                ciphertext
                    .as_bytes()
                    .chunks(16)
                    .map(|c| std::str::from_utf8(c).unwrap()),
            );
            for secret in secrets {
                assert!(!shown.contains(secret), "case {i}: {shown}");
            }
        }
    }
}
