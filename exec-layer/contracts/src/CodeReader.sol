// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {Child} from "./Child.sol";

/// @notice The part of CodeReader that ProbeChild calls back into.
interface ICodeReader {
    function read(address a) external returns (uint256 index);
}

/// @title ProbeChild
/// @notice Asks the CodeReader that creates it to read ProbeChild's own address while the
///         constructor is still running: the account then exists (nonce 1) but has no code yet,
///         so EXTCODESIZE is 0 and EXTCODEHASH is keccak256("") (not 0).
contract ProbeChild {
    constructor() {
        ICodeReader(msg.sender).read(address(this));
    }

    /// @notice Gives ProbeChild a runtime, so a read after construction sees nonzero code.
    function ping() external pure returns (uint256) {
        return 1;
    }
}

/// @title CodeReader
/// @notice Account-inspection fixture: EXTCODESIZE, EXTCODEHASH, EXTCODECOPY and BALANCE of any
///         address (contract, EOA, empty or nonexistent account, precompile, EIP-7702-delegated
///         EOA, account created or destroyed earlier in the same transaction). Each read is
///         appended to `records`, so a wrong answer changes the state root.
contract CodeReader {
    /// @notice One observation of an account.
    struct Info {
        address account;
        uint256 size; // EXTCODESIZE
        bytes32 codehash; // EXTCODEHASH (0 for a nonexistent/empty account)
        bytes32 copyHash; // keccak256(EXTCODECOPY(a, 0, size)): keccak256("") for no code
        bytes32 tailHash; // keccak256 of the 64 bytes EXTCODECOPY'd from max(size - 16, 0)
        bytes32 farHash; // keccak256 of 32 bytes EXTCODECOPY'd from offset 2**256 - 1 (zeros)
        uint256 balance; // BALANCE
    }

    /// @notice Every read, in order.
    Info[] public records;
    /// @notice 1 + index into `records` of the latest read of an address (0: never read).
    mapping(address => uint256) public lastRecord;

    /// @notice Addresses used by `readFresh`.
    address public freshChild; // created in readFresh, read after creation
    address public freshDestroyed; // created and destroyed in readFresh, then read
    address public freshProbe; // ProbeChild, read during and after its construction

    /// @notice Exercises EXTCODESIZE, EXTCODEHASH, EXTCODECOPY (whole code, a window that runs
    ///         16 bytes past the end of the code, and a window at offset 2**256 - 1) and BALANCE
    ///         of `a`; appends the result to `records`. Returns the record index.
    function read(address a) public returns (uint256 index) {
        Info memory r;
        r.account = a;
        uint256 size;
        bytes32 codehash;
        bytes32 copyHash;
        bytes32 tailHash;
        bytes32 farHash;
        uint256 bal;
        assembly ("memory-safe") {
            size := extcodesize(a)
            codehash := extcodehash(a)
            let p := mload(0x40)
            extcodecopy(a, p, 0, size)
            copyHash := keccak256(p, size)
            let off := 0
            if gt(size, 16) {
                off := sub(size, 16)
            }
            extcodecopy(a, p, off, 64)
            tailHash := keccak256(p, 64)
            extcodecopy(a, p, not(0), 32)
            farHash := keccak256(p, 32)
            bal := balance(a)
        }
        r.size = size;
        r.codehash = codehash;
        r.copyHash = copyHash;
        r.tailHash = tailHash;
        r.farHash = farHash;
        r.balance = bal;
        records.push(r);
        index = records.length - 1;
        lastRecord[a] = index + 1;
    }

    /// @notice Exercises reads of accounts created and destroyed earlier in the same
    ///         transaction. Appends, in order:
    ///         1. ProbeChild reading itself during its constructor (size 0, hash keccak256(""));
    ///         2. that ProbeChild after construction (its runtime code);
    ///         3. a Child CREATEd in this call (value 7, `msg.value / 2` wei);
    ///         4. a Child CREATEd (value 8, the rest of `msg.value`) and then SELFDESTRUCTed to
    ///            this contract in this call: still has code and 0 balance until the transaction
    ///            ends, when EIP-6780 deletes it (read it again later with `read`).
    function readFresh() external payable {
        ProbeChild p = new ProbeChild();
        freshProbe = address(p);
        read(address(p));

        uint256 half = msg.value / 2;
        Child c = new Child{value: half}(7);
        freshChild = address(c);
        read(address(c));

        Child d = new Child{value: msg.value - half}(8);
        d.destroy(payable(address(this)));
        freshDestroyed = address(d);
        read(address(d));
    }

    /// @notice Number of entries in `records`.
    function recordsCount() external view returns (uint256) {
        return records.length;
    }

    /// @notice Accepts the ether of destroyed children.
    receive() external payable {}
}
