//! ed25519 signing of consensus messages. Every preimage starts with a tag naming the message
//! kind, so a signature over one kind can never be replayed as another.

use async_trait::async_trait;
use borsh::BorshSerialize;
use malachitebft_app_channel::app::types::core::{
    Round, SignedMessage, ValidatorProof, VoteExtensionScope,
};
use malachitebft_signing::{Error as SigningError, Signer, VerificationResult, Verifier};
use malachitebft_signing_ed25519 as ed25519;

use crate::context::{Address, Height, LazyContext, Proposal, Signature, ValueId, Vote};

pub const VOTE_TAG: &[u8] = b"LAZYCHAIN_DATA_VOTE";
pub const PROPOSAL_TAG: &[u8] = b"LAZYCHAIN_DATA_PROPOSAL";
pub const VOTE_EXTENSION_TAG: &[u8] = b"LAZYCHAIN_DATA_VOTE_EXTENSION";
pub const PROPOSAL_PARTS_TAG: &[u8] = b"LAZYCHAIN_PROPOSAL_PARTS";

fn preimage(tag: &[u8], fields: &impl BorshSerialize) -> Vec<u8> {
    let mut out = tag.to_vec();
    // Borsh into a Vec cannot fail.
    let _ = fields.serialize(&mut out);
    out
}

/// The signed content of a vote. The extension is excluded: Malachite compares replayed votes
/// without it, so the signature must not cover it.
pub fn vote_preimage(vote: &Vote) -> Vec<u8> {
    preimage(
        VOTE_TAG,
        &(
            vote.vote_type,
            vote.height,
            vote.round,
            &vote.value,
            vote.validator_address,
        ),
    )
}

pub fn proposal_preimage(p: &Proposal) -> Vec<u8> {
    preimage(
        PROPOSAL_TAG,
        &(
            p.height,
            p.round,
            p.pol_round,
            ValueId(p.value.hash.0),
            p.validator_address,
        ),
    )
}

fn extension_preimage(scope: &VoteExtensionScope<LazyContext>, extension: &[u8]) -> Vec<u8> {
    preimage(
        VOTE_EXTENSION_TAG,
        &(
            scope.height,
            scope.round,
            scope.value_id,
            scope.validator_address,
            extension,
        ),
    )
}

/// Malachite fixes this preimage (it starts with its own "PoV" separator) so that any signer
/// following its contract interoperates; no lazychain tag is added.
fn validator_proof_preimage(public_key: &[u8], peer_id: &[u8]) -> Vec<u8> {
    ValidatorProof::<LazyContext>::signing_bytes(public_key, peer_id)
}

/// The preimage a proposer signs to authenticate the proposal parts it streams for a round.
/// The POL round is covered because it decides which block builders are acceptable.
pub fn proposal_parts_preimage(
    height: Height,
    round: Round,
    pol_round: Round,
    proposer: Address,
    block: &ValueId,
) -> Vec<u8> {
    preimage(
        PROPOSAL_PARTS_TAG,
        &(height, round, pol_round, proposer, block),
    )
}

pub fn verify(public_key: &ed25519::PublicKey, msg: &[u8], signature: &Signature) -> bool {
    public_key
        .verify(msg, &ed25519::Signature::from_bytes(signature.0))
        .is_ok()
}

/// Signs with the validator's private key, held in memory.
#[derive(Clone)]
pub struct LazySigner {
    key: ed25519::PrivateKey,
}

impl LazySigner {
    pub fn new(seed: [u8; 32]) -> Self {
        Self {
            key: ed25519::PrivateKey::from(seed),
        }
    }

    pub fn public_key(&self) -> ed25519::PublicKey {
        self.key.public_key()
    }

    pub fn sign_bytes(&self, msg: &[u8]) -> Signature {
        Signature(self.key.sign(msg).to_bytes())
    }
}

#[async_trait]
impl Signer<LazyContext> for LazySigner {
    async fn sign_vote(
        &self,
        vote: Vote,
    ) -> Result<SignedMessage<LazyContext, Vote>, SigningError> {
        let signature = self.sign_bytes(&vote_preimage(&vote));
        Ok(SignedMessage::new(vote, signature))
    }

    async fn sign_proposal(
        &self,
        proposal: Proposal,
    ) -> Result<SignedMessage<LazyContext, Proposal>, SigningError> {
        let signature = self.sign_bytes(&proposal_preimage(&proposal));
        Ok(SignedMessage::new(proposal, signature))
    }

    async fn sign_vote_extension(
        &self,
        scope: VoteExtensionScope<LazyContext>,
        extension: Vec<u8>,
    ) -> Result<SignedMessage<LazyContext, Vec<u8>>, SigningError> {
        let signature = self.sign_bytes(&extension_preimage(&scope, &extension));
        Ok(SignedMessage::new(extension, signature))
    }

    async fn sign_validator_proof(
        &self,
        public_key: Vec<u8>,
        peer_id: Vec<u8>,
    ) -> Result<ValidatorProof<LazyContext>, SigningError> {
        let signature = self.sign_bytes(&validator_proof_preimage(&public_key, &peer_id));
        Ok(ValidatorProof::new(public_key, peer_id, signature))
    }
}

/// Verifies signatures; stateless, shared by validators and full nodes.
#[derive(Clone, Copy, Default)]
pub struct LazyVerifier;

#[async_trait]
impl Verifier<LazyContext> for LazyVerifier {
    async fn verify_signed_vote(
        &self,
        vote: &Vote,
        signature: &Signature,
        public_key: &ed25519::PublicKey,
    ) -> Result<VerificationResult, SigningError> {
        Ok(VerificationResult::from_bool(verify(
            public_key,
            &vote_preimage(vote),
            signature,
        )))
    }

    async fn verify_signed_proposal(
        &self,
        proposal: &Proposal,
        signature: &Signature,
        public_key: &ed25519::PublicKey,
    ) -> Result<VerificationResult, SigningError> {
        Ok(VerificationResult::from_bool(verify(
            public_key,
            &proposal_preimage(proposal),
            signature,
        )))
    }

    async fn verify_signed_vote_extension(
        &self,
        scope: &VoteExtensionScope<LazyContext>,
        extension: &Vec<u8>,
        signature: &Signature,
        public_key: &ed25519::PublicKey,
    ) -> Result<VerificationResult, SigningError> {
        Ok(VerificationResult::from_bool(verify(
            public_key,
            &extension_preimage(scope, extension),
            signature,
        )))
    }

    async fn verify_validator_proof(
        &self,
        proof: &ValidatorProof<LazyContext>,
    ) -> Result<VerificationResult, SigningError> {
        let Ok(array) = <[u8; 32]>::try_from(proof.public_key.as_slice()) else {
            return Ok(VerificationResult::Invalid);
        };
        let Ok(public_key) = ed25519::PublicKey::from_bytes(array) else {
            return Ok(VerificationResult::Invalid);
        };
        Ok(VerificationResult::from_bool(verify(
            &public_key,
            &validator_proof_preimage(&proof.public_key, &proof.peer_id),
            &proof.signature,
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use malachitebft_app_channel::app::types::core::{NilOrVal, VoteType};

    fn vote(value: u8) -> Vote {
        Vote {
            vote_type: VoteType::Prevote,
            height: Height(3),
            round: Round::new(0),
            value: NilOrVal::Val(ValueId([value; 32])),
            validator_address: Address([1; 20]),
            extension: None,
        }
    }

    #[tokio::test]
    async fn vote_signature_verifies_and_binds_content() {
        let signer = LazySigner::new([7; 32]);
        let signed = signer.sign_vote(vote(1)).await.expect("signs");
        let pk = signer.public_key();
        let ok = LazyVerifier
            .verify_signed_vote(&vote(1), &signed.signature, &pk)
            .await
            .expect("verifies");
        assert!(ok.is_valid());
        let other = LazyVerifier
            .verify_signed_vote(&vote(2), &signed.signature, &pk)
            .await
            .expect("verifies");
        assert!(other.is_invalid());
    }

    #[test]
    fn tags_separate_message_kinds() {
        let v = vote(1);
        let vote_bytes = vote_preimage(&v);
        assert!(vote_bytes.starts_with(VOTE_TAG));
        let parts = proposal_parts_preimage(
            v.height,
            v.round,
            Round::Nil,
            v.validator_address,
            &ValueId([1; 32]),
        );
        assert!(parts.starts_with(PROPOSAL_PARTS_TAG));
        assert_ne!(vote_bytes, parts);
    }
}
