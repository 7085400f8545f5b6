// The JS ring side of the bus benchmark: the real RingProducer/RingConsumer over a ring file the
// orchestrator created on /dev/shm (consumer slots registered ahead, so nothing is missed while
// the processes start). One process per role, pinned by the orchestrator:
//
//   produce       throughput sender: batched claim/commit until the trial's time is up
//   consume       throughput receiver: poll(handler, limit), busy-spin when empty
//   ping / pong   spin round trip over two rings, one each way
//   wake-send     publishes one probe after a random delay; wake-receive sleeps in the default
//                 BackoffIdleStrategy (futex) and measures publish -> handled on CLOCK_MONOTONIC
//   solo          producer and consumer in one thread, ring in cache: CPU time per message
//
// Nothing in a timed loop allocates: handlers are made once, samples go to a Float64Array sized
// at start-up, times come from native.clockInto.

import * as fs from 'node:fs';
import { BackoffIdleStrategy, BusySpinIdleStrategy, SleepingParker } from '../../../bus/idle-strategy';
import { BACK_PRESSURED, RingConsumer, RingFile, RingProducer, type RecordBuffer } from '../../../bus/ring';
import { BENCH_PAYLOAD_BYTES, BENCH_PAYLOAD_WORDS, BENCH_VERSION, BenchPayload, BenchType, payloadIsIntact, writePayload } from './bench-message';
import { announceReady, awaitGo, Deadline, intArg, MonotonicClock, readArgs, reportAndExit, stringArg, type ChildArgs } from './child-control';

// Module-local copies of imported constants. TypeScript compiles a use of an imported const into a
// property load on the other module's `exports` (first assigned `void 0`, so V8 cannot treat it as
// a constant): in a loop that runs 10^8 times that load and its type check show up.
const PAYLOAD_BYTES = BENCH_PAYLOAD_BYTES;
const VERSION = BENCH_VERSION;
const NO_ROOM = BACK_PRESSURED;
const WARM = BenchType.WARM;
const MEASURE = BenchType.MEASURE;
const END = BenchType.END;
const PROBE = BenchType.PROBE;
const SEND_NS = BenchPayload.SEND_NS;
const PAYLOAD_WORDS = BENCH_PAYLOAD_WORDS;

/** Loop iterations between two clock reads in the throughput sender (a read costs ~100 ns). */
const CLOCK_EVERY_BATCHES = 16;
/** Empty polls between two deadline checks. */
const DEADLINE_EVERY_POLLS = 1 << 16;

const clock = new MonotonicClock();

function produce(args: ChildArgs): void {
  const ring = RingFile.open(stringArg(args, 'ring'));
  const batch = intArg(args, 'batch');
  const warmMs = intArg(args, 'warm-ms');
  const measureMs = intArg(args, 'measure-ms');
  const producer = new RingProducer(ring);
  const idle = new BusySpinIdleStrategy();
  const i32 = ring.i32;
  const f64 = new Float64Array(ring.buffer);
  announceReady();
  awaitGo(() => {
    const deadline = new Deadline(clock, intArg(args, 'deadline-ms'));
    const measureAtNs = clock.nowNs() + warmMs * 1e6;
    const endAtNs = measureAtNs + measureMs * 1e6;
    let typeId: number = WARM;
    let seq = 0;
    let fullBatches = 0;
    let backPressured = 0;
    for (let iteration = 1; ; iteration++) {
      let n = 0;
      while (n < batch) {
        const at = producer.tryClaim(typeId, VERSION, PAYLOAD_BYTES);
        if (at === NO_ROOM) break;
        writePayload(i32, f64, at, seq);
        seq = (seq + 1) | 0;
        n++;
      }
      producer.commit();
      if (n === batch) fullBatches++;
      else backPressured++;
      idle.idle(n);
      if (iteration % CLOCK_EVERY_BATCHES === 0) {
        const now = clock.nowNs();
        // END only once MEASURE records went out: a sender kept off its CPU past the whole
        // measured phase still measures something (and the trial is flagged as disturbed).
        if (now >= endAtNs && typeId === MEASURE) break;
        if (now >= measureAtNs) typeId = MEASURE;
        deadline.check('produce');
      }
    }
    for (let spins = 1; ; spins++) {
      const at = producer.tryClaim(END, VERSION, PAYLOAD_BYTES);
      if (at !== NO_ROOM) {
        writePayload(i32, f64, at, seq);
        break;
      }
      if (spins % DEADLINE_EVERY_POLLS === 0) deadline.check('produce END');
    }
    producer.close();
    reportAndExit({ sent: seq + 1, fullBatches, backPressured });
  });
}

function consume(args: ChildArgs): void {
  const ring = RingFile.open(stringArg(args, 'ring'));
  const consumer = new RingConsumer(ring, stringArg(args, 'name'));
  const pollLimit = intArg(args, 'poll-limit');
  const idle = new BusySpinIdleStrategy();
  const i32 = ring.i32;
  let expected = 0;
  let received = 0;
  let errors = 0;
  let measured = 0;
  let measureStartNs = 0;
  let endNs = 0;
  const handler = (typeId: number, _version: number, buf: RecordBuffer, offset: number, length: number): void => {
    // A gating consumer is handed the ring itself, so the ring's own Int32Array reads the payload.
    if (buf !== ring || length !== PAYLOAD_BYTES || !payloadIsIntact(i32, offset >> 2, expected)) errors++;
    expected = (i32[offset >> 2]! + 1) | 0;
    received++;
    if (typeId === MEASURE) {
      if (measured === 0) measureStartNs = clock.nowNs();
      measured++;
    } else if (typeId === END) {
      endNs = clock.nowNs();
    }
  };
  announceReady();
  awaitGo(() => {
    const deadline = new Deadline(clock, intArg(args, 'deadline-ms'));
    let polls = 0;
    let empty = 0;
    while (endNs === 0) {
      const n = consumer.poll(handler, pollLimit);
      if (n < 0) throw new Error(`consume: poll returned ${n} on a gating consumer`);
      idle.idle(n);
      polls++;
      if (n === 0 && ++empty % DEADLINE_EVERY_POLLS === 0) deadline.check('consume');
    }
    consumer.close();
    reportAndExit({ received, measured, measureNs: endNs - measureStartNs, errors, polls, emptyPolls: empty });
  });
}

/** Copies one payload between two rings' Int32Arrays (word indices). */
function copyPayload(from: Int32Array, fromWord: number, to: Int32Array, toWord: number): void {
  for (let k = 0; k < PAYLOAD_WORDS; k++) to[toWord + k] = from[fromWord + k]!;
}

function ping(args: ChildArgs): void {
  const out = RingFile.open(stringArg(args, 'out'));
  const back = RingFile.open(stringArg(args, 'in'));
  const producer = new RingProducer(out);
  const consumer = new RingConsumer(back, stringArg(args, 'name'));
  const warm = intArg(args, 'warm');
  const count = intArg(args, 'samples');
  const samplesFile = stringArg(args, 'samples-file');
  const idle = new BusySpinIdleStrategy();
  const outI32 = out.i32;
  const outF64 = new Float64Array(out.buffer);
  const backI32 = back.i32;
  const samples = new Float64Array(count);
  let expected = 0;
  let errors = 0;
  const handler = (typeId: number, _version: number, buf: RecordBuffer, offset: number, length: number): void => {
    if (buf !== back || typeId !== PROBE || length !== PAYLOAD_BYTES || !payloadIsIntact(backI32, offset >> 2, expected)) errors++;
  };
  announceReady();
  awaitGo(() => {
    const deadline = new Deadline(clock, intArg(args, 'deadline-ms'));
    for (let i = 0; i < warm + count; i++) {
      expected = i;
      const sentNs = clock.nowNs();
      const at = producer.tryClaim(PROBE, VERSION, PAYLOAD_BYTES);
      if (at === NO_ROOM) throw new Error('ping: the out ring is full with one probe in flight; pong is not draining it');
      writePayload(outI32, outF64, at, i);
      outF64[(at + SEND_NS) >> 3] = sentNs;
      producer.commit();
      for (let polls = 1; consumer.poll(handler, 1) === 0; polls++) {
        idle.idle(0);
        if (polls % DEADLINE_EVERY_POLLS === 0) deadline.check('ping');
      }
      const rttNs = clock.nowNs() - sentNs;
      if (i >= warm) samples[i - warm] = rttNs;
    }
    const at = producer.tryClaim(END, VERSION, PAYLOAD_BYTES);
    if (at === NO_ROOM) throw new Error('ping: no room for END');
    writePayload(outI32, outF64, at, warm + count);
    producer.close();
    consumer.close();
    fs.writeFileSync(samplesFile, new Uint8Array(samples.buffer));
    reportAndExit({ samples: count, errors });
  });
}

function pong(args: ChildArgs): void {
  const from = RingFile.open(stringArg(args, 'in'));
  const to = RingFile.open(stringArg(args, 'out'));
  const consumer = new RingConsumer(from, stringArg(args, 'name'));
  const producer = new RingProducer(to);
  const pollLimit = intArg(args, 'poll-limit');
  const idle = new BusySpinIdleStrategy();
  const fromI32 = from.i32;
  const toI32 = to.i32;
  let done = false;
  let errors = 0;
  const echo = (typeId: number, _version: number, buf: RecordBuffer, offset: number, length: number): void => {
    if (typeId === END) {
      done = true;
      return;
    }
    if (buf !== from || length !== PAYLOAD_BYTES) errors++;
    const at = producer.tryClaim(typeId, VERSION, length);
    if (at === NO_ROOM) throw new Error('pong: the back ring is full; ping is not draining it');
    copyPayload(fromI32, offset >> 2, toI32, at >> 2);
  };
  announceReady();
  awaitGo(() => {
    const deadline = new Deadline(clock, intArg(args, 'deadline-ms'));
    for (let polls = 1; !done; polls++) {
      const n = consumer.poll(echo, pollLimit);
      if (n > 0) producer.commit();
      idle.idle(n);
      if (polls % DEADLINE_EVERY_POLLS === 0) deadline.check('pong');
    }
    producer.close();
    consumer.close();
    reportAndExit({ errors });
  });
}

/** Ring positions are u32 byte counters; past this V8 can no longer keep them as small integers. */
const POSITION_SMI_LIMIT = 2 ** 31;

function cpuNs(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return (used.user + used.system) * 1000;
}

/**
 * What a message costs in CPU time with no other core involved: the producer alone (the consumer's
 * position follows the tail unread) and producer + consumer, the best of `rounds` rounds of
 * `batches` batches. CPU time, unlike wall time, does not count time another process held the CPU.
 * Measured again after the positions pass 2^31 bytes, where V8 has to leave small integers.
 */
function solo(args: ChildArgs): void {
  const ring = RingFile.open(stringArg(args, 'ring'));
  const producer = new RingProducer(ring);
  const consumer = new RingConsumer(ring, stringArg(args, 'name'));
  const batch = intArg(args, 'batch');
  const pollLimit = intArg(args, 'poll-limit');
  const rounds = intArg(args, 'rounds');
  const batches = intArg(args, 'batches');
  const i32 = ring.i32;
  const f64 = new Float64Array(ring.buffer);
  let seq = 0;
  let expected = 0;
  let errors = 0;
  const handler = (_typeId: number, _version: number, buf: RecordBuffer, offset: number, length: number): void => {
    if (buf !== ring || length !== PAYLOAD_BYTES || !payloadIsIntact(i32, offset >> 2, expected)) errors++;
    expected = (i32[offset >> 2]! + 1) | 0;
  };
  const produceBatch = (): number => {
    let n = 0;
    while (n < batch) {
      const at = producer.tryClaim(WARM, VERSION, PAYLOAD_BYTES);
      if (at === NO_ROOM) break;
      writePayload(i32, f64, at, seq);
      seq = (seq + 1) | 0;
      n++;
    }
    producer.commit();
    return n;
  };
  const producerAlone = (): number => {
    let messages = 0;
    for (let b = 0; b < batches; b++) {
      messages += produceBatch();
      consumer.commitPosition(producer.position, 0);
    }
    return messages;
  };
  const bestOfRounds = (): { producerNs: number; bothNs: number } => {
    let producerNs = Infinity;
    let bothNs = Infinity;
    for (let r = 0; r < rounds; r++) {
      let since = process.cpuUsage();
      const alone = producerAlone();
      producerNs = Math.min(producerNs, cpuNs(since) / alone);
      expected = seq;
      since = process.cpuUsage();
      let messages = 0;
      for (let b = 0; b < batches; b++) {
        const n = produceBatch();
        for (let got = 0; got < n; ) got += consumer.poll(handler, pollLimit);
        messages += n;
      }
      bothNs = Math.min(bothNs, cpuNs(since) / messages);
    }
    return { producerNs, bothNs };
  };
  announceReady();
  awaitGo(() => {
    const deadline = new Deadline(clock, intArg(args, 'deadline-ms'));
    const before = bestOfRounds();
    while (producer.position < POSITION_SMI_LIMIT) {
      producerAlone();
      deadline.check('solo');
    }
    const after = bestOfRounds();
    reportAndExit({ producerNs: before.producerNs, bothNs: before.bothNs, producerNsPast2g: after.producerNs, bothNsPast2g: after.bothNs, errors });
  });
}

/** xorshift32: a seeded, printed, reproducible source of delays (no Math.random). */
function xorshift32(state: number): number {
  state ^= state << 13;
  state ^= state >>> 17;
  state ^= state << 5;
  return state | 0;
}

function wakeSend(args: ChildArgs): void {
  const ring = RingFile.open(stringArg(args, 'ring'));
  const producer = new RingProducer(ring);
  const total = intArg(args, 'warm') + intArg(args, 'samples');
  const minDelayUs = intArg(args, 'min-delay-us');
  const spanUs = intArg(args, 'max-delay-us') - minDelayUs + 1;
  let rng = intArg(args, 'seed') | 0 || 1;
  const sleeper = new SleepingParker();
  const i32 = ring.i32;
  const f64 = new Float64Array(ring.buffer);
  announceReady();
  awaitGo(() => {
    const deadline = new Deadline(clock, intArg(args, 'deadline-ms'));
    for (let i = 0; i < total; i++) {
      rng = xorshift32(rng);
      sleeper.park((minDelayUs + ((rng >>> 0) % spanUs)) * 1000);
      const at = producer.tryClaim(PROBE, VERSION, PAYLOAD_BYTES);
      if (at === NO_ROOM) throw new Error('wake-send: ring full with one probe in flight; the receiver is not draining it');
      writePayload(i32, f64, at, i);
      // The timestamp is the last thing before commit(): the latency covers publish, futex wake,
      // the scheduler putting the receiver back on its core, and the receiver's poll.
      f64[(at + SEND_NS) >> 3] = clock.nowNs();
      producer.commit();
      deadline.check('wake-send');
    }
    const at = producer.tryClaim(END, VERSION, PAYLOAD_BYTES);
    if (at === NO_ROOM) throw new Error('wake-send: no room for END');
    writePayload(i32, f64, at, total);
    producer.close();
    reportAndExit({ sent: total });
  });
}

function wakeReceive(args: ChildArgs): void {
  const ring = RingFile.open(stringArg(args, 'ring'));
  const consumer = new RingConsumer(ring, stringArg(args, 'name'));
  const warm = intArg(args, 'warm');
  const count = intArg(args, 'samples');
  const samplesFile = stringArg(args, 'samples-file');
  // The production default: spin a little, yield a little, then sleep on the tail futex.
  const idle = new BackoffIdleStrategy(consumer);
  const i32 = ring.i32;
  const f64 = new Float64Array(ring.buffer);
  const samples = new Float64Array(count);
  let received = 0;
  let errors = 0;
  let sleptBefore = 0;
  let parksSeen = 0;
  let done = false;
  const handler = (typeId: number, _version: number, buf: RecordBuffer, offset: number, length: number): void => {
    const nowNs = clock.nowNs();
    if (typeId === END) {
      done = true;
      return;
    }
    if (buf !== ring || length !== PAYLOAD_BYTES || !payloadIsIntact(i32, offset >> 2, received)) errors++;
    if (received >= warm) {
      samples[received - warm] = nowNs - f64[(offset + SEND_NS) >> 3]!;
      if (idle.parks !== parksSeen) sleptBefore++;
    }
    parksSeen = idle.parks;
    received++;
  };
  announceReady();
  awaitGo(() => {
    const deadline = new Deadline(clock, intArg(args, 'deadline-ms'));
    for (let polls = 1; !done; polls++) {
      const n = consumer.poll(handler, 1);
      idle.idle(n);
      if (polls % 1024 === 0) deadline.check('wake-receive');
    }
    consumer.close();
    fs.writeFileSync(samplesFile, new Uint8Array(samples.buffer));
    reportAndExit({ samples: count, errors, sleptBefore, parks: idle.parks });
  });
}

const roles: Record<string, (args: ChildArgs) => void> = {
  produce,
  consume,
  ping,
  pong,
  'wake-send': wakeSend,
  'wake-receive': wakeReceive,
  solo,
};

const role = roles[process.argv[2] ?? ''];
if (role === undefined) {
  process.stderr.write(`ring-child: role must be one of ${Object.keys(roles).join(', ')}, got '${process.argv[2]}'\n`);
  process.exit(2);
}
role(readArgs());
