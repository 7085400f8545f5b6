// Starts the whole IMS system as production does (`ims start`: every process pinned by the
// supervisor) over a data directory the benchmark has already provisioned, with the open-files
// limit raised through prlimit (inherited by the supervisor and every process it starts), waits
// until it trades, and always stops it (../ims-system.ts).
//
// The gateway runs with its production limits: every IMS_GATEWAY_* variable is removed from the
// environment, so neither the caller's shell nor this benchmark loosens a limit by accident. The
// accounts store is the SQLite file in the data directory (IMS_DATABASE_URL is removed too), the
// one the provisioning wrote.
import { startImsSystem, type ImsSystem } from '../ims-system';
import { withOpenFilesLimit } from './proc-stats';

export type RunningSystem = ImsSystem;

/** `logFile`: every line of the system's output is appended there (to see failovers and stalls). */
export async function startSystem(o: { instance: string; dataDir: string; nofile: number; timeoutMs?: number; logFile?: string }): Promise<RunningSystem> {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('IMS_GATEWAY_') && k !== 'IMS_DATABASE_URL') env[k] = v;
  return startImsSystem({
    instance: o.instance,
    dataDir: o.dataDir,
    env,
    // Generous: on a shared, loaded machine the start (and the demo accounts' OWASP-cost hashes) can take a minute.
    timeoutMs: o.timeoutMs ?? 180_000,
    wrap: (command, args) => withOpenFilesLimit(o.nofile, o.nofile, command, args),
    ...(o.logFile !== undefined ? { logFile: o.logFile } : {}),
  });
}
