//! The state-consensus items a data block carries (ADR 004): a claim with its full trace, and
//! a fraud proof with the address credited for it. Both are SSZ containers, encoded and
//! decoded by hand here because the layout is fixed and tiny, and decoding must be strict
//! (exact offsets, bounded lengths) on bytes from anyone.
//!
//! [`check_claim_item`] is everything a validator checks before including a claim: the
//! stateless claim check, then that the trace fits the claim and the decided block it is for
//! (length = the block's transaction count, root = the claim's trace root, last entry = the
//! post-state root). It reads the decided header only; it never executes.

use alloy_primitives::B256;
use lazychain_data_chain_types::block::MAX_TXS_BOUND;
use lazychain_data_chain_types::merkle::roots_list_root;
use lazychain_data_chain_types::BlockHeader;

use crate::claim::{ClaimError, ClaimId, SignedClaim, SIGNED_CLAIM_BYTES};
use crate::proof::{FraudProof, ProofError, MAX_PROOF_BYTES};
use crate::registry::{check_claim, ExecutorRegistry};
use crate::Address;

/// Offset of the variable part of a claim item: the signed claim, then one 4-byte offset.
const CLAIM_ITEM_FIXED: usize = SIGNED_CLAIM_BYTES + 4;
/// Offset of the proof in a fraud item: the submitter, then one 4-byte offset.
const FRAUD_ITEM_FIXED: usize = 20 + 4;
/// The largest fraud item: the envelope and the largest proof. Every genesis leaves room
/// for it in a block (`lazychain_chainspec::MIN_MAX_BLOCK_BYTES`), and proposers give it room.
pub const MAX_FRAUD_ITEM_BYTES: usize = FRAUD_ITEM_FIXED + MAX_PROOF_BYTES;

/// Why a block item is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ItemError {
    #[error("malformed item: {0}")]
    Malformed(String),
    #[error(transparent)]
    Claim(#[from] ClaimError),
    #[error(transparent)]
    Proof(#[from] ProofError),
    #[error("claim for height {data_height} checked against the header of height {header_height}")]
    WrongHeader {
        data_height: u64,
        header_height: u64,
    },
    #[error("claim counts {claimed} transactions; block {height} has {actual}")]
    TxCount {
        height: u64,
        claimed: u64,
        actual: u64,
    },
    #[error("trace has {got} entries; the claim counts {expected} transactions")]
    TraceLength { got: u64, expected: u64 },
    #[error("trace root {got} differs from the claim's trace root {expected}")]
    TraceRoot { got: B256, expected: B256 },
    #[error("the last trace entry {last} is not the claim's post-state root {post}")]
    TraceLast { last: B256, post: B256 },
    #[error(
        "block {height} has no transactions: its state is its parent's, and it takes no claim"
    )]
    NoTransactions { height: u64 },
}

/// A signed claim and its full trace: one state root after each transaction of the block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimItem {
    pub signed: SignedClaim,
    pub trace: Vec<B256>,
}

impl ClaimItem {
    pub fn id(&self) -> ClaimId {
        self.signed.id()
    }

    /// SSZ bytes of the container `{claim: SignedClaim, trace: List[Bytes32, 2^20]}`.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(CLAIM_ITEM_FIXED + 32 * self.trace.len());
        out.extend_from_slice(&self.signed.encode());
        out.extend_from_slice(&(CLAIM_ITEM_FIXED as u32).to_le_bytes());
        for root in &self.trace {
            out.extend_from_slice(root.as_slice());
        }
        out
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, ItemError> {
        if bytes.len() < CLAIM_ITEM_FIXED {
            return Err(ItemError::Malformed(format!(
                "claim item of {} bytes is shorter than its fixed part ({CLAIM_ITEM_FIXED})",
                bytes.len()
            )));
        }
        let (claim, rest) = bytes.split_at(SIGNED_CLAIM_BYTES);
        let (offset, trace) = rest.split_at(4);
        if offset != (CLAIM_ITEM_FIXED as u32).to_le_bytes() {
            return Err(ItemError::Malformed("claim item trace offset".to_owned()));
        }
        if trace.len() % 32 != 0 || trace.len() / 32 > MAX_TXS_BOUND {
            return Err(ItemError::Malformed(format!(
                "trace of {} bytes is not a list of at most {MAX_TXS_BOUND} roots",
                trace.len()
            )));
        }
        Ok(Self {
            signed: SignedClaim::decode(claim)?,
            trace: trace.chunks_exact(32).map(B256::from_slice).collect(),
        })
    }

    /// The SSZ root of the trace list, as the claim's `trace_root` commits to it.
    pub fn computed_trace_root(&self) -> B256 {
        let items: Vec<[u8; 32]> = self.trace.iter().map(|r| r.0).collect();
        B256::from(roots_list_root(&items, MAX_TXS_BOUND))
    }
}

/// The validator-side check of a claim item for inclusion in a block above `decided_height`:
/// [`check_claim`], then the trace against the claim and `header`, the decided header at the
/// claim's data height. Returns the claim id.
pub fn check_claim_item(
    item: &ClaimItem,
    chain_id: u64,
    decided_height: u64,
    registry: &ExecutorRegistry,
    header: &BlockHeader,
) -> Result<ClaimId, ItemError> {
    let claim = &item.signed.claim;
    if header.height != claim.data_height {
        return Err(ItemError::WrongHeader {
            data_height: claim.data_height,
            header_height: header.height,
        });
    }
    if claim.tx_count != header.tx_count {
        return Err(ItemError::TxCount {
            height: header.height,
            claimed: claim.tx_count,
            actual: header.tx_count,
        });
    }
    if header.tx_count == 0 {
        return Err(ItemError::NoTransactions {
            height: header.height,
        });
    }
    if item.trace.len() as u64 != claim.tx_count {
        return Err(ItemError::TraceLength {
            got: item.trace.len() as u64,
            expected: claim.tx_count,
        });
    }
    let root = item.computed_trace_root();
    if root.0 != claim.trace_root {
        return Err(ItemError::TraceRoot {
            got: root,
            expected: B256::from(claim.trace_root),
        });
    }
    if let Some(last) = item.trace.last() {
        if last.0 != claim.post_state_root {
            return Err(ItemError::TraceLast {
                last: *last,
                post: B256::from(claim.post_state_root),
            });
        }
    }
    // The signature last: it is the expensive part.
    Ok(check_claim(
        &item.signed,
        chain_id,
        decided_height,
        registry,
    )?)
}

/// A fraud proof as carried in a data block: the proof's bytes and the address credited with
/// the slashing reward. The submitter is not signed: whoever gets the proof included first
/// names the beneficiary (see docs/protocol.md §12).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FraudItem {
    pub submitter: Address,
    pub proof: Vec<u8>,
}

impl FraudItem {
    /// SSZ bytes of the container `{submitter: Bytes20, proof: List[uint8, MAX_PROOF_BYTES]}`.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(FRAUD_ITEM_FIXED + self.proof.len());
        out.extend_from_slice(&self.submitter);
        out.extend_from_slice(&(FRAUD_ITEM_FIXED as u32).to_le_bytes());
        out.extend_from_slice(&self.proof);
        out
    }

    /// Decodes the container; the proof stays undecoded (see [`FraudItem::decode_proof`]).
    pub fn decode(bytes: &[u8]) -> Result<Self, ItemError> {
        if bytes.len() < FRAUD_ITEM_FIXED {
            return Err(ItemError::Malformed(format!(
                "fraud item of {} bytes is shorter than its fixed part ({FRAUD_ITEM_FIXED})",
                bytes.len()
            )));
        }
        let (submitter, rest) = bytes.split_at(20);
        let (offset, proof) = rest.split_at(4);
        if offset != (FRAUD_ITEM_FIXED as u32).to_le_bytes() {
            return Err(ItemError::Malformed("fraud item proof offset".to_owned()));
        }
        if proof.len() > MAX_PROOF_BYTES {
            return Err(ProofError::TooLarge {
                size: proof.len(),
                limit: MAX_PROOF_BYTES,
            }
            .into());
        }
        let mut address = [0u8; 20];
        address.copy_from_slice(submitter);
        Ok(Self {
            submitter: address,
            proof: proof.to_vec(),
        })
    }

    pub fn decode_proof(&self) -> Result<FraudProof, ItemError> {
        Ok(FraudProof::decode(&self.proof)?)
    }
}

#[cfg(test)]
mod tests {
    use lazychain_chainspec::GenesisExecutor;
    use lazychain_chainspec::StateGenesis;
    use malachitebft_signing_ed25519::PrivateKey;
    use ssz_rs::prelude::*;

    use super::*;
    use crate::claim::{StateClaim, GENESIS_PARENT};
    use crate::executor_address;

    const CHAIN: u64 = 9;

    fn key() -> PrivateKey {
        PrivateKey::from([7; 32])
    }

    fn registry() -> ExecutorRegistry {
        ExecutorRegistry::from_genesis(&StateGenesis {
            slash_reward_percent: 50,
            executors: vec![GenesisExecutor {
                name: "e".into(),
                public_key: *key().public_key().as_bytes(),
                bond: 10,
            }],
            ..StateGenesis::default()
        })
        .expect("registry")
    }

    fn header(height: u64, tx_count: u64) -> BlockHeader {
        BlockHeader {
            chain_id: CHAIN,
            height,
            tx_count,
            ..BlockHeader::default()
        }
    }

    fn item(trace: Vec<B256>, edit: impl FnOnce(&mut StateClaim)) -> ClaimItem {
        let k = key();
        let roots: Vec<[u8; 32]> = trace.iter().map(|r| r.0).collect();
        let mut claim = StateClaim {
            chain_id: CHAIN,
            data_height: 1,
            parent_claim: GENESIS_PARENT.0,
            pre_state_root: [1; 32],
            post_state_root: trace.last().map(|r| r.0).unwrap_or([1; 32]),
            trace_root: roots_list_root(&roots, MAX_TXS_BOUND),
            receipts_root: [4; 32],
            tx_count: trace.len() as u64,
            executor: executor_address(k.public_key().as_bytes()),
        };
        edit(&mut claim);
        ClaimItem {
            signed: SignedClaim::sign(claim, &k),
            trace,
        }
    }

    fn trace(n: u8) -> Vec<B256> {
        (1..=n).map(B256::repeat_byte).collect()
    }

    #[test]
    fn claim_item_bytes_are_the_ssz_container() {
        #[derive(Default, Debug, SimpleSerialize)]
        struct Container {
            claim: SignedClaim,
            trace: List<[u8; 32], MAX_TXS_BOUND>,
        }
        let it = item(trace(3), |_| {});
        let mut reference = Vec::new();
        Container {
            claim: it.signed.clone(),
            trace: List::try_from(it.trace.iter().map(|r| r.0).collect::<Vec<_>>())
                .expect("bounded"),
        }
        .serialize(&mut reference)
        .expect("serializes");
        assert_eq!(it.encode(), reference);
        assert_eq!(ClaimItem::decode(&reference), Ok(it));
    }

    #[test]
    fn fraud_item_bytes_are_the_ssz_container() {
        #[derive(Default, Debug, SimpleSerialize)]
        struct Container {
            submitter: [u8; 20],
            proof: List<u8, MAX_PROOF_BYTES>,
        }
        let it = FraudItem {
            submitter: [3; 20],
            proof: vec![1, 2, 3, 4, 5],
        };
        let mut reference = Vec::new();
        Container {
            submitter: it.submitter,
            proof: List::try_from(it.proof.clone()).expect("bounded"),
        }
        .serialize(&mut reference)
        .expect("serializes");
        assert_eq!(it.encode(), reference);
        assert_eq!(FraudItem::decode(&reference), Ok(it));
    }

    #[test]
    fn malformed_items_are_refused() {
        let good = item(trace(2), |_| {}).encode();
        for bad in [
            &good[..10],
            &good[..good.len() - 1],
            &good[..CLAIM_ITEM_FIXED - 1],
        ] {
            assert!(ClaimItem::decode(bad).is_err());
        }
        let mut offset = good.clone();
        offset[SIGNED_CLAIM_BYTES] ^= 1;
        assert!(matches!(
            ClaimItem::decode(&offset),
            Err(ItemError::Malformed(_))
        ));
        assert!(FraudItem::decode(&[0; 23]).is_err());
        let mut fraud = FraudItem {
            submitter: [0; 20],
            proof: vec![],
        }
        .encode();
        fraud[20] = 0;
        assert!(FraudItem::decode(&fraud).is_err());
        let oversized = FraudItem {
            submitter: [0; 20],
            proof: vec![0; MAX_PROOF_BYTES + 1],
        };
        assert!(matches!(
            FraudItem::decode(&oversized.encode()),
            Err(ItemError::Proof(ProofError::TooLarge { .. }))
        ));
    }

    #[test]
    fn trace_must_fit_the_claim_and_the_block() {
        let reg = registry();
        let ok = item(trace(3), |_| {});
        assert_eq!(
            check_claim_item(&ok, CHAIN, 1, &reg, &header(1, 3)),
            Ok(ok.id())
        );
        // A block without transactions takes no claim, whatever its roots.
        let empty = item(vec![], |_| {});
        assert_eq!(
            check_claim_item(&empty, CHAIN, 1, &reg, &header(1, 0)),
            Err(ItemError::NoTransactions { height: 1 })
        );

        let cases: Vec<(ClaimItem, BlockHeader)> = vec![
            (ok.clone(), header(1, 4)),
            (ok.clone(), header(2, 3)),
            (
                ClaimItem {
                    trace: trace(2),
                    ..ok.clone()
                },
                header(1, 3),
            ),
            (
                ClaimItem {
                    trace: vec![B256::repeat_byte(9); 3],
                    ..ok.clone()
                },
                header(1, 3),
            ),
            (
                item(trace(3), |c| c.post_state_root = [9; 32]),
                header(1, 3),
            ),
            (item(vec![], |c| c.post_state_root = [9; 32]), header(1, 0)),
            (item(trace(3), |c| c.executor = [5; 20]), header(1, 3)),
        ];
        for (bad, h) in cases {
            assert!(
                check_claim_item(&bad, CHAIN, 1, &reg, &h).is_err(),
                "accepted {bad:?} over {h:?}"
            );
        }
        // Not yet decided: the claim is for height 1, only height 0 is decided.
        assert!(check_claim_item(&ok, CHAIN, 0, &reg, &header(1, 3)).is_err());
    }

    #[test]
    fn the_largest_fraud_item_fits_in_every_valid_genesis_block() {
        assert!(MAX_FRAUD_ITEM_BYTES as u64 <= lazychain_chainspec::MIN_MAX_BLOCK_BYTES);
    }
}
