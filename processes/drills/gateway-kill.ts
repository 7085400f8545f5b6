// The gateway-kill drill behind `ims drill gateway-kill`: against a live, supervised instance with
// at least two gateways (`ims start --gateways 2`), run a steady order load through WebSocket
// clients spread over every gateway, SIGKILL one gateway, and check what its clients live through:
// they see the connection close, reconnect to another gateway, send again every order they had no
// answer for with the same clientOrderId, and carry on; the supervisor restarts the killed gateway,
// which serves again (a client of the load connects to it and trades). Then the audit
// (client-order-audit.ts): every acknowledged order is journaled exactly once, an order whose
// answer was lost with the gateway at most once, the journal verifies and replays to the engine's
// recorded outputs and state hashes, and cash and stock are conserved.
//
//   const report = await runGatewayKillDrill({ runDir: '/dev/shm/ims-main' });
//   process.stdout.write(formatGatewayKillDrillReport(report) + '\n');
//
// Gateways may share their ports (the default: SO_REUSEPORT, the kernel picks a gateway for each new
// connection) or each have their own (ports 0): which gateway serves each client connection is read
// from /proc (gateway-endpoints.ts connectionOwner), so the report names the gateways either way.
//
// Times are performance.now() of the drill's process, where both the kill and the clients are:
//   detection  kill → a client of the killed gateway sees its connection close
//   RTO        kill → the first acknowledgement a client of the killed gateway gets on its new
//              connection (it detected, reconnected, resent and was answered)
//   recovered  kill → every client of the killed gateway has had such an acknowledgement
//   restarted  kill → the supervisor's new gateway process answers GET /health on its trading port

import * as crypto from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { auditDrillLoad, formatClientOrderAudit, formatJournalAudit, journalDirsOf, waitForEngineCheckpoint, type ClientOrderAudit, type JournalAuditSummary, type JournalDirs } from './client-order-audit';
import { findGatewayEndpoints, gatewayEndpointOf, supervisedPid, type GatewayEndpoint } from './gateway-endpoints';
import { wsOrderLoadOptionsOf, type WsLoadDrillOptions } from './ws-load-options';
import { WsOrderLoad } from './ws-order-load';

/** The load's options (ws-load-options.ts; 8 clients by default) and these. */
export interface GatewayKillDrillOptions extends WsLoadDrillOptions {
  /** The instance's run directory (supervisor.json, journal.ring, journal.status). */
  readonly runDir: string;
  /** The gateway to kill. Default 1. */
  readonly gatewayId?: number;
  /** Load before the kill. Default 3,000 ms. */
  readonly loadBeforeKillMs?: number;
  /** Load after the kill (at least until the killed gateway is back). Default 3,000 ms. */
  readonly loadAfterKillMs?: number;
  /** How long the killed gateway's clients are given to trade again. Default 10,000 ms. */
  readonly recoveryTimeoutMs?: number;
  /** How long the supervisor is given to bring the killed gateway back; 0 = do not wait. Default 20,000 ms. */
  readonly waitForRestartMs?: number;
}

export interface GatewayKillDrillReport {
  ok: boolean;
  problems: string[];
  /** The gateways serving when the drill began. */
  gateways: Array<{ gatewayId: number; pid: number; port: number }>;
  /** The clientOrderId prefix of this run's orders. */
  tag: string;
  killed: { gatewayId: number; pid: number; port: number; clientsConnected: number; requestsInFlight: number } | null;
  /** Acknowledgements per second over the load before the kill. */
  acksPerSecondBeforeKill: number;
  /** Acknowledged before the kill, per gateway id. */
  acknowledgedBeforeKill: Record<string, number>;
  /** kill → the first / the last of the killed gateway's clients saw its connection close. */
  detectionMs: { first: number; last: number } | null;
  /** kill → the first acknowledgement on another connection for a client of the killed gateway. */
  rtoMs: number | null;
  /** kill → every client of the killed gateway acknowledged again. */
  recoveredMs: number | null;
  /** Where the killed gateway's clients went: gateway id → clients. */
  reconnectedTo: Record<string, number>;
  restarted: { pid: number; port: number; afterMs: number; acknowledged: number } | null;
  orders: ClientOrderAudit | null;
  journal: JournalAuditSummary | null;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
/** The gateways must all serve within this long of the drill's start. */
const GATEWAYS_READY_MS = 15_000;
/** Every client must have had an acknowledgement before the kill, within this long. */
const LOAD_READY_MS = 20_000;
const POLL_MS = 5;
/** Load kept running after the drill's own window until an engine checkpoint covers the kill, at most. */
const CHECKPOINT_WAIT_MS = 30_000;
/** How long the drill waits for a moment when the victim's clients have requests in flight. */
const IN_FLIGHT_WAIT_MS = 3_000;
/** Orders the client connected to the restarted gateway must have acknowledged before the load stops. */
const RESTARTED_GATEWAY_ACKS = 20;

function emptyReport(tag: string): GatewayKillDrillReport {
  return { ok: false, problems: [], gateways: [], tag, killed: null, acksPerSecondBeforeKill: 0, acknowledgedBeforeKill: {}, detectionMs: null, rtoMs: null, recoveredMs: null, reconnectedTo: {}, restarted: null, orders: null, journal: null };
}

/** Kills one gateway under a WebSocket load, measures the clients' failover and audits the journal. */
export async function runGatewayKillDrill(options: GatewayKillDrillOptions): Promise<GatewayKillDrillReport> {
  const tag = `gk${crypto.randomBytes(4).readUInt32BE(0).toString(36)}`;
  const report = emptyReport(tag);
  const fail = (text: string): GatewayKillDrillReport => {
    report.problems.push(text);
    report.ok = false;
    return report;
  };
  const host = options.host ?? '127.0.0.1';
  const victimId = options.gatewayId ?? 1;
  const victimName = `gateway-${victimId}`;

  // 1. Two gateways or more, all serving.
  let endpoints: GatewayEndpoint[] = [];
  const readyBy = Date.now() + GATEWAYS_READY_MS;
  for (;;) {
    try {
      endpoints = await findGatewayEndpoints(options.runDir, host);
    } catch (e) {
      return fail((e as Error).message);
    }
    if (endpoints.length >= 2 && endpoints.some((e) => e.gatewayId === victimId)) break;
    if (Date.now() > readyBy) {
      return fail(`${endpoints.length} gateway(s) serve (${endpoints.map((e) => `gateway ${e.gatewayId} on port ${e.port}`).join(', ') || 'none'}): the drill needs gateway ${victimId} and another, so start the instance with --gateways 2`);
    }
    await sleep(100);
  }
  report.gateways = endpoints.map((e) => ({ gatewayId: e.gatewayId, pid: e.pid, port: e.port }));
  let dirs: JournalDirs;
  try {
    dirs = journalDirsOf(options.runDir);
  } catch (e) {
    return fail((e as Error).message);
  }

  // 2. The load, spread over every gateway, until every client has been acknowledged.
  let load: WsOrderLoad;
  try {
    load = await WsOrderLoad.start(wsOrderLoadOptionsOf(options, endpoints, tag, 8));
  } catch (e) {
    return fail(`the load could not start: ${(e as Error).message}`);
  }
  try {
    const unknown = load.connections.filter((k) => k.gatewayId === 0).length;
    if (unknown > 0) return fail(`${unknown} connections reached a gateway the drill cannot name (the gateways share a port and /proc does not show their sockets): run the drill as the user that runs the gateways`);
    const loadStart = performance.now();
    await sleep(options.loadBeforeKillMs ?? 3_000);
    const loadReadyBy = performance.now() + LOAD_READY_MS;
    while (load.clients.some((c) => c.connection === null || c.connection.acks === 0)) {
      if (performance.now() > loadReadyBy) {
        const refusals = [...new Set(load.orders.filter((o) => o.rejection !== null).map((o) => o.rejection))].slice(0, 3).join('; ');
        return fail(`not every client had an order acknowledged within ${LOAD_READY_MS} ms of the load's start (refusals: ${refusals || 'none'}): is the market open, and do --symbol/--price fit a listed product?`);
      }
      await sleep(20);
    }
    for (const e of endpoints) report.acknowledgedBeforeKill[String(e.gatewayId)] = load.acknowledged(e.gatewayId);
    report.acksPerSecondBeforeKill = Math.round((load.acknowledged() * 1000) / (performance.now() - loadStart));

    // 3. The kill: the gateway the supervisor runs now, which must be the one the clients use.
    const victim = endpoints.find((e) => e.gatewayId === victimId)!;
    const pid = supervisedPid(options.runDir, victimName);
    if (pid !== victim.pid) return fail(`${victimName} changed pid while the drill prepared (${victim.pid} → ${pid}); run it again`);
    const onVictim = load.clients.filter((c) => c.connection !== null && c.connection.gatewayId === victimId);
    const victimConnections = onVictim.map((c) => c.connection!);
    if (onVictim.length === 0) return fail(`no client of the load is connected to ${victimName}`);
    // Kill while the victim's clients wait for answers, so the drill covers answers lost with the
    // gateway (the resend-with-the-same-clientOrderId path), not only idle connections.
    const inFlight = (): number => onVictim.reduce((n, c) => n + c.inFlight.size, 0);
    const inFlightBy = performance.now() + IN_FLIGHT_WAIT_MS;
    while (inFlight() === 0 && performance.now() < inFlightBy) await sleep(1);
    const requestsInFlight = inFlight();
    const journalSeqAtKill = dirs.visibleSeq();
    const killedAt = performance.now();
    try {
      process.kill(pid, 'SIGKILL');
    } catch (e) {
      return fail(`could not kill ${victimName} (pid ${pid}): ${(e as Error).message}`);
    }
    report.killed = { gatewayId: victimId, pid, port: victim.port, clientsConnected: onVictim.length, requestsInFlight };

    // 4. Detection and recovery of the killed gateway's clients.
    const recoverBy = killedAt + (options.recoveryTimeoutMs ?? 10_000);
    const recoveredAt = new Map<number, number>();
    while (performance.now() < recoverBy && recoveredAt.size < onVictim.length) {
      for (const c of onVictim) {
        if (recoveredAt.has(c.index)) continue;
        const after = load.connections.filter((k) => k.client === c.index && k.openedAtMs > killedAt && k.firstAckAtMs !== null);
        if (after.length > 0) recoveredAt.set(c.index, Math.min(...after.map((k) => k.firstAckAtMs!)));
      }
      await sleep(POLL_MS);
    }
    const closes = victimConnections.filter((k) => k.closedAtMs !== null).map((k) => k.closedAtMs! - killedAt);
    if (closes.length > 0) report.detectionMs = { first: Math.min(...closes), last: Math.max(...closes) };
    if (closes.length < victimConnections.length) report.problems.push(`${victimConnections.length - closes.length} of ${victimConnections.length} clients of the killed gateway never saw their connection close`);
    if (recoveredAt.size > 0) report.rtoMs = Math.min(...recoveredAt.values()) - killedAt;
    if (recoveredAt.size === onVictim.length) report.recoveredMs = Math.max(...recoveredAt.values()) - killedAt;
    else report.problems.push(`${onVictim.length - recoveredAt.size} of ${onVictim.length} clients of the killed gateway were not acknowledged again within ${options.recoveryTimeoutMs ?? 10_000} ms`);
    for (const c of onVictim) {
      const next = load.connections.find((k) => k.client === c.index && k.openedAtMs > killedAt);
      if (next !== undefined) report.reconnectedTo[String(next.gatewayId)] = (report.reconnectedTo[String(next.gatewayId)] ?? 0) + 1;
    }

    // 5. The supervisor brings the killed gateway back; a new client trades through it.
    const restartWait = options.waitForRestartMs ?? 20_000;
    if (restartWait > 0) {
      const until = killedAt + restartWait;
      let back: GatewayEndpoint | null = null;
      while (performance.now() < until) {
        const newPid = supervisedPid(options.runDir, victimName);
        if (newPid !== 0 && newPid !== pid) back = await gatewayEndpointOf(victimName, newPid, host);
        if (back !== null) break;
        await sleep(20);
      }
      if (back === null) {
        report.problems.push(`the supervisor did not bring ${victimName} back (serving GET /health) within ${restartWait} ms`);
      } else {
        const afterMs = performance.now() - killedAt;
        load.setEndpoints(endpoints.map((e) => (e.gatewayId === victimId ? back! : e)));
        const probe = await load.addClient(back).catch((e: Error) => {
          report.problems.push(`a client could not connect to the restarted ${victimName}: ${e.message}`);
          return null;
        });
        report.restarted = { pid: back.pid, port: back.port, afterMs, acknowledged: 0 };
        if (probe !== null) {
          // The restarted gateway carries its share of the load for a while, not a single order.
          const probeBy = performance.now() + 10_000;
          while (performance.now() < probeBy && load.acknowledgedBy(probe) < RESTARTED_GATEWAY_ACKS) await sleep(20);
        }
      }
    }
    const loadAfter = options.loadAfterKillMs ?? 3_000;
    const remaining = killedAt + loadAfter - performance.now();
    if (remaining > 0) await sleep(remaining);
    if (!(await waitForEngineCheckpoint(options.runDir, journalSeqAtKill, CHECKPOINT_WAIT_MS))) {
      report.problems.push(`no engine checkpoint after journal seq ${journalSeqAtKill} (the kill) within ${CHECKPOINT_WAIT_MS} ms more of load: the state hash cannot be compared over the drill`);
    }

    // 6. Every order answered, then the audit.
    const drained = await load.drain(options.drainTimeoutMs ?? 15_000);
    if (report.restarted !== null) {
      const restartedId = report.restarted.pid;
      report.restarted.acknowledged = load.connections.filter((k) => k.gatewayId === victimId && k.openedAtMs > killedAt).reduce((n, k) => n + k.acks, 0);
      if (report.restarted.acknowledged < RESTARTED_GATEWAY_ACKS) report.problems.push(`the restarted ${victimName} (pid ${restartedId}) acknowledged ${report.restarted.acknowledged} orders, fewer than ${RESTARTED_GATEWAY_ACKS}`);
    }
    if (!drained) report.problems.push(`${load.unansweredOrders} orders were still unanswered ${options.drainTimeoutMs ?? 15_000} ms after the load stopped`);
  } finally {
    load.close();
  }
  try {
    auditDrillLoad(report, options.runDir, dirs, load.orders, tag, 'no order was acknowledged: the drill proved nothing');
  } catch (e) {
    report.problems.push(`the audit could not read the journal: ${(e as Error).message}`);
  }
  report.ok = report.problems.length === 0;
  return report;
}

/** The report as a few readable lines. */
export function formatGatewayKillDrillReport(r: GatewayKillDrillReport): string {
  const ms = (v: number | null | undefined): string => (v === null || v === undefined ? '-' : `${v.toFixed(1)} ms`);
  const lines = [`gateway-kill drill: ${r.ok ? 'PASSED' : 'FAILED'}`];
  lines.push(`  gateways   ${r.gateways.map((g) => `gateway ${g.gatewayId} pid ${g.pid} port ${g.port}`).join(', ')}; orders tagged ${r.tag}-*`);
  if (r.killed !== null) {
    const before = Object.entries(r.acknowledgedBeforeKill).map(([g, n]) => `gateway ${g}: ${n}`).join(', ');
    lines.push(`  killed     gateway ${r.killed.gatewayId} pid ${r.killed.pid} (port ${r.killed.port}) with ${r.killed.clientsConnected} clients and ${r.killed.requestsInFlight} requests in flight; ${r.acksPerSecondBeforeKill} acks/s before (${before})`);
  }
  lines.push(`  detection  ${ms(r.detectionMs?.first)} (last client ${ms(r.detectionMs?.last)}); RTO (first ack on a new connection) ${ms(r.rtoMs)}; every client recovered ${ms(r.recoveredMs)}`);
  const moved = Object.entries(r.reconnectedTo).map(([g, n]) => `${n} to gateway ${g}`).join(', ');
  if (moved !== '') lines.push(`  reconnect  ${moved}`);
  if (r.restarted !== null) lines.push(`  restarted  pid ${r.restarted.pid} port ${r.restarted.port}, serving ${r.restarted.afterMs.toFixed(0)} ms after the kill; ${r.restarted.acknowledged} orders acknowledged through it`);
  if (r.orders !== null) lines.push(`  orders     ${formatClientOrderAudit(r.orders)}`);
  if (r.journal !== null) lines.push(`  journal    ${formatJournalAudit(r.journal)}`);
  for (const p of r.problems) lines.push(`  PROBLEM    ${p}`);
  return lines.join('\n');
}
