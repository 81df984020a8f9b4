//! The proof coverage cases, by topic. They build into the one `coverage` test binary, so
//! they run in parallel. Every test first asserts that the receipts and the state show the
//! outcome it is about, then proves its transactions (`common::prove_all` / `prove_at`: both
//! kinds of lie, each proof's size checked against `MAX_PROOF_BYTES`). A test for a bug these
//! cases found says so in its doc comment.

mod accounts;
mod creation;
mod eip7702;
mod opcodes;
mod precompiles;
mod scale;
mod skips;
mod storage;
