//! What the proof coverage tests share: the Solidity fixtures' bytecode, a sender that counts
//! its nonces, views of the state (ABI getters run with the transition's `eth_call`), raw
//! bytecode the fixtures cannot express, and proving with the failure and the size reported.

#![allow(dead_code)]

use alloy_primitives::{keccak256, Address, Bytes, B256, U256};
use lazychain_exec_stf::{
    AccountValue, BlockContext, CallOutcome, CallRequest, MemoryState, Overlay, Receipt,
    StateReader, TxStatus,
};
use lazychain_fraud::proof::MAX_PROOF_BYTES;
use lazychain_fraud_harness::tx::{call, Arg, Key};
use lazychain_fraud_harness::{Chain, Corruption, Executed, ProvenCase, FEE_RECIPIENT};

/// The creation code of a fixture, from `exec-layer/contracts/build/`.
macro_rules! fixture_hex {
    ($name:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../exec-layer/contracts/build/",
            $name,
            ".bytecode.hex"
        ))
    };
}

/// The Solidity fixtures (see `exec-layer/contracts/README.md`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fixture {
    Token,
    Burner,
    Child,
    Factory,
    NestedChild,
    CodeReader,
    Destroyer,
    Storage,
    Precompiles,
    Opcodes,
}

impl Fixture {
    /// The creation code (without constructor arguments).
    pub fn init_code(self) -> Vec<u8> {
        let hex_str = match self {
            Fixture::Token => fixture_hex!("LazyToken"),
            Fixture::Burner => fixture_hex!("Burner"),
            Fixture::Child => fixture_hex!("Child"),
            Fixture::Factory => fixture_hex!("Factory"),
            Fixture::NestedChild => fixture_hex!("NestedChild"),
            Fixture::CodeReader => fixture_hex!("CodeReader"),
            Fixture::Destroyer => fixture_hex!("Destroyer"),
            Fixture::Storage => fixture_hex!("Storage"),
            Fixture::Precompiles => fixture_hex!("Precompiles"),
            Fixture::Opcodes => fixture_hex!("Opcodes"),
        };
        hex::decode(hex_str.trim()).expect("fixture bytecode is hex")
    }
}

/// `exec-layer/contracts/build/precompile-inputs.json`.
pub const PRECOMPILE_INPUTS: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../exec-layer/contracts/build/precompile-inputs.json"
));

/// The deployed (runtime) size of `Child`.
pub const CHILD_RUNTIME_LEN: u64 = 202;

/// `Child`'s creation code with its constructor argument.
pub fn child_init(v: U256) -> Vec<u8> {
    let mut code = Fixture::Child.init_code();
    code.extend_from_slice(&v.to_be_bytes::<32>());
    code
}

/// Init code that deploys `runtime` as it is: `PUSH2 len DUP1 PUSH1 10 PUSH0 CODECOPY PUSH0
/// RETURN` followed by the runtime (what `Opcodes._deploy` builds).
pub fn deploy_code(runtime: &[u8]) -> Vec<u8> {
    assert!(runtime.len() <= 0xffff, "runtime too long for PUSH2");
    let mut init = hex::decode(format!("61{:04x}80600a5f395ff3", runtime.len())).expect("hex");
    init.extend_from_slice(runtime);
    init
}

/// Raw runtimes for what the fixtures do not do (deploy them with [`deploy_code`]).
pub mod raw {
    /// SLOADs slots `0 .. n` (n = the first calldata word), then stores n in slot 0:
    /// `PUSH0 CALLDATALOAD PUSH0` [n i]; 0x03: `JUMPDEST DUP2 DUP2 LT ISZERO PUSH1 0x14 JUMPI`;
    /// `DUP1 SLOAD POP PUSH1 1 ADD PUSH1 0x03 JUMP`; 0x14: `JUMPDEST PUSH0 SSTORE STOP`.
    pub const SLOAD_LOOP: &str = "5f355f5b818110156014578054506001016003565b5f5500";
    /// EXTCODESIZE of every address in calldata (one 32-byte word each); slot 0 = their sum:
    /// `PUSH0 PUSH0` [sum off]; 0x02: `JUMPDEST CALLDATASIZE DUP2 LT ISZERO PUSH1 0x17 JUMPI`;
    /// `DUP1 CALLDATALOAD EXTCODESIZE DUP3 ADD SWAP2 POP PUSH1 32 ADD PUSH1 0x02 JUMP`;
    /// 0x17: `JUMPDEST POP PUSH0 SSTORE STOP`.
    pub const EXTCODESIZE_SUM: &str = "5f5f5b3681101560175780353b820191506020016002565b505f5500";
    /// For every calldata word `h` at offset `o`: slot `o` = BLOCKHASH(h) + 1 (so an
    /// out-of-range height still writes 1): `PUSH0` [off]; 0x01: `JUMPDEST CALLDATASIZE DUP2
    /// LT ISZERO PUSH1 0x17 JUMPI`; `DUP1 CALLDATALOAD BLOCKHASH PUSH1 1 ADD DUP2 SSTORE
    /// PUSH1 32 ADD PUSH1 0x01 JUMP`; 0x17: `JUMPDEST STOP`.
    pub const BLOCKHASH_EACH: &str = "5f5b3681101560175780354060010181556020016001565b00";
}

/// A key and the nonce its next transaction uses.
#[derive(Clone, Debug)]
pub struct Sender {
    pub key: Key,
    pub nonce: u64,
}

impl Sender {
    pub fn new(key: &Key) -> Self {
        Sender {
            key: key.clone(),
            nonce: 0,
        }
    }

    pub fn address(&self) -> Address {
        self.key.address
    }

    fn next(&mut self) -> u64 {
        self.nonce += 1;
        self.nonce - 1
    }

    /// An EIP-1559 call of `to` with `input`.
    pub fn call(&mut self, to: Address, input: Vec<u8>, gas: u64) -> Vec<u8> {
        self.send(to, U256::ZERO, input, gas)
    }

    /// An EIP-1559 call of `to` with `value` and `input`.
    pub fn send(&mut self, to: Address, value: U256, input: Vec<u8>, gas: u64) -> Vec<u8> {
        let nonce = self.next();
        self.key.eip1559(nonce, Some(to), value, gas, input)
    }

    /// An EIP-1559 creation; returns the transaction and the address it creates.
    pub fn create(&mut self, init: Vec<u8>, value: U256, gas: u64) -> (Vec<u8>, Address) {
        let nonce = self.next();
        (
            self.key.eip1559(nonce, None, value, gas, init),
            self.key.address.create(nonce),
        )
    }
}

/// Executes `txs` as the next block (nothing committed).
pub fn execute(chain: &Chain, txs: Vec<Vec<u8>>) -> Executed {
    chain.execute(txs).expect("the block executes")
}

/// Deploys fixtures from `sender` in one block and commits it; returns their addresses.
/// A chain with one funded key, a sender of that key, and `fixture` deployed by it.
pub fn chain_with(fixture: Fixture) -> (Chain, Sender, Address) {
    let mut chain = Chain::funded(1);
    let mut k = Sender::new(&chain.keys[0]);
    let address = deploy(&mut chain, &mut k, &[fixture])[0];
    (chain, k, address)
}

pub fn deploy(chain: &mut Chain, sender: &mut Sender, fixtures: &[Fixture]) -> Vec<Address> {
    let (txs, addresses): (Vec<_>, Vec<_>) = fixtures
        .iter()
        .map(|f| sender.create(f.init_code(), U256::ZERO, 6_000_000))
        .unzip();
    let block = execute(chain, txs);
    assert_all(&block, TxStatus::Success);
    for (a, f) in addresses.iter().zip(fixtures) {
        assert!(
            after(chain, &block).account(a).expect("read").is_some(),
            "{f:?} deployed"
        );
    }
    chain.commit(block);
    addresses
}

/// Executes and commits `txs`, every one of which must succeed (setup steps, not proven).
pub fn run_ok(chain: &mut Chain, txs: Vec<Vec<u8>>) -> Vec<Receipt> {
    let block = execute(chain, txs);
    assert_all(&block, TxStatus::Success);
    let receipts = block.receipts().to_vec();
    chain.commit(block);
    receipts
}

/// The receipt of transaction `index`, which must have ended as `status`.
pub fn expect_status(block: &Executed, index: usize, status: TxStatus) -> &Receipt {
    let r = &block.receipts()[index];
    assert_eq!(r.status, status, "transaction {index}: {r:?}");
    r
}

/// Every transaction of `block` ended as `status`.
pub fn assert_all(block: &Executed, status: TxStatus) {
    for i in 0..block.receipts().len() {
        expect_status(block, i, status);
    }
}

/// Checks a proven case's size against the limit the chain accepts.
fn checked(case: ProvenCase) -> ProvenCase {
    assert!(
        case.proof_bytes < MAX_PROOF_BYTES,
        "the proof of transaction {} is {} bytes, over MAX_PROOF_BYTES {}",
        case.index,
        case.proof_bytes,
        MAX_PROOF_BYTES
    );
    case
}

/// [`Chain::prove_all`]: every transaction, both corruptions; panics with the failure.
pub fn prove_all(chain: &Chain, block: &Executed) -> Vec<ProvenCase> {
    match chain.prove_all(block) {
        Ok(cases) => cases.into_iter().map(checked).collect(),
        Err(e) => panic!("unprovable: {e}"),
    }
}

/// [`Chain::prove`] at `indices`, both corruptions; panics with the failure.
pub fn prove_at(chain: &Chain, block: &Executed, indices: &[usize]) -> Vec<ProvenCase> {
    let mut cases = Vec::new();
    for &index in indices {
        for corruption in [
            Corruption::Root,
            Corruption::Value {
                pick: index as u64 + 1,
            },
        ] {
            match chain.prove(block, index, corruption) {
                Ok(case) => cases.push(checked(case)),
                Err(e) => panic!("unprovable ({} corruption): {e}", corruption.name()),
            }
        }
    }
    cases
}

/// The largest proof of `cases`, in bytes.
pub fn largest(cases: &[ProvenCase]) -> usize {
    cases.iter().map(|c| c.proof_bytes).max().unwrap_or(0)
}

/// The state after `block` (not yet committed).
pub fn after<'a>(chain: &'a Chain, block: &'a Executed) -> Overlay<'a, MemoryState> {
    Overlay {
        base: &chain.state,
        writes: &block.out.writes,
    }
}

/// An account of `state` (`None`: absent).
pub fn account(state: &impl StateReader, address: Address) -> Option<AccountValue> {
    state.account(&address).expect("state read")
}

/// The balance of an account of `state` (zero when absent).
pub fn balance(state: &impl StateReader, address: Address) -> U256 {
    account(state, address).map_or(U256::ZERO, |a| a.balance)
}

/// A raw storage slot of `state`.
pub fn slot(state: &impl StateReader, address: Address, slot: U256) -> U256 {
    state.storage(&address, &slot).expect("state read")
}

/// The code of an account of `state` (empty when none).
pub fn code_of(state: &impl StateReader, address: Address) -> Bytes {
    match account(state, address) {
        Some(a) if a.code_hash != keccak256([]) => state
            .code(&a.code_hash)
            .expect("state read")
            .expect("code of an account is stored"),
        _ => Bytes::new(),
    }
}

/// The output of a read-only call of `to` over `state` (an ABI getter), which must succeed.
pub fn view(chain: &Chain, state: &impl StateReader, to: Address, input: Vec<u8>) -> Bytes {
    let height = chain.next_height();
    let context = BlockContext {
        height,
        hash: B256::repeat_byte(0x11),
        parent_hash: B256::from(chain.block_hash(height - 1).unwrap_or_default()),
        timestamp: 1_700_000_000 + height,
        beneficiary: FEE_RECIPIENT,
        base_fee: lazychain_fraud_harness::BASE_FEE,
    };
    let request = CallRequest {
        to: Some(to),
        input: Bytes::from(input),
        ..Default::default()
    };
    match lazychain_exec_stf::call(&chain.params, &context, &request, state).expect("view runs") {
        CallOutcome::Success { output, .. } => output,
        other => panic!("view of {to} failed: {other:?}"),
    }
}

/// [`view`] of an ABI function.
pub fn getter(
    chain: &Chain,
    state: &impl StateReader,
    to: Address,
    signature: &str,
    args: &[Arg],
) -> Bytes {
    view(chain, state, to, call(signature, args))
}

/// Word `i` of ABI output.
pub fn word(out: &[u8], i: usize) -> U256 {
    U256::from_be_slice(&out[32 * i..32 * (i + 1)])
}

/// Word `i` of ABI output as an address.
pub fn address_word(out: &[u8], i: usize) -> Address {
    Address::from_slice(&out[32 * i + 12..32 * (i + 1)])
}

/// Word `i` of ABI output as bytes32.
pub fn b256_word(out: &[u8], i: usize) -> B256 {
    B256::from_slice(&out[32 * i..32 * (i + 1)])
}

/// Call data of `Storage.set(slot, value)`.
pub fn storage_set(slot: u64, value: u64) -> Vec<u8> {
    call("set(uint256,uint256)", &[Arg::uint(slot), Arg::uint(value)])
}

/// One `CodeReader` record, `records(index)`: what the reader saw of an account (the
/// record's tailHash and farHash are not read).
pub struct CodeRecord {
    pub account: Address,
    pub size: U256,
    pub codehash: B256,
    pub copy_hash: B256,
    pub balance: U256,
}

/// `records(index)` of the `CodeReader` at `reader`.
pub fn code_record(
    chain: &Chain,
    state: &impl StateReader,
    reader: Address,
    index: u64,
) -> CodeRecord {
    let out = getter(
        chain,
        state,
        reader,
        "records(uint256)",
        &[Arg::uint(index)],
    );
    CodeRecord {
        account: address_word(&out, 0),
        size: word(&out, 1),
        codehash: b256_word(&out, 2),
        copy_hash: b256_word(&out, 3),
        balance: word(&out, 6),
    }
}

/// A uint getter with no arguments.
pub fn uint_getter(chain: &Chain, state: &impl StateReader, to: Address, signature: &str) -> U256 {
    word(&getter(chain, state, to, signature, &[]), 0)
}

/// Addresses nobody has used: `n` of them from `tag`.
pub fn fresh_addresses(tag: &str, n: usize) -> Vec<Address> {
    (0..n)
        .map(|i| Address::from_slice(&keccak256(format!("fresh {tag} {i}"))[12..]))
        .collect()
}

/// `value` wei as U256.
pub fn wei(value: u128) -> U256 {
    U256::from(value)
}
