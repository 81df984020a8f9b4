//! The `eth_*` methods (and `lazy_getExecution`) as a jsonrpsee server trait: parameters are
//! decoded strictly into alloy types ([`super::params`]: a refused one is answered by its
//! name), answers are alloy's RPC types (with lazychain's own fields flattened beside them
//! where it has any).

use std::sync::Arc;

use alloy_eips::{BlockId, BlockNumberOrTag};
use alloy_primitives::{Address, Bytes, B256, U256, U64};
use alloy_rpc_types_eth::{
    AccessListResult, BlockTransactions, FeeHistory, Filter, FilterBlockOption, Log, Transaction,
    TransactionRequest,
};
use jsonrpsee::proc_macros::rpc;
use lazychain_data_chain_node::shared::NodeShared;
use lazychain_data_chain_node::store::DecidedBlock;
use lazychain_data_chain_types::tx::{decode_canonical, recover_sender, tx_hash};
use lazychain_exec_stf::call::CallRequest;
use lazychain_exec_stf::{
    call, create_access_list, estimate_gas, BlockContext, BlockOverrides, CallOutcome, Overridden,
    StateOverrides, StateReader,
};

use super::error::EthRpcError;
use super::params::{
    optional, required, AddressParam, Arg, BlockCountParam, BlockHashParam, BlockOrHashParam,
    BlockOverridesParam, BlockParam, CallParam, FilterParam, FullParam, IndexParam,
    PercentilesParam, SlotParam, StateOverridesParam, TxHashParam,
};
use super::types::{
    rpc_block, rpc_log, rpc_receipt, rpc_transaction, DataHeader, ExecutedRpcBlock, Execution,
    LazyReceipt, SyncProgress, Syncing,
};
use super::{MAX_FEE_HISTORY, MAX_LOG_RANGE, SUGGESTED_TIP};
use crate::admission::{pending_nonce, Admission};
use crate::executor::{ExecShared, Tags};
use crate::store::{ExecutedBlock, StateSnapshot};

type EthResult<T> = Result<T, EthRpcError>;

/// The Ethereum JSON-RPC an executor serves from its executed state.
///
/// Every parameter is an `Option<Arg<_>>` so that jsonrpsee hands it over undecided: a
/// missing or malformed one is answered here, by its name ([`super::params`]).
#[rpc(server)]
pub trait EthApi {
    #[method(name = "eth_blockNumber")]
    fn block_number(&self) -> EthResult<U64>;

    /// The next block's base fee plus the suggested tip.
    #[method(name = "eth_gasPrice", blocking)]
    fn gas_price(&self) -> EthResult<U256>;

    #[method(name = "eth_maxPriorityFeePerGas")]
    fn max_priority_fee_per_gas(&self) -> EthResult<U256>;

    #[method(name = "eth_syncing")]
    fn syncing(&self) -> EthResult<Syncing>;

    #[method(name = "eth_feeHistory", blocking)]
    fn fee_history(
        &self,
        block_count: Option<Arg<BlockCountParam>>,
        newest_block: Option<Arg<BlockParam>>,
        reward_percentiles: Option<Arg<PercentilesParam>>,
    ) -> EthResult<FeeHistory>;

    #[method(name = "eth_getBalance", blocking)]
    fn balance(
        &self,
        address: Option<Arg<AddressParam>>,
        block: Option<Arg<BlockParam>>,
    ) -> EthResult<U256>;

    /// With `pending`, counts transactions ordered but not executed yet, and pooled ones.
    #[method(name = "eth_getTransactionCount", blocking)]
    fn transaction_count(
        &self,
        address: Option<Arg<AddressParam>>,
        block: Option<Arg<BlockParam>>,
    ) -> EthResult<U64>;

    #[method(name = "eth_getCode", blocking)]
    fn code(
        &self,
        address: Option<Arg<AddressParam>>,
        block: Option<Arg<BlockParam>>,
    ) -> EthResult<Bytes>;

    #[method(name = "eth_getStorageAt", blocking)]
    fn storage_at(
        &self,
        address: Option<Arg<AddressParam>>,
        slot: Option<Arg<SlotParam>>,
        block: Option<Arg<BlockParam>>,
    ) -> EthResult<B256>;

    /// With geth's state overrides (third parameter) and block overrides (fourth).
    #[method(name = "eth_call", blocking)]
    fn call(
        &self,
        request: Option<Arg<CallParam>>,
        block: Option<Arg<BlockParam>>,
        state_overrides: Option<Arg<StateOverridesParam>>,
        block_overrides: Option<Arg<BlockOverridesParam>>,
    ) -> EthResult<Bytes>;

    #[method(name = "eth_estimateGas", blocking)]
    fn estimate_gas(
        &self,
        request: Option<Arg<CallParam>>,
        block: Option<Arg<BlockParam>>,
        state_overrides: Option<Arg<StateOverridesParam>>,
        block_overrides: Option<Arg<BlockOverridesParam>>,
    ) -> EthResult<U64>;

    /// The accounts and slots the call accesses, and the gas it uses with them listed.
    #[method(name = "eth_createAccessList", blocking)]
    fn create_access_list(
        &self,
        request: Option<Arg<CallParam>>,
        block: Option<Arg<BlockParam>>,
    ) -> EthResult<AccessListResult>;

    #[method(name = "eth_getBlockByNumber", blocking)]
    fn block_by_number(
        &self,
        block: Option<Arg<BlockParam>>,
        full: Option<Arg<FullParam>>,
    ) -> EthResult<Option<ExecutedRpcBlock>>;

    #[method(name = "eth_getBlockByHash", blocking)]
    fn block_by_hash(
        &self,
        hash: Option<Arg<BlockHashParam>>,
        full: Option<Arg<FullParam>>,
    ) -> EthResult<Option<ExecutedRpcBlock>>;

    #[method(name = "eth_getBlockTransactionCountByNumber", blocking)]
    fn block_transaction_count_by_number(
        &self,
        block: Option<Arg<BlockParam>>,
    ) -> EthResult<Option<U64>>;

    #[method(name = "eth_getBlockTransactionCountByHash", blocking)]
    fn block_transaction_count_by_hash(
        &self,
        hash: Option<Arg<BlockHashParam>>,
    ) -> EthResult<Option<U64>>;

    #[method(name = "eth_getTransactionByBlockNumberAndIndex", blocking)]
    fn transaction_by_block_number_and_index(
        &self,
        block: Option<Arg<BlockParam>>,
        index: Option<Arg<IndexParam>>,
    ) -> EthResult<Option<Transaction>>;

    #[method(name = "eth_getTransactionByBlockHashAndIndex", blocking)]
    fn transaction_by_block_hash_and_index(
        &self,
        hash: Option<Arg<BlockHashParam>>,
        index: Option<Arg<IndexParam>>,
    ) -> EthResult<Option<Transaction>>;

    /// Every receipt of a block (by number, tag or hash), or `null` for an unknown block.
    #[method(name = "eth_getBlockReceipts", blocking)]
    fn block_receipts(
        &self,
        block: Option<Arg<BlockOrHashParam>>,
    ) -> EthResult<Option<Vec<LazyReceipt>>>;

    /// The node holds no user keys: always empty.
    #[method(name = "eth_accounts")]
    fn accounts(&self) -> EthResult<Vec<Address>>;

    /// Executed transactions with their block; ordered or pooled ones without (as geth
    /// shows pending transactions).
    #[method(name = "eth_getTransactionByHash", blocking)]
    fn transaction_by_hash(&self, hash: Option<Arg<TxHashParam>>)
        -> EthResult<Option<Transaction>>;

    #[method(name = "eth_getTransactionReceipt", blocking)]
    fn transaction_receipt(&self, hash: Option<Arg<TxHashParam>>)
        -> EthResult<Option<LazyReceipt>>;

    #[method(name = "eth_getLogs", blocking)]
    fn logs(&self, filter: Option<Arg<FilterParam>>) -> EthResult<Vec<Log>>;

    /// What this executor computed for a height: roots, counts and the per-transaction trace.
    #[method(name = "lazy_getExecution", blocking)]
    fn execution(&self, block: Option<Arg<BlockParam>>) -> EthResult<Option<Execution>>;
}

/// The executor's state and the node beside it (its mempool and decided blocks), as the
/// `eth_*` methods read them.
pub struct EthRpc {
    exec: Arc<ExecShared>,
    node: Arc<NodeShared>,
    /// The state check of submitted transactions, and those it holds for nonce gaps.
    admission: Option<Arc<Admission>>,
}

impl EthRpc {
    pub fn new(exec: Arc<ExecShared>, node: Arc<NodeShared>) -> Self {
        EthRpc {
            exec,
            node,
            admission: None,
        }
    }

    /// Shows the transactions `admission` holds for nonce gaps as pending ones.
    pub fn with_admission(mut self, admission: Arc<Admission>) -> Self {
        self.admission = Some(admission);
        self
    }

    /// The height a block parameter names: a tag, a number, or an executed block's hash.
    fn height(&self, block: Option<BlockParam>) -> EthResult<u64> {
        match block {
            Some(BlockParam(BlockId::Hash(hash))) => self
                .exec
                .state
                .height_of_hash(&hash.block_hash)
                .map_err(EthRpcError::internal)?
                .ok_or(EthRpcError::HeaderForHashNotFound),
            Some(BlockParam(BlockId::Number(number))) => resolve(Some(number), &self.exec.tags()),
            None => resolve(None, &self.exec.tags()),
        }
    }

    pub(super) fn executed(&self, height: u64) -> EthResult<Option<ExecutedBlock>> {
        self.exec
            .state
            .executed_block(height)
            .map_err(EthRpcError::internal)
    }

    /// The state after `block` (by tag, number or hash), if it is within the history window.
    pub(super) fn state_at(&self, block: Option<BlockParam>) -> EthResult<(u64, StateSnapshot)> {
        let height = self.height(block)?;
        match self
            .exec
            .state
            .snapshot_at(height)
            .map_err(EthRpcError::internal)?
        {
            Ok(snapshot) => Ok((height, snapshot)),
            Err(window) if height > window.latest => Err(EthRpcError::HeaderNotFound),
            Err(window) => Err(EthRpcError::StateOutOfWindow {
                height,
                oldest: window.oldest,
                latest: window.latest,
            }),
        }
    }

    /// What `eth_call` and `eth_estimateGas` run: the call, the context of the block after
    /// `block`, and the state after `block`.
    pub(super) fn call_inputs(
        &self,
        request: TransactionRequest,
        block: Option<BlockParam>,
    ) -> EthResult<(CallRequest, BlockContext, StateSnapshot)> {
        let (height, snap) = self.state_at(block)?;
        let at = self
            .executed(height)?
            .ok_or_else(|| EthRpcError::internal(format!("executed block {height} missing")))?;
        // Calls run as if in the next block, on top of the state after `block`.
        let context = BlockContext {
            height: height + 1,
            hash: B256::ZERO,
            parent_hash: at.hash,
            timestamp: at.timestamp,
            beneficiary: at.beneficiary,
            base_fee: at.base_fee,
        };
        Ok((call_request(request), context, snap))
    }

    /// A transaction's executed block, index and receipt, if it was executed here.
    fn located(
        &self,
        hash: &B256,
    ) -> EthResult<Option<(ExecutedBlock, u32, lazychain_exec_stf::Receipt)>> {
        let state = &self.exec.state;
        let Some((height, index)) = state.tx_location(hash).map_err(EthRpcError::internal)? else {
            return Ok(None);
        };
        let block = self
            .executed(height)?
            .ok_or_else(|| EthRpcError::internal("executed block missing"))?;
        let receipt = state
            .receipt(height, index)
            .map_err(EthRpcError::internal)?
            .ok_or_else(|| EthRpcError::internal("receipt missing"))?;
        Ok(Some((block, index, receipt)))
    }

    /// Decided block `height` (an executed height always has one).
    fn decided(&self, height: u64) -> EthResult<DecidedBlock> {
        self.exec
            .blocks
            .decided(height)
            .map_err(EthRpcError::internal)?
            .ok_or_else(|| EthRpcError::internal(format!("data block {height} missing")))
    }

    /// Transaction `index` of decided block `height`, raw.
    fn decided_transaction(&self, height: u64, index: u32) -> EthResult<Vec<u8>> {
        let decided = self.decided(height)?;
        let raw = decided.block.body.transactions().nth(index as usize);
        raw.map(|t| t.to_vec())
            .ok_or_else(|| EthRpcError::internal("transaction missing"))
    }

    /// The executed block a block parameter names (a hash too: a block, not a state, is
    /// asked for), if there is one.
    fn block_of(&self, block: Option<BlockParam>) -> EthResult<Option<ExecutedBlock>> {
        match block {
            Some(BlockParam(BlockId::Hash(hash))) => self.block_of_hash(hash.block_hash),
            number => self.executed(self.height(number)?),
        }
    }

    fn block_of_hash(&self, hash: B256) -> EthResult<Option<ExecutedBlock>> {
        let state = &self.exec.state;
        match state.height_of_hash(&hash).map_err(EthRpcError::internal)? {
            Some(height) => self.executed(height),
            None => Ok(None),
        }
    }

    /// Transaction `index` of an executed block, as `eth_getTransactionByHash` shows it.
    fn transaction_at(
        &self,
        block: Option<ExecutedBlock>,
        index: u64,
    ) -> EthResult<Option<Transaction>> {
        let Some(block) = block else {
            return Ok(None);
        };
        let Some(index) = u32::try_from(index)
            .ok()
            .filter(|i| u64::from(*i) < block.tx_count)
        else {
            return Ok(None);
        };
        let receipt = self
            .exec
            .state
            .receipt(block.height, index)
            .map_err(EthRpcError::internal)?
            .ok_or_else(|| EthRpcError::internal("receipt missing"))?;
        let raw = self.decided_transaction(block.height, index)?;
        let envelope = decode_canonical(&raw).map_err(EthRpcError::internal)?;
        Ok(Some(rpc_transaction(
            envelope,
            receipt.from,
            Some((&block, index)),
            block.base_fee,
        )))
    }

    /// Every receipt of `block`, each with its block-wide log indexes.
    fn receipts_of(&self, block: &ExecutedBlock) -> EthResult<Vec<LazyReceipt>> {
        let receipts = self
            .exec
            .state
            .receipts(block.height)
            .map_err(EthRpcError::internal)?;
        let mut first_log = 0usize;
        let mut out = Vec::with_capacity(receipts.len());
        for (i, receipt) in receipts.iter().enumerate() {
            out.push(rpc_receipt(receipt, block, i as u32, first_log));
            first_log += receipt.logs.len();
        }
        Ok(out)
    }

    fn find_block_by_number(
        &self,
        block: Option<BlockParam>,
        full: bool,
    ) -> EthResult<Option<ExecutedRpcBlock>> {
        let height = self.height(block)?;
        self.executed(height)?
            .map(|b| self.block_answer(&b, full))
            .transpose()
    }

    fn find_block_by_hash(&self, hash: B256, full: bool) -> EthResult<Option<ExecutedRpcBlock>> {
        let state = &self.exec.state;
        let Some(height) = state.height_of_hash(&hash).map_err(EthRpcError::internal)? else {
            return Ok(None);
        };
        self.executed(height)?
            .map(|b| self.block_answer(&b, full))
            .transpose()
    }

    fn find_transaction(&self, hash: B256) -> EthResult<Option<Transaction>> {
        if let Some((block, index, receipt)) = self.located(&hash)? {
            let raw = self.decided_transaction(block.height, index)?;
            let envelope = decode_canonical(&raw).map_err(EthRpcError::internal)?;
            return Ok(Some(rpc_transaction(
                envelope,
                receipt.from,
                Some((&block, index)),
                block.base_fee,
            )));
        }
        // Ordered or pooled, not executed yet.
        let store = self.node.store();
        let raw = match store.tx_location(&hash.0).map_err(EthRpcError::internal)? {
            Some((height, index)) => store
                .decided(height)
                .map_err(EthRpcError::internal)?
                .and_then(|d| {
                    d.block
                        .body
                        .transactions()
                        .nth(index as usize)
                        .map(|t| t.to_vec())
                }),
            // Held for a nonce gap: pending, as geth shows a queued transaction.
            None => self.node.mempool_raw(&hash).or_else(|| {
                self.admission
                    .as_ref()
                    .and_then(|a| a.held_raw(&hash))
                    .map(|raw| raw.to_vec())
            }),
        };
        let Some(raw) = raw else {
            return Ok(None);
        };
        let envelope = decode_canonical(&raw).map_err(EthRpcError::internal)?;
        let from = recover_sender(&envelope).unwrap_or_default();
        Ok(Some(rpc_transaction(
            envelope,
            from,
            None,
            self.node.next_base_fee(),
        )))
    }

    pub(super) fn find_receipt(&self, hash: B256) -> EthResult<Option<LazyReceipt>> {
        let Some((block, index, receipt)) = self.located(&hash)? else {
            return Ok(None);
        };
        let receipts = self
            .exec
            .state
            .receipts(block.height)
            .map_err(EthRpcError::internal)?;
        let first_log: usize = receipts
            .iter()
            .take(index as usize)
            .map(|r| r.logs.len())
            .sum();
        Ok(Some(rpc_receipt(&receipt, &block, index, first_log)))
    }

    pub(super) fn find_logs(&self, filter: Filter) -> EthResult<Vec<Log>> {
        let latest = self.exec.status().executed_height;
        let (from, to) = match filter.block_option {
            FilterBlockOption::AtBlockHash(hash) => {
                let height = self
                    .exec
                    .state
                    .height_of_hash(&hash)
                    .map_err(EthRpcError::internal)?
                    .ok_or(EthRpcError::UnknownBlock)?;
                (height, height)
            }
            FilterBlockOption::Range {
                from_block,
                to_block,
            } => (
                self.height(from_block.map(BlockParam::from))?,
                self.height(to_block.map(BlockParam::from))?.min(latest),
            ),
        };
        if to >= from && to - from >= MAX_LOG_RANGE {
            return Err(EthRpcError::RangeTooLarge);
        }
        self.logs_between(&filter, from, to)
    }

    /// The logs of executed heights `from..=to` that `filter`'s addresses and topics match
    /// (its block range is the caller's), up to the first height not executed.
    pub(super) fn logs_between(&self, filter: &Filter, from: u64, to: u64) -> EthResult<Vec<Log>> {
        let mut out = Vec::new();
        for height in from..=to {
            let Some(block) = self.executed(height)? else {
                break;
            };
            if !filter.matches_bloom(block.logs_bloom) {
                continue;
            }
            let receipts = self
                .exec
                .state
                .receipts(height)
                .map_err(EthRpcError::internal)?;
            let mut log_index = 0usize;
            for (i, receipt) in receipts.iter().enumerate() {
                for log in &receipt.logs {
                    if filter.matches_address(log.address) && filter.matches_topics(log.topics()) {
                        out.push(rpc_log(log, &block, receipt, i as u32, log_index));
                    }
                    log_index += 1;
                }
            }
        }
        Ok(out)
    }

    pub(super) fn block_answer(
        &self,
        block: &ExecutedBlock,
        full: bool,
    ) -> EthResult<ExecutedRpcBlock> {
        let (header, raws) = if block.height > 0 {
            let decided = self.decided(block.height)?;
            let raws = decided
                .block
                .body
                .transactions()
                .map(|t| t.to_vec())
                .collect();
            (Some(DataHeader::from(&decided.block.header)), raws)
        } else {
            (None, Vec::new())
        };
        let transactions = if full {
            let receipts = self
                .exec
                .state
                .receipts(block.height)
                .map_err(EthRpcError::internal)?;
            let mut txs = Vec::with_capacity(raws.len());
            for (i, raw) in raws.iter().enumerate() {
                let from = receipts.get(i).map(|r| r.from).unwrap_or_default();
                // Validators decide canonical encodings only.
                let envelope = decode_canonical(raw).map_err(EthRpcError::internal)?;
                txs.push(rpc_transaction(
                    envelope,
                    from,
                    Some((block, i as u32)),
                    block.base_fee,
                ));
            }
            BlockTransactions::Full(txs)
        } else {
            BlockTransactions::Hashes(raws.iter().map(|raw| tx_hash(raw)).collect())
        };
        Ok(rpc_block(block, header, transactions))
    }
}

/// A block number or tag resolved to a height (absent: the latest). Whether the height exists
/// is the caller's question.
fn resolve(block: Option<BlockNumberOrTag>, tags: &Tags) -> EthResult<u64> {
    let Some(number) = block else {
        return Ok(tags.latest);
    };
    match number {
        BlockNumberOrTag::Latest | BlockNumberOrTag::Pending => Ok(tags.latest),
        BlockNumberOrTag::Safe if tags.alarm => Err(EthRpcError::SafetyAlarm { tag: "safe" }),
        BlockNumberOrTag::Finalized if tags.alarm => {
            Err(EthRpcError::SafetyAlarm { tag: "finalized" })
        }
        BlockNumberOrTag::Safe => Ok(tags.safe),
        BlockNumberOrTag::Finalized => Ok(tags.finalized),
        BlockNumberOrTag::Earliest => Ok(0),
        BlockNumberOrTag::Number(n) => Ok(n),
    }
}

/// A call's overrides (none when absent or `null`): the state it reads through and its
/// block, never written anywhere.
fn overrides(
    state: Option<Arg<StateOverridesParam>>,
    block: Option<Arg<BlockOverridesParam>>,
) -> EthResult<(StateOverrides, BlockOverrides)> {
    Ok((
        optional(state)?.map(|s| s.0).unwrap_or_default(),
        optional(block)?.map(|b| b.0).unwrap_or_default(),
    ))
}

fn call_request(request: TransactionRequest) -> CallRequest {
    CallRequest {
        from: request.from,
        to: request.to.and_then(|kind| kind.to().copied()),
        gas: request.gas,
        gas_price: request.gas_price,
        max_fee_per_gas: request.max_fee_per_gas,
        max_priority_fee_per_gas: request.max_priority_fee_per_gas,
        value: request.value,
        // cast sends both `data` and `input`; `input` wins, as in geth.
        input: request.input.input().cloned().unwrap_or_default(),
        access_list: request.access_list.unwrap_or_default(),
        authorization_list: request.authorization_list.unwrap_or_default(),
    }
}

impl EthApiServer for EthRpc {
    fn block_number(&self) -> EthResult<U64> {
        Ok(U64::from(self.exec.status().executed_height))
    }

    fn gas_price(&self) -> EthResult<U256> {
        Ok(U256::from(self.node.next_base_fee()) + U256::from(SUGGESTED_TIP))
    }

    fn max_priority_fee_per_gas(&self) -> EthResult<U256> {
        Ok(U256::from(SUGGESTED_TIP))
    }

    fn syncing(&self) -> EthResult<Syncing> {
        let s = self.exec.status();
        if s.executed_height >= s.data_height {
            return Ok(Syncing::Done(false));
        }
        Ok(Syncing::Behind(SyncProgress {
            starting_block: U64::ZERO,
            current_block: U64::from(s.executed_height),
            highest_block: U64::from(s.data_height),
        }))
    }

    fn fee_history(
        &self,
        block_count: Option<Arg<BlockCountParam>>,
        newest_block: Option<Arg<BlockParam>>,
        reward_percentiles: Option<Arg<PercentilesParam>>,
    ) -> EthResult<FeeHistory> {
        let count = optional(block_count)?
            .map_or(1, |c| c.0)
            .clamp(1, MAX_FEE_HISTORY);
        let latest = self.exec.status().executed_height;
        let newest = self.height(optional(newest_block)?)?.min(latest);
        let percentiles = optional(reward_percentiles)?.map_or_else(Vec::new, |p| p.0);
        let oldest = newest.saturating_sub(count - 1);
        let mut history = FeeHistory {
            oldest_block: oldest,
            reward: (!percentiles.is_empty()).then(Vec::new),
            ..Default::default()
        };
        for height in oldest..=newest {
            let Some(b) = self.executed(height)? else {
                break;
            };
            history.base_fee_per_gas.push(u128::from(b.base_fee));
            // No blobs on this chain: the blob base fee stays at its minimum, as the EVM's
            // BLOBBASEFEE reads it.
            history.base_fee_per_blob_gas.push(1);
            history.blob_gas_used_ratio.push(0.0);
            history.gas_used_ratio.push(if b.gas_limit == 0 {
                0.0
            } else {
                b.gas_used as f64 / b.gas_limit as f64
            });
            if let Some(rewards) = &mut history.reward {
                rewards.push(vec![u128::from(SUGGESTED_TIP); percentiles.len()]);
            }
        }
        // The next block's base fee, as the execution budget sets it from the latest decided
        // header (protocol §10.1).
        history
            .base_fee_per_gas
            .push(u128::from(self.node.next_base_fee()));
        history.base_fee_per_blob_gas.push(1);
        Ok(history)
    }

    fn balance(
        &self,
        address: Option<Arg<AddressParam>>,
        block: Option<Arg<BlockParam>>,
    ) -> EthResult<U256> {
        let AddressParam(address) = required(address)?;
        let (_, snap) = self.state_at(optional(block)?)?;
        let account = snap.account(&address).map_err(EthRpcError::internal)?;
        Ok(account.map(|a| a.balance).unwrap_or_default())
    }

    fn transaction_count(
        &self,
        address: Option<Arg<AddressParam>>,
        block: Option<Arg<BlockParam>>,
    ) -> EthResult<U64> {
        let AddressParam(address) = required(address)?;
        let block = optional(block)?;
        let pending = block.is_some_and(|b| b.is_pending());
        let snap = if pending {
            self.exec.state.snapshot().map_err(EthRpcError::internal)?
        } else {
            self.state_at(block)?.1
        };
        let mut nonce = snap
            .account(&address)
            .map_err(EthRpcError::internal)?
            .map_or(0, |a| a.nonce);
        if pending {
            // Ordered but not executed, and pooled up to a gap: clients send back to back.
            nonce = pending_nonce(nonce, &self.exec, &self.node, &address);
        }
        Ok(U64::from(nonce))
    }

    fn code(
        &self,
        address: Option<Arg<AddressParam>>,
        block: Option<Arg<BlockParam>>,
    ) -> EthResult<Bytes> {
        let AddressParam(address) = required(address)?;
        let (_, snap) = self.state_at(optional(block)?)?;
        match snap.account(&address).map_err(EthRpcError::internal)? {
            Some(account)
                if account.code_hash != lazychain_exec_stf::revm::primitives::KECCAK_EMPTY =>
            {
                Ok(snap
                    .code(&account.code_hash)
                    .map_err(EthRpcError::internal)?
                    .unwrap_or_default())
            }
            _ => Ok(Bytes::new()),
        }
    }

    fn storage_at(
        &self,
        address: Option<Arg<AddressParam>>,
        slot: Option<Arg<SlotParam>>,
        block: Option<Arg<BlockParam>>,
    ) -> EthResult<B256> {
        let AddressParam(address) = required(address)?;
        let SlotParam(slot) = required(slot)?;
        let (_, snap) = self.state_at(optional(block)?)?;
        let value = snap
            .storage(&address, &slot)
            .map_err(EthRpcError::internal)?;
        Ok(B256::from(value))
    }

    fn call(
        &self,
        request: Option<Arg<CallParam>>,
        block: Option<Arg<BlockParam>>,
        state_overrides: Option<Arg<StateOverridesParam>>,
        block_overrides: Option<Arg<BlockOverridesParam>>,
    ) -> EthResult<Bytes> {
        let CallParam(request) = required(request)?;
        let (state_overrides, block_overrides) = overrides(state_overrides, block_overrides)?;
        let (request, context, snap) = self.call_inputs(request, optional(block)?)?;
        let (params, context) = block_overrides.apply(&self.exec.params, &context);
        let state = Overridden::new(&snap, &state_overrides);
        match call(&params, &context, &request, &state)? {
            CallOutcome::Success { output, .. } => Ok(output),
            failed => Err(EthRpcError::from_outcome(failed)),
        }
    }

    fn estimate_gas(
        &self,
        request: Option<Arg<CallParam>>,
        block: Option<Arg<BlockParam>>,
        state_overrides: Option<Arg<StateOverridesParam>>,
        block_overrides: Option<Arg<BlockOverridesParam>>,
    ) -> EthResult<U64> {
        let CallParam(request) = required(request)?;
        let (state_overrides, block_overrides) = overrides(state_overrides, block_overrides)?;
        let (request, context, snap) = self.call_inputs(request, optional(block)?)?;
        let (params, context) = block_overrides.apply(&self.exec.params, &context);
        let state = Overridden::new(&snap, &state_overrides);
        match estimate_gas(&params, &context, &request, &state)? {
            Ok(gas) => Ok(U64::from(gas)),
            Err(failed) => Err(EthRpcError::from_outcome(failed)),
        }
    }

    fn create_access_list(
        &self,
        request: Option<Arg<CallParam>>,
        block: Option<Arg<BlockParam>>,
    ) -> EthResult<AccessListResult> {
        let CallParam(request) = required(request)?;
        let (request, context, snap) = self.call_inputs(request, optional(block)?)?;
        let (access_list, outcome) =
            create_access_list(&self.exec.params, &context, &request, &snap)?;
        // As geth: a call that fails still answers its list, with the EVM's error beside it
        // (a revert without its reason).
        let (gas_used, error) = match outcome {
            CallOutcome::Success { gas_used, .. } => (gas_used, None),
            CallOutcome::Revert { gas_used, .. } => (gas_used, Some("execution reverted".into())),
            CallOutcome::Halt { gas_used, .. } => (
                gas_used,
                Some(EthRpcError::from_outcome(outcome).to_string()),
            ),
        };
        Ok(AccessListResult {
            access_list,
            gas_used: U256::from(gas_used),
            error,
        })
    }

    fn block_by_number(
        &self,
        block: Option<Arg<BlockParam>>,
        full: Option<Arg<FullParam>>,
    ) -> EthResult<Option<ExecutedRpcBlock>> {
        let block = optional(block)?;
        let full = optional(full)?.is_some_and(|f| f.0);
        self.find_block_by_number(block, full)
    }

    fn block_by_hash(
        &self,
        hash: Option<Arg<BlockHashParam>>,
        full: Option<Arg<FullParam>>,
    ) -> EthResult<Option<ExecutedRpcBlock>> {
        let BlockHashParam(hash) = required(hash)?;
        let full = optional(full)?.is_some_and(|f| f.0);
        self.find_block_by_hash(hash, full)
    }

    fn block_transaction_count_by_number(
        &self,
        block: Option<Arg<BlockParam>>,
    ) -> EthResult<Option<U64>> {
        let height = self.height(optional(block)?)?;
        Ok(self.executed(height)?.map(|b| U64::from(b.tx_count)))
    }

    fn block_transaction_count_by_hash(
        &self,
        hash: Option<Arg<BlockHashParam>>,
    ) -> EthResult<Option<U64>> {
        let BlockHashParam(hash) = required(hash)?;
        Ok(self.block_of_hash(hash)?.map(|b| U64::from(b.tx_count)))
    }

    fn transaction_by_block_number_and_index(
        &self,
        block: Option<Arg<BlockParam>>,
        index: Option<Arg<IndexParam>>,
    ) -> EthResult<Option<Transaction>> {
        let block = required(block)?;
        let IndexParam(index) = required(index)?;
        let block = self.executed(self.height(Some(block))?)?;
        self.transaction_at(block, index)
    }

    fn transaction_by_block_hash_and_index(
        &self,
        hash: Option<Arg<BlockHashParam>>,
        index: Option<Arg<IndexParam>>,
    ) -> EthResult<Option<Transaction>> {
        let BlockHashParam(hash) = required(hash)?;
        let IndexParam(index) = required(index)?;
        let block = self.block_of_hash(hash)?;
        self.transaction_at(block, index)
    }

    fn block_receipts(
        &self,
        block: Option<Arg<BlockOrHashParam>>,
    ) -> EthResult<Option<Vec<LazyReceipt>>> {
        let BlockOrHashParam(block) = required(block)?;
        self.block_of(Some(block))?
            .map(|b| self.receipts_of(&b))
            .transpose()
    }

    fn accounts(&self) -> EthResult<Vec<Address>> {
        Ok(Vec::new())
    }

    fn transaction_by_hash(
        &self,
        hash: Option<Arg<TxHashParam>>,
    ) -> EthResult<Option<Transaction>> {
        let TxHashParam(hash) = required(hash)?;
        self.find_transaction(hash)
    }

    fn transaction_receipt(
        &self,
        hash: Option<Arg<TxHashParam>>,
    ) -> EthResult<Option<LazyReceipt>> {
        let TxHashParam(hash) = required(hash)?;
        self.find_receipt(hash)
    }

    fn logs(&self, filter: Option<Arg<FilterParam>>) -> EthResult<Vec<Log>> {
        let filter = optional(filter)?.map(|f| f.0).unwrap_or_default();
        self.find_logs(filter)
    }

    fn execution(&self, block: Option<Arg<BlockParam>>) -> EthResult<Option<Execution>> {
        let height = self.height(optional(block)?)?;
        let Some(b) = self.executed(height)? else {
            return Ok(None);
        };
        let trace = self
            .exec
            .state
            .trace(height)
            .map_err(EthRpcError::internal)?
            .unwrap_or_default();
        Ok(Some(Execution::new(&b, trace)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(t: BlockNumberOrTag) -> Option<BlockNumberOrTag> {
        Some(t)
    }

    #[test]
    fn block_tags_resolve() {
        let mut tags = Tags {
            latest: 7,
            safe: 5,
            finalized: 2,
            alarm: false,
        };
        let resolved = |b, tags: &Tags| resolve(b, tags).ok();
        assert_eq!(resolved(None, &tags), Some(7));
        assert_eq!(resolved(tag(BlockNumberOrTag::Pending), &tags), Some(7));
        assert_eq!(resolved(tag(BlockNumberOrTag::Safe), &tags), Some(5));
        assert_eq!(resolved(tag(BlockNumberOrTag::Finalized), &tags), Some(2));
        assert_eq!(resolved(tag(BlockNumberOrTag::Number(3)), &tags), Some(3));
        assert_eq!(resolved(tag(BlockNumberOrTag::Earliest), &tags), Some(0));
        // Under a safety alarm the executor refuses the tags that name consensus roots.
        tags.alarm = true;
        assert!(resolve(tag(BlockNumberOrTag::Finalized), &tags).is_err());
        assert!(resolve(tag(BlockNumberOrTag::Safe), &tags).is_err());
        assert_eq!(resolved(tag(BlockNumberOrTag::Latest), &tags), Some(7));
    }
}
