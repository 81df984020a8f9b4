//! The SSZ data block: a header that commits to the body through SSZ list roots, and a body of
//! raw transactions, executors' state claims (each with its trace) and fraud proofs.
//!
//! The block hash is `hash_tree_root(header)`. There is no state root anywhere: validators agree
//! on data only.

use ssz_rs::prelude::*;

/// Type-level bound on one transaction's bytes; the genesis limit is lower.
pub const MAX_TX_BYTES_BOUND: usize = 1 << 20;
/// Type-level bound on transactions per block; the genesis limit is lower.
pub const MAX_TXS_BOUND: usize = 1 << 20;
/// Type-level bound on one opaque body item (claim or fraud proof).
pub const MAX_ITEM_BYTES_BOUND: usize = 1 << 22;
/// Type-level bound on claims or fraud proofs per block.
pub const MAX_ITEMS_BOUND: usize = 1 << 12;
/// Hard cap on an encoded block accepted by the decoder, before any genesis limit applies.
pub const MAX_ENCODED_BLOCK_BYTES: usize = 64 << 20;

pub type RawTx = List<u8, MAX_TX_BYTES_BOUND>;
pub type TxList = List<RawTx, MAX_TXS_BOUND>;
pub type RawItem = List<u8, MAX_ITEM_BYTES_BOUND>;
pub type ItemList = List<RawItem, MAX_ITEMS_BOUND>;

/// `hash_tree_root` of a block header.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BlockHash(pub [u8; 32]);

impl BlockHash {
    pub const ZERO: BlockHash = BlockHash([0; 32]);

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl std::fmt::Display for BlockHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "0x{}", hex::encode(self.0))
    }
}

/// Errors decoding or hashing SSZ bytes from the network, the disk or a user.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DecodeError {
    #[error("encoded block of {size} bytes exceeds the decoder cap of {limit} bytes")]
    TooLarge { size: usize, limit: usize },
    #[error("invalid SSZ encoding: {0}")]
    Ssz(String),
    #[error("non-canonical SSZ encoding (re-encoding differs)")]
    NonCanonical,
    #[error("merkleization failed: {0}")]
    Merkle(String),
}

#[derive(Clone, Debug, Default, PartialEq, Eq, SimpleSerialize)]
pub struct BlockHeader {
    pub chain_id: u64,
    pub height: u64,
    pub parent_hash: Node,
    /// Validator address (20 bytes) of the proposer.
    pub proposer: [u8; 20],
    /// Milliseconds since the Unix epoch, as set by the proposer.
    pub timestamp_ms: u64,
    /// `hash_tree_root` of the body's transaction list.
    pub tx_root: Node,
    /// `hash_tree_root` of the body's claim list.
    pub claims_root: Node,
    /// `hash_tree_root` of the body's fraud-proof list.
    pub fraud_proofs_root: Node,
    pub tx_count: u64,
    /// Sum of the byte lengths of every transaction, claim and fraud proof in the body.
    pub body_bytes: u64,
    /// Sum of the gas limits of every transaction in the body.
    pub gas_limit_sum: u64,
    /// The execution budget's bucket after this block: what it held before (from the parent's
    /// value and the time since the parent) minus `gas_limit_sum` (`budget.rs`); 0 when the
    /// chain has no budget.
    pub gas_allowance: u64,
    /// The base fee executors charge in this block (wei per gas), from the parent's base fee
    /// and bucket (`budget.rs`).
    pub base_fee_per_gas: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, SimpleSerialize)]
pub struct BlockBody {
    pub transactions: TxList,
    /// Signed state claims with their traces (opaque here; `lazychain-fraud` defines them).
    pub claims: ItemList,
    /// Fraud proofs with their submitters (opaque here; `lazychain-fraud` defines them).
    pub fraud_proofs: ItemList,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, SimpleSerialize)]
pub struct Block {
    pub header: BlockHeader,
    pub body: BlockBody,
}

fn merkle_err(e: MerkleizationError) -> DecodeError {
    DecodeError::Merkle(e.to_string())
}

fn node_bytes(node: &Node) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(node.as_ref());
    out
}

/// Decodes SSZ bytes, rejecting oversized input and any encoding that does not re-encode to
/// the same bytes.
fn decode_canonical<T: SimpleSerialize>(bytes: &[u8]) -> Result<T, DecodeError> {
    if bytes.len() > MAX_ENCODED_BLOCK_BYTES {
        return Err(DecodeError::TooLarge {
            size: bytes.len(),
            limit: MAX_ENCODED_BLOCK_BYTES,
        });
    }
    let value = T::deserialize(bytes).map_err(|e| DecodeError::Ssz(e.to_string()))?;
    let mut again = Vec::with_capacity(bytes.len());
    value
        .serialize(&mut again)
        .map_err(|e| DecodeError::Ssz(e.to_string()))?;
    if again != bytes {
        return Err(DecodeError::NonCanonical);
    }
    Ok(value)
}

fn encode<T: SimpleSerialize>(value: &T) -> Vec<u8> {
    let mut out = Vec::new();
    // Serialization only fails when a list exceeds its type bound, which construction prevents.
    if value.serialize(&mut out).is_err() {
        out.clear();
    }
    out
}

impl BlockHeader {
    pub fn hash(&self) -> Result<BlockHash, DecodeError> {
        let mut header = self.clone();
        let root = header.hash_tree_root().map_err(merkle_err)?;
        Ok(BlockHash(node_bytes(&root)))
    }

    pub fn proposer_address(&self) -> [u8; 20] {
        self.proposer
    }

    pub fn parent(&self) -> BlockHash {
        BlockHash(node_bytes(&self.parent_hash))
    }

    pub fn to_ssz(&self) -> Vec<u8> {
        encode(self)
    }

    pub fn from_ssz(bytes: &[u8]) -> Result<Self, DecodeError> {
        decode_canonical(bytes)
    }
}

/// Roots and sums the header commits to, computed from a body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BodyCommitments {
    pub tx_root: Node,
    pub claims_root: Node,
    pub fraud_proofs_root: Node,
    pub tx_count: u64,
    pub body_bytes: u64,
}

impl BlockBody {
    /// Builds a body from raw transactions; fails if one exceeds the type-level bound.
    pub fn from_transactions<I, B>(txs: I) -> Result<Self, DecodeError>
    where
        I: IntoIterator<Item = B>,
        B: AsRef<[u8]>,
    {
        let mut list = TxList::default();
        for tx in txs {
            let tx = tx.as_ref();
            if tx.len() > MAX_TX_BYTES_BOUND {
                return Err(DecodeError::TooLarge {
                    size: tx.len(),
                    limit: MAX_TX_BYTES_BOUND,
                });
            }
            let raw =
                RawTx::try_from(tx.to_vec()).map_err(|(_, e)| DecodeError::Ssz(e.to_string()))?;
            if list.len() >= MAX_TXS_BOUND {
                return Err(DecodeError::TooLarge {
                    size: list.len() + 1,
                    limit: MAX_TXS_BOUND,
                });
            }
            list.push(raw);
        }
        Ok(BlockBody {
            transactions: list,
            claims: ItemList::default(),
            fraud_proofs: ItemList::default(),
        })
    }

    /// Appends state-consensus items (claims, then fraud proofs) to the body.
    pub fn with_items<C, P>(mut self, claims: C, fraud_proofs: P) -> Result<Self, DecodeError>
    where
        C: IntoIterator,
        C::Item: AsRef<[u8]>,
        P: IntoIterator,
        P::Item: AsRef<[u8]>,
    {
        fn push(list: &mut ItemList, item: &[u8]) -> Result<(), DecodeError> {
            if list.len() >= MAX_ITEMS_BOUND {
                return Err(DecodeError::TooLarge {
                    size: list.len() + 1,
                    limit: MAX_ITEMS_BOUND,
                });
            }
            let raw = RawItem::try_from(item.to_vec())
                .map_err(|(_, e)| DecodeError::Ssz(e.to_string()))?;
            list.push(raw);
            Ok(())
        }
        for c in claims {
            push(&mut self.claims, c.as_ref())?;
        }
        for p in fraud_proofs {
            push(&mut self.fraud_proofs, p.as_ref())?;
        }
        Ok(self)
    }

    pub fn commitments(&self) -> Result<BodyCommitments, DecodeError> {
        use crate::merkle::byte_lists_root;
        let root = |bytes: [u8; 32]| {
            Node::try_from(bytes.as_slice()).map_err(|e| DecodeError::Merkle(e.to_string()))
        };
        let body_bytes = self
            .transactions
            .iter()
            .map(|t| t.len() as u64)
            .sum::<u64>()
            + self.claims.iter().map(|t| t.len() as u64).sum::<u64>()
            + self
                .fraud_proofs
                .iter()
                .map(|t| t.len() as u64)
                .sum::<u64>();
        Ok(BodyCommitments {
            tx_root: root(byte_lists_root(
                self.transactions(),
                MAX_TX_BYTES_BOUND,
                MAX_TXS_BOUND,
            ))?,
            claims_root: root(byte_lists_root(
                self.claims.iter().map(|c| c.as_ref()),
                MAX_ITEM_BYTES_BOUND,
                MAX_ITEMS_BOUND,
            ))?,
            fraud_proofs_root: root(byte_lists_root(
                self.fraud_proofs.iter().map(|c| c.as_ref()),
                MAX_ITEM_BYTES_BOUND,
                MAX_ITEMS_BOUND,
            ))?,
            tx_count: self.transactions.len() as u64,
            body_bytes,
        })
    }

    pub fn transactions(&self) -> impl Iterator<Item = &[u8]> {
        self.transactions.iter().map(|t| t.as_ref())
    }
}

/// Everything a proposer decides about a new block, apart from its transactions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockTemplate {
    pub chain_id: u64,
    pub height: u64,
    pub parent: BlockHash,
    pub proposer: [u8; 20],
    pub timestamp_ms: u64,
    /// The execution budget's bucket before this block (`GasBudget::available`; 0 without a
    /// budget): the header's `gas_allowance` is what the body leaves of it.
    pub gas_available: u64,
    /// The block's base fee (`GasBudget::base_fee`).
    pub base_fee_per_gas: u64,
}

impl Block {
    /// Assembles a block and fills every header commitment from the body.
    pub fn build(
        template: &BlockTemplate,
        body: BlockBody,
        gas_limit_sum: u64,
    ) -> Result<Self, DecodeError> {
        let c = body.commitments()?;
        let header = BlockHeader {
            chain_id: template.chain_id,
            height: template.height,
            parent_hash: Node::try_from(template.parent.0.as_slice())
                .map_err(|e| DecodeError::Ssz(e.to_string()))?,
            proposer: template.proposer,
            timestamp_ms: template.timestamp_ms,
            tx_root: c.tx_root,
            claims_root: c.claims_root,
            fraud_proofs_root: c.fraud_proofs_root,
            tx_count: c.tx_count,
            body_bytes: c.body_bytes,
            gas_limit_sum,
            gas_allowance: template.gas_available.saturating_sub(gas_limit_sum),
            base_fee_per_gas: template.base_fee_per_gas,
        };
        Ok(Block { header, body })
    }

    pub fn hash(&self) -> Result<BlockHash, DecodeError> {
        self.header.hash()
    }

    /// SSZ bytes of the block (fast path of [`crate::codec`]; identical to `ssz_rs`).
    pub fn to_ssz(&self) -> Vec<u8> {
        crate::codec::encode_block(self)
    }

    /// Decodes SSZ bytes, rejecting oversized input, bad offsets and non-canonical bytes.
    pub fn from_ssz(bytes: &[u8]) -> Result<Self, DecodeError> {
        let block = crate::codec::decode_block(bytes)?;
        if crate::codec::encode_block(&block) != bytes {
            return Err(DecodeError::NonCanonical);
        }
        Ok(block)
    }

    /// Decodes only the header of an SSZ block: the header is fixed-size and comes first, so
    /// this skips the body entirely.
    pub fn header_from_ssz(bytes: &[u8]) -> Result<BlockHeader, DecodeError> {
        let len = <BlockHeader as ssz_rs::Sized>::size_hint();
        let header = bytes.get(..len).ok_or(DecodeError::Ssz(format!(
            "block of {} bytes is shorter than a header ({len} bytes)",
            bytes.len()
        )))?;
        BlockHeader::from_ssz(header)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixed_block() -> Block {
        let template = BlockTemplate {
            chain_id: 1337,
            height: 7,
            parent: BlockHash([0xab; 32]),
            proposer: [0x11; 20],
            timestamp_ms: 1_700_000_000_000,
            gas_available: 100_000,
            base_fee_per_gas: 7,
        };
        let body = BlockBody::from_transactions([vec![0x02, 0xf8, 0x01], vec![0xc0; 5]])
            .expect("body fits");
        Block::build(&template, body, 42_000).expect("block builds")
    }

    /// Golden fixture: the SSZ bytes and hash of a fixed block must never change silently.
    #[test]
    fn golden_block_bytes_and_hash() {
        let block = fixed_block();
        let bytes = block.to_ssz();
        let hash = block.hash().expect("hash");
        let golden = include_str!("../tests/fixtures/block_v2.hex");
        let mut lines = golden.lines();
        let golden_bytes = lines.next().unwrap_or_default().trim();
        let golden_hash = lines.next().unwrap_or_default().trim();
        assert_eq!(
            hex::encode(&bytes),
            golden_bytes,
            "SSZ bytes of the fixed block changed"
        );
        assert_eq!(
            hash.to_string(),
            golden_hash,
            "hash of the fixed block changed"
        );
    }

    #[test]
    fn round_trip_and_commitments() {
        let block = fixed_block();
        let decoded = Block::from_ssz(&block.to_ssz()).expect("decodes");
        assert_eq!(decoded, block);
        assert_eq!(decoded.header.tx_count, 2);
        assert_eq!(decoded.header.body_bytes, 8);
        let c = decoded.body.commitments().expect("commitments");
        assert_eq!(c.tx_root, decoded.header.tx_root);
    }

    #[test]
    fn header_alone_decodes_from_block_bytes() {
        let block = fixed_block();
        let header = Block::header_from_ssz(&block.to_ssz()).expect("header");
        assert_eq!(header, block.header);
        assert!(Block::header_from_ssz(&[0u8; 10]).is_err());
    }

    #[test]
    fn rejects_trailing_and_truncated_bytes() {
        let mut bytes = fixed_block().to_ssz();
        bytes.push(0);
        assert!(Block::from_ssz(&bytes).is_err());
        bytes.truncate(bytes.len() - 3);
        assert!(Block::from_ssz(&bytes).is_err());
        assert!(Block::from_ssz(&[]).is_err());
    }

    #[test]
    fn hash_changes_with_any_header_field() {
        let block = fixed_block();
        let mut other = block.header.clone();
        other.timestamp_ms += 1;
        assert_ne!(block.header.hash().ok(), other.hash().ok());
    }
}
