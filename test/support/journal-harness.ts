// Shared fixtures of the journal and sequencer tests: a bus of input rings and a journal ring on
// /dev/shm (unique names, removed at the end), a temp data directory, in-process producers of
// sequencer inputs, and a reader that returns the whole disk journal as plain objects.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { registerConsumer, RingFile, RingProducer, BACK_PRESSURED } from '../../bus/ring';
import { ENTRY_SEQ, getI64, setI64 } from '../../bus/journal-format';
import { JournalDiskReader, TO_DISK_END } from '../../bus/journal-disk-reader';
import { INPUT_HEADER_BYTES, InputHeader, JOURNAL_HEADER_BYTES, JournalHeader, OrderAccepted, type AnyMessage } from '../../bus/schema';
import { writeLoadInput, LOAD_PAYLOAD_BYTES } from '../../processes/sequencer/load-producer';
import { NewOrder } from '../../bus/schema';
import { shmPath, type Teardowns } from './shm';

export interface Bus {
  dir: string;
  inputs: string[];
  journal: string;
  status: string;
}

export interface BusOptions {
  inputs?: number;
  inputBytes?: number;
  journalBytes?: number;
  /** Journal ring consumers registered up front (gating unless named in nonGating). */
  consumers?: string[];
  nonGating?: string[];
}

/** Creates the rings (with the sequencer registered in every input) in a fresh /dev/shm directory. */
export function makeBus(t: Teardowns, label: string, options: BusOptions = {}): Bus {
  const dir = shmPath(t, label);
  fs.mkdirSync(dir);
  const inputs: string[] = [];
  for (let i = 0; i < (options.inputs ?? 1); i++) {
    const file = path.join(dir, `in-${i}.ring`);
    const ring = RingFile.create(file, { capacityBytes: options.inputBytes ?? 1 << 20, maxConsumers: 2 });
    registerConsumer(ring, 'sequencer');
    inputs.push(file);
  }
  const journal = path.join(dir, 'journal.ring');
  const ring = RingFile.create(journal, { capacityBytes: options.journalBytes ?? 1 << 22, maxConsumers: 8 });
  for (const name of options.consumers ?? []) registerConsumer(ring, name, { gating: !(options.nonGating ?? []).includes(name) });
  return { dir, inputs, journal, status: path.join(dir, 'journal.status') };
}

/** A fresh temp directory removed when `t` ends. */
export function tempDir(t: Teardowns, label: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `ims-test-${label}-`));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Writes NewOrder inputs sourceSeq from..to of sourceId into a ring (in-process producer). */
export function produceOrders(producer: RingProducer, sourceId: number, from: number, to: number, epoch = 0): number {
  let seq = from;
  for (; seq <= to; seq++) {
    let at = producer.tryClaim(NewOrder.typeId, NewOrder.version, LOAD_PAYLOAD_BYTES);
    if (at === BACK_PRESSURED) {
      producer.commit(); // the batch bound (a quarter of the ring) may be what stopped us
      at = producer.tryClaim(NewOrder.typeId, NewOrder.version, LOAD_PAYLOAD_BYTES);
      if (at === BACK_PRESSURED) break;
    }
    writeLoadInput(producer.ring.view, at, sourceId, seq, epoch);
  }
  producer.commit();
  return seq - from;
}

/** Writes one engine output (OrderAccepted) input with the given epoch and (inSeq, outIndex). */
export function produceEngineOutput(producer: RingProducer, sourceId: number, sourceSeq: number, epoch: number, inSeq: number, outIndex: number): boolean {
  const at = producer.tryClaim(OrderAccepted.typeId, OrderAccepted.version, INPUT_HEADER_BYTES + OrderAccepted.size);
  if (at === BACK_PRESSURED) return false;
  const view = producer.ring.view;
  for (let i = 0; i < INPUT_HEADER_BYTES + OrderAccepted.size; i += 4) view.setUint32(at + i, 0, true);
  setI64(view, at + InputHeader.o.sourceSeq, sourceSeq);
  view.setUint16(at + InputHeader.o.sourceId, sourceId, true);
  view.setUint32(at + InputHeader.o.epoch, epoch, true);
  const b = at + INPUT_HEADER_BYTES;
  setI64(view, b + OrderAccepted.o.orderId, inSeq * 10 + outIndex);
  setI64(view, b + OrderAccepted.o.inSeq, inSeq);
  view.setUint32(b + OrderAccepted.o.epoch, epoch, true);
  view.setUint16(b + OrderAccepted.o.outIndex, outIndex, true);
  producer.commit();
  return true;
}

/** Writes a raw message (input header + zeroed body of `desc`) with a chosen ring version and size. */
export function produceRaw(producer: RingProducer, desc: AnyMessage, sourceId: number, sourceSeq: number, options: { version?: number; bodyBytes?: number; fill?: (view: DataView, body: number) => void } = {}): boolean {
  const bodyBytes = options.bodyBytes ?? desc.size;
  const at = producer.tryClaim(desc.typeId, options.version ?? desc.version, INPUT_HEADER_BYTES + bodyBytes);
  if (at === BACK_PRESSURED) return false;
  const view = producer.ring.view;
  for (let i = 0; i < INPUT_HEADER_BYTES + bodyBytes; i += 4) view.setUint32(at + i, 0, true);
  setI64(view, at + InputHeader.o.sourceSeq, sourceSeq);
  view.setUint16(at + InputHeader.o.sourceId, sourceId, true);
  options.fill?.(view, at + INPUT_HEADER_BYTES);
  producer.commit();
  return true;
}

export interface JournalEntry {
  seq: number;
  typeId: number;
  timestampUs: number;
  sourceId: number;
  sourceSeq: number;
  epoch: number;
  /** The body bytes (copied). */
  body: Buffer;
}

/** Every entry on disk from `fromSeq` up to `toSeq` (default: everything), via JournalDiskReader. */
export function readJournal(dataDir: string, options: { fromSeq?: number; toSeq?: number; archiveDir?: string } = {}): JournalEntry[] {
  const reader = new JournalDiskReader({ dataDir, archiveDir: options.archiveDir, fromSeq: options.fromSeq ?? 1 });
  const out: JournalEntry[] = [];
  try {
    for (;;) {
      const n = reader.read(
        (typeId, _version, buf, offset, length) => {
          const view = buf.view;
          out.push({
            seq: getI64(view, offset + ENTRY_SEQ),
            typeId,
            timestampUs: getI64(view, offset + JournalHeader.o.timestampUs),
            sourceId: view.getUint16(offset + JournalHeader.o.sourceId, true),
            sourceSeq: getI64(view, offset + JournalHeader.o.sourceSeq),
            epoch: view.getUint32(offset + JournalHeader.o.epoch, true),
            body: Buffer.from(buf.bytes.subarray(offset + JOURNAL_HEADER_BYTES, offset + length)),
          });
        },
        65_536,
        options.toSeq ?? TO_DISK_END,
      );
      if (n === 0) break;
    }
  } finally {
    reader.close();
  }
  return out;
}

/** Asserts seqs are 1..n (or from..) without a gap; returns a description of the first problem or null. */
export function gapFreeProblem(entries: readonly JournalEntry[], from = 1): string | null {
  for (let i = 0; i < entries.length; i++) {
    if (entries[i]!.seq !== from + i) return `entry ${i} has seq ${entries[i]!.seq}, expected ${from + i}`;
  }
  return null;
}

/** Repeats `step` until `done` or the deadline; for in-process sequencer loops. */
export function pump(step: () => void, done: () => boolean, timeoutMs = 10_000): void {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`pump: condition not reached within ${timeoutMs} ms`);
    step();
  }
}
