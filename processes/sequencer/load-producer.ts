// A sequencer input producer for tests, drills and the journal benchmark: writes NewOrder inputs
// (input header + body, exactly what the product manager writes) numbered sourceSeq = from..count
// for one sourceId into one input ring, as fast as allowed or at a fixed rate.
//
//   node dist/processes/sequencer/load-producer.js --ring PATH --source-id N --count N
//        [--from 1] [--batch 64] [--rate R] [--stamp]
//
// The body is a pure function of (sourceId, sourceSeq), so a checker can recompute it; with
// --stamp, orderId carries CLOCK_MONOTONIC ns at the moment of writing instead (the journal
// benchmark measures offer-to-consumer latency with it).

import { Command, InvalidArgumentError } from 'commander';
import { BackoffIdleStrategy, SleepingParker } from '../../bus/idle-strategy';
import { BACK_PRESSURED, RingFile, RingProducer } from '../../bus/ring';
import { INPUT_HEADER_BYTES, InputHeader, NewOrder } from '../../bus/schema';
import { native } from '../../native/addon';

export const LOAD_PAYLOAD_BYTES = INPUT_HEADER_BYTES + NewOrder.size;

/** Writes input `sourceSeq` of `sourceId` at `at` in `view` (allocation-free). */
export function writeLoadInput(view: DataView, at: number, sourceId: number, sourceSeq: number, epoch = 0): void {
  setI64(view, at + InputHeader.o.sourceSeq, sourceSeq);
  view.setUint16(at + InputHeader.o.sourceId, sourceId, true);
  view.setUint16(at + InputHeader.o.flags, 0, true);
  view.setUint32(at + InputHeader.o.epoch, epoch, true);
  const b = at + INPUT_HEADER_BYTES;
  for (let i = 0; i < NewOrder.size; i += 4) view.setUint32(b + i, 0, true);
  setI64(view, b + NewOrder.o.orderId, sourceId * 1_000_000_000 + sourceSeq);
  setI64(view, b + NewOrder.o.price, 1000 + (sourceSeq % 97));
  setI64(view, b + NewOrder.o.quantity, 1 + (sourceSeq % 13));
  view.setUint32(b + NewOrder.o.accountId, 1 + (sourceSeq % 50), true);
  view.setUint32(b + NewOrder.o.productId, 1 + (sourceSeq % 10), true);
  view.setUint32(b + NewOrder.o.requestId, sourceSeq >>> 0, true);
  view.setUint16(b + NewOrder.o.gatewayId, 1, true);
  view.setUint8(b + NewOrder.o.side, 1 + (sourceSeq & 1));
  view.setUint8(b + NewOrder.o.timeInForce, 1);
}

function setI64(view: DataView, offset: number, value: number): void {
  view.setUint32(offset, value >>> 0, true);
  view.setInt32(offset + 4, Math.floor(value / 4294967296), true);
}

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError(`expected a non-negative integer, got '${v}'`);
  return n;
}

function run(opts: { ring: string; sourceId: number; count: number; from: number; batch: number; rate: number; stamp: boolean }): void {
  const ring = RingFile.open(opts.ring);
  const producer = new RingProducer(ring);
  const view = ring.view;
  const idle = new BackoffIdleStrategy({ park: (ns: number) => producer.parkUntilProgress(ns) });
  const sleeper = new SleepingParker();
  const clock = new Float64Array(2);
  native.clockInto(clock, 0);
  const startNs = clock[0]!;
  let seq = opts.from - 1;
  process.stdout.write(JSON.stringify({ event: 'producer-start', pid: process.pid, sourceId: opts.sourceId, from: opts.from, count: opts.count }) + '\n');
  const step = (): void => {
    const sliceEnd = Date.now() + 20;
    while (seq < opts.count) {
      if (opts.rate > 0) {
        native.clockInto(clock, 0);
        const due = opts.from - 1 + ((clock[0]! - startNs) / 1e9) * opts.rate;
        if (seq >= due) {
          sleeper.park(200_000);
          if (Date.now() > sliceEnd) break;
          continue;
        }
      }
      let n = 0;
      while (n < opts.batch && seq < opts.count) {
        const at = producer.tryClaim(NewOrder.typeId, NewOrder.version, LOAD_PAYLOAD_BYTES);
        if (at === BACK_PRESSURED) break;
        writeLoadInput(view, at, opts.sourceId, seq + 1);
        if (opts.stamp) {
          native.clockInto(clock, 0);
          setI64(view, at + INPUT_HEADER_BYTES + NewOrder.o.orderId, Math.floor(clock[0]!));
        }
        seq++;
        n++;
      }
      producer.commit();
      idle.idle(n);
      if (Date.now() > sliceEnd) break;
    }
    if (seq < opts.count) {
      setImmediate(step);
      return;
    }
    producer.close();
    process.stdout.write(JSON.stringify({ event: 'producer-done', sourceId: opts.sourceId, lastSourceSeq: seq }) + '\n');
  };
  step();
}

if (require.main === module) {
  new Command('load-producer')
    .description('Writes numbered NewOrder inputs into a sequencer input ring')
    .requiredOption('--ring <path>', 'input ring')
    .requiredOption('--source-id <n>', 'sourceId of this producer', positiveInt)
    .requiredOption('--count <n>', 'last sourceSeq to write', positiveInt)
    .option('--from <n>', 'first sourceSeq to write', positiveInt, 1)
    .option('--batch <n>', 'inputs per commit', positiveInt, 64)
    .option('--rate <n>', 'inputs per second (0 = as fast as possible)', positiveInt, 0)
    .option('--stamp', 'put CLOCK_MONOTONIC ns into orderId (latency measurements)', false)
    .action((o) => run(o))
    .parse();
}
