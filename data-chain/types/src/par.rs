//! Spreading CPU-bound per-item work (sender recovery) over the machine's cores, with results
//! in input order. Scoped threads, no pool: the callers run on a blocking thread already.

/// Below this many items the work runs on the calling thread.
pub const MIN_PARALLEL_ITEMS: usize = 64;

/// `items.iter().map(f)`, computed in contiguous chunks on every core; results keep the input
/// order. A panicking chunk yields `on_panic()` for each of its items.
pub fn par_map<T, R>(
    items: &[T],
    f: impl Fn(&T) -> R + Sync,
    on_panic: impl Fn() -> R + Sync,
) -> Vec<R>
where
    T: Sync,
    R: Send,
{
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    if items.len() < MIN_PARALLEL_ITEMS || threads == 1 {
        return items.iter().map(&f).collect();
    }
    let chunk_len = items.len().div_ceil(threads);
    let f = &f;
    // The calling thread computes the first chunk itself: one thread fewer to create and
    // schedule per call (validators call this for every gossip and RPC batch).
    let (first, rest) = items.split_at(chunk_len.min(items.len()));
    std::thread::scope(|s| {
        let handles: Vec<_> = rest
            .chunks(chunk_len)
            .map(|chunk| {
                (
                    chunk.len(),
                    s.spawn(move || chunk.iter().map(f).collect::<Vec<R>>()),
                )
            })
            .collect();
        let own = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            first.iter().map(f).collect::<Vec<R>>()
        }))
        .unwrap_or_else(|_| first.iter().map(|_| on_panic()).collect());
        own.into_iter()
            .chain(handles.into_iter().flat_map(|(len, h)| {
                h.join()
                    .unwrap_or_else(|_| (0..len).map(|_| on_panic()).collect())
            }))
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_order_above_and_below_the_threshold() {
        for n in [0, 5, MIN_PARALLEL_ITEMS, 1000] {
            let items: Vec<u64> = (0..n as u64).collect();
            let out = par_map(&items, |x| x * 2, || u64::MAX);
            assert_eq!(out, items.iter().map(|x| x * 2).collect::<Vec<_>>());
        }
    }
}
