//! Helpers that lazychain's tests share: deterministic secp256k1 keys and their addresses,
//! signed transactions as raw EIP-2718 bytes, ABI call data for the token fixture, and (feature
//! `net`) what tests of running nodes need: JSON-RPC calls, subscriptions and quantities, plain
//! HTTP, and polling for a condition with a deadline.
//!
//! It is a dev-dependency only, never a normal one (`tests/dependencies.rs` checks), and it
//! depends on no workspace crate: it speaks in raw bytes and alloy types, so any crate's tests
//! can use it without a dependency cycle or a second copy of a lazychain crate in one test.
//! Helpers here panic on failure, as test code does.

pub mod abi;
pub mod tx;

#[cfg(feature = "net")]
pub mod net;

pub use tx::{address_of, eip1559_tx, hex0x, key, sign, signature, transfer, transfer_tx};
