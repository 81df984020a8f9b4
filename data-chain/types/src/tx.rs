//! Stateless transaction admission: the checks a validator runs on a raw Ethereum transaction
//! without reading any state.
//!
//! Validators never execute, so everything here is a pure function of the bytes and the
//! [`TxRules`]: size, a full and **canonical** EIP-2718 decoding (legacy, EIP-2930, EIP-1559
//! and EIP-7702 set-code; no blob transactions), chain id, gas limit, fee floor, and an EIP-2
//! signature from which the sender is recovered. Nonce and balance are the executors'
//! business: a transaction that fails for a state reason is skipped deterministically at
//! execution time. So are EIP-7702 authorizations: their signatures, chain ids and nonces are
//! checked during execution, where an invalid one is ignored (EIP-7702), never here.
//!
//! Canonical bytes matter because blocks and transaction roots commit to the raw bytes while
//! executors identify a transaction by the hash of its re-encoding. `alloy-consensus` accepts
//! `0x00 || rlp(legacy)` and re-encodes it without the `0x00` (found by fuzzing, see
//! `notes/reliability.md` 6.7); admitting it would give one transaction two identities. So
//! [`admit`] accepts `raw` only if `encode(decode(raw)) == raw`, and [`AdmittedTx::hash`] is the
//! keccak of those canonical bytes, equal to the hash every Ethereum tool computes.
//!
//! Checks run cheapest first; [`precheck`] stops before signature recovery (about 70 µs with
//! libsecp256k1), [`admit`] is [`precheck`] followed by [`recover_sender`].

use alloy_consensus::{
    crypto::SECP256K1N_HALF, transaction::RlpEcdsaDecodableTx, Signed, TxEip1559, TxEip2930,
    TxEip7702, TxEnvelope, TxLegacy,
};
use alloy_eips::{
    eip2718::{Encodable2718, Typed2718},
    eip2930::AccessListItem,
};
use alloy_primitives::{keccak256, Address, Bytes, Signature, TxKind, B256};

/// Gas every transaction pays before execution.
pub const TX_BASE_GAS: u64 = 21_000;
/// Extra gas of a contract-creation transaction.
pub const TX_CREATE_GAS: u64 = 32_000;
/// Gas per zero byte of calldata.
pub const TX_DATA_ZERO_GAS: u64 = 4;
/// Gas per non-zero byte of calldata (EIP-2028).
pub const TX_DATA_NON_ZERO_GAS: u64 = 16;
/// Gas per address in an EIP-2930 access list.
pub const ACCESS_LIST_ADDRESS_GAS: u64 = 2_400;
/// Gas per storage key in an EIP-2930 access list.
pub const ACCESS_LIST_STORAGE_KEY_GAS: u64 = 1_900;
/// Gas per 32-byte word of init code in a creation (EIP-3860).
pub const INITCODE_WORD_GAS: u64 = 2;
/// Largest init code a creation may carry (EIP-3860: twice the EIP-170 code size limit).
pub const MAX_INITCODE_SIZE: usize = 2 * 24_576;
/// Intrinsic gas per EIP-7702 authorization (`PER_EMPTY_ACCOUNT_COST`; 12,500 of it is
/// refunded during execution when the authority already exists).
pub const PER_AUTHORIZATION_GAS: u64 = 25_000;
/// Most authorizations one EIP-7702 transaction may carry. Each authority is read during
/// execution (its account and its code: at most two state keys, about 1.3 KB of witness), so
/// 256 of them take at most about a fifth of the state one transaction may read
/// (`MAX_TX_WITNESS_BYTES` of the execution layer, protocol §10.6), leaving the rest for the
/// call itself; the execution layer asserts this at compile time. Wallets send one.
pub const MAX_AUTHORIZATIONS: usize = 256;

/// Limits a validator applies to every transaction, from genesis and node config.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TxRules {
    /// The only chain id accepted (EIP-155 / the typed transactions' `chain_id` field).
    pub chain_id: u64,
    /// Largest accepted encoding, in bytes (geth: 128 KiB).
    pub max_tx_bytes: usize,
    /// Largest accepted gas limit of one transaction.
    pub max_tx_gas: u64,
    /// Lowest accepted gas price (legacy, EIP-2930) or max fee per gas (EIP-1559), in wei.
    pub min_gas_price: u128,
}

/// A transaction that passed every stateless check; `raw` are its canonical EIP-2718 bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdmittedTx {
    /// keccak256 of `raw`: the standard Ethereum transaction hash.
    pub hash: B256,
    /// The address recovered from the signature.
    pub sender: Address,
    /// The sender's nonce the transaction claims (not checked against state).
    pub nonce: u64,
    /// The gas limit the sender signed.
    pub gas_limit: u64,
    /// Gas price (legacy, EIP-2930) or max fee per gas (EIP-1559), in wei.
    pub max_fee_per_gas: u128,
    /// The canonical EIP-2718 encoding, exactly as received.
    pub raw: Bytes,
}

/// Why a signature yields no sender.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// EIP-2: `s` must be at most secp256k1n / 2 (the malleable twin is rejected).
    #[error("signature s value is greater than secp256k1n/2 (EIP-2)")]
    HighS,
    /// `r` or `s` is zero or out of range, or no public key recovers from it.
    #[error("signature does not recover a public key")]
    Unrecoverable,
}

/// Why a transaction is not admitted. Messages follow geth's where geth has one, so that tools
/// matching on them keep working; each names the offending value and the limit.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TxError {
    /// The encoding is longer than [`TxRules::max_tx_bytes`].
    #[error("oversized data: transaction size {size}, limit {limit}")]
    Oversized {
        /// Bytes received.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The bytes are not valid RLP for the transaction type (includes truncated input).
    #[error("rlp: {0}")]
    Rlp(alloy_rlp::Error),
    /// A whole transaction decoded but bytes follow it.
    #[error("invalid transaction encoding: {trailing} trailing bytes after the transaction")]
    TrailingBytes {
        /// Bytes left after the transaction.
        trailing: usize,
    },
    /// The bytes decode but are not the canonical encoding of what they decode to, e.g. a
    /// `0x00` type byte in front of a legacy transaction.
    #[error("non-canonical transaction encoding")]
    NonCanonical,
    /// A typed transaction other than EIP-2930 (0x01), EIP-1559 (0x02) or EIP-7702 (0x04):
    /// blob (0x03) and unknown types.
    #[error("transaction type not supported: type {ty:#04x}")]
    TypeNotSupported {
        /// The EIP-2718 type byte.
        ty: u8,
    },
    /// A legacy transaction signed without an EIP-155 chain id.
    #[error("only replay-protected (EIP-155) transactions allowed over RPC")]
    NotReplayProtected,
    /// Signed for another chain.
    #[error("invalid chain id: have {have} want {want}")]
    WrongChainId {
        /// The transaction's chain id.
        have: u64,
        /// [`TxRules::chain_id`].
        want: u64,
    },
    /// A creation whose init code exceeds [`MAX_INITCODE_SIZE`] (EIP-3860).
    #[error("max initcode size exceeded: code size {size} limit {limit}")]
    InitcodeTooLarge {
        /// Init code bytes.
        size: usize,
        /// [`MAX_INITCODE_SIZE`].
        limit: usize,
    },
    /// The gas limit does not cover [`intrinsic_gas`].
    #[error("intrinsic gas too low: have {have}, want {want}")]
    IntrinsicGasTooLow {
        /// The transaction's gas limit.
        have: u64,
        /// Its intrinsic gas.
        want: u64,
    },
    /// The gas limit is above [`TxRules::max_tx_gas`].
    #[error("exceeds block gas limit: gas limit {have}, maximum {max}")]
    GasLimitTooHigh {
        /// The transaction's gas limit.
        have: u64,
        /// [`TxRules::max_tx_gas`].
        max: u64,
    },
    /// The gas price or max fee per gas is below [`TxRules::min_gas_price`].
    #[error("transaction underpriced: max fee {have} below minimum {min}")]
    Underpriced {
        /// The transaction's gas price or max fee per gas.
        have: u128,
        /// [`TxRules::min_gas_price`].
        min: u128,
    },
    /// EIP-1559: the priority fee exceeds the max fee.
    #[error(
        "max priority fee per gas higher than max fee per gas: priority fee {priority}, max fee {max}"
    )]
    PriorityFeeAboveMaxFee {
        /// `max_priority_fee_per_gas`.
        priority: u128,
        /// `max_fee_per_gas`.
        max: u128,
    },
    /// An EIP-7702 transaction without authorizations, which EIP-7702 declares invalid.
    #[error("EIP-7702 transaction with empty auth list")]
    EmptyAuthorizationList,
    /// An EIP-7702 transaction with more than [`MAX_AUTHORIZATIONS`] authorizations.
    #[error("too many authorizations: {count}, limit {limit}")]
    TooManyAuthorizations {
        /// Authorizations the transaction carries.
        count: usize,
        /// [`MAX_AUTHORIZATIONS`].
        limit: usize,
    },
    /// The signature is invalid.
    #[error("invalid sender: {0}")]
    InvalidSender(SignatureError),
}

impl From<alloy_rlp::Error> for TxError {
    fn from(err: alloy_rlp::Error) -> Self {
        Self::Rlp(err)
    }
}

/// keccak256 of the raw bytes: the transaction hash when `raw` is canonical.
pub fn tx_hash(raw: &[u8]) -> B256 {
    keccak256(raw)
}

/// Gas charged before execution: 21000, plus 32000 for a creation, plus 4 per zero and 16 per
/// non-zero byte of `input`, plus 2400 per access-list address and 1900 per storage key, plus
/// (creation only, EIP-3860) 2 per 32-byte word of init code. Saturates instead of overflowing.
pub fn intrinsic_gas(input: &[u8], is_create: bool, access_list: &[AccessListItem]) -> u64 {
    let zeros = input.iter().filter(|b| **b == 0).count() as u64;
    let non_zeros = input.len() as u64 - zeros;
    let mut gas = TX_BASE_GAS
        .saturating_add(zeros.saturating_mul(TX_DATA_ZERO_GAS))
        .saturating_add(non_zeros.saturating_mul(TX_DATA_NON_ZERO_GAS));
    if is_create {
        let words = (input.len() as u64).div_ceil(32);
        gas = gas
            .saturating_add(TX_CREATE_GAS)
            .saturating_add(words.saturating_mul(INITCODE_WORD_GAS));
    }
    for item in access_list {
        gas = gas.saturating_add(ACCESS_LIST_ADDRESS_GAS).saturating_add(
            (item.storage_keys.len() as u64).saturating_mul(ACCESS_LIST_STORAGE_KEY_GAS),
        );
    }
    gas
}

/// Intrinsic gas of a transaction carrying `authorizations` EIP-7702 authorizations on top of
/// [`intrinsic_gas`]: [`PER_AUTHORIZATION_GAS`] each.
pub fn authorization_gas(authorizations: usize) -> u64 {
    (authorizations as u64).saturating_mul(PER_AUTHORIZATION_GAS)
}

/// Decodes `raw` as one legacy, EIP-2930, EIP-1559 or EIP-7702 transaction that consumes the
/// whole input and is canonically encoded. The envelope's cached hash is `keccak256(raw)`.
pub fn decode_canonical(raw: &[u8]) -> Result<TxEnvelope, TxError> {
    decode_canonical_hashed(raw, tx_hash(raw))
}

/// [`decode_canonical`] for a caller that already hashed the bytes: `hash` must be
/// [`tx_hash`]`(raw)` (hashing a large transaction again costs more than decoding it).
pub fn decode_canonical_hashed(raw: &[u8], hash: B256) -> Result<TxEnvelope, TxError> {
    let Some((&first, body)) = raw.split_first() else {
        return Err(TxError::Rlp(alloy_rlp::Error::InputTooShort));
    };
    let mut buf = body;
    let envelope = match first {
        // An RLP list: a legacy transaction, which has no type byte.
        0xc0..=0xff => {
            buf = raw;
            let (tx, sig) = TxLegacy::rlp_decode_with_signature(&mut buf)?;
            TxEnvelope::Legacy(Signed::new_unchecked(tx, sig, hash))
        }
        0x01 => {
            let (tx, sig) = TxEip2930::rlp_decode_with_signature(&mut buf)?;
            TxEnvelope::Eip2930(Signed::new_unchecked(tx, sig, hash))
        }
        0x02 => {
            let (tx, sig) = TxEip1559::rlp_decode_with_signature(&mut buf)?;
            TxEnvelope::Eip1559(Signed::new_unchecked(tx, sig, hash))
        }
        0x04 => {
            let (tx, sig) = TxEip7702::rlp_decode_with_signature(&mut buf)?;
            TxEnvelope::Eip7702(Signed::new_unchecked(tx, sig, hash))
        }
        // No transaction type 0 exists: alloy would decode `0x00 || rlp(legacy)` as the
        // legacy transaction and re-encode it without the 0x00.
        0x00 => return Err(TxError::NonCanonical),
        // An RLP string: not a transaction (the network form of a typed transaction is not
        // what `eth_sendRawTransaction` takes).
        0x80..=0xbf => return Err(TxError::Rlp(alloy_rlp::Error::UnexpectedString)),
        ty => return Err(TxError::TypeNotSupported { ty }),
    };
    if !buf.is_empty() {
        return Err(TxError::TrailingBytes {
            trailing: buf.len(),
        });
    }
    // Belt and braces: whatever else the RLP decoder tolerates must not give a second encoding.
    if envelope.encode_2718_len() != raw.len() || envelope.encoded_2718() != raw {
        return Err(TxError::NonCanonical);
    }
    Ok(envelope)
}

/// Every check but the signature, cheapest first: size, canonical decoding, chain id, init code
/// size, authorization count (EIP-7702), intrinsic gas, gas limit, fee floor, priority fee.
/// Returns the decoded envelope.
pub fn precheck(raw: &[u8], rules: &TxRules) -> Result<TxEnvelope, TxError> {
    precheck_with(raw, None, rules)
}

/// [`precheck`] with the bytes already hashed: `hash` must be [`tx_hash`]`(raw)`.
pub fn precheck_hashed(raw: &[u8], hash: B256, rules: &TxRules) -> Result<TxEnvelope, TxError> {
    precheck_with(raw, Some(hash), rules)
}

fn precheck_with(raw: &[u8], hash: Option<B256>, rules: &TxRules) -> Result<TxEnvelope, TxError> {
    if raw.len() > rules.max_tx_bytes {
        return Err(TxError::Oversized {
            size: raw.len(),
            limit: rules.max_tx_bytes,
        });
    }
    // Oversized bytes are refused before they are hashed.
    let hash = hash.unwrap_or_else(|| tx_hash(raw));
    let envelope = decode_canonical_hashed(raw, hash)?;
    let fields = Fields::of(&envelope)?;

    match fields.chain_id {
        None => return Err(TxError::NotReplayProtected),
        Some(have) if have != rules.chain_id => {
            return Err(TxError::WrongChainId {
                have,
                want: rules.chain_id,
            })
        }
        Some(_) => {}
    }
    if fields.is_create && fields.input.len() > MAX_INITCODE_SIZE {
        return Err(TxError::InitcodeTooLarge {
            size: fields.input.len(),
            limit: MAX_INITCODE_SIZE,
        });
    }
    if let Some(count) = fields.authorizations {
        if count == 0 {
            return Err(TxError::EmptyAuthorizationList);
        }
        if count > MAX_AUTHORIZATIONS {
            return Err(TxError::TooManyAuthorizations {
                count,
                limit: MAX_AUTHORIZATIONS,
            });
        }
    }
    let want = intrinsic_gas(fields.input, fields.is_create, fields.access_list)
        .saturating_add(authorization_gas(fields.authorizations.unwrap_or(0)));
    if fields.gas_limit < want {
        return Err(TxError::IntrinsicGasTooLow {
            have: fields.gas_limit,
            want,
        });
    }
    if fields.gas_limit > rules.max_tx_gas {
        return Err(TxError::GasLimitTooHigh {
            have: fields.gas_limit,
            max: rules.max_tx_gas,
        });
    }
    if fields.max_fee_per_gas < rules.min_gas_price {
        return Err(TxError::Underpriced {
            have: fields.max_fee_per_gas,
            min: rules.min_gas_price,
        });
    }
    if let Some(priority) = fields.max_priority_fee_per_gas {
        if priority > fields.max_fee_per_gas {
            return Err(TxError::PriorityFeeAboveMaxFee {
                priority,
                max: fields.max_fee_per_gas,
            });
        }
    }
    Ok(envelope)
}

/// Recovers the sender with libsecp256k1, rejecting high-s signatures (EIP-2).
pub fn recover_sender(envelope: &TxEnvelope) -> Result<Address, TxError> {
    let (signature, sighash): (&Signature, B256) = match envelope {
        TxEnvelope::Legacy(tx) => (tx.signature(), tx.signature_hash()),
        TxEnvelope::Eip2930(tx) => (tx.signature(), tx.signature_hash()),
        TxEnvelope::Eip1559(tx) => (tx.signature(), tx.signature_hash()),
        TxEnvelope::Eip7702(tx) => (tx.signature(), tx.signature_hash()),
        other => return Err(TxError::TypeNotSupported { ty: other.ty() }),
    };
    if signature.s() > SECP256K1N_HALF {
        return Err(TxError::InvalidSender(SignatureError::HighS));
    }
    alloy_consensus::crypto::secp256k1::recover_signer_unchecked(signature, sighash)
        .map_err(|_| TxError::InvalidSender(SignatureError::Unrecoverable))
}

/// Runs every stateless check on `raw` and recovers its sender: [`precheck`] then
/// [`recover_sender`].
pub fn admit(raw: &[u8], rules: &TxRules) -> Result<AdmittedTx, TxError> {
    admit_with(raw, None, rules)
}

/// [`admit`] with the bytes already hashed: `hash` must be [`tx_hash`]`(raw)`.
pub fn admit_hashed(raw: &[u8], hash: B256, rules: &TxRules) -> Result<AdmittedTx, TxError> {
    admit_with(raw, Some(hash), rules)
}

fn admit_with(raw: &[u8], hash: Option<B256>, rules: &TxRules) -> Result<AdmittedTx, TxError> {
    let envelope = precheck_with(raw, hash, rules)?;
    let sender = recover_sender(&envelope)?;
    let fields = Fields::of(&envelope)?;
    Ok(AdmittedTx {
        hash: *envelope.tx_hash(),
        sender,
        nonce: fields.nonce,
        gas_limit: fields.gas_limit,
        max_fee_per_gas: fields.max_fee_per_gas,
        raw: Bytes::copy_from_slice(raw),
    })
}

/// The fields the rules look at, borrowed from whichever supported variant.
struct Fields<'a> {
    chain_id: Option<u64>,
    nonce: u64,
    gas_limit: u64,
    max_fee_per_gas: u128,
    max_priority_fee_per_gas: Option<u128>,
    is_create: bool,
    input: &'a [u8],
    access_list: &'a [AccessListItem],
    /// EIP-7702 authorizations; `None` for the other types.
    authorizations: Option<usize>,
}

impl<'a> Fields<'a> {
    fn of(envelope: &'a TxEnvelope) -> Result<Self, TxError> {
        Ok(match envelope {
            TxEnvelope::Legacy(signed) => {
                let tx = signed.tx();
                Self {
                    chain_id: tx.chain_id,
                    nonce: tx.nonce,
                    gas_limit: tx.gas_limit,
                    max_fee_per_gas: tx.gas_price,
                    max_priority_fee_per_gas: None,
                    is_create: matches!(tx.to, TxKind::Create),
                    input: &tx.input,
                    access_list: &[],
                    authorizations: None,
                }
            }
            TxEnvelope::Eip2930(signed) => {
                let tx = signed.tx();
                Self {
                    chain_id: Some(tx.chain_id),
                    nonce: tx.nonce,
                    gas_limit: tx.gas_limit,
                    max_fee_per_gas: tx.gas_price,
                    max_priority_fee_per_gas: None,
                    is_create: matches!(tx.to, TxKind::Create),
                    input: &tx.input,
                    access_list: &tx.access_list.0,
                    authorizations: None,
                }
            }
            TxEnvelope::Eip1559(signed) => {
                let tx = signed.tx();
                Self {
                    chain_id: Some(tx.chain_id),
                    nonce: tx.nonce,
                    gas_limit: tx.gas_limit,
                    max_fee_per_gas: tx.max_fee_per_gas,
                    max_priority_fee_per_gas: Some(tx.max_priority_fee_per_gas),
                    is_create: matches!(tx.to, TxKind::Create),
                    input: &tx.input,
                    access_list: &tx.access_list.0,
                    authorizations: None,
                }
            }
            TxEnvelope::Eip7702(signed) => {
                let tx = signed.tx();
                Self {
                    chain_id: Some(tx.chain_id),
                    nonce: tx.nonce,
                    gas_limit: tx.gas_limit,
                    max_fee_per_gas: tx.max_fee_per_gas,
                    max_priority_fee_per_gas: Some(tx.max_priority_fee_per_gas),
                    // The type has an address, not a `TxKind`: a set-code transaction never
                    // creates (EIP-7702).
                    is_create: false,
                    input: &tx.input,
                    access_list: &tx.access_list.0,
                    authorizations: Some(tx.authorization_list.len()),
                }
            }
            other => return Err(TxError::TypeNotSupported { ty: other.ty() }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_consensus::{
        transaction::RlpEcdsaEncodableTx, SignableTransaction, TxEip4844, TxEip7702,
    };
    use alloy_eips::eip2930::AccessList;
    use alloy_eips::eip7702::{Authorization, SignedAuthorization};
    use alloy_primitives::{address, U256};
    use lazychain_test_utils::{address_of, signature};
    use secp256k1::SecretKey;

    const CHAIN_ID: u64 = 1_337;
    const GWEI: u128 = 1_000_000_000;
    /// The order of the secp256k1 group.
    const SECP256K1N: U256 = U256::from_be_bytes([
        0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        0xFE, 0xBA, 0xAE, 0xDC, 0xE6, 0xAF, 0x48, 0xA0, 0x3B, 0xBF, 0xD2, 0x5E, 0x8C, 0xD0, 0x36,
        0x41, 0x41,
    ]);
    const TO: Address = address!("0x00000000000000000000000000000000000000aa");

    fn rules() -> TxRules {
        TxRules {
            chain_id: CHAIN_ID,
            max_tx_bytes: 128 * 1024,
            max_tx_gas: 30_000_000,
            min_gas_price: GWEI,
        }
    }

    fn secret(seed: u8) -> SecretKey {
        let mut bytes = [0x11u8; 32];
        bytes[31] = seed;
        SecretKey::from_byte_array(bytes).expect("valid secret key")
    }

    /// Signs `tx` and returns its EIP-2718 encoding.
    fn sign<T: SignableTransaction<Signature> + RlpEcdsaEncodableTx>(
        tx: &T,
        sk: &SecretKey,
    ) -> Vec<u8> {
        encode_with(tx, &signature(sk, tx.signature_hash()))
    }

    fn encode_with<T: RlpEcdsaEncodableTx>(tx: &T, sig: &Signature) -> Vec<u8> {
        let mut out = Vec::new();
        tx.eip2718_encode(sig, &mut out);
        out
    }

    fn legacy(nonce: u64) -> TxLegacy {
        TxLegacy {
            chain_id: Some(CHAIN_ID),
            nonce,
            gas_price: 2 * GWEI,
            gas_limit: 21_000,
            to: TxKind::Call(TO),
            value: U256::from(1_000u64),
            input: Bytes::new(),
        }
    }

    fn eip2930() -> TxEip2930 {
        TxEip2930 {
            chain_id: CHAIN_ID,
            nonce: 7,
            gas_price: 3 * GWEI,
            gas_limit: 100_000,
            to: TxKind::Call(TO),
            value: U256::ZERO,
            access_list: AccessList(vec![AccessListItem {
                address: TO,
                storage_keys: vec![B256::ZERO, B256::with_last_byte(1)],
            }]),
            input: Bytes::from_static(&[0xa9, 0x05, 0x9c, 0xbb, 0, 0, 0]),
        }
    }

    fn eip1559() -> TxEip1559 {
        TxEip1559 {
            chain_id: CHAIN_ID,
            nonce: 42,
            gas_limit: 50_000,
            max_fee_per_gas: 5 * GWEI,
            max_priority_fee_per_gas: GWEI,
            to: TxKind::Call(TO),
            value: U256::from(5u64),
            access_list: AccessList::default(),
            input: Bytes::from_static(&[1, 2, 3, 0]),
        }
    }

    fn create() -> TxEip1559 {
        // 40 bytes of init code: 2 words.
        let code = vec![0x60u8; 40];
        TxEip1559 {
            chain_id: CHAIN_ID,
            nonce: 0,
            gas_limit: 200_000,
            max_fee_per_gas: 5 * GWEI,
            max_priority_fee_per_gas: GWEI,
            to: TxKind::Create,
            value: U256::ZERO,
            access_list: AccessList::default(),
            input: code.into(),
        }
    }

    fn assert_admitted(raw: &[u8], sk: &SecretKey, nonce: u64, gas_limit: u64, max_fee: u128) {
        let admitted = admit(raw, &rules()).expect("admitted");
        assert_eq!(admitted.sender, address_of(sk));
        assert_eq!(admitted.hash, keccak256(raw));
        assert_eq!(admitted.hash, tx_hash(raw));
        assert_eq!(admitted.nonce, nonce);
        assert_eq!(admitted.gas_limit, gas_limit);
        assert_eq!(admitted.max_fee_per_gas, max_fee);
        assert_eq!(admitted.raw.as_ref(), raw);
    }

    #[test]
    fn legacy_eip155_is_admitted() {
        let sk = secret(1);
        let raw = sign(&legacy(3), &sk);
        assert!(raw[0] >= 0xc0, "legacy transactions have no type byte");
        assert_admitted(&raw, &sk, 3, 21_000, 2 * GWEI);
    }

    #[test]
    fn eip2930_is_admitted() {
        let sk = secret(2);
        let raw = sign(&eip2930(), &sk);
        assert_eq!(raw[0], 0x01);
        assert_admitted(&raw, &sk, 7, 100_000, 3 * GWEI);
    }

    #[test]
    fn eip1559_is_admitted() {
        let sk = secret(3);
        let raw = sign(&eip1559(), &sk);
        assert_eq!(raw[0], 0x02);
        assert_admitted(&raw, &sk, 42, 50_000, 5 * GWEI);
    }

    #[test]
    fn contract_creation_is_admitted() {
        let sk = secret(4);
        let raw = sign(&create(), &sk);
        assert_admitted(&raw, &sk, 0, 200_000, 5 * GWEI);
    }

    #[test]
    fn hash_matches_alloy_tx_hash() {
        let sk = secret(5);
        for raw in [
            sign(&legacy(0), &sk),
            sign(&eip2930(), &sk),
            sign(&eip1559(), &sk),
        ] {
            let envelope = precheck(&raw, &rules()).expect("precheck");
            assert_eq!(envelope.trie_hash(), keccak256(&raw));
            assert_eq!(admit(&raw, &rules()).expect("admit").hash, keccak256(&raw));
            // A caller that hashed the bytes already gets the same answer.
            let hashed = admit_hashed(&raw, tx_hash(&raw), &rules()).expect("admit");
            assert_eq!(hashed, admit(&raw, &rules()).expect("admit"));
            let envelope = precheck_hashed(&raw, tx_hash(&raw), &rules()).expect("precheck");
            assert_eq!(envelope.trie_hash(), keccak256(&raw));
        }
    }

    #[test]
    fn intrinsic_gas_matches_the_schedule() {
        assert_eq!(intrinsic_gas(&[], false, &[]), 21_000);
        assert_eq!(
            intrinsic_gas(&[0, 1, 0, 2], false, &[]),
            21_000 + 2 * 4 + 2 * 16
        );
        // Create: 32000 plus 2 per init-code word; 33 bytes round up to 2 words.
        assert_eq!(
            intrinsic_gas(&[1u8; 33], true, &[]),
            21_000 + 32_000 + 33 * 16 + 2 * 2
        );
        let list = eip2930().access_list;
        assert_eq!(intrinsic_gas(&[], false, &list), 21_000 + 2_400 + 2 * 1_900);
    }

    #[test]
    fn oversized_is_rejected_before_decoding() {
        let raw = vec![0xffu8; 200];
        let rules = TxRules {
            max_tx_bytes: 199,
            ..rules()
        };
        assert_eq!(
            admit(&raw, &rules),
            Err(TxError::Oversized {
                size: 200,
                limit: 199
            })
        );
        let sk = secret(1);
        let raw = sign(&eip1559(), &sk);
        let exact = TxRules {
            max_tx_bytes: raw.len(),
            ..rules
        };
        assert!(admit(&raw, &exact).is_ok());
        let smaller = TxRules {
            max_tx_bytes: raw.len() - 1,
            ..rules
        };
        assert!(matches!(
            admit(&raw, &smaller),
            Err(TxError::Oversized { .. })
        ));
    }

    #[test]
    fn empty_and_truncated_are_rlp_errors() {
        assert!(matches!(admit(&[], &rules()), Err(TxError::Rlp(_))));
        let sk = secret(1);
        for raw in [
            sign(&legacy(0), &sk),
            sign(&eip2930(), &sk),
            sign(&eip1559(), &sk),
        ] {
            for cut in [1, 2, raw.len() / 2, raw.len() - 1] {
                let got = admit(&raw[..cut], &rules());
                assert!(
                    matches!(got, Err(TxError::Rlp(_))),
                    "truncated to {cut}: {got:?}"
                );
            }
        }
    }

    #[test]
    fn trailing_garbage_is_rejected() {
        let sk = secret(1);
        for raw in [sign(&legacy(0), &sk), sign(&eip1559(), &sk)] {
            let mut longer = raw.clone();
            longer.extend_from_slice(&[0x00, 0x01]);
            assert_eq!(
                admit(&longer, &rules()),
                Err(TxError::TrailingBytes { trailing: 2 })
            );
        }
    }

    #[test]
    fn zero_type_byte_before_legacy_is_non_canonical() {
        let sk = secret(1);
        let raw = sign(&legacy(0), &sk);
        let mut prefixed = vec![0x00];
        prefixed.extend_from_slice(&raw);
        // alloy-consensus 1.8 decoded these bytes as the legacy transaction (2.5 rejects them
        // with `UnexpectedType(0)`); the rule must not depend on the decoder version.
        assert_eq!(admit(&prefixed, &rules()), Err(TxError::NonCanonical));
        assert_eq!(precheck(&prefixed, &rules()), Err(TxError::NonCanonical));
    }

    /// RLP list of already-encoded items.
    fn rlp_list(items: &[Vec<u8>]) -> Vec<u8> {
        let payload: Vec<u8> = items.concat();
        let mut out = Vec::new();
        alloy_rlp::Header {
            list: true,
            payload_length: payload.len(),
        }
        .encode(&mut out);
        out.extend_from_slice(&payload);
        out
    }

    fn rlp<T: alloy_rlp::Encodable>(value: T) -> Vec<u8> {
        alloy_rlp::encode(value)
    }

    #[test]
    fn non_minimal_rlp_is_rejected() {
        let sk = secret(1);
        let mut tx = legacy(0);
        tx.input = Bytes::from_static(&[0x05]);
        tx.gas_limit = 30_000;
        let sig = signature(&sk, tx.signature_hash());
        let v = 35 + 2 * CHAIN_ID + u64::from(sig.v());
        let items = |input: Vec<u8>, nonce: Vec<u8>| {
            vec![
                nonce,
                rlp(tx.gas_price),
                rlp(tx.gas_limit),
                rlp(TO),
                rlp(tx.value),
                input,
                rlp(v),
                rlp(sig.r()),
                rlp(sig.s()),
            ]
        };
        // Hand-built canonical encoding: identical to alloy's, and admitted.
        let canonical = rlp_list(&items(rlp(&tx.input), rlp(0u64)));
        assert_eq!(canonical, sign(&tx, &sk));
        assert!(admit(&canonical, &rules()).is_ok());
        // The single byte 0x05 written as a one-byte string (0x81 0x05) instead of itself.
        let long_byte = rlp_list(&items(vec![0x81, 0x05], rlp(0u64)));
        assert_eq!(
            admit(&long_byte, &rules()),
            Err(TxError::Rlp(alloy_rlp::Error::NonCanonicalSingleByte))
        );
        // The nonce 0 written as the byte 0x00 instead of the empty string.
        let zero_byte = rlp_list(&items(rlp(&tx.input), vec![0x00]));
        assert!(matches!(admit(&zero_byte, &rules()), Err(TxError::Rlp(_))));
        // A list header in long form although the list is short enough is impossible for a
        // signed transaction (always > 55 bytes); a string length in long form is not:
        let long_len = rlp_list(&items(vec![0xb8, 0x01, 0x05], rlp(0u64)));
        assert!(matches!(admit(&long_len, &rules()), Err(TxError::Rlp(_))));
    }

    #[test]
    fn wrong_chain_id_is_rejected() {
        let sk = secret(1);
        let mut tx = eip1559();
        tx.chain_id = 1;
        assert_eq!(
            admit(&sign(&tx, &sk), &rules()),
            Err(TxError::WrongChainId {
                have: 1,
                want: CHAIN_ID
            })
        );
        let mut tx = legacy(0);
        tx.chain_id = Some(5);
        assert_eq!(
            admit(&sign(&tx, &sk), &rules()),
            Err(TxError::WrongChainId {
                have: 5,
                want: CHAIN_ID
            })
        );
    }

    #[test]
    fn pre_eip155_legacy_is_rejected() {
        let sk = secret(1);
        let mut tx = legacy(0);
        tx.chain_id = None;
        let raw = sign(&tx, &sk);
        // It is a well-formed, validly signed transaction: only replay protection is missing.
        let envelope = decode_canonical(&raw).expect("decodes");
        assert_eq!(recover_sender(&envelope), Ok(address_of(&sk)));
        assert_eq!(admit(&raw, &rules()), Err(TxError::NotReplayProtected));
    }

    #[test]
    fn high_s_signature_is_rejected() {
        let sk = secret(1);
        for raw_and_sig in [
            {
                let tx = legacy(0);
                let sig = signature(&sk, tx.signature_hash());
                let flipped = Signature::new(sig.r(), SECP256K1N - sig.s(), !sig.v());
                (encode_with(&tx, &flipped), tx.signature_hash(), flipped)
            },
            {
                let tx = eip1559();
                let sig = signature(&sk, tx.signature_hash());
                let flipped = Signature::new(sig.r(), SECP256K1N - sig.s(), !sig.v());
                (encode_with(&tx, &flipped), tx.signature_hash(), flipped)
            },
        ] {
            let (raw, sighash, flipped) = raw_and_sig;
            assert!(flipped.s() > SECP256K1N_HALF);
            // The malleable twin still recovers the same key: only EIP-2 rejects it.
            assert_eq!(
                alloy_consensus::crypto::secp256k1::recover_signer_unchecked(&flipped, sighash)
                    .expect("recovers"),
                address_of(&sk)
            );
            assert!(precheck(&raw, &rules()).is_ok());
            assert_eq!(
                admit(&raw, &rules()),
                Err(TxError::InvalidSender(SignatureError::HighS))
            );
        }
    }

    #[test]
    fn garbage_signature_is_rejected() {
        let tx = eip1559();
        for sig in [
            Signature::new(U256::ZERO, U256::from(1u64), false),
            Signature::new(U256::from(1u64), U256::ZERO, true),
            Signature::new(SECP256K1N, U256::from(1u64), false),
        ] {
            let raw = encode_with(&tx, &sig);
            assert_eq!(
                admit(&raw, &rules()),
                Err(TxError::InvalidSender(SignatureError::Unrecoverable)),
                "{sig:?}"
            );
        }
    }

    #[test]
    fn tampered_transaction_recovers_another_sender() {
        let sk = secret(1);
        let tx = eip1559();
        let sig = signature(&sk, tx.signature_hash());
        let mut tampered = tx.clone();
        tampered.nonce += 1;
        let raw = encode_with(&tampered, &sig);
        let admitted = admit(&raw, &rules());
        // Either no key or some other key recovers: never the signer.
        if let Ok(admitted) = admitted {
            assert_ne!(admitted.sender, address_of(&sk));
        } else {
            assert_eq!(
                admitted,
                Err(TxError::InvalidSender(SignatureError::Unrecoverable))
            );
        }
    }

    #[test]
    fn gas_below_intrinsic_is_rejected() {
        let sk = secret(1);
        let mut tx = legacy(0);
        tx.gas_limit = 20_999;
        assert_eq!(
            admit(&sign(&tx, &sk), &rules()),
            Err(TxError::IntrinsicGasTooLow {
                have: 20_999,
                want: 21_000
            })
        );
        let mut tx = eip2930();
        let want = intrinsic_gas(&tx.input, false, &tx.access_list);
        assert_eq!(want, 21_000 + 4 * 16 + 3 * 4 + 2_400 + 2 * 1_900);
        tx.gas_limit = want - 1;
        assert_eq!(
            admit(&sign(&tx, &sk), &rules()),
            Err(TxError::IntrinsicGasTooLow {
                have: want - 1,
                want
            })
        );
        tx.gas_limit = want;
        assert!(admit(&sign(&tx, &sk), &rules()).is_ok());
        let mut tx = create();
        let want = 21_000 + 32_000 + 40 * 16 + 2 * 2;
        tx.gas_limit = want - 1;
        assert_eq!(
            admit(&sign(&tx, &sk), &rules()),
            Err(TxError::IntrinsicGasTooLow {
                have: want - 1,
                want
            })
        );
    }

    #[test]
    fn gas_above_the_limit_is_rejected() {
        let sk = secret(1);
        let mut tx = eip1559();
        tx.gas_limit = 30_000_001;
        assert_eq!(
            admit(&sign(&tx, &sk), &rules()),
            Err(TxError::GasLimitTooHigh {
                have: 30_000_001,
                max: 30_000_000
            })
        );
    }

    #[test]
    fn oversized_initcode_is_rejected() {
        let sk = secret(1);
        let mut tx = create();
        tx.input = vec![0x60u8; MAX_INITCODE_SIZE + 1].into();
        tx.gas_limit = 10_000_000;
        assert_eq!(
            admit(&sign(&tx, &sk), &rules()),
            Err(TxError::InitcodeTooLarge {
                size: MAX_INITCODE_SIZE + 1,
                limit: MAX_INITCODE_SIZE
            })
        );
    }

    #[test]
    fn underpriced_is_rejected() {
        let sk = secret(1);
        let mut tx = legacy(0);
        tx.gas_price = GWEI - 1;
        assert_eq!(
            admit(&sign(&tx, &sk), &rules()),
            Err(TxError::Underpriced {
                have: GWEI - 1,
                min: GWEI
            })
        );
        let mut tx = eip1559();
        tx.max_fee_per_gas = GWEI - 1;
        tx.max_priority_fee_per_gas = 0;
        assert_eq!(
            admit(&sign(&tx, &sk), &rules()),
            Err(TxError::Underpriced {
                have: GWEI - 1,
                min: GWEI
            })
        );
    }

    #[test]
    fn priority_fee_above_max_fee_is_rejected() {
        let sk = secret(1);
        let mut tx = eip1559();
        tx.max_priority_fee_per_gas = tx.max_fee_per_gas + 1;
        assert_eq!(
            admit(&sign(&tx, &sk), &rules()),
            Err(TxError::PriorityFeeAboveMaxFee {
                priority: 5 * GWEI + 1,
                max: 5 * GWEI
            })
        );
    }

    #[test]
    fn blob_and_unknown_types_are_not_supported() {
        let sk = secret(1);
        let blob = TxEip4844 {
            chain_id: CHAIN_ID,
            nonce: 0,
            gas_limit: 50_000,
            max_fee_per_gas: 5 * GWEI,
            max_priority_fee_per_gas: GWEI,
            to: TO,
            value: U256::ZERO,
            access_list: AccessList::default(),
            blob_versioned_hashes: vec![B256::with_last_byte(1)],
            max_fee_per_blob_gas: GWEI,
            input: Bytes::new(),
        };
        let raw = sign(&blob, &sk);
        assert_eq!(raw[0], 0x03);
        assert_eq!(
            admit(&raw, &rules()),
            Err(TxError::TypeNotSupported { ty: 0x03 })
        );
        let mut unknown = sign(&eip1559(), &sk);
        for ty in [0x05u8, 0x7f] {
            unknown[0] = ty;
            assert_eq!(
                admit(&unknown, &rules()),
                Err(TxError::TypeNotSupported { ty })
            );
        }
    }

    /// `authority`'s authorization to delegate to `delegate` at its nonce `nonce`.
    fn authorization(authority: &SecretKey, delegate: Address, nonce: u64) -> SignedAuthorization {
        let auth = Authorization {
            chain_id: U256::from(CHAIN_ID),
            address: delegate,
            nonce,
        };
        let sig = signature(authority, auth.signature_hash());
        auth.into_signed(sig)
    }

    fn eip7702(authorizations: Vec<SignedAuthorization>) -> TxEip7702 {
        TxEip7702 {
            chain_id: CHAIN_ID,
            nonce: 9,
            gas_limit: 80_000,
            max_fee_per_gas: 5 * GWEI,
            max_priority_fee_per_gas: GWEI,
            to: TO,
            value: U256::from(3u64),
            access_list: AccessList::default(),
            authorization_list: authorizations,
            input: Bytes::from_static(&[1, 0]),
        }
    }

    #[test]
    fn eip7702_is_admitted() {
        let sk = secret(6);
        // Sponsored: another key's authorization.
        let sponsored = eip7702(vec![authorization(&secret(7), TO, 0)]);
        let raw = sign(&sponsored, &sk);
        assert_eq!(raw[0], 0x04);
        assert_admitted(&raw, &sk, 9, 80_000, 5 * GWEI);
        let envelope = precheck(&raw, &rules()).expect("precheck");
        assert_eq!(envelope.trie_hash(), keccak256(&raw));
        // Authorizations are not checked at admission: one signed for another chain, one at
        // a wrong nonce and one whose signature recovers nothing are skipped at execution.
        let mut other_chain = authorization(&sk, TO, 10).strip_signature();
        other_chain.chain_id = U256::from(1u64);
        let sig = signature(&sk, other_chain.signature_hash());
        let other_chain = other_chain.into_signed(sig);
        let garbage = SignedAuthorization::new_unchecked(
            Authorization {
                chain_id: U256::ZERO,
                address: TO,
                nonce: 0,
            },
            1,
            U256::ZERO,
            U256::from(1u64),
        );
        let mut tx = eip7702(vec![other_chain, authorization(&sk, TO, 3), garbage]);
        tx.gas_limit = intrinsic_gas(&tx.input, false, &[]) + 3 * PER_AUTHORIZATION_GAS;
        let raw = sign(&tx, &sk);
        assert_admitted(&raw, &sk, 9, tx.gas_limit, 5 * GWEI);
    }

    #[test]
    fn eip7702_without_authorizations_is_rejected() {
        let sk = secret(6);
        let raw = sign(&eip7702(vec![]), &sk);
        assert_eq!(admit(&raw, &rules()), Err(TxError::EmptyAuthorizationList));
    }

    #[test]
    fn eip7702_authorizations_are_bounded() {
        let sk = secret(6);
        let authority = secret(7);
        let mut tx = eip7702(vec![authorization(&authority, TO, 0); MAX_AUTHORIZATIONS]);
        tx.gas_limit = 10_000_000;
        assert!(admit(&sign(&tx, &sk), &rules()).is_ok());
        tx.authorization_list.push(authorization(&authority, TO, 1));
        assert_eq!(
            admit(&sign(&tx, &sk), &rules()),
            Err(TxError::TooManyAuthorizations {
                count: MAX_AUTHORIZATIONS + 1,
                limit: MAX_AUTHORIZATIONS
            })
        );
    }

    #[test]
    fn eip7702_intrinsic_gas_counts_authorizations() {
        let sk = secret(6);
        let mut tx = eip7702(vec![
            authorization(&secret(7), TO, 0),
            authorization(&secret(8), TO, 0),
        ]);
        let want = 21_000 + 16 + 4 + 2 * 25_000;
        tx.gas_limit = want - 1;
        assert_eq!(
            admit(&sign(&tx, &sk), &rules()),
            Err(TxError::IntrinsicGasTooLow {
                have: want - 1,
                want
            })
        );
        tx.gas_limit = want;
        assert!(admit(&sign(&tx, &sk), &rules()).is_ok());
    }

    #[test]
    fn eip7702_follows_the_eip1559_fee_and_chain_rules() {
        let sk = secret(6);
        let mut tx = eip7702(vec![authorization(&secret(7), TO, 0)]);
        tx.chain_id = 1;
        assert_eq!(
            admit(&sign(&tx, &sk), &rules()),
            Err(TxError::WrongChainId {
                have: 1,
                want: CHAIN_ID
            })
        );
        let mut tx = eip7702(vec![authorization(&secret(7), TO, 0)]);
        tx.max_priority_fee_per_gas = tx.max_fee_per_gas + 1;
        assert!(matches!(
            admit(&sign(&tx, &sk), &rules()),
            Err(TxError::PriorityFeeAboveMaxFee { .. })
        ));
        tx.max_fee_per_gas = GWEI - 1;
        tx.max_priority_fee_per_gas = 0;
        assert!(matches!(
            admit(&sign(&tx, &sk), &rules()),
            Err(TxError::Underpriced { .. })
        ));
        let mut tx = eip7702(vec![authorization(&secret(7), TO, 0)]);
        tx.gas_limit = 30_000_001;
        assert!(matches!(
            admit(&sign(&tx, &sk), &rules()),
            Err(TxError::GasLimitTooHigh { .. })
        ));
        // The EIP-2 rule applies to the transaction's own signature.
        let tx = eip7702(vec![authorization(&secret(7), TO, 0)]);
        let sig = signature(&sk, tx.signature_hash());
        let flipped = Signature::new(sig.r(), SECP256K1N - sig.s(), !sig.v());
        assert_eq!(
            admit(&encode_with(&tx, &flipped), &rules()),
            Err(TxError::InvalidSender(SignatureError::HighS))
        );
    }

    #[test]
    fn eip7702_truncated_or_padded_is_rejected() {
        let sk = secret(6);
        let raw = sign(&eip7702(vec![authorization(&secret(7), TO, 0)]), &sk);
        for cut in [1, 2, raw.len() / 2, raw.len() - 1] {
            assert!(matches!(admit(&raw[..cut], &rules()), Err(TxError::Rlp(_))));
        }
        let mut longer = raw.clone();
        longer.push(0);
        assert_eq!(
            admit(&longer, &rules()),
            Err(TxError::TrailingBytes { trailing: 1 })
        );
    }

    #[test]
    fn rlp_string_is_not_a_transaction() {
        let sk = secret(1);
        let typed = sign(&eip1559(), &sk);
        // The network (p2p) form: the typed transaction wrapped in an RLP string.
        let mut wrapped = Vec::new();
        alloy_rlp::Header {
            list: false,
            payload_length: typed.len(),
        }
        .encode(&mut wrapped);
        wrapped.extend_from_slice(&typed);
        assert_eq!(
            admit(&wrapped, &rules()),
            Err(TxError::Rlp(alloy_rlp::Error::UnexpectedString))
        );
    }

    #[test]
    fn error_messages_follow_geth() {
        let cases: [(TxError, &str); 6] = [
            (
                TxError::Oversized { size: 10, limit: 5 },
                "oversized data: transaction size 10, limit 5",
            ),
            (
                TxError::WrongChainId { have: 1, want: 2 },
                "invalid chain id: have 1 want 2",
            ),
            (
                TxError::IntrinsicGasTooLow {
                    have: 1,
                    want: 21_000,
                },
                "intrinsic gas too low: have 1, want 21000",
            ),
            (
                TxError::NotReplayProtected,
                "only replay-protected (EIP-155) transactions allowed over RPC",
            ),
            (
                TxError::TypeNotSupported { ty: 3 },
                "transaction type not supported: type 0x03",
            ),
            (
                TxError::InvalidSender(SignatureError::HighS),
                "invalid sender: signature s value is greater than secp256k1n/2 (EIP-2)",
            ),
        ];
        for (err, message) in cases {
            assert_eq!(err.to_string(), message);
        }
        assert!(TxError::GasLimitTooHigh { have: 2, max: 1 }
            .to_string()
            .starts_with("exceeds block gas limit"));
        assert!(TxError::Underpriced { have: 1, min: 2 }
            .to_string()
            .starts_with("transaction underpriced"));
    }
}
