//! The genesis file, `genesis.json`: reading and writing it in a node's home. What a genesis
//! holds, its rules and its JSON form belong to `lazychain-chainspec` (re-exported here, so
//! `lazychain_config::Genesis` keeps working); this module adds the file.

use std::path::Path;

pub use lazychain_chainspec::genesis::*;
use lazychain_chainspec::ChainSpecError;

use crate::{fsutil, ConfigError};

/// File name of the genesis file inside a node's home directory.
pub const GENESIS_FILE: &str = "genesis.json";

/// Largest genesis file accepted.
pub const MAX_GENESIS_BYTES: u64 = 16 * 1024 * 1024;

/// Reading and writing a [`Genesis`] as a file. Errors name the file, the key and the
/// problem, e.g. `home/genesis.json: key validators[1].public_key: duplicate public key 0x…`.
pub trait GenesisFile: Sized {
    /// Reads, decodes and validates the genesis file at `path`.
    fn load(path: &Path) -> Result<Self, ConfigError>;

    /// Validates, then writes the genesis file at `path` (pretty JSON), refusing to replace
    /// an existing file unless `force`. The file is written under a temporary name and
    /// renamed into place.
    fn save(&self, path: &Path, force: bool) -> Result<(), ConfigError>;
}

impl GenesisFile for Genesis {
    fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = fsutil::read_capped(path, MAX_GENESIS_BYTES)?;
        Genesis::from_json(&text).map_err(|e| ConfigError::in_file(path, e))
    }

    fn save(&self, path: &Path, force: bool) -> Result<(), ConfigError> {
        self.validate().map_err(|e| ConfigError::in_file(path, e))?;
        fsutil::write_atomic(path, self.to_json().as_bytes(), false, force)
    }
}

/// A rule of [`Genesis::validate`] broken by a genesis built in code, named as in
/// `genesis.json` (`lazychain init` and `localnet` check a genesis before writing it).
impl From<ChainSpecError> for ConfigError {
    fn from(error: ChainSpecError) -> Self {
        ConfigError::in_file(Path::new(GENESIS_FILE), error)
    }
}

#[cfg(test)]
mod tests {
    use alloy_primitives::{Address, U256};

    use super::*;
    use crate::keys::ValidatorKey;

    fn genesis() -> Genesis {
        let public_key = ValidatorKey::from_seed([1; 32]).public_key();
        Genesis {
            chain_id: 1337,
            genesis_time_ms: 1_700_000_000_000,
            validators: vec![GenesisValidator {
                name: "a".to_owned(),
                public_key,
                voting_power: 1,
                fee_recipient: fee_recipient_for(&public_key),
            }],
            limits: BlockLimits::default(),
            execution: ExecutionGenesis {
                hardfork: DEFAULT_HARDFORK.to_owned(),
                base_fee_per_gas: DEFAULT_BASE_FEE_PER_GAS,
                trace_period: 1,
                alloc: vec![GenesisAccount {
                    address: Address::repeat_byte(1),
                    balance: U256::from(1u64),
                    nonce: 0,
                    code: Default::default(),
                    storage: Vec::new(),
                }],
            },
            state: StateGenesis::default(),
        }
    }

    #[test]
    fn save_load_round_trip() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(GENESIS_FILE);
        let g = genesis();
        g.save(&path, false).expect("save");
        assert_eq!(Genesis::load(&path).expect("load"), g);
        let text = std::fs::read_to_string(&path).expect("read");
        assert_eq!(text, g.to_json());
        let err = g.save(&path, false).expect_err("exists").to_string();
        assert!(err.contains("genesis.json: already exists"), "{err}");
        g.save(&path, true).expect("forced save");
        let mut bad = g.clone();
        bad.chain_id = 0;
        let err = bad.save(&path, true).expect_err("invalid").to_string();
        assert_eq!(
            err,
            format!("{}: key chain_id: must not be 0", path.display())
        );
        assert_eq!(
            ConfigError::from(bad.validate().expect_err("invalid")).to_string(),
            "genesis.json: key chain_id: must not be 0"
        );
    }

    #[test]
    fn load_names_file_and_key() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(GENESIS_FILE);
        let good = genesis().to_json();
        let check = |text: &str, expected: &str| {
            std::fs::write(&path, text).expect("write");
            let err = Genesis::load(&path).expect_err("bad genesis").to_string();
            assert_eq!(
                err.strip_prefix(&format!("{}: ", path.display())),
                Some(expected),
                "{err}"
            );
        };
        check(
            "{",
            "not valid JSON (EOF while parsing an object at line 1 column 1)",
        );
        check(
            "[]",
            "expected a JSON object at the top level, got an array",
        );
        check(
            &good.replacen("\"chain_id\"", "\"chainid\"", 1),
            "unknown key chainid (expected one of: chain_id, genesis_time_ms, validators, limits, execution, state)",
        );
        check(
            &good.replace("\"max_tx_bytes\": 131072,\n", ""),
            "key limits.max_tx_bytes: missing",
        );
        check(
            &good.replace("\"chain_id\": 1337", "\"chain_id\": 0"),
            "key chain_id: must not be 0",
        );
        let err = Genesis::load(&dir.path().join("none.json")).expect_err("missing");
        assert!(matches!(err, ConfigError::NotFound { .. }), "{err}");
    }
}
