// How a bench child talks to the orchestrator (scripts/bench/bus.ts), the same way the C ring does:
//
//   child  -> stdout  "READY"            once set up (files mapped, sockets connected)
//   parent -> stdin   one byte "g"       every child of a trial is ready: start now
//   child  -> stdout  "RESULT {json}"    once, at the end; then the child exits
//
// Nothing of this runs while a trial is timed. A child whose stdin closes (the orchestrator died)
// exits at once, and every child also stops at its own deadline, so no spinning process outlives a
// broken run even when the orchestrator was killed -9.

import { native } from '../../../native/addon';

export type ChildArgs = ReadonlyMap<string, string>;

/** Parses `--name value` pairs after the role (argv[2]). */
export function readArgs(argv: readonly string[] = process.argv): ChildArgs {
  const args = new Map<string, string>();
  for (let i = 3; i < argv.length; i += 2) {
    const key = argv[i]!;
    const value = argv[i + 1];
    if (!key.startsWith('--') || value === undefined) throw new TypeError(`bench child: expected '--name value' pairs, got '${argv.slice(3).join(' ')}'`);
    args.set(key.slice(2), value);
  }
  return args;
}

export function intArg(args: ChildArgs, name: string): number {
  const text = args.get(name);
  const n = Number(text);
  if (text === undefined || !Number.isSafeInteger(n) || n < 0) throw new TypeError(`bench child: --${name} must be a non-negative integer, got '${text}'`);
  return n;
}

export function stringArg(args: ChildArgs, name: string): string {
  const text = args.get(name);
  if (text === undefined || text.length === 0) throw new TypeError(`bench child: --${name} is required`);
  return text;
}

export function announceReady(): void {
  process.stdout.write('READY\n');
}

/** Calls `start` when the orchestrator says go; exits if the orchestrator goes away first. */
export function awaitGo(start: () => void): void {
  let started = false;
  process.stdin.on('data', () => {
    if (started) return;
    started = true;
    start();
  });
  process.stdin.on('end', () => process.exit(3));
  process.stdin.on('error', () => process.exit(3));
}

/** Writes the result line (stdout to a pipe is synchronous on Linux) and exits. */
export function reportAndExit(result: Record<string, number | string | boolean>): never {
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
  process.exit(0);
}

/** CLOCK_MONOTONIC in ns through a caller-owned array: no BigInt, no allocation. */
export class MonotonicClock {
  private readonly out = new Float64Array(2);
  nowNs(): number {
    native.clockInto(this.out, 0);
    return this.out[0]!;
  }
}

/**
 * A hard stop for a child: hot loops poll it every so often and give up loudly when it passes, or
 * at once when the parent is gone (a spinning child never reads its stdin again).
 */
export class Deadline {
  private readonly atNs: number;
  private readonly parentPid = process.ppid;
  constructor(private readonly clock: MonotonicClock, readonly ms: number) {
    this.atNs = clock.nowNs() + ms * 1e6;
  }
  check(what: string): void {
    if (this.clock.nowNs() > this.atNs) {
      process.stderr.write(`bench child ${process.argv[2]}: ${what} did not finish within ${this.ms} ms; giving up\n`);
      process.exit(4);
    }
    if (process.ppid !== this.parentPid) process.exit(3);
  }
}
