// The trade tape of one product: its latest trades, newest first, live from the trades:SYMBOL
// channel (the gateway sends its recent trades on subscribe, then each new one). Not an aria-live
// region: a busy tape would drown a screen reader; the colleague's own fills are announced apart.

import type { Trade } from './dashboard-market-data';
import { useFeed, type MarketFeed } from './market-feed';

/** Trades shown. */
export const TAPE_SHOWN = 20;

const clock = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });

export function TradeTape(props: { feed: MarketFeed; symbol: string }): preact.JSX.Element {
  const channel = `trades:${props.symbol}`;
  useFeed(props.feed, [channel]);
  const trades = props.feed.trades(props.symbol).slice(0, TAPE_SHOWN);
  const error = props.feed.error(channel);
  return (
    <section class="card tape" aria-labelledby="tape-title">
      <h3 id="tape-title">Trade tape</h3>
      {error !== '' && <p class="note">Trades unavailable: {error}</p>}
      <TradeTable symbol={props.symbol} trades={trades} />
    </section>
  );
}

/**
 * The table of a tape, newest first: the kiosk's tape above and the dashboard's
 * (dashboard-trade-tape.tsx, which gets its trades over REST and its own live channel) show the
 * same rows. Put it in an element of class `tape` (portal.css).
 */
export function TradeTable(props: { symbol: string; trades: readonly Trade[] }): preact.JSX.Element {
  if (props.trades.length === 0) return <p class="muted">No trades yet.</p>;
  return (
    <table>
      <caption class="sr-only">Latest trades of {props.symbol}, newest first</caption>
      <thead>
        <tr>
          <th scope="col">Time</th>
          <th scope="col" class="num">Price</th>
          <th scope="col" class="num">Size</th>
          <th scope="col">Taker</th>
        </tr>
      </thead>
      <tbody>
        {props.trades.map((t) => (
          <tr key={t.id} class="trade" data-trade-id={t.id}>
            <td>{clock.format(new Date(t.time))}</td>
            <td class="num">{t.price}</td>
            <td class="num">{t.size}</td>
            <td>
              <span class={`side-tag ${t.takerSide}`}>{t.takerSide}</span>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
