// The one place that turns a configuration into the supervisor's topology and per-process CPU
// assignment. The supervisor, the bus creator and the systemd units all go through here, so the
// units an operator installs run the same processes on the same cores as `ims start`.

import * as os from 'node:os';
import { defaultCorePlan, parseCoreOverrides, type CorePlan } from '../supervisor/core-plan';
import { buildTopology, type ProcessSpec, type Topology, type TopologyKind } from '../supervisor/topology';
import type { ImsConfig } from './config';

/** The records/s the exerciser publishes when a configuration asks for the exercise topology. */
export const CONFIG_EXERCISE_RATE = 1000;

export function topologyForConfig(config: ImsConfig, kind: TopologyKind = 'exchange'): Topology {
  return buildTopology({ kind, runDir: config.runDir, dataDir: config.dataDir, profile: config.profile, exerciseRate: CONFIG_EXERCISE_RATE });
}

/** Process names a core override may name: every process of every topology kind. */
export function knownProcessNames(config: ImsConfig): string[] {
  const names = new Set<string>();
  for (const kind of ['exchange', 'exercise'] as const) for (const p of topologyForConfig(config, kind).processes) names.add(p.name);
  return [...names];
}

/** The online CPUs of this machine (not the affinity of this process: units run elsewhere). */
export function machineCores(): number {
  return Math.max(1, os.cpus().length);
}

/** IMS_CORES text ("name=3,other=4-5") from the configuration's override map. */
export function coreOverridesText(overrides: Readonly<Record<string, string>>): string {
  return Object.entries(overrides)
    .map(([name, cpus]) => `${name}=${cpus}`)
    .join(',');
}

export interface CpuAssignment {
  readonly plan: CorePlan;
  readonly cpus: ReadonlyMap<string, readonly number[]>;
}

/**
 * The cores each process gets: the override if there is one, otherwise its group's cores one per
 * process, round-robin in topology order. This must stay the rule Supervisor's constructor uses;
 * test/systemd-units.test.ts compares the two on every topology.
 */
export function assignCpus(processes: readonly ProcessSpec[], cores: number, overridesText: string | undefined): CpuAssignment {
  const plan = defaultCorePlan(cores);
  const overrides = parseCoreOverrides(overridesText, cores, processes.map((p) => p.name));
  const groupNext = new Map<string, number>();
  const cpus = new Map<string, readonly number[]>();
  for (const spec of processes) {
    let chosen = overrides.get(spec.name);
    if (chosen === undefined) {
      const groupCores = plan.groups[spec.group];
      const i = groupNext.get(spec.group) ?? 0;
      groupNext.set(spec.group, i + 1);
      chosen = [groupCores[i % groupCores.length]!];
    }
    cpus.set(spec.name, chosen);
  }
  return { plan, cpus };
}
