// A consumer process asleep in BackoffIdleStrategy's park is woken by the futex wake of another
// process's commit (not by its sleep timing out), and an idle consumer costs ~no CPU.

import * as fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import t from 'tap';
import { RingFile, RingProducer } from '../bus/ring';
import { CONSUMERS_OFFSET, CONSUMER_SLOT_BYTES, Slot } from '../bus/ring-layout';
import { EXERCISE_PAYLOAD_BYTES, EXERCISE_TYPE_ID, wordFor } from '../processes/exerciser/main';
import { native } from '../native/addon';
import { SeededRandom, testSeed } from './support/seeded-random';
import { leftoverShmEntries, shmPath } from './support/shm';
import { liveChildren, spawnDist } from './support/spawn';

const EXERCISER = 'processes/exerciser/main.ts';
const CAPACITY = 64 * 1024;
const TRIALS = 200;
/** Generous: two cores shared by everything; a working futex wake is typically well under 1 ms. */
const WAKE_P99_LIMIT_MS = 5;
/**
 * Every park of the consumer in the latency test (its first and longest). Far above the limit, so
 * a wake-up within the limit can only come from the producer's futex wake, never from a park
 * timing out; a missed wake would show up as a latency of up to this much.
 */
const LONG_PARK_MS = 2_000;
/** Idle time before each trial (the consumer parks after ~100 empty polls, well within it). */
const IDLE_BEFORE_TRIAL_MS = [2, 8] as const;
const IDLE_CPU_LIMIT = 0.1;
const START_TIMEOUT_MS = 10_000;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function nowNs(clock: Float64Array): number {
  native.clockInto(clock, 0);
  return clock[0]!;
}

/** Nearest-rank percentile of an ascending array. */
function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** utime + stime of a process, in seconds (from /proc/<pid>/stat). */
function cpuSeconds(pid: number, ticksPerSecond: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
}

t.test(`a consumer process parked in BackoffIdleStrategy wakes within ${WAKE_P99_LIMIT_MS} ms (p99 of ${TRIALS}) when another process publishes`, async (t) => {
  const seed = testSeed(5_005);
  t.comment(`seed ${seed} (replay with IMS_TEST_SEED=${seed})`);
  const rnd = new SeededRandom(seed);
  const ring = RingFile.create(shmPath(t, 'wake'), { capacityBytes: CAPACITY, maxConsumers: 2 });
  const consumer = spawnDist(t, EXERCISER, [
    'consumer', '--ring', ring.path, '--name', 'sleeper', '--min-park-ms', String(LONG_PARK_MS), '--max-park-ms', String(LONG_PARK_MS), '--print-records', '--exit-with-parent',
  ]);
  await consumer.waitForEvent('consumer-start', START_TIMEOUT_MS);
  const slot = ring.consumers().find((c) => c.name === 'sleeper')!;
  const sleepingIndex = (CONSUMERS_OFFSET + slot.slot * CONSUMER_SLOT_BYTES + Slot.SLEEPING) >> 2;
  // This test process is the producer, writing records the exerciser consumer validates.
  const producer = new RingProducer(ring);
  t.teardown(() => producer.close());
  const clock = new Float64Array(2);
  const latenciesMs: number[] = [];
  for (let seq = 1; seq <= TRIALS; seq++) {
    await sleep(rnd.int(...IDLE_BEFORE_TRIAL_MS));
    for (let waited = 0; Atomics.load(ring.i32, sleepingIndex) === 0; waited++) {
      if (waited > 1000) throw new Error(`trial ${seq}: the consumer never went to sleep`);
      await sleep(1);
    }
    const at = producer.tryClaim(EXERCISE_TYPE_ID, 1, EXERCISE_PAYLOAD_BYTES);
    ring.view.setUint32(at, seq, true);
    ring.view.setInt32(at + 4, 0, true);
    for (let k = 0; k < 6; k++) ring.view.setUint32(at + 8 + 4 * k, wordFor(seq, k), true);
    const sentNs = nowNs(clock);
    producer.commit();
    const line = await consumer.waitFor((l) => l.event === 'record' && l['seq'] === seq, START_TIMEOUT_MS);
    latenciesMs.push(((line['recvNs'] as number) - sentNs) / 1e6);
  }
  const sorted = [...latenciesMs].sort((a, b) => a - b);
  const median = percentile(sorted, 50);
  const p99 = percentile(sorted, 99);
  t.comment(`wake-up latency over ${TRIALS} trials: median ${(median * 1000).toFixed(0)} µs, p99 ${(p99 * 1000).toFixed(0)} µs, max ${(sorted.at(-1)! * 1000).toFixed(0)} µs`);
  t.ok(p99 < WAKE_P99_LIMIT_MS, `p99 ${p99.toFixed(3)} ms < ${WAKE_P99_LIMIT_MS} ms`);
  t.ok(sorted[0]! > 0, 'every record was received after it was sent (one system-wide monotonic clock)');
  const progressFrom = consumer.lines.length;
  consumer.child.kill('SIGTERM');
  t.match(await consumer.waitForEvent('consumer-done', START_TIMEOUT_MS, progressFrom), { received: TRIALS, lastSeq: TRIALS, torn: 0, outOfOrder: 0 });
  await consumer.exited;
});

t.test(`an idle consumer process with the default backoff uses less than ${IDLE_CPU_LIMIT * 100} % of a core`, async (t) => {
  const ring = RingFile.create(shmPath(t, 'idle'), { capacityBytes: CAPACITY, maxConsumers: 2 });
  const consumer = spawnDist(t, EXERCISER, ['consumer', '--ring', ring.path, '--name', 'idler', '--exit-with-parent']);
  await consumer.waitForEvent('consumer-start', START_TIMEOUT_MS);
  const ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
  // Let start-up (module loading, JIT) finish before measuring.
  await sleep(300);
  const clock = new Float64Array(2);
  const startNs = nowNs(clock);
  const cpuStart = cpuSeconds(consumer.pid, ticksPerSecond);
  await sleep(1000);
  const cpuEnd = cpuSeconds(consumer.pid, ticksPerSecond);
  const wallSeconds = (nowNs(clock) - startNs) / 1e9;
  const share = (cpuEnd - cpuStart) / wallSeconds;
  t.comment(`idle consumer used ${(share * 100).toFixed(1)} % of a core over ${wallSeconds.toFixed(2)} s`);
  t.ok(share < IDLE_CPU_LIMIT, `${(share * 100).toFixed(1)} % < ${IDLE_CPU_LIMIT * 100} %`);
  await consumer.kill('SIGKILL');
});

t.test('leaves no /dev/shm entry with this file\'s prefix behind and no child running', async (t) => {
  t.same(liveChildren().map((c) => c.pid), []);
  t.same(leftoverShmEntries(), []);
});
