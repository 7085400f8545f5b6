// What the benchmark reads about a process from /proc: resident memory (VmRSS, VmHWM), CPU time
// (utime + stime), and the open-files limit it really runs with.
import * as fs from 'node:fs';

const CLOCK_TICKS_PER_S = 100; // USER_HZ on Linux

/** VmRSS and VmHWM in KiB; undefined when the process is gone. */
export function memoryKiB(pid: number): { rssKiB: number; hwmKiB: number } | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const rss = /^VmRSS:\s+(\d+) kB/m.exec(text);
  const hwm = /^VmHWM:\s+(\d+) kB/m.exec(text);
  if (rss === null || hwm === null) return undefined;
  return { rssKiB: Number(rss[1]), hwmKiB: Number(hwm[1]) };
}

/** User + system CPU seconds the process has used; undefined when it is gone. */
export function cpuSeconds(pid: number): number | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // Fields after the command name (which may hold spaces) start after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_S; // utime, stime (fields 14, 15)
}

/** The soft and hard "Max open files" of a process ('self' for this one). */
export function openFilesLimit(pid: number | 'self'): { soft: number; hard: number } {
  const text = fs.readFileSync(`/proc/${pid}/limits`, 'utf8');
  const m = /^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/m.exec(text);
  if (m === null) throw new Error(`no "Max open files" line in /proc/${pid}/limits`);
  const n = (s: string): number => (s === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(s));
  return { soft: n(m[1]!), hard: n(m[2]!) };
}

/**
 * The command prefix that runs a program with its soft open-files limit raised to `soft` (node
 * cannot call setrlimit on itself): util-linux prlimit, which then execs the program.
 */
export function withOpenFilesLimit(soft: number, hard: number, command: string, args: readonly string[]): { command: string; args: string[] } {
  return { command: 'prlimit', args: [`--nofile=${soft}:${hard}`, '--', command, ...args] };
}
