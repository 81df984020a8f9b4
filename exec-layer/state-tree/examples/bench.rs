//! Prints the state-tree benchmark table.
//!
//! `cargo run --release -p lazychain-exec-state-tree --example bench -- [KEYS] [SEED]`
//! (defaults: 100000 keys, seed 42). Pin it to one core for stable figures:
//! `taskset -c 1 target/release/examples/bench 1000000`.

fn main() {
    let mut args = std::env::args().skip(1);
    let keys = args.next().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let seed = args.next().and_then(|a| a.parse().ok()).unwrap_or(42);
    let report = lazychain_exec_state_tree::bench(keys, seed);
    print!("{}", report.table());
    if !report.stateless_roots_match {
        eprintln!("error: a stateless root differed from the tree's root");
        std::process::exit(1);
    }
}
