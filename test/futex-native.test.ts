// futexWait/futexWake/futexWaitMany of the addon: the return codes, and that a wake reaches a
// waiter through a *different mapping* of the same file. A private futex is keyed by address and
// would miss it; only a shared futex (keyed by the file page) makes cross-process wake-ups work.

import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import t from 'tap';
import { FUTEX_TIMED_OUT, FUTEX_VALUE_CHANGED, FUTEX_WOKEN, native } from '../native/addon';
import { leftoverShmEntries, shmPath } from './support/shm';
import { assertDistFresh, PACKAGE_ROOT } from './support/spawn';

/** Upper bound on any wait in this file, so a missed wake fails the test instead of hanging it. */
const SAFETY_TIMEOUT_NS = 5e9;

/**
 * A worker thread that maps `file` itself (a second mapping, at another address) and calls
 * futexWake on `byteOffset` until a waiter was woken, then reports how many. It loads the
 * compiled addon wrapper from dist, like any child process would.
 */
function startWaker(file: string, byteOffset: number): Promise<number> {
  assertDistFresh(['native/addon.ts']);
  const source = `
    const { workerData, parentPort } = require('node:worker_threads');
    const { native } = require(workerData.addon);
    const buffer = native.mapFile(workerData.file, 0, false);
    const pause = new Int32Array(new SharedArrayBuffer(4));
    let woken = 0;
    // Bounded: 5000 tries of 1 ms. futexWake returns 0 until the main thread is really asleep.
    for (let i = 0; i < 5000 && woken === 0; i++) {
      woken = native.futexWake(buffer, workerData.byteOffset);
      if (woken === 0) Atomics.wait(pause, 0, 0, 1);
    }
    parentPort.postMessage(woken);
  `;
  const worker = new Worker(source, { eval: true, workerData: { addon: path.join(PACKAGE_ROOT, 'dist', 'native', 'addon.js'), file, byteOffset } });
  return new Promise((resolve, reject) => {
    worker.once('message', (n: number) => {
      void worker.terminate();
      resolve(n);
    });
    worker.once('error', reject);
  });
}

function elapsedMs(fn: () => void): number {
  const clock = new Float64Array(2);
  native.clockInto(clock, 0);
  const start = clock[0]!;
  fn();
  native.clockInto(clock, 0);
  return (clock[0]! - start) / 1e6;
}

t.test('futexWait returns 1 (timed out) after its timeout when nobody wakes it', async (t) => {
  const buffer = native.mapFile(shmPath(t, 'futex-timeout'), 4096, true);
  let code = -1;
  const ms = elapsedMs(() => {
    code = native.futexWait(buffer, 64, 0, 20e6);
  });
  t.equal(code, FUTEX_TIMED_OUT);
  t.ok(ms >= 19 && ms < 1000, `waited ${ms.toFixed(2)} ms for a 20 ms timeout`);
});

t.test('futexWait returns 2 at once when the word already differs from the expected value', async (t) => {
  const buffer = native.mapFile(shmPath(t, 'futex-changed'), 4096, true);
  new Int32Array(buffer)[16] = 7;
  let code = -1;
  const ms = elapsedMs(() => {
    code = native.futexWait(buffer, 64, 6, SAFETY_TIMEOUT_NS);
  });
  t.equal(code, FUTEX_VALUE_CHANGED);
  t.ok(ms < 100, `returned after ${ms.toFixed(2)} ms`);
});

t.test('futexWake with nobody waiting wakes nobody', async (t) => {
  const buffer = native.mapFile(shmPath(t, 'futex-nobody'), 4096, true);
  t.equal(native.futexWake(buffer, 64), 0);
});

t.test('futexWait returns 0 (woken) when woken through a second mapping of the same file', async (t) => {
  const file = shmPath(t, 'futex-woken');
  const buffer = native.mapFile(file, 4096, true);
  const woke = startWaker(file, 128);
  // Blocks this thread; the worker runs on its own thread and wakes us.
  const code = native.futexWait(buffer, 128, 0, SAFETY_TIMEOUT_NS);
  t.equal(code, FUTEX_WOKEN);
  t.equal(await woke, 1, 'the waker woke exactly one waiter');
});

t.test('futexWaitMany returns the index of the word that was woken', async (t) => {
  const first = native.mapFile(shmPath(t, 'futex-many-a'), 4096, true);
  const secondFile = shmPath(t, 'futex-many-b');
  const second = native.mapFile(secondFile, 4096, true);
  const woke = startWaker(secondFile, 256);
  const index = native.futexWaitMany([first, second], [0, 256], [0, 0], SAFETY_TIMEOUT_NS);
  t.equal(index, 1, 'the second word (its own file) was the one woken');
  t.equal(await woke, 1);
});

t.test('futexWaitMany returns -1 on timeout and -2 when a value already differs', async (t) => {
  const a = native.mapFile(shmPath(t, 'futex-many-codes-a'), 4096, true);
  const b = native.mapFile(shmPath(t, 'futex-many-codes-b'), 4096, true);
  let code = 0;
  const ms = elapsedMs(() => {
    code = native.futexWaitMany([a, b], [0, 4], [0, 0], 20e6);
  });
  t.equal(code, -1);
  t.ok(ms >= 19 && ms < 1000, `waited ${ms.toFixed(2)} ms for a 20 ms timeout`);
  new Int32Array(b)[1] = 5;
  t.equal(native.futexWaitMany([a, b], [0, 4], [0, 0], SAFETY_TIMEOUT_NS), -2);
});

t.test('futex calls reject misaligned or out-of-range words with a TypeError', async (t) => {
  const buffer = native.mapFile(shmPath(t, 'futex-args'), 4096, true);
  t.throws(() => native.futexWait(buffer, 2, 0, 1e6), TypeError, 'misaligned');
  t.throws(() => native.futexWait(buffer, 4096, 0, 1e6), TypeError, 'past the end');
  t.throws(() => native.futexWake(buffer, 6), TypeError);
  t.throws(() => native.futexWaitMany([], [], [], 1e6), TypeError, 'no words');
  t.throws(() => native.futexWaitMany(Array(9).fill(buffer), Array(9).fill(0), Array(9).fill(0), 1e6), TypeError, 'more than 8 words');
  t.throws(() => native.futexWaitMany([buffer], [0, 4], [0], 1e6), TypeError, 'lengths differ');
});

t.test('leaves no /dev/shm entry with this file\'s prefix behind', async (t) => {
  t.same(leftoverShmEntries(), []);
});
