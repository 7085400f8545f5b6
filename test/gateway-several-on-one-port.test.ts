// `ims start --gateways 2` with fixed ports: both gateway processes listen on the SAME trading port
// and the SAME public port (uWS binds with SO_REUSEPORT), the kernel spreads new connections over
// them, and each takes orders over its own rings to the product manager (REST and WebSocket).
//
// The ports are chosen below the kernel's ephemeral range and probed free first: a port the kernel
// hands out for "port 0" could otherwise be bound by another test at the same moment, and since
// every test runs as the same user SO_REUSEPORT would silently share it.
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import t from 'tap';
import { createImsInstance, until } from './support/ims-instance';
import { isRefusal, TestWebSocket } from './support/gateway-ws-client';

/** Connections opened to find both gateways behind the port, at most. */
const MAX_PROBES = 200;

function ephemeralLow(): number {
  try {
    return Number(fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || 32768;
  } catch {
    return 32768;
  }
}

function probeFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '0.0.0.0', () => server.close(() => resolve(true)));
  });
}

/** Two free ports below the ephemeral range (random, so parallel test files do not collide). */
async function pickPorts(): Promise<[number, number]> {
  const high = Math.min(ephemeralLow(), 32768) - 2;
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * (high - 20_000));
    if ((await probeFree(port)) && (await probeFree(port + 1))) return [port, port + 1];
  }
  throw new Error('no two free ports found below the ephemeral range');
}

interface Answer {
  status: number;
  json: any;
}

/** One HTTP request on `agent` (a keep-alive agent of one socket = one client connection). */
function request(agent: http.Agent, port: number, method: string, path: string, body?: unknown, token?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const text = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(
      { host: '127.0.0.1', port, method, path, agent, headers: { ...(text !== undefined ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) } : {}), ...(token !== undefined ? { authorization: `Bearer ${token}` } : {}) } },
      (res) => {
        let data = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (data += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: data === '' ? null : JSON.parse(data) }));
      },
    );
    req.setTimeout(15_000, () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.on('error', reject);
    req.end(text);
  });
}

let inst: ReturnType<typeof createImsInstance>;
let tradingPort = 0;
let publicPort = 0;

t.before(async () => {
  [tradingPort, publicPort] = await pickPorts();
  inst = createImsInstance('oneport', ['--gateways', '2', '--trading-port', String(tradingPort), '--public-port', String(publicPort)]);
  inst.start();
  await until('both gateways to listen', () => (inst.log().match(/"event":"gateway-ready"/g) ?? []).length >= 2, 180_000);
  await until('the demo day to open', () => /"event":"trading-day-open"/.test(inst.log()), 180_000);
  await until('a hot engine', () => /"event":"engine-hot"/.test(inst.log()), 120_000);
});
t.teardown(() => inst?.destroy());

t.test('both gateways report the same trading and public port', async (t) => {
  // Each line is "[gateway-n] {json}"; the JSON's field order is the logger's business.
  const ready = inst
    .log()
    .split('\n')
    .filter((line) => line.includes('"event":"gateway-ready"'))
    .map((line) => JSON.parse(line.slice(line.indexOf('{'))) as { gatewayId: number; tradingPort: number; publicPort: number })
    .map((e) => ({ id: e.gatewayId, trading: e.tradingPort, pub: e.publicPort }));
  t.same(new Set(ready.map((r) => r.id)), new Set([1, 2]), 'gateway 1 and gateway 2 are ready');
  t.ok(ready.every((r) => r.trading === tradingPort && r.pub === publicPort), `both on ${tradingPort} (trading) and ${publicPort} (public): ${JSON.stringify(ready)}`);
});

t.test('connections to the one port reach both gateways, and each takes orders over its own rings', async (t) => {
  const login = await request(new http.Agent(), tradingPort, 'POST', '/v1/sessions', { username: 'alice', password: 'kiosk-101-demo' });
  t.equal(login.status, 201);
  const token = login.json.token as string;
  const placedOn = new Map<number, Answer>();
  const publicSeen = new Set<number>();
  for (let probe = 0; probe < MAX_PROBES && (placedOn.size < 2 || publicSeen.size < 2); probe++) {
    // A fresh one-socket agent is a fresh client connection: the kernel picks its gateway.
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const health = await request(agent, tradingPort, 'GET', '/health');
      const id = health.json.gatewayId as number;
      if (!placedOn.has(id)) {
        // The same socket, so the same gateway: an order through it.
        const placed = await request(agent, tradingPort, 'POST', '/v1/transact', { symbol: 'APPL-128', side: 'inflow', price: '880.00', quantity: 1, clientOrderId: `oneport-${id}` }, token);
        placedOn.set(id, placed);
      }
      const pub = new http.Agent({ keepAlive: false });
      publicSeen.add((await request(pub, publicPort, 'GET', '/health')).json.gatewayId as number);
      pub.destroy();
    } finally {
      agent.destroy();
    }
  }
  t.same([...placedOn.keys()].sort(), [1, 2], 'trading connections landed on gateway 1 and on gateway 2');
  t.same([...publicSeen].sort(), [1, 2], 'public connections landed on both as well');
  for (const [id, placed] of placedOn) {
    t.equal(placed.status, 200, `gateway ${id} placed the order (${JSON.stringify(placed.json)})`);
    t.match(placed.json, { status: 'added', clientOrderId: `oneport-${id}` });
  }
  t.not(placedOn.get(1)?.json?.id, placedOn.get(2)?.json?.id, 'two orders, one through each gateway');
});

t.test('WebSocket streams on the one port spread over both gateways and each answers orders', async (t) => {
  const login = await request(new http.Agent(), tradingPort, 'POST', '/v1/sessions', { username: 'bruno', password: 'kiosk-102-demo' });
  const token = login.json.token as string;
  const streams: TestWebSocket[] = [];
  t.teardown(() => streams.forEach((s) => s.destroy()));
  // Up to 16 streams per account are allowed; 12 land on both gateways unless the kernel is
  // very unlucky (2 × 2^-12), and then a second round of connections is opened.
  const openOn = async (): Promise<Map<number, number>> => {
    const counts = new Map<number, number>();
    for (let probe = 0; probe < 40 && counts.size < 2; probe++) {
      const h = await request(new http.Agent({ keepAlive: false }), tradingPort, 'GET', '/health');
      counts.set(h.json.gatewayId, h.json.streams);
    }
    return counts;
  };
  for (let round = 0; round < 2; round++) {
    for (let i = 0; i < 6; i++) {
      const ws = await TestWebSocket.connect(tradingPort, { protocols: ['ims.v1', `ims-token.${token}`] });
      if (isRefusal(ws)) throw new Error(`stream refused: ${ws.status} ${ws.body}`);
      streams.push(ws);
    }
    const counts = await openOn();
    if ([...counts.values()].filter((n) => n > 0).length === 2) break;
  }
  const counts = await openOn();
  t.equal(counts.size, 2, 'both gateways answered /health on the port');
  t.ok([...counts.values()].every((n) => n > 0), `each gateway holds some of the streams: ${JSON.stringify([...counts])}`);
  t.equal([...counts.values()].reduce((a, b) => a + b, 0), streams.length, 'and together all of them');
  const answers = await Promise.all(
    streams.map((ws, i) => ws.request({ type: 'place', requestId: `p${i}`, order: { symbol: 'APPL-128', side: 'inflow', price: '870.00', quantity: 1 } }, 20_000)),
  );
  t.ok(answers.every((a: any) => a.type === 'result' && a.status === 200 && a.order.status === 'added'), 'every stream, on either gateway, got its order answered');
});
