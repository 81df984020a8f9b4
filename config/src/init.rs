//! `lazychain init`: a new node home with its config, key and a one-validator genesis.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::{
    dev_execution, fee_recipient_for, BlockLimits, ConfigError, Genesis, GenesisFile,
    GenesisValidator, NodeConfig, StateGenesis, ValidatorKey, CONFIG_FILE, GENESIS_FILE,
    VALIDATOR_KEY_FILE,
};

/// What `lazychain init` was asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InitOptions {
    /// The node's name, written to `node.moniker` and used as the validator's genesis name.
    pub moniker: String,
    /// The chain id written to genesis.
    pub chain_id: u64,
    /// Replace existing files.
    pub force: bool,
}

/// What `lazychain init` wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InitReport {
    /// The commented `config.toml`.
    pub config_path: PathBuf,
    /// The one-validator `genesis.json`.
    pub genesis_path: PathBuf,
    /// The validator key file (mode 0600).
    pub key_path: PathBuf,
    /// The new validator's address.
    pub address: [u8; 20],
}

/// `home/config.toml`.
pub fn config_path(home: &Path) -> PathBuf {
    home.join(CONFIG_FILE)
}

/// `home/genesis.json`.
pub fn genesis_path(home: &Path) -> PathBuf {
    home.join(GENESIS_FILE)
}

/// `home/validator_key.json`.
pub fn key_path(home: &Path) -> PathBuf {
    home.join(VALIDATOR_KEY_FILE)
}

/// `lazychain init --home DIR`: writes `config.toml` (commented, defaults with this
/// moniker), `validator_key.json` (a new key, mode 0600) and `genesis.json` (a one-validator
/// chain of that key with voting power 1 and fee recipient [`fee_recipient_for`] its key,
/// default limits, `genesis_time_ms` = now, [`dev_execution`]`(0)` and
/// [`StateGenesis::default`]: a 90 s challenge window of at least 10 blocks sized for a
/// 60 s executor stall, no corroboration beyond the claim's own executor, a 50% slashing
/// reward and no executors), and creates `DIR` and `DIR/data`.
///
/// Without `force`, if any of the three files exists the call fails with
/// [`ConfigError::AlreadyExists`] naming it, and writes nothing (every file is checked
/// before any is written). The options are validated before anything is written too.
pub fn init_home(home: &Path, opts: &InitOptions) -> Result<InitReport, ConfigError> {
    let report_paths = (config_path(home), genesis_path(home), key_path(home));
    let (config_path, genesis_path, key_path) = report_paths;
    if !opts.force {
        for path in [&config_path, &genesis_path, &key_path] {
            if path.symlink_metadata().is_ok() {
                return Err(ConfigError::AlreadyExists { path: path.clone() });
            }
        }
    }

    let key = ValidatorKey::generate();
    let mut config = NodeConfig::default();
    config.node.moniker = opts.moniker.clone();
    let genesis = Genesis {
        chain_id: opts.chain_id,
        genesis_time_ms: now_ms(),
        validators: vec![GenesisValidator {
            name: opts.moniker.clone(),
            public_key: key.public_key(),
            voting_power: 1,
            fee_recipient: fee_recipient_for(&key.public_key()),
        }],
        limits: BlockLimits::default(),
        execution: dev_execution(0),
        state: StateGenesis::default(),
    };
    config.validate()?;
    genesis.validate()?;

    for dir in [home.to_path_buf(), home.join("data")] {
        std::fs::create_dir_all(&dir).map_err(|e| ConfigError::io(&dir, "create directory", e))?;
    }
    // The key first: a genesis naming a key that was never saved would be useless.
    key.save(&key_path, opts.force)?;
    genesis.save(&genesis_path, opts.force)?;
    config.save(&config_path, opts.force)?;
    Ok(InitReport {
        config_path,
        genesis_path,
        key_path,
        address: key.address(),
    })
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DEV_ACCOUNT_BALANCE_WEI;

    fn opts(force: bool) -> InitOptions {
        InitOptions {
            moniker: "val-0".to_owned(),
            chain_id: 1337,
            force,
        }
    }

    #[test]
    fn init_writes_a_loadable_home() {
        let dir = tempfile::tempdir().expect("tempdir");
        let home = dir.path().join("node0");
        let report = init_home(&home, &opts(false)).expect("init");
        assert_eq!(report.config_path, home.join("config.toml"));
        assert!(home.join("data").is_dir());

        let key = ValidatorKey::load(&report.key_path).expect("key");
        assert_eq!(key.address(), report.address);
        let genesis = Genesis::load(&report.genesis_path).expect("genesis");
        assert_eq!(genesis.chain_id, 1337);
        assert_eq!(genesis.validators.len(), 1);
        assert_eq!(genesis.validators[0].public_key, key.public_key());
        assert_eq!(genesis.validators[0].name, "val-0");
        assert_eq!(genesis.validators[0].voting_power, 1);
        assert_eq!(genesis.limits, BlockLimits::default());
        assert_eq!(
            genesis.validators[0].fee_recipient,
            fee_recipient_for(&key.public_key())
        );
        assert_eq!(genesis.execution, dev_execution(0));
        assert_eq!(genesis.execution.hardfork, "osaka");
        assert_eq!(genesis.execution.base_fee_per_gas, 1_000_000_000);
        assert_eq!(genesis.execution.trace_period, 1);
        // The ten dev accounts, then the CREATE2 deployer.
        assert_eq!(genesis.execution.alloc.len(), 11);
        assert_eq!(
            genesis.execution.alloc[0].address.to_checksum(None),
            "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
        );
        assert!(genesis.execution.alloc[..10]
            .iter()
            .all(|a| a.balance == DEV_ACCOUNT_BALANCE_WEI));
        assert!(genesis.genesis_time_ms > 1_600_000_000_000);
        assert_eq!(genesis.state.challenge_window_ms, 90_000);
        assert_eq!(genesis.state.min_window_blocks, 10);
        assert_eq!(genesis.state.max_executor_stall_ms, 60_000);
        assert_eq!(genesis.state.min_corroboration, 1);
        assert_eq!(genesis.state.slash_reward_percent, 50);
        assert!(genesis.state.executors.is_empty());
        let config = NodeConfig::load(&report.config_path, Vec::new(), &[]).expect("config");
        assert_eq!(config.node.moniker, "val-0");
        let text = std::fs::read_to_string(&report.config_path).expect("read config");
        assert!(text.contains("Env: LAZYCHAIN__NODE__MONIKER"), "{text}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&report.key_path)
                .expect("meta")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn init_refuses_to_overwrite_then_succeeds_with_force() {
        let dir = tempfile::tempdir().expect("tempdir");
        let home = dir.path();
        let first = init_home(home, &opts(false)).expect("first init");
        let key_before = std::fs::read(&first.key_path).expect("read key");

        let err = init_home(home, &opts(false)).expect_err("second init");
        assert!(matches!(err, ConfigError::AlreadyExists { .. }), "{err}");
        assert!(
            err.to_string().contains("config.toml: already exists"),
            "{err}"
        );
        assert_eq!(
            std::fs::read(&first.key_path).expect("read key"),
            key_before
        );

        let second = init_home(home, &opts(true)).expect("forced init");
        assert_ne!(second.address, first.address);
        assert_eq!(
            ValidatorKey::load(&second.key_path).expect("key").address(),
            second.address
        );
        let genesis = Genesis::load(&second.genesis_path).expect("genesis");
        assert_eq!(genesis.validators[0].address(), second.address);
    }

    #[test]
    fn init_writes_nothing_if_any_file_exists() {
        let dir = tempfile::tempdir().expect("tempdir");
        let home = dir.path().join("h");
        std::fs::create_dir_all(&home).expect("mkdir");
        std::fs::write(home.join(GENESIS_FILE), "{}").expect("write genesis");
        let err = init_home(&home, &opts(false))
            .expect_err("genesis exists")
            .to_string();
        assert!(err.contains("genesis.json: already exists"), "{err}");
        assert!(!home.join(CONFIG_FILE).exists());
        assert!(!home.join(VALIDATOR_KEY_FILE).exists());
        assert!(!home.join("data").exists());
    }

    #[test]
    fn init_rejects_bad_options_before_writing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let home = dir.path().join("h");
        let mut o = opts(false);
        o.chain_id = 0;
        let err = init_home(&home, &o).expect_err("chain id 0").to_string();
        assert_eq!(err, "genesis.json: key chain_id: must not be 0");
        assert!(!home.exists());
        let mut o = opts(false);
        o.moniker = String::new();
        let err = init_home(&home, &o).expect_err("empty moniker").to_string();
        assert_eq!(err, "config.toml: key node.moniker: must not be empty");
    }
}
