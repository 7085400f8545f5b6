// The shape of a running IMS: which rings exist (with their geometry and registered consumers) and
// which processes run, in which core group. The supervisor creates the rings and registers every
// consumer BEFORE starting any process, so nothing published before a consumer starts is missed.
//
//   gateway n ──gw<n>-to-pm──► pm-a|pm-b ──pm-x-to-sequencer──► sequencer ──► journal.ring + disk
//       ▲                         │                                ▲              │
//       └────────pm-to-gw<n>──────┘           engine-x-out ────────┤              ├──► engine-a, engine-b
//                                      control-to-sequencer ───────┤              ├──► pm-a, pm-b
//                                     accounts-to-sequencer ───────┘              ├──► market data, reporter
//                                                                                 └──► control
//
// The journal ring's consumers register themselves (JournalReader): each keeps its own last seq
// and catches up from disk, so it needs no slot before it starts.

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
  /** Lines printed once the system is up (where to connect, which mode it runs in). */
  readonly banner: readonly string[];
}

export type TopologyKind = 'exchange' | 'exercise';
export type Profile = 'demo' | 'production';

export interface TopologyOptions {
  readonly kind: TopologyKind;
  /** Directory holding the ring files (one per instance, on /dev/shm). */
  readonly runDir: string;
  readonly dataDir: string;
  readonly profile: Profile;
  /** Records per second the bus exerciser publishes (exercise topology). */
  readonly exerciseRate: number;
  /** Gateway processes (each with its own rings to and from the product manager). */
  readonly gateways?: number;
  /**
   * Trading and public listener ports. Every gateway listens on the same two ports (uWS binds with
   * SO_REUSEPORT, so the kernel spreads new connections over the gateways and a killed gateway's
   * clients reconnect to the survivors on the same address). 0 = each gateway takes any free port
   * of its own (tests and drills that must address one gateway in particular).
   */
  readonly tradingPort?: number;
  readonly publicPort?: number;
  /** The product list the gateways validate against (JSON, see processes/gateway/product-catalog.ts). */
  readonly productsFile?: string;
  /** How long a silent hot engine or product manager is given before its warm twin takes over. */
  readonly leaseTimeoutMs?: number;
}

/**
 * The hot/warm lease bound for a machine of `cores` cores. 50 ms (the engine issue's figure) needs
 * cores to spare: on 2 shared cores a busy start-up stalls an event loop past 50 ms and the warm
 * takes over for nothing (safe, but a needless failover). 500 ms there.
 */
export function defaultLeaseTimeoutMs(cores: number): number {
  return cores >= 4 ? 50 : 500;
}

export const DEMO_RING_BYTES = 1 << 20;
/** Sequencer input rings: 4 MiB holds ~40,000 commands of burst. */
export const INPUT_RING_BYTES = 1 << 22;
/** The journal ring: 64 MiB (~400,000 entries) before a slow reader must catch up from disk. */
export const JOURNAL_RING_BYTES = 1 << 26;
/** Journal readers: two engines, two product managers, market data, reporter, control, and tools. */
export const JOURNAL_RING_CONSUMERS = 16;

/** Commands between engine checkpoints (state-hash comparisons of hot and warm). */
export const ENGINE_CHECKPOINT_EVERY = 1000;

export function ringPath(runDir: string, name: string): string {
  return path.join(runDir, `${name}.ring`);
}

function sequencerInput(name: string): RingSpec {
  return { name, capacityBytes: INPUT_RING_BYTES, maxConsumers: 2, consumers: [{ name: 'sequencer', gating: true }] };
}

/**
 * Gateway n's port for a listener whose configured port is `base`: the same for every gateway
 * (SO_REUSEPORT, see TopologyOptions.tradingPort); 0 stays 0 (each takes a free port of its own).
 */
export function gatewayPort(base: number, _n: number): number {
  return base;
}

/** The trading and the public listener sharing one port would mix order entry with public traffic: refuse. */
function assertSeparateListenerPorts(tradingPort: number, publicPort: number): void {
  if (tradingPort !== 0 && tradingPort === publicPort) {
    throw new Error(`the trading and the public listener are both on port ${tradingPort}: give --trading-port and --public-port different ports (or 0 for any free port)`);
  }
  for (const [port, what] of [[tradingPort, 'trading'], [publicPort, 'public']] as const) {
    if (!(Number.isInteger(port) && port >= 0 && port <= 65535)) throw new Error(`the ${what} port ${port} is not in [0, 65535]`);
  }
}

/** The trading exchange: what `npm start` runs. */
function exchangeTopology(o: TopologyOptions): Topology {
  const gateways = o.gateways ?? 1;
  const lease = ['--lease-timeout-ms', String(o.leaseTimeoutMs ?? 50)];
  // Hot and warm compare state hashes at every checkpoint; both must use the same interval.
  const checkpoints = ['--checkpoint-every', String(ENGINE_CHECKPOINT_EVERY)];
  const inputs = ['pm-a-to-sequencer', 'pm-b-to-sequencer', 'engine-a-out', 'engine-b-out', 'control-to-sequencer', 'accounts-to-sequencer'];
  // The supervisor makes the journal ring too, so readers that start before the sequencer find it.
  const rings: RingSpec[] = [...inputs.map(sequencerInput), { name: 'journal', capacityBytes: JOURNAL_RING_BYTES, maxConsumers: JOURNAL_RING_CONSUMERS, consumers: [] }];
  for (let n = 1; n <= gateways; n++) {
    rings.push({ name: `gw${n}-to-pm`, capacityBytes: INPUT_RING_BYTES, maxConsumers: 2, consumers: [{ name: 'pm', gating: true }] });
    rings.push({ name: `pm-to-gw${n}`, capacityBytes: INPUT_RING_BYTES, maxConsumers: 2, consumers: [{ name: 'gateway', gating: true }] });
  }
  const durability = o.profile === 'demo' ? 'async' : 'fsync';
  const processes: ProcessSpec[] = [
    {
      name: 'sequencer',
      script: 'dist/processes/sequencer/main.js',
      args: [
        ...inputs.flatMap((r) => ['--input', ringPath(o.runDir, r)]),
        '--journal-ring', ringPath(o.runDir, 'journal'),
        '--journal-ring-bytes', String(JOURNAL_RING_BYTES),
        '--journal-ring-consumers', String(JOURNAL_RING_CONSUMERS),
        '--data-dir', path.join(o.dataDir, 'journal'),
        '--archive-dir', path.join(o.dataDir, 'journal-archive'),
        '--durability', durability,
      ],
      group: 'critical',
    },
    { name: 'engine-a', script: 'dist/processes/matching-engine/main.js', args: ['--instance', 'a', '--run-dir', o.runDir, '--data-dir', o.dataDir, ...lease, ...checkpoints], group: 'critical' },
    { name: 'engine-b', script: 'dist/processes/matching-engine/main.js', args: ['--instance', 'b', '--run-dir', o.runDir, '--data-dir', o.dataDir, ...lease, ...checkpoints], group: 'engine-warm' },
    { name: 'pm-a', script: 'dist/processes/product-manager/main.js', args: ['--instance', 'a', '--run-dir', o.runDir, '--gateways', String(gateways), ...lease], group: 'edge' },
    { name: 'pm-b', script: 'dist/processes/product-manager/main.js', args: ['--instance', 'b', '--run-dir', o.runDir, '--gateways', String(gateways), ...lease], group: 'background' },
    { name: 'control', script: 'dist/processes/control/main.js', args: ['--run-dir', o.runDir, '--data-dir', o.dataDir, '--profile', o.profile], group: 'background' },
    { name: 'reporter', script: 'dist/processes/reporter/main.js', args: ['--run-dir', o.runDir, '--data-dir', o.dataDir], group: 'background' },
    { name: 'market-data', script: 'dist/processes/market-data/main.js', args: ['--run-dir', o.runDir, '--data-dir', o.dataDir, '--gateways', String(gateways)], group: 'background' },
  ];
  const tradingPort = o.tradingPort ?? 8080;
  const publicPort = o.publicPort ?? 8081;
  assertSeparateListenerPorts(tradingPort, publicPort);
  for (let n = 1; n <= gateways; n++) {
    const port = (base: number): string => String(base === 0 ? 0 : gatewayPort(base, n));
    processes.push({
      name: `gateway-${n}`,
      script: 'dist/processes/gateway/main.js',
      args: [
        '--gateway-id', String(n),
        '--trading-port', port(tradingPort),
        '--public-port', port(publicPort),
        '--to-pm', ringPath(o.runDir, `gw${n}-to-pm`),
        '--from-pm', ringPath(o.runDir, `pm-to-gw${n}`),
        '--consumer-name', 'gateway',
        '--data-dir', o.dataDir,
        // The control process relays the accounts outbox (exactly once, by outbox id).
        '--no-forward-account-events',
        '--market-data-ring', ringPath(o.runDir, 'marketdata'),
        ...(o.productsFile !== undefined ? ['--products', o.productsFile] : []),
      ],
      group: 'edge',
    });
  }
  const banner = [
    `profile ${o.profile}: journal durability ${durability}${durability === 'async' ? ' (fsync at most 20 ms after each write: a power loss can lose that window; production runs fsync)' : ' (group commit: nothing is acknowledged before it is on disk)'}`,
    `data in ${o.dataDir}`,
    ...(tradingPort !== 0 ? [`kiosk portal and REST API: http://localhost:${tradingPort}/  (admin dashboard: /admin, API: /openapi.json)`, `public market data: http://localhost:${publicPort}/`] : []),
  ];
  return { rings, processes, banner };
}

/** A producer and two consumers (one gating, one not) that exercise the bus: for drills and tests. */
function exerciseTopology(o: TopologyOptions): Topology {
  const ring = ringPath(o.runDir, 'exercise');
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
      { name: 'exercise-producer', script: 'dist/processes/exerciser/main.js', args: ['producer', '--ring', ring, '--rate', String(o.exerciseRate)], group: 'critical' },
      { name: 'exercise-gating', script: 'dist/processes/exerciser/main.js', args: ['consumer', '--ring', ring, '--name', 'exercise-gating'], group: 'engine-warm' },
      { name: 'exercise-tap', script: 'dist/processes/exerciser/main.js', args: ['consumer', '--ring', ring, '--name', 'exercise-tap', '--non-gating'], group: 'edge' },
    ],
    banner: ['bus exerciser: a producer and two consumers, no trading'],
  };
}

export function buildTopology(options: TopologyOptions): Topology {
  return options.kind === 'exercise' ? exerciseTopology(options) : exchangeTopology(options);
}
