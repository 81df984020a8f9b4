// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title Burner
/// @notice Compute-heavy fixture for exec-layer benchmarks. `burn(rounds)` runs `rounds`
///         iterations of keccak256 chaining mixed with some 256-bit arithmetic, stores the
///         result in a single storage slot and emits `Burned`.
/// @dev    Each round hashes a fixed 96-byte scratch buffer, so memory does not grow and gas
///         is linear in `rounds` (no quadratic memory-expansion term). See README.md for the
///         measured figures (burn(10000) costs a few million gas).
contract Burner {
    bytes32 public last;

    event Burned(uint256 rounds, bytes32 result);

    function burn(uint256 rounds) external returns (bytes32) {
        bytes32 h = keccak256(abi.encodePacked(msg.sender, rounds, last));
        uint256 acc = uint256(h);
        for (uint256 i = 0; i < rounds; ) {
            assembly ("memory-safe") {
                // Scratch space 0x00..0x3f plus the free-memory pointer slot would be clobbered by
                // a 96-byte write, so hash from the free memory area without bumping the pointer.
                let p := mload(0x40)
                mstore(p, h)
                mstore(add(p, 0x20), i)
                mstore(add(p, 0x40), acc)
                h := keccak256(p, 0x60)
            }
            unchecked {
                acc = acc * 6364136223846793005 + 1442695040888963407;
                acc ^= uint256(h) >> 7;
                acc = mulmod(acc, uint256(h) | 1, type(uint256).max);
                acc = addmod(acc, uint256(h) ^ i, 0xffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff61);
                ++i;
            }
        }
        h = keccak256(abi.encodePacked(h, acc));
        last = h;
        emit Burned(rounds, h);
        return h;
    }
}
