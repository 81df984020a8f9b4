//! The types Malachite is instantiated with.

use std::fmt;

use borsh::{BorshDeserialize, BorshSerialize};
use lazychain_data_chain_types::{BlockHash, BlockHeader};
use malachitebft_app_channel::app::types::core::{
    self as mtypes, LinearTimeouts, NilOrVal, Round, SignedExtension, SigningScheme, VoteType,
    VotingPower,
};
use malachitebft_signing_ed25519 as ed25519;

use crate::parts::ProposalPart as Part;

pub use crate::parts::ProposalPart;

/// Height of the data chain; height 1 is the first block.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    BorshSerialize,
    BorshDeserialize,
)]
pub struct Height(pub u64);

impl fmt::Display for Height {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl mtypes::Height for Height {
    const ZERO: Self = Height(0);
    const INITIAL: Self = Height(1);

    fn increment_by(&self, n: u64) -> Self {
        Height(self.0.saturating_add(n))
    }

    fn decrement_by(&self, n: u64) -> Option<Self> {
        self.0.checked_sub(n).map(Height)
    }

    fn as_u64(&self) -> u64 {
        self.0
    }
}

/// A validator address: 20 bytes derived from the ed25519 public key (see `lazychain-config`).
#[derive(
    Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, BorshDeserialize,
)]
pub struct Address(pub [u8; 20]);

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{}", hex::encode(self.0))
    }
}

impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl mtypes::Address for Address {}

/// An ed25519 signature, as a plain array so that it can derive borsh.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, BorshDeserialize)]
pub struct Signature(pub [u8; 64]);

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature(0x{}..)", hex::encode(&self.0[..8]))
    }
}

/// The signing scheme: ed25519 (`ed25519-consensus` through Malachite's crate).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ed25519Scheme;

/// The ed25519 library's error (`ed25519_consensus::Error`, named through Malachite's scheme).
type Ed25519Error = <ed25519::Ed25519 as SigningScheme>::DecodingError;

/// Why bytes are not an ed25519 signature or public key ([`Ed25519Scheme`]'s decoding error).
#[derive(Debug, thiserror::Error)]
pub enum KeyDecodeError {
    #[error("signature must be 64 bytes, got {len}")]
    SignatureLength { len: usize },
    #[error("public key must be 32 bytes, got {len}")]
    PublicKeyLength { len: usize },
    /// 32 bytes that are not a valid ed25519 public key.
    #[error("invalid ed25519 public key: {0}")]
    PublicKey(#[source] Ed25519Error),
}

impl SigningScheme for Ed25519Scheme {
    type DecodingError = KeyDecodeError;
    type Signature = Signature;
    type PublicKey = ed25519::PublicKey;
    type PrivateKey = ed25519::PrivateKey;

    fn decode_signature(bytes: &[u8]) -> Result<Signature, KeyDecodeError> {
        let array: [u8; 64] = bytes
            .try_into()
            .map_err(|_| KeyDecodeError::SignatureLength { len: bytes.len() })?;
        Ok(Signature(array))
    }

    fn encode_signature(signature: &Signature) -> Vec<u8> {
        signature.0.to_vec()
    }

    fn decode_public_key(bytes: &[u8]) -> Result<ed25519::PublicKey, KeyDecodeError> {
        let array: [u8; 32] = bytes
            .try_into()
            .map_err(|_| KeyDecodeError::PublicKeyLength { len: bytes.len() })?;
        ed25519::PublicKey::from_bytes(array).map_err(KeyDecodeError::PublicKey)
    }

    fn encode_public_key(public_key: &ed25519::PublicKey) -> Vec<u8> {
        public_key.as_bytes().to_vec()
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Validator {
    pub address: Address,
    pub public_key: ed25519::PublicKey,
    pub voting_power: VotingPower,
}

impl mtypes::Validator<LazyContext> for Validator {
    fn address(&self) -> &Address {
        &self.address
    }

    fn public_key(&self) -> &ed25519::PublicKey {
        &self.public_key
    }

    fn voting_power(&self) -> VotingPower {
        self.voting_power
    }
}

/// Validators sorted by voting power (descending), then address (ascending), as Malachite asks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidatorSet {
    validators: Vec<Validator>,
}

impl ValidatorSet {
    pub fn new(mut validators: Vec<Validator>) -> Self {
        validators.sort_by(|a, b| {
            b.voting_power
                .cmp(&a.voting_power)
                .then(a.address.cmp(&b.address))
        });
        validators.dedup_by(|a, b| a.address == b.address);
        Self { validators }
    }

    pub fn validators(&self) -> &[Validator] {
        &self.validators
    }

    pub fn get(&self, address: &Address) -> Option<&Validator> {
        self.validators.iter().find(|v| &v.address == address)
    }

    /// Round-robin proposer: index `(height + round) mod n` in the sorted set.
    pub fn proposer(&self, height: Height, round: Round) -> Option<&Validator> {
        let n = self.validators.len() as u64;
        if n == 0 {
            return None;
        }
        let round = round.as_i64().max(0) as u64;
        let index = height.0.wrapping_add(round) % n;
        self.validators.get(index as usize)
    }
}

impl mtypes::ValidatorSet<LazyContext> for ValidatorSet {
    fn count(&self) -> usize {
        self.validators.len()
    }

    fn total_voting_power(&self) -> VotingPower {
        self.validators.iter().map(|v| v.voting_power).sum()
    }

    fn get_by_address(&self, address: &Address) -> Option<&Validator> {
        self.get(address)
    }

    fn get_by_index(&self, index: usize) -> Option<&Validator> {
        self.validators.get(index)
    }
}

/// The value consensus agrees on: a block header; its id is the block hash. The body travels
/// in proposal parts and is bound to the header by the header's transaction root.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockValue {
    pub header: BlockHeader,
    pub hash: BlockHash,
}

impl BlockValue {
    pub fn new(header: BlockHeader) -> Result<Self, lazychain_data_chain_types::DecodeError> {
        let hash = header.hash()?;
        Ok(Self { header, hash })
    }
}

impl PartialOrd for BlockValue {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for BlockValue {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.header
            .height
            .cmp(&other.header.height)
            .then(self.hash.cmp(&other.hash))
    }
}

/// Borsh form of a block value: its SSZ header bytes. The hash is recomputed on decode, so a
/// peer cannot pair a header with a wrong id.
impl BorshSerialize for BlockValue {
    fn serialize<W: borsh::io::Write>(&self, writer: &mut W) -> borsh::io::Result<()> {
        BorshSerialize::serialize(&self.header.to_ssz(), writer)
    }
}

impl BorshDeserialize for BlockValue {
    fn deserialize_reader<R: borsh::io::Read>(reader: &mut R) -> borsh::io::Result<Self> {
        let bytes = Vec::<u8>::deserialize_reader(reader)?;
        let header = BlockHeader::from_ssz(&bytes)
            .map_err(|e| borsh::io::Error::new(borsh::io::ErrorKind::InvalidData, e.to_string()))?;
        BlockValue::new(header)
            .map_err(|e| borsh::io::Error::new(borsh::io::ErrorKind::InvalidData, e.to_string()))
    }
}

/// The id of a block value. A newtype so that borsh and Display are ours.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    BorshSerialize,
    BorshDeserialize,
)]
pub struct ValueId(pub [u8; 32]);

impl fmt::Display for ValueId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{}", hex::encode(self.0))
    }
}

impl From<BlockHash> for ValueId {
    fn from(h: BlockHash) -> Self {
        ValueId(h.0)
    }
}

impl From<ValueId> for BlockHash {
    fn from(v: ValueId) -> Self {
        BlockHash(v.0)
    }
}

impl mtypes::Value for BlockValue {
    type Id = ValueId;

    fn id(&self) -> ValueId {
        ValueId(self.hash.0)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Vote {
    pub vote_type: VoteType,
    pub height: Height,
    pub round: Round,
    pub value: NilOrVal<ValueId>,
    pub validator_address: Address,
    pub extension: Option<SignedExtension<LazyContext>>,
}

impl mtypes::Vote<LazyContext> for Vote {
    fn height(&self) -> Height {
        self.height
    }

    fn round(&self) -> Round {
        self.round
    }

    fn value(&self) -> &NilOrVal<ValueId> {
        &self.value
    }

    fn take_value(self) -> NilOrVal<ValueId> {
        self.value
    }

    fn vote_type(&self) -> VoteType {
        self.vote_type
    }

    fn validator_address(&self) -> &Address {
        &self.validator_address
    }

    fn extension(&self) -> Option<&SignedExtension<LazyContext>> {
        self.extension.as_ref()
    }

    fn take_extension(&mut self) -> Option<SignedExtension<LazyContext>> {
        self.extension.take()
    }

    fn extend(self, extension: SignedExtension<LazyContext>) -> Self {
        Self {
            extension: Some(extension),
            ..self
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Proposal {
    pub height: Height,
    pub round: Round,
    pub value: BlockValue,
    pub pol_round: Round,
    pub validator_address: Address,
}

impl mtypes::Proposal<LazyContext> for Proposal {
    fn height(&self) -> Height {
        self.height
    }

    fn round(&self) -> Round {
        self.round
    }

    fn value(&self) -> &BlockValue {
        &self.value
    }

    fn take_value(self) -> BlockValue {
        self.value
    }

    fn pol_round(&self) -> Round {
        self.pol_round
    }

    fn validator_address(&self) -> &Address {
        &self.validator_address
    }
}

impl mtypes::ProposalPart<LazyContext> for Part {
    fn is_first(&self) -> bool {
        matches!(self, Part::Init(_))
    }

    fn is_last(&self) -> bool {
        matches!(self, Part::Fin)
    }
}

/// lazychain's data-chain context.
#[derive(Clone, Debug, Default)]
pub struct LazyContext;

impl mtypes::Context for LazyContext {
    type Address = Address;
    type Height = Height;
    type ProposalPart = Part;
    type Proposal = Proposal;
    type Validator = Validator;
    type ValidatorSet = ValidatorSet;
    type Timeouts = LinearTimeouts;
    type Value = BlockValue;
    type Vote = Vote;
    type Extension = Vec<u8>;
    type SigningScheme = Ed25519Scheme;

    fn select_proposer<'a>(
        &self,
        validator_set: &'a ValidatorSet,
        height: Height,
        round: Round,
    ) -> &'a Validator {
        match validator_set.proposer(height, round) {
            Some(v) => v,
            // Malachite never starts a height with an empty set; genesis validation forbids it.
            None => panic!("select_proposer called with an empty validator set"),
        }
    }

    fn new_proposal(
        &self,
        height: Height,
        round: Round,
        value: BlockValue,
        pol_round: Round,
        address: Address,
    ) -> Proposal {
        Proposal {
            height,
            round,
            value,
            pol_round,
            validator_address: address,
        }
    }

    fn new_prevote(
        &self,
        height: Height,
        round: Round,
        value_id: NilOrVal<ValueId>,
        address: Address,
    ) -> Vote {
        Vote {
            vote_type: VoteType::Prevote,
            height,
            round,
            value: value_id,
            validator_address: address,
            extension: None,
        }
    }

    fn new_precommit(
        &self,
        height: Height,
        round: Round,
        value_id: NilOrVal<ValueId>,
        address: Address,
    ) -> Vote {
        Vote {
            vote_type: VoteType::Precommit,
            height,
            round,
            value: value_id,
            validator_address: address,
            extension: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrong_lengths_are_decoding_errors() {
        let err = Ed25519Scheme::decode_signature(&[0; 63]).expect_err("short signature");
        assert_eq!(err.to_string(), "signature must be 64 bytes, got 63");
        let err = Ed25519Scheme::decode_public_key(&[0; 33]).expect_err("long key");
        assert_eq!(err.to_string(), "public key must be 32 bytes, got 33");
        assert_eq!(
            Ed25519Scheme::decode_signature(&[7; 64]).expect("64 bytes"),
            Signature([7; 64])
        );
    }
}
