//! The seam an embedding process (the executor) plugs into a data-chain node through, in the
//! spirit of reth's execution extensions: it reads decided blocks in order from the block
//! store, is woken by the decided-block feed, submits transactions through the node's
//! mempool, contributes RPC methods and `lazy_status` fields, may check locally submitted
//! transactions against the state it holds ([`TxAdmission`]), and owns its tasks, which the
//! node stops after it has stopped serving.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use alloy_primitives::Address;
use lazychain_data_chain_types::tx::AdmittedTx;
use serde_json::{Map, Value};

use crate::shared::NodeShared;
use crate::store::BlockStore;

/// Why an extension could not start or failed: the embedding process's own error type, which
/// this crate does not know.
pub type ExtensionError = Box<dyn std::error::Error + Send + Sync>;

/// A future an extension hands the node.
pub type ExtensionFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// Fields an extension adds to the node's `lazy_status` answer (replacing the node's own where
/// it names the same key).
pub type StatusFields = Box<dyn Fn(&mut Map<String, Value>) + Send + Sync>;

/// What a node gives an extension when it starts it.
#[derive(Clone)]
pub struct NodeHandles {
    /// The mempool, the node's status and readiness, and the decided-block feed.
    pub shared: Arc<NodeShared>,
    /// The decided blocks.
    pub store: Arc<BlockStore>,
}

/// What a started extension adds to the node.
pub struct Started {
    /// Methods served beside the node's; a name the node already serves is an error.
    pub methods: jsonrpsee::Methods,
    /// Its fields of `lazy_status`.
    pub status: Option<StatusFields>,
    /// Resolves if the extension fails on its own: the node then stops as on a shutdown.
    pub failed: Option<ExtensionFuture<()>>,
    /// Checks transactions submitted to this node's `eth_sendRawTransaction` against state
    /// before they enter the mempool.
    pub admission: Option<Arc<dyn TxAdmission>>,
}

/// What a [`TxAdmission`] decides for a locally submitted transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AdmissionVerdict {
    /// Pool and gossip it as usual.
    Pool,
    /// The extension keeps it for now (a nonce gap) and pools it later through
    /// [`NodeShared::submit_released`]; the submitter gets the hash, as geth answers for a
    /// queued transaction.
    Held,
    /// Refused; the message is what `eth_sendRawTransaction` answers (geth's wording).
    Refused(String),
}

/// A check of locally submitted transactions against state, which this crate does not hold.
/// It runs after the stateless checks, on `eth_sendRawTransaction` only: validators' own
/// admission and transactions received by gossip do not consult it.
pub trait TxAdmission: Send + Sync {
    /// Decides what happens to `tx` (statelessly admitted, sender recovered).
    fn check(&self, node: &NodeShared, tx: &AdmittedTx) -> AdmissionVerdict;

    /// `sender`'s transaction was just pooled through `check`: a gap after it may have
    /// closed.
    fn pooled(&self, node: &NodeShared, sender: Address);
}

/// Work an embedding process runs inside a data-chain node.
pub trait NodeExtension: Send + 'static {
    /// Starts the extension once the node's store and shared state exist, before the RPC
    /// server starts.
    fn start(&mut self, node: NodeHandles) -> Result<Started, ExtensionError>;

    /// Stops the extension's tasks, in order, and waits for them; called once, after the node
    /// has stopped serving (also when it did not start). Returns the error the extension
    /// failed with, if it did.
    fn stop(self: Box<Self>) -> ExtensionFuture<Result<(), ExtensionError>>;
}
