//! Every redb table of a validator's block store (`data/blocks.redb`). Byte layouts are in
//! `docs/storage.md`. Only `store.rs` opens these tables.

use redb::TableDefinition;

/// Decided blocks. Key: height. Value: SSZ `Block`. Written once per height by the decision
/// commit, never rewritten.
pub const BLOCKS: TableDefinition<u64, &[u8]> = TableDefinition::new("blocks");

/// Headers of decided blocks, for reads that do not need the body (parent links, RPC).
/// Key: height. Value: SSZ `BlockHeader`. Written in the same transaction as `BLOCKS`.
pub const HEADERS: TableDefinition<u64, &[u8]> = TableDefinition::new("headers");

/// Commit certificates of decided blocks. Key: height. Value: borsh certificate
/// (`codec::encode_certificate`). Written in the same transaction as `BLOCKS`.
pub const CERTIFICATES: TableDefinition<u64, &[u8]> = TableDefinition::new("certificates");

/// Block hash to height, for lookups by hash. Key: 32-byte block hash. Value: height.
/// Written with the decision commit.
pub const BLOCK_HEIGHTS: TableDefinition<&[u8; 32], u64> = TableDefinition::new("block_heights");

/// Transaction index. Key: 32-byte transaction hash. Value: height (u64 BE) ‖ index in block
/// (u32 BE). Written with the decision commit.
pub const TX_INDEX: TableDefinition<&[u8; 32], &[u8; 12]> = TableDefinition::new("tx_index");

/// Undecided proposals this node built or received, so that `GetValue` returns the identical
/// value after a restart and proposals can be re-streamed. Key: height (u64 BE) ‖ round
/// (u32 BE) ‖ block hash (32 bytes). Value: borsh `StoredProposal`. Written when a proposal is
/// built or validated; entries at or below a decided height are deleted by its commit.
pub const PROPOSALS: TableDefinition<&[u8; 44], &[u8]> = TableDefinition::new("proposals");
