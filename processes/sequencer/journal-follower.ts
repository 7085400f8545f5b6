// A journal consumer for tests, drills and the journal benchmark: follows the journal through a
// JournalReader like every downstream process does, checks every entry arrives once and in order,
// and (with --check-durable) that no entry is handed out before the status file says it is
// durable. Its progress (last seq, count, checksum) lives in a small mmap'd state file, so a
// follower killed with -9 and restarted continues exactly where it stopped.
//
//   node dist/processes/sequencer/journal-follower.js --ring PATH --name NAME --state FILE
//        [--until SEQ] [--non-gating] [--check-durable] [--durable-probe FILE] [--slow-us N]
//
// --durable-probe names an mmap'd file whose first f64 a test sets to the last seq it saw an
// fdatasync complete for: an independent witness, not the sequencer's own status file.

import { Command, InvalidArgumentError } from 'commander';
import { BackoffIdleStrategy } from '../../bus/idle-strategy';
import { ENTRY_SEQ, getI64 } from '../../bus/journal-format';
import { JournalReader } from '../../bus/journal-reader';
import { JournalStatusFile, statusPathForRing } from '../../bus/journal-status';
import type { RecordBuffer } from '../../bus/ring';
import { native } from '../../native/addon';

/** Offsets (f64 indexes) in the follower's state file. */
export const FollowerState = { LAST_SEQ: 0, RECEIVED: 1, CHECKSUM: 2, OUT_OF_ORDER: 3, NOT_DURABLE: 4, BYTES: 4096 } as const;
export const CHECKSUM_MODULUS = 1_000_000_007;

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError(`expected a non-negative integer, got '${v}'`);
  return n;
}

function run(opts: { ring: string; name: string; state: string; until: number; nonGating: boolean; checkDurable: boolean; durableProbe?: string; slowUs: number }): void {
  const state = new Float64Array(native.mapFile(opts.state, FollowerState.BYTES, true));
  const fromSeq = state[FollowerState.LAST_SEQ]! + 1;
  const reader = new JournalReader({ ringPath: opts.ring, name: opts.name, fromSeq, gating: !opts.nonGating });
  const status = JournalStatusFile.create(statusPathForRing(opts.ring));
  const durable = new Float64Array(3);
  const probe = opts.durableProbe === undefined ? null : new Float64Array(native.mapFile(opts.durableProbe, 8, true));
  const idle = new BackoffIdleStrategy(reader);
  const spin = new Float64Array(2);
  const handler = (_typeId: number, _version: number, buf: RecordBuffer, offset: number): void => {
    const seq = getI64(buf.view, offset + ENTRY_SEQ);
    if (seq !== state[FollowerState.LAST_SEQ]! + 1) state[FollowerState.OUT_OF_ORDER]!++;
    if (probe !== null) {
      if (seq > probe[0]!) state[FollowerState.NOT_DURABLE]!++;
    } else if (opts.checkDurable) {
      status.readVisible(durable);
      if (seq > durable[2]!) state[FollowerState.NOT_DURABLE]!++;
    }
    state[FollowerState.LAST_SEQ] = seq;
    state[FollowerState.RECEIVED]!++;
    state[FollowerState.CHECKSUM] = (state[FollowerState.CHECKSUM]! + seq) % CHECKSUM_MODULUS;
    if (opts.slowUs > 0) {
      native.clockInto(spin, 0);
      const until = spin[0]! + opts.slowUs * 1000;
      do native.clockInto(spin, 0);
      while (spin[0]! < until);
    }
  };
  const report = (event: string): void => {
    process.stdout.write(
      JSON.stringify({
        event,
        name: opts.name,
        lastSeq: state[FollowerState.LAST_SEQ],
        received: state[FollowerState.RECEIVED],
        checksum: state[FollowerState.CHECKSUM],
        outOfOrder: state[FollowerState.OUT_OF_ORDER],
        notDurable: state[FollowerState.NOT_DURABLE],
        catchUps: reader.diskCatchUps,
        mode: reader.mode,
      }) + '\n',
    );
  };
  process.stdout.write(JSON.stringify({ event: 'follower-start', pid: process.pid, name: opts.name, fromSeq }) + '\n');
  let stopping = false;
  process.on('SIGTERM', () => {
    stopping = true;
  });
  const step = (): void => {
    const sliceEnd = Date.now() + 20;
    for (;;) {
      if (stopping || (opts.until > 0 && state[FollowerState.LAST_SEQ]! >= opts.until)) {
        reader.close();
        report('follower-done');
        return;
      }
      const n = reader.poll(handler, 256);
      idle.idle(n);
      if (Date.now() > sliceEnd) break;
    }
    setImmediate(step);
  };
  step();
}

if (require.main === module) {
  new Command('journal-follower')
    .description('Follows the journal, checking every entry arrives once and in order')
    .requiredOption('--ring <path>', 'journal ring')
    .requiredOption('--name <name>', 'consumer name')
    .requiredOption('--state <file>', 'progress file (mmap; created when missing)')
    .option('--until <seq>', 'stop after this seq (0 = run until SIGTERM)', positiveInt, 0)
    .option('--non-gating', 'do not hold the sequencer back (may be lapped, then catches up from disk)', false)
    .option('--check-durable', 'count entries handed out above the durable seq', false)
    .option('--durable-probe <file>', 'count entries above the seq this file says is durable (f64 at offset 0)')
    .option('--slow-us <n>', 'busy-wait this long per entry (to fall behind)', positiveInt, 0)
    .action((o) => run(o))
    .parse();
}
