//! The seam between the validator and state consensus. Validators order data only; the claims
//! and fraud proofs that blocks carry belong to a state service (`lazychain-fraud-node`) that
//! the binary or the executor wires in. The node asks it for the items to put in a proposal,
//! has it check the items of a received one, tells it of decided blocks in order, hands it the
//! items that arrive on the state gossip topic, and serves its RPC methods and status beside
//! its own. This crate knows none of its types.

use std::sync::Arc;

use lazychain_data_chain_types::validity::ItemRefused;
use tokio::sync::mpsc;

use crate::extension::ExtensionError;
use crate::store::BlockStore;

/// What a node gives its state service once its block store is open.
#[derive(Clone)]
pub struct StateLink {
    /// The node's decided blocks.
    pub store: Arc<BlockStore>,
    /// The state gossip topic.
    pub gossip: ItemGossip,
    /// The node's name, for its `/metrics` page.
    pub moniker: String,
}

/// The outgoing queue of the state gossip topic.
#[derive(Clone)]
pub struct ItemGossip(pub(crate) mpsc::Sender<Vec<u8>>);

impl ItemGossip {
    /// Queues a message (kind byte and item) for the state topic; false if the queue is full.
    pub fn publish(&self, message: Vec<u8>) -> bool {
        self.0.try_send(message).is_ok()
    }
}

/// What becomes of a message received on the state gossip topic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GossipVerdict {
    /// Taken: forwarded to peers.
    Accept,
    /// Invalid: not forwarded, and the sender is penalised.
    Reject,
    /// Known or not placeable yet: not forwarded, without penalty.
    Ignore,
}

/// State consensus, as the node sees it.
pub trait StateService: Send + Sync + 'static {
    /// Called once, when the node's block store is open, before any other call.
    fn attach(&self, link: StateLink) -> Result<(), ExtensionError>;

    /// The largest item: a proposal always leaves room for one (a fraud proof must land
    /// inside the challenge window).
    fn max_item_bytes(&self) -> usize;

    /// Claims and fraud proofs for the block at `height`, within `max_bytes`.
    fn select_items(&self, height: u64, max_bytes: usize) -> (Vec<Vec<u8>>, Vec<Vec<u8>>);

    /// The stateless check of a claim item in a proposal for `height`.
    fn check_claim(&self, item: &[u8], height: u64) -> Result<(), ItemRefused>;

    /// The stateless check of a fraud item in a proposal for `height`.
    fn check_fraud_proof(&self, item: &[u8], height: u64) -> Result<(), ItemRefused>;

    /// Applies every decided block not applied yet, in height order; returns the height
    /// applied up to. Blocks: the node calls it on the blocking pool, at start-up (a replay of
    /// the decided chain) and after decisions.
    fn follow(&self) -> Result<u64, ExtensionError>;

    /// A message received on the state gossip topic.
    fn receive_gossip(&self, message: &[u8]) -> GossipVerdict;

    /// The `stateConsensus` field of `lazy_status`.
    fn status(&self) -> serde_json::Value;

    /// The RPC methods the node serves beside its own.
    fn rpc_methods(self: Arc<Self>) -> Result<jsonrpsee::Methods, ExtensionError>;
}
