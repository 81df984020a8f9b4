//! The compact form of witness values in a fraud proof.
//!
//! The state stores fixed-width values: an account is `nonce (8) ‖ balance (32) ‖ code hash
//! (32)` and a slot 32 big-endian bytes, mostly leading zeros, and most accounts have no code.
//! A proof carries them without the zeros; the verifier expands them back to the exact bytes
//! the state tree hashes before anything is checked. Every value has one compact form (minimal
//! integers, no code hash where there is no code), so decoding stays canonical.
//!
//! - account: `len(nonce) (1) ‖ nonce ‖ len(balance) (1) ‖ balance ‖ [code hash (32)]`,
//!   integers big-endian without leading zero bytes, the code hash only when it is not the
//!   empty code's;
//! - storage slot: the value big-endian without leading zero bytes (never empty: zero slots
//!   are absent from the state);
//! - code: the bytecode as it is.

use alloy_primitives::KECCAK256_EMPTY;
use lazychain_exec_stf::keys::{StateKey, ACCOUNT_VALUE_BYTES};

use crate::proof::ProofError;

fn malformed(what: &str) -> ProofError {
    ProofError::Malformed(format!("witness value: {what}"))
}

fn minimal(bytes: &[u8]) -> &[u8] {
    let zeros = bytes.iter().take_while(|b| **b == 0).count();
    &bytes[zeros..]
}

/// Reads a length-prefixed minimal big-endian integer of at most `width` bytes into
/// `out` (right-aligned).
fn read_int<'a>(input: &'a [u8], out: &mut [u8]) -> Result<&'a [u8], ProofError> {
    let (&len, rest) = input
        .split_first()
        .ok_or_else(|| malformed("truncated account"))?;
    let len = len as usize;
    if len > out.len() || len > rest.len() {
        return Err(malformed("integer length"));
    }
    let (digits, rest) = rest.split_at(len);
    if digits.first() == Some(&0) {
        return Err(malformed("integer with a leading zero byte"));
    }
    let width = out.len();
    out[width - len..].copy_from_slice(digits);
    Ok(rest)
}

/// The compact form of `value` stored under `key`; an error if `value` is not a value the
/// state can hold (which an honest prover's state never has).
pub(crate) fn compress(key: &StateKey, value: &[u8]) -> Result<Vec<u8>, ProofError> {
    match key {
        StateKey::Account(_) => {
            if value.len() != ACCOUNT_VALUE_BYTES {
                return Err(malformed("an account value is not 72 bytes"));
            }
            let (nonce, balance, code_hash) =
                (minimal(&value[..8]), minimal(&value[8..40]), &value[40..]);
            let mut out = Vec::with_capacity(2 + nonce.len() + balance.len() + 32);
            out.push(nonce.len() as u8);
            out.extend_from_slice(nonce);
            out.push(balance.len() as u8);
            out.extend_from_slice(balance);
            if code_hash != KECCAK256_EMPTY.as_slice() {
                out.extend_from_slice(code_hash);
            }
            Ok(out)
        }
        StateKey::Storage(..) => {
            if value.len() != 32 || minimal(value).is_empty() {
                return Err(malformed("a slot value is not 32 non-zero bytes"));
            }
            Ok(minimal(value).to_vec())
        }
        StateKey::Code(_) => Ok(value.to_vec()),
    }
}

/// The state's bytes for the compact `bytes` of a value stored under `key`; accepts only what
/// [`compress`] emits.
pub(crate) fn expand(key: &StateKey, bytes: &[u8]) -> Result<Vec<u8>, ProofError> {
    match key {
        StateKey::Account(_) => {
            let mut out = vec![0u8; ACCOUNT_VALUE_BYTES];
            let rest = read_int(bytes, &mut out[..8])?;
            let rest = read_int(rest, &mut out[8..40])?;
            match rest.len() {
                0 => out[40..].copy_from_slice(KECCAK256_EMPTY.as_slice()),
                32 if rest != KECCAK256_EMPTY.as_slice() => out[40..].copy_from_slice(rest),
                32 => return Err(malformed("the empty code hash spelled out")),
                _ => return Err(malformed("account code hash length")),
            }
            Ok(out)
        }
        StateKey::Storage(..) => {
            if bytes.is_empty() || bytes.len() > 32 || bytes[0] == 0 {
                return Err(malformed("slot value not minimal, empty or over 32 bytes"));
            }
            let mut out = vec![0u8; 32];
            out[32 - bytes.len()..].copy_from_slice(bytes);
            Ok(out)
        }
        StateKey::Code(_) => Ok(bytes.to_vec()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::{Address, B256, U256};
    use lazychain_exec_stf::keys::AccountValue;
    use rand::{rngs::StdRng, Rng, SeedableRng};

    fn account(rng: &mut StdRng) -> Vec<u8> {
        let small = |rng: &mut StdRng, bits: u32| {
            U256::from(rng.gen::<u128>()) >> (128 - rng.gen_range(0..=bits.min(128)))
        };
        AccountValue {
            nonce: rng.gen::<u64>() >> rng.gen_range(0..64),
            balance: if rng.gen_bool(0.1) {
                U256::from_be_bytes(rng.gen::<[u8; 32]>())
            } else {
                small(rng, 100)
            },
            code_hash: if rng.gen_bool(0.5) {
                KECCAK256_EMPTY
            } else {
                B256::from(rng.gen::<[u8; 32]>())
            },
        }
        .encode()
        .to_vec()
    }

    #[test]
    fn round_trips_and_rejects_every_other_form() {
        let mut rng = StdRng::seed_from_u64(11);
        let acct = StateKey::Account(Address::ZERO);
        let slot = StateKey::Storage(Address::ZERO, U256::ZERO);
        for _ in 0..2_000 {
            let value = account(&mut rng);
            let c = compress(&acct, &value).expect("compresses");
            assert_eq!(expand(&acct, &c).expect("expands"), value);
            assert!(c.len() <= value.len() + 2, "two length bytes at most");

            let mut s = [0u8; 32];
            let from = rng.gen_range(0..32);
            rng.fill(&mut s[from..]);
            s[from] |= 1;
            let c = compress(&slot, &s).expect("compresses");
            assert_eq!(c.len(), 32 - from);
            assert_eq!(expand(&slot, &c).expect("expands"), s.to_vec());

            // Any other bytes that expand are the compact form of what they expand to.
            let mut bad = c.clone();
            match rng.gen_range(0..3) {
                0 => bad.insert(0, 0),
                1 => bad.push(rng.gen()),
                _ => {
                    let i = rng.gen_range(0..bad.len());
                    bad[i] ^= 1 << rng.gen_range(0..8);
                }
            }
            if let Ok(v) = expand(&slot, &bad) {
                assert_eq!(compress(&slot, &v).expect("canonical"), bad);
            }
            let mut bad = compress(&acct, &value).expect("compresses");
            let i = rng.gen_range(0..bad.len());
            bad[i] = rng.gen();
            if let Ok(v) = expand(&acct, &bad) {
                assert_eq!(compress(&acct, &v).expect("canonical"), bad);
            }
        }
    }

    #[test]
    fn a_funded_account_without_code_is_small() {
        let value = AccountValue {
            nonce: 7,
            balance: U256::from(10u128.pow(21)),
            code_hash: KECCAK256_EMPTY,
        }
        .encode();
        let c = compress(&StateKey::Account(Address::ZERO), &value).expect("compresses");
        assert_eq!(c.len(), 1 + 1 + 1 + 9);
        assert!(expand(&StateKey::Account(Address::ZERO), &[0]).is_err());
        assert!(expand(&StateKey::Storage(Address::ZERO, U256::ZERO), &[]).is_err());
        assert!(compress(&StateKey::Storage(Address::ZERO, U256::ZERO), &[0; 32]).is_err());
    }
}
