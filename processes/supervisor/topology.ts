// The shape of a running IMS: which rings exist (with their geometry and registered consumers) and
// which processes run, in which core group. The supervisor creates the rings and registers every
// consumer BEFORE starting any process, so nothing published before a consumer starts is missed.

import * as path from 'node:path';
import type { CoreGroup } from './core-plan';

export interface RingSpec {
  readonly name: string;
  readonly capacityBytes: number;
  readonly maxConsumers: number;
  readonly consumers: ReadonlyArray<{ readonly name: string; readonly gating: boolean }>;
}

export interface ProcessSpec {
  readonly name: string;
  /** Path of the compiled entry point, relative to the package root. */
  readonly script: string;
  readonly args: readonly string[];
  readonly group: CoreGroup;
}

export interface Topology {
  readonly rings: readonly RingSpec[];
  readonly processes: readonly ProcessSpec[];
}

export interface TopologyOptions {
  /** Directory holding the ring files (one per instance, on /dev/shm). */
  readonly runDir: string;
  /** Records per second the demo exerciser publishes. */
  readonly exerciseRate: number;
}

export const DEMO_RING_BYTES = 1 << 20;

/**
 * The process set. Until the trading processes land, a producer and two consumers exercise the
 * bus (one gating, one not) so the supervisor, pinning and status are real and observable.
 */
export function buildTopology(options: TopologyOptions): Topology {
  const ring = (name: string): string => path.join(options.runDir, `${name}.ring`);
  return {
    rings: [
      {
        name: 'exercise',
        capacityBytes: DEMO_RING_BYTES,
        maxConsumers: 4,
        consumers: [
          { name: 'exercise-gating', gating: true },
          { name: 'exercise-tap', gating: false },
        ],
      },
    ],
    processes: [
      { name: 'exercise-producer', script: 'dist/processes/exerciser/main.js', args: ['producer', '--ring', ring('exercise'), '--rate', String(options.exerciseRate)], group: 'critical' },
      { name: 'exercise-gating', script: 'dist/processes/exerciser/main.js', args: ['consumer', '--ring', ring('exercise'), '--name', 'exercise-gating'], group: 'engine-warm' },
      { name: 'exercise-tap', script: 'dist/processes/exerciser/main.js', args: ['consumer', '--ring', ring('exercise'), '--name', 'exercise-tap', '--non-gating'], group: 'edge' },
    ],
  };
}

export function ringPath(runDir: string, name: string): string {
  return path.join(runDir, `${name}.ring`);
}
