// A single-producer, many-consumer broadcast ring over a shared file (see ring-layout.ts for the
// layout and the publication protocol). Gating consumers hold the producer back; non-gating ones
// read at their own risk and are told when they were lapped.
//
// Expected conditions are return codes (BACK_PRESSURED, LAPPED), never exceptions; a corrupt ring
// or a broken invariant throws, and the process dies loudly and is restarted by the supervisor.

import * as fs from 'node:fs';
import { native } from '../native/addon';
import {
  alignRecord,
  CONSUMER_NAME_BYTES,
  CONSUMER_SLEEPERS_OFFSET,
  CONSUMER_SLOT_BYTES,
  CONSUMERS_OFFSET,
  ConsumerState,
  dataOffset,
  DEFAULT_MAX_CONSUMERS,
  isPowerOfTwo,
  MAX_CAPACITY_BYTES,
  MAX_CONSUMERS_LIMIT,
  maxPayloadBytes,
  Meta,
  MIN_CAPACITY_BYTES,
  PADDING_TYPE_ID,
  PROGRESS_OFFSET,
  PRODUCER_SLEEPING_OFFSET,
  PUBLISHED_RECORDS_OFFSET,
  RECORD_HEADER_BYTES,
  RING_LAYOUT_VERSION,
  RING_MAGIC,
  ringFileBytes,
  Slot,
  TAIL_OFFSET,
} from './ring-layout';

/** tryClaim: the slowest gating consumer (or the batch bound) leaves no room now. */
export const BACK_PRESSURED = -1;
/** poll: a non-gating consumer fell more than the ring holds behind; it must resynchronise. */
export const LAPPED = -2;

/** A slot state used only while a consumer fills in its slot; the producer ignores it. */
const JOINING = 3;

export interface RingOptions {
  capacityBytes: number;
  maxConsumers?: number;
}

/** A view of bytes a record lives in: the ring mapping itself, or a consumer's private copy. */
export interface RecordBuffer {
  readonly view: DataView;
  readonly bytes: Uint8Array;
}

/**
 * Called once per record. `offset` is the payload's byte offset in `buf`, `length` its byte
 * length. The record is only valid during the call: copy what you keep.
 */
export type RecordHandler = (typeId: number, version: number, buf: RecordBuffer, offset: number, length: number) => void;

function pidAlive(pid: number): boolean {
  if (pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** An open ring file: the mapping and its validated header. Producers and consumers share it. */
export class RingFile implements RecordBuffer {
  readonly buffer: ArrayBuffer;
  readonly view: DataView;
  readonly bytes: Uint8Array;
  readonly i32: Int32Array;
  readonly capacity: number;
  readonly mask: number;
  readonly maxConsumers: number;
  readonly dataStart: number;
  readonly maxPayload: number;

  private constructor(readonly path: string, buffer: ArrayBuffer) {
    this.buffer = buffer;
    this.view = new DataView(buffer);
    this.bytes = new Uint8Array(buffer);
    this.i32 = new Int32Array(buffer);
    const magic = this.view.getUint32(Meta.MAGIC, true);
    const version = this.view.getUint32(Meta.LAYOUT_VERSION, true);
    if (magic !== RING_MAGIC) {
      throw new Error(`ring ${path}: bad magic 0x${magic.toString(16)} (expected 0x${RING_MAGIC.toString(16)}); it is not an IMS ring file — remove it and restart`);
    }
    if (version !== RING_LAYOUT_VERSION) {
      throw new Error(`ring ${path}: layout version ${version}, this build reads ${RING_LAYOUT_VERSION}; stop every process and recreate the bus (ims stop --clean)`);
    }
    this.capacity = this.view.getUint32(Meta.CAPACITY_BYTES, true);
    this.maxConsumers = this.view.getUint32(Meta.MAX_CONSUMERS, true);
    this.dataStart = this.view.getUint32(Meta.DATA_OFFSET, true);
    if (!isPowerOfTwo(this.capacity) || this.capacity > MAX_CAPACITY_BYTES || this.maxConsumers > MAX_CONSUMERS_LIMIT ||
        this.dataStart !== dataOffset(this.maxConsumers) || buffer.byteLength !== ringFileBytes(this.capacity, this.maxConsumers)) {
      throw new Error(`ring ${path}: header says capacity ${this.capacity}, ${this.maxConsumers} consumers, data at ${this.dataStart}, but the file has ${buffer.byteLength} bytes; the file is damaged — remove it and restart`);
    }
    this.mask = this.capacity - 1;
    this.maxPayload = maxPayloadBytes(this.capacity);
  }

  /** Creates the file if missing (or opens and validates an existing one with the same geometry). */
  static create(path: string, options: RingOptions): RingFile {
    const capacity = options.capacityBytes;
    const maxConsumers = options.maxConsumers ?? DEFAULT_MAX_CONSUMERS;
    if (!isPowerOfTwo(capacity) || capacity < MIN_CAPACITY_BYTES || capacity > MAX_CAPACITY_BYTES) {
      throw new TypeError(`ring ${path}: capacityBytes must be a power of two in [${MIN_CAPACITY_BYTES}, ${MAX_CAPACITY_BYTES}], got ${capacity}`);
    }
    if (!Number.isInteger(maxConsumers) || maxConsumers < 1 || maxConsumers > MAX_CONSUMERS_LIMIT) {
      throw new TypeError(`ring ${path}: maxConsumers must be an integer in [1, ${MAX_CONSUMERS_LIMIT}], got ${maxConsumers}`);
    }
    const size = ringFileBytes(capacity, maxConsumers);
    // A file of another size is a ring of another geometry (or no ring): mapping it with create
    // would grow it, and the ring its processes use could then no longer be opened. Refuse first.
    const existingBytes = fs.statSync(path, { throwIfNoEntry: false })?.size ?? 0;
    if (existingBytes !== 0 && existingBytes !== size) {
      const existing = RingFile.open(path);
      throw new Error(geometryMismatch(path, existing, capacity, maxConsumers));
    }
    const buffer = native.mapFile(path, size, true);
    if (buffer.byteLength !== size) {
      throw new Error(`ring ${path}: an existing file of ${buffer.byteLength} bytes is in the way (this ring needs ${size}); remove it or use the geometry it was made with`);
    }
    const view = new DataView(buffer);
    if (view.getUint32(Meta.MAGIC, true) === 0) {
      const clock = new Float64Array(2);
      native.clockInto(clock, 0);
      view.setUint32(Meta.LAYOUT_VERSION, RING_LAYOUT_VERSION, true);
      view.setUint32(Meta.CAPACITY_BYTES, capacity, true);
      view.setUint32(Meta.MAX_CONSUMERS, maxConsumers, true);
      view.setUint32(Meta.DATA_OFFSET, dataOffset(maxConsumers), true);
      view.setUint32(Meta.CREATED_US_LO, clock[1]! % 2 ** 32, true);
      view.setUint32(Meta.CREATED_US_HI, Math.floor(clock[1]! / 2 ** 32), true);
      // The magic goes last: a reader that sees it sees a complete header.
      Atomics.store(new Int32Array(buffer), Meta.MAGIC >> 2, RING_MAGIC | 0);
    }
    const ring = new RingFile(path, buffer);
    if (ring.capacity !== capacity || ring.maxConsumers !== maxConsumers) {
      throw new Error(geometryMismatch(path, ring, capacity, maxConsumers));
    }
    return ring;
  }

  /** Opens an existing ring file, validating magic, version and size. */
  static open(path: string): RingFile {
    return new RingFile(path, native.mapFile(path, 0, false));
  }

  static unlink(path: string): boolean {
    return native.unlinkFile(path);
  }

  tail(): number {
    return Atomics.load(this.i32, TAIL_OFFSET >> 2) >>> 0;
  }

  publishedRecords(): number {
    return Atomics.load(this.i32, PUBLISHED_RECORDS_OFFSET >> 2) >>> 0;
  }

  producerPid(): number {
    return Atomics.load(this.i32, Meta.PRODUCER_PID >> 2);
  }

  /** A snapshot of every registered consumer, for status displays and tests. */
  consumers(): Array<{ slot: number; name: string; state: number; position: number; lag: number; pid: number; alive: boolean; lapped: number; records: number }> {
    const out = [];
    const tail = this.tail();
    for (let s = 0; s < this.maxConsumers; s++) {
      const base = CONSUMERS_OFFSET + s * CONSUMER_SLOT_BYTES;
      const state = Atomics.load(this.i32, (base + Slot.STATE) >> 2);
      if (state === ConsumerState.FREE) continue;
      const position = Atomics.load(this.i32, (base + Slot.POSITION) >> 2) >>> 0;
      const pid = Atomics.load(this.i32, (base + Slot.PID) >> 2);
      out.push({
        slot: s,
        name: readName(this.bytes, base + Slot.NAME),
        state,
        position,
        lag: (tail - position) >>> 0,
        pid,
        alive: pidAlive(pid),
        lapped: this.view.getUint32(base + Slot.LAPPED, true),
        records: this.view.getUint32(base + Slot.RECORDS, true),
      });
    }
    return out;
  }
}

function geometryMismatch(path: string, ring: RingFile, capacity: number, maxConsumers: number): string {
  return `ring ${path}: exists with capacity ${ring.capacity} and ${ring.maxConsumers} consumers, asked for ${capacity} and ${maxConsumers}; remove it to change the geometry`;
}

function readName(bytes: Uint8Array, off: number): string {
  let end = off;
  while (end < off + CONSUMER_NAME_BYTES && bytes[end] !== 0) end++;
  return Buffer.from(bytes.buffer, bytes.byteOffset + off, end - off).toString('latin1');
}

function writeName(bytes: Uint8Array, off: number, name: string): void {
  bytes.fill(0, off, off + CONSUMER_NAME_BYTES);
  for (let i = 0; i < name.length; i++) bytes[off + i] = name.charCodeAt(i);
}

const TAIL_INDEX = TAIL_OFFSET >> 2;
const PUBLISHED_INDEX = PUBLISHED_RECORDS_OFFSET >> 2;
const SLEEPERS_INDEX = CONSUMER_SLEEPERS_OFFSET >> 2;
const PRODUCER_SLEEPING_INDEX = PRODUCER_SLEEPING_OFFSET >> 2;
const PROGRESS_INDEX = PROGRESS_OFFSET >> 2;

function throwPayloadOutOfRange(ring: RingFile, payloadBytes: number): never {
  throw new RangeError(`ring ${ring.path}: payload of ${payloadBytes} bytes; records carry 0..${ring.maxPayload}`);
}

/**
 * The one writer of a ring. Claim records (zero-copy: write the payload straight into the ring at
 * the returned offset), then commit the batch with one atomic store.
 */
export class RingProducer {
  readonly ring: RingFile;
  /**
   * claimed, published and cachedMin (the lowest gating consumer position seen last time we
   * looked: Agrona's cached limit), as u32 words. They live in a typed array, not in fields:
   * positions pass 2^31 after 2 GiB of records, and a field then holding such a number makes V8
   * deoptimize tryClaim/commit and keep the fields as boxed doubles, ~1.5x slower from then on
   * (npm run bench:bus).
   */
  private readonly positions = new Uint32Array(3);
  private pendingRecords = 0;
  private readonly batchLimit: number;

  constructor(ring: RingFile) {
    this.ring = ring;
    const pid = ring.producerPid();
    if (pid !== 0 && pid !== process.pid && pidAlive(pid)) {
      throw new Error(`ring ${ring.path}: producer pid ${pid} is still alive; a ring has exactly one producer (stop it first)`);
    }
    Atomics.store(ring.i32, Meta.PRODUCER_PID >> 2, process.pid);
    Atomics.add(ring.i32, Meta.PRODUCER_ATTACHES >> 2, 1);
    // A predecessor killed while parked left the flag set; every consumer commit would then make
    // a futex-wake syscall for nobody.
    Atomics.store(ring.i32, PRODUCER_SLEEPING_INDEX, 0);
    // Resume at the published tail: anything a killed predecessor claimed but never published is
    // garbage and gets overwritten.
    this.published = ring.tail();
    this.claimed = this.published;
    this.cachedMin = this.published;
    this.batchLimit = ring.capacity / 4;
  }

  private get claimed(): number {
    return this.positions[0]!;
  }
  private set claimed(position: number) {
    this.positions[0] = position;
  }
  private get published(): number {
    return this.positions[1]!;
  }
  private set published(position: number) {
    this.positions[1] = position;
  }
  private get cachedMin(): number {
    return this.positions[2]!;
  }
  private set cachedMin(position: number) {
    this.positions[2] = position;
  }

  /** The position after the last committed record. */
  get position(): number {
    return this.published;
  }

  /**
   * Reserves one record of `payloadBytes` and writes its header. Returns the payload's byte offset
   * in `ring.bytes`/`ring.view`, or BACK_PRESSURED when the ring has no room (commit what you have
   * and retry later). One uncommitted batch is bounded to a quarter of the ring.
   */
  tryClaim(typeId: number, version: number, payloadBytes: number): number {
    // Cold paths live in other functions: V8 inlines tryClaim into the caller's loop only while
    // its bytecode stays under --max-inlined-bytecode-size (460 bytes).
    const ring = this.ring;
    if (!(payloadBytes >= 0 && payloadBytes <= ring.maxPayload)) throwPayloadOutOfRange(ring, payloadBytes);
    const length = RECORD_HEADER_BYTES + payloadBytes;
    const aligned = alignRecord(length);
    let index = this.claimed & ring.mask;
    let toEnd = ring.capacity - index;
    if (aligned > toEnd && this.claimed === this.published && toEnd + aligned > this.batchLimit) {
      // Padding plus a large record can exceed the batch bound even in an empty batch, and would
      // at this position forever. Publish the padding alone; the record then starts at offset 0.
      // (The bound itself stays: non-gating consumers rely on nothing being written further than
      // batchLimit past the published tail.)
      if (!this.publishPadding(index, toEnd)) return BACK_PRESSURED;
      index = 0;
      toEnd = ring.capacity;
    }
    const needed = aligned <= toEnd ? aligned : toEnd + aligned;
    const end = (this.claimed + needed) >>> 0;
    if (((end - this.published) >>> 0) > this.batchLimit) return BACK_PRESSURED;
    if (((end - this.cachedMin) >>> 0) > ring.capacity) {
      this.cachedMin = this.minGatingPosition();
      if (((end - this.cachedMin) >>> 0) > ring.capacity) return BACK_PRESSURED;
    }
    const i32 = ring.i32;
    let base = ring.dataStart + index;
    if (aligned > toEnd) {
      i32[base >> 2] = toEnd;
      i32[(base + 4) >> 2] = PADDING_TYPE_ID;
      index = 0;
      base = ring.dataStart;
    }
    i32[base >> 2] = length;
    // typeId (u16), version (u8) and flags (u8, 0) in one little-endian word: one typed-array
    // store instead of three DataView calls. (Int32Array is host-endian, as for `length`.)
    i32[(base + 4) >> 2] = (typeId & 0xffff) | ((version & 0xff) << 16);
    this.claimed = end;
    this.pendingRecords++;
    return base + RECORD_HEADER_BYTES;
  }

  /** Publishes every claimed record at once and wakes sleeping consumers, if any. */
  commit(): void {
    if (this.claimed === this.published) return;
    const i32 = this.ring.i32;
    Atomics.store(i32, TAIL_INDEX, this.claimed | 0);
    Atomics.add(i32, PUBLISHED_INDEX, this.pendingRecords);
    this.published = this.claimed;
    this.pendingRecords = 0;
    // Store(tail) then load(sleepers), against the consumer's add(sleepers) then load(tail): both
    // sequentially consistent, so either the consumer sees the new tail or we see the sleeper.
    if (Atomics.load(i32, SLEEPERS_INDEX) !== 0) native.futexWake(this.ring.buffer, TAIL_OFFSET);
  }

  /** Drops claimed, uncommitted records (for example after an encoding error). */
  abort(): void {
    this.claimed = this.published;
    this.pendingRecords = 0;
  }

  /** Copies a payload into one record and commits it. Returns BACK_PRESSURED or the new position. */
  offer(typeId: number, version: number, src: Uint8Array, srcOffset: number, length: number): number {
    const at = this.tryClaim(typeId, version, length);
    if (at === BACK_PRESSURED) return BACK_PRESSURED;
    this.ring.bytes.set(src.subarray(srcOffset, srcOffset + length), at);
    this.commit();
    return this.published;
  }

  /**
   * Sleeps (futex) until a consumer makes progress or timeoutNs passes. Only worth calling after
   * BACK_PRESSURED; consumers wake us only while PRODUCER_SLEEPING is set.
   */
  parkUntilProgress(timeoutNs: number): void {
    const i32 = this.ring.i32;
    Atomics.store(i32, PRODUCER_SLEEPING_INDEX, 1);
    const seen = Atomics.load(i32, PROGRESS_INDEX);
    this.cachedMin = this.minGatingPosition();
    const stillFull = ((this.claimed + this.batchLimit - this.cachedMin) >>> 0) > this.ring.capacity;
    if (stillFull) native.futexWait(this.ring.buffer, PROGRESS_OFFSET, seen, timeoutNs);
    Atomics.store(i32, PRODUCER_SLEEPING_INDEX, 0);
  }

  /** Clears the producer pid so another process may take over (called on clean shutdown). */
  close(): void {
    this.commit();
    Atomics.compareExchange(this.ring.i32, Meta.PRODUCER_PID >> 2, process.pid, 0);
  }

  /** Publishes a padding record from ring index `index` to the end; false when gated. */
  private publishPadding(index: number, toEnd: number): boolean {
    const ring = this.ring;
    const end = (this.claimed + toEnd) >>> 0;
    if (((end - this.cachedMin) >>> 0) > ring.capacity) {
      this.cachedMin = this.minGatingPosition();
      if (((end - this.cachedMin) >>> 0) > ring.capacity) return false;
    }
    const base = ring.dataStart + index;
    ring.i32[base >> 2] = toEnd;
    ring.view.setUint32(base + 4, PADDING_TYPE_ID, true);
    this.claimed = end;
    this.commit();
    return true;
  }

  private minGatingPosition(): number {
    const ring = this.ring;
    const i32 = ring.i32;
    let maxDistance = 0;
    for (let s = 0; s < ring.maxConsumers; s++) {
      const base = CONSUMERS_OFFSET + s * CONSUMER_SLOT_BYTES;
      if (Atomics.load(i32, (base + Slot.STATE) >> 2) !== ConsumerState.GATING) continue;
      const pos = Atomics.load(i32, (base + Slot.POSITION) >> 2) >>> 0;
      const distance = (this.published - pos) >>> 0;
      if (distance > ring.capacity) {
        throw new Error(`ring ${ring.path}: gating consumer '${readName(ring.bytes, base + Slot.NAME)}' is at ${pos}, ${distance} bytes behind a ${ring.capacity}-byte ring; the ring is corrupt — stop the bus and recreate it`);
      }
      if (distance > maxDistance) maxDistance = distance;
    }
    return (this.published - maxDistance) >>> 0;
  }
}

export interface ConsumerOptions {
  /** Gating consumers hold the producer back; non-gating ones may be lapped. Default true. */
  gating?: boolean;
}

/** One reader of a ring, registered in a named slot so a restart resumes where it committed. */
export class RingConsumer {
  readonly ring: RingFile;
  readonly name: string;
  readonly gating: boolean;
  private readonly slotBase: number;
  private readonly positionIndex: number;
  private readonly recordsIndex: number;
  private readonly sleepingIndex: number;
  /** The committed position as a u32 word, in a typed array for the reason given in RingProducer. */
  private readonly committed = new Uint32Array(1);
  /** Non-gating consumers copy each record here before validating it was not overwritten. */
  private readonly scratch: RecordBuffer;
  private readonly scratchI32: Int32Array;

  constructor(ring: RingFile, name: string, options: ConsumerOptions = {}) {
    if (name.length === 0 || name.length >= CONSUMER_NAME_BYTES || !/^[\x21-\x7e]+$/.test(name)) {
      throw new TypeError(`ring ${ring.path}: consumer name must be 1..${CONSUMER_NAME_BYTES - 1} printable ASCII characters, got '${name}'`);
    }
    this.ring = ring;
    this.name = name;
    this.gating = options.gating ?? true;
    this.slotBase = joinSlot(ring, name, this.gating, process.pid);
    this.positionIndex = (this.slotBase + Slot.POSITION) >> 2;
    this.recordsIndex = (this.slotBase + Slot.RECORDS) >> 2;
    this.sleepingIndex = (this.slotBase + Slot.SLEEPING) >> 2;
    this.pos = Atomics.load(ring.i32, this.positionIndex) >>> 0;
    const scratch = new ArrayBuffer(ring.maxPayload + RECORD_HEADER_BYTES);
    this.scratch = { view: new DataView(scratch), bytes: new Uint8Array(scratch) };
    this.scratchI32 = new Int32Array(scratch);
  }

  private get pos(): number {
    return this.committed[0]!;
  }
  private set pos(position: number) {
    this.committed[0] = position;
  }

  /** The committed position (everything before it is handled). */
  get position(): number {
    return this.pos;
  }

  lag(): number {
    return (this.ring.tail() - this.pos) >>> 0;
  }

  hasData(): boolean {
    return this.ring.tail() !== this.pos;
  }

  /**
   * Hands up to `limit` records to `handler` and commits the new position once for the batch.
   * Returns the number of records handled, or LAPPED for a non-gating consumer that fell too far
   * behind (its position then jumps to the tail; resynchronise from elsewhere).
   */
  poll(handler: RecordHandler, limit: number): number {
    const ring = this.ring;
    const tail = Atomics.load(ring.i32, TAIL_INDEX) >>> 0;
    let pos = this.pos;
    if (pos === tail) return 0;
    const capacity = ring.capacity;
    const i32 = ring.i32;
    if (!this.gating && ((tail - pos) >>> 0) > (capacity * 3) / 4) return this.lapped(tail);
    let count = 0;
    while (pos !== tail && count < limit) {
      const index = pos & ring.mask;
      const base = ring.dataStart + index;
      const length = i32[base >> 2]!;
      // typeId (u16) and version (u8) from one typed-array load instead of two DataView calls.
      const typeWord = i32[(base + 4) >> 2]!;
      const typeId = typeWord & 0xffff;
      if (length < RECORD_HEADER_BYTES || index + length > capacity || (typeId !== PADDING_TYPE_ID && length - RECORD_HEADER_BYTES > ring.maxPayload)) {
        if (!this.gating) return this.lapped(Atomics.load(i32, TAIL_INDEX) >>> 0);
        throw new Error(`ring ${ring.path}: corrupt record at position ${pos} (length ${length}, type ${typeId}) for consumer '${this.name}'; stop the bus and recreate it`);
      }
      if (typeId !== PADDING_TYPE_ID) {
        if (this.gating) {
          handler(typeId, (typeWord >>> 16) & 0xff, ring, base + RECORD_HEADER_BYTES, length - RECORD_HEADER_BYTES);
        } else {
          // Copy, then check the producer did not overwrite the record while we copied it.
          const words = alignRecord(length) >> 2;
          const from = base >> 2;
          const scratchI32 = this.scratchI32;
          for (let w = 0; w < words; w++) scratchI32[w] = i32[from + w]!;
          const lagNow = (Atomics.load(i32, TAIL_INDEX) - pos) >>> 0;
          if (lagNow > (capacity * 3) / 4) return this.lapped(Atomics.load(i32, TAIL_INDEX) >>> 0);
          handler(typeId, this.scratch.view.getUint8(6), this.scratch, RECORD_HEADER_BYTES, length - RECORD_HEADER_BYTES);
        }
        count++;
      }
      pos = (pos + alignRecord(length)) >>> 0;
    }
    this.commitPosition(pos, count);
    return count;
  }

  /**
   * Sleeps on the ring's tail until the producer publishes or timeoutNs passes. Returns at once
   * when data is already there. The fast path of the producer makes no syscall unless we sleep.
   */
  park(timeoutNs: number): void {
    const i32 = this.ring.i32;
    this.beginSleep();
    const tail = Atomics.load(i32, TAIL_INDEX);
    if ((tail >>> 0) === this.pos) native.futexWait(this.ring.buffer, TAIL_OFFSET, tail, timeoutNs);
    this.endSleep();
  }

  /** Registers as a sleeper (before re-checking the tail): see RingProducer.commit. */
  beginSleep(): void {
    const i32 = this.ring.i32;
    Atomics.store(i32, this.sleepingIndex, 1);
    Atomics.add(i32, SLEEPERS_INDEX, 1);
  }

  endSleep(): void {
    const i32 = this.ring.i32;
    Atomics.sub(i32, SLEEPERS_INDEX, 1);
    Atomics.store(i32, this.sleepingIndex, 0);
  }

  /** Moves the committed position (for consumers that commit only after their own durability). */
  commitPosition(pos: number, records: number): void {
    const i32 = this.ring.i32;
    this.pos = pos >>> 0;
    Atomics.store(i32, this.positionIndex, this.pos | 0);
    if (records !== 0) Atomics.add(i32, this.recordsIndex, records);
    if (Atomics.load(i32, PRODUCER_SLEEPING_INDEX) !== 0) {
      Atomics.add(i32, PROGRESS_INDEX, 1);
      native.futexWake(this.ring.buffer, PROGRESS_OFFSET);
    }
  }

  /** Frees the slot: the producer stops waiting for this consumer, and its position is forgotten. */
  leave(): void {
    const i32 = this.ring.i32;
    Atomics.store(i32, (this.slotBase + Slot.PID) >> 2, 0);
    // FREE is the last write to the slot: another process may take it at once, and must not find
    // our position written after its own.
    Atomics.store(i32, (this.slotBase + Slot.STATE) >> 2, ConsumerState.FREE);
    if (Atomics.load(i32, PRODUCER_SLEEPING_INDEX) !== 0) {
      Atomics.add(i32, PROGRESS_INDEX, 1);
      native.futexWake(this.ring.buffer, PROGRESS_OFFSET);
    }
  }

  /** Detaches this process but keeps the slot (and its gating): a restart resumes from here. */
  close(): void {
    Atomics.compareExchange(this.ring.i32, (this.slotBase + Slot.PID) >> 2, process.pid, 0);
  }

  private lapped(tail: number): number {
    Atomics.add(this.ring.i32, (this.slotBase + Slot.LAPPED) >> 2, 1);
    this.commitPosition(tail, 0);
    return LAPPED;
  }
}

/**
 * Finds (or takes) the slot named `name`. pid 0 registers a consumer ahead of its process (the
 * supervisor does this when it creates the bus, so no record published before the consumer
 * process starts is missed).
 */
function joinSlot(ring: RingFile, name: string, gating: boolean, pid: number): number {
  const i32 = ring.i32;
  const wanted = gating ? ConsumerState.GATING : ConsumerState.NON_GATING;
  // Rejoin our own slot first: a restarted consumer resumes from its committed position.
  for (let s = 0; s < ring.maxConsumers; s++) {
    const base = CONSUMERS_OFFSET + s * CONSUMER_SLOT_BYTES;
    const state = Atomics.load(i32, (base + Slot.STATE) >> 2);
    if (state === ConsumerState.FREE || state === JOINING) continue;
    if (readName(ring.bytes, base + Slot.NAME) !== name) continue;
    const owner = Atomics.load(i32, (base + Slot.PID) >> 2);
    if (owner !== pid && owner !== process.pid && pidAlive(owner)) {
      throw new Error(`ring ${ring.path}: consumer '${name}' is attached by live pid ${owner}; one consumer per name`);
    }
    Atomics.store(i32, (base + Slot.PID) >> 2, pid);
    // A predecessor killed while asleep left its sleeper count behind; take it back.
    const sleepingIndex = (base + Slot.SLEEPING) >> 2;
    if (Atomics.exchange(i32, sleepingIndex, 0) !== 0) Atomics.sub(i32, SLEEPERS_INDEX, 1);
    Atomics.store(i32, (base + Slot.STATE) >> 2, wanted);
    return base;
  }
  for (let s = 0; s < ring.maxConsumers; s++) {
    const base = CONSUMERS_OFFSET + s * CONSUMER_SLOT_BYTES;
    if (Atomics.compareExchange(i32, (base + Slot.STATE) >> 2, ConsumerState.FREE, JOINING) !== ConsumerState.FREE) continue;
    writeName(ring.bytes, base + Slot.NAME, name);
    Atomics.store(i32, (base + Slot.PID) >> 2, pid);
    Atomics.store(i32, (base + Slot.LAPPED) >> 2, 0);
    Atomics.store(i32, (base + Slot.RECORDS) >> 2, 0);
    Atomics.store(i32, (base + Slot.SLEEPING) >> 2, 0);
    // A new consumer starts at the tail: it sees what is published from now on.
    Atomics.store(i32, (base + Slot.POSITION) >> 2, Atomics.load(i32, TAIL_INDEX));
    Atomics.store(i32, (base + Slot.STATE) >> 2, wanted);
    return base;
  }
  throw new Error(`ring ${ring.path}: all ${ring.maxConsumers} consumer slots are taken; free one (a consumer that left for good) or recreate the ring with more`);
}

/** Registers a consumer slot before its process exists (see joinSlot). */
export function registerConsumer(ring: RingFile, name: string, options: ConsumerOptions = {}): void {
  joinSlot(ring, name, options.gating ?? true, 0);
}
