//! The addresses that name validators and executors on chain, derived from their ed25519
//! public keys.

use sha2::{Digest, Sha256};

/// Domain-separation tag hashed in front of a public key to derive a validator address.
pub const VALIDATOR_ADDRESS_TAG: &[u8] = b"LAZYCHAIN_VALIDATOR_ADDRESS";

/// Domain-separation tag hashed in front of a public key to derive an executor address.
pub const EXECUTOR_ADDRESS_TAG: &[u8] = b"LAZYCHAIN_EXECUTOR_ADDRESS";

/// The first 20 bytes of `sha256(tag || public_key)`.
fn tagged_address(tag: &[u8], public_key: &[u8; 32]) -> [u8; 20] {
    let mut hasher = Sha256::new();
    hasher.update(tag);
    hasher.update(public_key);
    let digest = hasher.finalize();
    let mut address = [0u8; 20];
    address.copy_from_slice(&digest[..20]);
    address
}

/// A validator's address: the first 20 bytes of
/// `sha256(VALIDATOR_ADDRESS_TAG || public_key)`.
pub fn validator_address(public_key: &[u8; 32]) -> [u8; 20] {
    tagged_address(VALIDATOR_ADDRESS_TAG, public_key)
}

/// An executor's address, which names it in state claims and in the bond ledger: the first
/// 20 bytes of `sha256(EXECUTOR_ADDRESS_TAG || public_key)`. The tag differs from the
/// validator's, so one key never has the same address in both roles.
pub fn executor_address(public_key: &[u8; 32]) -> [u8; 20] {
    tagged_address(EXECUTOR_ADDRESS_TAG, public_key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_is_tagged_sha256_prefix() {
        let pk = [7u8; 32];
        let mut preimage = VALIDATOR_ADDRESS_TAG.to_vec();
        preimage.extend_from_slice(&pk);
        let digest = Sha256::digest(&preimage);
        assert_eq!(validator_address(&pk)[..], digest[..20]);
        // A different tag or key gives a different address.
        assert_ne!(validator_address(&pk), validator_address(&[8u8; 32]));
    }

    #[test]
    fn executor_address_is_tagged_sha256_prefix() {
        let pk = [7u8; 32];
        let mut preimage = b"LAZYCHAIN_EXECUTOR_ADDRESS".to_vec();
        preimage.extend_from_slice(&pk);
        let digest = Sha256::digest(&preimage);
        assert_eq!(executor_address(&pk)[..], digest[..20]);
        assert_ne!(executor_address(&pk), executor_address(&[8u8; 32]));
        // The same key has different addresses as a validator and as an executor.
        assert_ne!(executor_address(&pk), validator_address(&pk));
    }
}
