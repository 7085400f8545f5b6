#!/usr/bin/env node
// `ims`: the operator's command line. start (the supervisor, in the foreground), status, stop.

import { Command, InvalidArgumentError, Option } from 'commander';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RingFile } from '../bus/ring';
import { Supervisor } from '../processes/supervisor/supervisor';
import { cpusOf, pidAlive, readRunState, type RunState } from '../processes/supervisor/run-state';
import { buildTopology } from '../processes/supervisor/topology';

const PACKAGE_ROOT = findPackageRoot(__dirname);

function findPackageRoot(start: string): string {
  let dir = start;
  for (let i = 0; i < 6; i++) {
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'native'))) return dir;
    dir = path.dirname(dir);
  }
  throw new Error(`ims: cannot find the package root above ${start}`);
}

interface InstanceOptions {
  instance: string;
  runDir?: string;
  dataDir?: string;
}

function instanceName(v: string): string {
  if (!/^[a-z0-9][a-z0-9_-]{0,47}$/.test(v)) throw new InvalidArgumentError(`instance names are 1-48 of a-z 0-9 _ - (got '${v}')`);
  return v;
}

function nonNegativeInt(v: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError(`expected a non-negative integer, got '${v}'`);
  return n;
}

function runDirOf(o: InstanceOptions): string {
  return o.runDir ?? process.env['IMS_RUN_DIR'] ?? `/dev/shm/ims-${o.instance}`;
}

function dataDirOf(o: InstanceOptions): string {
  return path.resolve(o.dataDir ?? process.env['IMS_DATA_DIR'] ?? path.join(PACKAGE_ROOT, 'data', o.instance));
}

function withInstance(cmd: Command): Command {
  return cmd
    .addOption(new Option('--instance <name>', 'which IMS instance').default(process.env['IMS_INSTANCE'] ?? 'main').argParser(instanceName))
    .option('--run-dir <dir>', 'directory of the ring files (default /dev/shm/ims-<instance>)')
    .option('--data-dir <dir>', 'directory of durable data (default ./data/<instance>)');
}

function formatAge(ms: number): string {
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)}m${Math.floor((ms % 60_000) / 1000)}s`;
  return `${Math.floor(ms / 3_600_000)}h${Math.floor((ms % 3_600_000) / 60_000)}m`;
}

interface StatusReport {
  instance: string;
  running: boolean;
  supervisorPid: number;
  uptimeMs: number;
  processes: Array<{ name: string; pid: number; alive: boolean; cpus: number[]; status: string; restarts: number; lastExit: string | null }>;
  rings: Array<{ name: string; tail: number; records: number; producerPid: number; consumers: Array<{ name: string; position: number; lag: number; gating: boolean; alive: boolean; lapped: number }> }>;
}

export function collectStatus(state: RunState): StatusReport {
  const running = pidAlive(state.supervisorPid);
  const rings: StatusReport['rings'] = [];
  for (const r of state.rings) {
    if (!fs.existsSync(r.path)) continue;
    const ring = RingFile.open(r.path);
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
  };
}

function printStatus(s: StatusReport): void {
  const out: string[] = [];
  out.push(`instance ${s.instance}: ${s.running ? `running, supervisor pid ${s.supervisorPid}, up ${formatAge(s.uptimeMs)}` : 'NOT running'}`);
  out.push('');
  out.push(`${'PROCESS'.padEnd(24)}${'PID'.padStart(8)}  ${'CORES'.padEnd(8)}${'STATUS'.padEnd(10)}${'RESTARTS'.padStart(8)}  LAST EXIT`);
  for (const p of s.processes) {
    out.push(`${p.name.padEnd(24)}${String(p.pid).padStart(8)}  ${p.cpus.join(',').padEnd(8)}${p.status.padEnd(10)}${String(p.restarts).padStart(8)}  ${p.lastExit ?? '-'}`);
  }
  for (const r of s.rings) {
    out.push('');
    out.push(`ring ${r.name}: tail ${r.tail}, ${r.records} records, producer pid ${r.producerPid || '-'}`);
    for (const c of r.consumers) {
      out.push(`  ${c.name.padEnd(22)} position ${String(c.position).padStart(12)}  lag ${String(c.lag).padStart(10)} B  ${c.gating ? 'gating' : 'non-gating'}${c.lapped ? `  lapped ${c.lapped}x` : ''}${c.alive ? '' : '  (detached)'}`);
    }
  }
  process.stdout.write(out.join('\n') + '\n');
}

async function stopInstance(o: InstanceOptions, timeoutMs: number): Promise<number> {
  const runDir = runDirOf(o);
  const state = readRunState(runDir);
  if (state === null) {
    process.stdout.write(`ims: instance '${o.instance}' is not running (no ${runDir}/supervisor.json)\n`);
    return 0;
  }
  if (pidAlive(state.supervisorPid)) {
    process.kill(state.supervisorPid, 'SIGTERM');
    const deadline = Date.now() + timeoutMs;
    while (pidAlive(state.supervisorPid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    if (pidAlive(state.supervisorPid)) {
      process.stderr.write(`ims: supervisor pid ${state.supervisorPid} did not stop within ${timeoutMs} ms; killing it and its processes\n`);
      process.kill(state.supervisorPid, 'SIGKILL');
    }
  }
  // Whatever the supervisor could not clean up (it was killed), we do: no process, no stale file.
  let killed = 0;
  for (const p of state.processes) {
    if (pidAlive(p.pid) && fs.existsSync(`/proc/${p.pid}/cmdline`) && fs.readFileSync(`/proc/${p.pid}/cmdline`, 'utf8').includes(PACKAGE_ROOT)) {
      process.kill(p.pid, 'SIGKILL');
      killed++;
    }
  }
  fs.rmSync(runDir, { recursive: true, force: true });
  process.stdout.write(`ims: instance '${o.instance}' stopped${killed ? ` (killed ${killed} orphaned processes)` : ''}\n`);
  return 0;
}

export function buildProgram(): Command {
  const program = new Command('ims').description('IMS inventory exchange: operate a running instance').showHelpAfterError();

  withInstance(program.command('start'))
    .description('create the bus and start every process, pinned, under a supervisor (foreground; Ctrl-C stops all)')
    .option('--exercise-rate <n>', 'records/s the bus exerciser publishes', nonNegativeInt, 1000)
    .option('--cores <n>', 'plan for this many cores (default: this machine)', nonNegativeInt)
    .action((o: InstanceOptions & { exerciseRate: number; cores?: number }) => {
      const runDir = runDirOf(o);
      const supervisor = new Supervisor({
        instance: o.instance,
        runDir,
        dataDir: dataDirOf(o),
        packageRoot: PACKAGE_ROOT,
        topology: buildTopology({ runDir, exerciseRate: o.exerciseRate }),
        ...(o.cores !== undefined ? { cores: o.cores } : {}),
        ...(process.env['IMS_CORES'] !== undefined ? { coreOverrides: process.env['IMS_CORES'] } : {}),
      });
      supervisor.handleSignals();
      try {
        supervisor.start();
      } catch (e) {
        process.stderr.write(`${(e as Error).message}\n`);
        void supervisor.stop('start failed').then(() => process.exit(1));
        return;
      }
      process.stdout.write(`ims: 'ims status --instance ${o.instance}' shows the processes; Ctrl-C or 'ims stop --instance ${o.instance}' stops them\n`);
    });

  withInstance(program.command('status'))
    .description('show each process (pid, cores, restarts) and each ring (positions, consumer lag)')
    .option('--json', 'print one JSON object')
    .option('--watch [ms]', 'refresh until interrupted (default every 1000 ms)')
    .action(async (o: InstanceOptions & { json?: boolean; watch?: string | boolean }) => {
      const runDir = runDirOf(o);
      const once = (): boolean => {
        const state = readRunState(runDir);
        if (state === null) {
          if (o.json) process.stdout.write(JSON.stringify({ instance: o.instance, running: false }) + '\n');
          else process.stdout.write(`ims: instance '${o.instance}' is not running (start it with 'npm start' or 'ims start --instance ${o.instance}')\n`);
          return false;
        }
        const report = collectStatus(state);
        if (o.json) process.stdout.write(JSON.stringify(report) + '\n');
        else printStatus(report);
        return report.running;
      };
      const running = once();
      if (o.watch === undefined || o.watch === false) {
        process.exitCode = running ? 0 : 3;
        return;
      }
      const every = typeof o.watch === 'string' ? nonNegativeInt(o.watch) : 1000;
      for (;;) {
        await new Promise((r) => setTimeout(r, every));
        if (!o.json) process.stdout.write('\x1b[2J\x1b[H');
        once();
      }
    });

  withInstance(program.command('stop'))
    .description('stop every process of the instance and remove its ring files')
    .option('--timeout <ms>', 'how long to wait for a clean stop', nonNegativeInt, 10_000)
    .action(async (o: InstanceOptions & { timeout: number }) => {
      process.exitCode = await stopInstance(o, o.timeout);
    });

  return program;
}

if (require.main === module) {
  buildProgram()
    .parseAsync(process.argv)
    .catch((e: Error) => {
      process.stderr.write(`ims: ${e.message}\n`);
      process.exit(1);
    });
}
