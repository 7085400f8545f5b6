// Starts the whole IMS system for a benchmark as production does (`ims start`: every process
// pinned by the supervisor), waits until it trades (a gateway is ready and the trading day is open)
// and gives the function that always stops it. What differs between benchmarks is passed in: the
// environment (limits loosened or enforced), a wrapper of the command (prlimit), where the output
// goes, and what to remove after the stop.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..', '..'); // dist/scripts/bench -> package root
const IMS = path.join(ROOT, 'dist', 'scripts', 'ims.js');
/** Lines of the system's output kept for an error message. */
const LOG_LINES_KEPT = 200;
/** Lines of that output an error message shows. */
const LOG_LINES_SHOWN = 20;
/** How long `ims stop` may take before the supervisor is killed. */
const STOP_TIMEOUT_MS = 20_000;
/** How long the supervisor is given to exit after `ims stop` before SIGKILL. */
const EXIT_GRACE_MS = 10_000;

export interface ImsSystemOptions {
  readonly instance: string;
  readonly dataDir: string;
  /** The environment of `ims start` (inherited by every process it starts). */
  readonly env: NodeJS.ProcessEnv;
  readonly timeoutMs: number;
  /** Wraps the `ims start` command (e.g. in prlimit); default: run it as is. */
  readonly wrap?: (command: string, args: string[]) => { command: string; args: string[] };
  /** Every line of the system's output is appended there (to see failovers and stalls). */
  readonly logFile?: string;
  /** Runs once the system has stopped (e.g. removes a temporary data directory). */
  readonly afterStop?: () => void;
}

export interface ImsSystem {
  readonly instance: string;
  readonly tradingPort: number;
  /** The pid of the gateway whose ready line gave the port. */
  readonly gatewayPid: number;
  stop(): Promise<void>;
}

export async function startImsSystem(o: ImsSystemOptions): Promise<ImsSystem> {
  const args = [IMS, 'start', '--instance', o.instance, '--data-dir', o.dataDir, '--trading-port', '0', '--public-port', '0'];
  const cmd = o.wrap === undefined ? { command: process.execPath, args } : o.wrap(process.execPath, args);
  const child: ChildProcess = spawn(cmd.command, cmd.args, { cwd: ROOT, env: o.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stopped = false;
  const log: string[] = [];
  const logFd = o.logFile === undefined ? undefined : fs.openSync(o.logFile, 'a');
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    spawnSync(process.execPath, [IMS, 'stop', '--instance', o.instance], { cwd: ROOT, stdio: 'ignore', timeout: STOP_TIMEOUT_MS });
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      const t = setTimeout(() => {
        if (child.pid !== undefined) try { process.kill(child.pid, 'SIGKILL'); } catch { /* gone */ }
      }, EXIT_GRACE_MS);
      await exited;
      clearTimeout(t);
    }
    fs.rmSync(`/dev/shm/ims-${o.instance}`, { recursive: true, force: true });
    if (logFd !== undefined) fs.closeSync(logFd);
    o.afterStop?.();
  };
  try {
    const ready = await new Promise<{ port: number; pid: number }>((resolve, reject) => {
      let port = 0;
      let pid = 0;
      let open = false;
      const lastOutput = (): string => log.slice(-LOG_LINES_SHOWN).join('\n');
      const timer = setTimeout(() => reject(new Error(`system not ready in ${o.timeoutMs} ms; last output:\n${lastOutput()}`)), o.timeoutMs);
      const onLine = (line: string): void => {
        if (logFd !== undefined) fs.writeSync(logFd, line + '\n');
        log.push(line);
        if (log.length > LOG_LINES_KEPT) log.shift();
        if (line.includes('"event":"gateway-ready"')) {
          const m = /"tradingPort":(\d+)/.exec(line);
          const p = /"pid":(\d+)/.exec(line);
          if (m) { port = Number(m[1]); pid = p ? Number(p[1]) : 0; }
        }
        if (line.includes('"event":"trading-day-open"')) open = true;
        if (port > 0 && open) { clearTimeout(timer); resolve({ port, pid }); }
      };
      let buf = '';
      const feed = (d: Buffer): void => {
        buf += d.toString();
        let i;
        while ((i = buf.indexOf('\n')) >= 0) { onLine(buf.slice(0, i)); buf = buf.slice(i + 1); }
      };
      // Keep draining output for the whole run so the supervisor never blocks on a full pipe.
      child.stdout!.on('data', feed);
      child.stderr!.on('data', feed);
      child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`ims start exited ${code}; last output:\n${lastOutput()}`)); });
    });
    return { instance: o.instance, tradingPort: ready.port, gatewayPid: ready.pid, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
