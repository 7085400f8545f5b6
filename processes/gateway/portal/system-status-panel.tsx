// System status, live: GET /v1/admin/system-status every POLL_MS (the gateway reads the run
// directory like `ims status`): each process with its cores, hot/warm role and epoch, ring
// consumer lags, the journal's head / durable / visible sequence, orders per second and the p99
// order round trip at the gateways (from their counters files, over the last few seconds).

import { useEffect, useState } from 'preact/hooks';
import { api, ApiError } from './api-client';

export const POLL_MS = 1_000;

interface ProcessRow {
  readonly name: string;
  readonly pid: number;
  readonly alive: boolean;
  readonly cpus: readonly number[];
  readonly status: string;
  readonly restarts: number;
  readonly lastExit: string | null;
  readonly role: string | null;
  readonly epoch: number | null;
}

interface SystemStatus {
  readonly instance: string;
  readonly running: boolean;
  readonly sampledAtMs: number;
  readonly uptimeMs: number;
  readonly processes: readonly ProcessRow[];
  readonly rings: ReadonlyArray<{ name: string; tail: number; records: number; consumers: ReadonlyArray<{ name: string; lag: number; gating: boolean; alive: boolean; lapped: number }> }>;
  readonly journal: { state: string; durability: string; headSeq: number; durableSeq: number; visibleSeq: number; consumers?: ReadonlyArray<{ name: string; lastSeq: number; lagEntries: number }> } | null;
  readonly engines: { hot: string | null; hashesAgree: boolean | null; lease: { epoch: number } | null } | null;
  readonly productManagers: { leader: string | null; lease: { epoch: number } | null } | null;
  readonly throughput: { ordersPerSecond: number | null; pmOrdersPerSecond: number | null; windowMs: number; source: string };
  readonly latency: { p99Us: number; p50Us: number; orders: number; window: string; source: string } | null;
}

function age(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

export function SystemStatusPanel(): preact.JSX.Element {
  const [status, setStatus] = useState<SystemStatus | null>(null);
  const [problem, setProblem] = useState('');
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | null = null;
    const poll = (): void => {
      api<SystemStatus>('GET', '/v1/admin/system-status').then(
        (s) => {
          if (stopped) return;
          setStatus(s);
          setProblem('');
          timer = setTimeout(poll, POLL_MS);
        },
        (e: Error) => {
          if (stopped) return;
          setProblem(e instanceof ApiError ? `${e.detail} (${e.code})` : e.message);
          // A role that may not read it will not be allowed on the next poll either.
          if (!(e instanceof ApiError && (e.status === 403 || e.status === 401))) timer = setTimeout(poll, POLL_MS);
        },
      );
    };
    poll();
    return () => {
      stopped = true;
      if (timer !== null) clearTimeout(timer);
    };
  }, []);

  const j = status?.journal ?? null;
  const lags = (status?.rings ?? []).flatMap((r) => r.consumers.map((c) => ({ ring: r.name, ...c })));
  return (
    <section class="card system" aria-labelledby="system-title">
      <h2 id="system-title">System status</h2>
      {problem !== '' && (
        <p class="form-error" role="alert">
          {problem}
        </p>
      )}
      {status === null ? (
        <p class="muted">Reading the system…</p>
      ) : (
        <>
          <dl class="facts">
            <div>
              <dt>Instance</dt>
              <dd id="status-instance">
                {status.instance} · {status.running ? `up ${age(status.uptimeMs)}` : 'NOT running'}
              </dd>
            </div>
            <div>
              <dt>Journal</dt>
              <dd>
                {j === null ? (
                  'no status file'
                ) : (
                  <>
                    head <span id="status-journal-head">{j.headSeq}</span> · durable <span id="status-journal-durable">{j.durableSeq}</span> · visible <span id="status-journal-visible">{j.visibleSeq}</span> ({j.state}, {j.durability})
                  </>
                )}
              </dd>
            </div>
            <div>
              <dt>Engines</dt>
              <dd id="status-engines">{status.engines === null ? 'no lease' : `hot ${status.engines.hot ?? 'NONE'}, epoch ${status.engines.lease?.epoch ?? '-'}, state hashes ${status.engines.hashesAgree === null ? 'not compared yet' : status.engines.hashesAgree ? 'agree' : 'DIFFER'}`}</dd>
            </div>
            <div>
              <dt>Product managers</dt>
              <dd id="status-pms">{status.productManagers === null ? 'no lease' : `leader ${status.productManagers.leader ?? 'NONE'}, epoch ${status.productManagers.lease?.epoch ?? '-'}`}</dd>
            </div>
            <div>
              <dt>Orders/s</dt>
              <dd id="status-orders-per-second" title={status.throughput.source}>
                {status.throughput.ordersPerSecond === null ? '–' : status.throughput.ordersPerSecond.toFixed(1)}
              </dd>
            </div>
            <div>
              <dt>p99 order round trip</dt>
              <dd id="status-p99" title={status.latency === null ? 'no order answered yet' : `${status.latency.orders} orders, ${status.latency.window}; p50 ${(status.latency.p50Us / 1000).toFixed(2)} ms`}>
                {status.latency === null ? 'no order yet' : `${(status.latency.p99Us / 1000).toFixed(2)} ms`}
              </dd>
            </div>
          </dl>
          <table class="processes">
            <caption class="sr-only">Processes</caption>
            <thead>
              <tr>
                <th scope="col">Process</th>
                <th scope="col" class="num">
                  PID
                </th>
                <th scope="col">Cores</th>
                <th scope="col">Status</th>
                <th scope="col">Role</th>
                <th scope="col" class="num">
                  Epoch
                </th>
                <th scope="col" class="num">
                  Restarts
                </th>
              </tr>
            </thead>
            <tbody>
              {status.processes.map((p) => (
                <tr key={p.name} data-process={p.name} class={p.alive ? '' : 'down'}>
                  <th scope="row">{p.name}</th>
                  <td class="num">{p.pid}</td>
                  <td>{p.cpus.join(',')}</td>
                  <td>{p.status}</td>
                  <td data-field="role">{p.role === null ? '' : <span class={`role ${p.role}`}>{p.role}</span>}</td>
                  <td class="num" data-field="epoch">
                    {p.epoch ?? ''}
                  </td>
                  <td class="num">{p.restarts}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <details class="lags" open>
            <summary>Ring lags ({lags.filter((l) => l.lag > 0).length} consumers behind)</summary>
            <table>
              <thead>
                <tr>
                  <th scope="col">Ring</th>
                  <th scope="col">Consumer</th>
                  <th scope="col" class="num">
                    Lag (bytes)
                  </th>
                  <th scope="col">Kind</th>
                </tr>
              </thead>
              <tbody>
                {lags.map((l) => (
                  <tr key={`${l.ring}/${l.name}`} data-ring={l.ring} data-consumer={l.name}>
                    <td>{l.ring}</td>
                    <td>{l.name}</td>
                    <td class="num" data-field="lag">
                      {l.lag}
                    </td>
                    <td>
                      {l.gating ? 'gating' : 'non-gating'}
                      {l.lapped > 0 ? `, lapped ${l.lapped}×` : ''}
                      {l.alive ? '' : ', detached'}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </details>
        </>
      )}
    </section>
  );
}
