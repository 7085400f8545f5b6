// Engine process snapshots on disk: the whole replica (the Engine's own snapshot bytes, the pending
// outputs and the replica meta), tagged with the journal seq it is the state after. A restarted
// instance loads the newest valid one and replays the journal from seq + 1.
//
// Both instances compute identical state at every seq, so their snapshots are interchangeable and
// share one directory (<dataDir>/engine-snapshots/): whichever instance writes one, either loads it.
//
//   file engine-<seq, 20 digits>.snap (names sort as numbers), little-endian:
//   +-----------+-------------+-----------------+------------+------------+
//   | 0 magic   | 4 version   | 6 headerBytes   | 8 crc32c   | 12 zero    |  crc32c of bytes [16, end)
//   |  "IMEP"   |   u16 (=1)  |   u16 (=128)    |   u32      |   u32      |
//   +-----------+-------------+-----------------+------------+------------+
//   | 16 journalSeq | 24 commandsApplied | 32 lastCheckpointInSeq | 40 lastCommandOutputs |  f64 each
//   | 48 lastJournaledInSeq | 56 lastJournaledOutIndex | 64 maxEpochSeen                  |
//   | 72 lastSourceSeqA | 80 lastSourceSeqB | 88 evictedInSeq | 96 evictedOutIndex          |
//   | 104 pendingRecords | 112 pendingBytes | 120 engineBytes                               |
//   +-------------------------------------------------------------------------------------+
//   | 128 pending outputs (PendingOutputs.copyCompact) | engine snapshot (Engine.snapshot()) |
//   +-------------------------------------------------------------------------------------+
//
// Atomic: written to a temp file in the same directory, fsync'd, renamed over the final name,
// then the directory is fsync'd. A crash leaves either the old set or the old set plus the new
// file; a temp file left behind is removed at the next start.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { native } from '../../native/addon';
import type { EngineReplica, ReplicaMeta } from './engine-replica';

export const SNAPSHOT_FILE_MAGIC = 0x50454d49; // "IMEP"
export const SNAPSHOT_FILE_VERSION = 1;
export const SNAPSHOT_FILE_HEADER_BYTES = 128;
export const SNAPSHOT_FILE_PREFIX = 'engine-';
export const SNAPSHOT_FILE_SUFFIX = '.snap';
const TEMP_MARKER = '.tmp-';
/** Distinguishes the temp files of writes in flight in one process (an async one and the final one). */
let tempCounter = 0;
const SEQ_DIGITS = 20;
/** Snapshots kept by default (older ones are removed after each write). */
export const DEFAULT_SNAPSHOTS_KEPT = 3;

const META_FIELDS: ReadonlyArray<keyof ReplicaMeta> = [
  'journalSeq',
  'commandsApplied',
  'lastCheckpointInSeq',
  'lastCommandOutputs',
  'lastJournaledInSeq',
  'lastJournaledOutIndex',
  'maxEpochSeen',
  'lastSourceSeqA',
  'lastSourceSeqB',
  'evictedInSeq',
  'evictedOutIndex',
];
const META_OFFSET = 16;
const PENDING_RECORDS_OFFSET = 104;
const PENDING_BYTES_OFFSET = 112;
const ENGINE_BYTES_OFFSET = 120;

export interface DecodedSnapshot {
  meta: ReplicaMeta;
  pendingRecords: number;
  pending: Uint8Array;
  engine: Uint8Array;
}

/** The file name of the snapshot after journal seq `seq`. */
export function snapshotFileName(seq: number): string {
  return `${SNAPSHOT_FILE_PREFIX}${String(seq).padStart(SEQ_DIGITS, '0')}${SNAPSHOT_FILE_SUFFIX}`;
}

/** The seq in a snapshot file name, or -1 when the name is not one. */
export function parseSnapshotFileName(name: string): number {
  if (!name.startsWith(SNAPSHOT_FILE_PREFIX) || !name.endsWith(SNAPSHOT_FILE_SUFFIX)) return -1;
  const digits = name.slice(SNAPSHOT_FILE_PREFIX.length, -SNAPSHOT_FILE_SUFFIX.length);
  if (!/^\d{20}$/.test(digits)) return -1;
  const seq = Number(digits);
  return Number.isSafeInteger(seq) ? seq : -1;
}

/** Encodes the replica as one snapshot file image (allocates the file's bytes once). */
export function encodeSnapshot(replica: EngineReplica): Uint8Array {
  const engineBytes = replica.engine.snapshot();
  const pendingBytes = replica.pending.compactBytes();
  const bytes = new Uint8Array(SNAPSHOT_FILE_HEADER_BYTES + pendingBytes + engineBytes.length);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, SNAPSHOT_FILE_MAGIC, true);
  view.setUint16(4, SNAPSHOT_FILE_VERSION, true);
  view.setUint16(6, SNAPSHOT_FILE_HEADER_BYTES, true);
  META_FIELDS.forEach((field, i) => view.setFloat64(META_OFFSET + i * 8, replica.meta[field], true));
  view.setFloat64(PENDING_RECORDS_OFFSET, replica.pending.records, true);
  view.setFloat64(PENDING_BYTES_OFFSET, pendingBytes, true);
  view.setFloat64(ENGINE_BYTES_OFFSET, engineBytes.length, true);
  replica.pending.copyCompact(bytes, SNAPSHOT_FILE_HEADER_BYTES);
  bytes.set(engineBytes, SNAPSHOT_FILE_HEADER_BYTES + pendingBytes);
  view.setUint32(8, native.crc32c(bytes, 16, bytes.length - 16), true);
  return bytes;
}

/** Decodes and checks a snapshot file image; throws saying what is wrong (the caller skips the file). */
export function decodeSnapshot(bytes: Uint8Array, file = 'snapshot'): DecodedSnapshot {
  if (bytes.length < SNAPSHOT_FILE_HEADER_BYTES) throw new Error(`${file}: ${bytes.length} bytes is shorter than the ${SNAPSHOT_FILE_HEADER_BYTES}-byte header (truncated)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, true);
  if (magic !== SNAPSHOT_FILE_MAGIC) throw new Error(`${file}: bad magic 0x${magic.toString(16)} (not an engine process snapshot)`);
  const version = view.getUint16(4, true);
  if (version !== SNAPSHOT_FILE_VERSION) throw new Error(`${file}: format version ${version}, this engine reads ${SNAPSHOT_FILE_VERSION}`);
  if (view.getUint16(6, true) !== SNAPSHOT_FILE_HEADER_BYTES) throw new Error(`${file}: header size ${view.getUint16(6, true)}, expected ${SNAPSHOT_FILE_HEADER_BYTES}`);
  const crc = native.crc32c(bytes, 16, bytes.length - 16);
  if (crc !== view.getUint32(8, true)) throw new Error(`${file}: CRC32C mismatch (stored 0x${view.getUint32(8, true).toString(16)}, computed 0x${crc.toString(16)}): the file is corrupt`);
  const meta = {} as ReplicaMeta;
  META_FIELDS.forEach((field, i) => (meta[field] = view.getFloat64(META_OFFSET + i * 8, true)));
  const pendingRecords = view.getFloat64(PENDING_RECORDS_OFFSET, true);
  const pendingBytes = view.getFloat64(PENDING_BYTES_OFFSET, true);
  const engineBytes = view.getFloat64(ENGINE_BYTES_OFFSET, true);
  if (SNAPSHOT_FILE_HEADER_BYTES + pendingBytes + engineBytes !== bytes.length) {
    throw new Error(`${file}: header says ${pendingBytes} pending + ${engineBytes} engine bytes, the file has ${bytes.length - SNAPSHOT_FILE_HEADER_BYTES}`);
  }
  return {
    meta,
    pendingRecords,
    pending: bytes.subarray(SNAPSHOT_FILE_HEADER_BYTES, SNAPSHOT_FILE_HEADER_BYTES + pendingBytes),
    engine: bytes.subarray(SNAPSHOT_FILE_HEADER_BYTES + pendingBytes),
  };
}

/** Snapshot files in `dir`, newest (highest seq) first. */
export function listSnapshots(dir: string): Array<{ file: string; seq: number }> {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  return names
    .map((name) => ({ file: path.join(dir, name), seq: parseSnapshotFileName(name) }))
    .filter((s) => s.seq >= 0)
    .sort((a, b) => b.seq - a.seq);
}

/**
 * The newest snapshot that reads back whole, or null. Damaged ones are skipped, each reported
 * through `warn` (the file is left where it is for an operator to look at).
 */
export function loadNewestSnapshot(dir: string, warn: (event: Record<string, unknown>) => void, maxSeq = Number.MAX_SAFE_INTEGER): { file: string; snapshot: DecodedSnapshot } | null {
  for (const { file, seq } of listSnapshots(dir)) {
    if (seq > maxSeq) continue;
    try {
      const snapshot = decodeSnapshot(fs.readFileSync(file), file);
      if (snapshot.meta.journalSeq !== seq) throw new Error(`${file}: the name says seq ${seq}, the header ${snapshot.meta.journalSeq}`);
      return { file, snapshot };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue; // pruned by the other instance meanwhile
      warn({ event: 'engine-snapshot-skipped', file, error: (e as Error).message });
    }
  }
  return null;
}

/** Writes a snapshot image atomically (temp + fsync + rename + directory fsync), synchronously. */
export function writeSnapshotSync(dir: string, seq: number, bytes: Uint8Array): string {
  fs.mkdirSync(dir, { recursive: true });
  const final = path.join(dir, snapshotFileName(seq));
  const temp = `${final}${TEMP_MARKER}${process.pid}-${++tempCounter}`;
  const fd = fs.openSync(temp, 'w');
  try {
    let written = 0;
    while (written < bytes.length) written += fs.writeSync(fd, bytes, written, bytes.length - written);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(temp, final);
  fsyncDir(dir);
  return final;
}

/**
 * The same, off the loop: the writes and fsyncs run on libuv's thread pool, so a hot engine keeps
 * heartbeating and publishing while a large snapshot goes to disk. `bytes` must not change until
 * the promise settles.
 */
export async function writeSnapshotAsync(dir: string, seq: number, bytes: Uint8Array): Promise<string> {
  await fs.promises.mkdir(dir, { recursive: true });
  const final = path.join(dir, snapshotFileName(seq));
  const temp = `${final}${TEMP_MARKER}${process.pid}-${++tempCounter}`;
  const handle = await fs.promises.open(temp, 'w');
  try {
    let written = 0;
    while (written < bytes.length) written += (await handle.write(bytes, written, bytes.length - written)).bytesWritten;
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fs.promises.rename(temp, final);
  const dirHandle = await fs.promises.open(dir, 'r');
  try {
    await dirHandle.sync();
  } finally {
    await dirHandle.close();
  }
  return final;
}

/** Removes all but the newest `keep` snapshots, and temp files of writers that are gone. */
export function pruneSnapshots(dir: string, keep: number): string[] {
  const removed: string[] = [];
  for (const { file } of listSnapshots(dir).slice(keep)) {
    fs.rmSync(file, { force: true });
    removed.push(file);
  }
  let names: string[] = [];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return removed;
  }
  for (const name of names) {
    const at = name.indexOf(TEMP_MARKER);
    if (at < 0) continue;
    const pid = Number(name.slice(at + TEMP_MARKER.length).split('-')[0]);
    if (Number.isInteger(pid) && pid !== process.pid && !pidAlive(pid)) {
      fs.rmSync(path.join(dir, name), { force: true });
      removed.push(path.join(dir, name));
    }
  }
  return removed;
}

function fsyncDir(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function pidAlive(pid: number): boolean {
  if (pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
