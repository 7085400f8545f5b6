// GET /v1/admin/system-status: the live state of the whole instance for the dashboard's system
// panel (admin, operator, analyst): every process with its cores and, for the engine and
// product-manager pairs, its hot/warm role and epoch; every ring's consumer lags; the journal's
// head, durable and visible sequence; orders per second and the p99 order round trip.
//
// It reads exactly what `ims status` reads (processes/supervisor/system-status.ts: the run
// directory's supervisor.json, ring headers, journal/engine/product-manager status files), so it
// costs no process a thing and cannot stall on a stuck one. Dashboards poll it every second; the
// answer is computed at most once per STATUS_MIN_INTERVAL_MS and shared, so any number of open
// dashboards cost one read of the run directory per interval. Ring files are mapped once each and
// kept (a long-lived gateway would otherwise map and drop every ring on every poll).
//
// Throughput and latency come from the gateways' counters files (<runDir>/gateway-N.counters,
// processes/operations/process-counters.ts): orders/s is the change of ims_orders_in_total (order
// commands written to the product manager, every gateway) and p99 the 99th percentile of
// ims_round_trip_seconds (command written -> the reply that ends it), both over the last
// THROUGHPUT_WINDOW_MS; with no order in the window p99 is that of every order since the gateways
// started (said in `window`). The leading product manager's own orders/s is kept beside it.

import { Type } from '@sinclair/typebox';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BUCKET_COUNT, quantileNs } from '../../bus/counters';
import { RingFile } from '../../bus/ring';
import { readProcessCounters, totalOf } from '../operations/process-counters';
import { readRunState } from '../supervisor/run-state';
import { collectStatus, type StatusReport } from '../supervisor/system-status';
import { failure } from './api-failure';
import { EmptyQuery } from './api-schemas';
import type { GatewayServices } from './gateway-services';
import { declare, type RouteDeclaration } from './route-spec';

/** Shortest time between two reads of the run directory; polls in between share the last answer. */
export const STATUS_MIN_INTERVAL_MS = 250;
/** Ring mappings kept; more than any topology has (the cache is emptied if a run dir outgrows it). */
export const MAX_CACHED_RINGS = 256;
/** Orders/s and p99 are measured over this much of the recent past. */
export const THROUGHPUT_WINDOW_MS = 5_000;
/** Samples kept for the window (one per STATUS_MIN_INTERVAL_MS at most, so 20 cover it). */
const MAX_THROUGHPUT_SAMPLES = 64;
const ROUND_TRIP = 'ims_round_trip_seconds';
const ORDERS_IN = 'ims_orders_in_total';
export const SYSTEM_STATUS_ROLES = ['admin', 'operator', 'analyst'] as const;

const strict = { additionalProperties: false } as const;
const open = { additionalProperties: true } as const;
const NoParams = Type.Object({}, strict);
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

export const SystemProcess = Type.Object(
  {
    name: Type.String(),
    pid: Type.Integer(),
    alive: Type.Boolean(),
    cpus: Type.Array(Type.Integer(), { description: 'the cores it may run on (its taskset)' }),
    status: Type.String({ description: 'starting, running, backoff, failed, stopped, or dead (its pid is gone)' }),
    restarts: Type.Integer(),
    lastExit: Nullable(Type.String()),
    role: Nullable(Type.String({ description: 'engines and product managers: hot, warm, … (from their status files)' })),
    epoch: Nullable(Type.Integer({ description: 'engines and product managers: the leader epoch they act under' })),
  },
  { ...strict, title: 'SystemProcess' },
);

export const SystemStatus = Type.Object(
  {
    instance: Type.String(),
    running: Type.Boolean({ description: 'the supervisor is alive' }),
    sampledAtMs: Type.Integer({ description: 'when the run directory was read (epoch ms)' }),
    uptimeMs: Type.Integer(),
    processes: Type.Array(SystemProcess),
    rings: Type.Array(
      Type.Object(
        {
          name: Type.String(),
          tail: Type.Integer(),
          records: Type.Integer(),
          producerPid: Type.Integer(),
          consumers: Type.Array(Type.Object({ name: Type.String(), position: Type.Integer(), lag: Type.Integer({ description: 'bytes not yet read' }), gating: Type.Boolean(), alive: Type.Boolean(), lapped: Type.Integer() }, strict)),
        },
        strict,
      ),
    ),
    journal: Nullable(
      Type.Object(
        { state: Type.String(), durability: Type.String(), headSeq: Type.Number(), durableSeq: Type.Number({ description: 'the journal position on disk' }), visibleSeq: Type.Number(), engineEpoch: Type.Number() },
        { ...open, description: 'the sequencer status file (journal-tools journalStatus), consumers included' },
      ),
    ),
    engines: Nullable(Type.Object({ hot: Nullable(Type.String()), hashesAgree: Nullable(Type.Boolean()), instances: Type.Array(Type.Object({}, open)) }, { ...open, description: 'matching-engine lease and instances (engine-status.ts)' })),
    productManagers: Nullable(Type.Object({ leader: Nullable(Type.String()), instances: Type.Array(Type.Object({}, open)) }, { ...open, description: 'product-manager lease and instances (pm-status.ts)' })),
    throughput: Type.Object(
      {
        ordersPerSecond: Nullable(Type.Number({ description: 'order commands per second written by every gateway to the product manager, over the window' })),
        pmOrdersPerSecond: Nullable(Type.Number({ description: "new orders per second the leading product manager forwarded in its last status interval" })),
        windowMs: Type.Integer(),
        source: Type.String(),
      },
      strict,
    ),
    latency: Nullable(
      Type.Object(
        { p99Us: Type.Number({ description: 'order round trip at the gateway, 99th percentile (bucket upper bound: within 12.5 % above)' }), p50Us: Type.Number(), orders: Type.Integer(), window: Type.String(), source: Type.String() },
        { ...strict, description: 'null until a gateway has answered an order' },
      ),
    ),
  },
  { ...strict, title: 'SystemStatus' },
);

const NOT_SUPERVISED = (runDir: string) =>
  failure(503, 'system_status_not_available', `no supervisor state in ${runDir} (supervisor.json): this gateway does not run under 'ims start', or IMS_RUN_DIR points elsewhere`, 5);

/** The run directory of this instance: the supervisor's IMS_RUN_DIR, else where this gateway's rings are. */
export function runDirOf(s: Pick<GatewayServices, 'config'>): string {
  const fromEnv = process.env['IMS_RUN_DIR'];
  return fromEnv !== undefined && fromEnv !== '' ? fromEnv : path.dirname(s.config.toPmRing);
}

/** Maps each ring file once; a file replaced under the same name (new inode) is mapped again. */
function cachingRingOpener(): (file: string) => RingFile {
  const rings = new Map<string, { ino: number; ring: RingFile }>();
  return (file) => {
    const ino = fs.statSync(file).ino;
    const hit = rings.get(file);
    if (hit !== undefined && hit.ino === ino) return hit.ring;
    if (rings.size >= MAX_CACHED_RINGS) rings.clear();
    const ring = RingFile.open(file);
    rings.set(file, { ino, ring });
    return ring;
  };
}

interface CounterSample {
  readonly atMs: number;
  readonly orders: number;
  readonly buckets: Float64Array;
}

/**
 * Orders/s and round-trip quantiles over the last THROUGHPUT_WINDOW_MS, from successive readings
 * of the gateways' counters files (cumulative counters and histograms: a window is a difference).
 */
export class ThroughputWindow {
  private readonly samples: CounterSample[] = [];

  /** Adds a reading and answers the window's figures. */
  add(atMs: number, orders: number, buckets: Float64Array): { ordersPerSecond: number | null; latency: { p99Us: number; p50Us: number; orders: number; window: string } | null } {
    while (this.samples.length > 0 && (this.samples.length >= MAX_THROUGHPUT_SAMPLES || atMs - this.samples[0]!.atMs > THROUGHPUT_WINDOW_MS)) this.samples.shift();
    // A gateway restarted (its counters began again): the old samples describe another process.
    if (this.samples.length > 0 && orders < this.samples.at(-1)!.orders) this.samples.length = 0;
    const base = this.samples[0];
    this.samples.push({ atMs, orders, buckets });
    const total = sum(buckets);
    if (base === undefined || atMs - base.atMs < STATUS_MIN_INTERVAL_MS) {
      return { ordersPerSecond: null, latency: total === 0 ? null : quantiles(buckets, total, 'since the gateways started') };
    }
    const delta = new Float64Array(BUCKET_COUNT);
    for (let i = 0; i < BUCKET_COUNT; i++) delta[i] = Math.max(0, buckets[i]! - base.buckets[i]!);
    const inWindow = sum(delta);
    const seconds = (atMs - base.atMs) / 1000;
    const latency = inWindow > 0 ? quantiles(delta, inWindow, `last ${seconds.toFixed(1)} s`) : total > 0 ? quantiles(buckets, total, 'since the gateways started (no order in the last seconds)') : null;
    return { ordersPerSecond: (orders - base.orders) / seconds, latency };
  }
}

function sum(a: Float64Array): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) n += a[i]!;
  return n;
}

function quantiles(buckets: Float64Array, count: number, window: string): { p99Us: number; p50Us: number; orders: number; window: string } {
  return { p99Us: quantileNs(buckets, 0.99) / 1000, p50Us: quantileNs(buckets, 0.5) / 1000, orders: count, window };
}

/** Every gateway's orders-in total and round-trip buckets, summed. */
function gatewayCounters(runDir: string): { orders: number; buckets: Float64Array; gateways: number } {
  const buckets = new Float64Array(BUCKET_COUNT);
  let orders = 0;
  let gateways = 0;
  for (const r of readProcessCounters(runDir)) {
    if (!r.process.startsWith('gateway')) continue;
    gateways++;
    orders += totalOf(r, ORDERS_IN);
    for (const h of r.raw.histograms) {
      if (h.name !== ROUND_TRIP) continue;
      for (let i = 0; i < BUCKET_COUNT; i++) buckets[i]! += h.buckets[i] ?? 0;
    }
  }
  return { orders, buckets, gateways };
}

/** The report with each engine's and product manager's role and epoch put on its process row. */
export function systemStatusJson(report: StatusReport, sampledAtMs: number, counters: { ordersPerSecond: number | null; latency: ReturnType<ThroughputWindow['add']>['latency']; source: string }): string {
  const engineOf = new Map((report.engines?.instances ?? []).map((e) => [`engine-${e.instance}`, e]));
  const pmOf = new Map((report.productManagers?.instances ?? []).map((p) => [`pm-${p.instance}`, p]));
  const leader = report.productManagers?.instances.find((p) => p.instance === report.productManagers?.leader) ?? null;
  return JSON.stringify({
    instance: report.instance,
    running: report.running,
    sampledAtMs,
    uptimeMs: report.uptimeMs,
    processes: report.processes.map((p) => {
      const e = engineOf.get(p.name);
      const m = pmOf.get(p.name);
      const role = e?.role ?? m?.role ?? null;
      const epoch = e?.epoch ?? m?.epoch ?? null;
      return { ...p, role, epoch };
    }),
    rings: report.rings,
    journal: report.journal,
    engines: report.engines,
    productManagers: report.productManagers,
    throughput: { ordersPerSecond: counters.ordersPerSecond, pmOrdersPerSecond: leader === null ? null : leader.ordersPerSecond, windowMs: THROUGHPUT_WINDOW_MS, source: counters.source },
    latency: counters.latency === null ? null : { ...counters.latency, source: counters.source },
  });
}

export function systemStatusRoutes(s: GatewayServices): RouteDeclaration[] {
  const runDir = runDirOf(s);
  const openRing = cachingRingOpener();
  const window = new ThroughputWindow();
  let last: { atMs: number; status: number; json: string } | null = null;
  const sample = (nowMs: number): { status: number; json: string } => {
    if (last !== null && nowMs - last.atMs < STATUS_MIN_INTERVAL_MS) return last;
    const state = readRunState(runDir);
    if (state === null) {
      const f = NOT_SUPERVISED(runDir);
      last = { atMs: nowMs, status: f.status, json: '' };
      return last;
    }
    const g = gatewayCounters(runDir);
    const figures = window.add(nowMs, g.orders, g.buckets);
    const source = g.gateways === 0 ? 'no gateway counters file in the run directory' : `${g.gateways} gateway counters file${g.gateways === 1 ? '' : 's'} (${ORDERS_IN}, ${ROUND_TRIP})`;
    last = { atMs: nowMs, status: 200, json: systemStatusJson(collectStatus(state, openRing), nowMs, { ...figures, source }) };
    return last;
  };
  return [
    declare({
      method: 'get',
      path: '/v1/admin/system-status',
      summary: 'Every process (cores, hot/warm role, epoch), ring lags, journal positions and orders/s, read from the run directory like `ims status`',
      tag: 'admin',
      access: SYSTEM_STATUS_ROLES,
      params: NoParams,
      query: EmptyQuery,
      body: undefined,
      success: { status: 200, schema: SystemStatus, description: `the instance now (re-read at most every ${STATUS_MIN_INTERVAL_MS} ms)` },
      errors: [401, 403, 429, 503],
      handle: (ex) => {
        let r: { status: number; json: string };
        try {
          r = sample(Date.now());
        } catch (err) {
          // A run directory half torn down (the instance stopping) is not a gateway bug.
          s.log.warn({ event: 'system-status-unreadable', runDir, err: (err as Error).message }, 'the run directory could not be read');
          return ex.fail(failure(503, 'system_status_not_available', `the run directory ${runDir} could not be read (${(err as Error).message}); retry shortly`, 1));
        }
        if (r.status !== 200) return ex.fail(NOT_SUPERVISED(runDir));
        ex.reply(200, r.json);
      },
    }),
  ];
}
