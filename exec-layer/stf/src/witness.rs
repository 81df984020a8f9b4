//! State witnesses: executing a transaction with only the part of the state it touches.
//!
//! [`RecordingReader`] notes every flat key a transaction reads, over the full state (what a
//! proof generator runs). [`WitnessState`] is a state known only through those keys' values,
//! each checked against a multiproof of the state tree; [`WitnessCommitment`] recomputes the
//! root after the transaction's writes from the same multiproof. Together they let a verifier
//! re-execute one transaction with no database (what a fraud proof needs).

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};

use alloy_primitives::{Address, Bytes, B256, U256};
use lazychain_exec_state_tree::{verify_multi_proof, MultiProof, Op, VerifiedMultiProof};

use crate::execute::{Commitment, CommitmentError};
use crate::keys::{value_hash, AccountValue, StateKey};
use crate::state::{ReadError, StateReader};

/// Wraps a reader and records every key read, and every block hash asked for.
pub struct RecordingReader<R> {
    inner: R,
    keys: RefCell<BTreeSet<StateKey>>,
    block_hashes: RefCell<BTreeSet<u64>>,
}

impl<R: StateReader> RecordingReader<R> {
    pub fn new(inner: R) -> Self {
        RecordingReader {
            inner,
            keys: RefCell::new(BTreeSet::new()),
            block_hashes: RefCell::new(BTreeSet::new()),
        }
    }

    /// The keys read so far, in key order.
    pub fn keys(&self) -> Vec<StateKey> {
        self.keys.borrow().iter().copied().collect()
    }

    /// The heights whose block hash was read so far.
    pub fn block_hashes(&self) -> Vec<u64> {
        self.block_hashes.borrow().iter().copied().collect()
    }

    fn note(&self, key: StateKey) {
        self.keys.borrow_mut().insert(key);
    }
}

impl<R: StateReader> StateReader for RecordingReader<R> {
    fn account(&self, address: &Address) -> Result<Option<AccountValue>, ReadError> {
        self.note(StateKey::Account(*address));
        self.inner.account(address)
    }
    fn storage(&self, address: &Address, slot: &U256) -> Result<U256, ReadError> {
        self.note(StateKey::Storage(*address, *slot));
        self.inner.storage(address, slot)
    }
    fn code(&self, code_hash: &B256) -> Result<Option<Bytes>, ReadError> {
        self.note(StateKey::Code(*code_hash));
        self.inner.code(code_hash)
    }
    fn block_hash(&self, height: u64) -> Result<B256, ReadError> {
        self.block_hashes.borrow_mut().insert(height);
        self.inner.block_hash(height)
    }
}

/// Why a witness does not authenticate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WitnessError {
    #[error("multiproof: {0}")]
    Proof(String),
    #[error("key {0:?} is listed twice")]
    Duplicate(StateKey),
    #[error("value of {0:?} does not match the proof")]
    ValueMismatch(StateKey),
    #[error("account value of {0} is not 72 bytes")]
    BadAccount(Address),
    #[error("storage value of {0} is not 32 bytes")]
    BadSlot(Address),
    #[error("code under {0} does not hash to it")]
    BadCode(B256),
}

/// A state known through a witness: every listed key's value, proven against a root.
pub struct WitnessState {
    accounts: HashMap<Address, Option<AccountValue>>,
    storage: HashMap<(Address, U256), U256>,
    code: HashMap<B256, Option<Bytes>>,
    block_hashes: HashMap<u64, B256>,
}

impl WitnessState {
    /// Checks `entries` (key, value bytes or `None` for absent) against `proof` for `root`.
    /// Every entry must be covered by the proof and agree with it.
    pub fn verify(
        root: &B256,
        proof: &MultiProof,
        entries: &[(StateKey, Option<Vec<u8>>)],
        block_hashes: &[(u64, B256)],
    ) -> Result<Self, WitnessError> {
        let verified =
            verify_multi_proof(&root.0, proof).map_err(|e| WitnessError::Proof(e.to_string()))?;
        let mut state = WitnessState {
            accounts: HashMap::new(),
            storage: HashMap::new(),
            code: HashMap::new(),
            block_hashes: block_hashes.iter().copied().collect(),
        };
        let mut seen = BTreeSet::new();
        for (key, value) in entries {
            if !seen.insert(*key) {
                return Err(WitnessError::Duplicate(*key));
            }
            match (key, value) {
                // Code is content-addressed: bytes whose keccak is the key are the code, and
                // only an authenticated account's code hash leads a transaction to read it.
                // So code a transaction only reads needs no path in the multiproof; where the
                // proof covers it anyway (written code), the proof must agree.
                (StateKey::Code(hash), Some(code)) => {
                    if alloy_primitives::keccak256(code) != *hash {
                        return Err(WitnessError::BadCode(*hash));
                    }
                    if verified.get(&key.path()).is_ok() {
                        check_entry(&verified, key, Some(code))?;
                    }
                }
                _ => check_entry(&verified, key, value.as_deref())?,
            }
            match key {
                StateKey::Account(a) => {
                    let v = match value {
                        None => None,
                        Some(bytes) => {
                            Some(AccountValue::decode(bytes).ok_or(WitnessError::BadAccount(*a))?)
                        }
                    };
                    state.accounts.insert(*a, v);
                }
                StateKey::Storage(a, slot) => {
                    let v = match value {
                        None => U256::ZERO,
                        Some(bytes) if bytes.len() == 32 => U256::from_be_slice(bytes),
                        Some(_) => return Err(WitnessError::BadSlot(*a)),
                    };
                    state.storage.insert((*a, *slot), v);
                }
                StateKey::Code(hash) => {
                    if let Some(code) = value {
                        if alloy_primitives::keccak256(code) != *hash {
                            return Err(WitnessError::BadCode(*hash));
                        }
                    }
                    state.code.insert(*hash, value.clone().map(Bytes::from));
                }
            }
        }
        Ok(state)
    }
}

fn check_entry(
    verified: &VerifiedMultiProof,
    key: &StateKey,
    value: Option<&[u8]>,
) -> Result<(), WitnessError> {
    let proven = verified
        .get(&key.path())
        .map_err(|e| WitnessError::Proof(e.to_string()))?;
    if proven != value.map(value_hash) {
        return Err(WitnessError::ValueMismatch(*key));
    }
    Ok(())
}

fn missing(what: String) -> ReadError {
    ReadError(format!("{what} is not in the witness"))
}

impl StateReader for WitnessState {
    fn account(&self, address: &Address) -> Result<Option<AccountValue>, ReadError> {
        self.accounts
            .get(address)
            .copied()
            .ok_or_else(|| missing(format!("account {address}")))
    }
    fn storage(&self, address: &Address, slot: &U256) -> Result<U256, ReadError> {
        self.storage
            .get(&(*address, *slot))
            .copied()
            .ok_or_else(|| missing(format!("slot {slot} of {address}")))
    }
    fn code(&self, code_hash: &B256) -> Result<Option<Bytes>, ReadError> {
        self.code
            .get(code_hash)
            .cloned()
            .ok_or_else(|| missing(format!("code {code_hash}")))
    }
    fn block_hash(&self, height: u64) -> Result<B256, ReadError> {
        self.block_hashes
            .get(&height)
            .copied()
            .ok_or_else(|| missing(format!("block hash {height}")))
    }
}

/// The root after a transaction's writes, from a multiproof against the root before it.
/// Absorbs one batch of writes (one transaction's); a second is refused.
pub struct WitnessCommitment {
    root: B256,
    proof: MultiProof,
    used: bool,
}

impl WitnessCommitment {
    pub fn new(root: B256, proof: MultiProof) -> Self {
        WitnessCommitment {
            root,
            proof,
            used: false,
        }
    }
}

impl Commitment for WitnessCommitment {
    fn root(&self) -> B256 {
        self.root
    }

    fn apply(&mut self, ops: &[Op]) -> Result<B256, CommitmentError> {
        if self.used {
            return Err(CommitmentError::WitnessUsed);
        }
        self.used = true;
        let root = lazychain_exec_state_tree::verify_update(&self.root.0, &self.proof, ops)?;
        self.root = B256::from(root);
        Ok(self.root)
    }
}

/// Everything needed to re-execute one transaction without the state: the values of every key
/// it reads or writes, before it, with their multiproof, and the block hashes it asked for.
#[derive(Clone, Debug)]
pub struct TxWitness {
    pub entries: Vec<(StateKey, Option<Vec<u8>>)>,
    pub proof: MultiProof,
    pub block_hashes: Vec<(u64, B256)>,
}

/// Collects ops without computing a root: a dry run that learns which keys a transaction
/// writes.
struct OpsRecorder(Vec<Op>);

impl Commitment for OpsRecorder {
    fn root(&self) -> B256 {
        B256::ZERO
    }
    fn apply(&mut self, ops: &[Op]) -> Result<B256, CommitmentError> {
        self.0.extend_from_slice(ops);
        Ok(B256::ZERO)
    }
}

/// Builds the witness of `tx` executed over `state`, whose tree is `tree` (both as they are
/// just before `tx`).
pub fn witness_for_tx<R: StateReader>(
    params: &crate::ChainParams,
    block: &crate::BlockContext,
    tx: &crate::PreparedTx,
    state: &R,
    tree: &lazychain_exec_state_tree::StateTree,
) -> Result<TxWitness, crate::ExecError> {
    let recorder = RecordingReader::new(state);
    let mut ops = OpsRecorder(Vec::new());
    let dry = crate::execute_block(params, block, std::slice::from_ref(tx), &recorder, &mut ops)?;
    let mut keys: BTreeSet<StateKey> = recorder.keys().into_iter().collect();
    keys.extend(dry.writes.entries().into_iter().map(|(k, _)| k));
    let mut entries = Vec::with_capacity(keys.len());
    for key in &keys {
        let value = match key {
            StateKey::Account(a) => state.account(a)?.map(|v| v.encode().to_vec()),
            StateKey::Storage(a, s) => {
                let v = state.storage(a, s)?;
                (!v.is_zero()).then(|| v.to_be_bytes::<32>().to_vec())
            }
            StateKey::Code(h) => state.code(h)?.map(|c| c.to_vec()),
        };
        entries.push((*key, value));
    }
    let written: BTreeSet<StateKey> = dry.writes.entries().into_iter().map(|(k, _)| k).collect();
    // Code the transaction only reads is authenticated by its hash (see `WitnessState::verify`).
    let mut paths: Vec<[u8; 32]> = entries
        .iter()
        .filter(|(key, value)| {
            !(matches!(key, StateKey::Code(_)) && value.is_some() && !written.contains(key))
        })
        .map(|(key, _)| key.path())
        .collect();
    paths.sort_unstable();
    paths.dedup();
    let proof = tree.prove_multi(&paths);
    let block_hashes = recorder
        .block_hashes()
        .into_iter()
        .map(|h| state.block_hash(h).map(|hash| (h, hash)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(TxWitness {
        entries,
        proof,
        block_hashes,
    })
}

/// Why re-execution over a witness did not produce a root.
#[derive(Debug, thiserror::Error)]
pub enum ReexecError {
    #[error(transparent)]
    Witness(#[from] WitnessError),
    #[error(transparent)]
    Exec(#[from] crate::ExecError),
}

/// Re-executes `tx` over `witness`, authenticated against `prev_root`, and returns the state
/// root after it: what a fraud-proof verifier compares with the claimed trace entry.
pub fn reexecute(
    params: &crate::ChainParams,
    block: &crate::BlockContext,
    tx: &crate::PreparedTx,
    prev_root: B256,
    witness: &TxWitness,
) -> Result<B256, ReexecError> {
    let state = WitnessState::verify(
        &prev_root,
        &witness.proof,
        &witness.entries,
        &witness.block_hashes,
    )?;
    let mut commitment = WitnessCommitment::new(prev_root, witness.proof.clone());
    let out = crate::execute_block(
        params,
        block,
        std::slice::from_ref(tx),
        &state,
        &mut commitment,
    )?;
    Ok(out.post_state_root)
}
