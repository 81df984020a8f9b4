// SPDX-License-Identifier: MIT
pragma solidity ^0.8.31;

/// @title Opcodes
/// @notice Catch-all opcode fixture for fraud-proof coverage tests and differential fuzzing:
///         arithmetic/bitwise/comparison/shift (incl. CLZ, so this contract is compiled for
///         Osaka), KECCAK256 and memory, execution environment, block information, the call
///         family, failures (REVERT, INVALID, out of gas, stack and call depth) and hand-built
///         bytecode for what Solidity cannot emit (PC, explicit JUMP/JUMPI, every PUSHn, DUPn
///         and SWAPn, undefined opcodes, bad jumps, stack underflow/overflow).
/// @dev    Every successful function folds its results into a digest stored in
///         `digestOf[selector]`, so a wrong execution changes the state root. Values that are
///         not comparable between runs are never stored: GAS only as `gas() > 0`.
contract Opcodes {
    /// @notice Last digest per function, keyed by the function's selector (`msg.sig`).
    mapping(bytes4 => bytes32) public digestOf;
    /// @notice Number of digests written.
    uint256 public digests;

    /// @notice What `marker` saw in the frame that last ran it (CALL, CALLCODE, DELEGATECALL).
    address public markerSender;
    uint256 public markerValue;
    address public markerSelf;
    uint256 public markerTag;

    /// @notice Outcome bitmask of the last `calls()`: bit i set = step i succeeded (see `calls`).
    uint256 public callResults;

    /// @notice `deepRevert` observations of the last caught revert.
    bytes32 public lastRevertHash;
    uint256 public lastRevertLength;
    /// @notice Written by `writeThenRevert` (always rolled back: stays 0).
    uint256 public scratch;

    /// @notice `stackDepth` / `callDepth` results.
    uint256 public lastStackDepth;
    uint256 public lastCallDepth;

    /// @notice `rawExec` / `rawFailure` results (the last deployed code and its call outcome).
    address public lastRawCode;
    bool public lastRawOk;
    uint256 public lastRawLength;
    bytes32 public lastRawHash;

    /// @notice Hand-built runtime deployed by the constructor; see `stackOpsProgram`.
    address public immutable stackOpsImpl;

    /// @notice Gas for sub-calls that are expected to halt exceptionally (they burn all of it).
    uint256 public constant CAPPED_GAS = 100_000;

    event Digest(bytes4 indexed selector, bytes32 digest);

    constructor() {
        stackOpsImpl = _deploy(stackOpsProgram());
        require(stackOpsImpl != address(0), "Opcodes: stackOps deploy failed");
    }

    // ---------------------------------------------------------------------------------------
    // Arithmetic, comparison, bitwise, shifts
    // ---------------------------------------------------------------------------------------

    /// @notice Exercises ADD MUL SUB DIV SDIV MOD SMOD ADDMOD MULMOD EXP SIGNEXTEND LT GT SLT SGT
    ///         EQ ISZERO AND OR XOR NOT BYTE SHL SHR SAR CLZ on raw 256-bit words (no Solidity
    ///         checks: division by zero gives 0, shifts >= 256 give 0 / all ones, ...).
    ///         Results, in that order: add(a,b) mul(a,b) sub(a,b) div(a,b) sdiv(a,b) mod(a,b)
    ///         smod(a,b) addmod(a,b,c) mulmod(a,b,c) exp(a,b) signextend(b,a) lt(a,b) gt(a,b)
    ///         slt(a,b) sgt(a,b) eq(a,b) iszero(a) and(a,b) or(a,b) xor(a,b) not(a) byte(b,a)
    ///         shl(b,a) shr(b,a) sar(b,a) clz(a). Stores keccak256 of the 26 words.
    function arith(uint256 a, uint256 b, uint256 c) external returns (uint256[26] memory r, bytes32 d) {
        r = _arith(a, b, c);
        d = keccak256(abi.encode(r));
        _store(d);
    }

    /// @notice `arith` over a fixed table of edge cases (0, 1, 2**255, 2**256 - 1, -1 / min-int
    ///         SDIV overflow, division and modulo by zero, EXP 0**0 and large exponents, shift and
    ///         byte index >= 256 / >= 32, SIGNEXTEND index 0/30/31/32, CLZ of 0 and 1); stores a
    ///         digest over all results. Takes no input, so any two runs must agree.
    function arithEdges() external returns (bytes32 d) {
        uint256 m = type(uint256).max;
        uint256 h = 1 << 255;
        uint256[3][12] memory t = [
            [uint256(0), 0, 0],
            [uint256(1), 0, 0],
            [m, 1, 2],
            [h, m, 3], // SDIV(-2**255, -1) overflows to -2**255
            [m, m, m],
            [h, 255, 256],
            [uint256(0x80), 0, 7],
            [uint256(0x7f), 30, 1],
            [uint256(0xff00000000000000000000000000000000000000000000000000000000000001), 31, h],
            [uint256(3), 257, 11],
            [uint256(0xdeadbeef), 32, 0],
            [uint256(2), 255, m]
        ];
        for (uint256 i = 0; i < t.length; ++i) {
            d = keccak256(abi.encode(d, _arith(t[i][0], t[i][1], t[i][2])));
        }
        _store(d);
    }

    function _arith(uint256 a, uint256 b, uint256 c) private pure returns (uint256[26] memory r) {
        assembly ("memory-safe") {
            mstore(r, add(a, b))
            mstore(add(r, 0x20), mul(a, b))
            mstore(add(r, 0x40), sub(a, b))
            mstore(add(r, 0x60), div(a, b))
            mstore(add(r, 0x80), sdiv(a, b))
            mstore(add(r, 0xa0), mod(a, b))
            mstore(add(r, 0xc0), smod(a, b))
            mstore(add(r, 0xe0), addmod(a, b, c))
            mstore(add(r, 0x100), mulmod(a, b, c))
            mstore(add(r, 0x120), exp(a, b))
            mstore(add(r, 0x140), signextend(b, a))
            mstore(add(r, 0x160), lt(a, b))
            mstore(add(r, 0x180), gt(a, b))
            mstore(add(r, 0x1a0), slt(a, b))
            mstore(add(r, 0x1c0), sgt(a, b))
            mstore(add(r, 0x1e0), eq(a, b))
            mstore(add(r, 0x200), iszero(a))
            mstore(add(r, 0x220), and(a, b))
            mstore(add(r, 0x240), or(a, b))
            mstore(add(r, 0x260), xor(a, b))
            mstore(add(r, 0x280), not(a))
            mstore(add(r, 0x2a0), byte(b, a))
            mstore(add(r, 0x2c0), shl(b, a))
            mstore(add(r, 0x2e0), shr(b, a))
            mstore(add(r, 0x300), sar(b, a))
            mstore(add(r, 0x320), clz(a))
        }
    }

    // ---------------------------------------------------------------------------------------
    // KECCAK256 and memory
    // ---------------------------------------------------------------------------------------

    /// @notice Exercises KECCAK256 over memory: of `data` (copied from calldata), of zero bytes at
    ///         a far offset (no memory expansion), and of 100 never-written (zero) bytes that
    ///         expand memory. Stores keccak256 of the three hashes.
    function keccak(bytes calldata data) external returns (bytes32 d) {
        bytes32 h1 = keccak256(data);
        bytes32 h2;
        bytes32 h3;
        assembly ("memory-safe") {
            h2 := keccak256(0x100000, 0)
            let p := mload(0x40)
            h3 := keccak256(add(p, 0x20), 100)
        }
        d = keccak256(abi.encode(h1, h2, h3));
        _store(d);
    }

    /// @notice Exercises MSTORE, MSTORE8, MLOAD at an unaligned offset, MCOPY (forward and
    ///         backward overlapping copies, and a zero-length copy at a huge offset, which must
    ///         not expand memory or run out of gas) and memory expansion by a far MSTORE.
    ///         Stores the digest. (MSIZE is in `stackOps`: solc rejects `msize()` in inline
    ///         assembly when the Yul optimizer is on.)
    function memoryOps(uint256 x) external returns (bytes32 d) {
        assembly ("memory-safe") {
            let p := mload(0x40)
            mstore(p, x)
            mstore(add(p, 0x20), not(x))
            mstore8(add(p, 0x05), 0xab)
            let unaligned := mload(add(p, 0x03))
            mcopy(add(p, 0x08), p, 0x30) // forward, overlapping
            let f := mload(add(p, 0x08))
            mcopy(p, add(p, 0x10), 0x30) // backward, overlapping
            let g := mload(p)
            mcopy(0xffffffffffffffff, 0xffffffffffffffff, 0) // zero length: no expansion
            mstore(add(p, 0x400), x) // expands memory by 1 KiB
            let q := add(p, 0x200)
            mstore(q, unaligned)
            mstore(add(q, 0x20), f)
            mstore(add(q, 0x40), g)
            mstore(add(q, 0x60), mload(add(p, 0x400)))
            d := keccak256(q, 0x80)
        }
        _store(d);
    }

    // ---------------------------------------------------------------------------------------
    // Execution environment
    // ---------------------------------------------------------------------------------------

    /// @notice Exercises ADDRESS BALANCE ORIGIN CALLER CALLVALUE CALLDATALOAD (at 0, 4, the last
    ///         byte and far past the end) CALLDATASIZE CALLDATACOPY CODESIZE CODECOPY (keccak of
    ///         own code == EXTCODEHASH(this)) GASPRICE RETURNDATASIZE (0 before any call, then
    ///         after a STATICCALL to the identity precompile: r[16] = ok << 8 | 40) RETURNDATACOPY
    ///         SELFBALANCE CHAINID BASEFEE BLOBBASEFEE BLOBHASH(0) BLOBHASH(1) GAS (only
    ///         `gas() > 0`) MCOPY.
    ///         Returns the 26 words and stores their keccak256. `data` only varies the calldata.
    function env(bytes calldata data) external payable returns (uint256[26] memory r, bytes32 d) {
        data; // only here to make CALLDATASIZE / CALLDATACOPY caller-controlled
        assembly ("memory-safe") {
            mstore(r, returndatasize()) // before any call in this frame: 0
            mstore(add(r, 0x20), address())
            mstore(add(r, 0x40), balance(address()))
            mstore(add(r, 0x60), origin())
            mstore(add(r, 0x80), caller())
            mstore(add(r, 0xa0), callvalue())
            mstore(add(r, 0xc0), calldataload(0))
            mstore(add(r, 0xe0), calldataload(4))
            mstore(add(r, 0x100), calldataload(sub(calldatasize(), 1)))
            mstore(add(r, 0x120), calldataload(not(0)))
            mstore(add(r, 0x140), calldatasize())
            let p := mload(0x40)
            calldatacopy(p, 0, calldatasize())
            mstore(add(r, 0x160), keccak256(p, calldatasize()))
            mstore(add(r, 0x180), codesize())
            codecopy(p, 0, codesize())
            let ch := keccak256(p, codesize())
            mstore(add(r, 0x1a0), ch)
            mstore(add(r, 0x1c0), eq(ch, extcodehash(address())))
            mstore(add(r, 0x1e0), gasprice())
            // STATICCALL identity (0x04) with the first 40 bytes of the code copy; read it back.
            let ok := staticcall(gas(), 0x04, p, 40, 0, 0)
            mstore(add(r, 0x200), add(shl(8, ok), returndatasize()))
            returndatacopy(p, 0, returndatasize())
            mstore(add(r, 0x220), keccak256(p, returndatasize()))
            mstore(add(r, 0x240), selfbalance())
            mstore(add(r, 0x260), chainid())
            mstore(add(r, 0x280), basefee())
            mstore(add(r, 0x2a0), blobbasefee())
            mstore(add(r, 0x2c0), blobhash(0))
            mstore(add(r, 0x2e0), blobhash(1))
            mstore(add(r, 0x300), gt(gas(), 0))
            // MCOPY the first two result words to scratch memory and hash them.
            mcopy(add(p, 0x40), r, 0x40)
            mstore(add(r, 0x320), keccak256(add(p, 0x40), 0x40))
        }
        d = keccak256(abi.encode(r));
        _store(d);
    }

    /// @notice Exercises BLOCKHASH of number-1, number-2, number-300 (out of the 256-block
    ///         window: 0), of the current block (0) and of block 0 (nonzero only while
    ///         number <= 256), COINBASE TIMESTAMP NUMBER PREVRANDAO GASLIMIT. Returns the 10
    ///         words and stores their keccak256.
    function blockInfo() external returns (uint256[10] memory r, bytes32 d) {
        assembly ("memory-safe") {
            let n := number()
            mstore(r, blockhash(sub(n, 1)))
            mstore(add(r, 0x20), blockhash(sub(n, 2)))
            mstore(add(r, 0x40), blockhash(sub(n, 300))) // wraps below 300: still out of range
            mstore(add(r, 0x60), blockhash(n))
            mstore(add(r, 0x80), blockhash(0))
            mstore(add(r, 0xa0), coinbase())
            mstore(add(r, 0xc0), timestamp())
            mstore(add(r, 0xe0), n)
            mstore(add(r, 0x100), prevrandao())
            mstore(add(r, 0x120), gaslimit())
        }
        d = keccak256(abi.encode(r));
        _store(d);
    }

    // ---------------------------------------------------------------------------------------
    // Calls
    // ---------------------------------------------------------------------------------------

    /// @notice Records the frame it runs in (CALLER, CALLVALUE, ADDRESS) and `tag`. Called by
    ///         `calls` through CALL, CALLCODE and DELEGATECALL; fails under STATICCALL.
    function marker(uint256 tag) external payable {
        markerSender = msg.sender;
        markerValue = msg.value;
        markerSelf = address(this);
        markerTag = tag;
    }

    /// @notice A view for the STATICCALL in `calls`: returns a hash of the marker fields.
    function peek() external view returns (bytes32) {
        return keccak256(abi.encode(markerSender, markerValue, markerSelf, markerTag, address(this).balance));
    }

    /// @notice Exercises the call family against this contract (each step folds success flag
    ///         and the marker fields into the digest; bit i of `callResults` = step i ok):
    ///         0 CALL with value `msg.value` to `marker(1)`     (sender = this, value moves to self)
    ///         1 CALLCODE with value `msg.value` to `marker(2)` (sender = this, own storage)
    ///         2 DELEGATECALL to `marker(3)`                    (sender = caller, value = msg.value)
    ///         3 STATICCALL to `peek()`                         (ok)
    ///         4 STATICCALL to `marker(5)`                      (SSTORE in static context: fails)
    ///         5..11 STATICCALL to `staticViolation(0..6)`      (all fail: SSTORE LOG0 CALL-with-
    ///           value TSTORE CREATE CREATE2 SELFDESTRUCT are forbidden in a static context)
    ///         Steps 4..11 get CAPPED_GAS each (an exceptional halt burns it).
    function calls() external payable returns (bytes32 d) {
        uint256 v = msg.value;
        uint256 bits;
        bool ok;
        bytes memory ret;

        (ok, ) = address(this).call{value: v}(abi.encodeCall(this.marker, (1)));
        (d, bits) = _fold(d, bits, 0, ok);

        bytes memory data = abi.encodeCall(this.marker, (2));
        assembly ("memory-safe") {
            ok := callcode(gas(), address(), v, add(data, 0x20), mload(data), 0, 0)
        }
        (d, bits) = _fold(d, bits, 1, ok);

        (ok, ) = address(this).delegatecall(abi.encodeCall(this.marker, (3)));
        (d, bits) = _fold(d, bits, 2, ok);

        (ok, ret) = address(this).staticcall(abi.encodeCall(this.peek, ()));
        d = keccak256(abi.encode(d, ret));
        (d, bits) = _fold(d, bits, 3, ok);

        (ok, ) = address(this).staticcall{gas: CAPPED_GAS}(abi.encodeCall(this.marker, (5)));
        (d, bits) = _fold(d, bits, 4, ok);

        for (uint8 k = 0; k < 7; ++k) {
            (ok, ) = address(this).staticcall{gas: CAPPED_GAS}(abi.encodeCall(this.staticViolation, (k)));
            (d, bits) = _fold(d, bits, 5 + k, ok);
        }
        callResults = bits;
        _store(d);
    }

    /// @notice One state-changing operation per `kind`: 0 SSTORE, 1 LOG0, 2 CALL with 1 wei to
    ///         itself, 3 TSTORE, 4 CREATE (empty init code), 5 CREATE2 (empty init code, salt 0),
    ///         6 SELFDESTRUCT to itself (pre-existing contract: nothing moves). Meant to be
    ///         STATICCALLed (where each is an exceptional halt); a plain call really does it.
    function staticViolation(uint8 kind) external {
        require(kind < 7, "Opcodes: kind");
        assembly {
            switch kind
            case 0 { sstore(not(0), 1) }
            case 1 { log0(0, 0) }
            case 2 { pop(call(gas(), address(), 1, 0, 0, 0, 0)) }
            case 3 { tstore(0, 1) }
            case 4 { pop(create(0, 0, 0)) }
            case 5 { pop(create2(0, 0, 0, 0)) }
            default { selfdestruct(address()) }
        }
    }

    function _fold(bytes32 d, uint256 bits, uint256 step, bool ok) private view returns (bytes32, uint256) {
        if (ok) bits |= 1 << step;
        return (keccak256(abi.encode(d, step, ok, markerSender, markerValue, markerSelf, markerTag)), bits);
    }

    // ---------------------------------------------------------------------------------------
    // Failures
    // ---------------------------------------------------------------------------------------

    /// @notice Exercises REVERT with an `Error(string)` payload: always reverts with `reason`.
    function revertWith(string calldata reason) external pure {
        revert(reason);
    }

    /// @notice Exercises the designated INVALID opcode (0xfe): exceptional halt, all gas used.
    function invalid() external pure {
        assembly {
            invalid()
        }
    }

    /// @notice Exercises running out of gas: writes a storage slot (rolled back) and then loops
    ///         forever, so the transaction fails having used its whole gas limit.
    function outOfGas() external {
        scratch = 1;
        assembly {
            for {} 1 {} {}
        }
    }

    /// @notice Writes `scratch` and then reverts with "Opcodes: deep" (used by `deepRevert`).
    function writeThenRevert() external {
        scratch = 42;
        revert("Opcodes: deep");
    }

    /// @notice Calls `writeThenRevert` and re-throws its revert data unchanged (REVERT with
    ///         RETURNDATACOPY'd data; used by `deepRevert`).
    function rethrow() external {
        (bool ok, ) = address(this).call(abi.encodeCall(this.writeThenRevert, ()));
        if (!ok) {
            assembly ("memory-safe") {
                let p := mload(0x40)
                returndatacopy(p, 0, returndatasize())
                revert(p, returndatasize())
            }
        }
    }

    /// @notice Divides by `x` with Solidity checks (x = 0: reverts with Panic(0x12)).
    function divide(uint256 x) external pure returns (uint256) {
        return 1 / x;
    }

    /// @notice Exercises reverts in inner frames caught by the outer one; stores a digest of
    ///         each caught payload (and `lastRevertHash` / `lastRevertLength` of the last one):
    ///         1. `writeThenRevert` (Error(string), its SSTORE is undone: `scratch` stays 0);
    ///         2. `rethrow` -> `writeThenRevert` (same payload bubbled up through two frames);
    ///         3. `divide(0)` (Panic(uint256) with code 0x12);
    ///         4. `invalid()` with CAPPED_GAS (exceptional halt: empty payload);
    ///         5. `revertWith("")` (Error("") payload: 4 + 32 + 32 = 68 bytes).
    function deepRevert() external returns (bytes32 d) {
        bytes[5] memory payloads;
        (, payloads[0]) = address(this).call(abi.encodeCall(this.writeThenRevert, ()));
        (, payloads[1]) = address(this).call(abi.encodeCall(this.rethrow, ()));
        (, payloads[2]) = address(this).call(abi.encodeCall(this.divide, (0)));
        (, payloads[3]) = address(this).call{gas: CAPPED_GAS}(abi.encodeCall(this.invalid, ()));
        (, payloads[4]) = address(this).call(abi.encodeCall(this.revertWith, ("")));
        for (uint256 i = 0; i < payloads.length; ++i) {
            d = keccak256(abi.encode(d, keccak256(payloads[i]), payloads[i].length));
        }
        d = keccak256(abi.encode(d, scratch));
        lastRevertHash = keccak256(payloads[4]);
        lastRevertLength = payloads[4].length;
        _store(d);
    }

    /// @notice Exercises EVM operand-stack growth: recursion `n` levels deep through an internal
    ///         function (JUMP-based, a few stack slots per level). Large `n` overflows the
    ///         1024-slot stack: an exceptional halt that fails the transaction (see README.md for
    ///         the measured limit). Stores the computed depth.
    function stackDepth(uint256 n) external returns (uint256 depth) {
        depth = _recurse(n);
        lastStackDepth = depth;
        _store(bytes32(depth));
    }

    function _recurse(uint256 n) private pure returns (uint256) {
        if (n == 0) return 0;
        return _recurse(n - 1) + 1;
    }

    /// @notice Exercises call depth: calls itself `n` levels deep (CALL per level). A level whose
    ///         inner call fails (out of gas under the 63/64 rule, or the 1024 call-depth limit)
    ///         stops there; returns the depth actually reached. The outermost frame (caller is
    ///         not this contract) stores it in `lastCallDepth`.
    function callDepth(uint256 n) external returns (uint256 reached) {
        if (n > 0) {
            try this.callDepth(n - 1) returns (uint256 r) {
                reached = r + 1;
            } catch {}
        }
        if (msg.sender != address(this)) {
            lastCallDepth = reached;
            _store(bytes32(reached));
        }
    }

    // ---------------------------------------------------------------------------------------
    // Hand-built bytecode
    // ---------------------------------------------------------------------------------------

    /// @notice The runtime deployed at `stackOpsImpl`, built here so it stays readable:
    ///         PC POP; PUSH1..PUSH32 (PUSHn pushes n bytes, byte j = 8n + j + 1); DUP1..DUP16;
    ///         SWAP1..SWAP16; 47 binary ops cycling ADD XOR SUB MUL that fold the 48 stack items
    ///         into one; PC ADD MSIZE ADD; PUSH2 a JUMP INVALID a: JUMPDEST; PUSH1 1 PUSH2 b JUMPI
    ///         INVALID b: JUMPDEST; PUSH0 PUSH2 0xffff JUMPI (not taken: the bad target is never
    ///         checked);
    ///         PUSH0 MSTORE MSIZE PUSH0 RETURN (returns the 32-byte result).
    function stackOpsProgram() public pure returns (bytes memory code) {
        code = new bytes(1024);
        uint256 p = 0;
        p = _put(code, p, 0x58); // PC
        p = _put(code, p, 0x50); // POP
        for (uint256 n = 1; n <= 32; ++n) {
            p = _put(code, p, 0x5f + n); // PUSHn
            for (uint256 j = 0; j < n; ++j) p = _put(code, p, 8 * n + j + 1);
        }
        for (uint256 n = 0; n < 16; ++n) p = _put(code, p, 0x80 + n); // DUP1..DUP16
        for (uint256 n = 0; n < 16; ++n) p = _put(code, p, 0x90 + n); // SWAP1..SWAP16
        uint8[4] memory folds = [0x01, 0x18, 0x03, 0x02]; // ADD XOR SUB MUL
        for (uint256 i = 0; i < 47; ++i) p = _put(code, p, folds[i % 4]);
        p = _put(code, p, 0x58); // PC
        p = _put(code, p, 0x01); // ADD
        p = _put(code, p, 0x59); // MSIZE (0: no memory touched yet)
        p = _put(code, p, 0x01); // ADD
        p = _put(code, p, 0x61); // PUSH2 a
        p = _put(code, p, (p + 4) >> 8);
        p = _put(code, p, (p + 3) & 0xff);
        p = _put(code, p, 0x56); // JUMP
        p = _put(code, p, 0xfe); // INVALID (skipped)
        p = _put(code, p, 0x5b); // a: JUMPDEST
        p = _put(code, p, 0x60); // PUSH1 1
        p = _put(code, p, 0x01);
        p = _put(code, p, 0x61); // PUSH2 b
        p = _put(code, p, (p + 4) >> 8);
        p = _put(code, p, (p + 3) & 0xff);
        p = _put(code, p, 0x57); // JUMPI (taken)
        p = _put(code, p, 0xfe); // INVALID (skipped)
        p = _put(code, p, 0x5b); // b: JUMPDEST
        p = _put(code, p, 0x5f); // PUSH0
        p = _put(code, p, 0x61); // PUSH2 0xffff
        p = _put(code, p, 0xff);
        p = _put(code, p, 0xff);
        p = _put(code, p, 0x57); // JUMPI (not taken)
        p = _put(code, p, 0x5f); // PUSH0
        p = _put(code, p, 0x52); // MSTORE
        p = _put(code, p, 0x59); // MSIZE
        p = _put(code, p, 0x5f); // PUSH0
        p = _put(code, p, 0xf3); // RETURN
        assembly ("memory-safe") {
            mstore(code, p) // shrink to the bytes written
        }
    }

    function _put(bytes memory code, uint256 p, uint256 b) private pure returns (uint256) {
        code[p] = bytes1(uint8(b));
        return p + 1;
    }

    /// @notice Exercises PC, MSIZE, explicit JUMP/JUMPI/JUMPDEST, PUSH1..PUSH32, DUP1..DUP16
    ///         and SWAP1..SWAP16 by calling `stackOpsImpl` (see `stackOpsProgram`); stores the
    ///         32-byte result it returns.
    function stackOps() external returns (bytes32 d) {
        (bool ok, bytes memory out) = stackOpsImpl.staticcall("");
        require(ok && out.length == 32, "Opcodes: stackOps failed");
        d = bytes32(out);
        _store(d);
    }

    /// @notice Deploys `code` as a contract's runtime (behind the 10-byte init-code prefix
    ///         described at `_deploy`), CALLs it with `input` and `msg.value` and records
    ///         the deployed address, success flag and keccak256 / length of the output. A failed
    ///         deployment (e.g. code starting with 0xEF, EIP-3541) records address 0 and ok =
    ///         false. Lets a fuzzer run arbitrary bytecode. Never reverts. Note that a failed
    ///         deployment (like any failed CREATE other than a REVERT) burns all the gas CREATE was
    ///         given, i.e. 63/64 of what is left.
    function rawExec(bytes calldata code, bytes calldata input)
        external
        payable
        returns (address deployed, bool ok, bytes memory out)
    {
        return _rawExec(code, input, gasleft());
    }

    /// @notice Exceptional halts Solidity cannot produce, each in freshly deployed code run with
    ///         CAPPED_GAS (the call must fail, except kinds 6 and 7):
    ///         0 `0c`            undefined opcode
    ///         1 `600356fe`      JUMP to a byte that is not a JUMPDEST
    ///         2 `600456605b00`  JUMP into PUSH data (a 0x5b byte inside PUSH1's immediate)
    ///         3 `50`            POP on an empty stack (stack underflow)
    ///         4 `5b5f600056`    a loop that PUSHes forever (stack overflow at 1025 items)
    ///         5 `60015f5f3e`    RETURNDATACOPY past RETURNDATASIZE
    ///         6 `5f60ff5700`    JUMPI with a zero condition never checks its target: success
    ///         7 `00`            STOP: success with empty output
    ///         8 `fe`            the designated INVALID opcode
    function rawFailure(uint8 kind) external returns (address deployed, bool ok, bytes memory out) {
        bytes[9] memory programs = [
            bytes(hex"0c"),
            hex"600356fe",
            hex"600456605b00",
            hex"50",
            hex"5b5f600056",
            hex"60015f5f3e",
            hex"5f60ff5700",
            hex"00",
            hex"fe"
        ];
        require(kind < programs.length, "Opcodes: kind");
        return _rawExec(programs[kind], "", CAPPED_GAS);
    }

    function _rawExec(bytes memory code, bytes memory input, uint256 gasLimit)
        private
        returns (address deployed, bool ok, bytes memory out)
    {
        deployed = _deploy(code);
        if (deployed != address(0)) {
            (ok, out) = deployed.call{value: msg.value, gas: gasLimit}(input);
        }
        lastRawCode = deployed;
        lastRawOk = ok;
        lastRawLength = out.length;
        lastRawHash = keccak256(out);
        _store(keccak256(abi.encode(deployed, ok, out)));
    }

    /// @dev CREATE of `runtime` behind the 10-byte init code
    ///      PUSH2 len DUP1 PUSH1 0x0a PUSH0 CODECOPY PUSH0 RETURN  (61 LLLL 80 600a 5f 39 5f f3),
    ///      which copies the runtime (starting at offset 0x0a) to memory 0 and returns it.
    ///      Returns 0 if the creation failed.
    function _deploy(bytes memory runtime) private returns (address a) {
        require(runtime.length <= 0xffff, "Opcodes: code too long");
        bytes memory init = abi.encodePacked(hex"61", uint16(runtime.length), hex"80600a5f395ff3", runtime);
        assembly ("memory-safe") {
            a := create(0, add(init, 0x20), mload(init))
        }
    }

    function _store(bytes32 d) private {
        digestOf[msg.sig] = d;
        ++digests;
        emit Digest(msg.sig, d);
    }

    /// @notice Accepts plain ether.
    receive() external payable {}
}
