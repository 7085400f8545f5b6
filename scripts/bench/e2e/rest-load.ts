// Closed-loop REST load over keep-alive connections (node:http Agent, N sockets, N requests in
// flight): throughput and per-request latency. The same generator drives IMS's POST /v1/transact
// (with DELETE of own resting orders mixed in) and a bare uWebSockets.js JSON echo (the ceiling).
import { spawn } from 'node:child_process';
import * as http from 'node:http';
import * as path from 'node:path';
import * as hdr from 'hdr-histogram-js';
import { randomOrder, rand } from './orders';

export interface RestResult { requests: number; perS: number; p50: number; p99: number; p999: number; non2xx: number; codes: Record<string, number> }

export async function runRest(port: number, tokens: string[], sockets: number, seconds: number, echo: boolean): Promise<RestResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: sockets });
  const hist = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: 3 });
  const codes: Record<string, number> = {};
  let requests = 0;
  let non2xx = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  const worker = async (w: number): Promise<void> => {
    const token = tokens[w % tokens.length]!;
    const open: string[] = [];
    while (performance.now() < end) {
      let method = 'POST';
      let path = '/v1/transact';
      let body: string | undefined;
      if (!echo && open.length > 0 && (open.length > 50 || rand() < 0.125)) {
        method = 'DELETE';
        path = `/v1/transact/${open.shift()}`;
      } else {
        body = JSON.stringify(randomOrder());
      }
      const headers: http.OutgoingHttpHeaders = { authorization: `Bearer ${token}` };
      if (body !== undefined) { headers['content-type'] = 'application/json'; headers['content-length'] = Buffer.byteLength(body); }
      const t0 = performance.now();
      const [status, text] = await new Promise<[number, string]>((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port, method, path, agent, headers }, (res) => {
          let data = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => (data += d));
          res.on('end', () => resolve([res.statusCode ?? 0, data]));
        });
        req.on('error', reject);
        req.end(body);
      });
      hist.recordValue(Math.max(1, Math.round((performance.now() - t0) * 1000)));
      requests++;
      if (status < 200 || status > 299) {
        non2xx++;
        const m = /"error":"([a-z_]+)"/.exec(text);
        const k = `${status}:${m?.[1] ?? ''}`;
        codes[k] = (codes[k] ?? 0) + 1;
      } else if (!echo && method === 'POST') {
        const o = JSON.parse(text) as { id?: string; status?: string; order?: { id: string; status: string } };
        const ord = o.order ?? o;
        if (ord.id !== undefined && (ord.status === 'added' || ord.status === 'partially_filled')) open.push(ord.id);
      }
    }
  };
  await Promise.all(Array.from({ length: sockets }, (_, w) => worker(w)));
  const elapsed = (performance.now() - start) / 1000;
  agent.destroy();
  return { requests, perS: Math.round(requests / elapsed), p50: hist.getValueAtPercentile(50), p99: hist.getValueAtPercentile(99), p999: hist.getValueAtPercentile(99.9), non2xx, codes };
}

/** A bare uWebSockets.js server, in its own process (as the gateway is), that echoes the JSON
 *  body back: the REST ceiling on this machine. */
export async function startEcho(): Promise<{ port: number; close(): void }> {
  const code = `
    const uWS = require('uWebSockets.js');
    const app = uWS.App();
    app.any('/*', (res, req) => {
      let aborted = false; const chunks = [];
      res.onAborted(() => { aborted = true; });
      res.onData((ab, last) => {
        chunks.push(Buffer.from(ab.slice(0)));
        if (!last || aborted) return;
        const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
        res.cork(() => { res.writeHeader('content-type', 'application/json').end(body.length > 0 ? body : '{}'); });
      });
    });
    app.listen('127.0.0.1', 0, (t) => { if (!t) process.exit(1); process.stdout.write('port ' + uWS.us_socket_local_port(t) + '\\n'); });
    process.on('SIGTERM', () => process.exit(0));
  `;
  const child = spawn(process.execPath, ['-e', code], { cwd: path.resolve(__dirname, '..', '..', '..', '..'), stdio: ['ignore', 'pipe', 'inherit'] });
  const close = (): void => { if (child.exitCode === null && child.pid !== undefined) try { process.kill(child.pid, 'SIGTERM'); } catch { /* gone */ } };
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => { close(); reject(new Error('uWS echo did not start')); }, 10_000);
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const m = /port (\d+)/.exec(buf);
      if (m) { clearTimeout(timer); resolve({ port: Number(m[1]), close }); }
    });
    child.once('exit', (c) => { clearTimeout(timer); reject(new Error(`uWS echo exited ${c}`)); });
  });
}
