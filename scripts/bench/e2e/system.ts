// Starts the whole IMS system as production does (`ims start`, every process pinned by the
// supervisor) in a temporary data directory, waits until it trades, and always stops it.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..'); // dist/scripts/bench/e2e -> package root
const IMS = path.join(ROOT, 'dist', 'scripts', 'ims.js');

export interface RunningSystem {
  readonly instance: string;
  readonly tradingPort: number;
  readonly dataDir: string;
  stop(): Promise<void>;
}

export async function startSystem(timeoutMs = 30_000): Promise<RunningSystem> {
  const instance = `bench-e2e-${process.pid}-${Date.now().toString(36)}`;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ims-bench-e2e-'));
  // One host drives tens of thousands of orders/s from 5 demo accounts and one IP: the gateway's
  // production rate limits (200 orders/s per account, 2,000 requests/s per IP) would measure 429s.
  const env = {
    ...process.env,
    IMS_GATEWAY_ORDERS_PER_SECOND: '1000000',
    IMS_GATEWAY_IP_REQUESTS_PER_SECOND: '10000000',
    IMS_GATEWAY_IP_WS_CONNECTIONS: '10000',
    IMS_GATEWAY_CREDENTIAL_CALLS_PER_MINUTE: '100000',
    IMS_GATEWAY_MAX_IN_FLIGHT: '65536',
  };
  const child: ChildProcess = spawn(process.execPath, [IMS, 'start', '--instance', instance, '--data-dir', dataDir, '--trading-port', '0', '--public-port', '0'], {
    cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stopped = false;
  const log: string[] = [];
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    spawnSync(process.execPath, [IMS, 'stop', '--instance', instance], { cwd: ROOT, stdio: 'ignore', timeout: 20_000 });
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      const t = setTimeout(() => { if (child.pid !== undefined) try { process.kill(child.pid, 'SIGKILL'); } catch { /* gone */ } }, 10_000);
      await exited;
      clearTimeout(t);
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
    fs.rmSync(`/dev/shm/ims-${instance}`, { recursive: true, force: true });
  };
  try {
    const tradingPort = await new Promise<number>((resolve, reject) => {
      let port = 0;
      let open = false;
      const timer = setTimeout(() => reject(new Error(`system not ready in ${timeoutMs} ms; last output:\n${log.slice(-20).join('\n')}`)), timeoutMs);
      const onLine = (line: string): void => {
        log.push(line);
        if (log.length > 200) log.shift();
        if (line.includes('"event":"gateway-ready"')) {
          const m = /"tradingPort":(\d+)/.exec(line);
          if (m) port = Number(m[1]);
        }
        if (line.includes('"event":"trading-day-open"')) open = true;
        if (port > 0 && open) { clearTimeout(timer); resolve(port); }
      };
      let buf = '';
      const feed = (d: Buffer): void => {
        buf += d.toString();
        let i;
        while ((i = buf.indexOf('\n')) >= 0) { onLine(buf.slice(0, i)); buf = buf.slice(i + 1); }
      };
      child.stdout!.on('data', feed);
      child.stderr!.on('data', feed);
      child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`ims start exited ${code}; last output:\n${log.slice(-20).join('\n')}`)); });
    });
    // keep draining output so the supervisor never blocks on a full pipe
    return { instance, tradingPort, dataDir, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
