//! Transaction gossip on lazychain's own libp2p gossipsub network (Malachite's network carries
//! consensus messages only). Transactions are batched into SSZ lists; every received
//! transaction goes through the same stateless admission as RPC ones, and a batch with an
//! invalid transaction is not forwarded.
//!
//! A second topic carries state-consensus items: executors' claims and fraud proofs, one per
//! message (a kind byte, then the item). A received fraud proof is verified at once and, if it
//! proves fraud, reverts its target locally (the alarm) before any block includes it.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use lazychain_data_chain_types::block::{MAX_TXS_BOUND, MAX_TX_BYTES_BOUND};
use lazychain_data_chain_types::codec;
use libp2p::gossipsub::{self, IdentTopic, MessageAcceptance, MessageAuthenticity, ValidationMode};
use libp2p::swarm::SwarmEvent;
use libp2p::{identity::Keypair, noise, tcp, yamux, Multiaddr, Swarm};
use tokio::sync::mpsc;
use tracing::{debug, info, warn};

use crate::shared::NodeShared;

/// Largest gossip message (a batch of transactions) unless one transaction needs more.
pub const MAX_GOSSIP_BYTES: usize = 4 << 20;

/// The gossip size limit: room for a full batch, and for the largest admissible transaction.
fn max_message_bytes(shared: &NodeShared) -> usize {
    MAX_GOSSIP_BYTES.max(shared.rules.max_tx_bytes as usize + 1024)
}
/// A batch is sent when it reaches this many bytes, or after `BATCH_DELAY`.
const BATCH_BYTES: usize = 256 << 10;
const BATCH_DELAY: Duration = Duration::from_millis(5);
/// How long transactions whose batch could not be published are tried again (at each redial
/// tick), and how many bytes of them are kept.
const UNSENT_RETRY_FOR: Duration = Duration::from_secs(60);
const UNSENT_MAX_BYTES: usize = 1 << 20;

/// Locally submitted transactions not gossiped yet: no peer subscribed (a node that just
/// started, or lost its peers), or the batch still in the duplicate cache of a failed try. A
/// validator would include them in its own proposals anyway; an executor or full node would
/// keep them to itself for good, and the wallet that got a hash would wait forever.
#[derive(Default)]
struct Unsent {
    txs: Vec<Vec<u8>>,
    bytes: usize,
    since: Option<tokio::time::Instant>,
}

impl Unsent {
    fn add(&mut self, txs: Vec<Vec<u8>>) {
        if txs.is_empty() {
            return;
        }
        self.since.get_or_insert_with(tokio::time::Instant::now);
        for tx in txs {
            self.bytes += tx.len();
            self.txs.push(tx);
        }
        let mut dropped = 0usize;
        while self.bytes > UNSENT_MAX_BYTES && !self.txs.is_empty() {
            let tx = self.txs.remove(0);
            self.bytes -= tx.len();
            dropped += 1;
        }
        if dropped > 0 {
            warn!(
                dropped,
                "too many transactions waiting for gossip peers; the oldest kept locally only"
            );
        }
    }

    /// What to publish again now, if anything; gives up (with a warning) after
    /// [`UNSENT_RETRY_FOR`].
    fn take(&mut self) -> Vec<Vec<u8>> {
        let Some(since) = self.since else {
            return Vec::new();
        };
        let txs = std::mem::take(&mut self.txs);
        self.bytes = 0;
        self.since = None;
        if txs.is_empty() {
            return txs;
        }
        if since.elapsed() > UNSENT_RETRY_FOR {
            warn!(
                count = txs.len(),
                "transactions not gossiped within {UNSENT_RETRY_FOR:?}; kept locally only"
            );
            return Vec::new();
        }
        // Keep the first failure's time while they keep failing.
        self.since = Some(since);
        txs
    }
}

#[derive(Debug, thiserror::Error)]
pub enum GossipError {
    #[error("invalid gossip address {addr:?}: {reason}")]
    Address { addr: String, reason: String },
    #[error("gossip network: {0}")]
    Setup(String),
}

pub fn tx_topic(chain_id: u64) -> IdentTopic {
    IdentTopic::new(format!("/lazychain/{chain_id}/txs/1"))
}

pub fn state_topic(chain_id: u64) -> IdentTopic {
    IdentTopic::new(format!("/lazychain/{chain_id}/state/1"))
}

fn parse(addr: &str) -> Result<Multiaddr, GossipError> {
    addr.parse()
        .map_err(|e: libp2p::multiaddr::Error| GossipError::Address {
            addr: addr.to_string(),
            reason: e.to_string(),
        })
}

/// A batch is an SSZ `List<List<u8>>` of raw transactions.
fn encode_batch(txs: &[Vec<u8>]) -> Option<Vec<u8>> {
    Some(codec::encode_byte_lists(txs.iter().map(|t| t.as_slice())))
}

fn decode_batch(bytes: &[u8]) -> Option<Vec<Vec<u8>>> {
    let items = codec::decode_byte_lists(bytes, MAX_TXS_BOUND, MAX_TX_BYTES_BOUND).ok()?;
    Some(items.into_iter().map(<[u8]>::to_vec).collect())
}

/// Starts the gossip swarm; returns once it listens. `outgoing` carries locally submitted
/// transactions to publish.
pub async fn spawn(
    keypair: Keypair,
    listen: &str,
    peers: &[String],
    shared: Arc<NodeShared>,
    mut outgoing: mpsc::Receiver<Vec<u8>>,
    mut outgoing_items: mpsc::Receiver<Vec<u8>>,
) -> Result<tokio::task::JoinHandle<()>, GossipError> {
    let listen = parse(listen)?;
    let peers = peers
        .iter()
        .map(|p| parse(p))
        .collect::<Result<Vec<_>, _>>()?;
    let topic = tx_topic(shared.rules.chain_id);
    let items_topic = state_topic(shared.rules.chain_id);

    let config = gossipsub::ConfigBuilder::default()
        // Transactions authenticate themselves; signing every batch would cost an ed25519
        // signature over its whole bytes per hop, for nothing.
        .validation_mode(ValidationMode::Anonymous)
        .validate_messages()
        .max_transmit_size(max_message_bytes(&shared))
        .heartbeat_interval(Duration::from_millis(500))
        // Message ids are content hashes, so a claim re-posted because its first message was
        // lost can only be published again once it left the duplicate cache. Peers gossip
        // about a message for 3 heartbeats (1.5 s): 6 s keeps loops out.
        .duplicate_cache_time(Duration::from_secs(6))
        .message_id_fn(|m| {
            use sha2::Digest;
            gossipsub::MessageId::from(sha2::Sha256::digest(&m.data).to_vec())
        })
        .build()
        .map_err(|e| GossipError::Setup(e.to_string()))?;
    let mut swarm: Swarm<gossipsub::Behaviour> =
        libp2p::SwarmBuilder::with_existing_identity(keypair)
            .with_tokio()
            .with_tcp(
                tcp::Config::default().nodelay(true),
                noise::Config::new,
                yamux::Config::default,
            )
            .map_err(|e| GossipError::Setup(e.to_string()))?
            .with_behaviour(|key| {
                let _ = key;
                gossipsub::Behaviour::new(MessageAuthenticity::Anonymous, config)
                    .map_err(|e| Box::<dyn std::error::Error + Send + Sync>::from(e.to_string()))
            })
            .map_err(|e| GossipError::Setup(e.to_string()))?
            .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(3600)))
            .build();
    for t in [&topic, &items_topic] {
        swarm
            .behaviour_mut()
            .subscribe(t)
            .map_err(|e| GossipError::Setup(e.to_string()))?;
    }
    swarm
        .listen_on(listen.clone())
        .map_err(|e| GossipError::Setup(format!("listen on {listen}: {e}")))?;

    let handle = tokio::spawn(async move {
        let mut redial = tokio::time::interval(Duration::from_secs(2));
        let (verdict_tx, mut verdict_rx) = mpsc::unbounded_channel();
        let mut batch: Vec<Vec<u8>> = Vec::new();
        let mut batch_bytes = 0usize;
        let flush = tokio::time::sleep(BATCH_DELAY);
        tokio::pin!(flush);
        let mut flush_armed = false;
        let mut unsent = Unsent::default();
        loop {
            tokio::select! {
                _ = redial.tick() => {
                    let connected = swarm.connected_peers().count();
                    shared.set_peers(None, Some(connected));
                    if connected < peers.len() {
                        for p in &peers {
                            let _ = swarm.dial(p.clone());
                        }
                    }
                    let mut retry = unsent.take();
                    if !retry.is_empty() {
                        unsent.add(publish(&mut swarm, &topic, &mut retry));
                    }
                }
                Some(tx) = outgoing.recv() => {
                    batch_bytes += tx.len();
                    batch.push(tx);
                    if batch_bytes >= BATCH_BYTES {
                        unsent.add(publish(&mut swarm, &topic, &mut batch));
                        batch_bytes = 0;
                        flush_armed = false;
                    } else if !flush_armed {
                        flush.as_mut().reset(tokio::time::Instant::now() + BATCH_DELAY);
                        flush_armed = true;
                    }
                }
                Some(item) = outgoing_items.recv() => {
                    if let Err(e) = swarm.behaviour_mut().publish(items_topic.clone(), item) {
                        debug!(error = %e, "state item not gossiped");
                    }
                }
                Some((id, source, verdict)) = verdict_rx.recv() => {
                    let _ = swarm
                        .behaviour_mut()
                        .report_message_validation_result(&id, &source, verdict);
                }
                _ = &mut flush, if flush_armed => {
                    unsent.add(publish(&mut swarm, &topic, &mut batch));
                    batch_bytes = 0;
                    flush_armed = false;
                }
                event = swarm.select_next_some() => match event {
                    SwarmEvent::Behaviour(gossipsub::Event::Message { propagation_source, message_id, message }) => {
                        // Admission (signature recovery) runs off the swarm loop, so the network
                        // keeps moving while a large batch is checked.
                        let shared = shared.clone();
                        let verdicts = verdict_tx.clone();
                        let data = message.data;
                        let is_item = message.topic == items_topic.hash();
                        tokio::task::spawn_blocking(move || {
                            let verdict = if is_item {
                                receive_item(&shared, &data)
                            } else {
                                receive(&shared, &data)
                            };
                            let _ = verdicts.send((message_id, propagation_source, verdict));
                        });
                    }
                    SwarmEvent::NewListenAddr { address, .. } => info!(%address, "transaction gossip listening"),
                    SwarmEvent::ConnectionEstablished { peer_id, .. } => debug!(%peer_id, "gossip peer connected"),
                    _ => {}
                },
            }
        }
    });
    Ok(handle)
}

/// Publishes `batch` (emptying it); returns the transactions to try again later.
fn publish(
    swarm: &mut Swarm<gossipsub::Behaviour>,
    topic: &IdentTopic,
    batch: &mut Vec<Vec<u8>>,
) -> Vec<Vec<u8>> {
    if batch.is_empty() {
        return Vec::new();
    }
    let txs = std::mem::take(batch);
    let Some(bytes) = encode_batch(&txs) else {
        warn!(count = txs.len(), "could not encode a transaction batch");
        return Vec::new();
    };
    match swarm.behaviour_mut().publish(topic.clone(), bytes) {
        Ok(_) => Vec::new(),
        Err(gossipsub::PublishError::MessageTooLarge) => {
            warn!(count = txs.len(), "transaction batch too large to gossip");
            Vec::new()
        }
        Err(e) => {
            debug!(error = %e, count = txs.len(), "transaction batch not gossiped yet; tried again");
            txs
        }
    }
}

/// Admits every transaction of a received batch. A batch that does not decode, or that holds
/// a transaction failing the stateless checks, is rejected (not forwarded); transactions
/// already known are fine.
fn receive(shared: &NodeShared, data: &[u8]) -> MessageAcceptance {
    let Some(txs) = decode_batch(data) else {
        return MessageAcceptance::Reject;
    };
    let outcomes = shared.submit_remote_batch(&txs);
    let mut verdict = MessageAcceptance::Accept;
    for outcome in outcomes {
        if let Err(crate::shared::SubmitError::Invalid(e)) = outcome {
            debug!(error = %e, "invalid transaction in gossip");
            verdict = MessageAcceptance::Reject;
        }
    }
    verdict
}

/// Hands a message of the state topic to the state service, whose verdict decides whether it
/// is forwarded.
fn receive_item(shared: &NodeShared, data: &[u8]) -> MessageAcceptance {
    use crate::state_service::GossipVerdict;
    match shared.state_service().receive_gossip(data) {
        GossipVerdict::Accept => MessageAcceptance::Accept,
        GossipVerdict::Reject => MessageAcceptance::Reject,
        GossipVerdict::Ignore => MessageAcceptance::Ignore,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn unsent_transactions_are_tried_again_then_given_up_and_bounded() {
        let mut unsent = Unsent::default();
        assert!(unsent.take().is_empty());
        unsent.add(vec![vec![1u8; 10], vec![2u8; 10]]);
        // Taken for a retry; a retry that fails again keeps the first failure's time.
        let retry = unsent.take();
        assert_eq!(retry.len(), 2);
        tokio::time::advance(Duration::from_secs(30)).await;
        unsent.add(retry);
        assert_eq!(unsent.take().len(), 2);
        // A retry that succeeds leaves nothing.
        assert!(unsent.take().is_empty());
        // Given up after UNSENT_RETRY_FOR.
        unsent.add(vec![vec![3u8; 10]]);
        tokio::time::advance(UNSENT_RETRY_FOR + Duration::from_secs(1)).await;
        assert!(unsent.take().is_empty());
        assert!(unsent.take().is_empty());
        // At most UNSENT_MAX_BYTES are kept: the oldest go first.
        unsent.add(vec![
            vec![4u8; UNSENT_MAX_BYTES / 2],
            vec![5u8; UNSENT_MAX_BYTES / 2],
        ]);
        unsent.add(vec![vec![6u8; 10]]);
        let kept = unsent.take();
        assert_eq!(kept.len(), 2);
        assert_eq!(kept[1], vec![6u8; 10]);
    }

    #[test]
    fn batch_round_trip_and_garbage() {
        let txs = vec![vec![1u8, 2, 3], vec![4u8; 300]];
        let bytes = encode_batch(&txs).expect("encodes");
        assert_eq!(decode_batch(&bytes), Some(txs));
        assert_eq!(decode_batch(&[0xff, 0xff, 0xff]), None);
    }
}
