//! Keys, signed transactions of every type the chain admits, and ABI call data.

use alloy_consensus::{SignableTransaction, TxEip1559, TxEip2930, TxEip7702, TxLegacy};
use alloy_eips::eip2718::Encodable2718;
use alloy_eips::eip2930::{AccessList, AccessListItem};
use alloy_eips::eip7702::{Authorization, SignedAuthorization};
use alloy_primitives::{keccak256, Address, Bytes, Signature, TxKind, B256, U256};
use secp256k1::{Message, SecretKey, SECP256K1};

use crate::{BASE_FEE, CHAIN_ID};

pub const ETH: u128 = 1_000_000_000_000_000_000;

/// A secp256k1 key and its address.
#[derive(Clone, Debug)]
pub struct Key {
    pub secret: SecretKey,
    pub address: Address,
}

impl Key {
    /// The `i`-th deterministic key.
    pub fn from_index(i: u64) -> Self {
        let mut bytes = keccak256(format!("lazychain harness key {i}")).0;
        // A keccak output is a valid secp256k1 scalar except with negligible probability.
        bytes[0] &= 0x7f;
        bytes[31] |= 1;
        let secret = SecretKey::from_byte_array(bytes).unwrap_or_else(|_| {
            SecretKey::from_byte_array([1; 32]).unwrap_or_else(|_| unreachable_key())
        });
        let public = secret.public_key(SECP256K1).serialize_uncompressed();
        Key {
            secret,
            address: Address::from_raw_public_key(&public[1..]),
        }
    }

    fn signature(&self, hash: B256) -> Signature {
        Signature::from(
            SECP256K1.sign_ecdsa_recoverable(Message::from_digest(hash.0), &self.secret),
        )
    }

    /// An EIP-1559 transaction.
    pub fn eip1559(
        &self,
        nonce: u64,
        to: Option<Address>,
        value: U256,
        gas: u64,
        input: Vec<u8>,
    ) -> Vec<u8> {
        self.eip1559_with(nonce, to, value, gas, input, AccessList::default())
    }

    /// An EIP-1559 transaction with an access list.
    pub fn eip1559_with(
        &self,
        nonce: u64,
        to: Option<Address>,
        value: U256,
        gas: u64,
        input: Vec<u8>,
        access_list: AccessList,
    ) -> Vec<u8> {
        let tx = TxEip1559 {
            chain_id: CHAIN_ID,
            nonce,
            gas_limit: gas,
            max_fee_per_gas: 2 * BASE_FEE as u128,
            max_priority_fee_per_gas: 1_000_000,
            to: to.map(TxKind::Call).unwrap_or(TxKind::Create),
            value,
            access_list,
            input: Bytes::from(input),
        };
        let sig = self.signature(tx.signature_hash());
        tx.into_signed(sig).encoded_2718()
    }

    /// A legacy (EIP-155) transaction.
    pub fn legacy(
        &self,
        nonce: u64,
        to: Option<Address>,
        value: U256,
        gas: u64,
        input: Vec<u8>,
    ) -> Vec<u8> {
        let tx = TxLegacy {
            chain_id: Some(CHAIN_ID),
            nonce,
            gas_price: 2 * BASE_FEE as u128,
            gas_limit: gas,
            to: to.map(TxKind::Call).unwrap_or(TxKind::Create),
            value,
            input: Bytes::from(input),
        };
        let sig = self.signature(tx.signature_hash());
        tx.into_signed(sig).encoded_2718()
    }

    /// An EIP-2930 transaction whose access list names `warm`.
    pub fn eip2930(
        &self,
        nonce: u64,
        to: Option<Address>,
        value: U256,
        gas: u64,
        input: Vec<u8>,
        warm: &[(Address, Vec<B256>)],
    ) -> Vec<u8> {
        let tx = TxEip2930 {
            chain_id: CHAIN_ID,
            nonce,
            gas_price: 2 * BASE_FEE as u128,
            gas_limit: gas,
            to: to.map(TxKind::Call).unwrap_or(TxKind::Create),
            value,
            access_list: access_list(warm),
            input: Bytes::from(input),
        };
        let sig = self.signature(tx.signature_hash());
        tx.into_signed(sig).encoded_2718()
    }

    /// An EIP-7702 transaction carrying the given authorizations.
    pub fn eip7702(
        &self,
        nonce: u64,
        to: Address,
        gas: u64,
        input: Vec<u8>,
        authorizations: Vec<SignedAuthorization>,
    ) -> Vec<u8> {
        let tx = TxEip7702 {
            chain_id: CHAIN_ID,
            nonce,
            gas_limit: gas,
            max_fee_per_gas: 2 * BASE_FEE as u128,
            max_priority_fee_per_gas: 1_000_000,
            to,
            value: U256::ZERO,
            access_list: AccessList::default(),
            authorization_list: authorizations,
            input: Bytes::from(input),
        };
        let sig = self.signature(tx.signature_hash());
        tx.into_signed(sig).encoded_2718()
    }

    /// Signs any transaction and returns its EIP-2718 encoding: for the fields the helpers
    /// above fix (another chain id, no chain id, fee caps, a priority fee above the cap, ...).
    pub fn sign<T>(&self, tx: T) -> Vec<u8>
    where
        T: SignableTransaction<Signature>,
        alloy_consensus::Signed<T>: Encodable2718,
    {
        let sig = self.signature(tx.signature_hash());
        tx.into_signed(sig).encoded_2718()
    }

    /// This key's authorization to delegate its code to `to`, at account nonce `nonce`.
    pub fn authorize(&self, to: Address, nonce: u64) -> SignedAuthorization {
        let auth = Authorization {
            chain_id: U256::from(CHAIN_ID),
            address: to,
            nonce,
        };
        self.sign_authorization(auth)
    }

    /// Signs any authorization (another chain id, any nonce): EIP-7702's authority signature.
    pub fn sign_authorization(&self, auth: Authorization) -> SignedAuthorization {
        let sig = self.signature(auth.signature_hash());
        auth.into_signed(sig)
    }
}

#[cold]
fn unreachable_key() -> SecretKey {
    // [1; 32] is below the curve order, so the fallback above never reaches here.
    SecretKey::from_byte_array([2; 32]).unwrap_or_else(|_| unreachable_key())
}

/// An access list naming `warm`.
pub fn access_list(warm: &[(Address, Vec<B256>)]) -> AccessList {
    AccessList(
        warm.iter()
            .map(|(address, keys)| AccessListItem {
                address: *address,
                storage_keys: keys.clone(),
            })
            .collect(),
    )
}

/// The 4-byte selector of a function signature such as `"set(uint256,uint256)"`.
pub fn selector(signature: &str) -> [u8; 4] {
    let h = keccak256(signature.as_bytes());
    [h[0], h[1], h[2], h[3]]
}

/// One ABI argument.
#[derive(Clone, Debug)]
pub enum Arg {
    Uint(U256),
    Address(Address),
    Word(B256),
    Bool(bool),
    Bytes(Vec<u8>),
    String(String),
    Addresses(Vec<Address>),
}

impl Arg {
    pub fn uint(v: u64) -> Self {
        Arg::Uint(U256::from(v))
    }

    fn is_dynamic(&self) -> bool {
        matches!(self, Arg::Bytes(_) | Arg::String(_) | Arg::Addresses(_))
    }

    fn head(&self) -> [u8; 32] {
        match self {
            Arg::Uint(v) => v.to_be_bytes::<32>(),
            Arg::Address(a) => B256::left_padding_from(a.as_slice()).0,
            Arg::Word(w) => w.0,
            Arg::Bool(b) => U256::from(u8::from(*b)).to_be_bytes::<32>(),
            _ => [0; 32],
        }
    }

    fn tail(&self) -> Vec<u8> {
        let padded = |bytes: &[u8]| {
            let mut out = U256::from(bytes.len()).to_be_bytes::<32>().to_vec();
            out.extend_from_slice(bytes);
            out.resize(32 + bytes.len().div_ceil(32) * 32, 0);
            out
        };
        match self {
            Arg::Bytes(b) => padded(b),
            Arg::String(s) => padded(s.as_bytes()),
            Arg::Addresses(list) => {
                let mut out = U256::from(list.len()).to_be_bytes::<32>().to_vec();
                for a in list {
                    out.extend_from_slice(&B256::left_padding_from(a.as_slice()).0);
                }
                out
            }
            _ => Vec::new(),
        }
    }
}

/// ABI-encoded call data: the selector of `signature`, then `args`.
pub fn call(signature: &str, args: &[Arg]) -> Vec<u8> {
    let mut out = selector(signature).to_vec();
    let mut tail = Vec::new();
    let head_len = 32 * args.len();
    for arg in args {
        if arg.is_dynamic() {
            out.extend_from_slice(&U256::from(head_len + tail.len()).to_be_bytes::<32>());
            tail.extend_from_slice(&arg.tail());
        } else {
            out.extend_from_slice(&arg.head());
        }
    }
    out.extend_from_slice(&tail);
    out
}
