// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title Child
/// @notice The small contract that `Factory` and `CodeReader` deploy. Its constructor stores a
///         value (and may receive ether); its runtime can return that value or SELFDESTRUCT.
/// @dev    Under EIP-6780 (Cancun and later) `destroy` deletes the account only when it runs in
///         the same transaction that created the child; otherwise only the balance moves and
///         code and storage stay.
contract Child {
    /// @notice The value passed to the constructor (storage slot 0).
    uint256 public value;

    /// @notice Exercises SSTORE in init code, CALLVALUE in a payable constructor and
    ///         constructor-argument decoding (CODESIZE/CODECOPY of the init code).
    constructor(uint256 v) payable {
        value = v;
    }

    /// @notice Exercises SELFDESTRUCT: sends the whole balance to `to` (which may be this
    ///         contract itself, or an account that does not exist yet).
    function destroy(address payable to) external {
        selfdestruct(to);
    }
}
