// A read-only wallet load for long runs (not a test): what dApps and explorers ask of an
// executor while the chain moves: balances and nonces at random recent blocks, logs over the
// last blocks, batches of reads, a block filter polled. Sends no transaction, so it can run
// beside `lazychain bench soak` against one of its executors.
//
// Usage: node read_load.mjs --rpc URL [--minutes N] [--accounts 0xA,0xB,...]
// Prints one line a minute (calls, errors, the slowest call) and exits non-zero if any call
// failed other than with a "state ... is not available" refusal for a block that left the
// window while it was asked.
import * as viem from "viem";

const argv = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : fallback;
};
const rpc = opt("--rpc");
if (!rpc) {
  console.error("read_load.mjs: --rpc URL is required");
  process.exit(2);
}
const minutes = Number(opt("--minutes", "30"));
const accounts = opt(
  "--accounts",
  "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266,0x70997970C51812dc3A010C7d01b50e0d17dc79C8,0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
).split(",");

const client = viem.createPublicClient({ transport: viem.http(rpc, { timeout: 60_000 }) });
const batched = viem.createPublicClient({
  transport: viem.http(rpc, { batch: { batchSize: 1000, wait: 5 }, timeout: 60_000 }),
});

let calls = 0;
let errors = 0;
let slowest = 0;
const failures = [];
const timed = async (what, f) => {
  const start = Date.now();
  try {
    return await f();
  } catch (e) {
    const message = e?.shortMessage ?? e?.message ?? String(e);
    errors += 1;
    failures.push(`${what}: ${message}`);
    return undefined;
  } finally {
    calls += 1;
    slowest = Math.max(slowest, Date.now() - start);
  }
};
const pick = (xs) => xs[Math.floor(Math.random() * xs.length)];

const end = Date.now() + minutes * 60_000;
let nextReport = Date.now() + 60_000;
const filter = await timed("eth_newBlockFilter", () => client.createBlockFilter());
while (Date.now() < end) {
  const tip = await timed("eth_blockNumber", () => client.getBlockNumber());
  if (tip === undefined) continue;
  const past = (back) => (tip > back ? tip - back : 0n);
  const heights = [0n, 1n, 16n, 255n].map(past);
  for (const h of heights) {
    const a = pick(accounts);
    await timed(`eth_getBalance@${h}`, () => client.getBalance({ address: a, blockNumber: h }));
    await timed(`eth_getTransactionCount@${h}`, () =>
      client.getTransactionCount({ address: a, blockNumber: h }),
    );
  }
  await timed("eth_getLogs(last 100)", () => client.getLogs({ fromBlock: past(100n), toBlock: tip }));
  await timed("batch of 200", () =>
    Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        batched.getBalance({ address: accounts[i % accounts.length], blockNumber: past(BigInt(i)) }),
      ),
    ),
  );
  if (filter) await timed("eth_getFilterChanges", () => client.getFilterChanges({ filter }));
  if (Date.now() >= nextReport) {
    console.log(
      `${new Date().toISOString()} tip ${tip} calls ${calls} errors ${errors} slowest ${slowest} ms`,
    );
    slowest = 0;
    nextReport += 60_000;
  }
}
const unexpected = failures.filter((f) => !/is not available/.test(f));
console.log(`done: ${calls} calls, ${errors} errors (${unexpected.length} unexpected)`);
for (const f of unexpected.slice(0, 20)) console.log(`  ${f}`);
process.exit(unexpected.length === 0 ? 0 : 1);
