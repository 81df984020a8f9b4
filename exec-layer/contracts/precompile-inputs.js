// Valid inputs, with their expected outputs, for every precompile active on Osaka
// (0x01..0x11 and 0x100 P256VERIFY). build.js writes them to build/precompile-inputs.json;
// README.md ("Precompile inputs") explains each one.
//
// Everything here is deterministic: hashes come from node's crypto module, the elliptic-curve
// outputs that are cheap to derive (doubling a generator) are computed below with BigInt, and
// the rest are constants: the go-ethereum ecrecover vector, the official EIP-2537 map-to-curve
// vectors, and a P256 signature made once with node's crypto (prime256v1) that is re-verified
// here on every build. Each output was also checked against revm (see README.md).
'use strict';

const crypto = require('crypto');

// ---- encoding helpers -------------------------------------------------------------------------

/** Big-endian hex of `n` in `bytes` bytes, no 0x. */
function be(n, bytes) {
  const h = BigInt(n).toString(16);
  if (h.length > bytes * 2) throw new Error(`precompile-inputs: ${h} does not fit in ${bytes} bytes`);
  return h.padStart(bytes * 2, '0');
}
const word = (n) => be(n, 32);
/** EIP-2537 field element: 64 bytes, the top 16 zero. */
const fp = (n) => be(n, 64);
const zeros = (bytes) => '00'.repeat(bytes);
const sha256 = (buf) => crypto.createHash('sha256').update(buf).digest();

function mod(a, m) {
  const r = a % m;
  return r < 0n ? r + m : r;
}
function inv(a, m) {
  // Fermat: m is prime for every field used here.
  let r = 1n;
  let b = mod(a, m);
  let e = m - 2n;
  while (e > 0n) {
    if (e & 1n) r = (r * b) % m;
    b = (b * b) % m;
    e >>= 1n;
  }
  return r;
}

// ---- alt_bn128 (EIP-196/197) ------------------------------------------------------------------

const BN_P = 0x30644e72e131a029b85045b68181585d97816a916871ca8d3c208c16d87cfd47n;
/** Affine doubling on y^2 = x^3 + 3 over F_p (the point must not be 2-torsion). */
function bnDouble([x, y]) {
  const l = mod(3n * x * x * inv(2n * y, BN_P), BN_P);
  const x3 = mod(l * l - 2n * x, BN_P);
  return [x3, mod(l * (x - x3) - y, BN_P)];
}
const BN_G1 = [1n, 2n];
const BN_2G1 = bnDouble(BN_G1);
// G2 generator; EIP-197 encodes an F_p^2 element a*i + b as (a, b): imaginary part first.
const BN_G2 = {
  xIm: 0x198e9393920d483a7260bfb731fb5d25f1aa493335a9e71297e485b7aef312c2n,
  xRe: 0x1800deef121f1e76426a00665e5c4479674322d4f75edadd46debd5cd992f6edn,
  yIm: 0x090689d0585ff075ec9e99ad690c3395bc4b313370b38ef355acdadcd122975bn,
  yRe: 0x12c85ea5db8c6deb4aab71808dcb408fe3d1e7690c43d37b4ce6cc0166fa7daan,
};
const bnG2Hex = (g) => word(g.xIm) + word(g.xRe) + word(g.yIm) + word(g.yRe);

// ---- BLS12-381 (EIP-2537) ---------------------------------------------------------------------

const BLS_P =
  0x1a0111ea397fe69a4b1ba7b6434bacd764774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaabn;
const BLS_R = 0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001n;
// Fp2 = Fp[u]/(u^2 + 1), elements [c0, c1] = c0 + c1*u.
const f2 = {
  add: (a, b) => [mod(a[0] + b[0], BLS_P), mod(a[1] + b[1], BLS_P)],
  sub: (a, b) => [mod(a[0] - b[0], BLS_P), mod(a[1] - b[1], BLS_P)],
  mul: (a, b) => [mod(a[0] * b[0] - a[1] * b[1], BLS_P), mod(a[0] * b[1] + a[1] * b[0], BLS_P)],
  scale: (a, k) => [mod(a[0] * k, BLS_P), mod(a[1] * k, BLS_P)],
  inv: (a) => {
    const d = inv(a[0] * a[0] + a[1] * a[1], BLS_P);
    return [mod(a[0] * d, BLS_P), mod(-a[1] * d, BLS_P)];
  },
  eq: (a, b) => a[0] === b[0] && a[1] === b[1],
};
const BLS_G1 = [
  0x17f1d3a73197d7942695638c4fa9ac0fc3688c4f9774b905a14e3a3f171bac586c55e83ff97a1aeffb3af00adb22c6bbn,
  0x08b3f481e3aaa0f1a09e30ed741d8ae4fcf5e095d5d00af600db18cb2c04b3edd03cc744a2888ae40caa232946c5e7e1n,
];
const BLS_G2 = [
  [
    0x024aa2b2f08f0a91260805272dc51051c6e47ad4fa403b02b4510b647ae3d1770bac0326a805bbefd48056c8c121bdb8n,
    0x13e02b6052719f607dacd3a088274f65596bd0d09920b61ab5da61bbdc7f5049334cf11213945d57e5ac7d055d042b7en,
  ],
  [
    0x0ce5d527727d6e118cc9cdc6da2e351aadfd9baa8cbdd3a76d429a695160d12c923ac9cc3baca289e193548608b82801n,
    0x0606c4a02ea734cc32acd2b02bc28b99cb3e287e85a763af267492ab572e99ab3f370d275cec1da1aaa9075ff05f79ben,
  ],
];
function blsG1Double([x, y]) {
  const l = mod(3n * x * x * inv(2n * y, BLS_P), BLS_P);
  const x3 = mod(l * l - 2n * x, BLS_P);
  return [x3, mod(l * (x - x3) - y, BLS_P)];
}
function blsG2Double([x, y]) {
  const l = f2.mul(f2.scale(f2.mul(x, x), 3n), f2.inv(f2.scale(y, 2n)));
  const x3 = f2.sub(f2.mul(l, l), f2.scale(x, 2n));
  return [x3, f2.sub(f2.mul(l, f2.sub(x, x3)), y)];
}
const g1Hex = ([x, y]) => fp(x) + fp(y);
const g2Hex = ([x, y]) => fp(x[0]) + fp(x[1]) + fp(y[0]) + fp(y[1]);

// Sanity checks: the generators are on their curves (y^2 = x^3 + 4, y^2 = x^3 + 4(1 + u)).
if (mod(BLS_G1[1] ** 2n - BLS_G1[0] ** 3n - 4n, BLS_P) !== 0n) throw new Error('BLS G1 generator');
{
  const [x, y] = BLS_G2;
  if (!f2.eq(f2.mul(y, y), f2.add(f2.mul(f2.mul(x, x), x), [4n, 4n]))) throw new Error('BLS G2 generator');
}
if (mod(BN_2G1[1] ** 2n - BN_2G1[0] ** 3n - 3n, BN_P) !== 0n) throw new Error('bn254 2G');

// ---- blake2f (EIP-152 test vector 5: BLAKE2b-512("abc"), 12 rounds, final block) -----------

function blake2fVector5() {
  const IV = [
    0x6a09e667f3bcc908n, 0xbb67ae8584caa73bn, 0x3c6ef372fe94f82bn, 0xa54ff53a5f1d36f1n,
    0x510e527fade682d1n, 0x9b05688c2b3e6c1fn, 0x1f83d9abfb41bd6bn, 0x5be0cd19137e2179n,
  ];
  const le64 = (n) => {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(n);
    return b.toString('hex');
  };
  const h = IV.map((v, i) => (i === 0 ? v ^ 0x01010040n : v)); // digest 64, no key, fanout 1, depth 1
  const m = Buffer.alloc(128);
  m.write('abc', 'ascii');
  return be(12, 4) + h.map(le64).join('') + m.toString('hex') + le64(3n) + le64(0n) + '01';
}

// ---- KZG point evaluation (EIP-4844): the zero polynomial ------------------------------------

function kzgZeroPolynomial() {
  const inf = 'c0' + zeros(47); // compressed G1 point at infinity
  const versioned = '01' + sha256(Buffer.from(inf, 'hex')).toString('hex').slice(2);
  // versioned_hash | z | y | commitment | proof
  return versioned + word(0) + word(0) + inf + inf;
}

// ---- P256VERIFY (EIP-7951) -------------------------------------------------------------------

// Made once with crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' }) and
// crypto.sign('sha256', msg, { key, dsaEncoding: 'ieee-p1363' }); re-verified below.
const P256 = {
  msg: 'lazychain P256VERIFY fixture',
  r: '0d0014b3b1f8a86b20e8012daa40bb1eb12f362d81ec9e7032ec72c9bc46de93',
  s: '1a6d194253a111b6aaf1104d053bfc73c5986515da9628e8ef436c3261f63ffe',
  x: '86b43e39fb4b875a34deb31c1c5694309a5ea1483adfdaff4e880363406461e2',
  y: '9550dfb39603a24747b5fdfd7d63d25cf6489f913bd06d8e6cbc76fb462b0028',
};
function p256Input() {
  const key = crypto.createPublicKey({
    key: {
      kty: 'EC',
      crv: 'P-256',
      x: Buffer.from(P256.x, 'hex').toString('base64url'),
      y: Buffer.from(P256.y, 'hex').toString('base64url'),
    },
    format: 'jwk',
  });
  const sig = Buffer.from(P256.r + P256.s, 'hex');
  const ok = crypto.verify('sha256', Buffer.from(P256.msg), { key, dsaEncoding: 'ieee-p1363' }, sig);
  if (!ok) throw new Error('precompile-inputs: the P256 fixture signature does not verify');
  const hash = sha256(Buffer.from(P256.msg)).toString('hex');
  return hash + P256.r + P256.s + P256.x + P256.y;
}

// ---- the table --------------------------------------------------------------------------------

const addr = (n) => '0x' + be(n, 20);
const abc = Buffer.from('abc').toString('hex');
const ONE = word(1);

/**
 * Returns [{ address, name, input, output, note }], hex strings with 0x. The first entry for each
 * address is the primary one; a few addresses have a second, non-trivial vector.
 */
function precompileInputs() {
  const bn2G = word(BN_2G1[0]) + word(BN_2G1[1]);
  const bls2G1 = g1Hex(blsG1Double(BLS_G1));
  const bls2G2 = g2Hex(blsG2Double(BLS_G2));
  const blsNegG1 = [BLS_G1[0], BLS_P - BLS_G1[1]];
  const bnNegG1 = word(1) + word(BN_P - 2n);
  const e = (address, name, input, output, note) => ({
    address: addr(address),
    name,
    input: '0x' + input,
    output: '0x' + output,
    note,
  });
  return [
    e(
      0x01,
      'ecrecover',
      '18c547e4f7b0f325ad1e56f57e26c745b09a3e503d86e00e5255ff7f715d3d1c' +
        word(28) +
        '73b1693892219d736caba55bdb67216e485557ea6b6af75f37096c9aa6a5a75f' +
        'eeb940b1d03b21e36b0e47e79769f095fe2ab855bd91e3a38756b7d75a9c4549',
      word(0xa94f5374fce5edbc8e2a8697c15331677e6ebf0bn),
      'hash | v=28 | r | s (go-ethereum vector); recovers 0xa94f5374fce5edbc8e2a8697c15331677e6ebf0b'
    ),
    e(0x02, 'sha256', abc, sha256(Buffer.from('abc')).toString('hex'), 'sha256("abc")'),
    e(
      0x03,
      'ripemd160',
      abc,
      zeros(12) + crypto.createHash('ripemd160').update('abc').digest('hex'),
      'ripemd160("abc"), left-padded to 32 bytes'
    ),
    e(0x04, 'identity', abc, abc, 'returns its input'),
    e(0x05, 'modexp', word(1) + word(1) + word(1) + '030507', '05', 'EIP-198: len(B)=len(E)=len(M)=1, 3^5 mod 7 = 5'),
    e(0x06, 'bn254_add', word(1) + word(2) + word(1) + word(2), bn2G, '(1,2) + (1,2) = 2G'),
    e(0x07, 'bn254_mul', word(1) + word(2) + word(2), bn2G, '(1,2) * 2 = 2G'),
    e(0x08, 'bn254_pairing', '', ONE, 'empty input: the empty product is 1'),
    e(
      0x08,
      'bn254_pairing_2pairs',
      word(1) + word(2) + bnG2Hex(BN_G2) + bnNegG1 + bnG2Hex(BN_G2),
      ONE,
      'e(G1, G2) * e(-G1, G2) = 1'
    ),
    e(
      0x09,
      'blake2f',
      blake2fVector5(),
      crypto.createHash('blake2b512').update('abc').digest('hex'),
      'EIP-152 test vector 5 (213 bytes): BLAKE2b-512("abc"), 12 rounds, f = 1'
    ),
    e(
      0x0a,
      'kzg_point_evaluation',
      kzgZeroPolynomial(),
      word(4096) + word(BLS_R),
      'zero polynomial: commitment = proof = point at infinity (0xc0 || 47 zero bytes), z = y = 0; returns FIELD_ELEMENTS_PER_BLOB | BLS_MODULUS'
    ),
    e(0x0b, 'bls12_g1add', zeros(256), zeros(128), 'inf + inf = inf'),
    e(0x0b, 'bls12_g1add_generator', g1Hex(BLS_G1) + g1Hex(BLS_G1), bls2G1, 'G1 + G1 = 2*G1'),
    e(0x0c, 'bls12_g1msm', zeros(160), zeros(128), 'one pair (inf, 0) -> inf'),
    e(0x0c, 'bls12_g1msm_generator', g1Hex(BLS_G1) + word(2), bls2G1, '2 * G1'),
    e(0x0d, 'bls12_g2add', zeros(512), zeros(256), 'inf + inf = inf'),
    e(0x0d, 'bls12_g2add_generator', g2Hex(BLS_G2) + g2Hex(BLS_G2), bls2G2, 'G2 + G2 = 2*G2'),
    e(0x0e, 'bls12_g2msm', zeros(288), zeros(256), 'one pair (inf, 0) -> inf'),
    e(0x0e, 'bls12_g2msm_generator', g2Hex(BLS_G2) + word(2), bls2G2, '2 * G2'),
    e(0x0f, 'bls12_pairing_check', zeros(384), ONE, 'one pair (inf, inf): e = 1'),
    e(
      0x0f,
      'bls12_pairing_check_2pairs',
      g1Hex(BLS_G1) + g2Hex(BLS_G2) + g1Hex(blsNegG1) + g2Hex(BLS_G2),
      ONE,
      'e(G1, G2) * e(-G1, G2) = 1'
    ),
    e(
      0x10,
      'bls12_map_fp_to_g1',
      zeros(64),
      fp(0x11a9a0372b8f332d5c30de9ad14e50372a73fa4c45d5f2fa5097f2d6fb93bcac592f2e1711ac43db0519870c7d0ea415n) +
        fp(0x092c0f994164a0719f51c24ba3788de240ff926b55f58c445116e8bc6a47cd63392fd4e8e22bdf9feaa96ee773222133n),
      'u = 0; output from revm, checked to be on the curve and in the r-order subgroup'
    ),
    e(
      0x10,
      'bls12_map_fp_to_g1_eip2537',
      fp(0x156c8a6a2c184569d69a76be144b5cdc5141d2d2ca4fe341f011e25e3969c55ad9e9b9ce2eb833c81a908e5fa4ac5f03n),
      fp(0x184bb665c37ff561a89ec2122dd343f20e0f4cbcaec84e3c3052ea81d1834e192c426074b02ed3dca4e7676ce4ce48ban) +
        fp(0x04407b8d35af4dacc809927071fc0405218f1401a6d15af775810e4e460064bcc9468beeba82fdc751be70476c888bf3n),
      'official EIP-2537 vector bls_g1map_'
    ),
    e(
      0x11,
      'bls12_map_fp2_to_g2',
      zeros(128),
      fp(0x018320896ec9eef9d5e619848dc29ce266f413d02dd31d9b9d44ec0c79cd61f18b075ddba6d7bd20b7ff27a4b324bfcen) +
        fp(0x0a67d12118b5a35bb02d2e86b3ebfa7e23410db93de39fb06d7025fa95e96ffa428a7a27c3ae4dd4b40bd251ac658892n) +
        fp(0x0260e03644d1a2c321256b3246bad2b895cad13890cbe6f85df55106a0d334604fb143c7a042d878006271865bc35941n) +
        fp(0x04c69777a43f0bda07679d5805e63f18cf4e0e7c6112ac7f70266d199b4f76ae27c6269a3ceebdae30806e9a76aadf5cn),
      'u = 0; output from revm, checked to be on the twist and in the r-order subgroup'
    ),
    e(
      0x11,
      'bls12_map_fp2_to_g2_eip2537',
      fp(0x07355d25caf6e7f2f0cb2812ca0e513bd026ed09dda65b177500fa31714e09ea0ded3a078b526bed3307f804d4b93b04n) +
        fp(0x02829ce3c021339ccb5caf3e187f6370e1e2a311dec9b75363117063ab2015603ff52c3d3b98f19c2f65575e99e8b78cn),
      fp(0x00e7f4568a82b4b7dc1f14c6aaa055edf51502319c723c4dc2688c7fe5944c213f510328082396515734b6612c4e7bb7n) +
        fp(0x126b855e9e69b1f691f816e48ac6977664d24d99f8724868a184186469ddfd4617367e94527d4b74fc86413483afb35bn) +
        fp(0x0caead0fd7b6176c01436833c79d305c78be307da5f6af6c133c47311def6ff1e0babf57a0fb5539fce7ee12407b0a42n) +
        fp(0x1498aadcf7ae2b345243e281ae076df6de84455d766ab6fcdaad71fab60abb2e8b980a440043cd305db09d283c895e3dn),
      'official EIP-2537 vector bls_g2map_'
    ),
    e(0x100, 'p256verify', p256Input(), ONE, 'sha256(msg) | r | s | qx | qy, made with node crypto (prime256v1)'),
    e(
      0x100,
      'p256verify_invalid',
      zeros(160),
      '',
      'invalid signature (all zero): success with empty output'
    ),
  ];
}

module.exports = { precompileInputs };
