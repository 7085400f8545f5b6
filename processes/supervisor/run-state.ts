// The supervisor's record of what it runs, kept beside the rings so `ims status` and `ims stop`
// can find the processes without talking to the supervisor. Written atomically (temp + rename),
// so a reader never sees half a file.

import * as fs from 'node:fs';
import * as path from 'node:path';

export const RUN_STATE_FILE = 'supervisor.json';
export const RUN_STATE_VERSION = 1;

export interface ProcessState {
  name: string;
  pid: number;
  cpus: number[];
  restarts: number;
  startedAtMs: number;
  status: 'starting' | 'running' | 'backoff' | 'failed' | 'stopped';
  lastExit: string | null;
}

export interface RunState {
  version: number;
  instance: string;
  supervisorPid: number;
  startedAtMs: number;
  runDir: string;
  dataDir: string;
  rings: Array<{ name: string; path: string }>;
  processes: ProcessState[];
}

export function writeRunState(runDir: string, state: RunState): void {
  const file = path.join(runDir, RUN_STATE_FILE);
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(state, null, 2));
  fs.renameSync(tmp, file);
}

/** Reads the run state, or null when no supervisor has run in this directory. */
export function readRunState(runDir: string): RunState | null {
  const file = path.join(runDir, RUN_STATE_FILE);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  const state = JSON.parse(text) as RunState;
  if (state.version !== RUN_STATE_VERSION) {
    throw new Error(`${file} has version ${state.version}, this build reads ${RUN_STATE_VERSION}; stop the old system with the build that started it`);
  }
  return state;
}

export function pidAlive(pid: number): boolean {
  if (!(pid > 0)) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The CPUs a live process may run on, read from /proc (what taskset set), or [] if gone. */
export function cpusOf(pid: number): number[] {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /^Cpus_allowed_list:\s*(.+)$/m.exec(status);
    if (m === null) return [];
    const out: number[] = [];
    for (const part of m[1]!.trim().split(',')) {
      const [a, b] = part.split('-').map(Number);
      for (let c = a!; c <= (b ?? a!); c++) out.push(c);
    }
    return out;
  } catch {
    return [];
  }
}
