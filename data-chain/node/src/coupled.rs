//! The seam of the benchmark-only coupled mode (`consensus.coupled_execution`, never the
//! default): work a validator runs on the consensus path, before it proposes or votes on a
//! block and before it starts the next height, as a classic chain executes there. The
//! execution itself lives outside this crate (`lazychain-bench`); a validator only calls it
//! where it would run and waits for it, so that benchmarks can measure what the split saves.
//! Its outcome never changes a block's validity.

use alloy_primitives::{Address, B256};
use lazychain_data_chain_types::Block;

use crate::extension::ExtensionError;

/// The sender of a transaction, when the node admitted it recently (saves recovering it).
pub type KnownSender<'a> = dyn Fn(&B256) -> Option<Address> + Sync + 'a;

/// Execution on the consensus path (benchmarks only). Each call blocks for the execution; the
/// node runs them on the blocking pool.
pub trait CoupledExecution: Send + Sync + 'static {
    /// Executes a proposal for the next height before the node proposes or votes on it, and
    /// keeps the result for its decision. Returns the post-state root.
    fn execute(&self, block: &Block, known_sender: &KnownSender) -> Result<B256, ExtensionError>;

    /// Makes a decided block the committed state (executing it if no proposal of it was
    /// executed here). Returns the post-state root; an old height changes nothing.
    fn commit(&self, block: &Block, known_sender: &KnownSender) -> Result<B256, ExtensionError>;

    /// The last committed height and the state root after it (`lazy_status.coupled`).
    fn committed(&self) -> (u64, B256);
}
