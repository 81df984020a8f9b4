//! EIP-7702 end to end: a set-code (type 4) transaction signed as a wallet signs it, sent
//! through an executor's `eth_sendRawTransaction`, ordered by a validator and executed: the
//! authority's code becomes the delegation designator, calls to it run the delegate's code on
//! its own storage, and the executor serves the transaction with its authorization list.

mod common;

use alloy_consensus::{SignableTransaction, TxEip7702};
use alloy_eips::eip2718::Encodable2718;
use alloy_eips::eip2930::AccessList;
use alloy_eips::eip7702::Authorization;
use alloy_primitives::{Address, Bytes, U256};
use common::*;
use jsonrpsee::rpc_params;
use lazychain_test_utils::net::quantity_u256;
use secp256k1::SecretKey;
use serde_json::{json, Value};

const GWEI: u128 = 1_000_000_000;

/// The delegate's runtime: `SSTORE(calldata[0..32], calldata[32..64])`, then stop.
const DELEGATE_RUNTIME: [u8; 8] = [0x60, 0x20, 0x35, 0x60, 0x00, 0x35, 0x55, 0x00];

/// Init code returning [`DELEGATE_RUNTIME`]: `PUSH8 runtime, MSTORE at 0, RETURN(24, 8)`.
fn delegate_init_code() -> Vec<u8> {
    let mut code = vec![0x67];
    code.extend_from_slice(&DELEGATE_RUNTIME);
    code.extend_from_slice(&[0x60, 0x00, 0x52, 0x60, 0x08, 0x60, 0x18, 0xf3]);
    code
}

/// Call data making the delegate write `value` to `slot`.
fn store(slot: u64, value: u64) -> Vec<u8> {
    [
        U256::from(slot).to_be_bytes::<32>(),
        U256::from(value).to_be_bytes::<32>(),
    ]
    .concat()
}

fn u256(v: &Value) -> U256 {
    quantity_u256(v).unwrap_or_else(|| panic!("not a quantity: {v}"))
}

async fn storage_at(net: &TestNet, node: usize, address: Address, slot: u64) -> U256 {
    let value = net
        .call(
            node,
            "eth_getStorageAt",
            rpc_params![address.to_string(), format!("0x{slot:x}"), "latest"],
        )
        .await
        .expect("storage");
    let hex = value.as_str().expect("hex string");
    U256::from_str_radix(hex.trim_start_matches("0x"), 16).expect("hex word")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_set_code_transaction_delegates_an_account_end_to_end() {
    let net = TestNet::start_full(1, 0, 1);
    let executor = 1;
    let sponsor_key = dev_account_key(0);
    let sponsor = address_of(&sponsor_key);
    // The authority holds nothing: the sponsor pays for its delegation.
    let authority_key = SecretKey::from_byte_array([0x77; 32]).expect("secret key");
    let authority = address_of(&authority_key);
    // The executor serves once it has executed a block.
    net.wait_on(executor, "the executor executing", || async {
        let status = net
            .call(executor, "lazy_status", rpc_params![])
            .await
            .ok()?;
        (status["executedHeight"].as_u64().unwrap_or(0) >= 1).then_some(())
    })
    .await;

    let receipt = send_and_wait(
        &net,
        executor,
        sign_tx(
            &sponsor_key,
            0,
            None,
            0,
            200_000,
            2 * GWEI,
            delegate_init_code(),
        ),
    )
    .await;
    assert_eq!(receipt["status"], "0x1", "{receipt}");
    let delegate: Address = receipt["contractAddress"]
        .as_str()
        .expect("contract address")
        .parse()
        .expect("address");

    // What `signAuthorization` produces: the authority signs keccak(0x05 || rlp([chain id,
    // delegate, nonce])).
    let authorization = Authorization {
        chain_id: U256::from(CHAIN_ID),
        address: delegate,
        nonce: 0,
    };
    let signature = lazychain_test_utils::signature(&authority_key, authorization.signature_hash());
    let signed = authorization.into_signed(signature);

    // A wallet estimates with the authorization list: the call then runs the delegate (a new
    // slot), which a plain call to the empty account would not.
    let call = json!({
        "from": sponsor.to_string(),
        "to": authority.to_string(),
        "data": hex0x(&store(1, 0x2a)),
        "authorizationList": [{
            "chainId": format!("0x{CHAIN_ID:x}"),
            "address": delegate.to_string(),
            "nonce": "0x0",
            "yParity": format!("0x{:x}", signed.y_parity()),
            "r": format!("0x{:x}", signed.r()),
            "s": format!("0x{:x}", signed.s()),
        }],
    });
    let estimate = net
        .call(executor, "eth_estimateGas", rpc_params![call])
        .await
        .expect("estimate");
    let estimate = u256(&estimate).to::<u64>();
    assert!(estimate > 21_000 + 25_000 + 20_000, "{estimate}");

    let set_code = TxEip7702 {
        chain_id: CHAIN_ID,
        nonce: 1,
        gas_limit: estimate,
        max_fee_per_gas: 2 * GWEI,
        max_priority_fee_per_gas: GWEI,
        to: authority,
        value: U256::ZERO,
        access_list: AccessList::default(),
        authorization_list: vec![signed],
        input: Bytes::from(store(1, 0x2a)),
    };
    let signature = lazychain_test_utils::signature(&sponsor_key, set_code.signature_hash());
    let raw = set_code.into_signed(signature).encoded_2718();
    assert_eq!(raw[0], 0x04);
    let receipt = send_and_wait(&net, executor, raw).await;
    assert_eq!(receipt["status"], "0x1", "{receipt}");
    assert_eq!(receipt["type"], "0x4", "{receipt}");
    assert_eq!(
        receipt["from"].as_str().map(str::to_lowercase),
        Some(sponsor.to_string().to_lowercase())
    );

    // The designator is the authority's code; the authorization used its nonce 0.
    let code = net
        .call(
            executor,
            "eth_getCode",
            rpc_params![authority.to_string(), "latest"],
        )
        .await
        .expect("code");
    let designator = format!("0xef0100{}", hex::encode(delegate.as_slice()));
    assert_eq!(code, Value::from(designator));
    let nonce = net
        .call(
            executor,
            "eth_getTransactionCount",
            rpc_params![authority.to_string(), "latest"],
        )
        .await
        .expect("nonce");
    assert_eq!(u256(&nonce), U256::from(1));
    // The call in the same transaction already ran the delegate on the authority's storage.
    assert_eq!(
        storage_at(&net, executor, authority, 1).await,
        U256::from(0x2a)
    );

    // The transaction as served: type 4 with its authorization list.
    let hash = receipt["transactionHash"].as_str().expect("hash");
    let tx = net
        .call(executor, "eth_getTransactionByHash", rpc_params![hash])
        .await
        .expect("transaction");
    assert_eq!(tx["type"], "0x4", "{tx}");
    let list = tx["authorizationList"]
        .as_array()
        .expect("authorizationList");
    assert_eq!(list.len(), 1, "{tx}");
    assert_eq!(
        list[0]["address"].as_str().map(str::to_lowercase),
        Some(delegate.to_string().to_lowercase())
    );
    assert_eq!(u256(&list[0]["nonce"]), U256::ZERO);
    assert_eq!(u256(&list[0]["chainId"]), U256::from(CHAIN_ID));

    // A plain call to the delegated account runs the delegate's code on its storage.
    let receipt = send_and_wait(
        &net,
        executor,
        sign_tx(
            &sponsor_key,
            2,
            Some(authority),
            0,
            100_000,
            2 * GWEI,
            store(2, 7),
        ),
    )
    .await;
    assert_eq!(receipt["status"], "0x1", "{receipt}");
    assert_eq!(
        storage_at(&net, executor, authority, 2).await,
        U256::from(7)
    );
    assert_eq!(
        storage_at(&net, executor, delegate, 2).await,
        U256::ZERO,
        "the delegate's own storage is untouched"
    );
}
