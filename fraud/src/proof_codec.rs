//! A strict, allocation-light SSZ decoder for fraud proofs. `ssz_rs` decodes byte lists one
//! element at a time and the canonical check re-encodes everything; on a 5-8 KB proof that was
//! two thirds of verification. This decoder reads the same layout directly and accepts exactly
//! the canonical encodings: first offset = fixed size, offsets in order and in bounds, every
//! list within its bound, booleans 0 or 1, nothing trailing. The tests check it against
//! `ssz_rs` (decode + re-encode) on valid and mutated proofs.

use ssz_rs::prelude::*;

#[cfg(test)]
use crate::claim::StateClaim;
use crate::claim::{SignedClaim, SIGNED_CLAIM_BYTES};
use crate::proof::{
    BadTrace, BadTransition, BlockHashEntry, Equivocation, ProofError, WitnessEntry,
    MAX_BLOCK_HASHES, MAX_BRANCH, MAX_MULTIPROOF_BYTES, MAX_WITNESS_ENTRIES, MAX_WITNESS_KEY,
    MAX_WITNESS_VALUE,
};
use lazychain_data_chain_types::block::MAX_TX_BYTES_BOUND;

const OFFSET: usize = 4;

fn malformed(what: &str) -> ProofError {
    ProofError::Malformed(format!("non-canonical or invalid SSZ: {what}"))
}

/// A cursor over the fixed part of a container.
struct Fixed<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Fixed<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], ProofError> {
        let end = self.at.checked_add(n).ok_or_else(|| malformed("length"))?;
        let out = self
            .bytes
            .get(self.at..end)
            .ok_or_else(|| malformed("truncated fixed part"))?;
        self.at = end;
        Ok(out)
    }

    fn u64(&mut self) -> Result<u64, ProofError> {
        let mut b = [0u8; 8];
        b.copy_from_slice(self.take(8)?);
        Ok(u64::from_le_bytes(b))
    }

    fn u32(&mut self) -> Result<usize, ProofError> {
        let mut b = [0u8; 4];
        b.copy_from_slice(self.take(4)?);
        Ok(u32::from_le_bytes(b) as usize)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], ProofError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    fn bool(&mut self) -> Result<bool, ProofError> {
        match self.take(1)?[0] {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(malformed("boolean")),
        }
    }
}

/// Splits the variable part of a container whose fixed part is `fixed` bytes long, given the
/// offsets read from it, into one slice per variable field.
fn variable_fields<'a>(
    bytes: &'a [u8],
    fixed: usize,
    offsets: &[usize],
) -> Result<Vec<&'a [u8]>, ProofError> {
    let mut out = Vec::with_capacity(offsets.len());
    for (i, &start) in offsets.iter().enumerate() {
        if i == 0 && start != fixed {
            return Err(malformed("first offset"));
        }
        let end = offsets.get(i + 1).copied().unwrap_or(bytes.len());
        if start > end || end > bytes.len() {
            return Err(malformed("offsets"));
        }
        out.push(&bytes[start..end]);
    }
    Ok(out)
}

fn byte_list<const N: usize>(bytes: &[u8]) -> Result<List<u8, N>, ProofError> {
    if bytes.len() > N {
        return Err(malformed("byte list over its bound"));
    }
    List::try_from(bytes.to_vec()).map_err(|_| malformed("byte list"))
}

fn roots_list<const N: usize>(bytes: &[u8]) -> Result<List<[u8; 32], N>, ProofError> {
    if !bytes.len().is_multiple_of(32) || bytes.len() / 32 > N {
        return Err(malformed("list of roots"));
    }
    let roots: Vec<[u8; 32]> = bytes
        .chunks_exact(32)
        .map(|c| {
            let mut r = [0u8; 32];
            r.copy_from_slice(c);
            r
        })
        .collect();
    List::try_from(roots).map_err(|_| malformed("list of roots"))
}

/// `WitnessEntry`: kind, the key's offset, present, the value's offset; then key and value.
const WITNESS_ENTRY_FIXED: usize = 1 + OFFSET + 1 + OFFSET;

fn witness_entry(bytes: &[u8]) -> Result<WitnessEntry, ProofError> {
    let mut f = Fixed { bytes, at: 0 };
    let kind = f.take(1)?[0];
    let key_offset = f.u32()?;
    let present = f.bool()?;
    let value_offset = f.u32()?;
    let v = variable_fields(bytes, WITNESS_ENTRY_FIXED, &[key_offset, value_offset])?;
    Ok(WitnessEntry {
        kind,
        key: byte_list::<MAX_WITNESS_KEY>(v[0])?,
        present,
        value: byte_list::<MAX_WITNESS_VALUE>(v[1])?,
    })
}

/// A list of variable-size elements: an offset per element, then the elements.
fn witness_list(bytes: &[u8]) -> Result<List<WitnessEntry, MAX_WITNESS_ENTRIES>, ProofError> {
    let mut list = List::default();
    if bytes.is_empty() {
        return Ok(list);
    }
    let mut f = Fixed { bytes, at: 0 };
    let first = f.u32()?;
    if !first.is_multiple_of(OFFSET) || first == 0 || first / OFFSET > MAX_WITNESS_ENTRIES {
        return Err(malformed("witness list offsets"));
    }
    let count = first / OFFSET;
    let mut offsets = Vec::with_capacity(count);
    offsets.push(first);
    for _ in 1..count {
        offsets.push(f.u32()?);
    }
    for entry in variable_fields(bytes, first, &offsets)? {
        list.push(witness_entry(entry)?);
    }
    Ok(list)
}

fn block_hash_list(bytes: &[u8]) -> Result<List<BlockHashEntry, MAX_BLOCK_HASHES>, ProofError> {
    const ENTRY: usize = 8 + 32;
    if !bytes.len().is_multiple_of(ENTRY) || bytes.len() / ENTRY > MAX_BLOCK_HASHES {
        return Err(malformed("block hash list"));
    }
    let mut list = List::default();
    for chunk in bytes.chunks_exact(ENTRY) {
        let mut f = Fixed {
            bytes: chunk,
            at: 0,
        };
        list.push(BlockHashEntry {
            height: f.u64()?,
            hash: f.array()?,
        });
    }
    Ok(list)
}

/// The fixed part of `BadTransition`: target id, index, 7 offsets and 2 roots.
const BAD_TRANSITION_FIXED: usize = 32 + 8 + 7 * OFFSET + 2 * 32;

pub(crate) fn bad_transition(bytes: &[u8]) -> Result<BadTransition, ProofError> {
    let mut f = Fixed { bytes, at: 0 };
    let target = f.array()?;
    let tx_index = f.u64()?;
    let tx_off = f.u32()?;
    let tx_branch_off = f.u32()?;
    let prev_root = f.array()?;
    let prev_branch_off = f.u32()?;
    let claimed_root = f.array()?;
    let claimed_branch_off = f.u32()?;
    let witness_off = f.u32()?;
    let multiproof_off = f.u32()?;
    let block_hashes_off = f.u32()?;
    let v = variable_fields(
        bytes,
        BAD_TRANSITION_FIXED,
        &[
            tx_off,
            tx_branch_off,
            prev_branch_off,
            claimed_branch_off,
            witness_off,
            multiproof_off,
            block_hashes_off,
        ],
    )?;
    Ok(BadTransition {
        target,
        tx_index,
        tx: byte_list::<MAX_TX_BYTES_BOUND>(v[0])?,
        tx_branch: roots_list::<MAX_BRANCH>(v[1])?,
        prev_root,
        prev_branch: roots_list::<MAX_BRANCH>(v[2])?,
        claimed_root,
        claimed_branch: roots_list::<MAX_BRANCH>(v[3])?,
        witness: witness_list(v[4])?,
        multiproof: byte_list::<MAX_MULTIPROOF_BYTES>(v[5])?,
        block_hashes: block_hash_list(v[6])?,
    })
}

const BAD_TRACE_FIXED: usize = 32 + 32 + OFFSET;

pub(crate) fn bad_trace(bytes: &[u8]) -> Result<BadTrace, ProofError> {
    let mut f = Fixed { bytes, at: 0 };
    let target = f.array()?;
    let last_root = f.array()?;
    let branch_off = f.u32()?;
    let v = variable_fields(bytes, BAD_TRACE_FIXED, &[branch_off])?;
    Ok(BadTrace {
        target,
        last_root,
        last_branch: roots_list::<MAX_BRANCH>(v[0])?,
    })
}

/// `Equivocation`: two signed claims, each exactly `SIGNED_CLAIM_BYTES` and canonical.
pub(crate) fn equivocation(bytes: &[u8]) -> Result<Equivocation, ProofError> {
    if bytes.len() != 2 * SIGNED_CLAIM_BYTES {
        return Err(malformed("equivocation evidence is not two signed claims"));
    }
    let (a, b) = bytes.split_at(SIGNED_CLAIM_BYTES);
    let claim = |bytes: &[u8]| {
        SignedClaim::decode(bytes).map_err(|e| ProofError::Malformed(format!("claim: {e}")))
    };
    Ok(Equivocation {
        a: claim(a)?,
        b: claim(b)?,
    })
}

/// The envelope `{kind: uint8, body: List[uint8, MAX_PROOF_BYTES]}`: kind and body bytes.
pub(crate) fn envelope(bytes: &[u8], max_body: usize) -> Result<(u8, &[u8]), ProofError> {
    let mut f = Fixed { bytes, at: 0 };
    let kind = f.take(1)?[0];
    let offset = f.u32()?;
    let body = variable_fields(bytes, 1 + OFFSET, &[offset])?[0];
    if body.len() > max_body {
        return Err(malformed("body over its bound"));
    }
    Ok((kind, body))
}

#[cfg(test)]
mod tests {
    use rand::{rngs::StdRng, Rng, SeedableRng};

    use super::*;
    use crate::proof::FraudProof;

    fn roots<const N: usize>(rng: &mut StdRng, n: usize) -> List<[u8; 32], N> {
        List::try_from((0..n).map(|_| rng.gen::<[u8; 32]>()).collect::<Vec<_>>()).expect("bounded")
    }

    fn bytes<const N: usize>(rng: &mut StdRng, n: usize) -> List<u8, N> {
        List::try_from((0..n).map(|_| rng.gen::<u8>()).collect::<Vec<_>>()).expect("bounded")
    }

    fn random_proof(rng: &mut StdRng) -> FraudProof {
        let claim = StateClaim {
            chain_id: rng.gen(),
            data_height: rng.gen(),
            parent_claim: rng.gen(),
            pre_state_root: rng.gen(),
            post_state_root: rng.gen(),
            trace_root: rng.gen(),
            receipts_root: rng.gen(),
            tx_count: rng.gen(),
            executor: rng.gen(),
        };
        if rng.gen_bool(0.1) {
            let mut other = claim.clone();
            other.receipts_root = rng.gen();
            return FraudProof::Equivocation(Box::new(Equivocation {
                a: SignedClaim::from_parts(claim, [rng.gen(); 64]),
                b: SignedClaim::from_parts(other, [rng.gen(); 64]),
            }));
        }
        if rng.gen_bool(0.2) {
            let n = rng.gen_range(0..4);
            return FraudProof::BadTrace(Box::new(BadTrace {
                target: claim.id().0,
                last_root: rng.gen(),
                last_branch: roots(rng, n),
            }));
        }
        let mut witness = List::default();
        for _ in 0..rng.gen_range(0..5) {
            let (k, n) = (rng.gen_range(0..=52), rng.gen_range(0..40));
            witness.push(WitnessEntry {
                kind: rng.gen_range(0..3),
                key: bytes(rng, k),
                present: rng.gen(),
                value: bytes(rng, n),
            });
        }
        let mut block_hashes = List::default();
        for _ in 0..rng.gen_range(0..3) {
            block_hashes.push(BlockHashEntry {
                height: rng.gen(),
                hash: rng.gen(),
            });
        }
        let (t, b1, b2, b3, m) = (
            rng.gen_range(0..120),
            rng.gen_range(0..5),
            rng.gen_range(0..5),
            rng.gen_range(0..5),
            rng.gen_range(0..200),
        );
        FraudProof::BadTransition(Box::new(BadTransition {
            target: claim.id().0,
            tx_index: rng.gen(),
            tx: bytes(rng, t),
            tx_branch: roots(rng, b1),
            prev_root: rng.gen(),
            prev_branch: roots(rng, b2),
            claimed_root: rng.gen(),
            claimed_branch: roots(rng, b3),
            witness,
            multiproof: bytes(rng, m),
            block_hashes,
        }))
    }

    #[test]
    fn matches_the_reference_decoder_on_valid_and_mutated_bytes() {
        let mut rng = StdRng::seed_from_u64(7);
        let mut compared = 0;
        for _ in 0..300 {
            let proof = random_proof(&mut rng);
            let encoded = proof.encode();
            assert_eq!(FraudProof::decode(&encoded), Ok(proof.clone()));
            assert_eq!(crate::proof::proof_id(&encoded), proof.id());
            for _ in 0..20 {
                let mut bad = encoded.clone();
                match rng.gen_range(0..4) {
                    0 => {
                        let i = rng.gen_range(0..bad.len());
                        bad[i] ^= 1 << rng.gen_range(0..8);
                    }
                    1 => bad.truncate(rng.gen_range(0..bad.len())),
                    2 => bad.push(rng.gen()),
                    _ => {
                        // Mostly hit offsets and lengths: the first bytes of each part.
                        let i = rng.gen_range(0..bad.len().min(400));
                        bad[i] = rng.gen();
                    }
                }
                let fast = FraudProof::decode(&bad);
                let reference = FraudProof::decode_reference(&bad);
                assert_eq!(fast.is_ok(), reference.is_ok(), "{fast:?} vs {reference:?}");
                if let (Ok(a), Ok(b)) = (fast, reference) {
                    assert_eq!(a, b);
                    assert_eq!(a.encode(), bad, "accepted bytes are canonical");
                }
                compared += 1;
            }
        }
        assert_eq!(compared, 6_000);
    }
}
