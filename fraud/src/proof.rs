//! Single-transaction fraud proofs: the SSZ format, the pure verifier, and the pure builder.
//!
//! A [`BadTransition`] proof says: "claim C's trace entry `i` is not the state root obtained by
//! executing transaction `i` of its block on top of C's entry `i - 1`". It carries the
//! transaction with its branch against the block's transaction root, C's entries `i - 1` and
//! `i` with their branches against C's trace root, and the witness of the transaction (every
//! key it reads or writes, before it, with a multiproof against entry `i - 1`). [`verify`]
//! re-executes that one transaction with the same transition code executors run
//! (`lazychain-exec-stf`) and compares. A [`BadTrace`] proof shows a trace whose length or
//! last entry does not match the claim.
//!
//! Verification needs no database: the caller passes the claim (from state consensus) and
//! the decided header at the claim's height. Anything malformed, oversized, about another
//! chain, block or claim is rejected before execution. Only
//! `trace_period = 1` chains are supported.

use std::collections::HashMap;

use alloy_primitives::B256;
use lazychain_data_chain_types::block::{MAX_TXS_BOUND, MAX_TX_BYTES_BOUND};
use lazychain_data_chain_types::merkle::{
    adjacent_branch, adjacent_lower_siblings, byte_list_leaf, trim_branch,
    verify_trimmed_list_branch, ListBranch,
};
use lazychain_data_chain_types::BlockHeader;
use lazychain_exec_state_tree::{decode_multi_proof_compact, encode_multi_proof_compact, KnownKey};
use lazychain_exec_stf::keys::{value_hash, StateKey};
use lazychain_exec_stf::witness::{reexecute, ReexecError, TxWitness};
use lazychain_exec_stf::{prepare, ChainParams};
use sha2::{Digest, Sha256};
use ssz_rs::prelude::*;

use crate::claim::{ClaimId, SignedClaim, StateClaim};

/// Largest encoded proof accepted; checked before decoding.
pub const MAX_PROOF_BYTES: usize = 2 << 20;
pub(crate) const MAX_BRANCH: usize = 64;
pub(crate) const MAX_WITNESS_ENTRIES: usize = 1 << 14;
pub(crate) const MAX_WITNESS_VALUE: usize = 1 << 16;
pub(crate) const MAX_MULTIPROOF_BYTES: usize = 1 << 21;
const MAX_MULTIPROOF_PATHS: usize = MAX_WITNESS_ENTRIES;
pub(crate) const MAX_BLOCK_HASHES: usize = 256;

const KIND_BAD_TRANSITION: u8 = 1;
const KIND_BAD_TRACE: u8 = 3;
const KIND_EQUIVOCATION: u8 = 4;

/// Bytes of the longest witness key: a storage slot's address and slot.
pub(crate) const MAX_WITNESS_KEY: usize = 20 + 32;

/// One witness value: a flat-state key and its value in compact form (see
/// `witness_value`: integers without leading zeros, no empty-code hash).
#[derive(Clone, Debug, Default, PartialEq, Eq, SimpleSerialize)]
pub struct WitnessEntry {
    /// 0 account, 1 storage slot, 2 code.
    pub kind: u8,
    /// Exactly what the kind identifies by: the address (20 bytes), the address and the
    /// big-endian slot (52), or the code's keccak hash (32).
    pub key: List<u8, MAX_WITNESS_KEY>,
    pub present: bool,
    pub value: List<u8, MAX_WITNESS_VALUE>,
}

/// Bytes of a storage key that names its contract by the index of the contract's account
/// entry in the same witness (`u16`, little-endian) instead of its address.
const STORAGE_KEY_BY_ACCOUNT: usize = 2 + 32;

impl WitnessEntry {
    /// The key this entry names. `accounts` maps the address of every account entry of the
    /// witness to that entry's index: a slot of a contract whose account is in the witness
    /// must name it by index (the short form), any other slot by address.
    fn state_key(
        &self,
        witness: &[WitnessEntry],
        accounts: &HashMap<[u8; 20], usize>,
    ) -> Result<StateKey, ProofError> {
        let key = self.key.as_ref();
        let wrong_length = || {
            ProofError::Malformed(format!(
                "witness key kind {} with {} key bytes",
                self.kind,
                key.len()
            ))
        };
        let slot = |bytes: &[u8]| alloy_primitives::U256::from_be_slice(bytes);
        match (self.kind, key.len()) {
            (0, 20) => Ok(StateKey::Account(alloy_primitives::Address::from_slice(
                key,
            ))),
            (1, STORAGE_KEY_BY_ACCOUNT) => {
                let index = u16::from_le_bytes([key[0], key[1]]) as usize;
                match witness.get(index) {
                    Some(account) if account.kind == 0 && account.key.len() == 20 => {
                        Ok(StateKey::Storage(
                            alloy_primitives::Address::from_slice(&account.key),
                            slot(&key[2..]),
                        ))
                    }
                    _ => Err(ProofError::Malformed(format!(
                        "storage key names entry {index}, which is not an account"
                    ))),
                }
            }
            (1, 52) => {
                let address: [u8; 20] = key[..20].try_into().map_err(|_| wrong_length())?;
                if accounts.contains_key(&address) {
                    return Err(ProofError::Malformed(
                        "storage key spells out the address of an account in the witness"
                            .to_owned(),
                    ));
                }
                Ok(StateKey::Storage(
                    alloy_primitives::Address::from(address),
                    slot(&key[20..]),
                ))
            }
            (2, 32) => Ok(StateKey::Code(B256::from_slice(key))),
            (0..=2, _) => Err(wrong_length()),
            (other, _) => Err(ProofError::Malformed(format!("witness key kind {other}"))),
        }
    }

    fn from_state_key(
        key: &StateKey,
        value: Option<&[u8]>,
        accounts: &HashMap<[u8; 20], usize>,
    ) -> Result<Self, ProofError> {
        let (kind, bytes) = match key {
            StateKey::Account(a) => (0, a.to_vec()),
            StateKey::Storage(a, slot) => {
                let mut b = match accounts.get(&a.0 .0) {
                    Some(&index) => u16::try_from(index)
                        .map_err(|_| ProofError::Malformed("witness too large".to_owned()))?
                        .to_le_bytes()
                        .to_vec(),
                    None => a.to_vec(),
                };
                b.extend_from_slice(&slot.to_be_bytes::<32>());
                (1, b)
            }
            StateKey::Code(h) => (2, h.to_vec()),
        };
        Ok(WitnessEntry {
            kind,
            key: List::try_from(bytes)
                .map_err(|_| ProofError::Malformed("witness key too long".to_owned()))?,
            present: value.is_some(),
            value: List::try_from(match value {
                Some(v) => crate::witness_value::compress(key, v)?,
                None => Vec::new(),
            })
            .map_err(|_| ProofError::Malformed("witness value too large".to_owned()))?,
        })
    }
}

/// What the compact multiproof may refer to instead of spelling out: the witness keys' paths
/// and the hashes of their values.
fn known_keys(entries: &[(StateKey, Option<Vec<u8>>)]) -> Vec<KnownKey> {
    entries
        .iter()
        .map(|(key, value)| KnownKey {
            key_path: key.path(),
            value_hash: value.as_deref().map(value_hash),
        })
        .collect()
}

#[derive(Clone, Debug, Default, PartialEq, Eq, SimpleSerialize)]
pub struct BlockHashEntry {
    pub height: u64,
    pub hash: [u8; 32],
}

/// Kind 1: a wrong state root after transaction `tx_index`.
#[derive(Clone, Debug, Default, PartialEq, Eq, SimpleSerialize)]
pub struct BadTransition {
    /// The id of the claim the proof is against (the verifier takes the claim itself from
    /// state consensus, so the proof need not carry it).
    pub target: [u8; 32],
    pub tx_index: u64,
    pub tx: List<u8, MAX_TX_BYTES_BOUND>,
    pub tx_branch: List<[u8; 32], MAX_BRANCH>,
    /// Entry `tx_index - 1` of the claim's trace (its pre-state root when `tx_index` is 0).
    pub prev_root: [u8; 32],
    pub prev_branch: List<[u8; 32], MAX_BRANCH>,
    /// Entry `tx_index` of the claim's trace.
    pub claimed_root: [u8; 32],
    pub claimed_branch: List<[u8; 32], MAX_BRANCH>,
    pub witness: List<WitnessEntry, MAX_WITNESS_ENTRIES>,
    /// The multiproof of the witness keys against `prev_root`, in the compact form that
    /// refers to the witness for the keys and values it proves
    /// (`lazychain_exec_state_tree::encode_multi_proof_compact`).
    pub multiproof: List<u8, MAX_MULTIPROOF_BYTES>,
    pub block_hashes: List<BlockHashEntry, MAX_BLOCK_HASHES>,
}

/// Kind 3: the trace does not fit the claim — its length is not the block's transaction count,
/// or its last entry (proven by `last_branch`) is not the post-state root.
#[derive(Clone, Debug, Default, PartialEq, Eq, SimpleSerialize)]
pub struct BadTrace {
    pub target: [u8; 32],
    pub last_root: [u8; 32],
    pub last_branch: List<[u8; 32], MAX_BRANCH>,
}

/// Kind 4: two different claims one executor signed for the same data height and parent.
/// It needs no verifier run: state consensus checks it (both signatures by the same
/// registered executor, same height and parent, different claims) and slashes.
#[derive(Clone, Debug, Default, PartialEq, Eq, SimpleSerialize)]
pub struct Equivocation {
    pub a: SignedClaim,
    pub b: SignedClaim,
}

/// The envelope: a kind byte and that kind's SSZ bytes.
#[derive(Clone, Debug, Default, PartialEq, Eq, SimpleSerialize)]
struct FraudProofSsz {
    kind: u8,
    body: List<u8, MAX_PROOF_BYTES>,
}

/// A decoded fraud proof.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FraudProof {
    BadTransition(Box<BadTransition>),
    BadTrace(Box<BadTrace>),
    Equivocation(Box<Equivocation>),
}

/// What a verified proof establishes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The claim is wrong.
    Proven,
    /// The proof is well formed and about this claim, but re-execution agrees with the claim.
    Refuted,
}

/// Why a proof was rejected without proving anything.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    #[error("proof of {size} bytes exceeds the limit of {limit}")]
    TooLarge { size: usize, limit: usize },
    #[error("malformed proof: {0}")]
    Malformed(String),
    #[error("the proof is about another claim")]
    WrongClaim,
    #[error("the proof is about another chain or block")]
    WrongBlock,
    #[error("chains with trace_period {0} are not supported (only 1)")]
    UnsupportedTracePeriod(u64),
    #[error("transaction index {index} is outside the block ({count} transactions)")]
    TxIndexOutOfRange { index: u64, count: u64 },
    #[error("the transaction is not in the block")]
    TxNotIncluded,
    #[error("trace entry {0} is not in the claim's trace")]
    TraceEntryNotProven(u64),
    #[error("witness: {0}")]
    Witness(String),
    #[error("equivocation evidence is checked by state consensus, not re-executed")]
    NotReExecuted,
}

impl FraudProof {
    pub fn encode(&self) -> Vec<u8> {
        let (kind, body) = match self {
            FraudProof::BadTransition(p) => (KIND_BAD_TRANSITION, ssz_bytes(p.as_ref())),
            FraudProof::BadTrace(p) => (KIND_BAD_TRACE, ssz_bytes(p.as_ref())),
            FraudProof::Equivocation(p) => (KIND_EQUIVOCATION, ssz_bytes(p.as_ref())),
        };
        ssz_bytes(&FraudProofSsz {
            kind,
            body: List::try_from(body).unwrap_or_default(),
        })
    }

    /// Decodes a proof: size limit first, then strict SSZ that accepts canonical encodings
    /// only (so `encode(decode(b)) == b` and the id of `b` is `sha256(b)`).
    pub fn decode(bytes: &[u8]) -> Result<Self, ProofError> {
        if bytes.len() > MAX_PROOF_BYTES {
            return Err(ProofError::TooLarge {
                size: bytes.len(),
                limit: MAX_PROOF_BYTES,
            });
        }
        let (kind, body) = crate::proof_codec::envelope(bytes, MAX_PROOF_BYTES)?;
        Ok(match kind {
            KIND_BAD_TRANSITION => {
                FraudProof::BadTransition(Box::new(crate::proof_codec::bad_transition(body)?))
            }
            KIND_BAD_TRACE => FraudProof::BadTrace(Box::new(crate::proof_codec::bad_trace(body)?)),
            KIND_EQUIVOCATION => {
                FraudProof::Equivocation(Box::new(crate::proof_codec::equivocation(body)?))
            }
            other => return Err(ProofError::Malformed(format!("unknown kind {other}"))),
        })
    }

    /// The reference decoder (`ssz_rs`, then a canonical re-encoding), which the fast one must
    /// match exactly.
    #[cfg(test)]
    pub(crate) fn decode_reference(bytes: &[u8]) -> Result<Self, ProofError> {
        if bytes.len() > MAX_PROOF_BYTES {
            return Err(ProofError::TooLarge {
                size: bytes.len(),
                limit: MAX_PROOF_BYTES,
            });
        }
        let envelope: FraudProofSsz = canonical(bytes)?;
        let proof = match envelope.kind {
            KIND_BAD_TRANSITION => FraudProof::BadTransition(Box::new(canonical(&envelope.body)?)),
            KIND_BAD_TRACE => FraudProof::BadTrace(Box::new(canonical(&envelope.body)?)),
            KIND_EQUIVOCATION => FraudProof::Equivocation(Box::new(canonical(&envelope.body)?)),
            other => return Err(ProofError::Malformed(format!("unknown kind {other}"))),
        };
        Ok(proof)
    }

    /// The id of the claim the proof is against (for equivocation evidence, the first of the
    /// two claims).
    pub fn target(&self) -> ClaimId {
        match self {
            FraudProof::BadTransition(p) => ClaimId(p.target),
            FraudProof::BadTrace(p) => ClaimId(p.target),
            FraudProof::Equivocation(p) => p.a.id(),
        }
    }

    /// The kind's name, as logs and the RPC show it.
    pub fn kind_name(&self) -> &'static str {
        match self {
            FraudProof::BadTransition(_) => "bad-transition",
            FraudProof::BadTrace(_) => "bad-trace",
            FraudProof::Equivocation(_) => "equivocation",
        }
    }

    /// A proof's id: SHA-256 of its encoding (replays are recognised by it).
    pub fn id(&self) -> [u8; 32] {
        proof_id(&self.encode())
    }
}

/// The id of an encoded proof that decodes (decoding is canonical, so this is
/// [`FraudProof::id`] without re-encoding).
pub fn proof_id(encoded: &[u8]) -> [u8; 32] {
    Sha256::digest(encoded).into()
}

impl FraudProof {}

fn ssz_bytes<T: SimpleSerialize>(value: &T) -> Vec<u8> {
    let mut out = Vec::new();
    // Construction keeps every list within its bound, so serialization cannot fail.
    if value.serialize(&mut out).is_err() {
        out.clear();
    }
    out
}

#[cfg(test)]
fn canonical<T: SimpleSerialize>(bytes: &[u8]) -> Result<T, ProofError> {
    // ssz_rs 0.9 can overflow on hostile offsets inside nested variable-size containers (a
    // panic in debug builds): a proof comes from anyone, so contain it.
    let decoded = std::panic::catch_unwind(|| T::deserialize(bytes))
        .map_err(|_| ProofError::Malformed("undecodable SSZ offsets".to_owned()))?;
    let value = decoded.map_err(|e| ProofError::Malformed(e.to_string()))?;
    if ssz_bytes(&value) != bytes {
        return Err(ProofError::Malformed("non-canonical encoding".to_owned()));
    }
    Ok(value)
}

fn branch(siblings: &[[u8; 32]], index: u64, len: u64) -> ListBranch {
    ListBranch {
        index,
        len,
        siblings: siblings.to_vec(),
    }
}

/// The hash of the decided data block at a height, as the verifier's caller knows it.
pub type BlockHashLookup<'a> = &'a dyn Fn(u64) -> Option<[u8; 32]>;

/// Verifies `proof` against `claim` (as state consensus recorded it) and `header` (the decided
/// header at the claim's height). `block_hash` answers for the block hashes the transaction read
/// (`BLOCKHASH`): the proof carries them, and each must be the decided chain's. Pure; never
/// panics on any input.
pub fn verify(
    proof: &FraudProof,
    claim: &StateClaim,
    header: &BlockHeader,
    params: &ChainParams,
    block_hash: BlockHashLookup<'_>,
) -> Result<Verdict, ProofError> {
    if proof.target() != claim.id() {
        return Err(ProofError::WrongClaim);
    }
    if claim.chain_id != params.chain_id
        || header.chain_id != claim.chain_id
        || header.height != claim.data_height
    {
        return Err(ProofError::WrongBlock);
    }
    if params.trace_period != 1 {
        return Err(ProofError::UnsupportedTracePeriod(params.trace_period));
    }
    match proof {
        FraudProof::BadTrace(p) => verify_bad_trace(p, claim, header),
        FraudProof::Equivocation(_) => Err(ProofError::NotReExecuted),
        FraudProof::BadTransition(p) => verify_bad_transition(p, claim, header, params, block_hash),
    }
}

fn verify_bad_trace(
    p: &BadTrace,
    claim: &StateClaim,
    header: &BlockHeader,
) -> Result<Verdict, ProofError> {
    if claim.tx_count != header.tx_count {
        return Ok(Verdict::Proven);
    }
    if claim.tx_count == 0 {
        // An empty trace: its root must be the empty list's, and post = pre.
        let empty = lazychain_exec_stf::trace_root(&[]);
        let proven = claim.trace_root != empty.0 || claim.post_state_root != claim.pre_state_root;
        return Ok(if proven {
            Verdict::Proven
        } else {
            Verdict::Refuted
        });
    }
    let last = claim.tx_count - 1;
    let b = branch(&p.last_branch, last, claim.tx_count);
    if !verify_trimmed_list_branch(&p.last_root, &b, MAX_TXS_BOUND, &claim.trace_root) {
        return Err(ProofError::TraceEntryNotProven(last));
    }
    Ok(if p.last_root != claim.post_state_root {
        Verdict::Proven
    } else {
        Verdict::Refuted
    })
}

fn verify_bad_transition(
    p: &BadTransition,
    claim: &StateClaim,
    header: &BlockHeader,
    params: &ChainParams,
    block_hash: BlockHashLookup<'_>,
) -> Result<Verdict, ProofError> {
    let index = p.tx_index;
    for entry in p.block_hashes.iter() {
        // Height 0 is the genesis state, which has no data block: its hash is zero (what the
        // transition reads for `BLOCKHASH(0)` in blocks 1 to 256).
        let decided = match entry.height {
            0 => Some([0u8; 32]),
            h => block_hash(h),
        };
        if decided != Some(entry.hash) {
            return Err(ProofError::Witness(format!(
                "block hash of height {} is not the decided chain's",
                entry.height
            )));
        }
    }
    if index >= header.tx_count || index >= claim.tx_count {
        return Err(ProofError::TxIndexOutOfRange {
            index,
            count: header.tx_count.min(claim.tx_count),
        });
    }
    let tx_root: [u8; 32] = header
        .tx_root
        .as_ref()
        .try_into()
        .map_err(|_| ProofError::WrongBlock)?;
    let leaf = byte_list_leaf(&p.tx, MAX_TX_BYTES_BOUND);
    if !verify_trimmed_list_branch(
        &leaf,
        &branch(&p.tx_branch, index, header.tx_count),
        MAX_TXS_BOUND,
        &tx_root,
    ) {
        return Err(ProofError::TxNotIncluded);
    }
    if index == 0 {
        if p.prev_root != claim.pre_state_root {
            return Err(ProofError::TraceEntryNotProven(0));
        }
    } else if !verify_trimmed_list_branch(
        &p.prev_root,
        &branch(&p.prev_branch, index - 1, claim.tx_count),
        MAX_TXS_BOUND,
        &claim.trace_root,
    ) {
        return Err(ProofError::TraceEntryNotProven(index - 1));
    }
    // Entry `index`'s branch: in full when `index` is 0, else only its siblings below the
    // level where it meets entry `index - 1`'s path (the rest is shared, see `adjacent_branch`).
    let claimed = if index == 0 {
        Some(branch(&p.claimed_branch, index, claim.tx_count))
    } else {
        adjacent_branch(
            &p.prev_root,
            &branch(&p.prev_branch, index - 1, claim.tx_count),
            &p.claimed_branch,
        )
    };
    if !claimed.is_some_and(|b| {
        verify_trimmed_list_branch(&p.claimed_root, &b, MAX_TXS_BOUND, &claim.trace_root)
    }) {
        return Err(ProofError::TraceEntryNotProven(index));
    }

    let prepared = prepare([p.tx.as_ref()]);
    let Some(tx) = prepared.first() else {
        return Err(ProofError::Malformed("no transaction".to_owned()));
    };
    // No gas ceiling of its own: the transition bounds what one transaction may execute (the
    // block gas limit, and the hardfork's transaction cap), and a transaction the chain
    // decided must stay provable whatever gas limit it declared.
    let witness = decode_witness(p)?;
    let hash = header
        .hash()
        .map_err(|e| ProofError::Malformed(e.to_string()))?;
    let block = params.block_context(header, B256::from(hash.0));
    let root = match reexecute(params, &block, tx, B256::from(p.prev_root), &witness) {
        Ok(root) => root,
        Err(ReexecError::Witness(e)) => return Err(ProofError::Witness(e.to_string())),
        // A read outside the witness (or a write it does not cover): the witness is incomplete.
        Err(ReexecError::Exec(e)) => return Err(ProofError::Witness(e.to_string())),
    };
    Ok(if root.0 != p.claimed_root {
        Verdict::Proven
    } else {
        Verdict::Refuted
    })
}

fn decode_witness(p: &BadTransition) -> Result<TxWitness, ProofError> {
    let witness: &[WitnessEntry] = &p.witness;
    let accounts: HashMap<[u8; 20], usize> = witness
        .iter()
        .enumerate()
        .filter_map(|(i, e)| {
            let address: [u8; 20] = e.key.as_ref().try_into().ok()?;
            (e.kind == 0).then_some((address, i))
        })
        .collect();
    let mut entries = Vec::with_capacity(p.witness.len());
    for e in witness {
        let key = e.state_key(witness, &accounts)?;
        if !e.present && !e.value.is_empty() {
            return Err(ProofError::Malformed(
                "an absent key with a value".to_owned(),
            ));
        }
        let value = if e.present {
            Some(crate::witness_value::expand(&key, &e.value)?)
        } else {
            None
        };
        entries.push((key, value));
    }
    let proof =
        decode_multi_proof_compact(&p.multiproof, &known_keys(&entries), MAX_MULTIPROOF_PATHS)
            .map_err(|e| ProofError::Witness(e.to_string()))?;
    Ok(TxWitness {
        entries,
        proof,
        block_hashes: p
            .block_hashes
            .iter()
            .map(|b| (b.height, B256::from(b.hash)))
            .collect(),
    })
}

/// Builds a [`BadTransition`] proof against `claim` at `index`. `claimed_trace` is the
/// claim's full trace (published with the claim), `block_txs` the block's transactions, and
/// `witness` the witness of transaction `index` taken from the builder's own state before it
/// (which must have root `claimed_trace[index - 1]`, i.e. `index` is the first entry where
/// the builder disagrees).
pub fn build_bad_transition(
    claim: &StateClaim,
    claimed_trace: &[B256],
    block_txs: &[&[u8]],
    index: usize,
    witness: &TxWitness,
) -> Result<FraudProof, ProofError> {
    use lazychain_data_chain_types::merkle::list_branch;
    let out_of_range = || ProofError::TxIndexOutOfRange {
        index: index as u64,
        count: block_txs.len() as u64,
    };
    let tx = *block_txs.get(index).ok_or_else(out_of_range)?;
    // Hashing every transaction's leaf is most of the builder's time on a large block.
    let tx_leaves: Vec<[u8; 32]> = lazychain_data_chain_types::par::par_map(
        block_txs,
        |t| byte_list_leaf(t, MAX_TX_BYTES_BOUND),
        || [0u8; 32],
    );
    let trace: Vec<[u8; 32]> = claimed_trace.iter().map(|r| r.0).collect();
    let claimed_root = *trace.get(index).ok_or_else(out_of_range)?;
    let siblings = |leaves: &[[u8; 32]],
                    i: usize|
     -> Result<List<[u8; 32], MAX_BRANCH>, ProofError> {
        let mut b = list_branch(leaves, i, MAX_TXS_BOUND).ok_or_else(out_of_range)?;
        trim_branch(&mut b);
        List::try_from(b.siblings).map_err(|_| ProofError::Malformed("branch too long".to_owned()))
    };
    let (prev_root, prev_branch) = if index == 0 {
        (claim.pre_state_root, List::default())
    } else {
        (trace[index - 1], siblings(&trace, index - 1)?)
    };
    if witness.entries.len() > MAX_WITNESS_ENTRIES {
        return Err(ProofError::Malformed("witness too large".to_owned()));
    }
    let accounts: HashMap<[u8; 20], usize> = witness
        .entries
        .iter()
        .enumerate()
        .filter_map(|(i, (key, _))| match key {
            StateKey::Account(a) => Some((a.0 .0, i)),
            _ => None,
        })
        .collect();
    let mut entries = List::<WitnessEntry, MAX_WITNESS_ENTRIES>::default();
    for (key, value) in &witness.entries {
        entries.push(WitnessEntry::from_state_key(
            key,
            value.as_deref(),
            &accounts,
        )?);
    }
    let mut block_hashes = List::<BlockHashEntry, MAX_BLOCK_HASHES>::default();
    for (height, hash) in witness.block_hashes.iter().take(MAX_BLOCK_HASHES) {
        block_hashes.push(BlockHashEntry {
            height: *height,
            hash: hash.0,
        });
    }
    Ok(FraudProof::BadTransition(Box::new(BadTransition {
        target: claim.id().0,
        tx_index: index as u64,
        tx: List::try_from(tx.to_vec())
            .map_err(|_| ProofError::Malformed("transaction too large".to_owned()))?,
        tx_branch: siblings(&tx_leaves, index)?,
        prev_root,
        prev_branch,
        claimed_root,
        claimed_branch: {
            let mut own = siblings(&trace, index)?.to_vec();
            if index > 0 {
                own.truncate(adjacent_lower_siblings(index as u64));
            }
            List::try_from(own).map_err(|_| ProofError::Malformed("branch too long".to_owned()))?
        },
        witness: entries,
        multiproof: List::try_from(encode_multi_proof_compact(
            &witness.proof,
            &known_keys(&witness.entries),
        ))
        .map_err(|_| ProofError::Malformed("multiproof too large".to_owned()))?,
        block_hashes,
    })))
}

/// Builds a [`BadTrace`] proof from the claim's published trace.
pub fn build_bad_trace(
    claim: &StateClaim,
    claimed_trace: &[B256],
) -> Result<FraudProof, ProofError> {
    use lazychain_data_chain_types::merkle::list_branch;
    let trace: Vec<[u8; 32]> = claimed_trace.iter().map(|r| r.0).collect();
    let (last_root, last_branch) = match trace.len().checked_sub(1) {
        Some(last) => {
            let mut b = list_branch(&trace, last, MAX_TXS_BOUND)
                .ok_or(ProofError::TraceEntryNotProven(last as u64))?;
            trim_branch(&mut b);
            (
                trace[last],
                List::try_from(b.siblings)
                    .map_err(|_| ProofError::Malformed("branch too long".to_owned()))?,
            )
        }
        None => ([0u8; 32], List::default()),
    };
    Ok(FraudProof::BadTrace(Box::new(BadTrace {
        target: claim.id().0,
        last_root,
        last_branch,
    })))
}
