// Runs a compiled script from dist/ as a real child process, collects the JSON lines it prints on
// stdout, and makes sure it is dead when the test ends. Children run plain `node dist/...js`
// (optionally under `taskset -c`) with tap's loaders stripped from the environment: what is
// tested is the code that ships, never a TypeScript loader.

import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as readline from 'node:readline';
import type { Teardowns } from './shm';

export const PACKAGE_ROOT = path.resolve(__dirname, '..', '..');

/** A parsed stdout line; lines that are not JSON objects arrive as { event: 'raw', text }. */
export interface JsonLine {
  event?: string;
  [key: string]: unknown;
}

/** Bounds on what a child may print, so a runaway child cannot exhaust the test's memory. */
const MAX_LINES_KEPT = 100_000;
const MAX_STDERR_BYTES = 64 * 1024;
/** How long a killed child may take to be reaped before the teardown gives up on it. */
const KILL_WAIT_MS = 5_000;

/** The TypeScript sources every bus process is compiled from (checked for a stale dist/). */
const BUS_SOURCES = ['bus/ring.ts', 'bus/ring-layout.ts', 'bus/idle-strategy.ts', 'native/addon.ts'];

const live = new Set<DistProcess>();

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class DistProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly lines: JsonLine[] = [];
  readonly exited: Promise<ExitStatus>;
  private stderrText = '';
  private exitStatus: ExitStatus | null = null;
  private waiters: Array<() => void> = [];

  constructor(readonly label: string, child: ChildProcess) {
    this.child = child;
    if (child.pid === undefined) throw new Error(`${label}: spawn failed (no pid)`);
    this.pid = child.pid;
    live.add(this);
    readline.createInterface({ input: child.stdout! }).on('line', (text) => {
      if (this.lines.length >= MAX_LINES_KEPT) return;
      let line: JsonLine;
      try {
        const parsed: unknown = JSON.parse(text);
        line = typeof parsed === 'object' && parsed !== null ? (parsed as JsonLine) : { event: 'raw', text };
      } catch {
        line = { event: 'raw', text };
      }
      this.lines.push(line);
      this.notify();
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      if (this.stderrText.length < MAX_STDERR_BYTES) this.stderrText += chunk.toString('utf8');
    });
    this.exited = new Promise((resolve) => {
      // 'exit' fires after the child was reaped, so its pid no longer names a live process (or a
      // zombie): a successor can take over the ring without being refused.
      child.on('exit', (code, signal) => {
        this.exitStatus = { code, signal };
        live.delete(this);
        this.notify();
        resolve(this.exitStatus);
      });
    });
  }

  get alive(): boolean {
    return this.exitStatus === null;
  }

  get stderr(): string {
    return this.stderrText;
  }

  /**
   * The first line at index >= `from` that satisfies `match`. Rejects (with the child's recent
   * output) when the child exits first or `timeoutMs` passes.
   */
  async waitFor(match: (line: JsonLine) => boolean, timeoutMs: number, from = 0): Promise<JsonLine> {
    const deadline = Date.now() + timeoutMs;
    let scanned = from;
    for (;;) {
      for (; scanned < this.lines.length; scanned++) {
        if (match(this.lines[scanned]!)) return this.lines[scanned]!;
      }
      if (!this.alive) throw new Error(`${this.label} (pid ${this.pid}) exited ${JSON.stringify(this.exitStatus)} before the awaited line\n${this.describe()}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.label} (pid ${this.pid}): awaited line not seen within ${timeoutMs} ms\n${this.describe()}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, left);
        function done(): void {
          clearTimeout(timer);
          resolve();
        }
        this.waiters.push(done);
      });
    }
  }

  /** The first line with `event === name` (at index >= from). */
  waitForEvent(name: string, timeoutMs: number, from = 0): Promise<JsonLine> {
    return this.waitFor((line) => line.event === name, timeoutMs, from);
  }

  /** Sends `signal` (SIGKILL by default) and resolves once the child is reaped. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<ExitStatus> {
    if (this.alive) this.child.kill(signal);
    return this.exited;
  }

  describe(): string {
    const tail = this.lines.slice(-5).map((l) => JSON.stringify(l)).join('\n');
    return `last stdout lines:\n${tail}\nstderr:\n${this.stderrText.slice(-2000)}`;
  }

  private notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}

export interface SpawnOptions {
  /** Runs the child under `taskset -c <cpus>` (e.g. '0' or '1'). */
  cpus?: string;
}

/**
 * Starts `node dist/<script>.js args...` (script given as its TypeScript path, e.g.
 * 'processes/exerciser/main.ts') and registers a teardown on `t` that kills it.
 */
export function spawnDist(t: Teardowns, script: string, args: readonly string[], options: SpawnOptions = {}): DistProcess {
  assertDistFresh([script, ...BUS_SOURCES]);
  const js = distPathOf(script);
  const command = options.cpus === undefined ? process.execPath : 'taskset';
  const argv = options.cpus === undefined ? [js, ...args] : ['-c', options.cpus, process.execPath, js, ...args];
  const child = spawn(command, argv, { cwd: PACKAGE_ROOT, env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  const proc = new DistProcess(`${path.basename(path.dirname(script))} ${args[0] ?? ''}`.trim(), child);
  t.teardown(async () => {
    if (!proc.alive) return;
    proc.child.kill('SIGKILL');
    await Promise.race([proc.exited, new Promise((resolve) => setTimeout(resolve, KILL_WAIT_MS))]);
  });
  return proc;
}

/** Children spawned by this test process that have not exited yet. */
export function liveChildren(): DistProcess[] {
  return [...live];
}

export function distPathOf(script: string): string {
  if (!script.endsWith('.ts')) throw new TypeError(`give the TypeScript source path, got '${script}'`);
  return path.join(PACKAGE_ROOT, 'dist', script.replace(/\.ts$/, '.js'));
}

/** Fails with the fix when dist/ is missing or older than a source a child would run. */
export function assertDistFresh(sources: readonly string[]): void {
  for (const source of sources) {
    const ts = path.join(PACKAGE_ROOT, source);
    const js = distPathOf(source);
    const jsStat = fs.statSync(js, { throwIfNoEntry: false });
    if (jsStat === undefined) throw new Error(`${js} is missing; compile first with 'npx tsc -p .'`);
    if (jsStat.mtimeMs < fs.statSync(ts).mtimeMs) {
      throw new Error(`${js} is older than ${source}; children run compiled code, so compile first with 'npx tsc -p .'`);
    }
  }
}

/** The parent's environment without tap's loaders and hooks (NODE_OPTIONS --import ...). */
function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key === 'NODE_OPTIONS' || key.startsWith('TAP') || key.startsWith('_TAPJS') || key.startsWith('TS_NODE')) continue;
    // Placement is the test's business (taskset): an inherited pin request would override it.
    if (key === 'IMS_PIN_CPUS') continue;
    env[key] = value;
  }
  return env;
}

// Last line of defence: if the test process exits while children still run (a thrown teardown, a
// bail-out), kill them synchronously so nothing is left burning a core.
process.on('exit', () => {
  for (const proc of live) proc.child.kill('SIGKILL');
});
