//! The one type that holds a secret value.
//!
//! `SecretValue` owns the bytes of a resolved secret (or of a local override, which may be
//! just as sensitive). Its `Debug` is redacted and it has no `Display`, so a value cannot reach
//! a log line, an error message or a panic by accident: the only way to read it is the
//! explicit [`SecretValue::expose`]. The buffer is zeroed when the value is dropped, which
//! matters in the code paths where ecs-env keeps running after resolving (errors, and later
//! a supervising watch mode).
//!
//! This module is pure: no I/O, no AWS, no process handling.

use std::fmt;

use zeroize::Zeroize;

/// A secret value. Redacted in `Debug`, zeroed on drop, read only through [`expose`].
///
/// [`expose`]: SecretValue::expose
#[derive(Clone, PartialEq, Eq)]
pub struct SecretValue(String);

impl SecretValue {
    /// Wraps a value; from here on it is redacted in `Debug` and zeroed on drop.
    pub fn new(value: String) -> Self {
        Self(value)
    }

    /// The value itself. Call this only where the value is meant to go: the child's
    /// environment, or output the user explicitly asked for.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The value's length in bytes (no content).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the value is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretValue(<redacted>)")
    }
}

impl Drop for SecretValue {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let v = SecretValue::new("canary-4f1c".to_owned());
        let shown = format!("{v:?} {:#?}", Some(&v));
        assert!(!shown.contains("canary"), "{shown}");
        assert_eq!(v.expose(), "canary-4f1c");
    }
}
