//! The genesis: the chain id, the validator set, the block limits, the initial execution
//! state and the bonded executors every node of a chain must agree on, with the rules it must
//! satisfy ([`Genesis::validate`]) and its JSON form (the contents of `genesis.json`).
//!
//! Every field is required (except an account's `nonce`, `code` and `storage`): a default
//! that changed between versions would split the chain.

use std::collections::{HashMap, HashSet};

use alloy_primitives::{keccak256, Address, Bytes, B256, U256};
use serde::{Deserialize, Serialize};

use crate::address::{executor_address, validator_address};
use crate::error::decode_json;
use crate::hexfmt::to_hex;
use crate::ChainSpecError;

/// Largest chain id: a legacy (EIP-155) signature's `v = 2 * chain_id + 36` must fit in 64
/// bits (EIP-2294).
pub const MAX_CHAIN_ID: u64 = u64::MAX / 2 - 36;

/// Gas of the cheapest transaction (a plain transfer); a block gas limit below it admits
/// nothing.
pub const MIN_TX_GAS: u64 = 21_000;

/// The EVM hardforks an executor can run, oldest first.
pub const HARDFORKS: &[&str] = &["cancun", "prague", "osaka"];

/// The hardfork `lazychain init` and `localnet` write.
pub const DEFAULT_HARDFORK: &str = "osaka";

/// The base fee `lazychain init` and `localnet` write: 1 gwei, the default
/// `limits.min_gas_price`, so that every admitted transaction can pay it.
pub const DEFAULT_BASE_FEE_PER_GAS: u64 = 1_000_000_000;

/// Default `limits.gas_per_second`: 0.6 of what one executor core of the reference machine
/// sustains on the heaviest benchmark workload (ADR 007).
pub const DEFAULT_GAS_PER_SECOND: u64 = 300_000_000;
/// Default `limits.gas_burst`: two seconds of the default budget.
pub const DEFAULT_GAS_BURST: u64 = 2 * DEFAULT_GAS_PER_SECOND;

/// Smallest `limits.max_block_bytes`: room for the largest fraud proof a block must be able
/// to carry (lazychain-fraud's `MAX_PROOF_BYTES`, 2 MiB, in its item envelope), so that a
/// wrong root at any transaction stays provable on chain.
pub const MIN_MAX_BLOCK_BYTES: u64 = (2 << 20) + 1024;

/// Largest contract code in a genesis account (EIP-170).
pub const MAX_CODE_BYTES: usize = 24_576;

/// Most accounts in `execution.alloc`.
pub const MAX_ALLOC_ACCOUNTS: usize = 100_000;

/// The challenge window `lazychain init` and `localnet` write, in milliseconds of decided
/// blocks' timestamps (`state.challenge_window_ms`).
pub const DEFAULT_CHALLENGE_WINDOW_MS: u64 = 90_000;

/// The fewest data blocks a challenge window lasts, written by `lazychain init` and
/// `localnet` (`state.min_window_blocks`).
pub const DEFAULT_MIN_WINDOW_BLOCKS: u64 = 10;

/// The longest stall of an honest executor the challenge window is sized to tolerate, written
/// by `lazychain init` and `localnet` (`state.max_executor_stall_ms`).
pub const DEFAULT_MAX_EXECUTOR_STALL_MS: u64 = 60_000;

/// How many executors must agree with a claim before it is final, written by `lazychain init`
/// and `localnet` (`state.min_corroboration`).
pub const DEFAULT_MIN_CORROBORATION: u64 = 1;

/// Part of the challenge window's floor: the time an honest executor that has reached a bad
/// claim's height takes to notice the claim, build a fraud proof and get it included.
pub const DETECTION_MARGIN_MS: u64 = 5_000;

/// The time (ms) an honest executor a full `gas_burst` of declared gas behind the chain needs
/// to execute it, running at the budget rate divided by 0.6 (the budget's headroom: the
/// budget is 0.6 of what an executor sustains): `ceil(0.6 * gas_burst * 1000 /
/// gas_per_second)`. `None` when `gas_per_second` is 0 (no budget: nothing bounds executor lag).
pub fn executor_catch_up_ms(gas_per_second: u64, gas_burst: u64) -> Option<u64> {
    if gas_per_second == 0 {
        return None;
    }
    let rate = u128::from(gas_per_second);
    let ms = (u128::from(gas_burst) * 600).div_ceil(rate);
    Some(u64::try_from(ms).unwrap_or(u64::MAX))
}

/// The shortest `state.challenge_window_ms` a genesis may set under an execution budget of
/// `gas_per_second` with a bucket of `gas_burst`: `max_executor_stall_ms +
/// ceil(0.6 * gas_burst * 1000 / gas_per_second) + DETECTION_MARGIN_MS`.
///
/// Why: the budget bounds how far an honest executor can fall behind the chain (at most the
/// bucket, `gas_burst` of declared gas, when it runs at the budget rate divided by 0.6, the
/// budget's headroom). Take the worst case the window must survive: a liar's claim is
/// included while the honest executor is a full burst behind, and the honest executor stalls
/// for `max_executor_stall_ms` at that moment. It then needs `stall + 0.6 * gas_burst /
/// gas_per_second` seconds to reach the claim's height, and [`DETECTION_MARGIN_MS`] more to
/// notice the claim, build a proof and get it included. A window at least that long lets the
/// proof in before the lie can ripen.
///
/// `None` when `gas_per_second` is 0: without a budget nothing bounds executor lag, so no
/// window is provably long enough; a genesis may still choose one (the operator's explicit
/// choice), and nodes warn loudly at start.
pub fn challenge_window_floor_ms(
    max_executor_stall_ms: u64,
    gas_per_second: u64,
    gas_burst: u64,
) -> Option<u64> {
    executor_catch_up_ms(gas_per_second, gas_burst).map(|catch_up| {
        max_executor_stall_ms
            .saturating_add(catch_up)
            .saturating_add(DETECTION_MARGIN_MS)
    })
}

/// The share of a slashed bond paid to whoever proved the fault, written by `lazychain init`
/// and `localnet`, in percent.
pub const DEFAULT_SLASH_REWARD_PERCENT: u8 = 50;

/// Domain tag of [`fee_recipient_for`].
pub const FEE_RECIPIENT_DOMAIN: &[u8] = b"LAZYCHAIN_FEE_RECIPIENT";

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
    /// What executors need to run the EVM: the rules, the fees and the initial state.
    pub execution: ExecutionGenesis,
    /// State consensus: the bonded executors that may post state claims, the challenge
    /// window and the slashing reward.
    pub state: StateGenesis,
}

/// One member of the genesis validator set.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct GenesisValidator {
    /// A human-readable name, unique in the set.
    pub name: String,
    /// The ed25519 public key, serialized as `0x` hex.
    #[serde(with = "crate::encoding::hex32")]
    pub public_key: [u8; 32],
    /// Voting power, at least 1.
    pub voting_power: u64,
    /// Where the EVM coinbase of the blocks this validator proposes points, i.e. who
    /// receives their priority fees.
    #[serde(with = "crate::encoding::address")]
    pub fee_recipient: Address,
}

impl GenesisValidator {
    /// The validator's address, see [`validator_address`].
    pub fn address(&self) -> [u8; 20] {
        validator_address(&self.public_key)
    }
}

/// The default fee recipient of a validator: the last 20 bytes of
/// `keccak256("LAZYCHAIN_FEE_RECIPIENT" || public_key)`. Nobody holds its key, so fees paid
/// to it are out of circulation until the genesis names a real recipient.
pub fn fee_recipient_for(public_key: &[u8; 32]) -> Address {
    let mut preimage = Vec::with_capacity(FEE_RECIPIENT_DOMAIN.len() + public_key.len());
    preimage.extend_from_slice(FEE_RECIPIENT_DOMAIN);
    preimage.extend_from_slice(public_key);
    Address::from_word(keccak256(preimage))
}

/// The execution section of the genesis: fixed EVM parameters and the initial state.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ExecutionGenesis {
    /// The EVM rules, one of [`HARDFORKS`].
    pub hardfork: String,
    /// The constant EVM base fee, in wei.
    pub base_fee_per_gas: u64,
    /// Executors record an intermediate state root every `trace_period` transactions; at
    /// least 1.
    pub trace_period: u64,
    /// The accounts that exist before block 1.
    pub alloc: Vec<GenesisAccount>,
}

/// One account of the initial state.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct GenesisAccount {
    /// The account's address, unique in `alloc`.
    #[serde(with = "crate::encoding::address")]
    pub address: Address,
    /// Balance in wei; `0x` hex quantity or decimal string in JSON.
    #[serde(with = "crate::encoding::u256_string")]
    pub balance: U256,
    /// Optional in JSON, default 0.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub nonce: u64,
    /// Contract code, at most [`MAX_CODE_BYTES`]; optional in JSON, default empty.
    #[serde(
        default,
        skip_serializing_if = "no_code",
        with = "crate::encoding::bytes"
    )]
    pub code: Bytes,
    /// Storage slots and their values, only for accounts with code; a JSON object from slot
    /// to value (both 32-byte `0x` hex), optional, default empty. Decoding yields them in
    /// slot order, and they are written in slot order.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        with = "crate::encoding::storage_map"
    )]
    pub storage: Vec<(B256, B256)>,
}

/// Whether `bytes` is a valid ed25519 public key (a point on the curve, as the signature
/// checks of consensus votes and state claims require).
fn is_ed25519_public_key(bytes: &[u8; 32]) -> bool {
    ed25519_consensus::VerificationKey::try_from(*bytes).is_ok()
}

/// The names and public keys seen so far in a list of members (`validators` or
/// `state.executors`), for the rules both lists share: every name non-empty and unique in the
/// list, every public key a valid ed25519 key and unique in the list. Errors name the key
/// (`{list}[{i}].name`, `{list}[{i}].public_key`).
struct Members<'a> {
    list: &'static str,
    names: HashMap<&'a str, usize>,
    /// Each public key and the index of its member.
    keys: HashMap<[u8; 32], usize>,
}

impl<'a> Members<'a> {
    fn new(list: &'static str) -> Self {
        Self {
            list,
            names: HashMap::new(),
            keys: HashMap::new(),
        }
    }

    /// Checks member `i` against the rules and the members before it, and records it.
    fn check(
        &mut self,
        i: usize,
        name: &'a str,
        public_key: &[u8; 32],
    ) -> Result<(), ChainSpecError> {
        let list = self.list;
        let fail = |field: &str, problem: String| {
            Err(ChainSpecError::invalid(
                format!("{list}[{i}].{field}"),
                problem,
            ))
        };
        if name.trim().is_empty() {
            return fail("name", "must not be empty".to_owned());
        }
        if let Some(first) = self.names.insert(name, i) {
            return fail(
                "name",
                format!("duplicate name {name:?} (also {list}[{first}].name)"),
            );
        }
        if !is_ed25519_public_key(public_key) {
            return fail(
                "public_key",
                format!("{} is not a valid ed25519 public key", to_hex(public_key)),
            );
        }
        if let Some(first) = self.keys.insert(*public_key, i) {
            return fail(
                "public_key",
                format!(
                    "duplicate public key {} (also {list}[{first}].public_key)",
                    to_hex(public_key)
                ),
            );
        }
        Ok(())
    }
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

fn no_code(code: &Bytes) -> bool {
    code.is_empty()
}

/// The state-consensus section of the genesis: who may post state claims, with what at
/// stake, and how long a claim can be challenged.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct StateGenesis {
    /// The challenge window in milliseconds, measured by decided blocks' timestamps: a claim
    /// included in block `d` (timestamp `t_d`) can be final once a block at height at least
    /// `d + min_window_blocks` with timestamp at least `t_d + challenge_window_ms` is
    /// decided without a valid fraud proof against it. At least
    /// [`challenge_window_floor_ms`] when there is an execution budget.
    pub challenge_window_ms: u64,
    /// The fewest blocks a challenge window lasts, whatever the time: a halted chain cannot
    /// eat the window. At least 1.
    pub min_window_blocks: u64,
    /// The longest stall of an honest executor (ms) the window is sized to tolerate (it
    /// enters [`challenge_window_floor_ms`]); above 0.
    pub max_executor_stall_ms: u64,
    /// A claim is final only once at least `min(min_corroboration, executors not slashed)`
    /// distinct executors that are not slashed have posted claims that agree with it; at
    /// least 1.
    pub min_corroboration: u64,
    /// The share of a slashed bond credited to the submitter of the proof, in percent
    /// (0 to 100); the rest is burned.
    #[serde(with = "crate::encoding::percent")]
    pub slash_reward_percent: u8,
    /// The executors whose signed claims count, each with its bond. May be empty (then no
    /// claim is ever accepted).
    pub executors: Vec<GenesisExecutor>,
}

impl Default for StateGenesis {
    /// [`DEFAULT_CHALLENGE_WINDOW_MS`], [`DEFAULT_MIN_WINDOW_BLOCKS`],
    /// [`DEFAULT_MAX_EXECUTOR_STALL_MS`], [`DEFAULT_MIN_CORROBORATION`],
    /// [`DEFAULT_SLASH_REWARD_PERCENT`] and no executors.
    fn default() -> Self {
        Self {
            challenge_window_ms: DEFAULT_CHALLENGE_WINDOW_MS,
            min_window_blocks: DEFAULT_MIN_WINDOW_BLOCKS,
            max_executor_stall_ms: DEFAULT_MAX_EXECUTOR_STALL_MS,
            min_corroboration: DEFAULT_MIN_CORROBORATION,
            slash_reward_percent: DEFAULT_SLASH_REWARD_PERCENT,
            executors: Vec::new(),
        }
    }
}

/// One bonded executor.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct GenesisExecutor {
    /// A human-readable name, unique among the executors.
    pub name: String,
    /// The ed25519 key that signs its state claims, serialized as `0x` hex; unique, and not
    /// the key of a validator.
    #[serde(with = "crate::encoding::hex32")]
    pub public_key: [u8; 32],
    /// The bond in wei, slashed in full on a proven fault; above 0. A string in JSON (a `0x`
    /// hex quantity or a decimal number), written in decimal.
    #[serde(with = "crate::encoding::u128_string")]
    pub bond: u128,
}

impl GenesisExecutor {
    /// The executor's address, see [`executor_address`].
    pub fn address(&self) -> [u8; 20] {
        executor_address(&self.public_key)
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
    /// The execution budget: declared gas (transactions' gas limits) the chain takes on per
    /// second, so that an executor running at this rate (with headroom) never falls
    /// behind for good; 0 switches the budget off (unsafe: nothing then bounds executor lag).
    /// See docs/adr/007-execution-budget.md for how the default was measured.
    pub gas_per_second: u64,
    /// The budget's bucket: the most declared gas the chain takes on at once after an idle
    /// spell; at least `max_block_gas` when there is a budget.
    pub gas_burst: u64,
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
            gas_per_second: DEFAULT_GAS_PER_SECOND,
            gas_burst: DEFAULT_GAS_BURST,
            max_txs_per_block: 20_000,
            min_gas_price: 1_000_000_000,
            max_timestamp_drift_ms: 5_000,
        }
    }
}

impl Genesis {
    /// The sum of all voting power, or `None` if it overflows.
    pub fn total_voting_power(&self) -> Option<u64> {
        self.validators
            .iter()
            .try_fold(0u64, |sum, v| sum.checked_add(v.voting_power))
    }

    /// Decodes and validates a genesis document (the contents of `genesis.json`). Errors
    /// name the key, e.g. `key validators[1].public_key: duplicate public key 0x…`; an
    /// unknown key, a missing one or a value of the wrong form is refused.
    pub fn from_json(text: &str) -> Result<Self, ChainSpecError> {
        let genesis: Genesis = decode_json(text)?;
        genesis.validate()?;
        Ok(genesis)
    }

    /// The genesis file's contents: pretty JSON with a trailing newline.
    pub fn to_json(&self) -> String {
        // Serializing plain structs of integers, strings, arrays and maps with string keys
        // (storage slots) cannot fail.
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }

    /// Checks the rules every genesis must satisfy: a non-zero chain id of at most
    /// [`MAX_CHAIN_ID`]; a non-empty validator set with unique, non-empty names, unique valid
    /// ed25519 public keys, voting power at least 1 and a total that fits in `u64`; non-zero
    /// limits (except `min_gas_price`), `max_tx_bytes <= max_block_bytes` and
    /// `max_block_gas >= 21000`; a known hardfork, `trace_period >= 1`, at most
    /// [`MAX_ALLOC_ACCOUNTS`] accounts with unique addresses, code of at most
    /// [`MAX_CODE_BYTES`], storage only with code and without repeated slots, and a total
    /// balance that fits in 256 bits; a challenge window of at least
    /// [`challenge_window_floor_ms`] under an execution budget (any window without one),
    /// `min_window_blocks`, `min_corroboration` and `max_executor_stall_ms` above 0, a slashing
    /// reward of at most 100 percent, executors with unique non-empty names, unique valid
    /// ed25519 public keys that are no validator's, bonds above 0 and a total bond that fits
    /// in `u128`. Errors name the key.
    pub fn validate(&self) -> Result<(), ChainSpecError> {
        let fail = |key: &str, problem: String| Err(ChainSpecError::invalid(key, problem));
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
        let mut members = Members::new("validators");
        let mut total: u64 = 0;
        for (i, v) in self.validators.iter().enumerate() {
            members.check(i, &v.name, &v.public_key)?;
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
        if l.max_block_bytes < MIN_MAX_BLOCK_BYTES {
            return fail(
                "limits.max_block_bytes",
                format!(
                    "{} is below {MIN_MAX_BLOCK_BYTES}: a block must have room for the largest fraud proof",
                    l.max_block_bytes
                ),
            );
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
        if l.gas_per_second > 0 && l.gas_burst < l.max_block_gas {
            return fail(
                "limits.gas_burst",
                format!(
                    "{} is below limits.max_block_gas ({}): a full block could never be taken on",
                    l.gas_burst, l.max_block_gas
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
        self.execution.validate()?;
        self.state.validate(
            &members.keys,
            self.limits.gas_per_second,
            self.limits.gas_burst,
        )
    }
}

impl StateGenesis {
    /// `validator_keys`: every validator's public key and its index, which executors may not
    /// reuse; `gas_per_second` and `gas_burst`: the genesis execution budget, which sets the
    /// challenge window's floor.
    fn validate(
        &self,
        validator_keys: &HashMap<[u8; 32], usize>,
        gas_per_second: u64,
        gas_burst: u64,
    ) -> Result<(), ChainSpecError> {
        let fail = |key: &str, problem: String| Err(ChainSpecError::invalid(key, problem));
        if self.min_window_blocks == 0 {
            return fail("state.min_window_blocks", "must be at least 1".to_owned());
        }
        if self.min_corroboration == 0 {
            return fail("state.min_corroboration", "must be at least 1".to_owned());
        }
        if self.max_executor_stall_ms == 0 {
            return fail(
                "state.max_executor_stall_ms",
                "must be greater than 0".to_owned(),
            );
        }
        let floor =
            challenge_window_floor_ms(self.max_executor_stall_ms, gas_per_second, gas_burst);
        if let (Some(floor), Some(catch_up)) =
            (floor, executor_catch_up_ms(gas_per_second, gas_burst))
        {
            if self.challenge_window_ms < floor {
                return fail(
                    "state.challenge_window_ms",
                    format!(
                        "{} is below {floor}, the shortest window the execution budget allows: state.max_executor_stall_ms ({}) + {catch_up} ms for an executor a full limits.gas_burst ({gas_burst}) behind to catch up at limits.gas_per_second ({gas_per_second}) / 0.6 + {DETECTION_MARGIN_MS} ms to detect and prove a fault",
                        self.challenge_window_ms, self.max_executor_stall_ms
                    ),
                );
            }
        }
        if self.slash_reward_percent > 100 {
            return fail(
                "state.slash_reward_percent",
                format!("{} is above 100", self.slash_reward_percent),
            );
        }
        let mut members = Members::new("state.executors");
        let mut total: u128 = 0;
        for (i, e) in self.executors.iter().enumerate() {
            let at = format!("state.executors[{i}]");
            members.check(i, &e.name, &e.public_key)?;
            if let Some(v) = validator_keys.get(&e.public_key) {
                return fail(
                    &format!("{at}.public_key"),
                    format!(
                        "{} is also validators[{v}].public_key; an executor needs a key of its own",
                        to_hex(&e.public_key)
                    ),
                );
            }
            if e.bond == 0 {
                return fail(&format!("{at}.bond"), "must be greater than 0".to_owned());
            }
            total = match total.checked_add(e.bond) {
                Some(t) => t,
                None => {
                    return fail(
                        &format!("{at}.bond"),
                        "the total of all bonds exceeds 2^128 - 1".to_owned(),
                    )
                }
            };
        }
        Ok(())
    }
}

impl ExecutionGenesis {
    fn validate(&self) -> Result<(), ChainSpecError> {
        let fail = |key: &str, problem: String| Err(ChainSpecError::invalid(key, problem));
        if !HARDFORKS.contains(&self.hardfork.as_str()) {
            return fail(
                "execution.hardfork",
                format!(
                    "unknown hardfork {:?} (expected one of: {})",
                    self.hardfork,
                    HARDFORKS.join(", ")
                ),
            );
        }
        if self.trace_period == 0 {
            return fail("execution.trace_period", "must be at least 1".to_owned());
        }
        if self.alloc.len() > MAX_ALLOC_ACCOUNTS {
            return fail(
                "execution.alloc",
                format!(
                    "{} accounts, more than the {MAX_ALLOC_ACCOUNTS} allowed",
                    self.alloc.len()
                ),
            );
        }
        let mut addresses: HashMap<Address, usize> = HashMap::with_capacity(self.alloc.len());
        // The executors add balances up; a total beyond 256 bits would overflow there.
        let mut total = U256::ZERO;
        for (i, a) in self.alloc.iter().enumerate() {
            let at = format!("execution.alloc[{i}]");
            if let Some(first) = addresses.insert(a.address, i) {
                return fail(
                    &format!("{at}.address"),
                    format!(
                        "duplicate address {} (also execution.alloc[{first}].address)",
                        a.address
                    ),
                );
            }
            if a.code.len() > MAX_CODE_BYTES {
                return fail(
                    &format!("{at}.code"),
                    format!(
                        "{} bytes, more than the {MAX_CODE_BYTES} allowed (EIP-170)",
                        a.code.len()
                    ),
                );
            }
            // Code starting with 0xEF cannot be deployed (EIP-3541), except as an EIP-7702
            // delegation designator: 0xef0100 followed by a 20-byte address.
            if a.code.first() == Some(&0xef)
                && !(a.code.len() == 23 && a.code.starts_with(&[0xef, 0x01, 0x00]))
            {
                return fail(
                    &format!("{at}.code"),
                    "code starting with 0xef must be an EIP-7702 delegation (0xef0100 followed by a 20-byte address)".to_owned(),
                );
            }
            if !a.storage.is_empty() && a.code.is_empty() {
                return fail(
                    &format!("{at}.storage"),
                    "storage is only allowed in an account with code".to_owned(),
                );
            }
            let mut slots: HashSet<B256> = HashSet::with_capacity(a.storage.len());
            for (slot, _) in &a.storage {
                if !slots.insert(*slot) {
                    return fail(
                        &format!("{at}.storage"),
                        format!("slot {slot} appears more than once"),
                    );
                }
            }
            total = match total.checked_add(a.balance) {
                Some(t) => t,
                None => {
                    return fail(
                        &format!("{at}.balance"),
                        "the total of all balances exceeds 2^256 - 1".to_owned(),
                    )
                }
            };
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The ed25519 public key of the signing key with seed `[seed; 32]`.
    fn public_key(seed: u8) -> [u8; 32] {
        ed25519_consensus::SigningKey::from([seed; 32])
            .verification_key()
            .to_bytes()
    }

    fn validator(name: &str, seed: u8) -> GenesisValidator {
        let public_key = public_key(seed);
        GenesisValidator {
            name: name.to_owned(),
            public_key,
            voting_power: 1,
            fee_recipient: fee_recipient_for(&public_key),
        }
    }

    fn executor(name: &str, seed: u8, bond: u128) -> GenesisExecutor {
        GenesisExecutor {
            name: name.to_owned(),
            public_key: public_key(seed),
            bond,
        }
    }

    fn account(byte: u8, balance: u64) -> GenesisAccount {
        GenesisAccount {
            address: Address::repeat_byte(byte),
            balance: U256::from(balance),
            nonce: 0,
            code: Bytes::new(),
            storage: Vec::new(),
        }
    }

    fn genesis() -> Genesis {
        let mut contract = account(0xc0, 0);
        contract.nonce = 1;
        contract.code = Bytes::from_static(&[0x60, 0x00, 0x54, 0x00]);
        contract.storage = vec![
            (B256::with_last_byte(1), B256::repeat_byte(0xaa)),
            (B256::with_last_byte(2), B256::with_last_byte(7)),
        ];
        Genesis {
            chain_id: 1337,
            genesis_time_ms: 1_700_000_000_000,
            validators: vec![validator("a", 1), validator("b", 2), validator("c", 3)],
            limits: BlockLimits::default(),
            execution: ExecutionGenesis {
                hardfork: "osaka".to_owned(),
                base_fee_per_gas: 1_000_000_000,
                trace_period: 1,
                alloc: vec![
                    account(0x01, 1),
                    GenesisAccount {
                        balance: U256::MAX - U256::from(1u64),
                        ..account(0x02, 0)
                    },
                    contract,
                ],
            },
            state: StateGenesis {
                challenge_window_ms: 90_000,
                min_window_blocks: 10,
                max_executor_stall_ms: 60_000,
                min_corroboration: 1,
                slash_reward_percent: 50,
                executors: vec![
                    executor("e0", 11, 1_000_000_000_000_000_000_000),
                    executor("e1", 12, u128::MAX - 1_000_000_000_000_000_000_000),
                ],
            },
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
    fn duplicate_public_key_is_named() {
        let mut g = genesis();
        g.validators[2].public_key = g.validators[0].public_key;
        let err = err_of(&g);
        assert_eq!(
            err,
            format!(
                "key validators[2].public_key: duplicate public key {} (also validators[0].public_key)",
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
            "key validators[1].name: duplicate name \"a\" (also validators[0].name)"
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
                |g| g.limits.max_block_bytes = MIN_MAX_BLOCK_BYTES - 1,
                "key limits.max_block_bytes: 2098175 is below 2098176: a block must have room for the largest fraud proof",
            ),
            (
                |g| g.limits.max_tx_bytes = g.limits.max_block_bytes + 1,
                "key limits.max_tx_bytes: 4194305 is larger than limits.max_block_bytes (4194304)",
            ),
            (
                |g| g.limits.max_block_gas = 20_999,
                "key limits.max_block_gas: 20999 is below 21000",
            ),
            (
                |g| g.execution.hardfork = "shanghai".to_owned(),
                "key execution.hardfork: unknown hardfork \"shanghai\" (expected one of: cancun, prague, osaka)",
            ),
            (
                |g| g.execution.hardfork = "Osaka".to_owned(),
                "key execution.hardfork: unknown hardfork \"Osaka\"",
            ),
            (
                |g| g.execution.trace_period = 0,
                "key execution.trace_period: must be at least 1",
            ),
            (
                |g| g.execution.alloc[2].address = g.execution.alloc[0].address,
                "key execution.alloc[2].address: duplicate address 0x0101010101010101010101010101010101010101 (also execution.alloc[0].address)",
            ),
            (
                |g| g.execution.alloc[2].code = Bytes::from(vec![0xef, 0x01, 0x00, 0x01]),
                "key execution.alloc[2].code: code starting with 0xef must be an EIP-7702 delegation (0xef0100 followed by a 20-byte address)",
            ),
            (
                |g| g.execution.alloc[2].code = Bytes::from(vec![0u8; MAX_CODE_BYTES + 1]),
                "key execution.alloc[2].code: 24577 bytes, more than the 24576 allowed (EIP-170)",
            ),
            (
                |g| g.execution.alloc[2].code = Bytes::new(),
                "key execution.alloc[2].storage: storage is only allowed in an account with code",
            ),
            (
                |g| {
                    let first = g.execution.alloc[2].storage[0];
                    g.execution.alloc[2].storage.push(first);
                },
                "key execution.alloc[2].storage: slot 0x0000000000000000000000000000000000000000000000000000000000000001 appears more than once",
            ),
            (
                |g| g.execution.alloc[2].balance = U256::from(2u64),
                "key execution.alloc[2].balance: the total of all balances exceeds 2^256 - 1",
            ),
            (
                |g| g.state.min_window_blocks = 0,
                "key state.min_window_blocks: must be at least 1",
            ),
            (
                |g| g.state.min_corroboration = 0,
                "key state.min_corroboration: must be at least 1",
            ),
            (
                |g| g.state.max_executor_stall_ms = 0,
                "key state.max_executor_stall_ms: must be greater than 0",
            ),
            (
                // The default budget: 60,000 + ceil(0.6 * 600,000,000 * 1000 / 300,000,000)
                // + 5,000 = 66,200 ms.
                |g| g.state.challenge_window_ms = 66_199,
                "key state.challenge_window_ms: 66199 is below 66200, the shortest window the execution budget allows: state.max_executor_stall_ms (60000) + 1200 ms for an executor a full limits.gas_burst (600000000) behind to catch up at limits.gas_per_second (300000000) / 0.6 + 5000 ms to detect and prove a fault",
            ),
            (
                |g| {
                    g.state.max_executor_stall_ms = 1;
                    g.state.challenge_window_ms = 6_200;
                },
                "key state.challenge_window_ms: 6200 is below 6201",
            ),
            (
                |g| g.state.slash_reward_percent = 101,
                "key state.slash_reward_percent: 101 is above 100",
            ),
            (
                |g| g.state.executors[1].name = "".to_owned(),
                "key state.executors[1].name: must not be empty",
            ),
            (
                |g| g.state.executors[1].name = "e0".to_owned(),
                "key state.executors[1].name: duplicate name \"e0\" (also state.executors[0].name)",
            ),
            (
                |g| {
                    let mut bad = [0x01; 32];
                    bad[31] = 0;
                    g.state.executors[0].public_key = bad;
                },
                "key state.executors[0].public_key: 0x0101010101010101010101010101010101010101010101010101010101010100 is not a valid ed25519 public key",
            ),
            (
                |g| g.state.executors[1].public_key = g.state.executors[0].public_key,
                "key state.executors[1].public_key: duplicate public key 0x",
            ),
            (
                |g| g.state.executors[1].public_key = g.validators[2].public_key,
                "is also validators[2].public_key; an executor needs a key of its own",
            ),
            (
                |g| g.state.executors[0].bond = 0,
                "key state.executors[0].bond: must be greater than 0",
            ),
            (
                |g| g.state.executors[0].bond += 2,
                "key state.executors[1].bond: the total of all bonds exceeds 2^128 - 1",
            ),
            (
                |g| {
                    g.execution.alloc = (0..=MAX_ALLOC_ACCOUNTS)
                        .map(|i| GenesisAccount {
                            address: Address::left_padding_from(&(i as u64).to_be_bytes()),
                            ..account(0, 0)
                        })
                        .collect();
                },
                "key execution.alloc: 100001 accounts, more than the 100000 allowed",
            ),
        ];
        for (mutate, expected) in cases {
            let mut g = genesis();
            mutate(&mut g);
            let err = err_of(&g);
            assert!(err.contains(expected), "expected {expected:?} in {err:?}");
        }
        let mut g = genesis();
        g.limits.min_gas_price = 0;
        g.validate().expect("a zero gas price floor is allowed");
        let mut g = genesis();
        g.execution.base_fee_per_gas = 0;
        g.execution.alloc.clear();
        g.execution.hardfork = "cancun".to_owned();
        g.validators[0].fee_recipient = Address::ZERO;
        g.validate()
            .expect("a zero base fee, an empty alloc, cancun and a zero fee recipient are allowed");
        let mut g = genesis();
        g.state = StateGenesis {
            challenge_window_ms: 66_200,
            min_window_blocks: 1,
            max_executor_stall_ms: 60_000,
            min_corroboration: 1,
            slash_reward_percent: 0,
            executors: Vec::new(),
        };
        g.validate()
            .expect("a window at the floor, one block, no reward and no executors are allowed");
        g.state.slash_reward_percent = 100;
        g.validate().expect("a 100% reward is allowed");
        g.state.min_corroboration = 5;
        g.validate()
            .expect("more corroboration than executors is allowed (K_eff caps it)");
        // Without an execution budget nothing bounds executor lag: any window is the
        // operator's explicit choice (nodes warn at start).
        g.limits.gas_per_second = 0;
        g.state.challenge_window_ms = 1;
        g.validate().expect("no budget: any window");
        g.state.challenge_window_ms = 0;
        g.validate()
            .expect("no budget: even a window of blocks only");
        g.state.max_executor_stall_ms = 0;
        assert!(err_of(&g).contains("key state.max_executor_stall_ms: must be greater than 0"));
    }

    #[test]
    fn challenge_window_floor() {
        assert_eq!(executor_catch_up_ms(0, 600_000_000), None);
        assert_eq!(challenge_window_floor_ms(60_000, 0, 600_000_000), None);
        assert_eq!(
            executor_catch_up_ms(DEFAULT_GAS_PER_SECOND, DEFAULT_GAS_BURST),
            Some(1_200)
        );
        assert_eq!(
            challenge_window_floor_ms(
                DEFAULT_MAX_EXECUTOR_STALL_MS,
                DEFAULT_GAS_PER_SECOND,
                DEFAULT_GAS_BURST
            ),
            Some(66_200)
        );
        // The default window leaves room above its floor.
        assert!(
            Some(DEFAULT_CHALLENGE_WINDOW_MS)
                >= challenge_window_floor_ms(
                    DEFAULT_MAX_EXECUTOR_STALL_MS,
                    DEFAULT_GAS_PER_SECOND,
                    DEFAULT_GAS_BURST
                )
        );
        // Rounded up: 0.6 * 1 gas * 1000 / 7 gas/s = 85.7 ms.
        assert_eq!(executor_catch_up_ms(7, 1), Some(86));
        assert_eq!(executor_catch_up_ms(600, 1), Some(1));
        assert_eq!(executor_catch_up_ms(601, 1), Some(1));
        assert_eq!(executor_catch_up_ms(u64::MAX, 0), Some(0));
        // No overflow at the extremes.
        assert_eq!(executor_catch_up_ms(1, u64::MAX), Some(u64::MAX));
        assert_eq!(challenge_window_floor_ms(u64::MAX, 1, 1), Some(u64::MAX));
        assert_eq!(
            challenge_window_floor_ms(1, 300_000_000, 600_000_000),
            Some(6_201)
        );
    }

    #[test]
    fn default_state_section() {
        let s = StateGenesis::default();
        assert_eq!(s.challenge_window_ms, 90_000);
        assert_eq!(s.min_window_blocks, 10);
        assert_eq!(s.max_executor_stall_ms, 60_000);
        assert_eq!(s.min_corroboration, 1);
        assert_eq!(s.slash_reward_percent, 50);
        assert!(s.executors.is_empty());
    }

    #[test]
    fn executor_address_matches_key() {
        let e = executor("e", 9, 1);
        assert_eq!(e.address(), executor_address(&public_key(9)));
        assert_ne!(e.address(), validator_address(&public_key(9)));
    }

    #[test]
    fn state_section_decodes_bonds_in_both_forms() {
        let g = genesis();
        let text = g.to_json();
        // Bonds are written as decimal strings.
        assert!(
            text.contains("\"bond\": \"1000000000000000000000\""),
            "{text}"
        );
        let hex = text.replace(
            "\"bond\": \"1000000000000000000000\"",
            "\"bond\": \"0x3635c9adc5dea00000\"",
        );
        assert_ne!(hex, text);
        let back = Genesis::from_json(&hex).expect("hex bond");
        assert_eq!(back, g);
    }

    #[test]
    fn json_round_trip_keeps_the_execution_section() {
        let g = genesis();
        let text = g.to_json();
        let back = Genesis::from_json(&text).expect("decodes");
        assert_eq!(back, g);
        assert_eq!(back.to_json(), text);
        let via_serde: Genesis = serde_json::from_str(&text).expect("serde");
        assert_eq!(via_serde, g);
        // Defaults are left out: a plain account is just its address and balance.
        assert!(
            text.contains(
                "{\n        \"address\": \"0x0101010101010101010101010101010101010101\",\n        \"balance\": \"0x1\"\n      }"
            ),
            "{text}"
        );
        assert!(text.contains("\"storage\": {\n          \"0x0000000000000000000000000000000000000000000000000000000000000001\": \"0xaaaa"), "{text}");
        // Storage written out of slot order comes back in slot order.
        let mut shuffled = g.clone();
        shuffled.execution.alloc[2].storage.reverse();
        let back = Genesis::from_json(&shuffled.to_json()).expect("decodes");
        assert_eq!(back, g);
    }

    #[test]
    fn decodes_optional_account_fields_and_balance_forms() {
        let fee = "0x00000000000000000000000000000000000000fe";
        let text = genesis()
            .to_json()
            .replacen(
                &format!(
                    "\"fee_recipient\": \"{}\"",
                    to_hex(genesis().validators[0].fee_recipient.as_slice())
                ),
                &format!("\"fee_recipient\": \"{fee}\""),
                1,
            )
            .replace("\"balance\": \"0x1\"", "\"balance\": \"1\"")
            .replace(
                &format!(
                    "\"balance\": \"{:#x}\"",
                    genesis().execution.alloc[1].balance
                ),
                "\"balance\": \"10000000000000000000000\"",
            );
        let g = Genesis::from_json(&text).expect("decodes");
        assert_eq!(g.validators[0].fee_recipient, Address::with_last_byte(0xfe));
        assert_eq!(g.execution.alloc[0].balance, U256::from(1u64));
        assert_eq!(
            g.execution.alloc[1].balance,
            U256::from(10u64).pow(U256::from(22u64))
        );
        assert_eq!(g.execution.alloc[0].nonce, 0);
        assert!(g.execution.alloc[0].code.is_empty());
        assert!(g.execution.alloc[0].storage.is_empty());
        let c = &g.execution.alloc[2];
        assert_eq!(c.nonce, 1);
        assert_eq!(c.code.as_ref(), &[0x60, 0x00, 0x54, 0x00]);
        assert_eq!(c.storage.len(), 2);
        // A checksummed address is accepted as well.
        let text = text.replace(
            "0xc0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0",
            &Address::repeat_byte(0xc0).to_checksum(None),
        );
        let g2 = Genesis::from_json(&text).expect("checksummed");
        assert_eq!(g2, g);
    }

    #[test]
    fn fee_recipient_is_keccak_of_tag_and_key() {
        let pk = [7u8; 32];
        let mut preimage = b"LAZYCHAIN_FEE_RECIPIENT".to_vec();
        preimage.extend_from_slice(&pk);
        let hash = keccak256(&preimage);
        assert_eq!(fee_recipient_for(&pk).as_slice(), &hash[12..]);
        assert_ne!(fee_recipient_for(&pk), fee_recipient_for(&[8u8; 32]));
    }

    #[test]
    fn decode_names_the_key() {
        let good = genesis().to_json();
        let check_all = |text: &str, expected: &[&str]| {
            let err = Genesis::from_json(text)
                .expect_err("bad genesis")
                .to_string();
            for part in expected {
                assert!(err.contains(part), "expected {part:?} in {err:?}");
            }
        };
        let check = |text: &str, expected: &str| check_all(text, &[expected]);
        check("{", "not valid JSON (EOF");
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
            "key chain_id: invalid type: string \"1337\", expected u64 at line 2 column",
        );
        check(
            &good.replacen("\"name\": \"a\",", "\"name\": \"a\", \"power\": 2,", 1),
            "unknown key validators[0].power",
        );
        check(
            &good.replace("\"max_tx_bytes\": 131072,\n", ""),
            "key limits.max_tx_bytes: missing",
        );
        check(
            &good.replacen("\"voting_power\": 1", "\"voting_power\": -1", 1),
            "key validators[0].voting_power: invalid value: integer `-1`, expected u64",
        );
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
        // The execution section.
        let g = genesis();
        let fee0 = to_hex(g.validators[0].fee_recipient.as_slice());
        check(
            &good.replacen(&format!(",\n      \"fee_recipient\": \"{fee0}\""), "", 1),
            "key validators[0].fee_recipient: missing",
        );
        check(
            &good.replacen(&fee0, "0x1234", 1),
            "key validators[0].fee_recipient: expected 0x followed by 40 hex digits (20 bytes)",
        );
        // One letter of a checksummed address in the wrong case.
        let good_checksum = Address::repeat_byte(0xc0).to_checksum(None);
        let flip = good_checksum.rfind(|c: char| c.is_ascii_alphabetic() && c != 'x');
        let mut bad_checksum: Vec<char> = good_checksum.chars().collect();
        if let Some(at) = flip {
            bad_checksum[at] = if bad_checksum[at].is_ascii_uppercase() {
                bad_checksum[at].to_ascii_lowercase()
            } else {
                bad_checksum[at].to_ascii_uppercase()
            };
        }
        let bad_checksum: String = bad_checksum.into_iter().collect();
        assert!(bad_checksum.contains('c') && bad_checksum.contains('C'));
        check(
            &good.replace("0xc0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0", &bad_checksum),
            &format!("key execution.alloc[2].address: {bad_checksum} has a wrong EIP-55 checksum (a mistyped digit?); the checksummed form of these digits is {good_checksum}"),
        );
        check(
            &good.replacen("\"execution\": {", "\"execution\": { \"gas_limit\": 1,", 1),
            "unknown key execution.gas_limit (expected one of: hardfork, base_fee_per_gas, trace_period, alloc)",
        );
        check(
            &good.replacen("\"trace_period\": 1", "\"trace_period\": 0", 1),
            "key execution.trace_period: must be at least 1",
        );
        check(
            &good.replacen("\"hardfork\": \"osaka\"", "\"hardfork\": \"london\"", 1),
            "key execution.hardfork: unknown hardfork \"london\" (expected one of: cancun, prague, osaka)",
        );
        for bad in [
            "\"0x\"",
            "\"0xg1\"",
            "\"-1\"",
            "\"1_000\"",
            "\"1e18\"",
            "\"\"",
            "1",
        ] {
            check_all(
                &good.replacen("\"balance\": \"0x1\"", &format!("\"balance\": {bad}"), 1),
                &[
                    "key execution.alloc[0].balance: ",
                    "a string holding a 0x hex quantity or a decimal number from 0 to 2^256 - 1",
                ],
            );
        }
        check(
            &good.replacen(
                "\"balance\": \"0x1\"",
                &format!("\"balance\": \"{}0\"", U256::MAX),
                1,
            ),
            "key execution.alloc[0].balance: expected a string",
        );
        check(
            &good.replacen("\"balance\": \"0x1\"", "\"balance\": \"0x1\", \"storage\": {}, \"owner\": 1", 1),
            "unknown key execution.alloc[0].owner (expected one of: address, balance, nonce, code, storage)",
        );
        check(
            &good.replacen(
                "\"balance\": \"0x1\"",
                &format!(
                    "\"balance\": \"0x1\", \"storage\": {{\"{}\": \"{}\"}}",
                    B256::ZERO,
                    B256::ZERO
                ),
                1,
            ),
            "key execution.alloc[0].storage: storage is only allowed in an account with code",
        );
        check(
            &good.replacen("\"code\": \"0x60005400\"", "\"code\": \"0x600\"", 1),
            "key execution.alloc[2].code: expected 0x followed by an even number of hex digits, got \"0x600\"",
        );
        check(
            &good.replacen(
                "\"0x0000000000000000000000000000000000000000000000000000000000000002\":",
                "\"0x02\":",
                1,
            ),
            "key execution.alloc[2].storage: bad slot \"0x02\": expected 0x followed by 64 hex digits",
        );
        check(
            &good.replacen(
                "\"0x0000000000000000000000000000000000000000000000000000000000000007\"",
                "7",
                1,
            ),
            "key execution.alloc[2].storage.0x0000000000000000000000000000000000000000000000000000000000000002: invalid type: integer `7`, expected a string of 0x and 64 hex digits",
        );
        check(
            &good.replacen(
                "\"0x0000000000000000000000000000000000000000000000000000000000000002\":",
                "\"0X0000000000000000000000000000000000000000000000000000000000000001\":",
                1,
            ),
            "key execution.alloc[2].storage: slot 0x0000000000000000000000000000000000000000000000000000000000000001 appears more than once",
        );
        let mut no_alloc: serde_json::Value = serde_json::from_str(&good).expect("json");
        if let Some(e) = no_alloc["execution"].as_object_mut() {
            e.remove("alloc");
        }
        check(&no_alloc.to_string(), "key execution.alloc: missing");
        let mut no_execution: serde_json::Value = serde_json::from_str(&good).expect("json");
        if let Some(top) = no_execution.as_object_mut() {
            top.remove("execution");
        }
        check(&no_execution.to_string(), "key execution: missing");
        // The state section.
        let mut no_state: serde_json::Value = serde_json::from_str(&good).expect("json");
        if let Some(top) = no_state.as_object_mut() {
            top.remove("state");
        }
        check(&no_state.to_string(), "key state: missing");
        check(
            &good.replacen("\"state\": {", "\"state\": { \"window\": 3,", 1),
            "unknown key state.window (expected one of: challenge_window_ms, min_window_blocks, max_executor_stall_ms, min_corroboration, slash_reward_percent, executors)",
        );
        check(
            &good.replacen(
                "\"challenge_window_ms\": 90000",
                "\"challenge_window_blocks\": 20",
                1,
            ),
            "unknown key state.challenge_window_blocks (expected one of: challenge_window_ms,",
        );
        for key in [
            "challenge_window_ms",
            "min_window_blocks",
            "max_executor_stall_ms",
            "min_corroboration",
        ] {
            let mut without: serde_json::Value = serde_json::from_str(&good).expect("json");
            if let Some(state) = without["state"].as_object_mut() {
                state.remove(key);
            }
            check(&without.to_string(), &format!("key state.{key}: missing"));
        }
        check(
            &good.replacen(
                "\"challenge_window_ms\": 90000",
                "\"challenge_window_ms\": 1000",
                1,
            ),
            "key state.challenge_window_ms: 1000 is below 66200",
        );
        check(
            &good.replacen(
                "\"challenge_window_ms\": 90000",
                "\"challenge_window_ms\": -2",
                1,
            ),
            "key state.challenge_window_ms: invalid value: integer `-2`, expected u64",
        );
        check(
            &good.replacen("\"min_window_blocks\": 10", "\"min_window_blocks\": 0", 1),
            "key state.min_window_blocks: must be at least 1",
        );
        check(
            &good.replacen("\"min_window_blocks\": 10", "\"min_window_blocks\": 1.5", 1),
            "key state.min_window_blocks: invalid type: floating point `1.5`, expected u64",
        );
        check(
            &good.replacen(
                "\"max_executor_stall_ms\": 60000",
                "\"max_executor_stall_ms\": 0",
                1,
            ),
            "key state.max_executor_stall_ms: must be greater than 0",
        );
        check(
            &good.replacen(
                "\"max_executor_stall_ms\": 60000",
                "\"max_executor_stall_ms\": 90000",
                1,
            ),
            "key state.challenge_window_ms: 90000 is below 96200",
        );
        check(
            &good.replacen("\"min_corroboration\": 1", "\"min_corroboration\": 0", 1),
            "key state.min_corroboration: must be at least 1",
        );
        check(
            &good.replacen(
                "\"min_corroboration\": 1",
                "\"min_corroboration\": \"2\"",
                1,
            ),
            "key state.min_corroboration: invalid type: string \"2\", expected u64",
        );
        check(
            &good.replacen(
                "\"slash_reward_percent\": 50",
                "\"slash_reward_percent\": 300",
                1,
            ),
            "key state.slash_reward_percent: 300 is above 100",
        );
        check(
            &good.replacen(
                "\"slash_reward_percent\": 50",
                "\"slash_reward_percent\": 101",
                1,
            ),
            "key state.slash_reward_percent: 101 is above 100",
        );
        check(
            &good.replacen("\"name\": \"e0\",", "\"name\": \"e0\", \"stake\": 1,", 1),
            "unknown key state.executors[0].stake (expected one of: name, public_key, bond)",
        );
        check(
            &good.replacen("\"name\": \"e1\",", "", 1),
            "key state.executors[1].name: missing",
        );
        for bad in ["1000", "\"-5\"", "\"1e21\"", "\"0x\"", "null"] {
            check_all(
                &good.replacen(
                    "\"bond\": \"1000000000000000000000\"",
                    &format!("\"bond\": {bad}"),
                    1,
                ),
                &[
                    "key state.executors[0].bond: ",
                    "a string holding a 0x hex quantity or a decimal number from 0 to 2^128 - 1",
                ],
            );
        }
        check(
            &good.replacen("\"bond\": \"1000000000000000000000\"", "\"bond\": \"0\"", 1),
            "key state.executors[0].bond: must be greater than 0",
        );
        check(
            &good.replacen(
                &to_hex(&g.state.executors[0].public_key),
                &to_hex(&g.validators[1].public_key),
                1,
            ),
            "key state.executors[0].public_key: 0x",
        );
        check(
            &good.replacen("\"executors\": [", "\"executors\": [7, ", 1),
            "key state.executors[0]: invalid type: integer `7`, expected struct GenesisExecutor",
        );
    }

    #[test]
    fn address_matches_key() {
        let v = validator("a", 9);
        assert_eq!(v.address(), validator_address(&public_key(9)));
    }
}
