// Market data for the portal, when the gateway has it. The market-data endpoints are being added
// to the gateway separately, so the portal asks /openapi.json which of them exist and degrades to
// "not available" rather than guessing: a product board without prices is still a product board.
// Shapes are read tolerantly (best bid/ask as {price} objects or plain strings) until they settle.

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

/** Candles of one product at one resolution, oldest first; null when market data is unavailable. */
export async function candles(symbol: string, resolution: string): Promise<Candle[] | null> {
  const a = await marketDataAvailability();
  if (!a.snapshot) return null;
  try {
    const r = await api<any>('GET', `/marketdata/snapshot?symbol=${encodeURIComponent(symbol)}&resolution=${encodeURIComponent(resolution)}`);
    const rows: any[] = Array.isArray(r) ? r : (r?.candles ?? []);
    return rows.map((c) => ({
      time: Math.floor(Number(c.time ?? c.openTime ?? c.t) / (Number(c.time ?? c.openTime ?? c.t) > 1e11 ? 1000 : 1)),
      open: Number(c.open ?? c.o),
      high: Number(c.high ?? c.h),
      low: Number(c.low ?? c.l),
      close: Number(c.close ?? c.c),
      volume: Number(c.volume ?? c.v ?? 0),
    }));
  } catch {
    return null;
  }
}
