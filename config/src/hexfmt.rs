//! `0x`-prefixed hex, the encoding of every byte string in lazychain's JSON files.

/// Encodes `bytes` as `0x` followed by lowercase hex digits.
pub fn to_hex(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}

/// Decodes exactly `N` bytes from hex, with or without a `0x` prefix.
///
/// The error says what was expected and what was found, for use as the problem part of a
/// [`crate::ConfigError::Invalid`].
pub fn from_hex<const N: usize>(text: &str) -> Result<[u8; N], String> {
    let digits = text
        .strip_prefix("0x")
        .or_else(|| text.strip_prefix("0X"))
        .unwrap_or(text);
    if digits.len() != 2 * N {
        return Err(format!(
            "expected 0x followed by {} hex digits ({N} bytes), got {} characters after the prefix",
            2 * N,
            digits.len()
        ));
    }
    let mut out = [0u8; N];
    hex::decode_to_slice(digits, &mut out).map_err(|e| format!("invalid hex {text:?}: {e}"))?;
    Ok(out)
}

/// `#[serde(with = "...")]` adapter for a 32-byte array stored as `0x` hex.
pub(crate) mod serde_hex32 {
    use serde::{de::Error as _, Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8; 32], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&super::to_hex(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<[u8; 32], D::Error> {
        let text = String::deserialize(deserializer)?;
        super::from_hex::<32>(&text).map_err(D::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_with_and_without_prefix() {
        let bytes = [0xab_u8, 0x01, 0xff];
        assert_eq!(to_hex(&bytes), "0xab01ff");
        assert_eq!(from_hex::<3>("0xab01ff"), Ok(bytes));
        assert_eq!(from_hex::<3>("AB01FF"), Ok(bytes));
    }

    #[test]
    fn wrong_length_and_bad_digits_are_explained() {
        let err = from_hex::<32>("0x1234").expect_err("short");
        assert!(err.contains("64 hex digits (32 bytes), got 4"), "{err}");
        let err = from_hex::<2>("0xzz12").expect_err("bad digit");
        assert!(err.contains("invalid hex \"0xzz12\""), "{err}");
    }
}
