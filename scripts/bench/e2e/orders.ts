// The order flow: 5 demo colleagues, 10 products, prices a few ticks either side of the reference
// price so about half the orders cross, quantity 1..3, and cancels of the sender's own resting
// orders (about 1 message in 8, more when too many rest).
import * as http from 'node:http';
import { DEMO_PRODUCTS } from '../../../processes/control/demo-products';

export const COLLEAGUES = [
  ['alice', 'kiosk-101-demo'], ['bruno', 'kiosk-102-demo'], ['chen', 'kiosk-103-demo'], ['dara', 'kiosk-104-demo'], ['emeka', 'kiosk-105-demo'],
] as const;

// 10 products from different brands; a step of 5 cents is on tick for every demo product.
const PRODUCTS = DEMO_PRODUCTS.filter((_, i) => i % 10 === 1).map((p) => ({ symbol: p.symbol, ref: p.referencePrice }));

let seed = 0x2545f491;
export function rand(): number {
  seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5;
  return (seed >>> 0) / 4294967296;
}

export function randomOrder(): { symbol: string; side: 'inflow' | 'outflow'; price: string; quantity: number } {
  const p = PRODUCTS[Math.floor(rand() * PRODUCTS.length)]!;
  const side = rand() < 0.5 ? 'inflow' : 'outflow';
  // inflows at ref-4..ref+2 ticks, outflows at ref-2..ref+4: overlapping ranges cross often
  const k = Math.floor(rand() * 7) - (side === 'inflow' ? 4 : 2);
  const cents = p.ref + k * 5;
  return { symbol: p.symbol, side, price: `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`, quantity: 1 + Math.floor(rand() * 3) };
}

export async function login(port: number, username: string, password: string): Promise<string> {
  const body = JSON.stringify({ username, password });
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/v1/sessions', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      let data = '';
      res.on('data', (d) => (data += d));
      res.on('end', () => {
        if (res.statusCode !== 201) return reject(new Error(`login ${username}: ${res.statusCode} ${data}`));
        resolve((JSON.parse(data) as { token: string }).token);
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** PUT /v1/admin/risk-rules as the demo risk admin (202: sequenced, applies shortly after). */
export async function setRiskRule(port: number, token: string, kind: string, limit: string): Promise<void> {
  const body = JSON.stringify({ kind, limit });
  await new Promise<void>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'PUT', path: '/v1/admin/risk-rules', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      let data = '';
      res.on('data', (d) => (data += d));
      res.on('end', () => (res.statusCode === 202 ? resolve() : reject(new Error(`risk rule ${kind}: ${res.statusCode} ${data}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
}
