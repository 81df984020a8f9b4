//! The execution budget: how much execution (declared gas) the data chain may take on per
//! unit of time, and the base fee that rations it by price. Both are functions of the parent
//! header and the block's own timestamp, so a validator, a full node or a light client checks
//! them with no state and no execution.
//!
//! **Allowance** (a token bucket over block timestamps, in the spirit of Sonic's gas power): the
//! bucket holds at most `burst` gas; between the parent and the block it refills by
//! `gas_per_second × (timestamp - parent timestamp)`; the block spends its `gas_limit_sum`
//! (declared gas: validators cannot know gas used). The header carries the level after the
//! block (`gas_allowance`), so the next block needs only its parent header. Before block 1 the
//! bucket is full.
//!
//! **Base fee** (EIP-1559's rule, over the budget instead of a per-block target): the target is
//! a half-full bucket. Each block moves the parent's base fee by up to 1/8 per second of
//! elapsed time (at most one second counts per block), up when the parent left the bucket
//! below half, down when above, proportionally to the distance; never below the floor (the
//! genesis base fee). An idle chain sits at the floor; a chain kept at its budget prices
//! declared gas up until demand fits.
//!
//! `gas_per_second = 0` switches the budget off: the allowance is always 0 and the base fee
//! stays at the floor (no bound on execution per second: see ADR 007 for why that is unsafe).

use alloy_primitives::U256;

use crate::validity::ParentInfo;

/// Elapsed time that counts toward one block's base-fee change, at most.
const BASE_FEE_STEP_MS: u64 = 1_000;
/// At full imbalance the base fee moves by 1 / this per second (EIP-1559's 1/8).
const BASE_FEE_CHANGE_DENOMINATOR: u64 = 8;

/// The budget parameters from genesis.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GasBudget {
    /// Gas (declared) the chain takes on per second; 0: no budget.
    pub gas_per_second: u64,
    /// The bucket's capacity: the most declared gas that can be spent at once.
    pub burst: u64,
    /// The lowest base fee (wei per gas): the genesis `execution.base_fee_per_gas`.
    pub base_fee_floor: u64,
}

/// Why a header's budget fields are wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BudgetError {
    #[error("gas limit sum {gas} exceeds the execution budget's allowance {available}")]
    OverBudget { gas: u64, available: u64 },
    #[error("header gas allowance {header} differs from the budget's {expected}")]
    WrongAllowance { header: u64, expected: u64 },
    #[error("header base fee {header} differs from the budget's {expected}")]
    WrongBaseFee { header: u64, expected: u64 },
}

impl GasBudget {
    pub fn enabled(&self) -> bool {
        self.gas_per_second > 0
    }

    /// What the bucket holds before the block at `timestamp_ms` after `parent` (0 when the
    /// budget is off). A timestamp not after the parent's refills nothing.
    pub fn available(&self, parent: &ParentInfo, timestamp_ms: u64) -> u64 {
        if !self.enabled() {
            return 0;
        }
        let elapsed = u128::from(timestamp_ms.saturating_sub(parent.timestamp_ms));
        let refill = u128::from(self.gas_per_second) * elapsed / 1000;
        let level = u128::from(parent.gas_allowance.min(self.burst)) + refill;
        level.min(u128::from(self.burst)) as u64
    }

    /// The most declared gas a block at `timestamp_ms` may carry (`max_block_gas` when the
    /// budget is off).
    pub fn block_gas_cap(&self, parent: &ParentInfo, timestamp_ms: u64, max_block_gas: u64) -> u64 {
        if self.enabled() {
            self.available(parent, timestamp_ms).min(max_block_gas)
        } else {
            max_block_gas
        }
    }

    /// The base fee of the block at `timestamp_ms` after `parent`.
    pub fn base_fee(&self, parent: &ParentInfo, timestamp_ms: u64) -> u64 {
        let floor = self.base_fee_floor;
        if !self.enabled() || self.burst == 0 {
            return floor;
        }
        // 256-bit arithmetic: base x distance x time overflows 128 bits at extreme values.
        let base = U256::from(parent.base_fee_per_gas.max(floor));
        let target = U256::from((self.burst / 2).max(1));
        let level = U256::from(parent.gas_allowance.min(self.burst));
        let elapsed = U256::from(
            timestamp_ms
                .saturating_sub(parent.timestamp_ms)
                .min(BASE_FEE_STEP_MS),
        );
        let scale = target * U256::from(BASE_FEE_STEP_MS) * U256::from(BASE_FEE_CHANGE_DENOMINATOR);
        let next = if level < target {
            // Drained below half: dearer. At least 1 wei while imbalanced, as EIP-1559 does.
            let delta = (base * (target - level) * elapsed / scale)
                .max(U256::from(u8::from(!elapsed.is_zero())));
            base.saturating_add(delta)
        } else {
            base - base * (level - target) * elapsed / scale
        };
        next.clamp(U256::from(floor), U256::from(u64::MAX))
            .to::<u64>()
    }

    /// Checks a header's `gas_limit_sum`, `gas_allowance` and `base_fee_per_gas` against its
    /// parent.
    pub fn check(
        &self,
        parent: &ParentInfo,
        timestamp_ms: u64,
        gas_limit_sum: u64,
        gas_allowance: u64,
        base_fee_per_gas: u64,
    ) -> Result<(), BudgetError> {
        let expected_fee = self.base_fee(parent, timestamp_ms);
        if base_fee_per_gas != expected_fee {
            return Err(BudgetError::WrongBaseFee {
                header: base_fee_per_gas,
                expected: expected_fee,
            });
        }
        let expected = if self.enabled() {
            let available = self.available(parent, timestamp_ms);
            if gas_limit_sum > available {
                return Err(BudgetError::OverBudget {
                    gas: gas_limit_sum,
                    available,
                });
            }
            available - gas_limit_sum
        } else {
            0
        };
        if gas_allowance != expected {
            return Err(BudgetError::WrongAllowance {
                header: gas_allowance,
                expected,
            });
        }
        Ok(())
    }

    /// What the parent of block 1 (the genesis) looks like to the budget: a full bucket at the
    /// genesis time, the floor base fee.
    pub fn genesis_allowance(&self) -> u64 {
        if self.enabled() {
            self.burst
        } else {
            0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::block::BlockHash;

    const GPS: u64 = 100_000_000;
    const BURST: u64 = 200_000_000;
    const FLOOR: u64 = 1_000_000_000;

    fn budget() -> GasBudget {
        GasBudget {
            gas_per_second: GPS,
            burst: BURST,
            base_fee_floor: FLOOR,
        }
    }

    fn parent(timestamp_ms: u64, allowance: u64, base_fee: u64) -> ParentInfo {
        ParentInfo {
            height: 7,
            hash: BlockHash::default(),
            timestamp_ms,
            gas_allowance: allowance,
            base_fee_per_gas: base_fee,
        }
    }

    #[test]
    fn the_allowance_refills_with_time_up_to_the_burst() {
        let b = budget();
        let p = parent(10_000, 0, FLOOR);
        assert_eq!(b.available(&p, 10_000), 0);
        assert_eq!(b.available(&p, 10_001), GPS / 1000);
        assert_eq!(b.available(&p, 11_000), GPS);
        assert_eq!(b.available(&p, 12_000), BURST);
        // Capped at the burst however long the chain was idle.
        assert_eq!(b.available(&p, 10_000_000), BURST);
        let full = parent(10_000, BURST, FLOOR);
        assert_eq!(b.available(&full, 10_500), BURST);
        // A clock that ran backwards refills nothing (validity refuses the timestamp anyway).
        assert_eq!(b.available(&p, 9_000), 0);
    }

    #[test]
    fn a_block_may_spend_exactly_what_is_available_and_not_a_gas_more() {
        let b = budget();
        let p = parent(0, 50_000_000, FLOOR);
        let t = 500; // +50M
        let fee = b.base_fee(&p, t);
        assert_eq!(b.check(&p, t, 100_000_000, 0, fee), Ok(()));
        assert_eq!(
            b.check(&p, t, 100_000_001, 0, fee),
            Err(BudgetError::OverBudget {
                gas: 100_000_001,
                available: 100_000_000
            })
        );
        assert_eq!(b.check(&p, t, 40_000_000, 60_000_000, fee), Ok(()));
        // A header that claims a wrong allowance is refused, in both directions.
        for wrong in [59_999_999, 60_000_001, BURST] {
            assert_eq!(
                b.check(&p, t, 40_000_000, wrong, fee),
                Err(BudgetError::WrongAllowance {
                    header: wrong,
                    expected: 60_000_000
                })
            );
        }
    }

    #[test]
    fn a_burst_drains_the_bucket_then_the_rate_is_the_limit() {
        let b = budget();
        let mut p = parent(0, b.genesis_allowance(), FLOOR);
        let mut spent = 0u64;
        // 100 blocks, 100 ms apart, each taking all it may.
        for i in 1..=100u64 {
            let t = i * 100;
            let gas = b.available(&p, t);
            spent += gas;
            let fee = b.base_fee(&p, t);
            assert_eq!(b.check(&p, t, gas, 0, fee), Ok(()));
            p = parent(t, 0, fee);
        }
        // The burst (the first block's refill overflows the full bucket), then 9.9 s at the
        // rate.
        assert_eq!(spent, BURST + 99 * (GPS / 10));
    }

    #[test]
    fn clock_skew_only_borrows_from_the_future() {
        // A proposer that sets its timestamp ahead (within the drift validity allows) gets the
        // refill early; the next block must be later still, so over any span the chain spends
        // at most burst + rate x span.
        let b = budget();
        let p = parent(0, 0, FLOOR);
        let skewed = 5_000;
        assert_eq!(b.available(&p, skewed), BURST.min(5 * GPS));
        let after = parent(skewed, 0, FLOOR);
        assert_eq!(b.available(&after, skewed + 1), GPS / 1000);
    }

    #[test]
    fn the_base_fee_follows_the_bucket() {
        let b = budget();
        // Half full: unchanged.
        let half = parent(0, BURST / 2, 2 * FLOOR);
        assert_eq!(b.base_fee(&half, 1_000), 2 * FLOOR);
        // Empty: up 1/8 per second of elapsed time, at most one second per block.
        let empty = parent(0, 0, 8 * FLOOR);
        assert_eq!(b.base_fee(&empty, 1_000), 9 * FLOOR);
        assert_eq!(b.base_fee(&empty, 500), 8 * FLOOR + FLOOR / 2);
        assert_eq!(b.base_fee(&empty, 60_000), 9 * FLOOR);
        // Full: down 1/8 per second, never below the floor.
        let full = parent(0, BURST, 8 * FLOOR);
        assert_eq!(b.base_fee(&full, 1_000), 7 * FLOOR);
        let near_floor = parent(0, BURST, FLOOR + 1);
        assert_eq!(b.base_fee(&near_floor, 1_000), FLOOR);
        // At the floor and imbalanced upward by a hair, it still moves (by at least 1 wei).
        let hair = parent(0, BURST / 2 - 1, FLOOR);
        assert!(b.base_fee(&hair, 1) > FLOOR);
        // A wrong base fee in a header is refused.
        assert_eq!(
            b.check(&empty, 1_000, 0, 100_000_000, 9 * FLOOR + 1),
            Err(BudgetError::WrongBaseFee {
                header: 9 * FLOOR + 1,
                expected: 9 * FLOOR
            })
        );
    }

    #[test]
    fn a_saturated_chain_prices_itself_up_and_an_idle_one_back_down() {
        let b = budget();
        let mut p = parent(0, b.genesis_allowance(), FLOOR);
        for i in 1..=600u64 {
            let t = i * 100;
            let gas = b.available(&p, t);
            let fee = b.base_fee(&p, t);
            p = parent(t, b.available(&p, t) - gas, fee);
        }
        let congested = p.base_fee_per_gas;
        assert!(congested > 100 * FLOOR, "{congested}");
        for i in 601..=2_000u64 {
            let t = i * 100;
            let fee = b.base_fee(&p, t);
            p = parent(t, b.available(&p, t), fee);
        }
        assert_eq!(p.base_fee_per_gas, FLOOR);
    }

    #[test]
    fn extreme_header_values_neither_overflow_nor_panic() {
        let b = GasBudget {
            gas_per_second: u64::MAX,
            burst: u64::MAX,
            base_fee_floor: 1,
        };
        let p = parent(0, u64::MAX, u64::MAX);
        assert_eq!(b.available(&p, u64::MAX), u64::MAX);
        let _ = b.base_fee(&p, u64::MAX);
        let drained = parent(0, 0, u64::MAX);
        assert_eq!(b.base_fee(&drained, 1_000), u64::MAX);
        assert!(b
            .check(&p, u64::MAX, u64::MAX, 0, b.base_fee(&p, u64::MAX))
            .is_ok());
    }

    #[test]
    fn without_a_budget_the_allowance_is_zero_and_the_base_fee_constant() {
        let b = GasBudget {
            gas_per_second: 0,
            burst: 0,
            base_fee_floor: FLOOR,
        };
        let p = parent(0, 0, FLOOR);
        assert_eq!(b.available(&p, 10_000), 0);
        assert_eq!(b.block_gas_cap(&p, 10_000, 30_000_000), 30_000_000);
        assert_eq!(b.base_fee(&p, 10_000), FLOOR);
        assert_eq!(b.check(&p, 10_000, 30_000_000, 0, FLOOR), Ok(()));
        assert!(b.check(&p, 10_000, 1, 5, FLOOR).is_err());
    }
}
