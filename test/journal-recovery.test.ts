// Recovery of the disk journal: a torn tail (cut short, CRC mismatch, zeroes where a write never
// landed) is truncated and the journal continues; damage to a record that was known durable (in
// the middle of the newest segment, anywhere in an older one) stops the start, naming the segment
// and the byte offset; a record of an unknown layout version stops it too.

import * as fs from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import { frameBytes, Frame, frameCrc, JournalCorruptError, SEGMENT_HEADER_BYTES, emptySnapshot, setI64 } from '../bus/journal-format';
import { recoverJournal, listSegments } from '../bus/journal-recovery';
import { JournalWriter } from '../bus/journal-writer';
import { JOURNAL_HEADER_BYTES, JournalHeader, NewOrder } from '../bus/schema';
import { writeLoadInput } from '../processes/sequencer/load-producer';
import { gapFreeProblem, makeBus, readJournal, tempDir } from './support/journal-harness';
import { spawnDist } from './support/spawn';

const PAYLOAD = JOURNAL_HEADER_BYTES + NewOrder.size;
const FRAME = frameBytes(PAYLOAD);
/** Small segments so a few thousand entries span several. */
const SEGMENT_BYTES = SEGMENT_HEADER_BYTES + 600 * FRAME;

function openWriter(dataDir: string, segmentBytes = SEGMENT_BYTES): JournalWriter {
  const recovered = recoverJournal(dataDir, { scan: 'full', repair: true });
  let writer: JournalWriter | null = null;
  const snapshot = () => {
    const head = writer?.headSeq ?? recovered.headSeq;
    return { ...emptySnapshot(head + 1), sources: [{ sourceId: 7, lastSourceSeq: head }] };
  };
  writer = JournalWriter.open(recovered, { dataDir, segmentBytes, snapshot });
  return writer;
}

/** Appends NewOrder entries from..to (sourceId 7, sourceSeq = seq), syncing every `batch`. */
function append(writer: JournalWriter, from: number, to: number, batch = 50): void {
  for (let seq = from; seq <= to; seq++) {
    const at = writer.claim(NewOrder.typeId, NewOrder.version, PAYLOAD, seq);
    const view = writer.stagingView;
    setI64(view, at + JournalHeader.o.seq, seq);
    setI64(view, at + JournalHeader.o.timestampUs, 1_700_000_000_000_000 + seq);
    writeLoadInput(view, at + JournalHeader.o.sourceSeq, 7, seq);
    writer.seal();
    if (seq % batch === 0) writer.sync();
  }
  writer.sync();
}

/** File and offset of the frame of `seq` (every frame here has the same size). */
function frameOf(dataDir: string, seq: number): { file: string; offset: number } {
  const segments = listSegments(dataDir);
  let segment = segments[0]!;
  for (const s of segments) if (s.firstSeq <= seq) segment = s;
  return { file: segment.path, offset: SEGMENT_HEADER_BYTES + (seq - segment.firstSeq) * FRAME };
}

/** The error `fn` throws (fails the test when it returns). */
function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error, none was thrown');
}

function flipByte(file: string, offset: number): void {
  const fd = fs.openSync(file, 'r+');
  const b = Buffer.alloc(1);
  fs.readSync(fd, b, 0, 1, offset);
  b[0] ^= 0x5a;
  fs.writeSync(fd, b, 0, 1, offset);
  fs.closeSync(fd);
}

t.test('a journal written across several segments recovers to its last seq and continues gap-free', async (t) => {
  const dataDir = tempDir(t, 'journal');
  const writer = openWriter(dataDir);
  append(writer, 1, 3000);
  writer.close();
  t.ok(listSegments(dataDir).length >= 5, `spans ${listSegments(dataDir).length} segments`);
  const recovered = recoverJournal(dataDir, { scan: 'full', repair: true });
  t.equal(recovered.headSeq, 3000);
  t.equal(recovered.torn, null);
  const totalBytes = listSegments(dataDir).reduce((sum, s) => sum + fs.statSync(s.path).size, 0);
  t.equal(recovered.scannedBytes, totalBytes, 'every byte checked: older segments by checksum, the newest frame by frame');
  const again = openWriter(dataDir);
  append(again, 3001, 3500);
  again.close();
  const entries = readJournal(dataDir);
  t.equal(entries.length, 3500);
  t.equal(gapFreeProblem(entries), null);
  t.same(entries.map((e) => e.sourceSeq).slice(2998, 3003), [2999, 3000, 3001, 3002, 3003]);
  // Each segment header carries the state before it (here: the source's last seq).
  const tail = recoverJournal(dataDir, { scan: 'tail', repair: false });
  t.equal(tail.headSeq, 3500, 'tail-only recovery reaches the same head');
  t.equal(tail.tailSnapshot!.sources[0]!.lastSourceSeq, tail.tailSnapshot!.firstSeq - 1);
});

t.test('a torn tail is truncated and the journal continues after the last whole record', async (t) => {
  for (const [name, damage] of [
    ['last record cut short', (file: string, offset: number) => fs.truncateSync(file, offset + FRAME - 9)],
    ['last record with a CRC mismatch', (file: string, offset: number) => flipByte(file, offset + Frame.PAYLOAD + 40)],
    ['zeroes after the last record (a write that never landed)', (file: string, offset: number) => {
      fs.truncateSync(file, offset);
      fs.appendFileSync(file, Buffer.alloc(3 * FRAME));
    }],
  ] as const) {
    await t.test(name, async (t) => {
      const dataDir = tempDir(t, 'torn');
      const writer = openWriter(dataDir, 1 << 20);
      append(writer, 1, 200);
      writer.close();
      const { file, offset } = frameOf(dataDir, 200);
      damage(file, offset);
      const recovered = recoverJournal(dataDir, { scan: 'full', repair: true });
      t.equal(recovered.headSeq, 199, 'the journal ends at the last whole record');
      t.not(recovered.torn, null);
      t.equal(recovered.torn!.offset, offset, 'the torn record is where the truncation happened');
      t.equal(fs.statSync(file).size, offset, 'the file was truncated there');
      const writer2 = openWriter(dataDir, 1 << 20);
      append(writer2, 200, 210);
      writer2.close();
      const entries = readJournal(dataDir);
      t.equal(entries.length, 210);
      t.equal(gapFreeProblem(entries), null);
    });
  }
});

t.test('a damaged record in the middle of the newest segment stops recovery, naming the segment and offset', async (t) => {
  const dataDir = tempDir(t, 'middle');
  const writer = openWriter(dataDir, 1 << 20);
  append(writer, 1, 200, 20);
  writer.close();
  const { file, offset } = frameOf(dataDir, 57);
  flipByte(file, offset + Frame.PAYLOAD + 50);
  const sizeBefore = fs.statSync(file).size;
  const e = thrown(() => recoverJournal(dataDir, { scan: 'full', repair: true }));
  t.ok(e instanceof JournalCorruptError, e.message);
  t.match(e, { file, offset });
  t.match(e.message, `journal segment ${file} at byte offset ${offset}`);
  t.match(e.message, /proves seq \d+ was durable/);
  t.equal(fs.statSync(file).size, sizeBefore, 'nothing was truncated');
});

t.test('a damaged last record of an older segment stops recovery (a newer segment proves it durable)', async (t) => {
  const dataDir = tempDir(t, 'older');
  const writer = openWriter(dataDir);
  append(writer, 1, 1500);
  writer.close();
  const segments = listSegments(dataDir);
  const second = segments[1]!;
  const lastOfFirst = second.firstSeq - 1;
  const { file, offset } = frameOf(dataDir, lastOfFirst);
  t.equal(file, segments[0]!.path);
  flipByte(file, offset + Frame.PAYLOAD + 3);
  const e = thrown(() => recoverJournal(dataDir, { scan: 'full', repair: true }));
  t.ok(e instanceof JournalCorruptError, e.message);
  t.match(e, { file, offset });
  t.match(e.message, /a newer segment exists/);
});

t.test("damage outside any record of an older segment (its header's padding) is caught by the segment checksum", async (t) => {
  const dataDir = tempDir(t, 'padding');
  const writer = openWriter(dataDir);
  append(writer, 1, 1500);
  writer.close();
  const first = listSegments(dataDir)[0]!.path;
  flipByte(first, 3000); // inside the header page, after the (CRC-covered) header fields
  const e = thrown(() => recoverJournal(dataDir, { scan: 'full', repair: true }));
  t.ok(e instanceof JournalCorruptError, e.message);
  t.match(e, { file: first, offset: 0 });
  t.match(e.message, /checksum does not match/);
  const tail = recoverJournal(dataDir, { scan: 'tail', repair: false });
  t.equal(tail.headSeq, 1500, "'tail' recovery does not read older segments");
});

t.test('a segment whose creation was cut short is removed and the journal ends before it', async (t) => {
  const dataDir = tempDir(t, 'halfseg');
  const writer = openWriter(dataDir, 1 << 20);
  append(writer, 1, 100);
  writer.close();
  const half = path.join(dataDir, '00000000000000000101.seg');
  fs.writeFileSync(half, Buffer.alloc(1000, 0x11));
  const recovered = recoverJournal(dataDir, { scan: 'full', repair: true });
  t.same(recovered.removed, [half]);
  t.equal(recovered.headSeq, 100);
  t.notOk(fs.existsSync(half));
});

t.test('a record of an unknown layout version stops recovery, naming segment and offset and what to do', async (t) => {
  const dataDir = tempDir(t, 'version');
  const writer = openWriter(dataDir, 1 << 20);
  append(writer, 1, 30);
  writer.close();
  const { file, offset } = frameOf(dataDir, 12);
  const bytes = fs.readFileSync(file);
  bytes[offset + Frame.VERSION] = 9;
  bytes.writeUInt32LE(frameCrc(bytes, offset, PAYLOAD), offset + Frame.CRC);
  fs.writeFileSync(file, bytes);
  const e = thrown(() => recoverJournal(dataDir, { scan: 'full', repair: true }));
  t.ok(e instanceof JournalCorruptError, e.message);
  t.match(e, { file, offset });
  t.match(e.message, /type 1 version 9/);
  t.match(e.message, /another IMS release/);
});

t.test('the sequencer refuses to start on a damaged middle record and says which segment and offset', async (t) => {
  const dataDir = tempDir(t, 'refuse');
  const writer = openWriter(dataDir, 1 << 20);
  append(writer, 1, 200, 20);
  writer.close();
  const { file, offset } = frameOf(dataDir, 33);
  flipByte(file, offset + Frame.PAYLOAD + 60);
  const bus = makeBus(t, 'refuse');
  const seq = spawnDist(t, 'processes/sequencer/main.ts', ['--input', bus.inputs[0]!, '--journal-ring', bus.journal, '--data-dir', dataDir]);
  const exit = await seq.exited;
  t.equal(exit.code, 3, 'exit code 3: must not start');
  t.match(seq.stderr, file);
  t.match(seq.stderr, `byte offset ${offset}`);
  t.match(seq.stderr, /restore this segment from a replica or backup/);
});
