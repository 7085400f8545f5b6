// The sequencer process. See sequencer.ts for what it does and README.md for the operator view.
//
//   node dist/processes/sequencer/main.js \
//     --input /dev/shm/ims-main/pm-to-sequencer.ring --input /dev/shm/ims-main/engine-hot-out.ring ... \
//     --journal-ring /dev/shm/ims-main/journal.ring --data-dir /var/lib/ims/journal \
//     [--archive-dir DIR] [--durability fsync|async] [--async-fsync-interval-ms 20]
//     [--segment-bytes N] [--max-batch N] [--per-ring-batch N] [--idle backoff|yield|spin]
//
// Prints one JSON object per line (sequencer-start, alarms, faults). Exit codes: 0 after SIGTERM or
// SIGINT (everything pending synced), 2 when the journal could not be written (nothing after the
// last acknowledged entry was acknowledged; the supervisor restarts it, and it recovers from disk),
// 3 when it must not start (a damaged journal, a foreign ring, ...), with the reason on stderr.

import { Command, InvalidArgumentError } from 'commander';
import { makeIdleStrategy, type IdleStrategyName } from '../../bus/idle-strategy';
import { DEFAULT_SEGMENT_BYTES } from '../../bus/journal-writer';
import { openProcessCounters } from '../operations/process-counters';
import { createEventLog } from '../process-log';
import { DEFAULTS, Sequencer, type DurabilityMode } from './sequencer';
import { SequencerCounters } from './sequencer-counters';

/** The loop yields to the event loop this often so signals are handled. */
const SLICE_MS = 20;

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError(`expected a positive integer, got '${v}'`);
  return n;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

interface Args {
  input: string[];
  name: string;
  journalRing: string;
  journalRingBytes: number;
  journalRingConsumers: number;
  status?: string;
  dataDir: string;
  archiveDir?: string;
  durability: DurabilityMode;
  asyncFsyncIntervalMs: number;
  segmentBytes: number;
  maxBatch: number;
  perRingBatch: number;
  recoveryScan: 'full' | 'tail' | 'auto';
  idle: IdleStrategyName;
}

function run(args: Args): void {
  // JSON lines named after the supervisor's process; counters in <runDir>/sequencer.counters.
  const log = createEventLog('sequencer');
  const counters = new SequencerCounters(openProcessCounters({ fallbackName: 'sequencer' }));
  let sequencer: Sequencer;
  try {
    sequencer = Sequencer.open({
      inputs: args.input,
      consumerName: args.name,
      journalRing: args.journalRing,
      journalRingBytes: args.journalRingBytes,
      journalRingConsumers: args.journalRingConsumers,
      statusPath: args.status,
      dataDir: args.dataDir,
      archiveDir: args.archiveDir,
      durability: args.durability,
      asyncFsyncIntervalMs: args.asyncFsyncIntervalMs,
      segmentBytes: args.segmentBytes,
      maxBatchEntries: args.maxBatch,
      perRingBatch: args.perRingBatch,
      recoveryScan: args.recoveryScan,
      log,
      counters,
    });
  } catch (e) {
    process.stderr.write(`sequencer: refusing to start: ${(e as Error).message}\n`);
    log({ event: 'start-refused', error: (e as Error).message });
    process.exitCode = 3;
    return;
  }
  const idle = makeIdleStrategy(args.idle, sequencer);
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);

  const loopWork = counters.loopWork;
  const step = (): void => {
    const sliceEnd = Date.now() + SLICE_MS;
    try {
      while (!stopping) {
        const startMs = performance.now();
        const n = sequencer.doWork();
        if (n > 0) loopWork.record((performance.now() - startMs) * 1e6);
        idle.idle(n);
        if (Date.now() > sliceEnd) break;
      }
    } catch (e) {
      process.stderr.write(`sequencer: ${(e as Error).message}\n`);
      sequencer.close();
      process.exitCode = 2;
      return;
    }
    if (stopping) {
      sequencer.close();
      log({ event: 'sequencer-stopped', headSeq: sequencer.headSeq, durableSeq: sequencer.durableSeq });
      return;
    }
    setImmediate(step);
  };
  step();
}

if (require.main === module) {
  const program = new Command('sequencer')
    .description('Sequences the inputs into the journal (disk segments + the journal ring)')
    .requiredOption('--input <ring>', 'an input ring (repeat for each; read round-robin)', collect, [] as string[])
    .option('--name <name>', "the sequencer's consumer slot name in the input rings", DEFAULTS.consumerName)
    .requiredOption('--journal-ring <ring>', 'the journal ring every downstream process reads')
    .option('--journal-ring-bytes <n>', 'capacity when the sequencer creates the journal ring', positiveInt, DEFAULTS.journalRingBytes)
    .option('--journal-ring-consumers <n>', 'consumer slots when the sequencer creates the journal ring', positiveInt, DEFAULTS.journalRingConsumers)
    .option('--status <file>', 'the journal status file (default: beside the ring, .status)')
    .requiredOption('--data-dir <dir>', 'directory of the journal segment files')
    .option('--archive-dir <dir>', 'directory of archived (closed, compressed) days')
    .option('--durability <mode>', 'fsync (group commit before publishing) or async (fsync within the interval)', DEFAULTS.durability)
    .option('--async-fsync-interval-ms <ms>', 'async mode: longest time from write to fdatasync', positiveInt, DEFAULTS.asyncFsyncIntervalMs)
    .option('--segment-bytes <n>', 'roll segments at this size', positiveInt, DEFAULT_SEGMENT_BYTES)
    .option('--max-batch <n>', 'entries per group commit', positiveInt, DEFAULTS.maxBatchEntries)
    .option('--per-ring-batch <n>', 'records taken from one input ring per round (fairness quantum)', positiveInt, DEFAULTS.perRingBatch)
    .option('--recovery-scan <mode>', 'full: checksum every older segment at start; tail: only the newest; auto: full up to 4 GiB', DEFAULTS.recoveryScan)
    .option('--idle <strategy>', 'backoff (default), yield or spin', 'backoff')
    .action((o: Args) => {
      if (o.durability !== 'fsync' && o.durability !== 'async') {
        process.stderr.write(`sequencer: --durability must be fsync or async, got '${o.durability}'\n`);
        process.exitCode = 3;
        return;
      }
      run(o);
    });
  program.parse();
}
