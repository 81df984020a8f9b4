//! Prints how long SSZ operations take on a block of 1 KiB transactions (a profiling aid).
use std::time::Instant;

use lazychain_data_chain_types::block::{BlockBody, BlockTemplate};
use lazychain_data_chain_types::{Block, BlockHash};

fn main() {
    let txs: Vec<Vec<u8>> = (0..2000).map(|i| vec![(i % 251) as u8; 1100]).collect();
    let t = Instant::now();
    let body = BlockBody::from_transactions(&txs).expect("body");
    println!("from_transactions: {:?}", t.elapsed());
    let t = Instant::now();
    let c = body.commitments().expect("c");
    println!("commitments:       {:?}", t.elapsed());
    let template = BlockTemplate {
        chain_id: 1,
        height: 1,
        parent: BlockHash::ZERO,
        proposer: [0; 20],
        timestamp_ms: 1,
        gas_available: 0,
        base_fee_per_gas: 0,
    };
    let block = Block::build(&template, body, 0).expect("block");
    let t = Instant::now();
    let bytes = block.to_ssz();
    println!(
        "to_ssz:            {:?} ({} bytes)",
        t.elapsed(),
        bytes.len()
    );
    let t = Instant::now();
    let back = Block::from_ssz(&bytes).expect("decode");
    println!("from_ssz:          {:?}", t.elapsed());
    let t = Instant::now();
    let h = back.hash().expect("hash");
    println!("hash:              {:?} {h} {:?}", t.elapsed(), c.tx_count);
}
