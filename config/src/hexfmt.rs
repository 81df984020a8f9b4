//! `0x`-prefixed hex, the encoding of every byte string in lazychain's JSON files (defined
//! by `lazychain-chainspec`, re-exported here).

pub use lazychain_chainspec::hexfmt::{from_hex, to_hex, HexError};
