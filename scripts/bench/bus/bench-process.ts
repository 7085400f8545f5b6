// The orchestrator's handle on bench children (see child-control.ts for the protocol). Each child
// is started pinned (`taskset -c CPU ...`) as the leader of its own process group, so killing the
// group also ends what it started (the process.send sender). Every child ever started is tracked
// until it exits: killAll() is synchronous and safe to call from an 'exit' or signal handler.

import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';

/** Bytes of a child's stderr kept to explain a failure. */
const STDERR_TAIL_BYTES = 4096;
/** A child printing more stdout lines than this is broken (it prints READY and RESULT). */
const MAX_STDOUT_LINES = 64;

export type ChildResult = Record<string, number | string | boolean>;

export interface ChildSpec {
  label: string;
  cpu: number;
  command: string;
  args: readonly string[];
}

const live = new Set<BenchProcess>();

export class BenchProcess {
  readonly label: string;
  private readonly child: ChildProcess;
  private stdoutRest = '';
  private stdoutLines = 0;
  private stderrTail = '';
  private isReady = false;
  private result: ChildResult | undefined;
  private exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private readonly waiters = new Set<() => void>();
  /** Processes this child started and announced with a `PID n` line (the process.send sender). */
  readonly descendants: number[] = [];

  constructor(spec: ChildSpec) {
    this.label = spec.label;
    this.child = spawn('taskset', ['-c', String(spec.cpu), spec.command, ...spec.args], { detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
    live.add(this);
    this.child.stdout!.setEncoding('utf8');
    this.child.stdout!.on('data', (text: string) => this.onStdout(text));
    this.child.stderr!.setEncoding('utf8');
    this.child.stderr!.on('data', (text: string) => {
      this.stderrTail = (this.stderrTail + text).slice(-STDERR_TAIL_BYTES);
    });
    // A child that exits before reading 'go' makes our write fail with EPIPE; its exit explains it.
    this.child.stdin!.on('error', () => {});
    this.child.on('error', (e) => {
      this.stderrTail += `\ncannot start: ${e.message}`;
      this.exit = { code: null, signal: null };
      this.notify();
    });
    // 'close', not 'exit': 'exit' can come before the last stdout data (the RESULT line) is read.
    this.child.on('close', (code, signal) => {
      this.exit = { code, signal };
      live.delete(this);
      this.notify();
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  ready(timeoutMs: number): Promise<void> {
    return this.waitFor(timeoutMs, 'READY', () => (this.isReady ? true : undefined)).then(() => {});
  }

  go(): void {
    this.child.stdin!.write('g');
  }

  results(timeoutMs: number): Promise<ChildResult> {
    return this.waitFor(timeoutMs, 'its RESULT', () => this.result);
  }

  exited(timeoutMs: number): Promise<void> {
    return this.waitFor(timeoutMs, 'exit', () => (this.exit !== undefined ? true : undefined), true).then(() => {});
  }

  /** SIGKILL to the whole group; a group that is already gone is fine. */
  killGroup(): void {
    const pid = this.child.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, 'SIGKILL');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
    }
  }

  private onStdout(text: string): void {
    const lines = (this.stdoutRest + text).split('\n');
    this.stdoutRest = lines.pop()!;
    for (const line of lines) {
      if (++this.stdoutLines > MAX_STDOUT_LINES) {
        this.stderrTail += `\n(more than ${MAX_STDOUT_LINES} stdout lines; last: ${line.slice(0, 200)})`;
        this.killGroup();
        return;
      }
      if (line === 'READY') this.isReady = true;
      else if (line.startsWith('PID ')) this.descendants.push(Number(line.slice(4)));
      else if (line.startsWith('RESULT ')) this.result = JSON.parse(line.slice('RESULT '.length)) as ChildResult;
      else this.stderrTail = (this.stderrTail + `\n(stdout) ${line}`).slice(-STDERR_TAIL_BYTES);
    }
    this.notify();
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }

  private waitFor<T>(timeoutMs: number, what: string, value: () => T | undefined, exitIsTheAnswer = false): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const check = (): void => {
        const v = value();
        if (v !== undefined) {
          done();
          resolve(v);
        } else if (this.exit !== undefined && !exitIsTheAnswer) {
          done();
          const how = this.exit.signal !== null ? `signal ${this.exit.signal}` : `code ${this.exit.code}`;
          reject(new Error(`bench child ${this.label} exited (${how}) before ${what}; its stderr:\n${this.stderrTail.trim() || '(empty)'}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`bench child ${this.label} gave no ${what} within ${timeoutMs} ms; its stderr:\n${this.stderrTail.trim() || '(empty)'}`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }
}

/**
 * From /proc/PID/task/TID/schedstat (ns): the main thread's run and run-queue wait time, and the
 * run time of the process's other threads (V8's GC and compiler threads share the pinned core).
 */
interface SchedSample {
  mainRunNs: number;
  mainWaitNs: number;
  othersRunNs: number;
}

function readSchedstat(pid: number): SchedSample | undefined {
  try {
    const sample: SchedSample = { mainRunNs: 0, mainWaitNs: 0, othersRunNs: 0 };
    for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
      const [run, wait] = fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ');
      if (Number(tid) === pid) {
        sample.mainRunNs = Number(run);
        sample.mainWaitNs = Number(wait);
      } else {
        sample.othersRunNs += Number(run);
      }
    }
    return sample;
  } catch {
    return undefined; // the process (or a thread) went away between the reads
  }
}

/**
 * Of the time a bench process's main thread wanted its CPU in a window (ran, or sat on the run
 * queue), the share it waited while neither it nor its own helper threads ran: time taken by
 * other processes. The largest over the trial's processes; about 0 on a quiet machine. A spinning
 * side at 20 % was measured on 80 % of a core.
 */
export interface CpuContention {
  maxWaitShare: number;
}

function sampleAll(pids: readonly number[]): Array<SchedSample | undefined> {
  return pids.map(readSchedstat);
}

/** Promise.all that also marks the other promises handled, so a second failure is not unhandled. */
function allOrFirstError<T>(promises: Array<Promise<T>>): Promise<T[]> {
  for (const p of promises) p.catch(() => {});
  return Promise.all(promises);
}

/** Kills every child (and its group) that has not exited yet. Synchronous. */
export function killAllChildren(): void {
  for (const child of live) child.killGroup();
}

/**
 * Starts the children of one run, in order when `inOrder` (a socket client after its server),
 * waits until all are ready, says go to all at once, and collects every result. Whatever happens,
 * each child's group is killed before this returns.
 */
export interface RunOptions {
  inOrder: boolean;
  startTimeoutMs: number;
  runTimeoutMs: number;
  /**
   * Measure CPU contention over [fromMs, toMs] after go (the timed phase of a throughput trial), or
   * over the whole run ('run': from go to the last sample taken before the children exit).
   */
  window?: { fromMs: number; toMs: number } | 'run';
}

/** How often a whole-run contention window samples, so the last sample precedes the exit. */
const RUN_SAMPLE_INTERVAL_MS = 50;

function contentionBetween(first: ReadonlyArray<SchedSample | undefined>, last: ReadonlyArray<SchedSample | undefined>): CpuContention {
  let maxWaitShare = 0;
  for (let i = 0; i < first.length; i++) {
    const a = first[i];
    const b = last[i];
    if (a === undefined || b === undefined) continue;
    const waitNs = b.mainWaitNs - a.mainWaitNs;
    const runnableNs = b.mainRunNs - a.mainRunNs + waitNs;
    const foreignWaitNs = Math.max(0, waitNs - (b.othersRunNs - a.othersRunNs));
    if (runnableNs > 0) maxWaitShare = Math.max(maxWaitShare, foreignWaitNs / runnableNs);
  }
  return { maxWaitShare };
}

export async function runChildren(specs: readonly ChildSpec[], options: RunOptions): Promise<{ results: ChildResult[]; contention: CpuContention | undefined }> {
  const children: BenchProcess[] = [];
  const timers: NodeJS.Timeout[] = [];
  try {
    if (options.inOrder) {
      for (const spec of specs) {
        const child = new BenchProcess(spec);
        children.push(child);
        await child.ready(options.startTimeoutMs);
      }
    } else {
      for (const spec of specs) children.push(new BenchProcess(spec));
      await allOrFirstError(children.map((c) => c.ready(options.startTimeoutMs)));
    }
    for (const child of children) child.go();
    const pids = children.flatMap((c) => [c.pid!, ...c.descendants]);
    const window = options.window;
    let first: Array<SchedSample | undefined> = [];
    let contention: CpuContention | undefined;
    if (window === 'run') {
      first = sampleAll(pids);
      // Keep each process's latest readable sample: a child that has exited can no longer be read.
      const latest = [...first];
      timers.push(
        setInterval(() => {
          sampleAll(pids).forEach((sample, i) => {
            if (sample !== undefined) latest[i] = sample;
          });
          contention = contentionBetween(first, latest);
        }, RUN_SAMPLE_INTERVAL_MS),
      );
    } else if (window !== undefined) {
      timers.push(setTimeout(() => (first = sampleAll(pids)), window.fromMs));
      timers.push(setTimeout(() => (contention = contentionBetween(first, sampleAll(pids))), window.toMs));
    }
    const results = await allOrFirstError(children.map((c) => c.results(options.runTimeoutMs)));
    await allOrFirstError(children.map((c) => c.exited(options.startTimeoutMs)));
    return { results, contention };
  } finally {
    for (const timer of timers) clearTimeout(timer);
    for (const child of children) child.killGroup();
  }
}
