// The product manager's snapshot file: the same header layout as the engine's snapshots (magic,
// version, header bytes, body bytes, CRC32C of the body) around the canonical state encoding that
// ProductManagerState.writeState also feeds to the state hash — so a snapshot and the hash can
// never disagree about what the state is.
//
//   0        4        6        8                16       20       24
//   +--------+--------+--------+----------------+--------+--------+---------------- - -
//   | magic  |version | header |  body bytes    | crc32c | zero   | body (canonical
//   | "IMSP" |  u16   |bytes u16|     f64       |of body |  u32   | state encoding)
//   +--------+--------+--------+----------------+--------+--------+---------------- - -

import { native } from '../../native/addon';
import { SNAPSHOT_HEADER_BYTES, SNAPSHOT_OFFSET } from '../matching-engine/state-encoding';

export const PM_SNAPSHOT_MAGIC = 0x504d5349; // the bytes "IMSP"
export const PM_SNAPSHOT_VERSION = 1;
export { SNAPSHOT_HEADER_BYTES, SNAPSHOT_OFFSET };

/** Frames a canonical body: fills the header of `bytes` (whose body is already written). */
export function sealSnapshot(bytes: Uint8Array, bodyBytes: number): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  view.setUint32(SNAPSHOT_OFFSET.magic, PM_SNAPSHOT_MAGIC, true);
  view.setUint16(SNAPSHOT_OFFSET.version, PM_SNAPSHOT_VERSION, true);
  view.setUint16(SNAPSHOT_OFFSET.headerBytes, SNAPSHOT_HEADER_BYTES, true);
  view.setFloat64(SNAPSHOT_OFFSET.bodyBytes, bodyBytes, true);
  view.setUint32(SNAPSHOT_OFFSET.crc, native.crc32c(bytes, SNAPSHOT_HEADER_BYTES, bodyBytes), true);
  view.setUint32(SNAPSHOT_OFFSET.reserved, 0, true);
}

/** Checks a snapshot's header and checksum; returns a reader over its body. Throws saying what is wrong. */
export function openSnapshot(bytes: Uint8Array): SnapshotReader {
  if (bytes.length < SNAPSHOT_HEADER_BYTES) {
    throw new Error(`product-manager snapshot: ${bytes.length} bytes is shorter than the ${SNAPSHOT_HEADER_BYTES}-byte header`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(SNAPSHOT_OFFSET.magic, true);
  if (magic !== PM_SNAPSHOT_MAGIC) throw new Error(`product-manager snapshot: bad magic 0x${magic.toString(16)} (not a product-manager snapshot)`);
  const version = view.getUint16(SNAPSHOT_OFFSET.version, true);
  if (version !== PM_SNAPSHOT_VERSION) {
    throw new Error(`product-manager snapshot: format version ${version}, this product manager reads version ${PM_SNAPSHOT_VERSION}`);
  }
  const headerBytes = view.getUint16(SNAPSHOT_OFFSET.headerBytes, true);
  const bodyBytes = view.getFloat64(SNAPSHOT_OFFSET.bodyBytes, true);
  if (headerBytes !== SNAPSHOT_HEADER_BYTES || headerBytes + bodyBytes !== bytes.length) {
    throw new Error(`product-manager snapshot: header says ${headerBytes} + ${bodyBytes} bytes but ${bytes.length} were given (truncated or padded file)`);
  }
  const stored = view.getUint32(SNAPSHOT_OFFSET.crc, true);
  const actual = native.crc32c(bytes, headerBytes, bodyBytes);
  if (stored !== actual) {
    throw new Error(`product-manager snapshot: CRC32C mismatch (stored 0x${stored.toString(16)}, computed 0x${actual.toString(16)}): the file is corrupt`);
  }
  return new SnapshotReader(view, headerBytes, bytes.length);
}

export class SnapshotReader {
  constructor(
    private readonly view: DataView,
    public offset: number,
    private readonly end: number,
  ) {}

  private need(n: number): void {
    if (this.offset + n > this.end) {
      throw new Error(`product-manager snapshot: truncated body (needs byte ${this.offset + n}, body ends at ${this.end})`);
    }
  }

  u8(): number {
    this.need(1);
    return this.view.getUint8(this.offset++);
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
