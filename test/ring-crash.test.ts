// A producer killed with SIGKILL while writing: consumers never see a torn record or a gap, and the
// restarted producer continues with the next sequence. Real processes, real kill -9.

import t from 'tap';
import { registerConsumer, RingConsumer, RingFile, RingProducer } from '../bus/ring';
import { RECORD_HEADER_BYTES, TAIL_OFFSET } from '../bus/ring-layout';
import { EXERCISE_PAYLOAD_BYTES, EXERCISE_TYPE_ID, wordFor } from '../processes/exerciser/main';
import { SeededRandom, testSeed } from './support/seeded-random';
import { leftoverShmEntries, shmPath } from './support/shm';
import { liveChildren, spawnDist, type DistProcess, type JsonLine } from './support/spawn';

const EXERCISER = 'processes/exerciser/main.ts';
const CAPACITY = 4 * 1024 * 1024;
const KILLS = 5;
/**
 * Where a kill lands is up to timing: a producer parked behind a full ring (consumers starved on a
 * loaded machine) has no batch open. Keep killing until one kill has torn a batch, up to this many.
 */
const MAX_KILLS = 15;
const FINAL_RECORDS = 10_000;
/** An exercise record with its header; they never need padding, so positions advance by this. */
const RECORD_BYTES = RECORD_HEADER_BYTES + EXERCISE_PAYLOAD_BYTES;
const START_TIMEOUT_MS = 10_000;
const CATCH_UP_TIMEOUT_MS = 10_000;

/** Writes exerciser record `seq` at payload offset `at` of the ring, as the exerciser does. */
function writeExerciseRecord(ring: RingFile, at: number, seq: number): void {
  ring.view.setUint32(at, seq % 2 ** 32, true);
  ring.view.setInt32(at + 4, Math.floor(seq / 2 ** 32), true);
  for (let k = 0; k < 6; k++) ring.view.setUint32(at + 8 + 4 * k, wordFor(seq, k), true);
}

t.test('a producer killed between publishing the tail and counting its records is continued at the next sequence', async (t) => {
  const ring = RingFile.create(shmPath(t, 'tail-then-count'), { capacityBytes: CAPACITY, maxConsumers: 2 });
  const consumer = new RingConsumer(ring, 'c');
  const producer = new RingProducer(ring);
  for (let seq = 1; seq <= 100; seq++) {
    writeExerciseRecord(ring, producer.tryClaim(EXERCISE_TYPE_ID, 1, EXERCISE_PAYLOAD_BYTES), seq);
    producer.commit();
  }
  producer.close();
  // Record 101 as a producer leaves it when SIGKILL lands between commit()'s store of the tail and
  // its add to the published-records counter: visible to consumers, not yet counted.
  const tail = ring.tail();
  const base = ring.dataStart + (tail & ring.mask);
  ring.view.setInt32(base, RECORD_BYTES, true);
  ring.view.setUint16(base + 4, EXERCISE_TYPE_ID, true);
  writeExerciseRecord(ring, base + RECORD_HEADER_BYTES, 101);
  Atomics.store(ring.i32, TAIL_OFFSET >> 2, (tail + RECORD_BYTES) | 0);
  t.equal(ring.publishedRecords(), 100);
  let lastSeen = 0;
  consumer.poll((_type, _version, buf, offset) => (lastSeen = buf.view.getUint32(offset, true)), 1000);
  t.equal(lastSeen, 101, 'the consumer has seen record 101 and is at the tail');
  consumer.close();

  const restarted = spawnDist(t, EXERCISER, ['producer', '--ring', ring.path, '--count', '101', '--exit-with-parent']);
  const start = await restarted.waitForEvent('producer-start', START_TIMEOUT_MS);
  t.equal(start['nextSeq'], 102, 'the restarted producer continues after the last record consumers saw');
  await restarted.exited;
});

/** The seq of the exercise record at `position`, or -1 when none is there. */
function seqAt(ring: RingFile, position: number): number {
  const base = ring.dataStart + (position & ring.mask);
  if (ring.view.getUint16(base + 4, true) !== EXERCISE_TYPE_ID) return -1;
  return ring.view.getUint32(base + RECORD_HEADER_BYTES, true) + ring.view.getInt32(base + RECORD_HEADER_BYTES + 4, true) * 2 ** 32;
}

/** Resolves once `done()` holds, polling every few ms; rejects after `timeoutMs`. */
async function until(what: string, done: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** Asks a running exerciser consumer for its counters (SIGUSR2 → one consumer-progress line). */
async function progressOf(consumer: DistProcess): Promise<JsonLine> {
  const from = consumer.lines.length;
  consumer.child.kill('SIGUSR2');
  return consumer.waitForEvent('consumer-progress', CATCH_UP_TIMEOUT_MS, from);
}

t.test(`kill -9 of a writing producer, ${KILLS}+ times at random moments: no torn record, no gap, and each restart continues at the next seq`, async (t) => {
  const seed = testSeed(0xdead_9);
  t.comment(`seed ${seed} (replay with IMS_TEST_SEED=${seed})`);
  const rnd = new SeededRandom(seed);
  const ring = RingFile.create(shmPath(t, 'kill-9'), { capacityBytes: CAPACITY, maxConsumers: 4 });
  const names = ['audit', 'engine'];
  for (const name of names) registerConsumer(ring, name);
  const consumers = names.map((name, i) =>
    spawnDist(t, EXERCISER, ['consumer', '--ring', ring.path, '--name', name, '--exit-with-parent'], { cpus: String(i % 2) }),
  );
  for (const c of consumers) await c.waitForEvent('consumer-start', START_TIMEOUT_MS);

  let nextSeq = 1;
  let midBatchKills = 0;
  let kills = 0;
  for (let kill = 0; kill < MAX_KILLS && (kill < KILLS || midBatchKills === 0); kill++) {
    kills++;
    const producer = spawnDist(t, EXERCISER, ['producer', '--ring', ring.path, '--count', '0', '--exit-with-parent']);
    const start = await producer.waitForEvent('producer-start', START_TIMEOUT_MS);
    t.equal(start['nextSeq'], nextSeq, `producer ${kill + 1} starts at seq ${nextSeq}, right after the last record the consumers saw`);
    // Let it publish a random number of records (up to most of a ring), then kill it at once: it
    // is usually in the middle of writing a batch when SIGKILL lands (counted below).
    const records = rnd.int(1, 40_000);
    const tailAtStart = ring.tail();
    await until(`producer ${kill + 1} published ${records} records`, () => ((ring.tail() - tailAtStart) >>> 0) >= records * RECORD_BYTES, START_TIMEOUT_MS);
    // Kill right after seeing it publish again: a producer parked behind a full ring is not writing.
    const seenTail = ring.tail();
    await until(`producer ${kill + 1} publishes again`, () => ring.tail() !== seenTail, START_TIMEOUT_MS);
    const status = await producer.kill('SIGKILL');
    t.equal(status.signal, 'SIGKILL');
    const unpublished = seqAt(ring, ring.tail());
    await until('the consumers caught up with the tail', () => ring.consumers().every((c) => c.position === ring.tail()), CATCH_UP_TIMEOUT_MS);
    const progress = await Promise.all(consumers.map(progressOf));
    for (const p of progress) {
      t.match(p, { torn: 0, outOfOrder: 0, lapped: 0 }, `${p['name']} after kill ${kill + 1}: no torn record, no gap`);
      t.equal(p['received'], p['lastSeq'], `${p['name']}: seq 1..${p['lastSeq']} each exactly once`);
    }
    t.equal(progress[0]!['lastSeq'], progress[1]!['lastSeq'], 'both consumers saw the same last record');
    t.ok((progress[0]!['lastSeq'] as number) >= nextSeq - 1 + records, `kill ${kill + 1} landed after at least ${records} new records`);
    nextSeq = (progress[0]!['lastSeq'] as number) + 1;
    // A record claimed but never published sits at the tail when the kill landed mid-batch.
    if (unpublished === nextSeq) midBatchKills++;
  }
  // The last incarnation writes a known number of records and stops by itself.
  const lastSeq = nextSeq - 1 + FINAL_RECORDS;
  const last = spawnDist(t, EXERCISER, ['producer', '--ring', ring.path, '--count', String(lastSeq), '--exit-with-parent']);
  const start = await last.waitForEvent('producer-start', START_TIMEOUT_MS);
  t.equal(start['nextSeq'], nextSeq, `producer ${kills + 1} starts at seq ${nextSeq}`);
  t.match(await last.waitForEvent('producer-done', CATCH_UP_TIMEOUT_MS), { lastSeq });
  t.match(await last.exited, { code: 0 });
  await until('the consumers caught up with the tail', () => ring.consumers().every((c) => c.position === ring.tail()), CATCH_UP_TIMEOUT_MS);
  const done = await Promise.all(consumers.map(async (c) => {
    const from = c.lines.length;
    c.child.kill('SIGTERM');
    return c.waitForEvent('consumer-done', CATCH_UP_TIMEOUT_MS, from);
  }));
  for (const d of done) t.match(d, { torn: 0, outOfOrder: 0, lapped: 0, received: lastSeq, lastSeq }, `${d['name']}: seq 1..${lastSeq} each exactly once, in order, intact`);
  t.comment(`${midBatchKills} of ${kills} kills landed mid-batch (claimed records left unpublished at the tail)`);
  t.ok(midBatchKills >= 1, 'at least one kill landed in the middle of a batch (otherwise the run proved little)');
  t.comment(`${lastSeq} records from ${kills} SIGKILLed producers and a last one that finished`);
  for (const c of consumers) await c.exited;
});

t.test('leaves no /dev/shm entry with this file\'s prefix behind and no child running', async (t) => {
  t.same(liveChildren().map((c) => c.pid), []);
  t.same(leftoverShmEntries(), []);
});
