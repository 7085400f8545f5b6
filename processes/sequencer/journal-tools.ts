// What `ims journal tail | replay | verify | archive` do, as library functions the CLI calls (and
// tests call directly). Each takes the journal's directories; none needs the sequencer to run, and
// none writes to a live journal (archive moves only closed days' segments, never the newest one).

import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { decode } from '../../bus/codec';
import { ENTRY_SEQ, getI64, JournalCorruptError, parseSegmentFileName, SEGMENT_FILE_SUFFIX, ARCHIVED_SEGMENT_SUFFIX } from '../../bus/journal-format';
import { JournalDiskReader, TO_DISK_END } from '../../bus/journal-disk-reader';
import { JournalReader } from '../../bus/journal-reader';
import { listSegments, recoverJournal } from '../../bus/journal-recovery';
import { CURSOR_END, CURSOR_FRAME, SegmentCursor } from '../../bus/journal-segment-cursor';
import { JournalStatusFile, statusPathForRing } from '../../bus/journal-status';
import { BackoffIdleStrategy } from '../../bus/idle-strategy';
import type { RecordBuffer } from '../../bus/ring';
import { EngineCheckpoint, JOURNAL_HEADER_BYTES, JournalHeader, ListProduct, messageByTypeId, TradingDayClose } from '../../bus/schema';
import { DeterminismAudit, isEngineCommand, type DeterminismReport } from './journal-audit';

/** Where a journal lives. dataDir is required; the rest default from the status file when given. */
export interface JournalLocation {
  dataDir: string;
  archiveDir?: string;
  /** The journal ring (for tail --follow) and, beside it, the status file. */
  ringPath?: string;
  statusPath?: string;
}

export type LineSink = (line: string) => void;

const stdoutLines: LineSink = (line) => process.stdout.write(line + '\n');

/** Entries read in one disk-reader call by the tools (bounds each step). */
const TOOL_READ_CHUNK = 65_536;

// ---------------------------------------------------------------------------------------------
// Formatting

export interface DecodedEntry {
  seq: number;
  timestampUs: number;
  time: string;
  type: string;
  typeId: number;
  sourceId: number;
  sourceSeq: number;
  epoch: number;
  body: Record<string, number | string>;
}

/** Decodes one journal entry (payload offset = journal header) into a plain object. */
export function decodeEntry(typeId: number, buf: RecordBuffer, offset: number): DecodedEntry {
  const header = decode(JournalHeader, buf.view, offset);
  const desc = messageByTypeId(typeId);
  const body = desc === undefined ? {} : (decode(desc, buf.view, offset + JOURNAL_HEADER_BYTES) as Record<string, number | string>);
  return {
    seq: header.seq,
    timestampUs: header.timestampUs,
    time: isoMicros(header.timestampUs),
    type: desc?.name ?? `type${typeId}`,
    typeId,
    sourceId: header.sourceId,
    sourceSeq: header.sourceSeq,
    epoch: header.epoch,
    body,
  };
}

export function formatEntry(entry: DecodedEntry, json: boolean): string {
  if (json) return JSON.stringify(entry);
  const fields = Object.entries(entry.body)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? JSON.stringify(v) : v}`)
    .join(' ');
  return `${String(entry.seq).padStart(10)} ${entry.time} ${entry.type.padEnd(16)} src=${entry.sourceId}/${entry.sourceSeq}${entry.epoch !== 0 ? ` epoch=${entry.epoch}` : ''}  ${fields}`;
}

function isoMicros(us: number): string {
  const ms = Math.floor(us / 1000);
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 19)}.${String(us % 1_000_000).padStart(6, '0')}Z`;
}

/** Resolves --product (a numeric id, or a symbol looked up in the journal's ListProduct entries). */
function resolveProduct(location: JournalLocation, product: string | number | undefined): number | null {
  if (product === undefined) return null;
  if (typeof product === 'number' || /^[0-9]+$/.test(product)) return Number(product);
  let found: number | null = null;
  forEachEntry(location, 1, TO_DISK_END, (typeId, buf, offset) => {
    if (typeId !== ListProduct.typeId) return;
    const body = decode(ListProduct, buf.view, offset + JOURNAL_HEADER_BYTES);
    if (body.symbol === product) found = body.productId;
  });
  if (found === null) throw new Error(`journal: no product '${product}' was listed in ${location.dataDir}; give a numeric product id or a listed symbol`);
  return found;
}

function entryProductId(typeId: number, buf: RecordBuffer, offset: number): number | null {
  const desc = messageByTypeId(typeId);
  const at = (desc?.o as Record<string, number> | undefined)?.['productId'];
  return at === undefined ? null : buf.view.getUint32(offset + JOURNAL_HEADER_BYTES + at, true);
}

/** Calls fn for each entry in [from, to] on disk (archive included). Returns the last seq seen. */
function forEachEntry(location: JournalLocation, from: number, to: number, fn: (typeId: number, buf: RecordBuffer, offset: number) => void): number {
  const reader = new JournalDiskReader({ dataDir: location.dataDir, archiveDir: location.archiveDir, fromSeq: Math.max(1, from) });
  let last = from - 1;
  try {
    for (;;) {
      const n = reader.read((typeId, _version, buf, offset) => {
        last = getI64(buf.view, offset + ENTRY_SEQ);
        fn(typeId, buf, offset);
      }, TOOL_READ_CHUNK, to);
      if (n === 0) break;
    }
  } finally {
    reader.close();
  }
  return last;
}

/** The status file of a journal, when there is one (and its sequencer's directories). */
function statusOf(location: JournalLocation): JournalStatusFile | null {
  const file = location.statusPath ?? (location.ringPath === undefined ? undefined : statusPathForRing(location.ringPath));
  return file === undefined ? null : JournalStatusFile.openIfExists(file);
}

/**
 * The last seq safe to read: the status file's visible seq while a sequencer runs (bytes after it
 * may be a batch being written), otherwise the valid end of the files.
 */
function readableHead(location: JournalLocation): { headSeq: number; live: boolean } {
  const status = statusOf(location)?.snapshot();
  if (status !== undefined && status.state === 'running' && processAlive(status.pid)) return { headSeq: status.visibleSeq, live: true };
  return { headSeq: recoverJournal(location.dataDir, { scan: 'tail', repair: false }).headSeq, live: false };
}

function processAlive(pid: number): boolean {
  if (pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

// ---------------------------------------------------------------------------------------------
// replay

export interface ReplayOptions extends JournalLocation {
  /** First seq (default 1). */
  from?: number;
  /** Last seq (default: the head). */
  to?: number;
  /** Only entries about this product (numeric id or listed symbol). */
  product?: string | number;
  /** One JSON object per line instead of the readable form. */
  json?: boolean;
  out?: LineSink;
}

export interface ReplayResult {
  printed: number;
  scanned: number;
  fromSeq: number;
  toSeq: number;
}

/** `ims journal replay --from SEQ --to SEQ [--product P] [--json]`: a readable dump. */
export function journalReplay(options: ReplayOptions): ReplayResult {
  const out = options.out ?? stdoutLines;
  const from = options.from ?? 1;
  const head = readableHead(options).headSeq;
  const to = Math.min(options.to ?? head, head);
  if (!(Number.isSafeInteger(from) && from >= 1)) throw new RangeError(`journal replay: --from must be a positive seq, got ${from}`);
  const productId = resolveProduct(options, options.product);
  let printed = 0;
  let scanned = 0;
  if (from <= to) {
    forEachEntry(options, from, to, (typeId, buf, offset) => {
      scanned++;
      if (productId !== null && entryProductId(typeId, buf, offset) !== productId) return;
      out(formatEntry(decodeEntry(typeId, buf, offset), options.json === true));
      printed++;
    });
  }
  return { printed, scanned, fromSeq: from, toSeq: to };
}

// ---------------------------------------------------------------------------------------------
// tail

export interface TailOptions extends JournalLocation {
  /** How many of the last entries to print first (default 10). */
  count?: number;
  /** Keep printing new entries (needs ringPath) until `signal` aborts. */
  follow?: boolean;
  json?: boolean;
  product?: string | number;
  out?: LineSink;
  signal?: AbortSignal;
}

/** `ims journal tail [-n N] [--follow]`. Resolves when done (follow: when the signal aborts). */
export async function journalTail(options: TailOptions): Promise<{ printed: number; lastSeq: number }> {
  const out = options.out ?? stdoutLines;
  const count = options.count ?? 10;
  const { headSeq } = readableHead(options);
  const productId = resolveProduct(options, options.product);
  let printed = 0;
  let lastSeq = headSeq;
  const print = (typeId: number, buf: RecordBuffer, offset: number): void => {
    lastSeq = getI64(buf.view, offset + ENTRY_SEQ);
    if (productId !== null && entryProductId(typeId, buf, offset) !== productId) return;
    out(formatEntry(decodeEntry(typeId, buf, offset), options.json === true));
    printed++;
  };
  if (headSeq >= 1 && count > 0) forEachEntry(options, Math.max(1, headSeq - count + 1), headSeq, print);
  if (options.follow !== true) return { printed, lastSeq };
  if (options.ringPath === undefined) throw new TypeError('journal tail --follow needs the journal ring path');
  // A non-gating reader in a temporary slot: following must never hold the exchange back.
  const reader = new JournalReader({ ringPath: options.ringPath, name: `tail-${process.pid}`, fromSeq: headSeq + 1, gating: false, dataDir: options.dataDir, archiveDir: options.archiveDir });
  const idle = new BackoffIdleStrategy(reader);
  const handler = (typeId: number, _version: number, buf: RecordBuffer, offset: number): void => print(typeId, buf, offset);
  try {
    while (options.signal?.aborted !== true) {
      const sliceEnd = Date.now() + 20;
      while (Date.now() < sliceEnd) idle.idle(reader.poll(handler, 256));
      await new Promise((resolve) => setImmediate(resolve));
    }
  } finally {
    reader.leave();
  }
  return { printed, lastSeq };
}

// ---------------------------------------------------------------------------------------------
// verify

export interface VerifyOptions extends JournalLocation {
  /** Replay through a fresh matching engine and compare with the recorded outputs (default true). */
  engine?: boolean;
  out?: LineSink;
}

export interface VerifyReport {
  ok: boolean;
  /** A sequencer was running: verified up to its visible seq only. */
  live: boolean;
  segments: number;
  archivedSegments: number;
  entries: number;
  firstSeq: number;
  lastSeq: number;
  /** A torn tail the sequencer would truncate at its next start (not damage). */
  tornTail: { file: string; offset: number; problem: string } | null;
  problems: string[];
  countsByType: Record<string, number>;
  determinism: DeterminismReport | { ran: false; reason: string };
}

/**
 * `ims journal verify`: every frame's CRC, the seq chain (gap-free, across segments and the
 * archive, each segment header matching its place), and the determinism audit.
 */
export function journalVerify(options: VerifyOptions): VerifyReport {
  const out = options.out ?? (() => undefined);
  const segments = listSegments(options.dataDir, options.archiveDir);
  const report: VerifyReport = {
    ok: true,
    live: false,
    segments: segments.length,
    archivedSegments: segments.filter((s) => s.archived).length,
    entries: 0,
    firstSeq: segments[0]?.firstSeq ?? 0,
    lastSeq: 0,
    tornTail: null,
    problems: [],
    countsByType: {},
    determinism: { ran: false, reason: 'not run' },
  };
  let head: number;
  try {
    const readable = readableHead(options);
    head = readable.headSeq;
    report.live = readable.live;
    if (!readable.live) {
      const recovered = recoverJournal(options.dataDir, { scan: 'full', repair: false });
      if (recovered.torn !== null) report.tornTail = { file: recovered.torn.file, offset: recovered.torn.offset, problem: recovered.torn.problem };
      for (const removed of recovered.removed) report.problems.push(`${removed}: a segment whose creation was cut short (the sequencer removes it at its next start)`);
    }
  } catch (e) {
    report.ok = false;
    report.problems.push((e as Error).message);
    return report;
  }
  out(`verifying ${report.segments} segments (${report.archivedSegments} archived) up to seq ${head}${report.live ? ' (live journal: up to the visible seq)' : ''}`);

  // Pass 1: CRC and the seq chain over everything, archive included; what the audit needs.
  const checkpointInSeqs = new Set<number>();
  let engineEntries = 0;
  try {
    if (report.firstSeq > 0 && head >= report.firstSeq) {
      report.lastSeq = forEachEntry(options, report.firstSeq, head, (typeId, buf, offset) => {
        report.entries++;
        const name = messageByTypeId(typeId)?.name ?? `type${typeId}`;
        report.countsByType[name] = (report.countsByType[name] ?? 0) + 1;
        if (typeId === EngineCheckpoint.typeId) checkpointInSeqs.add(getI64(buf.view, offset + JOURNAL_HEADER_BYTES + EngineCheckpoint.o.inSeq));
        if (isEngineCommand(typeId)) engineEntries++;
      });
    }
    if (report.lastSeq !== head) report.problems.push(`the journal ends at seq ${report.lastSeq}, expected ${head}`);
  } catch (e) {
    report.problems.push(e instanceof JournalCorruptError ? e.message : `while reading: ${(e as Error).message}`);
  }
  out(`${report.entries} entries, seq ${report.firstSeq}..${report.lastSeq}: ${report.problems.length === 0 ? 'CRC and seq chain ok' : `${report.problems.length} problem(s)`}`);

  // Pass 2: the determinism audit.
  if (options.engine === false) report.determinism = { ran: false, reason: 'disabled (--no-engine)' };
  else if (report.problems.length > 0) report.determinism = { ran: false, reason: 'the journal did not pass the integrity checks' };
  else if (report.firstSeq !== 1) report.determinism = { ran: false, reason: `the journal starts at seq ${report.firstSeq}, not 1: give the archive directory so the replay starts from the beginning` };
  else if (engineEntries === 0) report.determinism = { ran: false, reason: 'no engine commands in the journal' };
  else {
    const audit = new DeterminismAudit(checkpointInSeqs);
    try {
      forEachEntry(options, 1, head, (typeId, buf, offset) => audit.entry(typeId, buf.view, offset));
    } catch (e) {
      report.problems.push(`determinism audit stopped: ${(e as Error).message}`);
    }
    report.determinism = audit.finish();
    out(`determinism: ${report.determinism.commandsApplied} commands replayed, ${report.determinism.outputsCompared} recorded outputs and ${report.determinism.checkpointsCompared} checkpoints compared, ${report.determinism.mismatchCount} mismatch(es)`);
    for (const m of report.determinism.mismatches) out(`  ${m}`);
  }
  if (report.problems.length > 0) report.ok = false;
  if (report.determinism.ran && report.determinism.mismatchCount > 0) report.ok = false;
  for (const p of report.problems) out(`problem: ${p}`);
  if (report.tornTail !== null) out(`note: torn tail in ${report.tornTail.file} at offset ${report.tornTail.offset} (${report.tornTail.problem}); the sequencer truncates it at its next start`);
  out(report.ok ? 'journal ok' : 'journal NOT ok');
  return report;
}

// ---------------------------------------------------------------------------------------------
// archive

export interface ArchiveOptions {
  dataDir: string;
  archiveDir: string;
  /** List what would move without moving it. */
  dryRun?: boolean;
  out?: LineSink;
}

export interface ArchivedSegment {
  from: string;
  to: string;
  tradingDay: number;
  firstSeq: number;
  lastSeq: number;
  bytes: number;
  compressedBytes: number;
}

export interface ArchiveResult {
  archived: ArchivedSegment[];
  /** Segments left in place: the open day's (after the last TradingDayClose), always the newest. */
  kept: number;
}

/**
 * `ims journal archive`: moves the segments of closed trading days (every segment up to one that
 * ends with a TradingDayClose; the sequencer starts a new segment after each close) to
 * `<archiveDir>/<yyyymmdd>/<name>.seg.gz`. Each is verified (CRC of every frame) before, and its
 * compressed copy is checked and made durable before the original is removed; readers find
 * archived segments by themselves.
 */
export function journalArchive(options: ArchiveOptions): ArchiveResult {
  const out = options.out ?? (() => undefined);
  const live = listSegments(options.dataDir);
  const result: ArchiveResult = { archived: [], kept: 0 };
  const cursor = new SegmentCursor();
  const group: Array<{ path: string; firstSeq: number; lastSeq: number; bytes: number }> = [];
  try {
    // Never the newest segment: the sequencer appends to it.
    for (let i = 0; i < live.length - 1; i++) {
      const segment = live[i]!;
      const header = cursor.openFile(segment.path);
      if (typeof header === 'string') throw new JournalCorruptError(segment.path, 0, `bad segment header: ${header}`);
      let lastSeq = header.firstSeq - 1;
      let lastType = 0;
      let closedDay = 0;
      for (;;) {
        const status = cursor.next(true);
        if (status === CURSOR_END) break;
        if (status !== CURSOR_FRAME) throw new JournalCorruptError(segment.path, cursor.offset, `${cursor.problem}; archive stopped before moving anything of this day`);
        lastSeq = cursor.seq;
        lastType = cursor.typeId;
        if (lastType === TradingDayClose.typeId) closedDay = cursor.view.getUint32(cursor.payloadOffset + JOURNAL_HEADER_BYTES + TradingDayClose.o.tradingDay, true);
      }
      cursor.close();
      group.push({ path: segment.path, firstSeq: header.firstSeq, lastSeq, bytes: fs.statSync(segment.path).size });
      if (lastType !== TradingDayClose.typeId) continue;
      // The next segment must be whole (its header valid) before a closed day leaves the directory.
      const nextHeader = cursor.openFile(live[i + 1]!.path);
      cursor.close();
      if (typeof nextHeader === 'string') break;
      for (const g of group.splice(0)) result.archived.push(archiveSegment(g, closedDay, options, out));
    }
  } finally {
    cursor.close();
  }
  result.kept = live.length - result.archived.length;
  out(`${options.dryRun === true ? 'would archive' : 'archived'} ${result.archived.length} segment(s); ${result.kept} kept`);
  return result;
}

function archiveSegment(g: { path: string; firstSeq: number; lastSeq: number; bytes: number }, tradingDay: number, options: ArchiveOptions, out: LineSink): ArchivedSegment {
  const dayDir = path.join(options.archiveDir, String(tradingDay).padStart(8, '0'));
  const name = path.basename(g.path, SEGMENT_FILE_SUFFIX) + ARCHIVED_SEGMENT_SUFFIX;
  const target = path.join(dayDir, name);
  const entry: ArchivedSegment = { from: g.path, to: target, tradingDay, firstSeq: g.firstSeq, lastSeq: g.lastSeq, bytes: g.bytes, compressedBytes: 0 };
  if (options.dryRun === true) {
    out(`would move ${g.path} (seq ${g.firstSeq}..${g.lastSeq}, day ${tradingDay}) to ${target}`);
    return entry;
  }
  if (parseSegmentFileName(path.basename(g.path)) !== g.firstSeq) throw new Error(`archive: ${g.path} is not named for its first seq ${g.firstSeq}`);
  fs.mkdirSync(dayDir, { recursive: true });
  const original = fs.readFileSync(g.path);
  const compressed = zlib.gzipSync(original, { level: 6 });
  if (!zlib.gunzipSync(compressed).equals(original)) throw new Error(`archive: the compressed copy of ${g.path} does not read back equal; nothing was moved`);
  const tmp = `${target}.tmp-${process.pid}`;
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, compressed);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, target);
  fsyncDirectory(dayDir);
  fs.unlinkSync(g.path);
  fsyncDirectory(options.dataDir);
  entry.compressedBytes = compressed.byteLength;
  out(`archived ${path.basename(g.path)} (seq ${g.firstSeq}..${g.lastSeq}, day ${tradingDay}): ${g.bytes} -> ${compressed.byteLength} bytes, ${target}`);
  return entry;
}

function fsyncDirectory(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** What `ims status` shows for the journal: read from the status file, no process contacted. */
export function journalStatus(statusPath: string): ReturnType<JournalStatusFile['snapshot']> | null {
  return JournalStatusFile.openIfExists(statusPath)?.snapshot() ?? null;
}
