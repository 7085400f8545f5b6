// Live market data for the kiosk over its one WebSocket (stream-client.tsx): each channel is
// subscribed while at least one component watches it, and the feed keeps what the pages show —
// every watched product's L2 book (book:S, deltas applied by sequence, a fresh snapshot asked for
// on a gap) and its recent trades (trades:S, newest first, de-duplicated by trade id because the
// gateway re-sends its last trades on every subscribe). Candle messages are passed through.
//
// Components re-render through useFeed(), at most once per animation frame however many messages
// arrive, so a busy book does not make a modest kiosk PC redraw per message.

import { useEffect, useState } from 'preact/hooks';
import { L2Book, type Level } from './l2-book';
import type { OrderStream, StreamMessage, StreamState } from './stream-client';

export interface Trade {
  readonly id: string;
  readonly price: string;
  readonly size: number;
  readonly takerSide: 'inflow' | 'outflow';
  readonly time: number;
}

/** Trades kept per product (the tape shows the newest). */
export const TAPE_TRADES_MAX = 50;

type Listener = (m: StreamMessage) => void;

export class MarketFeed {
  private readonly books = new Map<string, L2Book>();
  private readonly tapes = new Map<string, Trade[]>();
  private readonly errors = new Map<string, string>();
  /** Watched channels: one stream subscription each, however many components watch it. */
  private readonly watched = new Map<string, { readonly listeners: Set<Listener>; readonly off: () => void }>();

  private readonly reopenListeners = new Set<() => void>();
  private opened = false;

  constructor(private readonly stream: OrderStream) {}

  /** Watches one channel ("book:S", "trades:S", "candles:S:60") until the returned function runs. */
  watch(channel: string, listener: Listener): () => void {
    let w = this.watched.get(channel);
    if (w === undefined) {
      const listeners = new Set<Listener>();
      const off = this.stream.subscribe(channel, (m) => {
        this.absorb(channel, m);
        for (const l of [...listeners]) l(m);
      });
      w = { listeners, off };
      this.watched.set(channel, w);
    }
    w.listeners.add(listener);
    return () => {
      const x = this.watched.get(channel);
      if (x === undefined || !x.listeners.delete(listener) || x.listeners.size > 0) return;
      this.watched.delete(channel);
      x.off();
      // An unwatched book goes stale at once: forget it, the next watch starts from a snapshot.
      if (channel.startsWith('book:')) this.books.delete(channel.slice('book:'.length));
    };
  }

  /**
   * The same as watch(), under the name the candle chart calls (candle-chart.tsx `live`):
   * the chart draws live candles from this feed without a socket of its own.
   */
  subscribe(channel: string, handler: Listener): () => void {
    return this.watch(channel, handler);
  }

  /** Calls `listener` each time the stream re-opens (a panel reloads its REST history then). */
  onReopen(listener: () => void): () => void {
    this.reopenListeners.add(listener);
    return () => this.reopenListeners.delete(listener);
  }

  /** The stream's state changed: on a drop every book is stale until the new snapshot arrives. */
  streamState(s: StreamState): void {
    if (s === 'closed') for (const b of this.books.values()) b.synced = false;
    if (s !== 'open') return;
    if (this.opened) for (const l of [...this.reopenListeners]) l();
    this.opened = true;
  }

  /** The book of a watched product (empty and not synced until its snapshot arrives). */
  book(symbol: string): L2Book {
    let b = this.books.get(symbol);
    if (b === undefined) {
      b = new L2Book();
      this.books.set(symbol, b);
    }
    return b;
  }

  /** Recent trades of a watched product, newest first. */
  trades(symbol: string): readonly Trade[] {
    return this.tapes.get(symbol) ?? [];
  }

  /** The last error the gateway sent about a channel ('' when none). */
  error(channel: string): string {
    return this.errors.get(channel) ?? '';
  }

  private absorb(channel: string, m: StreamMessage): void {
    const symbol = channel.split(':')[1] ?? '';
    if (m.type === 'error') {
      this.errors.set(channel, `${String(m['detail'] ?? 'refused')} (${String(m['error'] ?? 'error')})`);
      return;
    }
    if (m.type === 'subscribed') this.errors.delete(channel);
    if (m.type === 'book') {
      const b = this.book(symbol);
      const sequence = Number(m['sequence']);
      const time = Number(m['time']);
      if (m['snapshot'] === true) {
        b.applySnapshot(sequence, time, (m['bids'] ?? []) as Level[], (m['asks'] ?? []) as Level[]);
        return;
      }
      const outcome = b.applyDelta(sequence, time, m['side'] === 'bid' ? 'bid' : 'ask', String(m['price']), Number(m['size']));
      if (outcome === 'gap') this.stream.resync(channel);
      return;
    }
    if (m.type === 'trade') {
      const tape = this.tapes.get(symbol) ?? [];
      const t: Trade = { id: String(m['id']), price: String(m['price']), size: Number(m['size']), takerSide: m['takerSide'] === 'inflow' ? 'inflow' : 'outflow', time: Number(m['time']) };
      if (tape.some((x) => x.id === t.id)) return;
      // Trades arrive oldest first (the recent ones on subscribe, then live): newest goes on top.
      this.tapes.set(symbol, [t, ...tape].sort((a, b) => b.time - a.time || Number(b.id) - Number(a.id)).slice(0, TAPE_TRADES_MAX));
    }
  }
}

/**
 * Watches the channels while the component is mounted; returns a number that changes (at most once
 * per animation frame) whenever one of them brought a message, for the component to re-render.
 */
export function useFeed(feed: MarketFeed | null, channels: readonly string[], onMessage?: (channel: string, m: StreamMessage) => void): number {
  const [version, setVersion] = useState(0);
  const key = channels.join(',');
  useEffect(() => {
    if (feed === null || key === '') return;
    let frame = 0;
    const bump = (): void => {
      if (frame !== 0) return;
      frame = requestAnimationFrame(() => {
        frame = 0;
        setVersion((v) => v + 1);
      });
    };
    const offs = key.split(',').map((c) =>
      feed.watch(c, (m) => {
        onMessage?.(c, m);
        bump();
      }),
    );
    return () => {
      if (frame !== 0) cancelAnimationFrame(frame);
      for (const off of offs) off();
    };
    // onMessage is read at message time through the closure; callers pass a stable callback.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [feed, key]);
  return version;
}
