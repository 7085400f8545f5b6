// Market data over REST for the kiosk, when the gateway has it: best prices and today's volume
// (/marketdata/snapshot, which wants resolution in seconds and a [startTime, endTime) range). The
// portal asks /openapi.json which endpoints exist and degrades to "not available" rather than
// guessing: a product board without prices is still a product board. Candle history for the chart
// is dashboard-market-data.tsx's (the kiosk and the dashboard draw the same chart); live data
// (books, trades, the open candle) comes over the stream instead: market-feed.tsx.

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
