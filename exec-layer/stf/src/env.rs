//! The execution environment: chain-wide parameters fixed at genesis, and the EVM block
//! environment derived from a data-block header alone (no execution needed to know it).

use std::collections::HashMap;

use alloy_primitives::{Address, B256, U256};
use lazychain_data_chain_types::BlockHeader;
use revm::context::{BlockEnv, CfgEnv};
use revm::context_interface::block::BlobExcessGasAndPrice;
use revm::primitives::eip4844::BLOB_BASE_FEE_UPDATE_FRACTION_PRAGUE;
use revm::primitives::hardfork::SpecId;

/// The hardforks a genesis may name, oldest first.
pub const HARDFORKS: &[(&str, SpecId)] = &[
    ("cancun", SpecId::CANCUN),
    ("prague", SpecId::PRAGUE),
    ("osaka", SpecId::OSAKA),
];

/// The EVM rules for a hardfork name from genesis.
pub fn hardfork(name: &str) -> Option<SpecId> {
    HARDFORKS
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, spec)| *spec)
}

/// Chain-wide execution parameters, all from genesis.
#[derive(Clone, Debug)]
pub struct ChainParams {
    pub chain_id: u64,
    pub spec: SpecId,
    /// The genesis base fee (wei per gas): the floor of the base fee that each block's header
    /// carries (`BlockContext::base_fee`). Burned, as in EIP-1559.
    pub base_fee_per_gas: u64,
    /// The EVM block gas limit: the data chain's limit on the sum of gas limits.
    pub block_gas_limit: u64,
    /// An intermediate state root is recorded after every `trace_period` transactions.
    pub trace_period: u64,
    /// Validator address (the data block's `proposer`) -> the fee recipient of its blocks.
    pub fee_recipients: HashMap<[u8; 20], Address>,
}

/// What the EVM sees of a data block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockContext {
    pub height: u64,
    /// The data-block hash; also `PREVRANDAO`.
    pub hash: B256,
    pub parent_hash: B256,
    /// Seconds: the header's millisecond timestamp, rounded down.
    pub timestamp: u64,
    /// The proposer's fee recipient (zero for a proposer genesis does not know).
    pub beneficiary: Address,
    /// The block's base fee (wei per gas), from its header (the execution budget's price).
    pub base_fee: u64,
}

impl ChainParams {
    /// The block context of a decided data block whose hash is `hash`.
    pub fn block_context(&self, header: &BlockHeader, hash: B256) -> BlockContext {
        BlockContext {
            height: header.height,
            hash,
            parent_hash: B256::from_slice(header.parent_hash.as_ref()),
            timestamp: header.timestamp_ms / 1000,
            beneficiary: self
                .fee_recipients
                .get(&header.proposer_address())
                .copied()
                .unwrap_or(Address::ZERO),
            base_fee: header.base_fee_per_gas,
        }
    }

    pub(crate) fn cfg(&self) -> CfgEnv {
        let mut cfg = CfgEnv::new_with_spec(self.spec);
        cfg.chain_id = self.chain_id;
        cfg
    }

    pub(crate) fn block_env(&self, block: &BlockContext) -> BlockEnv {
        BlockEnv {
            number: U256::from(block.height),
            beneficiary: block.beneficiary,
            timestamp: U256::from(block.timestamp),
            gas_limit: self.block_gas_limit,
            basefee: block.base_fee,
            difficulty: U256::ZERO,
            prevrandao: Some(block.hash),
            // No blobs on this chain: blob transactions are refused at admission.
            blob_excess_gas_and_price: Some(BlobExcessGasAndPrice::new(
                0,
                BLOB_BASE_FEE_UPDATE_FRACTION_PRAGUE,
            )),
            slot_num: 0,
        }
    }
}
