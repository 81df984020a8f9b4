//! Stateless block validity: the checks every validator runs on a proposed or synced block.
//! Nothing here reads state or executes: encoding, limits from genesis, commitments, the parent
//! link, the timestamp window, and each transaction's own admission checks.

use std::collections::HashSet;

use alloy_consensus::Transaction;
use alloy_primitives::B256;

use crate::block::{Block, BlockHash, BlockHeader};
use crate::budget::{BudgetError, GasBudget};
use crate::tx::{precheck_hashed, recover_sender, tx_hash, TxError, TxRules};

/// Limits from genesis that bound a block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockRules {
    pub chain_id: u64,
    pub max_block_bytes: u64,
    pub max_tx_bytes: u64,
    pub max_block_gas: u64,
    pub max_txs_per_block: u64,
    pub min_gas_price: u128,
    /// How far (ms) a block's timestamp may run ahead of the validator's clock.
    pub max_timestamp_drift_ms: u64,
    /// The execution budget per second and its base fee (`budget.rs`).
    pub budget: GasBudget,
}

impl BlockRules {
    pub fn tx_rules(&self) -> TxRules {
        TxRules {
            chain_id: self.chain_id,
            max_tx_bytes: self.max_tx_bytes as usize,
            max_tx_gas: self.max_block_gas,
            min_gas_price: self.min_gas_price,
        }
    }
}

/// What a block must link to: the decided block at `height - 1` (or genesis at height 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParentInfo {
    pub height: u64,
    pub hash: BlockHash,
    pub timestamp_ms: u64,
    /// The parent's `gas_allowance` (the genesis: a full bucket).
    pub gas_allowance: u64,
    /// The parent's `base_fee_per_gas` (the genesis: the genesis base fee).
    pub base_fee_per_gas: u64,
}

impl ParentInfo {
    /// The parent facts a header carries.
    pub fn of(header: &BlockHeader, hash: BlockHash) -> Self {
        ParentInfo {
            height: header.height,
            hash,
            timestamp_ms: header.timestamp_ms,
            gas_allowance: header.gas_allowance,
            base_fee_per_gas: header.base_fee_per_gas,
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BlockError {
    #[error("wrong chain id {got}, expected {expected}")]
    ChainId { got: u64, expected: u64 },
    #[error("height {got} does not follow parent height {parent}")]
    Height { got: u64, parent: u64 },
    #[error("parent hash {got} differs from the decided parent {expected}")]
    ParentHash { got: BlockHash, expected: BlockHash },
    #[error("timestamp {got} ms is not after the parent's {parent} ms")]
    TimestampNotMonotonic { got: u64, parent: u64 },
    #[error("timestamp {got} ms is more than {drift} ms ahead of local time {now} ms")]
    TimestampInFuture { got: u64, now: u64, drift: u64 },
    #[error("{count} transactions exceed the limit of {limit}")]
    TooManyTxs { count: u64, limit: u64 },
    #[error("body of {bytes} bytes exceeds the limit of {limit}")]
    TooManyBytes { bytes: u64, limit: u64 },
    #[error("gas limit sum {gas} exceeds the block gas limit {limit}")]
    TooMuchGas { gas: u64, limit: u64 },
    #[error(transparent)]
    Budget(#[from] BudgetError),
    #[error("header gas limit sum {header} differs from the transactions' sum {actual}")]
    GasSumMismatch { header: u64, actual: u64 },
    #[error("header commitments differ from the body: {0}")]
    Commitment(String),
    #[error("{section} {index} is invalid: {error}")]
    Item {
        section: &'static str,
        index: usize,
        error: ItemRefused,
    },
    #[error("{section} {index} appears twice in the block")]
    DuplicateItem { section: &'static str, index: usize },
    #[error("transaction {index} ({hash}) is invalid: {error}")]
    Tx {
        index: usize,
        hash: B256,
        error: TxError,
    },
    #[error("transaction {hash} appears twice, or was decided in an earlier block")]
    DuplicateTx { hash: B256 },
}

/// Why a [`ChainView`] refuses a claim or fraud-proof item of a block.
#[derive(Debug, thiserror::Error)]
pub enum ItemRefused {
    /// The view takes no state claims (the default of [`ChainView::check_claim`]).
    #[error("this node does not accept state claims")]
    ClaimsNotAccepted,
    /// The view takes no fraud proofs (the default of [`ChainView::check_fraud_proof`]).
    #[error("this node does not accept fraud proofs")]
    FraudProofsNotAccepted,
    /// The item fails the view's own checks; its error says why.
    #[error(transparent)]
    Invalid(Box<dyn std::error::Error + Send + Sync>),
}

impl ItemRefused {
    /// An item that fails the view's own checks for `error`.
    pub fn invalid(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        ItemRefused::Invalid(Box::new(error))
    }
}

/// Two refusals are equal when they are of the same kind and say the same thing (the
/// implementor's error type is not known here), so that [`BlockError`] compares.
impl PartialEq for ItemRefused {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (ItemRefused::ClaimsNotAccepted, ItemRefused::ClaimsNotAccepted)
            | (ItemRefused::FraudProofsNotAccepted, ItemRefused::FraudProofsNotAccepted) => true,
            (ItemRefused::Invalid(a), ItemRefused::Invalid(b)) => a.to_string() == b.to_string(),
            _ => false,
        }
    }
}

impl Eq for ItemRefused {}

/// Checks the header alone against its parent, the limits and the local clock.
pub fn validate_header(
    header: &BlockHeader,
    parent: &ParentInfo,
    rules: &BlockRules,
    now_ms: u64,
) -> Result<(), BlockError> {
    if header.chain_id != rules.chain_id {
        return Err(BlockError::ChainId {
            got: header.chain_id,
            expected: rules.chain_id,
        });
    }
    if parent.height.checked_add(1) != Some(header.height) {
        return Err(BlockError::Height {
            got: header.height,
            parent: parent.height,
        });
    }
    if header.parent() != parent.hash {
        return Err(BlockError::ParentHash {
            got: header.parent(),
            expected: parent.hash,
        });
    }
    if header.timestamp_ms <= parent.timestamp_ms {
        return Err(BlockError::TimestampNotMonotonic {
            got: header.timestamp_ms,
            parent: parent.timestamp_ms,
        });
    }
    if header.timestamp_ms > now_ms.saturating_add(rules.max_timestamp_drift_ms) {
        return Err(BlockError::TimestampInFuture {
            got: header.timestamp_ms,
            now: now_ms,
            drift: rules.max_timestamp_drift_ms,
        });
    }
    if header.tx_count > rules.max_txs_per_block {
        return Err(BlockError::TooManyTxs {
            count: header.tx_count,
            limit: rules.max_txs_per_block,
        });
    }
    if header.body_bytes > rules.max_block_bytes {
        return Err(BlockError::TooManyBytes {
            bytes: header.body_bytes,
            limit: rules.max_block_bytes,
        });
    }
    if header.gas_limit_sum > rules.max_block_gas {
        return Err(BlockError::TooMuchGas {
            gas: header.gas_limit_sum,
            limit: rules.max_block_gas,
        });
    }
    rules.budget.check(
        parent,
        header.timestamp_ms,
        header.gas_limit_sum,
        header.gas_allowance,
        header.base_fee_per_gas,
    )?;
    Ok(())
}

/// What a validator knows about the decided chain, without executing anything: which
/// transactions it already checked or saw decided, and how to check the state-consensus items
/// (claims and fraud proofs) a block carries.
pub trait ChainView: Sync {
    /// This node already admitted a transaction with exactly these bytes (e.g. it is in the
    /// mempool), so its signature recovery, the expensive part, can be skipped.
    fn admitted(&self, hash: &B256) -> bool;
    /// A transaction with this hash is in an earlier decided block.
    fn decided(&self, hash: &B256) -> bool;

    /// `decided` for many hashes at once (one storage read instead of one per transaction).
    fn decided_many(&self, hashes: &[B256]) -> Vec<bool> {
        hashes.iter().map(|h| self.decided(h)).collect()
    }

    /// Checks a claim item for inclusion in the block at `height` (statelessly: signer,
    /// signature, decided height, trace against the decided header). By default no claim is
    /// accepted.
    fn check_claim(&self, _item: &[u8], _height: u64) -> Result<(), ItemRefused> {
        Err(ItemRefused::ClaimsNotAccepted)
    }

    /// Checks a fraud-proof item for inclusion in the block at `height` (its encoding and
    /// limits; the proof itself is verified by state consensus). By default none is accepted.
    fn check_fraud_proof(&self, _item: &[u8], _height: u64) -> Result<(), ItemRefused> {
        Err(ItemRefused::FraudProofsNotAccepted)
    }
}

/// No knowledge: every signature is recovered and no transaction counts as decided.
pub struct NoLookup;

impl ChainView for NoLookup {
    fn admitted(&self, _: &B256) -> bool {
        false
    }

    fn decided(&self, _: &B256) -> bool {
        false
    }
}

/// Full stateless validation of a block. Returns the transaction hashes in order.
pub fn validate_block(
    block: &Block,
    parent: &ParentInfo,
    rules: &BlockRules,
    now_ms: u64,
    lookup: &dyn ChainView,
) -> Result<Vec<B256>, BlockError> {
    validate_header(&block.header, parent, rules, now_ms)?;
    let c = block
        .body
        .commitments()
        .map_err(|e| BlockError::Commitment(e.to_string()))?;
    let h = &block.header;
    if c.tx_root != h.tx_root || c.tx_count != h.tx_count || c.body_bytes != h.body_bytes {
        return Err(BlockError::Commitment(
            "transaction root, count or byte length".into(),
        ));
    }
    if c.claims_root != h.claims_root || c.fraud_proofs_root != h.fraud_proofs_root {
        return Err(BlockError::Commitment("claims or fraud-proof root".into()));
    }

    let tx_rules = rules.tx_rules();
    let txs: Vec<&[u8]> = block.body.transactions().collect();
    let hashes: Vec<B256> = txs.iter().map(|raw| tx_hash(raw)).collect();
    let decided = lookup.decided_many(&hashes);
    let mut seen = HashSet::with_capacity(txs.len());
    let mut gas_sum = 0u64;
    let mut to_recover = Vec::new();
    for (index, raw) in txs.iter().enumerate() {
        let hash = hashes[index];
        if !seen.insert(hash) || decided[index] {
            return Err(BlockError::DuplicateTx { hash });
        }
        let envelope = precheck_hashed(raw, hash, &tx_rules).map_err(|error| BlockError::Tx {
            index,
            hash,
            error,
        })?;
        gas_sum = gas_sum.saturating_add(envelope.gas_limit());
        if !lookup.admitted(&hash) {
            to_recover.push((index, hash, envelope));
        }
    }
    if gas_sum != h.gas_limit_sum {
        return Err(BlockError::GasSumMismatch {
            header: h.gas_limit_sum,
            actual: gas_sum,
        });
    }
    recover_all(&to_recover)?;
    validate_items(block, lookup)?;
    Ok(hashes)
}

/// Each claim and fraud-proof item once, and each accepted by the node's item rules.
fn validate_items(block: &Block, lookup: &dyn ChainView) -> Result<(), BlockError> {
    let height = block.header.height;
    let sections: [(&'static str, &crate::block::ItemList); 2] = [
        ("claim", &block.body.claims),
        ("fraud proof", &block.body.fraud_proofs),
    ];
    for (section, items) in sections {
        let mut seen = HashSet::with_capacity(items.len());
        for (index, item) in items.iter().enumerate() {
            let bytes: &[u8] = item.as_ref();
            if !seen.insert(bytes) {
                return Err(BlockError::DuplicateItem { section, index });
            }
            let checked = if section == "claim" {
                lookup.check_claim(bytes, height)
            } else {
                lookup.check_fraud_proof(bytes, height)
            };
            checked.map_err(|error| BlockError::Item {
                section,
                index,
                error,
            })?;
        }
    }
    Ok(())
}

/// Recovers every sender, spread over the available cores: recovery is the per-tx floor.
fn recover_all(txs: &[(usize, B256, alloy_consensus::TxEnvelope)]) -> Result<(), BlockError> {
    let outcomes = crate::par::par_map(
        txs,
        |(index, hash, envelope)| {
            recover_sender(envelope)
                .map(|_| ())
                .map_err(|error| BlockError::Tx {
                    index: *index,
                    hash: *hash,
                    error,
                })
        },
        || {
            Err(BlockError::Commitment(
                "signature recovery thread panicked".into(),
            ))
        },
    );
    // The first failure in block order, whatever thread found it.
    outcomes.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::block::{BlockBody, BlockTemplate, RawItem};
    use crate::tx::SignatureError;
    use alloy_consensus::{transaction::RlpEcdsaEncodableTx, TxEip1559};
    use alloy_primitives::{Signature, U256};
    use lazychain_test_utils::{key, sign, transfer_tx};
    use secp256k1::SecretKey;

    const CHAIN_ID: u64 = 1_337;
    const GWEI: u128 = 1_000_000_000;
    const TRANSFER_GAS: u64 = 21_000;
    const PARENT_HEIGHT: u64 = 9;
    const PARENT_TS: u64 = 1_700_000_000_000;
    /// The validator's clock: ten seconds after the parent.
    const NOW: u64 = PARENT_TS + 10_000;
    const DRIFT: u64 = 5_000;

    fn rules() -> BlockRules {
        BlockRules {
            chain_id: CHAIN_ID,
            max_block_bytes: 1 << 20,
            max_tx_bytes: 128 * 1024,
            max_block_gas: 30_000_000,
            max_txs_per_block: 1_000,
            min_gas_price: GWEI,
            max_timestamp_drift_ms: DRIFT,
            budget: GasBudget::default(),
        }
    }

    fn parent() -> ParentInfo {
        ParentInfo {
            height: PARENT_HEIGHT,
            hash: BlockHash([0xab; 32]),
            timestamp_ms: PARENT_TS,
            gas_allowance: 0,
            base_fee_per_gas: 0,
        }
    }

    /// A template that satisfies every header rule against [`parent`], [`rules`] and [`NOW`].
    fn template() -> BlockTemplate {
        BlockTemplate {
            chain_id: CHAIN_ID,
            height: PARENT_HEIGHT + 1,
            parent: parent().hash,
            proposer: [0x11; 20],
            timestamp_ms: PARENT_TS + 1_000,
            gas_available: 0,
            base_fee_per_gas: 0,
        }
    }

    fn transfer(chain_id: u64, nonce: u64) -> TxEip1559 {
        TxEip1559 {
            gas_limit: TRANSFER_GAS,
            max_fee_per_gas: 2 * GWEI,
            ..transfer_tx(chain_id, nonce)
        }
    }

    fn encode_with(tx: &TxEip1559, sig: &Signature) -> Vec<u8> {
        let mut out = Vec::new();
        tx.eip2718_encode(sig, &mut out);
        out
    }

    /// A correctly signed EIP-1559 transfer, EIP-2718 encoded.
    fn signed(chain_id: u64, nonce: u64, sk: &SecretKey) -> Vec<u8> {
        sign(sk, transfer(chain_id, nonce))
    }

    /// A transfer that passes every precheck but whose signature (r = 2^256 - 1, not below the
    /// curve order) recovers no public key.
    fn unrecoverable(nonce: u64) -> Vec<u8> {
        let sig = Signature::new(U256::MAX, U256::from(1u64), false);
        encode_with(&transfer(CHAIN_ID, nonce), &sig)
    }

    /// `n` valid transfers from one sender, nonces 0..n.
    fn valid_txs(n: u64) -> Vec<Vec<u8>> {
        let sk = key(1);
        (0..n).map(|nonce| signed(CHAIN_ID, nonce, &sk)).collect()
    }

    fn build_with(template: &BlockTemplate, txs: &[Vec<u8>], gas_limit_sum: u64) -> Block {
        let body = BlockBody::from_transactions(txs).expect("body fits the type bounds");
        Block::build(template, body, gas_limit_sum).expect("block builds")
    }

    /// A block of `txs` whose header is fully consistent (gas sum of transfers).
    fn build(template: &BlockTemplate, txs: &[Vec<u8>]) -> Block {
        build_with(template, txs, TRANSFER_GAS * txs.len() as u64)
    }

    /// A block of one valid transfer on `template`.
    fn one_transfer(template: BlockTemplate) -> Block {
        build(&template, &valid_txs(1))
    }

    fn check(block: &Block) -> Result<Vec<B256>, BlockError> {
        validate_block(block, &parent(), &rules(), NOW, &NoLookup)
    }

    fn check_with(block: &Block, rules: &BlockRules) -> Result<Vec<B256>, BlockError> {
        validate_block(block, &parent(), rules, NOW, &NoLookup)
    }

    fn hashes(txs: &[Vec<u8>]) -> Vec<B256> {
        txs.iter().map(|raw| tx_hash(raw)).collect()
    }

    /// A lookup with explicit sets of admitted and decided hashes.
    #[derive(Default)]
    struct Known {
        admitted: HashSet<B256>,
        decided: HashSet<B256>,
    }

    impl ChainView for Known {
        fn admitted(&self, hash: &B256) -> bool {
            self.admitted.contains(hash)
        }

        fn decided(&self, hash: &B256) -> bool {
            self.decided.contains(hash)
        }
    }

    /// The execution budget is a header rule: a block over what the bucket holds, or whose
    /// header states a wrong allowance or base fee, is invalid; at the budget it is valid.
    #[test]
    fn blocks_over_the_execution_budget_or_with_wrong_budget_fields_are_invalid() {
        let budget = GasBudget {
            gas_per_second: 21_000, // one transfer per second
            burst: 63_000,
            base_fee_floor: GWEI as u64,
        };
        let rules = BlockRules { budget, ..rules() };
        // The parent left room for one transfer; one second later there is room for two.
        let parent = ParentInfo {
            gas_allowance: TRANSFER_GAS,
            base_fee_per_gas: GWEI as u64,
            ..parent()
        };
        let at = PARENT_TS + 1_000;
        let t = |gas_available, base_fee_per_gas| BlockTemplate {
            timestamp_ms: at,
            gas_available,
            base_fee_per_gas,
            ..template()
        };
        let fee = budget.base_fee(&parent, at);
        assert!(fee > GWEI as u64, "below half: the base fee rises");
        let available = budget.available(&parent, at);
        assert_eq!(available, 2 * TRANSFER_GAS);
        let ok = build(&t(available, fee), &valid_txs(2));
        assert_eq!(ok.header.gas_allowance, 0);
        validate_block(&ok, &parent, &rules, NOW, &NoLookup).expect("at the budget");
        let over = build(&t(available, fee), &valid_txs(3));
        assert_eq!(
            validate_block(&over, &parent, &rules, NOW, &NoLookup),
            Err(BlockError::Budget(BudgetError::OverBudget {
                gas: 3 * TRANSFER_GAS,
                available
            }))
        );
        // A proposer that claims more room than the bucket holds, or another base fee.
        let lying = build(&t(available + 1, fee), &valid_txs(1));
        assert!(matches!(
            validate_block(&lying, &parent, &rules, NOW, &NoLookup),
            Err(BlockError::Budget(BudgetError::WrongAllowance { .. }))
        ));
        let cheap = build(&t(available, fee - 1), &valid_txs(1));
        assert!(matches!(
            validate_block(&cheap, &parent, &rules, NOW, &NoLookup),
            Err(BlockError::Budget(BudgetError::WrongBaseFee { .. }))
        ));
    }

    #[test]
    fn valid_block_returns_tx_hashes_in_order() {
        // Three senders, so the order is not an artifact of nonces.
        let txs = vec![
            signed(CHAIN_ID, 4, &key(3)),
            signed(CHAIN_ID, 0, &key(1)),
            signed(CHAIN_ID, 9, &key(2)),
        ];
        let block = build(&template(), &txs);
        let got = check(&block).expect("valid block");
        assert_eq!(got, hashes(&txs));
        assert_eq!(got.len(), 3);
        assert_ne!(got[0], got[1]);

        let empty = build(&template(), &[]);
        assert_eq!(check(&empty), Ok(vec![]), "an empty block is valid");
    }

    #[test]
    fn wrong_chain_id_is_rejected() {
        let block = one_transfer(BlockTemplate {
            chain_id: CHAIN_ID + 1,
            ..template()
        });
        assert_eq!(
            check(&block),
            Err(BlockError::ChainId {
                got: CHAIN_ID + 1,
                expected: CHAIN_ID
            })
        );
    }

    #[test]
    fn height_must_follow_the_parent() {
        for height in [PARENT_HEIGHT, PARENT_HEIGHT + 2, 0] {
            let block = one_transfer(BlockTemplate {
                height,
                ..template()
            });
            assert_eq!(
                check(&block),
                Err(BlockError::Height {
                    got: height,
                    parent: PARENT_HEIGHT
                }),
                "height {height}"
            );
        }
    }

    #[test]
    fn parent_hash_must_match() {
        let wrong = BlockHash([0xcd; 32]);
        let block = one_transfer(BlockTemplate {
            parent: wrong,
            ..template()
        });
        assert_eq!(
            check(&block),
            Err(BlockError::ParentHash {
                got: wrong,
                expected: parent().hash
            })
        );
    }

    #[test]
    fn timestamp_must_be_after_the_parent() {
        for ts in [PARENT_TS, PARENT_TS - 1] {
            let block = one_transfer(BlockTemplate {
                timestamp_ms: ts,
                ..template()
            });
            assert_eq!(
                check(&block),
                Err(BlockError::TimestampNotMonotonic {
                    got: ts,
                    parent: PARENT_TS
                }),
                "timestamp {ts}"
            );
        }
        let just_after = one_transfer(BlockTemplate {
            timestamp_ms: PARENT_TS + 1,
            ..template()
        });
        assert!(check(&just_after).is_ok(), "1 ms after the parent is fine");
    }

    #[test]
    fn timestamp_too_far_ahead_is_rejected() {
        let ts = NOW + DRIFT + 1;
        let block = one_transfer(BlockTemplate {
            timestamp_ms: ts,
            ..template()
        });
        assert_eq!(
            check(&block),
            Err(BlockError::TimestampInFuture {
                got: ts,
                now: NOW,
                drift: DRIFT
            })
        );
        let at_the_edge = one_transfer(BlockTemplate {
            timestamp_ms: NOW + DRIFT,
            ..template()
        });
        assert!(check(&at_the_edge).is_ok(), "exactly the drift is allowed");
    }

    /// With the limit that `set` writes into the rules one below `used`, `block` is refused
    /// with `error`; with the limit at `used` exactly, it is valid.
    fn assert_limit_is_inclusive(
        block: &Block,
        used: u64,
        set: fn(&mut BlockRules, u64),
        error: BlockError,
    ) {
        let mut limited = rules();
        set(&mut limited, used - 1);
        assert_eq!(check_with(block, &limited), Err(error));
        let mut exact = rules();
        set(&mut exact, used);
        assert!(check_with(block, &exact).is_ok());
    }

    #[test]
    fn too_many_txs_is_rejected() {
        let block = build(&template(), &valid_txs(3));
        assert_limit_is_inclusive(
            &block,
            3,
            |r, limit| r.max_txs_per_block = limit,
            BlockError::TooManyTxs { count: 3, limit: 2 },
        );
    }

    #[test]
    fn too_many_bytes_is_rejected() {
        let txs = valid_txs(3);
        let block = build(&template(), &txs);
        let bytes: u64 = txs.iter().map(|t| t.len() as u64).sum();
        assert_eq!(block.header.body_bytes, bytes);
        assert_limit_is_inclusive(
            &block,
            bytes,
            |r, limit| r.max_block_bytes = limit,
            BlockError::TooManyBytes {
                bytes,
                limit: bytes - 1,
            },
        );
    }

    #[test]
    fn too_much_gas_is_rejected() {
        let block = build(&template(), &valid_txs(3));
        let gas = 3 * TRANSFER_GAS;
        assert_limit_is_inclusive(
            &block,
            gas,
            |r, limit| r.max_block_gas = limit,
            BlockError::TooMuchGas {
                gas,
                limit: gas - 1,
            },
        );
    }

    #[test]
    fn header_gas_sum_must_equal_the_transactions_sum() {
        let txs = valid_txs(2);
        let actual = 2 * TRANSFER_GAS;
        for header in [actual + 1, actual - 1, 0] {
            let block = build_with(&template(), &txs, header);
            assert_eq!(
                check(&block),
                Err(BlockError::GasSumMismatch { header, actual }),
                "header gas sum {header}"
            );
        }
    }

    #[test]
    fn body_that_differs_from_the_header_commitments_is_rejected() {
        let txs = valid_txs(3);
        let good = build(&template(), &txs);

        // Same count and byte length, different bytes: only the root can tell.
        let mut tampered = good.clone();
        let last = tampered.body.transactions[1].len() - 1;
        tampered.body.transactions[1][last] ^= 0x01;
        assert_eq!(tampered.header, good.header);
        assert!(
            matches!(check(&tampered), Err(BlockError::Commitment(_))),
            "{:?}",
            check(&tampered)
        );

        // A transaction swapped for another valid one of the same size.
        let mut swapped = good.clone();
        let other = signed(CHAIN_ID, 7, &key(9));
        assert_eq!(other.len(), txs[0].len());
        swapped.body = BlockBody::from_transactions([&other, &txs[1], &txs[2]]).expect("body");
        assert!(matches!(check(&swapped), Err(BlockError::Commitment(_))));

        // Header fields that disagree with an untouched body.
        let mut count = good.clone();
        count.header.tx_count = 2;
        assert!(matches!(check(&count), Err(BlockError::Commitment(_))));
        let mut bytes = good.clone();
        bytes.header.body_bytes -= 1;
        assert!(matches!(check(&bytes), Err(BlockError::Commitment(_))));
        let mut claims_root = good.clone();
        claims_root.header.claims_root = good.header.tx_root;
        assert!(matches!(
            check(&claims_root),
            Err(BlockError::Commitment(_))
        ));
        let mut proofs_root = good.clone();
        proofs_root.header.fraud_proofs_root = good.header.tx_root;
        assert!(matches!(
            check(&proofs_root),
            Err(BlockError::Commitment(_))
        ));

        assert_eq!(check(&good), Ok(hashes(&txs)), "the original still passes");
    }

    #[test]
    fn a_view_without_item_rules_refuses_items() {
        let mut body = BlockBody::from_transactions(valid_txs(1)).expect("body");
        body.claims
            .push(RawItem::try_from(vec![1u8]).expect("item fits"));
        let block = Block::build(&template(), body, TRANSFER_GAS).expect("block builds");
        let err = validate_block(&block, &parent(), &rules(), NOW, &NoLookup).expect_err("refused");
        assert_eq!(
            err,
            BlockError::Item {
                section: "claim",
                index: 0,
                error: ItemRefused::ClaimsNotAccepted
            }
        );
        assert_eq!(
            err.to_string(),
            "claim 0 is invalid: this node does not accept state claims"
        );
        assert_eq!(
            ItemRefused::FraudProofsNotAccepted.to_string(),
            "this node does not accept fraud proofs"
        );
    }

    #[test]
    fn item_refusals_compare_by_kind_and_message() {
        assert_eq!(
            ItemRefused::Invalid("bad".into()),
            ItemRefused::Invalid("bad".into())
        );
        assert_ne!(
            ItemRefused::Invalid("bad".into()),
            ItemRefused::Invalid("worse".into())
        );
        assert_ne!(
            ItemRefused::ClaimsNotAccepted,
            ItemRefused::Invalid("this node does not accept state claims".into())
        );
        assert_ne!(
            ItemRefused::ClaimsNotAccepted,
            ItemRefused::FraudProofsNotAccepted
        );
    }

    #[test]
    fn claims_and_fraud_proofs_go_through_the_item_rules() {
        /// Accepts items starting with 0x01 only.
        struct FirstByteOne;
        impl ChainView for FirstByteOne {
            fn admitted(&self, _: &B256) -> bool {
                false
            }
            fn decided(&self, _: &B256) -> bool {
                false
            }
            fn check_claim(&self, item: &[u8], _: u64) -> Result<(), ItemRefused> {
                (item.first() == Some(&1))
                    .then_some(())
                    .ok_or(ItemRefused::Invalid("bad claim".into()))
            }
            fn check_fraud_proof(&self, item: &[u8], _: u64) -> Result<(), ItemRefused> {
                (item.first() == Some(&1))
                    .then_some(())
                    .ok_or(ItemRefused::Invalid("bad proof".into()))
            }
        }
        let good = RawItem::try_from(vec![1, 0xaa]).expect("item fits");
        let bad = RawItem::try_from(vec![0xaa; 8]).expect("item fits");
        let with = |claims: Vec<&RawItem>, proofs: Vec<&RawItem>| {
            let mut body = BlockBody::from_transactions(valid_txs(1)).expect("body");
            for c in claims {
                body.claims.push(c.clone());
            }
            for p in proofs {
                body.fraud_proofs.push(p.clone());
            }
            // Built from the body, so every commitment is consistent: only the rules decide.
            Block::build(&template(), body, TRANSFER_GAS).expect("block builds")
        };
        let view = |b: &Block| validate_block(b, &parent(), &rules(), NOW, &FirstByteOne);

        assert!(view(&with(vec![&good], vec![&good])).is_ok());
        assert!(matches!(
            view(&with(vec![&good, &bad], vec![])),
            Err(BlockError::Item {
                section: "claim",
                index: 1,
                ..
            })
        ));
        assert!(matches!(
            view(&with(vec![], vec![&bad])),
            Err(BlockError::Item {
                section: "fraud proof",
                index: 0,
                ..
            })
        ));
        assert_eq!(
            view(&with(vec![&good, &good], vec![])),
            Err(BlockError::DuplicateItem {
                section: "claim",
                index: 1
            })
        );
        // A node without state-consensus rules takes no items at all.
        assert!(matches!(
            check(&with(vec![&good], vec![])),
            Err(BlockError::Item { .. })
        ));
    }

    #[test]
    fn invalid_transaction_is_reported_with_its_index() {
        let sk = key(1);
        let bad = signed(CHAIN_ID + 1, 1, &sk);
        let txs = vec![
            signed(CHAIN_ID, 0, &sk),
            bad.clone(),
            signed(CHAIN_ID, 2, &sk),
        ];
        let block = build(&template(), &txs);
        assert_eq!(
            check(&block),
            Err(BlockError::Tx {
                index: 1,
                hash: tx_hash(&bad),
                error: TxError::WrongChainId {
                    have: CHAIN_ID + 1,
                    want: CHAIN_ID
                },
            })
        );

        // Bytes that are not a transaction at all.
        let garbage = vec![0xf8, 0x01, 0x02];
        let block = build_with(
            &template(),
            &[txs[0].clone(), garbage.clone()],
            TRANSFER_GAS,
        );
        assert!(
            matches!(
                check(&block),
                Err(BlockError::Tx { index: 1, hash, error: TxError::Rlp(_) }) if hash == tx_hash(&garbage)
            ),
            "{:?}",
            check(&block)
        );
    }

    #[test]
    fn duplicate_transaction_is_rejected() {
        let txs = valid_txs(2);
        let block = build(
            &template(),
            &[txs[0].clone(), txs[1].clone(), txs[0].clone()],
        );
        assert_eq!(
            check(&block),
            Err(BlockError::DuplicateTx {
                hash: tx_hash(&txs[0])
            })
        );

        // Decided in an earlier block counts as a duplicate too.
        let block = build(&template(), &txs);
        let lookup = Known {
            decided: HashSet::from([tx_hash(&txs[1])]),
            ..Known::default()
        };
        assert_eq!(
            validate_block(&block, &parent(), &rules(), NOW, &lookup),
            Err(BlockError::DuplicateTx {
                hash: tx_hash(&txs[1])
            })
        );
    }

    #[test]
    fn already_admitted_transactions_skip_signature_recovery() {
        let good = signed(CHAIN_ID, 0, &key(1));
        let bad = unrecoverable(1);
        let txs = vec![good, bad.clone()];
        let block = build(&template(), &txs);

        // Without the lookup the signature is recovered, and fails.
        assert_eq!(
            check(&block),
            Err(BlockError::Tx {
                index: 1,
                hash: tx_hash(&bad),
                error: TxError::InvalidSender(SignatureError::Unrecoverable),
            })
        );
        let not_admitted = Known::default();
        assert!(matches!(
            validate_block(&block, &parent(), &rules(), NOW, &not_admitted),
            Err(BlockError::Tx { index: 1, .. })
        ));

        // Marked as admitted, the same bytes are not recovered again, so the block passes:
        // proof that recovery was skipped.
        let admitted = Known {
            admitted: HashSet::from([tx_hash(&bad)]),
            ..Known::default()
        };
        assert_eq!(
            validate_block(&block, &parent(), &rules(), NOW, &admitted),
            Ok(hashes(&txs))
        );

        // Admission skips only recovery: the other checks still run.
        let wrong_chain = signed(CHAIN_ID + 1, 2, &key(1));
        let block = build(&template(), std::slice::from_ref(&wrong_chain));
        let admitted = Known {
            admitted: HashSet::from([tx_hash(&wrong_chain)]),
            ..Known::default()
        };
        assert!(matches!(
            validate_block(&block, &parent(), &rules(), NOW, &admitted),
            Err(BlockError::Tx {
                index: 0,
                error: TxError::WrongChainId { .. },
                ..
            })
        ));
    }

    #[test]
    fn large_block_reports_the_bad_signature_index() {
        // Well above the threshold (64) for recovering on several threads.
        const N: u64 = 120;
        const BAD: usize = 57;
        let mut txs = valid_txs(N);
        assert_eq!(
            check(&build(&template(), &txs)),
            Ok(hashes(&txs)),
            "all good first"
        );

        txs[BAD] = unrecoverable(BAD as u64);
        let block = build(&template(), &txs);
        assert_eq!(
            check(&block),
            Err(BlockError::Tx {
                index: BAD,
                hash: tx_hash(&txs[BAD]),
                error: TxError::InvalidSender(SignatureError::Unrecoverable),
            })
        );

        // Two bad signatures far apart (in different chunks): the lowest index is reported,
        // whatever thread finishes first.
        txs[100] = unrecoverable(100);
        txs[10] = unrecoverable(10);
        let block = build(&template(), &txs);
        assert!(matches!(
            check(&block),
            Err(BlockError::Tx { index: 10, .. })
        ));
    }
}
