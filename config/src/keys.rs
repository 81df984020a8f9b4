//! The validator's ed25519 signing key, its address, and the key file that holds it.
//!
//! The key file is JSON:
//!
//! ```json
//! {
//!   "type": "ed25519",
//!   "private_key": "0x<32-byte seed>",
//!   "public_key": "0x<32-byte public key>",
//!   "address": "0x<20-byte validator address>"
//! }
//! ```
//!
//! `public_key` and `address` are redundant with `private_key`; loading checks that they
//! match it, so a damaged or hand-edited file is caught before the node signs anything.
//! `address` may be left out. The file is created with mode 0600.

use std::fmt;
use std::path::Path;

pub use lazychain_chainspec::address::{
    executor_address, validator_address, EXECUTOR_ADDRESS_TAG, VALIDATOR_ADDRESS_TAG,
};
use lazychain_chainspec::{decode_json, ChainSpecError};
use malachitebft_signing_ed25519::PrivateKey;
use rand::RngCore;
use serde::Deserialize;

use crate::hexfmt::to_hex;
use crate::{fsutil, ConfigError};

/// File name of the validator key inside a node's home directory.
pub const VALIDATOR_KEY_FILE: &str = "validator_key.json";

/// The only key type a key file may hold.
pub const KEY_TYPE_ED25519: &str = "ed25519";

/// Largest key file accepted; a real one is under 300 bytes.
pub const MAX_KEY_FILE_BYTES: u64 = 64 * 1024;

/// A validator's ed25519 signing key, kept as its 32-byte seed.
///
/// `Debug` prints the public key and address only, never the seed.
#[derive(Clone, PartialEq, Eq)]
pub struct ValidatorKey {
    seed: [u8; 32],
    public_key: [u8; 32],
}

impl fmt::Debug for ValidatorKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ValidatorKey")
            .field("public_key", &to_hex(&self.public_key))
            .field("address", &to_hex(&self.address()))
            .finish_non_exhaustive()
    }
}

impl ValidatorKey {
    /// A new key from the operating system's randomness.
    pub fn generate() -> Self {
        let mut seed = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut seed);
        Self::from_seed(seed)
    }

    /// The key with this seed (every 32-byte string is a valid ed25519 seed).
    pub fn from_seed(seed: [u8; 32]) -> Self {
        let public_key = *PrivateKey::from(seed).public_key().as_bytes();
        Self { seed, public_key }
    }

    /// The 32-byte seed: the secret. Handle with care.
    pub fn seed(&self) -> [u8; 32] {
        self.seed
    }

    /// The ed25519 public key.
    pub fn public_key(&self) -> [u8; 32] {
        self.public_key
    }

    /// The validator address derived from the public key, see [`validator_address`].
    pub fn address(&self) -> [u8; 20] {
        validator_address(&self.public_key)
    }

    /// The key as Malachite's signing type.
    pub fn private_key(&self) -> PrivateKey {
        PrivateKey::from(self.seed)
    }

    /// The key file's contents (pretty JSON with a trailing newline).
    pub fn to_json(&self) -> String {
        format!(
            "{{\n  \"type\": \"{KEY_TYPE_ED25519}\",\n  \"private_key\": \"{}\",\n  \"public_key\": \"{}\",\n  \"address\": \"{}\"\n}}\n",
            to_hex(&self.seed),
            to_hex(&self.public_key),
            to_hex(&self.address()),
        )
    }

    /// Writes the key file at `path` with mode 0600 (set when the file is created, so the
    /// secret is never readable by others). Refuses to replace an existing file unless
    /// `force`. The file is written under a temporary name and renamed into place.
    pub fn save(&self, path: &Path, force: bool) -> Result<(), ConfigError> {
        fsutil::write_atomic(path, self.to_json().as_bytes(), true, force)
    }

    /// Reads a key file written by [`ValidatorKey::save`].
    ///
    /// A file that is not JSON, is truncated, has unknown keys, another key type, hex of
    /// the wrong length, or a `public_key`/`address` that does not match `private_key` is an
    /// error naming the file and the key. A file readable by other users is accepted; call
    /// [`key_file_permission_warning`] to tell the operator.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = fsutil::read_capped(path, MAX_KEY_FILE_BYTES)?;
        Self::from_json(path, &text)
    }

    /// Parses key file contents; `path` only names the file in errors.
    pub fn from_json(path: &Path, text: &str) -> Result<Self, ConfigError> {
        let origin = path.display().to_string();
        let file: KeyFile = decode_json(text).map_err(|e| match e {
            ChainSpecError::NotJson { .. }
            | ChainSpecError::NotAnObject { .. }
            | ChainSpecError::Malformed { .. } => {
                ConfigError::malformed(path, format!("not a valid key file: {e}"))
            }
            e => ConfigError::in_file(path, e),
        })?;
        if file.key_type != KEY_TYPE_ED25519 {
            return Err(ConfigError::invalid(
                &origin,
                "type",
                format!(
                    "unsupported key type {:?} (expected \"{KEY_TYPE_ED25519}\")",
                    file.key_type
                ),
            ));
        }
        let key = Self::from_seed(file.private_key);
        if file.public_key != key.public_key {
            return Err(ConfigError::invalid(
                &origin,
                "public_key",
                format!(
                    "{} does not match the private key, whose public key is {}; the file is damaged or was edited",
                    to_hex(&file.public_key),
                    to_hex(&key.public_key)
                ),
            ));
        }
        if let Some(address) = file.address {
            if address != key.address() {
                return Err(ConfigError::invalid(
                    &origin,
                    "address",
                    format!(
                        "{} does not match the private key, whose address is {}; the file is damaged or was edited",
                        to_hex(&address),
                        to_hex(&key.address())
                    ),
                ));
            }
        }
        Ok(key)
    }
}

/// The key file as written; `public_key` and `address` are checked against `private_key`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyFile {
    #[serde(rename = "type")]
    key_type: String,
    #[serde(with = "lazychain_chainspec::encoding::hex32")]
    private_key: [u8; 32],
    #[serde(with = "lazychain_chainspec::encoding::hex32")]
    public_key: [u8; 32],
    #[serde(default, with = "lazychain_chainspec::encoding::hex20_option")]
    address: Option<[u8; 20]>,
}

/// A warning to show the operator when the key file at `path` can be read or written by
/// users other than its owner (mode looser than 0600), or `None` when it cannot (or on
/// platforms without Unix permissions). [`ValidatorKey::load`] accepts such a file; the
/// caller decides how loudly to complain.
pub fn key_file_permission_warning(path: &Path) -> Option<String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Some(format!(
                "{}: mode {mode:04o} lets other users read or change the validator's private key; run `chmod 600 {}`",
                path.display(),
                path.display()
            ));
        }
        None
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Golden key file for seed [1; 32]: fails when the key file format or the address
    /// derivation changes.
    const GOLDEN_SEED_1: &str = "{\n  \"type\": \"ed25519\",\n  \"private_key\": \"0x0101010101010101010101010101010101010101010101010101010101010101\",\n  \"public_key\": \"0x8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c\",\n  \"address\": \"0x0ae1158d93e0dd2c1f35f799d573f781c11322ec\"\n}\n";

    fn write(dir: &Path, text: &str) -> std::path::PathBuf {
        let path = dir.join(VALIDATOR_KEY_FILE);
        std::fs::write(&path, text).expect("write key file");
        path
    }

    #[test]
    fn golden_key_file() {
        let key = ValidatorKey::from_seed([1u8; 32]);
        assert_eq!(key.to_json(), GOLDEN_SEED_1);
        assert_eq!(
            ValidatorKey::from_json(Path::new("golden.json"), GOLDEN_SEED_1).expect("parse"),
            key
        );
    }

    #[test]
    fn save_load_round_trip_and_mode_0600() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(VALIDATOR_KEY_FILE);
        let key = ValidatorKey::generate();
        key.save(&path, false).expect("save");
        assert_eq!(ValidatorKey::load(&path).expect("load"), key);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path)
                .expect("metadata")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
            assert_eq!(key_file_permission_warning(&path), None);
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
            let warning = key_file_permission_warning(&path).expect("warning for 0644");
            assert!(warning.contains("mode 0644"), "{warning}");
            // A loose mode is accepted, only warned about.
            assert_eq!(ValidatorKey::load(&path).expect("load 0644"), key);
        }
    }

    #[test]
    fn save_refuses_to_overwrite_without_force() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(VALIDATOR_KEY_FILE);
        let first = ValidatorKey::from_seed([1; 32]);
        first.save(&path, false).expect("save");
        let err = ValidatorKey::from_seed([2; 32])
            .save(&path, false)
            .expect_err("overwrite");
        assert!(err.to_string().contains("already exists"), "{err}");
        assert_eq!(ValidatorKey::load(&path).expect("load"), first);
        let second = ValidatorKey::from_seed([2; 32]);
        second.save(&path, true).expect("forced save");
        assert_eq!(ValidatorKey::load(&path).expect("load"), second);
    }

    #[test]
    fn debug_does_not_print_the_seed() {
        let key = ValidatorKey::from_seed([0xab; 32]);
        let debug = format!("{key:?}");
        assert!(!debug.contains(&to_hex(&[0xab_u8; 32])[2..]), "{debug}");
        assert!(debug.contains(&to_hex(&key.public_key())), "{debug}");
    }

    #[test]
    fn corrupt_key_files_are_clear_errors() {
        let dir = tempfile::tempdir().expect("tempdir");
        let good = ValidatorKey::from_seed([3; 32]).to_json();

        let path = write(dir.path(), "this is not json");
        let err = ValidatorKey::load(&path).expect_err("not json").to_string();
        assert!(err.starts_with(&path.display().to_string()), "{err}");
        assert!(
            err.contains("not a valid key file: not valid JSON"),
            "{err}"
        );

        let path = write(dir.path(), &good[..good.len() / 2]);
        let err = ValidatorKey::load(&path)
            .expect_err("truncated")
            .to_string();
        assert!(
            err.contains("validator_key.json: not a valid key file: not valid JSON (EOF"),
            "{err}"
        );

        let short = good.replace(&to_hex(&[3u8; 32]), "0x0303");
        let path = write(dir.path(), &short);
        let err = ValidatorKey::load(&path)
            .expect_err("short hex")
            .to_string();
        assert!(
            err.contains("validator_key.json: key private_key: expected 0x followed by 64 hex digits (32 bytes), got 4"),
            "{err}"
        );

        let other_pk = to_hex(&ValidatorKey::from_seed([4; 32]).public_key());
        let mismatched = good.replace(
            &to_hex(&ValidatorKey::from_seed([3; 32]).public_key()),
            &other_pk,
        );
        let path = write(dir.path(), &mismatched);
        let err = ValidatorKey::load(&path)
            .expect_err("wrong public key")
            .to_string();
        assert!(
            err.contains(&format!(
                "validator_key.json: key public_key: {other_pk} does not match the private key"
            )),
            "{err}"
        );

        let wrong_type = good.replace("ed25519", "secp256k1");
        let path = write(dir.path(), &wrong_type);
        let err = ValidatorKey::load(&path)
            .expect_err("wrong type")
            .to_string();
        assert!(
            err.contains("key type: unsupported key type \"secp256k1\""),
            "{err}"
        );

        let path = write(dir.path(), "[1, 2]");
        let err = ValidatorKey::load(&path).expect_err("array").to_string();
        assert!(
            err.contains(
                "not a valid key file: expected a JSON object at the top level, got an array"
            ),
            "{err}"
        );

        let extra = good.replacen('{', "{\n  \"seed\": \"0x00\",", 1);
        let path = write(dir.path(), &extra);
        let err = ValidatorKey::load(&path)
            .expect_err("unknown key")
            .to_string();
        assert!(
            err.contains(
                "unknown key seed (expected one of: type, private_key, public_key, address)"
            ),
            "{err}"
        );

        let bad_address = good.replace(
            &to_hex(&ValidatorKey::from_seed([3; 32]).address()),
            &to_hex(&[0u8; 20]),
        );
        let path = write(dir.path(), &bad_address);
        let err = ValidatorKey::load(&path)
            .expect_err("wrong address")
            .to_string();
        assert!(err.contains("key address: 0x0000"), "{err}");

        let err = ValidatorKey::load(&dir.path().join("missing.json"))
            .expect_err("missing")
            .to_string();
        assert!(err.ends_with("missing.json: file not found"), "{err}");
    }

    #[test]
    fn address_may_be_omitted() {
        let key = ValidatorKey::from_seed([5; 32]);
        let text = format!(
            "{{\"type\":\"ed25519\",\"private_key\":\"{}\",\"public_key\":\"{}\"}}",
            to_hex(&key.seed()),
            to_hex(&key.public_key())
        );
        assert_eq!(
            ValidatorKey::from_json(Path::new("k.json"), &text).expect("parse"),
            key
        );
    }
}
