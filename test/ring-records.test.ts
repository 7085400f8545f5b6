// One producer and its consumers in this process over a real /dev/shm ring: records of every size
// wrap around with padding, batches become visible only on commit, and poll respects its limit.
// The randomised test runs against a trivial model (an array of committed records) with a fixed,
// printed seed.

import t, { type Test } from 'tap';
import { BACK_PRESSURED, RingConsumer, RingFile, RingProducer } from '../bus/ring';
import { alignRecord, RECORD_ALIGNMENT, RECORD_HEADER_BYTES, TAIL_OFFSET } from '../bus/ring-layout';
import { byteFor, checkingHandler, claimRecord, drain, publishFixed, typeIdFor, versionFor, type Seen } from './support/ring-records';
import { SeededRandom, testSeed } from './support/seeded-random';
import { leftoverShmEntries, shmPath, type Teardowns } from './support/shm';

const CAPACITY = 4096;
const RANDOM_RECORDS = 30_000;
/** Bound on producer steps: every step either claims or lets a consumer poll. */
const MAX_STEPS = RANDOM_RECORDS * 20;

function newRing(t: Teardowns, label: string, capacityBytes = CAPACITY, maxConsumers = 4): RingFile {
  return RingFile.create(shmPath(t, label), { capacityBytes, maxConsumers });
}

interface DriveResult {
  laps: number;
  paddingBytes: number;
  backPressured: number;
  aborted: number;
  seen: Seen[];
  published: number;
}

/**
 * Publishes RANDOM_RECORDS records of random sizes (often 0 and the maximum, which force
 * padding) in random batches, some aborted, while two gating consumers poll with random limits.
 * The model is the list of committed payload sizes, indexed by seq.
 */
function drive(ring: RingFile, rnd: SeededRandom): DriveResult {
  const producer = new RingProducer(ring);
  const consumers = [new RingConsumer(ring, 'fast'), new RingConsumer(ring, 'slow')];
  const committedLength: number[] = [];
  const seen: Seen[] = consumers.map(() => ({ seqs: [], problems: [] }));
  const handlers = consumers.map((_, c) =>
    checkingHandler(seen[c]!, (seq) => committedLength[seq]!, () => seen[c]!.seqs.length),
  );
  const startPosition = producer.position;
  let recordBytes = 0;
  let backPressured = 0;
  let aborted = 0;
  let nextSeq = 0;
  for (let step = 0; step < MAX_STEPS && nextSeq < RANDOM_RECORDS; step++) {
    const batch = rnd.int(1, 4);
    const lengths: number[] = [];
    for (let k = 0; k < batch; k++) {
      const pick = rnd.int(0, 7);
      const length = pick === 0 ? 0 : pick === 1 ? ring.maxPayload : rnd.int(0, ring.maxPayload);
      if (!claimRecord(producer, nextSeq + lengths.length, length)) {
        backPressured++;
        break;
      }
      lengths.push(length);
    }
    if (lengths.length > 0 && rnd.int(0, 9) === 0) {
      producer.abort();
      aborted += lengths.length;
    } else {
      producer.commit();
      for (const length of lengths) {
        committedLength[nextSeq++] = length;
        recordBytes += alignRecord(RECORD_HEADER_BYTES + length);
      }
    }
    if (lengths.length === 0) {
      const everyoneCaughtUp = consumers.every((c) => c.position === ring.tail());
      if (everyoneCaughtUp) throw new Error(`step ${step}: BACK_PRESSURED with an empty batch and every consumer caught up (producer at ${producer.position}); the producer can never make progress`);
    }
    // The fast consumer polls often; the slow one rarely, so the ring fills and gates.
    if (rnd.int(0, 1) === 0 || lengths.length === 0) consumers[0]!.poll(handlers[0]!, rnd.int(1, 8));
    if (rnd.int(0, 5) === 0 || lengths.length === 0) consumers[1]!.poll(handlers[1]!, rnd.int(1, 8));
  }
  for (let c = 0; c < consumers.length; c++) drain(consumers[c]!, handlers[c]!);
  const advanced = (producer.position - startPosition) >>> 0;
  return {
    laps: Math.floor(advanced / ring.capacity),
    paddingBytes: advanced - recordBytes,
    backPressured,
    aborted,
    seen,
    published: nextSeq,
  };
}

function checkDrive(t: Test, result: DriveResult): void {
  t.ok(result.published >= RANDOM_RECORDS, `${result.published} records (at least ${RANDOM_RECORDS}) published within the step bound`);
  for (const [c, seen] of result.seen.entries()) {
    t.same(seen.problems, [], `consumer ${c}: every record intact`);
    let inOrder = seen.seqs.length === result.published;
    for (let i = 0; inOrder && i < seen.seqs.length; i++) inOrder = seen.seqs[i] === i;
    t.ok(inOrder, `consumer ${c}: saw seq 0..${result.published - 1} exactly once, in order (${seen.seqs.length} records)`);
  }
  t.ok(result.laps >= 100, `${result.laps} laps of the ring`);
  t.ok(result.paddingBytes > 0, `${result.paddingBytes} bytes of padding were skipped`);
  t.ok(result.backPressured > 0, `${result.backPressured} claims were back-pressured`);
  t.ok(result.aborted > 0, `${result.aborted} claimed records were aborted and never seen`);
}

t.test('records of random sizes wrap around with padding over many laps and arrive intact, once, in order', async (t) => {
  const seed = testSeed(20_240_611);
  t.comment(`seed ${seed} (replay with IMS_TEST_SEED=${seed})`);
  const result = drive(newRing(t, 'wrap'), new SeededRandom(seed));
  checkDrive(t, result);
});

t.test('positions keep working when the 32-bit byte counter wraps past 2^32', async (t) => {
  const seed = testSeed(4_294_967);
  t.comment(`seed ${seed} (replay with IMS_TEST_SEED=${seed})`);
  const ring = newRing(t, 'u32-wrap');
  // A fresh ring whose tail was already carried close to 2^32 (as after years of traffic); the
  // offset is not a multiple of the capacity, so the wrap happens mid-lap.
  const start = 2 ** 32 - 3 * CAPACITY - 8 * 37;
  Atomics.store(ring.i32, TAIL_OFFSET >> 2, start | 0);
  const result = drive(ring, new SeededRandom(seed));
  checkDrive(t, result);
  t.ok(ring.tail() < start, `the tail wrapped from ${start} to ${ring.tail()}`);
});

t.test('an empty batch can always claim the largest record, at every distance from the end that needs padding', async (t) => {
  const ring = newRing(t, 'largest');
  const producer = new RingProducer(ring);
  const consumer = new RingConsumer(ring, 'c');
  const seen: Seen = { seqs: [], problems: [] };
  const handler = checkingHandler(seen, () => ring.maxPayload, () => -1);
  const largest = alignRecord(RECORD_HEADER_BYTES + ring.maxPayload);
  /** Publishes filler records (never padded) until the producer is at ring index `target`. */
  const advanceTo = (target: number): void => {
    for (let guard = 0; (producer.position & ring.mask) !== target; guard++) {
      if (guard > 100) throw new Error(`could not reach index ${target}`);
      const index = producer.position & ring.mask;
      const distance = index < target ? target - index : ring.capacity - index;
      const chunk = Math.min(distance, largest);
      if (producer.tryClaim(1, 0, chunk - RECORD_HEADER_BYTES) === BACK_PRESSURED) throw new Error(`filler of ${chunk} refused at ${index}`);
      producer.commit();
      drain(consumer, () => {});
    }
  };
  let refused = 0;
  let seq = 0;
  for (let toEnd = RECORD_ALIGNMENT; toEnd < largest; toEnd += RECORD_ALIGNMENT) {
    advanceTo(ring.capacity - toEnd);
    const at = producer.tryClaim(typeIdFor(seq), versionFor(seq), ring.maxPayload);
    if (at === BACK_PRESSURED) {
      if (++refused <= 3) t.fail(`largest record refused ${toEnd} bytes before the end, batch empty, consumer caught up`);
      continue;
    }
    if (at !== ring.dataStart + RECORD_HEADER_BYTES) t.fail(`${toEnd} bytes before the end the record did not start at offset 0`);
    ring.view.setUint32(at, seq, true);
    for (let i = 4; i < ring.maxPayload; i++) ring.bytes[at + i] = byteFor(seq, i);
    producer.commit();
    drain(consumer, handler);
    seq++;
  }
  t.equal(refused, 0, `the largest record (${largest} bytes) was accepted at all ${largest / RECORD_ALIGNMENT - 1} distances that need padding`);
  t.same(seen.seqs, Array.from({ length: seq }, (_, i) => i), 'and each arrived once, in order');
  t.same(seen.problems, [], 'intact');
});

t.test('claimed records are invisible until commit, all appear at commit, and abort discards them', async (t) => {
  const ring = newRing(t, 'batch');
  const producer = new RingProducer(ring);
  const consumer = new RingConsumer(ring, 'c');
  const seen: Seen = { seqs: [], problems: [] };
  const handler = checkingHandler(seen, () => 40, () => -1);
  const tail0 = ring.tail();
  for (let seq = 0; seq < 10; seq++) t.ok(claimRecord(producer, seq, 40));
  t.equal(ring.tail(), tail0, 'the tail does not move while the batch is open');
  t.notOk(consumer.hasData());
  t.equal(consumer.poll(handler, 100), 0, 'nothing to poll before commit');
  producer.commit();
  t.equal(ring.tail(), (tail0 + 10 * 48) >>> 0, 'one commit publishes the whole batch');
  t.equal(consumer.poll(handler, 100), 10);
  t.same(seen.seqs, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);

  const tail1 = ring.tail();
  for (let seq = 100; seq < 105; seq++) t.ok(claimRecord(producer, seq, 40));
  producer.abort();
  producer.commit();
  t.equal(ring.tail(), tail1, 'commit after abort publishes nothing');
  t.equal(consumer.poll(handler, 100), 0, 'aborted records are never seen');
  t.ok(claimRecord(producer, 10, 40), 'the aborted space is claimed again');
  producer.commit();
  t.equal(consumer.poll(handler, 100), 1);
  t.same(seen.seqs.slice(10), [10], 'only the record claimed after the abort arrives');
  t.same(seen.problems, []);
  t.equal(ring.publishedRecords(), 11, 'aborted records are not counted as published');
});

t.test('poll hands over at most `limit` records and commits its position once per batch', async (t) => {
  const ring = newRing(t, 'limit');
  const producer = new RingProducer(ring);
  const consumer = new RingConsumer(ring, 'c');
  const slot = () => ring.consumers().find((c) => c.name === 'c')!;
  t.equal(publishFixed(producer, 0, 100, 24), 100);
  const seen: Seen = { seqs: [], problems: [] };
  const check = checkingHandler(seen, () => 24, () => -1);
  const before = slot();
  let movedDuringBatch = 0;
  const handler: Parameters<RingConsumer['poll']>[0] = (...args) => {
    check(...args);
    if (slot().position !== before.position) movedDuringBatch++;
  };
  t.equal(consumer.poll(handler, 30), 30, 'the limit caps the batch');
  t.equal(movedDuringBatch, 0, 'the shared position did not move while the batch was handled');
  const after = slot();
  t.equal(after.position, (before.position + 30 * 32) >>> 0, 'the position moved past exactly 30 records, at once');
  t.equal(after.records - before.records, 30, 'the record counter moved by the batch');
  t.equal(consumer.poll(handler, 0), 0, 'a limit of 0 hands over nothing');
  t.equal(consumer.poll(handler, 1000), 70, 'the rest arrives in the next poll');
  t.same(seen.seqs, Array.from({ length: 100 }, (_, i) => i));
  t.same(seen.problems, []);
  t.equal(slot().position, ring.tail());
});

t.test('offer copies one record and commits it, and a record above the maximum is a RangeError', async (t) => {
  const ring = newRing(t, 'offer');
  const producer = new RingProducer(ring);
  const consumer = new RingConsumer(ring, 'c');
  const payload = Uint8Array.from([9, 8, 7, 6, 5]);
  const position = producer.offer(3, 1, payload, 1, 3);
  t.equal(position, ring.tail());
  const got: number[][] = [];
  consumer.poll((typeId, version, buf, offset, length) => got.push([typeId, version, ...buf.bytes.subarray(offset, offset + length)]), 10);
  t.same(got, [[3, 1, 8, 7, 6]]);
  t.throws(() => producer.tryClaim(1, 0, ring.maxPayload + 1), RangeError);
  t.throws(() => producer.tryClaim(1, 0, -1), RangeError);
});

t.test('leaves no /dev/shm entry with this file\'s prefix behind', async (t) => {
  t.same(leftoverShmEntries(), []);
});
