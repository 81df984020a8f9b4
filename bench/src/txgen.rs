//! Deterministic pre-signed Ethereum transactions for load generation.

use alloy_consensus::{SignableTransaction, TxEip1559};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{keccak256, Address, Bytes, Signature, TxKind, B256, U256};
use secp256k1::{Message, SecretKey, SECP256K1};

/// One workload's transaction shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// A plain ETH transfer (~110 bytes).
    Transfer,
    /// A call carrying `n` bytes of non-zero calldata.
    Payload(usize),
}

impl Shape {
    pub fn name(&self) -> String {
        match self {
            Shape::Transfer => "transfer".into(),
            Shape::Payload(n) => format!("{}B payload", n),
        }
    }
}

/// A signed transaction with its hash.
#[derive(Clone, Debug)]
pub struct SignedTx {
    pub hash: B256,
    pub raw: Vec<u8>,
}

/// The deterministic key of sender `i` under `seed`.
pub fn sender_key(seed: u64, i: u64) -> SecretKey {
    let mut material = b"LAZYCHAIN_BENCH_SENDER".to_vec();
    material.extend_from_slice(&seed.to_be_bytes());
    material.extend_from_slice(&i.to_be_bytes());
    let mut counter = 0u8;
    loop {
        let mut m = material.clone();
        m.push(counter);
        if let Ok(k) = SecretKey::from_byte_array(keccak256(&m).0) {
            return k;
        }
        counter = counter.wrapping_add(1);
    }
}

/// Signs `count` transactions of `shape`, spread over `senders` senders (nonces ascending per
/// sender), using every core.
pub fn generate(
    chain_id: u64,
    shape: Shape,
    senders: u64,
    count: usize,
    seed: u64,
) -> Vec<SignedTx> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let per = count.div_ceil(threads);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                s.spawn(move || {
                    let start = t * per;
                    let end = (start + per).min(count);
                    (start..end)
                        .map(|i| sign_one(chain_id, shape, senders, i as u64, seed))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    })
}

/// `tx` signed with `key`, as raw EIP-2718 bytes.
pub fn sign(tx: TxEip1559, key: &SecretKey) -> Vec<u8> {
    let digest = tx.signature_hash();
    let sig =
        Signature::from(SECP256K1.sign_ecdsa_recoverable(Message::from_digest(digest.0), key));
    tx.into_signed(sig).encoded_2718()
}

fn sign_one(chain_id: u64, shape: Shape, senders: u64, i: u64, seed: u64) -> SignedTx {
    let sender = i % senders.max(1);
    let nonce = i / senders.max(1);
    let key = sender_key(seed, sender);
    let (input, gas_limit) = match shape {
        Shape::Transfer => (Bytes::new(), 21_000),
        Shape::Payload(n) => (Bytes::from(vec![0xab; n]), 21_000 + 16 * n as u64),
    };
    let tx = TxEip1559 {
        chain_id,
        nonce,
        gas_limit,
        max_fee_per_gas: 2_000_000_000,
        max_priority_fee_per_gas: 1_000_000_000,
        to: TxKind::Call(Address::repeat_byte(0x42)),
        value: U256::from(1u64),
        access_list: Default::default(),
        input,
    };
    let raw = sign(tx, &key);
    SignedTx {
        hash: keccak256(&raw),
        raw,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_distinct() {
        let a = generate(7, Shape::Transfer, 3, 10, 1);
        let b = generate(7, Shape::Transfer, 3, 10, 1);
        assert_eq!(a.len(), 10);
        assert_eq!(
            a.iter().map(|t| t.hash).collect::<Vec<_>>(),
            b.iter().map(|t| t.hash).collect::<Vec<_>>()
        );
        let mut hashes: Vec<_> = a.iter().map(|t| t.hash).collect();
        hashes.sort();
        hashes.dedup();
        assert_eq!(hashes.len(), 10);
        let p = generate(7, Shape::Payload(1024), 3, 1, 1);
        assert!(p[0].raw.len() > 1024);
    }
}
