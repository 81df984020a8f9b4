// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {Child} from "./Child.sol";

/// @title DyingChild
/// @notice A contract whose constructor SELFDESTRUCTs, so it never has runtime code.
/// @dev    Created and destroyed in the same transaction, so EIP-6780 deletes the account at the
///         end of the transaction. `to == address(0)` means "this contract itself": its balance
///         is then burnt (EIP-6780: same-transaction contract naming itself as beneficiary).
contract DyingChild {
    constructor(address payable to) payable {
        selfdestruct(to == address(0) ? payable(address(this)) : to);
    }
}

/// @title RevertingChild
/// @notice Init code that REVERTs with a reason, so CREATE returns the zero address and leaves
///         the revert data in the return-data buffer.
contract RevertingChild {
    constructor() {
        revert("RevertingChild: constructor reverts");
    }
}

/// @title NestedChild
/// @notice A contract whose constructor deploys another NestedChild, `depth` levels deep
///         (contracts deploying contracts).
/// @dev    A Solidity contract cannot name itself in `new`, so the constructor CODECOPYs its own
///         init code (while a constructor runs, CODESIZE/CODECOPY see the init code followed by
///         the ABI-encoded constructor argument), rewrites the trailing 32-byte argument to
///         `depth - 1` and runs CREATE on it.
contract NestedChild {
    /// @notice Remaining depth this child was created with (0 = leaf).
    uint256 public depth;
    /// @notice The NestedChild this one created (zero for the leaf).
    address public child;

    constructor(uint256 d) {
        depth = d;
        if (d > 0) {
            address c;
            assembly ("memory-safe") {
                let size := codesize() // init code + 32-byte argument
                let p := mload(0x40)
                codecopy(p, 0, size)
                mstore(add(p, sub(size, 32)), sub(d, 1))
                c := create(0, p, size)
            }
            require(c != address(0), "NestedChild: create failed");
            child = c;
        }
    }
}

/// @title Factory
/// @notice Contract-creation fixture: CREATE, CREATE2, create-and-destroy in one transaction
///         (EIP-6780), nested creation, and creations that fail without reverting the caller.
///         Every function records the addresses it produced in storage.
contract Factory {
    /// @notice Upper bound for `create(n, _)`: each unit deploys two children.
    uint256 public constant MAX_CREATE = 64;
    /// @notice Upper bound for `nested(depth)`.
    uint256 public constant MAX_DEPTH = 8;
    /// @notice Gas given to the sub-call that attempts a failing creation (an address collision
    ///         or an exceptional halt in init code burns all the gas handed to it).
    uint256 public constant CAPPED_GAS = 200_000;

    /// @notice Every child deployed by `create`, in order: CREATE child, CREATE2 child, ...
    address[] public children;

    /// @notice `createAndDestroy` / `createAndBurn` results.
    address public lastDestroyed; // CREATE2 child destroyed in the same transaction
    uint256 public codeSizeAfterDestroy; // its EXTCODESIZE right after SELFDESTRUCT (same tx)
    uint256 public balanceAfterDestroy; // its BALANCE right after SELFDESTRUCT (same tx)
    address public lastDying; // DyingChild (constructor self-destructs)
    uint256 public dyingCodeSize; // EXTCODESIZE of the DyingChild (0: it returned no code)

    /// @notice `nested` results.
    address public nestedTop;
    address public nestedLeaf;
    uint256 public nestedCount;

    /// @notice `createFailing` results (zero address on failure).
    uint256 public failCalls;
    address public revertedCreate; // CREATE with reverting init code: always 0
    uint256 public revertedDataSize; // RETURNDATASIZE after that CREATE (the revert payload)
    bytes32 public revertedDataHash; // keccak256 of that payload (RETURNDATACOPY)
    address public create2First; // first CREATE2 with a fresh salt: nonzero
    address public create2Collision; // same salt and init code again: 0
    bool public collisionCallOk; // the capped sub-call itself returned normally
    address public efCreate; // init code returning code that starts with 0xEF (EIP-3541): 0
    bool public efCallOk;

    /// @notice Last `rawCreate` / `rawCreate2` result.
    address public lastRaw;

    event Created(address indexed child, bool create2);

    /// @notice Exercises CREATE and CREATE2 (with init code carrying a constructor argument):
    ///         deploys `n` Child contracts with CREATE (values 1..n) and `n` with CREATE2 (salt
    ///         `keccak256(salt, i)`, value = that derived salt), appends them to `children` and
    ///         emits `Created` for each. Calling twice with the same `salt` reverts: the CREATE2
    ///         address collides (which burns the 63/64 of the gas that CREATE2 was given).
    function create(uint256 n, bytes32 salt) external {
        require(n <= MAX_CREATE, "Factory: n too large");
        for (uint256 i = 0; i < n; ++i) {
            Child a = new Child(i + 1);
            bytes32 s = keccak256(abi.encode(salt, i));
            Child b = new Child{salt: s}(uint256(s));
            children.push(address(a));
            children.push(address(b));
            emit Created(address(a), false);
            emit Created(address(b), true);
        }
    }

    /// @notice Number of entries in `children`.
    function childrenCount() external view returns (uint256) {
        return children.length;
    }

    /// @notice The CREATE2 address `new Child{salt: salt}(v)` would get from this factory
    ///         (KECCAK256 over 0xff ++ factory ++ salt ++ keccak256(init code)).
    function predictChild(bytes32 salt, uint256 v) public view returns (address) {
        bytes32 initHash = keccak256(abi.encodePacked(type(Child).creationCode, abi.encode(v)));
        return address(uint160(uint256(keccak256(abi.encodePacked(bytes1(0xff), address(this), salt, initHash)))));
    }

    /// @notice Exercises create-and-destroy in one transaction (EIP-6780: the accounts really
    ///         are deleted at the end of the transaction):
    ///         1. CREATE2 a Child (salt `salt`, value `msg.value / 2`), call its `destroy` with
    ///            `msg.sender` as beneficiary, then record its EXTCODESIZE and BALANCE, which
    ///            within the transaction are still the code size and 0;
    ///         2. CREATE a DyingChild with the rest of `msg.value`; its constructor
    ///            self-destructs to this factory, so it has no code and the ether comes back.
    ///         The same `salt` can be used again in a later transaction (the account is gone).
    function createAndDestroy(bytes32 salt) external payable {
        uint256 half = msg.value / 2;
        Child c = new Child{salt: salt, value: half}(uint256(salt));
        c.destroy(payable(msg.sender));
        lastDestroyed = address(c);
        codeSizeAfterDestroy = address(c).code.length;
        balanceAfterDestroy = address(c).balance;

        DyingChild d = new DyingChild{value: msg.value - half}(payable(address(this)));
        lastDying = address(d);
        dyingCodeSize = address(d).code.length;
    }

    /// @notice Exercises SELFDESTRUCT with the contract itself as beneficiary in the transaction
    ///         that created it: a DyingChild is created with CREATE2 (`salt`) and all of
    ///         `msg.value`, and names itself as beneficiary, so the ether is burnt.
    function createAndBurn(bytes32 salt) external payable {
        DyingChild d = new DyingChild{salt: salt, value: msg.value}(payable(address(0)));
        lastDying = address(d);
        dyingCodeSize = address(d).code.length;
    }

    /// @notice Exercises contracts deploying contracts: CREATEs a NestedChild that creates
    ///         another one, `depth` levels deep (`depth + 1` contracts in all), then walks the
    ///         chain with STATICCALLs to `child()` and records top, leaf and count.
    function nested(uint256 depth) external {
        require(depth <= MAX_DEPTH, "Factory: depth too large");
        NestedChild top = new NestedChild(depth);
        address cur = address(top);
        address leaf;
        uint256 count;
        while (cur != address(0)) {
            leaf = cur;
            ++count;
            cur = NestedChild(cur).child();
        }
        nestedTop = address(top);
        nestedLeaf = leaf;
        nestedCount = count;
    }

    /// @notice Exercises creations that fail without reverting this call:
    ///         1. CREATE with init code that REVERTs -> address 0; RETURNDATASIZE/RETURNDATACOPY
    ///            then see the constructor's revert payload (`Error(string)`);
    ///         2. CREATE2 of a Child with a fresh salt (derived from a call counter) -> nonzero;
    ///         3. CREATE2 again with the same salt and init code -> address collision -> 0
    ///            (done in a sub-call capped at CAPPED_GAS, because a collision burns all the
    ///            gas passed to CREATE2);
    ///         4. CREATE of init code that returns the single byte 0xEF -> rejected by EIP-3541
    ///            -> 0 (also in a capped sub-call).
    ///         All four addresses and the sub-call outcomes are stored.
    function createFailing() external {
        uint256 n = ++failCalls;

        bytes memory reverting = type(RevertingChild).creationCode;
        address a;
        uint256 rsize;
        bytes32 rhash;
        assembly ("memory-safe") {
            a := create(0, add(reverting, 32), mload(reverting))
            rsize := returndatasize()
            let p := mload(0x40)
            returndatacopy(p, 0, rsize)
            rhash := keccak256(p, rsize)
        }
        revertedCreate = a;
        revertedDataSize = rsize;
        revertedDataHash = rhash;

        bytes32 salt = keccak256(abi.encode("Factory.createFailing", n));
        bytes memory init = abi.encodePacked(type(Child).creationCode, abi.encode(n));
        create2First = tryCreate2(salt, init);

        (collisionCallOk, create2Collision) = _capped(abi.encodeCall(this.tryCreate2, (salt, init)));

        // PUSH1 0xef PUSH1 0 MSTORE8 PUSH1 1 PUSH1 0 RETURN: deploys the one-byte code 0xef.
        (efCallOk, efCreate) = _capped(abi.encodeCall(this.tryCreate, (hex"60ef60005360016000f3")));
    }

    /// @notice Exercises CREATE with arbitrary init code and `msg.value`; never reverts:
    ///         returns (and stores in `lastRaw`) the new address, or 0 if the creation failed.
    function rawCreate(bytes memory initCode) external payable returns (address a) {
        a = tryCreate(initCode);
        lastRaw = a;
    }

    /// @notice Exercises CREATE2 with arbitrary init code, `salt` and `msg.value`; never reverts:
    ///         returns (and stores in `lastRaw`) the new address, or 0 if the creation failed.
    function rawCreate2(bytes32 salt, bytes memory initCode) external payable returns (address a) {
        a = tryCreate2(salt, initCode);
        lastRaw = a;
    }

    /// @notice CREATE without writing storage (what `createFailing` calls with capped gas, where
    ///         a failed creation leaves only 1/64 of CAPPED_GAS): returns the address or 0.
    function tryCreate(bytes memory initCode) public payable returns (address a) {
        assembly ("memory-safe") {
            a := create(callvalue(), add(initCode, 32), mload(initCode))
        }
    }

    /// @notice CREATE2 without writing storage (see `tryCreate`): returns the address or 0.
    function tryCreate2(bytes32 salt, bytes memory initCode) public payable returns (address a) {
        assembly ("memory-safe") {
            a := create2(callvalue(), add(initCode, 32), mload(initCode), salt)
        }
    }

    /// @dev Calls this contract with at most CAPPED_GAS gas and decodes an address result.
    function _capped(bytes memory data) private returns (bool ok, address a) {
        bytes memory ret;
        (ok, ret) = address(this).call{gas: CAPPED_GAS}(data);
        if (ok && ret.length == 32) a = abi.decode(ret, (address));
    }

    /// @notice Accepts the ether that DyingChild / Child.destroy send back.
    receive() external payable {}
}
