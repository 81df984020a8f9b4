//! `#[serde(with = "...")]` adapters for the values of lazychain's JSON files that serde's
//! own impls read too loosely or explain too vaguely: fixed-length hex, checked addresses,
//! hex bytes, big quantities as strings, and storage maps that keep every entry.
//!
//! Each adapter writes what the default impl writes, so files keep their bytes; on reading,
//! its error says what was expected and what was found (serde then adds where).

use std::fmt;

use alloy_primitives::{Address, Bytes, B256, U256};
use serde::de::{Error as _, MapAccess, Unexpected, Visitor};
use serde::{Deserializer, Serialize, Serializer};

use crate::hexfmt::{from_hex, to_hex};

/// The digits of a `0x` hex or decimal quantity and their radix, or `None` when the text has
/// anything else: a sign, `_` separators, an exponent, or no digits at all (`from_str_radix`
/// would accept some of these).
fn quantity_digits(text: &str) -> Option<(&str, u32)> {
    let (digits, radix) = match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => (hex, 16),
        None => (text, 10),
    };
    (!digits.is_empty() && digits.chars().all(|c| c.is_digit(radix))).then_some((digits, radix))
}

/// A `0x` hex quantity or a decimal number from 0 to 2^128 - 1.
pub fn parse_u128(text: &str) -> Option<u128> {
    let (digits, radix) = quantity_digits(text)?;
    u128::from_str_radix(digits, radix).ok()
}

/// A `0x` hex quantity or a decimal number from 0 to 2^256 - 1.
pub fn parse_u256(text: &str) -> Option<U256> {
    let (digits, radix) = quantity_digits(text)?;
    U256::from_str_radix(digits, u64::from(radix)).ok()
}

/// A visitor of one JSON string, parsed by `parse`; `expecting` completes "expected …".
struct StrVisitor<F> {
    expecting: &'static str,
    parse: F,
}

impl<'de, T, F: FnOnce(&str) -> Result<T, String>> Visitor<'de> for StrVisitor<F> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.expecting)
    }

    fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<T, E> {
        (self.parse)(text).map_err(E::custom)
    }
}

fn read_str<'de, D: Deserializer<'de>, T>(
    deserializer: D,
    expecting: &'static str,
    parse: impl FnOnce(&str) -> Result<T, String>,
) -> Result<T, D::Error> {
    deserializer.deserialize_str(StrVisitor { expecting, parse })
}

/// A 32-byte array as `0x` and 64 hex digits.
pub mod hex32 {
    use super::*;

    pub fn serialize<S: Serializer>(bytes: &[u8; 32], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&to_hex(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<[u8; 32], D::Error> {
        read_str(deserializer, "a string of 0x and 64 hex digits", |text| {
            from_hex::<32>(text).map_err(|e| e.to_string())
        })
    }
}

/// An optional 20-byte array as `0x` and 40 hex digits (`None` when the key is left out:
/// use with `#[serde(default)]`).
pub mod hex20_option {
    use super::*;

    pub fn serialize<S: Serializer>(
        bytes: &Option<[u8; 20]>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match bytes {
            Some(bytes) => serializer.serialize_str(&to_hex(bytes)),
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<[u8; 20]>, D::Error> {
        read_str(deserializer, "a string of 0x and 40 hex digits", |text| {
            from_hex::<20>(text).map(Some).map_err(|e| e.to_string())
        })
    }
}

/// An Ethereum address as `0x` and 40 hex digits. Mixed-case hex must carry a valid EIP-55
/// checksum, which catches mistyped digits; all-lowercase or all-uppercase hex carries none
/// and is taken as it is.
pub mod address {
    use super::*;

    pub fn serialize<S: Serializer>(address: &Address, serializer: S) -> Result<S::Ok, S::Error> {
        address.serialize(serializer)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Address, D::Error> {
        read_str(deserializer, "a string of 0x and 40 hex digits", parse)
    }

    fn parse(text: &str) -> Result<Address, String> {
        let address = Address::from(from_hex::<20>(text).map_err(|e| e.to_string())?);
        let digits = text
            .strip_prefix("0x")
            .or_else(|| text.strip_prefix("0X"))
            .unwrap_or(text);
        let mixed = digits.chars().any(|c| c.is_ascii_lowercase())
            && digits.chars().any(|c| c.is_ascii_uppercase());
        let checksummed = address.to_checksum(None);
        if mixed && checksummed.get(2..) != Some(digits) {
            return Err(format!(
                "{text} has a wrong EIP-55 checksum (a mistyped digit?); the checksummed form of these digits is {checksummed}"
            ));
        }
        Ok(address)
    }
}

/// Bytes of any length as `0x` and an even number of hex digits.
pub mod bytes {
    use super::*;

    pub fn serialize<S: Serializer>(bytes: &Bytes, serializer: S) -> Result<S::Ok, S::Error> {
        bytes.serialize(serializer)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Bytes, D::Error> {
        read_str(deserializer, "a string of 0x and hex digits", |text| {
            let digits = text
                .strip_prefix("0x")
                .or_else(|| text.strip_prefix("0X"))
                .unwrap_or(text);
            hex::decode(digits).map(Into::into).map_err(|e| {
                let mut shown: String = text.chars().take(20).collect();
                if shown.len() < text.len() {
                    shown.push('…');
                }
                format!("expected 0x followed by an even number of hex digits, got {shown:?} ({e})")
            })
        })
    }
}

/// A `u128` as a JSON string: decimal when written, decimal or `0x` hex when read. A JSON
/// number is refused: most parsers round large ones silently.
pub mod u128_string {
    use super::*;

    pub fn serialize<S: Serializer>(value: &u128, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&value.to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u128, D::Error> {
        const EXPECTING: &str =
            "a string holding a 0x hex quantity or a decimal number from 0 to 2^128 - 1";
        read_str(deserializer, EXPECTING, |text| {
            parse_u128(text).ok_or_else(|| format!("expected {EXPECTING}, got {text:?}"))
        })
    }
}

/// A `U256` as a JSON string: written as `0x` hex, read as `0x` hex or decimal. A JSON
/// number is refused: most parsers round large ones silently.
pub mod u256_string {
    use super::*;

    pub fn serialize<S: Serializer>(value: &U256, serializer: S) -> Result<S::Ok, S::Error> {
        value.serialize(serializer)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<U256, D::Error> {
        const EXPECTING: &str =
            "a string holding a 0x hex quantity or a decimal number from 0 to 2^256 - 1";
        read_str(deserializer, EXPECTING, |text| {
            parse_u256(text).ok_or_else(|| format!("expected {EXPECTING}, got {text:?}"))
        })
    }
}

/// A percentage: an integer from 0 to 100.
pub mod percent {
    use super::*;

    pub fn serialize<S: Serializer>(value: &u8, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u8(*value)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u8, D::Error> {
        struct Percent;
        impl Visitor<'_> for Percent {
            type Value = u8;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an integer from 0 to 100")
            }

            fn visit_u64<E: serde::de::Error>(self, value: u64) -> Result<u8, E> {
                u8::try_from(value)
                    .ok()
                    .filter(|p| *p <= 100)
                    .ok_or_else(|| E::custom(format!("{value} is above 100")))
            }

            fn visit_i64<E: serde::de::Error>(self, value: i64) -> Result<u8, E> {
                match u64::try_from(value) {
                    Ok(value) => self.visit_u64(value),
                    Err(_) => Err(E::invalid_value(Unexpected::Signed(value), &self)),
                }
            }
        }
        deserializer.deserialize_u64(Percent)
    }
}

/// Storage slots as a JSON object from slot to value (both 32-byte `0x` hex), written in slot
/// order. Reading keeps every entry, sorted by slot: two spellings of one slot (`0x..01` and
/// `0X..01`) stay two entries, for validation to refuse.
pub mod storage_map {
    use std::collections::BTreeMap;

    use super::*;

    pub fn serialize<S: Serializer>(
        storage: &[(B256, B256)],
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        let map: BTreeMap<B256, B256> = storage.iter().copied().collect();
        map.serialize(serializer)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Vec<(B256, B256)>, D::Error> {
        struct Slots;
        impl<'de> Visitor<'de> for Slots {
            type Value = Vec<(B256, B256)>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object from 32-byte 0x hex slot to 32-byte 0x hex value")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut slots = Vec::with_capacity(map.size_hint().unwrap_or(0).min(1024));
                while let Some(slot) = map.next_key::<String>()? {
                    let slot = from_hex::<32>(&slot)
                        .map_err(|e| A::Error::custom(format!("bad slot {slot:?}: {e}")))?;
                    let value = map.next_value::<Slot>()?.0;
                    slots.push((B256::from(slot), value));
                }
                // JSON objects have no order that survives every parser: use slot order.
                slots.sort_unstable();
                Ok(slots)
            }
        }
        deserializer.deserialize_map(Slots)
    }

    /// One storage value, read as 32-byte hex.
    struct Slot(B256);

    impl<'de> serde::Deserialize<'de> for Slot {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            super::hex32::deserialize(deserializer).map(|bytes| Slot(B256::from(bytes)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_are_strict() {
        assert_eq!(parse_u128("0X10"), Some(16));
        assert_eq!(parse_u128(&u128::MAX.to_string()), Some(u128::MAX));
        for bad in ["", "0x", "+1", "-1", "1_0", "1e3", "0xg", " 1"] {
            assert_eq!(parse_u128(bad), None, "{bad:?}");
            assert_eq!(parse_u256(bad), None, "{bad:?}");
        }
        assert_eq!(parse_u128(&format!("{}0", u128::MAX)), None);
        assert_eq!(parse_u256(&format!("{}0", U256::MAX)), None);
        assert_eq!(parse_u256("0xff"), Some(U256::from(255u64)));
    }
}
