// The gateway process: REST + WebSocket for kiosks, programs and staff (uWebSockets.js), in front
// of the product manager, to which it talks only through its own pair of /dev/shm rings.
//
//   node dist/processes/gateway/main.js --gateway-id 1 --products products.json \
//     [--trading-port 8080] [--public-port 8081] [--to-pm RING] [--from-pm RING] [--data-dir DIR]
//
// (every option, its environment variable and default: gateway-config.ts). The rings must exist
// (the supervisor creates them and registers this gateway's consumer slot before starting it).
// On start it prints one JSON line {"event":"gateway-ready","tradingPort":…,"publicPort":…}; on
// SIGTERM/SIGINT it stops listening, closes streams, answers nothing more and exits 0.

import * as fs from 'node:fs';
import { createProcessLogger } from '../process-log';
import { outboxMessageOf } from '../accounts/account-outbox';
import { accountStoreOptionsFromEnv } from '../accounts/account-store';
import { Accounts } from '../accounts/accounts';
import { pinSelf } from '../pin-self';
import { accountRoutes } from './account-routes';
import { adminRoutes } from './admin-routes';
import { systemStatusRoutes } from './system-status-routes';
import { Authenticator } from './authentication';
import { Gatekeeper } from './gatekeeper';
import { parseGatewayConfig, type GatewayConfig } from './gateway-config';
import type { GatewayServices } from './gateway-services';
import { closeListener, marketDataPlaceholderRoutes, startMarketDataListener, startTradingListener, type Listening } from './listeners';
import { buildOpenApi } from './openapi';
import { orderRoutes } from './order-routes';
import { walletRoutes } from './wallet-routes';
import { ReadAnswers } from './read-requests';
import type { StreamStats } from './order-stream';
import { OrderView } from './order-view';
import { CountedPmLink, countingReportHandler, GatewayCounters, installGatewayCounters, SAMPLE_MS, TimedPendingRequests } from './gateway-counters';
import { openProcessCounters, startEventLoopSampler } from '../operations/process-counters';
import { ProductCatalog } from './product-catalog';
import { ReplyPoller } from './reply-poller';
import { ReportRouter } from './report-router';
import { serviceRoutes } from './service-routes';
import { StreamRegistry } from './stream-registry';
import { MarketDataFeed } from './market-data-feed';
import { MarketDataService } from './market-data-routes';
import { MarketDataSubscriptions } from './market-data-subscriptions';
import { TradingHistory } from './history-routes';
import { reportStoreOptionsFromEnv } from '../reporter/report-store';

/** How often the accounts outbox is checked when no event woke the forwarder. */
const OUTBOX_POLL_MS = 1_000;

function loadCatalog(file: string): ProductCatalog {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`product list ${file}: ${(e as Error).message}`);
  }
  return ProductCatalog.fromList(JSON.parse(text));
}

async function run(config: GatewayConfig): Promise<void> {
  // process: the supervisor's name for it (gateway-<n>), as every process logs (processes/process-log.ts).
  const log = createProcessLogger(`gateway-${config.gatewayId}`, { bindings: { gatewayId: config.gatewayId } });
  const catalog = loadCatalog(config.productsFile);
  let wakeForwarder: () => void = () => undefined;
  const accounts = await Accounts.open(accountStoreOptionsFromEnv(config.dataDir), { onOutboxEvent: () => wakeForwarder() });
  // The counters file (<run dir>/gateway-<n>.counters) that /metrics reads; see gateway-counters.ts.
  const counters = new GatewayCounters(openProcessCounters({ fallbackName: `gateway-${config.gatewayId}` }));
  installGatewayCounters(counters);
  const eventLoop = startEventLoopSampler(counters.writer);
  const link = new CountedPmLink({ toPmPath: config.toPmRing, fromPmPath: config.fromPmRing, consumerName: config.consumerName, gatewayId: config.gatewayId, nonGating: config.fromPmNonGating }, counters);
  // A restarted gateway starts its request ids from a different generation, so a late reply to
  // its predecessor cannot match a fresh request.
  const pending = new TimedPendingRequests(config.maxInFlight, config.replyTimeoutMs, (Date.now() & 0x7fff) + 1, counters);
  const s = {
    config,
    log,
    catalog,
    link,
    pending,
    orders: new OrderView(),
    streams: new StreamRegistry(config.wsMaxBackpressureBytes),
    gatekeeper: new Gatekeeper(config),
    auth: new Authenticator(accounts),
    accounts,
    poller: null as unknown as ReplyPoller,
    startedMs: Date.now(),
  } satisfies GatewayServices as GatewayServices & { poller: ReplyPoller };
  const reports = new ReportRouter(s);
  // Answers of reads (wallets, orders, risk rules) go to the request that asked (read-requests.ts).
  const reads = new ReadAnswers(s);
  link.onAnswerRecord(reads.handle);
  const countedHandle = countingReportHandler(reports.handle, (orderId) => s.orders.get(orderId)?.filledQuantity ?? 0, counters);
  s.poller = new ReplyPoller(link, pending, countedHandle, reports.expired, { idlePollMs: config.idlePollMs, spinWindowMs: config.spinWindowMs, futexWake: config.replyWake === 'futex' });

  // Market data, when the publisher's ring is configured (see market-data-feed.ts).
  let feed: MarketDataFeed | null = null;
  let mdService: MarketDataService | null = null;
  let mdSubscriptions: MarketDataSubscriptions | null = null;
  if (config.marketDataRing !== undefined && config.marketDataQueryRing !== undefined) {
    // The feed also keeps the catalog up to date with the journal's listings and halts.
    feed = new MarketDataFeed(config.gatewayId, config.marketDataRing, config.marketDataQueryRing, catalog);
    mdService = new MarketDataService(s, feed);
    mdSubscriptions = new MarketDataSubscriptions(s, feed, config.wsMaxBackpressureBytes);
  }
  const marketDataHealth = (): Record<string, unknown> =>
    mdService === null ? {} : { marketData: { status: 'served', ...mdService.status(), subscriptions: mdSubscriptions!.subscriptions, publicStreams: mdSubscriptions!.publicStreams, sent: mdSubscriptions!.sent, slowClosed: mdSubscriptions!.slowClosed } };
  const streamStats: StreamStats = { upgrades: 0, refused: 0, messages: 0, invalidMessages: 0 };
  const extraHealth = (): Record<string, unknown> => ({ counters: { reports: { replies: reports.replies, intermediate: reports.intermediate, unsolicited: reports.unsolicited, duplicates: reports.duplicates }, streams: { ...streamStats, open: s.streams.size, pushed: s.streams.pushed, slowClosed: s.streams.slowClosed, undelivered: s.streams.undelivered }, rejected: s.gatekeeper.rejected, bugs: trading.router.bugs + publicListener.router.bugs }, ...marketDataHealth() });
  const mdRoutes = mdService === null ? [] : mdService.routes();
  // Trading history (GET /v1/execution, /v1/orders) from the reporter's database, read-only.
  const history = new TradingHistory(s, reportStoreOptionsFromEnv(config.dataDir, process.env, true));
  const tradingDecls = [...orderRoutes(s), ...walletRoutes(s), ...accountRoutes(s), ...adminRoutes(s), ...systemStatusRoutes(s), ...mdRoutes, ...history.routes()];
  let tradingOpenApi = '';
  let publicOpenApi = '';
  const info = { title: 'IMS gateway', version: '1', description: 'Inventory exchange: order entry (REST and WebSocket), accounts and administration. Prices are decimal strings, quantities integers, times epoch milliseconds.' };
  const allTrading = [...serviceRoutes(s, 'trading', () => tradingOpenApi, extraHealth), ...tradingDecls];
  const allPublic = [...serviceRoutes(s, 'market-data', () => publicOpenApi, extraHealth), ...(mdService === null ? marketDataPlaceholderRoutes() : mdRoutes)];
  tradingOpenApi = JSON.stringify(buildOpenApi(allTrading, info));
  publicOpenApi = JSON.stringify(buildOpenApi(allPublic, { ...info, title: 'IMS gateway (public market data)' }, mdSubscriptions === null ? null : 'market-data'));

  const trading = await startTradingListener(s, allTrading, streamStats, mdSubscriptions);
  const publicListener = await startMarketDataListener(s, allPublic, mdSubscriptions);
  s.poller.start();
  feed?.start();
  // What the gateway already counts for /health, copied into the counters file for /metrics.
  const sampleTimer = setInterval(() => {
    const v = counters.writer.values;
    v[counters.openWebSockets] = s.streams.size;
    v[counters.wsMessages] = streamStats.messages;
  }, SAMPLE_MS);
  sampleTimer.unref();
  void history.start();

  let outboxTimer: NodeJS.Timeout | null = null;
  let forwarding = false;
  const holder = `gateway-${config.gatewayId}:${process.pid}`;
  const forward = async (): Promise<void> => {
    if (forwarding) return;
    forwarding = true;
    try {
      const r = await accounts.forwardOutbox((e) => {
        const m = outboxMessageOf(e);
        return link.sendAdmin(m.desc, m.value as never) !== 0;
      }, { holder });
      if (r.forwarded > 0) log.info({ event: 'account-events-forwarded', count: r.forwarded }, 'account events forwarded to the product manager');
    } catch (err) {
      log.error({ event: 'outbox-error', err }, 'forwarding account events failed; retrying');
    } finally {
      forwarding = false;
    }
  };
  if (config.forwardAccountEvents) {
    wakeForwarder = () => void forward();
    outboxTimer = setInterval(() => void forward(), OUTBOX_POLL_MS);
    void forward();
  }

  log.info(
    { event: 'gateway-ready', tradingPort: trading.port, publicPort: publicListener.port, toPm: config.toPmRing, fromPm: config.fromPmRing, marketData: config.marketDataRing ?? null, epoch: link.epoch, products: catalog.size, accountsStore: accounts.store.description },
    'gateway ready',
  );

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ event: 'gateway-stopping', signal }, 'gateway stopping');
    for (const l of [trading, publicListener] as Listening[]) closeListener(l);
    s.streams.closeAll();
    if (outboxTimer !== null) clearInterval(outboxTimer);
    clearInterval(sampleTimer);
    eventLoop.stop();
    s.poller.stop();
    feed?.stop();
    const finish = async (): Promise<void> => {
      if (config.forwardAccountEvents) await accounts.releaseOutboxLease(holder).catch(() => undefined);
      link.close();
      await accounts.close();
      await history.close();
      log.info({ event: 'gateway-stopped' }, 'gateway stopped');
      process.exit(0);
    };
    void finish();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

if (require.main === module) {
  pinSelf();
  let config: GatewayConfig;
  try {
    config = parseGatewayConfig(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`gateway: ${(e as Error).message}\n`);
    process.exit(2);
  }
  // A broken invariant is a bug: die loudly, the supervisor restarts the process.
  process.on('uncaughtException', (err) => {
    process.stderr.write(`gateway: uncaught exception: ${err.stack ?? err.message}\n`);
    process.exit(1);
  });
  run(config).catch((err: unknown) => {
    process.stderr.write(`gateway: failed to start: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}
