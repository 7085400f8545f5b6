// Which CPU cores each process is pinned to. The plan is chosen from the machine's core count
// and can be overridden per process (IMS_CORES="sequencer=3,matching-engine-hot=4").
//
// Why this shape: the sequencer and the hot engine are the critical path and get cores of their
// own as soon as there are enough; the warm engine shadows the hot one and may share; gateways,
// market data and the reporter are throughput work that tolerates sharing. On this 2-core machine
// every process shares, so every loop uses the backoff idle strategy (no busy-spin).

export type CoreGroup = 'critical' | 'engine-warm' | 'edge' | 'background';

export interface CorePlan {
  readonly cores: number;
  readonly groups: Readonly<Record<CoreGroup, readonly number[]>>;
}

function range(from: number, to: number): number[] {
  const out = [];
  for (let i = from; i <= to; i++) out.push(i);
  return out;
}

/** The default plan for a machine with `cores` online CPUs (numbered 0..cores-1). */
export function defaultCorePlan(cores: number): CorePlan {
  if (!Number.isInteger(cores) || cores < 1) throw new RangeError(`core count must be a positive integer, got ${cores}`);
  if (cores === 1) return { cores, groups: { critical: [0], 'engine-warm': [0], edge: [0], background: [0] } };
  if (cores === 2) return { cores, groups: { critical: [1], 'engine-warm': [1], edge: [0], background: [0] } };
  if (cores < 6) return { cores, groups: { critical: [1], 'engine-warm': [2], edge: [0], background: range(3, cores - 1).length ? range(3, cores - 1) : [0] } };
  // Big machines: core 0 is left to the OS and interrupts; the critical group gets two cores
  // (sequencer and hot engine each end up with their own when pinned one per core below).
  return { cores, groups: { critical: [2, 3], 'engine-warm': [4], edge: [1], background: range(5, cores - 1) } };
}

/**
 * Parses IMS_CORES ("name=1,other=2-3") into per-process overrides. Throws a TypeError naming the
 * bad entry: a typo must not silently leave a process unpinned.
 */
export function parseCoreOverrides(text: string | undefined, cores: number, knownNames: readonly string[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  if (text === undefined || text.trim() === '') return out;
  for (const entry of text.split(',')) {
    const m = /^\s*([a-z0-9-]+)\s*=\s*(\d+)(?:-(\d+))?\s*$/.exec(entry);
    if (m === null) throw new TypeError(`IMS_CORES entry '${entry}' is not name=core or name=first-last`);
    const name = m[1]!;
    if (!knownNames.includes(name)) throw new TypeError(`IMS_CORES names '${name}', which is not a process (known: ${knownNames.join(', ')})`);
    const first = Number(m[2]);
    const last = m[3] === undefined ? first : Number(m[3]);
    if (last < first || last >= cores) throw new TypeError(`IMS_CORES entry '${entry}': cores must be within 0..${cores - 1}`);
    out.set(name, range(first, last));
  }
  return out;
}

/** taskset's --cpu-list form: "0", "2,3". */
export function cpuList(cpus: readonly number[]): string {
  return cpus.join(',');
}
