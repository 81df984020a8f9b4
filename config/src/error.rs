//! The crate's one error type.

use std::path::{Path, PathBuf};

use lazychain_chainspec::ChainSpecError;

/// Everything that can go wrong while reading, checking or writing lazychain's node files.
///
/// Every message starts with where the bad input came from (a file path, an environment
/// variable or a command-line flag), then names the key inside it when there is one, then
/// the problem, e.g. `config.toml: key rpc.listen_addr: invalid socket address "abc"`.
/// Messages are complete on their own: no variant carries a `source()` to print after it.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A file that must exist does not.
    #[error("{}: file not found", path.display())]
    NotFound {
        /// The missing file.
        path: PathBuf,
    },

    /// A write would replace an existing file and `force` was not given.
    #[error("{}: already exists; refusing to overwrite it (use --force to replace it)", path.display())]
    AlreadyExists {
        /// The existing file.
        path: PathBuf,
    },

    /// The operating system refused a read, write, rename or directory creation.
    #[error("{}: cannot {action}: {error}", path.display())]
    Io {
        /// The file or directory involved.
        path: PathBuf,
        /// What was being done, e.g. "read", "create", "rename into place".
        action: &'static str,
        /// The operating system's error.
        error: std::io::Error,
    },

    /// The file is not of the expected form as a whole: too large, not UTF-8, not valid TOML
    /// or JSON, or not an object/table at the top.
    #[error("{}: {problem}", path.display())]
    Malformed {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        problem: String,
    },

    /// A key that this version of lazychain does not know.
    #[error("{origin}: unknown key {key}{hint}")]
    UnknownKey {
        /// Where the key came from: a file path, `environment variable NAME` or
        /// `command-line flag`.
        origin: String,
        /// The full dotted key, e.g. `rpc.listen_adr`.
        key: String,
        /// Either empty or a parenthesised list of the keys that are known there.
        hint: String,
    },

    /// A known key with a value of the wrong type or out of its allowed range.
    #[error("{origin}: key {key}: {problem}")]
    Invalid {
        /// Where the value came from: a file path, `environment variable NAME` or
        /// `command-line flag`.
        origin: String,
        /// The full dotted key, e.g. `rpc.listen_addr` or `validators[2].public_key`.
        key: String,
        /// What is wrong with the value, naming the value and the limit.
        problem: String,
    },
}

impl ConfigError {
    pub(crate) fn io(
        path: impl Into<PathBuf>,
        action: &'static str,
        error: std::io::Error,
    ) -> Self {
        let path = path.into();
        if action == "read" && error.kind() == std::io::ErrorKind::NotFound {
            return Self::NotFound { path };
        }
        Self::Io {
            path,
            action,
            error,
        }
    }

    pub(crate) fn malformed(path: impl Into<PathBuf>, problem: impl Into<String>) -> Self {
        Self::Malformed {
            path: path.into(),
            problem: problem.into(),
        }
    }

    pub(crate) fn invalid(
        origin: impl Into<String>,
        key: impl Into<String>,
        problem: impl Into<String>,
    ) -> Self {
        Self::Invalid {
            origin: origin.into(),
            key: key.into(),
            problem: problem.into(),
        }
    }

    /// `error`, found in the JSON file at `path`, with the file named in front.
    pub(crate) fn in_file(path: &Path, error: ChainSpecError) -> Self {
        let origin = path.display().to_string();
        match error {
            ChainSpecError::NotJson { .. }
            | ChainSpecError::NotAnObject { .. }
            | ChainSpecError::Malformed { .. } => Self::malformed(path, error.to_string()),
            ChainSpecError::UnknownKey { key, expected } => Self::UnknownKey {
                origin,
                key,
                hint: format!(" ({expected})"),
            },
            ChainSpecError::Invalid { key, problem } => Self::Invalid {
                origin,
                key,
                problem,
            },
        }
    }

    pub(crate) fn unknown_key(
        origin: impl Into<String>,
        key: impl Into<String>,
        known: &[&str],
    ) -> Self {
        let hint = if known.is_empty() {
            String::new()
        } else {
            format!(" (expected one of: {})", known.join(", "))
        };
        Self::UnknownKey {
            origin: origin.into(),
            key: key.into(),
            hint,
        }
    }
}
