// Where the gateways of a supervised instance take WebSocket clients: for each `gateway-<n>` the
// supervisor runs (supervisor.json), its pid, gateway id (--gateway-id) and trading port. The port
// comes from the process's own command line (--trading-port) once the process listens on it; when
// it is 0 (any free port, as tests start it), from the sockets the process listens on
// (/proc/<pid>/fd against /proc/net/tcp*), asking each one's GET /health which listener it is.
//
// Gateways may share one port (uWS binds with SO_REUSEPORT; the kernel spreads new connections over
// them), so "the port of gateway 2" does not say which gateway a connection reached:
// connectionOwner() finds the process holding the server side of a connection in /proc.
//
//   const gateways = await findGatewayEndpoints(runDir);   // [{ name: 'gateway-1', gatewayId: 1, pid, host, port }, ...]
//   const owner = connectionOwner(port, socket.localPort, gateways);   // the endpoint whose process serves it

import * as fs from 'node:fs';
import { pidAlive, readRunState } from '../supervisor/run-state';

export interface GatewayEndpoint {
  /** The supervisor's process name, gateway-<n>. */
  readonly name: string;
  readonly gatewayId: number;
  readonly pid: number;
  readonly host: string;
  /** The trading listener (REST, WebSocket /v1/stream). */
  readonly port: number;
}

/** How long one GET /health may take before the port counts as not answering. */
const HEALTH_TIMEOUT_MS = 2_000;
/** Listening sockets of one process looked at, at most (a gateway has two). */
const MAX_LISTENING_SOCKETS = 16;
const TCP_LISTEN_STATE = '0A';
const TCP_ESTABLISHED_STATE = '01';

/** The value of `--flag <v>` in a process's command line, or null. */
export function commandLineOption(pid: number, flag: string): string | null {
  let args: string[];
  try {
    args = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return null;
  }
  const i = args.indexOf(flag);
  return i >= 0 && i + 1 < args.length ? args[i + 1]! : null;
}

/** The socket inodes `pid` holds, or null when its descriptors cannot be read (another user's process). */
function socketInodes(pid: number): Set<string> | null {
  const inodes = new Set<string>();
  let fds: string[];
  try {
    fds = fs.readdirSync(`/proc/${pid}/fd`);
  } catch {
    return null;
  }
  for (const fd of fds) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m !== null) inodes.add(m[1]!);
    } catch {
      // The descriptor closed while we looked: not one we need.
    }
  }
  return inodes;
}

interface TcpRow {
  readonly localPort: number;
  readonly remotePort: number;
  readonly state: string;
  readonly inode: string;
}

/** The rows of /proc/<pid>/net/tcp and tcp6 (this network namespace's TCP sockets). */
function tcpRows(pid: number | 'self'): TcpRow[] {
  const rows: TcpRow[] = [];
  for (const table of [`/proc/${pid}/net/tcp`, `/proc/${pid}/net/tcp6`]) {
    let text: string;
    try {
      text = fs.readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
      const cols = line.trim().split(/\s+/);
      if (cols.length < 10) continue;
      rows.push({ localPort: parseInt(cols[1]!.split(':')[1]!, 16), remotePort: parseInt(cols[2]!.split(':')[1]!, 16), state: cols[3]!, inode: cols[9]! });
    }
  }
  return rows;
}

/** The TCP ports `pid` listens on (IPv4 and IPv6), or null when /proc does not let us see them. */
export function listeningPorts(pid: number): number[] | null {
  const inodes = socketInodes(pid);
  if (inodes === null) return null;
  const ports: number[] = [];
  for (const row of tcpRows(pid)) {
    if (row.state !== TCP_LISTEN_STATE || !inodes.has(row.inode) || ports.includes(row.localPort)) continue;
    ports.push(row.localPort);
    if (ports.length >= MAX_LISTENING_SOCKETS) break;
  }
  return ports;
}

/**
 * The gateway whose process holds the server side of the connection from local port `clientPort`
 * to `serverPort` (this machine), or null when none of `candidates` does (or /proc is not readable).
 */
export function connectionOwner<T extends { readonly pid: number }>(serverPort: number, clientPort: number, candidates: readonly T[]): T | null {
  const inodes = tcpRows('self')
    .filter((r) => r.state === TCP_ESTABLISHED_STATE && r.localPort === serverPort && r.remotePort === clientPort)
    .map((r) => r.inode);
  if (inodes.length === 0) return null;
  for (const c of candidates) {
    const held = socketInodes(c.pid);
    if (held !== null && inodes.some((i) => held.has(i))) return c;
  }
  return null;
}

/** GET /health of host:port: which listener and gateway answered, or null when nothing did. */
export async function gatewayHealth(host: string, port: number): Promise<{ listener: string; gatewayId: number; status: string } | null> {
  try {
    const res = await fetch(`http://${host}:${port}/health`, { signal: AbortSignal.timeout(HEALTH_TIMEOUT_MS) });
    const body = (await res.json()) as { listener?: unknown; gatewayId?: unknown; status?: unknown };
    if (typeof body.listener !== 'string' || typeof body.gatewayId !== 'number') return null;
    return { listener: body.listener, gatewayId: body.gatewayId, status: String(body.status) };
  } catch {
    return null;
  }
}

/** The trading endpoint of one gateway process, or null while it does not serve (yet). */
export async function gatewayEndpointOf(name: string, pid: number, host: string): Promise<GatewayEndpoint | null> {
  if (!pidAlive(pid)) return null;
  const gatewayId = Number(commandLineOption(pid, '--gateway-id') ?? /^gateway-(\d+)$/.exec(name)?.[1] ?? 'NaN');
  if (!Number.isInteger(gatewayId)) return null;
  const configured = Number(commandLineOption(pid, '--trading-port') ?? 'NaN');
  const listening = listeningPorts(pid);
  if (Number.isInteger(configured) && configured > 0) {
    // A shared port answers /health from whichever gateway the kernel picks: that this process
    // listens on it is the proof that it serves. Without /proc access, /health is all there is.
    if (listening !== null) return listening.includes(configured) ? { name, gatewayId, pid, host, port: configured } : null;
    return (await gatewayHealth(host, configured))?.listener === 'trading' ? { name, gatewayId, pid, host, port: configured } : null;
  }
  // Any free port: this process's own ports, one of them the trading listener.
  for (const port of listening ?? []) {
    const health = await gatewayHealth(host, port);
    if (health !== null && health.listener === 'trading' && health.gatewayId === gatewayId) return { name, gatewayId, pid, host, port };
  }
  return null;
}

/** Every gateway of the instance in `runDir` that serves now, in gateway order. */
export async function findGatewayEndpoints(runDir: string, host = '127.0.0.1'): Promise<GatewayEndpoint[]> {
  const state = readRunState(runDir);
  if (state === null) throw new Error(`no supervisor.json in ${runDir}: is the instance running (ims start), and is --instance/--run-dir right?`);
  const out: GatewayEndpoint[] = [];
  for (const p of state.processes) {
    if (!/^gateway-\d+$/.test(p.name) || p.pid <= 0) continue;
    const e = await gatewayEndpointOf(p.name, p.pid, host);
    if (e !== null) out.push(e);
  }
  return out.sort((a, b) => a.gatewayId - b.gatewayId);
}

/** The supervisor's current pid for process `name` (0 when none is recorded). */
export function supervisedPid(runDir: string, name: string): number {
  return readRunState(runDir)?.processes.find((p) => p.name === name)?.pid ?? 0;
}
