// Market data over REST for the portal, when the gateway has it: best prices, candle history
// (/marketdata/snapshot, which wants resolution in seconds and a [startTime, endTime) range) and
// today's volume. The portal asks /openapi.json which endpoints exist and degrades to "not
// available" rather than guessing: a product board without prices is still a product board.
// Live data (books, trades, the open candle) comes over the stream instead: market-feed.tsx.

import { api } from './api-client';

export interface MarketDataAvailability {
  readonly orderBook: boolean;
  readonly snapshot: boolean;
}

export interface BestPrices {
  readonly bestInflow: string | null;
  readonly bestOutflow: string | null;
  readonly lastPrice: string | null;
}

export interface Candle {
  readonly time: number;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  readonly volume: number;
}

let availability: Promise<MarketDataAvailability> | null = null;

export function marketDataAvailability(): Promise<MarketDataAvailability> {
  availability ??= api<{ paths?: Record<string, unknown> }>('GET', '/openapi.json')
    .then((doc) => {
      const paths = Object.keys(doc.paths ?? {});
      return { orderBook: paths.some((p) => p.startsWith('/marketdata/orderBook')), snapshot: paths.some((p) => p.startsWith('/marketdata/snapshot')) };
    })
    .catch(() => ({ orderBook: false, snapshot: false }));
  return availability;
}

function priceText(v: unknown): string | null {
  if (typeof v === 'string' || typeof v === 'number') return String(v);
  if (Array.isArray(v)) return priceText(v[0]);
  if (typeof v === 'object' && v !== null && 'price' in v) return priceText((v as { price: unknown }).price);
  return null;
}

/** Best inflow (bid) and outflow (ask) of one product, or null when market data is unavailable. */
export async function bestPrices(symbol: string): Promise<BestPrices | null> {
  const a = await marketDataAvailability();
  if (!a.orderBook) return null;
  try {
    const b = await api<any>('GET', `/marketdata/orderBook?symbol=${encodeURIComponent(symbol)}&depth=1`);
    const bids = b?.bids ?? b?.inflows ?? [];
    const asks = b?.asks ?? b?.outflows ?? [];
    return { bestInflow: priceText(bids), bestOutflow: priceText(asks), lastPrice: priceText(b?.lastPrice ?? b?.last) };
  } catch {
    return null;
  }
}

/** Chart resolutions by label, in seconds (the gateway's `resolution=SECONDS`). */
export const RESOLUTION_SECONDS: Readonly<Record<string, number>> = { '1m': 60, '5m': 300, '1h': 3_600, '1d': 86_400, '1w': 604_800, '1mo': 2_592_000 };
/** Candles a chart asks for (the gateway allows up to 5,000 per query). */
export const CHART_HISTORY_CANDLES = 300;
/** Longest bucket of a resolution in ms (months: 31 days), to size the history range. */
function longestBucketMs(resolutionS: number): number {
  return (resolutionS === 2_592_000 ? 31 * 86_400 : resolutionS) * 1000;
}

function candleOf(c: any): Candle {
  const t = Number(c.time ?? c.openTime ?? c.t);
  return {
    time: Math.floor(t / (t > 1e11 ? 1000 : 1)),
    open: Number(c.open ?? c.o),
    high: Number(c.high ?? c.h),
    low: Number(c.low ?? c.l),
    close: Number(c.close ?? c.c),
    volume: Number(c.volume ?? c.v ?? 0),
  };
}

/** A live candle message (candles:S:SECONDS channel) as a chart candle (time in seconds). */
export function liveCandle(m: Record<string, unknown>): Candle {
  return candleOf(m);
}

/**
 * Candles of one product at one resolution (a label such as '1m' or seconds), the last
 * CHART_HISTORY_CANDLES buckets up to the open one, oldest first; null when market data is
 * unavailable or the gateway refused.
 */
export async function candles(symbol: string, resolution: string | number): Promise<Candle[] | null> {
  const a = await marketDataAvailability();
  if (!a.snapshot) return null;
  const seconds = typeof resolution === 'number' ? resolution : (RESOLUTION_SECONDS[resolution] ?? Number(resolution));
  if (!Number.isSafeInteger(seconds) || seconds <= 0) return null;
  const endMs = Date.now() + longestBucketMs(seconds);
  const startMs = endMs - CHART_HISTORY_CANDLES * longestBucketMs(seconds);
  try {
    const r = await api<any>('GET', `/marketdata/snapshot?symbol=${encodeURIComponent(symbol)}&resolution=${seconds}&startTime=${startMs}&endTime=${endMs}`);
    const rows: any[] = Array.isArray(r) ? r : (r?.candles ?? []);
    return rows.map(candleOf);
  } catch {
    return null;
  }
}

/**
 * Candle buckets are days of the exchange's local time (processes/market-data/candle-resolution.ts:
 * America/New_York), so "today" starts at New York midnight, wherever the kiosk is.
 */
export const EXCHANGE_TIME_ZONE = 'America/New_York';
const DAY_MS = 86_400_000;
const zoneClock = new Intl.DateTimeFormat('en-US', { timeZone: EXCHANGE_TIME_ZONE, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });

/** How far the exchange's wall clock is ahead of UTC at instant t (negative west of Greenwich). */
function zoneOffsetMs(t: number): number {
  const p: Record<string, number> = {};
  for (const part of zoneClock.formatToParts(new Date(t))) p[part.type] = Number(part.value);
  return Date.UTC(p['year']!, p['month']! - 1, p['day']!, p['hour']!, p['minute']!, p['second']!) - (t - (t % 1000));
}

/** The UTC instant of the exchange's last local midnight. */
export function exchangeMidnightMs(nowMs: number): number {
  const local = nowMs + zoneOffsetMs(nowMs);
  const localMidnight = local - (local % DAY_MS);
  // The offset at midnight may differ from now's (a DST change during the day): use midnight's.
  return localMidnight - zoneOffsetMs(localMidnight - zoneOffsetMs(nowMs));
}

/** Units traded today (since the exchange's local midnight); null when market data is unavailable. */
export async function dayVolume(symbol: string): Promise<number | null> {
  const a = await marketDataAvailability();
  if (!a.snapshot) return null;
  const now = Date.now();
  const start = exchangeMidnightMs(now);
  try {
    const r = await api<any>('GET', `/marketdata/snapshot?symbol=${encodeURIComponent(symbol)}&resolution=86400&startTime=${start}&endTime=${now + DAY_MS}`);
    let volume = 0;
    for (const c of (r?.candles ?? []) as any[]) if (Number(c.time) >= start) volume += Number(c.volume);
    return volume;
  } catch {
    return null;
  }
}
