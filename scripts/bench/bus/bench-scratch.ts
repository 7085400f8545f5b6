// Everything a bus benchmark run leaves on disk: ring files on /dev/shm and a temp dir (the C
// binary, sockets, latency samples), all named ims-bench-bus-<pid>-... . cleanup() is synchronous,
// so the orchestrator can call it from an 'exit' or signal handler, and it is safe to call twice.
// A run killed with -9 cannot clean up; the next run removes what such a run left (sweepStale).

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RingFile } from '../../../bus/ring';

const PREFIX = 'ims-bench-bus-';
const OWNER_PID = /^ims-bench-bus-(\d+)-/;

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class Scratch {
  readonly tmpDir: string;
  private readonly shmFiles = new Set<string>();
  private next = 0;

  constructor(private readonly shmDir: string) {
    this.tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), `${PREFIX}${process.pid}-`));
  }

  /** Removes the ring files and temp dirs of bench runs whose process is gone; returns their names. */
  static sweepStale(shmDir: string): string[] {
    const removed: string[] = [];
    for (const dir of [shmDir, os.tmpdir()]) {
      for (const name of fs.readdirSync(dir)) {
        const owner = OWNER_PID.exec(name);
        if (owner === null || Number(owner[1]) === process.pid || pidAlive(Number(owner[1]))) continue;
        fs.rmSync(path.join(dir, name), { recursive: true, force: true });
        removed.push(path.join(dir, name));
      }
    }
    return removed;
  }

  shmPath(what: string): string {
    const p = path.join(this.shmDir, `${PREFIX}${process.pid}-${this.next++}-${what}.ring`);
    this.shmFiles.add(p);
    return p;
  }

  tmpPath(name: string): string {
    return path.join(this.tmpDir, `${this.next++}-${name}`);
  }

  removeShm(p: string): void {
    RingFile.unlink(p);
    this.shmFiles.delete(p);
  }

  cleanup(): void {
    for (const p of this.shmFiles) {
      try {
        RingFile.unlink(p);
      } catch {
        // Keep removing the others; a file we cannot remove is reported by the leftover check.
      }
    }
    this.shmFiles.clear();
    fs.rmSync(this.tmpDir, { recursive: true, force: true });
  }

  /** Files of this run still on /dev/shm (none after cleanup()). */
  leftovers(): string[] {
    return fs.readdirSync(this.shmDir).filter((f) => f.startsWith(`${PREFIX}${process.pid}-`));
  }
}
