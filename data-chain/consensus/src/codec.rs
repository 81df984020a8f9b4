//! The byte encoding of every engine message (network, sync, WAL): borsh, with bounded
//! decoding. Two types have no borsh impl in Malachite 0.8.2 (the validator proof and the sync
//! response, through `ExtendedCommitCertificate`); they are encoded here through local mirrors.
//! Data blocks themselves travel as SSZ inside these messages.

use borsh::{BorshDeserialize, BorshSerialize};
use bytes::Bytes;
use malachitebft_app_channel::app::consensus::{LivenessMsg, ProposedValue, SignedConsensusMsg};
use malachitebft_app_channel::app::types::codec::{Codec, HasEncodedLen};
use malachitebft_app_channel::app::types::core::{
    ExtendedCommitCertificate, ExtendedCommitSignature, PolkaCertificate, Round, SignedExtension,
    ValidatorProof,
};
use malachitebft_app_channel::app::types::streaming::StreamMessage;
use malachitebft_app_channel::app::types::sync::{RawDecidedValue, Request, Response, Status};
use malachitebft_sync::ValueResponse;

use crate::context::{Address, Height, LazyContext, ProposalPart, Signature, ValueId};

/// Largest message this codec decodes; the network layer enforces its own, smaller limits.
pub const MAX_DECODE_BYTES: usize = 64 << 20;

#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    #[error("message of {size} bytes exceeds the {limit}-byte decode limit")]
    TooLarge { size: usize, limit: usize },
    #[error("malformed message: {0}")]
    Malformed(#[from] std::io::Error),
}

/// The one codec used for the network, value sync and the write-ahead log.
#[derive(Clone, Copy, Debug, Default)]
pub struct LazyCodec;

fn decode_all<T: BorshDeserialize>(bytes: &[u8]) -> Result<T, CodecError> {
    if bytes.len() > MAX_DECODE_BYTES {
        return Err(CodecError::TooLarge {
            size: bytes.len(),
            limit: MAX_DECODE_BYTES,
        });
    }
    // `from_slice` fails on trailing bytes, so every byte of the input is accounted for.
    Ok(borsh::from_slice(bytes)?)
}

fn encode<T: BorshSerialize>(value: &T) -> Result<Bytes, CodecError> {
    Ok(Bytes::from(borsh::to_vec(value)?))
}

macro_rules! borsh_codec {
    ($($t:ty),* $(,)?) => {$(
        impl Codec<$t> for LazyCodec {
            type Error = CodecError;

            fn decode(&self, bytes: Bytes) -> Result<$t, CodecError> {
                decode_all(&bytes)
            }

            fn encode(&self, msg: &$t) -> Result<Bytes, CodecError> {
                encode(msg)
            }
        }
    )*};
}

borsh_codec!(
    ProposalPart,
    SignedConsensusMsg<LazyContext>,
    LivenessMsg<LazyContext>,
    StreamMessage<ProposalPart>,
    ProposedValue<LazyContext>,
    PolkaCertificate<LazyContext>,
    Status<LazyContext>,
    Request<LazyContext>,
);

#[derive(BorshSerialize, BorshDeserialize)]
struct ValidatorProofWire {
    public_key: Vec<u8>,
    peer_id: Vec<u8>,
    signature: Signature,
}

impl Codec<ValidatorProof<LazyContext>> for LazyCodec {
    type Error = CodecError;

    fn decode(&self, bytes: Bytes) -> Result<ValidatorProof<LazyContext>, CodecError> {
        let w: ValidatorProofWire = decode_all(&bytes)?;
        Ok(ValidatorProof::new(w.public_key, w.peer_id, w.signature))
    }

    fn encode(&self, msg: &ValidatorProof<LazyContext>) -> Result<Bytes, CodecError> {
        encode(&ValidatorProofWire {
            public_key: msg.public_key.clone(),
            peer_id: msg.peer_id.clone(),
            signature: msg.signature,
        })
    }
}

#[derive(BorshSerialize, BorshDeserialize)]
struct CommitSignatureWire {
    address: Address,
    signature: Signature,
    extension: Option<SignedExtension<LazyContext>>,
}

#[derive(BorshSerialize, BorshDeserialize)]
struct CertificateWire {
    height: Height,
    round: Round,
    value_id: ValueId,
    commit_signatures: Vec<CommitSignatureWire>,
}

#[derive(BorshSerialize, BorshDeserialize)]
struct DecidedValueWire {
    value_bytes: Vec<u8>,
    certificate: CertificateWire,
}

#[derive(BorshSerialize, BorshDeserialize)]
struct ValueResponseWire {
    start_height: Height,
    values: Vec<DecidedValueWire>,
}

impl CertificateWire {
    fn from_certificate(c: &ExtendedCommitCertificate<LazyContext>) -> Self {
        Self {
            height: c.height,
            round: c.round,
            value_id: c.value_id,
            commit_signatures: c
                .commit_signatures
                .iter()
                .map(|s| CommitSignatureWire {
                    address: s.address,
                    signature: s.signature,
                    extension: s.extension.clone(),
                })
                .collect(),
        }
    }

    fn into_certificate(self) -> ExtendedCommitCertificate<LazyContext> {
        ExtendedCommitCertificate {
            height: self.height,
            round: self.round,
            value_id: self.value_id,
            commit_signatures: self
                .commit_signatures
                .into_iter()
                .map(|s| ExtendedCommitSignature::new(s.address, s.signature, s.extension))
                .collect(),
        }
    }
}

/// Borsh bytes of an extended commit certificate (used by the node's block store too).
pub fn encode_certificate(c: &ExtendedCommitCertificate<LazyContext>) -> Vec<u8> {
    borsh::to_vec(&CertificateWire::from_certificate(c)).unwrap_or_default()
}

pub fn decode_certificate(
    bytes: &[u8],
) -> Result<ExtendedCommitCertificate<LazyContext>, CodecError> {
    let w: CertificateWire = decode_all(bytes)?;
    Ok(w.into_certificate())
}

fn response_wire(msg: &Response<LazyContext>) -> ValueResponseWire {
    let Response::ValueResponse(r) = msg;
    ValueResponseWire {
        start_height: r.start_height,
        values: r
            .values
            .iter()
            .map(|v| DecidedValueWire {
                value_bytes: v.value_bytes.to_vec(),
                certificate: CertificateWire::from_certificate(&v.certificate),
            })
            .collect(),
    }
}

impl Codec<Response<LazyContext>> for LazyCodec {
    type Error = CodecError;

    fn decode(&self, bytes: Bytes) -> Result<Response<LazyContext>, CodecError> {
        let w: ValueResponseWire = decode_all(&bytes)?;
        let values = w
            .values
            .into_iter()
            .map(|v| {
                RawDecidedValue::new(Bytes::from(v.value_bytes), v.certificate.into_certificate())
            })
            .collect();
        Ok(Response::ValueResponse(ValueResponse::new(
            w.start_height,
            values,
        )))
    }

    fn encode(&self, msg: &Response<LazyContext>) -> Result<Bytes, CodecError> {
        encode(&response_wire(msg))
    }
}

impl HasEncodedLen<Response<LazyContext>> for LazyCodec {
    fn encoded_len(&self, msg: &Response<LazyContext>) -> Result<usize, CodecError> {
        Ok(borsh::object_length(&response_wire(msg))?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signing::LazySigner;

    #[test]
    fn validator_proof_round_trips_and_rejects_garbage() {
        let proof =
            ValidatorProof::<LazyContext>::new(vec![1; 32], vec![2; 38], Signature([3; 64]));
        let bytes = LazyCodec.encode(&proof).expect("encodes");
        let back: ValidatorProof<LazyContext> = LazyCodec.decode(bytes.clone()).expect("decodes");
        assert_eq!(back, proof);
        let mut longer = bytes.to_vec();
        longer.push(0);
        let trailing: Result<ValidatorProof<LazyContext>, _> = LazyCodec.decode(longer.into());
        assert!(trailing.is_err());
        let short: Result<ValidatorProof<LazyContext>, _> = LazyCodec.decode(bytes.slice(..10));
        assert!(short.is_err());
    }

    #[test]
    fn sync_response_round_trips() {
        let signer = LazySigner::new([1; 32]);
        let cert = ExtendedCommitCertificate {
            height: Height(4),
            round: Round::new(1),
            value_id: ValueId([9; 32]),
            commit_signatures: vec![ExtendedCommitSignature::new(
                Address([1; 20]),
                signer.sign_bytes(b"x"),
                None,
            )],
        };
        let response = Response::ValueResponse(ValueResponse::new(
            Height(4),
            vec![RawDecidedValue::new(Bytes::from_static(b"block"), cert)],
        ));
        let bytes = LazyCodec.encode(&response).expect("encodes");
        assert_eq!(LazyCodec.encoded_len(&response).expect("len"), bytes.len());
        let back: Response<LazyContext> = LazyCodec.decode(bytes).expect("decodes");
        assert_eq!(back, response);
    }
}
