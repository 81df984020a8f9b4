//! The chain specification of lazychain: the genesis every node of a chain must agree on
//! (chain id, validator set, block limits and execution budget, the EVM parameters and
//! initial state, the bonded executors and the challenge window), the rules a genesis must
//! satisfy, its JSON encoding, and the addresses derived from validator and executor keys.
//!
//! It is pure: it decodes and checks values and text it is given. It must not do I/O (no
//! files, environment, network or clocks), hold or derive secret keys, or know about nodes,
//! consensus engines or execution; `lazychain-config` reads `genesis.json` from a node's home
//! and calls [`Genesis::from_json`], and the pure crates (`lazychain-fraud`) depend on this
//! crate alone for the genesis.
//!
//! Decoding is one pass of serde over the types below (`#[serde(deny_unknown_fields)]`), and
//! every error names the key path of the bad value (`state.executors[1].bond`).

#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod address;
pub mod encoding;
mod error;
pub mod genesis;
pub mod hexfmt;

pub use address::{
    executor_address, validator_address, EXECUTOR_ADDRESS_TAG, VALIDATOR_ADDRESS_TAG,
};
pub use error::{decode_json, ChainSpecError};
pub use genesis::{
    challenge_window_floor_ms, executor_catch_up_ms, fee_recipient_for, BlockLimits,
    ExecutionGenesis, Genesis, GenesisAccount, GenesisExecutor, GenesisValidator, StateGenesis,
    DEFAULT_BASE_FEE_PER_GAS, DEFAULT_CHALLENGE_WINDOW_MS, DEFAULT_GAS_BURST,
    DEFAULT_GAS_PER_SECOND, DEFAULT_HARDFORK, DEFAULT_MAX_EXECUTOR_STALL_MS,
    DEFAULT_MIN_CORROBORATION, DEFAULT_MIN_WINDOW_BLOCKS, DEFAULT_SLASH_REWARD_PERCENT,
    DETECTION_MARGIN_MS, FEE_RECIPIENT_DOMAIN, HARDFORKS, MAX_ALLOC_ACCOUNTS, MAX_CHAIN_ID,
    MAX_CODE_BYTES, MIN_MAX_BLOCK_BYTES, MIN_TX_GAS,
};
