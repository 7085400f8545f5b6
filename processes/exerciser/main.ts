// The bus exerciser: a producer and consumers of numbered 64-byte records. Tests use it to move
// millions of messages between real processes and to kill a producer mid-write; the supervisor
// runs it as a heartbeat load until the trading processes take its place.
//
//   node dist/processes/exerciser/main.js producer --ring PATH [--count N] [--batch B] [--rate R]
//   node dist/processes/exerciser/main.js consumer --ring PATH --name NAME [--count N] [--non-gating]
//                                         [--min-park-ms MS] [--max-park-ms MS] [--print-records]
//
// Both take --exit-with-parent (tests: a child whose test process died exits instead of spinning
// on). A consumer prints a consumer-progress line on SIGUSR2 and a consumer-done line on SIGTERM.
//
// Record payload (56 bytes, so a record is 64 with its header): seq (i64 as lo/hi u32), then six
// u32 words derived from seq, so a torn or stale record is detected by recomputing them.

import { Command, InvalidArgumentError } from 'commander';
import { pinSelf } from '../pin-self';
import { BackoffIdleStrategy, SleepingParker, type BackoffOptions } from '../../bus/idle-strategy';
import { BACK_PRESSURED, LAPPED, RingConsumer, RingFile, RingProducer, type RecordBuffer } from '../../bus/ring';
import { RECORD_HEADER_BYTES } from '../../bus/ring-layout';
import { native } from '../../native/addon';

export const EXERCISE_TYPE_ID = 0x7e01;
export const EXERCISE_PAYLOAD_BYTES = 56;
/** Header included (64): a power-of-two ring is a multiple of it, so these never need padding. */
const EXERCISE_RECORD_BYTES = RECORD_HEADER_BYTES + EXERCISE_PAYLOAD_BYTES;
const WORDS = 6;

export function wordFor(seq: number, k: number): number {
  // A cheap mix of seq and k; any change to seq or to one word changes the expected value.
  return (Math.imul((seq % 0x7fffffff) ^ (k * 0x9e3779b1), 0x85ebca6b) ^ (k + 1)) >>> 0;
}

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError(`expected a non-negative integer, got '${v}'`);
  return n;
}

function strictlyPositiveInt(v: string): number {
  const n = positiveInt(v);
  if (n === 0) throw new InvalidArgumentError(`expected an integer above 0, got '${v}'`);
  return n;
}

/** The seq of the last record published on the ring, found by scanning from a record boundary. */
function lastPublishedSeq(ring: RingFile): number {
  const consumers = ring.consumers();
  const tail = ring.tail();
  if (tail === 0 || consumers.length === 0) return 0;
  let start = consumers[0]!.position;
  for (const c of consumers) if (((tail - c.position) >>> 0) > ((tail - start) >>> 0)) start = c.position;
  let pos = start;
  let last = -1;
  const scan = new RingConsumerlessReader(ring);
  while (pos !== tail) {
    const r = scan.at(pos);
    if (r.typeId === EXERCISE_TYPE_ID) last = r.seq;
    pos = (pos + r.advance) >>> 0;
  }
  if (last >= 0) return last;
  // Every consumer is at the tail, so the walk was empty. Exercise records never need padding, so
  // the last one sits just before the tail. The published-records counter is no substitute:
  // commit() adds to it after storing the tail, so a producer killed between the two leaves it
  // short, and the next producer would publish that seq again.
  const before = scan.at((tail - EXERCISE_RECORD_BYTES) >>> 0);
  if (before.typeId === EXERCISE_TYPE_ID && before.advance === EXERCISE_RECORD_BYTES) return before.seq;
  return ring.publishedRecords();
}

class RingConsumerlessReader {
  constructor(private readonly ring: RingFile) {}
  at(pos: number): { typeId: number; seq: number; advance: number } {
    const base = this.ring.dataStart + (pos & this.ring.mask);
    const length = this.ring.view.getInt32(base, true);
    const typeId = this.ring.view.getUint16(base + 4, true);
    const seq = this.ring.view.getUint32(base + 8, true) + this.ring.view.getInt32(base + 12, true) * 2 ** 32;
    return { typeId, seq, advance: (length + 7) & ~7 };
  }
}

/** The parent this process started under; see --exit-with-parent. */
const startingParentPid = process.ppid;

/**
 * With --exit-with-parent, exits once the parent is gone (checked between slices). Probes the pid
 * with signal 0: in Node 20 process.ppid is read once at start-up and never changes.
 */
function exitIfOrphaned(exitWithParent: boolean): void {
  if (!exitWithParent) return;
  try {
    process.kill(startingParentPid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') process.exit(3);
  }
}

function runProducer(opts: { ring: string; count: number; batch: number; rate: number; exitWithParent: boolean }): void {
  const ring = RingFile.open(opts.ring);
  const producer = new RingProducer(ring);
  let seq = lastPublishedSeq(ring);
  const view = ring.view;
  const parker = { park: (ns: number) => producer.parkUntilProgress(ns) };
  const idle = new BackoffIdleStrategy(parker);
  const clock = new Float64Array(2);
  native.clockInto(clock, 0);
  const startNs = clock[0]!;
  const startSeq = seq;
  const sleeper = new SleepingParker();
  process.stdout.write(JSON.stringify({ event: 'producer-start', pid: process.pid, nextSeq: seq + 1 }) + '\n');
  const target = opts.count === 0 ? Infinity : opts.count;
  const step = (): void => {
    exitIfOrphaned(opts.exitWithParent);
    const sliceEnd = Date.now() + 20;
    while (seq < target) {
      if (opts.rate > 0) {
        native.clockInto(clock, 0);
        const due = startSeq + ((clock[0]! - startNs) / 1e9) * opts.rate;
        if (seq >= due) {
          sleeper.park(1_000_000);
          if (Date.now() > sliceEnd) break;
          continue;
        }
      }
      let n = 0;
      while (n < opts.batch && seq < target) {
        const at = producer.tryClaim(EXERCISE_TYPE_ID, 1, EXERCISE_PAYLOAD_BYTES);
        if (at === BACK_PRESSURED) break;
        const next = seq + 1;
        view.setUint32(at, next % 2 ** 32, true);
        view.setInt32(at + 4, Math.floor(next / 2 ** 32), true);
        for (let k = 0; k < WORDS; k++) view.setUint32(at + 8 + 4 * k, wordFor(next, k), true);
        seq = next;
        n++;
      }
      producer.commit();
      idle.idle(n);
      // Checked every batch: after a back-pressured (short) batch seq is no longer a multiple of
      // the batch, so a seq-based test would end the slice only once in millions of records.
      if (Date.now() > sliceEnd) break;
    }
    if (seq < target) {
      setImmediate(step);
    } else {
      producer.close();
      process.stdout.write(JSON.stringify({ event: 'producer-done', lastSeq: seq }) + '\n');
    }
  };
  step();
}

function runConsumer(opts: {
  ring: string;
  name: string;
  count: number;
  nonGating: boolean;
  minParkMs?: number;
  maxParkMs?: number;
  printRecords: boolean;
  exitWithParent: boolean;
}): void {
  const ring = RingFile.open(opts.ring);
  const consumer = new RingConsumer(ring, opts.name, { gating: !opts.nonGating });
  const backoff: BackoffOptions = {};
  if (opts.minParkMs !== undefined) backoff.minParkNs = opts.minParkMs * 1e6;
  if (opts.maxParkMs !== undefined) backoff.maxParkNs = opts.maxParkMs * 1e6;
  const idle = new BackoffIdleStrategy(consumer, backoff);
  const clock = new Float64Array(2);
  let expected = -1;
  let received = 0;
  let checksum = 0;
  let torn = 0;
  let outOfOrder = 0;
  let lapped = 0;
  const handler = (typeId: number, _v: number, buf: RecordBuffer, off: number, len: number): void => {
    if (typeId !== EXERCISE_TYPE_ID || len !== EXERCISE_PAYLOAD_BYTES) {
      torn++;
      return;
    }
    const view = buf.view;
    const seq = view.getUint32(off, true) + view.getInt32(off + 4, true) * 2 ** 32;
    for (let k = 0; k < WORDS; k++) if (view.getUint32(off + 8 + 4 * k, true) !== wordFor(seq, k)) torn++;
    if (expected !== -1 && seq !== expected) outOfOrder++;
    expected = seq + 1;
    received++;
    checksum = (checksum + seq) % 1_000_000_007;
    if (opts.printRecords) {
      // For wake-up latency tests: the monotonic clock is system-wide, so the sender compares it
      // with its own send time.
      native.clockInto(clock, 0);
      process.stdout.write(JSON.stringify({ event: 'record', seq, recvNs: clock[0] }) + '\n');
    }
  };
  process.stdout.write(JSON.stringify({ event: 'consumer-start', pid: process.pid, name: opts.name, position: consumer.position }) + '\n');
  const report = (event = 'consumer-done'): void => {
    process.stdout.write(JSON.stringify({ event, name: opts.name, received, lastSeq: expected - 1, checksum, torn, outOfOrder, lapped }) + '\n');
  };
  process.on('SIGUSR2', () => report('consumer-progress'));
  process.on('SIGTERM', () => {
    consumer.close();
    report();
    process.exit(0);
  });
  const step = (): void => {
    exitIfOrphaned(opts.exitWithParent);
    const sliceEnd = Date.now() + 20;
    for (;;) {
      const n = consumer.poll(handler, 256);
      if (n === LAPPED) {
        lapped++;
        expected = -1;
        continue;
      }
      if (opts.count > 0 && expected - 1 >= opts.count) {
        consumer.close();
        report();
        return;
      }
      idle.idle(n);
      if (n === 0 && Date.now() > sliceEnd) break;
      if ((received & 0x3fff) === 0 && Date.now() > sliceEnd) break;
    }
    setImmediate(step);
  };
  step();
}

if (require.main === module) {
  pinSelf();
  const program = new Command('exerciser').description('Moves numbered records over an IMS ring, for tests and demos');
  program
    .command('producer')
    .requiredOption('--ring <path>', 'ring file')
    .option('--count <n>', 'stop after this seq (0 = forever)', positiveInt, 0)
    .option('--batch <n>', 'records per commit', positiveInt, 64)
    .option('--rate <n>', 'records per second (0 = as fast as possible)', positiveInt, 0)
    .option('--exit-with-parent', 'exit when the parent process is gone (for tests)', false)
    .action((o) => runProducer(o));
  program
    .command('consumer')
    .requiredOption('--ring <path>', 'ring file')
    .requiredOption('--name <name>', 'consumer slot name')
    .option('--count <n>', 'stop after seeing this seq (0 = forever)', positiveInt, 0)
    .option('--non-gating', 'do not hold the producer back', false)
    .option('--min-park-ms <ms>', 'first idle sleep of the backoff strategy (default 0.05)', strictlyPositiveInt)
    .option('--max-park-ms <ms>', 'longest idle sleep of the backoff strategy (default 1)', strictlyPositiveInt)
    .option('--print-records', 'print a line (seq, monotonic receive ns) per record', false)
    .option('--exit-with-parent', 'exit when the parent process is gone (for tests)', false)
    .action((o) => runConsumer(o));
  program.parse();
}
