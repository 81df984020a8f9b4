// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title Destroyer
/// @notice SELFDESTRUCT of a contract that already existed before the transaction. Under
///         EIP-6780 (Cancun and later) that only moves the balance: code, storage and nonce
///         stay, and the contract keeps working afterwards.
/// @dev    Deploy it (optionally with value) in one transaction, then call `destroy` /
///         `destroySelfBeneficiary` in later transactions.
contract Destroyer {
    /// @notice Times `destroy` / `destroySelfBeneficiary` ran (written just before the
    ///         SELFDESTRUCT: the write survives, because the account is not deleted).
    uint256 public destroyCount;
    /// @notice Beneficiary of the last `destroy`.
    address public lastBeneficiary;

    constructor() payable {}

    /// @notice Exercises SELFDESTRUCT of a pre-existing contract to `to` (which may be an account
    ///         that does not exist yet: it is created with the balance). Only the balance moves.
    function destroy(address payable to) external {
        ++destroyCount;
        lastBeneficiary = to;
        selfdestruct(to);
    }

    /// @notice Exercises SELFDESTRUCT of a pre-existing contract naming itself as beneficiary:
    ///         nothing moves and the balance is kept (contrast `Factory.createAndBurn`, where
    ///         the same thing in the creating transaction burns the ether).
    function destroySelfBeneficiary() external {
        ++destroyCount;
        lastBeneficiary = address(this);
        selfdestruct(payable(address(this)));
    }

    /// @notice Still callable after a SELFDESTRUCT in an earlier transaction; returns
    ///         `destroyCount` and SELFBALANCE.
    function ping() external view returns (uint256 count, uint256 bal) {
        return (destroyCount, address(this).balance);
    }

    /// @notice Accepts ether (to refill the balance between destroys).
    receive() external payable {}
}
