// The matching-engine process: one instance (a or b) of the hot-warm pair. See engine-instance.ts
// for the roles, engine-replica.ts for what it checks, README.md for the operator view.
//
//   node dist/processes/matching-engine/main.js --instance a|b --run-dir <runDir> --data-dir <dataDir>
//        [--lease-timeout-ms 50] [--heartbeat-interval-ms 5] [--checkpoint-every 10000]
//        [--snapshot-every 500000] [--snapshots-kept 3] [--max-pending-bytes 67108864]
//        [--journal-gating] [--idle backoff|yield|spin] [--self-trade-policy 1..4]
//        [--journal-ring F] [--out-ring F] [--lease F] [--status F] [--snapshot-dir D]
//
// Files (defaults from --run-dir / --data-dir): reads <runDir>/journal.ring (consumer engine-<x>),
// writes <runDir>/engine-<x>-out.ring (created with a gating 'sequencer' slot if missing), shares
// <runDir>/engine.lease, reports in <runDir>/engine-<x>.status, snapshots in
// <dataDir>/engine-snapshots/.
//
// One JSON object per line on stdout (engine-start, engine-claimed, engine-hot, engine-fenced,
// engine-divergence, engine-snapshot-written, engine-stopped, ...). Exit codes: 0 after SIGTERM or
// SIGINT (flushed, snapshot written), 1 on a broken invariant (the supervisor restarts it; it
// recovers from its snapshot and the journal), 3 when it must not start (bad arguments or files).

import { Command, InvalidArgumentError } from 'commander';
import { makeIdleStrategy, type IdleStrategyName } from '../../bus/idle-strategy';
import { messageByName } from '../../bus/schema';
import { openProcessCounters } from '../operations/process-counters';
import { pinSelf } from '../pin-self';
import { createEventLog } from '../process-log';
import { EngineCounters } from './engine-counters';
import { defaultPaths, ENGINE_DEFAULTS, ENGINE_LIMITS, EngineInstance, type EngineInstanceName } from './engine-instance';

/** The loop yields to the event loop this often, so signals and snapshot writes are handled. */
const SLICE_MS = 10;

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError(`expected a positive integer, got '${v}'`);
  return n;
}

/** In Node 20 process.ppid is read once at start-up, so probe the parent's pid instead. */
function parentAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

interface Args {
  instance: string;
  runDir: string;
  dataDir: string;
  journalRing?: string;
  outRing?: string;
  outRingBytes: number;
  lease?: string;
  status?: string;
  snapshotDir?: string;
  leaseTimeoutMs: number;
  heartbeatIntervalMs: number;
  checkpointEvery: number;
  snapshotEvery: number;
  snapshotsKept: number;
  maxPendingBytes: number;
  pollLimit: number;
  journalGating: boolean;
  idle: IdleStrategyName;
  selfTradePolicy?: number;
  exitWithParent: boolean;
  testCorruptAtSeq?: number;
  testCorruptType?: string;
}

function run(args: Args): void {
  if (args.instance !== 'a' && args.instance !== 'b') {
    process.stderr.write(`matching-engine: --instance must be a or b, got '${args.instance}'\n`);
    process.exitCode = 3;
    return;
  }
  const instanceName = args.instance as EngineInstanceName;
  let corruptTypeId = 0;
  if (args.testCorruptType !== undefined) {
    const desc = messageByName(args.testCorruptType);
    if (desc === undefined) {
      process.stderr.write(`matching-engine: --test-corrupt-type ${args.testCorruptType} is not a message name\n`);
      process.exitCode = 3;
      return;
    }
    corruptTypeId = desc.typeId;
  }
  pinSelf();
  const defaults = defaultPaths(args.runDir, args.dataDir, instanceName);
  // JSON lines named after the supervisor's process (engine-a); counters in <runDir>/engine-<x>.counters.
  const log = createEventLog(`engine-${instanceName}`);
  const counters = new EngineCounters(openProcessCounters({ fallbackName: `engine-${instanceName}` }));
  let instance: EngineInstance;
  try {
    instance = EngineInstance.open({
      instance: instanceName,
      journalRing: args.journalRing ?? defaults.journalRing,
      outRing: args.outRing ?? defaults.outRing,
      outRingBytes: args.outRingBytes,
      lease: args.lease ?? defaults.lease,
      status: args.status ?? defaults.status,
      peerStatus: defaults.peerStatus,
      snapshotDir: args.snapshotDir ?? defaults.snapshotDir,
      leaseTimeoutMs: args.leaseTimeoutMs,
      heartbeatIntervalMs: args.heartbeatIntervalMs,
      checkpointEvery: args.checkpointEvery,
      snapshotEvery: args.snapshotEvery,
      snapshotsKept: args.snapshotsKept,
      maxPendingBytes: args.maxPendingBytes,
      pollLimit: args.pollLimit,
      journalGating: args.journalGating,
      engine: args.selfTradePolicy === undefined ? {} : { selfTradePolicy: args.selfTradePolicy },
      testCorruptAtSeq: args.testCorruptAtSeq,
      testCorruptTypeId: corruptTypeId,
      log,
      counters,
    });
  } catch (e) {
    process.stderr.write(`matching-engine ${args.instance}: refusing to start: ${(e as Error).message}\n`);
    log({ event: 'start-refused', instance: args.instance, error: (e as Error).message });
    process.exitCode = 3;
    return;
  }
  if (args.heartbeatIntervalMs * 2 >= args.leaseTimeoutMs) {
    process.stderr.write(`matching-engine ${args.instance}: warning: --heartbeat-interval-ms ${args.heartbeatIntervalMs} is not well below --lease-timeout-ms ${args.leaseTimeoutMs}; a healthy hot may be taken over\n`);
  }
  // The backoff never sleeps longer than maxParkNs: a hot heartbeats from this loop, a warm
  // notices a dead leader from it.
  const idle = makeIdleStrategy(args.idle, instance, { maxParkNs: ENGINE_LIMITS.maxParkNs, minParkNs: 50_000 });
  const parentPid = process.ppid;
  let stopping = false;
  const stop = (): void => {
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
        const work = instance.doWork();
        if (work > 0) loopWork.record((performance.now() - startMs) * 1e6);
        idle.idle(work);
        if (Date.now() > sliceEnd) break;
      }
    } catch (e) {
      // A broken invariant: die loudly; the supervisor restarts us and we recover by replay.
      process.stderr.write(`matching-engine ${args.instance}: ${(e as Error).stack ?? (e as Error).message}\n`);
      log({ event: 'engine-failed', instance: args.instance, error: (e as Error).message });
      process.exit(1);
    }
    if (args.exitWithParent && !parentAlive(parentPid)) stopping = true;
    if (stopping) {
      instance.shutdown().then(
        () => {
          process.exitCode = 0;
        },
        (e: Error) => {
          process.stderr.write(`matching-engine ${args.instance}: shutdown failed: ${e.message}\n`);
          process.exitCode = 1;
        },
      );
      return;
    }
    setImmediate(step);
  };
  step();
}

if (require.main === module) {
  new Command('matching-engine')
    .description('One matching-engine instance of the hot-warm pair: applies the journal, publishes when hot')
    .requiredOption('--instance <a|b>', 'which instance (sourceId ENGINE_A / ENGINE_B, files engine-<x>-*)')
    .requiredOption('--run-dir <dir>', 'the run directory on /dev/shm (journal.ring, engine.lease, engine-<x>-out.ring)')
    .requiredOption('--data-dir <dir>', 'the data directory (snapshots in <dir>/engine-snapshots)')
    .option('--journal-ring <file>', 'default <run-dir>/journal.ring')
    .option('--out-ring <file>', 'default <run-dir>/engine-<x>-out.ring')
    .option('--out-ring-bytes <n>', 'capacity if the output ring has to be created', positiveInt, ENGINE_DEFAULTS.outRingBytes)
    .option('--lease <file>', 'default <run-dir>/engine.lease')
    .option('--status <file>', 'default <run-dir>/engine-<x>.status')
    .option('--snapshot-dir <dir>', 'default <data-dir>/engine-snapshots')
    .option('--lease-timeout-ms <ms>', 'a leader silent this long is presumed dead', positiveInt, ENGINE_DEFAULTS.leaseTimeoutMs)
    .option('--heartbeat-interval-ms <ms>', 'how often the hot heartbeats', positiveInt, ENGINE_DEFAULTS.heartbeatIntervalMs)
    .option('--checkpoint-every <n>', 'commands between EngineCheckpoint outputs', positiveInt, ENGINE_DEFAULTS.checkpointEvery)
    .option('--snapshot-every <n>', 'commands between scheduled snapshots', positiveInt, ENGINE_DEFAULTS.snapshotEvery)
    .option('--snapshots-kept <n>', 'snapshots kept on disk', positiveInt, ENGINE_DEFAULTS.snapshotsKept)
    .option('--max-pending-bytes <n>', 'size of the ring of outputs computed but not yet journaled', positiveInt, ENGINE_DEFAULTS.maxPendingBytes)
    .option('--poll-limit <n>', 'journal entries per poll', positiveInt, ENGINE_DEFAULTS.pollLimit)
    .option('--journal-gating', 'hold the sequencer back instead of catching up from disk when lapped', false)
    .option('--idle <strategy>', 'backoff (default), yield or spin', 'backoff')
    .option('--self-trade-policy <n>', 'default self-trade policy (1 cancel newest .. 4 decrement-and-cancel)', positiveInt)
    .option('--exit-with-parent', 'exit when the parent process dies (tests)', false)
    .option('--test-corrupt-at-seq <n>', 'TEST ONLY: corrupt the first output computed at inSeq >= n (divergence drill)', positiveInt)
    .option('--test-corrupt-type <name>', 'TEST ONLY: ... of this message type only (e.g. EngineCheckpoint)')
    .action((o: Args) => run(o))
    .parse();
}
