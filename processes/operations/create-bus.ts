// Creates the bus of a configured instance (what the supervisor does before it starts any process:
// every ring file with its geometry, every consumer slot registered) without starting anything.
// Run by ims-bus.service before the process units; `--remove` deletes the rings when the target
// stops (the durable state is in the data directory; the rings are scratch).
//
//   node dist/processes/operations/create-bus.js [--config FILE] [--topology exchange|exercise] [--remove]
//
// With no --config it reads the IMS_* variables (the units' EnvironmentFile).

import { Command, Option } from 'commander';
import * as fs from 'node:fs';
import { registerConsumer, RingFile } from '../../bus/ring';
import { ringPath, type Topology, type TopologyKind } from '../supervisor/topology';
import { ConfigError, loadConfig } from './config';
import { topologyForConfig } from './config-topology';

export interface CreatedBus {
  readonly rings: ReadonlyArray<{ readonly name: string; readonly path: string; readonly consumers: readonly string[] }>;
}

/**
 * Creates (or reopens with the same geometry) every ring of the topology in runDir and registers its
 * consumers. Reopening is safe: registerConsumer keeps an existing slot of the same name.
 */
export function createBus(topology: Topology, runDir: string, dataDir: string): CreatedBus {
  fs.mkdirSync(runDir, { recursive: true });
  fs.mkdirSync(dataDir, { recursive: true });
  const rings = [];
  for (const spec of topology.rings) {
    const file = ringPath(runDir, spec.name);
    const ring = RingFile.create(file, { capacityBytes: spec.capacityBytes, maxConsumers: spec.maxConsumers });
    const registered = new Set(ring.consumers().map((c) => c.name));
    for (const c of spec.consumers) if (!registered.has(c.name)) registerConsumer(ring, c.name, { gating: c.gating });
    rings.push({ name: spec.name, path: file, consumers: spec.consumers.map((c) => c.name) });
  }
  return { rings };
}

/** Removes the run directory (rings, status files). */
export function removeBus(runDir: string): void {
  fs.rmSync(runDir, { recursive: true, force: true });
}

function main(argv: readonly string[]): number {
  const program = new Command('create-bus')
    .description('create the ring files of an IMS instance (ims-bus.service), or remove them')
    .option('--config <file>', 'IMS configuration file (default: the IMS_* environment only)')
    .addOption(new Option('--topology <kind>', 'which process set').choices(['exchange', 'exercise']).default('exchange'))
    .option('--remove', 'remove the run directory instead')
    .parse([...argv], { from: 'user' });
  const o = program.opts<{ config?: string; topology: TopologyKind; remove?: boolean }>();
  let config;
  try {
    config = loadConfig({ file: o.config, env: process.env, checkFilesystem: o.remove !== true });
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`create-bus: ${e.message}\n`);
      return 3;
    }
    throw e;
  }
  if (o.remove === true) {
    removeBus(config.runDir);
    process.stdout.write(`create-bus: removed ${config.runDir}\n`);
    return 0;
  }
  const bus = createBus(topologyForConfig(config, o.topology), config.runDir, config.dataDir);
  for (const r of bus.rings) process.stdout.write(`create-bus: ${r.path} (consumers: ${r.consumers.join(', ') || 'none registered ahead'})\n`);
  return 0;
}

if (require.main === module) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`create-bus: ${(e as Error).message}\n`);
    process.exitCode = 1;
  }
}
