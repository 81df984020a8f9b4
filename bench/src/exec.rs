//! `lazychain bench exec`: the executor's cost per decided block, stage by stage, on
//! pre-built blocks of pre-signed transactions (benchmark B2/B3 of the performance notes).
//!
//! Three workloads (W1 ETH transfers, W2 LazyToken ERC-20 transfers, W3 compute-heavy
//! `Burner.burn` calls) run as short chains from a genesis that funds every sender: in block
//! `b` each sender sends exactly one transaction with nonce `b`, so every block executes from
//! the state the previous one left. Each stage runs its own chain from genesis and times every
//! block but the first (warm-up):
//!
//! 1. `raw revm`: revm alone over an in-memory `CacheDB`, senders recovered beforehand,
//!    `transact_commit` per transaction (the reference);
//! 2. `EVM only`: [`execute_block`] over [`MemoryState`], senders recovered beforehand, one
//!    state root at the end of the block;
//! 3. `+ sender recovery`: [`prepare`] (decode and recover, on every core) inside the timer;
//! 4. `+ state root and trace`: a state root after every transaction (`trace_period` 1);
//! 5. `+ redb commit`: the executor's path: state read through a [`StateStore`] snapshot and
//!    the block committed with [`StateStore::commit_block`], fsynced or not.
//!
//! Nothing here is used by a node, and no test asserts a timing from here.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use alloy_consensus::TxEip1559;
use alloy_primitives::{keccak256, Address, Bytes, TxKind, B256, U256};
use lazychain_data_chain_types::par::par_map;
use lazychain_exec_node::{ExecutedBlock, StateStore, StoreError};
use lazychain_exec_state_tree::{Op, StateTree};
use lazychain_exec_stf::execute::tx_env;
use lazychain_exec_stf::genesis::{genesis_memory_state, genesis_writes, tree_of, AllocAccount};
use lazychain_exec_stf::keys::value_hash;
use lazychain_exec_stf::revm::bytecode::Bytecode;
use lazychain_exec_stf::revm::context::{BlockEnv, CfgEnv, Context, TxEnv};
use lazychain_exec_stf::revm::context_interface::block::BlobExcessGasAndPrice;
use lazychain_exec_stf::revm::database::{CacheDB, EmptyDB};
use lazychain_exec_stf::revm::primitives::eip4844::BLOB_BASE_FEE_UPDATE_FRACTION_PRAGUE;
use lazychain_exec_stf::revm::primitives::hardfork::SpecId;
use lazychain_exec_stf::revm::state::AccountInfo;
use lazychain_exec_stf::revm::{ExecuteCommitEvm, MainBuilder, MainContext};
use lazychain_exec_stf::{
    execute_block, prepare, BlockContext, BlockExecution, ChainParams, ExecError, PrepareError,
    PreparedTx, StateReader, TxStatus,
};
use secp256k1::{SecretKey, SECP256K1};

use crate::stats::median;
use crate::txgen::{sender_key, sign};

pub const CHAIN_ID: u64 = 1337;
pub const BASE_FEE: u64 = 1_000_000_000;
const PRIORITY_FEE: u128 = 1_000;
const ETH: u128 = 1_000_000_000_000_000_000;
const FEE_RECIPIENT: Address = Address::repeat_byte(0xfe);
const TOKEN: Address = Address::repeat_byte(0x7a);
const BURNER: Address = Address::repeat_byte(0xb5);
/// Storage index of `LazyToken.balanceOf` (after `totalSupply`; constants take no slot).
const BALANCE_OF_INDEX: u64 = 1;
const TOKEN_JSON: &str = include_str!("../../exec-layer/contracts/build/LazyToken.json");
const BURNER_JSON: &str = include_str!("../../exec-layer/contracts/build/Burner.json");
/// Gas per W3 block, as the genesis default `limits.max_block_gas`.
pub const W3_BLOCK_GAS: u64 = 100_000_000;
/// `Burner.burn` rounds per W3 call: about 2.8 M gas.
pub const BURN_ROUNDS: u64 = 10_000;

#[derive(Debug, thiserror::Error)]
pub enum ExecBenchError {
    #[error(transparent)]
    Exec(#[from] ExecError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("benchmark I/O: {0}")]
    Io(#[from] std::io::Error),
    #[error("raw revm: {0}")]
    Revm(String),
    #[error("{0}")]
    Workload(String),
    /// A generated transaction does not decode or recover its sender.
    #[error(transparent)]
    Prepare(#[from] PrepareError),
}

/// What a workload's transactions do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// W1: ETH transfers of 1 wei, half to new accounts, half to other senders.
    Transfer,
    /// W2: `LazyToken.transfer` of one token unit, half to new holders, half to other senders.
    Erc20,
    /// W3: `Burner.burn(rounds)`.
    Burn { rounds: u64 },
}

impl Kind {
    pub fn name(&self) -> &'static str {
        match self {
            Kind::Transfer => "W1 ETH transfer",
            Kind::Erc20 => "W2 ERC-20 transfer",
            Kind::Burn { .. } => "W3 Burner.burn",
        }
    }

    fn gas_limit(&self) -> u64 {
        match self {
            Kind::Transfer => 21_000,
            Kind::Erc20 => 80_000,
            Kind::Burn { rounds } => 50_000 + 280 * rounds,
        }
    }
}

/// How many `burn(rounds)` calls fill a block of `block_gas` (by gas limit).
pub fn burn_calls_per_block(block_gas: u64, rounds: u64) -> usize {
    (block_gas / Kind::Burn { rounds }.gas_limit()).max(1) as usize
}

/// A genesis allocation and a chain of blocks over it.
pub struct Workload {
    pub kind: Kind,
    pub alloc: Vec<AllocAccount>,
    /// The signed transactions of each block, in chain order: in block `b` every sender sends
    /// one transaction with nonce `b`.
    pub blocks: Vec<Vec<Vec<u8>>>,
}

impl Workload {
    pub fn txs_per_block(&self) -> usize {
        self.blocks.first().map(Vec::len).unwrap_or(0)
    }
}

fn derived_address(tag: &[u8], parts: &[u64]) -> Address {
    let mut material = tag.to_vec();
    for p in parts {
        material.extend_from_slice(&p.to_be_bytes());
    }
    Address::from_slice(&keccak256(&material)[12..])
}

fn address_of(key: &SecretKey) -> Address {
    Address::from_raw_public_key(&key.public_key(SECP256K1).serialize_uncompressed()[1..])
}

fn deployed_code(json: &str) -> Result<Bytes, ExecBenchError> {
    let value: serde_json::Value =
        serde_json::from_str(json).map_err(|e| ExecBenchError::Workload(e.to_string()))?;
    let hex_code = value["deployedBytecode"]
        .as_str()
        .ok_or_else(|| ExecBenchError::Workload("no deployedBytecode".into()))?;
    hex::decode(hex_code.trim_start_matches("0x"))
        .map(Bytes::from)
        .map_err(|e| ExecBenchError::Workload(e.to_string()))
}

/// The storage slot of `balanceOf[holder]`: `keccak256(pad32(holder) ‖ pad32(index))`.
pub fn balance_slot(holder: Address) -> B256 {
    let mut preimage = [0u8; 64];
    preimage[12..32].copy_from_slice(holder.as_slice());
    preimage[32..].copy_from_slice(&U256::from(BALANCE_OF_INDEX).to_be_bytes::<32>());
    keccak256(preimage)
}

fn word(a: Address) -> [u8; 32] {
    B256::left_padding_from(a.as_slice()).0
}

/// Builds `blocks` blocks of `txs_per_block` transactions from as many distinct senders, over
/// a genesis that also holds `filler` funded accounts (so that the state tree and database are
/// not tiny). Deterministic in `seed`; signs on every core.
pub fn build(
    kind: Kind,
    txs_per_block: usize,
    blocks: usize,
    filler: usize,
    seed: u64,
) -> Result<Workload, ExecBenchError> {
    build_priced(
        kind,
        txs_per_block,
        blocks,
        filler,
        seed,
        2 * BASE_FEE as u128,
    )
}

/// [`build`] with every transaction's max fee per gas set to `max_fee_per_gas` (the network
/// benchmarks offer more than the execution budget takes, so the base fee climbs above the
/// floor while they run; [`build`]'s transactions allow twice the floor).
pub fn build_priced(
    kind: Kind,
    txs_per_block: usize,
    blocks: usize,
    filler: usize,
    seed: u64,
    max_fee_per_gas: u128,
) -> Result<Workload, ExecBenchError> {
    let indices: Vec<u64> = (0..txs_per_block as u64).collect();
    let keys = par_map(
        &indices,
        |i| {
            let key = sender_key(seed, *i);
            Some((key, address_of(&key)))
        },
        || None,
    )
    .into_iter()
    .collect::<Option<Vec<_>>>()
    .ok_or_else(|| ExecBenchError::Workload("key derivation panicked".into()))?;
    let senders: Vec<Address> = keys.iter().map(|(_, a)| *a).collect();

    let mut alloc: Vec<AllocAccount> = senders
        .iter()
        .map(|a| AllocAccount {
            address: *a,
            balance: U256::from(1_000 * ETH),
            ..Default::default()
        })
        .collect();
    alloc.extend((0..filler as u64).map(|i| AllocAccount {
        address: derived_address(b"LAZYCHAIN_BENCH_FILLER", &[seed, i]),
        balance: U256::from(ETH),
        ..Default::default()
    }));
    let holding = U256::from(1_000_000u64) * U256::from(ETH);
    match kind {
        Kind::Transfer => {}
        Kind::Erc20 => {
            let mut storage = vec![(B256::ZERO, B256::from(holding * U256::from(senders.len())))];
            storage.extend(
                senders
                    .iter()
                    .map(|a| (balance_slot(*a), B256::from(holding))),
            );
            alloc.push(AllocAccount {
                address: TOKEN,
                code: deployed_code(TOKEN_JSON)?,
                storage,
                ..Default::default()
            });
        }
        Kind::Burn { .. } => alloc.push(AllocAccount {
            address: BURNER,
            code: deployed_code(BURNER_JSON)?,
            // `last` already non-zero: every call costs the same.
            storage: vec![(B256::ZERO, B256::from(U256::from(1)))],
            ..Default::default()
        }),
    }

    let n = txs_per_block;
    let jobs: Vec<(u64, usize)> = (0..blocks as u64)
        .flat_map(|b| (0..n).map(move |i| (b, i)))
        .collect();
    let signed = par_map(
        &jobs,
        |&(b, i)| {
            let recipient = if i % 2 == 0 {
                derived_address(b"LAZYCHAIN_BENCH_RECIPIENT", &[seed, b, i as u64])
            } else {
                senders[(i + 1) % n]
            };
            let (to, value, input) = match kind {
                Kind::Transfer => (recipient, U256::from(1), Vec::new()),
                Kind::Erc20 => {
                    let mut input = vec![0xa9, 0x05, 0x9c, 0xbb];
                    input.extend_from_slice(&word(recipient));
                    input.extend_from_slice(&U256::from(1).to_be_bytes::<32>());
                    (TOKEN, U256::ZERO, input)
                }
                Kind::Burn { rounds } => {
                    let mut input = vec![0x42, 0x96, 0x6c, 0x68];
                    input.extend_from_slice(&U256::from(rounds).to_be_bytes::<32>());
                    (BURNER, U256::ZERO, input)
                }
            };
            let tx = TxEip1559 {
                chain_id: CHAIN_ID,
                nonce: b,
                gas_limit: kind.gas_limit(),
                max_fee_per_gas,
                max_priority_fee_per_gas: PRIORITY_FEE,
                to: TxKind::Call(to),
                value,
                access_list: Default::default(),
                input: Bytes::from(input),
            };
            Some(sign(tx, &keys[i].0))
        },
        || None,
    )
    .into_iter()
    .collect::<Option<Vec<_>>>()
    .ok_or_else(|| ExecBenchError::Workload("signing panicked".into()))?;
    let blocks = signed.chunks(n.max(1)).map(<[Vec<u8>]>::to_vec).collect();
    Ok(Workload {
        kind,
        alloc,
        blocks,
    })
}

fn params(trace_period: u64) -> ChainParams {
    ChainParams {
        chain_id: CHAIN_ID,
        spec: SpecId::OSAKA,
        base_fee_per_gas: BASE_FEE,
        block_gas_limit: W3_BLOCK_GAS,
        trace_period,
        fee_recipients: HashMap::new(),
    }
}

fn block_context(index: usize) -> BlockContext {
    let height = index as u64 + 1;
    BlockContext {
        height,
        hash: keccak256(height.to_be_bytes()),
        parent_hash: keccak256((height - 1).to_be_bytes()),
        timestamp: 1_700_000_000 + height,
        beneficiary: FEE_RECIPIENT,
        base_fee: BASE_FEE,
    }
}

fn raw_refs(block: &[Vec<u8>]) -> impl Iterator<Item = &[u8]> {
    block.iter().map(Vec::as_slice)
}

/// One stage of the pipeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    RawRevm,
    EvmOnly,
    Recovery,
    Roots,
    RedbDurable,
    RedbNoSync,
    /// The live executor's path: its node recovered the senders at admission.
    RedbDurableKnownSenders,
}

impl Stage {
    pub const ALL: [Stage; 7] = [
        Stage::RawRevm,
        Stage::EvmOnly,
        Stage::Recovery,
        Stage::Roots,
        Stage::RedbDurable,
        Stage::RedbNoSync,
        Stage::RedbDurableKnownSenders,
    ];

    pub fn name(&self) -> &'static str {
        match self {
            Stage::RawRevm => "raw revm (reference)",
            Stage::EvmOnly => "EVM only",
            Stage::Recovery => "+ sender recovery",
            Stage::Roots => "+ state root and trace",
            Stage::RedbDurable => "+ redb commit (fsync)",
            Stage::RedbNoSync => "+ redb commit (no fsync)",
            Stage::RedbDurableKnownSenders => "live: senders known from admission (fsync)",
        }
    }
}

/// Every block of a stage's chain: time, gas and the post-state root.
#[derive(Clone, Debug, Default)]
pub struct Measured {
    /// Per measured block (warm-up blocks excluded).
    pub times: Vec<Duration>,
    /// Gas used by every block, warm-up included.
    pub gas: Vec<u64>,
    /// Post-state root of every block (empty for raw revm).
    pub roots: Vec<B256>,
    /// Per measured block: time to compute one root over the block's writes in one batch
    /// (`EVM only` stage).
    pub batch_root: Vec<Duration>,
    /// Per measured block: (sender recovery, execution, commit) within the redb stages.
    pub parts: Vec<(Duration, Duration, Duration)>,
    /// The fsynced redb stage, per measured block: the reference for its commit, the same
    /// flat-state writes put into a plain redb table (key path -> value bytes) in one
    /// durable write transaction, with none of the executor's other tables.
    pub raw_commit: Vec<Duration>,
    pub txs_per_block: usize,
    /// The redb stages: the state database's file size after the last block.
    pub db_bytes: u64,
}

impl Measured {
    pub fn median(&self) -> Duration {
        median(&self.times)
    }

    fn mean_gas(&self) -> f64 {
        if self.gas.is_empty() {
            return 0.0;
        }
        self.gas.iter().sum::<u64>() as f64 / self.gas.len() as f64
    }
}

fn check_receipts(
    kind: Kind,
    stage: Stage,
    block: usize,
    out: &BlockExecution,
) -> Result<(), ExecBenchError> {
    match out
        .receipts
        .iter()
        .enumerate()
        .find(|(_, r)| r.status != TxStatus::Success)
    {
        None => Ok(()),
        Some((i, r)) => Err(ExecBenchError::Workload(format!(
            "{} / {}: block {block} transaction {i} did not succeed: {:?} {}",
            kind.name(),
            stage.name(),
            r.status,
            r.reason
        ))),
    }
}

/// The reference: revm alone, in-memory `CacheDB`, senders recovered beforehand.
fn run_raw_revm(w: &Workload, warmup: usize) -> Result<Measured, ExecBenchError> {
    let mut db = CacheDB::new(EmptyDB::default());
    for a in &w.alloc {
        let code = Bytecode::new_raw(a.code.clone());
        db.insert_account_info(
            a.address,
            AccountInfo {
                balance: a.balance,
                nonce: a.nonce,
                code_hash: code.hash_slow(),
                code: Some(code),
                ..Default::default()
            },
        );
        for (slot, value) in &a.storage {
            db.insert_account_storage(
                a.address,
                U256::from_be_bytes(slot.0),
                U256::from_be_bytes(value.0),
            )
            .map_err(|e| ExecBenchError::Revm(format!("{e:?}")))?;
        }
    }
    let mut cfg = CfgEnv::new_with_spec(SpecId::OSAKA);
    cfg.chain_id = CHAIN_ID;
    let mut m = Measured {
        txs_per_block: w.txs_per_block(),
        ..Default::default()
    };
    for (index, block) in w.blocks.iter().enumerate() {
        let ctx = block_context(index);
        let block_env = BlockEnv {
            number: U256::from(ctx.height),
            beneficiary: ctx.beneficiary,
            timestamp: U256::from(ctx.timestamp),
            gas_limit: W3_BLOCK_GAS,
            basefee: BASE_FEE,
            difficulty: U256::ZERO,
            prevrandao: Some(ctx.hash),
            blob_excess_gas_and_price: Some(BlobExcessGasAndPrice::new(
                0,
                BLOB_BASE_FEE_UPDATE_FRACTION_PRAGUE,
            )),
            slot_num: 0,
        };
        let envs: Vec<TxEnv> = prepare(raw_refs(block))
            .into_iter()
            .map(|tx| {
                tx.decoded
                    .map(|(envelope, sender)| tx_env(&envelope, sender))
                    .map_err(ExecBenchError::Prepare)
            })
            .collect::<Result<_, _>>()?;
        let mut gas = 0u64;
        let started = Instant::now();
        let mut evm = Context::mainnet()
            .with_db(&mut db)
            .with_cfg(cfg.clone())
            .with_block(block_env)
            .build_mainnet();
        for (i, tx) in envs.into_iter().enumerate() {
            let result = evm
                .transact_commit(tx)
                .map_err(|e| ExecBenchError::Revm(format!("block {index} tx {i}: {e}")))?;
            if !result.is_success() {
                return Err(ExecBenchError::Revm(format!(
                    "block {index} tx {i} failed: {result:?}"
                )));
            }
            gas += result.tx_gas_used();
        }
        let elapsed = started.elapsed();
        if index >= warmup {
            m.times.push(elapsed);
        }
        m.gas.push(gas);
    }
    Ok(m)
}

/// Stages 2-4: the transition over [`MemoryState`].
fn run_memory(w: &Workload, stage: Stage, warmup: usize) -> Result<Measured, ExecBenchError> {
    let (mut state, mut tree) = genesis_memory_state(&w.alloc);
    let period = match stage {
        Stage::Roots => 1,
        _ => w.txs_per_block().max(1) as u64,
    };
    let params = params(period);
    let mut m = Measured {
        txs_per_block: w.txs_per_block(),
        ..Default::default()
    };
    for (index, block) in w.blocks.iter().enumerate() {
        let ctx = block_context(index);
        let recovered: Option<Vec<PreparedTx>> =
            (stage == Stage::EvmOnly).then(|| prepare(raw_refs(block)));
        let before: Option<StateTree> = (stage == Stage::EvmOnly).then(|| tree.clone());
        let started = Instant::now();
        let txs = match recovered {
            Some(txs) => txs,
            None => prepare(raw_refs(block)),
        };
        let out = execute_block(&params, &ctx, &txs, &state, &mut tree)?;
        let elapsed = started.elapsed();
        check_receipts(w.kind, stage, index, &out)?;
        state.apply(&out.writes);
        if let Some(mut before) = before {
            // What the one root of this stage costs: hash the block's writes into the tree.
            let started = Instant::now();
            let ops: Vec<Op> = out
                .writes
                .entries()
                .into_iter()
                .map(|(key, value)| (key.path(), value.map(|v| value_hash(&v))))
                .collect();
            let root = before.update(&ops);
            let batch = started.elapsed();
            if B256::from(root) != out.post_state_root {
                return Err(ExecBenchError::Workload(
                    "the batched root of the block's writes differs from execution's".into(),
                ));
            }
            if index >= warmup {
                m.batch_root.push(batch);
            }
        }
        if index >= warmup {
            m.times.push(elapsed);
        }
        m.gas.push(out.gas_used);
        m.roots.push(out.post_state_root);
    }
    Ok(m)
}

/// Stage 5: the executor's path over a redb [`StateStore`] in a temporary directory.
/// A plain redb table of the flat state: key path -> value bytes.
const RAW_FLAT: redb::TableDefinition<&[u8; 32], &[u8]> = redb::TableDefinition::new("flat");

/// Puts a block's flat-state writes into a plain redb table in one durable write transaction
/// and returns how long that took: the reference for the executor's commit.
fn raw_redb_commit(
    db: &redb::Database,
    writes: &lazychain_exec_stf::StateWrites,
) -> Result<Duration, ExecBenchError> {
    let err = |e: &dyn std::fmt::Display| ExecBenchError::Workload(format!("raw redb: {e}"));
    let entries = writes.entries();
    let started = Instant::now();
    let txn = db.begin_write().map_err(|e| err(&e))?;
    {
        let mut table = txn.open_table(RAW_FLAT).map_err(|e| err(&e))?;
        for (key, value) in &entries {
            let path = key.path();
            match value {
                Some(v) => {
                    table.insert(&path, v.as_slice()).map_err(|e| err(&e))?;
                }
                None => {
                    table.remove(&path).map_err(|e| err(&e))?;
                }
            }
        }
    }
    txn.commit().map_err(|e| err(&e))?;
    Ok(started.elapsed())
}

fn run_redb(
    w: &Workload,
    durable: bool,
    known_senders: bool,
    warmup: usize,
) -> Result<Measured, ExecBenchError> {
    let stage = match (durable, known_senders) {
        (_, true) => Stage::RedbDurableKnownSenders,
        (true, false) => Stage::RedbDurable,
        (false, false) => Stage::RedbNoSync,
    };
    let dir = tempfile::Builder::new()
        .prefix("lazychain-bench-exec")
        .tempdir()?;
    // The cache an executor runs with by default, so that this measures what a node does.
    let store = StateStore::open(
        &dir.path().join("state.redb"),
        lazychain_config::StorageSection::default().state_cache_bytes(),
    )?;
    let raw_db = redb::Database::create(dir.path().join("raw.redb"))
        .map_err(|e| ExecBenchError::Workload(format!("raw redb: {e}")))?;
    let writes = genesis_writes(&w.alloc);
    // The reference table starts from the same genesis state (not timed).
    raw_redb_commit(&raw_db, &writes)?;
    let mut tree = tree_of(&writes);
    let genesis_root = B256::from(tree.root());
    let params = params(1);
    store.init_genesis(
        &writes,
        &ExecutedBlock::genesis(genesis_root, 1_700_000_000, &params),
    )?;
    let mut m = Measured {
        txs_per_block: w.txs_per_block(),
        ..Default::default()
    };
    for (index, block) in w.blocks.iter().enumerate() {
        let ctx = block_context(index);
        // What the node's admission cache holds when the block is decided: every sender.
        let cache: std::collections::HashMap<B256, Address> = if known_senders {
            prepare(raw_refs(block))
                .into_iter()
                .filter_map(|t| t.decoded.ok().map(|(_, sender)| (t.hash, sender)))
                .collect()
        } else {
            Default::default()
        };
        let started = Instant::now();
        let txs = lazychain_exec_stf::prepare_with(raw_refs(block), &|h| cache.get(h).copied());
        let recovered = started.elapsed();
        let snapshot = store.snapshot()?;
        // The live executor's call: it also records the block's write log for proofs.
        let (out, _log) =
            lazychain_exec_stf::execute_block_logged(&params, &ctx, &txs, &snapshot, &mut tree)?;
        drop(snapshot);
        let executed = started.elapsed();
        let summary = ExecutedBlock::executed(
            &ctx,
            &params,
            B256::ZERO,
            block.iter().map(|t| t.len() as u64).sum(),
            &out,
        );
        store.commit_block(
            &summary,
            &out,
            durable,
            lazychain_exec_node::executor::DEFAULT_UNDO_WINDOW_BLOCKS,
        )?;
        let elapsed = started.elapsed();
        if stage == Stage::RedbDurable && index >= warmup {
            m.raw_commit.push(raw_redb_commit(&raw_db, &out.writes)?);
        }
        check_receipts(w.kind, stage, index, &out)?;
        if index >= warmup {
            m.times.push(elapsed);
            m.parts
                .push((recovered, executed - recovered, elapsed - executed));
        }
        m.gas.push(out.gas_used);
        m.roots.push(out.post_state_root);
    }
    m.db_bytes = std::fs::metadata(dir.path().join("state.redb"))
        .map(|meta| meta.len())
        .unwrap_or(0);
    // The store really holds the post-state.
    let last = store.snapshot()?;
    if let Some(sender) = w.alloc.first() {
        let nonce = last
            .account(&sender.address)
            .map_err(ExecError::from)?
            .map(|a| a.nonce);
        if nonce != Some(w.blocks.len() as u64) {
            return Err(ExecBenchError::Workload(format!(
                "after {} blocks the first sender's nonce is {nonce:?}",
                w.blocks.len()
            )));
        }
    }
    Ok(m)
}

/// Runs one stage over a workload's chain, timing every block after the first `warmup`.
pub fn run_stage(w: &Workload, stage: Stage, warmup: usize) -> Result<Measured, ExecBenchError> {
    match stage {
        Stage::RawRevm => run_raw_revm(w, warmup),
        Stage::EvmOnly | Stage::Recovery | Stage::Roots => run_memory(w, stage, warmup),
        Stage::RedbDurable => run_redb(w, true, false, warmup),
        Stage::RedbNoSync => run_redb(w, false, false, warmup),
        Stage::RedbDurableKnownSenders => run_redb(w, true, true, warmup),
    }
}

/// Every stage of one workload and block size.
pub struct Case {
    pub kind: Kind,
    pub txs_per_block: usize,
    pub stages: Vec<(Stage, Measured)>,
}

impl Case {
    pub fn stage(&self, stage: Stage) -> Option<&Measured> {
        self.stages
            .iter()
            .find(|(s, _)| *s == stage)
            .map(|(_, m)| m)
    }

    pub fn ms(&self, stage: Stage) -> Option<f64> {
        self.stage(stage).map(|m| m.median().as_secs_f64() * 1000.0)
    }

    /// Median ms of the fsynced stage's commit, and of a raw redb commit of the same state
    /// writes.
    pub fn commit_vs_raw_ms(&self) -> Option<(f64, f64)> {
        let m = self.stage(Stage::RedbDurable)?;
        if m.raw_commit.is_empty() || m.parts.is_empty() {
            return None;
        }
        let commit = median(&m.parts.iter().map(|p| p.2).collect::<Vec<_>>());
        Some((
            commit.as_secs_f64() * 1000.0,
            median(&m.raw_commit).as_secs_f64() * 1000.0,
        ))
    }

    pub fn tps(&self, stage: Stage) -> Option<f64> {
        self.stage(stage)
            .map(|m| m.txs_per_block as f64 / m.median().as_secs_f64())
    }

    /// (state-root work, EVM work) in ms: the roots stage's increment over one root per
    /// block (clamped at zero: on compute-heavy blocks it is within noise), plus that one
    /// root (measured alone); the EVM stage without that one root.
    fn root_vs_evm(&self) -> Option<(f64, f64)> {
        let batch = median(&self.stage(Stage::EvmOnly)?.batch_root).as_secs_f64() * 1000.0;
        let per_tx_roots = (self.ms(Stage::Roots)? - self.ms(Stage::Recovery)?).max(0.0);
        let evm = self.ms(Stage::EvmOnly)? - batch;
        Some((per_tx_roots + batch, evm))
    }
}

pub struct Options {
    /// 1,000-transaction blocks only, fewer repetitions.
    pub quick: bool,
    /// Funded accounts at genesis besides the senders.
    pub accounts: usize,
    pub seed: u64,
}

pub struct Report {
    pub quick: bool,
    pub cores: usize,
    pub accounts: usize,
    pub cases: Vec<Case>,
}

/// Builds the workloads and runs every stage over each.
pub fn run(options: &Options) -> Result<Report, ExecBenchError> {
    let burn = Kind::Burn {
        rounds: BURN_ROUNDS,
    };
    let burn_calls = burn_calls_per_block(W3_BLOCK_GAS, BURN_ROUNDS);
    // (workload, transactions per block, blocks in the chain); the first block is warm-up.
    let plan: Vec<(Kind, usize, usize)> = if options.quick {
        vec![
            (Kind::Transfer, 1_000, 6),
            (Kind::Erc20, 1_000, 6),
            (burn, burn_calls, 4),
        ]
    } else {
        vec![
            (Kind::Transfer, 1_000, 11),
            (Kind::Transfer, 10_000, 6),
            (Kind::Erc20, 1_000, 11),
            (Kind::Erc20, 10_000, 6),
            (burn, burn_calls, 6),
        ]
    };
    let mut cases = Vec::new();
    for (kind, size, blocks) in plan {
        eprintln!(
            "{}: signing {blocks} blocks of {size} transactions...",
            kind.name()
        );
        let workload = build(kind, size, blocks, options.accounts, options.seed)?;
        let mut stages = Vec::new();
        for stage in Stage::ALL {
            eprintln!("{} x {size}: {}", kind.name(), stage.name());
            let measured = run_stage(&workload, stage, 1)?;
            stages.push((stage, measured));
        }
        // Every stage computed the same chain.
        let reference = &stages[1].1;
        for (stage, m) in &stages[2..] {
            if m.roots != reference.roots || m.gas != reference.gas {
                return Err(ExecBenchError::Workload(format!(
                    "{} / {}: different roots or gas than the EVM-only stage",
                    kind.name(),
                    stage.name()
                )));
            }
        }
        if stages[0].1.gas != reference.gas {
            return Err(ExecBenchError::Workload(format!(
                "{}: raw revm used {:?} gas per block, the transition {:?}",
                kind.name(),
                stages[0].1.gas,
                reference.gas
            )));
        }
        cases.push(Case {
            kind,
            txs_per_block: size,
            stages,
        });
    }
    Ok(Report {
        quick: options.quick,
        cores: std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        accounts: options.accounts,
        cases,
    })
}

fn verdict(met: bool) -> &'static str {
    if met {
        "met"
    } else {
        "NOT met"
    }
}

impl Report {
    /// The largest-block case of a workload.
    fn largest(&self, pick: impl Fn(Kind) -> bool) -> Option<&Case> {
        self.cases
            .iter()
            .filter(|c| pick(c.kind))
            .max_by_key(|c| c.txs_per_block)
    }

    pub fn table(&self) -> String {
        let mut out = format!(
            "executor stages: {} cores, {} funded accounts at genesis besides the senders, one sender per transaction, median ms per block over {}\n\n",
            self.cores,
            self.accounts,
            if self.quick { "5 blocks (3 for W3) after one warm-up block" } else { "10 (1k) / 5 (10k, W3) blocks after one warm-up block" }
        );
        out.push_str(&format!(
            "| {:<18} | {:>10} | {:<24} | {:>9} | {:>8} | {:>9} | {:>8} |\n",
            "workload", "txs/block", "stage", "tx/s", "Mgas/s", "ms/block", "vs revm"
        ));
        out.push_str(&format!(
            "|{:-<20}|{:-<12}|{:-<26}|{:-<11}|{:-<10}|{:-<11}|{:-<10}|\n",
            "", "", "", "", "", "", ""
        ));
        for case in &self.cases {
            let raw = case.stage(Stage::RawRevm).map(|m| m.median().as_secs_f64());
            for (stage, m) in &case.stages {
                let secs = m.median().as_secs_f64();
                let ratio = match raw {
                    Some(raw) if secs > 0.0 => format!("{:.2}x", raw / secs),
                    _ => "-".into(),
                };
                out.push_str(&format!(
                    "| {:<18} | {:>10} | {:<24} | {:>9.0} | {:>8.0} | {:>9.1} | {:>8} |\n",
                    case.kind.name(),
                    case.txs_per_block,
                    stage.name(),
                    m.txs_per_block as f64 / secs,
                    m.mean_gas() / secs / 1e6,
                    secs * 1000.0,
                    ratio
                ));
            }
        }
        out.push('\n');
        out.push_str(&self.breakdown());
        out.push('\n');
        out.push_str(&self.targets());
        out
    }

    /// Where the time of the executor's path goes, per case.
    fn breakdown(&self) -> String {
        let mut out = String::from(
            "executor path per block (fsynced commit; medians): recover | execute (EVM, roots, receipts) | commit; state-root work vs EVM work\n",
        );
        for case in &self.cases {
            let Some(m) = case.stage(Stage::RedbDurable) else {
                continue;
            };
            let part = |f: fn(&(Duration, Duration, Duration)) -> Duration| {
                median(&m.parts.iter().map(f).collect::<Vec<_>>()).as_secs_f64() * 1000.0
            };
            let roots = case
                .root_vs_evm()
                .map(|(root, evm)| {
                    format!(
                        "roots {root:.1} ms vs EVM {evm:.1} ms ({:.2}x)",
                        root / evm.max(1e-9)
                    )
                })
                .unwrap_or_default();
            let raw = case
                .commit_vs_raw_ms()
                .map(|(_, raw)| format!(" (raw redb commit of the same state writes: {raw:.1} ms)"))
                .unwrap_or_default();
            out.push_str(&format!(
                "- {} x {}: {:.1} | {:.1} | {:.1} ms{raw}; {roots}\n",
                case.kind.name(),
                case.txs_per_block,
                part(|p| p.0),
                part(|p| p.1),
                part(|p| p.2),
            ));
        }
        out
    }

    fn targets(&self) -> String {
        let mut out = String::from("targets:\n");
        let transfers = self.largest(|k| k == Kind::Transfer);
        let erc20 = self.largest(|k| k == Kind::Erc20);
        for (case, target, what) in [
            (transfers, 10_000.0, "transfers/s"),
            (erc20, 7_000.0, "ERC-20 transfers/s"),
        ] {
            if let Some(c) = case {
                let tps = c.tps(Stage::RedbDurable).unwrap_or(0.0);
                out.push_str(&format!(
                    "- end to end (recover + execute + fsynced commit) >= {target:.0} {what}: {tps:.0} with {}-tx blocks ({:.0} without fsync): {}\n",
                    c.txs_per_block,
                    c.tps(Stage::RedbNoSync).unwrap_or(0.0),
                    verdict(tps >= target)
                ));
            }
        }
        for c in [transfers, erc20].into_iter().flatten() {
            if let Some((root, evm)) = c.root_vs_evm() {
                let ratio = root / evm.max(1e-9);
                out.push_str(&format!(
                    "- state-root stage <= 1.5x the EVM stage ({} x {}): {root:.1} ms vs {evm:.1} ms = {ratio:.2}x: {}\n",
                    c.kind.name(),
                    c.txs_per_block,
                    verdict(ratio <= 1.5)
                ));
            }
        }
        if let Some(c) = self.largest(|k| matches!(k, Kind::Burn { .. })) {
            let stage = Stage::RedbDurableKnownSenders;
            if let (Some(tps), Some(m)) = (c.tps(stage), c.stage(stage)) {
                let per_call = m.gas.first().copied().unwrap_or(0) as f64 / c.txs_per_block as f64;
                let sustained = tps * per_call;
                out.push_str(&format!(
                    "- execution budget (ADR 007): the executor sustains {sustained:.0} gas/s on the heaviest workload (W3: {tps:.0} calls/s x {per_call:.0} gas); limits.gas_per_second on this hardware should be at most 0.6 of it: {:.0} (genesis default {})\n",
                    0.6 * sustained,
                    lazychain_config::DEFAULT_GAS_PER_SECOND,
                ));
            }
        }
        match self
            .cases
            .iter()
            .find(|c| c.kind == Kind::Transfer && c.txs_per_block >= 10_000)
        {
            Some(c) => {
                let total = c.ms(Stage::RedbDurable).unwrap_or(f64::INFINITY);
                let roots_known = c
                    .stage(Stage::RedbDurable)
                    .map(|m| {
                        median(&m.parts.iter().map(|p| p.0 + p.1).collect::<Vec<_>>()).as_secs_f64()
                            * 1000.0
                    })
                    .unwrap_or(f64::INFINITY);
                out.push_str(&format!(
                    "- decision to roots <= 1 s for a {}-tx transfer block: {total:.0} ms committed with fsync ({roots_known:.0} ms until the roots are known, {:.0} ms committed without fsync): {}\n",
                    c.txs_per_block,
                    c.ms(Stage::RedbNoSync).unwrap_or(f64::INFINITY),
                    verdict(total <= 1000.0)
                ));
                if let Some(live) = c.ms(Stage::RedbDurableKnownSenders) {
                    out.push_str(&format!(
                        "  (live executor, senders already recovered by its node at admission: {live:.0} ms)\n"
                    ));
                }
            }
            None => {
                let small = transfers
                    .and_then(|c| c.ms(Stage::RedbDurable).map(|ms| (c.txs_per_block, ms)));
                out.push_str(&format!(
                    "- decision to roots <= 1 s for a 10k-tx transfer block: not measured (--quick runs 1k blocks only{})\n",
                    small
                        .map(|(n, ms)| format!("; a {n}-tx block took {ms:.0} ms"))
                        .unwrap_or_default()
                ));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tiny chains of every workload execute with every receipt successful, through every
    /// stage, and all stages agree on gas and roots.
    #[test]
    fn workloads_execute_successfully_in_every_stage() {
        for kind in [Kind::Transfer, Kind::Erc20, Kind::Burn { rounds: 20 }] {
            let w = build(kind, 6, 3, 10, 7).expect("workload builds");
            assert_eq!(w.blocks.len(), 3);
            assert_eq!(w.txs_per_block(), 6);
            let results: Vec<Measured> = Stage::ALL
                .iter()
                .map(|s| run_stage(&w, *s, 1).expect("stage runs"))
                .collect();
            for m in &results {
                assert_eq!(m.times.len(), 2, "{kind:?}");
                assert_eq!(m.gas, results[0].gas, "{kind:?}");
            }
            for m in &results[2..] {
                assert_eq!(m.roots, results[1].roots, "{kind:?}");
            }
            let per_tx = results[0].gas[1] / 6;
            match kind {
                Kind::Transfer => assert_eq!(per_tx, 21_000),
                // Half the recipients are new holders: 34k and 51k gas.
                Kind::Erc20 => assert!((34_000..52_000).contains(&per_tx), "{per_tx}"),
                // About 28,200 + 277 per round once `last` is non-zero.
                Kind::Burn { rounds } => {
                    assert!(per_tx > 28_000 + 270 * rounds, "{per_tx}")
                }
            }
        }
    }

    #[test]
    fn balance_slot_matches_the_solidity_layout() {
        // balanceOf[0x..01] at mapping index 1.
        let mut preimage = [0u8; 64];
        preimage[31] = 1;
        preimage[63] = 1;
        assert_eq!(
            balance_slot(Address::with_last_byte(1)),
            keccak256(preimage)
        );
        assert_eq!(burn_calls_per_block(W3_BLOCK_GAS, BURN_ROUNDS), 35);
    }
}
