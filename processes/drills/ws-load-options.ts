// The options of the drills that run a WebSocket order load (`ims drill gateway-kill`,
// `ims drill reporter-crash`), on the command line and in their runners: declared once here, so
// both commands take the same flags with the same defaults and scripts/ims.ts stays a list of
// commands.

import { InvalidArgumentError, type Command } from 'commander';
import type { GatewayEndpoint } from './gateway-endpoints';
import { DEMO_LOAD_CREDENTIALS, DEMO_LOAD_PRICE, DEMO_LOAD_SYMBOL, type LoadCredential, type WsOrderLoadOptions } from './ws-order-load';

/** New orders per second over all clients when a drill is not told otherwise. */
export const DEFAULT_LOAD_ORDERS_PER_SECOND = 200;

/** The load's part of a drill's options (the drill adds its own: what to kill, for how long). */
export interface WsLoadDrillOptions {
  /** Where the gateways listen, as seen from here. Default 127.0.0.1. */
  readonly host?: string;
  /** Logins of the load's clients. Default: the demo colleagues (demo profile). */
  readonly credentials?: readonly LoadCredential[];
  /** WebSocket clients, spread over the gateways. Default: the drill's. */
  readonly clients?: number;
  /** New orders per second over all clients. Default 200. */
  readonly ordersPerSecond?: number;
  readonly symbol?: string;
  readonly price?: string;
  /** How long every order is given its answer after the load stops. Default 15,000 ms. */
  readonly drainTimeoutMs?: number;
}

/** What WsOrderLoad.start takes, from a drill's options and its default number of clients. */
export function wsOrderLoadOptionsOf(o: WsLoadDrillOptions, endpoints: readonly GatewayEndpoint[], tag: string, defaultClients: number): WsOrderLoadOptions {
  return {
    endpoints,
    credentials: o.credentials ?? DEMO_LOAD_CREDENTIALS,
    clients: o.clients ?? defaultClients,
    ordersPerSecond: o.ordersPerSecond ?? DEFAULT_LOAD_ORDERS_PER_SECOND,
    symbol: o.symbol ?? DEMO_LOAD_SYMBOL,
    price: o.price ?? DEMO_LOAD_PRICE,
    tag,
  };
}

export interface WsLoadFlags {
  host: string;
  clients: number;
  ordersPerSecond: number;
  user: LoadCredential[];
  symbol: string;
  price: string;
  json: boolean;
}

/** The load's options as the drills take them (no --user: the demo colleagues). */
export function wsLoadOptionsOf(o: WsLoadFlags): { host: string; clients: number; ordersPerSecond: number; symbol: string; price: string; credentials?: LoadCredential[] } {
  return { host: o.host, clients: o.clients, ordersPerSecond: o.ordersPerSecond, symbol: o.symbol, price: o.price, ...(o.user.length > 0 ? { credentials: o.user } : {}) };
}

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError(`expected a positive integer, got '${v}'`);
  return n;
}

function credential(v: string, previous: LoadCredential[]): LoadCredential[] {
  const i = v.indexOf(':');
  if (i <= 0 || i === v.length - 1) throw new InvalidArgumentError(`expected name:password, got '${v}'`);
  return [...previous, { username: v.slice(0, i), password: v.slice(i + 1) }];
}

/** Adds the load's flags (and --json) to `cmd`. */
export function withWsLoadOptions(cmd: Command, defaults: { clients: number; ordersPerSecond: number }): Command {
  return cmd
    .option('--host <addr>', 'where the gateways listen, seen from here', '127.0.0.1')
    .option('--clients <n>', 'WebSocket clients of the load, spread over the gateways', positiveInt, defaults.clients)
    .option('--orders-per-second <n>', 'new orders per second over all clients', positiveInt, defaults.ordersPerSecond)
    .option('--user <name:password>', 'a login for the load, repeatable (default: the demo colleagues)', credential, [] as LoadCredential[])
    .option('--symbol <symbol>', 'the product the load trades', DEMO_LOAD_SYMBOL)
    .option('--price <price>', 'the limit price of every order (inflows and outflows cross there)', DEMO_LOAD_PRICE)
    .option('--json', 'print the report as one JSON object', false);
}

export { positiveInt as positiveIntOption };
