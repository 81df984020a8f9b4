//! JSON-RPC of a data-chain node (HTTP and WebSocket on one port, jsonrpsee): the standard
//! `eth_chainId`, `net_version`, `web3_clientVersion`, `eth_sendRawTransaction`, and the
//! `lazy_` namespace. Requests may omit `params`; unknown methods answer -32601.

use std::net::SocketAddr;
use std::sync::Arc;

use jsonrpsee::core::SubscriptionError;
use jsonrpsee::server::middleware::rpc::{MethodResponse, RpcServiceBuilder, RpcServiceT};
use jsonrpsee::server::{
    BatchRequestConfig, IdProvider, RandomIntegerIdProvider, Server, ServerConfig, ServerHandle,
};
use jsonrpsee::types::SubscriptionId;
use jsonrpsee::types::{ErrorObjectOwned, Params};
use jsonrpsee::RpcModule;
use lazychain_data_chain_types::Block;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::rpc_http::EthereumHttpLayer;
use crate::shared::NodeShared;

pub const CLIENT_VERSION: &str = concat!("lazychain/v", env!("CARGO_PKG_VERSION"));

/// geth's code for a transaction refused at submission.
const TX_REJECTED: i32 = -32000;
const INVALID_PARAMS: i32 = -32602;
const INTERNAL: i32 = -32603;
const METHOD_NOT_FOUND: i32 = -32601;

#[derive(Clone, Debug)]
pub struct RpcLimits {
    pub max_request_body_bytes: u32,
    pub max_response_body_bytes: u32,
    pub max_batch_len: u32,
    pub max_connections: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum RpcError {
    #[error("JSON-RPC server on {addr}: {reason}")]
    Start { addr: SocketAddr, reason: String },
}

fn err(code: i32, msg: impl Into<String>) -> ErrorObjectOwned {
    ErrorObjectOwned::owned(code, msg.into(), None::<()>)
}

fn hex0x(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}

fn parse_hex(s: &str) -> Result<Vec<u8>, ErrorObjectOwned> {
    let s = s.strip_prefix("0x").unwrap_or(s);
    hex::decode(s).map_err(|e| err(INVALID_PARAMS, format!("invalid hex data: {e}")))
}

#[derive(Deserialize)]
#[serde(untagged)]
enum HeightParam {
    Number(u64),
    Tag(String),
}

pub fn block_json(block: &Block, hash: &str, include_txs: bool) -> Value {
    let h = &block.header;
    let tx_hashes: Vec<String> = block
        .body
        .transactions()
        .map(|raw| format!("{}", lazychain_data_chain_types::tx::tx_hash(raw)))
        .collect();
    let mut v = json!({
        "hash": hash,
        "chainId": h.chain_id,
        "height": h.height,
        "parentHash": hex0x(h.parent_hash.as_ref()),
        "proposer": hex0x(&h.proposer),
        "timestampMs": h.timestamp_ms,
        "txRoot": hex0x(h.tx_root.as_ref()),
        "claimsRoot": hex0x(h.claims_root.as_ref()),
        "fraudProofsRoot": hex0x(h.fraud_proofs_root.as_ref()),
        "txCount": h.tx_count,
        "bodyBytes": h.body_bytes,
        "gasLimitSum": h.gas_limit_sum,
        "gasAllowance": h.gas_allowance,
        "baseFeePerGas": h.base_fee_per_gas,
        "txHashes": tx_hashes,
    });
    if include_txs {
        let raws: Vec<String> = block.body.transactions().map(hex0x).collect();
        v["transactions"] = json!(raws);
    }
    v
}

/// `lazy_status`: the node's fields, then those of the extension wired in (an executor's).
pub fn status_json(shared: &NodeShared) -> Value {
    let s = shared.status();
    let ready = shared.readiness();
    let mut status = json!({
        "role": shared.role,
        "moniker": shared.moniker,
        "chainId": shared.rules.chain_id,
        "height": s.height,
        "latestHash": s.latest_hash.to_string(),
        "latestTimestampMs": s.latest_timestamp_ms,
        "currentHeight": s.current_height,
        "round": s.round,
        "peers": s.consensus_peers,
        "connectedVotingPower": s.connected_power,
        "gossipPeers": s.gossip_peers,
        "mempoolSize": shared.mempool_len(),
        "stateConsensus": shared.state_service().status(),
        "coupled": shared.coupled().map(|c| {
            let (height, root) = c.committed();
            json!({ "executedHeight": height, "stateRoot": root.to_string() })
        }),
        "ready": ready.is_ok(),
        "notReadyReason": ready.err().map(|reason| reason.to_string()),
    });
    if let Value::Object(fields) = &mut status {
        shared.extend_status(fields);
    }
    status
}

fn get_block(shared: &NodeShared, params: Params) -> Result<Value, ErrorObjectOwned> {
    let mut seq = params.sequence();
    let height: Option<HeightParam> = seq.optional_next()?;
    let include_txs: Option<bool> = seq.optional_next()?;
    let latest = || {
        shared
            .store
            .latest_height()
            .map_err(|e| err(INTERNAL, e.to_string()))
    };
    let height = match height {
        None => latest()?,
        Some(HeightParam::Number(n)) => n,
        Some(HeightParam::Tag(t)) if t == "latest" => latest()?,
        Some(HeightParam::Tag(t)) => {
            let t = t.strip_prefix("0x").ok_or_else(|| {
                err(
                    INVALID_PARAMS,
                    format!("height must be a number, hex quantity or \"latest\", got {t:?}"),
                )
            })?;
            u64::from_str_radix(t, 16)
                .map_err(|e| err(INVALID_PARAMS, format!("bad height: {e}")))?
        }
    };
    let decided = shared
        .store
        .decided(height)
        .map_err(|e| err(INTERNAL, e.to_string()))?;
    Ok(match decided {
        Some(d) => {
            let mut v = block_json(&d.block, &d.hash.to_string(), include_txs.unwrap_or(false));
            v["certificate"] = json!(hex0x(&d.certificate));
            v
        }
        None => Value::Null,
    })
}

/// Builds the RPC module of a validator.
pub fn module(
    shared: Arc<NodeShared>,
) -> Result<RpcModule<Arc<NodeShared>>, jsonrpsee::core::RegisterMethodError> {
    let mut m = RpcModule::new(shared);
    m.register_method("eth_chainId", |_, s, _| format!("0x{:x}", s.rules.chain_id))?;
    m.register_method("net_version", |_, s, _| s.rules.chain_id.to_string())?;
    m.register_method("web3_clientVersion", |_, _, _| CLIENT_VERSION)?;
    m.register_blocking_method("eth_sendRawTransaction", |params, s, _| {
        let data: String = params.one()?;
        let raw = parse_hex(&data)?;
        match s.submit_local(&raw) {
            Ok(hash) => Ok(format!("{hash}")),
            Err(e) => Err(err(TX_REJECTED, e.to_string())),
        }
    })?;
    m.register_method("lazy_status", |_, s, _| status_json(s))?;
    m.register_blocking_method("lazy_getDataBlock", |params, s, _| get_block(&s, params))?;
    m.register_blocking_method("lazy_getTransactionLocation", |params, s, _| {
        let hash: String = params.one()?;
        let bytes = parse_hex(&hash)?;
        let key: [u8; 32] = bytes
            .try_into()
            .map_err(|_| err(INVALID_PARAMS, "transaction hash must be 32 bytes"))?;
        let loc = s
            .store
            .tx_location(&key)
            .map_err(|e| err(INTERNAL, e.to_string()))?;
        Ok::<_, ErrorObjectOwned>(match loc {
            Some((height, index)) => json!({ "height": height, "index": index }),
            None => Value::Null,
        })
    })?;
    m.register_subscription(
        "lazy_subscribeDecidedBlocks",
        "lazy_decidedBlock",
        "lazy_unsubscribeDecidedBlocks",
        |_, pending, s, _| async move {
            let mut rx = s.subscribe_decided();
            let sink = pending
                .accept()
                .await
                .map_err(|e| SubscriptionError::from(e.to_string()))?;
            loop {
                let event = match rx.recv().await {
                    Ok(e) => e,
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(_) => break,
                };
                let hashes: Vec<String> = event.tx_hashes.iter().map(|h| hex0x(h)).collect();
                let msg = json!({
                    "height": event.height,
                    "hash": event.hash.to_string(),
                    "round": event.round,
                    "timestampMs": event.header.timestamp_ms,
                    "txHashes": hashes,
                });
                let msg = serde_json::value::to_raw_value(&msg)
                    .map_err(|e| SubscriptionError::from(e.to_string()))?;
                if sink.send(msg).await.is_err() {
                    break;
                }
            }
            Ok::<(), SubscriptionError>(())
        },
    )?;
    Ok(m)
}

/// Subscription ids as geth writes them: random hex quantities.
#[derive(Debug)]
struct HexIdProvider;

impl IdProvider for HexIdProvider {
    fn next_id(&self) -> SubscriptionId<'static> {
        match RandomIntegerIdProvider.next_id() {
            SubscriptionId::Num(n) => SubscriptionId::Str(format!("{n:#x}").into()),
            other => other,
        }
    }
}

/// geth's answer to `eth_subscribe` over HTTP, where jsonrpsee answers a bare "Internal
/// error": subscriptions need a WebSocket.
#[derive(Clone)]
struct NotificationsOverHttp<S>(S);

impl<S> RpcServiceT for NotificationsOverHttp<S>
where
    S: RpcServiceT<
            MethodResponse = MethodResponse,
            BatchResponse = MethodResponse,
            NotificationResponse = MethodResponse,
        > + Clone
        + Send
        + Sync
        + 'static,
{
    type MethodResponse = MethodResponse;
    type NotificationResponse = MethodResponse;
    type BatchResponse = MethodResponse;

    fn call<'a>(
        &self,
        req: jsonrpsee::server::middleware::rpc::Request<'a>,
    ) -> impl std::future::Future<Output = MethodResponse> + Send + 'a {
        let service = self.0.clone();
        async move {
            if req.method_name() != "eth_subscribe" {
                return service.call(req).await;
            }
            let id = req.id().into_owned();
            let answer = service.call(req).await;
            // Over a WebSocket, a refused subscription answers its own code, never this one.
            if answer.as_error_code() == Some(INTERNAL) {
                let refused = ErrorObjectOwned::owned(
                    METHOD_NOT_FOUND,
                    "notifications not supported",
                    None::<()>,
                );
                return MethodResponse::error(id, refused)
                    .with_extensions(answer.extensions().clone());
            }
            answer
        }
    }

    fn batch<'a>(
        &self,
        batch: jsonrpsee::server::middleware::rpc::Batch<'a>,
    ) -> impl std::future::Future<Output = MethodResponse> + Send + 'a {
        self.0.batch(batch)
    }

    fn notification<'a>(
        &self,
        n: jsonrpsee::server::middleware::rpc::Notification<'a>,
    ) -> impl std::future::Future<Output = MethodResponse> + Send + 'a {
        self.0.notification(n)
    }
}

pub async fn serve(
    addr: SocketAddr,
    limits: &RpcLimits,
    module: RpcModule<Arc<NodeShared>>,
) -> Result<(SocketAddr, ServerHandle), RpcError> {
    let config = ServerConfig::builder()
        .max_request_body_size(limits.max_request_body_bytes)
        .max_response_body_size(limits.max_response_body_bytes)
        .max_connections(limits.max_connections)
        .set_batch_request_config(BatchRequestConfig::Limit(limits.max_batch_len))
        .set_id_provider(HexIdProvider)
        .build();
    let server = Server::builder()
        .set_config(config)
        .set_http_middleware(tower::ServiceBuilder::new().layer(EthereumHttpLayer))
        .set_rpc_middleware(RpcServiceBuilder::new().layer_fn(NotificationsOverHttp))
        .build(addr)
        .await
        .map_err(|e| RpcError::Start {
            addr,
            reason: e.to_string(),
        })?;
    let local = server.local_addr().map_err(|e| RpcError::Start {
        addr,
        reason: e.to_string(),
    })?;
    Ok((local, server.start(module)))
}
