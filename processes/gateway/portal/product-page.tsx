// A product's page on the kiosk (opened from the product board): its best prices and the
// colleague's stock of it, the live depth ladder (book:S), the trade tape (trades:S) and the
// one-minute candle chart (history from /marketdata/snapshot, the forming candle from
// candles:S:60), all over the kiosk's one WebSocket through the market feed.

import { useEffect, useRef } from 'preact/hooks';
import { CandleChart } from './candle-chart';
import { DepthLadder } from './depth-ladder';
import { useFeed, type MarketFeed } from './market-feed';
import type { Product } from './product-board';
import { TradeTape } from './trade-tape';
import { inventoryOf, type Wallet } from './wallet-panel';

export function ProductPage(props: { feed: MarketFeed; product: Product; wallet: Wallet | null; onBack: () => void; onPrice: (price: string) => void }): preact.JSX.Element {
  const p = props.product;
  useFeed(props.feed, [`book:${p.symbol}`, `trades:${p.symbol}`]);
  const book = props.feed.book(p.symbol);
  const bid = book.best('bid');
  const ask = book.best('ask');
  const last = props.feed.trades(p.symbol)[0];
  const mine = inventoryOf(props.wallet, p.symbol);
  // Opening a page moves keyboard and screen-reader focus to its title, not back to the top bar.
  const title = useRef<HTMLHeadingElement>(null);
  useEffect(() => title.current?.focus(), [p.symbol]);
  return (
    <section class="product-page" aria-labelledby="product-title">
      <div class="product-head card">
        <button type="button" onClick={props.onBack} aria-label="Back to all products">
          ← All products
        </button>
        <h2 id="product-title" ref={title} tabIndex={-1}>
          {p.symbol} <span class="muted">{p.brand}</span>
          {p.halted && <span class="badge warn">halted</span>}
        </h2>
        <dl class="facts">
          <div>
            <dt>Best inflow</dt>
            <dd class="num" id="product-best-inflow">{bid === null ? '—' : `${bid[0]} × ${bid[1]}`}</dd>
          </div>
          <div>
            <dt>Best outflow</dt>
            <dd class="num" id="product-best-outflow">{ask === null ? '—' : `${ask[0]} × ${ask[1]}`}</dd>
          </div>
          <div>
            <dt>Last trade</dt>
            <dd class="num" id="product-last">{last === undefined ? '—' : `${last.price} × ${last.size}`}</dd>
          </div>
          <div>
            <dt>My stock</dt>
            <dd class="num" id="product-mine">{mine === undefined ? '—' : `${mine.balance} (${mine.reserved} reserved)`}</dd>
          </div>
        </dl>
      </div>
      <div class="product-live">
        <DepthLadder feed={props.feed} symbol={p.symbol} onPrice={props.onPrice} />
        <TradeTape feed={props.feed} symbol={p.symbol} />
      </div>
      <CandleChart symbols={[p.symbol]} symbol={p.symbol} live={props.feed} />
    </section>
  );
}
