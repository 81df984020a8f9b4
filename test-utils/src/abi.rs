//! Solidity ABI call data for the token fixture (`exec-layer/contracts/`): selectors, address
//! words, `transfer` and `balanceOf`.

use alloy_primitives::{keccak256, Address, B256, U256};

/// The 4-byte selector of a function signature such as `"transfer(address,uint256)"`.
pub fn selector(signature: &str) -> [u8; 4] {
    let h = keccak256(signature.as_bytes());
    [h[0], h[1], h[2], h[3]]
}

/// An address as a 32-byte ABI word (left-padded with zeros).
pub fn word_address(a: Address) -> [u8; 32] {
    B256::left_padding_from(a.as_slice()).0
}

/// Call data of ERC-20 `transfer(to, amount)`.
pub fn erc20_transfer(to: Address, amount: u64) -> Vec<u8> {
    let mut input = selector("transfer(address,uint256)").to_vec();
    input.extend_from_slice(&word_address(to));
    input.extend_from_slice(&U256::from(amount).to_be_bytes::<32>());
    input
}

/// Call data of ERC-20 `balanceOf(who)`.
pub fn balance_of_call(who: Address) -> Vec<u8> {
    let mut input = selector("balanceOf(address)").to_vec();
    input.extend_from_slice(&word_address(who));
    input
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_selectors_and_layout() {
        assert_eq!(
            selector("transfer(address,uint256)"),
            [0xa9, 0x05, 0x9c, 0xbb]
        );
        assert_eq!(selector("balanceOf(address)"), [0x70, 0xa0, 0x82, 0x31]);
        let to = Address::repeat_byte(0x42);
        let data = erc20_transfer(to, 5);
        assert_eq!(data.len(), 4 + 32 + 32);
        assert_eq!(&data[4..16], &[0u8; 12]);
        assert_eq!(&data[16..36], to.as_slice());
        assert_eq!(data[67], 5);
        assert_eq!(balance_of_call(to).len(), 36);
    }
}
