// Starts the whole IMS system as production does (`ims start`, every process pinned by the
// supervisor) in a temporary data directory, waits until it trades, and always stops it
// (../ims-system.ts), removing the data directory.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startImsSystem, type ImsSystem } from '../ims-system';

export interface RunningSystem extends ImsSystem {
  readonly dataDir: string;
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
  const sys = await startImsSystem({ instance, dataDir, env, timeoutMs, afterStop: () => fs.rmSync(dataDir, { recursive: true, force: true }) });
  return { ...sys, dataDir };
}
