// Funds the provisioned colleagues the way an operator would: the demo administrator logs in and
// submits one sequenced admin command per colleague over REST (POST /v1/admin/deposits for a
// buyer, POST /v1/admin/inventory-receipts for a seller: the same Deposit and InventoryReceipt
// commands the control process writes for the demo colleagues). The gateway keeps its production
// limits, so the submissions are paced under the per-IP request rate and a 429 or 503 is retried
// after the delay it names. Then a probe order of the last buyer and the last seller shows the
// funds are in the product manager's wallets before any load starts.
import * as http from 'node:http';
import { DEFAULT_IP_REQUESTS_PER_SECOND } from '../../../processes/gateway/gateway-limits';
import { DEMO_PRODUCTS } from '../../../processes/control/demo-products';
import { BUYER_CASH_CENTS, SELLER_UNITS, flowOf, formatCents } from './flow';

/** Requests in flight at once while funding. */
const FUNDING_SOCKETS = 16;
/** Pace: 90 % of the gateway's per-IP request rate, so the run is not made of 429s. */
const FUNDING_PER_S = Math.floor(DEFAULT_IP_REQUESTS_PER_SECOND * 0.9);
/** Attempts per submission (each 429/503 waits as told, at least RETRY_MIN_MS). */
const MAX_ATTEMPTS = 50;
const RETRY_MIN_MS = 50;
/** How long the probe orders may take to find the funds. */
const PROBE_TIMEOUT_MS = 30_000;
/** Demo administrator (demo profile only; processes/accounts/demo-accounts.ts). */
const ADMIN = { username: 'admin', password: 'control-room-demo' };

interface Reply { status: number; body: string; retryAfterS: number }

function request(agent: http.Agent | undefined, port: number, method: string, path: string, token: string | undefined, body: unknown): Promise<Reply> {
  const text = body === undefined ? undefined : JSON.stringify(body);
  const headers: http.OutgoingHttpHeaders = {};
  if (token !== undefined) headers['authorization'] = `Bearer ${token}`;
  if (text !== undefined) { headers['content-type'] = 'application/json'; headers['content-length'] = Buffer.byteLength(text); }
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers, agent }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (data += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data, retryAfterS: Number(res.headers['retry-after'] ?? 0) }));
    });
    req.on('error', reject);
    req.end(text);
  });
}

export async function login(port: number, username: string, password: string): Promise<string> {
  const r = await request(undefined, port, 'POST', '/v1/sessions', undefined, { username, password });
  if (r.status !== 201) throw new Error(`login ${username}: ${r.status} ${r.body}`);
  return (JSON.parse(r.body) as { token: string }).token;
}

export interface FundingResult { submitted: number; retried: number; seconds: number }

/** Funds colleagues 0..accountIds.length-1 (by their flow side), paced, then probes. */
export async function fundColleagues(port: number, accountIds: readonly number[], colleagueTokens: readonly string[]): Promise<FundingResult> {
  const t0 = performance.now();
  const admin = await login(port, ADMIN.username, ADMIN.password);
  const agent = new http.Agent({ keepAlive: true, maxSockets: FUNDING_SOCKETS });
  let next = 0;
  let retried = 0;
  const started = performance.now();
  const submitOne = async (i: number): Promise<void> => {
    const f = flowOf(i);
    const accountId = accountIds[i]!;
    const [path, body] = f.side === 'inflow'
      ? ['/v1/admin/deposits', { accountId, amount: formatCents(BUYER_CASH_CENTS), reference: accountId }]
      : ['/v1/admin/inventory-receipts', { accountId, symbol: f.symbol, quantity: SELLER_UNITS, reference: accountId }];
    for (let attempt = 1; ; attempt++) {
      const r = await request(agent, port, 'POST', path, admin, body);
      if (r.status === 202) return;
      if ((r.status === 429 || r.status === 503) && attempt < MAX_ATTEMPTS) {
        retried++;
        await new Promise((res) => setTimeout(res, Math.max(RETRY_MIN_MS, r.retryAfterS * 1000)));
        continue;
      }
      throw new Error(`funding colleague ${i} (account ${accountId}) at ${path}: ${r.status} ${r.body}`);
    }
  };
  const worker = async (): Promise<void> => {
    for (;;) {
      const i = next++;
      if (i >= accountIds.length) return;
      // pace: submission i is due at started + i / FUNDING_PER_S
      const due = started + (i * 1000) / FUNDING_PER_S;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((res) => setTimeout(res, wait));
      await submitOne(i);
    }
  };
  try {
    await Promise.all(Array.from({ length: FUNDING_SOCKETS }, worker));
  } finally {
    agent.destroy();
  }
  await probe(port, accountIds.length, colleagueTokens);
  return { submitted: accountIds.length, retried, seconds: (performance.now() - t0) / 1000 };
}

/**
 * Places a resting order (5 % from the reference, inside the 10 % collar) as the last funded buyer
 * and the last funded seller and removes it again: accepted means their funds were applied (the
 * admin commands before them were sequenced in order).
 */
async function probe(port: number, count: number, tokens: readonly string[]): Promise<void> {
  const last = (side: 'inflow' | 'outflow'): number => {
    for (let i = count - 1; i >= 0; i--) if (flowOf(i).side === side) return i;
    return -1;
  };
  for (const side of ['inflow', 'outflow'] as const) {
    const i = last(side);
    if (i < 0) continue;
    const f = flowOf(i);
    const ref = DEMO_PRODUCTS.find((p) => p.symbol === f.symbol)!.referencePrice;
    const price = formatCents(Math.round((ref * (side === 'inflow' ? 0.95 : 1.05)) / 5) * 5);
    const deadline = Date.now() + PROBE_TIMEOUT_MS;
    for (;;) {
      const r = await request(undefined, port, 'POST', '/v1/transact', tokens[i], { symbol: f.symbol, side, price, quantity: 1 });
      const o = r.status === 200 ? (JSON.parse(r.body) as { id: string; status: string }) : undefined;
      if (o !== undefined && o.status !== 'rejected') {
        if (o.status === 'added' || o.status === 'partially_filled') await request(undefined, port, 'DELETE', `/v1/transact/${o.id}`, tokens[i], undefined);
        break;
      }
      if (Date.now() > deadline) throw new Error(`the funds of colleague ${i} (${side}) did not arrive in ${PROBE_TIMEOUT_MS} ms: last answer ${r.status} ${r.body}`);
      await new Promise((res) => setTimeout(res, 100));
    }
  }
}
