//! Deterministic, publicly known Ethereum accounts for local networks and tests.
//!
//! They come from the well-known development mnemonic [`DEV_MNEMONIC`] (the one of Hardhat,
//! Foundry's anvil and Ganache) at the standard path `m/44'/60'/0'/0/{index}`, so wallets and
//! tools that know those accounts work unchanged. Their private keys are public: never fund
//! them on a network that matters.

use alloy_primitives::{address, bytes, uint, Address, Bytes, B256, U256};
use alloy_signer_local::{coins_bip39::English, MnemonicBuilder};

use crate::genesis::{DEFAULT_BASE_FEE_PER_GAS, DEFAULT_HARDFORK};
use crate::{ExecutionGenesis, GenesisAccount};

/// The development mnemonic. Everyone knows it; the accounts it derives are for local
/// networks only.
pub const DEV_MNEMONIC: &str = "test test test test test test test test test test test junk";

/// The balance `lazychain init` and `localnet` give each dev account: 10 000 ETH, in wei.
pub const DEV_ACCOUNT_BALANCE_WEI: U256 = uint!(10_000_000_000_000_000_000_000_U256);

/// How many dev accounts `lazychain init` and `localnet` fund.
pub const DEV_ACCOUNT_COUNT: usize = 10;

/// The deterministic CREATE2 deployer (Arachnid's "deterministic deployment proxy"), at the
/// address it has on nearly every EVM chain: `forge script` and other tools deploy through it
/// to get the same contract addresses everywhere.
pub const CREATE2_DEPLOYER: Address = address!("0x4e59b44847b379578588920ca78fbf26c0b4956c");

/// Its runtime code (public chain data): calldata is `salt (32 bytes) ‖ init code`; it
/// CREATE2s the init code with the call's value and returns the new address (20 bytes), or
/// reverts if the creation fails.
pub const CREATE2_DEPLOYER_CODE: Bytes = bytes!(
    "7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe03601600081602082378035828234f58015156039578182fd5b8082525050506014600cf3"
);

/// One account derived from [`DEV_MNEMONIC`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DevAccount {
    /// The last component of the derivation path `m/44'/60'/0'/0/{index}`.
    pub index: u32,
    /// The account's address.
    pub address: Address,
    /// The secp256k1 private key.
    pub private_key: B256,
}

/// The first `count` accounts of [`DEV_MNEMONIC`] with BIP-39 passphrase `""` when `seed` is
/// 0 (the accounts anvil and Hardhat print, `0xf39F…2266` first) and the decimal string of
/// `seed` otherwise, so that local networks with different seeds get different accounts.
///
/// Indices start at 0. BIP-32 says to skip an index whose key is invalid (probability about
/// 2^-127 each) and go on with the next: such an index is left out, and each account carries
/// its index. Indices stop below the BIP-32 hardened range (2^31).
pub fn dev_accounts(seed: u64, count: usize) -> Vec<DevAccount> {
    let passphrase = if seed == 0 {
        String::new()
    } else {
        seed.to_string()
    };
    // The parent key m/44'/60'/0'/0 once: the BIP-39 seed (2048 PBKDF2 rounds) is the slow
    // part, and the children are cheap.
    let Ok(parent) = MnemonicBuilder::<English>::default()
        .phrase(DEV_MNEMONIC)
        .password(passphrase)
        .build_parent_key()
    else {
        // Unreachable: the phrase and the path are valid constants and any passphrase is
        // allowed. No accounts is the only answer that is not wrong.
        return Vec::new();
    };
    (0..1u32 << 31)
        .filter_map(|index| {
            let signer = parent.child(index).ok()?.signer();
            Some(DevAccount {
                index,
                address: signer.address(),
                private_key: signer.to_bytes(),
            })
        })
        .take(count)
        .collect()
}

/// The execution section of a development chain: hardfork osaka, a base fee of 1 gwei, a
/// trace entry after every transaction, the first [`DEV_ACCOUNT_COUNT`] dev accounts of
/// `seed` (see [`dev_accounts`]) with [`DEV_ACCOUNT_BALANCE_WEI`] each, then the
/// [`CREATE2_DEPLOYER`].
pub fn dev_execution(seed: u64) -> ExecutionGenesis {
    let mut alloc: Vec<GenesisAccount> = dev_accounts(seed, DEV_ACCOUNT_COUNT)
        .into_iter()
        .map(|a| GenesisAccount {
            address: a.address,
            balance: DEV_ACCOUNT_BALANCE_WEI,
            nonce: 0,
            code: Default::default(),
            storage: Vec::new(),
        })
        .collect();
    alloc.push(GenesisAccount {
        address: CREATE2_DEPLOYER,
        balance: U256::ZERO,
        // A contract's nonce starts at 1 (EIP-161).
        nonce: 1,
        code: CREATE2_DEPLOYER_CODE,
        storage: Vec::new(),
    });
    ExecutionGenesis {
        hardfork: DEFAULT_HARDFORK.to_owned(),
        base_fee_per_gas: DEFAULT_BASE_FEE_PER_GAS,
        trace_period: 1,
        alloc,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::{address, b256};

    #[test]
    fn seed_zero_gives_the_well_known_accounts() {
        let accounts = dev_accounts(0, 10);
        assert_eq!(accounts.len(), 10);
        assert_eq!(accounts[0].index, 0);
        assert_eq!(
            accounts[0].address,
            address!("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266")
        );
        assert_eq!(
            accounts[0].private_key,
            b256!("0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80")
        );
        assert_eq!(accounts[1].index, 1);
        assert_eq!(
            accounts[1].address,
            address!("0x70997970C51812dc3A010C7d01b50e0d17dc79C8")
        );
        assert_eq!(
            accounts[9].address,
            address!("0xa0Ee7A142d267C1f36714E4a8F75612F20a79720")
        );
    }

    #[test]
    fn seeds_give_different_deterministic_accounts() {
        let one = dev_accounts(1, 3);
        assert_eq!(one, dev_accounts(1, 3));
        assert_eq!(one.len(), 3);
        let zero = dev_accounts(0, 3);
        for (a, b) in one.iter().zip(&zero) {
            assert_ne!(a.address, b.address);
        }
        assert_ne!(one[0].address, dev_accounts(2, 1)[0].address);
        // A prefix of a longer list.
        assert_eq!(dev_accounts(0, 1)[..], zero[..1]);
        assert!(dev_accounts(0, 0).is_empty());
    }

    #[test]
    fn dev_genesis_holds_the_create2_deployer_after_the_accounts() {
        let alloc = dev_execution(0).alloc;
        assert_eq!(alloc.len(), DEV_ACCOUNT_COUNT + 1);
        let deployer = &alloc[DEV_ACCOUNT_COUNT];
        assert_eq!(deployer.address, CREATE2_DEPLOYER);
        assert_eq!(deployer.code.len(), 69);
        assert!(deployer.storage.is_empty());
    }

    #[test]
    fn balance_is_ten_thousand_ether() {
        let ether = U256::from(10u64).pow(U256::from(18u64));
        assert_eq!(DEV_ACCOUNT_BALANCE_WEI, U256::from(10_000u64) * ether);
    }
}
