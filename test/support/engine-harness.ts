// Fixtures of the engine process tests: the bus of a hot-warm pair (a command input ring, the two
// engine output rings, the journal ring with the engines' consumer slots) in a fresh /dev/shm
// directory, a sequencer over it, engine instances and the order-flow load as real processes,
// and waits on the engines' status files.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { registerConsumer, RingFile } from '../../bus/ring';
import { JournalStatusFile } from '../../bus/journal-status';
import { readEngineInstanceStatus, engineStatusPath, type EngineInstanceStatus } from '../../processes/matching-engine/engine-status';
import { shmPath, type Teardowns } from './shm';
import { spawnDist, type DistProcess } from './spawn';

export interface EngineBus {
  /** The run directory (/dev/shm/...): journal.ring, engine-<x>-out.ring, engine.lease, status files. */
  runDir: string;
  /** The command input ring the load writes to. */
  commands: string;
  journal: string;
  /** The sequencer's inputs, in order. */
  inputs: string[];
}

export function makeEngineBus(t: Teardowns, label: string, options: { journalBytes?: number; inputBytes?: number } = {}): EngineBus {
  const runDir = shmPath(t, label);
  fs.mkdirSync(runDir);
  const inputs: string[] = [];
  for (const name of ['commands', 'engine-a-out', 'engine-b-out']) {
    const file = path.join(runDir, `${name}.ring`);
    registerConsumer(RingFile.create(file, { capacityBytes: options.inputBytes ?? 1 << 20, maxConsumers: 4 }), 'sequencer');
    inputs.push(file);
  }
  const journal = path.join(runDir, 'journal.ring');
  const ring = RingFile.create(journal, { capacityBytes: options.journalBytes ?? 1 << 23, maxConsumers: 8 });
  registerConsumer(ring, 'engine-a', { gating: false });
  registerConsumer(ring, 'engine-b', { gating: false });
  return { runDir, commands: inputs[0]!, journal, inputs };
}

export async function startSequencer(t: Teardowns, bus: EngineBus, journalDir: string, extra: string[] = []): Promise<DistProcess> {
  const proc = spawnDist(t, 'processes/sequencer/main.ts', ['--journal-ring', bus.journal, '--data-dir', journalDir, ...bus.inputs.flatMap((r) => ['--input', r]), ...extra]);
  await proc.waitForEvent('sequencer-start', 15_000);
  return proc;
}

export function startEngine(t: Teardowns, bus: EngineBus, dataDir: string, instance: 'a' | 'b', extra: string[] = []): DistProcess {
  return spawnDist(t, 'processes/matching-engine/main.ts', ['--instance', instance, '--run-dir', bus.runDir, '--data-dir', dataDir, '--exit-with-parent', ...extra]);
}

export function startLoad(t: Teardowns, bus: EngineBus, options: { count: number; rate: number; seed: number; sourceId?: number; extra?: string[] }): DistProcess {
  return spawnDist(t, 'processes/matching-engine/order-flow-producer.ts', [
    '--ring',
    bus.commands,
    '--source-id',
    String(options.sourceId ?? 70),
    '--count',
    String(options.count),
    '--rate',
    String(options.rate),
    '--seed',
    String(options.seed),
    '--exit-with-parent',
    ...(options.extra ?? []),
  ]);
}

export function engineStatus(bus: EngineBus, instance: 'a' | 'b'): EngineInstanceStatus | null {
  return readEngineInstanceStatus(engineStatusPath(bus.runDir, instance));
}

export function journalVisibleSeq(bus: EngineBus): number {
  return JournalStatusFile.openIfExists(path.join(bus.runDir, 'journal.status'))?.snapshot().visibleSeq ?? 0;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` every 10 ms until it returns a value other than undefined, or throws after timeoutMs. */
export async function waitUntil<T>(what: string, timeoutMs: number, check: () => T | undefined): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await sleep(10);
  }
}

/** Waits until the journal stops growing and every live engine has handled all of it. */
export async function waitForQuiet(bus: EngineBus, instances: ReadonlyArray<'a' | 'b'>, timeoutMs: number): Promise<number> {
  let last = -1;
  let stableSince = Date.now();
  return waitUntil('the journal and the engines settle', timeoutMs, () => {
    const head = journalVisibleSeq(bus);
    if (head !== last) {
      last = head;
      stableSince = Date.now();
      return undefined;
    }
    if (Date.now() - stableSince < 300) return undefined;
    const caughtUp = instances.every((i) => {
      const s = engineStatus(bus, i);
      return s !== null && s.alive && s.lastAppliedSeq === head;
    });
    return caughtUp ? head : undefined;
  });
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? NaN : sorted[Math.floor((sorted.length - 1) / 2)]!;
}
