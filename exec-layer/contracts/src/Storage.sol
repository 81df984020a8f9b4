// SPDX-License-Identifier: MIT
pragma solidity ^0.8.29;

/// @title Storage
/// @notice Storage, transient-storage, log and many-accounts fixture.
/// @dev    `set`, `clear`, `reset`, `resetVia`, `many` and `get` address raw storage slots chosen
///         by the caller. The contract's own bookkeeping variables live at 2**255 and above
///         (`layout at`), so raw slots below 2**255 never collide with them.
contract Storage layout at 2 ** 255 {
    /// @notice TLOAD before / after the last `transientWrite(k, _)` of this key, and TLOAD
    ///         after the last `transientRevert(k, _)`.
    mapping(uint256 => uint256) public tBefore;
    mapping(uint256 => uint256) public tAfter;
    mapping(uint256 => uint256) public tAfterRevert;
    /// @notice Number of `logs` calls that completed (`logsReverted` does not count).
    uint256 public logCalls;
    /// @notice `fanout`: share sent to each recipient in the last call, and number of
    ///         recipients whose CALL failed (those shares stay here).
    uint256 public lastShare;
    uint256 public fanoutFailures;
    /// @notice `touchMany`: running digest over (address, BALANCE, EXTCODEHASH) and count.
    bytes32 public touchDigest;
    uint256 public touchCount;

    event Fanout(uint256 recipients, uint256 share);

    /// @notice Exercises SSTORE of any value (0 -> x, x -> y, x -> 0) at raw slot `slot`.
    function set(uint256 slot, uint256 value) external {
        assembly ("memory-safe") {
            sstore(slot, value)
        }
    }

    /// @notice Exercises SSTORE x -> 0 (the refund path) at raw slot `slot`.
    function clear(uint256 slot) external {
        assembly ("memory-safe") {
            sstore(slot, 0)
        }
    }

    /// @notice Exercises the EIP-2200/3529 "restore original value" path: sets raw slot `slot`
    ///         to a nonzero value different from its current one (current + 1, or 1 if that
    ///         wraps to 0) and then back to the original, in one call: net no change.
    function reset(uint256 slot) external {
        uint256 orig;
        assembly ("memory-safe") {
            orig := sload(slot)
        }
        uint256 tmp;
        unchecked {
            tmp = orig + 1;
        }
        if (tmp == 0) tmp = 1;
        _resetVia(slot, tmp, orig);
    }

    /// @notice Like `reset`, but through the caller's intermediate value `tmp` (0 allowed: then a
    ///         nonzero slot goes x -> 0 -> x, adding and removing a refund).
    function resetVia(uint256 slot, uint256 tmp) external {
        uint256 orig;
        assembly ("memory-safe") {
            orig := sload(slot)
        }
        _resetVia(slot, tmp, orig);
    }

    function _resetVia(uint256 slot, uint256 tmp, uint256 orig) private {
        assembly ("memory-safe") {
            sstore(slot, tmp)
            sstore(slot, orig)
        }
    }

    /// @notice Exercises many SSTOREs: writes `value` to raw slots `start .. start + count - 1`
    ///         (wrapping modulo 2**256). `value = 0` clears them.
    function many(uint256 start, uint256 count, uint256 value) external {
        assembly ("memory-safe") {
            for { let i := 0 } lt(i, count) { i := add(i, 1) } {
                sstore(add(start, i), value)
            }
        }
    }

    /// @notice SLOAD of raw slot `slot`.
    function get(uint256 slot) external view returns (uint256 value) {
        assembly ("memory-safe") {
            value := sload(slot)
        }
    }

    /// @notice Exercises TLOAD/TSTORE (EIP-1153): reads transient key `k`, writes `v`, reads it
    ///         back, and stores both reads in `tBefore[k]` / `tAfter[k]`. Transient storage is
    ///         cleared at the end of every transaction, so a call in a new transaction always
    ///         records `tBefore[k] == 0`.
    function transientWrite(uint256 k, uint256 v) public returns (uint256 before, uint256 afterwards) {
        assembly ("memory-safe") {
            before := tload(k)
            tstore(k, v)
            afterwards := tload(k)
        }
        tBefore[k] = before;
        tAfter[k] = afterwards;
    }

    /// @notice Transient storage persists across calls within one transaction: calls
    ///         `this.transientWrite(k, v)` and then `this.transientWrite(k, v + 1)`, so the
    ///         second call records `tBefore[k] == v` and `tAfter[k] == v + 1` (wrapping).
    function transientTwice(uint256 k, uint256 v) external {
        this.transientWrite(k, v);
        unchecked {
            this.transientWrite(k, v + 1);
        }
    }

    /// @notice Transient writes are undone by a revert: TSTOREs `v` at key `k`, then a sub-call
    ///         TSTOREs `v + 1` and reverts; the TLOAD afterwards (stored in `tAfterRevert[k]`)
    ///         is `v` again.
    function transientRevert(uint256 k, uint256 v) external {
        assembly ("memory-safe") {
            tstore(k, v)
        }
        uint256 x;
        unchecked {
            x = v + 1;
        }
        try this.tstoreThenRevert(k, x) {} catch {}
        uint256 seen;
        assembly ("memory-safe") {
            seen := tload(k)
        }
        tAfterRevert[k] = seen;
    }

    /// @notice TSTOREs `v` at key `k` and then always reverts (used by `transientRevert`).
    function tstoreThenRevert(uint256 k, uint256 v) external {
        assembly ("memory-safe") {
            tstore(k, v)
        }
        revert("Storage: tstoreThenRevert");
    }

    /// @notice Exercises LOG0..LOG4, each with data `abi.encode(a, b)` (64 bytes), plus a LOG2
    ///         with empty data. Topics: LOG1 [a], LOG2 [a, b], LOG3 [a, b, a ^ b],
    ///         LOG4 [a, b, a ^ b, keccak256(a, b)], the empty-data LOG2 [b, a].
    function logs(bytes32 a, bytes32 b) public {
        _logs(a, b);
        ++logCalls;
    }

    /// @notice Logs of a reverted frame are dropped: calls `this.logsThenRevert(a, b)` and
    ///         catches the revert, so the receipt has no logs from it.
    function logsReverted(bytes32 a, bytes32 b) external {
        try this.logsThenRevert(a, b) {} catch {}
    }

    /// @notice Emits the same logs as `logs` and then reverts (used by `logsReverted`).
    function logsThenRevert(bytes32 a, bytes32 b) external {
        _logs(a, b);
        revert("Storage: logsThenRevert");
    }

    function _logs(bytes32 a, bytes32 b) private {
        assembly ("memory-safe") {
            let p := mload(0x40)
            mstore(p, a)
            mstore(add(p, 0x20), b)
            let x := xor(a, b)
            let h := keccak256(p, 0x40)
            log0(p, 0x40)
            log1(p, 0x40, a)
            log2(p, 0x40, a, b)
            log3(p, 0x40, a, b, x)
            log4(p, 0x40, a, b, x, h)
            log2(p, 0, b, a)
        }
    }

    /// @notice Exercises CALL with value to many accounts (creating those that do not exist):
    ///         sends `msg.value / to.length` wei to each address with a plain CALL carrying no
    ///         gas beyond the 2300 stipend. Failed sends are counted in `fanoutFailures`; the
    ///         remainder and failed shares stay in this contract. A share of 0 creates nothing
    ///         (EIP-161).
    function fanout(address[] calldata to) external payable {
        uint256 n = to.length;
        require(n > 0, "Storage: no recipients");
        uint256 share = msg.value / n;
        uint256 failures;
        for (uint256 i = 0; i < n; ++i) {
            (bool ok, ) = payable(to[i]).call{value: share, gas: 0}("");
            if (!ok) ++failures;
        }
        lastShare = share;
        fanoutFailures += failures;
        emit Fanout(n, share);
    }

    /// @notice Exercises BALANCE and EXTCODEHASH of many (cold) accounts without creating any:
    ///         folds (address, balance, codehash) into `touchDigest` and adds to `touchCount`.
    function touchMany(address[] calldata a) external {
        bytes32 d = touchDigest;
        for (uint256 i = 0; i < a.length; ++i) {
            address x = a[i];
            d = keccak256(abi.encode(d, x, x.balance, x.codehash));
        }
        touchDigest = d;
        touchCount += a.length;
    }

    /// @notice Accepts plain ether.
    receive() external payable {}
}
