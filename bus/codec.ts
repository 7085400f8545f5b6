// Reading and writing the messages declared in bus/schema.ts.
//
// Two levels, for two kinds of caller:
//  - Hot path (engine, sequencer, product manager, gateway): the primitives below, a DataView over
//    the ring and an absolute byte offset, `writeI64(view, body + NewOrder.o.price, price)`. They
//    allocate nothing, use no BigInt and assert their range cheaply (one compare), because a
//    silently wrapped integer in the journal is a wrong trade replayed forever.
//  - Edges and tools (gateway normalisation, CLI, tests, the JSON dump of the journal): `encode`
//    validates every field and names the message and field it rejects; `decode` returns a plain
//    object; `decodeInto` fills a pre-allocated object (from `allocValue`) without allocating,
//    except the strings of char fields.
//
// Every offset here is absolute within the DataView; the caller adds the header size (see the
// diagram in bus/schema.ts). Everything is little-endian.

import { FieldKind, type Layout, type ValueOf } from './schema';

const TWO_POW_32 = 4294967296;
const LITTLE_ENDIAN = true;
const RECORD_ALIGNMENT_BYTES = 8;
const ASCII_MAX = 0x7f;

// ---------------------------------------------------------------------------------------------
// Hot-path primitives.

export function readU8(view: DataView, offset: number): number {
  return view.getUint8(offset);
}

export function readU16(view: DataView, offset: number): number {
  return view.getUint16(offset, LITTLE_ENDIAN);
}

export function readU32(view: DataView, offset: number): number {
  return view.getUint32(offset, LITTLE_ENDIAN);
}

export function readI32(view: DataView, offset: number): number {
  return view.getInt32(offset, LITTLE_ENDIAN);
}

/**
 * Reads an i64 stored as lo u32 + hi i32. Exact for every value in the safe-integer range; a
 * stored value outside it comes back rounded (decode() checks, the hot path trusts the writer).
 */
export function readI64(view: DataView, offset: number): number {
  return view.getInt32(offset + 4, LITTLE_ENDIAN) * TWO_POW_32 + view.getUint32(offset, LITTLE_ENDIAN);
}

export function writeU8(view: DataView, offset: number, value: number): void {
  if ((value & 0xff) !== value) throw new RangeError(`writeU8 at ${offset}: ${value} is not an integer in [0, 255]`);
  view.setUint8(offset, value);
}

export function writeU16(view: DataView, offset: number, value: number): void {
  if ((value & 0xffff) !== value) throw new RangeError(`writeU16 at ${offset}: ${value} is not an integer in [0, 65535]`);
  view.setUint16(offset, value, LITTLE_ENDIAN);
}

export function writeU32(view: DataView, offset: number, value: number): void {
  if (value >>> 0 !== value) throw new RangeError(`writeU32 at ${offset}: ${value} is not an integer in [0, 2**32-1]`);
  view.setUint32(offset, value, LITTLE_ENDIAN);
}

export function writeI32(view: DataView, offset: number, value: number): void {
  if ((value | 0) !== value) throw new RangeError(`writeI32 at ${offset}: ${value} is not an integer in [-2**31, 2**31-1]`);
  view.setInt32(offset, value, LITTLE_ENDIAN);
}

/** Writes a safe integer as lo u32 + hi i32 (two's complement of the 64-bit value). */
export function writeI64(view: DataView, offset: number, value: number): void {
  if (!Number.isSafeInteger(value)) throw new RangeError(`writeI64 at ${offset}: ${value} is not a safe integer`);
  // ToUint32 is the exact value modulo 2**32, also for negatives; the division by a power of two
  // is exact, so floor gives the signed high word.
  view.setUint32(offset, value >>> 0, LITTLE_ENDIAN);
  view.setInt32(offset + 4, Math.floor(value / TWO_POW_32), LITTLE_ENDIAN);
}

/**
 * Writes `text` into a char[length] field, zero-padded. Asserts it fits and is ASCII 1..127 (NUL
 * is the padding, so it could not be read back). Allocation-free.
 */
export function writeChars(view: DataView, offset: number, length: number, text: string): void {
  if (text.length > length) throw new RangeError(`writeChars at ${offset}: ${text.length} chars do not fit in char[${length}]`);
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0 || code > ASCII_MAX) throw new RangeError(`writeChars at ${offset}: char code ${code} at index ${i} is not ASCII 1..127`);
    view.setUint8(offset + i, code);
  }
  for (let i = text.length; i < length; i++) view.setUint8(offset + i, 0);
}

/** Reads a char[length] field up to its first NUL. Allocates the string: for tools and replies. */
export function readChars(view: DataView, offset: number, length: number): string {
  let text = '';
  for (let i = 0; i < length; i++) {
    const code = view.getUint8(offset + i);
    if (code === 0) break;
    text += String.fromCharCode(code);
  }
  return text;
}

/** True when the char[length] field holds exactly `text` (zero-padded). Allocation-free. */
export function charsEqual(view: DataView, offset: number, length: number, text: string): boolean {
  if (text.length > length) return false;
  for (let i = 0; i < text.length; i++) {
    if (view.getUint8(offset + i) !== text.charCodeAt(i)) return false;
  }
  return text.length === length || view.getUint8(offset + text.length) === 0;
}

/** True when two char[length] fields (possibly in different buffers) hold the same bytes. */
export function charFieldsEqual(a: DataView, aOffset: number, b: DataView, bOffset: number, length: number): boolean {
  for (let i = 0; i < length; i++) {
    if (a.getUint8(aOffset + i) !== b.getUint8(bOffset + i)) return false;
  }
  return true;
}

/**
 * Copies a char[length] field byte for byte (padding included), e.g. a clientOrderId from a
 * command into an execution report. Allocation-free; the two ranges must not overlap.
 */
export function copyChars(src: DataView, srcOffset: number, dst: DataView, dstOffset: number, length: number): void {
  for (let i = 0; i < length; i++) dst.setUint8(dstOffset + i, src.getUint8(srcOffset + i));
}

/**
 * Zeroes `byteLength` bytes. Hot-path writers clear a body before setting its fields so padding
 * bytes are deterministic (the journal is checksummed and replayed byte for byte).
 */
export function clearBytes(view: DataView, offset: number, byteLength: number): void {
  let i = 0;
  for (; i + 4 <= byteLength; i += 4) view.setUint32(offset + i, 0);
  for (; i < byteLength; i++) view.setUint8(offset + i, 0);
}

// ---------------------------------------------------------------------------------------------
// Validated, generic encode/decode for the edges and tools.

/** A value rejected by `encode`: names the message (or header), the field and the value. */
export class CodecError extends RangeError {
  constructor(
    readonly messageName: string,
    readonly fieldName: string,
    readonly value: unknown,
    problem: string,
  ) {
    super(`${messageName}.${fieldName}: ${describe(value)} ${problem}`);
    this.name = 'CodecError';
  }
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`;
  return String(value);
}

function assertRecordFits(desc: Layout, view: DataView, offset: number): void {
  if (!Number.isInteger(offset) || offset < 0 || offset + desc.size > view.byteLength) {
    throw new RangeError(`${desc.name}: ${desc.size} bytes at offset ${offset} do not fit a view of ${view.byteLength} bytes`);
  }
  if ((view.byteOffset + offset) % RECORD_ALIGNMENT_BYTES !== 0) {
    throw new RangeError(`${desc.name}: offset ${offset} (+ view byteOffset ${view.byteOffset}) is not 8-byte aligned`);
  }
}

function validateField(desc: Layout, index: number, value: unknown): void {
  const field = desc.fields[index];
  if (field.kind === FieldKind.CHAR) {
    if (typeof value !== 'string') throw new CodecError(desc.name, field.name, value, `is not a string (char[${field.size}])`);
    if (value.length > field.size) {
      throw new CodecError(desc.name, field.name, value, `is ${value.length} chars, longer than char[${field.size}]`);
    }
    for (let i = 0; i < value.length; i++) {
      const code = value.charCodeAt(i);
      if (code === 0 || code > ASCII_MAX) {
        throw new CodecError(desc.name, field.name, value, `has char code ${code} at index ${i}; only ASCII 1..127 is allowed`);
      }
    }
    return;
  }
  if (typeof value !== 'number') throw new CodecError(desc.name, field.name, value, `is not a number (${field.type})`);
  if (!Number.isInteger(value)) throw new CodecError(desc.name, field.name, value, `is not an integer (${field.type})`);
  let min = Number.MIN_SAFE_INTEGER;
  let max = Number.MAX_SAFE_INTEGER;
  switch (field.kind) {
    case FieldKind.U8:
      min = 0;
      max = 0xff;
      break;
    case FieldKind.U16:
      min = 0;
      max = 0xffff;
      break;
    case FieldKind.U32:
      min = 0;
      max = 0xffffffff;
      break;
    case FieldKind.I32:
      min = -0x80000000;
      max = 0x7fffffff;
      break;
    default:
      break; // I64: the safe-integer range set above.
  }
  if (value < min || value > max) {
    const range = field.kind === FieldKind.I64 ? 'the safe-integer range' : `[${min}, ${max}]`;
    throw new CodecError(desc.name, field.name, value, `is outside ${range} (${field.type})`);
  }
}

function writeField(view: DataView, at: number, kind: FieldKind, size: number, value: number | string): void {
  switch (kind) {
    case FieldKind.U8:
      writeU8(view, at, value as number);
      return;
    case FieldKind.U16:
      writeU16(view, at, value as number);
      return;
    case FieldKind.U32:
      writeU32(view, at, value as number);
      return;
    case FieldKind.I32:
      writeI32(view, at, value as number);
      return;
    case FieldKind.I64:
      writeI64(view, at, value as number);
      return;
    case FieldKind.CHAR:
      writeChars(view, at, size, value as string);
      return;
  }
}

function readField(view: DataView, at: number, kind: FieldKind, size: number): number | string {
  switch (kind) {
    case FieldKind.U8:
      return readU8(view, at);
    case FieldKind.U16:
      return readU16(view, at);
    case FieldKind.U32:
      return readU32(view, at);
    case FieldKind.I32:
      return readI32(view, at);
    case FieldKind.I64:
      return readI64(view, at);
    case FieldKind.CHAR:
      return readChars(view, at, size);
  }
}

/**
 * Validates every field of `value`, then writes the body of `desc` at `offset` (8-byte aligned),
 * padding zeroed. Throws a CodecError naming message, field and value; a rejected value leaves the
 * buffer untouched. Returns the bytes written (desc.size).
 */
export function encode<L extends Layout>(desc: L, value: ValueOf<L>, view: DataView, offset: number): number {
  assertRecordFits(desc, view, offset);
  const source = value as Readonly<Record<string, unknown>>;
  const fields = desc.fields;
  for (let i = 0; i < fields.length; i++) validateField(desc, i, source[fields[i].name]);
  clearBytes(view, offset, desc.size);
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i];
    writeField(view, offset + f.offset, f.kind, f.size, source[f.name] as number | string);
  }
  return desc.size;
}

/** Reads the body of `desc` at `offset` into a new plain object (fields in declaration order). */
export function decode<L extends Layout>(desc: L, view: DataView, offset: number): ValueOf<L> {
  assertRecordFits(desc, view, offset);
  const out: Record<string, number | string> = {};
  for (const f of desc.fields) {
    const v = readField(view, offset + f.offset, f.kind, f.size);
    if (f.kind === FieldKind.I64 && !Number.isSafeInteger(v)) {
      // Only a corrupt record or a foreign writer gets here: every writer asserts the range.
      throw new CodecError(desc.name, f.name, v, `read at offset ${offset + f.offset} is outside the safe-integer range (corrupt record?)`);
    }
    out[f.name] = v;
  }
  return out as ValueOf<L>;
}

/**
 * Fills `target` (made once by `allocValue`) with the body of `desc` at `offset`. Allocates
 * nothing except the strings of char fields; does not re-check bounds, alignment or i64 range.
 */
export function decodeInto<L extends Layout>(desc: L, view: DataView, offset: number, target: ValueOf<L>): ValueOf<L> {
  const out = target as Record<string, number | string>;
  const fields = desc.fields;
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i];
    out[f.name] = readField(view, offset + f.offset, f.kind, f.size);
  }
  return target;
}

/** A zeroed value with every field present, in declaration order: a target for decodeInto. */
export function allocValue<L extends Layout>(desc: L): ValueOf<L> {
  const out: Record<string, number | string> = {};
  for (const f of desc.fields) out[f.name] = f.kind === FieldKind.CHAR ? '' : 0;
  return out as ValueOf<L>;
}
