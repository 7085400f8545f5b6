// The orchestrator's side of the client workers (client-worker.ts): spawns them through prlimit
// (each with the open-files limit its share of streams needs), splits the colleagues between
// them, sends the same command to all, and merges what they report.
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import * as hdr from 'hdr-histogram-js';
import type { ConnectCommand, ConnectReport, RunCommand, RunReport } from './client-worker';
import { withOpenFilesLimit } from './proc-stats';

const WORKER = path.join(__dirname, 'client-worker.js');
/** Handshakes in flight at once per worker. */
const CONNECT_CONCURRENCY = 128;
const HANDSHAKE_TIMEOUT_MS = 30_000;
/** Bound on waiting for a worker's answer to one command. */
const COMMAND_TIMEOUT_MS = 600_000;

export interface MergedConnect { opened: number; failed: number; failures: Record<string, number>; ms: number }
export interface MergedRun {
  sent: number; ok: number; errors: Record<string, number>; unanswered: number; lastAnswerMs: number;
  latency: hdr.Histogram; okLatency: hdr.Histogram; sendLag: hdr.Histogram;
  executions: number; executionsPerStreamMin: number; executionsPerStreamMax: number;
  foreign: number; unattributed: number; unattributedSamples: string[]; closedDuringRun: number; openAtEnd: number;
}

export class ClientPool {
  private constructor(private readonly workers: ChildProcess[]) {}

  get pids(): number[] {
    return this.workers.map((w) => w.pid!);
  }

  static start(count: number, nofile: number): ClientPool {
    const workers: ChildProcess[] = [];
    for (let i = 0; i < count; i++) {
      const cmd = withOpenFilesLimit(nofile, nofile, process.execPath, [WORKER]);
      // The IPC channel (fd and NODE_CHANNEL_FD) passes through prlimit's exec to node.
      const w = spawn(cmd.command, cmd.args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      workers.push(w);
    }
    return new ClientPool(workers);
  }

  private ask<T>(w: ChildProcess, command: object, answer: string): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { cleanup(); reject(new Error(`client worker ${w.pid} did not answer '${answer}' in ${COMMAND_TIMEOUT_MS} ms`)); }, COMMAND_TIMEOUT_MS);
      const onMessage = (m: { op: string }): void => { if (m.op === answer) { cleanup(); resolve(m as T); } };
      const onExit = (code: number | null): void => { cleanup(); reject(new Error(`client worker ${w.pid} exited (${code}) before answering '${answer}'`)); };
      const cleanup = (): void => { clearTimeout(timer); w.off('message', onMessage); w.off('exit', onExit); };
      w.on('message', onMessage);
      w.once('exit', onExit);
      w.send(command);
    });
  }

  /** Colleague i goes to worker i * workers / tokens (contiguous shares, so addresses are shared by few workers). */
  async connect(url: string, tokens: readonly string[], perAddress: number): Promise<MergedConnect> {
    const t0 = performance.now();
    const n = this.workers.length;
    const reports = await Promise.all(this.workers.map((w, i) => {
      const from = Math.floor((i * tokens.length) / n);
      const to = Math.floor(((i + 1) * tokens.length) / n);
      const c: ConnectCommand = { op: 'connect', url, tokens: tokens.slice(from, to), firstIndex: from, perAddress, concurrency: CONNECT_CONCURRENCY, handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS };
      return this.ask<ConnectReport>(w, c, 'connected');
    }));
    const failures: Record<string, number> = {};
    for (const r of reports) for (const [k, v] of Object.entries(r.failures)) failures[k] = (failures[k] ?? 0) + v;
    return { opened: sum(reports.map((r) => r.opened)), failed: sum(reports.map((r) => r.failed)), failures, ms: Math.round(performance.now() - t0) };
  }

  async run(command: Omit<RunCommand, 'op'>): Promise<MergedRun> {
    const reports = await Promise.all(this.workers.map((w) => this.ask<RunReport>(w, { op: 'run', ...command }, 'result')));
    const build = (): hdr.Histogram => hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: 3 });
    const latency = build();
    const okLatency = build();
    const sendLag = build();
    const errors: Record<string, number> = {};
    for (const r of reports) {
      latency.add(hdr.decodeFromCompressedBase64(r.latency));
      okLatency.add(hdr.decodeFromCompressedBase64(r.okLatency));
      sendLag.add(hdr.decodeFromCompressedBase64(r.sendLag));
      for (const [k, v] of Object.entries(r.errors)) errors[k] = (errors[k] ?? 0) + v;
    }
    return {
      sent: sum(reports.map((r) => r.sent)), ok: sum(reports.map((r) => r.ok)), errors, unanswered: sum(reports.map((r) => r.unanswered)),
      lastAnswerMs: Math.max(...reports.map((r) => r.lastAnswerMs)),
      latency, okLatency, sendLag,
      executions: sum(reports.map((r) => r.executions)),
      executionsPerStreamMin: Math.min(...reports.map((r) => r.executionsPerStreamMin)),
      executionsPerStreamMax: Math.max(...reports.map((r) => r.executionsPerStreamMax)),
      foreign: sum(reports.map((r) => r.foreign)), unattributed: sum(reports.map((r) => r.unattributed)), unattributedSamples: reports.flatMap((r) => r.unattributedSamples),
      closedDuringRun: sum(reports.map((r) => r.closedDuringRun)), openAtEnd: sum(reports.map((r) => r.openAtEnd)),
    };
  }

  /** Closes every stream and waits for the workers to exit. */
  async close(): Promise<void> {
    await Promise.all(this.workers.map(async (w) => {
      if (w.exitCode !== null || w.signalCode !== null) return;
      const exited = new Promise<void>((r) => w.once('exit', () => r()));
      try { w.send({ op: 'close' }); } catch { /* channel already closed */ }
      const t = setTimeout(() => { try { w.kill('SIGKILL'); } catch { /* gone */ } }, 5_000);
      await exited;
      clearTimeout(t);
    }));
  }

  /** Immediate stop (error paths). */
  kill(): void {
    for (const w of this.workers) if (w.exitCode === null && w.signalCode === null) try { w.kill('SIGKILL'); } catch { /* gone */ }
  }
}

function sum(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}
