// The journal benchmark: the sequencer (the real process, dist/processes/sequencer/main.js) and the
// journal's disk side, each beside a baseline measured in the same run.
//
//   node dist/scripts/bench/journal.js [--quick]        (npm run bench:journal [-- --quick])
//
// Phases:
//   baseline    one fs.writeSync + fdatasync per entry, the way a journal without group commit
//               works: its entries/s and p99 are what group commit is measured against.
//   throughput  2 input rings pre-filled with NewOrder inputs, the sequencer process started, one
//               gating JournalReader consumer (this process) following the journal ring: entries/s
//               from the first entry the consumer receives to the last (durable first in fsync mode).
//               Median of the trials, fsync and async.
//   latency     a producer process offering 215,000 inputs/s (the DESIGN peak) stamped with
//               CLOCK_MONOTONIC ns; the consumer measures offer -> durable entry in hand.
//   replay      JournalDiskReader (CRC checked) over the recovery journal; peer: the same frames
//               walked without CRC checks.
//   recovery    a journal of 10 M entries (--quick: 1 M, scaled x10 and marked) written to disk,
//               then a sequencer process started on it with the default checks (every header,
//               every older segment's whole-file CRC32C, the newest segment frame by frame): time
//               from spawn until a consumer waiting at the next seq receives the first new entry
//               (node start, checks, state rebuild, rings, first group commit). The sequencer's own
//               open() time is reported too, and once with --recovery-scan tail beside it.
//
// The last line printed is one JSON object (see BENCHMARKS.md, "Journal").

import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { native } from '../../native/addon';
import { BackoffIdleStrategy } from '../../bus/idle-strategy';
import { emptySnapshot, ENTRY_SEQ, getI64, setI64, FRAME_HEADER_BYTES } from '../../bus/journal-format';
import { JournalDiskReader } from '../../bus/journal-disk-reader';
import { JournalReader } from '../../bus/journal-reader';
import { listSegments, recoverJournal } from '../../bus/journal-recovery';
import { CURSOR_FRAME, SegmentCursor } from '../../bus/journal-segment-cursor';
import { JournalStatusFile } from '../../bus/journal-status';
import { JournalWriter } from '../../bus/journal-writer';
import { BACK_PRESSURED, registerConsumer, RingFile, RingProducer, type RecordBuffer } from '../../bus/ring';
import { JOURNAL_HEADER_BYTES, JournalHeader, NewOrder } from '../../bus/schema';
import { LOAD_PAYLOAD_BYTES, writeLoadInput } from '../../processes/sequencer/load-producer';

const QUICK = process.argv.includes('--quick');
const PACKAGE_ROOT = path.resolve(__dirname, '..', '..', '..');
const SEQUENCER_JS = path.join(PACKAGE_ROOT, 'dist', 'processes', 'sequencer', 'main.js');
const PRODUCER_JS = path.join(PACKAGE_ROOT, 'dist', 'processes', 'sequencer', 'load-producer.js');

const PLAN = QUICK
  ? { baselineEntries: 400, perRing: 250_000, trials: 1, latencySeconds: 3, recoveryEvents: 1_000_000, recoveryTrials: 1 }
  : { baselineEntries: 2_000, perRing: 1_000_000, trials: 3, latencySeconds: 10, recoveryEvents: 10_000_000, recoveryTrials: 3 };
const OFFERED_PER_S = 215_000;
const INPUT_RING_BYTES = 1 << 27;
const JOURNAL_RING_BYTES = 1 << 26;
const LATENCY_WARMUP_S = 0.5;

const SHM_ROOT = fs.mkdtempSync('/dev/shm/ims-bench-journal-');
const DATA_ROOT = fs.mkdtempSync(path.join(os.tmpdir(), 'ims-bench-journal-'));
const children = new Set<ChildProcess>();
let cleaned = false;
function cleanup(): void {
  if (cleaned) return;
  cleaned = true;
  for (const c of children) c.kill('SIGKILL');
  fs.rmSync(SHM_ROOT, { recursive: true, force: true });
  fs.rmSync(DATA_ROOT, { recursive: true, force: true });
}
process.on('exit', cleanup);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    cleanup();
    process.exit(130);
  });
}

const clock = new Float64Array(2);
function monoNs(): number {
  native.clockInto(clock, 0);
  return clock[0]!;
}

function log(text: string): void {
  process.stdout.write(text + '\n');
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

let runCounter = 0;
function freshDirs(label: string): { shm: string; data: string } {
  runCounter++;
  const shm = path.join(SHM_ROOT, `${label}-${runCounter}`);
  const data = path.join(DATA_ROOT, `${label}-${runCounter}`);
  fs.mkdirSync(shm);
  return { shm, data };
}

interface Spawned {
  child: ChildProcess;
  lines: Array<Record<string, unknown>>;
  exited: Promise<number | null>;
  waitFor(event: string, timeoutMs: number): Promise<Record<string, unknown>>;
}

function spawnNode(script: string, args: string[]): Spawned {
  const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.add(child);
  const lines: Array<Record<string, unknown>> = [];
  const waiters: Array<() => void> = [];
  readline.createInterface({ input: child.stdout! }).on('line', (text) => {
    try {
      lines.push(JSON.parse(text) as Record<string, unknown>);
    } catch {
      lines.push({ event: 'raw', text });
    }
    for (const w of waiters.splice(0)) w();
  });
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      children.delete(child);
      for (const w of waiters.splice(0)) w();
      resolve(code);
    }),
  );
  return {
    child,
    lines,
    exited,
    async waitFor(event, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = lines.find((l) => l['event'] === event);
        if (found !== undefined) return found;
        if (child.exitCode !== null || Date.now() > deadline) throw new Error(`${path.basename(script)}: no '${event}' (exit ${child.exitCode}); lines: ${JSON.stringify(lines.slice(-3))}`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 50);
          waiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
    },
  };
}

async function stop(s: Spawned): Promise<void> {
  s.child.kill('SIGTERM');
  const code = await s.exited;
  if (code !== 0) throw new Error(`sequencer exited with ${code}`);
}

/** Follows the journal in this process, in slices, until `until(lastSeq)` or the timeout. */
async function follow(reader: JournalReader, onEntry: (seq: number, buf: RecordBuffer, offset: number) => void, done: () => boolean, timeoutMs: number): Promise<void> {
  const idle = new BackoffIdleStrategy(reader, { maxParkNs: 200_000 });
  const handler = (_typeId: number, _version: number, buf: RecordBuffer, offset: number): void => onEntry(getI64(buf.view, offset + ENTRY_SEQ), buf, offset);
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`bench: the journal did not arrive within ${timeoutMs} ms (consumer at seq ${reader.nextSeq - 1})`);
    const sliceEnd = Date.now() + 20;
    while (!done() && Date.now() < sliceEnd) idle.idle(reader.poll(handler, 1024));
    await new Promise((resolve) => setImmediate(resolve));
  }
}

// ---------------------------------------------------------------------------------------------

function baseline(): { perS: number; p99Ns: number } {
  const file = path.join(DATA_ROOT, 'baseline.bin');
  const fd = fs.openSync(file, 'w');
  const frame = Buffer.alloc(FRAME_HEADER_BYTES + JOURNAL_HEADER_BYTES + NewOrder.size, 7);
  const latencies = new Float64Array(PLAN.baselineEntries);
  const start = monoNs();
  for (let i = 0; i < PLAN.baselineEntries; i++) {
    const t0 = monoNs();
    fs.writeSync(fd, frame, 0, frame.byteLength);
    fs.fdatasyncSync(fd);
    latencies[i] = monoNs() - t0;
  }
  const elapsed = monoNs() - start;
  fs.closeSync(fd);
  fs.rmSync(file);
  latencies.sort();
  return { perS: (PLAN.baselineEntries / elapsed) * 1e9, p99Ns: percentile(latencies, 0.99) };
}

function makeRings(shm: string, inputs: number): { inputs: string[]; journal: string } {
  const inputPaths: string[] = [];
  for (let i = 0; i < inputs; i++) {
    const file = path.join(shm, `in-${i}.ring`);
    registerConsumer(RingFile.create(file, { capacityBytes: INPUT_RING_BYTES, maxConsumers: 2 }), 'sequencer');
    inputPaths.push(file);
  }
  const journal = path.join(shm, 'journal.ring');
  registerConsumer(RingFile.create(journal, { capacityBytes: JOURNAL_RING_BYTES, maxConsumers: 4 }), 'bench');
  return { inputs: inputPaths, journal };
}

function prefill(ringPath: string, sourceId: number, count: number, fromSourceSeq = 1): void {
  const producer = new RingProducer(RingFile.open(ringPath));
  const view = producer.ring.view;
  for (let s = fromSourceSeq; s < fromSourceSeq + count; s++) {
    let at = producer.tryClaim(NewOrder.typeId, NewOrder.version, LOAD_PAYLOAD_BYTES);
    if (at === BACK_PRESSURED) {
      producer.commit();
      at = producer.tryClaim(NewOrder.typeId, NewOrder.version, LOAD_PAYLOAD_BYTES);
      if (at === BACK_PRESSURED) throw new Error('bench: input ring too small for the prefill');
    }
    writeLoadInput(view, at, sourceId, s);
  }
  producer.close();
}

async function throughput(mode: 'fsync' | 'async'): Promise<{ perS: number; avgBatch: number; dataDir: string }> {
  const { shm, data } = freshDirs(`tput-${mode}`);
  const rings = makeRings(shm, 2);
  rings.inputs.forEach((r, i) => prefill(r, i + 1, PLAN.perRing));
  const total = PLAN.perRing * 2;
  const reader = new JournalReader({ ringPath: rings.journal, name: 'bench', fromSeq: 1, dataDir: data });
  const seq = spawnNode(SEQUENCER_JS, ['--data-dir', data, '--journal-ring', rings.journal, '--durability', mode, ...rings.inputs.flatMap((r) => ['--input', r])]);
  let first = 0;
  let last = 0;
  let lastSeq = 0;
  await follow(
    reader,
    (s) => {
      if (s === 1) first = monoNs();
      lastSeq = s;
      if (s === total) last = monoNs();
    },
    () => lastSeq >= total,
    120_000,
  );
  const status = JournalStatusFile.openIfExists(path.join(shm, 'journal.status'))!.snapshot();
  reader.close();
  await stop(seq);
  return { perS: ((total - 1) / (last - first)) * 1e9, avgBatch: status.entriesTotal / Math.max(1, status.batches), dataDir: data };
}

async function latency(mode: 'fsync' | 'async'): Promise<{ p50: number; p99: number; p999: number; max: number; samples: number; avgBatch: number; syncAvgUs: number; syncMaxUs: number }> {
  const { shm, data } = freshDirs(`lat-${mode}`);
  const rings = makeRings(shm, 1);
  const total = Math.floor(OFFERED_PER_S * PLAN.latencySeconds);
  const warmup = Math.floor(OFFERED_PER_S * LATENCY_WARMUP_S);
  const reader = new JournalReader({ ringPath: rings.journal, name: 'bench', fromSeq: 1, dataDir: data });
  const seq = spawnNode(SEQUENCER_JS, ['--data-dir', data, '--journal-ring', rings.journal, '--durability', mode, '--input', rings.inputs[0]!]);
  await seq.waitFor('sequencer-start', 30_000);
  const producer = spawnNode(PRODUCER_JS, ['--ring', rings.inputs[0]!, '--source-id', '1', '--count', String(total), '--rate', String(OFFERED_PER_S), '--batch', '8', '--stamp']);
  const samples = new Float64Array(total);
  let n = 0;
  let lastSeq = 0;
  const orderIdAt = JOURNAL_HEADER_BYTES + NewOrder.o.orderId;
  await follow(
    reader,
    (s, buf, offset) => {
      lastSeq = s;
      if (s > warmup) samples[n++] = monoNs() - getI64(buf.view, offset + orderIdAt);
    },
    () => lastSeq >= total,
    PLAN.latencySeconds * 1000 + 60_000,
  );
  const status = JournalStatusFile.openIfExists(path.join(shm, 'journal.status'))!.snapshot();
  reader.close();
  await producer.exited;
  await stop(seq);
  const sorted = samples.subarray(0, n).sort();
  return { p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), p999: percentile(sorted, 0.999), max: sorted[n - 1] ?? 0, samples: n, avgBatch: status.entriesTotal / Math.max(1, status.batches), syncAvgUs: status.syncAvgUs, syncMaxUs: status.maxSyncUs };
}

/** The last sourceSeq of `sourceId` among seqs 1..head, with writeJournal's numbering. */
function lastSourceSeqOf(sourceId: number, head: number): number {
  let seq = head;
  while (seq >= 1 && 1 + (seq & 3) !== sourceId) seq--;
  return seq >= 1 ? 1 + (seq >>> 2) : 0;
}

/** Writes `events` NewOrder entries from 4 sources straight through the writer (a day on disk). */
function writeJournal(dataDir: string, events: number): void {
  const recovered = recoverJournal(dataDir, { scan: 'full', repair: true });
  let writer: JournalWriter | null = null;
  const payload = JOURNAL_HEADER_BYTES + NewOrder.size;
  // Each segment header carries the per-source state before it, as the sequencer's do.
  const snapshot = () => {
    const head = writer?.headSeq ?? 0;
    const sources = [1, 2, 3, 4].map((sourceId) => ({ sourceId, lastSourceSeq: lastSourceSeqOf(sourceId, head) }));
    return { ...emptySnapshot(head + 1), sources };
  };
  writer = JournalWriter.open(recovered, { dataDir, snapshot });
  const view = writer.stagingView;
  const ts = Date.now() * 1000;
  for (let seq = 1; seq <= events; seq++) {
    const at = writer.claim(NewOrder.typeId, NewOrder.version, payload, seq);
    setI64(view, at + JournalHeader.o.seq, seq);
    setI64(view, at + JournalHeader.o.timestampUs, ts + seq);
    writeLoadInput(view, at + JournalHeader.o.sourceSeq, 1 + (seq & 3), 1 + (seq >>> 2));
    writer.seal();
    if ((seq & 0xfff) === 0) writer.write();
  }
  writer.close();
}

function replay(dataDir: string, events: number): { perS: number; perSNoCrc: number } {
  let sum = 0;
  const reader = new JournalDiskReader({ dataDir, fromSeq: 1 });
  const t0 = monoNs();
  let read = 0;
  for (;;) {
    const n = reader.read((_t, _v, buf, offset) => {
      sum += buf.view.getUint32(offset + ENTRY_SEQ, true);
    }, 1 << 20, events);
    if (n === 0) break;
    read += n;
  }
  const crcNs = monoNs() - t0;
  reader.close();
  if (read !== events) throw new Error(`bench: replay read ${read} of ${events}`);
  // Peer: the same frames walked without checking their CRC.
  const cursor = new SegmentCursor();
  let walked = 0;
  const t1 = monoNs();
  for (const segment of listSegments(dataDir)) {
    cursor.openFile(segment.path);
    while (cursor.next(false) === CURSOR_FRAME) {
      sum += cursor.view.getUint32(cursor.payloadOffset + ENTRY_SEQ, true);
      walked++;
    }
    cursor.close();
  }
  const rawNs = monoNs() - t1;
  if (walked !== events || sum < 0) throw new Error(`bench: walked ${walked} of ${events}`);
  return { perS: (events / crcNs) * 1e9, perSNoCrc: (events / rawNs) * 1e9 };
}

async function recovery(dataDir: string, events: number, scan: 'auto' | 'tail' = 'auto'): Promise<{ readyMs: number; openMs: number; scan: string }> {
  const { shm } = freshDirs('recovery');
  const rings = makeRings(shm, 1);
  // One new input waiting: source 2's next sourceSeq (writeJournal numbered each source 1, 2, ...).
  prefill(rings.inputs[0]!, 2, 1, Math.floor(events / 4) + 1);
  const reader = new JournalReader({ ringPath: rings.journal, name: 'bench', fromSeq: events + 1, dataDir });
  const t0 = monoNs();
  const seq = spawnNode(SEQUENCER_JS, ['--data-dir', dataDir, '--journal-ring', rings.journal, '--input', rings.inputs[0]!, '--recovery-scan', scan]);
  let got = 0;
  await follow(reader, (s) => (got = s), () => got === events + 1, 60_000);
  const readyMs = (monoNs() - t0) / 1e6;
  reader.close();
  const started = await seq.waitFor('sequencer-start', 10_000);
  await stop(seq);
  // Undo the new entry so the next trial starts from the same journal.
  const recovered = recoverJournal(dataDir, { scan: 'tail', repair: false });
  const tail = recovered.tail!;
  fs.truncateSync(tail.path, tail.endOffset - (FRAME_HEADER_BYTES + JOURNAL_HEADER_BYTES + NewOrder.size));
  return { readyMs, openMs: started['recoveryMs'] as number, scan: started['scan'] as string };
}

async function main(): Promise<void> {
  log(`journal benchmark (${QUICK ? 'quick' : 'full'}): node ${process.version}, ${os.cpus().length} cores, data in ${DATA_ROOT}, rings in ${SHM_ROOT}`);

  const base = baseline();
  log(`baseline   write+fdatasync per entry: ${Math.round(base.perS)} entries/s, p99 ${Math.round(base.p99Ns / 1000)} us`);

  const tput: Record<'fsync' | 'async', number[]> = { fsync: [], async: [] };
  let replayDir = '';
  for (let trial = 0; trial < PLAN.trials; trial++) {
    for (const mode of ['fsync', 'async'] as const) {
      const r = await throughput(mode);
      tput[mode].push(r.perS);
      log(`throughput ${mode}: ${Math.round(r.perS)} entries/s (2 x ${PLAN.perRing} inputs, avg group commit ${Math.round(r.avgBatch)} entries)`);
      if (mode === 'fsync' && replayDir === '') replayDir = r.dataDir;
      else fs.rmSync(r.dataDir, { recursive: true, force: true });
    }
  }
  fs.rmSync(replayDir, { recursive: true, force: true });

  const latFsync = await latency('fsync');
  log(`latency    fsync at ${OFFERED_PER_S}/s offered: p50 ${Math.round(latFsync.p50 / 1000)} us, p99 ${Math.round(latFsync.p99 / 1000)} us, p99.9 ${Math.round(latFsync.p999 / 1000)} us, max ${Math.round(latFsync.max / 1000)} us (${latFsync.samples} samples; group commit avg ${Math.round(latFsync.avgBatch)} entries, fdatasync avg ${Math.round(latFsync.syncAvgUs)} us, max ${latFsync.syncMaxUs} us)`);
  const latAsync = await latency('async');
  log(`latency    async at ${OFFERED_PER_S}/s offered: p50 ${Math.round(latAsync.p50 / 1000)} us, p99 ${Math.round(latAsync.p99 / 1000)} us, p99.9 ${Math.round(latAsync.p999 / 1000)} us`);

  const recoveryDir = path.join(DATA_ROOT, 'recovery-journal');
  const genStart = monoNs();
  writeJournal(recoveryDir, PLAN.recoveryEvents);
  const bytes = listSegments(recoveryDir).reduce((s, seg) => s + fs.statSync(seg.path).size, 0);
  log(`journal    ${PLAN.recoveryEvents} entries written: ${(bytes / 2 ** 20).toFixed(0)} MiB in ${listSegments(recoveryDir).length} segments, ${((monoNs() - genStart) / 1e9).toFixed(1)} s`);

  const rep = replay(recoveryDir, PLAN.recoveryEvents);
  log(`replay     ${Math.round(rep.perS)} events/s with CRC checks (peer without CRC: ${Math.round(rep.perSNoCrc)} events/s)`);

  const ready: number[] = [];
  const open: number[] = [];
  for (let trial = 0; trial < PLAN.recoveryTrials; trial++) {
    const r = await recovery(recoveryDir, PLAN.recoveryEvents);
    ready.push(r.readyMs);
    open.push(r.openMs);
    log(`recovery   ${PLAN.recoveryEvents} entries, ${r.scan} scan: consumer resumed ${r.readyMs.toFixed(0)} ms after spawn (sequencer open ${r.openMs.toFixed(0)} ms)`);
  }
  // Side measurement: only the newest segment's frames CRC-checked (--recovery-scan tail).
  const tail = await recovery(recoveryDir, PLAN.recoveryEvents, 'tail');
  log(`recovery   ${PLAN.recoveryEvents} entries, tail scan: consumer resumed ${tail.readyMs.toFixed(0)} ms after spawn (sequencer open ${tail.openMs.toFixed(0)} ms)`);
  const scale = 10_000_000 / PLAN.recoveryEvents;

  const result = {
    bench: 'journal',
    sequenced_per_s_fsync: Math.round(median(tput.fsync)),
    sequenced_per_s_async: Math.round(median(tput.async)),
    append_p99_ns_fsync: Math.round(latFsync.p99),
    replay_events_per_s: Math.round(rep.perS),
    // Scaled (quick mode): the fixed costs (node start, rings, first commit) once, the scan x scale.
    recovery_ms_10m_events: Math.round(median(ready) + median(open) * (scale - 1)),
    baseline_fsync_per_entry_per_s: Math.round(base.perS),
    baseline_fsync_per_entry_p99_ns: Math.round(base.p99Ns),
    group_commit_gain: Math.round(median(tput.fsync) / base.perS),
    append_p50_ns_fsync: Math.round(latFsync.p50),
    append_p999_ns_fsync: Math.round(latFsync.p999),
    append_p99_ns_async: Math.round(latAsync.p99),
    append_offered_per_s: OFFERED_PER_S,
    replay_events_per_s_without_crc: Math.round(rep.perSNoCrc),
    recovery_open_ms: Math.round(median(open) * scale),
    // A tail scan is bounded by one segment, so it does not scale with the day: only the full run measures it.
    recovery_ms_10m_events_tail_scan: scale === 1 ? Math.round(tail.readyMs) : null,
    recovery_events_measured: PLAN.recoveryEvents,
    recovery_scaled: scale !== 1,
    quick: QUICK,
  };
  cleanup();
  log(JSON.stringify(result));
}

main().catch((e: unknown) => {
  cleanup();
  process.stderr.write(`bench journal failed: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
