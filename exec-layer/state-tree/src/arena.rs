//! A growable array in fixed-size chunks: indices are stable and growing never moves or
//! copies what is already stored.
//!
//! The tree's arenas reach hundreds of MB at millions of keys. A `Vec` that outgrows its
//! capacity copies everything (always, for the tree's 64-byte-aligned node types, which the
//! system allocator cannot `realloc` in place): at one million keys the first insert past the
//! bulk-loaded size cost ~100 ms (alloc, copy, page faults). Chunks of 2^14 entries bound the slack to one chunk and
//! the cost of growth to one chunk allocation; the chunk table stays in L1.

use std::ops::{Index, IndexMut};

const CHUNK_BITS: u32 = 14;
const CHUNK: usize = 1 << CHUNK_BITS;

#[derive(Clone, Debug)]
pub(crate) struct Arena<T> {
    chunks: Vec<Vec<T>>,
    len: usize,
}

impl<T> Arena<T> {
    pub(crate) fn new() -> Self {
        Arena {
            chunks: Vec::new(),
            len: 0,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Entries allocated (in use or not).
    pub(crate) fn capacity(&self) -> usize {
        self.chunks.iter().map(Vec::capacity).sum()
    }

    /// Appends `value` and returns its index.
    pub(crate) fn push(&mut self, value: T) -> usize {
        match self.chunks.last_mut() {
            Some(chunk) if chunk.len() < CHUNK => chunk.push(value),
            _ => {
                let mut chunk = Vec::with_capacity(CHUNK);
                chunk.push(value);
                self.chunks.push(chunk);
            }
        }
        self.len += 1;
        self.len - 1
    }
}

impl<T> Index<usize> for Arena<T> {
    type Output = T;

    #[inline]
    fn index(&self, i: usize) -> &T {
        &self.chunks[i >> CHUNK_BITS][i & (CHUNK - 1)]
    }
}

impl<T> IndexMut<usize> for Arena<T> {
    #[inline]
    fn index_mut(&mut self, i: usize) -> &mut T {
        &mut self.chunks[i >> CHUNK_BITS][i & (CHUNK - 1)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indices_are_stable_across_chunks() {
        let mut arena = Arena::new();
        for i in 0..(3 * CHUNK + 5) {
            assert_eq!(arena.push(i as u64), i);
        }
        assert_eq!(arena.len(), 3 * CHUNK + 5);
        assert_eq!(arena.capacity(), 4 * CHUNK);
        for i in [0, CHUNK - 1, CHUNK, 2 * CHUNK + 7, 3 * CHUNK + 4] {
            assert_eq!(arena[i], i as u64);
        }
        arena[CHUNK] = 1;
        assert_eq!(arena[CHUNK], 1);
    }
}
