// The gateway's configuration: command-line options, each with an environment variable and a
// default (option > environment > default). Parsed and range-checked once at start-up; a bad
// value stops the process with a message naming the option.
//
//   node dist/processes/gateway/main.js --gateway-id 1 --trading-port 8080 --public-port 8081 \
//     --to-pm /dev/shm/ims-main/gateway-1-to-pm.ring --from-pm /dev/shm/ims-main/pm-to-gateway-1.ring \
//     --products products.json --data-dir ./data/main

import * as path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import {
  DEFAULT_BODY_LIMIT_BYTES,
  DEFAULT_BODY_TIMEOUT_MS,
  DEFAULT_CREDENTIAL_CALLS_PER_IP_PER_MINUTE,
  DEFAULT_HEADER_LIMIT_BYTES,
  DEFAULT_IDLE_POLL_MS,
  DEFAULT_IP_REQUESTS_PER_SECOND,
  DEFAULT_IP_WS_CONNECTIONS,
  DEFAULT_LOGIN_FAILURES_PER_IP,
  DEFAULT_LOGIN_FAILURES_PER_USERNAME,
  DEFAULT_LOGIN_WINDOW_S,
  DEFAULT_MAX_IN_FLIGHT,
  DEFAULT_ORDERS_PER_SECOND,
  DEFAULT_REPLY_TIMEOUT_MS,
  DEFAULT_WS_IDLE_TIMEOUT_S,
  DEFAULT_WS_MAX_BACKPRESSURE_BYTES,
  BUSY_SPIN_WINDOW_MS,
  MAX_IN_FLIGHT_LIMIT,
} from './gateway-limits';

export interface GatewayConfig {
  readonly gatewayId: number;
  readonly host: string;
  /** 0 picks a free port (printed in the gateway-ready line). */
  readonly tradingPort: number;
  readonly publicPort: number;
  readonly toPmRing: string;
  readonly fromPmRing: string;
  readonly consumerName: string;
  readonly fromPmNonGating: boolean;
  readonly productsFile: string;
  readonly dataDir: string;
  readonly forwardAccountEvents: boolean;
  readonly maxInFlight: number;
  readonly replyTimeoutMs: number;
  readonly bodyLimitBytes: number;
  readonly headerLimitBytes: number;
  readonly bodyTimeoutMs: number;
  readonly ordersPerSecond: number;
  readonly ipRequestsPerSecond: number;
  readonly ipWsConnections: number;
  readonly credentialCallsPerIpPerMinute: number;
  readonly loginFailuresPerUsername: number;
  readonly loginFailuresPerIp: number;
  readonly loginWindowS: number;
  readonly wsMaxBackpressureBytes: number;
  readonly wsIdleTimeoutS: number;
  readonly idlePollMs: number;
  readonly spinWindowMs: number;
  /** futex: a worker thread parked on the from-PM ring wakes the loop (reply-waker.ts); poll: timers and loop turns. */
  readonly replyWake: 'futex' | 'poll';
  /** marketdata.ring of the publisher; absent: market data is not served (placeholders answer 503). */
  readonly marketDataRing: string | undefined;
  /** This gateway's query ring to the publisher (default beside marketDataRing). */
  readonly marketDataQueryRing: string | undefined;
}

function intIn(min: number, max: number): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < min || n > max) throw new InvalidArgumentError(`expected an integer in [${min}, ${max}], got '${v}'`);
    return n;
  };
}

function env(name: string): string | undefined {
  const v = process.env[name];
  return v === undefined || v === '' ? undefined : v;
}

/** Parses argv (without node and script) and the environment. Throws with the fix on bad input. */
export function parseGatewayConfig(argv: readonly string[]): GatewayConfig {
  const runDir = env('IMS_RUN_DIR') ?? `/dev/shm/ims-${env('IMS_INSTANCE') ?? 'main'}`;
  const program = new Command('gateway')
    .description('IMS gateway: REST + WebSocket on uWebSockets.js, to and from the product manager over /dev/shm rings')
    .exitOverride()
    .option('--gateway-id <n>', 'this gateway (1..65535); env IMS_GATEWAY_ID', intIn(1, 0xffff), Number(env('IMS_GATEWAY_ID') ?? 1))
    .option('--host <addr>', 'listen address; env IMS_GATEWAY_HOST', env('IMS_GATEWAY_HOST') ?? '0.0.0.0')
    .option('--trading-port <n>', 'private trading listener (0 = any free port); env IMS_GATEWAY_TRADING_PORT', intIn(0, 65535), Number(env('IMS_GATEWAY_TRADING_PORT') ?? 8080))
    .option('--public-port <n>', 'public market-data listener (0 = any free port); env IMS_GATEWAY_PUBLIC_PORT', intIn(0, 65535), Number(env('IMS_GATEWAY_PUBLIC_PORT') ?? 8081))
    .option('--to-pm <path>', 'gateway->product-manager ring; env IMS_GATEWAY_TO_PM_RING (default <run dir>/gateway-<id>-to-pm.ring)', env('IMS_GATEWAY_TO_PM_RING'))
    .option('--from-pm <path>', 'product-manager->gateway ring; env IMS_GATEWAY_FROM_PM_RING (default <run dir>/pm-to-gateway-<id>.ring)', env('IMS_GATEWAY_FROM_PM_RING'))
    .option('--consumer-name <name>', 'consumer slot on the from-pm ring (default gateway-<id>)')
    .option('--from-pm-non-gating', 'read the from-pm ring without holding the product manager back (a lapped gateway loses reports)', false)
    .option('--products <file>', 'product list JSON {priceDecimals?, products:[{productId,symbol,brand,brandId?,tickSize,lotSize}]}; env IMS_PRODUCTS_FILE', env('IMS_PRODUCTS_FILE'))
    .option('--data-dir <dir>', 'durable data (accounts.sqlite unless IMS_DATABASE_URL); env IMS_DATA_DIR', env('IMS_DATA_DIR') ?? path.join('data', env('IMS_INSTANCE') ?? 'main'))
    .option('--no-forward-account-events', 'do not forward AccountOpened/AccountSuspended from the accounts outbox to the product manager')
    .option('--max-in-flight <n>', 'requests waiting for the product manager at once', intIn(1, MAX_IN_FLIGHT_LIMIT), Number(env('IMS_GATEWAY_MAX_IN_FLIGHT') ?? DEFAULT_MAX_IN_FLIGHT))
    .option('--reply-timeout-ms <n>', 'answer 503 when the product manager has not replied by then', intIn(10, 600_000), DEFAULT_REPLY_TIMEOUT_MS)
    .option('--body-limit-bytes <n>', 'largest request body (413 beyond)', intIn(256, 1 << 20), DEFAULT_BODY_LIMIT_BYTES)
    .option('--header-limit-bytes <n>', 'largest header block (413 beyond)', intIn(1024, 1 << 16), DEFAULT_HEADER_LIMIT_BYTES)
    .option('--body-timeout-ms <n>', 'a body not complete by then gets 408 and the connection is closed', intIn(10, 600_000), DEFAULT_BODY_TIMEOUT_MS)
    .option('--orders-per-second <n>', 'orders per second per account; env IMS_GATEWAY_ORDERS_PER_SECOND', intIn(1, 1_000_000), Number(env('IMS_GATEWAY_ORDERS_PER_SECOND') ?? DEFAULT_ORDERS_PER_SECOND))
    .option('--ip-requests-per-second <n>', 'REST requests and WS messages per second per IP; env IMS_GATEWAY_IP_REQUESTS_PER_SECOND', intIn(1, 10_000_000), Number(env('IMS_GATEWAY_IP_REQUESTS_PER_SECOND') ?? DEFAULT_IP_REQUESTS_PER_SECOND))
    .option('--ip-ws-connections <n>', 'open WebSockets per IP', intIn(1, 1_000_000), Number(env('IMS_GATEWAY_IP_WS_CONNECTIONS') ?? DEFAULT_IP_WS_CONNECTIONS))
    .option('--credential-calls-per-minute <n>', 'login/apply/API-key calls per IP per minute', intIn(1, 1_000_000), Number(env('IMS_GATEWAY_CREDENTIAL_CALLS_PER_MINUTE') ?? DEFAULT_CREDENTIAL_CALLS_PER_IP_PER_MINUTE))
    .option('--login-failures-per-username <n>', 'failed logins per username+IP per window', intIn(1, 1_000_000), DEFAULT_LOGIN_FAILURES_PER_USERNAME)
    .option('--login-failures-per-ip <n>', 'failed logins per IP per window', intIn(1, 1_000_000), DEFAULT_LOGIN_FAILURES_PER_IP)
    .option('--login-window-s <n>', 'failed-login window', intIn(1, 86_400), DEFAULT_LOGIN_WINDOW_S)
    .option('--ws-max-backpressure-bytes <n>', 'bytes buffered per WebSocket before it is closed as too slow', intIn(1024, 1 << 30), DEFAULT_WS_MAX_BACKPRESSURE_BYTES)
    .option('--ws-idle-timeout-s <n>', 'close a silent WebSocket after this (pings are automatic)', intIn(8, 3600), DEFAULT_WS_IDLE_TIMEOUT_S)
    .option('--idle-poll-ms <n>', 'poll period of the product-manager ring with nothing in flight', intIn(1, 1000), DEFAULT_IDLE_POLL_MS)
    .option('--spin-window-ms <n>', 'poll every loop turn this long after the last command or reply (--reply-wake poll)', intIn(0, 1000), BUSY_SPIN_WINDOW_MS)
    .addOption(new Option('--reply-wake <how>', 'how replies are noticed: futex (a worker thread parked on the ring wakes the loop) or poll (timers, and every loop turn within the spin window); env IMS_GATEWAY_REPLY_WAKE').choices(['futex', 'poll']).default(env('IMS_GATEWAY_REPLY_WAKE') ?? 'futex'))
    .option('--market-data-ring <path>', 'the publisher\'s marketdata.ring: serve market data (REST /marketdata/*, channels on the streams); env IMS_GATEWAY_MARKET_DATA_RING', env('IMS_GATEWAY_MARKET_DATA_RING'))
    .option('--market-data-query-ring <path>', 'this gateway\'s query ring to the publisher (default <dir of --market-data-ring>/gateway-<id>-to-marketdata.ring)');
  program.parse([...argv], { from: 'user' });
  const o = program.opts();
  const gatewayId = o['gatewayId'] as number;
  if (!(Number.isInteger(gatewayId) && gatewayId >= 1 && gatewayId <= 0xffff)) throw new InvalidArgumentError(`IMS_GATEWAY_ID must be an integer in [1, 65535]`);
  const productsFile = o['products'] as string | undefined;
  if (productsFile === undefined) throw new InvalidArgumentError('give the product list with --products <file> (or IMS_PRODUCTS_FILE)');
  return {
    gatewayId,
    host: o['host'] as string,
    tradingPort: o['tradingPort'] as number,
    publicPort: o['publicPort'] as number,
    toPmRing: (o['toPm'] as string | undefined) ?? path.join(runDir, `gateway-${gatewayId}-to-pm.ring`),
    fromPmRing: (o['fromPm'] as string | undefined) ?? path.join(runDir, `pm-to-gateway-${gatewayId}.ring`),
    consumerName: (o['consumerName'] as string | undefined) ?? `gateway-${gatewayId}`,
    fromPmNonGating: o['fromPmNonGating'] as boolean,
    productsFile,
    dataDir: o['dataDir'] as string,
    forwardAccountEvents: o['forwardAccountEvents'] as boolean,
    maxInFlight: o['maxInFlight'] as number,
    replyTimeoutMs: o['replyTimeoutMs'] as number,
    bodyLimitBytes: o['bodyLimitBytes'] as number,
    headerLimitBytes: o['headerLimitBytes'] as number,
    bodyTimeoutMs: o['bodyTimeoutMs'] as number,
    ordersPerSecond: o['ordersPerSecond'] as number,
    ipRequestsPerSecond: o['ipRequestsPerSecond'] as number,
    ipWsConnections: o['ipWsConnections'] as number,
    credentialCallsPerIpPerMinute: o['credentialCallsPerMinute'] as number,
    loginFailuresPerUsername: o['loginFailuresPerUsername'] as number,
    loginFailuresPerIp: o['loginFailuresPerIp'] as number,
    loginWindowS: o['loginWindowS'] as number,
    wsMaxBackpressureBytes: o['wsMaxBackpressureBytes'] as number,
    wsIdleTimeoutS: o['wsIdleTimeoutS'] as number,
    idlePollMs: o['idlePollMs'] as number,
    spinWindowMs: o['spinWindowMs'] as number,
    replyWake: o['replyWake'] as 'futex' | 'poll',
    marketDataRing: o['marketDataRing'] as string | undefined,
    marketDataQueryRing:
      (o['marketDataQueryRing'] as string | undefined) ??
      (o['marketDataRing'] === undefined ? undefined : path.join(path.dirname(o['marketDataRing'] as string), `gateway-${gatewayId}-to-marketdata.ring`)),
  };
}
