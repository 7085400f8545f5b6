// One canonical encoding of the engine's whole state, written through a StateWriter. The same
// traversal feeds three writers, so the snapshot and the state hash can never disagree about what
// "the state" is:
//   ByteCounter  — measures the encoding (to allocate the snapshot buffer once),
//   ByteWriter   — writes it (the snapshot body),
//   StateHasher  — folds it into a 64-bit hash (two independent 32-bit lanes).
//
// Snapshot file layout (little-endian):
//
//   0        4        6        8                16       20       24
//   +--------+--------+--------+----------------+--------+--------+---------------- - -
//   | magic  |version | header |  body bytes    | crc32c | zero   | body (the canonical
//   | "IMSE" |  u16   |bytes u16|     f64       |of body |  u32   | state encoding)
//   +--------+--------+--------+----------------+--------+--------+---------------- - -

export interface StateWriter {
  u8(value: number): void;
  u32(value: number): void;
  /** Any double; the engine writes safe integers only. */
  f64(value: number): void;
}

export const SNAPSHOT_MAGIC = 0x45534d49; // the bytes "IMSE"
export const SNAPSHOT_VERSION = 1;
export const SNAPSHOT_HEADER_BYTES = 24;
export const SNAPSHOT_OFFSET = { magic: 0, version: 4, headerBytes: 6, bodyBytes: 8, crc: 16, reserved: 20 } as const;

export class ByteCounter implements StateWriter {
  bytes = 0;
  u8(): void {
    this.bytes += 1;
  }
  u32(): void {
    this.bytes += 4;
  }
  f64(): void {
    this.bytes += 8;
  }
}

export class ByteWriter implements StateWriter {
  private readonly view: DataView;
  offset: number;

  constructor(readonly bytes: Uint8Array, offset: number) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.offset = offset;
  }
  u8(value: number): void {
    this.view.setUint8(this.offset, value);
    this.offset += 1;
  }
  u32(value: number): void {
    this.view.setUint32(this.offset, value, true);
    this.offset += 4;
  }
  f64(value: number): void {
    this.view.setFloat64(this.offset, value, true);
    this.offset += 8;
  }
}

export class ByteReader {
  private readonly view: DataView;
  offset: number;

  constructor(readonly bytes: Uint8Array, offset: number, private readonly end: number) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.offset = offset;
  }
  private need(n: number): void {
    if (this.offset + n > this.end) {
      throw new Error(`matching-engine snapshot: truncated body (needs byte ${this.offset + n}, body ends at ${this.end})`);
    }
  }
  u8(): number {
    this.need(1);
    const v = this.view.getUint8(this.offset);
    this.offset += 1;
    return v;
  }
  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.offset, true);
    this.offset += 4;
    return v;
  }
  f64(): number {
    this.need(8);
    const v = this.view.getFloat64(this.offset, true);
    this.offset += 8;
    return v;
  }
  get atEnd(): boolean {
    return this.offset === this.end;
  }
}

/**
 * A 64-bit state hash as two independent 32-bit lanes over the encoding's 32-bit words: lane `hi`
 * is murmur3's block mix, lane `lo` is FNV-1a over the word's bytes. Both are finalized with the
 * word count and murmur3's avalanche. Not cryptographic; it detects divergence between engines.
 */
export class StateHasher implements StateWriter {
  private h1 = 0x9747b28c;
  private h2 = 0x811c9dc5;
  private words = 0;
  private readonly scratch = new Float64Array(1);
  private readonly scratchWords = new Uint32Array(this.scratch.buffer);

  u8(value: number): void {
    this.word(value & 0xff);
  }
  u32(value: number): void {
    this.word(value >>> 0);
  }
  f64(value: number): void {
    this.scratch[0] = value;
    this.word(this.scratchWords[0]);
    this.word(this.scratchWords[1]);
  }

  private word(w: number): void {
    let k = Math.imul(w, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    let h1 = this.h1 ^ k;
    h1 = (h1 << 13) | (h1 >>> 19);
    this.h1 = (Math.imul(h1, 5) + 0xe6546b64) | 0;

    let h2 = this.h2;
    h2 = Math.imul(h2 ^ (w & 0xff), 0x01000193);
    h2 = Math.imul(h2 ^ ((w >>> 8) & 0xff), 0x01000193);
    h2 = Math.imul(h2 ^ ((w >>> 16) & 0xff), 0x01000193);
    h2 = Math.imul(h2 ^ (w >>> 24), 0x01000193);
    this.h2 = h2;
    this.words++;
  }

  digest(): StateHash {
    return { hi: avalanche(this.h1 ^ this.words), lo: avalanche(this.h2 ^ Math.imul(this.words, 0x9e3779b1)) };
  }
}

/** The engine state hash: two unsigned 32-bit halves (EngineCheckpoint.stateHashHi / stateHashLo). */
export interface StateHash {
  readonly hi: number;
  readonly lo: number;
}

export function stateHashHex(hash: StateHash): string {
  return hash.hi.toString(16).padStart(8, '0') + hash.lo.toString(16).padStart(8, '0');
}

function avalanche(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
