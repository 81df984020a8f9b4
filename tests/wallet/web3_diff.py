#!/usr/bin/env python3
"""The differential wallet flow's web3.py side: the same kind of steps as diff_flow.mjs, every
answer recorded as web3.py returns it, printed as one JSON object (step -> answers).
tests/wallet_diff.rs runs it against an executor and against anvil and compares the records
field by field. A step that raises records {"threw": {type, message}} and the flow goes on.

Usage: python3 tests/wallet/web3_diff.py --rpc URL --key 0xKEY --token-json PATH [--timeout S]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from eth_account import Account
from hexbytes import HexBytes
from web3 import Web3
from web3.middleware import SignAndSendRawMiddlewareBuilder

BOB = Web3.to_checksum_address("0x00000000000000000000000000000000000b0b02")
DAVE = Web3.to_checksum_address("0x00000000000000000000000000000000000da402")


def plain(v):
    """JSON of what web3 returned: integers as decimal strings (balances exceed 2^53), bytes as
    hex, attribute dicts as dicts."""
    if isinstance(v, bool) or v is None:
        return v
    if isinstance(v, int):
        return str(v)
    if isinstance(v, (bytes, bytearray, HexBytes)):
        return "0x" + bytes(v).hex()
    if isinstance(v, dict) or hasattr(v, "items"):
        return {str(k): plain(x) for k, x in dict(v).items()}
    if isinstance(v, (list, tuple)):
        return [plain(x) for x in v]
    return v


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--rpc", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--token-json", required=True, type=Path)
    p.add_argument("--timeout", type=float, default=120)
    a = p.parse_args()

    w3 = Web3(Web3.HTTPProvider(a.rpc, request_kwargs={"timeout": max(10.0, a.timeout)}))
    acct = Account.from_key(a.key)
    w3.middleware_onion.inject(SignAndSendRawMiddlewareBuilder.build(acct), layer=0)
    w3.eth.default_account = acct.address
    artifact = json.loads(a.token_json.read_text())
    answers: dict = {}
    state: dict = {}

    def wait(tx_hash):
        return w3.eth.wait_for_transaction_receipt(tx_hash, timeout=a.timeout, poll_latency=0.1)

    def step(name, f):
        try:
            answers[name] = plain(f())
        except Exception as e:  # noqa: BLE001 - a difference is recorded, not raised
            answers[name] = {"threw": {"type": type(e).__name__, "message": str(e)}}

    def transfer():
        h = w3.eth.send_transaction({"to": BOB, "value": Web3.to_wei(1, "ether")})
        r = wait(h)
        state["transfer_block"] = r["blockNumber"]
        return {"receipt": r, "tx": w3.eth.get_transaction(h), "bob": w3.eth.get_balance(BOB)}

    def deploy():
        token = w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])
        r = wait(token.constructor(10**24).transact())
        state["token"] = w3.eth.contract(address=r["contractAddress"], abi=artifact["abi"])
        return {"receipt": r, "code": w3.eth.get_code(r["contractAddress"]) == HexBytes(artifact["deployedBytecode"])}

    def token_transfer():
        token = state["token"]
        r = wait(token.functions.transfer(DAVE, 77).transact())
        n = r["blockNumber"]
        state["token_block"] = n
        return {
            "receipt": r,
            "events": [dict(e["args"]) for e in token.events.Transfer().process_receipt(r)],
            "logs": token.events.Transfer().get_logs(from_block=n, to_block=n),
            "daveBefore": token.functions.balanceOf(DAVE).call(block_identifier=n - 1),
            "daveAt": token.functions.balanceOf(DAVE).call(block_identifier=n),
            "bobBefore": w3.eth.get_balance(BOB, block_identifier=state["transfer_block"] - 1),
        }

    def revert():
        transfer = state["token"].functions.transfer(DAVE, 10**40)
        out = {}
        for what, f in (("estimate", transfer.estimate_gas), ("call", transfer.call)):
            try:
                f()
                out[what] = "no revert"
            except Exception as e:  # noqa: BLE001
                out[what] = {"type": type(e).__name__, "message": str(e), "data": getattr(e, "data", None)}
        return out

    def block():
        b = w3.eth.get_block(state["token_block"], full_transactions=True)
        return {"keys": {k: True for k in b.keys()}, "txs": b["transactions"]}

    def misses():
        out = {}
        for what, f in (
            ("receipt", lambda: w3.eth.get_transaction_receipt("0x" + "12" * 32)),
            ("tx", lambda: w3.eth.get_transaction("0x" + "12" * 32)),
            ("block", lambda: w3.eth.get_block(10_000_000)),
        ):
            try:
                out[what] = plain(f())
            except Exception as e:  # noqa: BLE001
                out[what] = {"type": type(e).__name__}
        return out

    step("web3_transfer", transfer)
    step("web3_deploy", deploy)
    step("web3_token_transfer", token_transfer)
    step("web3_revert", revert)
    step("web3_block", block)
    step("web3_misses", misses)
    json.dump(answers, sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
