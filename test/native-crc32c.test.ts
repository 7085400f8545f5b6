// crc32c of the native addon against the standard check value and a bitwise pure-JS reference
// (the trivial model), on random buffers, offsets and lengths from a fixed, printed seed.

import t from 'tap';
import { native } from '../native/addon';
import { SeededRandom, testSeed } from './support/seeded-random';

const RANDOM_CASES = 300;
const MAX_CASE_BYTES = 5000;

/** CRC32C one bit at a time (reflected polynomial 0x82F63B78), init and final xor 0xFFFFFFFF. */
function crc32cReference(bytes: Uint8Array, seed = 0): number {
  let crc = ~seed >>> 0;
  for (let i = 0; i < bytes.length; i++) {
    crc ^= bytes[i]!;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return ~crc >>> 0;
}

t.test('crc32c of "123456789" is the standard check value 0xE3069283', async (t) => {
  const bytes = Buffer.from('123456789', 'latin1');
  t.equal(native.crc32c(bytes, 0, bytes.length), 0xe3069283);
  t.equal(crc32cReference(bytes), 0xe3069283, 'the reference agrees');
  t.comment(`hardware CRC32C instruction used: ${native.hasHardwareCrc()}`);
});

t.test('crc32c of nothing is 0 and of 32 zero bytes is the RFC 3720 value 0x8A9136AA', async (t) => {
  t.equal(native.crc32c(new Uint8Array(0), 0, 0), 0);
  t.equal(native.crc32c(new Uint8Array(32), 0, 32), 0x8a9136aa);
});

t.test('crc32c matches the bitwise reference on random buffers, offsets and lengths', async (t) => {
  const seed = testSeed(0x5eed_c3c);
  t.comment(`seed ${seed} (replay with IMS_TEST_SEED=${seed})`);
  const rnd = new SeededRandom(seed);
  const backing = new Uint8Array(MAX_CASE_BYTES + 64);
  let mismatches = 0;
  for (let c = 0; c < RANDOM_CASES; c++) {
    rnd.fill(backing);
    const offset = rnd.int(0, 63);
    // Mostly short lengths (every tail length of the 8-byte loop), sometimes long ones.
    const length = c % 4 === 0 ? rnd.int(0, MAX_CASE_BYTES) : rnd.int(0, 40);
    const expected = crc32cReference(backing.subarray(offset, offset + length));
    const viaArrayBuffer = native.crc32c(backing.buffer, offset, length);
    const viaView = native.crc32c(backing.subarray(offset), 0, length);
    if (viaArrayBuffer !== expected || viaView !== expected) {
      mismatches++;
      if (mismatches <= 3) t.fail(`case ${c}: offset ${offset} length ${length}: native ${viaArrayBuffer}/${viaView}, reference ${expected}`);
    }
  }
  t.equal(mismatches, 0, `${RANDOM_CASES} random cases agree with the reference`);
});

t.test('crc32c continued with a seed equals the crc32c of the concatenation', async (t) => {
  const rnd = new SeededRandom(testSeed(77));
  const bytes = new Uint8Array(1000);
  rnd.fill(bytes);
  const whole = native.crc32c(bytes, 0, 1000);
  for (const split of [0, 1, 7, 8, 333, 999, 1000]) {
    const first = native.crc32c(bytes, 0, split);
    t.equal(native.crc32c(bytes, split, 1000 - split, first), whole, `split at ${split}`);
  }
  t.equal(crc32cReference(bytes.subarray(500), crc32cReference(bytes.subarray(0, 500))), whole, 'the reference chains the same way');
});

t.test('crc32c rejects ranges outside the buffer and non-buffers with a TypeError', async (t) => {
  const bytes = new Uint8Array(16);
  t.throws(() => native.crc32c(bytes, 10, 7), TypeError);
  t.throws(() => native.crc32c(bytes.subarray(8), 0, 9), TypeError, 'a view is bounded by its own length');
  t.throws(() => native.crc32c('abc' as unknown as Uint8Array, 0, 3), TypeError);
  t.throws(() => native.crc32c(bytes, -1, 3), TypeError);
});
