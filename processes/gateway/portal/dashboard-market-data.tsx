// Market data for the dashboard: candles from GET /marketdata/snapshot (resolution in seconds and
// a [startTime, endTime) range, as the gateway's data service takes them), trades from
// GET /marketdata/trades, and live `candles:SYMBOL:SECONDS` / `trades:SYMBOL` channels over the one
// authenticated WebSocket the page holds (/v1/stream, through stream-client.tsx's OrderStream).
// Prices arrive as decimal strings; the chart needs numbers, so they are converted here for
// drawing only — nothing computed from them is sent back.

import { api } from './api-client';
import { OrderStream, type StreamMessage, type StreamState } from './stream-client';

export interface Resolution {
  readonly label: string;
  readonly seconds: number;
  /** How far back the first load reaches, in candles (the data service answers at most 5,000). */
  readonly history: number;
}

/** The market-data publisher's live resolutions (processes/market-data/candle-resolution.ts). */
export const RESOLUTIONS: readonly Resolution[] = [
  { label: '1m', seconds: 60, history: 720 },
  { label: '5m', seconds: 300, history: 576 },
  { label: '1h', seconds: 3_600, history: 720 },
  { label: '1w', seconds: 604_800, history: 260 },
  { label: '1mo', seconds: 2_592_000, history: 120 },
];
/** The month code is "30 days"; real months are up to 31, so ranges reach one bucket further. */
const LONGEST_MONTH_MS = 31 * 86_400_000;

export interface ChartCandle {
  /** Bucket start, epoch seconds (lightweight-charts' UTCTimestamp). */
  readonly time: number;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  readonly volume: number;
}

export interface Trade {
  readonly id: string;
  readonly price: string;
  readonly size: number;
  readonly takerSide: string;
  readonly time: number;
}

interface WireCandle {
  readonly time: number;
  readonly open: string;
  readonly high: string;
  readonly low: string;
  readonly close: string;
  readonly volume: number;
}

export function chartCandleOf(c: WireCandle): ChartCandle {
  return { time: Math.floor(c.time / 1000), open: Number(c.open), high: Number(c.high), low: Number(c.low), close: Number(c.close), volume: c.volume };
}

function bucketMs(r: Resolution): number {
  return r.seconds === 2_592_000 ? LONGEST_MONTH_MS : r.seconds * 1000;
}

/** Candles of one product, oldest first, from `history` buckets ago to the current bucket. */
export async function loadCandles(symbol: string, r: Resolution, nowMs = Date.now()): Promise<ChartCandle[]> {
  const endMs = nowMs + bucketMs(r);
  const startMs = nowMs - (r.history - 1) * r.seconds * 1000;
  const body = await api<{ candles: WireCandle[] }>('GET', `/marketdata/snapshot?symbol=${encodeURIComponent(symbol)}&resolution=${r.seconds}&startTime=${startMs}&endTime=${endMs}`);
  return body.candles.map(chartCandleOf);
}

/** The day candle (exchange local day) of one product, or null when it has not traded today. */
export async function loadDayCandle(symbol: string, nowMs = Date.now()): Promise<ChartCandle | null> {
  const dayMs = 86_400_000;
  const body = await api<{ candles: WireCandle[] }>('GET', `/marketdata/snapshot?symbol=${encodeURIComponent(symbol)}&resolution=86400&startTime=${nowMs - 2 * dayMs}&endTime=${nowMs + dayMs}`);
  const today = body.candles.filter((c) => c.time <= nowMs && c.time > nowMs - dayMs - 3_600_000).at(-1);
  return today === undefined ? null : chartCandleOf(today);
}

export async function loadTrades(symbol: string, limit: number): Promise<Trade[]> {
  const body = await api<{ trades: Trade[] }>('GET', `/marketdata/trades?symbol=${encodeURIComponent(symbol)}&limit=${limit}`);
  return body.trades;
}

type Handler = (m: StreamMessage) => void;

/**
 * What a panel needs from the page's live data: the candle chart and the trade tape take any
 * source of this shape (the dashboard's LiveChannels, the kiosk's MarketFeed).
 */
export interface LiveSource {
  subscribe(channel: string, handler: Handler): () => void;
  /** Calls `listener` whenever the stream re-opens, so a panel reloads its REST history. */
  onReopen(listener: () => void): () => void;
}

/** Channels one page subscribes to at most (the gateway allows 64 per connection). */
export const MAX_LIVE_CHANNELS = 48;

/**
 * The page's live channels over one WebSocket: subscribe(channel, handler) returns the function
 * that unsubscribes. Subscriptions are re-sent whenever the stream (re)opens, so a reconnect (the
 * gateway restarted) resumes them; each panel reloads its REST data on `onReopen`.
 */
export class LiveChannels implements LiveSource {
  private readonly handlers = new Map<string, Set<Handler>>();
  private readonly reopenListeners = new Set<() => void>();
  private readonly stream: OrderStream;
  private requestSeq = 0;
  state: StreamState = 'connecting';

  constructor(private readonly onState: (s: StreamState) => void = () => undefined) {
    this.stream = new OrderStream(
      (m) => this.dispatch(m),
      (s) => {
        this.state = s;
        this.onState(s);
        if (s !== 'open') return;
        for (const channel of this.handlers.keys()) this.send('subscribe', channel);
        for (const l of this.reopenListeners) l();
      },
    );
  }

  start(): void {
    this.stream.start();
  }

  stop(): void {
    this.stream.stop();
  }

  subscribe(channel: string, handler: Handler): () => void {
    let set = this.handlers.get(channel);
    if (set === undefined) {
      if (this.handlers.size >= MAX_LIVE_CHANNELS) throw new Error(`this page already follows ${MAX_LIVE_CHANNELS} channels; close a panel first`);
      set = new Set();
      this.handlers.set(channel, set);
      this.send('subscribe', channel);
    }
    set.add(handler);
    return () => {
      const s = this.handlers.get(channel);
      if (s === undefined) return;
      s.delete(handler);
      if (s.size === 0) {
        this.handlers.delete(channel);
        this.send('unsubscribe', channel);
      }
    };
  }

  onReopen(listener: () => void): () => void {
    this.reopenListeners.add(listener);
    return () => this.reopenListeners.delete(listener);
  }

  private send(type: 'subscribe' | 'unsubscribe', channel: string): void {
    this.stream.send({ type, requestId: `md${++this.requestSeq}`, channel });
  }

  private dispatch(m: StreamMessage): void {
    const channel = m['channel'];
    if (typeof channel !== 'string') return;
    const set = this.handlers.get(channel);
    if (set === undefined) return;
    for (const h of set) h(m);
  }
}
