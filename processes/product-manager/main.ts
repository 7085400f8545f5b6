// The product-manager process: one instance of the hot/warm pair (see product-manager-process.ts
// for the roles and the takeover, README.md for the operator view).
//
//   node dist/processes/product-manager/main.js --instance a|b --run-dir /dev/shm/ims-main --gateways 2
//     [--journal-ring <run dir>/journal.ring] [--lease-timeout-ms 50] [--hash-interval-ms 1000]
//     [--journal-gating] [--idle backoff|yield|spin] [--max-in-flight N]
//
// Prints one JSON object per line (pm-start, pm-ready, takeover-*, pm-hot, alarms, pm-stopped).
// Signals: SIGTERM/SIGINT flush what was read and written, release the rings, exit 0; SIGUSR2
// writes a fresh state hash into the status file. Exit codes: 0 stopped, 1 a bug or a broken
// invariant (the supervisor restarts it; it rebuilds from the journal), 3 must not start (bad
// arguments, a missing ring, the instance already running), 4 fenced (another instance holds the
// lease; restarted, it comes back as the standby).

import { Command, InvalidArgumentError } from 'commander';
import { BackoffIdleStrategy, makeIdleStrategy, type IdleStrategy, type IdleStrategyName } from '../../bus/idle-strategy';
import { openProcessCounters } from '../operations/process-counters';
import { pinSelf } from '../pin-self';
import { createEventLog } from '../process-log';
import { PmCountersFile } from './pm-counters';
import { isPmInstance, MAX_GATEWAYS } from './pm-paths';
import { DEFAULT_HASH_INTERVAL_MS, DEFAULT_LEASE_TIMEOUT_MS, HOT_MAX_PARK_NS, WARM_MAX_PARK_NS } from './pm-process-limits';
import { PmRole } from './pm-status';
import { ProductManagerProcess } from './product-manager-process';

/** The loop yields to the event loop this often so signals are handled. */
const SLICE_MS = 20;

interface Args {
  instance: string;
  runDir: string;
  gateways: number;
  journalRing?: string;
  leaseTimeoutMs: number;
  hashIntervalMs: number;
  journalGating: boolean;
  idle: IdleStrategyName;
  maxInFlight?: number;
}

function nonNegativeInt(v: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError(`expected a non-negative integer, got '${v}'`);
  return n;
}

function positiveInt(v: string): number {
  const n = nonNegativeInt(v);
  if (n === 0) throw new InvalidArgumentError(`expected an integer above 0, got '${v}'`);
  return n;
}

function run(args: Args): void {
  if (!isPmInstance(args.instance)) {
    process.stderr.write(`product-manager: --instance must be a or b, got '${args.instance}'\n`);
    process.exitCode = 3;
    return;
  }
  if (args.gateways > MAX_GATEWAYS) {
    process.stderr.write(`product-manager: --gateways must be at most ${MAX_GATEWAYS}, got ${args.gateways}\n`);
    process.exitCode = 3;
    return;
  }
  pinSelf();
  // JSON lines named after the supervisor's process (pm-a); counters in <runDir>/pm-<x>.counters.
  const log = createEventLog(`pm-${args.instance}`);
  const countersFile = new PmCountersFile(openProcessCounters({ fallbackName: `pm-${args.instance}` }));
  let pm: ProductManagerProcess;
  try {
    pm = new ProductManagerProcess({
      runDir: args.runDir,
      instance: args.instance,
      gateways: args.gateways,
      journalRing: args.journalRing,
      leaseTimeoutMs: args.leaseTimeoutMs,
      hashIntervalMs: args.hashIntervalMs,
      journalGating: args.journalGating,
      state: args.maxInFlight === undefined ? undefined : { maxInFlight: args.maxInFlight },
      log,
      countersFile,
    });
  } catch (e) {
    process.stderr.write(`product-manager: refusing to start: ${(e as Error).message}\n`);
    log({ event: 'start-refused', error: (e as Error).message });
    process.exitCode = 3;
    return;
  }
  // Two strategies, chosen per role: the hot wakes often enough to notice gateway commands (it
  // sleeps on the journal's futex only), the warm only needs to watch the leader's heartbeat.
  const hotIdle: IdleStrategy = args.idle === 'backoff' ? new BackoffIdleStrategy(pm, { maxParkNs: HOT_MAX_PARK_NS }) : makeIdleStrategy(args.idle, pm);
  const warmIdle: IdleStrategy = new BackoffIdleStrategy(pm, { maxParkNs: WARM_MAX_PARK_NS });
  const stop = (): void => pm.requestStop();
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.on('SIGUSR2', () => pm.requestHash());

  const loopWork = countersFile.loopWork;
  const step = (): void => {
    const sliceEnd = Date.now() + SLICE_MS;
    try {
      while (pm.exitCode === null) {
        const startMs = performance.now();
        const n = pm.doWork();
        if (n > 0) loopWork.record((performance.now() - startMs) * 1e6);
        (pm.role === PmRole.HOT ? hotIdle : warmIdle).idle(n);
        if (Date.now() > sliceEnd) break;
      }
    } catch (e) {
      // A broken invariant or a corrupt input: die loudly; the supervisor restarts us and we rebuild
      // from the journal. Nothing is flushed: what this iteration read was not published.
      process.stderr.write(`product-manager ${args.instance}: ${(e as Error).stack ?? String(e)}\n`);
      log({ event: 'pm-crashed', instance: args.instance, error: (e as Error).message });
      process.exit(1);
    }
    if (pm.exitCode !== null) {
      process.exitCode = pm.exitCode;
      return;
    }
    setImmediate(step);
  };
  step();
}

if (require.main === module) {
  const program = new Command('product-manager')
    .description('One product-manager instance of the hot/warm pair: risk and wallet checks, order state, execution reports')
    .requiredOption('--instance <a|b>', 'which instance of the pair this is')
    .requiredOption('--run-dir <dir>', 'the run directory holding the rings, the lease and the status files')
    .option('--gateways <n>', 'gateways 1..n (gw<n>-to-pm.ring, pm-to-gw<n>.ring)', nonNegativeInt, 1)
    .option('--journal-ring <ring>', 'the journal ring (default <run dir>/journal.ring)')
    .option('--lease-timeout-ms <ms>', 'a leader silent this long is presumed dead', positiveInt, DEFAULT_LEASE_TIMEOUT_MS)
    .option('--hash-interval-ms <ms>', 'how often the status file gets a fresh state hash (0: only on SIGUSR2 and role changes)', nonNegativeInt, DEFAULT_HASH_INTERVAL_MS)
    .option('--journal-gating', 'hold the sequencer back instead of catching up from disk when lapped', false)
    .option('--idle <strategy>', 'backoff (default), yield or spin', 'backoff')
    .option('--max-in-flight <n>', 'commands checked and sent but not yet journaled, at most', positiveInt)
    .action((o: Args) => run(o));
  program.parse();
}
