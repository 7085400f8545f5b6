// The supervisor: creates the bus files, starts every process as its own OS process pinned with
// taskset, restarts a crashed process with exponential backoff (and gives up loudly when one keeps
// crashing), and stops everything cleanly on SIGINT/SIGTERM or stop().

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { registerConsumer, RingFile } from '../../bus/ring';
import { cpuList, defaultCorePlan, parseCoreOverrides, type CorePlan } from './core-plan';
import { pidAlive, readRunState, RUN_STATE_VERSION, writeRunState, type ProcessState, type RunState } from './run-state';
import { ringPath, type ProcessSpec, type Topology } from './topology';

export interface RestartPolicy {
  /** First restart delay; doubles on each crash up to maxBackoffMs. */
  minBackoffMs: number;
  maxBackoffMs: number;
  /** A process that stays up this long is considered healthy again (its backoff resets). */
  stableAfterMs: number;
  /** More crashes than this within windowMs: the supervisor stops everything and fails. */
  maxRestartsInWindow: number;
  windowMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = {
  minBackoffMs: 100,
  maxBackoffMs: 5_000,
  stableAfterMs: 10_000,
  maxRestartsInWindow: 10,
  windowMs: 60_000,
};

/** How long stop() waits for SIGTERM before SIGKILL. */
export const STOP_GRACE_MS = 5_000;

export interface SupervisorOptions {
  instance: string;
  runDir: string;
  dataDir: string;
  packageRoot: string;
  topology: Topology;
  cores?: number;
  coreOverrides?: string;
  restart?: Partial<RestartPolicy>;
  log?: (line: string) => void;
  /** Extra environment for every child. */
  env?: NodeJS.ProcessEnv;
}

interface Child {
  spec: ProcessSpec;
  cpus: number[];
  proc: ChildProcess | null;
  state: ProcessState;
  backoffMs: number;
  crashTimes: number[];
  restartTimer: NodeJS.Timeout | null;
}

let tasksetAvailable: boolean | null = null;
function hasTaskset(): boolean {
  if (tasksetAvailable === null) tasksetAvailable = spawnSync('taskset', ['--version'], { stdio: 'ignore' }).status === 0;
  return tasksetAvailable;
}

export class Supervisor {
  private readonly options: SupervisorOptions;
  private readonly policy: RestartPolicy;
  private readonly plan: CorePlan;
  private readonly children: Child[] = [];
  private readonly log: (line: string) => void;
  private stopping: Promise<void> | null = null;
  private startedAtMs = 0;
  private exitCode = 0;
  private readonly exited = new Set<string>();

  constructor(options: SupervisorOptions) {
    this.options = options;
    this.policy = { ...DEFAULT_RESTART_POLICY, ...options.restart };
    this.log = options.log ?? ((line) => process.stdout.write(line + '\n'));
    const cores = options.cores ?? Math.max(1, (require('node:os') as typeof import('node:os')).availableParallelism());
    this.plan = defaultCorePlan(cores);
    const overrides = parseCoreOverrides(options.coreOverrides, cores, options.topology.processes.map((p) => p.name));
    const groupNext = new Map<string, number>();
    for (const spec of options.topology.processes) {
      let cpus = overrides.get(spec.name);
      if (cpus === undefined) {
        // Spread a group's processes over its cores one per core, round-robin.
        const groupCores = this.plan.groups[spec.group];
        const i = groupNext.get(spec.group) ?? 0;
        groupNext.set(spec.group, i + 1);
        cpus = [groupCores[i % groupCores.length]!];
      }
      this.children.push({
        spec,
        cpus,
        proc: null,
        state: { name: spec.name, pid: 0, cpus, restarts: 0, startedAtMs: 0, status: 'starting', lastExit: null },
        backoffMs: this.policy.minBackoffMs,
        crashTimes: [],
        restartTimer: null,
      });
    }
  }

  /** Creates the bus and starts every process. Throws if another live supervisor owns runDir. */
  start(): void {
    const { runDir, dataDir, topology } = this.options;
    const previous = readRunState(runDir);
    if (previous !== null && previous.supervisorPid !== process.pid && pidAlive(previous.supervisorPid)) {
      throw new Error(`IMS instance '${this.options.instance}' is already running (supervisor pid ${previous.supervisorPid}); stop it with 'ims stop --instance ${this.options.instance}'`);
    }
    fs.mkdirSync(runDir, { recursive: true });
    fs.mkdirSync(dataDir, { recursive: true });
    for (const spec of topology.rings) {
      const ring = RingFile.create(ringPath(runDir, spec.name), { capacityBytes: spec.capacityBytes, maxConsumers: spec.maxConsumers });
      for (const c of spec.consumers) registerConsumer(ring, c.name, { gating: c.gating });
    }
    this.startedAtMs = Date.now();
    for (const child of this.children) this.spawnChild(child);
    this.persist();
    this.log(`ims: instance '${this.options.instance}' started ${this.children.length} processes on a ${this.plan.cores}-core plan; rings in ${runDir}`);
  }

  /** Resolves when stop() has finished; the exit code tells whether it was a clean stop. */
  async stop(reason = 'stop requested'): Promise<number> {
    if (this.stopping === null) this.stopping = this.doStop(reason);
    await this.stopping;
    return this.exitCode;
  }

  /** Installs SIGINT/SIGTERM handlers that stop everything and exit. */
  handleSignals(): void {
    const onSignal = (signal: NodeJS.Signals): void => {
      void this.stop(`received ${signal}`).then((code) => process.exit(code));
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }

  snapshot(): RunState {
    return {
      version: RUN_STATE_VERSION,
      instance: this.options.instance,
      supervisorPid: process.pid,
      startedAtMs: this.startedAtMs,
      runDir: this.options.runDir,
      dataDir: this.options.dataDir,
      rings: this.options.topology.rings.map((r) => ({ name: r.name, path: ringPath(this.options.runDir, r.name) })),
      processes: this.children.map((c) => ({ ...c.state })),
    };
  }

  private spawnChild(child: Child): void {
    const { spec, cpus } = child;
    const script = path.join(this.options.packageRoot, spec.script);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...this.options.env,
      IMS_INSTANCE: this.options.instance,
      IMS_RUN_DIR: this.options.runDir,
      IMS_DATA_DIR: this.options.dataDir,
      IMS_PROCESS_NAME: spec.name,
    };
    let proc: ChildProcess;
    if (hasTaskset()) {
      proc = spawn('taskset', ['--cpu-list', cpuList(cpus), process.execPath, script, ...spec.args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    } else {
      proc = spawn(process.execPath, [script, ...spec.args], { env: { ...env, IMS_PIN_CPUS: cpuList(cpus) }, stdio: ['ignore', 'pipe', 'pipe'] });
    }
    child.proc = proc;
    child.state.pid = proc.pid ?? 0;
    child.state.startedAtMs = Date.now();
    child.state.status = 'running';
    this.pipeLines(spec.name, proc);
    proc.on('exit', (code, signal) => this.onExit(child, proc, code, signal));
    proc.on('error', (err) => this.log(`ims: [${spec.name}] could not start: ${err.message}`));
  }

  private pipeLines(name: string, proc: ChildProcess): void {
    for (const stream of [proc.stdout, proc.stderr]) {
      if (stream === null) continue;
      let pending = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        pending += chunk;
        let nl: number;
        while ((nl = pending.indexOf('\n')) >= 0) {
          this.log(`[${name}] ${pending.slice(0, nl)}`);
          pending = pending.slice(nl + 1);
        }
        // Bound what one line may hold: a child printing without newlines must not grow memory.
        if (pending.length > 64 * 1024) {
          this.log(`[${name}] ${pending}`);
          pending = '';
        }
      });
    }
  }

  private onExit(child: Child, proc: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (child.proc !== proc) return;
    child.proc = null;
    const how = signal !== null ? `signal ${signal}` : `code ${code}`;
    child.state.lastExit = how;
    this.exited.add(child.spec.name);
    if (this.stopping !== null) {
      child.state.status = 'stopped';
      return;
    }
    const now = Date.now();
    if (now - child.state.startedAtMs >= this.policy.stableAfterMs) child.backoffMs = this.policy.minBackoffMs;
    child.crashTimes = child.crashTimes.filter((t) => now - t < this.policy.windowMs);
    child.crashTimes.push(now);
    if (child.crashTimes.length > this.policy.maxRestartsInWindow) {
      child.state.status = 'failed';
      this.persist();
      this.log(`ims: [${child.spec.name}] crashed ${child.crashTimes.length} times in ${this.policy.windowMs} ms (last: ${how}); stopping the whole system — read its log above, fix the cause, then start again`);
      this.exitCode = 1;
      void this.stop(`${child.spec.name} keeps crashing`);
      return;
    }
    const delay = child.backoffMs;
    child.backoffMs = Math.min(child.backoffMs * 2, this.policy.maxBackoffMs);
    child.state.status = 'backoff';
    this.log(`ims: [${child.spec.name}] exited with ${how}; restarting in ${delay} ms`);
    this.persist();
    child.restartTimer = setTimeout(() => {
      child.restartTimer = null;
      if (this.stopping !== null) return;
      child.state.restarts++;
      this.spawnChild(child);
      this.persist();
    }, delay);
  }

  private async doStop(reason: string): Promise<void> {
    this.log(`ims: stopping instance '${this.options.instance}' (${reason})`);
    for (const child of this.children) {
      if (child.restartTimer !== null) clearTimeout(child.restartTimer);
      child.restartTimer = null;
      child.proc?.kill('SIGTERM');
    }
    const deadline = Date.now() + STOP_GRACE_MS;
    while (this.children.some((c) => c.proc !== null) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    for (const child of this.children) {
      if (child.proc !== null) {
        this.log(`ims: [${child.spec.name}] ignored SIGTERM for ${STOP_GRACE_MS} ms; killing it`);
        child.proc.kill('SIGKILL');
      }
    }
    while (this.children.some((c) => c.proc !== null)) await new Promise((r) => setTimeout(r, 10));
    for (const child of this.children) child.state.status = 'stopped';
    // The rings are scratch: the durable state is in the data directory, and a fresh start
    // recreates the bus. Removing them means a stop leaves no stale file on /dev/shm.
    fs.rmSync(this.options.runDir, { recursive: true, force: true });
    this.log(`ims: instance '${this.options.instance}' stopped`);
  }

  private persist(): void {
    if (this.stopping !== null) return;
    writeRunState(this.options.runDir, this.snapshot());
  }
}
