// A process's counters file, in the spirit of Aeron's counters: one small mmap'd file per process
// in the run directory (`<runDir>/<process>.counters`), written by that process with plain stores
// and read by anyone (the /metrics endpoint, `ims status`) at any time. No process is ever
// contacted by a reader, so a scrape cannot slow the hot path and a stuck process cannot stall a
// scrape. Labels live in the file beside the values, so a reader needs no knowledge of what a
// given process counts.
//
//   0     HEADER (written once at creation; magic last, so a reader never sees half a header)
//         0 magic u32 "IMCT" | 4 layoutVersion u32 | 8 fileBytes u32 | 12 pid i32
//         16 startTimeMs f64 (CLOCK_REALTIME of creation)
//         24 maxCounters u32 | 28 counterCount u32   (slots declared; bumped AFTER a slot's label is written)
//         32 maxHistograms u32 | 36 histogramCount u32 (likewise) | 40 bucketCount u32 | 44 reserved
//         64 processName char[64] (ASCII, NUL-padded)
//   128   COUNTER LABELS: maxCounters x 128 bytes
//         0 kind u32 (1 counter, 2 gauge) | 4 reserved | 8 name char[56] | 64 label char[64] ("key=value" or "")
//   ...   COUNTER VALUES: maxCounters x 8 bytes, f64 (integers in the safe range for counters)
//   ...   HISTOGRAMS: maxHistograms x (128 label bytes as above + (2 + bucketCount) x 8 bytes)
//         0 count f64 | 8 sumNs f64 | 16 buckets f64[bucketCount]
//
// One writer per file: every value is a plain aligned 8-byte store (one instruction on x86-64).
// A reader still reads each value twice and retries until both reads agree (bounded), so a torn
// read can never show. A histogram's count and buckets are read at different instants; readers
// therefore take the count as the sum of the buckets they read, which keeps the Prometheus
// histogram consistent (_count equals the +Inf bucket, buckets cumulative and monotonic).
//
// Latency histogram buckets are log-linear over nanoseconds (as HdrHistogram, with a fixed count):
//
//   bucket 0                       [0, 2^MIN_EXP)            everything under ~1 µs
//   bucket 1 + (e - MIN_EXP)*S + s [2^e + s*2^(e-SUB_BITS), 2^e + (s+1)*2^(e-SUB_BITS))
//                                  for MIN_EXP <= e < MAX_EXP, 0 <= s < S = 2^SUB_BITS
//   bucket BUCKET_COUNT - 1        [2^MAX_EXP, +Inf)         ~69 s and above
//
// so any value is known within 1/S (12.5 %) of itself, from 1 µs to 69 s, in 210 buckets.

import * as fs from 'node:fs';
import { native } from '../native/addon';

export const COUNTERS_MAGIC = 0x54434d49; // "IMCT"
export const COUNTERS_LAYOUT_VERSION = 1;
export const MAX_COUNTERS = 256;
export const MAX_HISTOGRAMS = 4;
export const COUNTER_NAME_BYTES = 56;
export const COUNTER_LABEL_BYTES = 64;
export const PROCESS_NAME_BYTES = 64;

export const HISTOGRAM_SUB_BITS = 3;
export const HISTOGRAM_SUB_BUCKETS = 1 << HISTOGRAM_SUB_BITS;
export const HISTOGRAM_MIN_EXP = 10;
export const HISTOGRAM_MAX_EXP = 36;
export const BUCKET_COUNT = 2 + (HISTOGRAM_MAX_EXP - HISTOGRAM_MIN_EXP) * HISTOGRAM_SUB_BUCKETS;

export const Header = {
  MAGIC: 0,
  LAYOUT_VERSION: 4,
  FILE_BYTES: 8,
  PID: 12,
  START_TIME_MS: 16,
  MAX_COUNTERS: 24,
  COUNTER_COUNT: 28,
  MAX_HISTOGRAMS: 32,
  HISTOGRAM_COUNT: 36,
  BUCKET_COUNT: 40,
  PROCESS_NAME: 64,
} as const;
export const LABELS_OFFSET = 128;
export const LABEL_SLOT_BYTES = 128;
export const LabelSlot = { KIND: 0, NAME: 8, LABEL: 64 } as const;
export const VALUES_OFFSET = LABELS_OFFSET + MAX_COUNTERS * LABEL_SLOT_BYTES;
export const HISTOGRAMS_OFFSET = VALUES_OFFSET + MAX_COUNTERS * 8;
export const HISTOGRAM_BYTES = LABEL_SLOT_BYTES + (2 + BUCKET_COUNT) * 8;
export const HistogramSlot = { COUNT: 0, SUM_NS: 8, BUCKETS: 16 } as const;
export const COUNTERS_FILE_BYTES = Math.ceil((HISTOGRAMS_OFFSET + MAX_HISTOGRAMS * HISTOGRAM_BYTES) / 4096) * 4096;

export const CounterKind = { COUNTER: 1, GAUGE: 2 } as const;
export type CounterKind = (typeof CounterKind)[keyof typeof CounterKind];

/** Reads of one value before a reader gives up waiting for two equal reads and takes the last. */
const TORN_READ_ATTEMPTS = 8;

const NAME_PATTERN = /^[a-z_][a-z0-9_]*$/;
const LABEL_PATTERN = /^([a-z_][a-z0-9_]*)=([\x20-\x7e]*)$/;

// ---------------------------------------------------------------------------------------------
// Histogram bucket arithmetic (pure functions; the writer and the readers share them).

const TWO_POW_32 = 4294967296;

/** The bucket of a value in nanoseconds; allocation-free, exact (divisions by powers of two). */
export function bucketIndexOfNs(ns: number): number {
  if (!(ns >= 1 << HISTOGRAM_MIN_EXP)) return 0; // also NaN and negatives
  let exp: number;
  if (ns >= TWO_POW_32) exp = 63 - Math.clz32(Math.floor(ns / TWO_POW_32));
  else exp = 31 - Math.clz32(ns >>> 0);
  if (exp >= HISTOGRAM_MAX_EXP) return BUCKET_COUNT - 1;
  const sub = Math.floor(ns / 2 ** (exp - HISTOGRAM_SUB_BITS)) - HISTOGRAM_SUB_BUCKETS;
  return 1 + (exp - HISTOGRAM_MIN_EXP) * HISTOGRAM_SUB_BUCKETS + sub;
}

/** The smallest value (ns) of bucket i. */
export function bucketLowerNs(i: number): number {
  if (i <= 0) return 0;
  if (i >= BUCKET_COUNT - 1) return 2 ** HISTOGRAM_MAX_EXP;
  const exp = HISTOGRAM_MIN_EXP + Math.floor((i - 1) / HISTOGRAM_SUB_BUCKETS);
  const sub = (i - 1) % HISTOGRAM_SUB_BUCKETS;
  return 2 ** (exp - HISTOGRAM_SUB_BITS) * (HISTOGRAM_SUB_BUCKETS + sub);
}

/** The exclusive upper bound (ns) of bucket i; +Infinity for the last. */
export function bucketUpperNs(i: number): number {
  return i >= BUCKET_COUNT - 1 ? Infinity : bucketLowerNs(i + 1);
}

/**
 * The q-quantile (0 < q <= 1) of a histogram as the upper bound of the bucket holding the value of
 * rank ceil(q x count): never below the true value, at most 1/S above it (the highest equivalent
 * value, as HdrHistogram reports). The overflow bucket reports its lower bound. NaN when empty.
 */
export function quantileNs(buckets: ArrayLike<number>, q: number): number {
  let count = 0;
  for (let i = 0; i < BUCKET_COUNT; i++) count += buckets[i]!;
  if (count === 0) return NaN;
  const rank = Math.max(1, Math.ceil(q * count));
  let seen = 0;
  for (let i = 0; i < BUCKET_COUNT; i++) {
    seen += buckets[i]!;
    if (seen >= rank) return i === BUCKET_COUNT - 1 ? bucketLowerNs(i) : bucketUpperNs(i);
  }
  return bucketLowerNs(BUCKET_COUNT - 1);
}

// ---------------------------------------------------------------------------------------------
// Writer side.

function writeAscii(bytes: Uint8Array, offset: number, max: number, text: string): void {
  for (let i = 0; i < max; i++) bytes[offset + i] = i < text.length ? text.charCodeAt(i) & 0x7f : 0;
}

function readAscii(bytes: Uint8Array, offset: number, max: number): string {
  let end = offset;
  while (end < offset + max && bytes[end] !== 0) end++;
  return String.fromCharCode(...bytes.subarray(offset, end));
}

function checkLabel(name: string, label: string): void {
  if (!NAME_PATTERN.test(name) || name.length > COUNTER_NAME_BYTES) throw new TypeError(`counter name '${name}' must match ${NAME_PATTERN} and fit ${COUNTER_NAME_BYTES} bytes`);
  if (label !== '' && (!LABEL_PATTERN.test(label) || label.length > COUNTER_LABEL_BYTES)) throw new TypeError(`counter label '${label}' must be "key=value" (printable ASCII) within ${COUNTER_LABEL_BYTES} bytes`);
}

/** A latency histogram inside a counters file; record() is the hot-path call. */
export class LatencyHistogram {
  constructor(private readonly values: Float64Array) {}

  /** Adds one observation of `ns` nanoseconds. Allocation-free. */
  record(ns: number): void {
    const v = this.values;
    v[2 + bucketIndexOfNs(ns)]! += 1;
    v[1]! += ns > 0 ? ns : 0;
    v[0]! += 1;
  }
}

/** The one writer of a counters file (or of a detached in-memory copy, when there is no run dir). */
export class CountersWriter {
  readonly path: string | null;
  /** The mapped file (or the detached copy): readCountersBuffer reads it. */
  readonly buffer: ArrayBuffer;
  /** Counter and gauge values, indexed by slot: `values[slot] += 1` is the whole cost of a count. */
  readonly values: Float64Array;
  private readonly u32: Uint32Array;
  private readonly bytes: Uint8Array;
  private readonly slots = new Map<string, number>();
  private counterCount = 0;
  private histogramCount = 0;

  private constructor(path: string | null, buffer: ArrayBuffer, processName: string, pid: number, startTimeMs: number) {
    this.path = path;
    this.buffer = buffer;
    this.u32 = new Uint32Array(buffer, 0, 16);
    this.bytes = new Uint8Array(buffer);
    this.values = new Float64Array(buffer, VALUES_OFFSET, MAX_COUNTERS);
    const view = new DataView(buffer);
    view.setUint32(Header.LAYOUT_VERSION, COUNTERS_LAYOUT_VERSION, true);
    view.setUint32(Header.FILE_BYTES, COUNTERS_FILE_BYTES, true);
    view.setInt32(Header.PID, pid, true);
    view.setFloat64(Header.START_TIME_MS, startTimeMs, true);
    view.setUint32(Header.MAX_COUNTERS, MAX_COUNTERS, true);
    view.setUint32(Header.COUNTER_COUNT, 0, true);
    view.setUint32(Header.MAX_HISTOGRAMS, MAX_HISTOGRAMS, true);
    view.setUint32(Header.HISTOGRAM_COUNT, 0, true);
    view.setUint32(Header.BUCKET_COUNT, BUCKET_COUNT, true);
    writeAscii(this.bytes, Header.PROCESS_NAME, PROCESS_NAME_BYTES, processName);
    Atomics.store(this.u32, Header.MAGIC / 4, COUNTERS_MAGIC);
  }

  /**
   * Creates a fresh file for this incarnation: the old one (a previous run of the process) is
   * unlinked first, so a reader still mapping it keeps the old values and new readers start at 0.
   */
  static create(file: string, processName: string, pid: number = process.pid, startTimeMs: number = Date.now()): CountersWriter {
    try {
      native.unlinkFile(file);
    } catch {
      // Not there, or not ours to remove: mapFile below says which.
    }
    const buffer = native.mapFile(file, COUNTERS_FILE_BYTES, true);
    new Uint8Array(buffer).fill(0);
    return new CountersWriter(file, buffer, processName, pid, startTimeMs);
  }

  /** Counters kept in memory only (a process run outside a supervisor, a test): same code paths. */
  static detached(processName: string): CountersWriter {
    return new CountersWriter(null, new ArrayBuffer(COUNTERS_FILE_BYTES), processName, process.pid, Date.now());
  }

  /** Declares (or finds) a counter slot. Start-up work: allocates; the counting that follows does not. */
  counter(name: string, label = ''): number {
    return this.declare(CounterKind.COUNTER, name, label);
  }

  gauge(name: string, label = ''): number {
    return this.declare(CounterKind.GAUGE, name, label);
  }

  /** True while another slot can be declared (lazily declared labels fall back to a catch-all). */
  get hasRoom(): boolean {
    return this.counterCount < MAX_COUNTERS;
  }

  add(slot: number, delta: number): void {
    this.values[slot]! += delta;
  }

  set(slot: number, value: number): void {
    this.values[slot] = value;
  }

  get(slot: number): number {
    return this.values[slot]!;
  }

  histogram(name: string, label = ''): LatencyHistogram {
    checkLabel(name, label);
    if (this.histogramCount >= MAX_HISTOGRAMS) throw new RangeError(`counters: more than ${MAX_HISTOGRAMS} histograms declared (raise MAX_HISTOGRAMS)`);
    const i = this.histogramCount;
    const base = HISTOGRAMS_OFFSET + i * HISTOGRAM_BYTES;
    writeAscii(this.bytes, base + LabelSlot.NAME, COUNTER_NAME_BYTES, name);
    writeAscii(this.bytes, base + LabelSlot.LABEL, COUNTER_LABEL_BYTES, label);
    this.histogramCount++;
    Atomics.store(this.u32, Header.HISTOGRAM_COUNT / 4, this.histogramCount);
    return new LatencyHistogram(new Float64Array(this.bytes.buffer, base + LABEL_SLOT_BYTES, 2 + BUCKET_COUNT));
  }

  private declare(kind: CounterKind, name: string, label: string): number {
    const key = `${name}\u0000${label}`;
    const known = this.slots.get(key);
    if (known !== undefined) return known;
    checkLabel(name, label);
    if (this.counterCount >= MAX_COUNTERS) throw new RangeError(`counters: more than ${MAX_COUNTERS} counters declared (raise MAX_COUNTERS)`);
    const slot = this.counterCount;
    const base = LABELS_OFFSET + slot * LABEL_SLOT_BYTES;
    // The label is written before the count makes the slot visible to readers.
    new DataView(this.bytes.buffer).setUint32(base + LabelSlot.KIND, kind, true);
    writeAscii(this.bytes, base + LabelSlot.NAME, COUNTER_NAME_BYTES, name);
    writeAscii(this.bytes, base + LabelSlot.LABEL, COUNTER_LABEL_BYTES, label);
    this.values[slot] = 0;
    this.counterCount++;
    Atomics.store(this.u32, Header.COUNTER_COUNT / 4, this.counterCount);
    this.slots.set(key, slot);
    return slot;
  }
}

// ---------------------------------------------------------------------------------------------
// Reader side.

export interface CounterReading {
  kind: 'counter' | 'gauge';
  name: string;
  /** The one label of the slot, or null. */
  label: { key: string; value: string } | null;
  value: number;
}

export interface HistogramReading {
  name: string;
  label: { key: string; value: string } | null;
  /** The sum of `buckets` (not the writer's own count, which may be a moment ahead). */
  count: number;
  sumNs: number;
  buckets: number[];
}

export interface CountersSnapshot {
  file: string;
  processName: string;
  pid: number;
  startTimeMs: number;
  counters: CounterReading[];
  histograms: HistogramReading[];
}

/** Reads a value the single writer may be storing right now: two equal reads, or the last of a few. */
export function readStable(values: Float64Array, index: number): number {
  let a = values[index]!;
  for (let i = 0; i < TORN_READ_ATTEMPTS; i++) {
    const b = values[index]!;
    if (b === a || (Number.isNaN(a) && Number.isNaN(b))) return b;
    a = b;
  }
  return a;
}

function parseLabel(text: string): { key: string; value: string } | null {
  if (text === '') return null;
  const eq = text.indexOf('=');
  return eq < 0 ? null : { key: text.slice(0, eq), value: text.slice(eq + 1) };
}

/** Reads a counters file; null when it is not (yet) a complete counters file of this layout. */
export function readCountersFile(file: string): CountersSnapshot | null {
  let buffer: ArrayBuffer;
  try {
    if (fs.statSync(file).size < COUNTERS_FILE_BYTES) return null;
    buffer = native.mapFile(file, 0, false);
  } catch {
    return null; // removed between listing and reading: a process restarting
  }
  return readCountersBuffer(buffer, file);
}

/** Reads a counters layout from memory (a mapped file, or a detached writer's buffer). */
export function readCountersBuffer(buffer: ArrayBuffer, file = ''): CountersSnapshot | null {
  if (buffer.byteLength < COUNTERS_FILE_BYTES) return null;
  const u32 = new Uint32Array(buffer, 0, 16);
  if (Atomics.load(u32, Header.MAGIC / 4) !== COUNTERS_MAGIC) return null;
  const view = new DataView(buffer);
  if (view.getUint32(Header.LAYOUT_VERSION, true) !== COUNTERS_LAYOUT_VERSION || view.getUint32(Header.BUCKET_COUNT, true) !== BUCKET_COUNT) return null;
  const bytes = new Uint8Array(buffer);
  const values = new Float64Array(buffer, VALUES_OFFSET, MAX_COUNTERS);
  const counterCount = Math.min(MAX_COUNTERS, Atomics.load(u32, Header.COUNTER_COUNT / 4));
  const counters: CounterReading[] = [];
  for (let slot = 0; slot < counterCount; slot++) {
    const base = LABELS_OFFSET + slot * LABEL_SLOT_BYTES;
    const kind = view.getUint32(base + LabelSlot.KIND, true);
    if (kind !== CounterKind.COUNTER && kind !== CounterKind.GAUGE) continue;
    counters.push({
      kind: kind === CounterKind.COUNTER ? 'counter' : 'gauge',
      name: readAscii(bytes, base + LabelSlot.NAME, COUNTER_NAME_BYTES),
      label: parseLabel(readAscii(bytes, base + LabelSlot.LABEL, COUNTER_LABEL_BYTES)),
      value: readStable(values, slot),
    });
  }
  const histogramCount = Math.min(MAX_HISTOGRAMS, Atomics.load(u32, Header.HISTOGRAM_COUNT / 4));
  const histograms: HistogramReading[] = [];
  for (let h = 0; h < histogramCount; h++) {
    const base = HISTOGRAMS_OFFSET + h * HISTOGRAM_BYTES;
    const data = new Float64Array(buffer, base + LABEL_SLOT_BYTES, 2 + BUCKET_COUNT);
    const buckets = new Array<number>(BUCKET_COUNT);
    let count = 0;
    for (let i = 0; i < BUCKET_COUNT; i++) {
      buckets[i] = readStable(data, 2 + i);
      count += buckets[i]!;
    }
    histograms.push({
      name: readAscii(bytes, base + LabelSlot.NAME, COUNTER_NAME_BYTES),
      label: parseLabel(readAscii(bytes, base + LabelSlot.LABEL, COUNTER_LABEL_BYTES)),
      count,
      sumNs: readStable(data, 1),
      buckets,
    });
  }
  return {
    file,
    processName: readAscii(bytes, Header.PROCESS_NAME, PROCESS_NAME_BYTES),
    pid: view.getInt32(Header.PID, true),
    startTimeMs: view.getFloat64(Header.START_TIME_MS, true),
    counters,
    histograms,
  };
}
