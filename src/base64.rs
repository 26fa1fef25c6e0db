//! Base64 as the two configuration languages define it, on the `base64` crate (already built
//! for the HTTP stack). CloudFormation's `Fn::Base64` and Terraform's `base64encode` write
//! standard base64 with padding; Terraform's `base64decode` reads it as Go's
//! `base64.StdEncoding` does: padding required, line breaks ignored, trailing bits not
//! checked. Anything else (missing padding, a character outside the alphabet, padding in the
//! middle) is refused, as Terraform refuses it.

use base64::Engine;
use base64::alphabet::STANDARD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use zeroize::Zeroizing;

const GO_STD_ENCODING: GeneralPurpose = GeneralPurpose::new(
    &STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::RequireCanonical)
        .with_decode_allow_trailing_bits(true),
);

/// Standard base64 with padding.
pub(crate) fn encode(bytes: &[u8]) -> String {
    GO_STD_ENCODING.encode(bytes)
}

/// Standard base64 as Go's `StdEncoding` reads it; `None` where Terraform reports an error.
pub(crate) fn decode(s: &str) -> Option<Vec<u8>> {
    let s: String = s.chars().filter(|c| !matches!(c, '\r' | '\n')).collect();
    GO_STD_ENCODING.decode(s).ok()
}

/// [`decode`] for a secret (a private key): every copy it makes is zeroed when dropped.
pub(crate) fn decode_secret(s: &str) -> Option<Zeroizing<Vec<u8>>> {
    let mut clean = Zeroizing::new(String::with_capacity(s.len()));
    clean.extend(s.chars().filter(|c| !matches!(c, '\r' | '\n')));
    let mut out = Zeroizing::new(vec![0u8; clean.len().div_ceil(4) * 3]);
    let n = GO_STD_ENCODING
        .decode_slice(clean.as_bytes(), &mut out[..])
        .ok()?;
    out.truncate(n);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_go_rules() {
        for text in ["", "a", "ab", "abc", "hello world"] {
            let enc = encode(text.as_bytes());
            assert_eq!(decode(&enc).unwrap(), text.as_bytes());
        }
        assert_eq!(encode(b"hello"), "aGVsbG8=");
        assert_eq!(encode(b"hi"), "aGk=");
        assert_eq!(decode("aGVs\nbG8="), Some(b"hello".to_vec()));
        assert_eq!(*decode_secret("aGVs\r\nbG8=").unwrap(), b"hello");
        // Go's StdEncoding (and so Terraform) accepts non-zero trailing bits.
        assert_eq!(decode("aGl="), Some(b"hi".to_vec()));
        // What Terraform rejects ("illegal base64 data at input byte N").
        for bad in ["aGk", "a*k=", "aG=k", "aGk==", "=", " aGk="] {
            assert_eq!(decode(bad), None, "{bad}");
            assert!(decode_secret(bad).is_none(), "{bad}");
        }
    }
}
