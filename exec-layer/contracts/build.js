#!/usr/bin/env node
// Compiles the fixture contracts in src/ with the pinned solc-js (see package.json) and writes
// build/<Name>.json and build/<Name>.bytecode.hex.
//
// Usage: node build.js [outDir]      (default: ./build, relative to this file)
//
// Output is deterministic: same sources + same solc version => byte-identical files
// (check.sh relies on this).
'use strict';

const fs = require('fs');
const path = require('path');
const solc = require('solc');

const ROOT = __dirname;
const CONTRACTS = ['LazyToken', 'Burner'];
const outDir = path.resolve(process.argv[2] || path.join(ROOT, 'build'));

const sources = {};
for (const name of CONTRACTS) {
  const rel = `src/${name}.sol`;
  // Normalise line endings so a CRLF checkout produces the same metadata hash.
  sources[rel] = { content: fs.readFileSync(path.join(ROOT, rel), 'utf8').replace(/\r\n/g, '\n') };
}

const input = {
  language: 'Solidity',
  sources,
  settings: {
    optimizer: { enabled: true, runs: 200 },
    evmVersion: 'cancun',
    outputSelection: {
      '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'] },
    },
  },
};

const output = JSON.parse(solc.compile(JSON.stringify(input)));
const errors = (output.errors || []).filter((e) => e.severity === 'error');
for (const e of output.errors || []) {
  process.stderr.write(`${e.severity}: ${e.formattedMessage || e.message}\n`);
}
if (errors.length > 0) {
  process.stderr.write(`build.js: compilation failed with ${errors.length} error(s)\n`);
  process.exit(1);
}

// "0.8.37+commit.xxxxxxxx.Emscripten.clang" -> "0.8.37+commit.xxxxxxxx"
const solcVersion = solc.version().replace(/\.Emscripten.*$/, '');

fs.mkdirSync(outDir, { recursive: true });
for (const name of CONTRACTS) {
  const c = output.contracts[`src/${name}.sol`][name];
  const bytecode = c.evm.bytecode.object;
  const deployed = c.evm.deployedBytecode.object;
  if (!bytecode || !deployed) {
    process.stderr.write(`build.js: no bytecode for ${name}\n`);
    process.exit(1);
  }
  const artifact = {
    contract: name,
    solc: solcVersion,
    abi: c.abi,
    bytecode: '0x' + bytecode,
    deployedBytecode: '0x' + deployed,
  };
  fs.writeFileSync(path.join(outDir, `${name}.json`), JSON.stringify(artifact, null, 2) + '\n');
  // One line, no 0x, no trailing newline: friendly to include_str! + hex::decode.
  fs.writeFileSync(path.join(outDir, `${name}.bytecode.hex`), bytecode);
  console.log(
    `${name}: creation ${bytecode.length / 2} bytes, deployed ${deployed.length / 2} bytes -> ${path.relative(process.cwd(), path.join(outDir, name + '.json')) || '.'}`
  );
}
console.log(`solc ${solcVersion}`);
