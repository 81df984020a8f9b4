//! Receipts: what happened to each transaction of a block, as a logic type ([`Receipt`]) and
//! its SSZ wire form ([`ReceiptSsz`]). The receipts root is the SSZ `hash_tree_root` of the
//! list of encoded receipts, `List<List<u8, MAX_RECEIPT_BYTES>, MAX_TXS>`, the same shape as
//! a data block's transaction root.

use alloy_primitives::{Address, Bloom, Bytes, Log, B256, U256};
use lazychain_data_chain_types::block::MAX_TXS_BOUND;
use lazychain_data_chain_types::merkle::{byte_list_leaf, roots_list_root};
use lazychain_data_chain_types::par::par_map;
use ssz_rs::prelude::*;

/// Bound of one encoded receipt (revert data and logs are bounded by gas well below this).
pub const MAX_RECEIPT_BYTES: usize = 1 << 24;
const MAX_LOGS: usize = 1 << 16;
const MAX_LOG_DATA: usize = 1 << 22;
const MAX_REASON: usize = 256;
const MAX_OUTPUT: usize = 1 << 22;

/// How a transaction ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TxStatus {
    /// Executed; state changes kept (receipt status 1).
    Success,
    /// Executed and reverted or halted: only the fee was charged (receipt status 0).
    Failed,
    /// Not executed: it failed a state check (nonce, balance, fee). No state change for the
    /// sender; the proposer's fee recipient paid the inclusion charge.
    Skipped,
}

impl TxStatus {
    fn code(self) -> u8 {
        match self {
            TxStatus::Failed => 0,
            TxStatus::Success => 1,
            TxStatus::Skipped => 2,
        }
    }

    fn from_code(code: u8) -> Option<Self> {
        match code {
            0 => Some(TxStatus::Failed),
            1 => Some(TxStatus::Success),
            2 => Some(TxStatus::Skipped),
            _ => None,
        }
    }
}

/// One transaction's receipt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Receipt {
    pub tx_hash: B256,
    /// EIP-2718 type (0 legacy, 1, 2).
    pub tx_type: u8,
    /// Recovered sender; zero if the transaction could not be decoded or recovered.
    pub from: Address,
    /// Call target; `None` for a creation.
    pub to: Option<Address>,
    pub status: TxStatus,
    /// Why it failed or was skipped (empty on success): the halt reason, `"reverted"`, or the
    /// state check it failed.
    pub reason: String,
    pub gas_used: u64,
    pub cumulative_gas_used: u64,
    /// Wei per gas the sender paid (0 when skipped).
    pub effective_gas_price: u128,
    pub contract_address: Option<Address>,
    pub logs: Vec<Log>,
    /// Return data of a revert (what `eth_call` reports as the error data).
    pub output: Bytes,
    /// Skipped only: intrinsic gas x base fee, owed by the proposer's fee recipient.
    pub inclusion_charge: U256,
    /// Skipped only: the part of the charge the fee recipient could not pay.
    pub charge_shortfall: U256,
    /// Executed only: the base fee on the gas the transaction declared but did not use,
    /// charged to the sender and burned (declared gas is what the execution budget counts;
    /// ADR 007). Less than that only if the sender's balance ran out during execution.
    pub unused_gas_charge: U256,
}

impl Receipt {
    /// The EIP-658 status a wallet sees: 1 on success, 0 otherwise (skipped included).
    pub fn eth_status(&self) -> u64 {
        u64::from(self.status == TxStatus::Success)
    }

    pub fn logs_bloom(&self) -> Bloom {
        let mut bloom = Bloom::ZERO;
        for log in &self.logs {
            bloom.accrue_log(log);
        }
        bloom
    }

    /// The SSZ encoding of [`ReceiptSsz`] (the leaf of the receipts root, and the stored
    /// form), written directly: `ssz_rs` serialises byte lists one element at a time, which
    /// cost more than executing a transfer. The tests check it byte for byte against
    /// `ssz_rs`, which still defines the type.
    pub fn encode(&self) -> Vec<u8> {
        const FIXED: usize = 32 + 1 + 20 + 4 + 1 + 4 + 8 + 8 + 32 + 4 + 4 + 4 + 32 + 32 + 32;
        let to: &[u8] = self.to.as_ref().map_or(&[], |a| a.as_slice());
        let reason = &self.reason.as_bytes()[..self.reason.len().min(MAX_REASON)];
        let created: &[u8] = self.contract_address.as_ref().map_or(&[], |a| a.as_slice());
        let logs = &self.logs[..self.logs.len().min(MAX_LOGS)];
        let log_bytes: usize = logs
            .iter()
            .map(|l| 4 + 28 + 32 * l.topics().len().min(4) + l.data.data.len().min(MAX_LOG_DATA))
            .sum();
        let output = &self.output[..self.output.len().min(MAX_OUTPUT)];
        let mut out = Vec::with_capacity(
            FIXED + to.len() + reason.len() + created.len() + log_bytes + output.len(),
        );
        let offset =
            |out: &mut Vec<u8>, at: usize| out.extend_from_slice(&(at as u32).to_le_bytes());
        let mut at = FIXED;
        out.extend_from_slice(self.tx_hash.as_slice());
        out.push(self.tx_type);
        out.extend_from_slice(self.from.as_slice());
        offset(&mut out, at);
        at += to.len();
        out.push(self.status.code());
        offset(&mut out, at);
        at += reason.len();
        out.extend_from_slice(&self.gas_used.to_le_bytes());
        out.extend_from_slice(&self.cumulative_gas_used.to_le_bytes());
        out.extend_from_slice(&U256::from(self.effective_gas_price).to_be_bytes::<32>());
        offset(&mut out, at);
        at += created.len();
        offset(&mut out, at);
        at += log_bytes;
        offset(&mut out, at);
        out.extend_from_slice(&self.inclusion_charge.to_be_bytes::<32>());
        out.extend_from_slice(&self.charge_shortfall.to_be_bytes::<32>());
        out.extend_from_slice(&self.unused_gas_charge.to_be_bytes::<32>());
        out.extend_from_slice(to);
        out.extend_from_slice(reason);
        out.extend_from_slice(created);
        // A list of variable-size logs: one offset per log, then the logs.
        let mut log_at = 4 * logs.len();
        for l in logs {
            offset(&mut out, log_at);
            log_at += 28 + 32 * l.topics().len().min(4) + l.data.data.len().min(MAX_LOG_DATA);
        }
        for l in logs {
            let topics = &l.topics()[..l.topics().len().min(4)];
            out.extend_from_slice(l.address.as_slice());
            offset(&mut out, 28);
            offset(&mut out, 28 + 32 * topics.len());
            for t in topics {
                out.extend_from_slice(t.as_slice());
            }
            out.extend_from_slice(&l.data.data[..l.data.data.len().min(MAX_LOG_DATA)]);
        }
        out.extend_from_slice(output);
        out
    }

    /// The encoding through `ssz_rs` (the definition [`Receipt::encode`] must match).
    #[cfg(test)]
    fn encode_ssz_rs(&self) -> Vec<u8> {
        let mut out = Vec::new();
        ReceiptSsz::from(self)
            .serialize(&mut out)
            .expect("within bounds");
        out
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, ReceiptDecodeError> {
        let wire = ReceiptSsz::deserialize(bytes).map_err(|e| ReceiptDecodeError(e.to_string()))?;
        Receipt::try_from(&wire)
    }
}

/// A stored receipt did not decode (corruption or a format change).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("receipt does not decode: {0}")]
pub struct ReceiptDecodeError(pub String);

/// The receipts root of a block: SSZ `hash_tree_root` of the list of encoded receipts. Each
/// receipt's root is computed on every core.
pub fn receipts_root(encoded: &[Vec<u8>]) -> B256 {
    let leaves = par_map(
        encoded,
        |r| byte_list_leaf(r, MAX_RECEIPT_BYTES),
        || [0u8; 32],
    );
    B256::from(roots_list_root(&leaves, MAX_TXS_BOUND))
}

type Bytes20 = Vector<u8, 20>;
type Bytes32 = Vector<u8, 32>;

#[derive(Clone, Debug, Default, PartialEq, Eq, SimpleSerialize)]
pub struct LogSsz {
    pub address: Bytes20,
    pub topics: List<Bytes32, 4>,
    pub data: List<u8, MAX_LOG_DATA>,
}

/// The wire form of [`Receipt`]; optional addresses are lists of 0 or 20 bytes, amounts
/// 32-byte big-endian.
#[derive(Clone, Debug, Default, PartialEq, Eq, SimpleSerialize)]
pub struct ReceiptSsz {
    pub tx_hash: Bytes32,
    pub tx_type: u8,
    pub from: Bytes20,
    pub to: List<u8, 20>,
    pub status: u8,
    pub reason: List<u8, MAX_REASON>,
    pub gas_used: u64,
    pub cumulative_gas_used: u64,
    pub effective_gas_price: Bytes32,
    pub contract_address: List<u8, 20>,
    pub logs: List<LogSsz, MAX_LOGS>,
    pub output: List<u8, MAX_OUTPUT>,
    pub inclusion_charge: Bytes32,
    pub charge_shortfall: Bytes32,
    pub unused_gas_charge: Bytes32,
}

fn vector<const N: usize>(bytes: &[u8]) -> Vector<u8, N> {
    // Callers pass exactly N bytes.
    Vector::try_from(bytes.to_vec()).unwrap_or_default()
}

fn list<const N: usize>(bytes: &[u8]) -> List<u8, N> {
    let bytes = &bytes[..bytes.len().min(N)];
    List::try_from(bytes.to_vec()).unwrap_or_default()
}

impl From<&Receipt> for ReceiptSsz {
    fn from(r: &Receipt) -> Self {
        let mut logs = List::<LogSsz, MAX_LOGS>::default();
        for log in r.logs.iter().take(MAX_LOGS) {
            let mut topics = List::<Bytes32, 4>::default();
            for t in log.topics().iter().take(4) {
                topics.push(vector(t.as_slice()));
            }
            logs.push(LogSsz {
                address: vector(log.address.as_slice()),
                topics,
                data: list(&log.data.data),
            });
        }
        ReceiptSsz {
            tx_hash: vector(r.tx_hash.as_slice()),
            tx_type: r.tx_type,
            from: vector(r.from.as_slice()),
            to: r.to.map(|a| list(a.as_slice())).unwrap_or_default(),
            status: r.status.code(),
            reason: list(r.reason.as_bytes()),
            gas_used: r.gas_used,
            cumulative_gas_used: r.cumulative_gas_used,
            effective_gas_price: vector(&U256::from(r.effective_gas_price).to_be_bytes::<32>()),
            contract_address: r
                .contract_address
                .map(|a| list(a.as_slice()))
                .unwrap_or_default(),
            logs,
            output: list(&r.output),
            inclusion_charge: vector(&r.inclusion_charge.to_be_bytes::<32>()),
            charge_shortfall: vector(&r.charge_shortfall.to_be_bytes::<32>()),
            unused_gas_charge: vector(&r.unused_gas_charge.to_be_bytes::<32>()),
        }
    }
}

fn optional_address(bytes: &[u8], field: &str) -> Result<Option<Address>, ReceiptDecodeError> {
    match bytes.len() {
        0 => Ok(None),
        20 => Ok(Some(Address::from_slice(bytes))),
        n => Err(ReceiptDecodeError(format!(
            "{field}: {n} bytes, want 0 or 20"
        ))),
    }
}

impl TryFrom<&ReceiptSsz> for Receipt {
    type Error = ReceiptDecodeError;

    fn try_from(w: &ReceiptSsz) -> Result<Self, ReceiptDecodeError> {
        let status = TxStatus::from_code(w.status)
            .ok_or_else(|| ReceiptDecodeError(format!("unknown status {}", w.status)))?;
        let price = U256::from_be_slice(&w.effective_gas_price);
        let logs = w
            .logs
            .iter()
            .map(|l| {
                Log::new(
                    Address::from_slice(&l.address),
                    l.topics.iter().map(|t| B256::from_slice(t)).collect(),
                    Bytes::copy_from_slice(&l.data),
                )
                .ok_or_else(|| ReceiptDecodeError("a log with more than 4 topics".to_owned()))
            })
            .collect::<Result<Vec<Log>, _>>()?;
        Ok(Receipt {
            tx_hash: B256::from_slice(&w.tx_hash),
            tx_type: w.tx_type,
            from: Address::from_slice(&w.from),
            to: optional_address(&w.to, "to")?,
            status,
            reason: String::from_utf8_lossy(&w.reason).into_owned(),
            gas_used: w.gas_used,
            cumulative_gas_used: w.cumulative_gas_used,
            effective_gas_price: u128::try_from(price)
                .map_err(|_| ReceiptDecodeError("effective gas price above 2^128".to_owned()))?,
            contract_address: optional_address(&w.contract_address, "contract_address")?,
            logs,
            output: Bytes::copy_from_slice(&w.output),
            inclusion_charge: U256::from_be_slice(&w.inclusion_charge),
            charge_shortfall: U256::from_be_slice(&w.charge_shortfall),
            unused_gas_charge: U256::from_be_slice(&w.unused_gas_charge),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Receipt {
        Receipt {
            tx_hash: B256::repeat_byte(1),
            tx_type: 2,
            from: Address::repeat_byte(2),
            to: None,
            status: TxStatus::Failed,
            reason: "reverted".to_owned(),
            gas_used: 50_000,
            cumulative_gas_used: 71_000,
            effective_gas_price: 1_000_000_007,
            contract_address: Some(Address::repeat_byte(3)),
            logs: vec![Log::new(
                Address::repeat_byte(4),
                vec![B256::repeat_byte(5), B256::repeat_byte(6)],
                Bytes::from_static(b"data"),
            )
            .expect("two topics")],
            output: Bytes::from_static(&[0x08, 0xc3, 0x79, 0xa0]),
            inclusion_charge: U256::from(7),
            charge_shortfall: U256::from(2),
            unused_gas_charge: U256::from(3),
        }
    }

    #[test]
    fn receipts_round_trip() {
        let r = sample();
        assert_eq!(Receipt::decode(&r.encode()), Ok(r.clone()));
        let plain = Receipt {
            to: Some(Address::repeat_byte(9)),
            contract_address: None,
            logs: vec![],
            status: TxStatus::Skipped,
            ..r
        };
        assert_eq!(Receipt::decode(&plain.encode()), Ok(plain));
    }

    #[test]
    fn fast_encoding_matches_ssz_rs() {
        let mut r = sample();
        assert_eq!(r.encode(), r.encode_ssz_rs());
        for logs in 0..4usize {
            for topics in 0..=4usize {
                r.logs = (0..logs)
                    .map(|i| {
                        Log::new(
                            Address::repeat_byte(i as u8),
                            (0..topics).map(|t| B256::repeat_byte(t as u8)).collect(),
                            Bytes::from(vec![i as u8; i * 33]),
                        )
                        .expect("at most 4 topics")
                    })
                    .collect();
                for (to, created, reason, output) in [
                    (None, None, "", Bytes::new()),
                    (
                        Some(Address::repeat_byte(8)),
                        None,
                        "reverted",
                        Bytes::from(vec![7u8; 70]),
                    ),
                    (
                        None,
                        Some(Address::repeat_byte(9)),
                        "x",
                        Bytes::from(vec![1u8]),
                    ),
                ] {
                    r.to = to;
                    r.contract_address = created;
                    r.reason = reason.to_owned();
                    r.output = output;
                    assert_eq!(r.encode(), r.encode_ssz_rs(), "logs {logs} topics {topics}");
                    assert_eq!(Receipt::decode(&r.encode()), Ok(r.clone()));
                }
            }
        }
    }

    #[test]
    fn receipts_root_is_the_ssz_list_root() {
        let encoded: Vec<Vec<u8>> = (0..70)
            .map(|i| {
                let mut r = sample();
                r.gas_used = i;
                r.encode()
            })
            .collect();
        let expected = lazychain_data_chain_types::merkle::byte_lists_root(
            encoded.iter().map(|r| r.as_slice()),
            MAX_RECEIPT_BYTES,
            MAX_TXS_BOUND,
        );
        assert_eq!(receipts_root(&encoded), B256::from(expected));
    }

    #[test]
    fn garbage_does_not_decode() {
        assert!(Receipt::decode(&[1, 2, 3]).is_err());
        let mut bytes = sample().encode();
        bytes[32 + 1 + 20 + 4] = 9; // the status byte after the `to` offset
        assert!(Receipt::decode(&bytes).is_err());
    }

    #[test]
    fn receipts_root_commits_to_every_receipt() {
        let a = sample().encode();
        let mut b = sample();
        b.gas_used += 1;
        let b = b.encode();
        assert_ne!(
            receipts_root(std::slice::from_ref(&a)),
            receipts_root(std::slice::from_ref(&b))
        );
        assert_ne!(
            receipts_root(&[a.clone(), b.clone()]),
            receipts_root(&[b, a])
        );
        assert_ne!(receipts_root(&[]), B256::ZERO);
    }
}
