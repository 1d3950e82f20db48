//! A string that never shows itself in `Debug` output.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A secret string: a token, a password, a confirm key, a manual entry key or a backup code.
///
/// `Secret` has no `Display` implementation and its `Debug` output is `Secret("***")`, so it
/// cannot reach a log line or an error message by accident. Read the value with
/// [`expose`](Secret::expose) at the one place that needs it.
///
/// It serializes and deserializes as a plain JSON string, so models that hold secrets still
/// round-trip through `serde_json`.
///
/// ```
/// use docspace_tfa::Secret;
///
/// let token = Secret::new("sk-very-secret");
/// assert_eq!(format!("{token:?}"), r#"Secret("***")"#);
/// assert_eq!(token.expose(), "sk-very-secret");
/// ```
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret value. Use it only where it has to go on the wire or to its owner.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Consumes the wrapper and returns the value.
    pub fn into_inner(self) -> String {
        self.0
    }

    /// Whether the value is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(\"***\")")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Secret(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Secret(value.to_owned())
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Secret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_value() {
        let s = Secret::new("hunter2");
        assert!(!format!("{s:?}").contains("hunter2"));
        assert!(!format!("{:#?}", Some(s)).contains("hunter2"));
    }

    #[test]
    fn serde_is_transparent() {
        let s: Secret = serde_json::from_str("\"abc\"").unwrap();
        assert_eq!(s.expose(), "abc");
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"abc\"");
    }
}
