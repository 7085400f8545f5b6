// CPU affinity (pinToCpus/currentCpus) and the allocation-free clock (clockInto) of the addon.

import * as fs from 'node:fs';
import t from 'tap';
import { native } from '../native/addon';

const CLOCK_READS = 100_000;

/** The kernel's view of this process's main thread affinity, e.g. [0, 1]. */
function kernelAllowedCpus(): number[] {
  const status = fs.readFileSync('/proc/self/status', 'utf8');
  const list = /^Cpus_allowed_list:\s*(\S+)$/m.exec(status)![1]!;
  const cpus: number[] = [];
  for (const part of list.split(',')) {
    const [lo, hi] = part.split('-').map(Number) as [number, number | undefined];
    for (let c = lo; c <= (hi ?? lo); c++) cpus.push(c);
  }
  return cpus;
}

t.test('pinToCpus then currentCpus round-trips every single CPU and the original set', async (t) => {
  const original = native.currentCpus();
  // Restore even when an assertion throws: later tests (and tap) must not run pinned.
  t.teardown(() => native.pinToCpus(original));
  t.ok(original.length >= 1);
  t.same(kernelAllowedCpus(), original, 'currentCpus agrees with /proc/self/status');
  for (const cpu of original) {
    native.pinToCpus([cpu]);
    t.same(native.currentCpus(), [cpu], `pinned to cpu ${cpu}`);
    t.same(kernelAllowedCpus(), [cpu], `the kernel agrees for cpu ${cpu}`);
  }
  native.pinToCpus(original);
  t.same(native.currentCpus(), original, 'the original affinity is restored');
});

t.test('pinToCpus rejects bad CPU lists with a TypeError and a CPU the machine lacks with errno', async (t) => {
  const original = native.currentCpus();
  t.teardown(() => native.pinToCpus(original));
  t.throws(() => native.pinToCpus([]), TypeError);
  t.throws(() => native.pinToCpus([-1]), TypeError);
  t.throws(() => native.pinToCpus([0.5]), TypeError);
  t.throws(() => native.pinToCpus([1 << 20]), TypeError, 'beyond CPU_SETSIZE');
  let error: (Error & { errno?: number; syscall?: string }) | undefined;
  try {
    native.pinToCpus([1000]);
  } catch (e) {
    error = e as Error;
  }
  t.ok(error, 'a CPU that does not exist is refused');
  t.match(error?.message, 'ims_native.sched_setaffinity failed');
  t.match(error?.message, '(errno 22)');
  t.equal(error?.errno, 22);
  t.same(native.currentCpus(), original, 'a refused pin leaves the affinity unchanged');
});

t.test('clockInto reads a monotonic clock that never goes back and a realtime clock in µs', async (t) => {
  const out = new Float64Array(4);
  native.clockInto(out, 0);
  let previous = out[0]!;
  let backwards = 0;
  for (let i = 0; i < CLOCK_READS; i++) {
    native.clockInto(out, 2);
    if (out[2]! < previous) backwards++;
    previous = out[2]!;
  }
  t.equal(backwards, 0, `${CLOCK_READS} successive monotonic reads never decrease`);
  t.ok(out[2]! > out[0]!, 'the monotonic clock advanced');
  t.ok(Number.isInteger(out[0]!) && Number.isInteger(out[1]!), 'whole ns and whole µs');
  const nowUs = Date.now() * 1000;
  t.ok(Math.abs(out[3]! - nowUs) < 2_000_000, `realtime µs ${out[3]} is within 2 s of Date.now() ${nowUs}`);
});

t.test('the monotonic clock measures a 50 ms sleep as about 50 ms', async (t) => {
  const out = new Float64Array(2);
  native.clockInto(out, 0);
  const before = out[0]!;
  await new Promise((resolve) => setTimeout(resolve, 50));
  native.clockInto(out, 0);
  const elapsedMs = (out[0]! - before) / 1e6;
  t.ok(elapsedMs >= 49 && elapsedMs < 1000, `measured ${elapsedMs.toFixed(2)} ms`);
});

t.test('clockInto rejects an output without room and a non-Float64Array with a TypeError', async (t) => {
  t.throws(() => native.clockInto(new Float64Array(2), 1), TypeError);
  t.throws(() => native.clockInto(new Float32Array(2) as unknown as Float64Array, 0), TypeError);
  t.throws(() => native.clockInto([0, 0] as unknown as Float64Array, 0), TypeError);
});
