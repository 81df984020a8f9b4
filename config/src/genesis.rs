//! The genesis file: the chain id, the validator set and the block limits every node of a
//! chain must agree on.
//!
//! Every field is required: a default that changed between versions would split the chain.

use std::collections::HashMap;
use std::path::Path;

use malachitebft_signing_ed25519::PublicKey;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::hexfmt::to_hex;
use crate::keys::validator_address;
use crate::{fsutil, json, ConfigError};

/// File name of the genesis file inside a node's home directory.
pub const GENESIS_FILE: &str = "genesis.json";

/// Largest genesis file accepted.
pub const MAX_GENESIS_BYTES: u64 = 16 * 1024 * 1024;

/// Largest chain id: a legacy (EIP-155) signature's `v = 2 * chain_id + 36` must fit in 64
/// bits (EIP-2294).
pub const MAX_CHAIN_ID: u64 = u64::MAX / 2 - 36;

/// Gas of the cheapest transaction (a plain transfer); a block gas limit below it admits
/// nothing.
pub const MIN_TX_GAS: u64 = 21_000;

/// The genesis of a lazychain chain.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Genesis {
    /// EIP-155 chain id, checked in every transaction signature.
    pub chain_id: u64,
    /// Timestamp of the chain's start, in milliseconds since the Unix epoch.
    pub genesis_time_ms: u64,
    /// The validators that order data blocks, with their voting power.
    pub validators: Vec<GenesisValidator>,
    /// The stateless limits validators enforce on blocks and transactions.
    pub limits: BlockLimits,
}

/// One member of the genesis validator set.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct GenesisValidator {
    /// A human-readable name, unique in the set.
    pub name: String,
    /// The ed25519 public key, serialized as `0x` hex.
    #[serde(with = "crate::hexfmt::serde_hex32")]
    pub public_key: [u8; 32],
    /// Voting power, at least 1.
    pub voting_power: u64,
}

impl GenesisValidator {
    /// The validator's address, see [`validator_address`].
    pub fn address(&self) -> [u8; 20] {
        validator_address(&self.public_key)
    }
}

/// Stateless limits on blocks and transactions, fixed at genesis.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct BlockLimits {
    /// Most bytes of transactions in one block (the sum of their encoded lengths).
    pub max_block_bytes: u64,
    /// Most bytes in one encoded transaction.
    pub max_tx_bytes: u64,
    /// Most gas in one block (the sum of its transactions' gas limits).
    pub max_block_gas: u64,
    /// Most transactions in one block.
    pub max_txs_per_block: u64,
    /// Base-fee floor in wei: every transaction's max fee per gas must reach it. 0 disables
    /// the floor.
    pub min_gas_price: u64,
    /// How far, in milliseconds, a proposed block's timestamp may be ahead of the local
    /// clock.
    pub max_timestamp_drift_ms: u64,
}

impl Default for BlockLimits {
    fn default() -> Self {
        Self {
            max_block_bytes: 4 * 1024 * 1024,
            max_tx_bytes: 128 * 1024,
            max_block_gas: 100_000_000,
            max_txs_per_block: 20_000,
            min_gas_price: 1_000_000_000,
            max_timestamp_drift_ms: 5_000,
        }
    }
}

const TOP_KEYS: &[&str] = &["chain_id", "genesis_time_ms", "validators", "limits"];
const VALIDATOR_KEYS: &[&str] = &["name", "public_key", "voting_power"];
const LIMIT_KEYS: &[&str] = &[
    "max_block_bytes",
    "max_tx_bytes",
    "max_block_gas",
    "max_txs_per_block",
    "min_gas_price",
    "max_timestamp_drift_ms",
];

impl Genesis {
    /// The sum of all voting power, or `None` if it overflows.
    pub fn total_voting_power(&self) -> Option<u64> {
        self.validators
            .iter()
            .try_fold(0u64, |sum, v| sum.checked_add(v.voting_power))
    }

    /// Reads and validates the genesis file at `path`. Errors name the file and the key,
    /// e.g. `genesis.json: key validators[1].public_key: duplicate public key 0x…`.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = fsutil::read_capped(path, MAX_GENESIS_BYTES)?;
        Self::from_json(path, &text)
    }

    /// Parses and validates genesis file contents; `path` only names the file in errors.
    pub fn from_json(path: &Path, text: &str) -> Result<Self, ConfigError> {
        let origin = path.display().to_string();
        let value: Value = serde_json::from_str(text)
            .map_err(|e| ConfigError::malformed(path, format!("not valid JSON ({e})")))?;
        let genesis = decode(path, &origin, &value)?;
        genesis.validate_as(&origin)?;
        Ok(genesis)
    }

    /// The genesis file's contents: pretty JSON with a trailing newline.
    pub fn to_json(&self) -> String {
        // Serializing plain structs of integers, strings and arrays cannot fail.
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }

    /// Validates, then writes the genesis file at `path` (pretty JSON), refusing to replace
    /// an existing file unless `force`. The file is written under a temporary name and
    /// renamed into place.
    pub fn save(&self, path: &Path, force: bool) -> Result<(), ConfigError> {
        self.validate_as(&path.display().to_string())?;
        fsutil::write_atomic(path, self.to_json().as_bytes(), false, force)
    }

    /// Checks the rules every genesis must satisfy: a non-zero chain id of at most
    /// [`MAX_CHAIN_ID`]; a non-empty validator set with unique, non-empty names, unique valid
    /// ed25519 public keys, voting power at least 1 and a total that fits in `u64`; non-zero
    /// limits (except `min_gas_price`), `max_tx_bytes <= max_block_bytes` and
    /// `max_block_gas >= 21000`. Errors name `genesis.json` and the key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.validate_as(GENESIS_FILE)
    }

    fn validate_as(&self, origin: &str) -> Result<(), ConfigError> {
        let fail = |key: &str, problem: String| Err(ConfigError::invalid(origin, key, problem));
        if self.chain_id == 0 {
            return fail("chain_id", "must not be 0".to_owned());
        }
        if self.chain_id > MAX_CHAIN_ID {
            return fail(
                "chain_id",
                format!(
                    "{} is above the largest usable chain id {MAX_CHAIN_ID} (EIP-2294)",
                    self.chain_id
                ),
            );
        }
        if self.validators.is_empty() {
            return fail(
                "validators",
                "the validator set is empty; at least one validator is required".to_owned(),
            );
        }
        let mut names: HashMap<&str, usize> = HashMap::new();
        let mut keys: HashMap<[u8; 32], usize> = HashMap::new();
        let mut total: u64 = 0;
        for (i, v) in self.validators.iter().enumerate() {
            if v.name.trim().is_empty() {
                return fail(
                    &format!("validators[{i}].name"),
                    "must not be empty".to_owned(),
                );
            }
            if let Some(first) = names.insert(v.name.as_str(), i) {
                return fail(
                    &format!("validators[{i}].name"),
                    format!(
                        "duplicate name {:?} (also validators[{first}].name)",
                        v.name
                    ),
                );
            }
            if PublicKey::from_bytes(v.public_key).is_err() {
                return fail(
                    &format!("validators[{i}].public_key"),
                    format!(
                        "{} is not a valid ed25519 public key",
                        to_hex(&v.public_key)
                    ),
                );
            }
            if let Some(first) = keys.insert(v.public_key, i) {
                return fail(
                    &format!("validators[{i}].public_key"),
                    format!(
                        "duplicate public key {} (also validators[{first}].public_key)",
                        to_hex(&v.public_key)
                    ),
                );
            }
            if v.voting_power == 0 {
                return fail(
                    &format!("validators[{i}].voting_power"),
                    "must be at least 1".to_owned(),
                );
            }
            total = match total.checked_add(v.voting_power) {
                Some(t) => t,
                None => {
                    return fail(
                        &format!("validators[{i}].voting_power"),
                        format!(
                            "the total voting power exceeds {} (the largest 64-bit value)",
                            u64::MAX
                        ),
                    )
                }
            };
        }
        let l = &self.limits;
        for (key, value) in [
            ("max_block_bytes", l.max_block_bytes),
            ("max_tx_bytes", l.max_tx_bytes),
            ("max_block_gas", l.max_block_gas),
            ("max_txs_per_block", l.max_txs_per_block),
            ("max_timestamp_drift_ms", l.max_timestamp_drift_ms),
        ] {
            if value == 0 {
                return fail(
                    &format!("limits.{key}"),
                    "must be greater than 0".to_owned(),
                );
            }
        }
        if l.max_tx_bytes > l.max_block_bytes {
            return fail(
                "limits.max_tx_bytes",
                format!(
                    "{} is larger than limits.max_block_bytes ({}): such a transaction could never be included",
                    l.max_tx_bytes, l.max_block_bytes
                ),
            );
        }
        if l.max_block_gas < MIN_TX_GAS {
            return fail(
                "limits.max_block_gas",
                format!(
                    "{} is below {MIN_TX_GAS}, the gas of the cheapest transaction",
                    l.max_block_gas
                ),
            );
        }
        Ok(())
    }
}

/// Builds a [`Genesis`] from parsed JSON, naming the key of the first bad value.
fn decode(path: &Path, origin: &str, value: &Value) -> Result<Genesis, ConfigError> {
    let top = value.as_object().ok_or_else(|| {
        ConfigError::malformed(
            path,
            format!(
                "expected a JSON object at the top level, got {}",
                json::describe(value)
            ),
        )
    })?;
    json::check_keys(origin, "", top, TOP_KEYS, &[])?;
    let mut validators = Vec::new();
    for (i, entry) in json::array_field(origin, "", top, "validators")?
        .iter()
        .enumerate()
    {
        let at = format!("validators[{i}]");
        let v = entry.as_object().ok_or_else(|| {
            ConfigError::invalid(
                origin,
                &at,
                format!("expected an object, got {}", json::describe(entry)),
            )
        })?;
        json::check_keys(origin, &at, v, VALIDATOR_KEYS, &[])?;
        validators.push(GenesisValidator {
            name: json::str_field(origin, &at, v, "name")?.to_owned(),
            public_key: json::hex_field::<32>(origin, &at, v, "public_key")?,
            voting_power: json::u64_field(origin, &at, v, "voting_power")?,
        });
    }
    let l = json::object_field(origin, "", top, "limits")?;
    json::check_keys(origin, "limits", l, LIMIT_KEYS, &[])?;
    let limit = |key: &str| json::u64_field(origin, "limits", l, key);
    Ok(Genesis {
        chain_id: json::u64_field(origin, "", top, "chain_id")?,
        genesis_time_ms: json::u64_field(origin, "", top, "genesis_time_ms")?,
        validators,
        limits: BlockLimits {
            max_block_bytes: limit("max_block_bytes")?,
            max_tx_bytes: limit("max_tx_bytes")?,
            max_block_gas: limit("max_block_gas")?,
            max_txs_per_block: limit("max_txs_per_block")?,
            min_gas_price: limit("min_gas_price")?,
            max_timestamp_drift_ms: limit("max_timestamp_drift_ms")?,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::ValidatorKey;

    fn validator(name: &str, seed: u8) -> GenesisValidator {
        GenesisValidator {
            name: name.to_owned(),
            public_key: ValidatorKey::from_seed([seed; 32]).public_key(),
            voting_power: 1,
        }
    }

    fn genesis() -> Genesis {
        Genesis {
            chain_id: 1337,
            genesis_time_ms: 1_700_000_000_000,
            validators: vec![validator("a", 1), validator("b", 2), validator("c", 3)],
            limits: BlockLimits::default(),
        }
    }

    fn err_of(g: &Genesis) -> String {
        g.validate().expect_err("invalid genesis").to_string()
    }

    #[test]
    fn default_limits() {
        let l = BlockLimits::default();
        assert_eq!(l.max_block_bytes, 4 << 20);
        assert_eq!(l.max_tx_bytes, 128 << 10);
        assert_eq!(l.max_block_gas, 100_000_000);
        assert_eq!(l.max_txs_per_block, 20_000);
        assert_eq!(l.min_gas_price, 1_000_000_000);
        assert_eq!(l.max_timestamp_drift_ms, 5_000);
    }

    #[test]
    fn save_load_round_trip_agrees_with_serde() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(GENESIS_FILE);
        let g = genesis();
        g.save(&path, false).expect("save");
        let loaded = Genesis::load(&path).expect("load");
        assert_eq!(loaded, g);
        let text = std::fs::read_to_string(&path).expect("read");
        let via_serde: Genesis = serde_json::from_str(&text).expect("serde");
        assert_eq!(via_serde, g);
        assert!(text.contains(&format!(
            "\"public_key\": \"{}\"",
            to_hex(&g.validators[0].public_key)
        )));
        let err = g.save(&path, false).expect_err("exists").to_string();
        assert!(err.contains("genesis.json: already exists"), "{err}");
        g.save(&path, true).expect("forced save");
    }

    #[test]
    fn duplicate_public_key_is_named() {
        let mut g = genesis();
        g.validators[2].public_key = g.validators[0].public_key;
        let err = err_of(&g);
        assert_eq!(
            err,
            format!(
                "genesis.json: key validators[2].public_key: duplicate public key {} (also validators[0].public_key)",
                to_hex(&g.validators[0].public_key)
            )
        );
    }

    #[test]
    fn duplicate_name_is_named() {
        let mut g = genesis();
        g.validators[1].name = "a".to_owned();
        assert_eq!(
            err_of(&g),
            "genesis.json: key validators[1].name: duplicate name \"a\" (also validators[0].name)"
        );
    }

    #[test]
    fn each_rule_has_its_error() {
        type Case = (fn(&mut Genesis), &'static str);
        let cases: Vec<Case> = vec![
            (|g| g.chain_id = 0, "key chain_id: must not be 0"),
            (
                |g| g.chain_id = u64::MAX,
                "key chain_id: 18446744073709551615 is above",
            ),
            (
                |g| g.validators.clear(),
                "key validators: the validator set is empty",
            ),
            (
                |g| g.validators[1].voting_power = 0,
                "key validators[1].voting_power: must be at least 1",
            ),
            (
                |g| {
                    g.validators[0].voting_power = u64::MAX;
                    g.validators[1].voting_power = 1;
                },
                "key validators[1].voting_power: the total voting power exceeds",
            ),
            (
                |g| g.validators[0].name = " ".to_owned(),
                "key validators[0].name: must not be empty",
            ),
            (
                |g| {
                    let mut bad = [0x01; 32];
                    bad[31] = 0;
                    g.validators[0].public_key = bad;
                },
                "key validators[0].public_key: 0x0101",
            ),
            (
                |g| g.limits.max_block_bytes = 0,
                "key limits.max_block_bytes: must be greater than 0",
            ),
            (
                |g| g.limits.max_timestamp_drift_ms = 0,
                "key limits.max_timestamp_drift_ms: must be greater than 0",
            ),
            (
                |g| g.limits.max_tx_bytes = g.limits.max_block_bytes + 1,
                "key limits.max_tx_bytes: 4194305 is larger than limits.max_block_bytes (4194304)",
            ),
            (
                |g| g.limits.max_block_gas = 20_999,
                "key limits.max_block_gas: 20999 is below 21000",
            ),
        ];
        for (mutate, expected) in cases {
            let mut g = genesis();
            mutate(&mut g);
            let err = err_of(&g);
            assert!(err.starts_with("genesis.json: "), "{err}");
            assert!(err.contains(expected), "expected {expected:?} in {err:?}");
        }
        let mut g = genesis();
        g.limits.min_gas_price = 0;
        g.validate().expect("a zero gas price floor is allowed");
    }

    #[test]
    fn load_names_file_and_key() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(GENESIS_FILE);
        let good = genesis().to_json();
        let check = |text: &str, expected: &str| {
            std::fs::write(&path, text).expect("write");
            let err = Genesis::load(&path).expect_err("bad genesis").to_string();
            assert!(err.starts_with(&path.display().to_string()), "{err}");
            assert!(err.contains(expected), "expected {expected:?} in {err:?}");
        };
        check("{", "genesis.json: not valid JSON (EOF");
        check(
            "[]",
            "expected a JSON object at the top level, got an array",
        );
        check(
            &good.replacen("\"chain_id\"", "\"chainid\"", 1),
            "unknown key chainid (expected one of",
        );
        check(
            &good.replace("\"chain_id\": 1337", "\"chain_id\": \"1337\""),
            "key chain_id: expected an unsigned integer",
        );
        check(
            &good.replacen("\"name\": \"a\",", "\"name\": \"a\", \"power\": 2,", 1),
            "unknown key validators[0].power",
        );
        check(
            &good.replace("\"max_tx_bytes\": 131072,\n", ""),
            "key limits.max_tx_bytes: missing",
        );
        check(&good.replacen("\"voting_power\": 1", "\"voting_power\": -1", 1), "key validators[0].voting_power: expected an unsigned integer from 0 to 18446744073709551615, got number -1");
        let g = genesis();
        check(
            &good.replace(
                &to_hex(&g.validators[1].public_key),
                &to_hex(&g.validators[0].public_key),
            ),
            "key validators[1].public_key: duplicate public key",
        );
        check(
            &good.replacen(&to_hex(&g.validators[0].public_key), "0xabcd", 1),
            "key validators[0].public_key: expected 0x followed by 64 hex digits",
        );
        let err = Genesis::load(&dir.path().join("none.json")).expect_err("missing");
        assert!(matches!(err, ConfigError::NotFound { .. }), "{err}");
    }

    #[test]
    fn address_matches_key() {
        let v = validator("a", 9);
        assert_eq!(v.address(), ValidatorKey::from_seed([9; 32]).address());
    }
}
