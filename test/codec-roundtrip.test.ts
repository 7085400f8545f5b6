// Every message (and both headers) survives encode -> decode exactly, writes only its own bytes,
// and every invalid value is rejected with an error naming the message and the field.
import { strict as assert } from 'node:assert';
import t from 'tap';
import fc from 'fast-check';
import {
  FieldKind,
  InputHeader,
  JournalHeader,
  MESSAGES,
  NewOrder,
  Heartbeat,
  ListProduct,
  type AnyLayout,
  type FieldLayout,
} from '../bus/schema';
import {
  CodecError,
  allocValue,
  charFieldsEqual,
  charsEqual,
  clearBytes,
  copyChars,
  decode,
  decodeInto,
  encode,
  readChars,
  readI64,
  readU8,
  writeChars,
  writeI32,
  writeI64,
  writeU16,
  writeU32,
  writeU8,
} from '../bus/codec';

/** Fixed so a failure reproduces; override with IMS_TEST_SEED to explore. */
const SEED = Number(process.env.IMS_TEST_SEED ?? 0x1a5e_2025);
const RUNS_PER_MESSAGE = 300;
t.comment(`seed ${SEED} (set IMS_TEST_SEED to change), ${RUNS_PER_MESSAGE} runs per message`);

const MAX_SLOTS = 16; // the record lands in one of 16 8-byte slots of a larger buffer
const GUARD_BYTES = 24; // bytes after the last slot that must stay untouched

const u32 = fc.oneof(
  fc.constantFrom(0, 1, 0x7fffffff, 0x80000000, 0xffffffff),
  fc.tuple(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xffff })).map(([hi, lo]) => hi * 0x10000 + lo),
);
const i64 = fc.oneof(
  fc.constantFrom(
    0,
    1,
    -1,
    Number.MAX_SAFE_INTEGER,
    Number.MIN_SAFE_INTEGER,
    2 ** 32,
    -(2 ** 32),
    2 ** 32 - 1,
    -(2 ** 32) + 1,
    2 ** 31,
    -(2 ** 31),
  ),
  fc.maxSafeInteger(),
  fc.integer(), // the 32-bit range, where most prices and quantities live
);
const asciiChar = fc.integer({ min: 1, max: 127 }).map((c) => String.fromCharCode(c));

function arbitraryFor(field: FieldLayout): fc.Arbitrary<number | string> {
  switch (field.kind) {
    case FieldKind.U8:
      return fc.integer({ min: 0, max: 0xff });
    case FieldKind.U16:
      return fc.integer({ min: 0, max: 0xffff });
    case FieldKind.U32:
      return u32;
    case FieldKind.I32:
      return fc.integer({ min: -0x80000000, max: 0x7fffffff });
    case FieldKind.I64:
      return i64;
    case FieldKind.CHAR:
      return fc.oneof(
        fc.string({ unit: asciiChar, maxLength: field.size }),
        fc.string({ unit: asciiChar, minLength: field.size, maxLength: field.size }),
      );
  }
}

function arbitraryValue(desc: AnyLayout): fc.Arbitrary<Record<string, number | string>> {
  return fc.record(Object.fromEntries(desc.fields.map((f) => [f.name, arbitraryFor(f)])));
}

/** Noise that differs from byte to byte, so an untouched byte is distinguishable from a written one. */
function noise(seed: number, index: number): number {
  return (seed + index * 131) & 0xff;
}

function roundTripProperty(desc: AnyLayout) {
  return fc.property(
    arbitraryValue(desc),
    fc.integer({ min: 0, max: MAX_SLOTS - 1 }),
    fc.integer({ min: 0, max: 3 }),
    fc.integer({ min: 0, max: 255 }),
    (value, slot, viewSlot, noiseSeed) => {
      // The DataView itself starts at an 8-aligned byteOffset inside its ArrayBuffer, as a ring's
      // data region does inside the mapped file.
      const viewOffset = viewSlot * 8;
      const total = viewOffset + MAX_SLOTS * 8 + desc.size + GUARD_BYTES;
      const bytes = new Uint8Array(total);
      for (let i = 0; i < total; i++) bytes[i] = noise(noiseSeed, i);
      const view = new DataView(bytes.buffer, viewOffset);
      const offset = slot * 8;

      assert.equal(encode(desc, value, view, offset), desc.size);

      const decoded = decode(desc, view, offset);
      assert.deepStrictEqual(decoded, { ...value }); // fc.record builds null-prototype objects
      assert.deepStrictEqual(Object.keys(decoded), desc.fields.map((f) => f.name), 'decode keeps declaration order');

      const start = viewOffset + offset;
      for (let i = 0; i < total; i++) {
        if (i < start || i >= start + desc.size) assert.equal(bytes[i], noise(noiseSeed, i), `byte ${i} outside the record changed`);
      }

      // Padding is zeroed: the same value gives the same bytes whatever the buffer held before.
      const clean = new DataView(new ArrayBuffer(desc.size));
      encode(desc, value, clean, 0);
      assert.deepStrictEqual(bytes.subarray(start, start + desc.size), new Uint8Array(clean.buffer));

      const target = allocValue(desc);
      assert.equal(decodeInto(desc, view, offset, target), target, 'decodeInto fills and returns the target');
      assert.deepStrictEqual(target, decoded);
    },
  );
}

t.test('every message and header round-trips through encode/decode/decodeInto', async (t) => {
  for (const desc of [InputHeader, JournalHeader, ...MESSAGES]) {
    t.test(desc.name, async (t) => {
      fc.assert(roundTripProperty(desc), { seed: SEED, numRuns: RUNS_PER_MESSAGE });
      t.pass(`${RUNS_PER_MESSAGE} random ${desc.name} values round-trip and touch only their ${desc.size} bytes`);
    });
  }
});

t.test('readI64/writeI64 are exact over the whole safe range, negatives included', async (t) => {
  const view = new DataView(new ArrayBuffer(16));
  const exact = [
    0,
    1,
    -1,
    Number.MAX_SAFE_INTEGER,
    Number.MIN_SAFE_INTEGER,
    2 ** 32,
    -(2 ** 32),
    2 ** 32 - 1,
    -(2 ** 32) - 1,
    2 ** 31,
    -(2 ** 31) - 1,
    -123456789012345,
  ];
  for (const v of exact) {
    writeI64(view, 8, v);
    t.equal(view.getBigInt64(8, true), BigInt(v), `${v} is stored as the 64-bit two's complement, little-endian`);
    t.equal(readI64(view, 8), v, `${v} reads back exactly`);
  }
  writeI64(view, 0, Number.MAX_SAFE_INTEGER);
  t.same([...new Uint8Array(view.buffer, 0, 8)], [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x1f, 0x00], '2**53-1 bytes');
  writeI64(view, 0, -1);
  t.same([...new Uint8Array(view.buffer, 0, 8)], [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], '-1 bytes');

  fc.assert(
    fc.property(fc.maxSafeInteger(), (v) => {
      writeI64(view, 0, v);
      assert.equal(view.getBigInt64(0, true), BigInt(v));
      assert.equal(readI64(view, 0), v);
    }),
    { seed: SEED, numRuns: 2000 },
  );
  t.pass('2000 random safe integers agree with DataView.setBigInt64');

  // Every 64-bit pattern that is a safe integer reads back as that integer.
  fc.assert(
    fc.property(fc.bigInt({ min: -(2n ** 53n) + 1n, max: 2n ** 53n - 1n }), (b) => {
      view.setBigInt64(0, b, true);
      assert.equal(readI64(view, 0), Number(b));
    }),
    { seed: SEED, numRuns: 2000 },
  );
  t.pass('2000 random safe 64-bit patterns read back exactly');
});

// A valid NewOrder to corrupt one field at a time.
const validOrder = {
  orderId: 42,
  price: 12_345,
  quantity: 10,
  accountId: 7,
  productId: 3,
  requestId: 99,
  gatewayId: 2,
  side: 1,
  timeInForce: 1,
  flags: 0,
  clientOrderId: 'kiosk-17/0001',
};

t.test('encode rejects invalid values with an error naming message, field and value', async (t) => {
  const cases: [field: string, value: unknown, problem: RegExp][] = [
    ['side', 256, /outside \[0, 255\]/],
    ['side', -1, /outside \[0, 255\]/],
    ['gatewayId', 65_536, /outside \[0, 65535\]/],
    ['accountId', 2 ** 32, /outside \[0, 4294967295\]/],
    ['accountId', -1, /outside \[0, 4294967295\]/],
    ['price', 2 ** 53, /outside the safe-integer range/],
    ['price', -(2 ** 53), /outside the safe-integer range/],
    ['quantity', Number.MAX_SAFE_INTEGER + 2, /outside the safe-integer range/],
    ['price', 10.5, /not an integer/],
    ['side', 1.5, /not an integer/],
    ['accountId', 0.1, /not an integer/],
    ['quantity', Number.NaN, /not an integer/],
    ['quantity', Number.POSITIVE_INFINITY, /not an integer/],
    ['price', '12345', /not a number/],
    ['price', 12_345n, /not a number/],
    ['price', undefined, /not a number/],
    ['clientOrderId', 'x'.repeat(25), /25 chars, longer than char\[24\]/],
    ['clientOrderId', 'café', /char code 233 at index 3/],
    ['clientOrderId', 'a\u0000b', /char code 0 at index 1/],
    ['clientOrderId', '📦', /char code 55357 at index 0/],
    ['clientOrderId', 17, /not a string/],
  ];
  const bytes = new Uint8Array(NewOrder.size).fill(0xa5);
  const view = new DataView(bytes.buffer);
  for (const [field, value, problem] of cases) {
    const bad = { ...validOrder, [field]: value } as typeof validOrder;
    let thrown: unknown;
    try {
      encode(NewOrder, bad, view, 0);
    } catch (error) {
      thrown = error;
    }
    const label = `NewOrder.${field} = ${typeof value === 'string' ? JSON.stringify(value) : String(value)}`;
    t.ok(thrown instanceof CodecError, `${label} throws a CodecError`);
    const e = thrown as CodecError;
    t.match(e.message, new RegExp(`^NewOrder\\.${field}: `), `${label}: message names message and field`);
    t.match(e.message, problem, `${label}: message says what is wrong: ${e.message}`);
    t.equal(e.fieldName, field);
    t.equal(e.messageName, 'NewOrder');
    t.ok(bytes.every((b) => b === 0xa5), `${label}: the buffer is untouched`);
  }
  t.throws(() => encode(ListProduct, { ...allocValue(ListProduct), symbol: 'S'.repeat(17) }, view, 0), /^ListProduct\.symbol: /);
  t.throws(() => encode(InputHeader, { sourceSeq: 1, sourceId: 1, flags: 0, epoch: -1 }, view, 0), /^InputHeader\.epoch: -1 is outside/);
});

t.test('encode and decode refuse misaligned or out-of-bounds offsets', async (t) => {
  const view = new DataView(new ArrayBuffer(NewOrder.size + 8));
  t.throws(() => encode(NewOrder, validOrder, view, 4), /NewOrder: offset 4 .* not 8-byte aligned/);
  t.throws(() => encode(NewOrder, validOrder, view, 16), /NewOrder: 72 bytes at offset 16 do not fit a view of 80 bytes/);
  t.throws(() => decode(NewOrder, view, 16), /do not fit/);
  t.throws(() => encode(NewOrder, validOrder, new DataView(view.buffer, 4), 0), /not 8-byte aligned/);
  t.equal(encode(NewOrder, validOrder, view, 8), 72);
});

t.test('decode reports a stored i64 outside the safe range as a corrupt field', async (t) => {
  const view = new DataView(new ArrayBuffer(Heartbeat.size));
  encode(Heartbeat, { timestampUs: 1, position: 2, epoch: 3, sourceId: 4, role: 5 }, view, 0);
  view.setBigInt64(Heartbeat.o.position, 2n ** 53n, true);
  t.throws(() => decode(Heartbeat, view, 0), /^Heartbeat\.position: 9007199254740992 read at offset 8 is outside the safe-integer range/);
});

t.test('hot-path writers assert their range instead of wrapping', async (t) => {
  const view = new DataView(new ArrayBuffer(32));
  t.throws(() => writeU8(view, 0, 256), /writeU8 at 0: 256 is not an integer in \[0, 255\]/);
  t.throws(() => writeU8(view, 0, -1), /writeU8/);
  t.throws(() => writeU8(view, 0, 1.5), /writeU8/);
  t.throws(() => writeU16(view, 0, 65_536), /writeU16/);
  t.throws(() => writeU32(view, 0, 2 ** 32), /writeU32/);
  t.throws(() => writeU32(view, 0, -1), /writeU32/);
  t.throws(() => writeI32(view, 0, 2 ** 31), /writeI32/);
  t.throws(() => writeI64(view, 0, 2 ** 53), /writeI64 at 0: 9007199254740992 is not a safe integer/);
  t.throws(() => writeI64(view, 0, 0.5), /writeI64/);
  t.throws(() => writeI64(view, 0, Number.NaN), /writeI64/);
  t.throws(() => writeChars(view, 0, 4, 'abcde'), /do not fit in char\[4\]/);
  t.throws(() => writeChars(view, 0, 4, 'é'), /not ASCII/);
  t.ok(new Uint8Array(view.buffer).every((b) => b === 0), 'a rejected write leaves the bytes as they were');
});

t.test('char helpers compare and copy without decoding', async (t) => {
  const a = new DataView(new ArrayBuffer(32));
  const b = new DataView(new ArrayBuffer(48));
  writeChars(a, 8, 16, 'APPL-128');
  t.equal(readChars(a, 8, 16), 'APPL-128');
  t.ok(charsEqual(a, 8, 16, 'APPL-128'), 'equal text');
  t.notOk(charsEqual(a, 8, 16, 'APPL-12'), 'a prefix is not equal');
  t.notOk(charsEqual(a, 8, 16, 'APPL-1280'), 'a longer text is not equal');
  t.notOk(charsEqual(a, 8, 16, 'x'.repeat(17)), 'a text longer than the field is not equal');
  t.ok(charsEqual(a, 24, 8, ''), 'an empty field equals the empty string');
  writeChars(a, 24, 8, '12345678');
  t.ok(charsEqual(a, 24, 8, '12345678'), 'a full-length field has no terminator');
  t.equal(readChars(a, 24, 8), '12345678');

  b.setUint8(20, 0xee); // stale bytes must be overwritten by the copy, padding included
  copyChars(a, 8, b, 16, 16);
  t.equal(readChars(b, 16, 16), 'APPL-128');
  t.equal(b.getUint8(20 + 4), 0, 'padding copied as zero');
  t.ok(charFieldsEqual(a, 8, b, 16, 16), 'copied field compares equal');
  writeChars(b, 16, 16, 'APPL-129');
  t.notOk(charFieldsEqual(a, 8, b, 16, 16), 'different field compares unequal');

  clearBytes(a, 0, 32);
  t.ok(new Uint8Array(a.buffer).every((x) => x === 0), 'clearBytes zeroes the range');
  t.equal(readU8(a, 8), 0);
});
