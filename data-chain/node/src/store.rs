//! The block store: decided blocks with their certificates, the transaction index, and
//! undecided proposals, in one redb file. Each decision is one durable write transaction.

use std::path::{Path, PathBuf};

use borsh::{BorshDeserialize, BorshSerialize};
use lazychain_data_chain_types::validity::ParentInfo;
use lazychain_data_chain_types::{Block, BlockHash, BlockHeader};
use redb::{Database, ReadableDatabase, ReadableTable};

use crate::tables::{BLOCKS, BLOCK_HEIGHTS, CERTIFICATES, HEADERS, PROPOSALS, TX_INDEX};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("block store {path}: {source}")]
    Open {
        path: PathBuf,
        #[source]
        source: Box<redb::DatabaseError>,
    },
    #[error("block store I/O: {0}")]
    Io(#[from] std::io::Error),
    #[error("block store: {0}")]
    Db(String),
    #[error("block store holds corrupt data at {what}: {reason}")]
    Corrupt { what: String, reason: String },
}

macro_rules! db_err {
    ($($t:ty),*) => {$(
        impl From<$t> for StoreError {
            fn from(e: $t) -> Self {
                StoreError::Db(e.to_string())
            }
        }
    )*};
}
db_err!(
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError
);

/// A proposal kept until its height is decided.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct StoredProposal {
    pub height: u64,
    pub round: u32,
    pub pol_round: i64,
    pub proposer: [u8; 20],
    pub valid: bool,
    /// Built by this node (as opposed to received from the proposer or through sync).
    pub own: bool,
    /// The proposer's signature over the parts of (height, round, proposer, hash), kept so
    /// that any validator can re-stream the proposal as Malachite asks after locking on it.
    /// `None` for values that arrived through sync.
    pub parts_signature: Option<[u8; 64]>,
    pub block_ssz: Vec<u8>,
}

impl StoredProposal {
    pub fn header(&self) -> Result<BlockHeader, StoreError> {
        Block::header_from_ssz(&self.block_ssz).map_err(|e| StoreError::Corrupt {
            what: format!("proposal at height {} round {}", self.height, self.round),
            reason: e.to_string(),
        })
    }

    pub fn block(&self) -> Result<Block, StoreError> {
        Block::from_ssz(&self.block_ssz).map_err(|e| StoreError::Corrupt {
            what: format!("proposal at height {} round {}", self.height, self.round),
            reason: e.to_string(),
        })
    }
}

/// A decided block as stored.
#[derive(Clone, Debug)]
pub struct DecidedBlock {
    pub block: Block,
    pub hash: BlockHash,
    pub certificate: Vec<u8>,
}

fn proposal_key(height: u64, round: u32, hash: &BlockHash) -> [u8; 44] {
    let mut key = [0u8; 44];
    key[..8].copy_from_slice(&height.to_be_bytes());
    key[8..12].copy_from_slice(&round.to_be_bytes());
    key[12..].copy_from_slice(&hash.0);
    key
}

pub struct BlockStore {
    db: Database,
    genesis: ParentInfo,
}

impl BlockStore {
    /// Opens the store, creating it under a temporary name first so that a crash during
    /// creation never leaves a half-made file at the real path. `cache_bytes` bounds redb's
    /// page cache (`storage.block_cache_mib`): redb keeps every page it reads or writes there
    /// until full (its default is 1 GiB), so this is the memory the store grows to. The store
    /// is mostly appended and reads are of recent blocks (sync, RPC, fraud-proof headers).
    pub fn open(path: &Path, genesis: ParentInfo, cache_bytes: usize) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let open_err = |source| StoreError::Open {
            path: path.to_path_buf(),
            source: Box::new(source),
        };
        let mut builder = Database::builder();
        builder.set_cache_size(cache_bytes);
        let db = if path.exists() {
            builder.open(path).map_err(open_err)?
        } else {
            let tmp = path.with_extension("redb.tmp");
            let _ = std::fs::remove_file(&tmp);
            let db = builder.create(&tmp).map_err(open_err)?;
            Self::create_tables(&db)?;
            drop(db);
            std::fs::rename(&tmp, path)?;
            // Make the rename itself durable before anything is committed under the new name.
            if let Some(dir) = path.parent() {
                std::fs::File::open(dir)?.sync_all()?;
            }
            builder.open(path).map_err(open_err)?
        };
        // Tables added by later versions are created on first open.
        Self::create_tables(&db)?;
        Ok(Self { db, genesis })
    }

    fn create_tables(db: &Database) -> Result<(), StoreError> {
        let tx = db.begin_write()?;
        tx.open_table(BLOCKS)?;
        tx.open_table(HEADERS)?;
        tx.open_table(CERTIFICATES)?;
        tx.open_table(BLOCK_HEIGHTS)?;
        tx.open_table(TX_INDEX)?;
        tx.open_table(PROPOSALS)?;
        tx.commit()?;
        Ok(())
    }

    pub fn genesis(&self) -> ParentInfo {
        self.genesis
    }

    /// Highest decided height (0 before the first block).
    pub fn latest_height(&self) -> Result<u64, StoreError> {
        let tx = self.db.begin_read()?;
        let table = tx.open_table(BLOCKS)?;
        let last = table.last()?.map(|(k, _)| k.value()).unwrap_or(0);
        Ok(last)
    }

    pub fn decided(&self, height: u64) -> Result<Option<DecidedBlock>, StoreError> {
        let tx = self.db.begin_read()?;
        let blocks = tx.open_table(BLOCKS)?;
        let certs = tx.open_table(CERTIFICATES)?;
        let Some(bytes) = blocks.get(height)? else {
            return Ok(None);
        };
        let corrupt = |reason: String| StoreError::Corrupt {
            what: format!("decided block {height}"),
            reason,
        };
        let block = Block::from_ssz(bytes.value()).map_err(|e| corrupt(e.to_string()))?;
        let hash = block.hash().map_err(|e| corrupt(e.to_string()))?;
        let certificate = certs
            .get(height)?
            .map(|c| c.value().to_vec())
            .ok_or_else(|| corrupt("certificate missing".into()))?;
        Ok(Some(DecidedBlock {
            block,
            hash,
            certificate,
        }))
    }

    /// The header of a decided block, without reading its body.
    pub fn decided_header(&self, height: u64) -> Result<Option<BlockHeader>, StoreError> {
        let tx = self.db.begin_read()?;
        let headers = tx.open_table(HEADERS)?;
        let Some(bytes) = headers.get(height)? else {
            return Ok(None);
        };
        let header = BlockHeader::from_ssz(bytes.value()).map_err(|e| StoreError::Corrupt {
            what: format!("header {height}"),
            reason: e.to_string(),
        })?;
        Ok(Some(header))
    }

    pub fn height_of(&self, hash: &BlockHash) -> Result<Option<u64>, StoreError> {
        let tx = self.db.begin_read()?;
        let table = tx.open_table(BLOCK_HEIGHTS)?;
        Ok(table.get(&hash.0)?.map(|v| v.value()))
    }

    /// Height and position of a decided transaction.
    pub fn tx_location(&self, tx_hash: &[u8; 32]) -> Result<Option<(u64, u32)>, StoreError> {
        let tx = self.db.begin_read()?;
        let table = tx.open_table(TX_INDEX)?;
        Ok(table.get(tx_hash)?.map(|v| {
            let v = v.value();
            let mut h = [0u8; 8];
            h.copy_from_slice(&v[..8]);
            let mut i = [0u8; 4];
            i.copy_from_slice(&v[8..]);
            (u64::from_be_bytes(h), u32::from_be_bytes(i))
        }))
    }

    /// For each hash, whether that transaction is in a decided block (one read transaction).
    pub fn decided_flags(&self, hashes: &[[u8; 32]]) -> Result<Vec<bool>, StoreError> {
        let tx = self.db.begin_read()?;
        let table = tx.open_table(TX_INDEX)?;
        hashes.iter().map(|h| Ok(table.get(h)?.is_some())).collect()
    }

    /// What a block at `height` must link to.
    pub fn parent_of(&self, height: u64) -> Result<Option<ParentInfo>, StoreError> {
        if height == 0 {
            return Ok(None);
        }
        if height == 1 {
            return Ok(Some(self.genesis));
        }
        let header = match self.decided_header(height - 1)? {
            Some(h) => h,
            // Stores written before the headers table existed hold only full blocks.
            None => match self.decided(height - 1)? {
                Some(d) => d.block.header,
                None => return Ok(None),
            },
        };
        let hash = header.hash().map_err(|e| StoreError::Corrupt {
            what: format!("header {}", height - 1),
            reason: e.to_string(),
        })?;
        Ok(Some(ParentInfo::of(&header, hash)))
    }

    pub fn put_proposal(&self, p: &StoredProposal, hash: &BlockHash) -> Result<(), StoreError> {
        let bytes = borsh::to_vec(p)?;
        let tx = self.db.begin_write()?;
        {
            let mut table = tx.open_table(PROPOSALS)?;
            table.insert(&proposal_key(p.height, p.round, hash), bytes.as_slice())?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Proposals stored for (height, round), optionally only this node's own.
    pub fn proposals_at(&self, height: u64, round: u32) -> Result<Vec<StoredProposal>, StoreError> {
        let tx = self.db.begin_read()?;
        let table = tx.open_table(PROPOSALS)?;
        let lo = proposal_key(height, round, &BlockHash([0; 32]));
        let hi = proposal_key(height, round, &BlockHash([0xff; 32]));
        let mut out = Vec::new();
        for entry in table.range::<&[u8; 44]>(&lo..=&hi)? {
            let (_, v) = entry?;
            out.push(decode_proposal(v.value())?);
        }
        Ok(out)
    }

    /// The stored proposal of `hash` at (height, round), if any.
    pub fn proposal_at(
        &self,
        height: u64,
        round: u32,
        hash: &BlockHash,
    ) -> Result<Option<StoredProposal>, StoreError> {
        let tx = self.db.begin_read()?;
        let table = tx.open_table(PROPOSALS)?;
        let found = table.get(&proposal_key(height, round, hash))?;
        found.map(|v| decode_proposal(v.value())).transpose()
    }

    /// Any stored proposal of `hash` at `height`, whatever its round.
    pub fn proposal_by_hash(
        &self,
        height: u64,
        hash: &BlockHash,
    ) -> Result<Option<StoredProposal>, StoreError> {
        let tx = self.db.begin_read()?;
        let table = tx.open_table(PROPOSALS)?;
        let lo = proposal_key(height, 0, &BlockHash([0; 32]));
        let hi = proposal_key(height, u32::MAX, &BlockHash([0xff; 32]));
        for entry in table.range::<&[u8; 44]>(&lo..=&hi)? {
            let (k, v) = entry?;
            if k.value()[12..] == hash.0 {
                return Ok(Some(decode_proposal(v.value())?));
            }
        }
        Ok(None)
    }

    /// Commits a decided block, its certificate and its transaction index in one durable write
    /// transaction, and drops proposals at or below its height. Idempotent for the same block.
    pub fn commit_decided(
        &self,
        block: &Block,
        hash: &BlockHash,
        tx_hashes: &[[u8; 32]],
        certificate: &[u8],
    ) -> Result<(), StoreError> {
        let height = block.header.height;
        let bytes = block.to_ssz();
        let tx = self.db.begin_write()?;
        {
            let mut blocks = tx.open_table(BLOCKS)?;
            blocks.insert(height, bytes.as_slice())?;
            let mut headers = tx.open_table(HEADERS)?;
            headers.insert(height, block.header.to_ssz().as_slice())?;
            let mut certs = tx.open_table(CERTIFICATES)?;
            certs.insert(height, certificate)?;
            let mut heights = tx.open_table(BLOCK_HEIGHTS)?;
            heights.insert(&hash.0, height)?;
            let mut index = tx.open_table(TX_INDEX)?;
            for (i, h) in tx_hashes.iter().enumerate() {
                let mut loc = [0u8; 12];
                loc[..8].copy_from_slice(&height.to_be_bytes());
                loc[8..].copy_from_slice(&(i as u32).to_be_bytes());
                index.insert(h, &loc)?;
            }
            let mut proposals = tx.open_table(PROPOSALS)?;
            let hi = proposal_key(height, u32::MAX, &BlockHash([0xff; 32]));
            proposals.retain_in::<&[u8; 44], _>(..=&hi, |_, _| false)?;
        }
        tx.commit()?;
        Ok(())
    }
}

fn decode_proposal(bytes: &[u8]) -> Result<StoredProposal, StoreError> {
    borsh::from_slice(bytes).map_err(|e| StoreError::Corrupt {
        what: "stored proposal".into(),
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use lazychain_data_chain_types::block::{BlockBody, BlockTemplate};

    const TEST_CACHE: usize = 4 << 20;

    fn genesis() -> ParentInfo {
        ParentInfo {
            height: 0,
            hash: BlockHash::ZERO,
            timestamp_ms: 1,
            gas_allowance: 0,
            base_fee_per_gas: 0,
        }
    }

    fn block(height: u64, parent: BlockHash) -> Block {
        let body = BlockBody::from_transactions([vec![height as u8; 10]]).expect("body");
        let t = BlockTemplate {
            chain_id: 1,
            height,
            parent,
            proposer: [1; 20],
            timestamp_ms: 10 + height,
            gas_available: 0,
            base_fee_per_gas: 0,
        };
        Block::build(&t, body, 21_000).expect("block")
    }

    #[test]
    fn decided_blocks_survive_reopen_and_prune_proposals() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("data/blocks.redb");
        let b1 = block(1, BlockHash::ZERO);
        let h1 = b1.hash().expect("hash");
        {
            let store = BlockStore::open(&path, genesis(), TEST_CACHE).expect("open");
            let p = StoredProposal {
                height: 1,
                round: 0,
                pol_round: -1,
                proposer: [1; 20],
                valid: true,
                own: true,
                parts_signature: Some([3; 64]),
                block_ssz: b1.to_ssz(),
            };
            store.put_proposal(&p, &h1).expect("put");
            assert_eq!(store.proposals_at(1, 0).expect("read"), vec![p.clone()]);
            assert_eq!(
                store.proposal_by_hash(1, &h1).expect("read"),
                Some(p.clone())
            );
            assert_eq!(store.proposal_at(1, 0, &h1).expect("read"), Some(p));
            assert_eq!(store.proposal_at(1, 1, &h1).expect("read"), None);
            store
                .commit_decided(&b1, &h1, &[[7; 32]], b"cert")
                .expect("commit");
            assert!(store.proposals_at(1, 0).expect("read").is_empty());
        }
        assert!(!path.with_extension("redb.tmp").exists());
        let store = BlockStore::open(&path, genesis(), TEST_CACHE).expect("reopen");
        assert_eq!(store.latest_height().expect("height"), 1);
        let d = store.decided(1).expect("read").expect("present");
        assert_eq!(d.block, b1);
        assert_eq!(d.certificate, b"cert");
        assert_eq!(store.height_of(&h1).expect("read"), Some(1));
        assert_eq!(store.tx_location(&[7; 32]).expect("read"), Some((1, 0)));
        let parent = store.parent_of(2).expect("read").expect("parent");
        assert_eq!(parent.hash, h1);
    }

    #[test]
    fn garbage_file_is_a_clear_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("blocks.redb");
        std::fs::write(&path, b"not a database").expect("write");
        let Err(err) = BlockStore::open(&path, genesis(), TEST_CACHE) else {
            panic!("a garbage file must not open");
        };
        assert!(err.to_string().contains("blocks.redb"), "{err}");
    }
}
