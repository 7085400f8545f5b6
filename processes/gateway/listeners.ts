// The two uWS listeners of a gateway process. They are separate apps on separate ports so public
// traffic (market data, which the seed's DDoS section wants isolated) can be filtered, scaled or
// dropped without touching order entry:
//   trading     private: REST order entry, accounts, admin, WebSocket /v1/stream
//   market-data public: /health, /openapi.json, /v1/products and (until the market-data issue)
//               placeholders that say market data is not available; it never fakes data.
// Both bind with uWS's default SO_REUSEPORT, so several gateway processes can serve one port.

import * as uWS from 'uWebSockets.js';
import type { TemplatedApp, us_listen_socket } from 'uWebSockets.js';
import { failure } from './api-failure';
import { EmptyQuery, ErrorBody, SymbolParams } from './api-schemas';
import type { GatewayServices } from './gateway-services';
import { HttpRouter } from './http-router';
import { streamBehavior, type StreamStats } from './order-stream';
import { mountPortal } from './portal-routes';
import { declare, type RouteDeclaration } from './route-spec';
import { MARKET_DATA_STATUS } from './service-routes';
import type { MarketDataSubscriptions } from './market-data-subscriptions';

export interface Listening {
  readonly app: TemplatedApp;
  readonly socket: us_listen_socket;
  readonly port: number;
  readonly router: HttpRouter;
}

function listen(app: TemplatedApp, host: string, port: number, what: string): Promise<{ socket: us_listen_socket; port: number }> {
  return new Promise((resolve, reject) => {
    app.listen(host, port, (socket) => {
      if (socket === false) reject(new Error(`${what} listener: cannot listen on ${host}:${port} (in use, or no permission)`));
      else resolve({ socket, port: uWS.us_socket_local_port(socket as unknown as uWS.us_socket) });
    });
  });
}

export async function startTradingListener(s: GatewayServices, decls: readonly RouteDeclaration[], streamStats: StreamStats, marketData: MarketDataSubscriptions | null = null): Promise<Listening> {
  const app = uWS.App();
  app.ws('/v1/stream', streamBehavior(s, streamStats, marketData));
  mountPortal(app, s);
  const router = new HttpRouter({ log: s.log, gatekeeper: s.gatekeeper, auth: s.auth, limits: s.config });
  router.mount(app, decls);
  const { socket, port } = await listen(app, s.config.host, s.config.tradingPort, 'trading');
  return { app, socket, port, router };
}

const MARKET_DATA_UNAVAILABLE = failure(503, 'market_data_not_available', MARKET_DATA_STATUS, 3600);

/** The placeholders of the market-data routes the market-data issue will fill. */
export function marketDataPlaceholderRoutes(): RouteDeclaration[] {
  const placeholder = (what: string): RouteDeclaration =>
    declare({
      method: 'get',
      path: `/v1/market-data/{symbol}/${what}`,
      summary: `Market data: ${what} (not available yet; answers 503 market_data_not_available)`,
      tag: 'market-data',
      access: 'public',
      params: SymbolParams,
      query: EmptyQuery,
      body: undefined,
      success: { status: 503, schema: ErrorBody, description: MARKET_DATA_STATUS },
      errors: [400, 503],
      handle: (ex) => ex.fail(MARKET_DATA_UNAVAILABLE),
    });
  return [placeholder('book'), placeholder('trades'), placeholder('candles')];
}

/** The public listener; with `marketData`, also the public WebSocket /v1/market-data/stream. */
export async function startMarketDataListener(s: GatewayServices, decls: readonly RouteDeclaration[], marketData: MarketDataSubscriptions | null = null): Promise<Listening> {
  const app = uWS.App();
  if (marketData !== null) app.ws('/v1/market-data/stream', marketData.publicBehavior());
  const router = new HttpRouter({ log: s.log, gatekeeper: s.gatekeeper, auth: null, limits: s.config });
  router.mount(app, decls);
  const { socket, port } = await listen(app, s.config.host, s.config.publicPort, 'market-data');
  return { app, socket, port, router };
}

export function closeListener(l: Listening): void {
  uWS.us_listen_socket_close(l.socket);
}
