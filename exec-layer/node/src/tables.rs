//! Every redb table of an executor's state database (`data/state.redb`). Byte layouts are in
//! `docs/storage.md`. Only `store.rs` opens these tables; one write transaction per executed
//! block writes all of them.

use redb::TableDefinition;

/// The flat state. Key: the state-tree key path (see `lazychain_exec_stf::keys`). Value: the
/// value bytes (account: 72 bytes, slot: 32 bytes, code: the bytecode).
pub const FLAT: TableDefinition<&[u8; 32], &[u8]> = TableDefinition::new("flat_state");

/// Executed blocks. Key: data height. Value: SSZ `ExecutedBlockSsz` (roots, gas, bloom, the
/// EVM block context). Height 0 is the genesis state.
pub const EXECUTED: TableDefinition<u64, &[u8]> = TableDefinition::new("executed_blocks");

/// Data-block hash to height, for `eth_getBlockByHash`.
pub const BLOCK_BY_HASH: TableDefinition<&[u8; 32], u64> = TableDefinition::new("block_by_hash");

/// Receipts. Key: height (u64 BE) ‖ index (u32 BE). Value: SSZ receipt.
pub const RECEIPTS: TableDefinition<&[u8; 12], &[u8]> = TableDefinition::new("receipts");

/// Transaction hash to height (u64 BE) ‖ index (u32 BE).
pub const TX_LOCATIONS: TableDefinition<&[u8; 32], &[u8; 12]> =
    TableDefinition::new("tx_locations");

/// Intermediate state roots. Key: height. Value: the trace, 32 bytes per entry.
pub const TRACES: TableDefinition<u64, &[u8]> = TableDefinition::new("traces");

/// Singletons: `executed_height` (u64 BE), `genesis_root` (32 bytes), `history_since` (u64 BE:
/// the first height [`HISTORY`] has entries for; a database from before the table has none
/// for the heights it had already executed).
pub const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");

/// Undo log. Key: height. Value: SSZ `List[UndoEntry]`, the value every key written by that
/// block had before it (`existed = false`: absent). Kept for the last `undo_window_blocks`
/// heights, so that the state before any recent transaction can be rebuilt to prove fraud.
pub const UNDO: TableDefinition<u64, &[u8]> = TableDefinition::new("undo");

/// State history, for reads at recent blocks. Key: key path (32 bytes) ‖ height (u64 BE).
/// Value: `existed` (1 byte) ‖ the value the key had before block `height`. Written with the
/// block's undo log and removed with it, so a key's value at height `h` is the first entry
/// above `h` (or the flat state when there is none).
pub const HISTORY: TableDefinition<&[u8; 40], &[u8]> = TableDefinition::new("state_history");
