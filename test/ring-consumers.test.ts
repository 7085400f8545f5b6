// Consumers of one ring, in this process over a real /dev/shm file: gating consumers hold the
// producer back (BACK_PRESSURED, never an exception), non-gating ones are lapped and told so,
// consumers join at the tail, leave to free their slot, and resume from their committed position.

import t from 'tap';
import { BACK_PRESSURED, LAPPED, registerConsumer, RingConsumer, RingFile, RingProducer } from '../bus/ring';
import { checkingHandler, claimRecord, drain, publishFixed, type Seen } from './support/ring-records';
import { leftoverShmEntries, shmPath, type Teardowns } from './support/shm';

const CAPACITY = 4096;
/** 56 + 8 = 64 bytes a record: the ring holds exactly CAPACITY / 64 of them. */
const PAYLOAD = 56;
const RECORDS_PER_RING = CAPACITY / 64;

function newRing(t: Teardowns, label: string, maxConsumers = 4): RingFile {
  return RingFile.create(shmPath(t, label), { capacityBytes: CAPACITY, maxConsumers });
}

function newSeen(): Seen {
  return { seqs: [], problems: [] };
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);

function slotOf(ring: RingFile, name: string) {
  return ring.consumers().find((c) => c.name === name);
}

t.test('a full ring returns BACK_PRESSURED (not an exception) while a gating consumer lags, and claims succeed again once it polls', async (t) => {
  const ring = newRing(t, 'full');
  const producer = new RingProducer(ring);
  const consumer = new RingConsumer(ring, 'slow');
  const seen = newSeen();
  const handler = checkingHandler(seen, () => PAYLOAD, () => -1);
  t.equal(publishFixed(producer, 0, RECORDS_PER_RING + 10, PAYLOAD), RECORDS_PER_RING, 'exactly one ring of records fits');
  for (let i = 0; i < 3; i++) t.equal(producer.tryClaim(1, 0, PAYLOAD), BACK_PRESSURED, 'claiming on a full ring returns BACK_PRESSURED');
  t.equal(producer.offer(1, 0, new Uint8Array(PAYLOAD), 0, PAYLOAD), BACK_PRESSURED, 'offer too');
  t.equal(consumer.lag(), CAPACITY);
  t.equal(consumer.poll(handler, 10), 10);
  t.equal(publishFixed(producer, RECORDS_PER_RING, 20, PAYLOAD), 10, 'exactly the 10 records the consumer released fit');
  t.equal(drain(consumer, handler), RECORDS_PER_RING);
  t.same(seen.seqs, range(0, RECORDS_PER_RING + 10));
  t.same(seen.problems, []);
});

t.test('a slow gating consumer holds the producer back while a non-gating one is lapped, gets LAPPED and resynchronises at the tail', async (t) => {
  const ring = newRing(t, 'lapped');
  const producer = new RingProducer(ring);
  const slow = new RingConsumer(ring, 'slow-gating');
  const reader = new RingConsumer(ring, 'non-gating', { gating: false });
  const slowSeen = newSeen();
  const slowHandler = checkingHandler(slowSeen, () => PAYLOAD, () => -1);
  const total = 3 * RECORDS_PER_RING;
  let backPressured = 0;
  let maxSlowLag = 0;
  for (let seq = 0; seq < total; ) {
    if (claimRecord(producer, seq, PAYLOAD)) {
      producer.commit();
      seq++;
    } else {
      backPressured++;
      slow.poll(slowHandler, 4);
    }
    maxSlowLag = Math.max(maxSlowLag, slow.lag());
    if (backPressured > total * 10) break;
  }
  drain(slow, slowHandler);
  t.ok(backPressured > 0, `the producer was held back ${backPressured} times`);
  t.ok(maxSlowLag <= CAPACITY, `the gating consumer never fell more than a ring behind (max lag ${maxSlowLag})`);
  t.same(slowSeen.seqs, range(0, total), 'the gating consumer saw every record once, in order');
  t.same(slowSeen.problems, []);

  const readerSeen = newSeen();
  const readerHandler = checkingHandler(readerSeen, () => PAYLOAD, () => -1);
  t.equal(reader.poll(readerHandler, 100), LAPPED, 'the non-gating consumer learns it was lapped');
  t.equal(readerSeen.seqs.length, 0, 'and is handed no overwritten record');
  t.equal(reader.position, ring.tail(), 'its position jumped to the tail');
  t.equal(slotOf(ring, 'non-gating')?.lapped, 1, 'the lap is counted in its slot');
  t.equal(reader.poll(readerHandler, 100), 0);
  t.equal(publishFixed(producer, total, 5, PAYLOAD), 5);
  t.equal(reader.poll(readerHandler, 100), 5, 'after resynchronising it reads new records normally');
  t.same(readerSeen.seqs, range(total, total + 5));
  t.same(readerSeen.problems, []);
});

t.test('a non-gating consumer overwritten in the middle of a poll returns LAPPED and never hands over an overwritten record', async (t) => {
  const ring = newRing(t, 'overwritten');
  const producer = new RingProducer(ring);
  const reader = new RingConsumer(ring, 'non-gating', { gating: false });
  t.equal(publishFixed(producer, 0, 20, PAYLOAD), 20);
  const seen = newSeen();
  const check = checkingHandler(seen, () => PAYLOAD, () => -1);
  let next = 20;
  const handler: Parameters<RingConsumer['poll']>[0] = (typeId, version, buf, offset, length) => {
    // While the first record is being handled, the producer (held by nobody) laps the reader.
    if (seen.seqs.length === 0) next += publishFixed(producer, next, RECORDS_PER_RING + 8, PAYLOAD);
    check(typeId, version, buf, offset, length);
  };
  t.equal(reader.poll(handler, 100), LAPPED);
  t.same(seen.seqs, [0], 'only the record copied before the overwrite was handed over');
  t.same(seen.problems, [], 'and it was intact: the handler got a private copy, not the overwritten ring');
  t.equal(reader.position, ring.tail());
});

t.test('a consumer that joins later starts at the tail and sees only what is published after it joined', async (t) => {
  const ring = newRing(t, 'join');
  const producer = new RingProducer(ring);
  const early = new RingConsumer(ring, 'early');
  t.equal(publishFixed(producer, 0, 5, PAYLOAD), 5);
  const late = new RingConsumer(ring, 'late');
  t.equal(late.position, ring.tail(), 'the new consumer starts at the tail');
  t.equal(publishFixed(producer, 5, 3, PAYLOAD), 3);
  const earlySeen = newSeen();
  const lateSeen = newSeen();
  drain(early, checkingHandler(earlySeen, () => PAYLOAD, () => -1));
  drain(late, checkingHandler(lateSeen, () => PAYLOAD, () => -1));
  t.same(earlySeen.seqs, range(0, 8));
  t.same(lateSeen.seqs, range(5, 8));
  t.same([...earlySeen.problems, ...lateSeen.problems], []);
});

t.test('a consumer that leaves frees its slot and the producer no longer waits for it', async (t) => {
  const ring = newRing(t, 'leave', 2);
  const producer = new RingProducer(ring);
  const stays = new RingConsumer(ring, 'stays');
  const leaves = new RingConsumer(ring, 'leaves');
  t.throws(() => new RingConsumer(ring, 'third'), /all 2 consumer slots are taken/, 'no slot is free while both are joined');
  const staysSeen = newSeen();
  const staysHandler = checkingHandler(staysSeen, () => PAYLOAD, () => -1);
  let seq = 0;
  for (let i = 0; i < 2 * RECORDS_PER_RING && claimRecord(producer, seq, PAYLOAD); i++) {
    producer.commit();
    seq++;
    stays.poll(staysHandler, 100);
  }
  t.equal(seq, RECORDS_PER_RING, 'the idle consumer holds the producer after one ring');
  t.equal(producer.tryClaim(1, 0, PAYLOAD), BACK_PRESSURED);
  leaves.leave();
  t.same(ring.consumers().map((c) => c.name), ['stays'], 'its slot is free');
  t.equal(publishFixed(producer, seq, RECORDS_PER_RING, PAYLOAD), RECORDS_PER_RING, 'the producer no longer waits for it');
  seq += RECORDS_PER_RING;
  drain(stays, staysHandler);
  t.same(staysSeen.seqs, range(0, seq));
  t.same(staysSeen.problems, []);
  const third = new RingConsumer(ring, 'third');
  t.equal(third.position, ring.tail(), 'a newcomer takes the freed slot and starts at the tail');
  t.equal(slotOf(ring, 'third')?.records, 0, 'with fresh counters');
});

t.test('a restarted consumer (a new RingConsumer with the same name) resumes from its committed position', async (t) => {
  const ring = newRing(t, 'restart');
  const producer = new RingProducer(ring);
  const first = new RingConsumer(ring, 'resumer');
  t.equal(publishFixed(producer, 0, 20, PAYLOAD), 20);
  const seen = newSeen();
  const handler = checkingHandler(seen, () => PAYLOAD, () => -1);
  t.equal(first.poll(handler, 8), 8);
  first.close();
  t.equal(slotOf(ring, 'resumer')?.pid, 0, 'a closed consumer keeps its slot but not its pid');
  const second = new RingConsumer(ring, 'resumer');
  t.equal(second.position, first.position, 'the restart resumes at the committed position');
  t.equal(second.poll(handler, 5), 5);
  // A restart without close (the old object just dropped, as after a crash) resumes the same way.
  const third = new RingConsumer(ring, 'resumer');
  t.equal(third.position, second.position);
  t.equal(drain(third, handler), 7);
  t.same(seen.seqs, range(0, 20), 'across three incarnations every record arrived once, in order');
  t.same(seen.problems, []);
  t.equal(ring.consumers().length, 1, 'restarts reuse the one slot');
});

t.test('a consumer registered before any producer exists misses no record, and gates the producer until it attaches', async (t) => {
  const ring = newRing(t, 'registered');
  registerConsumer(ring, 'registered');
  t.equal(slotOf(ring, 'registered')?.pid, 0, 'registered without a process');
  const producer = new RingProducer(ring);
  t.equal(publishFixed(producer, 0, 2 * RECORDS_PER_RING, PAYLOAD), RECORDS_PER_RING, 'the registered slot holds the producer after one ring');
  const consumer = new RingConsumer(ring, 'registered');
  const seen = newSeen();
  t.equal(drain(consumer, checkingHandler(seen, () => PAYLOAD, () => -1)), RECORDS_PER_RING);
  t.same(seen.seqs, range(0, RECORDS_PER_RING), 'from the very first record');
  t.same(seen.problems, []);
  t.equal(slotOf(ring, 'registered')?.pid, process.pid);
});

t.test('consumer names must be 1..31 printable ASCII characters', async (t) => {
  const ring = newRing(t, 'names');
  t.throws(() => new RingConsumer(ring, ''), TypeError);
  t.throws(() => new RingConsumer(ring, 'x'.repeat(32)), TypeError);
  t.throws(() => new RingConsumer(ring, 'has space'), TypeError);
  t.throws(() => new RingConsumer(ring, 'é'), TypeError);
  t.ok(new RingConsumer(ring, 'x'.repeat(31)));
});

t.test('leaves no /dev/shm entry with this file\'s prefix behind', async (t) => {
  t.same(leftoverShmEntries(), []);
});
