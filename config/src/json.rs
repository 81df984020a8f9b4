//! Small helpers to decode hand-written JSON files with errors that name the key.

use serde_json::{Map, Value};

use crate::ConfigError;

/// `parent.key`, or `key` at the top level.
pub(crate) fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_owned()
    } else {
        format!("{parent}.{key}")
    }
}

/// A short description of a JSON value for "expected X, got Y" messages.
pub(crate) fn describe(value: &Value) -> String {
    let text = value.to_string();
    let kind = match value {
        Value::Null => return "null".to_owned(),
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => return "an array".to_owned(),
        Value::Object(_) => return "an object".to_owned(),
    };
    if text.len() > 80 {
        format!("a {kind}")
    } else {
        format!("{kind} {text}")
    }
}

/// Checks that `map` (at key path `path`) holds every key of `required`, and no key outside
/// `required` and `optional`.
pub(crate) fn check_keys(
    origin: &str,
    path: &str,
    map: &Map<String, Value>,
    required: &[&str],
    optional: &[&str],
) -> Result<(), ConfigError> {
    for key in map.keys() {
        if !required.contains(&key.as_str()) && !optional.contains(&key.as_str()) {
            let known: Vec<&str> = required.iter().chain(optional).copied().collect();
            return Err(ConfigError::unknown_key(origin, join(path, key), &known));
        }
    }
    for key in required {
        if !map.contains_key(*key) {
            return Err(ConfigError::invalid(origin, join(path, key), "missing"));
        }
    }
    Ok(())
}

fn get<'a>(
    origin: &str,
    path: &str,
    map: &'a Map<String, Value>,
    key: &str,
) -> Result<&'a Value, ConfigError> {
    map.get(key)
        .ok_or_else(|| ConfigError::invalid(origin, join(path, key), "missing"))
}

/// The object at `key` of `map`.
pub(crate) fn object_field<'a>(
    origin: &str,
    path: &str,
    map: &'a Map<String, Value>,
    key: &str,
) -> Result<&'a Map<String, Value>, ConfigError> {
    let value = get(origin, path, map, key)?;
    value.as_object().ok_or_else(|| {
        ConfigError::invalid(
            origin,
            join(path, key),
            format!("expected an object, got {}", describe(value)),
        )
    })
}

/// The array at `key` of `map`.
pub(crate) fn array_field<'a>(
    origin: &str,
    path: &str,
    map: &'a Map<String, Value>,
    key: &str,
) -> Result<&'a Vec<Value>, ConfigError> {
    let value = get(origin, path, map, key)?;
    value.as_array().ok_or_else(|| {
        ConfigError::invalid(
            origin,
            join(path, key),
            format!("expected an array, got {}", describe(value)),
        )
    })
}

/// The string at `key` of `map`.
pub(crate) fn str_field<'a>(
    origin: &str,
    path: &str,
    map: &'a Map<String, Value>,
    key: &str,
) -> Result<&'a str, ConfigError> {
    let value = get(origin, path, map, key)?;
    value.as_str().ok_or_else(|| {
        ConfigError::invalid(
            origin,
            join(path, key),
            format!("expected a string, got {}", describe(value)),
        )
    })
}

/// The unsigned 64-bit integer at `key` of `map`.
pub(crate) fn u64_field(
    origin: &str,
    path: &str,
    map: &Map<String, Value>,
    key: &str,
) -> Result<u64, ConfigError> {
    let value = get(origin, path, map, key)?;
    value.as_u64().ok_or_else(|| {
        ConfigError::invalid(
            origin,
            join(path, key),
            format!(
                "expected an unsigned integer from 0 to {}, got {}",
                u64::MAX,
                describe(value)
            ),
        )
    })
}

/// The `N` bytes hex-encoded in the string at `key` of `map`.
pub(crate) fn hex_field<const N: usize>(
    origin: &str,
    path: &str,
    map: &Map<String, Value>,
    key: &str,
) -> Result<[u8; N], ConfigError> {
    let text = str_field(origin, path, map, key)?;
    crate::hexfmt::from_hex::<N>(text)
        .map_err(|problem| ConfigError::invalid(origin, join(path, key), problem.to_string()))
}

/// The Ethereum address hex-encoded in the string at `key` of `map`. Mixed-case hex must
/// carry a valid EIP-55 checksum, which catches mistyped digits; all-lowercase or
/// all-uppercase hex carries none and is taken as it is.
pub(crate) fn address_field(
    origin: &str,
    path: &str,
    map: &Map<String, Value>,
    key: &str,
) -> Result<alloy_primitives::Address, ConfigError> {
    let text = str_field(origin, path, map, key)?;
    let address = alloy_primitives::Address::from(hex_field::<20>(origin, path, map, key)?);
    let digits = text
        .strip_prefix("0x")
        .or_else(|| text.strip_prefix("0X"))
        .unwrap_or(text);
    let mixed = digits.chars().any(|c| c.is_ascii_lowercase())
        && digits.chars().any(|c| c.is_ascii_uppercase());
    if mixed {
        let checksummed = address.to_checksum(None);
        if checksummed.get(2..) != Some(digits) {
            return Err(ConfigError::invalid(
                origin,
                join(path, key),
                format!(
                    "{text} has a wrong EIP-55 checksum (a mistyped digit?); the checksummed form of these digits is {checksummed}"
                ),
            ));
        }
    }
    Ok(address)
}

/// The unsigned 256-bit integer in the string at `key` of `map`: a `0x` hex quantity or a
/// decimal number. A JSON number is refused: most parsers round large ones silently.
pub(crate) fn u256_field(
    origin: &str,
    path: &str,
    map: &Map<String, Value>,
    key: &str,
) -> Result<alloy_primitives::U256, ConfigError> {
    let value = get(origin, path, map, key)?;
    let bad = || {
        ConfigError::invalid(
            origin,
            join(path, key),
            format!(
                "expected a string holding a 0x hex quantity or a decimal number from 0 to 2^256 - 1, got {}",
                describe(value)
            ),
        )
    };
    let text = value.as_str().ok_or_else(bad)?;
    let (digits, radix) = match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => (hex, 16),
        None => (text, 10),
    };
    // from_str_radix accepts `_` separators and an empty string: neither is a quantity.
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return Err(bad());
    }
    alloy_primitives::U256::from_str_radix(digits, u64::from(radix)).map_err(|_| bad())
}

/// The bytes hex-encoded (`0x` and an even number of hex digits, any length) in the string
/// at `key` of `map`.
pub(crate) fn bytes_field(
    origin: &str,
    path: &str,
    map: &Map<String, Value>,
    key: &str,
) -> Result<alloy_primitives::Bytes, ConfigError> {
    let text = str_field(origin, path, map, key)?;
    let digits = text
        .strip_prefix("0x")
        .or_else(|| text.strip_prefix("0X"))
        .unwrap_or(text);
    hex::decode(digits).map(Into::into).map_err(|e| {
        let mut shown: String = text.chars().take(20).collect();
        if shown.len() < text.len() {
            shown.push('…');
        }
        ConfigError::invalid(
            origin,
            join(path, key),
            format!("expected 0x followed by an even number of hex digits, got {shown:?} ({e})"),
        )
    })
}
