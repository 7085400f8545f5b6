// The product board: every listed product with its brand, tick and lot, and — when the gateway has
// market data — its best inflow and outflow. Choosing a product fills the order ticket.

import { useEffect, useState } from 'preact/hooks';
import { bestPrices, marketDataAvailability, type BestPrices } from './market-data-client';

export interface Product {
  readonly productId: number;
  readonly symbol: string;
  readonly brand: string;
  readonly tickSize: string;
  readonly lotSize: number;
  readonly halted: boolean;
}

/** How often best prices are refreshed while market data has no push subscription here. */
const PRICE_REFRESH_MS = 2_000;
/** Products whose prices are fetched per refresh (the board shows about this many at once). */
const PRICED_PRODUCTS_MAX = 40;

export function ProductBoard(props: { products: readonly Product[]; selected: string; onSelect: (symbol: string) => void }): preact.JSX.Element {
  const [prices, setPrices] = useState<Record<string, BestPrices>>({});
  const [hasMarketData, setHasMarketData] = useState<boolean | null>(null);

  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | null = null;
    const refresh = async (): Promise<void> => {
      const a = await marketDataAvailability();
      if (stopped) return;
      setHasMarketData(a.orderBook);
      if (!a.orderBook) return;
      const next: Record<string, BestPrices> = {};
      for (const p of props.products.slice(0, PRICED_PRODUCTS_MAX)) {
        const b = await bestPrices(p.symbol);
        if (b !== null) next[p.symbol] = b;
      }
      if (stopped) return;
      setPrices(next);
      timer = setTimeout(() => void refresh(), PRICE_REFRESH_MS);
    };
    void refresh();
    return () => {
      stopped = true;
      if (timer !== null) clearTimeout(timer);
    };
  }, [props.products]);

  return (
    <section class="card board" aria-labelledby="board-title">
      <h2 id="board-title">Products</h2>
      {hasMarketData === false && <p class="note">Live prices are not available on this gateway yet; the list shows every listed product.</p>}
      <table>
        <thead>
          <tr>
            <th scope="col">Product</th>
            <th scope="col">Brand</th>
            <th scope="col" class="num">Best inflow</th>
            <th scope="col" class="num">Best outflow</th>
            <th scope="col" class="num">Tick / lot</th>
          </tr>
        </thead>
        <tbody>
          {props.products.map((p) => {
            const b = prices[p.symbol];
            const chosen = p.symbol === props.selected;
            return (
              <tr key={p.symbol} class={chosen ? 'chosen' : undefined}>
                <td>
                  <button type="button" class="link" aria-pressed={chosen} onClick={() => props.onSelect(p.symbol)}>
                    {p.symbol}
                  </button>
                  {p.halted && <span class="badge warn">halted</span>}
                </td>
                <td>{p.brand}</td>
                <td class="num">{b?.bestInflow ?? '—'}</td>
                <td class="num">{b?.bestOutflow ?? '—'}</td>
                <td class="num">
                  {p.tickSize} / {p.lotSize}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
}
