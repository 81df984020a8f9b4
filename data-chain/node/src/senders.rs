//! Senders this node already recovered when it admitted transactions, kept after they leave
//! the pool (a decision removes them) so that an executor embedded in the same process need not
//! recover them again: recovery is the executor's largest per-transaction cost. A transaction
//! hash commits to the signature, so a sender recovered from the same bytes is the sender.

use std::collections::{HashMap, VecDeque};

use alloy_primitives::{Address, B256};

/// A bounded map from transaction hash to sender; the oldest entries go first.
pub struct SenderCache {
    map: HashMap<B256, Address>,
    order: VecDeque<B256>,
    capacity: usize,
}

impl SenderCache {
    pub fn new(capacity: usize) -> Self {
        SenderCache {
            map: HashMap::new(),
            order: VecDeque::new(),
            capacity: capacity.max(1),
        }
    }

    pub fn insert(&mut self, hash: B256, sender: Address) {
        if self.map.insert(hash, sender).is_some() {
            return;
        }
        self.order.push_back(hash);
        while self.order.len() > self.capacity {
            if let Some(old) = self.order.pop_front() {
                self.map.remove(&old);
            }
        }
    }

    pub fn get(&self, hash: &B256) -> Option<Address> {
        self.map.get(hash).copied()
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.map.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_newest_entries_up_to_capacity() {
        let mut cache = SenderCache::new(3);
        for i in 0..5u8 {
            cache.insert(B256::repeat_byte(i), Address::repeat_byte(i));
        }
        assert_eq!(cache.len(), 3);
        assert_eq!(cache.get(&B256::repeat_byte(0)), None);
        assert_eq!(cache.get(&B256::repeat_byte(1)), None);
        assert_eq!(
            cache.get(&B256::repeat_byte(4)),
            Some(Address::repeat_byte(4))
        );
        // Re-inserting does not duplicate the entry in the eviction order.
        cache.insert(B256::repeat_byte(4), Address::repeat_byte(4));
        cache.insert(B256::repeat_byte(9), Address::repeat_byte(9));
        assert_eq!(cache.get(&B256::repeat_byte(2)), None);
        assert_eq!(
            cache.get(&B256::repeat_byte(3)),
            Some(Address::repeat_byte(3))
        );
        assert_eq!(cache.len(), 3);
    }
}
