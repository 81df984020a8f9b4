//! Proposal streaming: a proposer splits a block into parts (a signed `Init` with the header,
//! `Data` parts of whole transactions, `Fin`), and receivers reassemble them with bounded
//! buffers and authenticate them. Malachite forwards parts without checking who made them, so
//! the `Init` part carries the proposer's signature over (height, round, proposer, block hash)
//! and the reassembled body must match the header's transaction root.

use std::collections::{BTreeMap, HashMap};

use borsh::{BorshDeserialize, BorshSerialize};
use lazychain_data_chain_types::{Block, BlockBody, BlockHeader};
use malachitebft_app_channel::app::streaming::StreamContent;
use malachitebft_app_channel::app::types::core::Round;
use malachitebft_app_channel::app::types::streaming::{StreamId, StreamMessage};

use crate::context::{Address, BlockValue, Height, Signature, ValidatorSet, ValueId};
use crate::signing::{proposal_parts_preimage, verify, LazySigner};

/// Target size of one `Data` part; a transaction is never split across parts.
pub const PART_TARGET_BYTES: usize = 128 * 1024;

#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct PartsInit {
    pub height: Height,
    pub round: Round,
    pub pol_round: Round,
    pub proposer: Address,
    /// SSZ bytes of the block header.
    pub header: Vec<u8>,
    /// Proposer's signature over `proposal_parts_preimage(height, round, proposer, hash)`.
    pub signature: Signature,
}

#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum ProposalPart {
    Init(PartsInit),
    /// Whole transactions, in block order.
    Data(Vec<Vec<u8>>),
    Fin,
    /// Whole claim items, in block order (after every `Data` part).
    Claims(Vec<Vec<u8>>),
    /// Whole fraud-proof items, in block order (after every `Claims` part).
    FraudProofs(Vec<Vec<u8>>),
}

/// Packs items into parts of about [`PART_TARGET_BYTES`], never splitting one.
fn chunked<'a>(
    items: impl Iterator<Item = &'a [u8]>,
    wrap: fn(Vec<Vec<u8>>) -> ProposalPart,
    parts: &mut Vec<ProposalPart>,
) {
    let mut chunk = Vec::new();
    let mut chunk_bytes = 0usize;
    for item in items {
        if chunk_bytes + item.len() > PART_TARGET_BYTES && !chunk.is_empty() {
            parts.push(wrap(std::mem::take(&mut chunk)));
            chunk_bytes = 0;
        }
        chunk_bytes += item.len();
        chunk.push(item.to_vec());
    }
    if !chunk.is_empty() {
        parts.push(wrap(chunk));
    }
}

/// A stream id unique per (height, round) of a proposer.
pub fn stream_id(height: Height, round: Round) -> StreamId {
    let mut bytes = Vec::with_capacity(12);
    bytes.extend_from_slice(&height.0.to_be_bytes());
    bytes.extend_from_slice(&(round.as_i64() as u32).to_be_bytes());
    StreamId::new(bytes.into())
}

/// The proposer's signature authenticating the parts of `value` at (height, round).
pub fn sign_parts(
    signer: &LazySigner,
    height: Height,
    round: Round,
    pol_round: Round,
    proposer: Address,
    value: &BlockValue,
) -> Signature {
    signer.sign_bytes(&proposal_parts_preimage(
        height,
        round,
        pol_round,
        proposer,
        &ValueId(value.hash.0),
    ))
}

/// Splits a block into parts framed as stream messages ready to publish. `signature` is the
/// round proposer's (see [`sign_parts`]); a validator re-streaming another's proposal passes
/// the signature it received.
pub fn stream_block(
    block: &Block,
    round: Round,
    pol_round: Round,
    proposer: Address,
    signature: Signature,
) -> Vec<StreamMessage<ProposalPart>> {
    let height = Height(block.header.height);
    let mut parts = vec![ProposalPart::Init(PartsInit {
        height,
        round,
        pol_round,
        proposer,
        header: block.header.to_ssz(),
        signature,
    })];
    chunked(block.body.transactions(), ProposalPart::Data, &mut parts);
    chunked(
        block.body.claims.iter().map(|c| c.as_ref()),
        ProposalPart::Claims,
        &mut parts,
    );
    chunked(
        block.body.fraud_proofs.iter().map(|p| p.as_ref()),
        ProposalPart::FraudProofs,
        &mut parts,
    );
    parts.push(ProposalPart::Fin);

    let id = stream_id(height, round);
    let fin_sequence = parts.len() as u64;
    let mut messages: Vec<_> = parts
        .into_iter()
        .enumerate()
        .map(|(i, part)| StreamMessage::new(id.clone(), i as u64, StreamContent::Data(part)))
        .collect();
    messages.push(StreamMessage::new(id, fin_sequence, StreamContent::Fin));
    messages
}

/// Bounds on what one peer can make a node buffer.
#[derive(Clone, Copy, Debug)]
pub struct AssemblyLimits {
    /// Largest block body accepted (genesis `max_block_bytes`) plus framing slack.
    pub max_stream_bytes: usize,
    /// Most parts in one stream.
    pub max_stream_parts: usize,
    /// Most incomplete streams kept per publishing peer; the oldest is dropped beyond this.
    pub max_streams_per_peer: usize,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PartsError {
    #[error("stream exceeds {limit} bytes")]
    StreamTooLarge { limit: usize },
    #[error("stream exceeds {limit} parts")]
    TooManyParts { limit: usize },
    #[error("first part of a stream is not Init")]
    MissingInit,
    #[error("Init part found at sequence {0}")]
    MisplacedInit(u64),
    #[error("stream ended without a Fin part")]
    MissingFin,
    #[error("invalid header: {0}")]
    BadHeader(String),
    #[error("header height {header} does not match Init height {init}")]
    HeightMismatch { header: u64, init: u64 },
    #[error("{signer} is not the proposer of height {height} round {round} (expected {expected})")]
    WrongProposer {
        signer: Address,
        expected: Address,
        height: u64,
        round: i64,
    },
    #[error("invalid proposer signature over the proposal parts")]
    BadSignature,
    #[error("body does not match the header: {0}")]
    BodyMismatch(String),
    #[error("stream was rejected earlier")]
    Rejected,
}

/// A proposal whose parts are complete and whose signature checked out. Its block still has to
/// pass the stateless block rules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AssembledProposal {
    pub height: Height,
    pub round: Round,
    pub pol_round: Round,
    pub proposer: Address,
    pub signature: Signature,
    pub value: BlockValue,
    pub block: Block,
}

/// Checks an Init part: header decodes, matches the Init, the signer is the round's proposer
/// and the signature is valid. A fresh proposal's header names its proposer; a re-proposal
/// (with a POL round) carries a block built by any validator in an earlier round.
pub fn verify_init(init: &PartsInit, validators: &ValidatorSet) -> Result<BlockValue, PartsError> {
    let header =
        BlockHeader::from_ssz(&init.header).map_err(|e| PartsError::BadHeader(e.to_string()))?;
    if header.height != init.height.0 {
        return Err(PartsError::HeightMismatch {
            header: header.height,
            init: init.height.0,
        });
    }
    let expected = validators
        .proposer(init.height, init.round)
        .ok_or_else(|| PartsError::BadHeader("empty validator set".into()))?;
    let builder_ok = if init.pol_round.is_defined() {
        validators.get(&Address(header.proposer)).is_some()
    } else {
        header.proposer == init.proposer.0
    };
    if expected.address != init.proposer || !builder_ok {
        return Err(PartsError::WrongProposer {
            signer: init.proposer,
            expected: expected.address,
            height: init.height.0,
            round: init.round.as_i64(),
        });
    }
    let value = BlockValue::new(header).map_err(|e| PartsError::BadHeader(e.to_string()))?;
    let preimage = proposal_parts_preimage(
        init.height,
        init.round,
        init.pol_round,
        init.proposer,
        &ValueId(value.hash.0),
    );
    if !verify(&expected.public_key, &preimage, &init.signature) {
        return Err(PartsError::BadSignature);
    }
    Ok(value)
}

#[derive(Default)]
struct Stream {
    parts: BTreeMap<u64, ProposalPart>,
    fin_sequence: Option<u64>,
    bytes: usize,
    arrival: u64,
    rejected: bool,
}

/// Reassembles part streams, keyed by (publisher, stream id). `P` is the publisher's peer id.
pub struct PartsAssembler<P> {
    limits: AssemblyLimits,
    streams: HashMap<(P, StreamId), Stream>,
    arrivals: u64,
}

fn part_bytes(part: &ProposalPart) -> usize {
    match part {
        ProposalPart::Init(init) => init.header.len() + 160,
        ProposalPart::Data(items)
        | ProposalPart::Claims(items)
        | ProposalPart::FraudProofs(items) => items.iter().map(|t| t.len() + 4).sum::<usize>() + 4,
        ProposalPart::Fin => 1,
    }
}

impl<P: Clone + Eq + std::hash::Hash> PartsAssembler<P> {
    pub fn new(limits: AssemblyLimits) -> Self {
        Self {
            limits,
            streams: HashMap::new(),
            arrivals: 0,
        }
    }

    pub fn buffered_streams(&self) -> usize {
        self.streams.len()
    }

    /// Adds one stream message. Returns `Ok(Some(..))` when the stream is complete and
    /// authenticated, `Ok(None)` while it is incomplete, `Err` when the stream is rejected
    /// (it is then dropped and its later parts ignored).
    pub fn add(
        &mut self,
        publisher: P,
        msg: StreamMessage<ProposalPart>,
        validators: &ValidatorSet,
    ) -> Result<Option<AssembledProposal>, PartsError> {
        let key = (publisher.clone(), msg.stream_id.clone());
        self.arrivals += 1;
        if !self.streams.contains_key(&key) {
            self.evict_oldest_of(&publisher);
        }
        let arrival = self.arrivals;
        let stream = self.streams.entry(key.clone()).or_insert_with(|| Stream {
            arrival,
            ..Stream::default()
        });
        if stream.rejected {
            return Err(PartsError::Rejected);
        }
        let result = Self::add_to_stream(stream, &self.limits, msg, validators);
        match result {
            Ok(Some(done)) => {
                self.streams.remove(&key);
                Ok(Some(done))
            }
            Ok(None) => Ok(None),
            Err(e) => {
                // Keep a tombstone so that the rest of a bad stream is ignored cheaply.
                if let Some(s) = self.streams.get_mut(&key) {
                    s.parts.clear();
                    s.bytes = 0;
                    s.rejected = true;
                }
                Err(e)
            }
        }
    }

    fn evict_oldest_of(&mut self, publisher: &P) {
        let mut own: Vec<_> = self
            .streams
            .iter()
            .filter(|((p, _), _)| p == publisher)
            .map(|(k, s)| (s.arrival, k.clone()))
            .collect();
        if own.len() < self.limits.max_streams_per_peer {
            return;
        }
        own.sort_by_key(|(arrival, _)| *arrival);
        let excess = own.len() + 1 - self.limits.max_streams_per_peer;
        for (_, key) in own.into_iter().take(excess) {
            self.streams.remove(&key);
        }
    }

    fn add_to_stream(
        stream: &mut Stream,
        limits: &AssemblyLimits,
        msg: StreamMessage<ProposalPart>,
        validators: &ValidatorSet,
    ) -> Result<Option<AssembledProposal>, PartsError> {
        if msg.sequence as usize >= limits.max_stream_parts {
            return Err(PartsError::TooManyParts {
                limit: limits.max_stream_parts,
            });
        }
        match msg.content {
            StreamContent::Fin => stream.fin_sequence = Some(msg.sequence),
            StreamContent::Data(part) => {
                if let ProposalPart::Init(init) = &part {
                    if msg.sequence != 0 {
                        return Err(PartsError::MisplacedInit(msg.sequence));
                    }
                    // Authenticate as soon as the Init arrives, before buffering more.
                    verify_init(init, validators)?;
                } else if msg.sequence == 0 {
                    return Err(PartsError::MissingInit);
                }
                stream.bytes += part_bytes(&part);
                if stream.bytes > limits.max_stream_bytes {
                    return Err(PartsError::StreamTooLarge {
                        limit: limits.max_stream_bytes,
                    });
                }
                stream.parts.insert(msg.sequence, part);
            }
        }
        let Some(fin) = stream.fin_sequence else {
            return Ok(None);
        };
        if stream.parts.len() as u64 != fin {
            return Ok(None);
        }
        Self::assemble(std::mem::take(&mut stream.parts), validators).map(Some)
    }

    fn assemble(
        parts: BTreeMap<u64, ProposalPart>,
        validators: &ValidatorSet,
    ) -> Result<AssembledProposal, PartsError> {
        let mut iter = parts.into_values();
        let Some(ProposalPart::Init(init)) = iter.next() else {
            return Err(PartsError::MissingInit);
        };
        let value = verify_init(&init, validators)?;
        let mut txs = Vec::new();
        let mut claims = Vec::new();
        let mut proofs = Vec::new();
        let mut saw_fin = false;
        for part in iter {
            // Sections come in order: transactions, claims, fraud proofs.
            match part {
                ProposalPart::Data(chunk) if !saw_fin && claims.is_empty() && proofs.is_empty() => {
                    txs.extend(chunk)
                }
                ProposalPart::Claims(chunk) if !saw_fin && proofs.is_empty() => {
                    claims.extend(chunk)
                }
                ProposalPart::FraudProofs(chunk) if !saw_fin => proofs.extend(chunk),
                ProposalPart::Fin if !saw_fin => saw_fin = true,
                ProposalPart::Init(_) => return Err(PartsError::MisplacedInit(0)),
                _ => {
                    return Err(PartsError::BodyMismatch(
                        "parts out of section order, or after Fin".into(),
                    ))
                }
            }
        }
        if !saw_fin {
            return Err(PartsError::MissingFin);
        }
        let body = BlockBody::from_transactions(txs)
            .and_then(|b| b.with_items(&claims, &proofs))
            .map_err(|e| PartsError::BodyMismatch(e.to_string()))?;
        let c = body
            .commitments()
            .map_err(|e| PartsError::BodyMismatch(e.to_string()))?;
        let h = &value.header;
        if c.tx_root != h.tx_root
            || c.claims_root != h.claims_root
            || c.fraud_proofs_root != h.fraud_proofs_root
            || c.tx_count != h.tx_count
            || c.body_bytes != h.body_bytes
        {
            return Err(PartsError::BodyMismatch(
                "transaction root, count or size differs from the header".into(),
            ));
        }
        Ok(AssembledProposal {
            height: init.height,
            round: init.round,
            pol_round: init.pol_round,
            proposer: init.proposer,
            signature: init.signature,
            block: Block {
                header: value.header.clone(),
                body,
            },
            value,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::Validator;
    use lazychain_data_chain_types::block::BlockTemplate;
    use lazychain_data_chain_types::BlockHash;

    const LIMITS: AssemblyLimits = AssemblyLimits {
        max_stream_bytes: 1 << 20,
        max_stream_parts: 64,
        max_streams_per_peer: 2,
    };

    fn keys() -> Vec<LazySigner> {
        (1..=4u8).map(|i| LazySigner::new([i; 32])).collect()
    }

    fn address_of(s: &LazySigner) -> Address {
        let mut a = [0u8; 20];
        a.copy_from_slice(&s.public_key().as_bytes()[..20]);
        Address(a)
    }

    fn validator_set(signers: &[LazySigner]) -> ValidatorSet {
        ValidatorSet::new(
            signers
                .iter()
                .map(|s| Validator {
                    address: address_of(s),
                    public_key: s.public_key(),
                    voting_power: 1,
                })
                .collect(),
        )
    }

    fn block_by(proposer: Address, height: u64, n_txs: usize) -> (Block, BlockValue) {
        let txs: Vec<Vec<u8>> = (0..n_txs).map(|i| vec![i as u8; 50_000]).collect();
        let body = BlockBody::from_transactions(txs).expect("body");
        block_with(proposer, height, body)
    }

    /// The block of chain 9 at `height` by `proposer` carrying `body`, and its value.
    fn block_with(proposer: Address, height: u64, body: BlockBody) -> (Block, BlockValue) {
        let template = BlockTemplate {
            chain_id: 9,
            height,
            parent: BlockHash::ZERO,
            proposer: proposer.0,
            timestamp_ms: 1,
            gas_available: 0,
            base_fee_per_gas: 0,
        };
        let block = Block::build(&template, body, 0).expect("block");
        let value = BlockValue::new(block.header.clone()).expect("value");
        (block, value)
    }

    fn proposer_signer<'a>(signers: &'a [LazySigner], vs: &ValidatorSet, h: u64) -> &'a LazySigner {
        let expected = vs
            .proposer(Height(h), Round::new(0))
            .expect("proposer")
            .address;
        signers
            .iter()
            .find(|s| address_of(s) == expected)
            .expect("signer")
    }

    /// The round-0 stream of a fresh proposal that claims `proposer`, signed by `signer`.
    fn round0_stream(
        block: &Block,
        value: &BlockValue,
        proposer: Address,
        signer: &LazySigner,
    ) -> Vec<StreamMessage<ProposalPart>> {
        let height = Height(block.header.height);
        let sig = sign_parts(signer, height, Round::new(0), Round::Nil, proposer, value);
        stream_block(block, Round::new(0), Round::Nil, proposer, sig)
    }

    #[test]
    fn reassembles_out_of_order_stream() {
        let signers = keys();
        let vs = validator_set(&signers);
        let signer = proposer_signer(&signers, &vs, 5);
        let (block, value) = block_by(address_of(signer), 5, 7);
        let mut msgs = round0_stream(&block, &value, address_of(signer), signer);
        assert!(msgs.len() > 4, "7 txs of 50 kB need several data parts");
        let mut asm = PartsAssembler::new(LIMITS);
        let last = msgs.remove(1);
        let mut done = None;
        for m in msgs.into_iter().chain([last]) {
            if let Some(p) = asm.add(1u8, m, &vs).expect("valid parts") {
                done = Some(p);
            }
        }
        let done = done.expect("complete");
        assert_eq!(done.block, block);
        assert_eq!(done.value, value);
        assert_eq!(asm.buffered_streams(), 0);
    }

    #[test]
    fn claims_and_fraud_proofs_travel_in_their_own_parts() {
        let signers = keys();
        let vs = validator_set(&signers);
        let signer = proposer_signer(&signers, &vs, 5);
        let proposer = address_of(signer);
        let txs: Vec<Vec<u8>> = (0..3).map(|i| vec![i as u8; 60_000]).collect();
        let claims: Vec<Vec<u8>> = (0..3).map(|i| vec![10 + i as u8; 90_000]).collect();
        let proofs = vec![vec![7u8; 4_000]];
        let body = BlockBody::from_transactions(txs)
            .and_then(|b| b.with_items(&claims, &proofs))
            .expect("body");
        let (block, value) = block_with(proposer, 5, body);
        let msgs = round0_stream(&block, &value, proposer, signer);
        let mut asm = PartsAssembler::new(LIMITS);
        let mut done = None;
        for m in msgs.into_iter().rev() {
            if let Some(p) = asm.add(1u8, m, &vs).expect("valid parts") {
                done = Some(p);
            }
        }
        assert_eq!(done.expect("complete").block, block);

        // A claim moved before the transactions breaks the section order.
        let mut msgs = round0_stream(&block, &value, proposer, signer);
        let claim_at = msgs
            .iter()
            .position(|m| matches!(&m.content, StreamContent::Data(ProposalPart::Claims(_))))
            .expect("a claims part");
        let (first, second) = (msgs[1].content.clone(), msgs[claim_at].content.clone());
        msgs[1].content = second;
        msgs[claim_at].content = first;
        let mut asm = PartsAssembler::new(LIMITS);
        let outcome: Result<Vec<_>, _> = msgs.into_iter().map(|m| asm.add(1u8, m, &vs)).collect();
        assert!(
            matches!(outcome, Err(PartsError::BodyMismatch(_))),
            "{outcome:?}"
        );
    }

    #[test]
    fn rejects_parts_signed_by_wrong_validator() {
        let signers = keys();
        let vs = validator_set(&signers);
        let right = proposer_signer(&signers, &vs, 5);
        let wrong = signers
            .iter()
            .find(|s| address_of(s) != address_of(right))
            .expect("another validator");
        // Claims to be the proposer but signs with another key.
        let (block, value) = block_by(address_of(right), 5, 1);
        let msgs = round0_stream(&block, &value, address_of(right), wrong);
        let mut asm = PartsAssembler::new(LIMITS);
        let first = msgs.into_iter().next().expect("init");
        assert_eq!(
            asm.add(1u8, first, &vs).err(),
            Some(PartsError::BadSignature)
        );
        // A non-proposer signing as itself is rejected too.
        let (block, value) = block_by(address_of(wrong), 5, 1);
        let msgs = round0_stream(&block, &value, address_of(wrong), wrong);
        let first = msgs.into_iter().next().expect("init");
        assert!(matches!(
            asm.add(2u8, first, &vs),
            Err(PartsError::WrongProposer { .. })
        ));
    }

    #[test]
    fn rejects_tampered_body_and_oversized_stream() {
        let signers = keys();
        let vs = validator_set(&signers);
        let signer = proposer_signer(&signers, &vs, 5);
        let (block, value) = block_by(address_of(signer), 5, 2);
        let mut msgs = round0_stream(&block, &value, address_of(signer), signer);
        if let StreamContent::Data(ProposalPart::Data(txs)) = &mut msgs[1].content {
            txs[0][0] ^= 1;
        }
        let mut asm = PartsAssembler::new(LIMITS);
        let mut last = Ok(None);
        for m in msgs {
            last = asm.add(1u8, m, &vs);
        }
        assert!(matches!(last, Err(PartsError::BodyMismatch(_))));

        let small = AssemblyLimits {
            max_stream_bytes: 60_000,
            ..LIMITS
        };
        let msgs = round0_stream(&block, &value, address_of(signer), signer);
        let mut asm = PartsAssembler::new(small);
        let results: Vec<_> = msgs.into_iter().map(|m| asm.add(1u8, m, &vs)).collect();
        assert!(results
            .iter()
            .any(|r| matches!(r, Err(PartsError::StreamTooLarge { .. }))));
    }

    #[test]
    fn reproposal_of_another_builders_block_and_restream_by_non_proposer() {
        let signers = keys();
        let vs = validator_set(&signers);
        let r0 = proposer_signer(&signers, &vs, 5);
        let (block, value) = block_by(address_of(r0), 5, 1);
        // Round 1's proposer re-proposes round 0's block (POL round 0) under its own signature.
        let r1_addr = vs
            .proposer(Height(5), Round::new(1))
            .expect("proposer")
            .address;
        let r1 = signers
            .iter()
            .find(|s| address_of(s) == r1_addr)
            .expect("signer");
        let sig = sign_parts(r1, Height(5), Round::new(1), Round::new(0), r1_addr, &value);
        let msgs = stream_block(&block, Round::new(1), Round::new(0), r1_addr, sig);
        let mut asm = PartsAssembler::new(LIMITS);
        let mut done = None;
        for m in msgs {
            if let Some(p) = asm.add(1u8, m, &vs).expect("valid re-proposal") {
                done = Some(p);
            }
        }
        assert_eq!(done.expect("complete").proposer, r1_addr);

        // Any validator may re-stream round 0's proposal with the original signature.
        let sig0 = sign_parts(
            r0,
            Height(5),
            Round::new(0),
            Round::Nil,
            address_of(r0),
            &value,
        );
        let msgs = stream_block(&block, Round::new(0), Round::Nil, address_of(r0), sig0);
        let mut done = None;
        for m in msgs {
            if let Some(p) = asm.add(3u8, m, &vs).expect("valid restream") {
                done = Some(p);
            }
        }
        assert_eq!(done.expect("complete").value, value);
    }

    #[test]
    fn bounds_streams_per_peer() {
        let signers = keys();
        let vs = validator_set(&signers);
        let mut asm = PartsAssembler::new(LIMITS);
        for h in 1..=5u64 {
            let signer = proposer_signer(&signers, &vs, h);
            let (block, value) = block_by(address_of(signer), h, 1);
            let first = round0_stream(&block, &value, address_of(signer), signer)
                .into_iter()
                .next()
                .expect("init");
            assert_eq!(asm.add(9u8, first, &vs), Ok(None));
        }
        assert_eq!(asm.buffered_streams(), LIMITS.max_streams_per_peer);
    }
}
