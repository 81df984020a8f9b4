// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title Precompiles
/// @notice Calls an arbitrary address (meant for the precompiles 0x01..0x11 and 0x100
///         P256VERIFY) with caller-chosen input and records the outcome in storage, so a wrong
///         precompile result changes the state root. Valid inputs for every Osaka precompile are
///         listed in README.md and build/precompile-inputs.json.
/// @dev    No function reverts when the callee fails: failure is recorded as `ok == false`.
contract Precompiles {
    /// @notice One recorded call.
    struct Result {
        address target;
        bool ok; // success flag of the CALL / STATICCALL
        uint8 kind; // 0 CALL, 1 STATICCALL, 2 CALL with explicit gas, 3 CALL with value
        uint64 outLength; // RETURNDATASIZE
        bytes32 outHash; // keccak256 of the output (RETURNDATACOPY)
    }

    /// @notice Number of calls recorded; `results[1..count]` are valid.
    uint256 public count;
    /// @notice Results keyed by the call counter (first call is 1).
    mapping(uint256 => Result) public results;

    event Called(uint256 indexed n, address indexed target, bool ok, uint256 outLength, bytes32 outHash);

    /// @notice Exercises CALL (no value, all gas) to `p` with `input`; records and returns the
    ///         success flag and output.
    function call(address p, bytes calldata input) external returns (bool ok, bytes memory out) {
        (ok, out) = p.call(input);
        _record(p, ok, 0, out);
    }

    /// @notice Exercises STATICCALL to `p` with `input`; records and returns the success flag and
    ///         output.
    function callStatic(address p, bytes calldata input) external returns (bool ok, bytes memory out) {
        (ok, out) = p.staticcall(input);
        _record(p, ok, 1, out);
    }

    /// @notice Exercises CALL with a caller-chosen gas limit (precompile out-of-gas: the call fails
    ///         and consumes that gas); records and returns the success flag and output.
    function callWithGas(address p, bytes calldata input, uint256 gasLimit)
        external
        returns (bool ok, bytes memory out)
    {
        (ok, out) = p.call{gas: gasLimit}(input);
        _record(p, ok, 2, out);
    }

    /// @notice Exercises CALL with value to `p` (a precompile account receives the ether, which
    ///         creates it in the state if it did not exist); records and returns the outcome.
    function callWithValue(address p, bytes calldata input) external payable returns (bool ok, bytes memory out) {
        (ok, out) = p.call{value: msg.value}(input);
        _record(p, ok, 3, out);
    }

    function _record(address p, bool ok, uint8 kind, bytes memory out) private {
        uint256 n = ++count;
        bytes32 h = keccak256(out);
        results[n] = Result({target: p, ok: ok, kind: kind, outLength: uint64(out.length), outHash: h});
        emit Called(n, p, ok, out.length, h);
    }
}
