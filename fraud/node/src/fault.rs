//! Deliberate validator faults, for tests and demos only (`lazychain validator --fault`).
//! Never on by default: a node runs without one unless the flag is given.

use std::collections::HashSet;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use lazychain_fraud::{ClaimId, ClaimItem};
use tracing::warn;

/// A deliberate validator fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValidatorFault {
    /// Silently discard the first copy of every claim for the first data height at or above
    /// this one whose block has transactions (blocks without take no claim) that reaches the
    /// node (gossip or RPC), as if the message had been lost on the way: it is neither pooled
    /// nor forwarded, and the sender is not told. Later copies are taken as usual, so what is
    /// under test is whether executors send their claims again.
    DropClaimsAt(u64),
    /// Silently discard every copy that arrives by gossip of every claim for the first data
    /// height at or above this one with transactions; copies submitted over JSON-RPC
    /// (`lazy_submitClaim`) are taken. What is under test is that executors also submit late
    /// claims to validators directly (`executor.submit_urls`).
    DropGossipClaimsAt(u64),
}

/// `--fault` text that does not name a known validator fault.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct FaultParseError(String);

impl FromStr for ValidatorFault {
    type Err = FaultParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let unknown = || {
            FaultParseError(format!(
                "unknown validator fault {s:?} (known: drop-claims-at=HEIGHT, drop-gossip-claims-at=HEIGHT)"
            ))
        };
        let (name, value) = s.split_once('=').ok_or_else(unknown)?;
        let fault: fn(u64) -> ValidatorFault = match name {
            "drop-claims-at" => ValidatorFault::DropClaimsAt,
            "drop-gossip-claims-at" => ValidatorFault::DropGossipClaimsAt,
            _ => return Err(unknown()),
        };
        let height: u64 = value
            .parse()
            .map_err(|e| FaultParseError(format!("{name}: bad height {value:?}: {e}")))?;
        if height == 0 {
            return Err(FaultParseError(format!("{name}: height 0 has no claims")));
        }
        Ok(fault(height))
    }
}

impl std::fmt::Display for ValidatorFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ValidatorFault::DropClaimsAt(h) => write!(f, "drop-claims-at={h}"),
            ValidatorFault::DropGossipClaimsAt(h) => write!(f, "drop-gossip-claims-at={h}"),
        }
    }
}

/// What a node with a fault needs to carry it out.
pub(crate) struct FaultState {
    fault: ValidatorFault,
    /// Claims whose first copy was discarded: the next copy goes through.
    dropped_claims: Mutex<HashSet<ClaimId>>,
    /// The height whose claims are dropped, once known.
    target: Mutex<Option<u64>>,
    warned: AtomicBool,
}

impl FaultState {
    pub(crate) fn new(fault: ValidatorFault) -> Self {
        warn!(fault = %fault, "FAULT INJECTION enabled: this validator discards claims for one data height");
        FaultState {
            fault,
            dropped_claims: Mutex::new(HashSet::new()),
            target: Mutex::new(None),
            warned: AtomicBool::new(false),
        }
    }

    /// Whether this copy of a claim (`from_gossip`: received by gossip, else submitted over
    /// JSON-RPC or by this node's own executor) is to be discarded on purpose: for a claim for
    /// the fault's height (the first at or above the configured one whose block has
    /// transactions; `has_txs` tells that of a decided height, `None` if not decided here),
    /// its first copy (`drop-claims-at`) or every gossiped copy (`drop-gossip-claims-at`).
    /// Undecodable bytes are left to the usual checks.
    pub(crate) fn drops_claim(
        &self,
        bytes: &[u8],
        from_gossip: bool,
        has_txs: impl Fn(u64) -> Option<bool>,
    ) -> Option<ClaimId> {
        let (from, every_gossiped) = match self.fault {
            ValidatorFault::DropClaimsAt(h) => (h, false),
            ValidatorFault::DropGossipClaimsAt(h) => (h, true),
        };
        if every_gossiped && !from_gossip {
            return None;
        }
        let item = ClaimItem::decode(bytes).ok()?;
        let data_height = item.signed.claim.data_height;
        if data_height < from {
            return None;
        }
        let height = {
            let mut target = self.target.lock().unwrap_or_else(|e| e.into_inner());
            if target.is_none() {
                for h in from..=data_height {
                    match has_txs(h) {
                        Some(true) => {
                            *target = Some(h);
                            break;
                        }
                        Some(false) => {}
                        None => return None,
                    }
                }
            }
            (*target)?
        };
        if data_height != height {
            return None;
        }
        let id = item.id();
        let first = self
            .dropped_claims
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id);
        if !first && !every_gossiped {
            return None;
        }
        if !self.warned.swap(true, Ordering::Relaxed) {
            warn!(height, "FAULT INJECTION: discarding claims for this height");
        }
        warn!(
            height,
            claim = %id,
            executor = %hex::encode(item.signed.claim.executor),
            "FAULT INJECTION: claim discarded"
        );
        Some(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints() {
        let f: ValidatorFault = "drop-claims-at=12".parse().expect("parses");
        assert_eq!(f, ValidatorFault::DropClaimsAt(12));
        assert_eq!(f.to_string(), "drop-claims-at=12");
        assert!("drop-claims-at=0".parse::<ValidatorFault>().is_err());
        assert!("drop-claims-at=x".parse::<ValidatorFault>().is_err());
        assert!("race".parse::<ValidatorFault>().is_err());
        let g: ValidatorFault = "drop-gossip-claims-at=3".parse().expect("parses");
        assert_eq!(g, ValidatorFault::DropGossipClaimsAt(3));
        assert_eq!(g.to_string(), "drop-gossip-claims-at=3");
    }

    impl FaultState {
        /// A copy that came by gossip.
        fn drops_claim_t(
            &self,
            bytes: &[u8],
            has_txs: impl Fn(u64) -> Option<bool>,
        ) -> Option<ClaimId> {
            self.drops_claim(bytes, true, has_txs)
        }
    }

    #[test]
    fn drops_every_gossiped_copy_and_no_rpc_copy() {
        use lazychain_fraud::{SignedClaim, StateClaim};
        let key = malachitebft_signing_ed25519::PrivateKey::from([7u8; 32]);
        let claim = StateClaim {
            chain_id: 1,
            data_height: 4,
            executor: lazychain_fraud::executor_address(key.public_key().as_bytes()),
            ..StateClaim::default()
        };
        let bytes = ClaimItem {
            signed: SignedClaim::sign(claim, &key),
            trace: Vec::new(),
        }
        .encode();
        let state = FaultState::new(ValidatorFault::DropGossipClaimsAt(4));
        let has_txs = |_: u64| Some(true);
        assert!(
            state.drops_claim(&bytes, false, has_txs).is_none(),
            "RPC copy taken"
        );
        assert!(state.drops_claim(&bytes, true, has_txs).is_some());
        assert!(
            state.drops_claim(&bytes, true, has_txs).is_some(),
            "every gossiped copy"
        );
    }

    #[test]
    fn drops_only_the_first_copy_of_claims_at_the_first_height_with_transactions() {
        use lazychain_fraud::{SignedClaim, StateClaim};
        let key = malachitebft_signing_ed25519::PrivateKey::from([7u8; 32]);
        let claim_at = |height: u64| {
            let claim = StateClaim {
                chain_id: 1,
                data_height: height,
                executor: lazychain_fraud::executor_address(key.public_key().as_bytes()),
                ..StateClaim::default()
            };
            ClaimItem {
                signed: SignedClaim::sign(claim, &key),
                trace: Vec::new(),
            }
            .encode()
        };
        // Heights 5 and 6 have no transactions; 7 is the first that does.
        let has_txs = |h: u64| (h <= 9).then_some(h >= 7);
        let state = FaultState::new(ValidatorFault::DropClaimsAt(5));
        assert!(state.drops_claim_t(&claim_at(4), has_txs).is_none());
        // Height 10 is not decided here: nothing is known yet.
        assert!(state.drops_claim_t(&claim_at(10), |_| None).is_none());
        assert!(state.drops_claim_t(&claim_at(7), has_txs).is_some());
        assert!(
            state.drops_claim_t(&claim_at(7), has_txs).is_none(),
            "second copy kept"
        );
        assert!(state.drops_claim_t(&claim_at(8), has_txs).is_none());
        assert!(state.drops_claim_t(b"garbage", has_txs).is_none());
    }
}
