// One producer and three consumers as real processes (the exerciser, compiled, pinned with
// taskset over the machine's two cores) move ten million records through one ring.

import t from 'tap';
import { registerConsumer, RingFile } from '../bus/ring';
import { native } from '../native/addon';
import { leftoverShmEntries, shmPath } from './support/shm';
import { liveChildren, spawnDist } from './support/spawn';

const EXERCISER = 'processes/exerciser/main.ts';
const MESSAGES = 10_000_000;
const CAPACITY = 1024 * 1024;
/** The exerciser's checksum: the sum of every seq seen, modulo this prime. */
const CHECKSUM_MODULUS = 1_000_000_007;
const START_TIMEOUT_MS = 10_000;
/** ~5 s expected (1M ≈ 0.5 s); the bound only stops a hung run. */
const RUN_TIMEOUT_MS = 60_000;

function expectedChecksum(lastSeq: number): number {
  return Number(((BigInt(lastSeq) * BigInt(lastSeq + 1)) / 2n) % BigInt(CHECKSUM_MODULUS));
}

function nowMs(): number {
  const clock = new Float64Array(2);
  native.clockInto(clock, 0);
  return clock[0]! / 1e6;
}

t.test(`one producer and three consumer processes move ${MESSAGES} records: each consumer sees every record exactly once, in order, intact`, async (t) => {
  const ring = RingFile.create(shmPath(t, 'spmc'), { capacityBytes: CAPACITY, maxConsumers: 4 });
  const names = ['consumer-a', 'consumer-b', 'consumer-c'];
  // Registered before any process starts, so none can miss the first records.
  for (const name of names) registerConsumer(ring, name);
  const cores = native.currentCpus();
  const cpuFor = (i: number): string => String(cores[i % cores.length]);
  t.comment(`cores ${cores.join(',')}: producer on ${cpuFor(0)}, consumers on ${names.map((_, i) => cpuFor(i + 1)).join(',')}`);
  const consumers = names.map((name, i) =>
    spawnDist(t, EXERCISER, ['consumer', '--ring', ring.path, '--name', name, '--count', String(MESSAGES), '--exit-with-parent'], { cpus: cpuFor(i + 1) }),
  );
  for (const c of consumers) await c.waitForEvent('consumer-start', START_TIMEOUT_MS);
  const startMs = nowMs();
  const producer = spawnDist(t, EXERCISER, ['producer', '--ring', ring.path, '--count', String(MESSAGES), '--exit-with-parent'], { cpus: cpuFor(0) });
  t.match(await producer.waitForEvent('producer-start', START_TIMEOUT_MS), { nextSeq: 1 });
  const done = await Promise.all(consumers.map((c) => c.waitForEvent('consumer-done', RUN_TIMEOUT_MS)));
  const elapsedMs = nowMs() - startMs;
  t.match(await producer.waitForEvent('producer-done', RUN_TIMEOUT_MS), { lastSeq: MESSAGES });
  const checksum = expectedChecksum(MESSAGES);
  for (const d of done) {
    t.match(d, { received: MESSAGES, lastSeq: MESSAGES, torn: 0, outOfOrder: 0, lapped: 0 }, `${d['name']}: ${MESSAGES} records, the last one seq ${MESSAGES}, none torn or out of order`);
    t.equal(d['checksum'], checksum, `${d['name']}: checksum ${checksum}`);
  }
  t.comment(`${MESSAGES} records to 3 consumers in ${(elapsedMs / 1000).toFixed(2)} s (${((MESSAGES / elapsedMs) * 1000 / 1e6).toFixed(2)} M records/s, including process start-up)`);
  for (const proc of [producer, ...consumers]) t.match(await proc.exited, { code: 0, signal: null }, `${proc.label} exited cleanly`);
  t.same(ring.consumers().map((c) => c.lag), [0, 0, 0], 'every consumer committed up to the tail');
});

t.test('leaves no /dev/shm entry with this file\'s prefix behind and no child running', async (t) => {
  t.same(liveChildren().map((c) => c.pid), []);
  t.same(leftoverShmEntries(), []);
});
