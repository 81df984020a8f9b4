//! Node configuration, genesis and key files for lazychain.
//!
//! This crate owns the files in a node's home directory and nothing else: the TOML node
//! configuration (`config.toml`, layered with precedence flag > environment > file >
//! default), the genesis file (`genesis.json`), the validator key file
//! (`validator_key.json`), `lazychain init` with its dev accounts, and the validation of all
//! of them with errors that name the file (or environment variable, or flag), the key and the
//! problem. It must not do networking, consensus or any other node logic: it reads, checks
//! and writes files, and the node crates act on what it returns.
//!
//! Environment variables named `LAZYCHAIN__*` are reserved for configuration keys
//! (`LAZYCHAIN__RPC__LISTEN_ADDR` sets `rpc.listen_addr`); one that names no key is an
//! error. Other settings, such as a home directory, should use a single underscore
//! (`LAZYCHAIN_HOME`).

#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod config;
pub mod dev;
mod error;
mod fsutil;
pub mod genesis;
pub mod hexfmt;
pub mod init;
pub mod keys;

pub use config::{
    env_var_name, key_reference, ConsensusSection, ExecutorSection, GossipSection, KeyReference,
    LogFormat, LogSection, MempoolSection, MetricsSection, NodeConfig, NodeSection, RpcSection,
    StorageSection, CONFIG_FILE, DEFAULT_BLOCK_CACHE_MIB, DEFAULT_EMPTY_BLOCK_INTERVAL_MS,
    DEFAULT_LOG_FILTER, DEFAULT_STATE_CACHE_MIB, DEFAULT_STATE_HISTORY_BLOCKS, ENV_PREFIX,
    MAX_CACHE_MIB, MAX_EMPTY_BLOCK_INTERVAL_MS, MAX_STATE_HISTORY_BLOCKS, MAX_SUBMIT_URLS,
    MIN_STATE_HISTORY_BLOCKS,
};
pub use dev::{
    dev_accounts, dev_execution, DevAccount, CREATE2_DEPLOYER, CREATE2_DEPLOYER_CODE,
    DEV_ACCOUNT_BALANCE_WEI, DEV_ACCOUNT_COUNT, DEV_MNEMONIC,
};
pub use error::ConfigError;
pub use genesis::{
    challenge_window_floor_ms, executor_catch_up_ms, fee_recipient_for, BlockLimits,
    ExecutionGenesis, Genesis, GenesisAccount, GenesisExecutor, GenesisFile, GenesisValidator,
    StateGenesis, DEFAULT_CHALLENGE_WINDOW_MS, DEFAULT_GAS_BURST, DEFAULT_GAS_PER_SECOND,
    DEFAULT_MAX_EXECUTOR_STALL_MS, DEFAULT_MIN_CORROBORATION, DEFAULT_MIN_WINDOW_BLOCKS,
    DEFAULT_SLASH_REWARD_PERCENT, DETECTION_MARGIN_MS, GENESIS_FILE, MAX_GENESIS_BYTES,
    MIN_MAX_BLOCK_BYTES,
};
pub use init::{init_home, InitOptions, InitReport};
pub use keys::{
    executor_address, key_file_permission_warning, validator_address, ValidatorKey,
    VALIDATOR_KEY_FILE,
};
pub use lazychain_chainspec::ChainSpecError;
