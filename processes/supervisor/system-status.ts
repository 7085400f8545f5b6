// What a running instance looks like, read from its run directory only: the supervisor's run state
// (processes, pids, cores, restarts), every ring's header and consumer slots (positions, lags),
// the journal status file (head, durable and visible seq), the engine and product-manager status
// files and leases (hot/warm role, epoch). No process is contacted, so a stuck process cannot
// stall a reader. `ims status` prints it; the gateway's GET /v1/admin/system-status serves it to
// the dashboard (processes/gateway/system-status-routes.ts).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { RingFile } from '../../bus/ring';
import { readEngineStatus, type EngineStatusReport } from '../matching-engine/engine-status';
import { readPmStatus } from '../product-manager/pm-status';
import { journalStatus } from '../sequencer/journal-tools';
import { cpusOf, pidAlive, type RunState } from './run-state';

export interface StatusReport {
  instance: string;
  running: boolean;
  supervisorPid: number;
  uptimeMs: number;
  processes: Array<{ name: string; pid: number; alive: boolean; cpus: number[]; status: string; restarts: number; lastExit: string | null }>;
  rings: Array<{ name: string; tail: number; records: number; producerPid: number; consumers: Array<{ name: string; position: number; lag: number; gating: boolean; alive: boolean; lapped: number }> }>;
  journal: ReturnType<typeof journalStatus>;
  engines: EngineStatusReport | null;
  productManagers: ReturnType<typeof readPmStatus> | null;
}

/**
 * Opens a ring file for reading its header. The CLI opens each ring once and exits; a long-lived
 * reader (the gateway, polled every second) passes a caching opener so it maps each file once.
 */
export type RingOpener = (file: string) => RingFile;

export function collectStatus(state: RunState, openRing: RingOpener = RingFile.open): StatusReport {
  const running = pidAlive(state.supervisorPid);
  const rings: StatusReport['rings'] = [];
  for (const r of state.rings) {
    if (!fs.existsSync(r.path)) continue;
    const ring = openRing(r.path);
    rings.push({
      name: r.name,
      tail: ring.tail(),
      records: ring.publishedRecords(),
      producerPid: ring.producerPid(),
      consumers: ring.consumers().map((c) => ({ name: c.name, position: c.position, lag: c.lag, gating: c.state === 1, alive: c.alive, lapped: c.lapped })),
    });
  }
  return {
    instance: state.instance,
    running,
    supervisorPid: state.supervisorPid,
    uptimeMs: running ? Date.now() - state.startedAtMs : 0,
    processes: state.processes.map((p) => {
      const alive = running && pidAlive(p.pid);
      return { name: p.name, pid: p.pid, alive, cpus: alive ? cpusOf(p.pid) : p.cpus, status: alive ? p.status : p.status === 'running' ? 'dead' : p.status, restarts: p.restarts, lastExit: p.lastExit };
    }),
    rings,
    journal: fs.existsSync(path.join(state.runDir, 'journal.status')) ? journalStatus(path.join(state.runDir, 'journal.status')) : null,
    engines: fs.existsSync(path.join(state.runDir, 'engine.lease')) ? readEngineStatus(state.runDir) : null,
    productManagers: fs.existsSync(path.join(state.runDir, 'pm.lease')) ? readPmStatus(state.runDir) : null,
  };
}
