//! The transition's parameters and genesis state as a genesis file defines them: what an
//! executor executes with and what every verifier of a fraud proof checks with. One function
//! for both, so that they cannot disagree.

use alloy_primitives::B256;
use lazychain_chainspec::Genesis;
use lazychain_exec_stf::genesis::{genesis_writes, tree_of, AllocAccount};
use lazychain_exec_stf::ChainParams;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum GenesisError {
    #[error("genesis: unknown hardfork {0:?}")]
    UnknownHardfork(String),
}

/// The execution parameters of a genesis file.
pub fn chain_params(genesis: &Genesis) -> Result<ChainParams, GenesisError> {
    let spec = lazychain_exec_stf::hardfork(&genesis.execution.hardfork)
        .ok_or_else(|| GenesisError::UnknownHardfork(genesis.execution.hardfork.clone()))?;
    Ok(ChainParams {
        chain_id: genesis.chain_id,
        spec,
        base_fee_per_gas: genesis.execution.base_fee_per_gas,
        block_gas_limit: genesis.limits.max_block_gas,
        trace_period: genesis.execution.trace_period,
        fee_recipients: genesis
            .validators
            .iter()
            .map(|v| (v.address(), v.fee_recipient))
            .collect(),
    })
}

/// The genesis allocation in the transition's terms.
pub fn alloc(genesis: &Genesis) -> Vec<AllocAccount> {
    genesis
        .execution
        .alloc
        .iter()
        .map(|a| AllocAccount {
            address: a.address,
            balance: a.balance,
            nonce: a.nonce,
            code: a.code.clone(),
            storage: a.storage.clone(),
        })
        .collect()
}

/// The state root before block 1: the root every height-1 claim must start from.
pub fn genesis_state_root(genesis: &Genesis) -> B256 {
    B256::from(tree_of(&genesis_writes(&alloc(genesis))).root())
}
