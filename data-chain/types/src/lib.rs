//! Data-chain wire types and stateless rules: the SSZ data block (header and body), block and
//! transaction-list roots, transaction admission, and block validity checks that need no state.
//!
//! This crate owns the bytes that cross the data-chain boundary and the rules every validator
//! applies to them. It must never read EVM state, execute a transaction, touch a database or the
//! network: validators run these checks and nothing more, so data throughput never depends on
//! execution cost.

#![forbid(unsafe_code)]

pub mod block;
pub mod budget;
pub mod codec;
pub mod merkle;
pub mod par;
pub mod tx;
pub mod validity;

pub use block::{Block, BlockBody, BlockHash, BlockHeader, DecodeError};
pub use tx::{admit, AdmittedTx, TxError, TxRules};
pub use validity::{validate_block, BlockError, BlockRules, ParentInfo};
