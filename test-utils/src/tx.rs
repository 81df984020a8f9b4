//! Keys, addresses and signed EIP-1559 transactions.

use alloy_consensus::{SignableTransaction, Signed, TxEip1559};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Address, Bytes, Signature, TxKind, B256, U256};
use secp256k1::{Message, SecretKey, SECP256K1};

/// The recipient of [`transfer_tx`].
pub const TRANSFER_TO: Address = Address::repeat_byte(0x42);
/// The default max fee per gas of [`transfer_tx`] and [`eip1559_tx`]: 2 gwei.
pub const MAX_FEE: u128 = 2_000_000_000;

/// The deterministic key `[seed; 32]` (seed 0 counts as 1: zero is not a key).
pub fn key(seed: u8) -> SecretKey {
    SecretKey::from_byte_array([seed.max(1); 32]).expect("a non-zero scalar below the order")
}

/// The Ethereum address of a secp256k1 key.
pub fn address_of(key: &SecretKey) -> Address {
    Address::from_raw_public_key(&key.public_key(SECP256K1).serialize_uncompressed()[1..])
}

/// The recoverable signature of `hash` by `key`.
pub fn signature(key: &SecretKey, hash: B256) -> Signature {
    Signature::from(SECP256K1.sign_ecdsa_recoverable(Message::from_digest(hash.0), key))
}

/// `tx` (of any type) signed by `key`, EIP-2718 encoded (as `eth_sendRawTransaction` takes
/// it).
pub fn sign<T>(key: &SecretKey, tx: T) -> Vec<u8>
where
    T: SignableTransaction<Signature>,
    Signed<T>: Encodable2718,
{
    let sig = signature(key, tx.signature_hash());
    tx.into_signed(sig).encoded_2718()
}

/// The transfer most tests send: 1 wei to [`TRANSFER_TO`], 21,000 gas, a max fee of
/// [`MAX_FEE`] and a priority fee of 1 wei. Change a field with struct update syntax:
/// `TxEip1559 { max_fee_per_gas: fee, ..transfer_tx(chain_id, nonce) }`.
pub fn transfer_tx(chain_id: u64, nonce: u64) -> TxEip1559 {
    eip1559_tx(
        chain_id,
        nonce,
        Some(TRANSFER_TO),
        U256::from(1u64),
        21_000,
        Vec::new(),
    )
}

/// An EIP-1559 transaction (`to: None` creates) with a max fee of [`MAX_FEE`], a priority fee
/// of 1 wei and no access list.
pub fn eip1559_tx(
    chain_id: u64,
    nonce: u64,
    to: Option<Address>,
    value: U256,
    gas_limit: u64,
    input: Vec<u8>,
) -> TxEip1559 {
    TxEip1559 {
        chain_id,
        nonce,
        gas_limit,
        max_fee_per_gas: MAX_FEE,
        max_priority_fee_per_gas: 1,
        to: to.map_or(TxKind::Create, TxKind::Call),
        value,
        access_list: Default::default(),
        input: Bytes::from(input),
    }
}

/// [`transfer_tx`] with a max fee of `max_fee`, signed by `key` and EIP-2718 encoded.
pub fn transfer(key: &SecretKey, chain_id: u64, nonce: u64, max_fee: u128) -> Vec<u8> {
    sign(
        key,
        TxEip1559 {
            max_fee_per_gas: max_fee,
            ..transfer_tx(chain_id, nonce)
        },
    )
}

/// `0x`-prefixed lowercase hex, as JSON-RPC writes bytes.
pub fn hex0x(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_consensus::{transaction::SignerRecoverable, TxEnvelope};
    use alloy_eips::eip2718::Decodable2718;

    #[test]
    fn a_signed_transfer_decodes_and_recovers_its_sender() {
        let k = key(7);
        let raw = transfer(&k, 1337, 3, 5_000_000_000);
        let envelope = TxEnvelope::decode_2718(&mut raw.as_slice()).expect("decodes");
        let TxEnvelope::Eip1559(signed) = &envelope else {
            panic!("an EIP-1559 transaction: {envelope:?}");
        };
        assert_eq!(signed.tx().nonce, 3);
        assert_eq!(signed.tx().chain_id, 1337);
        assert_eq!(signed.tx().max_fee_per_gas, 5_000_000_000);
        assert_eq!(signed.tx().to, TxKind::Call(TRANSFER_TO));
        assert_eq!(envelope.recover_signer().expect("recovers"), address_of(&k));
    }

    #[test]
    fn the_address_of_a_known_key() {
        // The first account of the standard dev mnemonic ("test test ... junk").
        let k = SecretKey::from_byte_array(
            hex::decode("ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80")
                .expect("hex")
                .try_into()
                .expect("32 bytes"),
        )
        .expect("key");
        assert_eq!(
            address_of(&k),
            "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
                .parse::<Address>()
                .expect("address")
        );
    }

    #[test]
    fn hex0x_prefixes() {
        assert_eq!(hex0x(&[0xab, 0x01]), "0xab01");
        assert_eq!(hex0x(&[]), "0x");
    }
}
