// What each of the benchmark's colleagues does, decided from its index alone so that the
// orchestrator (which funds the accounts) and the client workers (which trade them) agree without
// exchanging more than the index.
//
// Colleague i trades one product (i mod 100, every demo product) on one side: even "rounds" buy
// (inflows, funded with cash), odd rounds sell (outflows, funded with stock of that product).
// Inflows are priced 4 ticks below to 2 above the reference, outflows 2 below to 4 above, so the
// ranges overlap and roughly half the orders cross: executions flow back to both sides. Quantity
// 1 or 2. A colleague removes one of its own resting orders about one message in 8, and always
// when more than MAX_OPEN_PER_COLLEAGUE rest.
//
// Source addresses: kiosks sit behind many addresses, while this benchmark runs on one host. The
// gateway limits WebSocket connections per client IP (DEFAULT_IP_WS_CONNECTIONS, 64); rather than
// lifting that limit, colleague i connects from 127.0.a.b, CONNECTIONS_PER_SOURCE_ADDRESS
// colleagues per address (Linux routes all of 127/8 to the loopback device), so the gateway runs
// with its production per-IP limits and sees what it would see from 157 kiosk sites.

import { DEMO_PRODUCTS, DEMO_CASH_CENTS } from '../../../processes/control/demo-products';
import { DEFAULT_IP_WS_CONNECTIONS } from '../../../processes/gateway/gateway-limits';

export const CONNECTIONS_PER_SOURCE_ADDRESS = DEFAULT_IP_WS_CONNECTIONS;
/** Addresses per 127.0.x block used (1..250), so no address ends in 0 or 255. */
const HOSTS_PER_BLOCK = 250;
/** Own resting orders above which a colleague removes one before placing more. */
export const MAX_OPEN_PER_COLLEAGUE = 20;
/** About one message in this many removes an own resting order. */
export const REMOVE_ONE_IN = 8;
/** Cash each buying colleague is given (the demo colleagues' amount, 10,000,000.00). */
export const BUYER_CASH_CENTS = DEMO_CASH_CENTS;
/** Units of its product each selling colleague is given. */
export const SELLER_UNITS = 100_000;
/** Price offsets, in steps of 5 cents (on tick for every demo product). */
const INFLOW_STEPS = [-4, -3, -2, -1, 0, 1, 2] as const;
const OUTFLOW_STEPS = [-2, -1, 0, 1, 2, 3, 4] as const;
const STEP_CENTS = 5;

export interface ColleagueFlow {
  readonly symbol: string;
  readonly side: 'inflow' | 'outflow';
  /** The prices this colleague picks from, already formatted. */
  readonly prices: readonly string[];
}

export function formatCents(cents: number): string {
  return `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;
}

export function flowOf(index: number): ColleagueFlow {
  const p = DEMO_PRODUCTS[index % DEMO_PRODUCTS.length]!;
  const side = Math.floor(index / DEMO_PRODUCTS.length) % 2 === 0 ? 'inflow' : 'outflow';
  const steps = side === 'inflow' ? INFLOW_STEPS : OUTFLOW_STEPS;
  return { symbol: p.symbol, side, prices: steps.map((k) => formatCents(p.referencePrice + k * STEP_CENTS)) };
}

/** The loopback address colleague `index` connects from. */
export function sourceAddressOf(index: number, perAddress = CONNECTIONS_PER_SOURCE_ADDRESS): string {
  const k = Math.floor(index / perAddress);
  return `127.0.${1 + Math.floor(k / HOSTS_PER_BLOCK)}.${1 + (k % HOSTS_PER_BLOCK)}`;
}

/** Distinct source addresses `connections` colleagues use. */
export function sourceAddressCount(connections: number, perAddress = CONNECTIONS_PER_SOURCE_ADDRESS): number {
  return Math.ceil(connections / perAddress);
}
