//! How EVM state maps onto the flat authenticated map: three kinds of key (account, storage
//! slot, code), each a SHA-256 of a domain tag and its identifiers, and the value bytes stored
//! under each. The state tree commits to `sha256(value bytes)` under the key path.
//!
//! Every executor and every fraud-proof verifier must derive the same keys and bytes: this
//! module is part of the protocol (docs/protocol.md, "Authenticated state").

use alloy_primitives::{Address, B256, U256};
use lazychain_exec_state_tree::{KeyPath, ValueHash};
use revm::primitives::KECCAK_EMPTY;
use sha2::{Digest, Sha256};

const ACCOUNT_TAG: &[u8] = b"LAZYCHAIN_ACCOUNT";
const STORAGE_TAG: &[u8] = b"LAZYCHAIN_STORAGE";
const CODE_TAG: &[u8] = b"LAZYCHAIN_CODE";

/// Bytes of an encoded [`AccountValue`].
pub const ACCOUNT_VALUE_BYTES: usize = 8 + 32 + 32;

/// One entry of the flat state, by what it identifies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StateKey {
    Account(Address),
    Storage(Address, U256),
    Code(B256),
}

impl StateKey {
    /// The key path in the state tree.
    pub fn path(&self) -> KeyPath {
        let mut h = Sha256::new();
        match self {
            StateKey::Account(address) => {
                h.update(ACCOUNT_TAG);
                h.update(address);
            }
            StateKey::Storage(address, slot) => {
                h.update(STORAGE_TAG);
                h.update(address);
                h.update(slot.to_be_bytes::<32>());
            }
            StateKey::Code(hash) => {
                h.update(CODE_TAG);
                h.update(hash);
            }
        }
        h.finalize().into()
    }
}

/// The committed part of an account: nonce, balance and the keccak hash of its code
/// ([`KECCAK_EMPTY`] without code). The code itself lives under [`StateKey::Code`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AccountValue {
    pub nonce: u64,
    pub balance: U256,
    pub code_hash: B256,
}

impl Default for AccountValue {
    fn default() -> Self {
        AccountValue {
            nonce: 0,
            balance: U256::ZERO,
            code_hash: KECCAK_EMPTY,
        }
    }
}

impl AccountValue {
    /// EIP-161 empty: such an account is absent from the state.
    pub fn is_empty(&self) -> bool {
        self.nonce == 0 && self.balance.is_zero() && self.code_hash == KECCAK_EMPTY
    }

    /// `nonce (8, big-endian) ‖ balance (32, big-endian) ‖ code hash (32)`.
    pub fn encode(&self) -> [u8; ACCOUNT_VALUE_BYTES] {
        let mut out = [0u8; ACCOUNT_VALUE_BYTES];
        out[..8].copy_from_slice(&self.nonce.to_be_bytes());
        out[8..40].copy_from_slice(&self.balance.to_be_bytes::<32>());
        out[40..].copy_from_slice(self.code_hash.as_slice());
        out
    }

    /// The inverse of [`AccountValue::encode`]; `None` unless exactly 72 bytes.
    pub fn decode(bytes: &[u8]) -> Option<Self> {
        if bytes.len() != ACCOUNT_VALUE_BYTES {
            return None;
        }
        let mut nonce = [0u8; 8];
        nonce.copy_from_slice(&bytes[..8]);
        Some(AccountValue {
            nonce: u64::from_be_bytes(nonce),
            balance: U256::from_be_slice(&bytes[8..40]),
            code_hash: B256::from_slice(&bytes[40..]),
        })
    }
}

/// The value hash the state tree stores for `value` bytes.
pub fn value_hash(value: &[u8]) -> ValueHash {
    Sha256::digest(value).into()
}

/// A storage value's bytes: 32 bytes, big-endian. Zero is never stored (the slot is absent).
pub fn storage_value_bytes(value: &U256) -> [u8; 32] {
    value.to_be_bytes::<32>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_values_round_trip() {
        let value = AccountValue {
            nonce: 7,
            balance: U256::from(123_456_789u64) << 100,
            code_hash: B256::repeat_byte(0xab),
        };
        assert_eq!(AccountValue::decode(&value.encode()), Some(value));
        assert_eq!(AccountValue::decode(&value.encode()[1..]), None);
        assert!(AccountValue::default().is_empty());
        assert!(!value.is_empty());
    }

    #[test]
    fn key_kinds_never_collide() {
        let a = Address::repeat_byte(1);
        let paths = [
            StateKey::Account(a).path(),
            StateKey::Storage(a, U256::ZERO).path(),
            StateKey::Storage(a, U256::from(1)).path(),
            StateKey::Code(B256::left_padding_from(a.as_slice())).path(),
            StateKey::Account(Address::repeat_byte(2)).path(),
        ];
        for (i, x) in paths.iter().enumerate() {
            for y in &paths[i + 1..] {
                assert_ne!(x, y);
            }
        }
    }

    /// Pins the key derivation: changing it changes every state root.
    #[test]
    fn account_key_is_pinned() {
        let path = StateKey::Account(Address::ZERO).path();
        let mut h = Sha256::new();
        h.update(b"LAZYCHAIN_ACCOUNT");
        h.update([0u8; 20]);
        let expected: [u8; 32] = h.finalize().into();
        assert_eq!(path, expected);
    }
}
