//! The differential proof fuzzer: random chains and blocks, and for random transactions of
//! them, the honest node's proof checked against a lie ([`Chain::prove`]).
//!
//! A run is split into *streams*, each an independent chain with its own seed (derived from
//! the run's seed and the stream's number) and its share of the cases. A stream's genesis
//! funds a random number of senders; its first block deploys one instance of each contract
//! fixture (and funds the senders with tokens); every later block is random: 1 to a few
//! hundred transactions (occasionally one, occasionally a couple of thousand) mixing value
//! transfers, deployments, calls into every fixture with random arguments, all four
//! transaction types, and transactions that must be skipped (wrong nonces, unfunded senders,
//! too little gas, undecodable bytes, ...). Every transaction carries a label of its kind.
//! Type-4 (EIP-7702) transactions are executed: their authorizations (some invalid) delegate
//! senders to fixtures or a precompile, or clear a delegation; delegated accounts also exist
//! from genesis (designators to two fixtures and a precompile), and are called, send
//! transactions and are read like any account.
//!
//! After a block is executed, `k` random transactions of it are proven, each against a random
//! corruption; then the block is committed and the next one generated. What is generated
//! depends only on the stream's seed (and on the results of executing the earlier blocks,
//! which are deterministic); which transactions are proven is drawn from a second generator
//! seeded from it. So a run is deterministic for a given seed and case count, whatever the
//! number of threads, and a failing case is reproduced from its stream seed, block number,
//! transaction index and corruption alone ([`reproduce`]; the harness test `replay_one_case`
//! takes the same four values from `PROOF_FUZZ_CASE`).
//!
//! Streams run in parallel on every core (`std::thread::scope`).

use std::collections::{BTreeMap, HashMap};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use alloy_consensus::{SignableTransaction, TxEip1559, TxEip2930, TxEnvelope, TxLegacy};
use alloy_eips::eip2718::Encodable2718;
use alloy_eips::eip2930::AccessList;
use alloy_eips::eip7702::Authorization;
use alloy_primitives::{Address, Bytes, Signature, TxKind, B256, U256};
use lazychain_exec_stf::genesis::AllocAccount;
use lazychain_exec_stf::{Receipt, TxStatus};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, RngCore, SeedableRng};
use secp256k1::{Message, SECP256K1};

use crate::tx::{self, call, Arg, Key, ETH};
use crate::{Chain, Corruption, Executed, ProvenCase, BASE_FEE, CHAIN_ID, FEE_RECIPIENT};

/// Cases per stream (an independent chain); the last streams may hold fewer.
pub const CASES_PER_STREAM: usize = 500;
/// The per-transaction gas cap of Osaka (EIP-7825).
const TX_GAS_CAP: u64 = 1 << 24;
/// What the generator keeps the gas-limit sum of a block under (the harness block gas limit).
const BLOCK_GAS_BUDGET: u64 = 900_000_000;
/// The balance genesis gives every sender.
const SENDER_BALANCE: u128 = 10_000 * ETH;

const FACTORY_HEX: &str = include_str!("../../../exec-layer/contracts/build/Factory.bytecode.hex");
const CHILD_HEX: &str = include_str!("../../../exec-layer/contracts/build/Child.bytecode.hex");
const NESTED_HEX: &str =
    include_str!("../../../exec-layer/contracts/build/NestedChild.bytecode.hex");
const CODE_READER_HEX: &str =
    include_str!("../../../exec-layer/contracts/build/CodeReader.bytecode.hex");
const DESTROYER_HEX: &str =
    include_str!("../../../exec-layer/contracts/build/Destroyer.bytecode.hex");
const STORAGE_HEX: &str = include_str!("../../../exec-layer/contracts/build/Storage.bytecode.hex");
const PRECOMPILES_HEX: &str =
    include_str!("../../../exec-layer/contracts/build/Precompiles.bytecode.hex");
const OPCODES_HEX: &str = include_str!("../../../exec-layer/contracts/build/Opcodes.bytecode.hex");
const TOKEN_HEX: &str = include_str!("../../../exec-layer/contracts/build/LazyToken.bytecode.hex");
const BURNER_HEX: &str = include_str!("../../../exec-layer/contracts/build/Burner.bytecode.hex");
const PRECOMPILE_INPUTS: &str =
    include_str!("../../../exec-layer/contracts/build/precompile-inputs.json");

/// `Created(address indexed child, bool create2)` of `Factory`.
const CREATED_TOPIC: &str = "f378d51c65d71e3746838202f40d37078c1869b72f751c90f0dd520bd0022db5";

/// The contract fixtures, as the generator deploys them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fixture {
    Factory,
    Child,
    NestedChild,
    CodeReader,
    Destroyer,
    Storage,
    Precompiles,
    Opcodes,
    LazyToken,
    Burner,
}

const FIXTURES: [Fixture; 10] = [
    Fixture::Factory,
    Fixture::Child,
    Fixture::NestedChild,
    Fixture::CodeReader,
    Fixture::Destroyer,
    Fixture::Storage,
    Fixture::Precompiles,
    Fixture::Opcodes,
    Fixture::LazyToken,
    Fixture::Burner,
];

impl Fixture {
    fn name(self) -> &'static str {
        match self {
            Fixture::Factory => "Factory",
            Fixture::Child => "Child",
            Fixture::NestedChild => "NestedChild",
            Fixture::CodeReader => "CodeReader",
            Fixture::Destroyer => "Destroyer",
            Fixture::Storage => "Storage",
            Fixture::Precompiles => "Precompiles",
            Fixture::Opcodes => "Opcodes",
            Fixture::LazyToken => "LazyToken",
            Fixture::Burner => "Burner",
        }
    }

    /// Gas its deployment needs beyond the intrinsic gas.
    fn deploy_gas(self) -> u64 {
        match self {
            Fixture::Factory => 1_600_000,
            Fixture::Child => 250_000,
            Fixture::NestedChild => 1_200_000,
            Fixture::CodeReader => 700_000,
            Fixture::Destroyer => 250_000,
            Fixture::Storage => 900_000,
            Fixture::Precompiles => 600_000,
            Fixture::Opcodes => 3_500_000,
            Fixture::LazyToken => 700_000,
            Fixture::Burner => 300_000,
        }
    }
}

/// Decoded creation code of the fixtures and the precompile vectors, parsed once.
struct Artifacts {
    code: HashMap<&'static str, Vec<u8>>,
    /// (precompile address, valid input) from `precompile-inputs.json`.
    precompile_inputs: Vec<(Address, Vec<u8>)>,
}

fn artifacts() -> &'static Artifacts {
    static ARTIFACTS: OnceLock<Artifacts> = OnceLock::new();
    ARTIFACTS.get_or_init(|| {
        let decode = |s: &str| hex::decode(s.trim()).unwrap_or_default();
        let code = HashMap::from([
            ("Factory", decode(FACTORY_HEX)),
            ("Child", decode(CHILD_HEX)),
            ("NestedChild", decode(NESTED_HEX)),
            ("CodeReader", decode(CODE_READER_HEX)),
            ("Destroyer", decode(DESTROYER_HEX)),
            ("Storage", decode(STORAGE_HEX)),
            ("Precompiles", decode(PRECOMPILES_HEX)),
            ("Opcodes", decode(OPCODES_HEX)),
            ("LazyToken", decode(TOKEN_HEX)),
            ("Burner", decode(BURNER_HEX)),
        ]);
        let parsed: serde_json::Value =
            serde_json::from_str(PRECOMPILE_INPUTS).unwrap_or(serde_json::Value::Null);
        let precompile_inputs = parsed
            .as_array()
            .map(|list| {
                list.iter()
                    .filter_map(|e| {
                        let address = e.get("address")?.as_str()?.parse::<Address>().ok()?;
                        let input = e.get("input")?.as_str()?;
                        let input = hex::decode(input.trim_start_matches("0x")).ok()?;
                        Some((address, input))
                    })
                    .collect()
            })
            .unwrap_or_default();
        Artifacts {
            code,
            precompile_inputs,
        }
    })
}

/// The envelope a generated transaction was sent in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TxType {
    Legacy,
    /// A legacy transaction without a chain id (pre-EIP-155 signature).
    LegacyUnprotected,
    Eip2930,
    Eip1559,
    Eip7702,
    /// Bytes that are not a transaction (or not one this chain decodes).
    Bytes,
}

impl TxType {
    pub fn name(self) -> &'static str {
        match self {
            TxType::Legacy => "legacy",
            TxType::LegacyUnprotected => "legacy-pre155",
            TxType::Eip2930 => "2930",
            TxType::Eip1559 => "1559",
            TxType::Eip7702 => "7702",
            TxType::Bytes => "bytes",
        }
    }
}

/// A generated transaction and what it is meant to do.
#[derive(Clone, Debug)]
pub struct GenTx {
    pub raw: Vec<u8>,
    /// What it does, e.g. `"transfer.fresh"`, `"factory.create"`, `"precompile.0x0a"`,
    /// `"skip.nonce"`.
    pub kind: String,
    pub ty: TxType,
    /// Sent with a gas limit chosen too low to finish.
    pub low_gas: bool,
}

/// Fixture instances deployed by the setup block.
#[derive(Clone, Copy, Debug, Default)]
struct Deployed {
    factory: Address,
    child: Address,
    nested: Address,
    code_reader: Address,
    destroyer: Address,
    storage: Address,
    precompiles: Address,
    opcodes: Address,
    token: Address,
    burner: Address,
}

/// Relative weights of the families of transactions in one block.
#[derive(Clone, Copy, Debug)]
struct Profile {
    transfer: u32,
    token: u32,
    storage: u32,
    precompile: u32,
    opcodes: u32,
    factory: u32,
    code_reader: u32,
    destroyer: u32,
    burner: u32,
    deploy: u32,
    skip: u32,
    setcode: u32,
    delegated: u32,
}

impl Profile {
    const MIXED: Profile = Profile {
        transfer: 30,
        token: 8,
        storage: 14,
        precompile: 9,
        opcodes: 12,
        factory: 7,
        code_reader: 4,
        destroyer: 3,
        burner: 3,
        deploy: 4,
        skip: 6,
        setcode: 1,
        delegated: 2,
    };

    fn weights(&self) -> [u32; 13] {
        [
            self.transfer,
            self.token,
            self.storage,
            self.precompile,
            self.opcodes,
            self.factory,
            self.code_reader,
            self.destroyer,
            self.burner,
            self.deploy,
            self.skip,
            self.setcode,
            self.delegated,
        ]
    }
}

/// A seeded generator of one chain's blocks.
pub struct Generator {
    rng: StdRng,
    keys: Vec<Key>,
    /// Keys genesis does not fund (and nothing ever pays).
    unfunded: Vec<Key>,
    /// Keys (indices into `keys`) whose account genesis delegated, and to what.
    delegated: Vec<(usize, Address)>,
    /// The next nonce the generator expects of every key (resynchronised from the state
    /// before every block).
    nonces: HashMap<Address, u64>,
    fx: Deployed,
    /// Contracts known to exist or to have existed (deployed, created by factories).
    contracts: Vec<Address>,
    /// Addresses that received value from nowhere in particular (fresh when first used).
    fresh: Vec<Address>,
    /// CREATE2 salts used with `Factory.create` (reusing one collides).
    salts: Vec<B256>,
    /// (owner, spender) key indices of token approvals sent.
    approvals: Vec<(usize, usize)>,
    /// Heavy transactions still allowed in the block being generated.
    heavy_left: u32,
    /// Gas limits of the block being generated so far.
    block_gas: u64,
    setup_done: bool,
}

/// The addresses with code at genesis on Osaka: the precompiles.
fn precompile_addresses() -> Vec<Address> {
    let mut out: Vec<Address> = (1u64..=0x11).map(Address::with_last_byte_u64).collect();
    out.push(Address::with_last_byte_u64(0x100));
    out
}

trait AddressExt {
    fn with_last_byte_u64(n: u64) -> Address;
}

impl AddressExt for Address {
    fn with_last_byte_u64(n: u64) -> Address {
        let mut bytes = [0u8; 20];
        bytes[12..].copy_from_slice(&n.to_be_bytes());
        Address::from(bytes)
    }
}

fn short_address(a: &Address) -> String {
    // Precompile addresses as 0x0a, 0x100.
    let n = U256::from_be_slice(a.as_slice());
    format!("0x{:02x}", n.saturating_to::<u64>())
}

/// Intrinsic gas (EIP-2028 calldata, EIP-3860 init code, EIP-2930 access list, and the
/// EIP-7623 calldata floor of Prague and later).
fn intrinsic(input: &[u8], create: bool, access_list: &AccessList) -> u64 {
    let zeros = input.iter().filter(|b| **b == 0).count() as u64;
    let nonzeros = input.len() as u64 - zeros;
    let mut standard = 21_000 + 4 * zeros + 16 * nonzeros;
    if create {
        standard += 32_000 + 2 * (input.len() as u64).div_ceil(32);
    }
    for item in access_list.iter() {
        standard += 2_400 + 1_900 * item.storage_keys.len() as u64;
    }
    let floor = 21_000 + 10 * (zeros + 4 * nonzeros);
    standard.max(floor)
}

fn signature(key: &Key, hash: B256) -> Signature {
    Signature::from(SECP256K1.sign_ecdsa_recoverable(Message::from_digest(hash.0), &key.secret))
}

/// How to send one transaction.
struct Plan {
    to: Option<Address>,
    value: U256,
    input: Vec<u8>,
    /// Gas beyond the intrinsic gas.
    exec_gas: u64,
}

impl Plan {
    fn call(to: Address, input: Vec<u8>, exec_gas: u64) -> Plan {
        Plan {
            to: Some(to),
            value: U256::ZERO,
            input,
            exec_gas,
        }
    }

    fn value(mut self, value: U256) -> Plan {
        self.value = value;
        self
    }
}

/// The fee fields of one envelope.
#[derive(Clone, Copy)]
struct Fees {
    max_fee: u128,
    priority: u128,
    chain_id: u64,
}

impl Generator {
    /// The generator of stream `seed`, and its genesis chain.
    pub fn new(seed: u64) -> (Generator, Chain) {
        let mut rng = StdRng::seed_from_u64(seed);
        let senders = rng.gen_range(6..=32usize);
        // Keys of different streams differ (the key index space is 2^64).
        let base = rng.gen::<u64>() >> 16;
        let keys: Vec<Key> = (0..senders as u64)
            .map(|i| Key::from_index(base + i))
            .collect();
        let unfunded: Vec<Key> = (0..3u64)
            .map(|i| Key::from_index(base + 1_000 + i))
            .collect();
        // EOAs delegated at genesis (EIP-7702 designators; type-4 transactions delegate
        // senders during the run too): to the Storage and Destroyer fixtures the setup block
        // deploys, and to the identity precompile.
        let fixture_address = |f: Fixture| {
            let nonce = FIXTURES.iter().position(|x| *x == f).unwrap_or(0) as u64;
            keys[0].address.create(nonce)
        };
        let delegates = [
            fixture_address(Fixture::Storage),
            fixture_address(Fixture::Destroyer),
            Address::with_last_byte_u64(4),
        ];
        let delegated_keys: Vec<Key> = (0..delegates.len() as u64)
            .map(|i| Key::from_index(base + 2_000 + i))
            .collect();
        let extra: Vec<AllocAccount> = delegated_keys
            .iter()
            .zip(delegates)
            .map(|(k, to)| {
                let mut code = vec![0xef, 0x01, 0x00];
                code.extend_from_slice(to.as_slice());
                AllocAccount {
                    address: k.address,
                    balance: U256::from(SENDER_BALANCE),
                    code: Bytes::from(code),
                    ..Default::default()
                }
            })
            .collect();
        let chain = Chain::new(keys.clone(), U256::from(SENDER_BALANCE), &extra);
        let mut keys = keys;
        let delegated = (0..delegates.len())
            .map(|i| (keys.len() + i, delegates[i]))
            .collect();
        keys.extend(delegated_keys);
        let generator = Generator {
            rng,
            keys,
            delegated,
            unfunded,
            nonces: HashMap::new(),
            fx: Deployed::default(),
            contracts: Vec::new(),
            fresh: Vec::new(),
            salts: Vec::new(),
            approvals: Vec::new(),
            heavy_left: 0,
            block_gas: 0,
            setup_done: false,
        };
        (generator, chain)
    }

    /// The next block: the setup block first, random blocks after it.
    pub fn next_block(&mut self, chain: &Chain) -> Vec<GenTx> {
        self.sync_nonces(chain);
        self.block_gas = 0;
        if !self.setup_done {
            self.setup_done = true;
            return self.setup_block();
        }
        self.random_block()
    }

    /// Learns what the committed block created (contracts deployed and created by factories).
    pub fn observe(&mut self, receipts: &[Receipt]) {
        let created = B256::from_slice(&hex::decode(CREATED_TOPIC).unwrap_or_default());
        for r in receipts {
            if r.status == TxStatus::Success {
                if let Some(a) = r.contract_address {
                    self.remember_contract(a);
                }
            }
            for log in &r.logs {
                let topics = log.topics();
                if topics.len() >= 2 && topics[0] == created {
                    self.remember_contract(Address::from_word(topics[1]));
                }
            }
        }
    }

    fn remember_contract(&mut self, a: Address) {
        if self.contracts.len() < 400 {
            self.contracts.push(a);
        } else {
            let i = self.rng.gen_range(0..self.contracts.len());
            self.contracts[i] = a;
        }
    }

    fn sync_nonces(&mut self, chain: &Chain) {
        for k in self.keys.iter().chain(&self.unfunded) {
            let nonce = chain.state.accounts.get(&k.address).map_or(0, |a| a.nonce);
            self.nonces.insert(k.address, nonce);
        }
    }

    fn take_nonce(&mut self, address: Address) -> u64 {
        let n = self.nonces.entry(address).or_insert(0);
        *n += 1;
        *n - 1
    }

    fn peek_nonce(&self, address: Address) -> u64 {
        self.nonces.get(&address).copied().unwrap_or(0)
    }

    fn setup_block(&mut self) -> Vec<GenTx> {
        let deployer = self.keys[0].clone();
        let mut txs = Vec::new();
        let mut fx = Deployed::default();
        for fixture in FIXTURES {
            let nonce = self.peek_nonce(deployer.address);
            let address = deployer.address.create(nonce);
            match fixture {
                Fixture::Factory => fx.factory = address,
                Fixture::Child => fx.child = address,
                Fixture::NestedChild => fx.nested = address,
                Fixture::CodeReader => fx.code_reader = address,
                Fixture::Destroyer => fx.destroyer = address,
                Fixture::Storage => fx.storage = address,
                Fixture::Precompiles => fx.precompiles = address,
                Fixture::Opcodes => fx.opcodes = address,
                Fixture::LazyToken => fx.token = address,
                Fixture::Burner => fx.burner = address,
            }
            self.contracts.push(address);
            txs.push(self.deploy_tx(0, fixture, false));
        }
        self.fx = fx;
        // Every sender gets tokens.
        for i in 1..self.keys.len() {
            let amount = U256::from(1_000_000u128 * ETH);
            let input = call(
                "transfer(address,uint256)",
                &[Arg::Address(self.keys[i].address), Arg::Uint(amount)],
            );
            txs.push(self.send_exact(0, "token.transfer", Plan::call(fx.token, input, 80_000)));
        }
        txs
    }

    fn block_len(&mut self) -> usize {
        match self.rng.gen_range(0..100u32) {
            0..=7 => 1,
            8 | 9 => self.rng.gen_range(1_000..=2_500),
            10..=29 => self.rng.gen_range(2..=20),
            30..=79 => self.rng.gen_range(2..=150),
            _ => self.rng.gen_range(100..=400),
        }
    }

    fn random_block(&mut self) -> Vec<GenTx> {
        let len = self.block_len();
        let big = len > 500;
        let mut profile = Profile::MIXED;
        match self.rng.gen_range(0..100u32) {
            0..=49 => {}
            50..=69 => {
                profile.transfer *= 5;
                profile.token *= 3;
            }
            70..=84 => profile.transfer /= 5,
            85..=92 => profile.skip *= 6,
            _ => {
                profile.deploy *= 6;
                profile.factory *= 3;
            }
        }
        if big {
            // Large blocks are mostly cheap transactions (proving re-executes prefixes).
            profile.transfer *= 4;
            profile.token *= 2;
        }
        self.heavy_left = self.rng.gen_range(0..=if big { 2 } else { 4 });
        let weights = profile.weights();
        let total: u32 = weights.iter().sum();
        (0..len)
            .map(|_| {
                let mut r = self.rng.gen_range(0..total);
                let mut family = 0;
                for (i, w) in weights.iter().enumerate() {
                    if r < *w {
                        family = i;
                        break;
                    }
                    r -= w;
                }
                self.family(family)
            })
            .collect()
    }

    fn family(&mut self, family: usize) -> GenTx {
        match family {
            0 => self.transfer(),
            1 => self.token(),
            2 => self.storage(),
            3 => self.precompile(),
            4 => self.opcodes(),
            5 => self.factory(),
            6 => self.code_reader(),
            7 => self.destroyer(),
            8 => self.burner(),
            9 => self.deploy(),
            10 => self.skip(),
            11 => self.setcode(),
            _ => self.delegated(),
        }
    }

    /// Whether a heavy variant may be generated (and uses one of the block's allowance).
    fn heavy(&mut self, chance: f64) -> bool {
        if self.heavy_left > 0 && self.rng.gen_bool(chance) {
            self.heavy_left -= 1;
            true
        } else {
            false
        }
    }

    fn sender(&mut self) -> usize {
        self.rng.gen_range(0..self.keys.len())
    }

    fn fresh_address(&mut self) -> Address {
        let mut bytes = [0u8; 20];
        self.rng.fill_bytes(&mut bytes);
        let a = Address::from(bytes);
        if self.fresh.len() < 300 {
            self.fresh.push(a);
        }
        a
    }

    /// Any address: a sender, a contract, a precompile, a used or fresh address, special ones.
    fn any_address(&mut self) -> Address {
        match self.rng.gen_range(0..10u32) {
            0 | 1 => {
                let i = self.sender();
                self.keys[i].address
            }
            2 | 3 if !self.contracts.is_empty() => *self
                .contracts
                .choose(&mut self.rng)
                .unwrap_or(&Address::ZERO),
            4 => *precompile_addresses()
                .choose(&mut self.rng)
                .unwrap_or(&Address::ZERO),
            5 if !self.fresh.is_empty() => {
                *self.fresh.choose(&mut self.rng).unwrap_or(&Address::ZERO)
            }
            6 => *[FEE_RECIPIENT, Address::ZERO, Address::repeat_byte(0xff)]
                .choose(&mut self.rng)
                .unwrap_or(&Address::ZERO),
            _ => self.fresh_address(),
        }
    }

    fn word(&mut self) -> B256 {
        let mut w = [0u8; 32];
        match self.rng.gen_range(0..4u32) {
            0 => {}
            1 => w[31] = self.rng.gen(),
            _ => self.rng.fill_bytes(&mut w),
        }
        B256::from(w)
    }

    fn bytes(&mut self, max: usize) -> Vec<u8> {
        let len = self.rng.gen_range(0..=max);
        let mut out = vec![0u8; len];
        self.rng.fill_bytes(&mut out);
        // Some zero runs (cheaper calldata, other code paths).
        if len > 4 && self.rng.gen_bool(0.3) {
            let start = self.rng.gen_range(0..len);
            let end = self.rng.gen_range(start..=len);
            out[start..end].fill(0);
        }
        out
    }

    fn value(&mut self) -> U256 {
        match self.rng.gen_range(0..10u32) {
            0..=2 => U256::ZERO,
            3..=5 => U256::from(self.rng.gen_range(1..1_000_000u64)),
            _ => U256::from(self.rng.gen_range(1..ETH)),
        }
    }

    fn access_list(&mut self) -> AccessList {
        let n = self.rng.gen_range(0..=3usize);
        let mut warm = Vec::new();
        for _ in 0..n {
            let address = match self.rng.gen_range(0..3u32) {
                0 => self.fx.storage,
                _ => self.any_address(),
            };
            let keys = (0..self.rng.gen_range(0..=3usize))
                .map(|_| {
                    if self.rng.gen_bool(0.5) {
                        B256::from(U256::from(self.rng.gen_range(0..64u64)))
                    } else {
                        self.word()
                    }
                })
                .collect();
            warm.push((address, keys));
        }
        tx::access_list(&warm)
    }

    fn fees(&mut self) -> Fees {
        let base = u128::from(BASE_FEE);
        Fees {
            max_fee: base + self.rng.gen_range(0..=2 * base),
            priority: match self.rng.gen_range(0..3u32) {
                0 => 0,
                1 => self.rng.gen_range(1..=1_000_000u128),
                _ => self.rng.gen_range(0..=base),
            },
            chain_id: CHAIN_ID,
        }
    }

    /// Signs `send` from key `sender` in a random envelope, at nonce `nonce`, with `gas`.
    #[allow(clippy::too_many_arguments)]
    fn envelope(
        &mut self,
        key: &Key,
        nonce: u64,
        send: &Plan,
        gas: u64,
        access_list: AccessList,
        ty: TxType,
        fees: Fees,
    ) -> Vec<u8> {
        let to = send.to.map(TxKind::Call).unwrap_or(TxKind::Create);
        let input = Bytes::from(send.input.clone());
        let envelope: TxEnvelope = match ty {
            TxType::Legacy | TxType::LegacyUnprotected => {
                let tx = TxLegacy {
                    chain_id: (ty == TxType::Legacy).then_some(fees.chain_id),
                    nonce,
                    gas_price: fees.max_fee,
                    gas_limit: gas,
                    to,
                    value: send.value,
                    input,
                };
                let sig = signature(key, tx.signature_hash());
                tx.into_signed(sig).into()
            }
            TxType::Eip2930 => {
                let tx = TxEip2930 {
                    chain_id: fees.chain_id,
                    nonce,
                    gas_price: fees.max_fee,
                    gas_limit: gas,
                    to,
                    value: send.value,
                    access_list,
                    input,
                };
                let sig = signature(key, tx.signature_hash());
                tx.into_signed(sig).into()
            }
            _ => {
                let tx = TxEip1559 {
                    chain_id: fees.chain_id,
                    nonce,
                    gas_limit: gas,
                    max_fee_per_gas: fees.max_fee,
                    max_priority_fee_per_gas: fees.priority,
                    to,
                    value: send.value,
                    access_list,
                    input,
                };
                let sig = signature(key, tx.signature_hash());
                tx.into_signed(sig).into()
            }
        };
        envelope.encoded_2718()
    }

    fn random_type(&mut self) -> TxType {
        match self.rng.gen_range(0..20u32) {
            0..=3 => TxType::Legacy,
            4 => TxType::LegacyUnprotected,
            5..=8 => TxType::Eip2930,
            _ => TxType::Eip1559,
        }
    }

    /// A valid transaction (the generator's best guess) of kind `kind` from sender `sender`;
    /// sometimes with a gas limit too low to finish.
    fn send(&mut self, sender: usize, kind: &str, send: Plan) -> GenTx {
        let key = self.keys[sender].clone();
        let ty = self.random_type();
        let access_list =
            if matches!(ty, TxType::Eip2930 | TxType::Eip1559) && self.rng.gen_bool(0.4) {
                self.access_list()
            } else {
                AccessList::default()
            };
        let base = intrinsic(&send.input, send.to.is_none(), &access_list);
        let low_gas = send.exec_gas > 0 && self.rng.gen_bool(0.06);
        let mut gas = if low_gas {
            base + self.rng.gen_range(0..=send.exec_gas / 2)
        } else {
            base + send.exec_gas + self.rng.gen_range(0..=send.exec_gas / 4)
        };
        gas = gas.min(TX_GAS_CAP);
        if self.block_gas + gas > BLOCK_GAS_BUDGET {
            // The block's gas is spent: a plain transfer instead.
            return self.plain_transfer(sender);
        }
        self.block_gas += gas;
        let fees = self.fees();
        let nonce = self.take_nonce(key.address);
        let raw = self.envelope(&key, nonce, &send, gas, access_list, ty, fees);
        GenTx {
            raw,
            kind: kind.to_owned(),
            ty,
            low_gas,
        }
    }

    fn plain_transfer(&mut self, sender: usize) -> GenTx {
        let key = self.keys[sender].clone();
        let to = self.fresh_address();
        let send = Plan {
            to: Some(to),
            value: U256::from(1u64),
            input: Vec::new(),
            exec_gas: 0,
        };
        let fees = self.fees();
        let nonce = self.take_nonce(key.address);
        self.block_gas += 21_000;
        let raw = self.envelope(
            &key,
            nonce,
            &send,
            21_000,
            AccessList::default(),
            TxType::Eip1559,
            fees,
        );
        GenTx {
            raw,
            kind: "transfer.fresh".into(),
            ty: TxType::Eip1559,
            low_gas: false,
        }
    }

    // ---- families --------------------------------------------------------------------

    fn transfer(&mut self) -> GenTx {
        let sender = self.sender();
        let value = self.value();
        let (kind, to, exec_gas) = match self.rng.gen_range(0..20u32) {
            0..=6 => {
                let i = self.sender();
                ("transfer.eoa", self.keys[i].address, 0)
            }
            7..=11 => ("transfer.fresh", self.fresh_address(), 0),
            12 | 13 if !self.fresh.is_empty() => (
                "transfer.used",
                *self.fresh.choose(&mut self.rng).unwrap_or(&Address::ZERO),
                0,
            ),
            14 | 15 => {
                let p = *precompile_addresses()
                    .choose(&mut self.rng)
                    .unwrap_or(&Address::ZERO);
                // Sometimes exactly 21,000: not enough for the precompile itself.
                let gas = if self.rng.gen_bool(0.3) { 0 } else { 100_000 };
                ("transfer.precompile", p, gas)
            }
            16 => ("transfer.self", self.keys[sender].address, 0),
            17 => (
                "transfer.special",
                *[FEE_RECIPIENT, Address::ZERO]
                    .choose(&mut self.rng)
                    .unwrap_or(&Address::ZERO),
                0,
            ),
            _ => {
                let to = *[
                    self.fx.destroyer,
                    self.fx.storage,
                    self.fx.token,
                    self.fx.child,
                ]
                .choose(&mut self.rng)
                .unwrap_or(&Address::ZERO);
                ("transfer.contract", to, 60_000)
            }
        };
        let kind = if value.is_zero() {
            format!("{kind}.zero")
        } else {
            kind.to_owned()
        };
        let send = Plan {
            to: Some(to),
            value,
            input: Vec::new(),
            exec_gas,
        };
        self.send(sender, &kind, send)
    }

    fn token(&mut self) -> GenTx {
        let sender = self.sender();
        let token = self.fx.token;
        let amount = |g: &mut Generator| -> U256 {
            match g.rng.gen_range(0..10u32) {
                0 => U256::ZERO,
                1 => U256::from(10u128.pow(30)), // more than anyone holds: reverts
                _ => U256::from(g.rng.gen_range(1..1_000 * ETH)),
            }
        };
        match self.rng.gen_range(0..10u32) {
            0..=5 => {
                let to = match self.rng.gen_range(0..4u32) {
                    0 => self.fresh_address(),
                    1 => Address::ZERO, // reverts: transfer to the zero address
                    _ => {
                        let i = self.sender();
                        self.keys[i].address
                    }
                };
                let a = amount(self);
                let input = call(
                    "transfer(address,uint256)",
                    &[Arg::Address(to), Arg::Uint(a)],
                );
                self.send(sender, "token.transfer", Plan::call(token, input, 60_000))
            }
            6 | 7 => {
                let spender = self.sender();
                let a = amount(self);
                self.approvals.push((sender, spender));
                let input = call(
                    "approve(address,uint256)",
                    &[Arg::Address(self.keys[spender].address), Arg::Uint(a)],
                );
                self.send(sender, "token.approve", Plan::call(token, input, 50_000))
            }
            _ => {
                let (owner, spender) = self
                    .approvals
                    .choose(&mut self.rng)
                    .copied()
                    .unwrap_or((sender, sender));
                let to = self.any_address();
                let a = U256::from(self.rng.gen_range(0..100 * ETH));
                let input = call(
                    "transferFrom(address,address,uint256)",
                    &[
                        Arg::Address(self.keys[owner].address),
                        Arg::Address(to),
                        Arg::Uint(a),
                    ],
                );
                self.send(
                    spender,
                    "token.transferFrom",
                    Plan::call(token, input, 70_000),
                )
            }
        }
    }

    fn slot(&mut self) -> U256 {
        match self.rng.gen_range(0..10u32) {
            0..=6 => U256::from(self.rng.gen_range(0..64u64)),
            7 | 8 => U256::from_be_bytes(self.word().0) >> 1, // below 2^255
            _ => U256::from_be_bytes(self.word().0),          // anywhere, bookkeeping included
        }
    }

    fn slot_value(&mut self) -> U256 {
        match self.rng.gen_range(0..4u32) {
            0 => U256::ZERO,
            1 => U256::from(self.rng.gen_range(1..100u64)),
            _ => U256::from_be_bytes(self.word().0),
        }
    }

    fn storage(&mut self) -> GenTx {
        let sender = self.sender();
        let s = self.fx.storage;
        let (kind, input, gas, value) = match self.rng.gen_range(0..15u32) {
            0 | 1 => {
                let (slot, v) = (self.slot(), self.slot_value());
                (
                    "storage.set",
                    call("set(uint256,uint256)", &[Arg::Uint(slot), Arg::Uint(v)]),
                    50_000,
                    U256::ZERO,
                )
            }
            2 => {
                let slot = self.slot();
                (
                    "storage.clear",
                    call("clear(uint256)", &[Arg::Uint(slot)]),
                    30_000,
                    U256::ZERO,
                )
            }
            3 => {
                let slot = self.slot();
                (
                    "storage.reset",
                    call("reset(uint256)", &[Arg::Uint(slot)]),
                    50_000,
                    U256::ZERO,
                )
            }
            4 => {
                let (slot, t) = (self.slot(), self.slot_value());
                (
                    "storage.resetVia",
                    call(
                        "resetVia(uint256,uint256)",
                        &[Arg::Uint(slot), Arg::Uint(t)],
                    ),
                    50_000,
                    U256::ZERO,
                )
            }
            5 => {
                let count = if self.heavy(0.5) {
                    self.rng.gen_range(100..=400u64)
                } else {
                    self.rng.gen_range(0..=24u64)
                };
                let start = U256::from(self.rng.gen_range(0..200u64));
                let v = if self.rng.gen_bool(0.3) {
                    U256::ZERO
                } else {
                    U256::from(self.rng.gen_range(1..10u64))
                };
                (
                    "storage.many",
                    call(
                        "many(uint256,uint256,uint256)",
                        &[Arg::Uint(start), Arg::uint(count), Arg::Uint(v)],
                    ),
                    60_000 + 25_000 * count,
                    U256::ZERO,
                )
            }
            6 => {
                let (k, v) = (self.slot(), self.slot_value());
                let f = *[
                    "transientWrite(uint256,uint256)",
                    "transientTwice(uint256,uint256)",
                    "transientRevert(uint256,uint256)",
                    "tstoreThenRevert(uint256,uint256)",
                ]
                .choose(&mut self.rng)
                .unwrap_or(&"transientWrite(uint256,uint256)");
                (
                    "storage.transient",
                    call(f, &[Arg::Uint(k), Arg::Uint(v)]),
                    80_000,
                    U256::ZERO,
                )
            }
            7 | 8 => {
                let (a, b) = (self.word(), self.word());
                let (kind, f) = *[
                    ("storage.logs", "logs(bytes32,bytes32)"),
                    ("storage.logs", "logs(bytes32,bytes32)"),
                    ("storage.logsReverted", "logsReverted(bytes32,bytes32)"),
                    ("storage.logsReverted", "logsThenRevert(bytes32,bytes32)"),
                ]
                .choose(&mut self.rng)
                .unwrap_or(&("storage.logs", "logs(bytes32,bytes32)"));
                (
                    kind,
                    call(f, &[Arg::Word(a), Arg::Word(b)]),
                    80_000,
                    U256::ZERO,
                )
            }
            9 | 10 => {
                let n = if self.heavy(0.4) {
                    self.rng.gen_range(100..=300usize)
                } else {
                    self.rng.gen_range(0..=12usize)
                };
                let to: Vec<Address> = (0..n).map(|_| self.any_address()).collect();
                let value = if self.rng.gen_bool(0.2) {
                    U256::ZERO
                } else {
                    U256::from(self.rng.gen_range(1..=1_000_000u64) * n.max(1) as u64)
                };
                (
                    "storage.fanout",
                    call("fanout(address[])", &[Arg::Addresses(to)]),
                    60_000 + 40_000 * n as u64,
                    value,
                )
            }
            11 | 12 => {
                let n = if self.heavy(0.4) {
                    self.rng.gen_range(100..=500usize)
                } else {
                    self.rng.gen_range(0..=16usize)
                };
                let a: Vec<Address> = (0..n).map(|_| self.any_address()).collect();
                (
                    "storage.touchMany",
                    call("touchMany(address[])", &[Arg::Addresses(a)]),
                    60_000 + 6_000 * n as u64,
                    U256::ZERO,
                )
            }
            13 if self.heavy(0.3) => {
                // Beyond the state access limit (1.5 MiB of witness: 640 B per key): the
                // transaction halts and pays its whole gas limit.
                let n = self.rng.gen_range(2_500..=3_200usize);
                let a: Vec<Address> = (0..n).map(|_| self.fresh_address_untracked()).collect();
                (
                    "storage.touchMany.limit",
                    call("touchMany(address[])", &[Arg::Addresses(a)]),
                    12_000_000,
                    U256::ZERO,
                )
            }
            _ => {
                let slot = self.slot();
                (
                    "storage.get",
                    call("get(uint256)", &[Arg::Uint(slot)]),
                    30_000,
                    U256::ZERO,
                )
            }
        };
        self.send(sender, kind, Plan::call(s, input, gas).value(value))
    }

    fn fresh_address_untracked(&mut self) -> Address {
        let mut bytes = [0u8; 20];
        self.rng.fill_bytes(&mut bytes);
        Address::from(bytes)
    }

    fn precompile(&mut self) -> GenTx {
        let sender = self.sender();
        let p = self.fx.precompiles;
        let inputs = &artifacts().precompile_inputs;
        let vector = inputs
            .choose(&mut self.rng)
            .cloned()
            .unwrap_or((Address::with_last_byte_u64(4), vec![1, 2, 3]));
        match self.rng.gen_range(0..12u32) {
            0..=5 => {
                let (address, input) = vector;
                let f = if self.rng.gen_bool(0.7) {
                    "call(address,bytes)"
                } else {
                    "callStatic(address,bytes)"
                };
                let data = call(f, &[Arg::Address(address), Arg::Bytes(input)]);
                let kind = format!("precompile.{}", short_address(&address));
                self.send(sender, &kind, Plan::call(p, data, 400_000))
            }
            6 | 7 => {
                // Random bytes, or a valid input with a byte changed, to any precompile (and
                // to addresses next to them).
                let address = if self.rng.gen_bool(0.8) {
                    vector.0
                } else {
                    Address::with_last_byte_u64(self.rng.gen_range(0..0x120))
                };
                let input = if self.rng.gen_bool(0.5) && !vector.1.is_empty() {
                    let mut input = vector.1.clone();
                    let i = self.rng.gen_range(0..input.len());
                    input[i] ^= 1 << self.rng.gen_range(0..8);
                    if self.rng.gen_bool(0.2) {
                        input.truncate(self.rng.gen_range(0..input.len()));
                    }
                    input
                } else {
                    self.bytes(300)
                };
                let data = call(
                    "call(address,bytes)",
                    &[Arg::Address(address), Arg::Bytes(input)],
                );
                self.send(sender, "precompile.random", Plan::call(p, data, 400_000))
            }
            8 => {
                let (address, input) = vector;
                let g = self.rng.gen_range(0..60_000u64);
                let data = call(
                    "callWithGas(address,bytes,uint256)",
                    &[Arg::Address(address), Arg::Bytes(input), Arg::uint(g)],
                );
                self.send(sender, "precompile.gas", Plan::call(p, data, 200_000 + g))
            }
            9 => {
                let (address, input) = vector;
                let v = self.value();
                let data = call(
                    "callWithValue(address,bytes)",
                    &[Arg::Address(address), Arg::Bytes(input)],
                );
                self.send(
                    sender,
                    "precompile.value",
                    Plan::call(p, data, 400_000).value(v),
                )
            }
            _ => {
                // Straight to the precompile, as the transaction's target.
                let (address, input) = vector;
                self.send(
                    sender,
                    "precompile.direct",
                    Plan::call(address, input, 300_000),
                )
            }
        }
    }

    fn opcodes(&mut self) -> GenTx {
        let sender = self.sender();
        let o = self.fx.opcodes;
        let pick = self.rng.gen_range(0..22u32);
        let (kind, input, gas, value): (&str, Vec<u8>, u64, U256) = match pick {
            0 => {
                let (a, b, c) = (self.word(), self.word(), self.word());
                (
                    "opcodes.arith",
                    call(
                        "arith(uint256,uint256,uint256)",
                        &[Arg::Word(a), Arg::Word(b), Arg::Word(c)],
                    ),
                    100_000,
                    U256::ZERO,
                )
            }
            1 => (
                "opcodes.arithEdges",
                call("arithEdges()", &[]),
                150_000,
                U256::ZERO,
            ),
            2 => (
                "opcodes.blockInfo",
                call("blockInfo()", &[]),
                200_000,
                U256::ZERO,
            ),
            3 => {
                let n = if self.heavy(0.3) {
                    self.rng.gen_range(50..=400u64)
                } else {
                    self.rng.gen_range(0..=12u64)
                };
                (
                    "opcodes.callDepth",
                    call("callDepth(uint256)", &[Arg::uint(n)]),
                    (100_000 + 40_000 * n).min(15_000_000),
                    U256::ZERO,
                )
            }
            4 => {
                let v = if self.rng.gen_bool(0.5) {
                    U256::from(13u64)
                } else {
                    self.value()
                };
                ("opcodes.calls", call("calls()", &[]), 1_300_000, v)
            }
            5 => (
                "opcodes.deepRevert",
                call("deepRevert()", &[]),
                500_000,
                U256::ZERO,
            ),
            6 => {
                let x = if self.rng.gen_bool(0.3) {
                    U256::ZERO
                } else {
                    U256::from_be_bytes(self.word().0)
                };
                (
                    "opcodes.divide",
                    call("divide(uint256)", &[Arg::Uint(x)]),
                    40_000,
                    U256::ZERO,
                )
            }
            7 => {
                let data = self.bytes(100);
                let v = self.value();
                (
                    "opcodes.env",
                    call("env(bytes)", &[Arg::Bytes(data)]),
                    200_000,
                    v,
                )
            }
            8 => {
                // Consumes its whole gas limit.
                let g = self.rng.gen_range(30_000..=200_000u64);
                ("opcodes.invalid", call("invalid()", &[]), g, U256::ZERO)
            }
            9 => {
                let data = self.bytes(600);
                let g = 60_000 + 20 * data.len() as u64;
                (
                    "opcodes.keccak",
                    call("keccak(bytes)", &[Arg::Bytes(data)]),
                    g,
                    U256::ZERO,
                )
            }
            10 => {
                let tag = U256::from_be_bytes(self.word().0);
                let v = self.value();
                (
                    "opcodes.marker",
                    call("marker(uint256)", &[Arg::Uint(tag)]),
                    120_000,
                    v,
                )
            }
            11 => {
                let x = U256::from_be_bytes(self.word().0);
                (
                    "opcodes.memoryOps",
                    call("memoryOps(uint256)", &[Arg::Uint(x)]),
                    150_000,
                    U256::ZERO,
                )
            }
            12 => {
                let g = self.rng.gen_range(30_000..=200_000u64);
                ("opcodes.outOfGas", call("outOfGas()", &[]), g, U256::ZERO)
            }
            13 | 14 => {
                let mut code = self.bytes(120);
                if self.rng.gen_bool(0.1) {
                    code.insert(0, 0xef);
                }
                let input = self.bytes(64);
                let v = self.value();
                (
                    "opcodes.rawExec",
                    call(
                        "rawExec(bytes,bytes)",
                        &[Arg::Bytes(code), Arg::Bytes(input)],
                    ),
                    self.rng.gen_range(150_000..=1_000_000u64),
                    v,
                )
            }
            15 => {
                let k = self.rng.gen_range(0..=9u64);
                (
                    "opcodes.rawFailure",
                    call("rawFailure(uint8)", &[Arg::uint(k)]),
                    400_000,
                    U256::ZERO,
                )
            }
            16 => (
                "opcodes.rethrow",
                call("rethrow()", &[]),
                80_000,
                U256::ZERO,
            ),
            17 => {
                let len = self.rng.gen_range(0..80usize);
                let s: String = (0..len)
                    .map(|_| char::from(self.rng.gen_range(b' '..=b'~')))
                    .collect();
                (
                    "opcodes.revertWith",
                    call("revertWith(string)", &[Arg::String(s)]),
                    60_000,
                    U256::ZERO,
                )
            }
            18 => {
                let n = self.rng.gen_range(0..=400u64);
                (
                    "opcodes.stackDepth",
                    call("stackDepth(uint256)", &[Arg::uint(n)]),
                    120_000 + 300 * n,
                    U256::ZERO,
                )
            }
            19 => (
                "opcodes.stackOps",
                call("stackOps()", &[]),
                200_000,
                U256::ZERO,
            ),
            20 => {
                let k = self.rng.gen_range(0..=8u64);
                (
                    "opcodes.staticViolation",
                    call("staticViolation(uint8)", &[Arg::uint(k)]),
                    150_000,
                    U256::ZERO,
                )
            }
            _ => (
                "opcodes.writeThenRevert",
                call("writeThenRevert()", &[]),
                80_000,
                U256::ZERO,
            ),
        };
        self.send(sender, kind, Plan::call(o, input, gas).value(value))
    }

    /// Init code: a fixture's, code that returns random runtime code (sometimes 0xEF-led),
    /// code that reverts, or random bytes.
    fn init_code(&mut self) -> Vec<u8> {
        match self.rng.gen_range(0..8u32) {
            0 | 1 => {
                let mut code = artifacts().code.get("Child").cloned().unwrap_or_default();
                code.extend_from_slice(&U256::from(self.rng.gen::<u32>()).to_be_bytes::<32>());
                code
            }
            2..=4 => {
                let mut runtime = self.bytes(200);
                if self.rng.gen_bool(0.15) {
                    runtime.insert(0, 0xef);
                }
                let mut code = hex::decode(format!("61{:04x}80600a5f395ff3", runtime.len()))
                    .unwrap_or_default();
                code.extend_from_slice(&runtime);
                code
            }
            5 => vec![0x60, 0x00, 0x60, 0x00, 0xfd], // REVERT(0, 0)
            _ => self.bytes(100),
        }
    }

    fn factory(&mut self) -> GenTx {
        let sender = self.sender();
        let f = self.fx.factory;
        let salt = if !self.salts.is_empty() && self.rng.gen_bool(0.1) {
            // A used salt: CREATE2 collides.
            *self.salts.choose(&mut self.rng).unwrap_or(&B256::ZERO)
        } else {
            self.word()
        };
        match self.rng.gen_range(0..11u32) {
            0..=2 => {
                let n = if self.heavy(0.3) {
                    self.rng.gen_range(9..=64u64)
                } else {
                    self.rng.gen_range(0..=4u64)
                };
                self.salts.push(salt);
                let input = call("create(uint256,bytes32)", &[Arg::uint(n), Arg::Word(salt)]);
                let gas = (150_000 + 260_000 * n).min(TX_GAS_CAP - 500_000);
                self.send(sender, "factory.create", Plan::call(f, input, gas))
            }
            3 => {
                let v = self.value();
                let input = call("createAndDestroy(bytes32)", &[Arg::Word(salt)]);
                self.send(
                    sender,
                    "factory.createAndDestroy",
                    Plan::call(f, input, 350_000).value(v),
                )
            }
            4 => {
                let v = self.value();
                let input = call("createAndBurn(bytes32)", &[Arg::Word(salt)]);
                self.send(
                    sender,
                    "factory.createAndBurn",
                    Plan::call(f, input, 150_000).value(v),
                )
            }
            5 | 6 => {
                let depth = if self.heavy(0.5) {
                    self.rng.gen_range(4..=9u64)
                } else {
                    self.rng.gen_range(0..=3u64)
                };
                let input = call("nested(uint256)", &[Arg::uint(depth)]);
                self.send(
                    sender,
                    "factory.nested",
                    Plan::call(f, input, 200_000 + 150_000 * depth),
                )
            }
            7 => {
                let input = call("createFailing()", &[]);
                self.send(
                    sender,
                    "factory.createFailing",
                    Plan::call(f, input, 1_000_000),
                )
            }
            _ => {
                let init = self.init_code();
                let v = if self.rng.gen_bool(0.3) {
                    U256::from(self.rng.gen_range(1..1_000u64))
                } else {
                    U256::ZERO
                };
                let (kind, input) = match self.rng.gen_range(0..4u32) {
                    0 => (
                        "factory.rawCreate",
                        call("rawCreate(bytes)", &[Arg::Bytes(init)]),
                    ),
                    1 => (
                        "factory.rawCreate",
                        call(
                            "rawCreate2(bytes32,bytes)",
                            &[Arg::Word(salt), Arg::Bytes(init)],
                        ),
                    ),
                    2 => (
                        "factory.tryCreate",
                        call("tryCreate(bytes)", &[Arg::Bytes(init)]),
                    ),
                    _ => (
                        "factory.tryCreate",
                        call(
                            "tryCreate2(bytes32,bytes)",
                            &[Arg::Word(salt), Arg::Bytes(init)],
                        ),
                    ),
                };
                self.send(sender, kind, Plan::call(f, input, 600_000).value(v))
            }
        }
    }

    fn code_reader(&mut self) -> GenTx {
        let sender = self.sender();
        let r = self.fx.code_reader;
        if self.rng.gen_bool(0.15) {
            let v = self.value();
            let input = call("readFresh()", &[]);
            return self.send(
                sender,
                "codereader.readFresh",
                Plan::call(r, input, 1_300_000).value(v),
            );
        }
        let a = if self.rng.gen_bool(0.4) && !self.contracts.is_empty() {
            *self
                .contracts
                .choose(&mut self.rng)
                .unwrap_or(&Address::ZERO)
        } else {
            self.any_address()
        };
        let input = call("read(address)", &[Arg::Address(a)]);
        self.send(sender, "codereader.read", Plan::call(r, input, 350_000))
    }

    fn destroyer(&mut self) -> GenTx {
        let sender = self.sender();
        let d = self.fx.destroyer;
        match self.rng.gen_range(0..6u32) {
            0 | 1 => {
                let to = self.any_address();
                let input = call("destroy(address)", &[Arg::Address(to)]);
                self.send(sender, "destroyer.destroy", Plan::call(d, input, 150_000))
            }
            2 => {
                let input = call("destroySelfBeneficiary()", &[]);
                self.send(
                    sender,
                    "destroyer.destroySelf",
                    Plan::call(d, input, 100_000),
                )
            }
            3 => {
                let input = call("ping()", &[]);
                self.send(sender, "destroyer.ping", Plan::call(d, input, 40_000))
            }
            _ => {
                // Child.destroy of a contract some factory created (or any contract).
                let c = if self.rng.gen_bool(0.3) || self.contracts.is_empty() {
                    self.fx.child
                } else {
                    *self
                        .contracts
                        .choose(&mut self.rng)
                        .unwrap_or(&self.fx.child)
                };
                let to = self.any_address();
                let input = call("destroy(address)", &[Arg::Address(to)]);
                self.send(sender, "child.destroy", Plan::call(c, input, 100_000))
            }
        }
    }

    fn burner(&mut self) -> GenTx {
        let sender = self.sender();
        let rounds = if self.heavy(0.2) {
            self.rng.gen_range(5_000..=40_000u64)
        } else {
            self.rng.gen_range(0..=300u64)
        };
        let input = call("burn(uint256)", &[Arg::uint(rounds)]);
        self.send(
            sender,
            "burner.burn",
            Plan::call(self.fx.burner, input, 80_000 + 300 * rounds),
        )
    }

    fn deploy_tx(&mut self, sender: usize, fixture: Fixture, random_args: bool) -> GenTx {
        let mut code = artifacts()
            .code
            .get(fixture.name())
            .cloned()
            .unwrap_or_default();
        let mut value = U256::ZERO;
        let mut exec_gas = fixture.deploy_gas();
        match fixture {
            Fixture::Child => {
                let v = if random_args {
                    self.rng.gen::<u64>()
                } else {
                    42
                };
                code.extend_from_slice(&U256::from(v).to_be_bytes::<32>());
                value = if random_args {
                    self.value()
                } else {
                    U256::from(7u64)
                };
            }
            Fixture::NestedChild => {
                let d = if random_args {
                    self.rng.gen_range(0..=4u64)
                } else {
                    2
                };
                code.extend_from_slice(&U256::from(d).to_be_bytes::<32>());
            }
            Fixture::Destroyer => {
                value = if random_args {
                    self.value()
                } else {
                    U256::from(ETH)
                };
            }
            Fixture::LazyToken => {
                let supply = U256::from(1_000_000_000u128 * ETH);
                code.extend_from_slice(&supply.to_be_bytes::<32>());
            }
            _ => {}
        }
        if !random_args {
            // The setup block: every deployment must succeed.
            exec_gas *= 2;
        }
        let send = Plan {
            to: None,
            value,
            input: code,
            exec_gas,
        };
        let kind = format!("deploy.{}", fixture.name());
        if random_args {
            self.send(sender, &kind, send)
        } else {
            self.send_exact(sender, &kind, send)
        }
    }

    /// A transaction that must succeed: EIP-1559, enough gas, the expected nonce.
    fn send_exact(&mut self, sender: usize, kind: &str, send: Plan) -> GenTx {
        let key = self.keys[sender].clone();
        let gas = intrinsic(&send.input, send.to.is_none(), &AccessList::default()) + send.exec_gas;
        let nonce = self.take_nonce(key.address);
        self.block_gas += gas;
        let fees = Fees {
            max_fee: 2 * u128::from(BASE_FEE),
            priority: 1,
            chain_id: CHAIN_ID,
        };
        let raw = self.envelope(
            &key,
            nonce,
            &send,
            gas,
            AccessList::default(),
            TxType::Eip1559,
            fees,
        );
        GenTx {
            raw,
            kind: kind.to_owned(),
            ty: TxType::Eip1559,
            low_gas: false,
        }
    }

    fn deploy(&mut self) -> GenTx {
        let sender = self.sender();
        if self.rng.gen_bool(0.3) {
            let init = self.init_code();
            let value = if self.rng.gen_bool(0.2) {
                self.value()
            } else {
                U256::ZERO
            };
            let send = Plan {
                to: None,
                value,
                input: init,
                exec_gas: 300_000,
            };
            return self.send(sender, "deploy.raw", send);
        }
        let fixture = *FIXTURES.choose(&mut self.rng).unwrap_or(&Fixture::Child);
        let fixture = if fixture == Fixture::Opcodes && !self.heavy(0.5) {
            Fixture::Child
        } else {
            fixture
        };
        self.deploy_tx(sender, fixture, true)
    }

    /// Transactions the transition must skip (or that cannot be decoded at all).
    fn skip(&mut self) -> GenTx {
        let sender = self.sender();
        let key = self.keys[sender].clone();
        let to = self.any_address();
        let value = U256::from(self.rng.gen_range(0..1_000u64));
        let plain = Plan {
            to: Some(to),
            value,
            input: Vec::new(),
            exec_gas: 0,
        };
        let ty = self.random_type();
        let fees = self.fees();
        let nonce = self.peek_nonce(key.address);
        let (kind, raw, ty) = match self.rng.gen_range(0..12u32) {
            0 => {
                let n = nonce + self.rng.gen_range(1..=3);
                let raw = self.envelope(&key, n, &plain, 21_000, AccessList::default(), ty, fees);
                ("skip.nonce", raw, ty)
            }
            1 if nonce > 0 => {
                let n = self.rng.gen_range(0..nonce);
                let raw = self.envelope(&key, n, &plain, 21_000, AccessList::default(), ty, fees);
                ("skip.nonce", raw, ty)
            }
            2 => {
                let u = self
                    .unfunded
                    .choose(&mut self.rng)
                    .cloned()
                    .unwrap_or_else(|| key.clone());
                let raw = self.envelope(&u, 0, &plain, 21_000, AccessList::default(), ty, fees);
                ("skip.unfunded", raw, ty)
            }
            3 => {
                let rich = Plan {
                    value: U256::from(10u128.pow(30)),
                    ..plain
                };
                let raw =
                    self.envelope(&key, nonce, &rich, 21_000, AccessList::default(), ty, fees);
                ("skip.balance", raw, ty)
            }
            4 => {
                let input = self.bytes(200);
                let s = Plan::call(to, input, 0);
                let gas = intrinsic(&s.input, false, &AccessList::default())
                    .saturating_sub(self.rng.gen_range(1..=2_000));
                let raw = self.envelope(&key, nonce, &s, gas, AccessList::default(), ty, fees);
                ("skip.intrinsic", raw, ty)
            }
            5 => {
                let gas = TX_GAS_CAP + self.rng.gen_range(1..=1_000_000);
                let raw = self.envelope(&key, nonce, &plain, gas, AccessList::default(), ty, fees);
                ("skip.gascap", raw, ty)
            }
            6 => {
                let wrong = Fees {
                    chain_id: CHAIN_ID + self.rng.gen_range(1..=3),
                    ..fees
                };
                let ty = if ty == TxType::LegacyUnprotected {
                    TxType::Legacy
                } else {
                    ty
                };
                let raw = self.envelope(
                    &key,
                    nonce,
                    &plain,
                    21_000,
                    AccessList::default(),
                    ty,
                    wrong,
                );
                ("skip.chainid", raw, ty)
            }
            7 => {
                let low = Fees {
                    max_fee: self.rng.gen_range(0..u128::from(BASE_FEE)),
                    priority: 0,
                    ..fees
                };
                let raw =
                    self.envelope(&key, nonce, &plain, 21_000, AccessList::default(), ty, low);
                ("skip.fee", raw, ty)
            }
            8 => {
                let max_fee = u128::from(BASE_FEE) * 2;
                let odd = Fees {
                    max_fee,
                    priority: max_fee + self.rng.gen_range(1..1_000),
                    ..fees
                };
                let raw = self.envelope(
                    &key,
                    nonce,
                    &plain,
                    21_000,
                    AccessList::default(),
                    TxType::Eip1559,
                    odd,
                );
                ("skip.priority", raw, TxType::Eip1559)
            }
            9 => {
                // A valid transaction with its signature changed: another sender (unfunded,
                // nonce 0) or none at all.
                let mut raw =
                    self.envelope(&key, nonce, &plain, 21_000, AccessList::default(), ty, fees);
                let n = raw.len();
                let i = n - 1 - self.rng.gen_range(0..40.min(n - 1));
                raw[i] ^= 1 << self.rng.gen_range(0..8);
                ("skip.badsig", raw, TxType::Bytes)
            }
            _ => {
                let valid =
                    self.envelope(&key, nonce, &plain, 21_000, AccessList::default(), ty, fees);
                let raw = match self.rng.gen_range(0..5u32) {
                    0 => {
                        let mut r = self.bytes(200);
                        if r.is_empty() {
                            r.push(0xc0);
                        }
                        r
                    }
                    1 => valid[..self.rng.gen_range(1..valid.len())].to_vec(),
                    2 => {
                        let mut r = valid;
                        r.push(self.rng.gen());
                        r
                    }
                    3 => {
                        let mut r = vec![*[0x00u8, 0x03, 0x05, 0x7f, 0x80]
                            .choose(&mut self.rng)
                            .unwrap_or(&0x03)];
                        r.extend_from_slice(&valid);
                        r
                    }
                    _ => {
                        let mut r = valid;
                        if r[0] >= 0xc0 {
                            // An RLP string header instead of a list.
                            r[0] = 0xb8;
                        } else {
                            r[0] = 0x03; // a blob transaction's type
                        }
                        r
                    }
                };
                ("skip.undecodable", raw, TxType::Bytes)
            }
        };
        self.block_gas += 21_000;
        GenTx {
            raw,
            kind: kind.to_owned(),
            ty,
            low_gas: false,
        }
    }

    /// Calls into EOAs delegated at genesis: they run their delegate's code on their own
    /// storage and balance, send transactions themselves, and self-destruct (the Destroyer
    /// delegate): only the balance moves.
    fn delegated(&mut self) -> GenTx {
        let Some(&(key, delegate)) = self.delegated.choose(&mut self.rng) else {
            return self.transfer();
        };
        let address = self.keys[key].address;
        // The sender: anyone, or the delegated account itself.
        let sender = if self.rng.gen_bool(0.3) {
            key
        } else {
            self.sender()
        };
        let (kind, input, gas, value) = if delegate == self.fx.storage {
            let (slot, v) = (self.slot(), self.slot_value());
            match self.rng.gen_range(0..4u32) {
                0 => (
                    "delegated.storage",
                    call(
                        "transientTwice(uint256,uint256)",
                        &[Arg::Uint(slot), Arg::Uint(v)],
                    ),
                    80_000,
                    U256::ZERO,
                ),
                1 => {
                    let to: Vec<Address> = (0..self.rng.gen_range(1..=4usize))
                        .map(|_| self.any_address())
                        .collect();
                    let value = U256::from(self.rng.gen_range(0..1_000_000u64));
                    (
                        "delegated.storage",
                        call("fanout(address[])", &[Arg::Addresses(to)]),
                        250_000,
                        value,
                    )
                }
                _ => (
                    "delegated.storage",
                    call("set(uint256,uint256)", &[Arg::Uint(slot), Arg::Uint(v)]),
                    60_000,
                    U256::ZERO,
                ),
            }
        } else if delegate == self.fx.destroyer {
            if self.rng.gen_bool(0.5) {
                let to = self.any_address();
                (
                    "delegated.destroy",
                    call("destroy(address)", &[Arg::Address(to)]),
                    150_000,
                    U256::ZERO,
                )
            } else {
                ("delegated.ping", call("ping()", &[]), 50_000, self.value())
            }
        } else {
            // Delegated to a precompile: no code runs.
            ("delegated.precompile", self.bytes(64), 40_000, self.value())
        };
        self.send(sender, kind, Plan::call(address, input, gas).value(value))
    }

    /// An EIP-7702 transaction with one to three authorizations, executed: the sender's nonce
    /// is used first, then every valid authorization delegates its authority (or clears its
    /// delegation) and bumps its nonce. Some authorizations are invalid (a wrong nonce,
    /// another chain) and are ignored. The kind names the first authorization's variant.
    fn setcode(&mut self) -> GenTx {
        let sender = self.sender();
        let key = self.keys[sender].clone();
        let nonce = self.take_nonce(key.address);
        let count = self.rng.gen_range(1..=3usize);
        let mut kind = "";
        let mut auths = Vec::with_capacity(count);
        for _ in 0..count {
            let index = self.sender();
            let authority = self.keys[index].clone();
            let target = *[
                self.fx.storage,
                self.fx.opcodes,
                self.fx.destroyer,
                Address::with_last_byte_u64(4),
            ]
            .choose(&mut self.rng)
            .unwrap_or(&self.fx.storage);
            let (variant, chain_id, address, nonce) = match self.rng.gen_range(0..10u32) {
                0..=5 => (
                    "setcode.delegate",
                    CHAIN_ID,
                    target,
                    self.take_nonce(authority.address),
                ),
                6 => (
                    "setcode.clear",
                    CHAIN_ID,
                    Address::ZERO,
                    self.take_nonce(authority.address),
                ),
                // Chain id 0: valid on every chain.
                7 => (
                    "setcode.anychain",
                    0,
                    target,
                    self.take_nonce(authority.address),
                ),
                8 => (
                    "setcode.badnonce",
                    CHAIN_ID,
                    target,
                    self.peek_nonce(authority.address) + self.rng.gen_range(1..=3u64),
                ),
                _ => (
                    "setcode.otherchain",
                    CHAIN_ID + 1,
                    target,
                    self.peek_nonce(authority.address),
                ),
            };
            if kind.is_empty() {
                kind = variant;
            }
            auths.push(authority.sign_authorization(Authorization {
                chain_id: U256::from(chain_id),
                address,
                nonce,
            }));
        }
        let target = self.sender();
        let to = self.keys[target].address;
        let input = call("ping()", &[]);
        let gas = 200_000 + 25_000 * count as u64;
        self.block_gas += gas;
        GenTx {
            raw: key.eip7702(nonce, to, gas, input, auths),
            kind: kind.into(),
            ty: TxType::Eip7702,
            low_gas: false,
        }
    }
}

// ---- running ---------------------------------------------------------------------------

/// Progress of a run, reported after every proven block.
#[derive(Clone, Copy, Debug)]
pub struct Progress {
    pub done: usize,
    pub total: usize,
    pub failures: usize,
    pub elapsed: Duration,
}

/// A case that did not show a provable lie: everything needed to reproduce it.
#[derive(Clone, Debug)]
pub struct FailedCase {
    /// The run's seed and the stream (independent chain) the case belongs to.
    pub seed: u64,
    pub stream: usize,
    /// The stream's own seed: what [`reproduce`] takes.
    pub stream_seed: u64,
    /// The stream's `block`-th generated block (1 is the setup block): what [`reproduce`]
    /// takes. Not always its height: a block that fails to execute is not committed, and the
    /// next one is generated at the same height.
    pub block: usize,
    pub height: u64,
    /// The transaction proven; for a block that does not execute, the first transaction
    /// without which it does.
    pub index: Option<usize>,
    pub block_len: usize,
    pub kind: String,
    pub tx_type: &'static str,
    pub low_gas: bool,
    pub status: Option<TxStatus>,
    pub corruption: Option<Corruption>,
    pub error: String,
    /// The transaction's bytes (hex).
    pub raw_tx: String,
}

impl FailedCase {
    /// The call that reproduces the case, as text.
    pub fn reproduction(&self) -> String {
        let corruption = match self.corruption {
            Some(Corruption::Root) => "Corruption::Root".to_owned(),
            Some(Corruption::Value { pick }) => format!("Corruption::Value {{ pick: {pick} }}"),
            None => "Corruption::Root /* the block does not execute */".to_owned(),
        };
        format!(
            "fuzz::reproduce({:#x}, {}, {}, {corruption})",
            self.stream_seed,
            self.block,
            self.index.unwrap_or(0),
        )
    }

    /// Runs the case again.
    pub fn reproduce(&self) -> Result<ProvenCase, crate::CaseFailure> {
        reproduce(
            self.stream_seed,
            self.block,
            self.index.unwrap_or(0),
            self.corruption.unwrap_or(Corruption::Root),
        )
    }
}

/// Proof size and verification time of the cases of one kind.
#[derive(Clone, Debug, Default)]
pub struct KindStats {
    pub kind: String,
    /// Transactions of this kind generated (proven or not).
    pub generated: usize,
    pub cases: usize,
    pub failures: usize,
    /// Proven cases by the transaction's status.
    pub success: usize,
    pub failed: usize,
    pub skipped: usize,
    pub proof_bytes_p50: usize,
    pub proof_bytes_max: usize,
    pub verify_p50: Duration,
    pub verify_max: Duration,
}

/// What a run found.
#[derive(Clone, Debug, Default)]
pub struct FuzzReport {
    pub seed: u64,
    pub cases: usize,
    pub streams: usize,
    pub threads: usize,
    pub blocks: usize,
    pub txs: usize,
    pub elapsed: Duration,
    /// Largest proof first.
    pub kinds: Vec<KindStats>,
    /// Cases by envelope type, by the transaction's status, by corruption, with a low gas
    /// limit.
    pub by_type: BTreeMap<&'static str, usize>,
    pub by_status: BTreeMap<&'static str, usize>,
    pub by_corruption: BTreeMap<&'static str, usize>,
    pub low_gas: usize,
    pub largest_block: usize,
    pub failures: Vec<FailedCase>,
}

impl FuzzReport {
    pub fn cases_per_second(&self) -> f64 {
        self.cases as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// One proven (or failed) case, as a stream records it.
struct CaseRecord {
    kind: String,
    ty: TxType,
    low_gas: bool,
    status: Option<TxStatus>,
    corruption: &'static str,
    proven: Option<(usize, Duration)>,
}

#[derive(Default)]
struct StreamResult {
    records: Vec<CaseRecord>,
    generated: HashMap<String, usize>,
    failures: Vec<FailedCase>,
    blocks: usize,
    txs: usize,
    largest_block: usize,
}

/// The seed of stream `stream` of a run seeded `seed` (splitmix64).
pub fn stream_seed(seed: u64, stream: usize) -> u64 {
    let mut z = seed
        .wrapping_add((stream as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15))
        .wrapping_add(0x5eed);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn panic_message(e: Box<dyn std::any::Any + Send>) -> String {
    e.downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| e.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic".to_owned())
}

/// Why executing a generated block, or proving one of its cases, gave no result.
#[derive(Debug, thiserror::Error)]
pub enum RunFailure {
    /// It panicked; the panic's message.
    #[error("panicked: {message}")]
    Panicked { message: String },
    /// It returned an error.
    #[error(transparent)]
    Case(#[from] crate::CaseFailure),
}

impl RunFailure {
    fn panicked(payload: Box<dyn std::any::Any + Send>) -> Self {
        RunFailure::Panicked {
            message: panic_message(payload),
        }
    }
}

/// One stream: its generator and its chain, block by block. The run, [`reproduce`] and
/// [`block_of`] all go through it, so they see the same blocks.
pub struct Stream {
    generator: Generator,
    chain: Chain,
    blocks: usize,
}

impl Stream {
    pub fn new(stream_seed: u64) -> Self {
        let (generator, chain) = Generator::new(stream_seed);
        Stream {
            generator,
            chain,
            blocks: 0,
        }
    }

    pub fn chain(&self) -> &Chain {
        &self.chain
    }

    /// Generates and executes the next block: its number in the stream (1 is the setup
    /// block), its labelled transactions, and its execution (`Err`: why it failed).
    pub fn next_block(&mut self) -> (usize, Vec<GenTx>, Result<Executed, RunFailure>) {
        self.blocks += 1;
        let block = self.generator.next_block(&self.chain);
        let raw: Vec<Vec<u8>> = block.iter().map(|t| t.raw.clone()).collect();
        let chain = &self.chain;
        let executed = catch_unwind(AssertUnwindSafe(|| chain.execute(raw)))
            .map_err(RunFailure::panicked)
            .and_then(|r| r.map_err(RunFailure::from));
        (self.blocks, block, executed)
    }

    /// Makes an executed block part of the chain (a block that failed to execute is simply
    /// not committed: the next one is generated at the same height).
    pub fn commit(&mut self, executed: Executed) {
        let receipts = executed.receipts().to_vec();
        self.chain.commit(executed);
        self.generator.observe(&receipts);
    }

    /// Generates, executes and commits the blocks before block `number`.
    pub fn advance_to(&mut self, number: usize) {
        while self.blocks + 1 < number {
            if let (_, _, Ok(executed)) = self.next_block() {
                self.commit(executed);
            }
        }
    }
}

/// A block that failed to execute: finds the shortest failing prefix, and names the
/// transaction that ends it and the one before it.
fn execution_failure(chain: &Chain, block: &[GenTx], error: RunFailure) -> FailedCase {
    let raw: Vec<Vec<u8>> = block.iter().map(|t| t.raw.clone()).collect();
    let fails = |n: usize| {
        catch_unwind(AssertUnwindSafe(|| {
            chain.execute(raw[..n].to_vec()).is_err()
        }))
        .unwrap_or(true)
    };
    // The shortest failing prefix: fails(hi) holds, fails(lo) does not.
    let (mut lo, mut hi) = (0usize, raw.len());
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if fails(mid) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    let index = hi.saturating_sub(1);
    let t = block.get(index);
    let before = index
        .checked_sub(1)
        .and_then(|i| block.get(i))
        .map_or("none".to_owned(), |p| p.kind.clone());
    FailedCase {
        seed: 0,
        stream: 0,
        stream_seed: 0,
        block: 0,
        height: 0,
        index: Some(index),
        block_len: block.len(),
        kind: t.map_or("(block)".to_owned(), |t| t.kind.clone()),
        tx_type: t.map_or("-", |t| t.ty.name()),
        low_gas: t.is_some_and(|t| t.low_gas),
        status: None,
        corruption: None,
        error: format!(
            "executing the block: {error} (the block's first {index} transactions execute; adding transaction {index} fails; the transaction before it is a {before})"
        ),
        raw_tx: t.map_or(String::new(), |t| hex::encode(&t.raw)),
    }
}

fn pick_corruption(pick: &mut StdRng) -> Corruption {
    if pick.gen_bool(0.5) {
        Corruption::Root
    } else {
        Corruption::Value { pick: pick.gen() }
    }
}

fn run_stream(
    seed: u64,
    stream: usize,
    cases: usize,
    on_block: &(dyn Fn(usize, usize) + Sync),
) -> StreamResult {
    let sseed = stream_seed(seed, stream);
    let mut s = Stream::new(sseed);
    let mut pick = StdRng::seed_from_u64(sseed ^ 0x7069_636b);
    let mut out = StreamResult::default();
    while out.records.len() < cases {
        let height = s.chain().next_height();
        let (number, block, executed) = s.next_block();
        out.blocks += 1;
        out.txs += block.len();
        out.largest_block = out.largest_block.max(block.len());
        for t in &block {
            *out.generated.entry(t.kind.clone()).or_default() += 1;
        }
        let executed = match executed {
            Ok(e) => e,
            Err(error) => {
                let failure = execution_failure(s.chain(), &block, error);
                out.failures.push(FailedCase {
                    seed,
                    stream,
                    stream_seed: sseed,
                    block: number,
                    height,
                    block_len: block.len(),
                    ..failure
                });
                out.records.push(CaseRecord {
                    kind: out
                        .failures
                        .last()
                        .map(|f| f.kind.clone())
                        .unwrap_or_default(),
                    ty: TxType::Bytes,
                    low_gas: false,
                    status: None,
                    corruption: "-",
                    proven: None,
                });
                on_block(1, 1);
                continue;
            }
        };
        let len = block.len();
        let k = pick
            .gen_range(1..=len.clamp(1, 6))
            .min(cases - out.records.len());
        let mut failed = 0;
        for _ in 0..k {
            let index = pick.gen_range(0..len);
            let corruption = pick_corruption(&mut pick);
            let t = &block[index];
            let status = executed.receipts().get(index).map(|r| r.status);
            let chain = s.chain();
            let result = catch_unwind(AssertUnwindSafe(|| {
                chain.prove(&executed, index, corruption)
            }));
            let outcome = match result {
                Ok(Ok(case)) => Ok(case),
                Ok(Err(e)) => Err(RunFailure::Case(e)),
                Err(e) => Err(RunFailure::panicked(e)),
            };
            let proven = match outcome {
                Ok(case) => Some((case.proof_bytes, case.verify)),
                Err(error) => {
                    failed += 1;
                    out.failures.push(FailedCase {
                        seed,
                        stream,
                        stream_seed: sseed,
                        block: number,
                        height,
                        index: Some(index),
                        block_len: len,
                        kind: t.kind.clone(),
                        tx_type: t.ty.name(),
                        low_gas: t.low_gas,
                        status,
                        corruption: Some(corruption),
                        error: error.to_string(),
                        raw_tx: hex::encode(&t.raw),
                    });
                    None
                }
            };
            out.records.push(CaseRecord {
                kind: t.kind.clone(),
                ty: t.ty,
                low_gas: t.low_gas,
                status,
                corruption: corruption.name(),
                proven,
            });
        }
        on_block(k, failed);
        s.commit(executed);
    }
    out
}

/// Runs a case again: transaction `index` of block `block` (its number in the stream, 1 being
/// the setup block) of stream `stream_seed`, proven against `corruption`. Generates and
/// commits the stream's blocks before it as the run did; an error executing the block is
/// returned as [`crate::CaseFailure::Exec`].
pub fn reproduce(
    stream_seed: u64,
    block: usize,
    index: usize,
    corruption: Corruption,
) -> Result<ProvenCase, crate::CaseFailure> {
    let mut s = Stream::new(stream_seed);
    s.advance_to(block);
    let raw = s
        .generator
        .next_block(&s.chain)
        .into_iter()
        .map(|t| t.raw)
        .collect();
    let executed = s.chain.execute(raw)?;
    s.chain.prove(&executed, index, corruption)
}

/// The labelled transactions of block `block` of stream `stream_seed` (to look at a failing
/// case).
pub fn block_of(stream_seed: u64, block: usize) -> Vec<GenTx> {
    let mut s = Stream::new(stream_seed);
    s.advance_to(block);
    s.next_block().1
}

/// How many streams a run of `cases` cases has (at least two, so two cores are busy).
pub fn streams_for(cases: usize) -> usize {
    cases.div_ceil(CASES_PER_STREAM).max(2).min(cases.max(1))
}

/// Runs `cases` cases seeded `seed` on every core; `progress` is called after every proven
/// block (from the worker threads).
pub fn run(cases: usize, seed: u64, progress: &(dyn Fn(&Progress) + Sync)) -> FuzzReport {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    run_with(cases, seed, threads, progress)
}

/// [`run`] on `threads` threads (the result does not depend on it, only the time).
pub fn run_with(
    cases: usize,
    seed: u64,
    threads: usize,
    progress: &(dyn Fn(&Progress) + Sync),
) -> FuzzReport {
    let started = Instant::now();
    let streams = if cases == 0 { 0 } else { streams_for(cases) };
    let share = |s: usize| cases / streams + usize::from(s < cases % streams);
    let threads = threads.clamp(1, streams.max(1));
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let failed = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<StreamResult>>> =
        Mutex::new((0..streams).map(|_| None).collect());
    let on_block = |k: usize, f: usize| {
        let d = done.fetch_add(k, Ordering::Relaxed) + k;
        let f = failed.fetch_add(f, Ordering::Relaxed) + f;
        progress(&Progress {
            done: d,
            total: cases,
            failures: f,
            elapsed: started.elapsed(),
        });
    };
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| loop {
                let s = next.fetch_add(1, Ordering::Relaxed);
                if s >= streams {
                    break;
                }
                let r = run_stream(seed, s, share(s), &on_block);
                if let Ok(mut all) = results.lock() {
                    all[s] = Some(r);
                }
            });
        }
    });
    let results: Vec<StreamResult> = results
        .into_inner()
        .unwrap_or_default()
        .into_iter()
        .flatten()
        .collect();
    report(seed, streams, threads, started.elapsed(), results)
}

fn report(
    seed: u64,
    streams: usize,
    threads: usize,
    elapsed: Duration,
    results: Vec<StreamResult>,
) -> FuzzReport {
    #[derive(Default)]
    struct Acc {
        generated: usize,
        cases: usize,
        failures: usize,
        statuses: [usize; 3],
        bytes: Vec<usize>,
        verify: Vec<Duration>,
    }
    let mut out = FuzzReport {
        seed,
        streams,
        threads,
        elapsed,
        ..Default::default()
    };
    let mut kinds: BTreeMap<String, Acc> = BTreeMap::new();
    for r in results {
        out.blocks += r.blocks;
        out.txs += r.txs;
        out.largest_block = out.largest_block.max(r.largest_block);
        for (kind, n) in r.generated {
            kinds.entry(kind).or_default().generated += n;
        }
        for c in r.records {
            out.cases += 1;
            *out.by_type.entry(c.ty.name()).or_default() += 1;
            *out.by_corruption.entry(c.corruption).or_default() += 1;
            let status = match c.status {
                Some(TxStatus::Success) => "success",
                Some(TxStatus::Failed) => "failed",
                Some(TxStatus::Skipped) => "skipped",
                None => "-",
            };
            *out.by_status.entry(status).or_default() += 1;
            out.low_gas += usize::from(c.low_gas);
            let acc = kinds.entry(c.kind).or_default();
            acc.cases += 1;
            match c.proven {
                Some((bytes, verify)) => {
                    acc.bytes.push(bytes);
                    acc.verify.push(verify);
                }
                None => acc.failures += 1,
            }
            match c.status {
                Some(TxStatus::Success) => acc.statuses[0] += 1,
                Some(TxStatus::Failed) => acc.statuses[1] += 1,
                Some(TxStatus::Skipped) => acc.statuses[2] += 1,
                None => {}
            }
        }
        out.failures.extend(r.failures);
    }
    let median = |n: usize| n.saturating_sub(1) / 2;
    out.kinds = kinds
        .into_iter()
        .map(|(kind, mut a)| {
            a.bytes.sort_unstable();
            a.verify.sort_unstable();
            KindStats {
                kind,
                generated: a.generated,
                cases: a.cases,
                failures: a.failures,
                success: a.statuses[0],
                failed: a.statuses[1],
                skipped: a.statuses[2],
                proof_bytes_p50: a.bytes.get(median(a.bytes.len())).copied().unwrap_or(0),
                proof_bytes_max: a.bytes.last().copied().unwrap_or(0),
                verify_p50: a
                    .verify
                    .get(median(a.verify.len()))
                    .copied()
                    .unwrap_or_default(),
                verify_max: a.verify.last().copied().unwrap_or_default(),
            }
        })
        .collect();
    out.kinds.sort_by(|a, b| {
        b.proof_bytes_max
            .cmp(&a.proof_bytes_max)
            .then_with(|| a.kind.cmp(&b.kind))
    });
    out
}
