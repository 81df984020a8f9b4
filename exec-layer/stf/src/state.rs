//! Reading state during execution, and the writes a block leaves behind.
//!
//! [`StateReader`] is what the transition reads: the executor serves it from its database,
//! a fraud-proof verifier from a witness. [`StateWrites`] is the overlay a block's
//! transactions write into; later transactions of the block read through it.

use std::collections::HashMap;

use alloy_primitives::{Address, Bytes, B256, U256};
use revm::bytecode::Bytecode;
use revm::database_interface::DBErrorMarker;
use revm::state::AccountInfo;
use revm::{Database, DatabaseRef};

use crate::keys::{AccountValue, StateKey};

/// A read the state source could not serve (I/O, corruption, or a key missing from a
/// witness). Execution stops: a block is never executed over partial state.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("state read failed: {0}")]
pub struct ReadError(pub String);

impl DBErrorMarker for ReadError {}

/// The state as of some point, read one key at a time.
pub trait StateReader {
    /// The account, or `None` when absent (EIP-161 empty accounts are absent).
    fn account(&self, address: &Address) -> Result<Option<AccountValue>, ReadError>;
    /// The slot's value, zero when absent.
    fn storage(&self, address: &Address, slot: &U256) -> Result<U256, ReadError>;
    /// The code whose keccak hash is `code_hash`, if stored.
    fn code(&self, code_hash: &B256) -> Result<Option<Bytes>, ReadError>;
    /// The data-block hash at `height` (the `BLOCKHASH` opcode); zero when unknown.
    fn block_hash(&self, height: u64) -> Result<B256, ReadError>;
}

impl<R: StateReader + ?Sized> StateReader for &R {
    fn account(&self, address: &Address) -> Result<Option<AccountValue>, ReadError> {
        (**self).account(address)
    }
    fn storage(&self, address: &Address, slot: &U256) -> Result<U256, ReadError> {
        (**self).storage(address, slot)
    }
    fn code(&self, code_hash: &B256) -> Result<Option<Bytes>, ReadError> {
        (**self).code(code_hash)
    }
    fn block_hash(&self, height: u64) -> Result<B256, ReadError> {
        (**self).block_hash(height)
    }
}

/// Writes to the flat state: `None` (and a zero slot) deletes. Code is content-addressed:
/// execution only ever adds it; a rollback to the state before a deployment removes it again
/// (`None`), which is how an overlay says "this code did not exist yet".
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StateWrites {
    pub accounts: HashMap<Address, Option<AccountValue>>,
    pub storage: HashMap<(Address, U256), U256>,
    pub code: HashMap<B256, Option<Bytes>>,
}

impl StateWrites {
    pub fn is_empty(&self) -> bool {
        self.accounts.is_empty() && self.storage.is_empty() && self.code.is_empty()
    }

    /// Number of flat keys written.
    pub fn len(&self) -> usize {
        self.accounts.len() + self.storage.len() + self.code.len()
    }

    /// Every write as a flat key and its value bytes (`None`: delete), in key order so that
    /// whoever persists them does the same work in the same order.
    pub fn entries(&self) -> Vec<(StateKey, Option<Vec<u8>>)> {
        let mut out: Vec<(StateKey, Option<Vec<u8>>)> = Vec::with_capacity(self.len());
        for (address, value) in &self.accounts {
            out.push((
                StateKey::Account(*address),
                value.map(|v| v.encode().to_vec()),
            ));
        }
        for ((address, slot), value) in &self.storage {
            let bytes = (!value.is_zero()).then(|| value.to_be_bytes::<32>().to_vec());
            out.push((StateKey::Storage(*address, *slot), bytes));
        }
        for (hash, code) in &self.code {
            out.push((StateKey::Code(*hash), code.as_ref().map(|c| c.to_vec())));
        }
        out.sort_by_key(|a| a.0);
        out
    }
}

/// Reads through a block's pending writes to the state before the block.
pub struct Overlay<'a, R: StateReader> {
    pub base: &'a R,
    pub writes: &'a StateWrites,
}

impl<R: StateReader> StateReader for Overlay<'_, R> {
    fn account(&self, address: &Address) -> Result<Option<AccountValue>, ReadError> {
        match self.writes.accounts.get(address) {
            Some(value) => Ok(*value),
            None => self.base.account(address),
        }
    }
    fn storage(&self, address: &Address, slot: &U256) -> Result<U256, ReadError> {
        match self.writes.storage.get(&(*address, *slot)) {
            Some(value) => Ok(*value),
            None => self.base.storage(address, slot),
        }
    }
    fn code(&self, code_hash: &B256) -> Result<Option<Bytes>, ReadError> {
        match self.writes.code.get(code_hash) {
            Some(code) => Ok(code.clone()),
            None => self.base.code(code_hash),
        }
    }
    fn block_hash(&self, height: u64) -> Result<B256, ReadError> {
        self.base.block_hash(height)
    }
}

/// Most state one transaction may read, in witness bytes: every distinct key costs
/// [`WITNESS_BYTES_PER_KEY`], code its length as well, a block hash 40. A transaction that
/// reads more halts ([`crate::execute`]: it pays its whole gas limit and changes nothing
/// else), so that the witness of any transaction, and with it any fraud proof, stays within
/// what a block carries (protocol §10.6). Gas alone does not bound it: one cold
/// `EXTCODESIZE` (2,600 gas) may read 24 KiB of code.
pub const MAX_TX_WITNESS_BYTES: u64 = 1536 * 1024;
/// What one distinct key adds to a proof at most, besides code: its key and value (at most
/// 52 + 72 bytes) and its own part of the multiproof (up to 17 sibling hashes, enough for
/// the paths of 2,457 keys in a tree of a billion leaves).
pub const WITNESS_BYTES_PER_KEY: u64 = 640;
const WITNESS_BYTES_PER_BLOCK_HASH: u64 = 40;

// Admission bounds an EIP-7702 transaction's authorizations so that reading every authority
// (its account and its code: none or a 23-byte designator for an account someone holds the
// key of) takes at most a quarter of what one transaction may read. Whatever is read, the
// meter above charges it, so this bound keeps room for the call; it is not what keeps the
// witness bounded.
const _: () = assert!(
    lazychain_data_chain_types::tx::MAX_AUTHORIZATIONS as u64 * (2 * WITNESS_BYTES_PER_KEY + 23)
        <= MAX_TX_WITNESS_BYTES / 4
);

/// The state one transaction has read so far, metered against [`MAX_TX_WITNESS_BYTES`].
#[derive(Default)]
pub(crate) struct AccessMeter {
    keys: std::collections::HashSet<StateKey>,
    heights: std::collections::HashSet<u64>,
    bytes: u64,
    /// The limit was crossed: the read that crossed it failed, and the transaction halts.
    pub(crate) exceeded: bool,
}

impl AccessMeter {
    pub(crate) fn reset(&mut self) {
        self.keys.clear();
        self.heights.clear();
        self.bytes = 0;
        self.exceeded = false;
    }

    fn charge(&mut self, bytes: u64) -> Result<(), ReadError> {
        self.bytes = self.bytes.saturating_add(bytes);
        if self.bytes > MAX_TX_WITNESS_BYTES {
            self.exceeded = true;
            return Err(ReadError(format!(
                "state access limit: the transaction read more than {MAX_TX_WITNESS_BYTES} witness bytes"
            )));
        }
        Ok(())
    }

    fn key(&mut self, key: StateKey, extra: usize) -> Result<(), ReadError> {
        if self.keys.insert(key) {
            self.charge(WITNESS_BYTES_PER_KEY.saturating_add(extra as u64))?;
        }
        Ok(())
    }

    fn block_hash(&mut self, height: u64) -> Result<(), ReadError> {
        if self.heights.insert(height) {
            self.charge(WITNESS_BYTES_PER_BLOCK_HASH)?;
        }
        Ok(())
    }
}

/// revm's view of the state: the reader under a block's writes, with analysed code cached
/// for the block (jump-table analysis is per load otherwise), and the current transaction's
/// reads metered. Public only so that an inspector can name the context it inspects
/// ([`crate::trace::EvmContext`]); nothing outside the crate builds or reads one.
pub struct BlockDb<'a, R: StateReader> {
    pub(crate) base: &'a R,
    pub(crate) writes: StateWrites,
    /// Every write per transaction, when the caller asked for it (provers).
    pub(crate) log: Option<crate::txlog::TxWriteLog>,
    pub(crate) access: AccessMeter,
    code_cache: HashMap<B256, Bytecode>,
}

impl<'a, R: StateReader> BlockDb<'a, R> {
    pub(crate) fn new(base: &'a R) -> Self {
        BlockDb {
            base,
            writes: StateWrites::default(),
            log: None,
            access: AccessMeter::default(),
            code_cache: HashMap::new(),
        }
    }

    pub(crate) fn view(&self) -> Overlay<'_, R> {
        Overlay {
            base: self.base,
            writes: &self.writes,
        }
    }

    fn load_code(&mut self, code_hash: B256) -> Result<Bytecode, ReadError> {
        if code_hash == revm::primitives::KECCAK_EMPTY {
            return Ok(Bytecode::default());
        }
        // Metered whether or not the block cached it: a verifier re-executing this
        // transaction alone reads it from the witness.
        if let Some(code) = self.code_cache.get(&code_hash) {
            let len = code.original_byte_slice().len();
            let code = code.clone();
            self.access.key(StateKey::Code(code_hash), len)?;
            return Ok(code);
        }
        let bytes = self.view().code(&code_hash)?.ok_or_else(|| {
            ReadError(format!(
                "code {code_hash} is referenced but not in the state"
            ))
        })?;
        self.access.key(StateKey::Code(code_hash), bytes.len())?;
        // Deployment and genesis validation keep malformed EOF-prefixed code out of the
        // state; should any reach it, execution stops with an error rather than a panic.
        let code = Bytecode::new_raw_checked(bytes)
            .map_err(|e| ReadError(format!("code {code_hash} does not decode: {e:?}")))?;
        self.code_cache.insert(code_hash, code.clone());
        Ok(code)
    }

    /// Remembers code deployed in this block, already analysed.
    pub(crate) fn cache_code(&mut self, code_hash: B256, code: Bytecode) {
        self.code_cache.insert(code_hash, code);
    }
}

impl<R: StateReader> Database for BlockDb<'_, R> {
    type Error = ReadError;

    fn basic(&mut self, address: Address) -> Result<Option<AccountInfo>, ReadError> {
        let value = self.view().account(&address)?;
        self.access.key(StateKey::Account(address), 0)?;
        let Some(value) = value else {
            return Ok(None);
        };
        let code = self.load_code(value.code_hash)?;
        Ok(Some(AccountInfo {
            balance: value.balance,
            nonce: value.nonce,
            code_hash: value.code_hash,
            code: Some(code),
            ..Default::default()
        }))
    }

    fn code_by_hash(&mut self, code_hash: B256) -> Result<Bytecode, ReadError> {
        self.load_code(code_hash)
    }

    fn storage(&mut self, address: Address, index: U256) -> Result<U256, ReadError> {
        let value = self.view().storage(&address, &index)?;
        self.access.key(StateKey::Storage(address, index), 0)?;
        Ok(value)
    }

    fn block_hash(&mut self, number: u64) -> Result<B256, ReadError> {
        let hash = self.base.block_hash(number)?;
        self.access.block_hash(number)?;
        Ok(hash)
    }
}

/// A state reader as revm's read-only database, unmetered: what tracers read the state before
/// a traced transaction through (the prestate tracer's pre-values).
pub struct StateRef<R>(pub R);

impl<R: StateReader> DatabaseRef for StateRef<R> {
    type Error = ReadError;

    fn basic_ref(&self, address: Address) -> Result<Option<AccountInfo>, ReadError> {
        let Some(value) = self.0.account(&address)? else {
            return Ok(None);
        };
        Ok(Some(AccountInfo {
            balance: value.balance,
            nonce: value.nonce,
            code_hash: value.code_hash,
            code: Some(self.code_by_hash_ref(value.code_hash)?),
            ..Default::default()
        }))
    }

    fn code_by_hash_ref(&self, code_hash: B256) -> Result<Bytecode, ReadError> {
        if code_hash == revm::primitives::KECCAK_EMPTY {
            return Ok(Bytecode::default());
        }
        let bytes = self.0.code(&code_hash)?.ok_or_else(|| {
            ReadError(format!(
                "code {code_hash} is referenced but not in the state"
            ))
        })?;
        Bytecode::new_raw_checked(bytes)
            .map_err(|e| ReadError(format!("code {code_hash} does not decode: {e:?}")))
    }

    fn storage_ref(&self, address: Address, index: U256) -> Result<U256, ReadError> {
        self.0.storage(&address, &index)
    }

    fn block_hash_ref(&self, number: u64) -> Result<B256, ReadError> {
        self.0.block_hash(number)
    }
}

/// A reader over nothing but a map: genesis construction, tests and benchmarks.
#[derive(Clone, Debug, Default)]
pub struct MemoryState {
    pub accounts: HashMap<Address, AccountValue>,
    pub storage: HashMap<(Address, U256), U256>,
    pub code: HashMap<B256, Bytes>,
    pub block_hashes: HashMap<u64, B256>,
}

impl MemoryState {
    /// Applies a block's writes.
    pub fn apply(&mut self, writes: &StateWrites) {
        for (address, value) in &writes.accounts {
            match value {
                Some(v) => self.accounts.insert(*address, *v),
                None => self.accounts.remove(address),
            };
        }
        for (key, value) in &writes.storage {
            if value.is_zero() {
                self.storage.remove(key);
            } else {
                self.storage.insert(*key, *value);
            }
        }
        for (hash, code) in &writes.code {
            match code {
                Some(c) => self.code.insert(*hash, c.clone()),
                None => self.code.remove(hash),
            };
        }
    }

    /// Every flat entry with its value bytes, for building a state tree.
    pub fn entries(&self) -> Vec<(StateKey, Vec<u8>)> {
        let mut out = Vec::with_capacity(self.accounts.len() + self.storage.len());
        for (a, v) in &self.accounts {
            out.push((StateKey::Account(*a), v.encode().to_vec()));
        }
        for ((a, s), v) in &self.storage {
            out.push((StateKey::Storage(*a, *s), v.to_be_bytes::<32>().to_vec()));
        }
        for (h, c) in &self.code {
            out.push((StateKey::Code(*h), c.to_vec()));
        }
        out
    }
}

impl StateReader for MemoryState {
    fn account(&self, address: &Address) -> Result<Option<AccountValue>, ReadError> {
        Ok(self.accounts.get(address).copied())
    }
    fn storage(&self, address: &Address, slot: &U256) -> Result<U256, ReadError> {
        Ok(self
            .storage
            .get(&(*address, *slot))
            .copied()
            .unwrap_or_default())
    }
    fn code(&self, code_hash: &B256) -> Result<Option<Bytes>, ReadError> {
        Ok(self.code.get(code_hash).cloned())
    }
    fn block_hash(&self, height: u64) -> Result<B256, ReadError> {
        Ok(self.block_hashes.get(&height).copied().unwrap_or_default())
    }
}
