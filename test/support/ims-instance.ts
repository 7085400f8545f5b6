// Starts a whole IMS instance through the `ims` CLI, as an operator would, with a unique instance
// name, run directory and data directory; stops it and removes everything in teardown.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..');
export const IMS = path.join(ROOT, 'dist', 'scripts', 'ims.js');

export interface ImsInstance {
  readonly instance: string;
  readonly runDir: string;
  readonly dataDir: string;
  /** Everything the supervisor printed so far (its own lines and its children's). */
  log(): string;
  ims(...args: string[]): { code: number | null; out: string; err: string };
  status(): any;
  /** Starts the supervisor (again, after stop(): same data directory). */
  start(extraArgs?: string[]): void;
  stop(): Promise<void>;
  /** Kills everything and removes the run and data directories. */
  destroy(): Promise<void>;
}

export async function until<T>(what: string, fn: () => T | undefined | false | null, timeoutMs = 30_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function createImsInstance(prefix: string, startArgs: string[] = []): ImsInstance {
  const instance = `test-${prefix}-${process.pid}-${Math.floor(Math.random() * 1e6)}`;
  const runDir = `/dev/shm/ims-${instance}`;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `ims-${prefix}-`));
  let supervisor: ChildProcess | null = null;
  let text = '';
  const seenPids = new Set<number>();
  const ims = (...args: string[]): { code: number | null; out: string; err: string } => {
    const r = spawnSync(process.execPath, [IMS, ...args, '--instance', instance, '--data-dir', dataDir], { encoding: 'utf8', timeout: 60_000 });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };
  const self: ImsInstance = {
    instance,
    runDir,
    dataDir,
    log: () => text,
    ims,
    status() {
      const r = ims('status', '--json');
      const s = JSON.parse(r.out);
      for (const p of s.processes ?? []) if (p.pid > 0) seenPids.add(p.pid);
      return s;
    },
    start(extraArgs: string[] = []) {
      const proc = spawn(process.execPath, [IMS, 'start', '--instance', instance, '--data-dir', dataDir, ...startArgs, ...extraArgs], { stdio: ['ignore', 'pipe', 'pipe'] });
      supervisor = proc;
      proc.stdout!.on('data', (d) => (text += d));
      proc.stderr!.on('data', (d) => (text += d));
    },
    async stop() {
      const proc = supervisor;
      if (proc === null || proc.exitCode !== null) return;
      ims('stop');
      await until('the supervisor to exit', () => proc.exitCode !== null || proc.signalCode !== null, 30_000);
    },
    async destroy() {
      await self.stop().catch(() => undefined);
      if (supervisor?.pid && alive(supervisor.pid)) supervisor.kill('SIGKILL');
      for (const pid of seenPids) if (alive(pid)) process.kill(pid, 'SIGKILL');
      fs.rmSync(runDir, { recursive: true, force: true });
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return self;
}

/**
 * Runs an `ims` command of the instance without blocking this process (unlike inst.ims(), the
 * supervisor's output keeps draining while it runs); killed after `timeoutMs`.
 */
export function imsAsync(inst: ImsInstance, args: string[], timeoutMs: number): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [IMS, ...args, '--instance', inst.instance, '--data-dir', inst.dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}

export function supervisorAlive(inst: ImsInstance): boolean {
  return spawnSync(process.execPath, [IMS, 'status', '--instance', inst.instance, '--data-dir', inst.dataDir]).status === 0;
}
