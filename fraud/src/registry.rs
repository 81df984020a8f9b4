//! The bonded executors of genesis, and the stateless claim check validators run.

use std::collections::BTreeMap;

use lazychain_chainspec::StateGenesis;
use malachitebft_signing_ed25519::PublicKey;

use crate::claim::{ClaimError, ClaimId, SignedClaim};
use crate::{executor_address, hex0x, Address};

/// A registered executor: the key that signs its claims and the bond it put up at genesis.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegisteredExecutor {
    pub public_key: PublicKey,
    /// The genesis bond, in wei (the ledger of [`crate::StateConsensus`] tracks what is left).
    pub bond: u128,
}

/// Why a list of executors cannot form a registry. The genesis validation refuses all of
/// these already; the registry checks again for values built in code.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    #[error("executor {index}: {} is not a valid ed25519 public key", hex0x(.public_key))]
    InvalidKey { index: usize, public_key: [u8; 32] },
    #[error("executor {index}: duplicate public key {} (its address is taken)", hex0x(.public_key))]
    Duplicate { index: usize, public_key: [u8; 32] },
    #[error("executor {index}: the bond must be greater than 0")]
    ZeroBond { index: usize },
    #[error("executor {index}: the total of all bonds exceeds 2^128 - 1")]
    BondOverflow { index: usize },
}

/// Executor address -> (public key, bond), from the genesis `state.executors`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExecutorRegistry {
    executors: BTreeMap<Address, RegisteredExecutor>,
    total_bonds: u128,
}

impl ExecutorRegistry {
    /// A registry of `(public key, bond)` pairs, keyed by [`executor_address`].
    pub fn new<I>(executors: I) -> Result<Self, RegistryError>
    where
        I: IntoIterator<Item = ([u8; 32], u128)>,
    {
        let mut registry = Self::default();
        for (index, (public_key, bond)) in executors.into_iter().enumerate() {
            let key = PublicKey::from_bytes(public_key)
                .map_err(|_| RegistryError::InvalidKey { index, public_key })?;
            if bond == 0 {
                return Err(RegistryError::ZeroBond { index });
            }
            registry.total_bonds = registry
                .total_bonds
                .checked_add(bond)
                .ok_or(RegistryError::BondOverflow { index })?;
            let address = executor_address(&public_key);
            if registry.executors.contains_key(&address) {
                return Err(RegistryError::Duplicate { index, public_key });
            }
            registry.executors.insert(
                address,
                RegisteredExecutor {
                    public_key: key,
                    bond,
                },
            );
        }
        Ok(registry)
    }

    /// The registry of a genesis `state` section.
    pub fn from_genesis(state: &StateGenesis) -> Result<Self, RegistryError> {
        Self::new(state.executors.iter().map(|e| (e.public_key, e.bond)))
    }

    pub fn get(&self, address: &Address) -> Option<&RegisteredExecutor> {
        self.executors.get(address)
    }

    pub fn contains(&self, address: &Address) -> bool {
        self.executors.contains_key(address)
    }

    /// Every executor, in address order.
    pub fn iter(&self) -> impl Iterator<Item = (&Address, &RegisteredExecutor)> {
        self.executors.iter()
    }

    pub fn len(&self) -> usize {
        self.executors.len()
    }

    pub fn is_empty(&self) -> bool {
        self.executors.is_empty()
    }

    /// The sum of all genesis bonds (fits in `u128` by construction).
    pub fn total_bonds(&self) -> u128 {
        self.total_bonds
    }
}

/// The stateless check a validator runs before putting a claim in a block it proposes, when
/// `decided_height` is the last decided data height: the chain id is this chain's; the claim
/// is well formed (height at least 1, the genesis parent exactly at height 1); it is for a
/// decided block (`data_height <= decided_height`); its executor is registered; and that
/// executor's key signed it. Returns the claim id.
///
/// Cheap checks run first, the signature last. [`crate::StateConsensus`] runs the same check
/// (with `decided_height` = inclusion height - 1) before its stateful rules.
pub fn check_claim(
    signed: &SignedClaim,
    chain_id: u64,
    decided_height: u64,
    registry: &ExecutorRegistry,
) -> Result<ClaimId, ClaimError> {
    let claim = &signed.claim;
    if claim.chain_id != chain_id {
        return Err(ClaimError::WrongChain {
            expected: chain_id,
            got: claim.chain_id,
        });
    }
    claim.check_well_formed()?;
    if claim.data_height > decided_height {
        return Err(ClaimError::FutureHeight {
            data_height: claim.data_height,
            decided_height,
        });
    }
    let executor = registry
        .get(&claim.executor)
        .ok_or(ClaimError::UnknownExecutor {
            executor: claim.executor,
        })?;
    signed.verify(&executor.public_key)?;
    Ok(signed.id())
}

#[cfg(test)]
mod tests {
    use lazychain_chainspec::GenesisExecutor;
    use malachitebft_signing_ed25519::PrivateKey;

    use super::*;
    use crate::claim::{StateClaim, GENESIS_PARENT};

    fn key(seed: u8) -> PrivateKey {
        PrivateKey::from([seed; 32])
    }

    fn pk(seed: u8) -> [u8; 32] {
        *key(seed).public_key().as_bytes()
    }

    fn signed(seed: u8, height: u64, parent: [u8; 32]) -> SignedClaim {
        let k = key(seed);
        SignedClaim::sign(
            StateClaim {
                chain_id: 9,
                data_height: height,
                parent_claim: parent,
                pre_state_root: [1; 32],
                post_state_root: [2; 32],
                trace_root: [3; 32],
                receipts_root: [4; 32],
                tx_count: 0,
                executor: executor_address(k.public_key().as_bytes()),
            },
            &k,
        )
    }

    #[test]
    fn registry_from_genesis() {
        let state = StateGenesis {
            slash_reward_percent: 10,
            executors: vec![
                GenesisExecutor {
                    name: "a".into(),
                    public_key: pk(1),
                    bond: 5,
                },
                GenesisExecutor {
                    name: "b".into(),
                    public_key: pk(2),
                    bond: 7,
                },
            ],
            ..StateGenesis::default()
        };
        let r = ExecutorRegistry::from_genesis(&state).expect("registry");
        assert_eq!(r.len(), 2);
        assert_eq!(r.total_bonds(), 12);
        let a = r.get(&state.executors[0].address()).expect("a");
        assert_eq!(a.public_key.as_bytes(), &pk(1));
        assert_eq!(a.bond, 5);
        assert!(r.contains(&state.executors[1].address()));
        assert!(!r.contains(&[0; 20]));
    }

    #[test]
    fn registry_refuses_bad_entries() {
        let mut bad = [0x01; 32];
        bad[31] = 0;
        assert_eq!(
            ExecutorRegistry::new([(pk(1), 1), (bad, 1)]),
            Err(RegistryError::InvalidKey {
                index: 1,
                public_key: bad
            })
        );
        assert_eq!(
            ExecutorRegistry::new([(pk(1), 1), (pk(1), 1)]),
            Err(RegistryError::Duplicate {
                index: 1,
                public_key: pk(1)
            })
        );
        assert_eq!(
            ExecutorRegistry::new([(pk(1), 0)]),
            Err(RegistryError::ZeroBond { index: 0 })
        );
        assert_eq!(
            ExecutorRegistry::new([(pk(1), u128::MAX), (pk(2), 1)]),
            Err(RegistryError::BondOverflow { index: 1 })
        );
        assert!(ExecutorRegistry::new([]).expect("empty").is_empty());
    }

    #[test]
    fn check_claim_rules() {
        let r = ExecutorRegistry::new([(pk(1), 10)]).expect("registry");
        let good = signed(1, 1, GENESIS_PARENT.0);
        assert_eq!(check_claim(&good, 9, 1, &r), Ok(good.id()));
        assert_eq!(check_claim(&good, 9, 100, &r), Ok(good.id()));
        assert_eq!(
            check_claim(&good, 10, 1, &r),
            Err(ClaimError::WrongChain {
                expected: 10,
                got: 9
            })
        );
        assert_eq!(
            check_claim(&good, 9, 0, &r),
            Err(ClaimError::FutureHeight {
                data_height: 1,
                decided_height: 0
            })
        );
        let stranger = signed(2, 1, GENESIS_PARENT.0);
        assert_eq!(
            check_claim(&stranger, 9, 1, &r),
            Err(ClaimError::UnknownExecutor {
                executor: stranger.claim.executor
            })
        );
        let mut forged = good.clone();
        forged.claim.post_state_root = [9; 32];
        assert_eq!(
            check_claim(&forged, 9, 1, &r),
            Err(ClaimError::BadSignature)
        );
        assert_eq!(
            check_claim(&signed(1, 0, GENESIS_PARENT.0), 9, 5, &r),
            Err(ClaimError::ZeroHeight)
        );
        assert!(matches!(
            check_claim(&signed(1, 1, [7; 32]), 9, 5, &r),
            Err(ClaimError::GenesisParentRequired { .. })
        ));
        // Whether blocks 1 and 2 were empty is for state consensus to say.
        assert!(check_claim(&signed(1, 3, GENESIS_PARENT.0), 9, 5, &r).is_ok());
        let err = check_claim(&stranger, 9, 1, &r).expect_err("unknown");
        assert!(err.to_string().contains("is not registered"), "{err}");
    }
}
