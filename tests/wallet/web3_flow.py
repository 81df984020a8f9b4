#!/usr/bin/env python3
"""End-to-end wallet flow against an Ethereum JSON-RPC endpoint, driven by web3.py.

This is what a real wallet library does: it signs locally with eth-account (through web3's
SignAndSendRawMiddlewareBuilder), lets web3 fill the EIP-1559 fee fields itself
(eth_maxPriorityFeePerGas / eth_feeHistory + baseFeePerGas of the latest block), the gas limit
(eth_estimateGas) and the nonce (eth_getTransactionCount(addr, "pending")), then polls for
receipts.

Usage:
    python3 tests/wallet/web3_flow.py --rpc http://127.0.0.1:8545 --key 0xPRIVATEKEY \
        [--token-json exec-layer/contracts/build/LazyToken.json] [--timeout 120]

Each step prints one line "ok <n> <step> ..." on success. Any failure prints
"FAIL <n> <step>: <reason>" on stderr and exits with status 1 (2 for bad arguments/setup).
The last line on success is "web3 flow passed".
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from pathlib import Path

try:
    from eth_account import Account
    from web3 import Web3
    from web3.exceptions import ContractLogicError, TimeExhausted
    from web3.middleware import SignAndSendRawMiddlewareBuilder
except ImportError as e:  # pragma: no cover - environment problem, not a flow failure
    sys.stderr.write(
        f"web3_flow.py: cannot import web3/eth-account ({e}).\n"
        "Install them first: sh tests/wallet/install.sh, then run this script with the\n"
        "python it prints (see tests/wallet/README.md).\n"
    )
    sys.exit(2)

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_TOKEN_JSON = REPO_ROOT / "exec-layer" / "contracts" / "build" / "LazyToken.json"

ONE_ETHER = 10**18
TOKEN_SUPPLY = 1_000_000 * 10**18
TOKEN_AMOUNT = 1234
SMALL_VALUE = 10**9  # 1 gwei, for the back-to-back transfers of step 3
REVERT_GAS_LIMIT = 100_000
TRANSFER_TOPIC = Web3.keccak(text="Transfer(address,address,uint256)")


class StepFailed(Exception):
    pass


def check(cond: bool, msg: str) -> None:
    if not cond:
        raise StepFailed(msg)


def hx(value) -> str:
    """0x-prefixed lower-case hex of bytes/HexBytes/str."""
    return Web3.to_hex(value).lower()


def ok(n: int, step: str, detail: str = "") -> None:
    print(f"ok {n} {step}" + (f" ({detail})" if detail else ""), flush=True)


class Flow:
    def __init__(self, rpc: str, key: str, token_json: Path, timeout: float):
        self.timeout = timeout
        self.w3 = Web3(Web3.HTTPProvider(rpc, request_kwargs={"timeout": max(10.0, timeout)}))
        self.acct = Account.from_key(key)
        self.addr = self.acct.address
        # Sign locally: eth_sendTransaction requests are intercepted, filled (fees, gas, nonce,
        # chainId) by web3 and sent as eth_sendRawTransaction.
        self.w3.middleware_onion.inject(SignAndSendRawMiddlewareBuilder.build(self.acct), layer=0)
        self.w3.eth.default_account = self.addr
        self.token_artifact = json.loads(token_json.read_text())
        for field in ("abi", "bytecode"):
            if field not in self.token_artifact:
                raise SystemExit(f"web3_flow.py: {token_json} has no '{field}' field")
        self.recipient = Account.create().address  # fresh random address, no key kept
        self.eth_transfer_hash = None
        self.token = None
        self.token_transfer_hash = None
        self.revert_receipt = None

    # ----------------------------------------------------------------------------- helpers
    def wait(self, tx_hash, what: str):
        try:
            return self.w3.eth.wait_for_transaction_receipt(
                tx_hash, timeout=self.timeout, poll_latency=0.1
            )
        except TimeExhausted:
            raise StepFailed(
                f"no receipt for {what} tx {hx(tx_hash)} within {self.timeout}s "
                "(eth_getTransactionReceipt kept returning null)"
            )

    def check_success_receipt(self, rcpt, what: str) -> None:
        check(rcpt is not None, f"{what}: receipt is null")
        check(rcpt.get("status") == 1, f"{what}: receipt status {rcpt.get('status')!r}, want 1")
        check(rcpt.get("type") == 2, f"{what}: receipt type {rcpt.get('type')!r}, want 2 (EIP-1559)")
        check(
            rcpt.get("effectiveGasPrice") is not None,
            f"{what}: receipt has no effectiveGasPrice",
        )
        check(rcpt.get("blockNumber") is not None, f"{what}: receipt has no blockNumber")

    def check_tx_is_1559(self, tx_hash, what: str) -> None:
        tx = self.w3.eth.get_transaction(tx_hash)
        check(tx.get("type") == 2, f"{what}: transaction type {tx.get('type')!r}, want 2")
        check(
            tx.get("maxFeePerGas") is not None and tx.get("maxPriorityFeePerGas") is not None,
            f"{what}: transaction lacks maxFeePerGas/maxPriorityFeePerGas",
        )

    # ------------------------------------------------------------------------------- steps
    def step1_chain(self):
        w3 = self.w3
        chain_id = w3.eth.chain_id
        check(isinstance(chain_id, int) and chain_id > 0, f"eth_chainId returned {chain_id!r}")
        block = w3.eth.block_number
        check(isinstance(block, int) and block >= 0, f"eth_blockNumber returned {block!r}")
        bal = w3.eth.get_balance(self.addr)
        check(bal > 0, f"balance of {self.addr} is {bal}; fund the key's account first")
        check(
            bal > 2 * ONE_ETHER,
            f"balance of {self.addr} is {bal} wei; the flow needs more than 2 ether "
            "(a 1 ether transfer plus fees)",
        )
        ok(1, "chain", f"chainId={chain_id} block={block} balance={bal} account={self.addr}")

    def step2_eth_transfer(self):
        w3 = self.w3
        check(w3.eth.get_balance(self.recipient) == 0, "fresh random recipient already has funds")
        h = w3.eth.send_transaction({"from": self.addr, "to": self.recipient, "value": ONE_ETHER})
        rcpt = self.wait(h, "ETH transfer")
        self.check_success_receipt(rcpt, "ETH transfer")
        self.check_tx_is_1559(h, "ETH transfer")
        bal = w3.eth.get_balance(self.recipient)
        check(bal == ONE_ETHER, f"recipient balance is {bal}, want exactly {ONE_ETHER}")
        self.eth_transfer_hash = h
        ok(
            2,
            "eth-transfer",
            f"tx={hx(h)} block={rcpt['blockNumber']} gasUsed={rcpt['gasUsed']} "
            f"effectiveGasPrice={rcpt['effectiveGasPrice']}",
        )

    def step3_back_to_back(self):
        w3 = self.w3
        n1 = w3.eth.get_transaction_count(self.addr, "pending")
        h1 = w3.eth.send_transaction(
            {"from": self.addr, "to": self.recipient, "value": SMALL_VALUE, "nonce": n1}
        )
        n2 = w3.eth.get_transaction_count(self.addr, "pending")
        check(
            n2 == n1 + 1,
            f"eth_getTransactionCount(addr, 'pending') returned {n2} right after sending nonce "
            f"{n1}; want {n1 + 1} (pending count must include accepted-but-unexecuted txs)",
        )
        h2 = w3.eth.send_transaction(
            {"from": self.addr, "to": self.recipient, "value": SMALL_VALUE, "nonce": n2}
        )
        r1 = self.wait(h1, "first back-to-back transfer")
        r2 = self.wait(h2, "second back-to-back transfer")
        self.check_success_receipt(r1, "first back-to-back transfer")
        self.check_success_receipt(r2, "second back-to-back transfer")
        bal = w3.eth.get_balance(self.recipient)
        want = ONE_ETHER + 2 * SMALL_VALUE
        check(bal == want, f"recipient balance is {bal} after both transfers, want {want}")
        ok(3, "back-to-back", f"nonces={n1},{n2} blocks={r1['blockNumber']},{r2['blockNumber']}")

    def step4_deploy(self):
        w3 = self.w3
        art = self.token_artifact
        factory = w3.eth.contract(abi=art["abi"], bytecode=art["bytecode"])
        h = factory.constructor(TOKEN_SUPPLY).transact({"from": self.addr})
        rcpt = self.wait(h, "LazyToken deployment")
        self.check_success_receipt(rcpt, "LazyToken deployment")
        addr = rcpt.get("contractAddress")
        check(addr is not None, "deployment receipt has no contractAddress")
        code = w3.eth.get_code(addr)
        check(len(code) > 0, f"eth_getCode({addr}) is empty after deployment")
        deployed = art.get("deployedBytecode")
        if deployed:  # LazyToken has no immutables, so the runtime code must match exactly
            check(
                hx(code) == deployed.lower(),
                f"eth_getCode({addr}) differs from the fixture's deployedBytecode",
            )
        self.token = w3.eth.contract(address=addr, abi=art["abi"])
        bal = self.token.functions.balanceOf(self.addr).call()
        check(bal == TOKEN_SUPPLY, f"balanceOf(deployer) = {bal}, want {TOKEN_SUPPLY}")
        ok(4, "deploy-token", f"address={addr} codeSize={len(code)} gasUsed={rcpt['gasUsed']}")

    def step5_token_transfer(self):
        w3 = self.w3
        token = self.token
        h = token.functions.transfer(self.recipient, TOKEN_AMOUNT).transact({"from": self.addr})
        rcpt = self.wait(h, "token transfer")
        self.check_success_receipt(rcpt, "token transfer")
        logs = rcpt["logs"]
        check(len(logs) == 1, f"token transfer receipt has {len(logs)} logs, want 1")
        log = logs[0]
        check(log["address"] == token.address, f"log address {log['address']} != {token.address}")
        topics = log["topics"]
        check(len(topics) == 3, f"Transfer log has {len(topics)} topics, want 3")
        check(bytes(topics[0]) == bytes(TRANSFER_TOPIC), f"topic0 {hx(topics[0])} is not Transfer")
        frm = Web3.to_checksum_address(bytes(topics[1])[-20:])
        to = Web3.to_checksum_address(bytes(topics[2])[-20:])
        value = int.from_bytes(bytes(log["data"]), "big")
        check(
            (frm, to, value) == (self.addr, self.recipient, TOKEN_AMOUNT),
            f"log decodes to Transfer({frm}, {to}, {value}), "
            f"want Transfer({self.addr}, {self.recipient}, {TOKEN_AMOUNT})",
        )
        ev = token.events.Transfer().process_log(log)  # the ABI decoder must agree
        check(
            (ev["args"]["from"], ev["args"]["to"], ev["args"]["value"])
            == (self.addr, self.recipient, TOKEN_AMOUNT),
            f"web3 ABI decoding of the log gave {dict(ev['args'])}",
        )
        bn = rcpt["blockNumber"]
        got = w3.eth.get_logs({"fromBlock": bn, "toBlock": bn, "address": token.address})
        mine = [
            g for g in got
            if bytes(g["transactionHash"]) == bytes(h) and g["logIndex"] == log["logIndex"]
        ]
        check(
            len(mine) == 1,
            f"eth_getLogs(block {bn}, address {token.address}) returned {len(got)} logs, "
            f"{len(mine)} of them the transfer's log (want 1)",
        )
        check(
            [bytes(t) for t in mine[0]["topics"]] == [bytes(t) for t in topics]
            and bytes(mine[0]["data"]) == bytes(log["data"]),
            "eth_getLogs result differs from the receipt log",
        )
        bal = token.functions.balanceOf(self.recipient).call()
        check(bal == TOKEN_AMOUNT, f"balanceOf(recipient) = {bal}, want {TOKEN_AMOUNT}")
        self.token_transfer_hash = h
        ok(5, "token-transfer", f"tx={hx(h)} block={bn} gasUsed={rcpt['gasUsed']}")

    def step6_revert(self):
        w3 = self.w3
        fn = self.token.functions.transfer(self.recipient, TOKEN_SUPPLY + 1)
        for name, call in (
            ("eth_estimateGas", lambda: fn.estimate_gas({"from": self.addr})),
            ("eth_call", lambda: fn.call({"from": self.addr})),
        ):
            try:
                result = call()
            except ContractLogicError as e:
                check(
                    "insufficient balance" in str(e),
                    f"{name} raised ContractLogicError without the revert reason: {e!r}",
                )
            except Exception as e:
                raise StepFailed(
                    f"{name} of a reverting transfer raised {type(e).__name__}: {e!r}; "
                    "want web3.exceptions.ContractLogicError (the node should answer with "
                    "code 3 and data = revert bytes)"
                )
            else:
                raise StepFailed(f"{name} of a reverting transfer succeeded with {result!r}")
        # Same transaction with an explicit gas limit: web3 skips estimation and sends it.
        h = fn.transact({"from": self.addr, "gas": REVERT_GAS_LIMIT})
        rcpt = self.wait(h, "reverting transfer")
        check(rcpt.get("status") == 0, f"reverting transfer receipt status {rcpt.get('status')!r}, want 0")
        check(len(rcpt["logs"]) == 0, f"reverted tx has {len(rcpt['logs'])} logs, want 0")
        check(0 < rcpt["gasUsed"] <= REVERT_GAS_LIMIT, f"reverted tx gasUsed {rcpt['gasUsed']}")
        bal = self.token.functions.balanceOf(self.addr).call()
        check(
            bal == TOKEN_SUPPLY - TOKEN_AMOUNT,
            f"deployer token balance changed by a reverted tx: {bal}",
        )
        self.revert_receipt = rcpt
        ok(6, "revert", f"tx={hx(h)} status=0 gasUsed={rcpt['gasUsed']}")

    def step7_blocks_and_txs(self):
        w3 = self.w3
        latest = w3.eth.get_block("latest", True)
        for field in ("baseFeePerGas", "logsBloom", "transactions", "hash", "number"):
            check(field in latest, f"eth_getBlockByNumber('latest', true) lacks '{field}'")
        check(latest["baseFeePerGas"] is not None, "latest block has baseFeePerGas = null")
        check(len(bytes(latest["logsBloom"])) == 256, "latest block logsBloom is not 256 bytes")
        # transactions must be objects when full=true; if the chain has moved on to an empty
        # block, check the block that holds our last transaction instead.
        block = latest
        if len(block["transactions"]) == 0:
            block = w3.eth.get_block(self.revert_receipt["blockNumber"], True)
        check(len(block["transactions"]) > 0, f"block {block['number']} has no transactions")
        for tx in block["transactions"]:
            check(
                hasattr(tx, "get") and tx.get("hash") is not None and tx.get("from") is not None,
                f"block {block['number']} transactions are not objects (got {tx!r})",
            )
        for what, h in (("ETH transfer", self.eth_transfer_hash),
                        ("token transfer", self.token_transfer_hash)):
            tx = w3.eth.get_transaction(h)
            check(bytes(tx["hash"]) == bytes(h), f"{what}: eth_getTransactionByHash hash mismatch")
            check(tx["from"] == self.addr, f"{what}: sender {tx['from']} != {self.addr}")
            check(tx.get("blockNumber") is not None, f"{what}: tx has no blockNumber")
        ok(
            7,
            "blocks-and-txs",
            f"latest={latest['number']} baseFeePerGas={latest['baseFeePerGas']} "
            f"checked block {block['number']} with {len(block['transactions'])} tx objects",
        )

    def run(self) -> None:
        steps = [
            (1, "chain", self.step1_chain),
            (2, "eth-transfer", self.step2_eth_transfer),
            (3, "back-to-back", self.step3_back_to_back),
            (4, "deploy-token", self.step4_deploy),
            (5, "token-transfer", self.step5_token_transfer),
            (6, "revert", self.step6_revert),
            (7, "blocks-and-txs", self.step7_blocks_and_txs),
        ]
        for n, name, fn in steps:
            try:
                fn()
            except StepFailed as e:
                sys.stderr.write(f"FAIL {n} {name}: {e}\n")
                sys.exit(1)
            except Exception as e:
                traceback.print_exc()
                sys.stderr.write(f"FAIL {n} {name}: unexpected {type(e).__name__}: {e}\n")
                sys.exit(1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rpc", required=True, help="HTTP JSON-RPC URL, e.g. http://127.0.0.1:8545")
    ap.add_argument("--key", required=True, help="0x-prefixed private key of a funded account")
    ap.add_argument("--token-json", type=Path, default=DEFAULT_TOKEN_JSON,
                    help=f"LazyToken artifact (default: {DEFAULT_TOKEN_JSON.relative_to(REPO_ROOT)})")
    ap.add_argument("--timeout", type=float, default=120.0,
                    help="seconds to wait for each receipt (default 120)")
    args = ap.parse_args()
    if not args.token_json.is_file():
        ap.error(f"--token-json {args.token_json} does not exist")

    t0 = time.monotonic()
    flow = Flow(args.rpc, args.key, args.token_json, args.timeout)
    if not flow.w3.is_connected():
        sys.stderr.write(f"FAIL 0 connect: no JSON-RPC answer from {args.rpc}\n")
        sys.exit(1)
    flow.run()
    print(f"all steps done in {time.monotonic() - t0:.1f}s", flush=True)
    print("web3 flow passed", flush=True)


if __name__ == "__main__":
    main()
