//! A chain in memory that executes blocks with the real transition and checks, for any
//! transaction of any block, that a wrong root there is provable: the proof an honest node
//! builds verifies `Proven` against the wrong claim and `Refuted` against the honest one.
//!
//! It owns what the proof coverage tests, the differential proof fuzzer
//! (`lazychain bench proofs`) and proof benchmarks share: funded keys and signing, blocks with
//! real headers (so `BLOCKHASH` is checked against a decided chain), both ways an executor
//! builds a witness (re-executing the block's prefix, and rolling the block's write log back),
//! which must agree, the ways a liar corrupts a claim, and the encode / decode / verify round
//! trip every proof goes through on the wire. It is test and benchmark support: no node links
//! it, and it must not grow node concerns (no I/O, no clock beyond timing a case).

#![forbid(unsafe_code)]

pub mod fuzz;
pub mod tx;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use alloy_primitives::{keccak256, Address, B256, U256};
use lazychain_data_chain_types::block::BlockBody;
use lazychain_data_chain_types::BlockHeader;
use lazychain_exec_state_tree::{encode_multi_proof, Op, StateTree};
use lazychain_exec_stf::genesis::{genesis_memory_state, AllocAccount};
use lazychain_exec_stf::state::Overlay;
use lazychain_exec_stf::witness::{witness_for_tx, TxWitness};
use lazychain_exec_stf::{
    execute_block_logged, execute_prefix, prepare, BlockContext, BlockExecution, ChainParams,
    ExecError, MemoryState, PreparedTx, Receipt, TxStatus, TxWriteLog,
};
use lazychain_fraud::claim::StateClaim;
use lazychain_fraud::proof::{build_bad_transition, verify, FraudProof, ProofError, Verdict};
use ssz_rs::prelude::Node;

/// The chain id of harness chains.
pub const CHAIN_ID: u64 = 1337;
/// The constant base fee of harness chains (wei per gas).
pub const BASE_FEE: u64 = 1_000_000_000;
/// The proposer of every harness block, and the fee recipient genesis gives it.
pub const PROPOSER: [u8; 20] = [7; 20];
pub const FEE_RECIPIENT: Address = Address::repeat_byte(0xfe);
/// The executor address harness claims name.
const EXECUTOR: [u8; 20] = [9; 20];

/// The transition parameters of a harness chain (Osaka, trace period 1).
pub fn params() -> ChainParams {
    ChainParams {
        chain_id: CHAIN_ID,
        spec: lazychain_exec_stf::hardfork("osaka").unwrap_or_default(),
        base_fee_per_gas: BASE_FEE,
        block_gas_limit: 1_000_000_000,
        trace_period: 1,
        fee_recipients: HashMap::from([(PROPOSER, FEE_RECIPIENT)]),
    }
}

/// Why a case did not show a provable wrong root. Every variant is a bug (of the prover, the
/// verifier, or the transition), except [`CaseFailure::Exec`] on a block the caller made
/// unexecutable on purpose.
#[derive(Debug, thiserror::Error)]
pub enum CaseFailure {
    #[error("executing the block: {0}")]
    Exec(#[from] ExecError),
    #[error("transaction {index} is outside the block ({count} transactions)")]
    NoSuchTx { index: usize, count: usize },
    #[error(
        "the write-log witness of transaction {index} differs from the re-executed one: {detail}"
    )]
    WitnessPathsDisagree { index: usize, detail: String },
    #[error("the root before transaction {index} is {got}; the trace says {want}")]
    PrefixRoot { index: usize, got: B256, want: B256 },
    #[error("building the proof of transaction {index}: {error}")]
    Build { index: usize, error: ProofError },
    #[error("decoding the proof of transaction {index} ({bytes} bytes): {error}")]
    Decode {
        index: usize,
        bytes: usize,
        error: ProofError,
    },
    #[error("the proof of transaction {index} against the wrong claim: {outcome:?}")]
    NotProven {
        index: usize,
        outcome: Result<Verdict, ProofError>,
    },
    #[error("the proof of transaction {index} against the honest claim: {outcome:?}")]
    HonestNotRefuted {
        index: usize,
        outcome: Result<Verdict, ProofError>,
    },
    #[error("the corruption left the claimed root of transaction {index} unchanged")]
    CorruptionIsNoop { index: usize },
}

/// How a lying executor's claim differs from the honest one, from transaction `index` on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Corruption {
    /// Trace entries `index..` are made-up roots (what `--fault wrong-root-at` claims).
    Root,
    /// Transaction `index`'s writes are applied with one value changed (`pick` chooses which
    /// and how), and every later transaction correctly on top of that: the roots of a real
    /// but wrong state.
    Value { pick: u64 },
}

impl Corruption {
    pub fn name(&self) -> &'static str {
        match self {
            Corruption::Root => "root",
            Corruption::Value { .. } => "value",
        }
    }
}

/// A block executed over the chain's state and not yet committed.
pub struct Executed {
    pub header: BlockHeader,
    pub context: BlockContext,
    pub raw: Vec<Vec<u8>>,
    pub txs: Vec<PreparedTx>,
    pub out: BlockExecution,
    pub log: TxWriteLog,
    tree_after: StateTree,
}

impl Executed {
    pub fn receipts(&self) -> &[Receipt] {
        &self.out.receipts
    }

    /// The honest claim over this block.
    pub fn honest_claim(&self) -> StateClaim {
        StateClaim {
            chain_id: CHAIN_ID,
            data_height: self.header.height,
            parent_claim: [1; 32],
            pre_state_root: self.out.pre_state_root.0,
            post_state_root: self.out.post_state_root.0,
            trace_root: self.out.trace_root.0,
            receipts_root: self.out.receipts_root.0,
            tx_count: self.raw.len() as u64,
            executor: EXECUTOR,
        }
    }
}

/// What one proven case measured.
#[derive(Clone, Debug)]
pub struct ProvenCase {
    pub index: usize,
    pub status: TxStatus,
    /// Encoded proof bytes (the kind envelope included).
    pub proof_bytes: usize,
    /// Witness entries and the bytes of their values (code included).
    pub witness_keys: usize,
    pub witness_value_bytes: usize,
    pub build: Duration,
    pub verify: Duration,
}

/// A chain in memory: funded keys, the state with its tree, and the decided headers.
pub struct Chain {
    pub params: ChainParams,
    pub state: MemoryState,
    pub tree: StateTree,
    headers: Vec<BlockHeader>,
    hashes: HashMap<u64, [u8; 32]>,
    pub keys: Vec<tx::Key>,
}

impl Chain {
    /// A chain whose genesis funds `keys` with `balance` wei each, plus `extra` accounts.
    pub fn new(keys: Vec<tx::Key>, balance: U256, extra: &[AllocAccount]) -> Self {
        let mut alloc: Vec<AllocAccount> = keys
            .iter()
            .map(|k| AllocAccount {
                address: k.address,
                balance,
                ..Default::default()
            })
            .collect();
        alloc.extend_from_slice(extra);
        let (state, tree) = genesis_memory_state(&alloc);
        Chain {
            params: params(),
            state,
            tree,
            headers: Vec::new(),
            hashes: HashMap::new(),
            keys,
        }
    }

    /// A chain with `n` funded keys (100 ETH each) and nothing else.
    pub fn funded(n: usize) -> Self {
        let keys = (0..n).map(|i| tx::Key::from_index(i as u64)).collect();
        Chain::new(keys, U256::from(100u128 * tx::ETH), &[])
    }

    /// The next block's height.
    pub fn next_height(&self) -> u64 {
        self.headers.len() as u64 + 1
    }

    /// The decided hash of block `height`, as a verifier's caller knows it.
    pub fn block_hash(&self, height: u64) -> Option<[u8; 32]> {
        self.hashes.get(&height).copied()
    }

    /// Executes `raw` as the next block over the current state (nothing is committed).
    pub fn execute(&self, raw: Vec<Vec<u8>>) -> Result<Executed, CaseFailure> {
        let height = self.next_height();
        let txs = prepare(raw.iter().map(|r| r.as_slice()));
        let header = self.header(height, &raw, &txs);
        let hash = header.hash().map(|h| h.0).unwrap_or_default();
        let context = self.params.block_context(&header, B256::from(hash));
        let mut tree_after = self.tree.clone();
        let (out, log) =
            execute_block_logged(&self.params, &context, &txs, &self.state, &mut tree_after)?;
        Ok(Executed {
            header,
            context,
            raw,
            txs,
            out,
            log,
            tree_after,
        })
    }

    /// Makes `block` part of the chain: its writes applied, its header decided.
    pub fn commit(&mut self, block: Executed) {
        self.state.apply(&block.out.writes);
        self.tree = block.tree_after;
        let height = block.header.height;
        let hash = block.header.hash().map(|h| h.0).unwrap_or_default();
        self.state.block_hashes.insert(height, B256::from(hash));
        self.hashes.insert(height, hash);
        self.headers.push(block.header);
    }

    /// Executes and commits `raw`, returning the receipts.
    pub fn run(&mut self, raw: Vec<Vec<u8>>) -> Result<Vec<Receipt>, CaseFailure> {
        let block = self.execute(raw)?;
        let receipts = block.out.receipts.clone();
        self.commit(block);
        Ok(receipts)
    }

    fn header(&self, height: u64, raw: &[Vec<u8>], txs: &[PreparedTx]) -> BlockHeader {
        use alloy_consensus::Transaction as _;
        let body = BlockBody::from_transactions(raw).unwrap_or_default();
        let c = body.commitments().ok();
        let parent_hash = self
            .hashes
            .get(&(height - 1))
            .and_then(|h| Node::try_from(h.as_slice()).ok())
            .unwrap_or_default();
        let gas_limit_sum = txs
            .iter()
            .filter_map(|t| t.decoded.as_ref().ok())
            .map(|(envelope, _)| envelope.gas_limit())
            .fold(0u64, u64::saturating_add);
        BlockHeader {
            chain_id: CHAIN_ID,
            height,
            parent_hash,
            proposer: PROPOSER,
            timestamp_ms: 1_700_000_000_000 + height * 1000,
            tx_root: c.as_ref().map(|c| c.tx_root).unwrap_or_default(),
            claims_root: c.as_ref().map(|c| c.claims_root).unwrap_or_default(),
            fraud_proofs_root: c.as_ref().map(|c| c.fraud_proofs_root).unwrap_or_default(),
            tx_count: raw.len() as u64,
            body_bytes: c.as_ref().map(|c| c.body_bytes).unwrap_or_default(),
            gas_limit_sum,
            gas_allowance: 0,
            base_fee_per_gas: BASE_FEE,
        }
    }

    /// The witness of transaction `index` as an executor builds it, both ways: by
    /// re-executing the block's first `index` transactions over the state before the block,
    /// and by rolling the state after the block back through the write log. They must agree
    /// to the byte; the first is returned with the root before the transaction.
    pub fn witness(
        &self,
        block: &Executed,
        index: usize,
    ) -> Result<(TxWitness, B256), CaseFailure> {
        let tx = block.txs.get(index).ok_or(CaseFailure::NoSuchTx {
            index,
            count: block.txs.len(),
        })?;
        let want = if index == 0 {
            block.out.pre_state_root
        } else {
            block.out.trace[index - 1]
        };

        let mut prefix_tree = self.tree.clone();
        let prefix = execute_prefix(
            &self.params,
            &block.context,
            &block.txs[..index],
            &self.state,
            &mut prefix_tree,
        )?;
        let got = B256::from(prefix_tree.root());
        if got != want {
            return Err(CaseFailure::PrefixRoot { index, got, want });
        }
        let before = Overlay {
            base: &self.state,
            writes: &prefix.writes,
        };
        let replayed = witness_for_tx(&self.params, &block.context, tx, &before, &prefix_tree)?;

        let after = Overlay {
            base: &self.state,
            writes: &block.out.writes,
        };
        let (rollback, ops) = block
            .log
            .rollback_to(index, &self.state)
            .map_err(ExecError::Read)?;
        let mut rolled_tree = block.tree_after.clone();
        let rolled_root = B256::from(rolled_tree.update(&ops));
        if rolled_root != want {
            return Err(CaseFailure::WitnessPathsDisagree {
                index,
                detail: format!("rolled-back root {rolled_root}, trace {want}"),
            });
        }
        let rolled_state = Overlay {
            base: &after,
            writes: &rollback,
        };
        let from_log = witness_for_tx(
            &self.params,
            &block.context,
            tx,
            &rolled_state,
            &rolled_tree,
        )?;
        if from_log.entries != replayed.entries {
            let first = from_log
                .entries
                .iter()
                .zip(&replayed.entries)
                .find(|(a, b)| a != b)
                .map(|(a, b)| {
                    let shown = |e: &(lazychain_exec_stf::StateKey, Option<Vec<u8>>)| {
                        format!("{:?} {}", e.0, e.1.as_ref().map_or("absent", |_| "present"))
                    };
                    format!("log {} vs replay {}", shown(a), shown(b))
                })
                .unwrap_or_else(|| {
                    format!(
                        "{} entries vs {}",
                        from_log.entries.len(),
                        replayed.entries.len()
                    )
                });
            return Err(CaseFailure::WitnessPathsDisagree {
                index,
                detail: first,
            });
        }
        if encode_multi_proof(&from_log.proof) != encode_multi_proof(&replayed.proof) {
            return Err(CaseFailure::WitnessPathsDisagree {
                index,
                detail: "multiproofs differ".to_owned(),
            });
        }
        if from_log.block_hashes != replayed.block_hashes {
            return Err(CaseFailure::WitnessPathsDisagree {
                index,
                detail: "block hashes differ".to_owned(),
            });
        }
        Ok((replayed, want))
    }

    /// The claim and trace of an executor that lies from transaction `index` on.
    pub fn corrupt(
        &self,
        block: &Executed,
        index: usize,
        corruption: Corruption,
    ) -> Result<(StateClaim, Vec<B256>), CaseFailure> {
        let mut trace = block.out.trace.clone();
        if index >= trace.len() {
            return Err(CaseFailure::NoSuchTx {
                index,
                count: trace.len(),
            });
        }
        match corruption {
            Corruption::Root => {
                for (j, entry) in trace.iter_mut().enumerate().skip(index) {
                    *entry = keccak256(format!("made-up root {j} of {}", block.header.height));
                }
            }
            Corruption::Value { pick } => {
                // The tree before `index`, then the transaction's writes with one changed.
                let (rollback_ops, mut tree) = {
                    let (_, ops) = block
                        .log
                        .rollback_to(index, &self.state)
                        .map_err(ExecError::Read)?;
                    (ops, block.tree_after.clone())
                };
                tree.update(&rollback_ops);
                let mut ops: Vec<Op> = block.log.tx(index).iter().map(|w| w.op()).collect();
                tamper(&mut ops, pick);
                trace[index] = B256::from(tree.update(&ops));
                for (j, entry) in trace.iter_mut().enumerate().skip(index + 1) {
                    let ops: Vec<Op> = block.log.tx(j).iter().map(|w| w.op()).collect();
                    *entry = B256::from(tree.update(&ops));
                }
            }
        }
        if trace[index] == block.out.trace[index] {
            return Err(CaseFailure::CorruptionIsNoop { index });
        }
        let mut claim = block.honest_claim();
        claim.trace_root = lazychain_exec_stf::trace_root(&trace).0;
        claim.post_state_root = trace.last().copied().unwrap_or_default().0;
        Ok((claim, trace))
    }

    /// Shows that a lie at transaction `index` is provable: builds the honest node's proof
    /// against the liar's claim, sends it through the wire encoding, and verifies it (Proven);
    /// the same transaction's proof against the honest claim must be Refuted.
    pub fn prove(
        &self,
        block: &Executed,
        index: usize,
        corruption: Corruption,
    ) -> Result<ProvenCase, CaseFailure> {
        let started = Instant::now();
        let (witness, _) = self.witness(block, index)?;
        let (claim, trace) = self.corrupt(block, index, corruption)?;
        let raw: Vec<&[u8]> = block.raw.iter().map(Vec::as_slice).collect();
        let proof = build_bad_transition(&claim, &trace, &raw, index, &witness)
            .map_err(|error| CaseFailure::Build { index, error })?;
        let bytes = proof.encode();
        let build = started.elapsed();

        let lookup = |h: u64| self.block_hash(h);
        let started = Instant::now();
        let decoded = FraudProof::decode(&bytes).map_err(|error| CaseFailure::Decode {
            index,
            bytes: bytes.len(),
            error,
        })?;
        let outcome = verify(&decoded, &claim, &block.header, &self.params, &lookup);
        let verify_time = started.elapsed();
        if outcome != Ok(Verdict::Proven) {
            return Err(CaseFailure::NotProven { index, outcome });
        }

        let honest = block.honest_claim();
        let honest_proof = build_bad_transition(&honest, &block.out.trace, &raw, index, &witness)
            .map_err(|error| CaseFailure::Build { index, error })?;
        let outcome = FraudProof::decode(&honest_proof.encode())
            .and_then(|p| verify(&p, &honest, &block.header, &self.params, &lookup));
        if outcome != Ok(Verdict::Refuted) {
            return Err(CaseFailure::HonestNotRefuted { index, outcome });
        }
        Ok(ProvenCase {
            index,
            status: block.out.receipts[index].status,
            proof_bytes: bytes.len(),
            witness_keys: witness.entries.len(),
            witness_value_bytes: witness
                .entries
                .iter()
                .map(|(_, v)| v.as_ref().map_or(0, Vec::len))
                .sum(),
            build,
            verify: verify_time,
        })
    }

    /// [`Chain::prove`] at every transaction of `block`, with both kinds of corruption.
    pub fn prove_all(&self, block: &Executed) -> Result<Vec<ProvenCase>, CaseFailure> {
        let mut cases = Vec::new();
        for index in 0..block.txs.len() {
            cases.push(self.prove(block, index, Corruption::Root)?);
            cases.push(self.prove(block, index, Corruption::Value { pick: index as u64 })?);
        }
        Ok(cases)
    }
}

/// Changes one op of a transaction's writes (or adds one when it wrote nothing): the value
/// hash of one key becomes another, a write becomes a delete, or a stray key is written.
fn tamper(ops: &mut Vec<Op>, pick: u64) {
    let stray = |n: u64| -> Op {
        (
            keccak256(format!("stray key {n}")).0,
            Some(keccak256(format!("stray value {n}")).0),
        )
    };
    if ops.is_empty() {
        ops.push(stray(pick));
        return;
    }
    let i = (pick as usize / 3) % ops.len();
    // A transaction may write one key more than once (the code of several contracts it
    // deploys with the same bytecode): the change goes to every op of the key, or the last
    // one would undo it.
    let changed = match (pick % 3, ops[i].1) {
        (0, _) | (1, None) => Some(keccak256(format!("changed value {pick}")).0),
        (1, Some(_)) => None,
        _ => {
            ops.push(stray(pick));
            return;
        }
    };
    let key = ops[i].0;
    for op in ops.iter_mut().filter(|op| op.0 == key) {
        op.1 = changed;
    }
}
