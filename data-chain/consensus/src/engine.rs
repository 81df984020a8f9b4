//! The one place that starts Malachite with lazychain's context, codec and signing.

use std::path::PathBuf;
use std::time::Duration;

use malachitebft_app_channel::app::config::{
    ConsensusConfig, NodeConfig, P2pConfig, ValuePayload, ValueSyncConfig,
};
use malachitebft_app_channel::app::engine::host::HeightParams;
use malachitebft_app_channel::app::net::Multiaddr;
use malachitebft_app_channel::app::types::codec::Codec;
use malachitebft_app_channel::app::types::core::LinearTimeouts;
use malachitebft_app_channel::app::types::Keypair;
use malachitebft_app_channel::{
    Channels, ConsensusContext, EngineHandle, NetworkContext, NetworkIdentity, RequestContext,
    Signer, SyncContext, WalContext,
};

use crate::codec::LazyCodec;
use crate::context::{Address, LazyContext, ValidatorSet};
use crate::signing::{LazySigner, LazyVerifier};

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("invalid p2p address {addr:?}: {reason}")]
    BadAddress { addr: String, reason: String },
    #[error("invalid node key: {0}")]
    BadKey(String),
    #[error("signing the validator proof failed: {0}")]
    Proof(String),
    #[error("starting the consensus engine failed: {0}")]
    Start(String),
}

/// Per-height consensus timing (timeouts and target block time).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timing {
    pub timeouts: LinearTimeouts,
    /// Minimum time per height; `None` decides as fast as votes arrive.
    pub target_time: Option<Duration>,
}

impl Timing {
    pub fn height_params(&self, validators: &ValidatorSet) -> HeightParams<LazyContext> {
        HeightParams::new(validators.clone(), self.timeouts, self.target_time)
    }
}

/// Everything needed to start the engine of one node.
pub struct EngineParams {
    pub moniker: String,
    /// 32-byte ed25519 seed: the consensus key of a validator, and the libp2p identity.
    pub key_seed: [u8; 32],
    pub address: Address,
    /// `true` to vote; `false` to follow consensus as a full node without signing.
    pub is_validator: bool,
    pub listen_addr: String,
    pub persistent_peers: Vec<String>,
    pub wal_path: PathBuf,
    pub value_sync_batch: usize,
}

struct EngineConfig {
    moniker: String,
    consensus: ConsensusConfig,
    value_sync: ValueSyncConfig,
}

impl NodeConfig for EngineConfig {
    fn moniker(&self) -> &str {
        &self.moniker
    }

    fn consensus(&self) -> &ConsensusConfig {
        &self.consensus
    }

    fn consensus_mut(&mut self) -> &mut ConsensusConfig {
        &mut self.consensus
    }

    fn value_sync(&self) -> &ValueSyncConfig {
        &self.value_sync
    }

    fn value_sync_mut(&mut self) -> &mut ValueSyncConfig {
        &mut self.value_sync
    }
}

fn multiaddr(addr: &str) -> Result<Multiaddr, EngineError> {
    addr.parse()
        .map_err(|e: libp2p_addr_error::Error| EngineError::BadAddress {
            addr: addr.to_string(),
            reason: e.to_string(),
        })
}

mod libp2p_addr_error {
    pub type Error = <malachitebft_app_channel::app::net::Multiaddr as std::str::FromStr>::Err;
}

/// The libp2p identity derived from a node's ed25519 seed.
pub fn keypair(seed: [u8; 32]) -> Result<Keypair, EngineError> {
    let mut bytes = seed;
    Keypair::ed25519_from_bytes(&mut bytes).map_err(|e| EngineError::BadKey(e.to_string()))
}

/// Starts the Malachite engine: network, WAL, sync, consensus. Returns the app channels.
pub async fn start(
    params: EngineParams,
) -> Result<(Channels<LazyContext>, EngineHandle), EngineError> {
    let listen_addr = multiaddr(&params.listen_addr)?;
    let persistent_peers = params
        .persistent_peers
        .iter()
        .map(|p| multiaddr(p))
        .collect::<Result<Vec<_>, _>>()?;

    let consensus = ConsensusConfig {
        enabled: true,
        p2p: P2pConfig {
            listen_addr,
            persistent_peers,
            ..P2pConfig::default()
        },
        value_payload: ValuePayload::ProposalAndParts,
        ..ConsensusConfig::default()
    };
    let value_sync = ValueSyncConfig {
        enabled: true,
        status_update_interval: Duration::from_secs(1),
        request_timeout: Duration::from_secs(10),
        batch_size: params.value_sync_batch.max(1),
        ..ValueSyncConfig::default()
    };
    let config = EngineConfig {
        moniker: params.moniker.clone(),
        consensus,
        value_sync,
    };

    let keypair = keypair(params.key_seed)?;
    let identity = if params.is_validator {
        let signer = LazySigner::new(params.key_seed);
        let peer_id = keypair.public().to_peer_id();
        let proof = signer
            .sign_validator_proof(signer.public_key().as_bytes().to_vec(), peer_id.to_bytes())
            .await
            .map_err(|e| EngineError::Proof(e.to_string()))?;
        let proof_bytes = LazyCodec
            .encode(&proof)
            .map_err(|e| EngineError::Proof(e.to_string()))?;
        // The engine hands the validator set to the network as `address.to_string()`.
        NetworkIdentity::new_validator(
            params.moniker.clone(),
            keypair,
            params.address.to_string(),
            proof_bytes,
        )
    } else {
        NetworkIdentity::new(params.moniker.clone(), keypair, None)
    };

    let consensus_ctx = if params.is_validator {
        ConsensusContext::new_validator(
            params.address,
            Box::new(LazyVerifier),
            Box::new(LazySigner::new(params.key_seed)),
        )
    } else {
        ConsensusContext::new_full_node(params.address, Box::new(LazyVerifier))
    };

    malachitebft_app_channel::start_engine(
        LazyContext,
        config,
        WalContext::new(params.wal_path, LazyCodec),
        NetworkContext::new(identity, LazyCodec),
        consensus_ctx,
        SyncContext::new(LazyCodec),
        RequestContext::new(64),
    )
    .await
    .map_err(|e| EngineError::Start(format!("{e:#}")))
}
