// Starts the whole IMS system as production does (`ims start`: every process pinned by the
// supervisor) over a data directory the benchmark has already provisioned, with the open-files
// limit raised through prlimit (inherited by the supervisor and every process it starts), waits
// until it trades, and always stops it.
//
// The gateway runs with its production limits: every IMS_GATEWAY_* variable is removed from the
// environment, so neither the caller's shell nor this benchmark loosens a limit by accident. The
// accounts store is the SQLite file in the data directory (IMS_DATABASE_URL is removed too), the
// one the provisioning wrote.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { withOpenFilesLimit } from './proc-stats';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..'); // dist/scripts/bench/connections -> package root
const IMS = path.join(ROOT, 'dist', 'scripts', 'ims.js');
/** Lines of the system's output kept for an error message. */
const LOG_LINES_KEPT = 200;

export interface RunningSystem {
  readonly instance: string;
  readonly tradingPort: number;
  readonly gatewayPid: number;
  stop(): Promise<void>;
}

/** `logFile`: every line of the system's output is appended there (to see failovers and stalls). */
export async function startSystem(o: { instance: string; dataDir: string; nofile: number; timeoutMs?: number; logFile?: string }): Promise<RunningSystem> {
  // Generous: on a shared, loaded machine the start (and the demo accounts' OWASP-cost hashes) can take a minute.
  const timeoutMs = o.timeoutMs ?? 180_000;
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('IMS_GATEWAY_') && k !== 'IMS_DATABASE_URL') env[k] = v;
  const cmd = withOpenFilesLimit(o.nofile, o.nofile, process.execPath, [IMS, 'start', '--instance', o.instance, '--data-dir', o.dataDir, '--trading-port', '0', '--public-port', '0']);
  const child: ChildProcess = spawn(cmd.command, cmd.args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stopped = false;
  const log: string[] = [];
  const logFd = o.logFile === undefined ? undefined : fs.openSync(o.logFile, 'a');
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    spawnSync(process.execPath, [IMS, 'stop', '--instance', o.instance], { cwd: ROOT, stdio: 'ignore', timeout: 20_000 });
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      const t = setTimeout(() => {
        if (child.pid !== undefined) try { process.kill(child.pid, 'SIGKILL'); } catch { /* gone */ }
      }, 10_000);
      await exited;
      clearTimeout(t);
    }
    fs.rmSync(`/dev/shm/ims-${o.instance}`, { recursive: true, force: true });
    if (logFd !== undefined) fs.closeSync(logFd);
  };
  try {
    const ready = await new Promise<{ port: number; pid: number }>((resolve, reject) => {
      let port = 0;
      let pid = 0;
      let open = false;
      const timer = setTimeout(() => reject(new Error(`system not ready in ${timeoutMs} ms; last output:\n${log.slice(-20).join('\n')}`)), timeoutMs);
      const onLine = (line: string): void => {
        if (logFd !== undefined) fs.writeSync(logFd, line + '\n');
        log.push(line);
        if (log.length > LOG_LINES_KEPT) log.shift();
        if (line.includes('"event":"gateway-ready"')) {
          const m = /"tradingPort":(\d+)/.exec(line);
          const p = /"pid":(\d+)/.exec(line);
          if (m && p) { port = Number(m[1]); pid = Number(p[1]); }
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
      // keep draining output for the whole run so the supervisor never blocks on a full pipe
      child.stdout!.on('data', feed);
      child.stderr!.on('data', feed);
      child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`ims start exited ${code}; last output:\n${log.slice(-20).join('\n')}`)); });
    });
    return { instance: o.instance, tradingPort: ready.port, gatewayPid: ready.pid, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
