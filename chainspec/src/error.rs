//! The crate's one error type, and the JSON decoder that names the failing key.

use serde::de::DeserializeOwned;

/// Why a genesis (or another lazychain JSON document) is not acceptable.
///
/// Messages name the key and the problem but not the file: the caller that read the file
/// puts its name in front, e.g. `genesis.json: key validators[1].public_key: duplicate
/// public key 0x…`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ChainSpecError {
    /// The text is not JSON at all (a syntax error or a truncated document).
    #[error("not valid JSON ({problem})")]
    NotJson {
        /// The parser's complaint, with the line and column.
        problem: String,
    },

    /// Valid JSON, but not an object at the top level.
    #[error("expected a JSON object at the top level, got {found}")]
    NotAnObject {
        /// What was found instead, e.g. `an array`.
        found: &'static str,
    },

    /// A JSON object that is wrong as a whole, not at one key.
    #[error("{problem}")]
    Malformed {
        /// What is wrong with it.
        problem: String,
    },

    /// A key that this version of lazychain does not know.
    #[error("unknown key {key} ({expected})")]
    UnknownKey {
        /// The full key path, e.g. `validators[0].power`.
        key: String,
        /// The keys known there, e.g. `expected one of: name, public_key`.
        expected: String,
    },

    /// A known key that is missing, has a value of the wrong type, or breaks a rule.
    #[error("key {key}: {problem}")]
    Invalid {
        /// The full key path, e.g. `state.executors[2].bond`.
        key: String,
        /// What is wrong with the value, naming the value and the limit.
        problem: String,
    },
}

impl ChainSpecError {
    pub(crate) fn invalid(key: impl Into<String>, problem: impl Into<String>) -> Self {
        Self::Invalid {
            key: key.into(),
            problem: problem.into(),
        }
    }
}

/// Decodes a JSON object into `T` in one pass of serde, and on failure names the key path of
/// the bad value (`execution.alloc[2].code`), so that the types' `#[serde(deny_unknown_fields)]`
/// and adapters are the only description of the format.
pub fn decode_json<T: DeserializeOwned>(text: &str) -> Result<T, ChainSpecError> {
    // Serde would read a struct from an array too: refuse anything but an object first.
    let first = text.trim_start().chars().next();
    if first != Some('{') {
        serde_json::from_str::<serde::de::IgnoredAny>(text).map_err(|e| {
            ChainSpecError::NotJson {
                problem: e.to_string(),
            }
        })?;
        let found = match first {
            Some('[') => "an array",
            Some('"') => "a string",
            Some('t' | 'f') => "a boolean",
            Some('n') => "null",
            _ => "a number",
        };
        return Err(ChainSpecError::NotAnObject { found });
    }
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let decoded: Result<T, _> = serde_path_to_error::deserialize(&mut deserializer);
    let value = decoded.map_err(|e| {
        let path = e.path().to_string();
        explain(path, e.into_inner())
    })?;
    // Trailing characters after the object.
    deserializer.end().map_err(|e| ChainSpecError::NotJson {
        problem: e.to_string(),
    })?;
    Ok(value)
}

/// Turns serde's error at `path` into the key-naming form of [`ChainSpecError`].
fn explain(path: String, error: serde_json::Error) -> ChainSpecError {
    use serde_json::error::Category;
    if !matches!(error.classify(), Category::Data) {
        return ChainSpecError::NotJson {
            problem: error.to_string(),
        };
    }
    let at_root = path == ".";
    let message = error.to_string();
    // serde's own wording, stable across its versions: "missing field `x`", "duplicate
    // field `x`" and "unknown field `x`, expected one of `a`, `b`" (or "expected `a` or `b`",
    // "there are no fields").
    let core = message
        .strip_suffix(&format!(
            " at line {} column {}",
            error.line(),
            error.column()
        ))
        .unwrap_or(&message);
    let join = |key: &str| {
        if at_root {
            key.to_owned()
        } else {
            format!("{path}.{key}")
        }
    };
    if let Some(rest) = core.strip_prefix("missing field `") {
        if let Some(field) = rest.strip_suffix('`') {
            return ChainSpecError::invalid(join(field), "missing");
        }
    }
    if let Some(rest) = core.strip_prefix("duplicate field `") {
        if let Some(field) = rest.strip_suffix('`') {
            return ChainSpecError::invalid(join(field), "appears more than once");
        }
    }
    if let Some(rest) = core.strip_prefix("unknown field `") {
        if let Some((_field, expected)) = rest.split_once("`, ") {
            // The unknown key is already the last part of the path.
            return ChainSpecError::UnknownKey {
                key: path,
                expected: expected
                    .replace("expected one of ", "expected one of: ")
                    .replace('`', ""),
            };
        }
    }
    if at_root {
        return ChainSpecError::Malformed { problem: message };
    }
    ChainSpecError::Invalid {
        key: path,
        problem: message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        count: u64,
        inner: Vec<Inner>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        name: String,
    }

    fn err(text: &str) -> String {
        decode_json::<Outer>(text).expect_err("bad").to_string()
    }

    #[test]
    fn errors_name_the_key_path() {
        assert_eq!(
            err(r#"{"count": 1, "inner": [{"name": "a"}, {"name": "b", "x": 1}]}"#),
            "unknown key inner[1].x (expected name)"
        );
        assert_eq!(
            err(r#"{"cnt": 1}"#),
            "unknown key cnt (expected count or inner)"
        );
        assert_eq!(
            err(r#"{"count": 1, "inner": [{}]}"#),
            "key inner[0].name: missing"
        );
        assert_eq!(err(r#"{"inner": []}"#), "key count: missing");
        assert_eq!(
            err(r#"{"count": -1, "inner": []}"#),
            "key count: invalid value: integer `-1`, expected u64 at line 1 column 12"
        );
        assert!(err("{").starts_with("not valid JSON (EOF"), "{}", err("{"));
        assert!(err(r#"{"count": 1, "inner": []} x"#).starts_with("not valid JSON (trailing"));
        assert_eq!(
            err("[]"),
            "expected a JSON object at the top level, got an array"
        );
        assert_eq!(
            err("7"),
            "expected a JSON object at the top level, got a number"
        );
        assert_eq!(
            err(r#"[1, []]"#),
            "expected a JSON object at the top level, got an array"
        );
        assert!(err("").starts_with("not valid JSON (EOF"), "{}", err(""));
        assert_eq!(
            err(r#"{"count": 1, "count": 2, "inner": []}"#),
            "key count: appears more than once"
        );
        assert_eq!(
            err(r#"{"count": 1, "inner": [{"name": "a", "name": "b"}]}"#),
            "key inner[0].name: appears more than once"
        );
        assert!(err("[").starts_with("not valid JSON (EOF"), "{}", err("["));
    }
}
