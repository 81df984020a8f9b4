#!/usr/bin/env node
// Compiles the fixture contracts in src/ with the pinned solc-js (see package.json) and writes
// build/<Name>.json and build/<Name>.bytecode.hex for every contract in TARGETS, plus
// build/precompile-inputs.json (from precompile-inputs.js).
//
// Usage: node build.js [outDir]      (default: ./build, relative to this file)
//
// Output is deterministic: same sources + same solc version => byte-identical files
// (check.sh relies on this).
'use strict';

const fs = require('fs');
const path = require('path');
const solc = require('solc');
const { precompileInputs } = require('./precompile-inputs');

const ROOT = __dirname;
const outDir = path.resolve(process.argv[2] || path.join(ROOT, 'build'));

// One solc standard-JSON compilation per unit. Every unit uses the optimizer with 200 runs and
// default metadata; they differ in evmVersion. `contracts` are the artifacts written (contract
// name -> its source file); `sources` are the files handed to solc (imports are read from src/).
//
// The first unit is exactly the original LazyToken + Burner compilation (same sources, same
// settings), so their artifacts stay byte-identical. The new fixtures are compiled separately,
// for Cancun unless they need newer opcodes: Opcodes uses CLZ (EIP-7939), so it is compiled for
// Osaka.
const UNITS = [
  {
    evmVersion: 'cancun',
    sources: ['src/LazyToken.sol', 'src/Burner.sol'],
    contracts: { LazyToken: 'src/LazyToken.sol', Burner: 'src/Burner.sol' },
    legacyArtifact: true, // no "evmVersion" key in the JSON (kept byte-identical)
  },
  {
    evmVersion: 'cancun',
    sources: [
      'src/Child.sol',
      'src/Factory.sol',
      'src/CodeReader.sol',
      'src/Destroyer.sol',
      'src/Storage.sol',
      'src/Precompiles.sol',
    ],
    contracts: {
      Child: 'src/Child.sol',
      Factory: 'src/Factory.sol',
      NestedChild: 'src/Factory.sol',
      CodeReader: 'src/CodeReader.sol',
      Destroyer: 'src/Destroyer.sol',
      Storage: 'src/Storage.sol',
      Precompiles: 'src/Precompiles.sol',
    },
  },
  {
    evmVersion: 'osaka',
    sources: ['src/Opcodes.sol'],
    contracts: { Opcodes: 'src/Opcodes.sol' },
  },
];

// Warnings these fixtures trigger on purpose (they exist to exercise exactly these opcodes).
// They are counted instead of printed; set BUILD_VERBOSE=1 to see them.
const EXPECTED_WARNINGS = [/"selfdestruct" has been deprecated/, /Transient storage as defined by EIP-1153/];

function readSource(rel) {
  // Normalise line endings so a CRLF checkout produces the same metadata hash.
  return fs.readFileSync(path.join(ROOT, rel), 'utf8').replace(/\r\n/g, '\n');
}

function findImports(rel) {
  const file = path.join(ROOT, rel);
  if (!rel.startsWith('src/') || !fs.existsSync(file)) return { error: `not found: ${rel}` };
  return { contents: readSource(rel) };
}

// "0.8.37+commit.xxxxxxxx.Emscripten.clang" -> "0.8.37+commit.xxxxxxxx"
const solcVersion = solc.version().replace(/\.Emscripten.*$/, '');

fs.mkdirSync(outDir, { recursive: true });
let suppressed = 0;
for (const unit of UNITS) {
  const sources = {};
  for (const rel of unit.sources) sources[rel] = { content: readSource(rel) };

  const input = {
    language: 'Solidity',
    sources,
    settings: {
      optimizer: { enabled: true, runs: 200 },
      evmVersion: unit.evmVersion,
      outputSelection: {
        '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'] },
      },
    },
  };

  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports }));
  const errors = (output.errors || []).filter((e) => e.severity === 'error');
  for (const e of output.errors || []) {
    const msg = e.formattedMessage || e.message;
    if (e.severity !== 'error' && !process.env.BUILD_VERBOSE && EXPECTED_WARNINGS.some((re) => re.test(msg))) {
      suppressed++;
      continue;
    }
    process.stderr.write(`${e.severity}: ${msg}\n`);
  }
  if (errors.length > 0) {
    process.stderr.write(`build.js: compilation failed with ${errors.length} error(s)\n`);
    process.exit(1);
  }

  for (const [name, file] of Object.entries(unit.contracts)) {
    const c = output.contracts[file] && output.contracts[file][name];
    const bytecode = c && c.evm.bytecode.object;
    const deployed = c && c.evm.deployedBytecode.object;
    if (!bytecode || !deployed) {
      process.stderr.write(`build.js: no bytecode for ${name}\n`);
      process.exit(1);
    }
    const artifact = unit.legacyArtifact
      ? {
          contract: name,
          solc: solcVersion,
          abi: c.abi,
          bytecode: '0x' + bytecode,
          deployedBytecode: '0x' + deployed,
        }
      : {
          contract: name,
          solc: solcVersion,
          evmVersion: unit.evmVersion,
          abi: c.abi,
          bytecode: '0x' + bytecode,
          deployedBytecode: '0x' + deployed,
        };
    fs.writeFileSync(path.join(outDir, `${name}.json`), JSON.stringify(artifact, null, 2) + '\n');
    // One line, no 0x, no trailing newline: friendly to include_str! + hex::decode.
    fs.writeFileSync(path.join(outDir, `${name}.bytecode.hex`), bytecode);
    console.log(
      `${name}: creation ${bytecode.length / 2} bytes, deployed ${deployed.length / 2} bytes, ${unit.evmVersion} -> ${path.relative(process.cwd(), path.join(outDir, name + '.json')) || '.'}`
    );
  }
}

const inputs = precompileInputs();
fs.writeFileSync(path.join(outDir, 'precompile-inputs.json'), JSON.stringify(inputs, null, 2) + '\n');
console.log(`precompile-inputs.json: ${inputs.length} entries`);
if (suppressed > 0) {
  console.log(`${suppressed} expected warning(s) hidden (selfdestruct / transient storage); BUILD_VERBOSE=1 shows them`);
}
console.log(`solc ${solcVersion}`);
