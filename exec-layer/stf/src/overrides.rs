//! `eth_call`'s and `eth_estimateGas`'s overrides: a call may run as if some accounts had
//! another balance, nonce, code or storage, and in a block with other fields. Overrides are
//! a reader over the state ([`Overridden`]) and a changed block context
//! ([`BlockOverrides::apply`]): nothing is written, and block execution never sees them.

use std::collections::HashMap;

use alloy_primitives::{keccak256, Address, Bytes, B256, U256};
use revm::primitives::KECCAK_EMPTY;

use crate::env::{BlockContext, ChainParams};
use crate::keys::AccountValue;
use crate::state::{ReadError, StateReader};

/// What a call sees of one account instead of the state's.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AccountOverride {
    pub balance: Option<U256>,
    pub nonce: Option<u64>,
    pub code: Option<Bytes>,
    pub storage: Option<StorageOverride>,
}

/// geth's `state` (the whole storage) or `stateDiff` (some slots).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StorageOverride {
    /// Exactly these slots; every other slot reads zero.
    Replace(HashMap<U256, U256>),
    /// These slots; the others read from the state.
    Diff(HashMap<U256, U256>),
}

/// Per-account overrides (`eth_call`'s third parameter).
pub type StateOverrides = HashMap<Address, AccountOverride>;

/// `state` as `overrides` change it.
pub struct Overridden<'a, R> {
    state: &'a R,
    overrides: &'a StateOverrides,
    /// The override codes by hash: revm reads code by the hash the account names.
    codes: HashMap<B256, Bytes>,
}

impl<'a, R: StateReader> Overridden<'a, R> {
    pub fn new(state: &'a R, overrides: &'a StateOverrides) -> Self {
        let codes = overrides
            .values()
            .filter_map(|o| o.code.as_ref())
            .filter(|code| !code.is_empty())
            .map(|code| (keccak256(code), code.clone()))
            .collect();
        Overridden {
            state,
            overrides,
            codes,
        }
    }
}

impl<R: StateReader> StateReader for Overridden<'_, R> {
    fn account(&self, address: &Address) -> Result<Option<AccountValue>, ReadError> {
        let base = self.state.account(address)?;
        let Some(o) = self.overrides.get(address) else {
            return Ok(base);
        };
        let mut account = base.unwrap_or_default();
        if let Some(balance) = o.balance {
            account.balance = balance;
        }
        if let Some(nonce) = o.nonce {
            account.nonce = nonce;
        }
        if let Some(code) = &o.code {
            account.code_hash = if code.is_empty() {
                KECCAK_EMPTY
            } else {
                keccak256(code)
            };
        }
        // EIP-161: an empty account is an absent one, overridden or not.
        Ok((!account.is_empty()).then_some(account))
    }

    fn storage(&self, address: &Address, slot: &U256) -> Result<U256, ReadError> {
        match self.overrides.get(address).and_then(|o| o.storage.as_ref()) {
            Some(StorageOverride::Replace(slots)) => {
                Ok(slots.get(slot).copied().unwrap_or_default())
            }
            Some(StorageOverride::Diff(slots)) => match slots.get(slot) {
                Some(value) => Ok(*value),
                None => self.state.storage(address, slot),
            },
            None => self.state.storage(address, slot),
        }
    }

    fn code(&self, code_hash: &B256) -> Result<Option<Bytes>, ReadError> {
        match self.codes.get(code_hash) {
            Some(code) => Ok(Some(code.clone())),
            None => self.state.code(code_hash),
        }
    }

    fn block_hash(&self, height: u64) -> Result<B256, ReadError> {
        self.state.block_hash(height)
    }
}

/// The block fields a call may run with instead of the next block's (`eth_call`'s fourth
/// parameter).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BlockOverrides {
    pub number: Option<u64>,
    pub time: Option<u64>,
    pub gas_limit: Option<u64>,
    pub coinbase: Option<Address>,
    pub base_fee: Option<u64>,
    /// `PREVRANDAO`, which is the block hash here.
    pub random: Option<B256>,
}

impl BlockOverrides {
    /// The parameters and block context a call runs with under these overrides.
    pub fn apply(&self, params: &ChainParams, block: &BlockContext) -> (ChainParams, BlockContext) {
        let mut params = params.clone();
        let mut block = *block;
        if let Some(number) = self.number {
            block.height = number;
        }
        if let Some(time) = self.time {
            block.timestamp = time;
        }
        if let Some(gas_limit) = self.gas_limit {
            params.block_gas_limit = gas_limit;
        }
        if let Some(coinbase) = self.coinbase {
            block.beneficiary = coinbase;
        }
        if let Some(base_fee) = self.base_fee {
            block.base_fee = base_fee;
        }
        if let Some(random) = self.random {
            block.hash = random;
        }
        (params, block)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::MemoryState;

    const ALICE: Address = Address::repeat_byte(0xa1);
    const STRANGER: Address = Address::repeat_byte(0x77);

    fn state() -> MemoryState {
        let mut state = MemoryState::default();
        state.accounts.insert(
            ALICE,
            AccountValue {
                nonce: 3,
                balance: U256::from(100),
                ..Default::default()
            },
        );
        state.storage.insert((ALICE, U256::from(1)), U256::from(11));
        state.storage.insert((ALICE, U256::from(2)), U256::from(22));
        state
    }

    #[test]
    fn accounts_read_their_overrides_and_the_state_beneath() {
        let state = state();
        let code = Bytes::from_static(&[0x60, 0x2a]);
        let overrides = StateOverrides::from([
            (
                ALICE,
                AccountOverride {
                    balance: Some(U256::from(7)),
                    storage: Some(StorageOverride::Diff(HashMap::from([(
                        U256::from(1),
                        U256::from(99),
                    )]))),
                    ..Default::default()
                },
            ),
            (
                STRANGER,
                AccountOverride {
                    code: Some(code.clone()),
                    storage: Some(StorageOverride::Replace(HashMap::new())),
                    ..Default::default()
                },
            ),
        ]);
        let reader = Overridden::new(&state, &overrides);
        let alice = reader.account(&ALICE).ok().flatten();
        assert_eq!(
            alice.map(|a| (a.nonce, a.balance)),
            Some((3, U256::from(7)))
        );
        assert_eq!(
            reader.storage(&ALICE, &U256::from(1)).ok(),
            Some(U256::from(99))
        );
        assert_eq!(
            reader.storage(&ALICE, &U256::from(2)).ok(),
            Some(U256::from(22))
        );
        let stranger = reader.account(&STRANGER).ok().flatten();
        assert_eq!(stranger.map(|a| a.code_hash), Some(keccak256(&code)));
        assert_eq!(reader.code(&keccak256(&code)).ok().flatten(), Some(code));
        // The state beneath is untouched.
        assert_eq!(
            state.accounts.get(&ALICE).map(|a| a.balance),
            Some(U256::from(100))
        );
    }

    #[test]
    fn a_replaced_storage_reads_zero_outside_its_slots() {
        let state = state();
        let overrides = StateOverrides::from([(
            ALICE,
            AccountOverride {
                storage: Some(StorageOverride::Replace(HashMap::from([(
                    U256::from(2),
                    U256::from(5),
                )]))),
                ..Default::default()
            },
        )]);
        let reader = Overridden::new(&state, &overrides);
        assert_eq!(
            reader.storage(&ALICE, &U256::from(1)).ok(),
            Some(U256::ZERO)
        );
        assert_eq!(
            reader.storage(&ALICE, &U256::from(2)).ok(),
            Some(U256::from(5))
        );
    }

    #[test]
    fn block_overrides_change_only_what_they_name() {
        let params = ChainParams {
            chain_id: 1,
            spec: revm::primitives::hardfork::SpecId::OSAKA,
            base_fee_per_gas: 7,
            block_gas_limit: 30_000_000,
            trace_period: 1,
            fee_recipients: HashMap::new(),
        };
        let block = BlockContext {
            height: 9,
            hash: B256::repeat_byte(9),
            parent_hash: B256::repeat_byte(8),
            timestamp: 1_000,
            beneficiary: Address::repeat_byte(0xbe),
            base_fee: 7,
        };
        let overrides = BlockOverrides {
            number: Some(100),
            gas_limit: Some(50_000_000),
            base_fee: Some(0),
            ..Default::default()
        };
        let (p, b) = overrides.apply(&params, &block);
        assert_eq!(
            (b.height, b.base_fee, p.block_gas_limit),
            (100, 0, 50_000_000)
        );
        assert_eq!(
            (b.timestamp, b.beneficiary, b.hash),
            (1_000, block.beneficiary, block.hash)
        );
    }
}
