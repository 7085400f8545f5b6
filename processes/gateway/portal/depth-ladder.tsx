// The depth ladder of one product: the best LADDER_DEPTH outflow (ask) levels above the spread and
// inflow (bid) levels below it, live from the book:SYMBOL channel (market-feed.tsx applies deltas
// by sequence and asks for a snapshot on a gap). Each level's size is also drawn as a bar, scaled
// to the largest level shown. Choosing a price offers it to the order ticket.

import type { MarketFeed } from './market-feed';
import { useFeed } from './market-feed';
import type { Level } from './l2-book';

/** Levels shown per side. */
export const LADDER_DEPTH = 10;

function LevelRow(props: { side: 'bid' | 'ask'; level: Level; max: number; onPrice?: (price: string) => void }): preact.JSX.Element {
  const [price, size] = props.level;
  const pct = props.max > 0 ? Math.max(2, Math.round((size / props.max) * 100)) : 0;
  const sideName = props.side === 'ask' ? 'outflow' : 'inflow';
  return (
    <tr class={`level ${props.side}`} data-side={props.side} data-price={price}>
      <td>{props.side === 'ask' ? 'Outflow' : 'Inflow'}</td>
      <td class="num">
        {props.onPrice === undefined ? (
          price
        ) : (
          <button type="button" class="link price" onClick={() => props.onPrice!(price)} aria-label={`Use price ${price} (${sideName} level, size ${size}) in the order ticket`}>
            {price}
          </button>
        )}
      </td>
      <td class="num size">
        <span class={`bar ${props.side}`} style={{ width: `${pct}%` }} aria-hidden="true" />
        <span class="size-text">{size}</span>
      </td>
    </tr>
  );
}

export function DepthLadder(props: { feed: MarketFeed; symbol: string; onPrice?: (price: string) => void }): preact.JSX.Element {
  const channel = `book:${props.symbol}`;
  useFeed(props.feed, [channel]);
  const book = props.feed.book(props.symbol);
  const asks = book.levels('ask', LADDER_DEPTH);
  const bids = book.levels('bid', LADDER_DEPTH);
  const max = Math.max(0, ...asks.map((l) => l[1]), ...bids.map((l) => l[1]));
  const bestAsk = asks[0];
  const bestBid = bids[0];
  const spread = bestAsk !== undefined && bestBid !== undefined ? (Number(bestAsk[0]) - Number(bestBid[0])).toFixed(Math.max(decimalsOf(bestAsk[0]), decimalsOf(bestBid[0]))) : '—';
  const error = props.feed.error(channel);
  const state = error !== '' ? `Book unavailable: ${error}` : book.synced ? `sequence ${book.sequence}` : book.gaps > 0 ? 'a message was missed: resynchronising…' : 'waiting for the book…';
  return (
    <section class="card ladder" aria-labelledby="ladder-title">
      <h3 id="ladder-title">Depth ladder</h3>
      <p class="muted small" id="ladder-state">
        {state}
      </p>
      <table aria-describedby="ladder-state">
        <caption class="sr-only">
          Order book of {props.symbol}: outflow levels (sellers) above the spread, best last; inflow levels (buyers) below, best first
        </caption>
        <thead>
          <tr>
            <th scope="col">Side</th>
            <th scope="col" class="num">Price</th>
            <th scope="col" class="num">Size</th>
          </tr>
        </thead>
        <tbody>
          {[...asks].reverse().map((l) => (
            <LevelRow key={`a${l[0]}`} side="ask" level={l} max={max} onPrice={props.onPrice} />
          ))}
          <tr class="spread">
            <td colSpan={3}>Spread {spread}</td>
          </tr>
          {bids.map((l) => (
            <LevelRow key={`b${l[0]}`} side="bid" level={l} max={max} onPrice={props.onPrice} />
          ))}
        </tbody>
      </table>
      {book.synced && asks.length === 0 && bids.length === 0 && <p class="muted">No orders in the book.</p>}
    </section>
  );
}

function decimalsOf(price: string): number {
  const dot = price.indexOf('.');
  return dot < 0 ? 0 : price.length - dot - 1;
}
