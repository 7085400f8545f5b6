// The product board: the products of one brand at a time (a touch-sized brand chooser; the brand
// of the chosen product by default), each with its best inflow and outflow, last trade and today's
// volume — live from the kiosk's market feed (book:S and trades:S of the products shown, well
// within the stream's channel budget) — and the colleague's own stock and reserved quantity from
// the wallet. Today's volume is read from /marketdata/snapshot (the day candle) when the brand is
// shown and again shortly after each new trade of that product. Opening a product shows its page.

import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { useFeed, type MarketFeed } from './market-feed';
import { dayVolume } from './market-data-client';
import { inventoryOf, type Wallet } from './wallet-panel';

export interface Product {
  readonly productId: number;
  readonly symbol: string;
  readonly brand: string;
  readonly tickSize: string;
  readonly lotSize: number;
  readonly halted: boolean;
}

/** Products shown (and watched) at once: 2 channels each, far below the stream's 64. */
export const BOARD_PRODUCTS_MAX = 20;
/** A burst of trades re-reads a product's day volume once, this long after the last of them. */
const VOLUME_REFRESH_DELAY_MS = 300;

export function ProductBoard(props: {
  products: readonly Product[];
  selected: string;
  feed: MarketFeed | null;
  wallet: Wallet | null;
  onSelect: (symbol: string) => void;
  onOpen: (symbol: string) => void;
}): preact.JSX.Element {
  const brands = useMemo(() => [...new Set(props.products.map((p) => p.brand))], [props.products]);
  const selectedBrand = props.products.find((p) => p.symbol === props.selected)?.brand;
  const [brand, setBrand] = useState('');
  useEffect(() => {
    if (selectedBrand !== undefined) setBrand(selectedBrand);
  }, [selectedBrand]);
  const shownBrand = brand || selectedBrand || brands[0] || '';
  const shown = useMemo(() => props.products.filter((p) => p.brand === shownBrand).slice(0, BOARD_PRODUCTS_MAX), [props.products, shownBrand]);

  const [volumes, setVolumes] = useState<Record<string, number | null>>({});
  const timers = useRef(new Map<string, ReturnType<typeof setTimeout>>());
  const readVolume = (symbol: string): void => {
    void dayVolume(symbol).then((v) => setVolumes((prev) => ({ ...prev, [symbol]: v })));
  };
  useEffect(() => {
    for (const p of shown) readVolume(p.symbol);
    const pending = timers.current;
    return () => {
      for (const t of pending.values()) clearTimeout(t);
      pending.clear();
    };
  }, [shown]);

  const channels = useMemo(() => shown.flatMap((p) => [`book:${p.symbol}`, `trades:${p.symbol}`]), [shown]);
  const onMessage = useRef((channel: string, m: { type: string }) => {
    if (m.type !== 'trade') return;
    const symbol = channel.slice('trades:'.length);
    const pending = timers.current;
    const old = pending.get(symbol);
    if (old !== undefined) clearTimeout(old);
    pending.set(
      symbol,
      setTimeout(() => {
        pending.delete(symbol);
        readVolume(symbol);
      }, VOLUME_REFRESH_DELAY_MS),
    );
  }).current;
  useFeed(props.feed, channels, onMessage);

  return (
    <section class="card board" aria-labelledby="board-title">
      <h2 id="board-title">Products</h2>
      <div class="brands" role="group" aria-label="Brand">
        {brands.map((b) => (
          <button key={b} type="button" aria-pressed={b === shownBrand} onClick={() => setBrand(b)}>
            {b}
          </button>
        ))}
      </div>
      <table>
        <caption class="sr-only">{shownBrand} products: best prices, last trade, today's volume and your stock</caption>
        <thead>
          <tr>
            <th scope="col">Product</th>
            <th scope="col" class="num">Best inflow</th>
            <th scope="col" class="num">Best outflow</th>
            <th scope="col" class="num">Last</th>
            <th scope="col" class="num">Day volume</th>
            <th scope="col" class="num">
              My stock <span class="muted">(reserved)</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {shown.map((p) => {
            const book = props.feed?.book(p.symbol);
            const bid = book?.best('bid') ?? null;
            const ask = book?.best('ask') ?? null;
            const last = props.feed?.trades(p.symbol)[0];
            const mine = inventoryOf(props.wallet, p.symbol);
            const volume = volumes[p.symbol];
            const chosen = p.symbol === props.selected;
            return (
              <tr key={p.symbol} class={chosen ? 'chosen' : undefined} data-symbol={p.symbol}>
                <th scope="row">
                  <button type="button" class="link" aria-pressed={chosen} onClick={() => props.onSelect(p.symbol)} aria-label={`${p.symbol}: choose for the order ticket`}>
                    {p.symbol}
                  </button>
                  <button type="button" class="open" onClick={() => props.onOpen(p.symbol)} aria-label={`Open ${p.symbol} product page`}>
                    Open
                  </button>
                  {p.halted && <span class="badge warn">halted</span>}
                </th>
                <td class="num best-inflow">{bid?.[0] ?? '—'}</td>
                <td class="num best-outflow">{ask?.[0] ?? '—'}</td>
                <td class="num last">{last?.price ?? '—'}</td>
                <td class="num volume">{volume === undefined || volume === null ? '—' : volume}</td>
                <td class="num mine">{mine === undefined ? '—' : `${mine.balance} (${mine.reserved})`}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <p class="muted small">Tap a product to choose it for the order ticket; Open shows its depth ladder, trade tape and chart.</p>
    </section>
  );
}
