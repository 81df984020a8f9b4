// The differential wallet flow: the same steps through viem and ethers against one JSON-RPC
// endpoint, every answer recorded as the libraries return it. tests/wallet_diff.rs runs it
// against an executor and against anvil and compares the two records field by field.
//
// Usage: node diff_flow.mjs --rpc URL --key 0xHEX --token-json PATH [--timeout SECONDS]
// Prints one JSON object on stdout: step name -> what the libraries answered. A step that
// throws records {"threw": {name, message}} and the flow goes on, so that one difference does
// not hide the next. Exit status 2 for bad arguments.
import { readFileSync } from "node:fs";
import * as viem from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { ethers } from "ethers";

function args() {
  const out = { timeout: 120 };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i += 2) {
    const [k, v] = [argv[i], argv[i + 1]];
    if (v === undefined) usage(`${k} needs a value`);
    if (k === "--rpc") out.rpc = v;
    else if (k === "--key") out.key = v;
    else if (k === "--token-json") out.token = v;
    else if (k === "--timeout") out.timeout = Number(v);
    else usage(`unknown argument ${k}`);
  }
  if (!out.rpc || !out.key || !out.token) usage("--rpc, --key and --token-json are required");
  return out;
}

function usage(problem) {
  console.error(`diff_flow.mjs: ${problem}`);
  process.exit(2);
}

// JSON of what a library returned: bigints as decimal strings, byte arrays as hex, class
// instances by their own enumerable fields (ethers' receipts and logs by toJSON).
function plain(v) {
  if (typeof v === "bigint") return v.toString();
  if (v instanceof Uint8Array) return viem.toHex(v);
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === "object") {
    if (typeof v.toJSON === "function" && !(v instanceof Date)) return plain(v.toJSON());
    const out = {};
    for (const [k, x] of Object.entries(v)) {
      if (typeof x !== "function" && x !== undefined) out[k] = plain(x);
    }
    return out;
  }
  return v;
}

// The keys of an object as a map, so that a key present on one side only shows by its name.
const keysOf = (o) => Object.fromEntries(Object.keys(o).map((k) => [k, true]));

// What a caller sees of an error: its class, the library's short message and code, and the
// revert reason or data where the library extracted them.
function failure(e) {
  const out = { name: e?.name ?? "Error" };
  for (const k of ["shortMessage", "code", "reason", "action"]) {
    if (e?.[k] !== undefined && e?.[k] !== null) out[k] = plain(e[k]);
  }
  // viem wraps: the innermost cause says what the node said.
  const walk = typeof e?.walk === "function" ? e.walk() : null;
  if (walk && walk !== e) {
    out.cause = { name: walk.name };
    for (const k of ["shortMessage", "code", "reason", "data"]) {
      if (walk[k] !== undefined && walk[k] !== null) out.cause[k] = plain(walk[k]);
    }
  }
  if (e?.info?.error) out.rpcError = plain(e.info.error);
  return out;
}

async function main() {
  const a = args();
  const token = JSON.parse(readFileSync(a.token, "utf8"));
  const abi = token.abi;
  const timeoutMs = a.timeout * 1000;
  const answers = {};
  const step = async (name, f) => {
    try {
      answers[name] = plain(await f());
    } catch (e) {
      answers[name] = { threw: failure(e) };
    }
  };

  const probe = viem.createPublicClient({ transport: viem.http(a.rpc) });
  const chainId = await probe.getChainId();
  const chain = viem.defineChain({
    id: chainId,
    name: "under test",
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [a.rpc] } },
  });
  const account = privateKeyToAccount(a.key);
  const pub = viem.createPublicClient({ chain, transport: viem.http(a.rpc), pollingInterval: 100 });
  const wallet = viem.createWalletClient({ account, chain, transport: viem.http(a.rpc) });
  const batched = viem.createPublicClient({
    chain,
    transport: viem.http(a.rpc, { batch: { batchSize: 1000, wait: 10 } }),
  });
  // cacheTimeout -1: ethers would otherwise answer a second identical request from a 250 ms
  // cache (a stale nonce with fast blocks).
  const provider = new ethers.JsonRpcProvider(a.rpc, chainId, {
    cacheTimeout: -1,
    pollingInterval: 100,
    staticNetwork: true,
  });
  const signer = new ethers.Wallet(a.key, provider);
  const receiptOf = (hash) =>
    pub.waitForTransactionReceipt({ hash, pollingInterval: 100, timeout: timeoutMs });

  const alice = account.address;
  const bob = "0x00000000000000000000000000000000000b0b01";
  const carol = "0x00000000000000000000000000000000000ca201";
  const dave = "0x00000000000000000000000000000000000da401";
  let tokenAddress;
  let tokenTransferBlock;
  let transferBlock;

  await step("chain", async () => ({
    viem: await pub.getChainId(),
    ethers: (await provider.getNetwork()).chainId,
    nonceLatest: await pub.getTransactionCount({ address: alice, blockTag: "latest" }),
    nonceViaEthers: await provider.getTransactionCount(alice, "pending"),
  }));

  await step("viem_transfer", async () => {
    const hash = await wallet.sendTransaction({ to: bob, value: viem.parseEther("1") });
    const receipt = await receiptOf(hash);
    transferBlock = receipt.blockNumber;
    return {
      receipt,
      tx: await pub.getTransaction({ hash }),
      bobBalance: await pub.getBalance({ address: bob }),
      confirmations: await pub.getTransactionConfirmations({ hash }) > 0n,
    };
  });

  await step("ethers_transfer", async () => {
    const sent = await signer.sendTransaction({ to: carol, value: ethers.parseEther("2") });
    const receipt = await sent.wait(1, timeoutMs);
    const tx = await provider.getTransaction(sent.hash);
    return {
      receipt,
      tx,
      carolBalance: await provider.getBalance(carol),
      nonceAfter: await provider.getTransactionCount(alice, "latest"),
    };
  });

  await step("viem_deploy", async () => {
    const hash = await wallet.deployContract({
      abi,
      bytecode: token.bytecode,
      args: [1_000_000n * 10n ** 18n],
    });
    const receipt = await receiptOf(hash);
    tokenAddress = receipt.contractAddress;
    const code = await pub.getCode({ address: tokenAddress });
    return { receipt, codeIsDeployedBytecode: code === token.deployedBytecode };
  });

  await step("viem_read", async () => ({
    name: await pub.readContract({ address: tokenAddress, abi, functionName: "name" }),
    symbol: await pub.readContract({ address: tokenAddress, abi, functionName: "symbol" }),
    decimals: await pub.readContract({ address: tokenAddress, abi, functionName: "decimals" }),
    supply: await pub.readContract({ address: tokenAddress, abi, functionName: "totalSupply" }),
    held: await pub.readContract({
      address: tokenAddress,
      abi,
      functionName: "balanceOf",
      args: [alice],
    }),
    slot0: await pub.getStorageAt({ address: tokenAddress, slot: "0x0" }),
  }));

  await step("ethers_token_transfer", async () => {
    const contract = new ethers.Contract(tokenAddress, abi, signer);
    const sent = await contract.transfer(dave, 1234n);
    const receipt = await sent.wait(1, timeoutMs);
    tokenTransferBlock = BigInt(receipt.blockNumber);
    const events = receipt.logs.map((log) => {
      const parsed = contract.interface.parseLog(log);
      return { name: parsed.name, args: parsed.args.toArray() };
    });
    const queried = await contract.queryFilter(
      contract.filters.Transfer(alice),
      receipt.blockNumber,
      receipt.blockNumber,
    );
    return {
      receipt,
      events,
      queried: queried.map((e) => ({ event: e.eventName, args: e.args.toArray(), index: e.index })),
      daveHolds: await contract.balanceOf(dave),
    };
  });

  await step("viem_logs", async () => ({
    byEvent: await pub.getContractEvents({
      address: tokenAddress,
      abi,
      eventName: "Transfer",
      args: { to: dave },
      fromBlock: tokenTransferBlock,
      toBlock: tokenTransferBlock,
    }),
    byTopicFromGenesis: await pub.getLogs({
      address: tokenAddress,
      event: viem.parseAbiItem("event Transfer(address indexed from, address indexed to, uint256 value)"),
      fromBlock: 0n,
    }),
  }));

  await step("revert_viem", async () => {
    try {
      await pub.simulateContract({
        account,
        address: tokenAddress,
        abi,
        functionName: "transfer",
        args: [dave, 10n ** 40n],
      });
      return { reverted: false };
    } catch (e) {
      return { reverted: true, error: failure(e) };
    }
  });

  await step("revert_ethers", async () => {
    const contract = new ethers.Contract(tokenAddress, abi, signer);
    try {
      await contract.transfer.estimateGas(dave, 10n ** 40n);
      return { reverted: false };
    } catch (e) {
      return { reverted: true, error: failure(e) };
    }
  });

  await step("estimates", async () => {
    const data = viem.encodeFunctionData({ abi, functionName: "totalSupply" });
    return {
      transfer: await pub.estimateGas({ account, to: bob, value: 1n }),
      transferEthers: await provider.estimateGas({ from: alice, to: bob, value: 1n }),
      withAccessList: await pub.estimateGas({
        account,
        to: tokenAddress,
        data,
        accessList: [{ address: tokenAddress, storageKeys: [viem.pad("0x0")] }],
      }),
      createAccessList: await pub.request({
        method: "eth_createAccessList",
        params: [{ from: alice, to: tokenAddress, data }, "latest"],
      }),
    };
  });

  await step("state_override", async () => {
    // PUSH1 42 PUSH1 0 MSTORE PUSH1 32 PUSH1 0 RETURN: returns the word 42.
    const code = "0x602a60005260206000f3";
    const nobody = "0x000000000000000000000000000000000000dEaD";
    return {
      code: await pub.call({ to: nobody, stateOverride: [{ address: nobody, code }] }),
      balance: await pub.call({
        account: nobody,
        to: bob,
        value: viem.parseEther("5"),
        stateOverride: [{ address: nobody, balance: viem.parseEther("10") }],
      }),
      slot: await pub.readContract({
        address: tokenAddress,
        abi,
        functionName: "totalSupply",
        stateOverride: [{ address: tokenAddress, stateDiff: [{ slot: viem.pad("0x0"), value: viem.pad("0x7") }] }],
      }),
    };
  });

  await step("history", async () => ({
    daveBefore: await pub.readContract({
      address: tokenAddress,
      abi,
      functionName: "balanceOf",
      args: [dave],
      blockNumber: tokenTransferBlock - 1n,
    }),
    daveAt: await pub.readContract({
      address: tokenAddress,
      abi,
      functionName: "balanceOf",
      args: [dave],
      blockNumber: tokenTransferBlock,
    }),
    bobBeforeEthers: await provider.getBalance(bob, Number(transferBlock) - 1),
    bobAtEthers: await provider.getBalance(bob, Number(transferBlock)),
    codeBeforeDeploy: await pub.getCode({ address: tokenAddress, blockNumber: transferBlock }),
    nonceAtTransfer: await pub.getTransactionCount({ address: alice, blockNumber: transferBlock }),
    earliest: await pub.getBalance({ address: bob, blockTag: "earliest" }),
  }));

  await step("block", async () => {
    const block = await pub.getBlock({ blockNumber: tokenTransferBlock, includeTransactions: true });
    const byHash = await pub.getBlock({ blockHash: block.hash });
    const ethersBlock = await provider.getBlock(Number(tokenTransferBlock), true);
    return {
      keys: keysOf(block),
      txs: block.transactions,
      sameByHash: byHash.hash === block.hash && byHash.number === block.number,
      ethersTxCount: ethersBlock.prefetchedTransactions.length,
      ethersKeys: keysOf(ethersBlock.toJSON()),
      txCount: await pub.getBlockTransactionCount({ blockNumber: tokenTransferBlock }),
      receipts: await pub.request({ method: "eth_getBlockReceipts", params: [viem.toHex(tokenTransferBlock)] }),
    };
  });

  await step("typed_transactions", async () => {
    const eip2930 = await wallet.sendTransaction({
      to: bob,
      value: 3n,
      type: "eip2930",
      accessList: [{ address: tokenAddress, storageKeys: [viem.pad("0x0")] }],
    });
    const r1 = await receiptOf(eip2930);
    const legacy = await signer.sendTransaction({ to: bob, value: 4n, type: 0 });
    const r0 = await legacy.wait(1, timeoutMs);
    return { eip2930: r1, legacy: r0, legacyTx: await provider.getTransaction(legacy.hash) };
  });

  await step("batch", async () => {
    const balances = await Promise.all(
      Array.from({ length: 200 }, () => batched.getBalance({ address: bob })),
    );
    return { count: balances.length, allEqual: balances.every((b) => b === balances[0]) };
  });

  await step("fees", async () => {
    const fees = await pub.estimateFeesPerGas();
    const history = await pub.getFeeHistory({ blockCount: 4, rewardPercentiles: [25, 75] });
    const ethersFees = await provider.getFeeData();
    return {
      viemKeys: keysOf(fees),
      historyKeys: keysOf(history),
      historyLength: history.baseFeePerGas.length,
      rewardShape: history.reward.map((r) => r.length),
      ethersKeys: keysOf(ethersFees.toJSON()),
    };
  });

  await step("missing", async () => ({
    receipt: await pub
      .getTransactionReceipt({ hash: viem.pad("0x1234") })
      .catch((e) => ({ threw: failure(e) })),
    tx: await provider.getTransaction(viem.pad("0x1234")),
    block: await provider.getBlock(10_000_000),
  }));

  process.stdout.write(JSON.stringify(answers, null, 2) + "\n");
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
