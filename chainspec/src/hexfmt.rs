//! `0x`-prefixed hex, the encoding of every byte string in lazychain's JSON files.

/// Encodes `bytes` as `0x` followed by lowercase hex digits.
pub fn to_hex(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}

/// Why text is not the hex encoding of the expected number of bytes. The message is meant as
/// the problem part of an error that names the key, such as [`crate::ChainSpecError::Invalid`].
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum HexError {
    /// Not twice as many digits as bytes after the optional `0x` prefix.
    #[error(
        "expected 0x followed by {} hex digits ({bytes} bytes), got {digits} characters after the prefix",
        2 * bytes
    )]
    WrongLength {
        /// The number of bytes expected.
        bytes: usize,
        /// The number of characters found after the prefix.
        digits: usize,
    },
    /// The right length, but not all hex digits.
    #[error("invalid hex {text:?}: {error}")]
    InvalidDigits {
        /// The whole text, prefix included.
        text: String,
        /// The decoder's complaint (which character, where).
        error: hex::FromHexError,
    },
}

/// Decodes exactly `N` bytes from hex, with or without a `0x` prefix.
///
/// The error says what was expected and what was found, for use as the problem part of an
/// error that names the key.
pub fn from_hex<const N: usize>(text: &str) -> Result<[u8; N], HexError> {
    let digits = text
        .strip_prefix("0x")
        .or_else(|| text.strip_prefix("0X"))
        .unwrap_or(text);
    if digits.len() != 2 * N {
        return Err(HexError::WrongLength {
            bytes: N,
            digits: digits.len(),
        });
    }
    let mut out = [0u8; N];
    hex::decode_to_slice(digits, &mut out).map_err(|error| HexError::InvalidDigits {
        text: text.to_owned(),
        error,
    })?;
    Ok(out)
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
        let err = from_hex::<32>("0x1234").expect_err("short").to_string();
        assert!(err.contains("64 hex digits (32 bytes), got 4"), "{err}");
        let err = from_hex::<2>("0xzz12").expect_err("bad digit").to_string();
        assert!(err.contains("invalid hex \"0xzz12\""), "{err}");
    }
}
